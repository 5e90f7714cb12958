//! The daemon end to end: `smsgw::daemon::run` with real SQLite files and simulated modems
//! on real pseudo-terminals (through a stable symlink, as /dev/serial/by-id gives one).
//! CI runs this file a second time under `TZ=UTC+3`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rusqlite::Connection;
use smsgw::config::Config;
use smsgw::pdu::{self, Pdu};
use smsgw::sim::{PtyHandle, Sim, SimConfig};
use tempfile::TempDir;
use tokio::sync::watch;

const T: Duration = Duration::from_secs(30);

struct Modem {
    sim: Sim,
    _pty: PtyHandle,
    link: PathBuf,
}

struct Daemon {
    dir: TempDir,
    modems: Vec<Modem>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    config: PathBuf,
}

impl Daemon {
    /// A daemon with one phone per simulator config; `extra` is appended to the config.
    async fn start(sims: Vec<SimConfig>, phone_extra: &str, extra: &str) -> Daemon {
        Daemon::start_with(sims, phone_extra, extra, "sqlite").await
    }

    async fn start_with(
        sims: Vec<SimConfig>,
        phone_extra: &str,
        extra: &str,
        storage: &str,
    ) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let mut text = format!(
            "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n\n[storage]\nkind = \"{storage}\"\npath = \"{d}/smsgw.db\"\n\n",
            d = dir.path().display()
        );
        let mut modems = Vec::new();
        for (i, cfg) in sims.into_iter().enumerate() {
            let sim = Sim::new(cfg);
            let link = dir.path().join(format!("modem{i}"));
            let pty = sim.attach_pty(Some(link.clone())).unwrap();
            text.push_str(&format!(
                "[[phone]]\nid = \"m{i}\"\ndevice = \"{}\"\nreceive_frequency = 1\ncommand_timeout = 2\nsend_timeout = 3\n{phone_extra}\n",
                link.display()
            ));
            modems.push(Modem {
                sim,
                _pty: pty,
                link,
            });
        }
        text.push_str(extra);
        let config = dir.path().join("smsgw.toml");
        std::fs::write(&config, &text).unwrap();
        let cfg = Config::load(&config).unwrap_or_else(|e| panic!("{e}\n{text}"));
        std::fs::create_dir_all(&cfg.daemon.state_dir).unwrap();
        let storage = smsgw::backends::open(&cfg).await.unwrap();
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(smsgw::daemon::run(cfg, storage, stop_rx));
        Daemon {
            dir,
            modems,
            stop,
            task,
            config,
        }
    }

    fn db(&self) -> Connection {
        let c = Connection::open(self.dir.path().join("smsgw.db")).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c
    }

    fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Waits (bounded) until `sql` counts `want`.
    async fn wait_count(&self, sql: &str, want: i64) {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let n = self.count(sql);
            if n == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{sql} stayed at {n}, wanted {want}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
        .with_env_filter("smsgw=debug")
        .try_init();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_message_goes_out_as_the_right_pdus() {
    init_log();
    let d = Daemon::start(vec![SimConfig::default()], "", "").await;
    let text = "A message in three parts, queued by inject and sent by the daemon. ".repeat(6);
    let out = d.inject(&["TEXT", "+48600100200", "--text", &text]);
    assert!(out.starts_with("Written message with ID "), "{out}");
    let sent = d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 3)
        .await
        .expect("3 PDUs")
        .sent;
    let joined: String = sent.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(joined, text);
    for (i, s) in sent.iter().enumerate() {
        assert_eq!(s.to, "+48600100200");
        assert_eq!(s.part.map(|p| (p.0, p.1)), Some((i as u8 + 1, 3)));
        let Pdu::Submit(sub) = pdu::decode(&pdu::from_hex(&s.pdu).unwrap()).unwrap() else {
            panic!("not a SUBMIT")
        };
        assert!(!sub.status_report_request);
    }
    d.wait_count(
        "SELECT count(*) FROM sentitems WHERE Status = 'SendingOKNoReport' AND SenderID = 'm0'",
        3,
    )
    .await;
    d.wait_count("SELECT count(*) FROM outbox", 0).await;
    assert_eq!(
        d.count("SELECT TPMR FROM sentitems WHERE SequencePosition = 3"),
        2
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_inserted_by_plain_sql_is_sent() {
    init_log();
    let d = Daemon::start(vec![SimConfig::default()], "", "").await;
    // As Kalkun does: only the columns it cares about.
    d.db()
        .execute(
            "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100201', 'Written by a web front-end', 'Kalkun', datetime('now','localtime'), datetime('now','localtime'))",
            [],
        )
        .unwrap();
    let sent = d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 1)
        .await
        .expect("sent")
        .sent;
    assert_eq!(
        (sent[0].to.as_str(), sent[0].text.as_str()),
        ("+48600100201", "Written by a web front-end")
    );
    d.wait_count(
        "SELECT count(*) FROM sentitems WHERE CreatorID = 'Kalkun'",
        1,
    )
    .await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_row_written_by_a_script_is_split_written_back_and_sent() {
    init_log();
    let d = Daemon::start(vec![SimConfig::default()], "", "").await;
    let text = "A script put this whole long text into one row. ".repeat(5);
    d.db()
        .execute(
            "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', ?1, 'script', datetime('now','localtime'), datetime('now','localtime'))",
            [&text],
        )
        .unwrap();
    let sent = d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 2)
        .await
        .expect("2 parts")
        .sent;
    assert_eq!(format!("{}{}", sent[0].text, sent[1].text), text);
    assert_eq!(sent[0].part.map(|p| (p.0, p.1)), Some((1, 2)));
    d.wait_count("SELECT count(*) FROM sentitems WHERE UDH LIKE '050003%'", 2)
        .await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_part_message_arriving_out_of_order_is_stored_gammus_way() {
    init_log();
    let text =
        "Received in three parts, stored as three inbox rows with the whole text in the first. "
            .repeat(4);
    let mut parts = smsgw::sim::deliver_pdus("+48111222333", &text, 42, "+48602000000").unwrap();
    assert_eq!(parts.len(), 3);
    parts.reverse();
    let d = Daemon::start(
        vec![SimConfig {
            inbox: parts,
            ..SimConfig::default()
        }],
        "",
        "",
    )
    .await;
    d.wait_count("SELECT count(*) FROM inbox", 3).await;
    let rows: Vec<(String, String, String, String)> = {
        let c = d.db();
        let mut st = c
            .prepare("SELECT UDH, TextDecoded, SenderNumber, RecipientID FROM inbox ORDER BY UDH")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(rows[0].0, "0500032A0301");
    assert_eq!(rows[0].1, text, "part 1 holds the whole text");
    assert_eq!((rows[1].1.as_str(), rows[2].1.as_str()), ("", ""));
    assert!(rows.iter().all(|r| r.2 == "+48111222333" && r.3 == "m0"));
    // The SIM is emptied, and only after the commit (the parts were stashed first).
    d.modems[0]
        .sim
        .wait_until(T, |s| s.stored.is_empty())
        .await
        .expect("SIM emptied");
    assert_eq!(d.count("SELECT count(*) FROM smsgw_pending_parts"), 0);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_become_delivery_ok() {
    init_log();
    let sim = SimConfig {
        report_pending_first: true,
        report_delay: Duration::from_millis(100),
        ..SimConfig::default()
    };
    let d = Daemon::start(vec![sim], "", "").await;
    d.inject(&["TEXT", "+48600100200", "--text", "report back", "--report"]);
    d.wait_count("SELECT count(*) FROM sentitems WHERE Status = 'DeliveryOK' AND StatusError = 0 AND DeliveryDateTime IS NOT NULL", 1).await;
    let Pdu::Submit(sub) =
        pdu::decode(&pdu::from_hex(&d.modems[0].sim.snapshot().sent[0].pdu).unwrap()).unwrap()
    else {
        panic!()
    };
    assert!(sub.status_report_request);
    d.modems[0]
        .sim
        .wait_until(T, |s| s.stored.is_empty())
        .await
        .expect("reports deleted from the modem");
    assert_eq!(
        d.count("SELECT count(*) FROM inbox"),
        0,
        "reports are not messages"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_sends_are_retried_then_end_in_sending_error() {
    init_log();
    let sim = SimConfig {
        fail_sends: 100,
        fail_code: 42,
        ..SimConfig::default()
    };
    let d = Daemon::start(
        vec![sim],
        "",
        "[sending]\nmax_retries = 1\nretry_timeout = 1\n",
    )
    .await;
    d.inject(&["TEXT", "+48600100200", "--text", "congested"]);
    d.wait_count(
        "SELECT count(*) FROM sentitems WHERE Status = 'SendingError' AND StatusCode = 42",
        1,
    )
    .await;
    assert_eq!(d.count("SELECT count(*) FROM outbox"), 0);
    assert_eq!(d.count("SELECT count(*) FROM smsgw_failures"), 1);
    assert!(d.modems[0].sim.snapshot().sent.is_empty());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_network_keeps_the_retry_budget() {
    init_log();
    let sim = SimConfig {
        no_network: true,
        ..SimConfig::default()
    };
    let d = Daemon::start(
        vec![sim],
        "",
        "[sending]\nmax_retries = 0\nretry_timeout = 1\n",
    )
    .await;
    d.inject(&["TEXT", "+48600100200", "--text", "waits for the network"]);
    // Refused for "no network" again and again, yet never counted as a retry.
    d.modems[0]
        .sim
        .wait_until(T, |s| s.attempts >= 3)
        .await
        .expect("tried again");
    assert_eq!(d.count("SELECT Retries FROM outbox"), 0);
    assert_eq!(d.count("SELECT count(*) FROM sentitems"), 0);
    d.modems[0].sim.set_network(true);
    d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 1)
        .await
        .expect("sent once the network is back");
    d.wait_count(
        "SELECT count(*) FROM sentitems WHERE Status = 'SendingOKNoReport'",
        1,
    )
    .await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_pin_is_not_sent_again_and_the_daemon_keeps_running() {
    init_log();
    let sim = SimConfig {
        pin: Some("1234".into()),
        ..SimConfig::default()
    };
    let d = Daemon::start(vec![sim], "pin = \"0000\"", "").await;
    let memory = d.dir.path().join("state/pin-rejected/m0.txt");
    let deadline = tokio::time::Instant::now() + T;
    while !memory.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rejection was not remembered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(d.modems[0].sim.snapshot().pin_attempts_left, 2);
    assert!(!d.task.is_finished());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplugged_and_back_it_carries_on() {
    init_log();
    let d = Daemon::start(vec![SimConfig::default()], "", "").await;
    d.inject(&["TEXT", "+48600100200", "--text", "before"]);
    d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 1)
        .await
        .expect("first sent");
    d.modems[0].sim.unplug();
    d.modems[0]
        .sim
        .wait_until(T, |s| !s.connected)
        .await
        .expect("gone");
    d.modems[0]
        .sim
        .wait_until(T, |s| s.connected)
        .await
        .expect("reconnected");
    d.inject(&["TEXT", "+48600100200", "--text", "after"]);
    let sent = d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 2)
        .await
        .expect("second sent")
        .sent;
    assert_eq!(sent[1].text, "after");
    assert!(Path::new(&d.modems[0].link).exists());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_modem_is_reconnected_and_the_message_still_goes_out() {
    init_log();
    let d = Daemon::start(
        vec![SimConfig::default()],
        "",
        "[sending]\nmax_retries = 10\nretry_timeout = 1\n",
    )
    .await;
    // Connected and initialised: the phones row is written after init.
    d.wait_count("SELECT count(*) FROM phones", 1).await;
    let woken = d.modems[0].sim.snapshot().wakeups;
    d.modems[0].sim.set_hang(true);
    d.inject(&["TEXT", "+48600100200", "--text", "through a hang"]);
    // The daemon gives up on the silent modem and initialises it again (a new `AT`).
    d.modems[0]
        .sim
        .wait_until(Duration::from_secs(60), |s| s.wakeups > woken)
        .await
        .expect("re-initialised after the hang");
    d.modems[0].sim.set_hang(false);
    let sent = d.modems[0]
        .sim
        .wait_until(Duration::from_secs(60), |s| s.sent.len() == 1)
        .await
        .expect("sent after the hang")
        .sent;
    assert_eq!(sent[0].text, "through a hang");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_on_one_database_send_each_message_once() {
    init_log();
    let d = Daemon::start(vec![SimConfig::default(), SimConfig::default()], "", "").await;
    let c = d.db();
    for i in 0..40 {
        c.execute(
            "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', ?1, 'test', datetime('now','localtime'), datetime('now','localtime'))",
            [format!("message {i}")],
        )
        .unwrap();
    }
    let done =
        |d: &Daemon| d.modems[0].sim.snapshot().sent.len() + d.modems[1].sim.snapshot().sent.len();
    let deadline = tokio::time::Instant::now() + T;
    while done(&d) < 40 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of 40 sent",
            done(&d)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut texts: Vec<String> = d
        .modems
        .iter()
        .flat_map(|m| m.sim.snapshot().sent)
        .map(|s| s.text)
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 40, "every message exactly once");
    assert_eq!(done(&d), 40, "no duplicates");
    d.wait_count("SELECT count(*) FROM sentitems", 40).await;
    d.stop().await;
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn wait_file(path: &Path, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never contained {needle:?}: {text:?}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_get_message_data_in_the_environment_and_never_run_it() {
    init_log();
    let hookdir = tempfile::tempdir().unwrap();
    let log = hookdir.path().join("hook.log");
    let pwned = hookdir.path().join("PWNED");
    let hook = script(
        hookdir.path(),
        "on-receive",
        &format!("{{ echo \"ARGS:$*\"; env | grep -E '^(SMS_|DECODED_|PHONE_ID)' | sort; echo END; }} >> {}", log.display()),
    );
    let sent_hook = script(
        hookdir.path(),
        "on-sent",
        &format!("echo \"SENT:$1:$SMS_1_NUMBER\" >> {}", log.display()),
    );
    let evil = format!(
        "He said \"hi\"; $(touch {}) `touch {}` and\nmore",
        pwned.display(),
        pwned.display()
    );
    let inbox = smsgw::sim::deliver_pdus("+48600111222", &evil, 1, "+48602000000").unwrap();
    let d = Daemon::start(
        vec![SimConfig {
            inbox,
            ..SimConfig::default()
        }],
        "",
        &format!(
            "[hooks]\nrun_on_receive = \"{}\"\nrun_on_sent = \"{}\"\ntimeout = 5\n",
            hook.display(),
            sent_hook.display()
        ),
    )
    .await;
    let text = wait_file(&log, "END").await;
    // The text needs UCS-2 (the backquote) and two parts: one inbox row each.
    assert!(
        text.contains("ARGS:1 2\n"),
        "the inbox IDs are the arguments: {text}"
    );
    assert!(text.contains("SMS_1_NUMBER=+48600111222"), "{text}");
    assert!(text.contains("PHONE_ID=m0"), "{text}");
    assert!(
        text.contains("SMS_MESSAGES=2") && text.contains("DECODED_PARTS=1"),
        "{text}"
    );
    assert!(
        text.contains("$(touch"),
        "the text arrives literally: {text}"
    );
    assert!(!pwned.exists(), "message text was executed");
    let out = d.inject(&["TEXT", "+48600100200", "--text", "hook me"]);
    let id = out.trim().rsplit(' ').next().unwrap().to_string();
    wait_file(&log, &format!("SENT:{id}:+48600100200")).await;
    d.stop().await;
}

fn processes_with(arg: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).split('\0').any(|a| a == arg))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_hook_is_killed_at_its_timeout_while_messages_keep_flowing() {
    init_log();
    let d = Daemon::start(
        vec![SimConfig::default()],
        "",
        "[hooks]\nrun_on_receive = \"sleep 31.4159\"\ntimeout = 1\n",
    )
    .await;
    d.wait_count("SELECT count(*) FROM phones", 1).await;
    for i in 0..3 {
        d.modems[0]
            .sim
            .deliver_text("+48600111222", &format!("message {i}"), 0)
            .unwrap();
    }
    d.wait_count("SELECT count(*) FROM inbox", 3).await;
    d.inject(&["TEXT", "+48600100200", "--text", "still sending"]);
    d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 1)
        .await
        .expect("sent while hooks hang");
    let deadline = tokio::time::Instant::now() + T;
    while processes_with("31.4159") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hanging hooks were not killed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_null_storage_the_hooks_exit_status_is_the_commit() {
    init_log();
    let hookdir = tempfile::tempdir().unwrap();
    let flag = hookdir.path().join("accept");
    let runs = hookdir.path().join("runs");
    let hook = script(
        hookdir.path(),
        "on-receive",
        &format!("echo run >> {}\ntest -e {}", runs.display(), flag.display()),
    );
    let inbox = smsgw::sim::deliver_pdus(
        "+48600111222",
        "keep me until the hook says yes",
        1,
        "+48602000000",
    )
    .unwrap();
    let d = Daemon::start_with(
        vec![SimConfig {
            inbox,
            ..SimConfig::default()
        }],
        "",
        &format!("[hooks]\nrun_on_receive = \"{}\"\n", hook.display()),
        "null",
    )
    .await;
    // The hook fails: the message stays on the SIM, sweep after sweep.
    // The hook ran and failed twice (two sweeps): the message is still there.
    wait_file(&runs, "run\nrun\n").await;
    assert_eq!(
        d.modems[0].sim.snapshot().stored.len(),
        1,
        "not committed, not deleted"
    );
    std::fs::write(&flag, "").unwrap();
    d.modems[0]
        .sim
        .wait_until(T, |s| s.stored.is_empty())
        .await
        .expect("deleted once the hook succeeds");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_scraped_while_the_daemon_sends() {
    init_log();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The simulated network answers any USSD code with "Reply for <code>".
    let d = Daemon::start(
        vec![SimConfig::default()],
        "balance_code = \"*100#\"",
        &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .await;
    d.inject(&["TEXT", "+48600100200", "--text", "counted"]);
    d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 1)
        .await
        .expect("sent");
    let scrape = |path: &'static str| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("metrics port");
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).await.unwrap();
        body
    };
    let deadline = tokio::time::Instant::now() + T;
    let body = loop {
        let b = scrape("/metrics").await;
        if b.contains("smsgw_messages_sent_total{phone=\"m0\"} 1")
            && b.contains("smsgw_phone_balance{phone=\"m0\"} 100")
        {
            break b;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no sent count or balance in\n{b}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    for line in [
        "smsgw_phone_connected{phone=\"m0\"} 1",
        "smsgw_phone_signal_percent{phone=\"m0\"} 65",
        "smsgw_phone_registered{phone=\"m0\",network=\"Sim Network\"} 1",
        "smsgw_send_duration_seconds_count{phone=\"m0\"} 1",
        "smsgw_send_duration_seconds_bucket{phone=\"m0\",le=\"+Inf\"} 1",
        "smsgw_storage_up 1",
    ] {
        assert!(body.contains(line), "missing {line:?} in\n{body}");
    }
    d.wait_count("SELECT count(*) FROM outbox", 0).await;
    assert!(scrape("/metrics").await.contains("smsgw_outbox_depth 0"));
    assert!(scrape("/other").await.starts_with("HTTP/1.1 404"));
    let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["monitor", "-n", "1", "-c"])
        .arg(&d.config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Balance: Reply for *100# (at "), "{text}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_holds_over_a_burst() {
    init_log();
    // 5 per 2 seconds stands in for "10/min" with a shorter clock.
    let d = Daemon::start(vec![SimConfig::default()], "rate = \"5/2s\"", "").await;
    let c = d.db();
    for i in 0..20 {
        c.execute(
            "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', ?1, 'burst', datetime('now','localtime'), datetime('now','localtime'))",
            [format!("burst {i}")],
        )
        .unwrap();
    }
    let sent = d.modems[0]
        .sim
        .wait_until(Duration::from_secs(60), |s| s.sent.len() == 20)
        .await
        .expect("all sent in the end")
        .sent;
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = sent
        .iter()
        .map(|s| chrono::DateTime::parse_from_rfc3339(&s.time).unwrap())
        .collect();
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| (**u - *t) < chrono::Duration::milliseconds(1900))
            .count();
        assert!(
            in_window <= 5,
            "{in_window} sends within 2 s starting at send {i}"
        );
    }
    assert!(
        times[19] - times[0] >= chrono::Duration::seconds(5),
        "the burst was spread out"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_limit_survives_a_restart() {
    init_log();
    let d = Daemon::start(vec![SimConfig::default()], "daily_limit = 3", "").await;
    for i in 0..5 {
        d.inject(&["TEXT", "+48600100200", "--text", &format!("daily {i}")]);
    }
    d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() == 3)
        .await
        .expect("three sent");
    d.wait_count("SELECT count(*) FROM outbox", 2).await;
    let Daemon {
        dir,
        modems,
        stop,
        task,
        config,
    } = d;
    let _ = stop.send(true);
    tokio::time::timeout(T, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // A new daemon on the same database counts the three from sentitems.
    let cfg = Config::load(&config).unwrap();
    let storage = smsgw::backends::open(&cfg).await.unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(smsgw::daemon::run(cfg, storage, stop_rx));
    let d = Daemon {
        dir,
        modems,
        stop,
        task,
        config,
    };
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(["monitor", "-n", "1", "--json", "-c"])
            .arg(&d.config)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("\"limits\":\"3/3 today\"") && text.contains("\"state\":\"connected\"") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "monitor never showed the limit: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Connected and over its limit: the other two wait.
    d.inject(&["TEXT", "+48600100200", "--text", "wake up"]);
    d.wait_count("SELECT count(*) FROM outbox", 3).await;
    assert_eq!(d.modems[0].sim.snapshot().sent.len(), 3);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ussd_round_trip_through_the_daemon() {
    init_log();
    let d = Daemon::start(vec![SimConfig::default()], "", "").await;
    d.wait_count("SELECT count(*) FROM phones", 1).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["ussd", "m0", "*100#", "--store", "-c"])
        .arg(&d.config)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Reply for *100#"
    );
    d.wait_count(
        "SELECT count(*) FROM inbox WHERE Class = 127 AND TextDecoded = 'Reply for *100#'",
        1,
    )
    .await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["ussd", "nope", "*100#", "-c"])
        .arg(&d.config)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no phone \"nope\""));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_dropped_into_the_spool_directory_is_sent() {
    init_log();
    let spool = tempfile::tempdir().unwrap();
    let d = Daemon::start(
        vec![SimConfig::default()],
        "",
        // A rescan an hour away: only the inotify event can take the file in time.
        &format!(
            "[spool]\ndir = \"{}\"\nrescan = 3600\n",
            spool.path().display()
        ),
    )
    .await;
    // The spool is watched once its .taken folder exists.
    let deadline = tokio::time::Instant::now() + T;
    while !spool.path().join(".taken").exists() {
        assert!(tokio::time::Instant::now() < deadline, "the spool started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // As a monitoring script does: write under a dot name, rename in.
    let tmp = spool.path().join(".alert");
    std::fs::write(&tmp, b"To: 48600100207\nQueue: m0\n\nsrv1: disk full\n").unwrap();
    std::fs::rename(&tmp, spool.path().join("alert-1")).unwrap();
    let sent = d.modems[0]
        .sim
        .wait_until(Duration::from_secs(10), |s| !s.sent.is_empty())
        .await
        .expect("sent")
        .sent;
    assert_eq!(
        (sent[0].to.as_str(), sent[0].text.as_str()),
        ("+48600100207", "srv1: disk full")
    );
    d.wait_count(
        "SELECT count(*) FROM sentitems WHERE CreatorID = 'smsgw-spool' AND SenderID = 'm0'",
        1,
    )
    .await;
    assert!(!spool.path().join("alert-1").exists());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_does_not_wait_for_a_long_outbox() {
    init_log();
    let mut d = Daemon::start(
        vec![SimConfig {
            send_delay: Duration::from_millis(25),
            ..SimConfig::default()
        }],
        "",
        "",
    )
    .await;
    // 2,000 messages take about a minute through this modem.
    {
        let mut c = d.db();
        let tx = c.transaction().unwrap();
        for i in 0..2000 {
            tx.execute(
                "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', ?1, 'test', datetime('now','localtime'), datetime('now','localtime'))",
                [format!("long queue {i}")],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    d.modems[0]
        .sim
        .wait_until(T, |s| s.sent.len() >= 20)
        .await
        .expect("sending");
    // Stops within the test's bound (30 s), not after the whole queue.
    let Daemon { stop, task, .. } = &mut d;
    let _ = stop.send(true);
    tokio::time::timeout(T, task)
        .await
        .expect("stops without draining the whole outbox")
        .unwrap()
        .unwrap();
    let left = d.count("SELECT count(*) FROM outbox");
    assert!(left > 1000, "the rest stays queued ({left} left)");
}
