//! The storage suite on real SQLite files, plus what only SQLite has: creating the schema,
//! accepting a database made by Gammu's own sqlite.sql, refusing a wrong version.
//! CI runs this file a second time under a non-UTC time zone (`TZ=UTC+3`).

#[macro_use]
mod storage_suite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;
use smsgw::backends::sql::sqlite::Sqlite;
use smsgw::service::{Service, StorageError};
use storage_suite::{Backend, Raw};
use tempfile::TempDir;

struct SqliteRaw(PathBuf);

impl SqliteRaw {
    fn conn(&self) -> Connection {
        let c = Connection::open(&self.0).expect("open");
        c.busy_timeout(std::time::Duration::from_secs(5))
            .expect("busy timeout");
        c
    }
}

impl Raw for SqliteRaw {
    fn exec(&self, sql: &str) {
        self.conn()
            .execute_batch(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    fn count(&self, sql: &str) -> i64 {
        self.conn()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn text(&self, sql: &str) -> Option<String> {
        self.conn()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn now_plus(&self, secs: i64) -> String {
        format!("datetime('now', 'localtime', '{secs:+} seconds')")
    }
}

struct SqliteBackend {
    _dir: TempDir,
    one: Arc<dyn Service>,
    two: Arc<dyn Service>,
    raw: SqliteRaw,
}

impl Backend for SqliteBackend {
    fn service(&self) -> Arc<dyn Service> {
        self.one.clone()
    }
    fn second(&self) -> Arc<dyn Service> {
        self.two.clone()
    }
    fn raw(&self) -> &dyn Raw {
        &self.raw
    }
}

async fn sqlite_backend() -> SqliteBackend {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smsgw.db");
    let one = Sqlite::open(&path, 5000).unwrap();
    one.init().await.unwrap();
    let two = Sqlite::open(&path, 5000).unwrap();
    two.init().await.unwrap();
    SqliteBackend {
        raw: SqliteRaw(path),
        one: Arc::new(one),
        two: Arc::new(two),
        _dir: dir,
    }
}

storage_suite_tests!(sqlite_backend);

fn schema_of(path: &Path, table: &str) -> String {
    Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = ?1",
            [table],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn a_new_database_gets_gammus_schema_with_local_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let r = Sqlite::open(&path, 1000).unwrap().prepare().await.unwrap();
    assert!(r.created);
    assert_eq!(
        (r.version, r.journal_mode.as_str(), r.utc_defaults),
        (17, "wal", false)
    );
    assert!(schema_of(&path, "outbox").contains("datetime('now', 'localtime')"));
    // Opening it again checks and keeps it.
    let r = Sqlite::open(&path, 1000).unwrap().prepare().await.unwrap();
    assert!(!r.created);
}

/// The daemon and `smsgw inject` started together both find a new file without a schema:
/// exactly one creates it, the other uses it (CI once failed with "table gammu already
/// exists").
#[tokio::test]
async fn two_processes_creating_the_schema_at_once_both_succeed() {
    for round in 0..50 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.db");
        let (a, b) = (
            Sqlite::open(&path, 5000).unwrap(),
            Sqlite::open(&path, 5000).unwrap(),
        );
        let (ra, rb) = tokio::join!(a.prepare(), b.prepare());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(
            ra.created != rb.created,
            "round {round}: exactly one creates"
        );
        assert_eq!((ra.version, rb.version), (17, 17));
        let check = Connection::open(&path).unwrap();
        let rows: i64 = check
            .query_row("SELECT count(*) FROM gammu", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "round {round}: one version row");
        // The creator switched it to WAL although the other one was reading it.
        let mode: String = check
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "round {round}");
    }
}

const DEBIAN_GAMMU_SQLITE: &str = "/usr/share/doc/gammu-smsd/examples/sqlite.sql";

#[tokio::test]
async fn a_database_made_by_gammus_own_sqlite_sql_works_as_is() {
    let Ok(gammu_sql) = std::fs::read_to_string(DEBIAN_GAMMU_SQLITE) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{DEBIAN_GAMMU_SQLITE} is missing: scripts/install-test-deps.sh installs gammu-smsd"
        );
        eprintln!("SKIPPED: {DEBIAN_GAMMU_SQLITE} is missing (apt-get install gammu-smsd)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gammu.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(&gammu_sql)
        .unwrap();
    let tables = [
        "gammu",
        "inbox",
        "outbox",
        "outbox_multipart",
        "phones",
        "sentitems",
    ];
    let before: Vec<String> = tables.iter().map(|t| schema_of(&path, t)).collect();
    let journal_before: String = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let db = Sqlite::open(&path, 1000).unwrap();
    let r = db.prepare().await.unwrap();
    assert!(!r.created);
    assert!(
        r.utc_defaults,
        "Gammu 1.42's schema defaults to UTC: warned about"
    );
    assert_eq!(r.journal_mode, journal_before, "journal mode left alone");
    let after: Vec<String> = tables.iter().map(|t| schema_of(&path, t)).collect();
    assert_eq!(before, after, "Gammu's tables are not altered");
    assert!(
        schema_of(&path, "smsgw_claims").contains("Owner"),
        "our own tables are added"
    );
    // And it is usable.
    let msg = smsgw::compose::new_message("+48123", "hi", &Default::default()).unwrap();
    let id = db.create_outbox(&msg).await.unwrap();
    assert_eq!(db.claim_outbox("a", &[], 5, 60).await.unwrap()[0].id, id);
}

#[tokio::test]
async fn a_wrong_schema_version_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Sqlite::open(&path, 1000).unwrap().prepare().await.unwrap();
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE gammu SET Version = 16", [])
        .unwrap();
    match Sqlite::open(&path, 1000).unwrap().prepare().await {
        Err(StorageError::Schema(m)) => {
            assert!(m.contains("version 16") && m.contains("version 17"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let dir2 = tempfile::tempdir().unwrap();
    let empty = dir2.path().join("empty.db");
    match Sqlite::open(&empty, 1000).unwrap().inspect().await {
        Err(StorageError::Schema(m)) => assert!(m.contains("smsgw db init"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_locked_database_is_waited_for_then_reported_as_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let db = Sqlite::open(&path, 200).unwrap();
    db.prepare().await.unwrap();
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let msg = smsgw::compose::new_message("+48123", "hi", &Default::default()).unwrap();
    match db.create_outbox(&msg).await {
        Err(StorageError::Unavailable(m)) => assert!(m.contains("locked"), "{m}"),
        other => panic!("{other:?}"),
    }
    holder.execute_batch("COMMIT").unwrap();
    db.create_outbox(&msg).await.unwrap();
}
