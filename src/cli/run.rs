//! `smsgw run`: the daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use smsgw::config::{Config, DEFAULT_PATH};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// Options of `smsgw run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config file.
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
}

fn init_logging(cfg: &Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("smsgw={}", cfg.daemon.log_level))
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if cfg.daemon.log == "stderr" {
        builder.with_writer(std::io::stderr).init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cfg.daemon.log)
            .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", cfg.daemon.log))?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    Ok(())
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let cfg = match Config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smsgw: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    init_logging(&cfg)?;
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        std::fs::create_dir_all(&cfg.daemon.state_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the state directory {}: {e}",
                cfg.daemon.state_dir.display()
            )
        })?;
        let storage = match smsgw::backends::open(&cfg).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("storage: {e}");
                return Ok(ExitCode::from(3));
            }
        };
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stopping");
            let _ = stop_tx.send(true);
        });
        smsgw::daemon::run(cfg, storage, stop_rx).await?;
        Ok(ExitCode::SUCCESS)
    })
}
