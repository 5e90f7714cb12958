//! Crash safety: `kill -9` of the daemon in the middle of 200 messages, then a restart.
//! Every message is sent, none is lost, and at most the one part in flight is sent twice.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sent(record: &Path) -> Vec<String> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_in_the_middle_of_200_messages_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (link, record) = (d.join("modem"), d.join("sent.jsonl"));
    let mut sim = Proc(
        Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(["sim", "--send-delay", "15", "--link"])
            .arg(&link)
            .arg("--record")
            .arg(&record)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(sim.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let config = d.join("smsgw.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nstate_dir = \"{p}/state\"\ncontrol_socket = \"{p}/control.sock\"\npid_file = \"{p}/smsgw.pid\"\n[storage]\npath = \"{p}/smsgw.db\"\n[[phone]]\nid = \"m1\"\ndevice = \"{}\"\nstatus_frequency = 0\n",
            link.display(),
            p = d.display()
        ),
    )
    .unwrap();
    let run = || {
        Proc(
            Command::new(env!("CARGO_BIN_EXE_smsgw"))
                .args(["run", "-c"])
                .arg(&config)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    // The first run creates the database; queue 200 messages into it.
    let first = run();
    let db = d.join("smsgw.db");
    wait_for("the database", Duration::from_secs(20), || {
        d.join("control.sock").exists()
    });
    {
        let mut c = rusqlite::Connection::open(&db).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        let tx = c.transaction().unwrap();
        for i in 0..200 {
            tx.execute(
                "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', ?1, 'crash', datetime('now','localtime'), datetime('now','localtime'))",
                [format!("message {i}")],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    wait_for("60 messages sent", Duration::from_secs(60), || {
        sent(&record).len() >= 60
    });
    let mut first = first;
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    let at_crash = sent(&record).len();
    assert!(at_crash < 200, "the crash came too late to test anything");
    let second = run();
    wait_for("every message sent", Duration::from_secs(60), || {
        let mut texts = sent(&record);
        texts.sort();
        texts.dedup();
        texts.len() == 200
    });
    let c = rusqlite::Connection::open(&db).unwrap();
    wait_for("the outbox emptied", Duration::from_secs(20), || {
        c.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))
            .unwrap()
            == 0
    });
    drop(second);
    let texts = sent(&record);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &texts {
        *counts.entry(t).or_default() += 1;
    }
    let duplicates = texts.len() - counts.len();
    println!(
        "sent {} PDUs for 200 messages: {duplicates} duplicate(s) after one kill -9 at {at_crash}",
        texts.len()
    );
    assert_eq!(counts.len(), 200, "none lost");
    assert!(
        duplicates <= 1,
        "at most the part in flight is repeated: {duplicates}"
    );
    let rows: i64 = c
        .query_row("SELECT count(*) FROM sentitems", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 200);
}
