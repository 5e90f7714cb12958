//! End-to-end figures of the daemon (not a test): `cargo bench --bench daemon`.
//!
//! Runs the release `smsgw run` against `smsgw sim` (a simulated modem on a pseudo-terminal,
//! no reply delay) with an SQLite file, as separate processes, and prints:
//! - inject-to-`AT+CMGS` latency: 20 `smsgw inject` at random moments, from the start of the
//!   command to the PDU reaching the modem;
//! - spool: 20 files renamed into the spool directory, to the PDU reaching the modem; 1,000
//!   files dropped at once, until all are queued;
//! - throughput: 2,000 messages queued while the daemon is down, drained after it starts;
//! - idle CPU of the daemon over 60 s (`SMSGW_BENCH_IDLE_SECS` to change), and how long a
//!   row inserted by plain SQL then takes to reach the modem;
//! - peak RSS of the daemon (VmHWM).

mod common;
use common::*;

use std::io::{BufRead, BufReader};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let smsgw = bin();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let link = d.join("modem");
    let record = d.join("sent.jsonl");
    let mut sim = Proc(
        Command::new(&smsgw)
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
    BufReader::new(sim.0.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("sim started");
    let config = d.join("smsgw.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/pid\"\nlog_level = \"warn\"\n[storage]\npath = \"{d}/smsgw.db\"\n[spool]\ndir = \"{d}/spool\"\n[[phone]]\nid = \"bench\"\ndevice = \"{}\"\nstatus_frequency = 0\nreceive_frequency = 600\n",
            link.display(),
            d = d.display()
        ),
    )
    .expect("config");
    let run = || smsgw_run(&smsgw, &config);
    let db_path = d.join("smsgw.db");
    let daemon = run();
    // Ready when the control socket exists and the modem answered (the phones row).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(d.join("control.sock").exists() && db_path.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));

    // 1. Latency of inject.
    let mut lat = Vec::new();
    let mut seed = 12345u64;
    for i in 0..20 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(50 + (seed >> 33) % 250));
        let before = records(&record).len();
        let t0 = chrono::Local::now();
        let st = Command::new(&smsgw)
            .arg("inject")
            .arg("-c")
            .arg(&config)
            .args(["TEXT", "+48600100200", "--text", &format!("latency {i}")])
            .stdout(Stdio::null())
            .status()
            .expect("inject");
        assert!(st.success());
        let r = wait_records(&record, before + 1, Duration::from_secs(30));
        let t = record_time(&r[before]);
        lat.push((t - t0.fixed_offset()).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    let max = lat.iter().cloned().fold(0.0, f64::max);
    let med = median(&mut lat);

    // 1b. A file dropped into the spool directory (write, rename in) to AT+CMGS.
    let spool = d.join("spool");
    let mut drop_lat = Vec::new();
    for i in 0..20 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(50 + (seed >> 33) % 250));
        let before = records(&record).len();
        let t0 = chrono::Local::now();
        let tmp = spool.join(format!(".drop{i}"));
        std::fs::write(&tmp, format!("To: 48600100200\n\ndropped {i}\n")).expect("write");
        std::fs::rename(&tmp, spool.join(format!("drop{i}"))).expect("rename");
        let r = wait_records(&record, before + 1, Duration::from_secs(30));
        let t = record_time(&r[before]);
        drop_lat.push((t - t0.fixed_offset()).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    let drop_max = drop_lat.iter().cloned().fold(0.0, f64::max);
    let drop_med = median(&mut drop_lat);
    // 1c. 1,000 files dropped at once: until all are queued.
    let batch = 1000;
    let spooled = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM smsgw_spool", [], |r| r.get(0))
            .unwrap_or(0)
    };
    let conn = rusqlite::Connection::open(&db_path).expect("db");
    let base = spooled(&conn);
    let t0 = Instant::now();
    for i in 0..batch {
        let tmp = spool.join(format!(".batch{i}"));
        std::fs::write(&tmp, format!("To: 48600100200\n\nbatch {i}\n")).expect("write");
        std::fs::rename(&tmp, spool.join(format!("batch{i}"))).expect("rename");
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while spooled(&conn) < base + batch && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    let batch_secs = t0.elapsed().as_secs_f64();
    drop(daemon);
    // Let the daemon's last sends land before the next part counts records.
    std::thread::sleep(Duration::from_millis(200));

    // 2. Throughput: 2,000 queued while the daemon is down.
    let n = 2000;
    {
        let mut c = rusqlite::Connection::open(&db_path).expect("db");
        let tx = c.transaction().expect("tx");
        // What the spool batch left unsent does not count here.
        tx.execute_batch("DELETE FROM outbox; DELETE FROM outbox_multipart;")
            .expect("empty the outbox");
        for i in 0..n {
            tx.execute(
                "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', ?1, 'bench', datetime('now','localtime'), datetime('now','localtime'))",
                [format!("queued {i}")],
            )
            .expect("insert");
        }
        tx.commit().expect("commit");
    }
    let before = records(&record).len();
    let t0 = Instant::now();
    let daemon = run();
    let pid = daemon.0.id();
    let r = wait_records(&record, before + n, Duration::from_secs(600));
    let drained = t0.elapsed();
    assert!(
        r.len() >= before + n,
        "only {} of {n} sent",
        r.len() - before
    );

    // 3. Idle CPU, then a row by plain SQL.
    let idle_secs: u64 = std::env::var("SMSGW_BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    std::thread::sleep(Duration::from_secs(2));
    let ticks0 = cpu_ticks(pid);
    let w0 = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let ticks1 = cpu_ticks(pid);
    // SAFETY: sysconf has no preconditions.
    let hz = match unsafe { nix::libc::sysconf(nix::libc::_SC_CLK_TCK) } {
        n if n > 0 => n as f64,
        _ => 100.0,
    };
    let idle_cpu = (ticks1 - ticks0) as f64 / hz / w0.elapsed().as_secs_f64() * 100.0;
    let before = records(&record).len();
    let t0 = Instant::now();
    rusqlite::Connection::open(&db_path)
        .expect("db")
        .execute(
            "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', 'by plain SQL', 'bench', datetime('now','localtime'), datetime('now','localtime'))",
            [],
        )
        .expect("insert");
    wait_records(&record, before + 1, Duration::from_secs(30));
    let sql_pickup = t0.elapsed();
    let rss = vm_hwm_kb(pid);
    drop(daemon);

    println!(
        "smsgw daemon against the simulated modem (no reply delay), SQLite, on this 2-core machine"
    );
    println!("| measure | smsgw |");
    println!("|---|---|");
    println!("| inject to AT+CMGS, median of 20 | {med:.1} ms |");
    println!("| inject to AT+CMGS, max of 20 | {max:.1} ms |");
    println!("| spool file (rename in) to AT+CMGS, median / max of 20 | {drop_med:.1} / {drop_max:.1} ms |");
    println!(
        "| 1,000 spool files dropped at once, all queued | {batch_secs:.2} s ({:.0} files/s) |",
        batch as f64 / batch_secs
    );
    println!(
        "| drain {n} queued messages | {:.2} s ({:.0} msg/s) |",
        drained.as_secs_f64(),
        n as f64 / drained.as_secs_f64()
    );
    println!("| idle CPU over {idle_secs} s | {idle_cpu:.3} % of a core |");
    println!(
        "| row inserted by plain SQL to AT+CMGS (idle daemon) | {:.0} ms |",
        sql_pickup.as_secs_f64() * 1000.0
    );
    println!("| peak RSS (VmHWM) | {:.1} MB |", rss as f64 / 1024.0);
}
