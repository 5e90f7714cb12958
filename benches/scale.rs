//! smsgw at scale (not a test): `cargo bench --bench scale`.
//!
//! One release `smsgw run` with four phones, each a `smsgw sim` process on its own
//! pseudo-terminal (no reply delay), drains a queue of `SMSGW_SCALE_N` messages (default
//! 100,000) from SQLite, then from PostgreSQL and MariaDB when they answer (each in a database
//! of its own, dropped afterwards). Prints messages per second, how the work spread over the
//! modems, and the daemon's RSS sampled every second (first, last, highest), to show that it
//! stays flat.

mod common;
use common::*;

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::Connection;

fn lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq)]
enum Store {
    Sqlite,
    Postgres,
    Mysql,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Sqlite => "SQLite",
            Store::Postgres => "PostgreSQL",
            Store::Mysql => "MariaDB",
        }
    }
    fn admin(self) -> String {
        match self {
            Store::Postgres => std::env::var("SMSGW_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            _ => std::env::var("SMSGW_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into()),
        }
    }
}

async fn exec(store: Store, url: &str, sql: &str) -> Result<(), sqlx::Error> {
    match store {
        Store::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await?;
            sqlx::Executor::execute(&mut c, sql).await?;
        }
        _ => {
            let mut c = sqlx::MySqlConnection::connect(url).await?;
            sqlx::Executor::execute(&mut c, sql).await?;
        }
    }
    Ok(())
}

fn one(rt: &tokio::runtime::Runtime, smsgw: &Path, store: Store, n: usize) -> Option<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let name = format!("smsgw_scale_{}", std::process::id());
    let storage = match store {
        Store::Sqlite => format!("path = \"{}/smsgw.db\"", d.display()),
        s => {
            if let Err(e) = rt.block_on(exec(s, &s.admin(), &format!("CREATE DATABASE {name}"))) {
                eprintln!("{}: skipped ({e})", s.name());
                return None;
            }
            let admin = s.admin();
            let base = &admin[..admin.rfind('/').expect("admin URL")];
            format!(
                "kind = \"{}\"\nurl = \"{base}/{name}\"\ntls = \"disable\"",
                if s == Store::Postgres {
                    "postgres"
                } else {
                    "mysql"
                }
            )
        }
    };
    let mut sims = Vec::new();
    let mut phones = String::new();
    for i in 0..4 {
        let (p, link, record) = sim(smsgw, d, i);
        phones.push_str(&format!(
            "[[phone]]\nid = \"m{i}\"\ndevice = \"{}\"\nstatus_frequency = 0\nreceive_frequency = 600\n",
            link.display()
        ));
        sims.push((p, record));
    }
    let config = daemon_config(d, &format!("[storage]\n{storage}\n{phones}"));
    db_init(smsgw, &config);
    // Queue everything before the daemon starts, in batches of 1,000 rows.
    let insert = |from: usize, to: usize| {
        let rows: Vec<String> = (from..to)
            .map(|i| format!("('+48600100200', 'scale {i}', 'bench')"))
            .collect();
        format!(
            "INSERT INTO outbox (\"DestinationNumber\", \"TextDecoded\", \"CreatorID\") VALUES {}",
            rows.join(", ")
        )
    };
    let queue_start = Instant::now();
    match store {
        Store::Sqlite => {
            let mut c = rusqlite::Connection::open(d.join("smsgw.db")).expect("db");
            let tx = c.transaction().expect("tx");
            for b in (0..n).step_by(1000) {
                tx.execute_batch(&insert(b, (b + 1000).min(n)))
                    .expect("insert");
            }
            tx.commit().expect("commit");
        }
        s => {
            let admin = s.admin();
            let url = format!("{}/{name}", &admin[..admin.rfind('/').expect("admin URL")]);
            let prefix = if s == Store::Mysql {
                "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES'); "
            } else {
                ""
            };
            for b in (0..n).step_by(1000) {
                rt.block_on(exec(
                    s,
                    &url,
                    &format!("{prefix}{}", insert(b, (b + 1000).min(n))),
                ))
                .expect("insert");
            }
            if s == Store::Postgres {
                // What autovacuum does soon after a bulk load: without statistics the
                // planner sorts the whole outbox for every claim instead of using
                // smsgw_outbox_order (see the README).
                rt.block_on(exec(s, &url, "ANALYZE outbox"))
                    .expect("analyze");
            }
        }
    }
    let queued = queue_start.elapsed();
    let t0 = Instant::now();
    let daemon = smsgw_run(smsgw, &config);
    let pid = daemon.0.id();
    let mut samples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3600);
    let counts = loop {
        std::thread::sleep(Duration::from_secs(1));
        samples.push(rss_kb(pid));
        let counts: Vec<usize> = sims.iter().map(|(_, r)| lines(r)).collect();
        if counts.iter().sum::<usize>() >= n || Instant::now() > deadline {
            break counts;
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    drop(daemon);
    if store != Store::Sqlite {
        let _ = rt.block_on(exec(
            store,
            &store.admin(),
            &match store {
                Store::Postgres => format!("DROP DATABASE {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE {name}"),
            },
        ));
    }
    let mb = |kb: u64| kb as f64 / 1024.0;
    Some(format!(
        "| {} | {n} queued in {:.1} s | {secs:.1} s, {:.0} msg/s | {counts:?} | {:.1} / {:.1} / {:.1} MB |",
        store.name(),
        queued.as_secs_f64(),
        counts.iter().sum::<usize>() as f64 / secs,
        mb(samples.first().copied().unwrap_or(0)),
        mb(samples.last().copied().unwrap_or(0)),
        mb(samples.iter().copied().max().unwrap_or(0)),
    ))
}

fn main() {
    let smsgw = bin();
    let n: usize = std::env::var("SMSGW_SCALE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for s in [Store::Sqlite, Store::Postgres, Store::Mysql] {
        rows.extend(one(&rt, &smsgw, s, n));
    }
    println!(
        "smsgw draining a queue through 4 simulated modems (no reply delay), this 2-core machine"
    );
    println!("| storage | queue | drained | per modem | RSS first / last / highest |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
