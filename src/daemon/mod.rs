//! The daemon: one task per phone and per transport sharing one storage, woken by `inject`
//! (the control socket), by other programs' writes (PostgreSQL's `NOTIFY`, or the storage's
//! change counter polled every `poll_interval`), and by the modems' unsolicited codes. Idle
//! means asleep. This module wires them (and serves the control socket, and stops them);
//! `phone` and `phone_inbound` are a modem's side, `transport_task`, `transport_inbound` and
//! `window` a transport's; `outbound` drains the outbox through any route and `inbound`
//! stores what any route receives.

pub mod hooks;
mod inbound;
mod limit;
pub mod metrics;
mod outbound;
mod phone;
mod phone_inbound;
pub mod pidfile;
pub mod privileges;
pub mod status;
mod transport_inbound;
mod transport_task;
mod window;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

use crate::config::{Config, Phone};
use crate::service::Service;

pub use phone::demo_sim;

/// Per-phone counters, as Gammu keeps them in `phones`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub sent: u64,
    pub received: u64,
    pub failed: u64,
    /// Status reports that said delivered / failed (final).
    pub delivered: u64,
    pub undelivered: u64,
}

/// The first wait after a send failed for want of a network (doubled up to
/// [`ROUTE_DOWN_LONGEST_WAIT`]).
pub const ROUTE_DOWN_FIRST_WAIT: Duration = Duration::from_secs(2);
pub const ROUTE_DOWN_LONGEST_WAIT: Duration = Duration::from_secs(30);

/// What a phone's task works with.
pub struct PhoneCtx {
    pub phone: Phone,
    pub cfg: Arc<Config>,
    pub storage: Arc<dyn Service>,
    /// Names this daemon in claims.
    pub owner: String,
    /// Bumped when there may be something to send.
    pub wake: watch::Receiver<u64>,
    pub counters: Counters,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Stored messages that do not decode (logged once).
    pub undecodable: HashSet<(String, usize, String)>,
    /// What `status` on the control socket reports.
    pub board: status::Board,
    /// `rate` and `daily_limit`, when set.
    pub limiter: Option<limit::Limiter>,
    /// Sending waits for the limiter until then.
    pub limited_until: Option<tokio::time::Instant>,
    /// The route was down (no network): sending waits until then, or until the modem
    /// says it registered again.
    pub route_down_until: Option<tokio::time::Instant>,
    /// The next wait after a route-down send (doubles up to 30 s, back to 2 s once sent).
    pub route_down_backoff: Duration,
    /// Requests for this phone from the control socket (USSD).
    pub requests: tokio::sync::mpsc::UnboundedReceiver<Request>,
    /// When `balance_code` is asked next (kept across reconnects so a flapping modem is
    /// not asked on every connect).
    pub balance_due: tokio::time::Instant,
}

impl PhoneCtx {
    /// A context for another task of the same route (a sender of an SMPP window, the task
    /// storing what the route receives): the same route, storage and board, its own
    /// counters, no control requests. A route with a rate limit has one sender only.
    pub fn lane(&self) -> PhoneCtx {
        PhoneCtx {
            phone: self.phone.clone(),
            cfg: self.cfg.clone(),
            storage: self.storage.clone(),
            owner: self.owner.clone(),
            wake: self.wake.clone(),
            counters: Counters::default(),
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            undecodable: HashSet::new(),
            board: self.board.clone(),
            limiter: None,
            limited_until: None,
            route_down_until: None,
            route_down_backoff: ROUTE_DOWN_FIRST_WAIT,
            requests: tokio::sync::mpsc::unbounded_channel().1,
            balance_due: self.balance_due,
        }
    }
}

/// Something asked of one phone through the control socket.
#[derive(Debug)]
pub enum Request {
    /// Send a USSD code; the answer (or why not) goes back on `reply`. With `store`, the
    /// answer is also saved in the inbox as Gammu does (class 127).
    Ussd {
        code: String,
        store: bool,
        reply: tokio::sync::oneshot::Sender<Result<String, String>>,
    },
}

/// The request queues of the running phones, by PhoneID.
type Phones = Arc<
    std::sync::Mutex<
        std::collections::HashMap<String, tokio::sync::mpsc::UnboundedSender<Request>>,
    >,
>;

fn read_numbers(file: &Option<std::path::PathBuf>) -> Vec<String> {
    let Some(path) = file else { return Vec::new() };
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        Err(e) => {
            tracing::error!("cannot read {}: {e}", path.display());
            Vec::new()
        }
    }
}

/// Serves the control socket: `wake` (sent by `inject`) wakes the senders, `status` answers
/// one line of JSON ([`status::Status`]), `suspend`, `resume` and `reload` act as SIGUSR1,
/// SIGUSR2 and SIGHUP do.
async fn control(
    path: &Path,
    wake: watch::Sender<u64>,
    board: status::Board,
    storage: Arc<dyn Service>,
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    phones: Phones,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A socket left by a daemon that died: ours now.
    if std::os::unix::net::UnixStream::connect(path).is_err() {
        let _ = std::fs::remove_file(path);
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    loop {
        let (stream, _) = listener.accept().await?;
        let (wake, board, storage, commands, phones) = (
            wake.clone(),
            board.clone(),
            storage.clone(),
            commands.clone(),
            phones.clone(),
        );
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = tokio::io::BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match line.trim() {
                    "wake" => wake.send_modify(|n| *n = n.wrapping_add(1)),
                    "status" => {
                        let st = status::Status {
                            storage: match storage.health().await {
                                Ok(()) => "up".into(),
                                Err(e) => format!("down: {e}"),
                            },
                            phones: board.phones(),
                        };
                        let mut text = serde_json::to_string(&st).unwrap_or_else(|_| "{}".into());
                        text.push('\n');
                        if tokio::io::AsyncWriteExt::write_all(&mut write, text.as_bytes())
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    l if l.starts_with("ussd ") => {
                        let mut words = l.split_whitespace().skip(1);
                        let (phone, code) =
                            (words.next().unwrap_or(""), words.next().unwrap_or(""));
                        let store = words.next() == Some("store");
                        let queue = phones
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get(phone)
                            .cloned();
                        let answer = match queue {
                            None => Err(format!("no phone {phone:?} in this daemon")),
                            Some(q) => {
                                let (tx, rx) = tokio::sync::oneshot::channel();
                                let _ = q.send(Request::Ussd {
                                    code: code.to_string(),
                                    store,
                                    reply: tx,
                                });
                                match tokio::time::timeout(Duration::from_secs(60), rx).await {
                                    Ok(Ok(r)) => r,
                                    _ => Err(format!(
                                        "phone {phone} did not answer (is it connected?)"
                                    )),
                                }
                            }
                        };
                        let v = match answer {
                            Ok(a) => {
                                serde_json::json!({ "phone": phone, "code": code, "answer": a })
                            }
                            Err(e) => {
                                serde_json::json!({ "phone": phone, "code": code, "error": e })
                            }
                        };
                        let _ = tokio::io::AsyncWriteExt::write_all(
                            &mut write,
                            format!("{v}\n").as_bytes(),
                        )
                        .await;
                    }
                    cmd @ ("suspend" | "resume" | "reload") => {
                        let c = match cmd {
                            "suspend" => Command::Suspend,
                            "resume" => Command::Resume,
                            _ => Command::Reload,
                        };
                        let _ = commands.send(c);
                        let _ = tokio::io::AsyncWriteExt::write_all(&mut write, b"{\"ok\":true}\n")
                            .await;
                    }
                    other => {
                        let msg = format!(
                            "{{\"error\":\"unknown command {other:?}: wake, status, suspend, resume, reload\"}}\n"
                        );
                        let _ =
                            tokio::io::AsyncWriteExt::write_all(&mut write, msg.as_bytes()).await;
                    }
                }
            }
        });
    }
}

/// `host:pid:phone` owners on this host whose process is gone.
fn dead_local_owners(owners: &[String], host: &str) -> Vec<String> {
    owners
        .iter()
        .filter(|o| {
            let mut it = o.splitn(3, ':');
            let (h, pid) = (
                it.next().unwrap_or(""),
                it.next().and_then(|p| p.parse::<i32>().ok()),
            );
            match pid {
                Some(pid) if h == host && pid > 0 && pid as u32 != std::process::id() => {
                    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
                        == Err(nix::errno::Errno::ESRCH)
                }
                _ => false,
            }
        })
        .cloned()
        .collect()
}

/// How long a stop waits for the tasks to end their step (an AT command, a send, a hook)
/// before dropping them: well inside the 2 s a stop may take.
pub const STOP_GRACE: Duration = Duration::from_millis(1500);

/// What the daemon can be told while it runs (signals and the control socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Release the modems (SIGUSR1, `suspend`).
    Suspend,
    /// Take them back (SIGUSR2, `resume`).
    Resume,
    /// Re-read the config: phones added, removed or changed are (re)started, the others
    /// keep running (SIGHUP, `reload`).
    Reload,
}

/// How often the storage is polled for what other programs wrote.
fn poll_every_ms(cfg: &Config) -> Duration {
    Duration::from_millis(cfg.storage.poll_interval.max(1))
}

/// Runs the daemon until `stop` turns true.
pub async fn run(
    cfg: Config,
    storage: Arc<dyn Service>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (_keep, commands) = tokio::sync::mpsc::unbounded_channel();
    run_with(cfg, None, storage, stop, commands).await
}

struct Running {
    phone: Phone,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// The SMPP server's listeners (`[smpp_server] listen` and `tls_listen`), bound before
/// anything starts.
async fn smpp_listeners(
    cfg: &Config,
) -> anyhow::Result<Vec<(tokio::net::TcpListener, Option<tokio_rustls::TlsAcceptor>)>> {
    let s = &cfg.smpp_server;
    let mut out = Vec::new();
    if !s.listen.is_empty() {
        tracing::info!("SMPP server on {}", s.listen);
        out.push((
            crate::face::http::bind(&s.listen, "[smpp_server] listen").await?,
            None,
        ));
    }
    if let (false, Some(cert), Some(key)) = (s.tls_listen.is_empty(), &s.tls_cert, &s.tls_key) {
        let tls = crate::face::http::tls::acceptor("[smpp_server]", cert, key)
            .map_err(|e| anyhow::anyhow!(e))?;
        tracing::info!("SMPP server over TLS on {}", s.tls_listen);
        out.push((
            crate::face::http::bind(&s.tls_listen, "[smpp_server] tls_listen").await?,
            Some(tls),
        ));
    }
    Ok(out)
}

/// [`run`], taking [`Command`]s; `config_path` is re-read on [`Command::Reload`].
pub async fn run_with(
    cfg: Config,
    config_path: Option<std::path::PathBuf>,
    storage: Arc<dyn Service>,
    mut stop: watch::Receiver<bool>,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<Command>,
) -> anyhow::Result<()> {
    let mut cfg = Arc::new(cfg);
    // The faces' ports first: one that is taken stops the start before anything runs.
    let http_listener = if cfg.http.listen.is_empty() {
        None
    } else {
        let tls = match (&cfg.http.tls_cert, &cfg.http.tls_key) {
            (Some(cert), Some(key)) => Some(
                crate::face::http::tls::acceptor("[http]", cert, key)
                    .map_err(|e| anyhow::anyhow!(e))?,
            ),
            _ => None,
        };
        Some((
            crate::face::http::bind(&cfg.http.listen, "[http] listen").await?,
            tls,
        ))
    };
    let smpp_listeners = smpp_listeners(&cfg).await?;
    let metrics_listener = if cfg.metrics.listen.is_empty() {
        None
    } else {
        Some(crate::face::http::bind(&cfg.metrics.listen, "[metrics] listen").await?)
    };
    let (wake_tx, wake_rx) = watch::channel(0u64);
    let (suspend_tx, suspend_rx) = watch::channel(false);
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let owner = format!("{host}:{}", std::process::id());
    // A daemon killed on this host left leases behind: its messages need not wait them out.
    if let Ok(owners) = storage.claim_owners().await {
        let dead = dead_local_owners(&owners, &host);
        if !dead.is_empty() {
            match storage.release_claims(&dead).await {
                Ok(n) => tracing::warn!(released = n, "messages claimed by a daemon that died (a crash) are sent again now; the part in flight may be sent twice"),
                Err(e) => tracing::warn!("cannot release the claims of a dead daemon: {e}"),
            }
        }
    }

    let board = status::Board::default();
    let registry: Phones = Arc::default();
    let (cmd_tx, mut socket_commands) = tokio::sync::mpsc::unbounded_channel();
    let control_path = cfg.daemon.control_socket.clone();
    let control_wake = wake_tx.clone();
    let (control_board, control_storage, control_phones) =
        (board.clone(), storage.clone(), registry.clone());
    let control_task = tokio::spawn(async move {
        if let Err(e) = control(
            &control_path,
            control_wake,
            control_board,
            control_storage,
            cmd_tx,
            control_phones,
        )
        .await
        {
            tracing::warn!("control socket {}: {e} (inject cannot wake the daemon; new messages are found within a second anyway)", control_path.display());
        }
    });
    let retention = (cfg.retention.days > 0).then(|| {
        let (storage, days) = (storage.clone(), cfg.retention.days);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
            loop {
                tick.tick().await;
                match storage.prune(days, false).await {
                    Ok((inbox, sent)) => {
                        tracing::info!(inbox, sent, days, "retention: deleted old messages")
                    }
                    Err(e) => tracing::warn!("retention: {e}"),
                }
            }
        })
    });
    // The faces: the HTTP API (and `/metrics` on a listener of its own), and the event
    // log's consumers (webhooks, dlr-url).
    let face =
        crate::face::http::Face::new(cfg.clone(), storage.clone(), board.clone(), wake_tx.clone());
    let mut face_tasks = Vec::new();
    if let Some((listener, tls)) = http_listener {
        tracing::info!(
            "HTTP API on {}://{}/ (sendsms, /api/v1, /status)",
            if tls.is_some() { "https" } else { "http" },
            cfg.http.listen
        );
        face_tasks.push(tokio::spawn(crate::face::http::serve(
            listener,
            crate::face::http::router(face.clone()),
            tls,
            cfg.http.max_connections,
            Duration::from_secs(cfg.http.timeout),
            stop.clone(),
        )));
    }
    if let Some(listener) = metrics_listener {
        tracing::info!("metrics on http://{}/metrics", cfg.metrics.listen);
        face_tasks.push(tokio::spawn(crate::face::http::serve(
            listener,
            crate::face::http::metrics_router(face.clone()),
            None,
            64,
            Duration::from_secs(10),
            stop.clone(),
        )));
    }
    let smpp_server = crate::face::smpp_server::Server::new(
        cfg.clone(),
        storage.clone(),
        board.clone(),
        wake_tx.clone(),
    );
    for (listener, tls) in smpp_listeners {
        face_tasks.push(tokio::spawn(crate::face::smpp_server::serve(
            smpp_server.clone(),
            listener,
            tls,
            stop.clone(),
        )));
    }
    // The AMQP face (vumi): consumes <name>.outbound, publishes what the event log gives it.
    let amqp =
        crate::face::amqp::Face::new(cfg.clone(), storage.clone(), board.clone(), wake_tx.clone());
    if cfg.amqp.on() {
        face_tasks.push(tokio::spawn(crate::face::amqp::run(
            amqp.clone(),
            stop.clone(),
        )));
    }
    // The event log's consumers: those of the config, and those a reload adds (an SMPP
    // account, a webhook); the pruner keeps what any of them has not passed.
    let consumer_names: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let peers = crate::face::deliver::Peers {
        smpp: Some(smpp_server.clone()),
        amqp: Some(amqp.clone()),
    };
    let (consumer_storage, consumer_stop) = (storage.clone(), stop.clone());
    let start_consumers =
        move |cfg: &Config,
              names: &std::sync::Mutex<Vec<String>>,
              tasks: &mut Vec<tokio::task::JoinHandle<()>>| {
            let mut names = names.lock().unwrap_or_else(|p| p.into_inner());
            let mut started = 0;
            for (name, target) in crate::face::deliver::consumers(cfg) {
                if names.contains(&name) {
                    continue;
                }
                names.push(name.clone());
                started += 1;
                tasks.push(tokio::spawn(crate::face::deliver::run(
                    name,
                    target,
                    consumer_storage.clone(),
                    cfg.webhooks.clone(),
                    peers.clone(),
                    poll_every_ms(cfg),
                    consumer_stop.clone(),
                )));
            }
            started
        };
    start_consumers(&cfg, &consumer_names, &mut face_tasks);
    // Events every consumer passed, an hour on (a day when none is configured).
    let prune_storage = storage.clone();
    let prune_names = consumer_names.clone();
    let event_pruner = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let names = prune_names
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let age = if names.is_empty() { 24 * 3600 } else { 3600 };
            match prune_storage.prune_events(&names, age).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(events = n, "event log pruned"),
                Err(e) => tracing::debug!("event log prune: {e}"),
            }
        }
    });
    // Rows written by other programs (Kalkun, scripts, gammu-smsd-inject).
    let poll_storage = storage.clone();
    let poll_wake = wake_tx.clone();
    let poll_every = poll_every_ms(&cfg);
    let poller = tokio::spawn(async move {
        let mut tick = tokio::time::interval(poll_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match poll_storage.outbox_changed().await {
                Ok(true) => poll_wake.send_modify(|n| *n = n.wrapping_add(1)),
                Ok(false) => {}
                Err(e) => tracing::debug!("outbox poll: {e}"),
            }
        }
    });

    // Message files dropped into the spool directory.
    let spool = if cfg.spool.dir.as_os_str().is_empty() {
        None
    } else if cfg.storage.kind == crate::config::StorageKind::Null {
        tracing::warn!(
            "spool.dir is set but the storage is null: there is no outbox to queue the files into"
        );
        None
    } else {
        match crate::spool::Spool::open(&cfg, storage.clone()) {
            Ok(sp) => Some(tokio::spawn(crate::spool::run(
                sp,
                Duration::from_secs(cfg.spool.rescan.max(1)),
                wake_tx.clone(),
                stop.clone(),
            ))),
            Err(e) => {
                tracing::error!("spool: cannot use {}: {e}", cfg.spool.dir.display());
                None
            }
        }
    };
    // Rows announced by the storage itself (PostgreSQL NOTIFY): sent at once.
    let notified = storage.changes().map(|mut changes| {
        let wake = wake_tx.clone();
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                wake.send_modify(|n| *n = n.wrapping_add(1));
            }
        })
    });

    // What a phone's task or a transport's sender starts with.
    let new_ctx =
        |phone: Phone,
         cfg: &Arc<Config>,
         requests: tokio::sync::mpsc::UnboundedReceiver<Request>| PhoneCtx {
            owner: format!("{owner}:{}", phone.id),
            limiter: limit::Limiter::new(phone.rate, phone.daily_limit),
            phone,
            cfg: cfg.clone(),
            storage: storage.clone(),
            wake: wake_rx.clone(),
            counters: Counters::default(),
            include: Vec::new(),
            exclude: Vec::new(),
            undecodable: HashSet::new(),
            board: board.clone(),
            limited_until: None,
            route_down_until: None,
            route_down_backoff: ROUTE_DOWN_FIRST_WAIT,
            balance_due: tokio::time::Instant::now(),
            requests,
        };
    let start = |p: &Phone, cfg: &Arc<Config>| {
        let mut include = cfg.receiving.include_numbers.clone();
        include.extend(read_numbers(&cfg.receiving.include_numbers_file));
        let mut exclude = cfg.receiving.exclude_numbers.clone();
        exclude.extend(read_numbers(&cfg.receiving.exclude_numbers_file));
        let mut phone = p.clone();
        if cfg.storage.kind == crate::config::StorageKind::Nav
            && cfg.inbox_storage.is_none()
            && phone.receive
        {
            tracing::warn!(phone = %p.id, "NAV's queue keeps no received messages and there is no [inbox_storage]: this phone does not receive (messages stay on the SIM)");
            phone.receive = false;
        }
        let (tx, requests) = tokio::sync::mpsc::unbounded_channel();
        registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(p.id.clone(), tx);
        let ctx = PhoneCtx {
            include,
            exclude,
            ..new_ctx(phone, cfg, requests)
        };
        let (stop_tx, stop_rx) = watch::channel(false);
        Running {
            phone: p.clone(),
            stop: stop_tx,
            task: tokio::spawn(phone::run(ctx, stop_rx, suspend_rx.clone())),
        }
    };
    let mut phones: Vec<Running> = cfg.phones.iter().map(|p| start(p, &cfg)).collect();
    // The transports' senders (members of a failover list send through their list).
    let start_senders = |cfg: &Arc<Config>| {
        let mut senders = Vec::new();
        for t in crate::transport::routes(&cfg.transports) {
            let route = match crate::transport::build(
                t,
                &cfg.transports,
                crate::transport::Secrets::Read,
            ) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("{e}");
                    continue;
                }
            };
            let ctx = new_ctx(
                Phone::route(&t.id),
                cfg,
                tokio::sync::mpsc::unbounded_channel().1,
            );
            let (stop_tx, stop_rx) = watch::channel(false);
            senders.push((
                stop_tx,
                tokio::spawn(transport_task::run(ctx, route, stop_rx)),
            ));
        }
        senders
    };
    let mut senders: Vec<(watch::Sender<bool>, tokio::task::JoinHandle<()>)> = start_senders(&cfg);
    if phones.is_empty() && senders.is_empty() {
        tracing::warn!(
            "no [[phone]] or [[transport]] in the config: nothing to send or receive with"
        );
    }
    tracing::info!(
        phones = cfg.phones.len(),
        transports = cfg.transports.len(),
        "smsgw running"
    );
    let mut outside_open = true;
    loop {
        let command = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            c = commands.recv(), if outside_open => match c {
                Some(c) => c,
                None => {
                    outside_open = false;
                    continue;
                }
            },
            Some(c) = socket_commands.recv() => c,
        };
        match command {
            Command::Suspend => {
                tracing::info!("suspended: the modems are released");
                suspend_tx.send_replace(true);
            }
            Command::Resume => {
                tracing::info!("resumed");
                suspend_tx.send_replace(false);
            }
            Command::Reload => {
                let Some(path) = &config_path else { continue };
                let new = match Config::load(path).and_then(|c| {
                    crate::transport::check(&c, crate::transport::Secrets::Read).map(|()| c)
                }) {
                    Ok(mut c) => {
                        if c.amqp.keep_connection(&cfg.amqp) {
                            tracing::warn!("reload: [amqp] url, transport_name, exchange, prefetch and the reconnection waits change at the next start");
                        }
                        Arc::new(c)
                    }
                    Err(e) => {
                        tracing::error!("reload refused, the running config stays: {e}");
                        continue;
                    }
                };
                let mut kept = Vec::new();
                for r in phones.drain(..) {
                    if new.phones.contains(&r.phone) {
                        kept.push(r);
                    } else {
                        tracing::info!(phone = %r.phone.id, "reload: stopping (removed or changed)");
                        let _ = r.stop.send(true);
                        let _ = r.task.await;
                    }
                }
                for p in &new.phones {
                    if !kept.iter().any(|r| r.phone == *p) {
                        tracing::info!(phone = %p.id, "reload: starting");
                        kept.push(start(p, &new));
                    }
                }
                phones = kept;
                if new.transports != cfg.transports {
                    tracing::info!("reload: restarting the transports");
                    for (stop, task) in senders.drain(..) {
                        let _ = stop.send(true);
                        let _ = task.await;
                    }
                    senders = start_senders(&new);
                }
                face.set_cfg(new.clone());
                smpp_server.set_cfg(new.clone());
                amqp.set_cfg(new.clone());
                // New readers of the event log (an SMPP account, a webhook) start now; a
                // webhook's changed URL needs a restart.
                if start_consumers(&new, &consumer_names, &mut face_tasks) > 0 {
                    storage.keep_events(true);
                    tracing::info!("reload: new event log consumers started");
                }
                cfg = new;
                tracing::info!(phones = phones.len(), "config reloaded");
            }
        }
    }
    // Every task is told at once; each gets until the deadline to end its step (an AT
    // command, a send, a commit), then it is dropped where it is.
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    for r in &phones {
        let _ = r.stop.send(true);
    }
    for (stop, _) in &senders {
        let _ = stop.send(true);
    }
    let tasks = phones.into_iter().map(|r| (r.phone.id, r.task)).chain(
        senders
            .into_iter()
            .map(|(_, t)| ("a transport".to_string(), t)),
    );
    for (name, mut task) in tasks {
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
            tracing::warn!(phone = %name, "did not stop within {STOP_GRACE:?}: dropped in the middle of its step (a message being sent then may go out again after the restart)");
        }
    }
    let left = hooks::finish(deadline).await;
    if left > 0 {
        tracing::warn!(hooks = left, "hooks still running at the stop: killed");
    }
    poller.abort();
    if let Some(n) = notified {
        n.abort();
    }
    if let Some(s) = spool {
        s.abort();
    }
    control_task.abort();
    event_pruner.abort();
    for mut t in face_tasks {
        if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
            t.abort();
        }
    }
    if let Some(r) = retention {
        r.abort();
    }
    let _ = std::fs::remove_file(&cfg.daemon.control_socket);
    tracing::info!("smsgw stopped");
    Ok(())
}
