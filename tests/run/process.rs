//! The release binary and the simulated modem as processes, as a user starts them: shared
//! by the tests that walk a user's paths (`user_paths`, `http_api`).
//!
//! The release binary is built by the first test that needs it (`cargo build --release`),
//! so `cargo test` alone runs these too; CI's package step reuses that build.
//! `SMSGW_TEST_BIN=/usr/bin/smsgw` tests another binary instead (an installed package, an
//! older build).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long any awaited event may take before the test fails.
pub const T: Duration = Duration::from_secs(30);
/// The most a stop may take, from the signal to the process gone.
pub const STOP_WITHIN: Duration = Duration::from_secs(2);

/// `target/release/smsgw`, built (or found fresh) once per run.
pub fn release_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("SMSGW_TEST_BIN") {
            eprintln!("testing {} (SMSGW_TEST_BIN)", Path::new(&bin).display());
            return PathBuf::from(bin);
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // Cargo runs tests with the package's variables set (CARGO_PKG_NAME, OUT_DIR...);
        // build scripts that watch them (ring's) would see a change, rebuild, and make the
        // next outer build rebuild again: minutes each time. The nested build gets none.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            let set_for_tests = k == "OUT_DIR"
                || [
                    "CARGO_PKG_",
                    "CARGO_MANIFEST_",
                    "CARGO_CRATE_",
                    "CARGO_BIN_",
                    "CARGO_CFG_",
                ]
                .iter()
                .any(|p| k.starts_with(p))
                || [
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&k.as_ref());
            if set_for_tests {
                build.env_remove(k.as_ref());
            }
        }
        let st = build
            .args(["build", "--release", "--locked", "--bin", "smsgw"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --release");
        assert!(st.success(), "cargo build --release failed");
        // Next to the debug binary this test was built with: .../target/{debug,release}.
        let debug = Path::new(env!("CARGO_BIN_EXE_smsgw"));
        let bin = debug
            .parent()
            .and_then(Path::parent)
            .map(|t| t.join("release/smsgw"))
            .expect("the target directory");
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
}

/// [`wait_for`], showing `context()` (a log) when it times out.
pub fn wait_for_or(what: &str, mut f: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + T;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// `smsgw sim` as a script starts it: `smsgw sim --link DIR/modem --control DIR/sim.sock
/// </dev/null &`.
pub struct Sim {
    pub child: Child,
    pub link: PathBuf,
    pub control: PathBuf,
    pub record: PathBuf,
}

impl Sim {
    pub fn start(dir: &Path, extra: &[&str]) -> Sim {
        Sim::start_at(dir, &dir.join("modem"), extra)
    }

    /// A simulator whose device link is `link` (its socket and record stay in `dir`).
    pub fn start_at(dir: &Path, link: &Path, extra: &[&str]) -> Sim {
        let (link, control, record) = (
            link.to_path_buf(),
            dir.join("sim.sock"),
            dir.join("sent.jsonl"),
        );
        let mut child = Command::new(release_bin())
            .arg("sim")
            .arg("--link")
            .arg(&link)
            .arg("--control")
            .arg(&control)
            .arg("--record")
            .arg(&record)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smsgw sim");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("the simulator's first line");
        assert!(first.starts_with("Simulated modem on /dev/pts/"), "{first}");
        Sim {
            child,
            link,
            control,
            record,
        }
    }

    /// One command through `--control`; its answer.
    pub fn tell(&self, line: &str) -> String {
        let mut s = UnixStream::connect(&self.control).expect("the simulator's control socket");
        writeln!(s, "{line}").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    }

    /// What the modem was asked to send (the `--record` lines).
    pub fn sent(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `smsgw run -c DIR/smsgw.toml </dev/null 2>DIR/smsgw.log &`.
pub struct Daemon {
    pub child: Option<Child>,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Daemon {
    /// Writes the config (a `[daemon]` section keeping its files in `dir`, then `body`) and
    /// starts the daemon.
    pub fn start(dir: &Path, body: &str) -> Daemon {
        let d = dir.display();
        let config = dir.join("smsgw.toml");
        std::fs::write(
            &config,
            format!(
                "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/run/smsgw.pid\"\n\n{body}"
            ),
        )
        .unwrap();
        let log = dir.join("smsgw.log");
        let child = Command::new(release_bin())
            .args(["run", "-c"])
            .arg(&config)
            .env("RUST_LOG", "smsgw=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start smsgw run");
        Daemon {
            child: Some(child),
            dir: dir.to_path_buf(),
            config,
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn wait_log(&self, what: &str) {
        let deadline = Instant::now() + T;
        while !self.log().contains(what) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?} in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// `smsgw inject -c CONFIG ARGS...` with the release binary; must succeed.
    pub fn inject(&self, args: &[&str]) -> String {
        let out = Command::new(release_bin())
            .args(["inject", "-c"])
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "inject {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends `signal` and waits for the process to end: exit 0 within [`STOP_WITHIN`], the
    /// PID file and the control socket removed. Returns how long it took.
    pub fn stop_with(&mut self, signal: nix::sys::signal::Signal) -> Duration {
        let mut child = self.child.take().expect("running");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let start = Instant::now();
        nix::sys::signal::kill(pid, signal).unwrap();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > STOP_WITHIN + Duration::from_secs(10) {
                let _ = child.kill();
                panic!("still running 12 s after {signal}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = start.elapsed();
        assert!(
            status.success(),
            "exit status {status} after {signal}:\n{}",
            self.log()
        );
        assert!(
            took <= STOP_WITHIN,
            "{signal} took {took:?} (at most {STOP_WITHIN:?}):\n{}",
            self.log()
        );
        assert!(
            !self.dir.join("run/smsgw.pid").exists(),
            "the PID file is left:\n{}",
            self.log()
        );
        assert!(
            !self.dir.join("control.sock").exists(),
            "the control socket is left"
        );
        eprintln!("stopped by {signal} in {took:?}");
        // What a user reads in the journal: no colour codes, no Rust's Some(..)/None.
        let log = self.log();
        assert!(!log.contains('\u{1b}'), "ANSI colours in the log");
        assert!(
            !log.contains("Some(") && !log.contains("=None"),
            "Rust values in the log:\n{log}"
        );
        took
    }

    pub fn stop(&mut self) -> Duration {
        self.stop_with(nix::sys::signal::Signal::SIGTERM)
    }

    /// Waits until the daemon wrote its PID file (it has started).
    pub fn wait_started(&self) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let file = self.dir.join("run/smsgw.pid");
        wait_for("the PID file", || {
            std::fs::read_to_string(&file).is_ok_and(|s| s.trim() == pid)
        });
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn peer_messages() -> serde_json::Value {
    let out = Command::new("/usr/bin/python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/gammu_pdu.py"))
        .arg("messages")
        .output()
        .expect("python3 with python3-gammu (scripts/install-test-deps.sh installs it)");
    assert!(
        out.status.success(),
        "gammu_pdu.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A status report libGammu reads as the report on TP-MR `mr` to `number`, delivered.
pub fn peer_report(mr: u64, number: &str) -> String {
    peer_report_status(mr, number, 0)
}

/// A status report with TP-ST `status` (64: failed).
pub fn peer_report_status(mr: u64, number: &str, status: u8) -> String {
    let out = Command::new("/usr/bin/python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/gammu_pdu.py"))
        .args(["report", &mr.to_string(), number, &status.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gammu_pdu.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A child process killed when dropped (a peer the test started: Kannel's boxes).
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA and a certificate it signed for `localhost` and 127.0.0.1, made by openssl: the
/// CA's file, the certificate's, the certificate's key.
pub fn certificates(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let p = |n: &str| dir.join(n);
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("openssl (Debian's openssl package)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        p("leaf.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Test SMSC CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "leaf.cnf",
        "-out",
        "cert.pem",
    ]);
    (p("ca.pem"), p("cert.pem"), p("key.pem"))
}

/// A free port on 127.0.0.1 for a server to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Debian's Kannel: bearerbox, then smsbox, started on one config; both killed when
/// dropped. The config has the core, an smsbox with its sendsms port and a sendsms user
/// `shop` / `shop-pw` (up to 5 parts a message, tied by a UDH), then the groups a test adds (its smsc).
pub struct Kannel {
    pub sendsms: u16,
    dir: PathBuf,
    _bearerbox: Proc,
    _smsbox: Proc,
}

impl Kannel {
    /// Whether Debian's kannel is installed; outside CI its absence is said loudly (the
    /// test then skips), under CI it fails the test.
    pub fn installed() -> bool {
        if Path::new("/usr/sbin/bearerbox").exists() {
            return true;
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "kannel is missing: scripts/install-test-deps.sh installs it"
        );
        eprintln!("\n!!!!! SKIPPED: kannel is missing (apt-get install kannel) !!!!!\n");
        false
    }

    pub fn start(dir: &Path, groups: &str) -> Kannel {
        let (admin, boxes, sendsms) = (free_port(), free_port(), free_port());
        let d = dir.display();
        let conf = dir.join("kannel.conf");
        std::fs::write(
            &conf,
            format!(
                "group = core\nadmin-port = {admin}\nadmin-password = x\nsmsbox-port = {boxes}\nbox-allow-ip = 127.0.0.1\nlog-file = \"{d}/bearerbox.log\"\nlog-level = 0\ndlr-storage = internal\n\n\
group = smsbox\nbearerbox-host = 127.0.0.1\nbearerbox-port = {boxes}\nsendsms-port = {sendsms}\nlog-file = \"{d}/smsbox.log\"\nlog-level = 0\n\n\
group = sendsms-user\nusername = shop\npassword = shop-pw\nmax-messages = 5\nconcatenation = true\n\n{groups}\n"
            ),
        )
        .unwrap();
        let spawn = |bin: &str| {
            Proc(
                Command::new(bin)
                    .arg(&conf)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        };
        let bearerbox = spawn("/usr/sbin/bearerbox");
        wait_for("bearerbox", || {
            std::net::TcpStream::connect(("127.0.0.1", boxes)).is_ok()
        });
        let smsbox = spawn("/usr/sbin/smsbox");
        wait_for("smsbox", || {
            std::net::TcpStream::connect(("127.0.0.1", sendsms)).is_ok()
        });
        Kannel {
            sendsms,
            dir: dir.to_path_buf(),
            _bearerbox: bearerbox,
            _smsbox: smsbox,
        }
    }

    /// The bearerbox's and smsbox's logs.
    pub fn log(&self) -> String {
        format!(
            "{}\n{}",
            std::fs::read_to_string(self.dir.join("bearerbox.log")).unwrap_or_default(),
            std::fs::read_to_string(self.dir.join("smsbox.log")).unwrap_or_default()
        )
    }
}
