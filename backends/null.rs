//! Storage `null`: keeps nothing. Received messages are committed when `run_on_receive`
//! exits 0 (the daemon's job); there is no outbox to send from.

use async_trait::async_trait;

use crate::service::{
    InboxPart, NewMessage, Outcome, Outgoing, PartResult, PendingPart, Result, Service,
    StorageError,
};

/// The storage that stores nothing.
pub struct Null;

#[async_trait]
impl Service for Null {
    async fn init(&self) -> Result<()> {
        Ok(())
    }
    async fn health(&self) -> Result<()> {
        Ok(())
    }
    async fn create_outbox(&self, _msg: &NewMessage) -> Result<i64> {
        Err(StorageError::Data(
            "the null storage has no outbox: configure [storage] kind = \"sqlite\" to queue messages".into(),
        ))
    }
    async fn claim_outbox(
        &self,
        _owner: &str,
        _routes: &[String],
        _limit: usize,
        _lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        Ok(Vec::new())
    }
    async fn split_outbox(
        &self,
        out: &Outgoing,
        _parts: &[crate::service::NewPart],
    ) -> Result<Outgoing> {
        Err(StorageError::LostClaim(out.id))
    }
    async fn renew_claim(&self, out: &mut Outgoing, _lease_secs: u32) -> Result<()> {
        Err(StorageError::LostClaim(out.id))
    }
    async fn record_sent(&self, _out: &Outgoing, _seq: u32, _result: &PartResult) -> Result<()> {
        Ok(())
    }
    async fn finish_outbox(
        &self,
        _out: &Outgoing,
        _outcome: &Outcome,
        _retry_after_secs: u32,
    ) -> Result<()> {
        Ok(())
    }
    async fn save_inbox(
        &self,
        parts: &[InboxPart],
        _consumed: &[PendingPart],
    ) -> Result<Vec<String>> {
        Ok(vec![String::new(); parts.len()])
    }
    async fn stash_part(&self, _part: &PendingPart) -> Result<()> {
        Err(StorageError::Data(
            "the null storage cannot keep parts of concatenated messages".into(),
        ))
    }
}
