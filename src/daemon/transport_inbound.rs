//! Storing what a transport receives on its own (an SMSC's deliver_sm): messages go to the
//! inbox exactly as a modem's do (parts of long messages wait in the same table), receipts
//! update the sent part the SMSC's message id names. The transport answers each one only
//! after this says it is stored.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{inbound, PhoneCtx};
use crate::pdu::Deliver;
use crate::route::Received;
use crate::service::{DeliveryKey, StorageError};
use crate::smpp::deliver::Incoming;

/// Stores one received message; `Ok(false)`: not stored on purpose (ask for it again).
async fn store(ctx: &mut PhoneCtx, mut d: Deliver) -> Result<bool, StorageError> {
    if !inbound::accepted(ctx, &d.originator.to_string()) {
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
    let stored = inbound::deliver(ctx, &d, &pdu).await?;
    inbound::complete(ctx).await;
    Ok(stored)
}

/// Receipts stored in one transaction at most (the group commit of receipts).
const RECEIPT_BATCH: usize = 256;

/// Runs until `stop` turns true or the transport ends.
pub async fn run(
    mut ctx: PhoneCtx,
    mut inbound: mpsc::UnboundedReceiver<Received>,
    mut stop: watch::Receiver<bool>,
) {
    // Long messages whose last part never came are stored as they are after the timeout.
    let mut sweep = tokio::time::interval(Duration::from_secs(60));
    loop {
        let first = tokio::select! {
            _ = stop.changed() => return,
            _ = sweep.tick() => {
                inbound::complete(&mut ctx).await;
                continue;
            }
            r = inbound.recv() => match r {
                Some(r) => r,
                None => return,
            },
        };
        // What else is waiting already: receipts go in one commit, messages one by one.
        let mut receipts = Vec::new();
        let mut next = Some(first);
        while let Some(r) = next.take() {
            match r.what {
                Incoming::Receipt { .. } => receipts.push(r),
                Incoming::Message(d) => {
                    let stored = store_or_log(&mut ctx, d).await;
                    let _ = r.stored.send(stored);
                }
            }
            if receipts.len() < RECEIPT_BATCH {
                next = inbound.try_recv().ok();
            }
        }
        if !receipts.is_empty() {
            store_receipts(&mut ctx, receipts).await;
        }
        let c = ctx.counters;
        ctx.board.update(&ctx.phone.id, |p| {
            p.received = c.received;
            p.delivered = c.delivered;
            p.undelivered = c.undelivered;
        });
    }
}

async fn store_or_log(ctx: &mut PhoneCtx, d: Deliver) -> bool {
    match store(ctx, d).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(route = %ctx.phone.id, "storage failed: the SMSC is asked to deliver it again: {e}");
            false
        }
    }
}

/// Stores receipts in one transaction; each is acknowledged once it is (matched or kept
/// for a part not recorded yet).
async fn store_receipts(ctx: &mut PhoneCtx, receipts: Vec<Received>) {
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let keys: Vec<_> = receipts
        .iter()
        .filter_map(|r| match &r.what {
            Incoming::Receipt { id, status, done } => Some((
                DeliveryKey::SmscId {
                    route: ctx.phone.id.clone(),
                    id: id.clone(),
                },
                *status,
                done.clone().unwrap_or_else(|| now.clone()),
            )),
            Incoming::Message(_) => None,
        })
        .collect();
    let stored = match ctx.storage.apply_receipts(&keys).await {
        Ok(matched) => {
            for ((key, status, _), m) in keys.iter().zip(&matched) {
                let DeliveryKey::SmscId { id, .. } = key else {
                    continue;
                };
                if !m {
                    tracing::info!(route = %ctx.phone.id, message_id = %id, "receipt for a message id not recorded (yet): kept until a part with that id is");
                }
                inbound::note_report(
                    ctx,
                    &inbound::ReportSeen {
                        status: *status,
                        to: "",
                        mr: None,
                        message_id: Some(id),
                        sent_id: m.then_some(""),
                    },
                );
            }
            true
        }
        Err(e) => {
            tracing::warn!(route = %ctx.phone.id, receipts = keys.len(), "cannot store receipts: the SMSC is asked to deliver them again: {e}");
            false
        }
    };
    for r in receipts {
        let _ = r.stored.send(stored);
    }
}
