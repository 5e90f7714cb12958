//! The AMQP face's throughput (not a test): `cargo bench --bench amqp`. Needs RabbitMQ at
//! `SMSGW_TEST_AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`).
//!
//! In one run, 20,000 messages (`SMSGW_AMQP_N` for another count):
//! - RabbitMQ's own ceiling, as this bench's lapin client sees it: persistent messages
//!   published with confirms (64 unconfirmed at most) to a durable queue while a consumer
//!   (prefetch 64) takes and acks them; timed to the last one consumed.
//! - smsgw (the release `smsgw run`, SQLite storage, `prefetch = 64`) as a vumi transport:
//!   vumi user messages published to `<name>.outbound` the same way; smsgw commits each,
//!   sends it through its SMPP transport (window 64) to the `smpp34` crate's server (which
//!   answers at once and sends a receipt right after), matches the receipt, and publishes an
//!   `ack` and a `delivery_report` (`delivered`) for each on `<name>.event`; timed from the
//!   first publish to the last of the 2 × N events consumed, every one checked.
//!
//! Three rounds each, taking turns; prints a Markdown table of the median rounds.

mod common;
use common::smsc::Smsc;
use common::*;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use smpp34::server::SmppServer;

const WINDOW: usize = 64;
const ROUNDS: usize = 3;

/// The broker's process (RabbitMQ's Erlang VM), for its CPU time.
fn broker_pid() -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
        (comm.trim() == "beam.smp").then_some(pid)
    })
}

/// CPU seconds a process used so far (0 when it cannot be read).
fn cpu(pid: Option<u32>) -> f64 {
    pid.map_or(0.0, |p| cpu_ticks(p) as f64 / 100.0)
}

/// One round: seconds to the last ack and to the last event, CPU seconds of the broker,
/// smsgw and this bench (its client and the SMSC).
#[derive(Debug, Clone, Copy)]
struct Round {
    ack: f64,
    all: f64,
    broker: f64,
    smsgw: f64,
    bench: f64,
}

fn url() -> String {
    std::env::var("SMSGW_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

async fn declare(ch: &Channel, q: &str) {
    ch.exchange_declare(
        "vumi".into(),
        ExchangeKind::Direct,
        ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("exchange");
    ch.queue_declare(
        q.into(),
        QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("queue");
    ch.queue_bind(
        q.into(),
        "vumi".into(),
        q.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("bind");
}

/// Publishes `bodies` persistent to `routing`, at most `WINDOW` unconfirmed.
async fn publish(ch: &Channel, routing: &str, bodies: Vec<Vec<u8>>) {
    let mut pending = futures_util::stream::FuturesOrdered::new();
    for b in bodies {
        let confirm = ch
            .basic_publish(
                "vumi".into(),
                routing.into(),
                BasicPublishOptions::default(),
                &b,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .expect("publish");
        pending.push_back(confirm);
        if pending.len() >= WINDOW {
            let c = pending.next().await.expect("pending").expect("confirm");
            assert!(c.is_ack());
        }
    }
    while let Some(c) = pending.next().await {
        assert!(c.expect("confirm").is_ack());
    }
}

/// Consumes `q` (prefetch `WINDOW`), acking, until `done` says the bodies seen suffice.
async fn consume(conn: &Connection, q: &str, mut done: impl FnMut(&[u8]) -> bool) -> Instant {
    let ch = conn.create_channel().await.expect("channel");
    ch.basic_qos(WINDOW as u16, BasicQosOptions::default())
        .await
        .expect("qos");
    let mut consumer = ch
        .basic_consume(
            q.into(),
            "bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    while let Some(d) = tokio::time::timeout(Duration::from_secs(120), consumer.next())
        .await
        .expect("a message within 120 s")
    {
        let d = d.expect("delivery");
        d.ack(BasicAckOptions::default()).await.expect("ack");
        if done(&d.data) {
            return Instant::now();
        }
    }
    panic!("{q}: the consumer ended");
}

/// RabbitMQ alone: seconds from the first publish to the last message consumed.
async fn ceiling(conn: &Connection, n: u64, round: usize) -> Round {
    let q = format!("bench_{}_{round}.ceiling", std::process::id());
    let ch = conn.create_channel().await.expect("channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    declare(&ch, &q).await;
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|i| vumi(&format!("c{i}"), i).into_bytes())
        .collect();
    let (broker, me) = (broker_pid(), Some(std::process::id()));
    let (b0, m0) = (cpu(broker), cpu(me));
    let start = Instant::now();
    let mut seen = 0u64;
    let (_, end) = tokio::join!(
        publish(&ch, &q, bodies),
        consume(conn, &q, |_| {
            seen += 1;
            seen == n
        })
    );
    let t = end.duration_since(start).as_secs_f64();
    let r = Round {
        ack: t,
        all: t,
        broker: cpu(broker) - b0,
        smsgw: 0.0,
        bench: cpu(me) - m0,
    };
    let _ = ch
        .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
        .await;
    r
}

fn vumi(id: &str, i: u64) -> String {
    serde_json::json!({
        "message_version": "20110921", "message_type": "user_message", "message_id": id,
        "to_addr": format!("+4860{:07}", i % 10_000_000), "from_addr": "bench",
        "content": format!("bench {i}"), "transport_name": "bench", "transport_type": "sms",
        "timestamp": "2026-12-07 10:00:00.000000", "helper_metadata": {}, "transport_metadata": {},
        "routing_metadata": {}, "session_event": null, "in_reply_to": null
    })
    .to_string()
}

/// smsgw between the broker and the SMSC.
fn smsgw(
    exe: &std::path::Path,
    rt: &tokio::runtime::Runtime,
    smsc: &Smsc,
    smsc_port: u16,
    n: u64,
    round: usize,
) -> Round {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let name = format!("bench_{}_{round}", std::process::id());
    let config = daemon_config(
        d,
        &format!(
            "[storage]\npath = \"{}/smsgw.db\"\n\
             [[transport]]\nid = \"smsc\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {smsc_port}\nusername = \"smsgw\"\npassword = \"pw\"\nsender = \"12345\"\nwindow = {WINDOW}\n\
             [amqp]\nurl = \"{}\"\ntransport_name = \"{name}\"\nprefetch = {WINDOW}\n",
            d.display(),
            url()
        ),
    );
    db_init(exe, &config);
    let submits0 = smsc.submits.load(Ordering::Relaxed);
    let daemon = smsgw_run(exe, &config);
    let (broker, me, ours) = (broker_pid(), Some(std::process::id()), Some(daemon.0.id()));
    let (mut b0, mut m0, mut s0) = (0.0, 0.0, 0.0);
    let r = rt.block_on(async {
        let conn = Connection::connect(&url(), ConnectionProperties::default())
            .await
            .expect("broker");
        let ch = conn.create_channel().await.expect("channel");
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        let (outbound, events) = (format!("{name}.outbound"), format!("{name}.event"));
        declare(&ch, &outbound).await;
        declare(&ch, &events).await;
        declare(&ch, &format!("{name}.inbound")).await;
        // Until smsgw consumes.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let q = ch
                .queue_declare(
                    outbound.as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .expect("passive declare");
            if q.consumer_count() > 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "smsgw did not consume {outbound}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let bodies: Vec<Vec<u8>> = (0..n)
            .map(|i| vumi(&format!("m{i}"), i).into_bytes())
            .collect();
        let (mut acks, mut delivered) = (HashSet::new(), HashSet::new());
        let mut last_ack = None;
        (b0, m0, s0) = (cpu(broker), cpu(me), cpu(ours));
        let start = Instant::now();
        let (_, end) = tokio::join!(
            publish(&ch, &outbound, bodies),
            consume(&conn, &events, |body| {
                let e: serde_json::Value = serde_json::from_slice(body).expect("event JSON");
                let id = e["user_message_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                match (e["event_type"].as_str(), e["delivery_status"].as_str()) {
                    (Some("ack"), _) => {
                        acks.insert(id);
                        if acks.len() as u64 == n {
                            last_ack = Some(Instant::now());
                        }
                    }
                    (Some("delivery_report"), Some("delivered")) => {
                        delivered.insert(id);
                    }
                    other => panic!("unexpected event {other:?}: {e}"),
                }
                acks.len() as u64 == n && delivered.len() as u64 == n
            })
        );
        let last_ack = last_ack.unwrap_or(end);
        let r = Round {
            ack: last_ack.duration_since(start).as_secs_f64(),
            all: end.duration_since(start).as_secs_f64(),
            broker: cpu(broker) - b0,
            smsgw: cpu(ours) - s0,
            bench: cpu(me) - m0,
        };
        for q in [outbound, events, format!("{name}.inbound")] {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        r
    });
    assert_eq!(
        smsc.submits.load(Ordering::Relaxed) - submits0,
        n,
        "each message submitted once"
    );
    r
}

fn median_of(runs: &mut [Round]) -> Round {
    runs.sort_by(|a, b| a.all.total_cmp(&b.all));
    runs[runs.len() / 2]
}

fn main() {
    let n: u64 = std::env::var("SMSGW_AMQP_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let exe = bin();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let smsc = Arc::new(Smsc::default());
    let mut server = SmppServer::new(std::net::IpAddr::from([127, 0, 0, 1]), port, smsc.clone());
    rt.block_on(server.start());
    let conn = rt
        .block_on(Connection::connect(&url(), ConnectionProperties::default()))
        .unwrap_or_else(|e| panic!("RabbitMQ at {}: {e} (scripts/install-test-deps.sh)", url()));
    let (mut theirs, mut ours) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        theirs.push(rt.block_on(ceiling(&conn, n, round)));
        ours.push(smsgw(&exe, &rt, &smsc, port, n, round));
    }
    let t = median_of(&mut theirs);
    let o = median_of(&mut ours);
    println!(
        "\n| {n} vumi messages, prefetch and windows {WINDOW} | last ack | last event | msg/s | CPU s: broker | smsgw | bench (client, SMSC) |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| RabbitMQ alone (publish with confirms, consume, persistent) | | {:.2} s | {:.0} | {:.2} | | {:.2} |",
        t.all,
        n as f64 / t.all,
        t.broker,
        t.bench
    );
    println!(
        "| smsgw: committed, sent over SMPP, receipt matched, ack + delivery_report published | {:.2} s | {:.2} s | {:.0} | {:.2} | {:.2} | {:.2} |",
        o.ack,
        o.all,
        n as f64 / o.all,
        o.broker,
        o.smsgw,
        o.bench
    );
    println!(
        "\nsmsgw / RabbitMQ alone: {:.2}x; the broker handles 6 messages per vumi message with smsgw (publish, consume; ack and delivery_report each published and consumed), 2 alone; median of {ROUNDS} rounds each",
        t.all / o.all
    );
}
