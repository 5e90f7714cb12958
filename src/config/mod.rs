//! The configuration file: one TOML file, default `/etc/smsgw/smsgw.toml`, as plain data.
//!
//! A file per section (`storage`, `phone`, `transport`, `sections` for the small ones), the
//! key table (`keys`: every key's default, meaning and example, held to the parser by tests,
//! the single source of `config check --keys`, smsgw.toml(5) and the completions), the
//! checks beyond types (`check`) and the errors a person reads (`error`: file, line, key,
//! and what to write instead). Nothing here builds a transport or opens a storage: the
//! transports check their own settings (`transport::check`), with lines named through
//! [`Config::error_at`].

use std::path::Path;

use serde::{Deserialize, Serialize};

mod amqp;
mod check;
mod error;
mod keys;
mod phone;
mod sections;
mod smpp_server;
mod storage;
mod transport;

pub use amqp::{redact as redact_url, Amqp};
pub use error::ConfigError;
use error::{friendly, line_of, locate, looks_like_gammu, START_HINT};
pub use keys::{Key, ARRAY_SECTIONS, KEYS};
pub use phone::{Phone, Rate};
pub use sections::{
    Daemon, Hooks, Http, HttpUser, Metrics, Receiving, Retention, Sending, Spool, Webhooks,
};
pub use smpp_server::{SmppAccount, SmppServer};
pub use storage::{DbTls, InboxFormat, Storage, StorageKind};
pub use transport::{Transport, TransportKind};

/// Where the daemon, `inject` and `monitor` look for the config by default.
pub const DEFAULT_PATH: &str = "/etc/smsgw/smsgw.toml";

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub daemon: Daemon,
    pub storage: Storage,
    #[serde(rename = "phone")]
    pub phones: Vec<Phone>,
    #[serde(rename = "transport")]
    pub transports: Vec<Transport>,
    pub sending: Sending,
    pub receiving: Receiving,
    pub hooks: Hooks,
    pub metrics: Metrics,
    pub http: Http,
    pub webhooks: Webhooks,
    pub smpp_server: SmppServer,
    pub amqp: Amqp,
    pub retention: Retention,
    pub spool: Spool,
    /// `[inbox_storage]`: where received messages go when `[storage]` keeps none (nav).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox_storage: Option<Storage>,
    /// The file it was read from, and its text: what later checks (the transports') name
    /// lines by.
    #[serde(skip)]
    pub source: Source,
}

/// Where a config was read from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    pub file: std::path::PathBuf,
    pub text: String,
}

impl Config {
    /// The phone and transport ids, in the file's order: what a route may name.
    pub fn route_ids(&self) -> Vec<&str> {
        self.phones
            .iter()
            .map(|p| p.id.as_str())
            .chain(self.transports.iter().map(|t| t.id.as_str()))
            .collect()
    }

    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            key: None,
            message: if e.kind() == std::io::ErrorKind::NotFound {
                format!("cannot read the config: {e}. {START_HINT}")
            } else {
                format!("cannot read the config: {e}")
            },
        })?;
        Config::parse(&text, path)
    }

    /// Parses and checks config text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let whole = |message: String| ConfigError {
            file: file.to_path_buf(),
            line: 0,
            key: None,
            message,
        };
        if looks_like_gammu(text) {
            return Err(whole(format!(
                "this looks like a gammu-smsd config (INI with [gammu]/[smsd]), not smsgw's TOML: convert it with `smsgw config import-gammu -c {} > smsgw.toml`",
                file.display()
            )));
        }
        if text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        }) {
            return Err(whole(format!(
                "the config is empty: it needs at least a [[phone]] (or a [[transport]]). {START_HINT}"
            )));
        }
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            let (section, key) = locate(text, line);
            let message = friendly(e.message(), section.as_deref(), key.as_deref());
            ConfigError {
                file: file.to_path_buf(),
                line,
                key: match (section, key) {
                    (Some(s), Some(k)) => Some(format!("{s}.{k}")),
                    (None, Some(k)) => Some(k),
                    (Some(s), None) => Some(s),
                    (None, None) => None,
                },
                message,
            }
        })?;
        let cfg = Config {
            source: Source {
                file: file.to_path_buf(),
                text: text.to_string(),
            },
            ..cfg
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// An error about `key`, on the line where `needle` is first written.
    pub fn error_at(&self, needle: &str, key: &str, message: String) -> ConfigError {
        let text = &self.source.text;
        ConfigError {
            file: self.source.file.clone(),
            line: text.find(needle).map_or(0, |off| line_of(text, off)),
            key: Some(key.to_string()),
            message,
        }
    }
}

#[cfg(test)]
mod tests;
