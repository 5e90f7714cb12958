//! The storage service: what the daemon asks of wherever messages are kept (Gammu's
//! "service": SQL, files, null), and the rows it speaks in.
//!
//! Stored times are local wall-clock time without a zone, as Gammu writes them
//! (`YYYY-MM-DD HH:MM:SS`), and "now" is the storage's clock, never the host's.

use std::fmt;

use async_trait::async_trait;

/// Whether two numbers are the same subscriber, written nationally or internationally
/// (`+48600100200` and `600100200`).
pub fn same_number(a: &str, b: &str) -> bool {
    let da: String = a.chars().filter(char::is_ascii_digit).collect();
    let db: String = b.chars().filter(char::is_ascii_digit).collect();
    if da.is_empty() || db.is_empty() {
        return a == b;
    }
    let (short, long) = if da.len() <= db.len() {
        (&da, &db)
    } else {
        (&db, &da)
    };
    let short = short.trim_start_matches('0');
    short == long.as_str() || short.len() >= 6 && long.ends_with(short)
}

/// Why the storage could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Down or busy for now (a lock, a restart, a network cut): try again later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The database is not one smsgw can use (wrong schema version, missing table): an
    /// operator must act.
    #[error("storage schema: {0}")]
    Schema(String),
    /// The storage settings cannot work (a bad URL, a missing password file): fix the
    /// config.
    #[error("storage settings: {0}")]
    Config(String),
    /// We no longer own the message's lease: another sender took it over.
    #[error("lost the claim on outbox message {0}")]
    LostClaim(i64),
    /// A row that cannot be used as it is (bad hex, unknown coding).
    #[error("bad data: {0}")]
    Data(String),
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Gammu's `Coding` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Coding {
    #[default]
    Default,
    Unicode,
    EightBit,
    DefaultCompressed,
    UnicodeCompressed,
}

impl Coding {
    pub fn as_str(self) -> &'static str {
        match self {
            Coding::Default => "Default_No_Compression",
            Coding::Unicode => "Unicode_No_Compression",
            Coding::EightBit => "8bit",
            Coding::DefaultCompressed => "Default_Compression",
            Coding::UnicodeCompressed => "Unicode_Compression",
        }
    }

    /// Reads the column. Gammu's rule for unknown values: no text means Default, else 8-bit.
    pub fn parse(s: &str) -> Option<Coding> {
        Some(match s {
            "Default_No_Compression" => Coding::Default,
            "Unicode_No_Compression" => Coding::Unicode,
            "8bit" => Coding::EightBit,
            "Default_Compression" => Coding::DefaultCompressed,
            "Unicode_Compression" => Coding::UnicodeCompressed,
            _ => return None,
        })
    }

    /// The column value for a PDU alphabet.
    pub fn from_alphabet(a: crate::pdu::Alphabet) -> Coding {
        match a {
            crate::pdu::Alphabet::Gsm7 => Coding::Default,
            crate::pdu::Alphabet::Ucs2 => Coding::Unicode,
            crate::pdu::Alphabet::Eight => Coding::EightBit,
        }
    }
}

impl fmt::Display for Coding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `outbox.DeliveryReport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportRequest {
    /// Follow the configuration (`[sending] delivery_reports`).
    #[default]
    Default,
    Yes,
    No,
}

impl ReportRequest {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportRequest::Default => "default",
            ReportRequest::Yes => "yes",
            ReportRequest::No => "no",
        }
    }

    pub fn parse(s: &str) -> ReportRequest {
        match s.to_ascii_lowercase().as_str() {
            "yes" => ReportRequest::Yes,
            "no" => ReportRequest::No,
            _ => ReportRequest::Default,
        }
    }
}

/// One part of a message to queue (one `outbox` / `outbox_multipart` row).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewPart {
    /// Hex of the part's user data in `coding` (Gammu's `Text`); `None` to let the sender
    /// encode `text_decoded`.
    pub text_hex: Option<String>,
    pub text_decoded: String,
    pub coding: Coding,
    /// Hex of the user data header, `None` for none.
    pub udh_hex: Option<String>,
    /// Message class, -1 for none.
    pub class: i32,
}

/// A message to queue (`inject`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewMessage {
    pub destination: String,
    /// Parts in order; more than one is written Gammu's way (`MultiPart='true'`, part 1 in
    /// `outbox`, parts 2.. in `outbox_multipart`).
    pub parts: Vec<NewPart>,
    /// Route (PhoneID) that must send it; `None` for any.
    pub sender_id: Option<String>,
    pub creator_id: String,
    pub delivery_report: ReportRequest,
    /// TP-VP relative code, -1 for the modem's default.
    pub relative_validity: i32,
    pub priority: i32,
    /// Not before this many seconds from now (`SendingDateTime`; Kannel's `deferred`).
    pub delay_secs: u32,
}

/// A part of a claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPart {
    /// `SequencePosition`: 1 for the `outbox` row, 2.. for `outbox_multipart`.
    pub seq: u32,
    pub text_hex: Option<String>,
    pub text_decoded: Option<String>,
    pub coding: Option<Coding>,
    pub udh_hex: Option<String>,
    pub class: i32,
    /// Already sent on an earlier attempt (its `Status` is `SendingOK...`): not sent again.
    pub already_sent: bool,
}

/// A message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: i64,
    /// How Gammu names the message to hooks (`run_on_sent`'s argument) and logs: the
    /// outbox ID, or the outbox file's name for the files storage.
    pub name: String,
    pub destination: String,
    pub sender_id: Option<String>,
    pub creator_id: String,
    pub parts: Vec<OutPart>,
    pub relative_validity: i32,
    pub delivery_report: ReportRequest,
    /// Attempts made before this one.
    pub retries: u32,
    pub priority: i32,
    /// `InsertIntoDB`, copied into `sentitems`.
    pub inserted: String,
    /// The `SendingTimeOut` value this claim set: the proof that the lease is still ours.
    pub lease: String,
}

/// What happened to one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartResult {
    /// Accepted by the network.
    Sent {
        /// The route that sent it (`sentitems.SenderID`).
        route: String,
        /// TP-MR from `+CMGS: n` (`None`: unknown, stored as -1).
        tpmr: Option<u8>,
        /// A status report was requested (`SendingOK`; else `SendingOKNoReport`).
        report: bool,
        smsc: String,
        /// The SMSC's message id (SMPP's submit_sm_resp), kept so that delivery receipts
        /// find the part.
        message_id: Option<String>,
    },
}

/// How a claimed message ends (or does not end yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every part went out: the outbox rows are removed.
    Sent,
    /// Try again after the retry timeout; the attempt counts against the retries.
    /// `maybe_sent`: the route may have delivered it (no answer came): a retry may duplicate.
    Retry {
        status_code: i32,
        reason: String,
        maybe_sent: bool,
    },
    /// The route could not send (no network, no SIM): release the claim without using up
    /// a retry.
    Release { status_code: i32, reason: String },
    /// Give up: unsent parts go to `sentitems` as `SendingError` (or `Error` when the
    /// message itself is unusable) and the outbox rows are removed.
    Failed {
        status_code: i32,
        reason: String,
        unusable: bool,
    },
}

/// One received part to store (one `inbox` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxPart {
    pub phone_id: String,
    pub sender: String,
    pub smsc: String,
    /// The SMSC time stamp in local time, as Gammu stores it.
    pub received: String,
    pub coding: Coding,
    pub udh_hex: String,
    pub text_hex: String,
    /// The whole text on part 1, empty on the others (Gammu's way).
    pub text_decoded: String,
    pub class: i32,
}

/// A part of a concatenated message waiting for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPart {
    pub phone_id: String,
    pub sender: String,
    pub reference: u16,
    pub total: u8,
    pub seq: u8,
    /// The PDU as the modem listed it.
    pub pdu: String,
    pub received_at: String,
}

/// The modem as it is when connected (`phones` row).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhoneStatus {
    pub id: String,
    pub imei: String,
    pub imsi: String,
    pub client: String,
    pub send: bool,
    pub receive: bool,
    /// Percent, -1 unknown.
    pub battery: i32,
    /// Percent, -1 unknown.
    pub signal: i32,
    pub net_code: String,
    pub net_name: String,
    pub sent: u64,
    pub received: u64,
}

/// What a status report or delivery receipt refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryKey {
    /// A modem's report: the TP-MR it gave the part, the recipient, and the report's
    /// service-centre time (local, `YYYY-MM-DD HH:MM:SS`) to pick the right send.
    Tpmr {
        phone: String,
        mr: u8,
        number: String,
        sent_at: String,
    },
    /// An SMSC's receipt by the message id it gave the part (SMPP). Unknown ids are parked
    /// and matched when a part with that id is recorded (a receipt may overtake the
    /// submit_sm_resp); the id may be written in hex in one and decimal in the other.
    SmscId { route: String, id: String },
}

/// What an entry of the event log says happened (DESIGN.md, "Faces").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A face queued the message.
    Queued,
    /// Every part went out (the modem or SMSC took it).
    Sent,
    /// Given up, or cancelled.
    Failed,
    /// A status report or SMSC receipt for a part.
    Report,
    /// A message came in (its parts joined).
    Received,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Queued => "queued",
            EventKind::Sent => "sent",
            EventKind::Failed => "failed",
            EventKind::Report => "report",
            EventKind::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Some(match s {
            "queued" => EventKind::Queued,
            "sent" => EventKind::Sent,
            "failed" => EventKind::Failed,
            "report" => EventKind::Report,
            "received" => EventKind::Received,
            _ => return None,
        })
    }
}

/// One entry of the event log: written in the same commit as the change it reports, read by
/// the consumers (webhooks, dlr-url) after their cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Stable and increasing: what a consumer's peer deduplicates by.
    pub id: i64,
    pub kind: EventKind,
    /// The outbox (later sentitems) ID, or the inbox ID of a received message's first part.
    pub message_id: i64,
    /// What the change says (numbers, parts, status, text), as JSON.
    pub body: serde_json::Value,
    /// When it was written (storage clock, local time).
    pub at: String,
    /// How the message was submitted, for events about a message a face queued.
    pub submission: Option<Submission>,
}

/// How a face queued a message (`smsgw_submissions`): who, with which idempotency key,
/// and where its delivery reports go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Submission {
    /// `http`, `smpp`, `amqp`.
    pub face: String,
    /// The face's user or account.
    pub owner: String,
    /// The client's key: the same key queues once and answers with the same ids.
    pub idempotency_key: Option<String>,
    /// The sender the client gave (Kannel's `from`), for its delivery reports.
    pub from: String,
    /// Kannel's `dlr-url`, and `dlr-mask` (1 delivered, 2 failed, 4 buffered, 8 accepted by
    /// the SMSC or modem, 16 rejected by it).
    pub dlr_url: Option<String>,
    pub dlr_mask: u8,
    /// The recipient, as stored (read back with an event; each message of a submission
    /// has its own, so [`Service::submit`] ignores it).
    pub to: String,
}

/// What [`Service::submit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The outbox IDs, one per recipient, in order.
    pub ids: Vec<i64>,
    /// The idempotency key was seen before: nothing new was queued and `ids` are the first
    /// request's.
    pub repeated: bool,
}

/// An event a consumer could not deliver: tried again after `delay_secs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    pub event_id: i64,
    pub attempts: u32,
    pub delay_secs: u32,
    pub error: String,
}

/// Where a message a face queued stands (`GET /api/v1/messages/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageView {
    pub id: i64,
    /// `queued`, `sending`, `sent`, `delivered`, `failed`, `cancelled`.
    pub status: String,
    pub to: String,
    pub route: String,
    pub parts: u32,
    pub retries: u32,
    /// When it was queued, when its last part went out, when the last report came (local).
    pub queued_at: String,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
    /// Why it failed or waits.
    pub error: Option<String>,
    pub text: String,
    /// The face user that submitted it, if a face did.
    #[serde(skip)]
    pub owner: Option<String>,
}

/// A message waiting in the outbox, for `smsgw outbox list/show`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub destination: String,
    /// The route it must go through (`SenderID`), empty for any.
    pub route: String,
    pub parts: u32,
    pub retries: u32,
    pub priority: i32,
    pub inserted: String,
    /// Not before (`SendingDateTime`) / leased until (`SendingTimeOut`).
    pub send_after: String,
    pub lease_until: String,
    /// Last error code (`StatusCode`, -1 none).
    pub status_code: i32,
    /// Why the last attempt failed, when smsgw made it (a modem's `+CMS ERROR` with its
    /// meaning, a gateway's answer).
    pub last_error: Option<String>,
    /// Who holds it now, if anyone (smsgw claims only).
    pub claimed_by: Option<String>,
    pub text: String,
}

/// A stored received message part, for `smsgw inbox list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InboxEntry {
    pub id: i64,
    pub received: String,
    pub sender: String,
    pub phone: String,
    pub udh: String,
    pub text: String,
}

/// The storage service. One implementation per backend; the daemon holds it as
/// `Arc<dyn Service>`.
#[async_trait]
pub trait Service: Send + Sync {
    /// Connects, and creates or checks the schema.
    async fn init(&self) -> Result<()>;
    /// Whether the storage answers now.
    async fn health(&self) -> Result<()>;
    /// Queues a message; returns its outbox ID.
    async fn create_outbox(&self, msg: &NewMessage) -> Result<i64>;
    /// Queues a message unless a message with `key` was queued before (a spool file taken
    /// again after a crash), in one transaction; `None` when it was.
    async fn create_outbox_once(&self, _msg: &NewMessage, _key: &str) -> Result<Option<i64>> {
        Err(StorageError::Data(
            "this storage has no outbox to queue into".into(),
        ))
    }
    /// How `inject` names a queued message: its outbox ID, or (files storage) the path of
    /// the file written, as gammu-smsd-inject prints it.
    fn describe_id(&self, id: i64) -> String {
        id.to_string()
    }
    /// Queues one message per recipient in one commit, with how the face queued them and a
    /// `queued` event each (DESIGN.md, "Faces": the `submit` path). With an idempotency
    /// key seen before, queues nothing and returns the first request's ids.
    async fn submit(&self, _msgs: &[NewMessage], _how: &Submission) -> Result<Submitted> {
        Err(StorageError::Data(
            "this storage has no outbox a face can queue into (use sqlite, postgres or mysql)"
                .into(),
        ))
    }
    /// Whether changes are written to the event log: only a storage some consumer reads
    /// (a face, webhooks) needs it ([`crate::face::deliver::needs_events`]); on by default.
    fn keep_events(&self, _on: bool) {}
    /// Events after `after`, oldest first, at most `limit`.
    async fn events_after(&self, _after: i64, _limit: usize) -> Result<Vec<Event>> {
        Ok(Vec::new())
    }
    /// A consumer's cursor (0 before its first event); a new consumer starts at the end
    /// of the log, so that turning a webhook on does not replay the past.
    async fn event_cursor(&self, _consumer: &str) -> Result<i64> {
        Ok(0)
    }
    /// Moves a consumer's cursor to `cursor`, parks the events it could not deliver and
    /// drops the retries in `retried` (delivered now, or given up), in one commit.
    async fn event_progress(
        &self,
        _consumer: &str,
        _cursor: i64,
        _parked: &[Parked],
        _retried: &[i64],
    ) -> Result<()> {
        Ok(())
    }
    /// Takes or renews the lease on a consumer's events for `secs` seconds: true when
    /// `holder` (a daemon: host and PID) may deliver them now, false while another daemon
    /// on the same database holds an unexpired lease. A storage only one daemon uses
    /// always grants it.
    async fn lease_events(&self, _consumer: &str, _holder: &str, _secs: u32) -> Result<bool> {
        Ok(true)
    }
    /// Parked events of a consumer that are due, with the attempts made so far.
    async fn due_retries(&self, _consumer: &str, _limit: usize) -> Result<Vec<(Event, u32)>> {
        Ok(Vec::new())
    }
    /// Deletes events every one of `consumers` passed (and no retry waits for) that are
    /// older than `min_age_secs`; all such events when there are no consumers.
    async fn prune_events(&self, _consumers: &[String], _min_age_secs: u32) -> Result<u64> {
        Ok(0)
    }
    /// Where a message stands, `None` when no such message is known.
    async fn message_view(&self, _id: i64) -> Result<Option<MessageView>> {
        Ok(None)
    }
    /// Messages `owner` submitted after outbox ID `after`, oldest first.
    async fn submissions(&self, _owner: &str, _after: i64, _limit: usize) -> Result<Vec<i64>> {
        Ok(Vec::new())
    }
    /// Received parts with an inbox ID above `after`, oldest first.
    async fn inbox_after(&self, _after: i64, _limit: usize) -> Result<Vec<InboxEntry>> {
        Err(StorageError::Data(
            "this storage has no inbox to list".into(),
        ))
    }
    /// Claims up to `limit` messages for `routes` (rows with an empty `SenderID` or one of
    /// these), best first, each under a lease of `lease_secs`.
    async fn claim_outbox(
        &self,
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<Vec<Outgoing>>;
    /// Writes a single long row back as Gammu's multipart layout (part 1 in `outbox`, the
    /// rest in `outbox_multipart`, UDH per row) before its first send, so that a retry
    /// reuses the same concatenation reference. Returns the message with its new parts.
    async fn split_outbox(&self, out: &Outgoing, parts: &[NewPart]) -> Result<Outgoing>;
    /// The outbox, best first; `stuck` keeps only messages retried at least once or due for
    /// more than ten minutes.
    async fn list_outbox(&self, _stuck: bool) -> Result<Vec<OutboxEntry>> {
        Err(StorageError::Data(
            "this storage has no outbox to list".into(),
        ))
    }
    /// Cancels a queued message: it ends in `sentitems` as `Error` with `reason`.
    async fn cancel_outbox(&self, id: i64, _reason: &str) -> Result<bool> {
        Err(StorageError::Data(format!(
            "this storage cannot cancel message {id}"
        )))
    }
    /// Makes a message due now with its retries reset (and any lease ended).
    async fn retry_outbox(&self, id: i64) -> Result<bool> {
        Err(StorageError::Data(format!(
            "this storage cannot retry message {id}"
        )))
    }
    /// Received parts since `since` (local `YYYY-MM-DD[ HH:MM:SS]`), newest first.
    async fn list_inbox(&self, _since: Option<&str>) -> Result<Vec<InboxEntry>> {
        Err(StorageError::Data(
            "this storage has no inbox to list".into(),
        ))
    }
    /// Deletes inbox and sentitems rows older than `days`; returns (inbox, sentitems) counts.
    /// With `dry_run` only counts.
    async fn prune(&self, _days: u32, _dry_run: bool) -> Result<(u64, u64)> {
        Err(StorageError::Data(
            "this storage keeps nothing to prune".into(),
        ))
    }
    /// When `route` sent parts since `since` (local time): seeds the send limits.
    async fn send_times(&self, _route: &str, _since: &str) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// Messages waiting in the outbox (for metrics), `None` when the storage cannot tell.
    async fn outbox_depth(&self) -> Result<Option<u64>> {
        Ok(None)
    }
    /// The owners of the claims held now (as given to `claim_outbox`), and the holders of
    /// leases on the event log's consumers (`lease_events`).
    async fn claim_owners(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// Ends the leases of owners known to be dead (a daemon killed on this host), so their
    /// messages are sent again at once instead of after the lease, and their consumers'
    /// events delivered by this daemon at once; returns how many messages.
    async fn release_claims(&self, _owners: &[String]) -> Result<usize> {
        Ok(0)
    }
    /// Extends the lease while sending; `LostClaim` when it is not ours any more.
    async fn renew_claim(&self, out: &mut Outgoing, lease_secs: u32) -> Result<()>;
    /// Records one sent part in `sentitems`.
    async fn record_sent(&self, out: &Outgoing, seq: u32, result: &PartResult) -> Result<()>;
    /// Ends (or postpones) a claimed message.
    async fn finish_outbox(
        &self,
        out: &Outgoing,
        outcome: &Outcome,
        retry_after_secs: u32,
    ) -> Result<()>;
    /// Records every part of messages that all went out and ends them as sent, in one
    /// transaction where the storage can (the send window's group commit: with SMPP's
    /// window, one commit per claimed batch instead of two per message). One result per
    /// message, in order: `LostClaim` for a message another sender took over (skipped).
    async fn finish_sent(
        &self,
        done: &[(Outgoing, Vec<(u32, PartResult)>)],
    ) -> Result<Vec<Result<()>>> {
        let mut results = Vec::with_capacity(done.len());
        for (out, parts) in done {
            let mut r = Ok(());
            for (seq, part) in parts {
                r = self.record_sent(out, *seq, part).await;
                if r.is_err() {
                    break;
                }
            }
            if r.is_ok() {
                r = self.finish_outbox(out, &Outcome::Sent, 0).await;
            }
            match r {
                Err(StorageError::Unavailable(e)) => return Err(StorageError::Unavailable(e)),
                other => results.push(other),
            }
        }
        Ok(results)
    }
    /// [`Service::finish_sent`], then [`Service::claim_outbox`] for the next batch, in one
    /// transaction where the storage can (a send window's loop: one commit per batch). The
    /// claim's result stands apart: the sent messages are recorded even when it fails.
    async fn finish_sent_and_claim(
        &self,
        done: &[(Outgoing, Vec<(u32, PartResult)>)],
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<(Vec<Result<()>>, Result<Vec<Outgoing>>)> {
        let finished = self.finish_sent(done).await?;
        let claimed = self.claim_outbox(owner, routes, limit, lease_secs).await;
        Ok((finished, claimed))
    }
    /// Applies receipts (as [`Service::apply_receipt`] with a window of 0) in one
    /// transaction where the storage can; whether each matched.
    async fn apply_receipts(&self, receipts: &[(DeliveryKey, u8, String)]) -> Result<Vec<bool>> {
        let mut matched = Vec::with_capacity(receipts.len());
        for (key, status, done) in receipts {
            matched.push(self.apply_receipt(key, *status, done, 0).await?.is_some());
        }
        Ok(matched)
    }
    /// Stores received parts in one transaction and drops the pending parts they came
    /// from; returns where each part went, as `run_on_receive` gets it (Gammu's arguments:
    /// the inbox ID for SQL, the file's name for files). Only then may they be deleted from
    /// the SIM.
    async fn save_inbox(
        &self,
        parts: &[InboxPart],
        consumed: &[PendingPart],
    ) -> Result<Vec<String>>;
    /// Keeps a part of a concatenated message until the others arrive.
    async fn stash_part(&self, part: &PendingPart) -> Result<()>;
    /// Groups of pending parts that are complete, or whose oldest part waited longer than
    /// `timeout_secs` (then stored as they are).
    async fn complete_parts(
        &self,
        _phone_id: &str,
        _timeout_secs: u64,
    ) -> Result<Vec<Vec<PendingPart>>> {
        Ok(Vec::new())
    }
    /// Applies a status report: `status` is TP-ST; `done` the discharge time (local).
    /// Returns the sent part it matched, as `SMS_n_SENT_ID` shows it (the `sentitems` ID
    /// for SQL, empty for storages without one), or `None` (unmatched reports are kept in
    /// our table).
    async fn apply_receipt(
        &self,
        _key: &DeliveryKey,
        _status: u8,
        _done: &str,
        _window_secs: u64,
    ) -> Result<Option<String>> {
        Ok(None)
    }
    /// Writes the modem's status (`phones`); a storage without a place for it keeps none.
    async fn refresh_status(&self, _status: &PhoneStatus) -> Result<()> {
        Ok(())
    }
    /// Whether another program may have written to the outbox since the last call (cheap:
    /// polled every second to pick up rows inserted by Kalkun or scripts). `false` when
    /// the storage cannot tell.
    async fn outbox_changed(&self) -> Result<bool> {
        Ok(false)
    }
    /// A counter the storage bumps when another program inserts into the outbox (PostgreSQL
    /// `NOTIFY`): the daemon sends at once instead of at the next poll. `None` when the
    /// storage has no such signal.
    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
    /// A counter bumped after each commit of this process that appended to the event log:
    /// the consumers deliver at once instead of at their next poll. `None` when the
    /// storage keeps no log.
    fn events_appended(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_match() {
        assert!(same_number("+48600100200", "600100200"));
        assert!(same_number("0600100200", "+48600100200"));
        assert!(same_number("+48600100200", "0048600100200"));
        assert!(!same_number("+48600100200", "+48600100201"));
        assert!(!same_number("+4812", "12"), "too short to tell");
        assert!(same_number("Bank", "Bank"));
    }
}
