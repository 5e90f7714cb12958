//! The SMPP server (`[smpp_server]`): smsgw as an SMSC in front of its routes, so that
//! SMPP applications (ESMEs: Kannel's bearerbox, Jasmin, vumi, SMPP libraries) send
//! through its modems, upstream SMSCs and HTTP gateways.
//!
//! A connection ([`session`]) binds as an account of `[[smpp_server.account]]`; its
//! `submit_sm` are read ([`read`]), long ones joined ([`join`]), and queued through the
//! faces' one [`crate::face::submit`] path: `submit_sm_resp` carries the stored message's
//! id and is sent only after the commit. Receipts and received messages come from the
//! event log ([`outbound`]), delivered by a consumer per account (`face::deliver`,
//! `smpp:<system_id>`) to one of the account's receiver or transceiver binds, and the
//! cursor moves only after the `deliver_sm_resp`.

pub mod join;
pub mod outbound;
pub mod read;
mod session;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use crate::config::Config;
use crate::daemon::status::Board;
use crate::face::http::auth::Limits;
use crate::service::Service;
use crate::smpp::pdu::{status, Sm};

/// How long a deliver_sm may wait for its place and for its answer.
const PUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// A deliver_sm for a bind, and where its `deliver_sm_resp` status goes.
pub struct Push {
    pub sm: Sm,
    pub reply: oneshot::Sender<Result<u32, String>>,
}

struct BindEntry {
    id: u64,
    /// A receiver or transceiver: it takes deliver_sm.
    receives: bool,
    tx: mpsc::Sender<Push>,
}

/// What every session and the account consumers share.
pub struct Server {
    /// The running config: accounts and their limits follow a reload (SIGHUP).
    cfg: RwLock<Arc<Config>>,
    pub storage: Arc<dyn Service>,
    pub board: Board,
    /// Wakes the senders: a message queued here goes out at once.
    wake: watch::Sender<u64>,
    limits: Limits,
    binds: Mutex<HashMap<String, Vec<BindEntry>>>,
    /// Bumped on every bind and unbind.
    changed: watch::Sender<u64>,
    next_bind: AtomicU64,
    turn: AtomicUsize,
}

impl Server {
    pub fn new(
        cfg: Arc<Config>,
        storage: Arc<dyn Service>,
        board: Board,
        wake: watch::Sender<u64>,
    ) -> Arc<Server> {
        Arc::new(Server {
            cfg: RwLock::new(cfg),
            storage,
            board,
            wake,
            limits: Limits::default(),
            binds: Mutex::default(),
            changed: watch::channel(0).0,
            next_bind: AtomicU64::new(1),
            turn: AtomicUsize::new(0),
        })
    }

    /// The config now.
    pub fn cfg(&self) -> Arc<Config> {
        self.cfg.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A reloaded config: accounts, passwords, routes and limits change now (binds made
    /// stay); the listen addresses and TLS files at the next restart.
    pub fn set_cfg(&self, cfg: Arc<Config>) {
        let mut held = self.cfg.write().unwrap_or_else(|p| p.into_inner());
        let (a, b) = (&held.smpp_server, &cfg.smpp_server);
        if a.listen != b.listen
            || a.tls_listen != b.tls_listen
            || a.tls_cert != b.tls_cert
            || a.tls_key != b.tls_key
        {
            tracing::warn!("reload: [smpp_server] listen, tls_listen and the TLS files change at the next restart; accounts and limits change now");
        }
        *held = cfg;
    }

    fn poke(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn count(&self, metric: &'static str, account: &str, n: i64) {
        self.board.count(metric, account, n);
    }

    /// Registers a bind of `account`; `None` when it holds `max_binds` already.
    fn register(
        &self,
        account: &str,
        receives: bool,
        tx: mpsc::Sender<Push>,
        max: usize,
    ) -> Option<u64> {
        let mut binds = self.binds.lock().unwrap_or_else(|p| p.into_inner());
        let list = binds.entry(account.to_string()).or_default();
        if list.len() >= max {
            return None;
        }
        let id = self.next_bind.fetch_add(1, Ordering::Relaxed);
        list.push(BindEntry { id, receives, tx });
        drop(binds);
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        self.count("smsgw_smpp_binds", account, 1);
        self.count("smsgw_smpp_binds_total", account, 1);
        Some(id)
    }

    fn unregister(&self, account: &str, id: u64) {
        let mut binds = self.binds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = binds.get_mut(account) {
            let before = list.len();
            list.retain(|b| b.id != id);
            if list.len() != before {
                self.count("smsgw_smpp_binds", account, -1);
            }
        }
        drop(binds);
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether `account` has a bind that takes deliver_sm.
    pub fn can_receive(&self, account: &str) -> bool {
        self.binds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .is_some_and(|l| l.iter().any(|b| b.receives))
    }

    /// Waits until `account` has a receiving bind (true), or `stop` (false).
    pub async fn until_receiver(&self, account: &str, stop: &mut watch::Receiver<bool>) -> bool {
        let mut changed = self.changed.subscribe();
        loop {
            if *stop.borrow() {
                return false;
            }
            if self.can_receive(account) {
                return true;
            }
            tokio::select! {
                r = changed.changed() => if r.is_err() { return false },
                () = crate::face::http::stopped(stop) => return false,
            }
        }
    }

    /// Sends `sm` as a deliver_sm to one of `account`'s receiving binds (in turn) and waits
    /// for its answer: `Ok` once the ESME took it (ESME_ROK).
    pub async fn push(&self, account: &str, sm: Sm) -> Result<(), String> {
        let tx = {
            let binds = self.binds.lock().unwrap_or_else(|p| p.into_inner());
            let receivers: Vec<&BindEntry> = binds
                .get(account)
                .map(|l| l.iter().filter(|b| b.receives).collect())
                .unwrap_or_default();
            if receivers.is_empty() {
                return Err("no receiver or transceiver bind".into());
            }
            let n = self.turn.fetch_add(1, Ordering::Relaxed);
            receivers[n % receivers.len()].tx.clone()
        };
        let (reply, answer) = oneshot::channel();
        tokio::time::timeout(PUSH_TIMEOUT, tx.send(Push { sm, reply }))
            .await
            .map_err(|_| format!("the bind took no deliver_sm for {PUSH_TIMEOUT:?}"))?
            .map_err(|_| "the bind closed".to_string())?;
        match tokio::time::timeout(PUSH_TIMEOUT, answer).await {
            Ok(Ok(Ok(status::ESME_ROK))) => Ok(()),
            Ok(Ok(Ok(st))) => Err(format!("deliver_sm answered with status 0x{st:08X}")),
            Ok(Ok(Err(why))) => Err(why),
            Ok(Err(_)) => Err("the bind closed before it answered".into()),
            Err(_) => Err(format!("no deliver_sm_resp within {PUSH_TIMEOUT:?}")),
        }
    }
}

/// Serves SMPP on `listener` (over TLS with `tls`) until `stop`; at the stop every bind is
/// sent an unbind and given a second to answer.
pub async fn serve(
    server: Arc<Server>,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let sessions = tokio_util::task::TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("smpp server: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = crate::face::http::stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let (server, stop, tls) = (server.clone(), stop.clone(), tls.clone());
        sessions.spawn(async move {
            // Acknowledged at once: see `smpp::quickack`.
            let stream = crate::smpp::quickack::QuickAck(stream);
            match tls {
                None => session::run(server, stream, peer, stop).await,
                Some(tls) => {
                    match tokio::time::timeout(Duration::from_secs(10), tls.accept(stream)).await {
                        Ok(Ok(s)) => session::run(server, s, peer, stop).await,
                        Ok(Err(e)) => tracing::info!(%peer, "smpp server: TLS handshake: {e}"),
                        Err(_) => {
                            tracing::info!(%peer, "smpp server: no TLS handshake within 10 s")
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    sessions.close();
    if tokio::time::timeout(Duration::from_millis(1500), sessions.wait())
        .await
        .is_err()
    {
        tracing::debug!("smpp server: sessions still open at the stop: dropped");
    }
}
