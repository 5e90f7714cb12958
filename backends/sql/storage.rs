//! The storage service for every SQL database, once: each method runs its logic from
//! `gammu.rs` in one transaction of a [`Conn`] (SQLite's thread or a server's pool). What a
//! database does its own way (opening, the schema, being told of new rows) stays in
//! `sqlite.rs` and `server.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use tokio::sync::watch;

use super::exec::Tx;
use super::gammu;
use crate::service::{
    DeliveryKey, Event, InboxEntry, InboxPart, MessageView, NewMessage, NewPart, OutboxEntry,
    Outcome, Outgoing, Parked, PartResult, PendingPart, PhoneStatus, Result, Service, Submission,
    Submitted,
};

/// A database the logic runs on: one transaction at a time per call.
#[async_trait]
pub trait Conn: Send + Sync + 'static {
    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    async fn transaction<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static;
    /// [`Conn::transaction`] for a small write that many clients make at once (a face's
    /// submit): SQLite commits those waiting together.
    async fn small_transaction<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        self.transaction(f).await
    }
    /// [`Conn::transaction`] for `f` that only reads (SQLite then leaves other writers
    /// alone).
    async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        self.transaction(f).await
    }
    /// Connects and creates or checks the schema (logging what it found).
    async fn init(&self) -> Result<()>;
    /// Whether changes are written to the event log (on until told otherwise).
    fn keep_events(&self, on: bool);
    /// Whether another program may have written to the outbox since the last call.
    async fn outbox_changed(&self) -> Result<bool>;
    /// New outbox rows announced by the database itself (PostgreSQL's `NOTIFY`).
    fn changes(&self) -> Option<watch::Receiver<u64>> {
        None
    }
    /// Bumped after every commit of this process that appended to the event log.
    fn appended(&self) -> watch::Receiver<u64>;
}

/// `self.transaction` running one expression over `tx`, its inputs moved in.
macro_rules! in_tx {
    ($conn:expr, |$tx:ident| $body:expr) => {
        $conn
            .transaction(move |$tx| Box::pin(async move { $body }))
            .await
    };
}

/// `self.read`: the same for an expression that only reads.
macro_rules! reading {
    ($conn:expr, |$tx:ident| $body:expr) => {
        $conn.read(move |$tx| Box::pin(async move { $body })).await
    };
}

#[async_trait]
impl<C: Conn> Service for C {
    async fn init(&self) -> Result<()> {
        Conn::init(self).await
    }

    async fn health(&self) -> Result<()> {
        reading!(self, |tx| tx.row("SELECT 1", &[]).await.map(|_| ()))
    }

    fn changes(&self) -> Option<watch::Receiver<u64>> {
        Conn::changes(self)
    }

    fn keep_events(&self, on: bool) {
        Conn::keep_events(self, on)
    }

    fn events_appended(&self) -> Option<watch::Receiver<u64>> {
        Some(Conn::appended(self))
    }

    async fn create_outbox(&self, msg: &NewMessage) -> Result<i64> {
        let msg = msg.clone();
        in_tx!(self, |tx| gammu::insert_message(tx, &msg).await)
    }

    async fn submit(&self, msgs: &[NewMessage], how: &Submission) -> Result<Submitted> {
        let (msgs, how) = (msgs.to_vec(), how.clone());
        self.small_transaction(move |tx| {
            Box::pin(async move { gammu::submit(tx, &msgs, &how).await })
        })
        .await
    }

    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<Event>> {
        reading!(self, |tx| gammu::events_after(tx, after, limit).await)
    }

    async fn event_cursor(&self, consumer: &str) -> Result<i64> {
        let consumer = consumer.to_string();
        in_tx!(self, |tx| gammu::event_cursor(tx, &consumer).await)
    }

    async fn lease_events(&self, consumer: &str, holder: &str, secs: u32) -> Result<bool> {
        let (consumer, holder) = (consumer.to_string(), holder.to_string());
        in_tx!(self, |tx| gammu::lease_events(tx, &consumer, &holder, secs)
            .await)
    }

    async fn event_progress(
        &self,
        consumer: &str,
        cursor: i64,
        parked: &[Parked],
        retried: &[i64],
    ) -> Result<()> {
        let (consumer, parked, retried) = (consumer.to_string(), parked.to_vec(), retried.to_vec());
        in_tx!(self, |tx| gammu::event_progress(
            tx, &consumer, cursor, &parked, &retried
        )
        .await)
    }

    async fn due_retries(&self, consumer: &str, limit: usize) -> Result<Vec<(Event, u32)>> {
        let consumer = consumer.to_string();
        reading!(self, |tx| gammu::due_retries(tx, &consumer, limit).await)
    }

    async fn prune_events(&self, consumers: &[String], min_age_secs: u32) -> Result<u64> {
        let consumers = consumers.to_vec();
        in_tx!(self, |tx| gammu::prune_events(tx, &consumers, min_age_secs)
            .await)
    }

    async fn message_view(&self, id: i64) -> Result<Option<MessageView>> {
        reading!(self, |tx| gammu::message_view(tx, id).await)
    }

    async fn submissions(&self, owner: &str, after: i64, limit: usize) -> Result<Vec<i64>> {
        let owner = owner.to_string();
        reading!(self, |tx| gammu::submissions(tx, &owner, after, limit)
            .await)
    }

    async fn inbox_after(&self, after: i64, limit: usize) -> Result<Vec<InboxEntry>> {
        reading!(self, |tx| gammu::inbox_after(tx, after, limit).await)
    }

    async fn create_outbox_once(&self, msg: &NewMessage, key: &str) -> Result<Option<i64>> {
        let (msg, key) = (msg.clone(), key.to_string());
        in_tx!(self, |tx| gammu::create_outbox_once(tx, &msg, &key).await)
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        let (owner, routes) = (owner.to_string(), routes.to_vec());
        in_tx!(self, |tx| gammu::claim(
            tx, &owner, &routes, limit, lease_secs
        )
        .await)
    }

    async fn split_outbox(&self, out: &Outgoing, parts: &[NewPart]) -> Result<Outgoing> {
        let (out, parts) = (out.clone(), parts.to_vec());
        in_tx!(self, |tx| gammu::split_outbox(tx, &out, &parts).await)
    }

    async fn list_outbox(&self, stuck: bool) -> Result<Vec<OutboxEntry>> {
        reading!(self, |tx| gammu::list_outbox(tx, stuck).await)
    }

    async fn cancel_outbox(&self, id: i64, reason: &str) -> Result<bool> {
        let reason = reason.to_string();
        in_tx!(self, |tx| gammu::cancel_outbox(tx, id, &reason).await)
    }

    async fn retry_outbox(&self, id: i64) -> Result<bool> {
        in_tx!(self, |tx| gammu::retry_outbox(tx, id).await)
    }

    async fn list_inbox(&self, since: Option<&str>) -> Result<Vec<InboxEntry>> {
        let since = since.map(str::to_string);
        reading!(self, |tx| gammu::list_inbox(tx, since.as_deref()).await)
    }

    async fn prune(&self, days: u32, dry_run: bool) -> Result<(u64, u64)> {
        in_tx!(self, |tx| gammu::prune(tx, days, dry_run).await)
    }

    async fn send_times(&self, route: &str, since: &str) -> Result<Vec<String>> {
        let (route, since) = (route.to_string(), since.to_string());
        reading!(self, |tx| gammu::send_times(tx, &route, &since).await)
    }

    async fn outbox_depth(&self) -> Result<Option<u64>> {
        reading!(self, |tx| gammu::outbox_depth(tx).await.map(Some))
    }

    async fn claim_owners(&self) -> Result<Vec<String>> {
        reading!(self, |tx| gammu::claim_owners(tx).await)
    }

    async fn release_claims(&self, owners: &[String]) -> Result<usize> {
        let owners = owners.to_vec();
        in_tx!(self, |tx| gammu::release_claims(tx, &owners).await)
    }

    async fn renew_claim(&self, out: &mut Outgoing, lease_secs: u32) -> Result<()> {
        let held = out.clone();
        out.lease = in_tx!(self, |tx| gammu::renew_claim(tx, &held, lease_secs).await)?;
        Ok(())
    }

    async fn record_sent(&self, out: &Outgoing, seq: u32, result: &PartResult) -> Result<()> {
        let (out, result) = (out.clone(), result.clone());
        in_tx!(self, |tx| gammu::record_sent(tx, &out, seq, &result).await)
    }

    async fn finish_outbox(
        &self,
        out: &Outgoing,
        outcome: &Outcome,
        retry_after_secs: u32,
    ) -> Result<()> {
        let (out, outcome) = (out.clone(), outcome.clone());
        in_tx!(self, |tx| gammu::finish_outbox(
            tx,
            &out,
            &outcome,
            retry_after_secs
        )
        .await)
    }

    async fn finish_sent(&self, done: &gammu::Sent) -> Result<Vec<Result<()>>> {
        let done = done.to_vec();
        in_tx!(self, |tx| gammu::finish_sent(tx, &done).await)
    }

    async fn finish_sent_and_claim(
        &self,
        done: &gammu::Sent,
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<(Vec<Result<()>>, Result<Vec<Outgoing>>)> {
        let (batch, owner, routes) = (done.to_vec(), owner.to_string(), routes.to_vec());
        // Set when the batch was recorded and the claim after it failed: that rolls the
        // whole transaction back (never half a claim), and the batch is recorded alone.
        let claim_failed = Arc::new(AtomicBool::new(false));
        let flag = claim_failed.clone();
        let both = in_tx!(self, |tx| {
            let finished = gammu::finish_sent(tx, &batch).await?;
            match gammu::claim(tx, &owner, &routes, limit, lease_secs).await {
                Ok(claimed) => Ok((finished, claimed)),
                Err(e) => {
                    flag.store(true, Ordering::SeqCst);
                    Err(e)
                }
            }
        });
        match both {
            Ok((finished, claimed)) => Ok((finished, Ok(claimed))),
            Err(e) if claim_failed.load(Ordering::SeqCst) => {
                Ok((self.finish_sent(done).await?, Err(e)))
            }
            Err(e) => Err(e),
        }
    }

    async fn apply_receipts(&self, receipts: &[(DeliveryKey, u8, String)]) -> Result<Vec<bool>> {
        let receipts = receipts.to_vec();
        in_tx!(self, |tx| gammu::receipts_by_id(tx, &receipts).await)
    }

    async fn save_inbox(
        &self,
        parts: &[InboxPart],
        consumed: &[PendingPart],
    ) -> Result<Vec<String>> {
        let (parts, consumed) = (parts.to_vec(), consumed.to_vec());
        in_tx!(self, |tx| gammu::save_inbox(tx, &parts, &consumed).await)
    }

    async fn stash_part(&self, part: &PendingPart) -> Result<()> {
        let part = part.clone();
        in_tx!(self, |tx| gammu::stash_part(tx, &part).await)
    }

    async fn complete_parts(
        &self,
        phone_id: &str,
        timeout_secs: u64,
    ) -> Result<Vec<Vec<PendingPart>>> {
        let phone = phone_id.to_string();
        reading!(self, |tx| gammu::complete_parts(tx, &phone, timeout_secs)
            .await)
    }

    async fn apply_receipt(
        &self,
        key: &DeliveryKey,
        status: u8,
        done: &str,
        window_secs: u64,
    ) -> Result<Option<String>> {
        let (key, done) = (key.clone(), done.to_string());
        in_tx!(self, |tx| gammu::apply_receipt(
            tx,
            &key,
            status,
            &done,
            window_secs
        )
        .await)
    }

    async fn refresh_status(&self, status: &PhoneStatus) -> Result<()> {
        let status = status.clone();
        in_tx!(self, |tx| gammu::refresh_status(tx, &status).await)
    }

    async fn outbox_changed(&self) -> Result<bool> {
        Conn::outbox_changed(self).await
    }
}
