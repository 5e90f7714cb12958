//! A simulated GSM modem that speaks the same AT dialect as the real ones, strict like them:
//! for tests, for demos, and for users without hardware. It runs in-process on an in-memory
//! pipe ([`Sim::connect`]) or on a pseudo-terminal ([`Sim::attach_pty`], `smsgw sim`).
//!
//! It stores received messages (preloaded or arriving live with `+CMTI`), answers `AT+CMGS`
//! with increasing TP-MRs, records every PDU it is asked to send, and plays the recipient's
//! network: a sent message that asked for a status report gets one back. Scenario options in
//! [`SimConfig`] add a PIN, failing sends, no network, delays, a hang, Huawei-style line ends
//! and URC noise, direct delivery (`+CMT`), storage limits and index 0.

mod dialect;
mod pty;
mod state;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, Notify};

use crate::pdu::{self, Address, ConcatRef, Deliver, Encoding, Scts, Submit};

pub use dialect::{Dialect, DIALECTS};
pub use pty::{PtyHandle, PtyMaster};

/// What the simulated modem is like.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// PIN the SIM asks for; `None` = no PIN. Three wrong PINs lock it (SIM PUK).
    pub pin: Option<String>,
    /// Echo at start (real modems start with `E1`).
    pub echo: bool,
    /// `ATE0` does not turn the echo off.
    pub echo_stuck: bool,
    /// Huawei style: `\r\r\n` line ends, `COMMAND NOT SUPPORT`, and `^RSSI` noise when
    /// `noise` names none.
    pub huawei: bool,
    /// Unsolicited lines dropped into every third response (a vendor's noise).
    pub noise: Vec<String>,
    /// Vendor commands answered `OK` (a profile's init), even before the PIN.
    pub accepts: Vec<String>,
    /// `AT+CPIN?` answers without a final `OK` (Wavecom).
    pub cpin_no_ok: bool,
    /// The modem cannot store incoming messages: only `+CMT`/`+CDS` direct delivery.
    pub direct_only: bool,
    /// The modem refuses PDU mode (`AT+CMGF=0`): text mode only.
    pub text_only: bool,
    /// First storage index (0 on some Vodafone/Huawei devices).
    pub index_base: usize,
    /// Slots per memory (SM, ME, SR).
    pub capacity: usize,
    /// PDUs (hex, with SMSC) in SM at start.
    pub inbox: Vec<String>,
    /// The next N sends fail with `+CMS ERROR: fail_code`.
    pub fail_sends: u32,
    pub fail_code: u16,
    /// Percent of sends that fail at random with a temporary `+CMS ERROR` (38, 41, 42,
    /// 47 or 500), from a fixed seed so that a run can be repeated.
    pub fail_percent: u8,
    /// Not registered: sends fail with `+CMS ERROR: 331` (no network service).
    pub no_network: bool,
    /// Delay before every answer.
    pub reply_delay: Duration,
    /// Extra delay before the answer to a PDU (`+CMGS: n`), like a real network.
    pub send_delay: Duration,
    /// When the status report of a message that asked for one arrives.
    pub report_delay: Duration,
    /// TP-ST of the final report (0 = delivered).
    pub report_status: u8,
    /// Send a "pending" report (TP-ST 0x20) before the final one.
    pub report_pending_first: bool,
    /// Store reports in SR memory (else SM).
    pub report_memory_sr: bool,
    /// How long the device is gone after `AT+CFUN=1,1`.
    pub reset_downtime: Duration,
    pub manufacturer: String,
    pub model: String,
    pub revision: String,
    pub imei: String,
    pub imsi: String,
    pub iccid: String,
    pub smsc: String,
    pub operator_name: String,
    pub operator_code: String,
    /// `+CSQ` rssi (0-31).
    pub signal: u8,
    /// `+CBC` charge percent.
    pub battery: u8,
    /// Append every sent PDU here as a JSON line.
    pub record: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            pin: None,
            echo: true,
            echo_stuck: false,
            huawei: false,
            noise: Vec::new(),
            accepts: Vec::new(),
            cpin_no_ok: false,
            direct_only: false,
            text_only: false,
            index_base: 1,
            capacity: 30,
            inbox: Vec::new(),
            fail_sends: 0,
            fail_code: 500,
            fail_percent: 0,
            no_network: false,
            reply_delay: Duration::ZERO,
            send_delay: Duration::ZERO,
            report_delay: Duration::from_millis(100),
            report_status: 0,
            report_pending_first: false,
            report_memory_sr: false,
            reset_downtime: Duration::from_millis(300),
            manufacturer: "smsgw".into(),
            model: "SimModem".into(),
            revision: env!("CARGO_PKG_VERSION").into(),
            imei: "490154203237518".into(),
            imsi: "260011234567890".into(),
            iccid: "8948011234567890123".into(),
            smsc: "+48602000000".into(),
            operator_name: "Sim Network".into(),
            operator_code: "26001".into(),
            signal: 20,
            battery: 80,
            record: None,
        }
    }
}

/// A PDU the modem was asked to send (also written as a JSON line to `record`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentRecord {
    pub time: String,
    /// The TP-MR the modem answered with.
    pub mr: u8,
    pub pdu: String,
    /// Decoded recipient.
    pub to: String,
    /// Decoded text (hex for 8-bit data).
    pub text: String,
    /// (sequence, total, reference) of a concatenated message.
    pub part: Option<(u8, u8, u16)>,
    /// The message asked for a status report.
    pub report: bool,
}

/// What is in the modem now.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub sent: Vec<SentRecord>,
    /// (memory, index, stat, PDU hex) of every stored message.
    pub stored: Vec<(String, usize, u8, String)>,
    /// `AT+CNMA` acknowledgements received.
    pub acks: u32,
    /// A connection is being served.
    pub connected: bool,
    /// Messages waiting for free storage.
    pub waiting: usize,
    /// PIN attempts left before the SIM locks (3 at start).
    pub pin_attempts_left: u8,
    /// The SIM is locked and wants its PUK.
    pub puk_locked: bool,
    /// PDUs the modem was given, sent or refused.
    pub attempts: u32,
    /// Bare `AT` lines received, even while hanging (a client waking or re-initialising it).
    pub wakeups: u32,
    /// The command lines received, upper case, oldest first (the last thousand).
    pub commands: Vec<String>,
}

enum ConnCmd {
    Write(String),
    Unplug,
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeEnd {
    /// The other side closed it, or an I/O error.
    Closed,
    /// [`Sim::unplug`].
    Unplugged,
    /// `AT+CFUN=1,1`: the device goes away for `reset_downtime`.
    Reset,
}

struct Inner {
    state: Mutex<state::State>,
    conn: Mutex<Option<mpsc::UnboundedSender<ConnCmd>>>,
    hang: AtomicBool,
    changed: Notify,
}

/// A simulated modem. Cheap to clone; clones share the modem.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sim {
    pub fn new(cfg: SimConfig) -> Sim {
        Sim {
            inner: Arc::new(Inner {
                state: Mutex::new(state::State::new(cfg)),
                conn: Mutex::new(None),
                hang: AtomicBool::new(false),
                changed: Notify::new(),
            }),
        }
    }

    /// An in-process connection (for tests and `device = "sim"`).
    pub fn connect(&self) -> DuplexStream {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let sim = self.clone();
        tokio::spawn(async move { sim.serve(b).await });
        a
    }

    /// What is in the modem now.
    pub fn snapshot(&self) -> Snapshot {
        let s = lock(&self.inner.state);
        Snapshot {
            sent: s.sent.clone(),
            stored: s
                .memories
                .iter()
                .flat_map(|(name, m)| {
                    m.slots
                        .iter()
                        .map(move |(i, st)| (name.clone(), *i, st.stat, st.pdu.clone()))
                })
                .collect(),
            acks: s.acks,
            connected: lock(&self.inner.conn).is_some(),
            waiting: s.waiting.len(),
            pin_attempts_left: s.pin_attempts,
            puk_locked: s.lock == state::Lock::Puk,
            attempts: s.attempts,
            wakeups: s.wakeups,
            commands: s.commands.clone(),
        }
    }

    /// Waits until `pred` holds for the modem's state, or `timeout` passes.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        pred: impl Fn(&Snapshot) -> bool,
    ) -> Result<Snapshot, Snapshot> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.changed.notified();
            let snap = self.snapshot();
            if pred(&snap) {
                return Ok(snap);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(self.snapshot());
            }
        }
    }

    fn changed(&self) {
        self.inner.changed.notify_waiters();
    }

    fn push(&self, text: String) {
        if let Some(tx) = lock(&self.inner.conn).as_ref() {
            let _ = tx.send(ConnCmd::Write(text));
        }
    }

    /// A message arrives from the network (hex PDU with SMSC): stored with `+CMTI`, or sent
    /// with `+CMT` in direct mode.
    pub fn deliver(&self, pdu_hex: &str) {
        let urc = lock(&self.inner.state).arrive(pdu_hex.trim().to_ascii_uppercase());
        if let Some(u) = urc {
            self.push(u);
        }
        self.changed();
    }

    /// Delivers `text` from `from` as one or more SMS-DELIVER PDUs (concatenated with
    /// `reference` when long). Returns the PDUs.
    pub fn deliver_text(
        &self,
        from: &str,
        text: &str,
        reference: u8,
    ) -> Result<Vec<String>, pdu::EncodeError> {
        let pdus = deliver_pdus(from, text, reference, &lock(&self.inner.state).cfg.smsc)?;
        for p in &pdus {
            self.deliver(p);
        }
        Ok(pdus)
    }

    /// Drops the current connection, as pulling the USB plug does.
    pub fn unplug(&self) {
        if let Some(tx) = lock(&self.inner.conn).as_ref() {
            let _ = tx.send(ConnCmd::Unplug);
        }
    }

    /// Stops answering (true) or answers again (false).
    pub fn set_hang(&self, hang: bool) {
        self.inner.hang.store(hang, Ordering::SeqCst);
    }

    /// Sends the next `n` messages into `+CMS ERROR: code`.
    pub fn fail_next_sends(&self, n: u32, code: u16) {
        let mut s = lock(&self.inner.state);
        s.failures_left = n;
        s.cfg.fail_code = code;
    }

    /// Takes the network away (sends fail with `+CMS ERROR: 331`) or gives it back.
    pub fn set_network(&self, registered: bool) {
        let urc = {
            let mut s = lock(&self.inner.state);
            let changed = s.cfg.no_network == registered;
            s.cfg.no_network = !registered;
            changed && s.creg_urc > 0
        };
        // As a modem told AT+CREG=1 does: 1 registered (home network), 0 not searching.
        if urc {
            self.push(format!("\r\n+CREG: {}\r\n", u8::from(registered)));
        }
    }

    /// Rings with caller id `number`.
    pub fn ring(&self, number: &str) {
        self.push(format!("\r\nRING\r\n\r\n+CLIP: \"{number}\",145,,,,0\r\n"));
    }

    fn reset_downtime(&self) -> Duration {
        lock(&self.inner.state).cfg.reset_downtime
    }

    fn record(&self, rec: &SentRecord) {
        let path = lock(&self.inner.state).cfg.record.clone();
        let Some(path) = path else { return };
        let line = match serde_json::to_string(rec) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("sim: cannot serialise a sent record: {e}");
                return;
            }
        };
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            tracing::warn!("sim: cannot append to {}: {e}", path.display());
        }
    }

    /// Serves one connection until it closes, is unplugged, or the modem resets.
    pub async fn serve<T: AsyncRead + AsyncWrite>(&self, io: T) -> ServeEnd {
        let (tx, mut rx) = mpsc::unbounded_channel();
        *lock(&self.inner.conn) = Some(tx);
        self.changed();
        let end = self.serve_inner(io, &mut rx).await;
        *lock(&self.inner.conn) = None;
        if end == ServeEnd::Reset {
            lock(&self.inner.state).reboot();
        }
        self.changed();
        end
    }

    async fn serve_inner<T: AsyncRead + AsyncWrite>(
        &self,
        io: T,
        rx: &mut mpsc::UnboundedReceiver<ConnCmd>,
    ) -> ServeEnd {
        let (mut r, mut w) = tokio::io::split(io);
        let mut buf = [0u8; 4096];
        let mut line = Vec::new();
        // Some(n) while reading a PDU of n TPDU octets after the prompt.
        let mut pdu_mode: Option<usize> = None;
        loop {
            let n = tokio::select! {
                read = r.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return ServeEnd::Closed,
                    Ok(n) => n,
                },
                cmd = rx.recv() => match cmd {
                    Some(ConnCmd::Write(text)) => {
                        if w.write_all(text.as_bytes()).await.is_err() {
                            return ServeEnd::Closed;
                        }
                        continue;
                    }
                    Some(ConnCmd::Unplug) | None => return ServeEnd::Unplugged,
                },
            };
            let hang = self.inner.hang.load(Ordering::SeqCst);
            let (echo, reply_delay) = {
                let s = lock(&self.inner.state);
                (s.echo, s.cfg.reply_delay)
            };
            if echo && !hang {
                let _ = w.write_all(&buf[..n]).await;
            }
            for &b in &buf[..n] {
                if let Some(len) = pdu_mode {
                    match b {
                        0x1A => {
                            pdu_mode = None;
                            let text = String::from_utf8_lossy(&line).into_owned();
                            line.clear();
                            if hang {
                                continue;
                            }
                            let (outcome, rec, send_delay) = {
                                let mut s = lock(&self.inner.state);
                                let before = s.sent.len();
                                let o = s.submit(len, &text);
                                let rec = (s.sent.len() > before).then(|| s.sent[before].clone());
                                (o, rec, s.cfg.send_delay)
                            };
                            if let Some(rec) = &rec {
                                self.record(rec);
                            }
                            tokio::time::sleep(reply_delay + send_delay).await;
                            if w.write_all(outcome.out.as_bytes()).await.is_err() {
                                return ServeEnd::Closed;
                            }
                            self.schedule_reports(outcome.reports);
                            self.changed();
                        }
                        0x1B => {
                            pdu_mode = None;
                            line.clear();
                            lock(&self.inner.state).pending_text = None;
                        }
                        b'\r' | b'\n' => {}
                        _ if line.len() < 1024 => line.push(b),
                        _ => {}
                    }
                    continue;
                }
                match b {
                    b'\r' => {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        line.clear();
                        if text.trim().eq_ignore_ascii_case("AT") {
                            lock(&self.inner.state).wakeups += 1;
                            self.changed();
                        }
                        if hang || text.trim().is_empty() {
                            continue;
                        }
                        let outcome = lock(&self.inner.state).handle(&text);
                        if !reply_delay.is_zero() {
                            tokio::time::sleep(reply_delay).await;
                        }
                        let mut out = outcome.out;
                        if outcome.prompt.is_some() {
                            out.push_str("\r\n> ");
                        }
                        for u in &outcome.urcs {
                            out.push_str(u);
                        }
                        if w.write_all(out.as_bytes()).await.is_err() {
                            return ServeEnd::Closed;
                        }
                        let _ = w.flush().await;
                        pdu_mode = outcome.prompt;
                        self.changed();
                        if outcome.vanish {
                            return ServeEnd::Reset;
                        }
                    }
                    b'\n' | 0x1B => {}
                    _ if line.len() < 1024 => line.push(b),
                    _ => {}
                }
            }
            let _ = w.flush().await;
        }
    }

    fn schedule_reports(&self, reports: Vec<String>) {
        if reports.is_empty() {
            return;
        }
        let sim = self.clone();
        tokio::spawn(async move {
            let delay = lock(&sim.inner.state).cfg.report_delay;
            for r in reports {
                tokio::time::sleep(delay).await;
                let urc = lock(&sim.inner.state).arrive_report(r);
                if let Some(u) = urc {
                    sim.push(u);
                }
                sim.changed();
            }
        });
    }
}

/// SMS-DELIVER PDUs (hex, with SMSC) carrying `text` from `from`.
pub fn deliver_pdus(
    from: &str,
    text: &str,
    reference: u8,
    smsc: &str,
) -> Result<Vec<String>, pdu::EncodeError> {
    let originator = Address::parse(from)?;
    let template = Submit::new(originator.clone(), "");
    let parts = pdu::split(&template, text, Encoding::Auto, ConcatRef::Eight(reference))?;
    let scts = Scts::from_datetime(&chrono::Local::now());
    parts
        .into_iter()
        .map(|p| {
            Deliver {
                smsc: Address::number(smsc).ok(),
                more_messages: false,
                loop_prevention: false,
                reply_path: false,
                status_report_indication: false,
                originator: originator.clone(),
                pid: 0,
                dcs: p.dcs,
                scts,
                udh: p.udh,
                user_data: p.user_data,
            }
            .encode()
            .map(|e| e.to_hex())
        })
        .collect()
}
