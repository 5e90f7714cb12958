//! Opening the modem's port: a serial device (tokio-serial, exclusive access) or
//! `tcp://host:port` for a modem behind ser2net or a terminal server.

use std::io;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream to a modem.
pub trait Port: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Port for T {}

/// Why the port could not be opened, said so that a person knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{device}: no such device ({reason}): is the modem plugged in? check `ls -l /dev/serial/by-id/`")]
    Missing { device: String, reason: String },
    #[error("{device}: device busy: {}", busy_advice(holders))]
    Busy {
        device: String,
        /// Who holds it, as far as this user can see.
        holders: Vec<Holder>,
    },
    #[error("{device}: permission denied: the daemon's user must be in the group that owns the device (usually `dialout`)")]
    Permission { device: String },
    #[error("{device}: {source}")]
    Other { device: String, source: io::Error },
}

/// A process that has a device open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// Its program name (`/proc/PID/comm`), with the subcommand for smsgw (`smsgw run`,
    /// `smsgw sim`).
    pub program: String,
}

impl Holder {
    /// Whether it is smsgw's daemon.
    pub fn is_smsgw(&self) -> bool {
        self.program == "smsgw run"
    }
}

/// The processes that have `device` open (those this user may look at), its symlinks
/// resolved. For a pseudo-terminal, the program that made it (a simulator, socat, ser2net:
/// it holds the master side, and often the slave too) is the modem, not a holder.
pub fn holders(device: &Path) -> Vec<Holder> {
    let target = std::fs::canonicalize(device).unwrap_or_else(|_| device.to_path_buf());
    let pty_index = target
        .to_str()
        .and_then(|t| t.strip_prefix("/dev/pts/"))
        .map(str::to_string);
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let fds: Vec<_> = fds.flatten().collect();
        let makes_the_pty = pty_index.as_ref().is_some_and(|index| {
            fds.iter().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|t| t == Path::new("/dev/ptmx"))
                    && std::fs::read_to_string(p.path().join("fdinfo").join(fd.file_name()))
                        .is_ok_and(|info| {
                            info.lines()
                                .any(|l| l.strip_prefix("tty-index:").map(str::trim) == Some(index))
                        })
            })
        });
        if !makes_the_pty
            && fds
                .iter()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == target))
        {
            let mut program = std::fs::read_to_string(p.path().join("comm"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            if program == "smsgw" {
                let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
                let sub = cmdline
                    .split(|b| *b == 0)
                    .skip(1)
                    .map(String::from_utf8_lossy)
                    .find(|a| !a.starts_with('-'));
                if let Some(sub) = sub {
                    program = format!("smsgw {sub}");
                }
            }
            out.push(Holder { pid, program });
        }
    }
    out
}

/// What to do about a busy device, by who holds it.
fn busy_advice(holders: &[Holder]) -> String {
    if holders.is_empty() {
        return "another program holds it (one this user cannot see: `sudo fuser -v` names it). ModemManager is the usual one: stop it, or add a udev rule with ENV{ID_MM_DEVICE_IGNORE}=\"1\" for this modem (see `smsgw doctor`)".into();
    }
    let named: Vec<String> = holders
        .iter()
        .map(|h| format!("{} (PID {})", h.program, h.pid))
        .collect();
    let named = named.join(", ");
    if holders.iter().any(Holder::is_smsgw) {
        format!("held by {named}: that is smsgw itself, a daemon already running on this modem (`smsgw monitor` shows it; stop it first to use the port here)")
    } else if holders.iter().any(|h| h.program.contains("ModemManager")) {
        format!("held by {named}: stop it (`systemctl disable --now ModemManager`) or add the udev rule in contrib/99-smsgw-modem.rules (ENV{{ID_MM_DEVICE_IGNORE}}=\"1\") for this modem")
    } else {
        format!("held by {named}: close it first")
    }
}

fn classify(device: &str, e: io::Error) -> OpenError {
    let busy = || OpenError::Busy {
        device: device.to_string(),
        holders: holders(Path::new(device)),
    };
    // serialport reports a held flock/TIOCEXCL as "no device" with this text.
    if e.to_string().contains("exclusive") {
        return busy();
    }
    let device = device.to_string();
    match e.raw_os_error() {
        Some(nix::libc::ENOENT)
        | Some(nix::libc::ENODEV)
        | Some(nix::libc::ENXIO)
        | Some(nix::libc::EIO) => OpenError::Missing {
            device,
            reason: e.to_string(),
        },
        Some(nix::libc::EBUSY) => busy(),
        Some(nix::libc::EACCES) | Some(nix::libc::EPERM) => OpenError::Permission { device },
        _ => match e.kind() {
            io::ErrorKind::NotFound => OpenError::Missing {
                device,
                reason: e.to_string(),
            },
            io::ErrorKind::PermissionDenied => OpenError::Permission { device },
            _ => OpenError::Other { device, source: e },
        },
    }
}

/// Opens `device` at `baud`: `tcp://host:port`, or a serial device path.
pub async fn open(device: &str, baud: u32) -> Result<Box<dyn Port>, OpenError> {
    if let Some(addr) = device.strip_prefix("tcp://") {
        let s = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| OpenError::Other {
                device: device.to_string(),
                source: e,
            })?;
        let _ = s.set_nodelay(true);
        return Ok(Box::new(s));
    }
    // tokio-serial reports errors without their errno; a plain open first says precisely
    // why a device cannot be used (missing, busy, permission).
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
            .open(Path::new(device))
            .map_err(|e| classify(device, e))?;
    }
    let builder = tokio_serial::new(device, baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None)
        .timeout(Duration::from_secs(1));
    let mut port = tokio_serial::SerialStream::open(&builder)
        .map_err(|e| classify(device, io::Error::from(e)))?;
    // TIOCEXCL: a second opener (ModemManager's probe) gets EBUSY instead of stealing replies.
    port.set_exclusive(true)
        .map_err(|e| classify(device, io::Error::from(e)))?;
    Ok(Box::new(port))
}

/// Waits until `device` exists again (after a USB re-enumeration), up to `timeout`.
pub async fn wait_for_device(device: &str, timeout: Duration) -> bool {
    if device.starts_with("tcp://") {
        return true;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if Path::new(device).exists() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        // Device nodes appear through udev; a short poll is the portable way to wait.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
