//! SQLite with Gammu's schema (version 17), the embedded default: the connection on its
//! own thread, the schema, and the transactions the storage logic (`gammu.rs`) runs in.
//!
//! SQLite calls block, so the connection lives on a thread of its own and async callers
//! send it closures; a transaction runs there whole (`BEGIN IMMEDIATE` ... `COMMIT`).
//! `busy_timeout` makes it wait for locks that other programs (Kalkun, scripts, a real
//! gammu-smsd) hold. smsgw never changes `journal_mode` on a database it did not create.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::exec::{lite_error as db, ready, Db, Tx};
use super::storage::Conn;
use crate::service::{Result, StorageError};

/// Gammu's schema, as we create it (local-time defaults).
pub const GAMMU_SCHEMA: &str = include_str!("../../schema/sqlite.sql");
/// Our own tables, added next to Gammu's.
pub const SMSGW_SCHEMA: &str = include_str!("../../schema/smsgw-sqlite.sql");
use super::GAMMU_TABLES;
pub use super::SCHEMA_VERSION;

/// Work for the database's thread.
enum Job {
    /// Runs alone: reads, the schema, pragmas.
    Plain(Box<dyn FnOnce(&mut Connection) + Send>),
    /// A write transaction, run alone; its answer waits for the commit.
    Write(WriteFn),
    /// A small write many clients make at once (a face's submit): run with the others
    /// already waiting in one transaction (a group commit, each in a savepoint of its own).
    /// Only those join a group: the daemon's batches (a send window's, receipts) run
    /// faster alone, as their answers would wait for the others' work.
    Small(WriteFn),
}

/// A write: given the open transaction (or why none could be begun), it runs and says
/// whether it succeeded, and how to answer once the transaction ended.
type WriteFn = Box<
    dyn for<'t, 'c> FnOnce(std::result::Result<&'t mut Tx<'c>, String>) -> (bool, Answer) + Send,
>;

/// Sends a write's answer once the transaction it ran in ended (the commit's outcome).
type Answer = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;

/// Most writes one commit carries.
const GROUP: usize = 128;

/// What `db check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaReport {
    pub version: i64,
    /// The database was created now (by `init`).
    pub created: bool,
    /// Time defaults are UTC (Gammu 1.42's own sqlite.sql) while comparisons are local.
    pub utc_defaults: bool,
    pub journal_mode: String,
}

/// An SQLite database.
pub struct Sqlite {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
    /// `PRAGMA data_version` when last polled (it changes when another connection commits).
    data_version: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Whether changes are written to the event log ([`Conn::keep_events`]).
    events: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Bumped after a commit that appended events ([`Conn::appended`]).
    appended: tokio::sync::watch::Receiver<u64>,
}

impl Sqlite {
    /// Opens (creating the file if needed) on a dedicated thread.
    pub fn open(path: &Path, busy_timeout_ms: u64) -> Result<Sqlite> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let p = path.to_path_buf();
        let events = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let events_on_thread = events.clone();
        let (signal, appended) = tokio::sync::watch::channel(0u64);
        std::thread::Builder::new()
            .name("smsgw-sqlite".into())
            .spawn(move || {
                let conn = Connection::open(&p).and_then(|c| {
                    c.busy_timeout(std::time::Duration::from_millis(busy_timeout_ms))?;
                    c.set_prepared_statement_cache_capacity(64);
                    Ok(c)
                });
                let mut conn = match conn {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let mut next = rx.recv().ok();
                while let Some(job) = next.take() {
                    match job {
                        Job::Plain(f) => f(&mut conn),
                        Job::Write(w) => {
                            let events =
                                events_on_thread.load(std::sync::atomic::Ordering::Relaxed);
                            write_group(&mut conn, vec![w], events, &signal);
                        }
                        Job::Small(first) => {
                            // The small writes already waiting join this one; anything else
                            // waits for the commit.
                            let mut group = vec![first];
                            while group.len() < GROUP {
                                match rx.try_recv() {
                                    Ok(Job::Small(w)) => group.push(w),
                                    Ok(other) => {
                                        next = Some(other);
                                        break;
                                    }
                                    Err(_) => break,
                                }
                            }
                            let events =
                                events_on_thread.load(std::sync::atomic::Ordering::Relaxed);
                            write_group(&mut conn, group, events, &signal);
                        }
                    }
                    if next.is_none() {
                        next = rx.recv().ok();
                    }
                }
            })
            .map_err(|e| {
                StorageError::Unavailable(format!("cannot start the SQLite thread: {e}"))
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Sqlite {
                path: path.to_path_buf(),
                jobs: tx,
                data_version: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(-1)),
                events,
                appended,
            }),
            Ok(Err(e)) => Err(StorageError::Unavailable(format!(
                "{}: {e}",
                path.display()
            ))),
            Err(_) => Err(StorageError::Unavailable(format!(
                "{}: the SQLite thread stopped",
                path.display()
            ))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the database thread.
    pub async fn call<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Plain(Box::new(move |c| {
                let _ = tx.send(f(c));
            })))
            .map_err(|_| StorageError::Unavailable("the SQLite thread stopped".into()))?;
        rx.await
            .map_err(|_| StorageError::Unavailable("the SQLite thread stopped".into()))?
    }

    /// Runs the write transaction `f` on the database thread; `small`: it may join a group
    /// commit with the other small writes waiting ([`Job::Small`]).
    async fn write<R, F>(&self, small: bool, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = move |t: std::result::Result<&mut Tx<'_>, String>| -> (bool, Answer) {
            let result = match t {
                Ok(t) => ready(f(t)),
                Err(e) => Err(StorageError::Unavailable(e)),
            };
            let ok = result.is_ok();
            let answer: Answer = Box::new(move |committed: std::result::Result<(), String>| {
                let _ = tx.send(match (result, committed) {
                    (Ok(r), Ok(())) => Ok(r),
                    (Ok(_), Err(e)) => Err(StorageError::Unavailable(e)),
                    // Its own error: its savepoint was rolled back, whatever the commit did.
                    (Err(e), _) => Err(e),
                });
            });
            (ok, answer)
        };
        self.jobs
            .send(if small {
                Job::Small(Box::new(job))
            } else {
                Job::Write(Box::new(job))
            })
            .map_err(|_| StorageError::Unavailable("the SQLite thread stopped".into()))?;
        rx.await
            .map_err(|_| StorageError::Unavailable("the SQLite thread stopped".into()))?
    }

    /// Creates Gammu's schema in an empty database, or checks an existing one; adds our
    /// tables either way.
    pub async fn prepare(&self) -> Result<SchemaReport> {
        self.call(|c| prepare(c, true)).await
    }

    /// Checks the schema without changing anything (`smsgw db check`).
    pub async fn inspect(&self) -> Result<SchemaReport> {
        self.call(|c| prepare(c, false)).await
    }
}

fn table_exists(c: &Connection, name: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Creates Gammu's schema in a database that has none; false when another process (the
/// daemon and `smsgw inject` starting together) created it first. The check and the creation
/// are one write transaction, so two creators never both run the schema.
fn create(c: &mut Connection) -> Result<bool> {
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)?;
    if table_exists(&tx, "gammu").map_err(db)? {
        return Ok(false);
    }
    let others: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('inbox', 'outbox', 'sentitems')", [], |r| r.get(0))
        .map_err(db)?;
    if others > 0 {
        return Err(StorageError::Schema(
            "the database has Gammu's tables but no `gammu` version table: it is not a Gammu v17 database".into(),
        ));
    }
    tx.execute_batch(GAMMU_SCHEMA).map_err(db)?;
    tx.commit().map_err(db)?;
    use_wal(c);
    Ok(true)
}

/// Switches a database we created to WAL, which lets readers (Kalkun, `smsgw monitor`) work
/// during writes. The switch needs the file to itself, and SQLite answers "database is
/// locked" at once rather than waiting when another connection reads it (the other process
/// that found the new file), so it is tried again until the busy timeout has passed; a
/// database left in rollback mode still works, so that is a warning.
fn use_wal(c: &Connection) {
    let timeout_ms: u64 = c
        .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
        .unwrap_or(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms);
    loop {
        match c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return,
            Err(e) if std::time::Instant::now() < deadline && is_busy(&e) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => {
                tracing::warn!(
                    "could not switch the new database to WAL ({e}); it keeps SQLite's rollback journal, which works but blocks readers during writes: `sqlite3 FILE 'PRAGMA journal_mode=WAL'` switches it while nothing else has it open"
                );
                return;
            }
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn prepare(c: &mut Connection, change: bool) -> Result<SchemaReport> {
    let mut created = false;
    if !table_exists(c, "gammu").map_err(db)? && !change {
        return Err(StorageError::Schema(
            "the database has no Gammu schema (`smsgw db init` creates it)".into(),
        ));
    }
    if !table_exists(c, "gammu").map_err(db)? {
        created = create(c)?;
    }
    let version: i64 = c
        .query_row("SELECT Version FROM gammu LIMIT 1", [], |r| r.get(0))
        .optional()
        .map_err(db)?
        .unwrap_or(0);
    if version != SCHEMA_VERSION {
        return Err(StorageError::Schema(format!(
            "the database has Gammu schema version {version}; smsgw works with version {SCHEMA_VERSION} (what gammu-smsd 1.42 uses). Upgrade or downgrade it with Gammu's SQL scripts, or point smsgw at a new file"
        )));
    }
    for t in GAMMU_TABLES {
        if !table_exists(c, t).map_err(db)? {
            return Err(StorageError::Schema(format!(
                "the table `{t}` of Gammu's schema is missing"
            )));
        }
    }
    if change {
        c.execute_batch(SMSGW_SCHEMA).map_err(db)?;
    }
    let outbox_sql: String = c
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outbox'",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    let utc_defaults = outbox_sql.contains("datetime('now')");
    if utc_defaults {
        tracing::warn!(
            "the database's time defaults are UTC (Gammu 1.42's sqlite.sql) while times are compared in local time: rows inserted without times can wait for the UTC offset; see `smsgw db check`"
        );
    }
    let journal_mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(db)?;
    Ok(SchemaReport {
        version,
        created,
        utc_defaults,
        journal_mode,
    })
}

/// Runs `f` in a transaction on `c` (on the database's thread), begun with `begin`:
/// committed when it returns `Ok`, rolled back otherwise. Reads use it (`BEGIN`: no lock
/// taken); writes go through [`write_group`], which takes the lock at once (`BEGIN
/// IMMEDIATE`), so two writers never deadlock upgrading a read lock.
fn transaction<R>(
    c: &mut Connection,
    begin: &str,
    f: impl for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>>,
) -> Result<R> {
    c.execute_batch(begin).map_err(db)?;
    let result = {
        let mut tx = Tx::new(Db::Lite(c), false);
        ready(f(&mut tx))
    };
    let ended = match &result {
        Ok(_) => c.execute_batch("COMMIT"),
        Err(_) => c.execute_batch("ROLLBACK"),
    };
    if let Err(e) = ended {
        // A COMMIT that failed (busy) leaves the transaction open: end it.
        let _ = c.execute_batch("ROLLBACK");
        return Err(db(e));
    }
    result
}

/// Runs a group of write transactions in one `BEGIN IMMEDIATE ... COMMIT`: each in a
/// savepoint, rolled back alone when it fails; their answers go out after the commit (one
/// fsync for the group instead of one each: what lets a face answer many clients at once).
/// A group of one runs as a plain transaction.
fn write_group(
    c: &mut Connection,
    group: Vec<WriteFn>,
    events: bool,
    signal: &tokio::sync::watch::Sender<u64>,
) {
    if let Err(e) = c.execute_batch("BEGIN IMMEDIATE") {
        let e = db(e).to_string();
        for job in group {
            let (_, answer) = job(Err(e.clone()));
            answer(Ok(()));
        }
        return;
    }
    let alone = group.len() == 1;
    let mut answers = Vec::with_capacity(group.len());
    let mut all_failed = true;
    let mut appended = false;
    let mut broken: Option<String> = None;
    for job in group {
        if let Some(e) = &broken {
            let (_, answer) = job(Err(e.clone()));
            answers.push(answer);
            continue;
        }
        if !alone {
            if let Err(e) = c.execute_batch("SAVEPOINT smsgw_job") {
                broken = Some(db(e).to_string());
                let (_, answer) = job(Err(broken.clone().unwrap_or_default()));
                answers.push(answer);
                continue;
            }
        }
        let (ok, answer) = {
            let mut tx = Tx::new(Db::Lite(c), events);
            let (ok, answer) = job(Ok(&mut tx));
            appended |= ok && tx.appended();
            (ok, answer)
        };
        all_failed &= !ok;
        if !alone {
            let end = if ok {
                "RELEASE smsgw_job"
            } else {
                "ROLLBACK TO smsgw_job; RELEASE smsgw_job"
            };
            if let Err(e) = c.execute_batch(end) {
                broken = Some(db(e).to_string());
            }
        }
        answers.push(answer);
    }
    let ended = match &broken {
        Some(e) => {
            let _ = c.execute_batch("ROLLBACK");
            Err(e.clone())
        }
        // Nothing to keep: a failed transaction of its own is rolled back.
        None if all_failed => c.execute_batch("ROLLBACK").map_err(|e| db(e).to_string()),
        None => c.execute_batch("COMMIT").map_err(|e| {
            // A COMMIT that failed (busy) leaves the transaction open: end it.
            let _ = c.execute_batch("ROLLBACK");
            db(e).to_string()
        }),
    };
    if appended && ended.is_ok() {
        signal.send_modify(|n| *n = n.wrapping_add(1));
    }
    for answer in answers {
        answer(ended.clone());
    }
}

#[async_trait]
impl Conn for Sqlite {
    fn keep_events(&self, on: bool) {
        self.events.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    fn appended(&self) -> tokio::sync::watch::Receiver<u64> {
        self.appended.clone()
    }

    async fn transaction<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        self.write(false, f).await
    }

    async fn small_transaction<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        self.write(true, f).await
    }

    async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        // A read appends nothing to the event log.
        self.call(move |c| transaction(c, "BEGIN", f)).await
    }

    async fn init(&self) -> Result<()> {
        self.prepare().await.map(|_| ())
    }

    /// `PRAGMA data_version` changes when another connection commits.
    async fn outbox_changed(&self) -> Result<bool> {
        let seen = self.data_version.clone();
        self.call(move |c| {
            let v: i64 = c
                .query_row("PRAGMA data_version", [], |r| r.get(0))
                .map_err(db)?;
            let before = seen.swap(v, std::sync::atomic::Ordering::SeqCst);
            Ok(before != v)
        })
        .await
    }
}
