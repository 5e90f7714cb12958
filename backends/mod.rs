//! Storage services (implementations of [`crate::service::Service`]): they know nothing
//! of modems.

pub mod files;
pub mod nav;
pub mod null;
pub mod split;
pub mod sql;

use std::sync::Arc;

use crate::config::{Config, StorageKind};
use crate::service::{Result, Service};

/// The storage the config names (with its `[inbox_storage]`), connected and with its schema
/// checked.
pub async fn open(cfg: &Config) -> Result<Arc<dyn Service>> {
    let mut storage = cfg.storage.clone();
    if storage.kind == StorageKind::Nav {
        // A NAV claim holds its connection (and its advisory lock) while the SMS goes out:
        // one per sender, plus room for the poll and the next claim.
        let senders = cfg.phones.len() + cfg.transports.len();
        storage.pool_size = storage.pool_size.max(senders as u32 + 2);
    }
    let service = open_one(&storage)?;
    let service: Arc<dyn Service> = match &cfg.inbox_storage {
        Some(inbox) => Arc::new(split::Split {
            outbox: service,
            inbox: open_one(inbox)?,
        }),
        None => service,
    };
    service.keep_events(crate::face::deliver::needs_events(cfg));
    service.init().await?;
    Ok(service)
}

fn open_one(cfg: &crate::config::Storage) -> Result<Arc<dyn Service>> {
    Ok(match cfg.kind {
        StorageKind::Sqlite => Arc::new(sql::sqlite::Sqlite::open(&cfg.path, cfg.busy_timeout)?),
        StorageKind::Postgres | StorageKind::Mysql => Arc::new(sql::server::Server::connect(cfg)?),
        StorageKind::Files => Arc::new(files::Files::open(cfg)),
        StorageKind::Nav => Arc::new(nav::Nav::connect(cfg)?),
        StorageKind::Null => Arc::new(null::Null),
    })
}
