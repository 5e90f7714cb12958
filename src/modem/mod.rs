//! GSM 07.05 / 07.07 operations on top of [`crate::at`]: init, PIN, SMS storage, sending,
//! status, reset. It knows nothing of storage: the daemon decides what to do with messages.

mod failure;
mod open;
pub mod parse;
mod pin;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::at::{AtError, Channel, Final, Response, Urc};
use crate::pdu::{self, Encoded, Pdu, PduError};

pub use crate::route::{SendError, SendErrorKind};
pub use failure::{cme_kind, cms_kind};
pub use open::{holders, open, wait_for_device, Holder, OpenError, Port};
pub use parse::{Battery, PinState, Registration, Signal};
pub use pin::PinMemory;

/// How to reach and set up one modem.
#[derive(Debug, Clone)]
pub struct ModemConfig {
    /// Gammu's PhoneID: names the modem in logs and keys its rejected-PIN memory.
    pub id: String,
    /// Serial device path or `tcp://host:port`.
    pub device: String,
    pub baud: u32,
    pub pin: Option<String>,
    /// Where the rejected-PIN memory lives.
    pub state_dir: PathBuf,
    /// Timeout of ordinary commands.
    pub command_timeout: Duration,
    /// Timeout for `+CMGS: n` after the PDU went out (networks can take tens of seconds).
    pub send_timeout: Duration,
    /// Vendor init: `None` picks by the manufacturer (Huawei: `AT^CURC=0`); `Some(list)`
    /// replaces it (an empty list sends nothing).
    pub vendor_init: Option<Vec<String>>,
    /// `AT+CNMI` settings to try first (e.g. `2,1,0,2,0`); the defaults follow.
    pub cnmi: Option<String>,
}

impl ModemConfig {
    pub fn new(id: &str, device: &str) -> ModemConfig {
        ModemConfig {
            id: id.to_string(),
            device: device.to_string(),
            baud: 115_200,
            pin: None,
            state_dir: PathBuf::from("/var/lib/smsgw"),
            command_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(60),
            vendor_init: None,
            cnmi: None,
        }
    }
}

/// What the modem says it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub revision: Option<String>,
    pub imei: Option<String>,
    pub imsi: Option<String>,
    pub iccid: Option<String>,
}

/// Where incoming messages and reports end up, as `AT+CNMI` set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored, announced with `+CMTI` (read with `AT+CMGR`, delete after the commit).
    Stored,
    /// Routed straight to us with `+CMT` (acknowledge with `AT+CNMA` after the commit).
    Direct,
    /// No notification accepted: found by the periodic sweep only.
    Sweep,
}

/// A message in the modem's storage.
#[derive(Debug, Clone)]
pub struct StoredSms {
    /// Memory (`SM`, `ME`, `SR`).
    pub memory: String,
    pub index: usize,
    /// `<stat>`: 0 unread, 1 read, 2 unsent, 3 sent; `None` when the modem left it out.
    pub stat: Option<u8>,
    /// The PDU as listed (hex, SMSC part first): kept even when it does not decode.
    pub pdu: String,
    pub decoded: Result<Pdu, PduError>,
}

/// What an unsolicited result code means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModemEvent {
    /// `+CMTI`: a message was stored.
    NewMessage {
        memory: String,
        index: usize,
    },
    /// `+CDSI`: a status report was stored.
    NewReport {
        memory: String,
        index: usize,
    },
    /// `+CMT` / `+CDS`: a message or report routed directly; acknowledge with
    /// [`Modem::ack`] after the commit.
    Direct {
        pdu: String,
        report: bool,
    },
    Ring,
    /// `+CLIP`: who is calling.
    Caller(String),
    /// `+CREG`/`+CGREG` URC.
    Registration(Registration),
    /// `+CUSD` answer text (raw value).
    Ussd(String),
    /// The modem announced a (re)boot (`^BOOT`, `RDY`, `+CFUN: 1`, `SMS Ready`): init again.
    Rebooted,
    /// Anything else.
    Other(Urc),
}

/// Why the modem cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModemError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    At(#[from] AtError),
    #[error("{device}: no answer to AT: is this the modem's AT port? (USB modems have several ports; try the others)")]
    NoAnswer { device: String },
    #[error("the SIM needs a PIN and none is configured: set `pin` for phone {id}")]
    PinRequired { id: String },
    #[error("the SIM rejected the configured PIN of phone {id}; it will not be sent again (three wrong PINs lock the SIM). Fix `pin` in the config, then restart; the memory is {memory}")]
    PinRejected { id: String, memory: String },
    #[error("the SIM of phone {id} is locked (SIM PUK): unlock it by hand with its PUK (for example `AT+CPIN=\"<PUK>\",\"<new PIN>\"`)")]
    PukRequired { id: String },
    #[error("the SIM of phone {id} asks for {what}, which smsgw does not enter")]
    OtherLock { id: String, what: String },
    #[error("no SIM card in phone {id} (or it is not seated): {detail}")]
    NoSim { id: String, detail: String },
    #[error("the modem does not support PDU mode (AT+CMGF=0): {0}")]
    NoPduMode(String),
}

impl ModemError {
    /// Whether waiting and reconnecting can help (as opposed to an operator fixing something).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ModemError::Open(OpenError::Missing { .. } | OpenError::Other { .. })
                | ModemError::At(_)
                | ModemError::NoAnswer { .. }
        )
    }
}

/// Lines of a `+CMGL`/`+CMGR` answer paired as (header value, PDU line).
fn listing<'a>(r: &'a Response, prefix: &str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut it = r.lines.iter().peekable();
    while let Some(l) = it.next() {
        if let Some(h) = crate::at::line::strip_prefix_ci(l.trim(), prefix) {
            if let Some(next) = it.peek() {
                if !next.trim_start().starts_with('+') {
                    out.push((h.trim(), next.trim()));
                    it.next();
                }
            }
        }
    }
    out
}

/// Decodes a PDU line of a listing. What phones add around the hex is dropped as libGammu
/// drops it (a trailing `,0`, quotes); what is off inside but readable is logged.
fn decode_listed(line: &str) -> Result<Pdu, PduError> {
    let mut hex = line.trim().trim_matches('"');
    while let Some(h) = hex.strip_suffix(",0") {
        hex = h;
    }
    let bytes = pdu::from_hex(hex)?;
    let (pdu, quirks) = pdu::decode_noting(&bytes, pdu::RECEIVED)?;
    for q in quirks {
        tracing::warn!(pdu = %hex, "a stored message is off, decoded what is there: {q}");
    }
    Ok(pdu)
}

/// One modem on one port.
pub struct Modem {
    cfg: ModemConfig,
    chan: Channel,
    urcs: mpsc::Receiver<Urc>,
    pub identity: Identity,
    /// SMSC number the modem reports (`AT+CSCA?`).
    pub smsc: Option<String>,
    /// Memories read by [`Modem::list_all`], `SR` included when the modem has it.
    pub read_memories: Vec<String>,
    /// Where new messages are stored (mem3).
    pub receive_memory: String,
    pub delivery: Delivery,
    /// The memory `AT+CPMS` last selected for reading.
    current_memory: Option<String>,
}

impl Modem {
    /// Opens the configured device. Nothing is sent yet: call [`Modem::init`].
    pub async fn open(cfg: ModemConfig) -> Result<Modem, ModemError> {
        let port = open(&cfg.device, cfg.baud).await?;
        Ok(Modem::on_port(cfg, port))
    }

    /// A modem on an already open byte stream (a pty, a pipe to the simulated modem).
    pub fn on_port<T>(cfg: ModemConfig, port: T) -> Modem
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let (chan, urcs) = Channel::new(port, &cfg.id);
        Modem {
            cfg,
            chan,
            urcs,
            identity: Identity::default(),
            smsc: None,
            read_memories: vec!["SM".into()],
            receive_memory: "SM".into(),
            delivery: Delivery::Sweep,
            current_memory: None,
        }
    }

    /// Three commands in a row went unanswered: the modem hangs (reconnect, or reset).
    pub fn is_hung(&self) -> bool {
        self.chan.silent_commands() >= 3
    }

    /// Closes the port and waits until it is closed, so that it can be opened again at once.
    pub async fn close(self) {
        self.chan.close().await;
    }

    pub fn config(&self) -> &ModemConfig {
        &self.cfg
    }

    /// Runs a raw command (for the daemon's extras and tests).
    pub async fn command(&mut self, cmd: &str) -> Result<Response, AtError> {
        self.chan.command(cmd, self.cfg.command_timeout).await
    }

    /// Runs a command; a failure is logged and ignored (optional features).
    async fn try_command(&mut self, cmd: &str) -> Option<Response> {
        match self.chan.command(cmd, self.cfg.command_timeout).await {
            Ok(r) if r.result.is_ok() => Some(r),
            Ok(r) => {
                tracing::debug!(phone = %self.cfg.id, "{cmd}: {}", r.result);
                None
            }
            Err(e) => {
                tracing::debug!(phone = %self.cfg.id, "{cmd}: {e}");
                None
            }
        }
    }

    /// A command that must succeed; `+CME ERROR: 14/515` (SIM or device busy, common right
    /// after the PIN) is retried with a growing delay for up to about ten seconds.
    async fn required(&mut self, cmd: &str) -> Result<Response, AtError> {
        let mut delay = Duration::from_millis(200);
        for _ in 0..8 {
            let r = self.chan.command(cmd, self.cfg.command_timeout).await?;
            match r.result.cme() {
                Some(14) | Some(515) => {
                    tracing::info!(phone = %self.cfg.id, "{cmd}: SIM busy, retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(3));
                }
                _ if r.result.is_ok() => return Ok(r),
                _ => {
                    return Err(AtError::Failed {
                        command: crate::at::line::mask_secrets(cmd).into_owned(),
                        result: r.result,
                    })
                }
            }
        }
        self.chan.ok(cmd, self.cfg.command_timeout).await
    }

    /// Brings the modem from power-on to ready for SMS: wake-up, echo off, numeric errors,
    /// identity, vendor init, PIN, PDU mode, storage, new-message indications, SMSC.
    pub async fn init(&mut self) -> Result<(), ModemError> {
        // Leave a pending `> ` prompt, then wake the modem (some need a few tries).
        let _ = self.chan.write_raw(b"\x1b\r").await;
        let mut awake = false;
        for _ in 0..3 {
            if let Ok(r) = self.chan.command("AT", Duration::from_secs(2)).await {
                if r.result.is_ok() {
                    awake = true;
                    break;
                }
            }
        }
        if !awake {
            return Err(ModemError::NoAnswer {
                device: self.cfg.device.clone(),
            });
        }
        // Echo off where the modem lets us; the channel copes either way.
        self.try_command("ATE0").await;
        if self.try_command("AT+CMEE=1").await.is_none() {
            self.try_command("AT+CMEE=2").await;
        }
        self.identify().await;
        self.vendor_init().await;
        self.unlock().await?;
        self.identity.imsi = self.single_line("AT+CIMI").await;
        let r = self
            .chan
            .command("AT+CMGF=0", self.cfg.command_timeout)
            .await?;
        if !r.result.is_ok() {
            return Err(ModemError::NoPduMode(r.result.to_string()));
        }
        self.choose_storage().await?;
        self.choose_indications().await;
        self.smsc = self
            .try_command("AT+CSCA?")
            .await
            .and_then(|r| r.info("+CSCA:").and_then(parse::csca));
        self.try_command("AT+CLIP=1").await;
        // Registration changes as URCs: a send held for "no network" goes at its return.
        self.try_command("AT+CREG=1").await;
        tracing::info!(
            phone = %self.cfg.id,
            manufacturer = self.identity.manufacturer.as_deref().unwrap_or("?"),
            model = self.identity.model.as_deref().unwrap_or("?"),
            delivery = ?self.delivery,
            memories = ?self.read_memories,
            "modem ready"
        );
        Ok(())
    }

    /// The one information line of a command (`AT+CGSN` answers the IMEI alone).
    async fn single_line(&mut self, cmd: &str) -> Option<String> {
        let r = self.try_command(cmd).await?;
        let prefix = crate::at::line::response_prefix(cmd);
        let line = r.lines.iter().find(|l| !l.trim().is_empty())?;
        let v = match prefix {
            Some(p) => crate::at::line::strip_prefix_ci(line.trim(), &p).unwrap_or(line),
            None => line,
        };
        Some(v.trim().trim_matches('"').to_string()).filter(|s| !s.is_empty())
    }

    /// Reads manufacturer, model, revision, IMEI and ICCID (each may be unsupported).
    pub async fn identify(&mut self) -> Identity {
        self.identity.manufacturer = match self.single_line("AT+CGMI").await {
            Some(m) => Some(m),
            None => self.single_line("ATI3").await,
        };
        self.identity.model = match self.single_line("AT+CGMM").await {
            Some(m) => Some(m),
            None => self.single_line("ATI4").await,
        };
        self.identity.revision = self.single_line("AT+CGMR").await;
        self.identity.imei = self.single_line("AT+CGSN").await;
        self.identity.iccid = match self.try_command("AT+CCID").await {
            Some(r) => r.lines.iter().find_map(|l| parse::iccid(l)),
            None => None,
        };
        self.identity.clone()
    }

    async fn vendor_init(&mut self) {
        let cmds = match &self.cfg.vendor_init {
            Some(list) => list.clone(),
            None => {
                let m = self
                    .identity
                    .manufacturer
                    .as_deref()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if m.contains("huawei") {
                    // Stop ^RSSI/^BOOT/^MODE noise; the channel copes if some remain.
                    vec!["AT^CURC=0".to_string()]
                } else if m.contains("zte") {
                    // As Gammu does: no CD-ROM autorun, stay on the modem's preferred mode.
                    vec!["AT+ZCDRUN=8".to_string(), "AT+ZOPRT=5".to_string()]
                } else {
                    Vec::new()
                }
            }
        };
        for c in cmds {
            self.try_command(&c).await;
        }
    }

    /// The SIM's lock state. Retries while the SIM is busy; takes the `+CPIN:` line of a
    /// modem that never sends the final `OK`.
    pub async fn pin_state(&mut self) -> Result<PinState, ModemError> {
        let mut delay = Duration::from_millis(200);
        for _ in 0..8 {
            let r = match self
                .chan
                .command("AT+CPIN?", self.cfg.command_timeout)
                .await
            {
                Ok(r) => r,
                Err(AtError::Timeout { lines, .. })
                    if lines.iter().any(|l| l.contains("+CPIN:")) =>
                {
                    Response {
                        lines,
                        result: Final::Ok,
                    }
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(v) = r.info("+CPIN:") {
                return Ok(parse::cpin(v));
            }
            match r.result.cme() {
                Some(10) | Some(13) | Some(15) => {
                    return Err(ModemError::NoSim {
                        id: self.cfg.id.clone(),
                        detail: r.result.to_string(),
                    })
                }
                Some(14) | Some(515) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(3));
                }
                _ if r.result.is_ok() => return Ok(PinState::Ready),
                _ => {
                    return Err(ModemError::At(AtError::Failed {
                        command: "AT+CPIN?".into(),
                        result: r.result,
                    }))
                }
            }
        }
        Err(ModemError::At(AtError::Failed {
            command: "AT+CPIN?".into(),
            result: Final::CmeError(crate::at::ErrorCode {
                code: Some(14),
                text: "14".into(),
            }),
        }))
    }

    /// Enters the configured PIN when the SIM asks for one, at most once per PIN and SIM.
    pub async fn unlock(&mut self) -> Result<(), ModemError> {
        let id = self.cfg.id.clone();
        let memory = PinMemory::new(&self.cfg.state_dir, &id);
        match self.pin_state().await? {
            PinState::Ready => Ok(()),
            PinState::SimPuk => Err(ModemError::PukRequired { id }),
            PinState::Other(what) => Err(ModemError::OtherLock { id, what }),
            PinState::SimPin => {
                let Some(pin) = self.cfg.pin.clone() else {
                    return Err(ModemError::PinRequired { id });
                };
                let iccid = self.identity.iccid.clone();
                if memory.rejected(iccid.as_deref(), &pin) {
                    tracing::error!(phone = %id, "not sending the PIN: the SIM rejected it before");
                    return Err(ModemError::PinRejected {
                        id,
                        memory: memory.path().display().to_string(),
                    });
                }
                let cmd = format!("AT+CPIN=\"{pin}\"");
                let r = self.chan.command(&cmd, self.cfg.command_timeout).await?;
                match r.result {
                    Final::Ok => {
                        memory.clear();
                        // The SIM is busy for a moment after the PIN: wait until it says READY.
                        match self.pin_state().await? {
                            PinState::Ready => Ok(()),
                            PinState::SimPuk => Err(ModemError::PukRequired { id }),
                            _ => Err(ModemError::PinRequired { id }),
                        }
                    }
                    ref f
                        if matches!(f.cme(), Some(16) | Some(12)) || matches!(f, Final::Error) =>
                    {
                        if let Err(e) = memory.remember(iccid.as_deref(), &pin) {
                            tracing::error!(phone = %id, "cannot remember the rejected PIN in {}: {e}", memory.path().display());
                        }
                        tracing::error!(phone = %id, "the SIM rejected the PIN ({})", r.result);
                        Err(ModemError::PinRejected {
                            id,
                            memory: memory.path().display().to_string(),
                        })
                    }
                    other => Err(ModemError::At(AtError::Failed {
                        command: "AT+CPIN=***".into(),
                        result: other,
                    })),
                }
            }
        }
    }

    async fn choose_storage(&mut self) -> Result<(), ModemError> {
        let support = match self.try_command("AT+CPMS=?").await {
            Some(r) => r.info("+CPMS:").map(parse::cpms_support),
            None => None,
        };
        let [read, _write, receive] =
            support.unwrap_or_else(|| [vec!["SM".into()], vec!["SM".into()], vec!["SM".into()]]);
        let mut memories: Vec<String> = ["SM", "ME", "MT"]
            .iter()
            .filter(|m| read.iter().any(|r| r == *m))
            .map(|m| m.to_string())
            .collect();
        // MT is SM and ME together: reading it as well would list messages twice.
        if memories.iter().any(|m| m == "SM") || memories.iter().any(|m| m == "ME") {
            memories.retain(|m| m != "MT");
        }
        if memories.is_empty() {
            memories.push(read.first().cloned().unwrap_or_else(|| "SM".into()));
        }
        if read.iter().any(|m| m == "SR") {
            memories.push("SR".into());
        }
        // New messages go where we read them; prefer the (usually larger) phone memory.
        let receive = ["ME", "SM", "MT"]
            .iter()
            .find(|m| receive.iter().any(|r| r == *m) && memories.iter().any(|x| x == *m))
            .map_or_else(|| memories[0].clone(), |m| m.to_string());
        let first = memories[0].clone();
        let cmd = format!("AT+CPMS=\"{first}\",\"{first}\",\"{receive}\"");
        if self.required(&cmd).await.is_err() {
            // Some modems take only mem1.
            self.required(&format!("AT+CPMS=\"{first}\"")).await?;
        }
        self.current_memory = Some(first);
        self.read_memories = memories;
        self.receive_memory = receive;
        Ok(())
    }

    async fn choose_indications(&mut self) {
        let mut tries: Vec<String> = self.cfg.cnmi.iter().cloned().collect();
        tries.extend(
            [
                "2,1,0,2,0",
                "2,1,0,1,0",
                "1,1,0,2,0",
                "2,1,0,0,0",
                "2,2,0,1,0",
                "2,2,0,0,0",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        for t in tries {
            if self.try_command(&format!("AT+CNMI={t}")).await.is_some() {
                let mt = t.split(',').nth(1).unwrap_or("0");
                self.delivery = match mt {
                    "1" => Delivery::Stored,
                    "2" | "3" => {
                        // Phase 2+: the network waits for our AT+CNMA, so a message is not
                        // lost if we stop before committing it.
                        self.try_command("AT+CSMS=1").await;
                        Delivery::Direct
                    }
                    _ => Delivery::Sweep,
                };
                return;
            }
        }
        tracing::warn!(phone = %self.cfg.id, "the modem accepts no AT+CNMI setting: new messages are found by the periodic sweep only");
        self.delivery = Delivery::Sweep;
    }

    async fn select_memory(&mut self, memory: &str) -> Result<(), AtError> {
        if self.current_memory.as_deref() == Some(memory) {
            return Ok(());
        }
        self.required(&format!("AT+CPMS=\"{memory}\"")).await?;
        self.current_memory = Some(memory.to_string());
        Ok(())
    }

    /// Every message in one memory (`AT+CMGL=4`).
    pub async fn list(&mut self, memory: &str) -> Result<Vec<StoredSms>, AtError> {
        self.select_memory(memory).await?;
        let r = self.required("AT+CMGL=4").await?;
        let mut out = Vec::new();
        for (header, pdu_hex) in listing(&r, "+CMGL:") {
            let Some((index, stat)) = parse::cmgl_header(header) else {
                tracing::warn!(phone = %self.cfg.id, "unreadable +CMGL header {header:?}: skipped");
                continue;
            };
            out.push(StoredSms {
                memory: memory.to_string(),
                index,
                stat,
                pdu: pdu_hex.to_string(),
                decoded: decode_listed(pdu_hex),
            });
        }
        Ok(out)
    }

    /// Every message in every memory we read (the periodic sweep).
    pub async fn list_all(&mut self) -> Result<Vec<StoredSms>, AtError> {
        let mut all = Vec::new();
        for m in self.read_memories.clone() {
            all.extend(self.list(&m).await?);
        }
        Ok(all)
    }

    /// One message (`AT+CMGR`); `None` when the slot is empty.
    pub async fn read(&mut self, memory: &str, index: usize) -> Result<Option<StoredSms>, AtError> {
        self.select_memory(memory).await?;
        let r = self
            .chan
            .command(&format!("AT+CMGR={index}"), self.cfg.command_timeout)
            .await?;
        if r.result.cms() == Some(321) {
            return Ok(None);
        }
        if !r.result.is_ok() {
            return Err(AtError::Failed {
                command: format!("AT+CMGR={index}"),
                result: r.result,
            });
        }
        Ok(listing(&r, "+CMGR:")
            .first()
            .map(|(header, pdu_hex)| StoredSms {
                memory: memory.to_string(),
                index,
                stat: parse::cmgr_header(header),
                pdu: pdu_hex.to_string(),
                decoded: decode_listed(pdu_hex),
            }))
    }

    /// Deletes one message. Call only after the storage committed it.
    pub async fn delete(&mut self, memory: &str, index: usize) -> Result<(), AtError> {
        self.select_memory(memory).await?;
        self.required(&format!("AT+CMGD={index}")).await.map(|_| ())
    }

    /// Acknowledges a directly routed message (`AT+CNMA`). Call only after the commit.
    pub async fn ack(&mut self) -> Result<(), AtError> {
        self.chan
            .ok("AT+CNMA", self.cfg.command_timeout)
            .await
            .map(|_| ())
    }

    /// Sends one encoded part; returns its TP-MR. `AT+CMGS` gets the TPDU length, which does
    /// not count the SMSC part.
    pub async fn send(&mut self, pdu: &Encoded) -> Result<u8, SendError> {
        let cmd = format!("AT+CMGS={}", pdu.tpdu_len());
        let r = match self
            .chan
            .send_pdu(&cmd, &pdu.to_hex(), self.cfg.send_timeout)
            .await
        {
            Ok(r) => r,
            Err(AtError::Timeout { lines, .. }) if lines.is_empty() => {
                return Err(SendError::new(
                    SendErrorKind::Unknown,
                    format!(
                        "no answer to the PDU within {:?}: it may have been sent",
                        self.cfg.send_timeout
                    ),
                ))
            }
            Err(AtError::Timeout { lines, .. }) => {
                return Err(SendError::new(
                    SendErrorKind::Unknown,
                    format!(
                        "no final result within {:?} (got {lines:?}): it may have been sent",
                        self.cfg.send_timeout
                    ),
                ))
            }
            Err(e @ AtError::NoPrompt { .. }) => {
                return Err(SendError::new(SendErrorKind::NotSent, e.to_string()))
            }
            Err(e @ (AtError::Closed(_) | AtError::Io(_))) => {
                return Err(SendError {
                    link_down: true,
                    ..SendError::new(
                        SendErrorKind::Unknown,
                        format!("the link went down during the send: {e}"),
                    )
                })
            }
            Err(e) => return Err(SendError::new(SendErrorKind::NotSent, e.to_string())),
        };
        if !r.result.is_ok() {
            return Err(failure::from_final(&r.result));
        }
        match r.info("+CMGS:").and_then(parse::cmgs) {
            Some(mr) => Ok(mr),
            None => Err(SendError::new(
                SendErrorKind::Unknown,
                format!(
                    "the modem said OK without a valid +CMGS reference ({:?})",
                    r.lines
                ),
            )),
        }
    }

    /// Signal quality, `None` when unsupported.
    pub async fn signal(&mut self) -> Option<Signal> {
        let r = self.try_command("AT+CSQ").await?;
        r.info("+CSQ:")
            .or_else(|| r.lines.first().map(String::as_str))
            .and_then(parse::csq)
    }

    /// Battery, `None` when unsupported (most USB modems).
    pub async fn battery(&mut self) -> Option<Battery> {
        let r = self.try_command("AT+CBC").await?;
        r.info("+CBC:").and_then(parse::cbc)
    }

    /// Circuit-switched (then packet) registration, `None` when unsupported.
    pub async fn registration(&mut self) -> Option<Registration> {
        for (cmd, prefix) in [("AT+CREG?", "+CREG:"), ("AT+CGREG?", "+CGREG:")] {
            if let Some(r) = self.try_command(cmd).await {
                if let Some((reg, _, _)) = r.info(prefix).and_then(|v| parse::creg(v, true)) {
                    return Some(reg);
                }
            }
        }
        None
    }

    /// The operator as (numeric code, name), each `None` when unsupported.
    pub async fn operator(&mut self) -> (Option<String>, Option<String>) {
        let mut read = Vec::new();
        for format in ["AT+COPS=3,2", "AT+COPS=3,0"] {
            let value = match self.try_command(format).await {
                Some(_) => self
                    .try_command("AT+COPS?")
                    .await
                    .and_then(|r| r.info("+COPS:").and_then(parse::cops)),
                None => None,
            };
            read.push(value);
        }
        let name = read.pop().flatten();
        (read.pop().flatten(), name)
    }

    /// Sends a USSD code (`*100#`) and waits up to `timeout` for the network's answer
    /// (`+CUSD: <m>,"<text>",<dcs>`). Other unsolicited codes arriving meanwhile are
    /// returned too, for the caller to handle.
    pub async fn ussd(
        &mut self,
        code: &str,
        timeout: Duration,
    ) -> (Result<String, AtError>, Vec<ModemEvent>) {
        let mut others = Vec::new();
        if !code
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            || code.is_empty()
        {
            return (
                Err(AtError::Failed {
                    command: format!("AT+CUSD=1,{code:?},15"),
                    result: Final::Error,
                }),
                others,
            );
        }
        let r = match self
            .chan
            .command(
                &format!("AT+CUSD=1,\"{code}\",15"),
                self.cfg.command_timeout,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return (Err(e), others),
        };
        if let Some(v) = r.info("+CUSD:") {
            return (Ok(parse::cusd(v)), others);
        }
        if !r.result.is_ok() {
            return (
                Err(AtError::Failed {
                    command: format!("AT+CUSD=1,\"{code}\",15"),
                    result: r.result,
                }),
                others,
            );
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.next_event()).await {
                Ok(Some(ModemEvent::Ussd(v))) => return (Ok(parse::cusd(&v)), others),
                Ok(Some(e)) => others.push(e),
                Ok(None) => return (Err(AtError::Closed(None)), others),
                Err(_) => {
                    return (
                        Err(AtError::Timeout {
                            command: format!("USSD {code}"),
                            timeout,
                            lines: Vec::new(),
                        }),
                        others,
                    )
                }
            }
        }
    }

    /// Restarts the modem (`AT+CFUN=1,1`). USB modems re-enumerate: treat what follows as
    /// an unplug (close, [`wait_for_device`], open, init, PIN again).
    pub async fn reset(&mut self) -> Result<(), AtError> {
        match self.chan.ok("AT+CFUN=1,1", self.cfg.command_timeout).await {
            // The modem may drop the line before its OK arrives: that is the reset.
            Err(e) if e.is_link_down() => Ok(()),
            r => r.map(|_| ()),
        }
    }

    /// Turns the radio on (`AT+CFUN=1`).
    pub async fn radio_on(&mut self) -> Result<(), AtError> {
        self.chan
            .ok("AT+CFUN=1", self.cfg.command_timeout)
            .await
            .map(|_| ())
    }

    /// Hangs up an incoming call (`AT+CHUP`, or `ATH` where that is missing).
    pub async fn hang_up(&mut self) -> Result<(), AtError> {
        match self
            .chan
            .command("AT+CHUP", self.cfg.command_timeout)
            .await?
        {
            r if r.result.is_ok() => Ok(()),
            _ => self
                .chan
                .ok("ATH", self.cfg.command_timeout)
                .await
                .map(|_| ()),
        }
    }

    /// The next unsolicited event; `None` when the port closed.
    pub async fn next_event(&mut self) -> Option<ModemEvent> {
        self.urcs.recv().await.map(|u| event(&u))
    }
}

/// What a URC means.
pub fn event(u: &Urc) -> ModemEvent {
    let name = u.name().to_ascii_uppercase();
    let v = u.value();
    match name.as_str() {
        "+CMTI" => parse::mem_index(v).map_or_else(
            || ModemEvent::Other(u.clone()),
            |(memory, index)| ModemEvent::NewMessage { memory, index },
        ),
        "+CDSI" => parse::mem_index(v).map_or_else(
            || ModemEvent::Other(u.clone()),
            |(memory, index)| ModemEvent::NewReport { memory, index },
        ),
        "+CMT" | "+CDS" => match &u.pdu {
            Some(p) => ModemEvent::Direct {
                pdu: p.clone(),
                report: name == "+CDS",
            },
            None => ModemEvent::Other(u.clone()),
        },
        "RING" | "+CRING" => ModemEvent::Ring,
        "+CLIP" => parse::clip(v).map_or(ModemEvent::Ring, ModemEvent::Caller),
        "+CREG" | "+CGREG" | "+CEREG" => parse::creg(v, false).map_or_else(
            || ModemEvent::Other(u.clone()),
            |(r, _, _)| ModemEvent::Registration(r),
        ),
        "+CUSD" => ModemEvent::Ussd(v.to_string()),
        "^BOOT" | "RDY" | "+CFUN" | "SMS READY" | "CALL READY" | "+PBREADY" => ModemEvent::Rebooted,
        _ => ModemEvent::Other(u.clone()),
    }
}

/// The modem as a route: one part at a time.
pub struct ModemRoute<'a> {
    pub modem: &'a mut Modem,
}

#[async_trait::async_trait]
impl crate::route::Transport for ModemRoute<'_> {
    fn id(&self) -> &str {
        &self.modem.cfg.id
    }

    fn max_in_flight(&self) -> usize {
        1
    }

    fn smsc(&self) -> Option<String> {
        self.modem.smsc.clone()
    }

    async fn send(
        &mut self,
        part: &crate::pdu::Submit,
    ) -> Result<crate::route::PartReceipt, SendError> {
        let encoded = part.encode().map_err(|e| {
            SendError::new(
                SendErrorKind::Rejected,
                format!("cannot encode the PDU: {e}"),
            )
        })?;
        let mr = match self.modem.send(&encoded).await {
            Ok(mr) => mr,
            // Several commands in a row unanswered: the link is dead (a device that went
            // away without an error, a hung modem); reconnect instead of trying every
            // queued message against it.
            Err(mut e) if self.modem.is_hung() => {
                e.link_down = true;
                e.reason.push_str("; the modem stopped answering");
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        Ok(crate::route::PartReceipt {
            tpmr: Some(mr),
            message_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urc(line: &str, pdu: Option<&str>) -> Urc {
        Urc {
            line: line.into(),
            pdu: pdu.map(Into::into),
        }
    }

    #[test]
    fn urcs_become_events() {
        assert_eq!(
            event(&urc("+CMTI: \"SM\",0", None)),
            ModemEvent::NewMessage {
                memory: "SM".into(),
                index: 0
            }
        );
        assert_eq!(
            event(&urc("+CDSI: \"SR\",2", None)),
            ModemEvent::NewReport {
                memory: "SR".into(),
                index: 2
            }
        );
        assert_eq!(
            event(&urc("+CDS: 25", Some("0006"))),
            ModemEvent::Direct {
                pdu: "0006".into(),
                report: true
            }
        );
        assert_eq!(
            event(&urc("+CLIP: \"+48123\",145", None)),
            ModemEvent::Caller("+48123".into())
        );
        assert_eq!(
            event(&urc("+CREG: 5", None)),
            ModemEvent::Registration(Registration::Roaming)
        );
        assert_eq!(event(&urc("^BOOT:1,0,0,0,6", None)), ModemEvent::Rebooted);
        assert!(matches!(
            event(&urc("+CMTI: garbage", None)),
            ModemEvent::Other(_)
        ));
        assert!(matches!(
            event(&urc("^RSSI: 3", None)),
            ModemEvent::Other(_)
        ));
    }

    #[test]
    fn listing_pairs_headers_with_pdus_and_skips_broken_ones() {
        let r = Response {
            lines: vec![
                "+CMGL: 0,1,,5".into(),
                "0011".into(),
                "+CMGL: 1,1,,5".into(),
                "+CMGL: 2,,,5".into(),
                "0022".into(),
            ],
            result: Final::Ok,
        };
        assert_eq!(
            listing(&r, "+CMGL:"),
            [("0,1,,5", "0011"), ("2,,,5", "0022")]
        );
    }
}
