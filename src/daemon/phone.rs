//! One phone's task: connect (with backoff), then serve the modem until it goes away:
//! receive on `+CMTI` and on a periodic sweep, send on every wake-up, refresh the status,
//! reset on schedule; reconnect after an unplug, a hang or a reset.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::modem::{fleet, wait_for_device, Modem, ModemConfig, ModemError, ModemEvent};
use crate::service::PhoneStatus;
use crate::sim::{Sim, SimConfig};

use super::{outbound, phone_inbound, PhoneCtx};

const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// After an error only a person can fix (PIN rejected, SIM locked), how often to look again.
const OPERATOR_WAIT: Duration = Duration::from_secs(300);
/// The longest a phone bound by identity waits before it looks for its modem again.
const FLEET_LOOK: Duration = Duration::from_secs(5);

fn modem_config(ctx: &PhoneCtx) -> ModemConfig {
    let p = &ctx.phone;
    let mut m = ModemConfig::new(&p.id, &p.device);
    m.baud = p.baud;
    m.pin = p.pin.clone();
    m.state_dir = ctx.cfg.daemon.state_dir.clone();
    m.command_timeout = Duration::from_secs(p.command_timeout);
    m.send_timeout = Duration::from_secs(p.send_timeout);
    m.vendor_init = p.vendor_init.clone();
    m.cnmi = p.cnmi.clone();
    m
}

/// The simulated modem behind `device = "sim"`: it greets with one message.
pub fn demo_sim() -> Sim {
    let welcome = crate::sim::deliver_pdus(
        "smsgw",
        "Welcome to smsgw! This message came from the simulated modem. Try: smsgw inject -c contrib/demo.toml TEXT +48600100200 --text 'Hello'",
        1,
        "+48602000000",
    )
    .unwrap_or_default();
    Sim::new(SimConfig {
        inbox: welcome,
        ..SimConfig::default()
    })
}

/// The modem identity the phone is bound to (`device = "imei:..."`), if it is.
fn bound_to(ctx: &PhoneCtx) -> Option<fleet::Device> {
    fleet::Device::parse(&ctx.phone.device)
        .ok()
        .filter(fleet::Device::is_identity)
}

/// The device paths of the other phones: a phone looking for its modem leaves them alone.
fn others_paths(ctx: &PhoneCtx) -> Vec<std::path::PathBuf> {
    ctx.cfg
        .phones
        .iter()
        .filter(|p| p.id != ctx.phone.id && p.device.starts_with('/'))
        .map(|p| std::path::PathBuf::from(&p.device))
        .collect()
}

async fn connect(
    ctx: &PhoneCtx,
    sim: Option<&Sim>,
    bound: Option<&fleet::Device>,
) -> Result<Modem, ModemError> {
    let cfg = modem_config(ctx);
    let mut modem = match (sim, bound) {
        (Some(s), _) => Modem::on_port(cfg, s.connect()),
        (None, Some(wanted)) => {
            fleet::find(
                wanted,
                &ctx.cfg.daemon.modem_search,
                &others_paths(ctx),
                &cfg,
            )
            .await?
        }
        (None, None) => Modem::open(cfg).await?,
    };
    match modem.init().await {
        Ok(()) => Ok(modem),
        Err(e) => {
            modem.close().await;
            Err(e)
        }
    }
}

/// Gammu's RunOnFailure with `INIT`: the modem could not be connected.
fn on_failure_init(ctx: &PhoneCtx) {
    if let Some(cmd) = &ctx.cfg.hooks.run_on_failure {
        let env = vec![("PHONE_ID".to_string(), ctx.phone.id.clone())];
        super::hooks::spawn(
            "run_on_failure",
            cmd.clone(),
            vec!["INIT".to_string()],
            env,
            Duration::from_secs(ctx.cfg.hooks.timeout),
        );
    }
}

/// A USSD request from the control socket; codes that arrived meanwhile are handled after.
async fn ussd(
    modem: &mut Modem,
    ctx: &mut PhoneCtx,
    code: &str,
    store: bool,
    reply: tokio::sync::oneshot::Sender<Result<String, String>>,
) -> Result<(), String> {
    let (answer, others) = modem.ussd(code, Duration::from_secs(30)).await;
    let link_down = answer.as_ref().is_err_and(|e| e.is_link_down());
    if let (Ok(text), true) = (&answer, store) {
        // Gammu stores USSD answers in the inbox with class 127.
        let part = crate::service::InboxPart {
            phone_id: ctx.phone.id.clone(),
            sender: code.to_string(),
            smsc: String::new(),
            received: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            coding: crate::service::Coding::Default,
            udh_hex: String::new(),
            text_hex: crate::compose::ucs2_hex(text),
            text_decoded: text.clone(),
            class: 127,
        };
        if let Err(e) = ctx.storage.save_inbox(&[part], &[]).await {
            tracing::warn!(phone = %ctx.phone.id, "cannot store the USSD answer: {e}");
        }
    }
    let _ = reply.send(answer.map_err(|e| e.to_string()));
    after_ussd(modem, ctx, others, link_down).await
}

/// Asks `balance_code` and puts the answer on the board (monitor, metrics).
async fn check_balance(modem: &mut Modem, ctx: &mut PhoneCtx) -> Result<(), String> {
    let Some(code) = ctx.phone.balance_code.clone() else {
        return Ok(());
    };
    let every = Duration::from_secs(ctx.phone.balance_frequency.max(60));
    ctx.balance_due = tokio::time::Instant::now() + every;
    let (answer, others) = modem.ussd(&code, Duration::from_secs(30)).await;
    let link_down = answer.as_ref().is_err_and(|e| e.is_link_down());
    match &answer {
        Ok(text) => {
            tracing::info!(phone = %ctx.phone.id, "balance ({code}): {text}");
            let at = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
            ctx.board.update(&ctx.phone.id, |p| {
                p.balance = text.clone();
                p.balance_at = at;
            });
        }
        Err(e) => tracing::warn!(phone = %ctx.phone.id, "balance check {code} failed: {e}"),
    }
    after_ussd(modem, ctx, others, link_down).await
}

/// Handles what arrived while waiting for a USSD answer.
async fn after_ussd(
    modem: &mut Modem,
    ctx: &mut PhoneCtx,
    others: Vec<ModemEvent>,
    link_down: bool,
) -> Result<(), String> {
    let mut sweep_after = false;
    for e in others {
        match e {
            ModemEvent::Direct { pdu, .. } => {
                phone_inbound::direct(modem, ctx, &pdu).await;
            }
            ModemEvent::NewMessage { .. } | ModemEvent::NewReport { .. } => sweep_after = true,
            _ => {}
        }
    }
    if link_down {
        return Err("the link went down during a USSD request".into());
    }
    if sweep_after && ctx.phone.receive {
        sweep(modem, ctx).await?;
    }
    Ok(())
}

fn publish_counters(ctx: &PhoneCtx) {
    let c = ctx.counters;
    ctx.board.update(&ctx.phone.id, |p| {
        p.sent = c.sent;
        p.received = c.received;
        p.failed = c.failed;
        p.delivered = c.delivered;
        p.undelivered = c.undelivered;
    });
}

/// Why serving a connected modem ended.
enum End {
    Stop,
    Suspend,
    Reconnect(String),
}

/// Runs the phone until `stop` turns true; while `suspended` is true the modem is released.
pub async fn run(
    mut ctx: PhoneCtx,
    mut stop: watch::Receiver<bool>,
    mut suspended: watch::Receiver<bool>,
) {
    let sim = (ctx.phone.device == "sim").then(demo_sim);
    let bound = bound_to(&ctx);
    // Sends before a restart still count against the limits.
    if let Some(l) = ctx.limiter.as_mut() {
        match ctx.storage.send_times(&ctx.phone.id, &l.seed_since()).await {
            Ok(times) => l.seed(&times),
            Err(e) => {
                tracing::warn!(phone = %ctx.phone.id, "cannot read earlier sends for the limits: {e}")
            }
        }
        let usage = l.usage();
        ctx.board.update(&ctx.phone.id, |p| p.limits = usage);
    }
    let mut backoff = Duration::from_secs(1);
    loop {
        if *stop.borrow() {
            return;
        }
        if *suspended.borrow() {
            ctx.board
                .update(&ctx.phone.id, |p| p.state = "suspended".into());
            tokio::select! {
                _ = async { let _ = suspended.wait_for(|s| !*s).await; } => {}
                _ = stop.changed() => return,
            }
        }
        ctx.board
            .update(&ctx.phone.id, |p| p.state = "connecting".into());
        let connected = tokio::select! {
            c = connect(&ctx, sim.as_ref(), bound.as_ref()) => c,
            _ = stop.changed() => {
                ctx.board.update(&ctx.phone.id, |p| p.state = "stopped".into());
                return;
            }
        };
        let wait = match connected {
            Ok(modem) => {
                backoff = Duration::from_secs(1);
                let id = &modem.identity;
                let port = modem.config().device.clone();
                let known = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
                tracing::info!(
                    phone = %ctx.phone.id,
                    device = %port,
                    "modem connected: {} {}, IMEI {}",
                    known(&id.manufacturer),
                    known(&id.model),
                    known(&id.imei)
                );
                ctx.board.update(&ctx.phone.id, |p| {
                    p.state = "connected".into();
                    p.error = None;
                    p.device = port.clone();
                    p.imei = modem.identity.imei.clone().unwrap_or_default();
                    p.imsi = modem.identity.imsi.clone().unwrap_or_default();
                });
                // While it is served, phones looking for their modem leave this port alone.
                let _claim = fleet::claim(&port, &ctx.phone.id);
                match serve(modem, &mut ctx, &mut stop, &mut suspended).await {
                    End::Stop => {
                        ctx.board
                            .update(&ctx.phone.id, |p| p.state = "stopped".into());
                        return;
                    }
                    End::Suspend => Duration::ZERO,
                    End::Reconnect(why) => {
                        tracing::warn!(phone = %ctx.phone.id, "reconnecting: {why}");
                        ctx.board.update(&ctx.phone.id, |p| {
                            p.state = "reconnecting".into();
                            p.error = Some(why.clone());
                        });
                        if bound.is_some() {
                            // It is looked for again wherever it comes back.
                            continue;
                        }
                        let back = tokio::select! {
                            b = wait_for_device(&ctx.phone.device, Duration::from_secs(30)) => b,
                            _ = stop.changed() => {
                                ctx.board.update(&ctx.phone.id, |p| p.state = "stopped".into());
                                return;
                            }
                        };
                        if !back && ctx.phone.device != "sim" {
                            tracing::warn!(phone = %ctx.phone.id, device = %ctx.phone.device, "the device has not come back yet");
                        }
                        Duration::from_millis(200)
                    }
                }
            }
            Err(e) if e.is_transient() => {
                // A phone bound by identity looks often while its modem is away: the hook
                // and the warning are for the first failure in a row.
                let first = backoff == Duration::from_secs(1);
                if first || bound.is_none() {
                    on_failure_init(&ctx);
                }
                ctx.board.update(&ctx.phone.id, |p| {
                    p.state = "reconnecting".into();
                    p.error = Some(e.to_string());
                });
                // A phone bound by identity looks again when a port appears, and at least
                // every few seconds (a look at ports already known is cheap).
                let max = if bound.is_some() {
                    FLEET_LOOK
                } else {
                    MAX_BACKOFF
                };
                backoff = backoff.min(max);
                if first || bound.is_none() {
                    tracing::warn!(phone = %ctx.phone.id, "cannot connect (retrying in {backoff:?}): {e}");
                } else {
                    tracing::debug!(phone = %ctx.phone.id, "cannot connect (retrying in {backoff:?}): {e}");
                }
                let w = backoff;
                backoff = (backoff * 2).min(max);
                w
            }
            Err(e) => {
                tracing::error!(phone = %ctx.phone.id, "{e}");
                on_failure_init(&ctx);
                let state = match e {
                    ModemError::PinRequired { .. } => "PIN needed",
                    ModemError::PinRejected { .. } => "PIN rejected",
                    ModemError::PukRequired { .. } => "SIM locked (PUK)",
                    _ => "needs the operator",
                };
                ctx.board.update(&ctx.phone.id, |p| {
                    p.state = state.into();
                    p.error = Some(e.to_string());
                });
                OPERATOR_WAIT
            }
        };
        let pause = async {
            match bound {
                Some(_) if wait < OPERATOR_WAIT => {
                    fleet::wait_for_change(&ctx.cfg.daemon.modem_search, wait).await
                }
                _ => tokio::time::sleep(wait).await,
            }
        };
        tokio::select! {
            _ = pause => {}
            _ = stop.changed() => {
                ctx.board.update(&ctx.phone.id, |p| p.state = "stopped".into());
                return;
            }
        }
    }
}

async fn refresh_status(modem: &mut Modem, ctx: &PhoneCtx) {
    let signal = modem
        .signal()
        .await
        .and_then(|s| s.percent)
        .map_or(-1, i32::from);
    let battery = modem.battery().await.map_or(-1, |b| i32::from(b.percent));
    let (code, name) = modem.operator().await;
    let status = PhoneStatus {
        id: ctx.phone.id.clone(),
        imei: modem
            .identity
            .imei
            .clone()
            .unwrap_or_else(|| format!("unknown-{}", ctx.phone.id)),
        imsi: modem.identity.imsi.clone().unwrap_or_default(),
        client: format!("smsgw {}", env!("CARGO_PKG_VERSION")),
        send: ctx.phone.send,
        receive: ctx.phone.receive,
        battery,
        signal,
        net_code: code.unwrap_or_else(|| "ERROR".into()),
        net_name: name.unwrap_or_else(|| "ERROR".into()),
        sent: ctx.counters.sent,
        received: ctx.counters.received,
    };
    ctx.board.update(&ctx.phone.id, |p| {
        p.signal = status.signal;
        p.battery = status.battery;
        p.network_code = status.net_code.clone();
        p.network_name = status.net_name.clone();
    });
    if let Err(e) = ctx.storage.refresh_status(&status).await {
        tracing::warn!(phone = %ctx.phone.id, "cannot write the phone status: {e}");
    }
}

async fn sweep(modem: &mut Modem, ctx: &mut PhoneCtx) -> Result<(), String> {
    match modem.list_all().await {
        Ok(listed) => {
            if phone_inbound::process(modem, ctx, listed).await.link_down {
                return Err("the link went down while receiving".into());
            }
            Ok(())
        }
        Err(e) if e.is_link_down() => Err(e.to_string()),
        Err(e) => {
            tracing::warn!(phone = %ctx.phone.id, "cannot list messages: {e}");
            Ok(())
        }
    }
}

async fn drain(
    modem: &mut Modem,
    ctx: &mut PhoneCtx,
    stop: &watch::Receiver<bool>,
) -> Result<(), String> {
    if !ctx.phone.send {
        return Ok(());
    }
    let mut route = crate::modem::ModemRoute { modem };
    match outbound::drain(&mut route, ctx, stop).await {
        outbound::Stop::Empty => {
            ctx.route_down_until = None;
            ctx.route_down_backoff = super::ROUTE_DOWN_FIRST_WAIT;
            Ok(())
        }
        outbound::Stop::RouteDown => {
            // Try again soon, sooner when the modem says it registered.
            let wait = ctx.route_down_backoff;
            ctx.route_down_until = Some(Instant::now() + wait);
            ctx.route_down_backoff = (wait * 2).min(super::ROUTE_DOWN_LONGEST_WAIT);
            tracing::info!(phone = %ctx.phone.id, "no network to send: trying again in {} s or when the modem registers", wait.as_secs());
            Ok(())
        }
        outbound::Stop::LinkDown => Err("the link went down while sending".into()),
        outbound::Stop::Storage(e) => {
            tracing::warn!(phone = %ctx.phone.id, "storage failed while sending: {e}");
            Ok(())
        }
    }
}

async fn serve(
    mut modem: Modem,
    ctx: &mut PhoneCtx,
    stop: &mut watch::Receiver<bool>,
    suspended: &mut watch::Receiver<bool>,
) -> End {
    refresh_status(&mut modem, ctx).await;
    if ctx.phone.receive {
        if let Err(why) = sweep(&mut modem, ctx).await {
            modem.close().await;
            return End::Reconnect(why);
        }
    }
    if let Err(why) = drain(&mut modem, ctx, stop).await {
        modem.close().await;
        return End::Reconnect(why);
    }
    publish_counters(ctx);
    let every = |secs: u64| {
        let period = Duration::from_secs(secs.max(1));
        let mut i = interval_at(Instant::now() + period, period);
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        i
    };
    let mut receive_tick = every(ctx.phone.receive_frequency);
    let mut status_tick = every(ctx.phone.status_frequency);
    let mut reset_tick = every(ctx.phone.reset_frequency);
    // Messages become due without anyone writing (retry timeouts, SendingDateTime in the
    // future): look again at least this often (Gammu's CommTimeout is 30 s).
    let mut send_tick = every(ctx.cfg.sending.retry_timeout.clamp(1, 30));
    let mut wake = ctx.wake.clone();
    wake.mark_unchanged();
    loop {
        let result: Result<(), String> = tokio::select! {
            _ = stop.changed() => {
                modem.close().await;
                return End::Stop;
            }
            _ = async { let _ = suspended.wait_for(|s| *s).await; } => {
                modem.close().await;
                return End::Suspend;
            }
            event = modem.next_event() => match event {
                None => Err("the modem's port closed".to_string()),
                Some(ModemEvent::NewMessage { memory, index } | ModemEvent::NewReport { memory, index }) if ctx.phone.receive => {
                    match modem.read(&memory, index).await {
                        Ok(Some(s)) => {
                            if phone_inbound::process(&mut modem, ctx, vec![s]).await.link_down {
                                Err("the link went down while receiving".to_string())
                            } else {
                                Ok(())
                            }
                        }
                        Ok(None) => Ok(()),
                        Err(e) if e.is_link_down() => Err(e.to_string()),
                        Err(e) => {
                            tracing::warn!(phone = %ctx.phone.id, "cannot read {memory} {index}: {e}");
                            Ok(())
                        }
                    }
                }
                Some(ModemEvent::Direct { pdu, .. }) => {
                    if phone_inbound::direct(&mut modem, ctx, &pdu).await.link_down {
                        Err("the link went down while receiving".to_string())
                    } else {
                        Ok(())
                    }
                }
                Some(ModemEvent::Caller(number)) => {
                    if let Some(cmd) = &ctx.cfg.hooks.run_on_incoming_call {
                        let env = vec![("PHONE_ID".to_string(), ctx.phone.id.clone())];
                        super::hooks::spawn("run_on_incoming_call", cmd.clone(), vec![number], env, Duration::from_secs(ctx.cfg.hooks.timeout));
                    }
                    if ctx.phone.hangup_calls {
                        let _ = modem.hang_up().await;
                    }
                    Ok(())
                }
                Some(ModemEvent::Ring) if ctx.phone.hangup_calls => {
                    let _ = modem.hang_up().await;
                    Ok(())
                }
                Some(ModemEvent::Rebooted) => Err("the modem restarted".to_string()),
                Some(ModemEvent::Registration(r)) if r.is_registered() && ctx.route_down_until.is_some() => {
                    tracing::info!(phone = %ctx.phone.id, "the network is back: sending");
                    ctx.route_down_until = None;
                    ctx.route_down_backoff = super::ROUTE_DOWN_FIRST_WAIT;
                    drain(&mut modem, ctx, stop).await
                }
                Some(_) => Ok(()),
            },
            changed = wake.changed() => {
                if changed.is_err() {
                    modem.close().await;
                    return End::Stop;
                }
                drain(&mut modem, ctx, stop).await
            }
            Some(request) = ctx.requests.recv() => match request {
                super::Request::Ussd { code, store, reply } => ussd(&mut modem, ctx, &code, store, reply).await,
            },
            _ = send_tick.tick(), if ctx.phone.send && ctx.route_down_until.is_none() => drain(&mut modem, ctx, stop).await,
            _ = tokio::time::sleep_until(ctx.route_down_until.unwrap_or_else(Instant::now)), if ctx.route_down_until.is_some() => {
                ctx.route_down_until = None;
                drain(&mut modem, ctx, stop).await
            }
            _ = tokio::time::sleep_until(ctx.balance_due), if ctx.phone.balance_code.is_some() => check_balance(&mut modem, ctx).await,
            _ = tokio::time::sleep_until(ctx.limited_until.unwrap_or_else(tokio::time::Instant::now)), if ctx.limited_until.is_some() => drain(&mut modem, ctx, stop).await,
            _ = receive_tick.tick(), if ctx.phone.receive => {
                // URCs are lost while the port is closed or the modem is busy: sweep.
                sweep(&mut modem, ctx).await
            }
            _ = status_tick.tick(), if ctx.phone.status_frequency > 0 => {
                refresh_status(&mut modem, ctx).await;
                Ok(())
            }
            _ = reset_tick.tick(), if ctx.phone.reset_frequency > 0 => {
                tracing::info!(phone = %ctx.phone.id, "scheduled reset");
                let _ = modem.reset().await;
                Err("scheduled reset".to_string())
            }
        };
        publish_counters(ctx);
        let result = result.and_then(|()| {
            if modem.is_hung() {
                Err("the modem stopped answering".to_string())
            } else {
                Ok(())
            }
        });
        if let Err(why) = result {
            modem.close().await;
            return End::Reconnect(why);
        }
    }
}
