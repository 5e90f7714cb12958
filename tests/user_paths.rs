//! The paths every user walks, proved the way a user walks them: the release binary started
//! as a process (standard input closed, in the background, stopped by signals), the
//! simulated modem in a process of its own on a real pseudo-terminal (as `smsgw sim &`),
//! received messages made by libGammu (python3-gammu, `tests/peers/gammu_pdu.py`), not by
//! our encoder, and checked as a user checks them: the hook's output, the inbox, the process
//! gone within 2 s and its PID file and control socket removed.
//!
//! The release binary is built by the first test that needs it (`cargo build --release`),
//! so `cargo test` alone runs these too; CI's package step reuses that build.
//! `SMSGW_TEST_BIN=/usr/bin/smsgw` tests another binary instead (an installed package, an
//! older build).

mod run;
mod servers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use run::process::*;
use servers::{Kind, Proxy, TestDb};

/// A hook that records its arguments and environment, one file per run, in `dir/hooks`:
/// configured as `"DIR/hook KIND"`, so each run says which hook it was.
fn hook_script(dir: &Path) -> PathBuf {
    let hooks = dir.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let script = dir.join("hook");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nkind=$1; shift\nf=$(mktemp \"{h}/$kind.XXXXXX\")\n{{ printf 'ARGS=%s\\0' \"$*\"; env -0; }} > \"$f.tmp\" && mv \"$f.tmp\" \"$f.run\" && rm -f \"$f\"\n",
            h = hooks.display()
        ),
    )
    .unwrap();
    let mut perm = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&script, perm).unwrap();
    script
}

/// One run of a hook: `ARGS` and the variables Gammu's hooks get.
type HookRun = BTreeMap<String, String>;

/// The runs of hook `kind` so far, oldest first.
fn hook_runs(dir: &Path, kind: &str) -> Vec<HookRun> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir.join("hooks"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "run")
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{kind}.")))
                })
                .map(|p| (std::fs::metadata(&p).unwrap().modified().unwrap(), p))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|(_, p)| {
            std::fs::read(&p)
                .unwrap()
                .split(|b| *b == 0)
                .filter_map(|kv| {
                    let kv = String::from_utf8_lossy(kv);
                    let (k, v) = kv.split_once('=')?;
                    (k == "ARGS"
                        || k == "PHONE_ID"
                        || k.starts_with("SMS_")
                        || k.starts_with("SMSGW_")
                        || k.starts_with("DECODED_"))
                    .then(|| (k.to_string(), v.to_string()))
                })
                .collect()
        })
        .collect()
}

fn wait_hook_runs(dir: &Path, kind: &str, n: usize, log: impl Fn() -> String) -> Vec<HookRun> {
    let deadline = Instant::now() + T;
    loop {
        let runs = hook_runs(dir, kind);
        if runs.len() >= n {
            return runs;
        }
        assert!(
            Instant::now() < deadline,
            "{} run(s) of the {kind} hook, expected {n}:\n{}",
            runs.len(),
            log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The received messages libGammu made (see `tests/peers/gammu_pdu.py`).
/// The messages in the order they are delivered, with how many parts each has.
const CASES: [(&str, usize); 5] = [
    ("single_gsm", 1),
    ("single_ucs2", 1),
    ("two_part", 2),
    ("three_part_ucs2", 3),
    ("class0", 1),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Store {
    Sqlite,
    Files,
    Null,
    Postgres,
}

/// Every kind of received message, then a status report, through the modem into `store`:
/// `run_on_receive` runs exactly once for each, with Gammu's arguments and environment, and
/// the message is where the storage keeps it.
fn receive_everything(store: Store, storage_toml: &str, dir: &Path) {
    let sim = Sim::start(dir, &["--report-delay", "3600000"]);
    let hook = hook_script(dir);
    let mut daemon = Daemon::start(
        dir,
        &format!(
            "{storage_toml}\n[[phone]]\nid = \"gsm1\"\ndevice = \"{}\"\nreceive_frequency = 60\n\n[sending]\ndelivery_reports = true\n\n[hooks]\nrun_on_receive = \"{h} receive\"\nrun_on_sent = \"{h} sent\"\n",
            sim.link.display(),
            h = hook.display()
        ),
    );
    daemon.wait_started();
    daemon.wait_log("connected");
    let peer = peer_messages();
    let mut expected_runs = 0;
    for (name, parts) in CASES {
        for pdu in peer[name].as_array().unwrap() {
            let answer = sim.tell(&format!("deliver {}", pdu.as_str().unwrap()));
            assert_eq!(answer.trim(), "delivered", "{answer}");
        }
        expected_runs += 1;
        let runs = wait_hook_runs(dir, "receive", expected_runs, || daemon.log());
        let run = &runs[expected_runs - 1];
        let text = peer["texts"][name].as_str().unwrap();
        assert_eq!(run["SMS_MESSAGES"], parts.to_string(), "{name}: {run:#?}");
        assert_eq!(run["DECODED_PARTS"], "1", "{name}: {run:#?}");
        assert_eq!(run["DECODED_1_TEXT"], text, "{name}: {run:#?}");
        assert_eq!(run["PHONE_ID"], "gsm1", "{name}");
        for n in 1..=parts {
            assert_eq!(run[&format!("SMS_{n}_NUMBER")], "+48600111222", "{name}");
            assert!(
                !run[&format!("SMS_{n}_TIMESTAMP")].is_empty(),
                "{name}: {run:#?}"
            );
            assert!(run[&format!("SMS_{n}_DATETIME")].contains('T'), "{name}");
        }
        let class = if name == "class0" { "0" } else { "-1" };
        assert_eq!(run["SMS_1_CLASS"], class, "{name}");
        if parts == 1 {
            assert_eq!(run["SMS_1_TEXT"], text, "{name}");
        }
        let args: Vec<&str> = run["ARGS"].split_whitespace().collect();
        match store {
            Store::Null => assert!(args.is_empty(), "{name}: {args:?}"),
            Store::Sqlite | Store::Postgres => {
                assert_eq!(args.len(), parts, "{name}: one inbox ID a part: {args:?}");
                assert!(args.iter().all(|a| a.parse::<i64>().is_ok()), "{args:?}");
            }
            Store::Files => {
                assert_eq!(args.len(), parts, "{name}: one file a part: {args:?}");
                for a in &args {
                    assert!(a.starts_with("IN") && a.ends_with(".txt"), "{a}");
                    assert!(
                        dir.join("inbox").join(a).exists(),
                        "{a} is not in the inbox"
                    );
                }
            }
        }
    }
    // A status report on a message sent with a report asked for.
    if store != Store::Null {
        daemon.inject(&["TEXT", "+48123456789", "--text", "Report me", "--report"]);
        wait_for("the modem to send", || !sim.sent().is_empty());
        let sent = wait_hook_runs(dir, "sent", 1, || daemon.log());
        let run = &sent[0];
        assert_eq!(run["SMS_1_NUMBER"], "+48123456789", "{run:#?}");
        assert_eq!(run["DECODED_1_TEXT"], "Report me", "{run:#?}");
        assert_eq!(run["PHONE_ID"], "gsm1", "{run:#?}");
        // Gammu's argument: the outbox ID, or the outbox file's name.
        match store {
            Store::Files => assert!(
                run["ARGS"].starts_with("OUT") && run["ARGS"].contains(".txt"),
                "{run:#?}"
            ),
            _ => assert!(run["ARGS"].parse::<i64>().is_ok(), "{run:#?}"),
        }
    }
    let mr = sim.sent().first().map_or(7, |s| s["mr"].as_u64().unwrap());
    let answer = sim.tell(&format!("deliver {}", peer_report(mr, "+48123456789")));
    assert_eq!(answer.trim(), "delivered");
    let runs = wait_hook_runs(dir, "receive", CASES.len() + 1, || daemon.log());
    let report = runs.last().unwrap();
    assert_eq!(report["SMS_1_TEXT"], "Delivered", "{report:#?}");
    assert_eq!(report["SMS_1_REFERENCE"], mr.to_string(), "{report:#?}");
    assert_eq!(report["SMS_1_NUMBER"], "+48123456789", "{report:#?}");
    assert_eq!(report["ARGS"], "", "{report:#?}");
    // The sentitems row it matched, for the SQL storages (empty elsewhere, as Gammu).
    match store {
        Store::Sqlite | Store::Postgres => {
            assert!(
                report["SMS_1_SENT_ID"].parse::<i64>().is_ok(),
                "{report:#?}"
            )
        }
        Store::Files | Store::Null => assert_eq!(report["SMS_1_SENT_ID"], "", "{report:#?}"),
    }
    // Once each: nothing ran twice.
    assert_eq!(hook_runs(dir, "receive").len(), CASES.len() + 1);
    // Every message left the SIM once stored (or once the hook took it, for null).
    wait_for("the SIM to be empty", || {
        sim.tell("status").contains("stored 0 message(s)")
    });
    daemon.stop();
}

fn sqlite_count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn sqlite_receives_every_kind_of_message_and_runs_the_hook_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    receive_everything(
        Store::Sqlite,
        &format!("[storage]\nkind = \"sqlite\"\npath = \"{d}/smsgw.db\"\n"),
        dir.path(),
    );
    let db = dir.path().join("smsgw.db");
    assert_eq!(sqlite_count(&db, "SELECT count(*) FROM inbox"), 8);
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT count(*) FROM sentitems WHERE Status = 'DeliveryOK'"
        ),
        1
    );
}

#[test]
fn files_storage_passes_the_file_names_as_gammu_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    for f in ["inbox", "outbox", "sent", "error"] {
        std::fs::create_dir_all(dir.path().join(f)).unwrap();
    }
    receive_everything(
        Store::Files,
        &format!("[storage]\nkind = \"files\"\ninbox_path = \"{d}/inbox\"\noutbox_path = \"{d}/outbox\"\nsent_path = \"{d}/sent\"\nerror_path = \"{d}/error\"\n"),
        dir.path(),
    );
    let inbox = std::fs::read_dir(dir.path().join("inbox"))
        .unwrap()
        .filter(|e| {
            let name = e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .into_owned();
            name.starts_with("IN") && name.ends_with(".txt")
        })
        .count();
    assert_eq!(inbox, 8, "one file a part");
}

#[test]
fn null_storage_commits_by_the_hook_and_joins_parts_on_the_sim() {
    let dir = tempfile::tempdir().unwrap();
    receive_everything(Store::Null, "[storage]\nkind = \"null\"\n", dir.path());
}

#[test]
fn postgres_receives_every_kind_of_message_and_runs_the_hook_once_each() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(TestDb::create(Kind::Postgres)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    receive_everything(Store::Postgres, &db.toml(), dir.path());
    let count = |sql: &str| -> i64 {
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut c)
                .await
                .unwrap()
        })
    };
    assert_eq!(count("SELECT count(*) FROM inbox"), 8);
    assert_eq!(
        count("SELECT count(*) FROM sentitems WHERE \"Status\" = 'DeliveryOK'"),
        1
    );
}

#[test]
fn a_failed_delivery_is_logged_counted_in_monitor_and_runs_run_on_report() {
    let dir = tempfile::tempdir().unwrap();
    let hook = hook_script(dir.path());
    let (sim, mut daemon) = modem_and_daemon(
        dir.path(),
        &["--report-delay", "3600000"],
        "",
        &format!("[hooks]\nrun_on_report = \"{} report\"\n", hook.display()),
    );
    daemon.wait_log("connected");
    daemon.inject(&["TEXT", "+48123456789", "-text", "Are you there?", "-report"]);
    wait_for("the modem to send", || sim.sent().len() == 1);
    let db = dir.path().join("smsgw.db");
    wait_for("the sentitems row", || {
        sqlite_count(
            &db,
            "SELECT count(*) FROM sentitems WHERE Status = 'SendingOK'",
        ) == 1
    });
    let mr = sim.sent()[0]["mr"].as_u64().unwrap();
    sim.tell(&format!(
        "deliver {}",
        peer_report_status(mr, "+48123456789", 64)
    ));
    let runs = wait_hook_runs(dir.path(), "report", 1, || daemon.log());
    let id = sqlite_count(&db, "SELECT ID FROM sentitems");
    assert_eq!(runs[0]["ARGS"], id.to_string(), "{:#?}", runs[0]);
    assert_eq!(runs[0]["SMSGW_DELIVERY"], "DeliveryFailed");
    assert_eq!(runs[0]["SMSGW_STATUS"], "64");
    assert_eq!(runs[0]["SMS_1_NUMBER"], "+48123456789");
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT count(*) FROM sentitems WHERE Status = 'DeliveryFailed'"
        ),
        1
    );
    assert!(
        daemon
            .log()
            .contains("status report: delivery failed, TP-ST 0x40"),
        "{}",
        daemon.log()
    );
    let monitor = Command::new(release_bin())
        .args(["monitor", "-n", "1", "-c"])
        .arg(&daemon.config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&monitor.stdout);
    assert!(text.contains("Undelivered: 1"), "{text}");
    assert!(text.contains("Delivered: 0"), "{text}");
    daemon.stop();
}

#[test]
fn doctor_names_the_running_daemon_as_the_holder_of_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, mut daemon) = modem_and_daemon(dir.path(), &[], "", "");
    daemon.wait_log("connected");
    let out = Command::new(release_bin())
        .args(["doctor", "-c"])
        .arg(&daemon.config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let pid = daemon.child.as_ref().unwrap().id();
    assert!(
        text.contains(&format!("smsgw run (PID {pid})")) && text.contains("that is smsgw itself"),
        "{text}"
    );
    assert!(!text.contains("ModemManager"), "{text}");
    daemon.stop();
}

#[test]
fn a_message_held_for_want_of_network_goes_when_the_network_returns() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, mut daemon) = modem_and_daemon(
        dir.path(),
        &["--no-network"],
        "status_frequency = 600",
        "[sending]\nretry_timeout = 600\n",
    );
    daemon.wait_log("connected");
    daemon.inject(&["TEXT", "+48123456789", "-text", "Waiting for a network"]);
    daemon.wait_log("no network to send");
    // The outbox says why it waits.
    let list = Command::new(release_bin())
        .args(["outbox", "list", "-c"])
        .arg(&daemon.config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("331"), "{text}");
    let show = Command::new(release_bin())
        .args(["outbox", "show", "1", "-c"])
        .arg(&daemon.config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("Last error: +CMS ERROR: 331 (no network service)"),
        "{text}"
    );
    assert!(sim.sent().is_empty());
    // The modem registers (+CREG: 1): sent on that, not on the next status poll or retry.
    assert_eq!(sim.tell("network on").trim(), "network on");
    daemon.wait_log("the network is back: sending");
    wait_for("the message to go out", || sim.sent().len() == 1);
    daemon.stop();
}

// ---- Stopping from every state: SIGTERM (or SIGINT), exit 0 within 2 s, files removed.

/// A backgrounded simulator started with `sim_args`, and a daemon on it with SQLite: its
/// `[[phone]]` gets `phone`, the config ends with `rest`.
fn modem_and_daemon(dir: &Path, sim_args: &[&str], phone: &str, rest: &str) -> (Sim, Daemon) {
    let sim = Sim::start(dir, sim_args);
    let daemon = Daemon::start(
        dir,
        &format!("{}{}{rest}", sqlite_toml(dir), phone_toml(&sim, phone)),
    );
    (sim, daemon)
}

fn sqlite_toml(dir: &Path) -> String {
    format!(
        "[storage]\nkind = \"sqlite\"\npath = \"{}/smsgw.db\"\n",
        dir.display()
    )
}

fn phone_toml(sim: &Sim, extra: &str) -> String {
    format!(
        "[[phone]]\nid = \"gsm1\"\ndevice = \"{}\"\n{extra}\n",
        sim.link.display()
    )
}

#[test]
fn stops_while_starting_with_the_storage_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut daemon = Daemon::start(
        dir.path(),
        &format!("[storage]\nkind = \"postgres\"\nurl = \"postgres://postgres@127.0.0.1:{port}/smsgw\"\ntls = \"disable\"\n"),
    );
    daemon.wait_started();
    daemon.wait_log("trying again");
    daemon.stop();
}

#[test]
fn stops_while_waiting_for_the_pin_after_run_on_failure_init() {
    let dir = tempfile::tempdir().unwrap();
    let hook = hook_script(dir.path());
    let (_sim, mut daemon) = modem_and_daemon(
        dir.path(),
        &["--pin", "1234"],
        "",
        &format!("[hooks]\nrun_on_failure = \"{} failure\"\n", hook.display()),
    );
    daemon.wait_log("PIN");
    // Gammu's RunOnFailure with INIT: the modem could not be set up.
    let runs = wait_hook_runs(dir.path(), "failure", 1, || daemon.log());
    assert_eq!(runs[0]["ARGS"], "INIT", "{:#?}", runs[0]);
    assert_eq!(runs[0]["PHONE_ID"], "gsm1");
    daemon.stop();
}

#[test]
fn run_on_failure_for_each_failed_attempt_then_run_on_sent_and_run_on_incoming_call() {
    let dir = tempfile::tempdir().unwrap();
    let hook = hook_script(dir.path());
    let h = hook.display();
    let (sim, mut daemon) = modem_and_daemon(dir.path(), &["--fail-sends", "1", "--fail-code", "38"], "", &format!("[sending]\nmax_retries = 2\nretry_timeout = 1\n\n[hooks]\nrun_on_sent = \"{h} sent\"\nrun_on_failure = \"{h} failure\"\nrun_on_incoming_call = \"{h} call\"\n"));
    daemon.wait_log("connected");
    let out = daemon.inject(&["TEXT", "+48123456789", "--text", "Second time lucky"]);
    let id = out
        .trim()
        .rsplit(' ')
        .next()
        .expect("Written message with ID <id>")
        .to_string();
    let failed = wait_hook_runs(dir.path(), "failure", 1, || daemon.log());
    assert_eq!(failed[0]["ARGS"], id, "{:#?}", failed[0]);
    assert_eq!(failed[0]["SMSGW_FINAL"], "no", "{:#?}", failed[0]);
    assert!(failed[0]["SMSGW_ERROR"].contains("38"), "{:#?}", failed[0]);
    let sent = wait_hook_runs(dir.path(), "sent", 1, || daemon.log());
    assert_eq!(sent[0]["ARGS"], id);
    assert_eq!(sent[0]["DECODED_1_TEXT"], "Second time lucky");
    assert_eq!(hook_runs(dir.path(), "failure").len(), 1);
    // A call: the caller's number as argument.
    sim.tell("ring +48600111222");
    let calls = wait_hook_runs(dir.path(), "call", 1, || daemon.log());
    assert_eq!(calls[0]["ARGS"], "+48600111222", "{:#?}", calls[0]);
    assert_eq!(calls[0]["PHONE_ID"], "gsm1");
    daemon.stop();
}

#[test]
fn stops_in_the_reconnect_back_off_with_the_modem_unplugged() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, mut daemon) = modem_and_daemon(dir.path(), &[], "", "");
    daemon.wait_log("connected");
    // Unplugged for good: the device does not come back (smsgw 0.1 waited 30 s for it).
    drop(sim);
    daemon.wait_log("reconnecting");
    daemon.stop();
}

#[test]
fn stops_inside_an_at_command_the_modem_does_not_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, mut daemon) = modem_and_daemon(dir.path(), &[], "status_frequency = 1", "");
    daemon.wait_log("connected");
    assert_eq!(sim.tell("hang").trim(), "hanging");
    // The next status poll waits for an answer that does not come.
    let sent = daemon.log().matches("AT+CSQ").count();
    wait_for("a status poll to the hung modem", || {
        daemon.log().matches("AT+CSQ").count() > sent
    });
    daemon.stop();
}

#[test]
fn stops_mid_send_and_keeps_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, mut daemon) = modem_and_daemon(dir.path(), &["--send-delay", "20000"], "", "");
    daemon.wait_log("connected");
    daemon.inject(&["TEXT", "+48123456789", "--text", "Slow network"]);
    daemon.wait_log("AT+CMGS=");
    daemon.stop_with(nix::sys::signal::Signal::SIGINT);
    // Not lost: still in the outbox, to be sent after the restart.
    let db = dir.path().join("smsgw.db");
    assert_eq!(sqlite_count(&db, "SELECT count(*) FROM outbox"), 1);
}

#[test]
fn stops_while_the_database_is_away_and_retried() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(TestDb::create(Kind::Postgres)) else {
        return;
    };
    let proxy = rt.block_on(Proxy::start(5432));
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(dir.path(), &[]);
    let mut daemon = Daemon::start(
        dir.path(),
        &format!(
            "[storage]\nkind = \"postgres\"\nurl = \"{}\"\ntls = \"disable\"\npoll_interval = 100\n{}",
            db.url_via(proxy.port),
            phone_toml(&sim, "")
        ),
    );
    daemon.wait_log("connected");
    let _enter = rt.enter();
    proxy.set_cut(true);
    // A received message cannot be stored while the database is away: it stays on the SIM
    // and the daemon tries again.
    let peer = peer_messages();
    sim.tell(&format!(
        "deliver {}",
        peer["single_gsm"][0].as_str().unwrap()
    ));
    daemon.wait_log("left on the SIM");
    daemon.stop();
    assert!(sim.tell("status").contains("stored 1 message(s)"));
}

#[test]
fn stops_in_the_back_off_of_an_http_gateway_that_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut daemon = Daemon::start(
        dir.path(),
        &format!(
            "{}[[transport]]\nid = \"gw\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/send?to={{phone}}&text={{text}}\"\n",
            sqlite_toml(dir.path())
        ),
    );
    daemon.wait_started();
    daemon.inject(&["TEXT", "+48123456789", "--text", "Nobody listens"]);
    daemon.wait_log("gw");
    wait_for("the gateway to be marked down", || {
        let log = daemon.log();
        log.contains("refused") || log.contains("route down") || log.contains("connect")
    });
    daemon.stop();
}

#[test]
fn stops_while_a_hook_runs() {
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("hook-started");
    let (sim, mut daemon) = modem_and_daemon(
        dir.path(),
        &[],
        "",
        &format!(
            "[hooks]\nrun_on_receive = \"/bin/sh -c 'touch {}; exec sleep 30'\"\n",
            started.display()
        ),
    );
    daemon.wait_log("connected");
    sim.tell("sms +48600111222 Wake the hook");
    wait_for("the hook to start", || started.exists());
    daemon.stop();
}

#[test]
fn the_simulator_serves_on_with_its_input_closed_until_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::start(dir.path(), &[]);
    // Standard input was /dev/null from the start: it is still there and answers.
    assert!(sim.tell("status").starts_with("sent 0 PDU(s)"));
    assert!(
        sim.child.try_wait().unwrap().is_none(),
        "the simulator exited"
    );
    // A daemon uses it (the path of the README's "Try it" with a backgrounded sim).
    let mut daemon = Daemon::start(
        dir.path(),
        &format!("{}{}", sqlite_toml(dir.path()), phone_toml(&sim, "")),
    );
    daemon.wait_log("connected");
    daemon.inject(&["TEXT", "+48123456789", "--text", "Hello"]);
    wait_for("the modem to send", || sim.sent().len() == 1);
    daemon.stop();
    let pid = nix::unistd::Pid::from_raw(sim.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(sim.child.wait().unwrap().success());
    assert!(!sim.link.exists() && !sim.control.exists());
}

/// A phone bound by IMEI finds its modem among ports with other names, leaves the modem of a
/// phone bound by path and a port that is no modem alone, follows its modem when it comes
/// back under another name (a re-plug), sends what was queued meanwhile through it and no
/// other; a phone bound by ICCID follows its SIM into another modem; `smsgw modems` shows
/// who serves what; SIGTERM stops it while it looks.
#[test]
fn a_phone_bound_by_imei_follows_its_modem_to_another_port() {
    let dir = tempfile::tempdir().unwrap();
    let ports = dir.path().join("ports");
    let (a_dir, b_dir, b2_dir, c_dir, c2_dir) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("b2"),
        dir.path().join("c"),
        dir.path().join("c2"),
    );
    for d in [&ports, &a_dir, &b_dir, &b2_dir, &c_dir, &c2_dir] {
        std::fs::create_dir_all(d).unwrap();
    }
    let a = Sim::start_at(
        &a_dir,
        &ports.join("ttyUSB0"),
        &["--imei", "111111111111116"],
    );
    let b = Sim::start_at(
        &b_dir,
        &ports.join("ttyUSB1"),
        &["--imei", "353270040000019"],
    );
    // Phone c is bound to its SIM card.
    let sim_card = ["--iccid", "89480000000000000017"];
    let c = Sim::start_at(
        &c_dir,
        &ports.join("ttyACM0"),
        &[&["--imei", "222222222222220"][..], &sim_card].concat(),
    );
    // A port that answers nothing (a GPS, a console): a pseudo-terminal nobody serves.
    let silent = nix::pty::openpty(None, None).unwrap();
    let silent_name = std::fs::read_link(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&silent.slave)
    ))
    .unwrap();
    std::os::unix::fs::symlink(&silent_name, ports.join("ttyUSB2")).unwrap();

    let body = format!(
        "modem_search = [\"{}/*\"]\n\n{}[[phone]]\nid = \"a\"\ndevice = \"{}\"\n\n[[phone]]\nid = \"b\"\ndevice = \"imei:353270040000019\"\n\n[[phone]]\nid = \"c\"\ndevice = \"iccid:89480000000000000017\"\n",
        ports.display(),
        sqlite_toml(dir.path()),
        ports.join("ttyUSB0").display()
    );
    let mut daemon = Daemon::start(dir.path(), &body);
    let found_on = |port: &str| format!("device={}", ports.join(port).display());
    daemon.wait_log(&found_on("ttyUSB1"));
    daemon.inject(&[
        "TEXT",
        "+48123456789",
        "--text",
        "By IMEI",
        "--phone-id",
        "b",
    ]);
    wait_for("modem b to send", || b.sent().len() == 1);

    // `smsgw modems` while the daemon runs: both modems are in use and named by phone.
    let out = Command::new(release_bin())
        .args(["modems", "--json", "-c"])
        .arg(&daemon.config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["port"].as_str() == Some(ports.join(name).to_str().unwrap()))
            .unwrap_or_else(|| panic!("{name} not listed: {rows:#}"))
            .clone()
    };
    assert_eq!(row("ttyUSB0")["state"], "in use", "{rows:#}");
    assert_eq!(row("ttyUSB0")["phone"], "a", "{rows:#}");
    assert_eq!(row("ttyUSB1")["phone"], "b", "{rows:#}");
    assert_eq!(row("ttyUSB1")["imei"], "353270040000019", "{rows:#}");
    assert_eq!(row("ttyUSB2")["state"], "no answer", "{rows:#}");

    // Unplugged: the modem goes away; a message queued meanwhile waits for it.
    drop(b);
    std::fs::remove_file(ports.join("ttyUSB1")).ok();
    daemon.wait_log("reconnecting");
    daemon.inject(&[
        "TEXT",
        "+48123456789",
        "--text",
        "While away",
        "--phone-id",
        "b",
    ]);
    // Plugged in again, under another name.
    let b2 = Sim::start_at(
        &b2_dir,
        &ports.join("ttyUSB5"),
        &["--imei", "353270040000019"],
    );
    daemon.wait_log(&found_on("ttyUSB5"));
    wait_for("modem b to send what waited", || b2.sent().len() == 1);
    assert!(
        a.sent().is_empty(),
        "b's messages went out through a: {:?}",
        a.sent()
    );
    assert_eq!(b2.sent()[0]["text"], "While away");

    // The SIM of phone c moves to another modem, on another port: the phone follows it.
    daemon.wait_log(&found_on("ttyACM0"));
    drop(c);
    std::fs::remove_file(ports.join("ttyACM0")).ok();
    daemon.inject(&[
        "TEXT",
        "+48123456789",
        "--text",
        "Same SIM",
        "--phone-id",
        "c",
    ]);
    let c2 = Sim::start_at(
        &c2_dir,
        &ports.join("ttyACM3"),
        &[&["--imei", "333333333333335"][..], &sim_card].concat(),
    );
    daemon.wait_log(&found_on("ttyACM3"));
    wait_for("the SIM's new modem to send", || c2.sent().len() == 1);
    assert_eq!(c2.sent()[0]["text"], "Same SIM");
    assert!(a.sent().is_empty(), "{:?}", a.sent());

    // Unplugged again; SIGTERM while the phone looks for it.
    drop(b2);
    let looking = || {
        daemon
            .log()
            .matches("no modem with IMEI 353270040000019")
            .count()
    };
    let before = looking();
    wait_for("phone b to look for its modem again", || looking() > before);
    daemon.stop();
}

/// A modem that refuses PDU mode, as a user meets it: the daemon says it falls back to text
/// mode, sends a message with a status report and stores the report, and stores a received
/// message with its accented letters.
#[test]
fn a_text_mode_only_modem_sends_and_receives() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(dir.path(), &["--text-only"]);
    let mut daemon = Daemon::start(
        dir.path(),
        &format!("{}{}", sqlite_toml(dir.path()), phone_toml(&sim, "")),
    );
    daemon.wait_log("text mode with the UCS2 character set");
    daemon.inject(&[
        "TEXT",
        "+48123456789",
        "--text",
        "Zażółć, text mode",
        "--report",
    ]);
    wait_for("the modem to send", || sim.sent().len() == 1);
    assert_eq!(sim.sent()[0]["text"], "Zażółć, text mode");
    let db = dir.path().join("smsgw.db");
    wait_for_or(
        "the status report stored",
        || {
            sqlite_count(
                &db,
                "SELECT count(*) FROM sentitems WHERE Status = 'DeliveryOK'",
            ) == 1
        },
        || daemon.log(),
    );
    sim.tell("sms +48600111222 Dzień dobry z trybu tekstowego");
    wait_for_or(
        "the received message stored",
        || {
            sqlite_count(
                &db,
                "SELECT count(*) FROM inbox WHERE TextDecoded = 'Dzień dobry z trybu tekstowego' AND SenderNumber = '+48600111222'",
            ) == 1
        },
        || daemon.log(),
    );
    daemon.stop();
}
