//! The files storage (Gammu's folder layout) with real folders, the daemon and simulated
//! modems on pseudo-terminals, and Debian's real gammu-smsd and gammu-smsd-inject on the
//! same folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use smsgw::config::Config;
use smsgw::service::Service;
use smsgw::sim::{PtyHandle, Sim, SimConfig};
use tokio::sync::watch;

const T: Duration = Duration::from_secs(30);

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    fn new(extra: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let config = dir.path().join("smsgw.toml");
        std::fs::write(
            &config,
            format!(
                "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n\n[storage]\nkind = \"files\"\ninbox_path = \"{d}/inbox\"\noutbox_path = \"{d}/outbox\"\nsent_path = \"{d}/sent\"\nerror_path = \"{d}/error\"\n\n{extra}"
            ),
        )
        .unwrap();
        Setup { dir, config }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    fn inject(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .arg("inject")
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The plain files of a folder, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

async fn wait_files(dir: &Path, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let f = files(dir);
        if pred(&f) {
            return f;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}: {f:?}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Daemon {
    sim: Sim,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _pty: PtyHandle,
}

impl Daemon {
    async fn start(s: &Setup, sim: SimConfig, extra: &str) -> Daemon {
        let sim = Sim::new(sim);
        let link = s.path("modem");
        let pty = sim.attach_pty(Some(link.clone())).unwrap();
        let mut text = std::fs::read_to_string(&s.config).unwrap();
        text.push_str(&format!(
            "\n[[phone]]\nid = \"m0\"\ndevice = \"{}\"\nreceive_frequency = 1\ncommand_timeout = 2\nsend_timeout = 3\n{extra}\n",
            link.display()
        ));
        let path = s.path("daemon.toml");
        std::fs::write(&path, &text).unwrap();
        let cfg = Config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        std::fs::create_dir_all(&cfg.daemon.state_dir).unwrap();
        let storage: Arc<dyn Service> = smsgw::backends::open(&cfg).await.unwrap();
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(smsgw::daemon::run(cfg, storage, stop_rx));
        Daemon {
            sim,
            stop,
            task,
            _pty: pty,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(T, self.task)
            .await
            .expect("stops in time")
            .unwrap()
            .unwrap();
    }
}

fn init_log() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("smsgw=info")
        .try_init();
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inject_writes_gammu_files_that_the_daemon_sends_and_moves() {
    let s = Setup::new("");
    let out = s.inject(&["TEXT", "+48600100200", "--text", "Hello files"]);
    let path = out
        .trim()
        .strip_prefix("Written message with ID ")
        .unwrap()
        .to_string();
    assert!(
        path.starts_with(&s.path("outbox").display().to_string()),
        "{out}"
    );
    s.inject(&[
        "TEXT",
        "+48600100201",
        "--report",
        "--text",
        "With a report",
    ]);
    let queued = files(&s.path("outbox"));
    assert_eq!(queued.len(), 2, "{queued:?}");
    let plain = queued.iter().find(|n| n.contains("+48600100200")).unwrap();
    let with_report = queued.iter().find(|n| n.contains("+48600100201")).unwrap();
    // OUTC<YYYYMMDD>_<HHMMSS>_00_<number>_sms0.txt, flags after .txt.
    assert!(
        plain.starts_with("OUTC") && plain.ends_with("_00_+48600100200_sms0.txt"),
        "{plain}"
    );
    assert_eq!(
        plain.len(),
        "OUTC20261123_120000_00_+48600100200_sms0.txt".len()
    );
    assert!(with_report.ends_with(".txtd"), "{with_report}");
    assert_eq!(
        std::fs::read_to_string(s.path("outbox").join(plain)).unwrap(),
        "Hello files"
    );

    let d = Daemon::start(&s, SimConfig::default(), "").await;
    let sent = d
        .sim
        .wait_until(T, |x| x.sent.len() == 2)
        .await
        .expect("sent")
        .sent;
    let mut got: Vec<(String, String, bool)> = sent
        .iter()
        .map(|x| (x.to.clone(), x.text.clone(), x.report))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("+48600100200".into(), "Hello files".into(), false),
            ("+48600100201".into(), "With a report".into(), true)
        ]
    );
    let moved = wait_files(&s.path("sent"), |f| {
        f.iter().filter(|n| n.starts_with("OUT")).count() == 2
    })
    .await;
    assert!(
        moved.contains(plain) && moved.contains(with_report),
        "{moved:?}"
    );
    assert!(files(&s.path("outbox")).is_empty());
    // The status report of the message that asked for one.
    let report = s.path("sent").join(format!("{with_report}.report"));
    let deadline = tokio::time::Instant::now() + T;
    while !report.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {}",
            report.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.starts_with("part 1: DeliveryOK (TP-ST 0) at "),
        "{text}"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_forms_priority_flash_and_utf16() {
    let s = Setup::new("");
    let outbox = s.path("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::write(outbox.join("OUTZ_+48600100203_00.txt"), "last").unwrap();
    std::fs::write(outbox.join("OUTA_+48600100201_00.txt"), "first").unwrap();
    std::fs::write(
        outbox.join("OUTG20040620_193810_123_+48600100202_xpq.txtf"),
        utf16le("flash 🐢"),
    )
    .unwrap();
    std::fs::write(outbox.join("OUT+48600100204.txt"), "zażółć".as_bytes()).unwrap();
    let d = Daemon::start(&s, SimConfig::default(), "").await;
    let sent = d
        .sim
        .wait_until(T, |x| x.sent.len() == 4)
        .await
        .expect("sent")
        .sent;
    let order: Vec<&str> = sent.iter().map(|x| x.text.as_str()).collect();
    // Gammu's order: byte order of the names.
    assert_eq!(order, ["zażółć", "first", "flash 🐢", "last"]);
    let flash = smsgw::pdu::decode(&smsgw::pdu::from_hex(&sent[2].pdu).unwrap()).unwrap();
    let smsgw::pdu::Pdu::Submit(f) = flash else {
        panic!("not a SUBMIT")
    };
    assert_eq!(
        f.dcs.class().map(|c| c as u8),
        Some(0),
        "the f flag sends a flash message"
    );
    wait_files(&s.path("sent"), |f| f.len() == 4).await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_file_is_retried_then_moved_to_error_without_blocking_the_queue() {
    init_log();
    let s = Setup::new("[sending]\nmax_retries = 1\nretry_timeout = 3\n");
    let outbox = s.path("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::write(outbox.join("OUTA_+48600100201_00.txt"), "fails twice").unwrap();
    let d = Daemon::start(
        &s,
        SimConfig {
            fail_sends: 1,
            fail_code: 500,
            ..SimConfig::default()
        },
        "",
    )
    .await;
    d.sim
        .wait_until(T, |x| x.attempts == 1)
        .await
        .expect("first attempt");
    // While it waits for its retry another file goes out (Gammu would retry the first one
    // on every loop and block the queue, #462).
    std::fs::write(outbox.join("OUTB_+48600100202_00.txt"), "goes out").unwrap();
    let sent = d
        .sim
        .wait_until(T, |x| x.sent.len() == 1)
        .await
        .expect("sent")
        .sent;
    assert_eq!(sent[0].text, "goes out");
    // Its retry (3 s later) fails too: out of retries, it moves to the error folder.
    d.sim.fail_next_sends(1, 500);
    let failed = wait_files(&s.path("error"), |f| f.len() == 2).await;
    assert_eq!(
        failed,
        ["OUTA_+48600100201_00.txt", "OUTA_+48600100201_00.txt.error"]
    );
    let why =
        std::fs::read_to_string(s.path("error").join("OUTA_+48600100201_00.txt.error")).unwrap();
    assert!(why.contains("+CMS ERROR: 500"), "{why}");
    assert_eq!(
        d.sim.snapshot().attempts,
        3,
        "two attempts of the failing file, one of the other"
    );
    assert!(!s
        .path("outbox/.smsgw/OUTA_+48600100201_00.txt.state")
        .exists());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_messages_become_gammu_inbox_files() {
    let s = Setup::new("");
    let d = Daemon::start(&s, SimConfig::default(), "").await;
    d.sim
        .deliver_text("+48700800900", "Hi there 🐢", 1)
        .unwrap();
    let long = "A long message in three parts, stored one file per part. ".repeat(7);
    d.sim.deliver_text("+48700800901", &long, 7).unwrap();
    let inbox = wait_files(&s.path("inbox"), |f| f.len() == 4).await;
    let single: Vec<_> = inbox
        .iter()
        .filter(|n| n.contains("+48700800900"))
        .collect();
    assert_eq!(single.len(), 1, "{inbox:?}");
    // IN<YYYYMMDD>_<HHMMSS>_<serial>_<sender>_<part>.txt
    let n = single[0];
    assert!(
        n.starts_with("IN") && n.ends_with("_00_+48700800900_00.txt"),
        "{n}"
    );
    let bytes = std::fs::read(s.path("inbox").join(n)).unwrap();
    assert_eq!(&bytes[..2], &[0xFE, 0xFF], "UTF-16 with a byte-order mark");
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(String::from_utf16(&units).unwrap(), "Hi there 🐢");
    let parts: Vec<_> = inbox
        .iter()
        .filter(|n| n.contains("+48700800901"))
        .collect();
    assert_eq!(parts.len(), 3);
    for (i, p) in parts.iter().enumerate() {
        assert!(p.ends_with(&format!("_+48700800901_{i:02}.txt")), "{p}");
    }
    d.sim
        .wait_until(T, |x| x.stored.is_empty())
        .await
        .expect("deleted from the SIM");
    d.stop().await;
}

fn gammu_available() -> bool {
    let found = Command::new("gammu-smsd").arg("--version").output().is_ok()
        && Command::new("gammu-smsd-inject")
            .arg("--version")
            .output()
            .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "gammu-smsd is not installed: scripts/install-test-deps.sh installs it"
        );
        eprintln!(
            "\n!!!!! SKIPPED: gammu-smsd is not installed (apt-get install gammu-smsd) !!!!!\n"
        );
    }
    found
}

fn gammu_rc(s: &Setup, device: &Path) -> PathBuf {
    let rc = s.path("smsdrc");
    let d = s.dir.path().display();
    std::fs::write(
        &rc,
        format!(
            "[gammu]\ndevice = {}\nconnection = at\n\n[smsd]\nservice = files\noutboxformat = unicode\ninboxpath = {d}/inbox/\noutboxpath = {d}/outbox/\nsentsmspath = {d}/sent/\nerrorsmspath = {d}/error/\nphoneid = gammu\ncommtimeout = 1\nloopsleep = 1\nreceivefrequency = 600\nstatusfrequency = 0\nlogfile = {d}/smsd.log\ndebuglevel = 1\n",
            device.display()
        ),
    )
    .unwrap();
    rc
}

/// Files written by smsgw's inject are sent by the real gammu-smsd, and files written by the
/// real gammu-smsd-inject are sent by smsgw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gammu_smsd_and_smsgw_read_each_others_files() {
    if !gammu_available() {
        return;
    }
    let s = Setup::new("");
    for d in ["inbox", "outbox", "sent", "error"] {
        std::fs::create_dir_all(s.path(d)).unwrap();
    }
    s.inject(&["TEXT", "+48600100200", "--text", "from smsgw to gammu-smsd"]);
    let sim = Sim::new(SimConfig::default());
    let mut pty = sim.attach_pty(None).unwrap();
    let device = pty.wait_path().await.unwrap();
    let rc = gammu_rc(&s, &device);
    let mut smsd = Command::new("gammu-smsd")
        .arg("-c")
        .arg(&rc)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let got = sim
        .wait_until(Duration::from_secs(120), |x| !x.sent.is_empty())
        .await;
    let sent_dir = wait_files(&s.path("sent"), |f| !f.is_empty()).await;
    let _ = smsd.kill();
    let _ = smsd.wait();
    let log = std::fs::read_to_string(s.path("smsd.log")).unwrap_or_default();
    let got = got
        .unwrap_or_else(|_| panic!("gammu-smsd sent nothing; its log:\n{log}"))
        .sent;
    assert_eq!(
        (got[0].to.as_str(), got[0].text.as_str()),
        ("+48600100200", "from smsgw to gammu-smsd")
    );
    assert_eq!(
        sent_dir.len(),
        1,
        "gammu-smsd moved the file to sent: {sent_dir:?}"
    );

    // The other way: gammu-smsd-inject writes, smsgw sends.
    let out = Command::new("gammu-smsd-inject")
        .arg("-c")
        .arg(&rc)
        .args([
            "TEXT",
            "+48600100201",
            "-text",
            "from gammu-smsd-inject to smsgw",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = Daemon::start(&s, SimConfig::default(), "").await;
    let sent = d
        .sim
        .wait_until(T, |x| !x.sent.is_empty())
        .await
        .expect("smsgw sent it")
        .sent;
    assert_eq!(
        (sent[0].to.as_str(), sent[0].text.as_str()),
        ("+48600100201", "from gammu-smsd-inject to smsgw")
    );
    wait_files(&s.path("sent"), |f| f.len() == 2).await;
    d.stop().await;
}
