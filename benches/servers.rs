//! Figures of the daemon on the machine's PostgreSQL and MariaDB (not a test):
//! `cargo bench --bench servers`.
//!
//! For each server, in a database of its own (dropped afterwards), runs the release
//! `smsgw run` against `smsgw sim` (a simulated modem on a pseudo-terminal, no reply delay)
//! as separate processes, and prints:
//! - insert-to-`AT+CMGS` latency of 20 rows inserted by plain SQL at random moments (as
//!   Kalkun or a script does: woken by `NOTIFY` on PostgreSQL, by the poll on MySQL), and
//!   of 20 `smsgw inject` runs;
//! - claim throughput: 3,000 queued messages drained by three daemons, each with its own
//!   modem, on the one database.
//!
//! `SMSGW_TEST_PG_URL` / `SMSGW_TEST_MYSQL_URL` name other servers (admin URLs).

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Postgres,
    Mysql,
}

impl Kind {
    fn admin(self) -> String {
        match self {
            Kind::Postgres => std::env::var("SMSGW_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            Kind::Mysql => std::env::var("SMSGW_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into()),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
        }
    }
}

async fn sql(kind: Kind, url: &str, statement: &str) {
    match kind {
        Kind::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::Executor::execute(&mut c, statement)
                .await
                .expect(statement);
        }
        Kind::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(url).await.expect("connect");
            sqlx::Executor::execute(&mut c, statement)
                .await
                .expect(statement);
        }
    }
}

fn db_url(kind: Kind, name: &str) -> String {
    let admin = kind.admin();
    let i = admin.rfind('/').expect("admin URL ends with /database");
    format!("{}/{name}", &admin[..i])
}

fn config(d: &Path, i: usize, kind: Kind, url: &str, link: &Path) -> PathBuf {
    let dir = d.join(format!("node{i}"));
    std::fs::create_dir_all(&dir).expect("node dir");
    let path = dir.join("smsgw.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\nstate_dir = \"{d}/state\"\ncontrol_socket = \"{d}/control.sock\"\npid_file = \"{d}/pid\"\nlog_level = \"warn\"\n[storage]\nkind = \"{}\"\nurl = \"{url}\"\ntls = \"disable\"\n[[phone]]\nid = \"bench{i}\"\ndevice = \"{}\"\nstatus_frequency = 0\nreceive_frequency = 600\n",
            kind.name(),
            link.display(),
            d = dir.display()
        ),
    )
    .expect("config");
    path
}

fn insert_sql(n: usize, tag: &str) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| format!("('+48600100200', '{tag} {i}', 'bench')"))
        .collect();
    format!(
        "INSERT INTO outbox (\"DestinationNumber\", \"TextDecoded\", \"CreatorID\") VALUES {}",
        rows.join(", ")
    )
}

fn bench(rt: &tokio::runtime::Runtime, smsgw: &Path, kind: Kind) -> Vec<String> {
    let name = format!("smsgw_bench_{}_{}", kind.name(), std::process::id());
    rt.block_on(sql(kind, &kind.admin(), &format!("CREATE DATABASE {name}")));
    let url = db_url(kind, &name);
    // MySQL sessions of other programs quote with backticks; ours run with ANSI_QUOTES.
    let prefix = if kind == Kind::Mysql {
        "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES'); "
    } else {
        ""
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut out = Vec::new();
    {
        let (_sim, link, record) = sim(smsgw, d, 0);
        let cfg = config(d, 0, kind, &url, &link);
        let st = Command::new(smsgw)
            .args(["db", "init", "-c"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .status()
            .expect("db init");
        assert!(st.success());
        let _daemon = smsgw_run(smsgw, &cfg);
        std::thread::sleep(Duration::from_millis(1500));
        let mut seed = 12345u64;
        let mut by_sql = Vec::new();
        let mut by_inject = Vec::new();
        for i in 0..40 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            std::thread::sleep(Duration::from_millis(50 + (seed >> 33) % 400));
            let before = records(&record).len();
            let t0 = chrono::Local::now();
            if i % 2 == 0 {
                rt.block_on(sql(
                    kind,
                    &url,
                    &format!("{prefix}{}", insert_sql(1, &format!("latency {i}"))),
                ));
            } else {
                let st = Command::new(smsgw)
                    .args(["inject", "-c"])
                    .arg(&cfg)
                    .args(["TEXT", "+48600100200", "--text", &format!("latency {i}")])
                    .stdout(Stdio::null())
                    .status()
                    .expect("inject");
                assert!(st.success());
            }
            let r = wait_records(&record, before + 1, Duration::from_secs(30));
            let ms = (record_time(&r[before]) - t0.fixed_offset())
                .num_microseconds()
                .unwrap_or(0) as f64
                / 1000.0;
            if i % 2 == 0 {
                by_sql.push(ms);
            } else {
                by_inject.push(ms);
            }
        }
        let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
        let (sql_max, inject_max) = (max(&by_sql), max(&by_inject));
        out.push(format!(
            "| {} | row by plain SQL to AT+CMGS, median / max of 20 | {:.1} / {:.1} ms |",
            kind.name(),
            median(&mut by_sql),
            sql_max
        ));
        out.push(format!(
            "| {} | `smsgw inject` to AT+CMGS, median / max of 20 | {:.1} / {:.1} ms |",
            kind.name(),
            median(&mut by_inject),
            inject_max
        ));
    }
    {
        let n = 3000;
        rt.block_on(sql(
            kind,
            &url,
            &format!("{prefix}{}", insert_sql(n, "drain")),
        ));
        let mut procs = Vec::new();
        let mut recs = Vec::new();
        for i in 1..=3 {
            let (s, link, record) = sim(smsgw, d, i);
            let cfg = config(d, i, kind, &url, &link);
            procs.push(s);
            recs.push(record);
            procs.push(smsgw_run(smsgw, &cfg));
        }
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_secs(600);
        let counts = loop {
            let counts: Vec<usize> = recs.iter().map(|r| records(r).len()).collect();
            if counts.iter().sum::<usize>() >= n || Instant::now() > deadline {
                break counts;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let secs = t0.elapsed().as_secs_f64();
        out.push(format!(
            "| {} | 3,000 queued, three daemons (start included) | {secs:.2} s ({:.0} msg/s; {counts:?} per daemon) |",
            kind.name(),
            n as f64 / secs
        ));
    }
    rt.block_on(sql(
        kind,
        &kind.admin(),
        &match kind {
            Kind::Postgres => format!("DROP DATABASE {name} WITH (FORCE)"),
            Kind::Mysql => format!("DROP DATABASE {name}"),
        },
    ));
    out
}

fn main() {
    let smsgw = bin();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for kind in [Kind::Postgres, Kind::Mysql] {
        rows.extend(bench(&rt, &smsgw, kind));
    }
    println!("smsgw on database servers, simulated modems (no reply delay), this 2-core machine");
    println!("| server | measure | figure |");
    println!("|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
