//! The daemon in-process for the gateway tests: SQLite (or a given storage) and the given
//! `[[transport]]`s, with helpers to queue with `smsgw inject` and to wait for rows.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rusqlite::Connection;
use smsgw::config::Config;
use tempfile::TempDir;
use tokio::sync::watch;

pub const T: Duration = Duration::from_secs(30);

/// Writes `smsgw.toml` in `dir`: a `[daemon]` section keeping its files in `dir`, then `body`.
pub fn write_config(dir: &std::path::Path, body: &str) -> PathBuf {
    let d = dir.display();
    let config = dir.join("smsgw.toml");
    std::fs::write(
        &config,
        format!("[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n\n{body}"),
    )
    .unwrap();
    config
}

/// A daemon with an SQLite storage and the given `[[transport]]`s (and other sections).
pub struct Daemon {
    pub dir: TempDir,
    pub config: PathBuf,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Daemon {
    pub async fn start(extra: &str) -> Daemon {
        Daemon::start_with_storage(extra, None).await
    }

    /// `storage`: a `[storage]` section (default: SQLite in the test's directory).
    pub async fn start_with_storage(extra: &str, storage: Option<&str>) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let storage = storage.map_or_else(
            || format!("[storage]\nkind = \"sqlite\"\npath = \"{d}/smsgw.db\"\n"),
            str::to_string,
        );
        let config = write_config(
            dir.path(),
            &format!("{storage}\n[sending]\nmax_retries = 1\nretry_timeout = 1\n\n{extra}\n"),
        );
        let (stop, task) = Daemon::run(&config).await;
        Daemon {
            dir,
            config,
            stop,
            task: Some(task),
        }
    }

    async fn run(
        config: &std::path::Path,
    ) -> (
        watch::Sender<bool>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let cfg = Config::load(config).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(&cfg.daemon.state_dir).unwrap();
        let storage = smsgw::backends::open(&cfg).await.unwrap();
        let (stop, stop_rx) = watch::channel(false);
        (
            stop,
            tokio::spawn(smsgw::daemon::run(cfg, storage, stop_rx)),
        )
    }

    /// Stops the daemon and starts a new one on the same files.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (stop, task) = Daemon::run(&self.config).await;
        self.stop = stop;
        self.task = Some(task);
    }

    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            tokio::time::timeout(T, t).await.unwrap().unwrap().unwrap();
        }
    }

    pub fn db(&self) -> Connection {
        let c = Connection::open(self.dir.path().join("smsgw.db")).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c
    }

    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let db = self.db();
        let mut st = db.prepare(sql).unwrap();
        let n = st.column_count();
        st.query_map([], |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Null => "NULL".to_string(),
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Real(f) => f.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Blob(_) => "<blob>".into(),
                    })
                })
                .collect()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    /// Waits until `sql` returns `want` rows.
    pub async fn wait_rows(&self, sql: &str, want: usize) -> Vec<Vec<String>> {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let r = self.rows(sql);
            if r.len() == want {
                return r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{sql}: {} rows, wanted {want}: {r:?}",
                r.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `[-i ROUTE] NUMBER TEXT`, queued with `smsgw inject` (which wakes the daemon).
    pub fn inject(&self, args: &[&str]) {
        let (route, rest) = match args {
            ["-i", route, rest @ ..] => (Some(*route), rest),
            rest => (None, rest),
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_smsgw"));
        cmd.arg("inject").arg("-c").arg(&self.config);
        if let Some(r) = route {
            cmd.arg("--phone-id").arg(r);
        }
        let out = cmd
            .arg("TEXT")
            .arg(rest[0])
            .arg("--text")
            .arg(rest[1])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "inject {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub const SENT: &str = "SELECT DestinationNumber, SenderID, Status FROM sentitems ORDER BY ID";
