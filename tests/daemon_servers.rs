//! Daemons on the machine's PostgreSQL and MariaDB servers with simulated modems on real
//! pseudo-terminals: several gateways on one database send each message exactly once, a
//! row inserted by another program is sent at once (PostgreSQL `NOTIFY`), and a database cut
//! in the middle of a run (through a loopback proxy the test owns; the shared servers are
//! never stopped) loses nothing.

mod servers;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use servers::{Kind, Proxy, TestDb};
use smsgw::backends::sql::server::Server;
use smsgw::config::Config;
use smsgw::service::Service;
use smsgw::sim::{PtyHandle, Sim, SimConfig};
use tempfile::TempDir;
use tokio::sync::watch;

const T: Duration = Duration::from_secs(60);

/// One daemon with one simulated modem.
struct Node {
    sim: Sim,
    storage: Arc<dyn Service>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _pty: PtyHandle,
    _dir: TempDir,
}

impl Node {
    async fn start(phone_id: &str, storage_toml: &str, sim: SimConfig) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::new(sim);
        let link: PathBuf = dir.path().join("modem");
        let pty = sim.attach_pty(Some(link.clone())).unwrap();
        let text = format!(
            "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/smsgw.pid\"\n\n{storage_toml}\n[[phone]]\nid = \"{phone_id}\"\ndevice = \"{}\"\nreceive_frequency = 1\ncommand_timeout = 2\nsend_timeout = 3\n",
            link.display(),
            d = dir.path().display()
        );
        let path = dir.path().join("smsgw.toml");
        std::fs::write(&path, &text).unwrap();
        let cfg = Config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        std::fs::create_dir_all(&cfg.daemon.state_dir).unwrap();
        let storage = smsgw::backends::open(&cfg).await.unwrap();
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(smsgw::daemon::run(cfg, storage.clone(), stop_rx));
        Node {
            sim,
            storage,
            stop,
            task,
            _pty: pty,
            _dir: dir,
        }
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
        .with_env_filter("smsgw=info")
        .try_init();
}

async fn queue(s: &Server, n: usize, tag: &str) {
    for i in 0..n {
        let msg = smsgw::compose::new_message(
            "+48600100200",
            &format!("{tag} {i}"),
            &smsgw::compose::InjectOptions::default(),
        )
        .unwrap();
        s.create_outbox(&msg).await.unwrap();
    }
}

async fn count(s: &Server, sql: &str) -> i64 {
    let rows = s
        .query_text(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{sql}: no number"))
}

/// Waits (bounded) until `sql` counts `want`.
async fn wait_count(s: &Server, sql: &str, want: i64, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = count(s, sql).await;
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

async fn three_daemons_send_each_message_once(kind: Kind) {
    init_log();
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let direct = Server::connect(&db.storage()).unwrap();
    direct.init().await.unwrap();
    const N: usize = 3000;
    queue(&direct, N, "once").await;
    let mut nodes = Vec::new();
    for id in ["a", "b", "c"] {
        nodes.push(Node::start(id, &db.toml(), SimConfig::default()).await);
    }
    wait_count(&direct, "SELECT count(*) FROM sentitems", N as i64, T * 3).await;
    wait_count(&direct, "SELECT count(*) FROM outbox", 0, T).await;
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut per_node = Vec::new();
    for n in &nodes {
        let sent = n.sim.snapshot().sent;
        per_node.push(sent.len());
        for s in sent {
            *seen.entry(s.text).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert_eq!(seen.len(), N, "every message reached a modem");
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(per_node.iter().sum::<usize>(), N, "{per_node:?}");
    for (i, n) in per_node.iter().enumerate() {
        assert!(
            *n >= N / 10,
            "daemon {i} sent {n} of {N}: work is spread ({per_node:?})"
        );
    }
    eprintln!("{kind:?}: three daemons sent {per_node:?}");
    assert_eq!(
        count(
            &direct,
            "SELECT count(*) FROM sentitems WHERE \"Status\" = 'SendingOKNoReport'"
        )
        .await,
        N as i64
    );
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_three_daemons_send_each_message_once() {
    three_daemons_send_each_message_once(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_three_daemons_send_each_message_once() {
    three_daemons_send_each_message_once(Kind::Mysql).await;
}

/// A row another program inserts with plain SQL is sent at once: NOTIFY on PostgreSQL, the
/// poll on MySQL. Within 10 s: the daemon's safety sweep (every 30 s) does not count.
async fn a_row_inserted_by_plain_sql_is_sent(kind: Kind) {
    init_log();
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let node = Node::start("m0", &db.toml(), SimConfig::default()).await;
    let other = Server::connect(&db.storage()).unwrap();
    other
        .query_text("INSERT INTO outbox (\"DestinationNumber\", \"TextDecoded\", \"CreatorID\") VALUES ('+48600100201', 'Written by Kalkun', 'Kalkun')")
        .await
        .unwrap();
    let sent = node
        .sim
        .wait_until(Duration::from_secs(10), |s| !s.sent.is_empty())
        .await
        .expect("woken by the insert")
        .sent;
    assert_eq!(
        (sent[0].to.as_str(), sent[0].text.as_str()),
        ("+48600100201", "Written by Kalkun")
    );
    // And again, now that the daemon has been idle.
    other
        .query_text("INSERT INTO outbox (\"DestinationNumber\", \"TextDecoded\", \"CreatorID\") VALUES ('+48600100201', 'Written by Kalkun again', 'Kalkun')")
        .await
        .unwrap();
    node.sim
        .wait_until(Duration::from_secs(10), |s| s.sent.len() == 2)
        .await
        .expect("woken by the second insert");
    wait_count(
        &other,
        "SELECT count(*) FROM sentitems WHERE \"CreatorID\" = 'Kalkun' AND \"SenderID\" = 'm0'",
        2,
        T,
    )
    .await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_row_inserted_by_plain_sql_is_sent() {
    a_row_inserted_by_plain_sql_is_sent(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_row_inserted_by_plain_sql_is_sent() {
    a_row_inserted_by_plain_sql_is_sent(Kind::Mysql).await;
}

async fn a_database_cut_loses_nothing(kind: Kind) {
    init_log();
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let direct = Server::connect(&db.storage()).unwrap();
    direct.init().await.unwrap();
    const N: usize = 500;
    queue(&direct, N, "cut").await;
    let target = match kind {
        Kind::Postgres => 5432,
        Kind::Mysql => 3306,
    };
    let proxy = Proxy::start(target).await;
    let toml = format!(
        "[storage]\nkind = \"{}\"\nurl = \"{}\"\ntls = \"disable\"\npoll_interval = 200\n",
        kind.name(),
        db.url_via(proxy.port)
    );
    let node = Node::start("m0", &toml, SimConfig::default()).await;
    node.sim
        .wait_until(T, |s| s.sent.len() >= 100)
        .await
        .expect("sending started");
    proxy.set_cut(true);
    // The daemon sees the storage go away (what `monitor` shows)...
    let deadline = tokio::time::Instant::now() + T;
    while node.storage.health().await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cut was noticed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...messages arrive meanwhile: they stay on the SIM until they can be stored...
    for i in 0..5u8 {
        node.sim
            .deliver_text(
                "+48600999000",
                &format!("while the database was away {i}"),
                i,
            )
            .unwrap();
    }
    let during = node.sim.snapshot().sent.len();
    proxy.set_cut(false);
    // ...and everything is done once it is back.
    wait_count(&direct, "SELECT count(*) FROM outbox", 0, T * 2).await;
    wait_count(&direct, "SELECT count(*) FROM inbox", 5, T).await;
    node.sim
        .wait_until(T, |s| s.stored.is_empty())
        .await
        .expect("the SIM is emptied once the messages are stored");
    let sent = node.sim.snapshot().sent;
    let mut seen: HashMap<String, u32> = HashMap::new();
    for s in &sent {
        *seen.entry(s.text.clone()).or_default() += 1;
    }
    let twice = seen.values().filter(|n| **n > 1).count();
    assert_eq!(seen.len(), N, "every message was sent");
    assert!(
        twice <= 1,
        "{twice} messages were sent twice (at most the one in flight)"
    );
    assert_eq!(
        count(
            &direct,
            "SELECT count(DISTINCT \"ID\") FROM sentitems WHERE \"Status\" = 'SendingOKNoReport'"
        )
        .await,
        N as i64
    );
    assert_eq!(
        count(
            &direct,
            "SELECT count(*) FROM inbox WHERE \"TextDecoded\" LIKE 'while the database was away%'"
        )
        .await,
        5
    );
    eprintln!(
        "{kind:?}: cut after {during} of {N} sent; {} PDUs in all, {twice} duplicate(s)",
        sent.len()
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_database_cut_loses_nothing() {
    a_database_cut_loses_nothing(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_database_cut_loses_nothing() {
    a_database_cut_loses_nothing(Kind::Mysql).await;
}

/// Debian's gammu-smsd, with its native driver for `kind`, on the test's database.
fn gammu_smsd(
    kind: Kind,
    db: &TestDb,
    device: &std::path::Path,
    dir: &std::path::Path,
) -> Option<std::process::Child> {
    if std::process::Command::new("gammu-smsd")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "gammu-smsd is not installed: scripts/install-test-deps.sh installs it"
        );
        eprintln!(
            "\n!!!!! SKIPPED: gammu-smsd is not installed (apt-get install gammu-smsd) !!!!!\n"
        );
        return None;
    }
    let (driver, user) = match kind {
        Kind::Postgres => ("native_pgsql", "postgres"),
        Kind::Mysql => ("native_mysql", "root"),
    };
    let rc = dir.join("smsdrc");
    std::fs::write(
        &rc,
        format!(
            "[gammu]\ndevice = {}\nconnection = at\n\n[smsd]\nservice = sql\ndriver = {driver}\nhost = 127.0.0.1\nuser = {user}\npassword =\ndatabase = {}\nphoneid = gammu\ncommtimeout = 1\nloopsleep = 1\nreceivefrequency = 600\nstatusfrequency = 0\nlogfile = {}\ndebuglevel = 1\n",
            device.display(),
            db.name,
            dir.join("smsd.log").display()
        ),
    )
    .unwrap();
    Some(
        std::process::Command::new("gammu-smsd")
            .arg("-c")
            .arg(&rc)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// A real gammu-smsd is one of the three senders on the database: it respects our leases
/// and we respect its.
async fn a_real_gammu_smsd_as_one_of_three(kind: Kind) {
    init_log();
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let direct = Server::connect(&db.storage()).unwrap();
    direct.init().await.unwrap();
    const N: usize = 600;
    queue(&direct, N, "mixed").await;
    let dir = tempfile::tempdir().unwrap();
    let gammu_sim = Sim::new(SimConfig::default());
    let mut pty = gammu_sim.attach_pty(None).unwrap();
    let device = pty.wait_path().await.unwrap();
    let Some(mut smsd) = gammu_smsd(kind, &db, &device, dir.path()) else {
        return;
    };
    let log = || std::fs::read_to_string(dir.path().join("smsd.log")).unwrap_or_default();
    if gammu_sim
        .wait_until(T, |s| !s.sent.is_empty())
        .await
        .is_err()
    {
        let _ = smsd.kill();
        panic!("gammu-smsd sent nothing; its log:\n{}", log());
    }
    let mut nodes = Vec::new();
    for id in ["a", "b"] {
        nodes.push(Node::start(id, &db.toml(), SimConfig::default()).await);
    }
    wait_count(&direct, "SELECT count(*) FROM outbox", 0, T * 2).await;
    wait_count(&direct, "SELECT count(*) FROM sentitems", N as i64, T).await;
    let _ = smsd.kill();
    let _ = smsd.wait();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut per = vec![gammu_sim.snapshot().sent.len()];
    for s in gammu_sim.snapshot().sent {
        *seen.entry(s.text).or_default() += 1;
    }
    for n in &nodes {
        let sent = n.sim.snapshot().sent;
        per.push(sent.len());
        for s in sent {
            *seen.entry(s.text).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert_eq!(seen.len(), N, "every message reached a modem");
    assert!(
        twice.is_empty(),
        "sent more than once: {twice:?}; gammu-smsd's log:\n{}",
        log()
    );
    assert_eq!(
        count(
            &direct,
            "SELECT count(*) FROM sentitems WHERE \"SenderID\" = 'gammu'"
        )
        .await,
        per[0] as i64,
        "gammu-smsd recorded what it sent"
    );
    eprintln!(
        "{kind:?}: gammu-smsd sent {}, smsgw {} and {}",
        per[0], per[1], per[2]
    );
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_real_gammu_smsd_as_one_of_three() {
    a_real_gammu_smsd_as_one_of_three(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_real_gammu_smsd_as_one_of_three() {
    a_real_gammu_smsd_as_one_of_three(Kind::Mysql).await;
}

/// `smsgw outbox list|show|cancel|retry`, `inbox list` and `db prune` on a server.
async fn queue_commands(kind: Kind) {
    let Some(db) = TestDb::create(kind).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("smsgw.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ncontrol_socket = \"{}/none.sock\"\n{}",
            dir.path().display(),
            db.toml()
        ),
    )
    .unwrap();
    let smsgw = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_smsgw"))
            .args(args)
            .arg("-c")
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, init) = smsgw(&["db", "init"]);
    assert_eq!(code, Some(0), "{init}");
    assert!(
        init.contains("created with Gammu schema version 17"),
        "{init}"
    );
    let (code, check) = smsgw(&["db", "check"]);
    assert_eq!(code, Some(0), "{check}");
    assert_eq!(
        smsgw(&["inject", "TEXT", "+48600100200", "--text", "first"]).0,
        Some(0)
    );
    assert_eq!(
        smsgw(&[
            "inject",
            "TEXT",
            "+48600100201",
            "--phone-id",
            "m1",
            "--text",
            &"long ".repeat(40)
        ])
        .0,
        Some(0)
    );
    let (code, list) = smsgw(&["outbox", "list"]);
    assert_eq!(code, Some(0), "{list}");
    assert!(
        list.lines()
            .any(|l| l.contains("+48600100201") && l.contains(" m1 ") && l.contains(" 2 ")),
        "route and parts: {list}"
    );
    let (_, json) = smsgw(&["outbox", "list", "--json"]);
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["text"], "long ".repeat(40));
    let (_, show) = smsgw(&["outbox", "show", "1"]);
    assert!(
        show.contains("ID: 1") && show.contains("Held by: nobody"),
        "{show}"
    );
    let (code, cancel) = smsgw(&["outbox", "cancel", "1"]);
    assert_eq!(code, Some(0), "{cancel}");
    let s = Server::connect(&db.storage()).unwrap();
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM sentitems WHERE \"ID\" = 1 AND \"Status\" = 'Error'"
        )
        .await,
        1
    );
    s.query_text(&format!(
        "UPDATE outbox SET \"Retries\" = 3, \"SendingTimeOut\" = {} WHERE \"ID\" = 2",
        s.dialect().now_plus(3600)
    ))
    .await
    .unwrap();
    assert_eq!(smsgw(&["outbox", "retry", "2"]).0, Some(0));
    assert_eq!(
        count(&s, "SELECT \"Retries\" FROM outbox WHERE \"ID\" = 2").await,
        0
    );
    s.query_text(&format!(
        "INSERT INTO inbox (\"ReceivingDateTime\", \"Text\", \"SenderNumber\", \"UDH\", \"TextDecoded\", \"RecipientID\") VALUES ('2020-01-01 10:00:00', '', '+48111', '', 'old one', 'm1'), ({}, '', '+48222', '', 'new one', 'm1')",
        s.dialect().now()
    ))
    .await
    .unwrap();
    let (_, inbox) = smsgw(&["inbox", "list", "--since", "2024-01-01"]);
    assert!(
        inbox.contains("new one") && !inbox.contains("old one"),
        "{inbox}"
    );
    let (_, dry) = smsgw(&["db", "prune", "--older-than", "90d", "--dry-run"]);
    assert!(dry.contains("would delete 1 inbox"), "{dry}");
    let (_, done) = smsgw(&["db", "prune", "--older-than", "90d"]);
    assert!(done.contains("deleted 1 inbox"), "{done}");
    assert_eq!(count(&s, "SELECT count(*) FROM inbox").await, 1);
    // monitor without a daemon reads the phones table (another host's daemon, too).
    s.refresh_status(&smsgw::service::PhoneStatus {
        id: "far".into(),
        imei: "356938035643809".into(),
        imsi: "260011234567890".into(),
        client: "smsgw".into(),
        send: true,
        receive: true,
        battery: 80,
        signal: 61,
        net_code: "260 01".into(),
        net_name: "Plus".into(),
        sent: 12,
        received: 3,
    })
    .await
    .unwrap();
    let (code, mon) = smsgw(&["monitor", "-n", "1", "--json"]);
    assert_eq!(code, Some(0), "{mon}");
    let v: serde_json::Value =
        serde_json::from_str(mon.trim()).unwrap_or_else(|e| panic!("{e}: {mon}"));
    assert_eq!(v["phones"][0]["id"], "far", "{mon}");
    assert_eq!(v["phones"][0]["signal"], 61, "{mon}");
    assert_eq!(v["phones"][0]["sent"], 12, "{mon}");
    assert_eq!(
        v["phones"][0]["state"], "connected (per phones table)",
        "{mon}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_queue_commands() {
    queue_commands(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_queue_commands() {
    queue_commands(Kind::Mysql).await;
}
