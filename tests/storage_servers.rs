//! The storage suite on the machine's PostgreSQL and MariaDB servers (one test binary for
//! both), on databases smsgw created and on databases made by Gammu's own SQL files, plus
//! what only servers have: schema creation on an empty database, refusing a wrong version,
//! tolerating columns other tools added, `NOTIFY` wake-ups.

#[macro_use]
mod storage_suite;
mod servers;

use std::sync::Arc;

use servers::{quote_identifiers, Kind, TestDb};
use smsgw::backends::sql::server::{Dialect, Server};
use smsgw::service::Service;
use storage_suite::{Backend, Raw};

struct ServerRaw(Arc<Server>);

impl ServerRaw {
    fn run(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let sql = quote_identifiers(sql);
        let s = self.0.clone();
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                s.query_text(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            })
        })
    }
}

impl Raw for ServerRaw {
    fn exec(&self, sql: &str) {
        for stmt in sql.split(';').filter(|s| !s.trim().is_empty()) {
            self.run(stmt);
        }
    }
    fn count(&self, sql: &str) -> i64 {
        let rows = self.run(sql);
        let v = rows.first().and_then(|r| r.first().cloned().flatten());
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{sql}: no number"))
    }
    fn text(&self, sql: &str) -> Option<String> {
        self.run(sql)
            .first()
            .and_then(|r| r.first().cloned().flatten())
    }
    fn now_plus(&self, secs: i64) -> String {
        self.0.dialect().now_plus(secs)
    }
}

struct ServerBackend {
    /// Gammu's tables roll back (InnoDB, PostgreSQL): not so for Gammu's own mysql.sql.
    transactional: bool,
    one: Arc<Server>,
    two: Arc<Server>,
    raw: ServerRaw,
    _db: TestDb,
}

impl Backend for ServerBackend {
    fn service(&self) -> Arc<dyn Service> {
        self.one.clone()
    }
    fn second(&self) -> Arc<dyn Service> {
        self.two.clone()
    }
    fn raw(&self) -> &dyn Raw {
        &self.raw
    }
    fn transactional(&self) -> bool {
        self.transactional
    }
}

async fn backend(kind: Kind) -> Option<ServerBackend> {
    let db = TestDb::create(kind).await?;
    let one = Arc::new(Server::connect(&db.storage()).expect("connect"));
    one.init().await.expect("init");
    let two = Arc::new(Server::connect(&db.storage()).expect("connect"));
    two.init().await.expect("init a second time");
    Some(ServerBackend {
        transactional: true,
        raw: ServerRaw(one.clone()),
        one,
        two,
        _db: db,
    })
}

/// A database made by Gammu's own SQL (Debian's gammu-smsd examples), loaded with the
/// server's command-line client as an administrator would; smsgw adds only its tables.
async fn gammu_made(kind: Kind) -> Option<ServerBackend> {
    let file = match kind {
        Kind::Postgres => "/usr/share/doc/gammu-smsd/examples/pgsql.sql",
        Kind::Mysql => "/usr/share/doc/gammu-smsd/examples/mysql.sql",
    };
    if std::fs::metadata(file).is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{file} is missing: scripts/install-test-deps.sh installs gammu-smsd"
        );
        eprintln!("\n!!!!! SKIPPED: {file} is missing (apt-get install gammu-smsd) !!!!!\n");
        return None;
    }
    let db = TestDb::create(kind).await?;
    let out = match kind {
        // Gammu's file starts with CREATE LANGUAGE plpgsql, which exists already: psql goes
        // on after that error, as it does for an administrator.
        Kind::Postgres => std::process::Command::new("psql")
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                &db.name,
                "-f",
                file,
            ])
            .output(),
        Kind::Mysql => std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("mariadb -h 127.0.0.1 -u root {} < {file}", db.name))
            .output(),
    }
    .expect("the server's command-line client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one = Arc::new(Server::connect(&db.storage()).expect("connect"));
    let report = one.prepare().await.expect("smsgw accepts Gammu's database");
    assert!(!report.created);
    assert_eq!(report.version, 17);
    if kind == Kind::Mysql {
        assert_eq!(
            report.not_innodb.len(),
            5,
            "Gammu's mysql.sql makes MyISAM tables"
        );
    }
    let two = Arc::new(Server::connect(&db.storage()).expect("connect"));
    two.init().await.expect("init a second time");
    Some(ServerBackend {
        transactional: report.not_innodb.is_empty(),
        raw: ServerRaw(one.clone()),
        one,
        two,
        _db: db,
    })
}

mod postgres_gammu_made {
    use super::*;
    async fn make() -> Option<ServerBackend> {
        gammu_made(Kind::Postgres).await
    }
    storage_suite_tests!(make);
}

mod mysql_gammu_made {
    use super::*;
    async fn make() -> Option<ServerBackend> {
        gammu_made(Kind::Mysql).await
    }
    storage_suite_tests!(make);
}

mod postgres {
    use super::*;
    async fn make() -> Option<ServerBackend> {
        backend(Kind::Postgres).await
    }
    storage_suite_tests!(make);
}

mod mysql {
    use super::*;
    async fn make() -> Option<ServerBackend> {
        backend(Kind::Mysql).await
    }
    storage_suite_tests!(make);
}

async fn server(kind: Kind) -> Option<(TestDb, Server)> {
    let db = TestDb::create(kind).await?;
    let s = Server::connect(&db.storage()).expect("connect");
    Some((db, s))
}

async fn schema_created_once_then_kept(kind: Kind) {
    let Some((_db, s)) = server(kind).await else {
        return;
    };
    let err = s.inspect().await.unwrap_err().to_string();
    assert!(err.contains("`smsgw db init` creates it"), "{err}");
    let r = s.prepare().await.unwrap();
    assert!(r.created);
    assert_eq!(r.version, 17);
    assert_eq!(r.notify_trigger, kind == Kind::Postgres);
    let r = s.prepare().await.unwrap();
    assert!(!r.created, "opening again keeps the database");
    // Kalkun adds columns of its own: explicit column lists keep working.
    let extra = match s.dialect() {
        Dialect::Postgres => {
            "ALTER TABLE outbox ADD COLUMN \"id_folder\" integer NOT NULL DEFAULT 1"
        }
        Dialect::Mysql | Dialect::Sqlite => {
            "ALTER TABLE outbox ADD COLUMN id_folder integer NOT NULL DEFAULT 1"
        }
    };
    s.query_text(extra).await.unwrap();
    let msg = smsgw::compose::new_message(
        "+48600100200",
        "hello",
        &smsgw::compose::InjectOptions::default(),
    )
    .unwrap();
    let id = s.create_outbox(&msg).await.unwrap();
    let got = s.claim_outbox("t", &[], 5, 60).await.unwrap();
    assert_eq!(got.iter().map(|o| o.id).collect::<Vec<_>>(), [id]);
    // A wrong version is refused with what to do.
    s.query_text("UPDATE gammu SET \"Version\" = 16")
        .await
        .unwrap();
    let err = s.prepare().await.unwrap_err().to_string();
    assert!(
        err.contains("version 16") && err.contains("version 17"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_created_once_then_kept() {
    schema_created_once_then_kept(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_schema_created_once_then_kept() {
    schema_created_once_then_kept(Kind::Mysql).await;
}

/// A row inserted by another program (plain SQL, as Kalkun does) is announced by NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notify_announces_rows_inserted_by_others() {
    let Some((_db, s)) = server(Kind::Postgres).await else {
        return;
    };
    s.init().await.unwrap();
    let mut changes = s.changes().expect("PostgreSQL announces changes");
    // The listener announces once when it starts listening.
    tokio::time::timeout(std::time::Duration::from_secs(10), changes.changed())
        .await
        .expect("listening")
        .unwrap();
    let other = Server::connect(&_db.storage()).unwrap();
    other
        .query_text("INSERT INTO outbox (\"DestinationNumber\", \"TextDecoded\", \"CreatorID\") VALUES ('+48600100200', 'from Kalkun', 'kalkun')")
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), changes.changed())
        .await
        .expect("the insert was announced")
        .unwrap();
    assert!(Server::connect(&_db.storage()).unwrap().changes().is_some());
}
