//! SQL storages with Gammu's schema: the logic once (`gammu/`, over `exec.rs` and
//! `dialect.rs`, served by `storage.rs`), and what each database does its own way
//! (`sqlite.rs`, `server.rs`).

pub mod dialect;
pub mod exec;
pub mod gammu;
pub mod server;
pub mod sqlite;
pub mod storage;

use crate::service::PartResult;

/// The only schema version gammu-smsd 1.42 accepts, and the one we speak.
pub const SCHEMA_VERSION: i64 = 17;

/// Gammu's tables, which smsgw reads and writes but never alters.
const GAMMU_TABLES: [&str; 6] = [
    "gammu",
    "inbox",
    "outbox",
    "outbox_multipart",
    "phones",
    "sentitems",
];

/// The `sentitems` columns that describe the attempt rather than the message.
pub(crate) struct Attempt<'a> {
    pub route: &'a str,
    pub status: &'a str,
    pub tpmr: i64,
    pub smsc: &'a str,
    pub status_code: i32,
}

impl<'a> Attempt<'a> {
    /// The attempt of a part the network accepted (`SendingOK` when a report was asked
    /// for), and the SMSC's message id to keep with it, if any.
    pub fn sent(result: &'a PartResult) -> (Attempt<'a>, Option<&'a str>) {
        let PartResult::Sent {
            route,
            tpmr,
            report,
            smsc,
            message_id,
        } = result;
        let status = if *report {
            "SendingOK"
        } else {
            "SendingOKNoReport"
        };
        let attempt = Attempt {
            route,
            status,
            tpmr: tpmr.map_or(-1, i64::from),
            smsc,
            status_code: -1,
        };
        (attempt, message_id.as_deref().filter(|m| !m.is_empty()))
    }
}
