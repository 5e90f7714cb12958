//! The PID file: holds the daemon's PID under an exclusive lock, so a second daemon with the
//! same file refuses to start (even if the first one died without cleaning up: the lock
//! goes with the process). Removed on a clean exit.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// A held PID file.
pub struct PidFile {
    path: PathBuf,
    _lock: Flock<std::fs::File>,
}

/// Why the PID file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error("another smsgw is running (PID {pid}, PID file {path}): stop it first, or give this one another pid_file")]
    Running { pid: String, path: String },
    #[error("cannot write the PID file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl PidFile {
    pub fn take(path: &Path) -> Result<PidFile, PidFileError> {
        let io = |source| PidFileError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((_, _)) => {
                let pid = std::fs::read_to_string(path)
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                return Err(PidFileError::Running {
                    pid,
                    path: path.display().to_string(),
                });
            }
        };
        lock.set_len(0).map_err(io)?;
        lock.rewind().map_err(io)?;
        writeln!(lock, "{}", std::process::id()).map_err(io)?;
        lock.flush().map_err(io)?;
        Ok(PidFile {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
