//! Sending through a route with a send window (SMPP): claim up to a window of messages in
//! one transaction, send them all at once over the route's senders (a message's parts one
//! after another, in order, on one sender), then record the messages that went out in one
//! commit, which claims the next batch too (the group commit: one commit per batch instead
//! of three per message). A message with a part that failed is handled alone, as
//! [`super::outbound`] does (its parts that went out are recorded).
//!
//! A crash between the sends and the commit leaves at most a window of messages claimed:
//! their lease runs out and they are sent again (DESIGN.md: a crash may repeat the parts in
//! flight on a route, the window for SMPP). A crash with a batch claimed but not sent yet
//! only delays it (the next daemon on the host releases a dead one's claims at start). A
//! stop gives such a batch back at once.

use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::outbound::{self, Stop, LEASE_SECS};
use super::PhoneCtx;
use crate::compose::{self, OneSend, SendDefaults};
use crate::route::{PartReceipt, SendError, Transport};
use crate::service::{Outcome, Outgoing, PartResult, StorageError};

/// What one send gave: the message's place in the batch, the part, whether a report was
/// asked for, the parts it carried too, the result.
type Sent = (usize, u32, bool, Vec<u32>, Result<PartReceipt, SendError>);

/// Sends until the outbox has nothing for this route; `senders` are handles on one link
/// (as many as the window).
pub async fn drain(
    senders: &mut Vec<Box<dyn Transport>>,
    ctx: &mut PhoneCtx,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Stop {
    let retry_timeout = u32::try_from(ctx.cfg.sending.retry_timeout).unwrap_or(u32::MAX);
    let defaults = SendDefaults {
        validity: ctx.cfg.sending.validity,
        delivery_reports: ctx.cfg.sending.delivery_reports,
    };
    let limit = senders.len().max(1);
    // The next batch, claimed in the commit of the one before.
    let mut next: Option<Vec<Outgoing>> = None;
    loop {
        if *stop.borrow() {
            if let Some(claimed) = next {
                release(ctx, &claimed).await;
            }
            return Stop::Empty;
        }
        let claimed = match next.take() {
            Some(c) => c,
            None => match ctx
                .storage
                .claim_outbox(
                    &ctx.owner,
                    std::slice::from_ref(&ctx.phone.id),
                    limit,
                    LEASE_SECS,
                )
                .await
            {
                Ok(c) => c,
                Err(e) => return Stop::Storage(e),
            },
        };
        if claimed.is_empty() {
            return Stop::Empty;
        }
        // The parts to send, by message; messages that cannot go are ended here.
        let mut batch: Vec<Outgoing> = Vec::with_capacity(claimed.len());
        let mut parts: Vec<(usize, OneSend)> = Vec::new();
        for mut out in claimed {
            if out.retries > ctx.cfg.sending.max_retries {
                ctx.counters.failed += 1;
                let reason = format!("gave up after {} attempts", out.retries);
                let failed = Outcome::Failed {
                    status_code: -1,
                    reason,
                    unusable: false,
                };
                if let Err(s) = outbound::finish(ctx, &out, failed, retry_timeout).await {
                    return s;
                }
                continue;
            }
            if let Some(split) = compose::split_long_row(&out, out.id as u8) {
                match ctx.storage.split_outbox(&out, &split).await {
                    Ok(o) => out = o,
                    Err(StorageError::LostClaim(_)) => continue,
                    Err(e) => return Stop::Storage(e),
                }
            }
            match compose::submits(&out, &defaults) {
                Ok(s) => {
                    let i = batch.len();
                    let whole = senders.first().is_some_and(|t| t.whole_messages());
                    parts.extend(compose::sends(&out, s, whole).into_iter().map(|p| (i, p)));
                    batch.push(out);
                }
                Err(reason) => {
                    if let Err(s) = outbound::unusable(ctx, &out, reason, retry_timeout).await {
                        return s;
                    }
                }
            }
        }
        let results = send_all(senders, parts, ctx).await;
        match settle(ctx, batch, results, retry_timeout, limit).await {
            Ok(claimed) => next = claimed,
            Err(s) => return s,
        }
    }
}

/// Gives back messages claimed but not sent (the daemon is stopping).
async fn release(ctx: &PhoneCtx, claimed: &[Outgoing]) {
    let reason = Outcome::Release {
        status_code: -1,
        reason: "smsgw is stopping".into(),
    };
    for out in claimed {
        if let Err(e) = ctx.storage.finish_outbox(out, &reason, 0).await {
            tracing::warn!(
                id = %out.name,
                "cannot release a claimed message (it waits for its lease to run out): {e}"
            );
        }
    }
}

/// Sends every message, each on one sender (its parts in order, stopping at the first
/// that fails), at most one message per sender at a time.
async fn send_all(
    senders: &mut Vec<Box<dyn Transport>>,
    parts: Vec<(usize, OneSend)>,
    ctx: &PhoneCtx,
) -> Vec<Sent> {
    let mut messages: Vec<Vec<(usize, OneSend)>> = Vec::new();
    for p in parts {
        match messages.last_mut() {
            Some(m) if m[0].0 == p.0 => m.push(p),
            _ => messages.push(vec![p]),
        }
    }
    let mut idle: Vec<Box<dyn Transport>> = std::mem::take(senders);
    let mut waiting = messages.into_iter();
    let mut running = FuturesUnordered::new();
    let mut done = Vec::new();
    loop {
        while let Some(mut sender) = idle.pop() {
            let Some(message) = waiting.next() else {
                idle.push(sender);
                break;
            };
            running.push(async move {
                let mut sent = Vec::with_capacity(message.len());
                let mut took = Vec::with_capacity(message.len());
                for (i, (seq, submit, carried)) in message {
                    let started = Instant::now();
                    let r = sender.send(&submit).await;
                    took.push(started.elapsed());
                    let failed = r.is_err();
                    sent.push((i, seq, submit.status_report_request, carried, r));
                    if failed {
                        break;
                    }
                }
                (sender, sent, took)
            });
        }
        let Some((sender, sent, took)) = running.next().await else {
            break;
        };
        for t in took {
            ctx.board.observe_send(&ctx.phone.id, t.as_secs_f64());
        }
        idle.push(sender);
        done.extend(sent);
    }
    *senders = idle;
    done
}

/// Records the batch: messages whose parts all went out in one commit (which claims the
/// next batch of up to `limit`, returned when it could), the others alone.
async fn settle(
    ctx: &mut PhoneCtx,
    batch: Vec<Outgoing>,
    mut results: Vec<Sent>,
    retry_timeout: u32,
    limit: usize,
) -> Result<Option<Vec<Outgoing>>, Stop> {
    results.sort_by_key(|r| (r.0, r.1));
    let route = ctx.phone.id.clone();
    let smsc = ctx.phone.smsc.clone().unwrap_or_default();
    let mut all_sent = Vec::new();
    let mut stop = None;
    let mut by_message = results.into_iter().peekable();
    for (i, out) in batch.into_iter().enumerate() {
        let mut ok = Vec::new();
        let mut failure = None;
        while let Some((_, seq, report, carried, r)) = by_message.next_if(|r| r.0 == i) {
            match r {
                Ok(receipt) => {
                    let sent = |message_id| PartResult::Sent {
                        route: route.clone(),
                        tpmr: receipt.tpmr,
                        report,
                        smsc: smsc.clone(),
                        message_id,
                    };
                    ok.push((seq, sent(receipt.message_id.clone())));
                    // The parts this send carried too, without the id.
                    ok.extend(carried.into_iter().map(|s| (s, sent(None))));
                }
                Err(e) => {
                    if failure.is_none() {
                        failure = Some((seq, e));
                    }
                }
            }
        }
        match failure {
            None => all_sent.push((out, ok)),
            Some((seq, e)) => {
                // The parts that went out are recorded; the message is retried, released
                // or failed as one sent part by part would be.
                for (s, part) in &ok {
                    match outbound::record(ctx.storage.as_ref(), &out, *s, part).await {
                        Ok(()) | Err(StorageError::LostClaim(_)) => {}
                        Err(e) => return Err(Stop::Storage(e)),
                    }
                }
                if let Err(s) = outbound::failed(ctx, &out, e, seq, retry_timeout).await {
                    stop.get_or_insert(s);
                }
            }
        }
    }
    if let Some(s) = stop {
        if !all_sent.is_empty() {
            commit(ctx, all_sent, None).await?;
        }
        return Err(s);
    }
    if all_sent.is_empty() {
        return Ok(None);
    }
    commit(ctx, all_sent, Some(limit)).await
}

/// The group commit of the messages that went out (retried while the storage is down: the
/// messages are out, and the lease is still ours), claiming the next batch of up to `next`
/// messages in it.
async fn commit(
    ctx: &mut PhoneCtx,
    sent: Vec<(Outgoing, Vec<(u32, PartResult)>)>,
    next: Option<usize>,
) -> Result<Option<Vec<Outgoing>>, Stop> {
    let deadline = Instant::now() + Duration::from_secs(LEASE_SECS.into());
    let mut pause = Duration::from_millis(100);
    let routes = [ctx.phone.id.clone()];
    let (results, claimed) = loop {
        let done = match next {
            Some(limit) => ctx
                .storage
                .finish_sent_and_claim(&sent, &ctx.owner, &routes, limit, LEASE_SECS)
                .await
                .map(|(r, c)| (r, Some(c))),
            None => ctx.storage.finish_sent(&sent).await.map(|r| (r, None)),
        };
        match done {
            Err(StorageError::Unavailable(e)) if Instant::now() < deadline => {
                tracing::warn!(
                    messages = sent.len(),
                    "cannot record sent messages yet: {e}"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(Stop::Storage(e)),
            Ok(r) => break r,
        }
    };
    let claimed = match claimed {
        Some(Err(e)) => {
            tracing::warn!(transport = %ctx.phone.id, "cannot claim the next messages: {e}");
            None
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    for ((out, parts), r) in sent.iter().zip(results) {
        match r {
            Ok(()) => {
                for (seq, p) in parts {
                    let PartResult::Sent { message_id, .. } = p;
                    tracing::info!(id = %out.name, part = seq, message_id = message_id.as_deref(), to = %out.destination, route = %ctx.phone.id, "sent");
                }
                ctx.counters.sent += parts.len() as u64;
                outbound::after(ctx, out, &Outcome::Sent);
            }
            Err(StorageError::LostClaim(id)) => {
                tracing::warn!(
                    id,
                    "sent a message after losing the claim: it may be sent twice"
                );
            }
            Err(e) => {
                if let Some(c) = &claimed {
                    release(ctx, c).await;
                }
                return Err(Stop::Storage(e));
            }
        }
    }
    Ok(claimed)
}
