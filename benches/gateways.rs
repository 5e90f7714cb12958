//! Figures of the HTTP transport and the NAV storage (not a test): `cargo bench --bench
//! gateways`.
//!
//! Runs the release `smsgw run` as a child process, sending through a local HTTP gateway
//! (tests/gateway: a plain HTTP/1.1 server on 127.0.0.1, answering at once), and prints:
//! - `smsgw inject` to the gateway's request, median and max of 20 at random moments (SQLite);
//! - 2,000 queued messages drained through the gateway (messages per second);
//! - NAV: an alert inserted into `profiles.smsq` (as NAV's alertengine does) to the request,
//!   median and max of 20, with `poll_interval = 200` ms;
//! - NAV: 1,000 phones with one alert each drained (alerts per second), in a database of its
//!   own on the machine's PostgreSQL (dropped afterwards);
//! - SMPP: 2,000 queued messages through smpp34's SMSC (tests/gateway/smsc.py, Python, in
//!   target/test-venv), one submit_sm in flight.

#[path = "../tests/gateway/mod.rs"]
mod gateway;

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

const WAIT: Duration = Duration::from_secs(60);

/// The config of a bench daemon: `storage`, then one transport (`transport`'s keys).
fn write_config(d: &Path, storage: &str, transport: &str) -> std::path::PathBuf {
    let path = d.join("smsgw.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/pid\"\nlog_level = \"warn\"\n{storage}\n[[transport]]\n{transport}\n",
            d = d.display()
        ),
    )
    .expect("config");
    path
}

/// An HTTP transport to `url`.
fn http(url: &str) -> String {
    format!("id = \"gw\"\nkind = \"http\"\nurl = \"{url}\"")
}

fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Median and max (ms) of 20 `smsgw inject` runs at random moments until `arrived` returns
/// (the gateway or SMSC got the message).
fn inject_latency(smsgw: &Path, cfg: &Path, seed: u64, mut arrived: impl FnMut()) -> (f64, f64) {
    let mut seed = seed;
    let mut lat = Vec::new();
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(50 + next(&mut seed) % 400));
        let t0 = Instant::now();
        let st = Command::new(smsgw)
            .args(["inject", "-c"])
            .arg(cfg)
            .args(["TEXT", "+48600100200", "--text", &format!("latency {i}")])
            .stdout(Stdio::null())
            .status()
            .expect("inject");
        assert!(st.success());
        arrived();
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let max = lat.iter().cloned().fold(0.0, f64::max);
    (median(&mut lat), max)
}

/// Queues `n` messages into the SQLite outbox in `d` in one transaction.
fn queue(d: &Path, n: usize) {
    let db = rusqlite::Connection::open(d.join("smsgw.db")).expect("db");
    db.busy_timeout(Duration::from_secs(5)).expect("busy");
    db.execute_batch(&format!(
        "BEGIN; {} COMMIT;",
        (0..n)
            .map(|i| format!("INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID) VALUES ('+48600100200', 'drain {i}', 'bench');"))
            .collect::<String>()
    ))
    .expect("insert");
}

fn sqlite(rt: &tokio::runtime::Runtime, smsgw: &Path, out: &mut Vec<String>) {
    let gw = rt.block_on(gateway::Gateway::start());
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let cfg = write_config(
        d,
        &format!(
            "[storage]\nkind = \"sqlite\"\npath = \"{}/smsgw.db\"\n",
            d.display()
        ),
        &http(&gw.url("/send?to={phone}&text={text}")),
    );
    let _daemon = smsgw_run(smsgw, &cfg);
    std::thread::sleep(Duration::from_millis(1000));
    let mut seen = gw.requests().len();
    let (med, max) = inject_latency(smsgw, &cfg, 7, || {
        seen += 1;
        rt.block_on(gw.wait_for(seen, WAIT));
    });
    out.push(format!(
        "| sqlite + http | `smsgw inject` to the gateway's request, median / max of 20 | {med:.1} / {max:.1} ms |"
    ));
    let n = 2000;
    let before = gw.requests().len();
    let t0 = Instant::now();
    queue(d, n);
    rt.block_on(gw.wait_for(before + 1, WAIT));
    let first = Instant::now();
    rt.block_on(gw.wait_for(before + n, Duration::from_secs(600)));
    let secs = first.elapsed().as_secs_f64();
    out.push(format!(
        "| sqlite + http | {n} queued messages through one gateway | {secs:.2} s, {:.0} msg/s (first after {:.0} ms) |",
        n as f64 / secs,
        (first - t0).as_secs_f64() * 1000.0
    ));
}

async fn pg(url: &str, statement: &str) {
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(statement)
        .execute(&mut c)
        .await
        .expect(statement);
}

fn nav(rt: &tokio::runtime::Runtime, smsgw: &Path, out: &mut Vec<String>) {
    let admin = std::env::var("SMSGW_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("smsgw_bench_nav_{}", std::process::id());
    rt.block_on(pg(&admin, &format!("CREATE DATABASE {name}")));
    let url = format!("{}/{name}", &admin[..admin.rfind('/').expect("admin URL")]);
    rt.block_on(pg(&url, include_str!("../tests/data/nav-profiles.sql")));
    {
        let gw = rt.block_on(gateway::Gateway::start());
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let cfg = write_config(
            d,
            &format!("[storage]\nkind = \"nav\"\nurl = \"{url}\"\ntls = \"disable\"\npoll_interval = 200\n"),
            &http(&gw.url("/send?recv=%(phone)s&msg=%(sms)s")),
        );
        let _daemon = smsgw_run(smsgw, &cfg);
        std::thread::sleep(Duration::from_millis(1000));
        let mut seed = 11u64;
        let mut lat = Vec::new();
        for i in 0..20 {
            std::thread::sleep(Duration::from_millis(50 + next(&mut seed) % 400));
            let before = gw.requests().len();
            let t0 = Instant::now();
            rt.block_on(pg(
                &url,
                &format!("INSERT INTO profiles.smsq (time, phone, msg, severity) VALUES (LOCALTIMESTAMP, '+4790000{i:03}', 'box down {i}', 2)"),
            ));
            rt.block_on(gw.wait_for(before + 1, WAIT));
            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        let max = lat.iter().cloned().fold(0.0, f64::max);
        out.push(format!(
            "| nav + http | alert inserted into smsq to the gateway's request, median / max of 20 (poll 200 ms) | {:.1} / {:.1} ms |",
            median(&mut lat),
            max
        ));
        let n = 1000;
        let before = gw.requests().len();
        rt.block_on(pg(
            &url,
            &format!("INSERT INTO profiles.smsq (time, phone, msg, severity) SELECT LOCALTIMESTAMP, '+479' || lpad(g::text, 7, '0'), 'link down ' || g, 3 FROM generate_series(1, {n}) g"),
        ));
        rt.block_on(gw.wait_for(before + 1, WAIT));
        let first = Instant::now();
        rt.block_on(gw.wait_for(before + n, Duration::from_secs(600)));
        let secs = first.elapsed().as_secs_f64();
        out.push(format!(
            "| nav + http | {n} phones with one alert each | {secs:.2} s, {:.0} alerts/s |",
            n as f64 / secs
        ));
    }
    rt.block_on(pg(&admin, &format!("DROP DATABASE {name} WITH (FORCE)")));
}

fn smpp(smsgw: &Path, out: &mut Vec<String>) {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    if !python.exists() {
        eprintln!("smpp: skipped (run scripts/install-test-deps.sh for smpp34)");
        return;
    }
    let mut smsc = Proc(
        Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/smsc.py"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("smsc.py"),
    );
    let stdout = smsc.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let port: u16 = rx
        .recv_timeout(WAIT)
        .ok()
        .and_then(|l| l.strip_prefix("PORT ").and_then(|p| p.parse().ok()))
        .expect("SMSC port");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let path = write_config(
        d,
        &format!("[storage]\npath = \"{}/smsgw.db\"", d.display()),
        &format!("id = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {port}\nusername = \"bench\"\npassword = \"pw\"\nsender = \"BENCH\""),
    );
    let _daemon = smsgw_run(smsgw, &path);
    std::thread::sleep(Duration::from_millis(1000));
    let submits = |rx: &std::sync::mpsc::Receiver<String>, n: usize| {
        let mut got = 0;
        while got < n {
            let l = rx.recv_timeout(WAIT).expect("a submit_sm");
            if l.contains("\"submit\"") {
                got += 1;
            }
        }
    };
    let (med, max) = inject_latency(smsgw, &path, 3, || submits(&rx, 1));
    out.push(format!(
        "| sqlite + smpp | `smsgw inject` to the SMSC's submit_sm, median / max of 20 | {med:.1} / {max:.1} ms |"
    ));
    let n = 2000;
    queue(d, n);
    submits(&rx, 1);
    let first = Instant::now();
    submits(&rx, n - 1);
    let secs = first.elapsed().as_secs_f64();
    out.push(format!(
        "| sqlite + smpp | {n} queued messages, one submit_sm in flight | {secs:.2} s, {:.0} msg/s |",
        n as f64 / secs
    ));
}

fn main() {
    let smsgw = bin();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut out = vec![
        "| setup | measure | result |".to_string(),
        "|---|---|---|".to_string(),
    ];
    sqlite(&rt, &smsgw, &mut out);
    nav(&rt, &smsgw, &mut out);
    smpp(&smsgw, &mut out);
    for l in out {
        println!("{l}");
    }
}
