//! What the end-to-end benches share: the release binary, child processes, the simulated
//! modem's record of sent PDUs, /proc readings.

#![allow(dead_code)]

pub mod smsc;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> PathBuf {
    // Cargo builds the package's binary for benches in the same profile directory.
    let exe = std::env::current_exe().expect("bench path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("smsgw");
    if !bin.exists() {
        let status = Command::new("cargo")
            .args(["build", "--release", "--bin", "smsgw"])
            .status()
            .expect("cargo build");
        assert!(status.success());
    }
    bin
}

/// `smsgw run -c config`, its log discarded (appended to `$SMSGW_BENCH_LOG` when set).
pub fn smsgw_run(smsgw: &Path, config: &Path) -> Proc {
    let log = match std::env::var_os("SMSGW_BENCH_LOG") {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null()),
        None => Stdio::null(),
    };
    Proc(
        Command::new(smsgw)
            .arg("run")
            .arg("-c")
            .arg(config)
            .stderr(log)
            .spawn()
            .expect("smsgw run"),
    )
}

/// Writes `d/smsgw.toml`: a `[daemon]` section keeping its files in `d` (log level warn),
/// then `body`.
pub fn daemon_config(d: &Path, body: &str) -> PathBuf {
    let config = d.join("smsgw.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/pid\"\nlog_level = \"warn\"\n{body}",
            d = d.display()
        ),
    )
    .expect("config");
    config
}

/// `smsgw db init -c config`: the schema before anything is queued.
pub fn db_init(smsgw: &Path, config: &Path) {
    let st = Command::new(smsgw)
        .args(["db", "init", "-c"])
        .arg(config)
        .stdout(Stdio::null())
        .status()
        .expect("smsgw db init");
    assert!(st.success(), "smsgw db init");
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn wait_records(path: &Path, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let r = records(path);
        if r.len() >= n || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn record_time(r: &serde_json::Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(r["time"].as_str().expect("time")).expect("rfc3339")
}

pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are 12 and 13 after the command name.
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

pub fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The median (NaN for none).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A simulated modem process; returns it and its record file.
pub fn sim(smsgw: &Path, d: &Path, i: usize) -> (Proc, PathBuf, PathBuf) {
    let link = d.join(format!("modem{i}"));
    let record = d.join(format!("sent{i}.jsonl"));
    let mut p = Proc(
        Command::new(smsgw)
            .args(["sim", "--link"])
            .arg(&link)
            .arg("--record")
            .arg(&record)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("smsgw sim"),
    );
    let mut first = String::new();
    BufReader::new(p.0.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("sim started");
    (p, link, record)
}
