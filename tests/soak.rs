//! Soak: messages through two simulated modems (on real pseudo-terminals) that fail sends at
//! random, drop the line and hang, while inbound messages (a third multipart, parts out of
//! order) arrive and the daemon (`smsgw run`, a separate process) is killed with SIGKILL and
//! restarted. At the end: every outbound message sent or in an error state with a reason, at
//! most one duplicate per kill or lost line, every inbound message stored exactly once and
//! gone from the SIM. Prints the figures.
//!
//! The normal test run does a short version; `scripts/soak.sh` runs the full one (5,000
//! outbound, 500 inbound, 3 kills, 5 line drops, a hang): `SMSGW_SOAK=full`.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use smsgw::backends::sql::sqlite::Sqlite;
use smsgw::service::Service;
use smsgw::sim::{PtyHandle, Sim, SimConfig};

struct Scale {
    outbound: usize,
    inbound: usize,
    kills: usize,
    drops: usize,
    hangs: usize,
    deadline: Duration,
}

fn scale() -> Scale {
    match std::env::var("SMSGW_SOAK").as_deref() {
        Ok("full") => Scale {
            outbound: 5000,
            inbound: 500,
            kills: 3,
            drops: 5,
            hangs: 1,
            deadline: Duration::from_secs(900),
        },
        _ => Scale {
            outbound: 400,
            inbound: 45,
            kills: 1,
            drops: 1,
            hangs: 1,
            deadline: Duration::from_secs(240),
        },
    }
}

struct Daemon(Child);

impl Daemon {
    fn start(config: &Path) -> Daemon {
        Daemon(
            Command::new(env!("CARGO_BIN_EXE_smsgw"))
                .arg("run")
                .arg("-c")
                .arg(config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("smsgw run"),
        )
    }

    fn kill(mut self) {
        // SIGKILL: no clean shutdown.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak() {
    let sc = scale();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("smsgw.db");
    let storage = Sqlite::open(&db, 10_000).unwrap();
    storage.init().await.unwrap();
    let storage: Arc<dyn Service> = Arc::new(storage);

    let mut sims = Vec::new();
    let mut ptys: Vec<PtyHandle> = Vec::new();
    let mut config = format!(
        "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\nlog = \"{d}/smsgw.log\"\nlog_level = \"{level}\"\n\n[storage]\npath = \"{}\"\n\n[sending]\nmax_retries = 50\nretry_timeout = 1\n\n",
        db.display(),
        d = dir.path().display(),
        // SMSGW_SOAK_LOG=debug keeps every AT line in smsgw.log.
        level = std::env::var("SMSGW_SOAK_LOG").unwrap_or_else(|_| "info".into())
    );
    for i in 0..2 {
        let sim = Sim::new(SimConfig {
            fail_percent: 10,
            capacity: 40,
            ..SimConfig::default()
        });
        let link = dir.path().join(format!("modem{i}"));
        ptys.push(sim.attach_pty(Some(link.clone())).unwrap());
        config.push_str(&format!(
            "[[phone]]\nid = \"m{i}\"\ndevice = \"{}\"\nreceive_frequency = 1\ncommand_timeout = 2\nsend_timeout = 3\n\n",
            link.display()
        ));
        sims.push(sim);
    }
    let config_path = dir.path().join("smsgw.toml");
    std::fs::write(&config_path, &config).unwrap();

    // Outbound: single-part messages with unique texts, queued before and during the run.
    let queue = |from: usize, to: usize| {
        let storage = storage.clone();
        async move {
            for i in from..to {
                let m = smsgw::compose::new_message(
                    "+48600100200",
                    &format!("soak {i}"),
                    &Default::default(),
                )
                .unwrap();
                storage.create_outbox(&m).await.unwrap();
            }
        }
    };
    queue(0, sc.outbound / 2).await;
    let mut daemon = Some(Daemon::start(&config_path));

    // Inbound: a third multipart, parts delivered in reverse order.
    let mut inbound = Vec::new();
    for i in 0..sc.inbound {
        let text = if i % 3 == 0 {
            format!("inbound {i} ").repeat(30)
        } else {
            format!("inbound {i}")
        };
        inbound.push(text);
    }
    // The faults, spread over the run: kill, drop, hang, kill, drop, ...
    #[derive(Clone, Copy, PartialEq)]
    enum Fault {
        Kill,
        Drop,
        Hang,
    }
    let mut faults = Vec::new();
    for i in 0..sc.kills.max(sc.drops).max(sc.hangs) {
        if i < sc.kills {
            faults.push(Fault::Kill);
        }
        if i < sc.drops {
            faults.push(Fault::Drop);
        }
        if i < sc.hangs {
            faults.push(Fault::Hang);
        }
    }
    let steps = faults.len() + 3;
    let per_step_in = sc.inbound.div_ceil(steps);
    let mut delivered = 0;
    let mut kills = 0;
    let mut drops = 0;
    let mut hangs = 0;
    let mut queued_rest = false;
    for step in 0..steps {
        // Let some sending happen before each fault: wait for progress, bounded.
        let target = sims.iter().map(|s| s.snapshot().attempts).sum::<u32>() + 40;
        let until = Instant::now() + Duration::from_secs(20);
        while sims.iter().map(|s| s.snapshot().attempts).sum::<u32>() < target
            && count(&db, "SELECT count(*) FROM outbox") > 0
            && Instant::now() < until
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for text in inbound.iter().skip(delivered).take(per_step_in) {
            let sim = &sims[delivered % 2];
            let pdus = smsgw::sim::deliver_pdus(
                "+48700800900",
                text,
                (delivered % 250) as u8,
                "+48602000000",
            )
            .unwrap();
            for p in pdus.iter().rev() {
                sim.deliver(p);
            }
            delivered += 1;
        }
        if !queued_rest && step >= steps / 3 {
            queue(sc.outbound / 2, sc.outbound).await;
            queued_rest = true;
        }
        match faults.get(step) {
            Some(Fault::Kill) => {
                if let Some(d) = daemon.take() {
                    d.kill();
                }
                kills += 1;
                daemon = Some(Daemon::start(&config_path));
            }
            Some(Fault::Drop) => {
                sims[drops % 2].unplug();
                drops += 1;
            }
            Some(Fault::Hang) => {
                sims[0].set_hang(true);
                tokio::time::sleep(Duration::from_secs(3)).await;
                sims[0].set_hang(false);
                hangs += 1;
            }
            None => {}
        }
    }
    if !queued_rest {
        queue(sc.outbound / 2, sc.outbound).await;
    }
    for text in inbound.iter().skip(delivered) {
        let pdus = smsgw::sim::deliver_pdus(
            "+48700800900",
            text,
            (delivered % 250) as u8,
            "+48602000000",
        )
        .unwrap();
        for p in pdus.iter().rev() {
            sims[1].deliver(p);
        }
        delivered += 1;
    }

    // Settle: the outbox empty, every inbound message stored, the SIMs empty.
    let deadline = started + sc.deadline;
    let multipart = inbound.iter().filter(|t| t.len() > 160).count() as i64;
    loop {
        let left = count(&db, "SELECT count(*) FROM outbox");
        let stored = count(&db, "SELECT count(*) FROM inbox WHERE TextDecoded <> ''");
        let on_sim: usize = sims
            .iter()
            .map(|s| s.snapshot().stored.len() + s.snapshot().waiting)
            .sum();
        if left == 0 && stored >= sc.inbound as i64 && on_sim == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: {left} left in the outbox, {stored} of {} inbound stored, {on_sim} on the SIMs",
            sc.inbound
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(daemon);

    // Outbound: each message sent, or failed with a reason.
    let sent_ok = count(
        &db,
        "SELECT count(DISTINCT ID) FROM sentitems WHERE Status LIKE 'SendingOK%'",
    );
    let failed = count(
        &db,
        "SELECT count(DISTINCT ID) FROM sentitems WHERE Status IN ('SendingError', 'Error')",
    );
    let with_reason = count(
        &db,
        "SELECT count(DISTINCT s.ID) FROM sentitems s JOIN smsgw_failures f ON f.ID = s.ID WHERE s.Status IN ('SendingError', 'Error')",
    );
    assert_eq!(sent_ok + failed, sc.outbound as i64, "every message ended");
    assert_eq!(failed, with_reason, "every failure has its reason");
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut attempts = 0;
    for s in &sims {
        let snap = s.snapshot();
        attempts += snap.attempts;
        for r in snap.sent {
            *seen.entry(r.text).or_default() += 1;
        }
    }
    let duplicates: u32 = seen.values().map(|n| n - 1).sum();
    assert_eq!(
        seen.len() as i64,
        sent_ok,
        "what the modems took is what sentitems says"
    );
    let allowed = (sc.kills + sc.drops + sc.hangs) as u32;
    assert!(
        duplicates <= allowed,
        "{duplicates} duplicates for {allowed} faults"
    );

    // Inbound: each stored once (part 1 of a multipart carries the whole text).
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut st = c
        .prepare(
            "SELECT TextDecoded, count(*) FROM inbox WHERE TextDecoded <> '' GROUP BY TextDecoded",
        )
        .unwrap();
    let stored: HashMap<String, i64> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in &inbound {
        assert_eq!(stored.get(t), Some(&1), "inbound {t:?} stored once");
    }
    let parts = count(&db, "SELECT count(*) FROM inbox");
    println!(
        "soak: {} outbound ({sent_ok} sent, {failed} failed with a reason, {duplicates} duplicate(s)), {attempts} send attempts (10% fail at random), {} inbound ({multipart} multipart, {parts} parts stored), {kills} SIGKILL(s), {drops} line drop(s), {hangs} hang(s), {:.1} s",
        sc.outbound,
        sc.inbound,
        started.elapsed().as_secs_f64()
    );
    drop(ptys);
}
