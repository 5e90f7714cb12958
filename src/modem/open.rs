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
    #[error("{device}: device busy: another program holds it. ModemManager is the usual one: stop it, or add a udev rule with ENV{{ID_MM_DEVICE_IGNORE}}=\"1\" for this modem (see `smsgw doctor`)")]
    Busy { device: String },
    #[error("{device}: permission denied: the daemon's user must be in the group that owns the device (usually `dialout`)")]
    Permission { device: String },
    #[error("{device}: {source}")]
    Other { device: String, source: io::Error },
}

fn classify(device: &str, e: io::Error) -> OpenError {
    let device = device.to_string();
    // serialport reports a held flock/TIOCEXCL as "no device" with this text.
    if e.to_string().contains("exclusive") {
        return OpenError::Busy { device };
    }
    match e.raw_os_error() {
        Some(nix::libc::ENOENT)
        | Some(nix::libc::ENODEV)
        | Some(nix::libc::ENXIO)
        | Some(nix::libc::EIO) => OpenError::Missing {
            device,
            reason: e.to_string(),
        },
        Some(nix::libc::EBUSY) => OpenError::Busy { device },
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
