//! The simulated modem on a pseudo-terminal: a client opens the slave path (`/dev/pts/N`, or
//! a stable symlink) as it would open `/dev/ttyUSB0`.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::termios;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{ServeEnd, Sim};

/// The master side of a pseudo-terminal, as an async byte stream. It also keeps the slave
/// open, so that clients can close and reopen the slave without the master reading EIO.
pub struct PtyMaster {
    fd: AsyncFd<OwnedFd>,
    _slave: OwnedFd,
    path: PathBuf,
}

impl PtyMaster {
    /// A new pseudo-terminal in raw mode (no echo or line editing by the kernel).
    pub fn open() -> io::Result<PtyMaster> {
        let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        let mut t = termios::tcgetattr(pty.slave.as_fd()).map_err(io::Error::from)?;
        termios::cfmakeraw(&mut t);
        termios::tcsetattr(pty.slave.as_fd(), termios::SetArg::TCSANOW, &t)
            .map_err(io::Error::from)?;
        let path = nix::unistd::ttyname(pty.slave.as_fd()).map_err(io::Error::from)?;
        let flags = fcntl(pty.master.as_raw_fd(), FcntlArg::F_GETFL).map_err(io::Error::from)?;
        fcntl(
            pty.master.as_raw_fd(),
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .map_err(io::Error::from)?;
        // SAFETY: `OwnedFd` owns an open descriptor and always returns that same one; the
        // `AsyncFd` owns it until dropped.
        let fd = unsafe { AsyncFd::register(pty.master) }.map_err(io::Error::from)?;
        Ok(PtyMaster {
            fd,
            _slave: pty.slave,
            path,
        })
    }

    /// The slave's path, what a client opens.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsyncRead for PtyMaster {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard
                .try_io(|fd| nix::unistd::read(fd.as_raw_fd(), unfilled).map_err(io::Error::from))
            {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // EIO: no slave open (cannot happen while we hold one): report end of file.
                Ok(Err(e)) if e.raw_os_error() == Some(nix::libc::EIO) => {
                    return Poll::Ready(Ok(()))
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for PtyMaster {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            match guard.try_io(|fd| nix::unistd::write(fd.get_ref(), data).map_err(io::Error::from))
            {
                Ok(r) => return Poll::Ready(r),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A simulated modem being served on a pseudo-terminal.
pub struct PtyHandle {
    path: watch::Receiver<Option<PathBuf>>,
    task: JoinHandle<()>,
}

impl Drop for PtyHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PtyHandle {
    /// The device path now (`None` while the device is gone after an unplug or reset).
    pub fn path(&self) -> Option<PathBuf> {
        self.path.borrow().clone()
    }

    /// Waits for the device to be present and returns its path.
    pub async fn wait_path(&mut self) -> Option<PathBuf> {
        self.path
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|p| p.clone())
    }

    /// A watch on the device path.
    pub fn watch(&self) -> watch::Receiver<Option<PathBuf>> {
        self.path.clone()
    }
}

fn replace_link(link: &Path, target: &Path) -> io::Result<()> {
    let tmp = link.with_extension("smsgw-tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

impl Sim {
    /// Serves the modem on a new pseudo-terminal, with an optional stable symlink to it.
    /// After an unplug or `AT+CFUN=1,1` the device vanishes for `reset_downtime` and comes
    /// back on a new pseudo-terminal (the symlink follows).
    pub fn attach_pty(&self, link: Option<PathBuf>) -> io::Result<PtyHandle> {
        let first = PtyMaster::open()?;
        if let Some(l) = &link {
            replace_link(l, first.path())?;
        }
        let (tx, rx) = watch::channel(Some(first.path().to_path_buf()));
        let sim = self.clone();
        let task = tokio::spawn(async move {
            let mut master = first;
            loop {
                let end = sim.serve(master).await;
                tx.send_replace(None);
                if end == ServeEnd::Closed {
                    tracing::warn!(
                        "simulated modem: the pseudo-terminal failed; it comes back on a new one"
                    );
                }
                tokio::time::sleep(sim.reset_downtime()).await;
                master = match PtyMaster::open() {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::error!("simulated modem: cannot open a pseudo-terminal: {e}");
                        return;
                    }
                };
                if let Some(l) = &link {
                    if let Err(e) = replace_link(l, master.path()) {
                        tracing::warn!("simulated modem: cannot update {}: {e}", l.display());
                    }
                }
                tx.send_replace(Some(master.path().to_path_buf()));
            }
        });
        Ok(PtyHandle { path: rx, task })
    }
}
