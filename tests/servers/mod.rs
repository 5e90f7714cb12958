//! The machine's database servers for tests: each test gets its own uniquely named database
//! on the shared PostgreSQL (127.0.0.1:5432, user postgres) or MariaDB (127.0.0.1:3306, user
//! root) and drops it afterwards. `SMSGW_TEST_PG_URL` / `SMSGW_TEST_MYSQL_URL` point
//! elsewhere. A server that cannot be reached fails the test under CI (`CI` set) and is
//! skipped, loudly, elsewhere.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use smsgw::config::{Storage, StorageKind};
use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Mysql,
}

impl Kind {
    fn admin_url(self) -> String {
        match self {
            Kind::Postgres => std::env::var("SMSGW_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            Kind::Mysql => std::env::var("SMSGW_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into()),
        }
    }

    pub fn storage_kind(self) -> StorageKind {
        match self {
            Kind::Postgres => StorageKind::Postgres,
            Kind::Mysql => StorageKind::Mysql,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
        }
    }
}

/// A database of its own on a shared server, dropped with this value.
pub struct TestDb {
    pub kind: Kind,
    pub name: String,
    /// URL of the database (no password: the test servers trust the loopback).
    pub url: String,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

async fn admin(kind: Kind, sql: &str) -> Result<(), sqlx::Error> {
    let url = kind.admin_url();
    match kind {
        Kind::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            sqlx::Executor::execute(&mut c, sql).await?;
        }
        Kind::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(&url).await?;
            sqlx::Executor::execute(&mut c, sql).await?;
        }
    }
    Ok(())
}

impl TestDb {
    /// A new empty database, or `None` (outside CI only) when the server is unreachable.
    pub async fn create(kind: Kind) -> Option<TestDb> {
        let name = format!(
            "smsgw_t_{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let create = match kind {
            Kind::Postgres => format!("CREATE DATABASE {name}"),
            Kind::Mysql => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
        };
        if let Err(e) = admin(kind, &create).await {
            let msg = format!(
                "{} at {} is not reachable ({e}): the {} tests need it (see README, Testing)",
                kind.name(),
                kind.admin_url(),
                kind.name()
            );
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
            return None;
        }
        let base = kind.admin_url();
        let url = match base.rfind('/') {
            Some(i) if i > base.find("//").map_or(0, |j| j + 1) => format!("{}/{name}", &base[..i]),
            _ => format!("{base}/{name}"),
        };
        Some(TestDb { kind, name, url })
    }

    /// The `[storage]` settings for this database.
    pub fn storage(&self) -> Storage {
        Storage {
            kind: self.kind.storage_kind(),
            url: self.url.clone(),
            tls: smsgw::config::DbTls::Disable,
            ..Storage::default()
        }
    }

    /// The `[storage]` section of a config file for this database.
    pub fn toml(&self) -> String {
        format!(
            "[storage]\nkind = \"{}\"\nurl = \"{}\"\ntls = \"disable\"\npoll_interval = 200\n",
            self.kind.name(),
            self.url
        )
    }

    /// The same database reached through another address (a proxy on `port`).
    pub fn url_via(&self, port: u16) -> String {
        let default_port = match self.kind {
            Kind::Postgres => ":5432/",
            Kind::Mysql => ":3306/",
        };
        self.url.replace(default_port, &format!(":{port}/"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (kind, name) = (self.kind, self.name.clone());
        let sql = match kind {
            Kind::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            Kind::Mysql => format!("DROP DATABASE IF EXISTS {name}"),
        };
        // Drop may run inside a runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                if let Err(e) = rt.block_on(admin(kind, &sql)) {
                    eprintln!("cannot drop test database {name}: {e}");
                }
            }
        })
        .join();
    }
}

/// `sql` with Gammu's and smsgw's CamelCase identifiers quoted, so that statements written
/// for SQLite run on PostgreSQL (whose Gammu schema quotes them) and on MySQL sessions with
/// `ANSI_QUOTES`.
pub fn quote_identifiers(sql: &str) -> String {
    use std::collections::HashSet;
    let schemas = [
        smsgw::backends::sql::server::PG_SCHEMA,
        smsgw::backends::sql::server::PG_SMSGW_SCHEMA,
    ];
    let mut names = HashSet::new();
    for s in schemas {
        for (i, part) in s.split('"').enumerate() {
            if i % 2 == 1 && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                names.insert(part.to_string());
            }
        }
    }
    let mut out = String::new();
    let mut word = String::new();
    let (mut quoted, mut dquoted) = (false, false);
    let flush = |word: &mut String, out: &mut String, plain: bool| {
        if plain && names.contains(word.as_str()) {
            out.push('"');
            out.push_str(word);
            out.push('"');
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in sql.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out, !quoted && !dquoted);
        match c {
            '\'' if !dquoted => quoted = !quoted,
            '"' if !quoted => dquoted = !dquoted,
            _ => {}
        }
        out.push(c);
    }
    flush(&mut word, &mut out, !quoted && !dquoted);
    out
}

/// A loopback TCP proxy the test owns: `cut` drops every connection and refuses new ones
/// until `restore`.
pub struct Proxy {
    pub port: u16,
    cut: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, cut_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if *cut_rx.borrow() {
                    drop(client);
                    continue;
                }
                let mut cut_rx = cut_rx.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Proxy { port, cut, task }
    }

    pub fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
