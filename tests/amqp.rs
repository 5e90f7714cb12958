//! The AMQP face as a vumi application meets it: the release binary in the background with
//! a simulated modem on a pseudo-terminal, Debian's RabbitMQ (127.0.0.1:5672, or
//! `SMSGW_TEST_AMQP_URL`), and pika (RabbitMQ's own Python client, from PyPI) playing the
//! application; status reports and received messages made by python-gammu. Each test uses
//! a transport name of its own and deletes its queues. Broker outages go through a TCP
//! proxy the test owns, never by stopping the shared broker.

mod gateway;
mod run;
mod servers;

use std::path::Path;
use std::process::Command;

use gateway::peer::Peer;
use run::process::*;
use serde_json::{json, Value};

fn broker_url() -> String {
    std::env::var("SMSGW_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The broker's port, or `None` (outside CI only, said loudly) when nothing listens.
fn broker_port() -> Option<u16> {
    let url = broker_url();
    let port = url
        .rsplit_once(':')
        .and_then(|(_, p)| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(5672);
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        return Some(port);
    }
    let msg = format!("RabbitMQ is not listening at {url}: run scripts/install-test-deps.sh");
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
    None
}

/// A transport name no other test (or run) uses.
fn unique_name(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("t{}_{what}_{nanos}", std::process::id())
}

/// The vumi application (tests/peers/vumi_app.py) for transport `name`.
struct App {
    peer: Peer,
}

impl App {
    fn start(name: &str, extra: &[&str]) -> Option<App> {
        let python = gateway::peer::venv_python("pika")?;
        // The release binary first (the first test builds it, for minutes): the
        // application then waits for nothing.
        release_bin();
        let mut cmd = Command::new(python);
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/vumi_app.py"
        ))
        .args(["--url", &broker_url(), "--name", name])
        .args(extra)
        .stdin(std::process::Stdio::piped());
        let peer = Peer::spawn(cmd, "the pika vumi application");
        Some(App { peer })
    }

    fn ask(&mut self, req: Value) -> Value {
        self.peer.tell(&req.to_string());
        self.peer.next(&format!("an answer to {req}"))
    }

    fn publish(&mut self, bodies: &[Value]) {
        let r = self.ask(json!({"publish": bodies}));
        assert_eq!(r["published"], bodies.len());
    }

    /// The next `count` messages of `<name>.<queue>` (fails the test after 30 s).
    fn take(&mut self, queue: &str, count: usize, daemon: &Daemon) -> Vec<Value> {
        let r = self.ask(json!({"take": {"queue": queue, "count": count, "timeout": 30}}));
        let got = r["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            got.len(),
            count,
            "{queue}: {count} messages expected, got {got:#?}\n{}",
            daemon.log()
        );
        got
    }

    fn depth(&mut self, queue: &str) -> u64 {
        self.ask(json!({"depth": queue}))["depth"]
            .as_u64()
            .unwrap_or(u64::MAX)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.peer.tell(&json!({"delete": true}).to_string());
        let _ = self.peer.next("the queues deleted");
    }
}

/// A vumi user message as vumi2's `Message.serialise()` writes it.
fn user_message(id: &str, to: &str, content: &str) -> Value {
    json!({
        "to_addr": to, "from_addr": "nav", "transport_name": "smsgw", "transport_type": "sms",
        "message_version": "20110921", "message_type": "user_message",
        "timestamp": "2026-12-07 10:00:00.123456", "routing_metadata": {}, "helper_metadata": {},
        "message_id": id, "in_reply_to": null, "provider": null, "session_event": null,
        "content": content, "transport_metadata": {}, "group": null,
        "to_addr_type": null, "from_addr_type": null
    })
}

/// The daemon with a modem (gsm1) and the AMQP face for transport `name` at `url`.
fn start(dir: &Path, storage: &str, name: &str, url: &str, sim: &Sim) -> Daemon {
    start_phone(dir, storage, name, url, sim, "gsm1")
}

/// [`start`] with the phone's id.
fn start_phone(dir: &Path, storage: &str, name: &str, url: &str, sim: &Sim, phone: &str) -> Daemon {
    let daemon = Daemon::start(
        dir,
        &format!(
            "{storage}\n[[phone]]\nid = \"{phone}\"\ndevice = \"{}\"\nreceive_frequency = 60\n\n\
[metrics]\nlisten = \"127.0.0.1:{}\"\n\n\
[amqp]\nurl = \"{url}\"\ntransport_name = \"{name}\"\nreconnect_max = 2\n",
            sim.link.display(),
            free_port(),
        ),
    );
    daemon.wait_started();
    daemon.wait_log("AMQP: consuming");
    daemon
}

fn sqlite(dir: &Path) -> String {
    format!(
        "[storage]\nkind = \"sqlite\"\npath = \"{}/smsgw.db\"\n",
        dir.display()
    )
}

/// Events of `events` about `id` of type `t`.
fn of<'a>(events: &'a [Value], id: &str, t: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["user_message_id"] == id && e["event_type"] == t)
        .collect()
}

#[test]
fn a_vumi_application_sends_through_the_modem_and_gets_events_and_received_messages() {
    let Some(_) = broker_port() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let name = unique_name("basic");
    let Some(mut app) = App::start(&name, &["--dead-letter"]) else {
        return;
    };
    let sim = Sim::start(dir, &["--report-delay", "3600000"]);
    let mut daemon = start(dir, &sqlite(dir), &name, &broker_url(), &sim);

    // An ordinary one-part message: sent by the modem, acked, then delivered.
    app.publish(&[user_message("m-one", "+48123456789", "Hello over AMQP")]);
    wait_for_or(
        "the modem to send",
        || !sim.sent().is_empty(),
        || daemon.log(),
    );
    let sent = sim.sent();
    assert_eq!(sent[0]["to"], "+48123456789");
    assert_eq!(sent[0]["text"], "Hello over AMQP");
    assert_eq!(sent[0]["report"], true, "status reports are asked for");
    let ack = app.take("event", 1, &daemon);
    assert_eq!(ack[0]["event_type"], "ack", "{ack:?}");
    assert_eq!(ack[0]["user_message_id"], "m-one");
    assert_eq!(ack[0]["message_type"], "event");
    assert_eq!(ack[0]["message_version"], "20110921");
    assert!(ack[0]["sent_message_id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let mr = sent[0]["mr"].as_u64().unwrap();
    assert_eq!(
        sim.tell(&format!("deliver {}", peer_report(mr, "+48123456789")))
            .trim(),
        "delivered"
    );
    let dr = app.take("event", 1, &daemon);
    assert_eq!(
        (
            &dr[0]["event_type"],
            &dr[0]["delivery_status"],
            &dr[0]["user_message_id"]
        ),
        (
            &json!("delivery_report"),
            &json!("delivered"),
            &json!("m-one")
        )
    );

    // A long UCS-2 message: two parts, one ack, one delivery_report when both are delivered.
    let long = "Zażółć gęślą jaźń. ".repeat(5);
    app.publish(&[user_message("m-long", "+48123456780", &long)]);
    wait_for_or("two more parts", || sim.sent().len() == 3, || daemon.log());
    let sent = sim.sent();
    let joined: String = sent[1..]
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(joined, long);
    let ack = app.take("event", 1, &daemon);
    assert_eq!(of(&ack, "m-long", "ack").len(), 1, "{ack:?}");
    for s in &sent[1..] {
        let mr = s["mr"].as_u64().unwrap();
        sim.tell(&format!("deliver {}", peer_report(mr, "+48123456780")));
    }
    let dr = app.take("event", 1, &daemon);
    assert_eq!(
        of(&dr, "m-long", "delivery_report")[0]["delivery_status"],
        "delivered"
    );

    // Received messages, one part and two, as user messages on <name>.inbound.
    let messages = peer_messages();
    sim.tell(&format!(
        "deliver {}",
        messages["single_gsm"][0].as_str().unwrap()
    ));
    for pdu in messages["two_part"].as_array().unwrap() {
        sim.tell(&format!("deliver {}", pdu.as_str().unwrap()));
    }
    let inbound = app.take("inbound", 2, &daemon);
    assert_eq!(inbound[0]["message_type"], "user_message");
    assert_eq!(inbound[0]["transport_type"], "sms");
    assert_eq!(inbound[0]["transport_name"], name.as_str());
    assert_eq!(inbound[0]["from_addr"], "+48600111222");
    assert_eq!(inbound[0]["to_addr"], "gsm1");
    assert_eq!(inbound[0]["content"], messages["texts"]["single_gsm"]);
    assert_eq!(inbound[1]["content"], messages["texts"]["two_part"]);
    assert_ne!(inbound[0]["message_id"], inbound[1]["message_id"]);

    // Bad input: not JSON (dead-lettered: no id to answer), no to_addr and a bad number
    // (nack events), the same message_id twice (queued once); then a good one still goes.
    app.publish(&[
        json!("this is not JSON"),
        json!({"message_id": "m-noto", "content": "x"}),
        json!({"message_id": "m-badnum", "to_addr": 4790000001u64, "content": "x"}),
        user_message("m-abc", "+47abc", "letters in the number"),
        user_message("m-twice", "+48123456781", "once"),
        user_message("m-twice", "+48123456781", "once"),
    ]);
    let events = app.take("event", 4, &daemon);
    let reason = |id: &str| {
        of(&events, id, "nack")[0]["nack_reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(reason("m-noto"), "to_addr is missing");
    assert_eq!(reason("m-badnum"), "to_addr is not a string but 4790000001");
    assert!(
        reason("m-abc").contains("is not a phone number"),
        "{events:?}"
    );
    assert_eq!(of(&events, "m-twice", "ack").len(), 1, "{events:?}");
    // What cannot be a message goes to the application's dead-letter queue.
    let dead = app.take("dead", 3, &daemon);
    assert_eq!(dead[0]["raw"], "this is not JSON");
    assert_eq!(dead[1]["message_id"], "m-noto");
    wait_for_or(
        "the good one sent",
        || sim.sent().len() == 4,
        || daemon.log(),
    );
    assert!(
        daemon
            .log()
            .contains("AMQP: rejected a message: the body is not JSON"),
        "{}",
        daemon.log()
    );
    // Nothing left unanswered, and one message sent once.
    assert_eq!(app.depth("outbound"), 0);
    assert_eq!(app.depth("event"), 0, "one ack for the message sent twice");
    // The counters, and doctor's view of the broker.
    let metrics = http_get(&daemon, "/metrics");
    for line in [
        format!("smsgw_amqp_connected{{account=\"{name}\"}} 1"),
        format!("smsgw_amqp_consumed_total{{account=\"{name}\"}} 8"),
        format!("smsgw_amqp_refused_total{{account=\"{name}\"}} 4"),
        format!("smsgw_amqp_unconfirmed{{account=\"{name}\"}} 0"),
    ] {
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }
    let doctor = Command::new(release_bin())
        .args(["doctor", "-c"])
        .arg(&daemon.config)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        out.contains("AMQP broker:\n  amqp://guest:***@127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{name}.outbound: 0 message(s) waiting, 1 consumer(s)"
        )),
        "{out}"
    );
    daemon.stop();
}

/// GET `path` on the daemon's `[metrics] listen`.
fn http_get(daemon: &Daemon, path: &str) -> String {
    let config = std::fs::read_to_string(&daemon.config).unwrap();
    let listen = config
        .lines()
        .skip_while(|l| *l != "[metrics]")
        .find_map(|l| l.strip_prefix("listen = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let out = Command::new("curl")
        .args(["-s", &format!("http://{listen}{path}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `to` numbers the modem sent to, each with how many parts went to it.
fn sends(sim: &Sim) -> std::collections::HashMap<String, usize> {
    let mut m = std::collections::HashMap::new();
    for s in sim.sent() {
        *m.entry(s["to"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    m
}

#[test]
fn a_broker_outage_and_a_sigkill_lose_nothing() {
    let Some(port) = broker_port() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let name = unique_name("faults");
    let Some(mut app) = App::start(&name, &[]) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let proxy = rt.block_on(servers::Proxy::start(port));
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
    let sim = Sim::start(dir, &["--report-delay", "3600000"]);
    let mut daemon = start(dir, &sqlite(dir), &name, &url, &sim);
    let number = |i: usize| format!("+4812345{i:04}");
    let msgs: Vec<Value> = (1..=3)
        .map(|i| user_message(&format!("m{i}"), &number(i), &format!("message {i}")))
        .collect();
    app.publish(&msgs);
    let acks = app.take("event", 3, &daemon);
    assert!(acks.iter().all(|e| e["event_type"] == "ack"), "{acks:?}");

    // The broker goes away: what happens meanwhile (status reports, a received message,
    // messages the application publishes) waits, in the storage or in the queue.
    proxy.set_cut(true);
    daemon.wait_log("connecting again");
    for s in sim.sent() {
        let (mr, to) = (s["mr"].as_u64().unwrap(), s["to"].as_str().unwrap());
        assert_eq!(
            sim.tell(&format!("deliver {}", peer_report(mr, to))).trim(),
            "delivered"
        );
    }
    let messages = peer_messages();
    sim.tell(&format!(
        "deliver {}",
        messages["single_gsm"][0].as_str().unwrap()
    ));
    app.publish(&[
        user_message("m4", &number(4), "message 4"),
        user_message("m5", &number(5), "message 5"),
    ]);
    assert_eq!(app.depth("event"), 0, "nothing can be published while cut");
    proxy.set_cut(false);
    // Back: 3 delivery reports and 2 acks on the event queue, the received message inbound.
    let events = app.take("event", 5, &daemon);
    for i in 1..=3 {
        let dr = of(&events, &format!("m{i}"), "delivery_report");
        assert_eq!(dr.len(), 1, "m{i}: {events:#?}");
        assert_eq!(dr[0]["delivery_status"], "delivered");
    }
    assert_eq!(
        of(&events, "m4", "ack").len() + of(&events, "m5", "ack").len(),
        2
    );
    let inbound = app.take("inbound", 1, &daemon);
    assert_eq!(inbound[0]["content"], messages["texts"]["single_gsm"]);

    // SIGKILL while messages are being taken and sent; the restarted daemon sends the rest:
    // every message goes out, at most the one in flight twice, and every one is acked.
    let batch: Vec<Value> = (10..30)
        .map(|i| user_message(&format!("m{i}"), &number(i), &format!("message {i}")))
        .collect();
    app.publish(&batch);
    wait_for_or(
        "the batch to start",
        || sim.sent().len() > 6,
        || daemon.log(),
    );
    daemon.child.as_mut().unwrap().kill().unwrap(); // SIGKILL
    let _ = daemon.child.take().unwrap().wait();
    let mut daemon = start(dir, &sqlite(dir), &name, &url, &sim);
    let wanted: Vec<String> = (10..30).map(number).collect();
    wait_for_or(
        "every message of the batch sent",
        || {
            let s = sends(&sim);
            wanted.iter().all(|n| s.contains_key(n))
        },
        || daemon.log(),
    );
    let s = sends(&sim);
    let twice: Vec<&String> = wanted.iter().filter(|n| s[*n] > 1).collect();
    assert!(twice.len() <= 1, "sent twice: {twice:?}");
    let mut acked = std::collections::HashSet::new();
    let deadline = std::time::Instant::now() + T;
    while acked.len() < 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "acks: {acked:?}\n{}",
            daemon.log()
        );
        let r = app.ask(json!({"take": {"queue": "event", "count": 1, "timeout": 5}}));
        for e in r["messages"].as_array().into_iter().flatten() {
            if e["event_type"] == "ack" {
                acked.insert(
                    e["user_message_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
    }
    assert_eq!(app.depth("outbound"), 0);

    // The event queue deleted under smsgw: the next event comes back unroutable, the
    // queues are declared again, and it is published again, not lost.
    app.ask(json!({"drop": "event"}));
    app.publish(&[user_message("m-after-drop", &number(40), "after the drop")]);
    let mut found = false;
    let deadline = std::time::Instant::now() + T;
    while !found {
        assert!(std::time::Instant::now() < deadline, "{}", daemon.log());
        let r = app.ask(json!({"take": {"queue": "event", "count": 1, "timeout": 5}}));
        found = r["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["user_message_id"] == "m-after-drop");
    }
    daemon.stop();
}

#[test]
fn two_hosts_on_one_queue_and_one_postgresql_send_each_message_once() {
    let Some(_) = broker_port() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(servers::TestDb::create(servers::Kind::Postgres)) else {
        return;
    };
    let name = unique_name("two");
    let Some(mut app) = App::start(&name, &[]) else {
        return;
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (sim_a, sim_b) = (
        Sim::start(a.path(), &["--report-delay", "3600000"]),
        Sim::start(b.path(), &["--report-delay", "3600000"]),
    );
    let url = broker_url();
    let mut one = start_phone(a.path(), &db.toml(), &name, &url, &sim_a, "hostA");
    let mut two = start_phone(b.path(), &db.toml(), &name, &url, &sim_b, "hostB");
    let logs = || format!("{}\n----\n{}", one.log(), two.log());
    let number = |i: usize| format!("+4790{i:06}");
    let batch: Vec<Value> = (0..40)
        .map(|i| user_message(&format!("m{i}"), &number(i), &format!("message {i}")))
        .collect();
    app.publish(&batch);
    let all = || {
        let mut s = sends(&sim_a);
        for (k, v) in sends(&sim_b) {
            *s.entry(k).or_default() += v;
        }
        s
    };
    wait_for_or("all 40 sent", || all().len() == 40, logs);
    assert!(all().values().all(|n| *n == 1), "each once: {:?}", all());
    // Events come from one host: each message acked once.
    app.publish(&[user_message("last", &number(99), "the last")]);
    let mut acks = std::collections::HashMap::<String, usize>::new();
    let deadline = std::time::Instant::now() + T;
    while !acks.contains_key("last") {
        assert!(
            std::time::Instant::now() < deadline,
            "acks: {acks:?}\n{}",
            logs()
        );
        let r = app.ask(json!({"take": {"queue": "event", "count": 1, "timeout": 5}}));
        for e in r["messages"].as_array().into_iter().flatten() {
            if e["event_type"] == "ack" {
                *acks
                    .entry(e["user_message_id"].as_str().unwrap_or_default().into())
                    .or_default() += 1;
            }
        }
    }
    assert_eq!(acks.len(), 41, "{acks:?}");
    assert!(acks.values().all(|n| *n == 1), "acked twice: {acks:?}");
    one.stop();
    two.stop();
}
