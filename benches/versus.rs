//! smsgw and Debian's gammu-smsd side by side (not a test): `cargo bench --bench versus`.
//!
//! Both run as release processes against the same simulated modem (`smsgw sim` on a
//! pseudo-terminal), on the same SQLite schema (Gammu's v17, made by `smsgw db init`) with the
//! same messages, in one run on this machine, and the table gives each figure with the ratio:
//! - inject → `AT+CMGS` latency of injects at random moments (`smsgw inject` /
//!   `gammu-smsd-inject`): 20 for smsgw and for gammu-smsd at its fastest settings
//!   (`CommTimeout=1`, `LoopSleep=1`), and a few for gammu-smsd at its defaults;
//! - draining queued messages (single-part and 3-part, per-message time), with no reply delay
//!   and with 300 ms before each `+CMGS` answer;
//! - receiving: a message arriving (`+CMTI`) to its row in `inbox`;
//! - idle CPU and peak RSS.
//!
//! Needs `gammu-smsd` and `gammu-smsd-inject` (scripts/install-test-deps.sh installs them).
//! Sizes: `SMSGW_VERSUS_N` (gammu-smsd messages per drain, default 20; smsgw drains ten times
//! as many), `SMSGW_BENCH_IDLE_SECS` (idle window, default 60), `SMSGW_VERSUS_DEFAULTS`
//! (injects at gammu-smsd's defaults, default 5; about 15 s each).

mod common;
use common::*;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `smsgw sim` with its command input.
struct SimProc {
    _proc: Proc,
    stdin: ChildStdin,
    record: PathBuf,
}

impl SimProc {
    fn start(smsgw: &Path, dir: &Path, send_delay_ms: u64) -> SimProc {
        let link = dir.join("modem");
        let record = dir.join("sent.jsonl");
        let mut child = Command::new(smsgw)
            .args(["sim", "--link"])
            .arg(&link)
            .arg("--record")
            .arg(&record)
            .arg("--send-delay")
            .arg(send_delay_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("smsgw sim");
        let mut first = String::new();
        let out = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(out);
        reader.read_line(&mut first).expect("sim started");
        // Keep reading its answers so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
            }
        });
        let stdin = child.stdin.take().expect("stdin");
        SimProc {
            _proc: Proc(child),
            stdin,
            record,
        }
    }

    fn sms(&mut self, from: &str, text: &str) {
        writeln!(self.stdin, "sms {from} {text}").expect("sim command");
        self.stdin.flush().expect("sim command");
    }

    fn sent(&self) -> usize {
        std::fs::read_to_string(&self.record)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    fn wait_sent(&self, n: usize, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.sent() >= n {
                return Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Who {
    Smsgw,
    GammuFast,
    GammuDefaults,
}

struct Setup {
    who: Who,
    dir: tempfile::TempDir,
    smsgw: PathBuf,
}

impl Setup {
    fn new(who: Who, smsgw: &Path) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Setup {
            who,
            dir,
            smsgw: smsgw.to_path_buf(),
        };
        // Gammu's schema version 17, the same for both.
        let st = Command::new(smsgw)
            .args(["db", "init", "-c"])
            .arg(s.smsgw_config())
            .stdout(Stdio::null())
            .status()
            .expect("db init");
        assert!(st.success());
        s
    }

    fn d(&self) -> &Path {
        self.dir.path()
    }

    fn db(&self) -> PathBuf {
        self.d().join("smsd.db")
    }

    fn smsgw_config(&self) -> PathBuf {
        let p = self.d().join("smsgw.toml");
        if !p.exists() {
            std::fs::write(
                &p,
                format!(
                    "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/pid\"\nlog_level = \"warn\"\n[storage]\npath = \"{d}/smsd.db\"\n[[phone]]\nid = \"bench\"\ndevice = \"{d}/modem\"\nstatus_frequency = 0\n",
                    d = self.d().display()
                ),
            )
            .expect("config");
        }
        p
    }

    fn gammu_rc(&self) -> PathBuf {
        let p = self.d().join("smsdrc");
        let fast = if self.who == Who::GammuFast {
            "commtimeout = 1\nloopsleep = 1\n"
        } else {
            ""
        };
        std::fs::write(
            &p,
            format!(
                "[gammu]\ndevice = {d}/modem\nconnection = at\n\n[smsd]\nservice = sql\ndriver = sqlite3\ndatabase = smsd.db\ndbdir = {d}/\nphoneid = bench\n{fast}statusfrequency = 0\nlogfile = {d}/smsd.log\ndebuglevel = 0\n",
                d = self.d().display()
            ),
        )
        .expect("smsdrc");
        p
    }

    fn daemon(&self) -> Proc {
        let cmd = match self.who {
            Who::Smsgw => Command::new(&self.smsgw)
                .arg("run")
                .arg("-c")
                .arg(self.smsgw_config())
                .stderr(Stdio::null())
                .spawn(),
            _ => Command::new("gammu-smsd")
                .arg("-c")
                .arg(self.gammu_rc())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn(),
        };
        Proc(cmd.expect("daemon"))
    }

    fn inject(&self, text: &str) {
        let st = match self.who {
            Who::Smsgw => Command::new(&self.smsgw)
                .args(["inject", "-c"])
                .arg(self.smsgw_config())
                .args(["TEXT", "+48600100200", "--text", text])
                .stdout(Stdio::null())
                .status(),
            _ => Command::new("gammu-smsd-inject")
                .arg("-c")
                .arg(self.gammu_rc())
                .args(["TEXT", "+48600100200", "-len", "1000", "-text", text])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status(),
        };
        assert!(st.is_ok_and(|s| s.success()), "inject");
    }

    fn count(&self, sql: &str) -> i64 {
        rusqlite::Connection::open(self.db())
            .and_then(|c| {
                c.busy_timeout(Duration::from_secs(5))?;
                c.query_row(sql, [], |r| r.get(0))
            })
            .unwrap_or(0)
    }
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Waits until the daemon has the modem (its phones row), bounded.
fn wait_ready(s: &Setup) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.count("SELECT count(*) FROM phones") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Latency of `n` injects at random moments, in ms.
fn latency(s: &Setup, sim: &SimProc, n: usize, seed: &mut u64) -> Vec<f64> {
    let mut out = Vec::new();
    for i in 0..n {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(100 + (*seed >> 33) % 900));
        let before = sim.sent();
        let t0 = Instant::now();
        s.inject(&format!("latency {i}"));
        match sim.wait_sent(before + 1, Duration::from_secs(120)) {
            Some(t) => out.push((t - t0).as_secs_f64() * 1000.0),
            None => out.push(f64::NAN),
        }
    }
    out
}

/// Seconds per message to drain `n` queued messages of `parts` parts each.
fn drain(s: &Setup, sim: &SimProc, n: usize, parts: usize) -> f64 {
    let text = if parts == 1 {
        "drain".to_string()
    } else {
        "A message long enough for three parts. ".repeat(9)
    };
    for _ in 0..n {
        s.inject(&text);
    }
    let before = sim.sent();
    let t0 = Instant::now();
    let _daemon = s.daemon();
    let end = sim.wait_sent(before + n * parts, Duration::from_secs(1800));
    end.map_or(f64::NAN, |t| (t - t0).as_secs_f64() / n as f64)
}

struct Figures {
    lat: Vec<f64>,
    drain1: f64,
    drain3: f64,
    drain_delay: f64,
    receive: Vec<f64>,
    idle_cpu: f64,
    rss_mb: f64,
}

fn run(who: Who, smsgw: &Path, n: usize, idle_secs: u64) -> Figures {
    let mut seed = 12345u64;
    // Latency, receive, idle CPU and RSS on one daemon.
    let s = Setup::new(who, smsgw);
    let mut sim = SimProc::start(smsgw, s.d(), 0);
    let daemon = s.daemon();
    wait_ready(&s);
    let lat = latency(&s, &sim, 20, &mut seed);
    let mut receive = Vec::new();
    for i in 0..5 {
        let before = s.count("SELECT count(*) FROM inbox");
        let t0 = Instant::now();
        sim.sms("+48700800900", &format!("inbound{i}"));
        let deadline = Instant::now() + Duration::from_secs(120);
        while s.count("SELECT count(*) FROM inbox") <= before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        receive.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let pid = daemon.0.id();
    let t0 = cpu_ticks(pid);
    let w0 = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_secs));
    // SAFETY: sysconf has no preconditions.
    let hz = match unsafe { nix::libc::sysconf(nix::libc::_SC_CLK_TCK) } {
        v if v > 0 => v as f64,
        _ => 100.0,
    };
    let idle_cpu = (cpu_ticks(pid) - t0) as f64 / hz / w0.elapsed().as_secs_f64() * 100.0;
    let rss_mb = vm_hwm_kb(pid) as f64 / 1024.0;
    drop(daemon);
    drop(sim);
    // Draining: a fresh database and modem for each.
    let count = if who == Who::Smsgw { n * 10 } else { n };
    let mut drains = Vec::new();
    for (parts, delay) in [(1, 0), (3, 0), (1, 300)] {
        let s = Setup::new(who, smsgw);
        let sim = SimProc::start(smsgw, s.d(), delay);
        let c = if parts == 3 { count / 2 } else { count };
        drains.push(drain(&s, &sim, c.max(1), parts));
    }
    Figures {
        lat,
        drain1: drains[0],
        drain3: drains[1],
        drain_delay: drains[2],
        receive,
        idle_cpu,
        rss_mb,
    }
}

fn main() {
    if Command::new("gammu-smsd")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("gammu-smsd is not installed: run scripts/install-test-deps.sh");
        return;
    }
    let smsgw = bin();
    let n = env_num("SMSGW_VERSUS_N", 20) as usize;
    let idle = env_num("SMSGW_BENCH_IDLE_SECS", 60);
    let defaults_n = env_num("SMSGW_VERSUS_DEFAULTS", 5) as usize;
    let ours = run(Who::Smsgw, &smsgw, n, idle);
    let fast = run(Who::GammuFast, &smsgw, n, idle);
    // gammu-smsd at its defaults: latency only (each inject waits for its loop).
    let s = Setup::new(Who::GammuDefaults, &smsgw);
    let sim = SimProc::start(&smsgw, s.d(), 0);
    let _daemon = s.daemon();
    wait_ready(&s);
    let mut seed = 777u64;
    let mut slow = latency(&s, &sim, defaults_n, &mut seed);

    let mut our_lat = ours.lat.clone();
    let mut fast_lat = fast.lat.clone();
    let mut our_rx = ours.receive.clone();
    let mut fast_rx = fast.receive.clone();
    let row = |what: String, a: f64, b: f64, unit: &str| {
        println!(
            "| {what} | {a:.2} {unit} | {b:.2} {unit} | {:.0}× |",
            if a > 0.0 { b / a } else { f64::NAN }
        );
    };
    println!(
        "smsgw {} and gammu-smsd (Debian) against the same simulated modem, SQLite, this 2-core machine",
        env!("CARGO_PKG_VERSION")
    );
    println!("| measure | smsgw | gammu-smsd (CommTimeout=1, LoopSleep=1) | gammu-smsd / smsgw |");
    println!("|---|---|---|---|");
    row(
        "inject → AT+CMGS, median of 20".into(),
        median(&mut our_lat),
        median(&mut fast_lat),
        "ms",
    );
    row(
        "inject → AT+CMGS, max of 20".into(),
        max(&ours.lat),
        max(&fast.lat),
        "ms",
    );
    row(
        format!(
            "drain, single-part, per message ({} vs {n} messages)",
            n * 10
        ),
        ours.drain1 * 1000.0,
        fast.drain1 * 1000.0,
        "ms",
    );
    row(
        format!(
            "drain, 3-part, per message ({} vs {})",
            n * 5,
            (n / 2).max(1)
        ),
        ours.drain3 * 1000.0,
        fast.drain3 * 1000.0,
        "ms",
    );
    row(
        "drain, single-part, 300 ms before each +CMGS, per message".into(),
        ours.drain_delay * 1000.0,
        fast.drain_delay * 1000.0,
        "ms",
    );
    row(
        "+CMTI → inbox row, median of 5".into(),
        median(&mut our_rx),
        median(&mut fast_rx),
        "ms",
    );
    println!(
        "| idle CPU over {idle} s | {:.3} % | {:.3} % | |",
        ours.idle_cpu, fast.idle_cpu
    );
    println!(
        "| peak RSS (VmHWM) | {:.1} MB | {:.1} MB | |",
        ours.rss_mb, fast.rss_mb
    );
    println!(
        "| gammu-smsd at its defaults: inject → AT+CMGS, median / max of {defaults_n} | | {:.1} / {:.1} s | |",
        median(&mut slow) / 1000.0,
        max(&slow) / 1000.0
    );
}
