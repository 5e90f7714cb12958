//! Draining the outbox through one route: claim, send the stored parts, record each, finish.

use std::time::{Duration, Instant};

use crate::compose::{self, SendDefaults};
use crate::pdu::Address;
use crate::route::{SendErrorKind, Transport};
use crate::service::{Outcome, PartResult, StorageError};

use super::PhoneCtx;

/// Lease of a claim (Gammu uses 60 s); renewed while a message's parts go out.
pub const LEASE_SECS: u32 = 60;
const RENEW_AFTER: Duration = Duration::from_secs(20);
/// Why sending stopped before the outbox was empty.
#[derive(Debug)]
pub enum Stop {
    /// The outbox has nothing for us now.
    Empty,
    /// The route cannot send (no network, no SIM): try again later.
    RouteDown,
    /// The modem link is gone: reconnect.
    LinkDown,
    /// The storage failed: try again on the next wake-up.
    Storage(StorageError),
}

/// Sends until the outbox has nothing for this phone.
pub async fn drain(
    route: &mut dyn Transport,
    ctx: &mut PhoneCtx,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Stop {
    loop {
        // Stopping (SIGTERM): the message in hand is finished, the rest stays queued.
        if *stop.borrow() {
            return Stop::Empty;
        }
        if let Some(l) = ctx.limiter.as_mut() {
            if let Some(wait) = l.wait() {
                // Over the route's limit: the messages stay queued until it frees up.
                ctx.limited_until = Some(tokio::time::Instant::now() + wait);
                let usage = l.usage();
                ctx.board.update(&ctx.phone.id, |p| p.limits = usage);
                return Stop::Empty;
            }
        }
        ctx.limited_until = None;
        let routes = vec![ctx.phone.id.clone()];
        let claimed = match ctx
            .storage
            .claim_outbox(&ctx.owner, &routes, 1, LEASE_SECS)
            .await
        {
            Ok(c) => c,
            Err(e) => return Stop::Storage(e),
        };
        if claimed.is_empty() {
            return Stop::Empty;
        }
        for mut out in claimed {
            if let Err(stop) = send_one(route, ctx, &mut out).await {
                return stop;
            }
        }
    }
}

/// Gammu's RunOnSent (the message went out) and RunOnFailure (an attempt failed: like
/// gammu-smsd, for every failed attempt, with `SMSGW_FINAL` `yes` when no retry is left and
/// `SMSGW_ERROR` the reason), in the background, with the message's name as argument (the
/// outbox ID, or the file's name for the files storage) and the message's environment.
pub(super) fn after(ctx: &PhoneCtx, out: &crate::service::Outgoing, outcome: &Outcome) {
    let (name, cmd, failure) = match outcome {
        Outcome::Sent => ("run_on_sent", &ctx.cfg.hooks.run_on_sent, None),
        Outcome::Retry { reason, .. } => (
            "run_on_failure",
            &ctx.cfg.hooks.run_on_failure,
            Some((reason, "no")),
        ),
        Outcome::Failed { reason, .. } => (
            "run_on_failure",
            &ctx.cfg.hooks.run_on_failure,
            Some((reason, "yes")),
        ),
        Outcome::Release { .. } => return,
    };
    let Some(cmd) = cmd else { return };
    let parts: Vec<super::hooks::PartEnv> = out
        .parts
        .iter()
        .map(|p| super::hooks::PartEnv {
            number: out.destination.clone(),
            text: p.text_decoded.clone(),
            class: p.class,
            reference: -1,
            ..Default::default()
        })
        .collect();
    let whole: String = out
        .parts
        .iter()
        .filter_map(|p| p.text_decoded.as_deref())
        .collect();
    let mut env = super::hooks::message_env(&ctx.phone.id, &parts, &[whole]);
    if let Some((reason, last)) = failure {
        env.push(("SMSGW_ERROR".into(), reason.clone()));
        env.push(("SMSGW_FINAL".into(), last.into()));
    }
    super::hooks::spawn(
        name,
        cmd.clone(),
        vec![out.name.clone()],
        env,
        Duration::from_secs(ctx.cfg.hooks.timeout),
    );
}

pub(super) async fn finish(
    ctx: &PhoneCtx,
    out: &crate::service::Outgoing,
    outcome: Outcome,
    retry_after: u32,
) -> Result<(), Stop> {
    match ctx.storage.finish_outbox(out, &outcome, retry_after).await {
        Ok(()) => {
            after(ctx, out, &outcome);
            Ok(())
        }
        Err(StorageError::LostClaim(id)) => {
            tracing::warn!(
                id,
                "lost the claim before finishing: another sender took the message over"
            );
            Ok(())
        }
        Err(e) => Err(Stop::Storage(e)),
    }
}

/// Records a part the network accepted. The part is out: if the storage is down, keep
/// trying (the lease is still ours while its value is unchanged) rather than let the
/// message be claimed and sent again; give up after a lease's length.
pub(super) async fn record(
    storage: &dyn crate::service::Service,
    out: &crate::service::Outgoing,
    seq: u32,
    result: &PartResult,
) -> Result<(), StorageError> {
    let deadline = Instant::now() + Duration::from_secs(LEASE_SECS.into());
    let mut pause = Duration::from_millis(100);
    loop {
        match storage.record_sent(out, seq, result).await {
            Err(StorageError::Unavailable(e)) if Instant::now() < deadline => {
                tracing::warn!(
                    id = %out.name,
                    part = seq,
                    "cannot record a sent part yet: {e}"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

async fn send_one(
    route: &mut dyn Transport,
    ctx: &mut PhoneCtx,
    out: &mut crate::service::Outgoing,
) -> Result<(), Stop> {
    let cfg = &ctx.cfg;
    let max_retries = cfg.sending.max_retries;
    let retry_timeout = u32::try_from(cfg.sending.retry_timeout).unwrap_or(u32::MAX);
    let storage = ctx.storage.clone();
    if out.retries > max_retries {
        // Gammu's rule: past MaxRetries the message goes to the error box.
        ctx.counters.failed += 1;
        let reason = format!("gave up after {} attempts", out.retries);
        return finish(
            ctx,
            out,
            Outcome::Failed {
                status_code: -1,
                reason,
                unusable: false,
            },
            retry_timeout,
        )
        .await;
    }
    if route.takes_text() {
        return send_text(route, ctx, out, retry_timeout).await;
    }
    if let Some(parts) = compose::split_long_row(out, out.id as u8) {
        match storage.split_outbox(out, &parts).await {
            Ok(split) => {
                tracing::info!(
                    id = %out.name,
                    parts = parts.len(),
                    "long message written back in parts before sending"
                );
                *out = split;
            }
            Err(StorageError::LostClaim(_)) => return Ok(()),
            Err(e) => return Err(Stop::Storage(e)),
        }
    }
    let defaults = SendDefaults {
        validity: cfg.sending.validity,
        delivery_reports: cfg.sending.delivery_reports,
    };
    let submits = match compose::submits(out, &defaults) {
        Ok(s) => s,
        Err(reason) => return unusable(ctx, out, reason, retry_timeout).await,
    };
    let smsc = ctx
        .phone
        .smsc
        .as_deref()
        .and_then(|s| Address::number(s).ok());
    let mut renewed = Instant::now();
    for (seq, mut submit, carried) in compose::sends(out, submits, route.whole_messages()) {
        if renewed.elapsed() > RENEW_AFTER {
            match storage.renew_claim(out, LEASE_SECS).await {
                Ok(()) => renewed = Instant::now(),
                Err(StorageError::LostClaim(id)) => {
                    tracing::warn!(id, "lost the claim while sending: stopping this message");
                    return Ok(());
                }
                Err(e) => return Err(Stop::Storage(e)),
            }
        }
        submit.smsc = smsc.clone();
        let report = submit.status_report_request;
        let started = Instant::now();
        let sent = route.send(&submit).await;
        ctx.board
            .observe_send(route.id(), started.elapsed().as_secs_f64());
        match sent {
            Ok(receipt) => {
                tracing::info!(id = %out.name, part = seq, mr = receipt.tpmr, message_id = receipt.message_id.as_deref(), to = %out.destination, route = route.id(), "sent");
                let result = PartResult::Sent {
                    route: route.id().to_string(),
                    tpmr: receipt.tpmr,
                    report,
                    smsc: ctx
                        .phone
                        .smsc
                        .clone()
                        .or_else(|| route.smsc())
                        .unwrap_or_default(),
                    message_id: receipt.message_id,
                };
                // The parts this send carried too are recorded with it, without the id.
                let mut with = result.clone();
                let PartResult::Sent { message_id, .. } = &mut with;
                *message_id = None;
                let records =
                    std::iter::once((seq, &result)).chain(carried.iter().map(|s| (*s, &with)));
                for (seq, result) in records {
                    match record(storage.as_ref(), out, seq, result).await {
                        Ok(()) => {}
                        Err(StorageError::LostClaim(id)) => {
                            tracing::warn!(
                                id,
                                "sent a part after losing the claim: it may be sent twice"
                            );
                            return Ok(());
                        }
                        Err(e) => return Err(Stop::Storage(e)),
                    }
                }
            }
            Err(f) => return failed(ctx, out, f, seq, retry_timeout).await,
        }
        ctx.counters.sent += 1;
        if let Some(l) = ctx.limiter.as_mut() {
            l.sent();
            let usage = l.usage();
            ctx.board.update(&ctx.phone.id, |p| p.limits = usage);
        }
    }
    finish(ctx, out, Outcome::Sent, retry_timeout).await
}

/// A message that cannot be sent as it is stored (it ends as `Error` with the reason).
pub(super) async fn unusable(
    ctx: &mut PhoneCtx,
    out: &crate::service::Outgoing,
    reason: String,
    retry_timeout: u32,
) -> Result<(), Stop> {
    tracing::error!(id = %out.name, "message cannot be sent: {reason}");
    ctx.counters.failed += 1;
    finish(
        ctx,
        out,
        Outcome::Failed {
            status_code: -1,
            reason,
            unusable: true,
        },
        retry_timeout,
    )
    .await
}

/// A part (or a whole text) the route did not send: retry, release or fail the message.
pub(super) async fn failed(
    ctx: &mut PhoneCtx,
    out: &crate::service::Outgoing,
    f: crate::route::SendError,
    seq: u32,
    retry_timeout: u32,
) -> Result<(), Stop> {
    let max_retries = ctx.cfg.sending.max_retries;
    let code = f.code.map_or(-1, i32::from);
    let link_down = f.link_down;
    tracing::warn!(id = %out.name, part = seq, "send failed: {f}");
    if f.kind == SendErrorKind::Unknown {
        tracing::warn!(
            id = %out.name,
            part = seq,
            "the part may have been delivered: a retry may duplicate it"
        );
    }
    let retryable = matches!(f.kind, SendErrorKind::NotSent | SendErrorKind::Unknown);
    let result = match f.kind {
        // Refused for good, or out of retries: the message ends in error.
        SendErrorKind::Rejected | SendErrorKind::NotSent | SendErrorKind::Unknown
            if !retryable || out.retries + 1 > max_retries =>
        {
            ctx.counters.failed += 1;
            finish(
                ctx,
                out,
                Outcome::Failed {
                    status_code: code,
                    reason: f.reason,
                    unusable: false,
                },
                retry_timeout,
            )
            .await
        }
        SendErrorKind::Rejected | SendErrorKind::NotSent | SendErrorKind::Unknown => {
            finish(
                ctx,
                out,
                Outcome::Retry {
                    status_code: code,
                    maybe_sent: f.kind == SendErrorKind::Unknown,
                    reason: f.reason,
                },
                retry_timeout,
            )
            .await
        }
        SendErrorKind::RouteDown => {
            // Free at once for another route; this one waits (see route_down_until).
            finish(
                ctx,
                out,
                Outcome::Release {
                    status_code: code,
                    reason: f.reason,
                },
                0,
            )
            .await?;
            Err(Stop::RouteDown)
        }
    };
    if link_down && result.is_ok() {
        return Err(Stop::LinkDown);
    }
    result
}

/// Sends a message's whole text through a route that takes texts (HTTP, mail, SOAP): one
/// send, then every part is recorded as sent with the gateway's message id.
async fn send_text(
    route: &mut dyn Transport,
    ctx: &mut PhoneCtx,
    out: &crate::service::Outgoing,
    retry_timeout: u32,
) -> Result<(), Stop> {
    let text = match compose::text(out) {
        Ok(t) => t,
        Err(reason) => return unusable(ctx, out, reason, retry_timeout).await,
    };
    let started = Instant::now();
    let sent = route
        .send_text(&out.destination, &text, &out.id.to_string())
        .await;
    ctx.board
        .observe_send(route.id(), started.elapsed().as_secs_f64());
    let receipt = match sent {
        Ok(r) => r,
        Err(f) => return failed(ctx, out, f, 1, retry_timeout).await,
    };
    tracing::info!(id = %out.name, to = %out.destination, route = route.id(), message_id = receipt.message_id.as_deref(), "sent");
    for part in out.parts.iter().filter(|p| !p.already_sent) {
        let result = PartResult::Sent {
            route: route.id().to_string(),
            tpmr: None,
            report: false,
            smsc: String::new(),
            // Gateways' ids are logged, not kept: no receipts come back by them.
            message_id: None,
        };
        match record(ctx.storage.as_ref(), out, part.seq, &result).await {
            Ok(()) => {}
            Err(StorageError::LostClaim(id)) => {
                tracing::warn!(
                    id,
                    "sent a message after losing the claim: it may be sent twice"
                );
                return Ok(());
            }
            Err(e) => return Err(Stop::Storage(e)),
        }
    }
    ctx.counters.sent += 1;
    if let Some(l) = ctx.limiter.as_mut() {
        l.sent();
        let usage = l.usage();
        ctx.board.update(&ctx.phone.id, |p| p.limits = usage);
    }
    finish(ctx, out, Outcome::Sent, retry_timeout).await
}
