//! Storing what a transport receives on its own (an SMSC's deliver_sm): messages go to the
//! inbox exactly as a modem's do (parts of long messages wait in the same table), receipts
//! update the sent part the SMSC's message id names. The transport answers each one only
//! after this says it is stored.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{receive, PhoneCtx};
use crate::route::Received;
use crate::service::{DeliveryKey, StorageError};
use crate::smpp::deliver::Incoming;

/// Stores one received thing; `Ok(false)`: not stored on purpose (ask for it again).
async fn store(ctx: &mut PhoneCtx, what: Incoming) -> Result<bool, StorageError> {
    match what {
        Incoming::Message(mut d) => {
            if !receive::accepted(ctx, &d.originator.to_string()) {
                // Acknowledged: an SMSC would otherwise deliver it again and again.
                tracing::info!(route = %ctx.phone.id, from = %d.originator, "message ignored by the include/exclude lists: acknowledged, not stored");
                return Ok(true);
            }
            // Parts wait as PDUs; one that does not fit in a PDU is stored on its own.
            let pdu = match d.encode() {
                Ok(e) => e.to_hex(),
                Err(e) => {
                    if d.concat().is_some() {
                        tracing::warn!(route = %ctx.phone.id, from = %d.originator, "a part of a long message is too long to wait for the others ({e}): stored on its own");
                        d.udh = None;
                    }
                    String::new()
                }
            };
            let stored = receive::deliver(ctx, &d, &pdu).await?;
            receive::complete(ctx).await;
            Ok(stored)
        }
        Incoming::Receipt { id, status, done } => {
            let done = done
                .unwrap_or_else(|| chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string());
            let key = DeliveryKey::SmscId {
                route: ctx.phone.id.clone(),
                id: id.clone(),
            };
            let matched = ctx.storage.apply_receipt(&key, status, &done, 0).await?;
            if matched {
                tracing::debug!(route = %ctx.phone.id, message_id = %id, status, "receipt applied");
            } else {
                tracing::info!(route = %ctx.phone.id, message_id = %id, "receipt for a message id not recorded (yet): kept until a part with that id is");
            }
            Ok(true)
        }
    }
}

/// Runs until `stop` turns true or the transport ends.
pub async fn run(
    mut ctx: PhoneCtx,
    mut inbound: mpsc::UnboundedReceiver<Received>,
    mut stop: watch::Receiver<bool>,
) {
    // Long messages whose last part never came are stored as they are after the timeout.
    let mut sweep = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = sweep.tick() => receive::complete(&mut ctx).await,
            r = inbound.recv() => {
                let Some(r) = r else { return };
                let stored = match store(&mut ctx, r.what).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(route = %ctx.phone.id, "storage failed: the SMSC is asked to deliver it again: {e}");
                        false
                    }
                };
                let _ = r.stored.send(stored);
                let received = ctx.counters.received;
                ctx.board.update(&ctx.phone.id, |p| p.received = received);
            }
        }
    }
}
