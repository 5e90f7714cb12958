//! The sender of a `[[transport]]` (an HTTP, mail or SOAP gateway, an SMSC, or a failover
//! list): drains the outbox on every wake-up, at least every `retry_timeout` (at most 30 s)
//! for messages that become due by themselves, and when a send limit frees up. A transport
//! with a send window (SMPP) sends a batch of messages at a time over as many senders on one
//! link ([`super::window`]), and gets a task storing what it receives.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use super::{outbound, transport_inbound, window, Counters, PhoneCtx};
use crate::route::Transport;

/// Loops draining one window at once (see [`run`]): two did best in `cargo bench --bench
/// smpp` (10.1k msg/s against 4.8k with one, 8.0k with four, 6.2k with eight).
const LOOPS: usize = 2;

/// Runs until `stop` turns true.
pub async fn run(ctx: PhoneCtx, mut route: Box<dyn Transport>, stop: watch::Receiver<bool>) {
    let id = route.id().to_string();
    ctx.board.update(&id, |p| p.state = "ready".into());
    let mut others = JoinSet::new();
    if let Some(inbound) = route.take_inbound() {
        others.spawn(transport_inbound::run(ctx.lane(), inbound, stop.clone()));
    }
    let lanes: Vec<Box<dyn Transport>> = (1..route.max_in_flight())
        .filter_map(|_| route.lane())
        .collect();
    // A window is drained by LOOPS loops sharing its senders: one sends while the other's
    // batch is being committed.
    let mut senders = vec![route];
    senders.extend(lanes);
    let share = senders.len().div_ceil(LOOPS);
    while senders.len() > share {
        let group = senders.split_off(senders.len() - share);
        others.spawn(drain_loop(ctx.lane(), group, stop.clone()));
    }
    drain_loop(ctx, senders, stop).await;
    while others.join_next().await.is_some() {}
}

/// Drains (one message at a time, or a window's batch with more than one sender), then
/// waits for a reason to drain again.
async fn drain_loop(
    mut ctx: PhoneCtx,
    mut senders: Vec<Box<dyn Transport>>,
    mut stop: watch::Receiver<bool>,
) {
    let id = ctx.phone.id.clone();
    let period = Duration::from_secs(ctx.cfg.sending.retry_timeout.clamp(1, 30));
    let mut tick = interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut wake = ctx.wake.clone();
    wake.mark_unchanged();
    // What was already added to the route's counters on the board.
    let mut reported = Counters::default();
    // What is queued already.
    let mut due = true;
    loop {
        if due {
            let stopped = match senders.as_mut_slice() {
                [one] => outbound::drain(one.as_mut(), &mut ctx, &stop).await,
                _ => window::drain(&mut senders, &mut ctx, &stop).await,
            };
            match stopped {
                outbound::Stop::Empty | outbound::Stop::LinkDown => {
                    ctx.board.update(&id, |p| {
                        p.state = "ready".into();
                        p.error = None;
                    });
                }
                outbound::Stop::RouteDown => {
                    ctx.board.update(&id, |p| {
                        p.state = "down".into();
                        p.error = Some("every way out failed; the messages wait".into());
                    });
                }
                outbound::Stop::Storage(e) => {
                    tracing::warn!(transport = %id, "storage failed while sending: {e}");
                }
            }
            let c = ctx.counters;
            ctx.board.update(&id, |p| {
                p.sent += c.sent - reported.sent;
                p.failed += c.failed - reported.failed;
            });
            reported = c;
        }
        let limited = ctx.limited_until;
        due = tokio::select! {
            _ = stop.changed() => {
                ctx.board.update(&id, |p| p.state = "stopped".into());
                return;
            }
            changed = wake.changed() => {
                if changed.is_err() {
                    return;
                }
                true
            }
            _ = tick.tick() => true,
            _ = tokio::time::sleep_until(limited.unwrap_or_else(Instant::now)), if limited.is_some() => true,
        };
    }
}
