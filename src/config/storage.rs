//! `[storage]` (and `[inbox_storage]`): which storage service keeps the messages, and how
//! to reach it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which storage service keeps the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// An SQLite file with Gammu's schema (the default).
    #[default]
    Sqlite,
    /// A PostgreSQL server with Gammu's schema (`LISTEN/NOTIFY` wake-ups).
    #[serde(alias = "pgsql")]
    Postgres,
    /// A MySQL or MariaDB server with Gammu's schema (polled for new rows).
    #[serde(alias = "mariadb")]
    Mysql,
    /// Gammu's files layout: inbox, outbox, sent and error folders.
    Files,
    /// Nothing is stored; `run_on_receive` exiting 0 is the commit of a received message.
    Null,
    /// NAV's SMS alert queue (`profiles.smsq` in NAV's PostgreSQL database).
    Nav,
}

/// How the files storage writes received texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InboxFormat {
    /// UTF-8.
    Standard,
    /// UTF-16BE after a byte-order mark, as Gammu writes it (what playSMS reads).
    #[default]
    Unicode,
}

/// Whether to encrypt the connection to a database server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DbTls {
    /// TLS when the server offers it.
    #[default]
    Prefer,
    /// Refuse to connect without TLS.
    Require,
    /// Never TLS (a local socket or loopback).
    Disable,
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    pub kind: StorageKind,
    /// SQLite database file.
    pub path: PathBuf,
    /// Milliseconds to wait for a lock another program holds on the SQLite file.
    pub busy_timeout: u64,
    /// Server URL (`postgres://user@host:5432/sms`, `mysql://user@host/sms`); the fields
    /// below fill in what it leaves out.
    pub url: String,
    pub host: String,
    /// 0: the server's default port.
    pub port: u16,
    pub user: String,
    pub database: String,
    /// The password itself (prefer `password_file` or `password_env`).
    pub password: String,
    /// A file whose first line is the password.
    pub password_file: PathBuf,
    /// An environment variable holding the password.
    pub password_env: String,
    pub tls: DbTls,
    /// Connections kept open to the server.
    pub pool_size: u32,
    /// Milliseconds between checks for rows other programs inserted (MySQL; PostgreSQL is
    /// woken by `NOTIFY` and checks every `poll_interval` only as a safety net).
    pub poll_interval: u64,
    /// Files storage: where received messages are written (`IN...txt`).
    pub inbox_path: PathBuf,
    /// Files storage: where messages to send are read from (`OUT...txt`).
    pub outbox_path: PathBuf,
    /// Files storage: where sent messages are moved.
    pub sent_path: PathBuf,
    /// Files storage: where messages that failed are moved, with a `.error` file.
    pub error_path: PathBuf,
    /// Files storage: `standard` (UTF-8) or `unicode` (UTF-16 with a byte-order mark).
    pub inbox_format: InboxFormat,
    /// Time zone of stored times on a server (`Europe/Warsaw`, `+02:00`); empty: the
    /// host's local zone, like the times gammu-smsd writes.
    pub time_zone: String,
    /// NAV: seconds a phone waits after its SMS failed (NAV's `delay`).
    pub delay: u64,
    /// NAV: the wait is multiplied by this after each further failure (`delayfactor`).
    pub delay_factor: f64,
    /// NAV: the longest wait (`maxdelay`).
    pub max_delay: u64,
    /// NAV: a PostgreSQL interval; alerts older than this are cancelled at start.
    pub autocancel: String,
    /// NAV: a PostgreSQL interval; alerts not sent within it are cancelled (empty: never).
    pub expire_after: String,
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            kind: StorageKind::Sqlite,
            path: "/var/lib/smsgw/smsgw.db".into(),
            busy_timeout: 5000,
            url: String::new(),
            host: String::new(),
            port: 0,
            user: String::new(),
            database: String::new(),
            password: String::new(),
            password_file: PathBuf::new(),
            password_env: String::new(),
            tls: DbTls::Prefer,
            pool_size: 4,
            poll_interval: 1000,
            time_zone: String::new(),
            delay: 30,
            delay_factor: 1.5,
            max_delay: 3600,
            autocancel: String::new(),
            expire_after: String::new(),
            inbox_path: "/var/spool/gammu/inbox".into(),
            outbox_path: "/var/spool/gammu/outbox".into(),
            sent_path: "/var/spool/gammu/sent".into(),
            error_path: "/var/spool/gammu/error".into(),
            inbox_format: InboxFormat::Unicode,
        }
    }
}
