//! The storage service on Gammu's schema, written once for SQLite, PostgreSQL and
//! MySQL/MariaDB, a file per job (queue, claim, sent, receipts, received, views): which
//! statements, in which transaction, with which guards. Each function runs inside one
//! transaction its caller opened (`storage.rs`); the SQL that differs between the databases
//! comes from `dialect.rs`. Adding a query is one edit here, tested on all three by the
//! storage suite.
//!
//! The claim is DESIGN's: pick candidates, take each with a guarded `UPDATE ... WHERE ID = ?
//! AND (SendingTimeOut IS NULL OR SendingTimeOut <= now)` and check the affected rows (what
//! keeps a real gammu-smsd away), record the owner in `smsgw_claims`. Lease and eligibility
//! times use the database's clock.

use std::collections::HashMap;

use super::exec::{args, int, opt, text, Arg, Row, Tx};
use super::Attempt;
use crate::pdu::DeliveryStatus;
use crate::service::{
    same_number, Coding, DeliveryKey, InboxEntry, InboxPart, NewMessage, NewPart, OutPart,
    OutboxEntry, Outcome, Outgoing, PartResult, PendingPart, PhoneStatus, ReportRequest, Result,
    StorageError,
};
use crate::smpp::receipt::id_forms;

mod claim;
mod events;
mod queue;
mod receipts;
mod received;
mod sent;
mod views;

// Each job's helpers, for the others.
use claim::*;
use queue::*;
use receipts::*;

pub use claim::{claim, claim_owners, release_claims, renew_claim};
pub use events::{
    due_retries, event_cursor, event_progress, events_after, inbox_after, lease_events,
    message_view, prune_events, submissions, submit,
};
pub use queue::{create_outbox_once, insert_message, split_outbox};
pub use receipts::{apply_receipt, receipts_by_id};
pub use received::{complete_parts, save_inbox, stash_part};
pub use sent::{cancel_outbox, finish_outbox, finish_sent, record_sent, Sent};
pub use views::{
    list_inbox, list_outbox, outbox_depth, outbox_mark, prune, refresh_status, retry_outbox,
    send_times,
};
