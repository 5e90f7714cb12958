//! `smsgw run`: the daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use smsgw::config::{Config, DEFAULT_PATH};
use smsgw::daemon::Command;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// Options of `smsgw run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config file.
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Run as this user (name or number) after start-up; it must be able to open every
    /// modem device (checked first). Under systemd use `User=` instead.
    #[arg(short = 'U', long)]
    user: Option<String>,
    /// Run with this group (default: the user's primary group).
    #[arg(short = 'G', long, requires = "user")]
    group: Option<String>,
    /// Write the PID here instead of `[daemon] pid_file` (gammu-smsd's -p).
    #[arg(short = 'p', long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// gammu-smsd's -d: smsgw does not fork into the background (see --help).
    #[arg(short = 'd', long, hide = true)]
    daemon: bool,
}

/// A log file that can be reopened (after logrotate moved it away: SIGHUP).
struct LogFile {
    path: PathBuf,
    file: std::sync::Mutex<std::fs::File>,
}

impl LogFile {
    fn open(path: &std::path::Path) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    }

    fn reopen(&self) {
        match LogFile::open(&self.path) {
            Ok(f) => *self.file.lock().unwrap_or_else(|p| p.into_inner()) = f,
            Err(e) => tracing::error!("cannot reopen the log file {}: {e}", self.path.display()),
        }
    }
}

struct LogWriter(std::sync::Arc<LogFile>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .flush()
    }
}

fn init_logging(cfg: &Config) -> anyhow::Result<Option<std::sync::Arc<LogFile>>> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("smsgw={}", cfg.daemon.log_level))
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if cfg.daemon.log == "stderr" {
        // Colours only for a person at a terminal: not into the journal, a pipe or a file.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        builder.with_ansi(ansi).with_writer(std::io::stderr).init();
        return Ok(None);
    }
    let path = PathBuf::from(&cfg.daemon.log);
    let file = LogFile::open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", path.display()))?;
    let log = std::sync::Arc::new(LogFile {
        path,
        file: std::sync::Mutex::new(file),
    });
    let for_writer = log.clone();
    builder
        .with_ansi(false)
        .with_writer(move || LogWriter(for_writer.clone()))
        .init();
    // Started by hand, the daemon would otherwise print nothing at all.
    eprintln!("smsgw: logging to {} (daemon.log)", log.path.display());
    Ok(Some(log))
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    if a.daemon {
        eprintln!("smsgw run: -d: smsgw stays in the foreground and does not fork. Under systemd use the unit (contrib/smsgw.service, `systemctl enable --now smsgw`); elsewhere start it in the background (`smsgw run -c FILE &`, nohup, a supervisor) and set [daemon] pid_file or --pid-file.");
        return Ok(ExitCode::from(64));
    }
    let mut cfg = match Config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smsgw: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(p) = &a.pid_file {
        cfg.daemon.pid_file = p.clone();
    }
    let log = init_logging(&cfg)?;
    let _pid = match smsgw::daemon::pidfile::PidFile::take(&cfg.daemon.pid_file) {
        Ok(p) => p,
        Err(e @ smsgw::daemon::pidfile::PidFileError::Running { .. }) => {
            eprintln!("smsgw: {e}");
            // gammu-smsd's exit code for this.
            return Ok(ExitCode::from(10));
        }
        Err(e) => {
            eprintln!("smsgw: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(user) = &a.user {
        let target = match smsgw::daemon::privileges::resolve(user, a.group.as_deref()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("smsgw: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        for p in &cfg.phones {
            if p.device == "sim" || p.device.starts_with("tcp://") {
                continue;
            }
            if let Err(e) =
                smsgw::daemon::privileges::can_open(&target, std::path::Path::new(&p.device))
            {
                eprintln!("smsgw: phone {}: {e}", p.id);
                return Ok(ExitCode::FAILURE);
            }
        }
        // Directories the daemon writes after the drop.
        let socket_dir = cfg
            .daemon
            .control_socket
            .parent()
            .map(std::path::Path::to_path_buf);
        for dir in [Some(cfg.daemon.state_dir.clone()), socket_dir]
            .into_iter()
            .flatten()
        {
            std::fs::create_dir_all(&dir)?;
            let _ = nix::unistd::chown(&dir, Some(target.user.uid), Some(target.gid));
        }
        if let Err(e) = smsgw::daemon::privileges::drop_to(&target) {
            eprintln!("smsgw: cannot become {user}: {e}");
            return Ok(ExitCode::FAILURE);
        }
        tracing::info!(user = %target.user.name, "running as an unprivileged user");
    }
    // Every transport as the daemon builds it, passwords read as the daemon will (after
    // any drop of privileges).
    if let Err(e) = smsgw::transport::check(&cfg, smsgw::transport::Secrets::Read) {
        eprintln!("smsgw: {e}");
        return Ok(ExitCode::from(2));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = rt.block_on(async {
        // Signals first: a stop while the storage is still being waited for is a clean
        // stop too.
        let (stop_tx, stop_rx) = watch::channel(false);
        let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut usr1 = signal(SignalKind::user_defined1())?;
        let mut usr2 = signal(SignalKind::user_defined2())?;
        tokio::spawn(async move {
            loop {
                let cmd = tokio::select! {
                    _ = term.recv() => break,
                    _ = int.recv() => break,
                    _ = hup.recv() => {
                        if let Some(l) = &log {
                            l.reopen();
                        }
                        Command::Reload
                    }
                    _ = usr1.recv() => Command::Suspend,
                    _ = usr2.recv() => Command::Resume,
                };
                let _ = cmd_tx.send(cmd);
            }
            tracing::info!("stopping");
            let _ = stop_tx.send(true);
        });
        std::fs::create_dir_all(&cfg.daemon.state_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the state directory {}: {e}",
                cfg.daemon.state_dir.display()
            )
        })?;
        let server = matches!(
            cfg.storage.kind,
            smsgw::config::StorageKind::Postgres
                | smsgw::config::StorageKind::Mysql
                | smsgw::config::StorageKind::Nav
        );
        let mut pause = std::time::Duration::from_secs(1);
        let storage = loop {
            let mut stop = stop_rx.clone();
            let opened = tokio::select! {
                o = smsgw::backends::open(&cfg) => o,
                _ = stop.wait_for(|s| *s) => {
                    tracing::info!("smsgw stopped (before the storage was open)");
                    return Ok(ExitCode::SUCCESS);
                }
            };
            match opened {
                Ok(s) => break s,
                // A database server still starting (or briefly away) is waited for; a
                // wrong schema or setting is not.
                Err(smsgw::service::StorageError::Unavailable(e)) if server => {
                    tracing::warn!("storage: {e}; trying again in {} s", pause.as_secs());
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.wait_for(|s| *s) => {
                            tracing::info!("smsgw stopped (the storage was never reached)");
                            return Ok(ExitCode::SUCCESS);
                        }
                    }
                    pause = (pause * 2).min(std::time::Duration::from_secs(30));
                }
                Err(e) => {
                    tracing::error!("storage: {e}");
                    return Ok(ExitCode::from(3));
                }
            }
        };
        // systemd (Type=notify): ready once the storage is up, and alive while the runtime
        // runs. Outside systemd these do nothing.
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
        let mut usec = 0;
        if sd_notify::watchdog_enabled(false, &mut usec) {
            let period = std::time::Duration::from_micros(usec / 2);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(period).await;
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                }
            });
        }
        let control_socket = cfg.daemon.control_socket.clone();
        let mut stopping = stop_rx.clone();
        let daemon = smsgw::daemon::run_with(cfg, Some(a.config.clone()), storage, stop_rx, cmd_rx);
        // The daemon gives each task STOP_GRACE to end its step; this is the backstop for
        // anything that still does not return (a reload in progress, a storage call).
        let overdue = async {
            let _ = stopping.wait_for(|s| *s).await;
            let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
            tokio::time::sleep(smsgw::daemon::STOP_GRACE + STOP_SLACK).await;
        };
        tokio::select! {
            r = daemon => r?,
            () = overdue => {
                tracing::warn!("the stop took longer than {:?}: leaving what still runs", smsgw::daemon::STOP_GRACE + STOP_SLACK);
                let _ = std::fs::remove_file(&control_socket);
            }
        }
        Ok(ExitCode::SUCCESS)
    });
    // What still runs (a storage call on a blocking thread, a hook's child) is not waited
    // for: a stop takes at most about 2 s from every state.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

/// What the daemon may take beyond its tasks' grace to finish a stop (hooks' end, files).
const STOP_SLACK: std::time::Duration = std::time::Duration::from_millis(250);
