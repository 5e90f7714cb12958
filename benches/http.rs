//! Figures of the HTTP face (not a test): `cargo bench --bench http`.
//!
//! Runs the release `smsgw run` with `[http]`, SQLite and a simulated modem (`smsgw sim`), as
//! separate processes, and prints:
//! - Kannel's sendsms to `AT+CMGS`: 50 requests at random moments, from writing the request
//!   to the PDU reaching the modem (median, max);
//! - accepted sendsms requests per second into SQLite (each answered 202 after its commit),
//!   measured by `wrk` (Debian's) with keep-alive connections and with a connection per
//!   request, against smsgw and, in the same run, Debian's Kannel (bearerbox + smsbox, its
//!   queue spooled to disk, an SMSC that never connects so every message stays queued).
//!
//! Needs `wrk` and `kannel` (`apt-get install wrk kannel`); without them that part is
//! skipped with a note. `SMSGW_BENCH_SECS` sets each wrk run's length (default 10).

mod common;
use common::*;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("addr")
        .port()
}

fn wait_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One GET on its own connection; the status code.
fn get(port: u16, target: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// `wrk` for `secs` seconds with `connections` connections: (requests/s, non-2xx answers,
/// socket errors).
fn wrk(url: &str, connections: u32, close: bool, secs: u64) -> (f64, u64, String) {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    if close {
        cmd.args(["-H", "Connection: close"]);
    }
    let out = cmd.arg(url).output().expect("wrk");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rate = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let bad = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let errors = text
        .lines()
        .find(|l| l.contains("Socket errors"))
        .unwrap_or("")
        .trim()
        .to_string();
    (rate, bad, errors)
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Kannel 1.4 refuses a request without a sender (`from`) unless a global one is set.
const QUERY: &str =
    "username=bench&password=bench&from=bench&to=%2B4790000001&text=Hello+from+the+bench";

fn main() {
    let smsgw = bin();
    let secs: u64 = std::env::var("SMSGW_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (_sim, link, record) = sim(&smsgw, d, 0);
    let port = free_port();
    let config = daemon_config(
        d,
        &format!(
            "[storage]\npath = \"{d}/smsgw.db\"\n[[phone]]\nid = \"bench\"\ndevice = \"{}\"\nstatus_frequency = 0\nreceive_frequency = 600\n[http]\nlisten = \"127.0.0.1:{port}\"\nmax_connections = 4096\n[[http.user]]\nname = \"bench\"\npassword = \"bench\"\n",
            link.display(),
            d = d.display()
        ),
    );
    let daemon = smsgw_run(&smsgw, &config);
    wait_port(port, "smsgw");
    // The modem connected: a first message goes out.
    assert_eq!(get(port, &format!("/cgi-bin/sendsms?{QUERY}")), 202);
    wait_records(&record, 1, Duration::from_secs(30));

    // 1. sendsms to AT+CMGS.
    let mut lat = Vec::new();
    let mut seed = 4711u64;
    for _ in 0..50 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(20 + (seed >> 33) % 100));
        let before = records(&record).len();
        let t0 = chrono::Local::now();
        assert_eq!(get(port, &format!("/cgi-bin/sendsms?{QUERY}")), 202);
        let r = wait_records(&record, before + 1, Duration::from_secs(30));
        let t = record_time(&r[before]);
        lat.push((t - t0.fixed_offset()).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    let max = lat.iter().cloned().fold(0.0, f64::max);
    let med = median(&mut lat);
    println!("sendsms -> AT+CMGS (50 requests, SQLite, simulated modem): median {med:.2} ms, max {max:.2} ms");
    drop(daemon);

    if !have("wrk") {
        println!("requests per second: skipped (apt-get install wrk)");
        return;
    }
    // 2. Accepted requests per second: the modem does not send meanwhile (send = false), so
    // only accepting is measured, as with Kannel's SMSC that never connects.
    let config = daemon_config(
        d,
        &format!(
            "[storage]\npath = \"{d}/smsgw.db\"\n[[phone]]\nid = \"bench\"\ndevice = \"{}\"\nsend = false\nstatus_frequency = 0\nreceive_frequency = 600\n[http]\nlisten = \"127.0.0.1:{port}\"\nmax_connections = 4096\n[[http.user]]\nname = \"bench\"\npassword = \"bench\"\n",
            link.display(),
            d = d.display()
        ),
    );
    let daemon = smsgw_run(&smsgw, &config);
    wait_port(port, "smsgw");
    let url = format!("http://127.0.0.1:{port}/cgi-bin/sendsms?{QUERY}");
    let ours_keep = wrk(&url, 32, false, secs);
    let ours_close = wrk(&url, 32, true, secs);
    let queued: i64 = rusqlite::Connection::open(d.join("smsgw.db"))
        .and_then(|c| c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)))
        .unwrap_or(-1);
    let rss = vm_hwm_kb(daemon.0.id());
    drop(daemon);
    println!(
        "smsgw:  keep-alive {:.0} req/s (non-2xx {}), a connection per request {:.0} req/s (non-2xx {}); {queued} rows in the outbox; peak RSS {} MiB {} {}",
        ours_keep.0, ours_keep.1, ours_close.0, ours_close.1, rss / 1024, ours_keep.2, ours_close.2
    );

    if !(have("bearerbox") && have("smsbox")) {
        println!("Kannel: skipped (apt-get install kannel)");
        return;
    }
    let kannel = kannel(d, secs);
    if let Some((keep, close)) = kannel {
        println!(
            "Kannel: keep-alive {:.0} req/s (non-2xx {}), a connection per request {:.0} req/s (non-2xx {}) {} {}",
            keep.0, keep.1, close.0, close.1, keep.2, close.2
        );
        println!(
            "smsgw / Kannel: keep-alive {:.2}x, a connection per request {:.2}x",
            ours_keep.0 / keep.0.max(1.0),
            ours_close.0 / close.0.max(1.0)
        );
    }
}

/// Kannel 1.4 on the same machine: bearerbox (queue spooled to disk, an SMSC that never
/// connects) and smsbox; the two wrk runs against its sendsms.
#[allow(clippy::type_complexity)]
fn kannel(d: &Path, secs: u64) -> Option<((f64, u64, String), (f64, u64, String))> {
    let (admin, boxes, sendsms, closed) = (free_port(), free_port(), free_port(), free_port());
    let spool = d.join("kannel-spool");
    std::fs::create_dir_all(&spool).ok()?;
    let conf = d.join("kannel.conf");
    std::fs::write(
        &conf,
        format!(
            "group = core\nadmin-port = {admin}\nadmin-password = bench\nsmsbox-port = {boxes}\nbox-allow-ip = 127.0.0.1\nlog-level = 4\nstore-type = spool\nstore-location = \"{}\"\n\n\
group = smsc\nsmsc = fake\nsmsc-id = never\nhost = 127.0.0.1\nport = {closed}\n\n\
group = smsbox\nbearerbox-host = 127.0.0.1\nbearerbox-port = {boxes}\nsendsms-port = {sendsms}\nlog-level = 4\n\n\
group = sendsms-user\nusername = bench\npassword = bench\nmax-messages = 10\n",
            spool.display()
        ),
    )
    .ok()?;
    let bearerbox = Proc(
        Command::new("bearerbox")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?,
    );
    wait_port(boxes, "bearerbox");
    let smsbox = Proc(
        Command::new("smsbox")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?,
    );
    wait_port(sendsms, "smsbox");
    let status = get(sendsms, &format!("/cgi-bin/sendsms?{QUERY}"));
    if status != 202 {
        println!("Kannel: its sendsms answered {status}: not measured");
        return None;
    }
    let url = format!("http://127.0.0.1:{sendsms}/cgi-bin/sendsms?{QUERY}");
    let keep = wrk(&url, 32, false, secs);
    let close = wrk(&url, 32, true, secs);
    drop(smsbox);
    drop(bearerbox);
    Some((keep, close))
}
