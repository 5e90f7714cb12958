//! Storage services (implementations of [`crate::service::Service`]): they know nothing
//! of modems.

pub mod files;
pub mod nav;
pub mod null;
pub mod sql;

use std::sync::Arc;

use crate::config::{Config, StorageKind};
use crate::service::{Result, Service};

/// The storage the config names, connected and with its schema checked.
pub async fn open(cfg: &Config) -> Result<Arc<dyn Service>> {
    let service: Arc<dyn Service> = match cfg.storage.kind {
        StorageKind::Sqlite => Arc::new(sql::sqlite::Sqlite::open(
            &cfg.storage.path,
            cfg.storage.busy_timeout,
        )?),
        StorageKind::Postgres | StorageKind::Mysql => {
            Arc::new(sql::server::Server::connect(&cfg.storage)?)
        }
        StorageKind::Files => Arc::new(files::Files::open(&cfg.storage)),
        StorageKind::Nav => Arc::new(nav::Nav::connect(&cfg.storage)?),
        StorageKind::Null => Arc::new(null::Null),
    };
    service.init().await?;
    Ok(service)
}
