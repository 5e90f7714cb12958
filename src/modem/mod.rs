//! GSM 07.05 / 07.07 operations on top of [`crate::at`], a file per job: bringing the modem
//! up (`init`: identity, vendor init, PIN, storage, indications), messages (`sms`: list,
//! read, delete, send), what else the daemon asks (`status`: signal, battery, network,
//! USSD, reset, calls), unsolicited events (`events`), the modem as a route (`route`); the
//! port (`open`), replies (`parse`), error codes (`failure`), the rejected-PIN memory
//! (`pin`). It knows nothing of storage: the daemon decides what to do with messages.

mod events;
mod failure;
pub mod fleet;
mod init;
mod open;
pub mod parse;
mod pin;
pub mod profile;
mod route;
mod sms;
mod status;
pub mod text;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::at::{AtError, Channel, Final, Response, Urc};
use crate::pdu::{self, Encoded, Pdu, PduError};

pub use crate::route::{SendError, SendErrorKind};
pub use events::event;
pub use failure::{cme_kind, cms_kind};
pub use open::{holders, open, wait_for_device, Holder, OpenError, Port};
pub use parse::{Battery, PinState, Registration, Signal};
pub use pin::PinMemory;
pub use route::ModemRoute;

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
    #[error(transparent)]
    NotFound(#[from] fleet::NotFound),
}

impl ModemError {
    /// Whether waiting and reconnecting can help (as opposed to an operator fixing something).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ModemError::Open(OpenError::Missing { .. } | OpenError::Other { .. })
                | ModemError::At(_)
                | ModemError::NoAnswer { .. }
                | ModemError::NotFound(_)
        )
    }
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
    /// The vendor's ways, by what `AT+CGMI` said ([`profile::GENERIC`] until then).
    pub profile: &'static profile::Profile,
    /// Text mode and its character set, for a modem that refuses PDU mode; `None` in PDU
    /// mode.
    pub text: Option<text::Charset>,
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
            profile: &profile::GENERIC,
            text: None,
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
}
