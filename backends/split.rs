//! Two storages as one: the outbox side (claims, sends, status reports) in one, received
//! messages (inbox, pending parts, the phones' status) in the other. For `[storage] kind =
//! "nav"`, whose queue keeps no received messages, with an `[inbox_storage]`.

use async_trait::async_trait;

use crate::service::*;

/// Sends from `outbox`, stores what arrives in `inbox`.
pub struct Split {
    pub outbox: std::sync::Arc<dyn Service>,
    pub inbox: std::sync::Arc<dyn Service>,
}

#[async_trait]
impl Service for Split {
    async fn init(&self) -> Result<()> {
        self.outbox.init().await?;
        self.inbox.init().await
    }
    async fn health(&self) -> Result<()> {
        self.outbox.health().await?;
        self.inbox.health().await
    }
    async fn create_outbox(&self, msg: &NewMessage) -> Result<i64> {
        self.outbox.create_outbox(msg).await
    }
    async fn create_outbox_once(&self, msg: &NewMessage, key: &str) -> Result<Option<i64>> {
        self.outbox.create_outbox_once(msg, key).await
    }
    async fn submit(&self, msgs: &[NewMessage], how: &Submission) -> Result<Submitted> {
        self.outbox.submit(msgs, how).await
    }
    async fn message_view(&self, id: i64) -> Result<Option<MessageView>> {
        self.outbox.message_view(id).await
    }
    async fn submissions(&self, owner: &str, after: i64, limit: usize) -> Result<Vec<i64>> {
        self.outbox.submissions(owner, after, limit).await
    }
    fn keep_events(&self, on: bool) {
        self.outbox.keep_events(on);
        self.inbox.keep_events(on);
    }
    // The event log is the inbox storage's: NAV's queue keeps none.
    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<Event>> {
        self.inbox.events_after(after, limit).await
    }
    async fn event_cursor(&self, consumer: &str) -> Result<i64> {
        self.inbox.event_cursor(consumer).await
    }
    async fn event_progress(
        &self,
        consumer: &str,
        cursor: i64,
        parked: &[Parked],
        retried: &[i64],
    ) -> Result<()> {
        self.inbox
            .event_progress(consumer, cursor, parked, retried)
            .await
    }
    async fn lease_events(&self, consumer: &str, holder: &str, secs: u32) -> Result<bool> {
        self.inbox.lease_events(consumer, holder, secs).await
    }
    async fn due_retries(&self, consumer: &str, limit: usize) -> Result<Vec<(Event, u32)>> {
        self.inbox.due_retries(consumer, limit).await
    }
    async fn prune_events(&self, consumers: &[String], min_age_secs: u32) -> Result<u64> {
        self.inbox.prune_events(consumers, min_age_secs).await
    }
    async fn inbox_after(&self, after: i64, limit: usize) -> Result<Vec<InboxEntry>> {
        self.inbox.inbox_after(after, limit).await
    }
    fn describe_id(&self, id: i64) -> String {
        self.outbox.describe_id(id)
    }
    async fn claim_outbox(
        &self,
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        self.outbox
            .claim_outbox(owner, routes, limit, lease_secs)
            .await
    }
    async fn split_outbox(&self, out: &Outgoing, parts: &[NewPart]) -> Result<Outgoing> {
        self.outbox.split_outbox(out, parts).await
    }
    async fn list_outbox(&self, stuck: bool) -> Result<Vec<OutboxEntry>> {
        self.outbox.list_outbox(stuck).await
    }
    async fn cancel_outbox(&self, id: i64, reason: &str) -> Result<bool> {
        self.outbox.cancel_outbox(id, reason).await
    }
    async fn retry_outbox(&self, id: i64) -> Result<bool> {
        self.outbox.retry_outbox(id).await
    }
    async fn list_inbox(&self, since: Option<&str>) -> Result<Vec<InboxEntry>> {
        self.inbox.list_inbox(since).await
    }
    async fn prune(&self, days: u32, dry_run: bool) -> Result<(u64, u64)> {
        self.inbox.prune(days, dry_run).await
    }
    async fn send_times(&self, route: &str, since: &str) -> Result<Vec<String>> {
        self.outbox.send_times(route, since).await
    }
    async fn outbox_depth(&self) -> Result<Option<u64>> {
        self.outbox.outbox_depth().await
    }
    async fn claim_owners(&self) -> Result<Vec<String>> {
        self.outbox.claim_owners().await
    }
    async fn release_claims(&self, owners: &[String]) -> Result<usize> {
        self.outbox.release_claims(owners).await
    }
    async fn renew_claim(&self, out: &mut Outgoing, lease_secs: u32) -> Result<()> {
        self.outbox.renew_claim(out, lease_secs).await
    }
    async fn record_sent(&self, out: &Outgoing, seq: u32, result: &PartResult) -> Result<()> {
        self.outbox.record_sent(out, seq, result).await
    }
    async fn finish_outbox(
        &self,
        out: &Outgoing,
        outcome: &Outcome,
        retry_after_secs: u32,
    ) -> Result<()> {
        self.outbox
            .finish_outbox(out, outcome, retry_after_secs)
            .await
    }
    async fn save_inbox(
        &self,
        parts: &[InboxPart],
        consumed: &[PendingPart],
    ) -> Result<Vec<String>> {
        self.inbox.save_inbox(parts, consumed).await
    }
    async fn stash_part(&self, part: &PendingPart) -> Result<()> {
        self.inbox.stash_part(part).await
    }
    async fn complete_parts(
        &self,
        phone_id: &str,
        timeout_secs: u64,
    ) -> Result<Vec<Vec<PendingPart>>> {
        self.inbox.complete_parts(phone_id, timeout_secs).await
    }
    async fn apply_receipt(
        &self,
        key: &DeliveryKey,
        status: u8,
        done: &str,
        window_secs: u64,
    ) -> Result<Option<String>> {
        self.outbox
            .apply_receipt(key, status, done, window_secs)
            .await
    }
    async fn refresh_status(&self, status: &PhoneStatus) -> Result<()> {
        self.inbox.refresh_status(status).await
    }
    async fn outbox_changed(&self) -> Result<bool> {
        self.outbox.outbox_changed().await
    }
    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.outbox.changes()
    }
    fn events_appended(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.inbox.events_appended()
    }
}
