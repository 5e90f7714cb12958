//! SMPP throughput side by side (not a test): `cargo bench --bench smpp`.
//!
//! One SMSC for every client, in this process: the `smpp34` crate's server on 127.0.0.1,
//! answering each submit_sm at once with a new message id and, when a receipt is asked for,
//! sending it (a deliver_sm with the appendix-B text) right after. Then, in one run, 20,000
//! submit_sm with window 64 and a receipt for each (set `SMSGW_SMPP_N` for another count):
//! - the `smpp34` crate's own client (keeps nothing), twice: in a process of its own (this
//!   bench again, as smsgw and aiosmpplib run in theirs) and inside this process, on the
//!   SMSC's tokio runtime (client and server then share its two threads);
//! - smsgw (the release `smsgw run`, SQLite storage): 20,000 messages queued in the outbox
//!   asking for reports, `window = 64`; timed from its first submit_sm to the SMSC's last
//!   receipt acknowledged (smsgw answers a receipt once it is committed); afterwards every
//!   `sentitems` row must say `DeliveryOK` (each part kept with its message id, every
//!   receipt matched);
//! - aiosmpplib 0.7.4 (Python, target/test-venv, benches/aiosmpplib_client.py) with its
//!   correlator's expiry scan switched off (see the script).
//!
//! Five rounds, the clients taking turns; prints a Markdown table of each client's median
//! round: seconds to the last submit_sm answered, to the last receipt acknowledged, and
//! messages per second over the whole run.
//!
//! Then smsgw as the SMSC (its SMPP server, issue 25), the same smpp34 client against it
//! and against the smpp34 server above in turns: smsgw commits each submit_sm before it
//! answers, sends the message on through its SMPP transport to the smpp34 server, matches
//! that server's receipt, and sends the client a receipt of its own from the event log
//! (SQLite). `SMSGW_SMPP_BENCH=server` runs only this part.

mod common;
use common::smsc::{wait_for, Smsc};
use common::*;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use smpp34::client::{SmppClient, SmppClientListener, BIND_TYPE, SMSC};
use smpp34::server::SmppServer;
use smpp34::{deliver_sm, deliver_sm_resp, SmppConnectionInformation};

const WINDOW: usize = 64;
const ROUNDS: usize = 5;

/// The round with the median total time.
fn median_run(runs: &mut [(f64, f64)]) -> (f64, f64) {
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    runs[runs.len() / 2]
}

/// The smpp34 client: binds, keeps `WINDOW` submit_sm in flight, counts receipts.
struct Client {
    bound: tokio::sync::Mutex<Option<tokio::sync::oneshot::Sender<Arc<SMSC>>>>,
    receipts: Arc<AtomicU64>,
}

#[async_trait]
impl SmppClientListener for Client {
    async fn on_smsc_bound(&self, smsc: SMSC, _s: &String) {
        if let Some(tx) = self.bound.lock().await.take() {
            let _ = tx.send(Arc::new(smsc));
        }
    }
    async fn on_deliver_sm(
        &self,
        req: deliver_sm,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> deliver_sm_resp {
        self.receipts.fetch_add(1, Ordering::Relaxed);
        req.accept()
    }
}

fn smpp34_client(rt: &tokio::runtime::Runtime, port: u16, n: u64) -> (f64, f64) {
    smpp34_client_with(rt, port, n, true)
}

/// [`smpp34_client`], asking for receipts (and waiting for them) or not.
fn smpp34_client_with(
    rt: &tokio::runtime::Runtime,
    port: u16,
    n: u64,
    receipts_wanted: bool,
) -> (f64, f64) {
    let receipts = Arc::new(AtomicU64::new(0));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let listener = Arc::new(Client {
        bound: tokio::sync::Mutex::new(Some(tx)),
        receipts: receipts.clone(),
    });
    let mut client = SmppClient::new(
        "127.0.0.1".into(),
        port,
        false,
        BIND_TYPE::TRX,
        "smpp34".into(),
        "pw".into(),
        String::new(),
        1,
        1,
        String::new(),
        listener,
        WINDOW,
    );
    let smsc = rt.block_on(async {
        client.start().await;
        rx.await.expect("bound")
    });
    let remaining = Arc::new(AtomicU64::new(n));
    let start = Instant::now();
    let resp_done = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..WINDOW {
            let (smsc, remaining) = (smsc.clone(), remaining.clone());
            tasks.push(tokio::spawn(async move {
                while remaining
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |x| x.checked_sub(1))
                    .is_ok()
                {
                    let r = smsc
                        .submit_sm()
                        .source_addr("12345")
                        .destination_addr("48600100200")
                        .registered_delivery(u8::from(receipts_wanted))
                        .short_message(b"bench message".to_vec())
                        .send()
                        .await;
                    assert!(r.is_ok(), "submit_sm: {r:?}");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        Instant::now()
    });
    let all = if receipts_wanted {
        wait_for(&receipts, n, "smpp34 client receipts")
    } else {
        resp_done
    };
    rt.block_on(async {
        let _ = smsc.send_unbind().await;
        client.stop().await;
    });
    (
        resp_done.duration_since(start).as_secs_f64(),
        all.duration_since(start).as_secs_f64(),
    )
}

/// Counts `sql` on the SQLite file.
fn count(db: &rusqlite::Connection, sql: &str) -> u64 {
    db.query_row(sql, [], |r| r.get::<_, i64>(0))
        .map(|v| v as u64)
        .unwrap_or(0)
}

fn smsgw(smsgw: &Path, port: u16, n: u64, smsc: &Smsc) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = daemon_config(
        d,
        &format!(
            "[storage]\npath = \"{}/smsgw.db\"\n\
             [[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {port}\nusername = \"smsgw\"\npassword = \"pw\"\nsender = \"12345\"\nwindow = {WINDOW}\n",
            d.display()
        ),
    );
    // The schema, then the queue, before the daemon starts.
    db_init(smsgw, &config);
    let db = rusqlite::Connection::open(d.join("smsgw.db")).expect("db");
    db.busy_timeout(Duration::from_secs(10)).expect("busy");
    db.execute_batch(&format!(
        "BEGIN; {} COMMIT;",
        (0..n)
            .map(|i| format!("INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, DeliveryReport) VALUES ('+48600100200', 'bench {i}', 'bench', 'yes');"))
            .collect::<String>()
    ))
    .expect("queue");
    let submits0 = smsc.submits.load(Ordering::Relaxed);
    let receipts0 = smsc.receipts.load(Ordering::Relaxed);
    let _daemon = smsgw_run(smsgw, &config);
    // From the first submit_sm (the daemon's start-up is not the SMPP client's rate). A
    // receipt is acknowledged only once it is committed.
    let start = wait_for(&smsc.submits, submits0 + 1, "first submit");
    let submitted = wait_for(&smsc.submits, submits0 + n, "smsgw submits");
    let stored = wait_for(&smsc.receipts, receipts0 + n, "smsgw receipts");
    // Every part recorded with its id, every receipt matched to it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = count(
            &db,
            "SELECT count(*) FROM sentitems WHERE Status = 'DeliveryOK'",
        );
        if ok == n {
            break;
        }
        assert!(Instant::now() < deadline, "{ok} of {n} receipts matched");
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        submitted.duration_since(start).as_secs_f64(),
        stored.duration_since(start).as_secs_f64(),
    )
}

/// smsgw's SMPP server, its messages routed through its SMPP transport to the bench's
/// SMSC (`smsc_port`): the smpp34 client's (submit, receipt) times against it.
fn smsgw_server(
    smsgw: &Path,
    rt: &tokio::runtime::Runtime,
    smsc_port: u16,
    n: u64,
    route: bool,
) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let config = daemon_config(
        d,
        &format!(
            "[storage]\npath = \"{}/smsgw.db\"\n\
             {}\
             [smpp_server]\nlisten = \"127.0.0.1:{port}\"\nwindow = {WINDOW}\n\
             [[smpp_server.account]]\nsystem_id = \"smpp34\"\npassword = \"pw\"\n",
            d.display(),
            if route {
                format!("[[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {smsc_port}\nusername = \"smsgw\"\npassword = \"pw\"\nsender = \"12345\"\nwindow = {WINDOW}\n")
            } else {
                String::new()
            }
        ),
    );
    db_init(smsgw, &config);
    let _daemon = smsgw_run(smsgw, &config);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "smsgw's SMPP server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    smpp34_client_with(rt, port, n, route)
}

fn aiosmpplib(port: u16, n: u64) -> Option<(f64, f64)> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/aiosmpplib_client.py"))
        .args(["--port", &port.to_string(), "--n", &n.to_string()])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    result_line(&out.stdout)
}

/// The smpp34 client in a process of its own (as smsgw and aiosmpplib run): this bench
/// again, told the port by `SMSGW_SMPP34_CLIENT`.
fn smpp34_process(port: u16, n: u64) -> Option<(f64, f64)> {
    let out = Command::new(std::env::current_exe().ok()?)
        .env("SMSGW_SMPP34_CLIENT", port.to_string())
        .env("SMSGW_SMPP_N", n.to_string())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    result_line(&out.stdout)
}

/// `RESULT <seconds to last response> <seconds to last receipt>` from a client's output.
fn result_line(stdout: &[u8]) -> Option<(f64, f64)> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT "))?;
    let mut f = line.split(' ').filter_map(|v| v.parse::<f64>().ok());
    Some((f.next()?, f.next()?))
}

fn main() {
    let n: u64 = std::env::var("SMSGW_SMPP_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if let Some(port) = std::env::var("SMSGW_SMPP34_CLIENT")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        let (resp, all) = smpp34_client(&rt, port, n);
        println!("RESULT {resp} {all}");
        return;
    }
    let exe = bin();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let smsc = Arc::new(Smsc::default());
    let mut server = SmppServer::new(std::net::IpAddr::from([127, 0, 0, 1]), port, smsc.clone());
    rt.block_on(server.start());
    std::thread::sleep(Duration::from_millis(200));
    if std::env::var("SMSGW_SMPP_BENCH").as_deref() == Ok("server") {
        server_part(&exe, &rt, port, n);
        return;
    }
    let mut rows = vec![
        format!("| client ({n} submit_sm, window {WINDOW}, a receipt each) | last submit_sm answered | last receipt acknowledged | msg/s |"),
        "|---|---|---|---|".to_string(),
    ];
    let mut row = |who: &str, (resp, all): (f64, f64)| {
        rows.push(format!(
            "| {who} | {resp:.2} s | {all:.2} s | {:.0} |",
            n as f64 / all
        ));
    };
    // Five rounds, the clients taking turns; each one's median round is reported.
    let (mut theirs, mut shared, mut ours, mut python) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        theirs.push(smpp34_process(port, n).expect("the smpp34 client process"));
        shared.push(smpp34_client(&rt, port, n));
        ours.push(smsgw(&exe, port, n, &smsc));
        if let Some(r) = aiosmpplib(port, n) {
            python.push(r);
        }
    }
    let ceiling = median_run(&mut theirs);
    let beside = median_run(&mut shared);
    let mine = median_run(&mut ours);
    row("smpp34 crate client, own process (keeps nothing)", ceiling);
    row(
        "smpp34 crate client, in the SMSC's process and runtime",
        beside,
    );
    row("smsgw, SQLite: ids and receipts committed", mine);
    if python.is_empty() {
        eprintln!(
            "aiosmpplib: skipped (scripts/install-test-deps.sh installs it in target/test-venv)"
        );
    } else {
        row(
            "aiosmpplib 0.7.4, correlator scan off (in memory)",
            median_run(&mut python),
        );
    }
    for r in rows {
        println!("{r}");
    }
    println!(
        "\nsmsgw / smpp34 client: {:.2}x (own process), {:.2}x (in the SMSC's process); median of {ROUNDS} rounds each",
        ceiling.1 / mine.1,
        beside.1 / mine.1
    );
    server_part(&exe, &rt, port, n);
}

/// The same smpp34 client against the smpp34 server (answers at once, keeps nothing) and
/// against smsgw's SMPP server, in turns.
fn server_part(exe: &Path, rt: &tokio::runtime::Runtime, smsc_port: u16, n: u64) {
    let (mut theirs, mut ours, mut queued) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        theirs.push(smpp34_client(rt, smsc_port, n));
        ours.push(smsgw_server(exe, rt, smsc_port, n, true));
        queued.push(smsgw_server(exe, rt, smsc_port, n, false));
    }
    let (a, b) = (median_run(&mut theirs), median_run(&mut ours));
    let c = median_run(&mut queued);
    println!("\n| SMSC ({n} submit_sm from the smpp34 client, window {WINDOW}, a receipt each) | last submit_sm answered | last receipt acknowledged | msg/s |");
    println!("|---|---|---|---|");
    println!(
        "| smpp34 crate server (answers at once, keeps nothing) | {:.2} s | {:.2} s | {:.0} |",
        a.0,
        a.1,
        n as f64 / a.1
    );
    println!("| smsgw SMPP server, SQLite: committed, sent on over SMPP, receipts from the event log | {:.2} s | {:.2} s | {:.0} |", b.0, b.1, n as f64 / b.1);
    println!("| smsgw SMPP server, SQLite: committed only (no route, no receipt asked) | {:.2} s | | {:.0} |", c.0, n as f64 / c.0);
    println!(
        "\nsmsgw / smpp34 server: {:.2}x (to the last receipt), {:.2}x (to the last submit_sm_resp); median of {ROUNDS} rounds each",
        a.1 / b.1,
        a.0 / b.0
    );
}
