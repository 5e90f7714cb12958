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
}
