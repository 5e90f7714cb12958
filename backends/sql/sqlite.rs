//! SQLite storage with Gammu's schema (version 17), the embedded default.
//!
//! The connection lives on its own thread (SQLite calls block); async callers send it
//! closures. `busy_timeout` makes it wait for locks that other programs (Kalkun, scripts, a
//! real gammu-smsd) hold. smsgw never changes `journal_mode` on a database it did not create.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use tokio::sync::oneshot;

use super::Attempt;
use crate::pdu::DeliveryStatus;
use crate::service::{
    same_number, Coding, DeliveryKey, InboxPart, NewMessage, OutPart, Outcome, Outgoing,
    PartResult, PendingPart, PhoneStatus, ReportRequest, Result, Service, StorageError,
};
use crate::smpp::receipt::id_forms;

/// Gammu's schema, as we create it (local-time defaults).
pub const GAMMU_SCHEMA: &str = include_str!("../../schema/sqlite.sql");
/// Our own tables, added next to Gammu's.
pub const SMSGW_SCHEMA: &str = include_str!("../../schema/smsgw-sqlite.sql");
/// The only schema version gammu-smsd 1.42 accepts, and the one we speak.
pub const SCHEMA_VERSION: i64 = 17;
const GAMMU_TABLES: [&str; 6] = [
    "gammu",
    "inbox",
    "outbox",
    "outbox_multipart",
    "phones",
    "sentitems",
];

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

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
}

fn db(e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StorageError::Unavailable(format!("database is locked: {e}"))
        }
        Some(
            rusqlite::ErrorCode::CannotOpen
            | rusqlite::ErrorCode::ReadOnly
            | rusqlite::ErrorCode::DiskFull,
        ) => StorageError::Unavailable(e.to_string()),
        _ => StorageError::Data(e.to_string()),
    }
}

impl Sqlite {
    /// Opens (creating the file if needed) on a dedicated thread.
    pub fn open(path: &Path, busy_timeout_ms: u64) -> Result<Sqlite> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let p = path.to_path_buf();
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
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
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
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
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
    row(
        c,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

fn prepare(c: &mut Connection, change: bool) -> Result<SchemaReport> {
    let mut created = false;
    if !table_exists(c, "gammu").map_err(db)? && !change {
        return Err(StorageError::Schema(
            "the database has no Gammu schema (`smsgw db init` creates it)".into(),
        ));
    }
    if !table_exists(c, "gammu").map_err(db)? {
        let others: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('inbox', 'outbox', 'sentitems')", [], |r| r.get(0))
            .map_err(db)?;
        if others > 0 {
            return Err(StorageError::Schema(
                "the database has Gammu's tables but no `gammu` version table: it is not a Gammu v17 database".into(),
            ));
        }
        // A database we create: WAL lets readers (Kalkun, monitor) work during writes.
        row(c, "PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(db)?;
        c.execute_batch(GAMMU_SCHEMA).map_err(db)?;
        created = true;
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

/// `execute` with the statement prepared once per connection (a send window records
/// thousands of rows a second; parsing a statement costs more than running it).
fn exec(c: &Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(p)
}

/// `query_row` with the statement prepared once per connection.
fn row<T>(
    c: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(p, f)
}

fn lease_of(c: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    row(
        c,
        "SELECT SendingTimeOut FROM outbox WHERE ID = ?1",
        [id],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()
    .map(Option::flatten)
}

fn check_lease(c: &Connection, out: &Outgoing) -> Result<()> {
    match lease_of(c, out.id).map_err(db)? {
        Some(l) if l == out.lease => Ok(()),
        _ => Err(StorageError::LostClaim(out.id)),
    }
}

/// Whether a part's `Status` says it went out already.
fn already_sent(s: Option<String>) -> bool {
    s.is_some_and(|s| s.starts_with("SendingOK"))
}

/// Part 1 (in `outbox`) from `Text, Coding, UDH, Class, TextDecoded, Status` at `at`.
fn first_part(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<OutPart> {
    Ok(OutPart {
        seq: 1,
        text_hex: r.get::<_, Option<String>>(at)?.filter(|s| !s.is_empty()),
        coding: Coding::parse(&r.get::<_, String>(at + 1)?),
        udh_hex: r
            .get::<_, Option<String>>(at + 2)?
            .filter(|s| !s.is_empty()),
        class: r.get::<_, Option<i32>>(at + 3)?.unwrap_or(-1),
        text_decoded: r.get::<_, Option<String>>(at + 4)?,
        already_sent: already_sent(r.get(at + 5)?),
    })
}

fn read_parts(c: &Connection, id: i64) -> rusqlite::Result<Vec<OutPart>> {
    let (first, multipart) = row(
        c,
        "SELECT Text, Coding, UDH, Class, TextDecoded, Status, MultiPart FROM outbox WHERE ID = ?1",
        [id],
        |r| Ok((first_part(r, 0)?, r.get::<_, String>(6)?)),
    )?;
    let mut parts = vec![first];
    if multipart.eq_ignore_ascii_case("true") {
        more_parts(c, id, &mut parts)?;
    }
    Ok(parts)
}

/// Parts 2, 3, ... from `outbox_multipart`.
fn more_parts(c: &Connection, id: i64, parts: &mut Vec<OutPart>) -> rusqlite::Result<()> {
    let mut stmt = c.prepare_cached(
        "SELECT SequencePosition, Text, Coding, UDH, Class, TextDecoded, Status FROM outbox_multipart WHERE ID = ?1 AND SequencePosition >= 2 ORDER BY SequencePosition",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(OutPart {
            seq: r.get(0)?,
            text_hex: r.get::<_, Option<String>>(1)?.filter(|s| !s.is_empty()),
            coding: Coding::parse(&r.get::<_, String>(2)?),
            udh_hex: r.get::<_, Option<String>>(3)?.filter(|s| !s.is_empty()),
            class: r.get::<_, Option<i32>>(4)?.unwrap_or(-1),
            text_decoded: r.get::<_, Option<String>>(5)?,
            already_sent: already_sent(r.get(6)?),
        })
    })?;
    // Gammu reads 2, 3, ... until one is missing; so do we.
    for (expected, part) in (2u32..).zip(rows) {
        let part = part?;
        if part.seq != expected {
            break;
        }
        parts.push(part);
    }
    Ok(())
}

/// Claims up to `limit` messages (inside the caller's transaction).
fn claim(
    tx: &Connection,
    owner: &str,
    routes: &[String],
    limit: usize,
    lease_secs: u32,
) -> Result<Vec<Outgoing>> {
    let mut sql = String::from(
        "SELECT ID FROM outbox
          WHERE SendingDateTime <= datetime('now', 'localtime')
            AND (SendingTimeOut IS NULL OR SendingTimeOut <= datetime('now', 'localtime'))
            AND SendBefore >= time('now', 'localtime') AND SendAfter <= time('now', 'localtime')
            AND (+SenderID IS NULL OR +SenderID = ''",
    );
    // `+SenderID`: keeps the planner off the SenderID index, so it walks smsgw_outbox_order
    // and stops at the first eligible row instead of sorting the whole outbox.
    for i in 0..routes.len() {
        sql.push_str(&format!(" OR +SenderID = ?{}", i + 2));
    }
    sql.push_str(") ORDER BY Priority DESC, InsertIntoDB ASC, ID ASC LIMIT ?1");
    let ids: Vec<i64> = {
        let mut stmt = tx.prepare_cached(&sql).map_err(db)?;
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![&limit];
        for r in routes {
            args.push(r);
        }
        let rows = stmt.query_map(args.as_slice(), |r| r.get(0)).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    let mut out = Vec::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let in_ids = id_list(&ids);
    // The guarded lease: what keeps a real gammu-smsd (and other smsgw) away. Rows another
    // claimer took since the SELECT are not returned.
    let won: HashMap<i64, String> = {
        let mut stmt = tx
            .prepare_cached(
                "UPDATE outbox SET SendingTimeOut = datetime('now', 'localtime', ?1)
                  WHERE ID IN (SELECT value FROM json_each(?2))
                    AND (SendingTimeOut IS NULL OR SendingTimeOut <= datetime('now', 'localtime'))
                  RETURNING ID, SendingTimeOut",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![format!("+{lease_secs} seconds"), in_ids], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    // Ours now, in the order of the SELECT (best first).
    let taken: Vec<i64> = ids.into_iter().filter(|id| won.contains_key(id)).collect();
    if taken.is_empty() {
        return Ok(out);
    }
    let taken_ids = id_list(&taken);
    type Head = (
        String,
        Option<String>,
        String,
        Option<i32>,
        Option<String>,
        Option<i64>,
        Option<i32>,
        String,
    );
    let mut read: HashMap<i64, (Head, OutPart, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT ID, DestinationNumber, SenderID, CreatorID, RelativeValidity, DeliveryReport, Retries, Priority, InsertIntoDB,
                        Text, Coding, UDH, Class, TextDecoded, Status, MultiPart FROM outbox WHERE ID IN (SELECT value FROM json_each(?1))",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([&taken_ids], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (
                        (
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                        ),
                        first_part(r, 9)?,
                        r.get::<_, String>(15)?,
                    ),
                ))
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    // Who holds the leases just taken (all of them end at the same time).
    exec(
        tx,
        "INSERT OR REPLACE INTO smsgw_claims (ID, Owner, Lease)
         SELECT ID, ?1, SendingTimeOut FROM outbox WHERE ID IN (SELECT value FROM json_each(?2))",
        params![owner, taken_ids],
    )
    .map_err(db)?;
    for id in taken {
        let (Some(lease), Some((head, first, multipart))) = (won.get(&id), read.remove(&id)) else {
            continue;
        };
        let mut parts = vec![first];
        if multipart.eq_ignore_ascii_case("true") {
            more_parts(tx, id, &mut parts).map_err(db)?;
        }
        out.push(Outgoing {
            id,
            name: id.to_string(),
            destination: head.0,
            sender_id: head.1.filter(|s| !s.is_empty()),
            creator_id: head.2,
            parts,
            relative_validity: head.3.unwrap_or(-1),
            delivery_report: ReportRequest::parse(head.4.as_deref().unwrap_or("default")),
            retries: head.5.unwrap_or(0).max(0) as u32,
            priority: head.6.unwrap_or(0),
            inserted: head.7,
            lease: lease.clone(),
        });
    }
    Ok(out)
}

/// Records the parts of messages that all went out and deletes the messages (inside the
/// caller's transaction); `LostClaim` for a message whose lease is not ours any more.
fn finish_sent(
    tx: &Connection,
    done: &[(Outgoing, Vec<(u32, PartResult)>)],
) -> Result<Vec<Result<()>>> {
    // One statement each for the whole batch where the rows allow it.
    let ids: Vec<i64> = done.iter().map(|(out, _)| out.id).collect();
    let leases: HashMap<i64, Option<String>> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT ID, SendingTimeOut FROM outbox WHERE ID IN (SELECT value FROM json_each(?1))",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([id_list(&ids)], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    let parked: bool = row(
        tx,
        "SELECT EXISTS (SELECT 1 FROM smsgw_pending_receipts)",
        [],
        |r| r.get(0),
    )
    .map_err(db)?;
    let mut results = Vec::with_capacity(done.len());
    let mut gone = Vec::with_capacity(done.len());
    for (out, parts) in done {
        if leases.get(&out.id).cloned().flatten().as_deref() != Some(out.lease.as_str()) {
            results.push(Err(StorageError::LostClaim(out.id)));
            continue;
        }
        for (seq, part) in parts {
            // Anything but a lost claim fails the whole batch: nothing is committed.
            record_part(tx, out, *seq, part, false, parked)?;
        }
        gone.push(out.id);
        results.push(Ok(()));
    }
    if !gone.is_empty() {
        let gone = id_list(&gone);
        for sql in [
            "DELETE FROM outbox WHERE ID IN (SELECT value FROM json_each(?1))",
            "DELETE FROM outbox_multipart WHERE ID IN (SELECT value FROM json_each(?1))",
            "DELETE FROM smsgw_claims WHERE ID IN (SELECT value FROM json_each(?1))",
        ] {
            exec(tx, sql, [&gone]).map_err(db)?;
        }
    }
    Ok(results)
}

fn insert_sentitem(
    c: &Connection,
    out: &Outgoing,
    part: &OutPart,
    a: &Attempt<'_>,
) -> rusqlite::Result<usize> {
    exec(c,
        "INSERT OR REPLACE INTO sentitems (CreatorID, ID, SequencePosition, Status, SendingDateTime, SMSCNumber, TPMR, SenderID, Text, DestinationNumber, Coding, UDH, Class, TextDecoded, InsertIntoDB, RelativeValidity, StatusCode)
         VALUES (?1, ?2, ?3, ?4, datetime('now', 'localtime'), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            out.creator_id,
            out.id,
            part.seq,
            a.status,
            a.smsc,
            a.tpmr,
            a.route,
            part.text_hex.clone().unwrap_or_default(),
            out.destination,
            part.coding.unwrap_or_default().as_str(),
            part.udh_hex.clone().unwrap_or_default(),
            part.class,
            part.text_decoded.clone().unwrap_or_default(),
            out.inserted,
            out.relative_validity,
            a.status_code,
        ],
    )
}

fn set_part_status(
    c: &Connection,
    id: i64,
    seq: u32,
    status: &str,
    code: i32,
) -> rusqlite::Result<usize> {
    if seq == 1 {
        exec(
            c,
            "UPDATE outbox SET Status = ?2, StatusCode = ?3 WHERE ID = ?1",
            params![id, status, code],
        )
    } else {
        exec(c,
            "UPDATE outbox_multipart SET Status = ?3, StatusCode = ?4 WHERE ID = ?1 AND SequencePosition = ?2",
            params![id, seq, status, code],
        )
    }
}

/// Sets a sent part's delivery state from a status report or receipt (`status`: TP-ST).
fn set_delivery(c: &Connection, id: i64, seq: i64, status: u8, done: &str) -> rusqlite::Result<()> {
    let state = DeliveryStatus::from_status(status);
    exec(
        c,
        "UPDATE sentitems SET Status = ?3, StatusError = ?4,
                DeliveryDateTime = CASE WHEN ?5 THEN ?6 ELSE DeliveryDateTime END
          WHERE ID = ?1 AND SequencePosition = ?2",
        params![
            id,
            seq,
            state.to_string(),
            status,
            state == DeliveryStatus::DeliveryOK,
            done
        ],
    )?;
    Ok(())
}

/// Row ids as one parameter, a JSON array: `ID IN (SELECT value FROM json_each(?))` keeps
/// the statement's text the same for any batch, so it is prepared once.
fn id_list(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", list.join(","))
}

/// `?2, ?3, ...` for the forms of an id after the route (`?1`).
fn form_params(n: usize) -> String {
    (2..n + 2)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keeps the SMSC's id of a sent part, then applies the receipts that came before it.
/// `parked`: whether any receipt waits in `smsgw_pending_receipts` (else no need to look).
fn keep_smsc_id(
    c: &Connection,
    route: &str,
    message_id: &str,
    id: i64,
    seq: u32,
    parked: bool,
) -> rusqlite::Result<()> {
    // A final receipt that came first leaves nothing to keep the id for.
    let ended = parked && apply_parked(c, route, message_id, id, seq)?;
    if !ended {
        exec(c,
            "INSERT OR REPLACE INTO smsgw_smsc_ids (Route, MessageID, ID, SequencePosition) VALUES (?1, ?2, ?3, ?4)",
            params![route, message_id, id, seq],
        )?;
    }
    Ok(())
}

/// Applies to a part just recorded the receipts parked under its SMSC id (the id as given,
/// else another form of it), in the order they came; whether one of them was final.
fn apply_parked(
    c: &Connection,
    route: &str,
    message_id: &str,
    id: i64,
    seq: u32,
) -> rusqlite::Result<bool> {
    let forms = id_forms(message_id);
    let parked: Vec<(String, u8, String)> = {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT MessageID, Status, COALESCE(DischargeTime, '') FROM smsgw_pending_receipts
              WHERE Route = ?1 AND MessageID IN ({}) ORDER BY rowid",
            form_params(forms.len())
        ))?;
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&route];
        values.extend(forms.iter().map(|f| f as &dyn rusqlite::ToSql));
        let rows = stmt.query_map(values.as_slice(), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let Some(form) = forms.iter().find(|f| parked.iter().any(|p| &p.0 == *f)) else {
        return Ok(false);
    };
    let mut ended = false;
    for (_, status, done) in parked.iter().filter(|p| &p.0 == form) {
        set_delivery(c, id, i64::from(seq), *status, done)?;
        ended |= DeliveryStatus::from_status(*status).is_final();
    }
    exec(
        c,
        "DELETE FROM smsgw_pending_receipts WHERE Route = ?1 AND MessageID = ?2",
        params![route, form],
    )?;
    tracing::info!(
        route,
        message_id,
        id,
        part = seq,
        "a receipt that came before the part was recorded now matched it"
    );
    Ok(ended)
}

/// Applies a receipt by SMSC message id; parks it when no part has that id (yet).
fn receipt_by_id(
    c: &Connection,
    route: &str,
    message_id: &str,
    status: u8,
    done: &str,
) -> rusqlite::Result<bool> {
    let forms = id_forms(message_id);
    let last = DeliveryStatus::from_status(status).is_final();
    // A final receipt frees the id: found and deleted in one statement.
    let sql = format!(
        "{} smsgw_smsc_ids WHERE Route = ?1 AND MessageID IN ({}){}",
        if last {
            "DELETE FROM"
        } else {
            "SELECT MessageID, ID, SequencePosition FROM"
        },
        form_params(forms.len()),
        if last {
            " RETURNING MessageID, ID, SequencePosition"
        } else {
            ""
        },
    );
    let hits: Vec<(String, i64, i64)> = {
        let mut stmt = c.prepare_cached(&sql)?;
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&route];
        values.extend(forms.iter().map(|f| f as &dyn rusqlite::ToSql));
        let rows = stmt.query_map(values.as_slice(), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // The id as written wins over another form of it.
    let hit = hits
        .iter()
        .find(|h| h.0 == message_id)
        .or_else(|| hits.first());
    let Some((kept, id, seq)) = hit else {
        exec(c,
            "INSERT INTO smsgw_pending_receipts (Route, MessageID, Status, DischargeTime) VALUES (?1, ?2, ?3, ?4)",
            params![route, message_id, status, done],
        )?;
        return Ok(false);
    };
    set_delivery(c, *id, *seq, status, done)?;
    if last {
        // Another part kept under another form of the id (both forms seen): not this one.
        for (other, id, seq) in hits.iter().filter(|h| &h.0 != kept) {
            exec(c,
                "INSERT INTO smsgw_smsc_ids (Route, MessageID, ID, SequencePosition) VALUES (?1, ?2, ?3, ?4)",
                params![route, other, id, seq],
            )?;
        }
    }
    Ok(true)
}

/// Records one part the network accepted (inside the caller's transaction, lease checked);
/// `mark`: also mark the outbox row sent (not needed when the message is deleted with it).
fn record_part(
    c: &Connection,
    out: &Outgoing,
    seq: u32,
    result: &PartResult,
    mark: bool,
    parked: bool,
) -> Result<()> {
    let part = out
        .parts
        .iter()
        .find(|p| p.seq == seq)
        .ok_or_else(|| StorageError::Data(format!("message {} has no part {seq}", out.id)))?;
    let (attempt, message_id) = Attempt::sent(result);
    insert_sentitem(c, out, part, &attempt).map_err(db)?;
    if mark {
        set_part_status(c, out.id, seq, attempt.status, -1).map_err(db)?;
    }
    if let Some(m) = message_id {
        keep_smsc_id(c, attempt.route, m, out.id, seq, parked).map_err(db)?;
    }
    Ok(())
}

fn delete_message(c: &Connection, id: i64) -> rusqlite::Result<()> {
    exec(c, "DELETE FROM outbox WHERE ID = ?1", [id])?;
    exec(c, "DELETE FROM outbox_multipart WHERE ID = ?1", [id])?;
    exec(c, "DELETE FROM smsgw_claims WHERE ID = ?1", [id])?;
    Ok(())
}

/// Writes a message in Gammu's layout (`outbox` + `outbox_multipart`); returns its ID.
fn insert_message(tx: &Connection, msg: &NewMessage) -> Result<i64> {
    let first = msg
        .parts
        .first()
        .ok_or_else(|| StorageError::Data("a message needs at least one part".into()))?;
    exec(tx,
        // Times written explicitly in local time: a database made by Gammu 1.42's
        // sqlite.sql defaults them to UTC, which would delay the message by the UTC offset
        // west of Greenwich.
        "INSERT INTO outbox (DestinationNumber, Text, TextDecoded, Coding, UDH, Class, MultiPart, RelativeValidity, SenderID, DeliveryReport, CreatorID, Priority,
                             InsertIntoDB, SendingDateTime, SendingTimeOut)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                 datetime('now', 'localtime'), datetime('now', 'localtime'), datetime('now', 'localtime'))",
        params![
            msg.destination,
            first.text_hex,
            first.text_decoded,
            first.coding.as_str(),
            first.udh_hex,
            first.class,
            if msg.parts.len() > 1 { "true" } else { "false" },
            msg.relative_validity,
            msg.sender_id,
            msg.delivery_report.as_str(),
            msg.creator_id,
            msg.priority,
        ],
    )
    .map_err(db)?;
    let id = tx.last_insert_rowid();
    for (seq, p) in (2u32..).zip(&msg.parts[1..]) {
        exec(tx,
            "INSERT INTO outbox_multipart (ID, SequencePosition, Text, TextDecoded, Coding, UDH, Class) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, seq, p.text_hex, p.text_decoded, p.coding.as_str(), p.udh_hex, p.class],
        )
        .map_err(db)?;
    }
    Ok(id)
}

#[async_trait]
impl Service for Sqlite {
    async fn init(&self) -> Result<()> {
        self.prepare().await.map(|_| ())
    }

    async fn health(&self) -> Result<()> {
        self.call(|c| row(c, "SELECT 1", [], |_| Ok(())).map_err(db))
            .await
    }

    async fn create_outbox(&self, msg: &NewMessage) -> Result<i64> {
        let msg = msg.clone();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let id = insert_message(&tx, &msg)?;
            tx.commit().map_err(db)?;
            Ok(id)
        })
        .await
    }

    async fn create_outbox_once(&self, msg: &NewMessage, key: &str) -> Result<Option<i64>> {
        let (msg, key) = (msg.clone(), key.to_string());
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let seen: Option<i64> = tx
                .query_row(
                    "SELECT ID FROM smsgw_spool WHERE SpoolKey = ?1",
                    [&key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if seen.is_some() {
                return Ok(None);
            }
            let id = insert_message(&tx, &msg)?;
            exec(
                &tx,
                "INSERT INTO smsgw_spool (SpoolKey, ID) VALUES (?1, ?2)",
                params![key, id],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(Some(id))
        })
        .await
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        let (owner, routes) = (owner.to_string(), routes.to_vec());
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let claimed = claim(&tx, &owner, &routes, limit, lease_secs)?;
            tx.commit().map_err(db)?;
            Ok(claimed)
        })
        .await
    }

    async fn list_outbox(&self, stuck: bool) -> Result<Vec<crate::service::OutboxEntry>> {
        self.call(move |c| {
            let sql = format!(
                "SELECT o.ID, o.DestinationNumber, coalesce(o.SenderID, ''),
                        1 + (SELECT count(*) FROM outbox_multipart m WHERE m.ID = o.ID),
                        coalesce(o.Retries, 0), coalesce(o.Priority, 0), o.InsertIntoDB, o.SendingDateTime,
                        coalesce(o.SendingTimeOut, ''), o.StatusCode,
                        (SELECT c.Owner FROM smsgw_claims c WHERE c.ID = o.ID AND c.Lease = o.SendingTimeOut),
                        coalesce(o.TextDecoded, '') || coalesce((SELECT group_concat(coalesce(m.TextDecoded, ''), '') FROM
                            (SELECT TextDecoded FROM outbox_multipart m2 WHERE m2.ID = o.ID ORDER BY m2.SequencePosition) m), '')
                   FROM outbox o {}
                  ORDER BY o.Priority DESC, o.InsertIntoDB, o.ID",
                if stuck {
                    "WHERE coalesce(o.Retries, 0) > 0 OR o.SendingDateTime <= datetime('now', 'localtime', '-600 seconds')"
                } else {
                    ""
                }
            );
            let mut st = c.prepare_cached(&sql).map_err(db)?;
            let rows = st
                .query_map([], |r| {
                    Ok(crate::service::OutboxEntry {
                        id: r.get(0)?,
                        destination: r.get(1)?,
                        route: r.get(2)?,
                        parts: r.get::<_, i64>(3)?.max(1) as u32,
                        retries: r.get::<_, i64>(4)?.max(0) as u32,
                        priority: r.get(5)?,
                        inserted: r.get(6)?,
                        send_after: r.get(7)?,
                        lease_until: r.get(8)?,
                        status_code: r.get(9)?,
                        claimed_by: r.get(10)?,
                        text: r.get(11)?,
                    })
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn cancel_outbox(&self, id: i64, reason: &str) -> Result<bool> {
        let reason = reason.to_string();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let head = tx
                .query_row(
                    "SELECT DestinationNumber, coalesce(SenderID, ''), CreatorID, coalesce(RelativeValidity, -1), InsertIntoDB FROM outbox WHERE ID = ?1",
                    [id],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i32>(3)?, r.get::<_, String>(4)?)),
                )
                .optional()
                .map_err(db)?;
            let Some((destination, route, creator, validity, inserted)) = head else {
                return Ok(false);
            };
            let out = Outgoing {
                id,
                name: id.to_string(),
                destination,
                sender_id: Some(route.clone()),
                creator_id: creator,
                parts: read_parts(&tx, id).map_err(db)?,
                relative_validity: validity,
                delivery_report: ReportRequest::Default,
                retries: 0,
                priority: 0,
                inserted,
                lease: String::new(),
            };
            for part in out.parts.iter().filter(|p| !p.already_sent) {
                let attempt = Attempt {
                    route: &route,
                    status: "Error",
                    tpmr: -1,
                    smsc: "",
                    status_code: -1,
                };
                insert_sentitem(&tx, &out, part, &attempt).map_err(db)?;
            }
            exec(&tx, "INSERT INTO smsgw_failures (ID, Reason) VALUES (?1, ?2)", params![id, reason]).map_err(db)?;
            delete_message(&tx, id).map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(true)
        })
        .await
    }

    async fn retry_outbox(&self, id: i64) -> Result<bool> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let n = tx
                .execute(
                    "UPDATE outbox SET Retries = 0, SendingDateTime = datetime('now', 'localtime'), SendingTimeOut = datetime('now', 'localtime') WHERE ID = ?1",
                    [id],
                )
                .map_err(db)?;
            exec(&tx, "DELETE FROM smsgw_claims WHERE ID = ?1", [id]).map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn list_inbox(&self, since: Option<&str>) -> Result<Vec<crate::service::InboxEntry>> {
        let since = since.unwrap_or("0000-00-00").to_string();
        self.call(move |c| {
            let mut st = c
                .prepare(
                    "SELECT ID, ReceivingDateTime, SenderNumber, RecipientID, UDH, TextDecoded FROM inbox
                      WHERE ReceivingDateTime >= ?1 ORDER BY ReceivingDateTime DESC, ID DESC",
                )
                .map_err(db)?;
            let rows = st
                .query_map([since], |r| {
                    Ok(crate::service::InboxEntry {
                        id: r.get(0)?,
                        received: r.get(1)?,
                        sender: r.get(2)?,
                        phone: r.get(3)?,
                        udh: r.get(4)?,
                        text: r.get(5)?,
                    })
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn prune(&self, days: u32, dry_run: bool) -> Result<(u64, u64)> {
        self.call(move |c| {
            let cutoff = format!("-{days} days");
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let count = |t: &str, col: &str| -> rusqlite::Result<i64> {
                row(&tx, &format!("SELECT count(*) FROM {t} WHERE {col} < datetime('now', 'localtime', ?1)"), [&cutoff], |r| r.get(0))
            };
            let inbox = count("inbox", "ReceivingDateTime").map_err(db)?;
            let sent = count("sentitems", "SendingDateTime").map_err(db)?;
            if !dry_run {
                exec(&tx, "DELETE FROM inbox WHERE ReceivingDateTime < datetime('now', 'localtime', ?1)", [&cutoff]).map_err(db)?;
                exec(&tx, "DELETE FROM sentitems WHERE SendingDateTime < datetime('now', 'localtime', ?1)", [&cutoff]).map_err(db)?;
                exec(&tx, "DELETE FROM smsgw_spool WHERE QueuedAt < datetime('now', 'localtime', ?1)", [&cutoff]).map_err(db)?;
                tx.commit().map_err(db)?;
            }
            Ok((inbox.max(0) as u64, sent.max(0) as u64))
        })
        .await
    }

    async fn send_times(&self, route: &str, since: &str) -> Result<Vec<String>> {
        let (route, since) = (route.to_string(), since.to_string());
        self.call(move |c| {
            let mut st = c
                .prepare("SELECT SendingDateTime FROM sentitems WHERE SenderID = ?1 AND SendingDateTime >= ?2 AND Status NOT IN ('SendingError', 'Error')")
                .map_err(db)?;
            let rows = st.query_map(params![route, since], |r| r.get(0)).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn outbox_depth(&self) -> Result<Option<u64>> {
        self.call(|c| {
            row(c, "SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))
                .map(|n| Some(n.max(0) as u64))
                .map_err(db)
        })
        .await
    }

    async fn claim_owners(&self) -> Result<Vec<String>> {
        self.call(|c| {
            let mut st = c
                .prepare("SELECT DISTINCT Owner FROM smsgw_claims")
                .map_err(db)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn release_claims(&self, owners: &[String]) -> Result<usize> {
        let owners = owners.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let mut n = 0;
            for o in &owners {
                // Only while the lease is still the one that owner set.
                n += tx
                    .execute(
                        "UPDATE outbox SET SendingTimeOut = datetime('now', 'localtime')
                          WHERE ID IN (SELECT c.ID FROM smsgw_claims c WHERE c.Owner = ?1 AND c.Lease = outbox.SendingTimeOut)",
                        [o],
                    )
                    .map_err(db)?;
                exec(&tx, "DELETE FROM smsgw_claims WHERE Owner = ?1", [o]).map_err(db)?;
            }
            tx.commit().map_err(db)?;
            Ok(n)
        })
        .await
    }

    async fn split_outbox(
        &self,
        out: &Outgoing,
        parts: &[crate::service::NewPart],
    ) -> Result<Outgoing> {
        let (out, parts) = (out.clone(), parts.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            check_lease(&tx, &out)?;
            let first = parts
                .first()
                .ok_or_else(|| StorageError::Data("no parts to write back".into()))?;
            exec(&tx,
                "UPDATE outbox SET Text = ?2, TextDecoded = ?3, Coding = ?4, UDH = ?5, MultiPart = 'true' WHERE ID = ?1",
                params![out.id, first.text_hex, first.text_decoded, first.coding.as_str(), first.udh_hex],
            )
            .map_err(db)?;
            exec(&tx, "DELETE FROM outbox_multipart WHERE ID = ?1", [out.id]).map_err(db)?;
            for (seq, p) in (2u32..).zip(&parts[1..]) {
                exec(&tx,
                    "INSERT INTO outbox_multipart (ID, SequencePosition, Text, TextDecoded, Coding, UDH, Class) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![out.id, seq, p.text_hex, p.text_decoded, p.coding.as_str(), p.udh_hex, p.class],
                )
                .map_err(db)?;
            }
            let new_parts = read_parts(&tx, out.id).map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(Outgoing { parts: new_parts, ..out })
        })
        .await
    }

    async fn renew_claim(&self, out: &mut Outgoing, lease_secs: u32) -> Result<()> {
        let (id, old) = (out.id, out.lease.clone());
        let lease = self
            .call(move |c| {
                let n = c
                    .execute(
                        "UPDATE outbox SET SendingTimeOut = datetime('now', 'localtime', ?3) WHERE ID = ?1 AND SendingTimeOut = ?2",
                        params![id, old, format!("+{lease_secs} seconds")],
                    )
                    .map_err(db)?;
                if n != 1 {
                    return Err(StorageError::LostClaim(id));
                }
                let lease = lease_of(c, id).map_err(db)?.unwrap_or_default();
                exec(c, "UPDATE smsgw_claims SET Lease = ?2 WHERE ID = ?1", params![id, lease]).map_err(db)?;
                Ok(lease)
            })
            .await?;
        out.lease = lease;
        Ok(())
    }

    async fn record_sent(&self, out: &Outgoing, seq: u32, result: &PartResult) -> Result<()> {
        let (out, result) = (out.clone(), result.clone());
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            check_lease(&tx, &out)?;
            record_part(&tx, &out, seq, &result, true, true)?;
            tx.commit().map_err(db)
        })
        .await
    }

    async fn finish_sent(
        &self,
        done: &[(Outgoing, Vec<(u32, PartResult)>)],
    ) -> Result<Vec<Result<()>>> {
        let done = done.to_vec();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let results = finish_sent(&tx, &done)?;
            tx.commit().map_err(db)?;
            Ok(results)
        })
        .await
    }

    async fn finish_sent_and_claim(
        &self,
        done: &[(Outgoing, Vec<(u32, PartResult)>)],
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<(Vec<Result<()>>, Result<Vec<Outgoing>>)> {
        let (batch, owner, routes) = (done.to_vec(), owner.to_string(), routes.to_vec());
        let both = self
            .call(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(db)?;
                let finished = finish_sent(&tx, &batch)?;
                // A failed claim rolls the whole transaction back (dropped uncommitted).
                Ok(match claim(&tx, &owner, &routes, limit, lease_secs) {
                    Ok(claimed) => {
                        tx.commit().map_err(db)?;
                        Ok((finished, claimed))
                    }
                    Err(e) => Err(e),
                })
            })
            .await?;
        match both {
            Ok((finished, claimed)) => Ok((finished, Ok(claimed))),
            // Not half a claim: the sent messages are recorded on their own.
            Err(e) => Ok((self.finish_sent(done).await?, Err(e))),
        }
    }

    async fn apply_receipts(&self, receipts: &[(DeliveryKey, u8, String)]) -> Result<Vec<bool>> {
        let receipts = receipts.to_vec();
        if receipts
            .iter()
            .any(|(k, ..)| !matches!(k, DeliveryKey::SmscId { .. }))
        {
            // Status reports by TP-MR go one by one (they are a modem's: a few a second).
            let mut matched = Vec::new();
            for (key, status, done) in &receipts {
                matched.push(self.apply_receipt(key, *status, done, 0).await?.is_some());
            }
            return Ok(matched);
        }
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let mut matched = Vec::with_capacity(receipts.len());
            for (key, status, done) in &receipts {
                if let DeliveryKey::SmscId { route, id } = key {
                    matched.push(receipt_by_id(&tx, route, id, *status, done).map_err(db)?);
                }
            }
            tx.commit().map_err(db)?;
            Ok(matched)
        })
        .await
    }

    async fn finish_outbox(
        &self,
        out: &Outgoing,
        outcome: &Outcome,
        retry_after_secs: u32,
    ) -> Result<()> {
        let (out, outcome) = (out.clone(), outcome.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            check_lease(&tx, &out)?;
            match &outcome {
                Outcome::Sent => delete_message(&tx, out.id).map_err(db)?,
                Outcome::Retry {
                    status_code,
                    reason,
                    ..
                } => {
                    exec(&tx,
                        "UPDATE outbox SET Retries = ?2, StatusCode = ?3, SendingTimeOut = datetime('now', 'localtime', ?4) WHERE ID = ?1",
                        params![out.id, out.retries + 1, status_code, format!("+{retry_after_secs} seconds")],
                    )
                    .map_err(db)?;
                    exec(&tx, "DELETE FROM smsgw_claims WHERE ID = ?1", [out.id]).map_err(db)?;
                    tracing::info!(id = out.id, "message will be retried: {reason}");
                }
                Outcome::Release { status_code, reason } => {
                    // A release for want of a network keeps its code (a stop keeps the last).
                    exec(&tx,
                        "UPDATE outbox SET SendingTimeOut = datetime('now', 'localtime', ?2), StatusCode = CASE WHEN ?3 >= 0 THEN ?3 ELSE StatusCode END WHERE ID = ?1",
                        params![out.id, format!("+{retry_after_secs} seconds"), status_code],
                    )
                    .map_err(db)?;
                    exec(&tx, "DELETE FROM smsgw_claims WHERE ID = ?1", [out.id]).map_err(db)?;
                    tracing::info!(id = out.id, "message released: {reason}");
                }
                Outcome::Failed { status_code, reason, unusable } => {
                    let status = if *unusable { "Error" } else { "SendingError" };
                    let route = out.sender_id.clone().unwrap_or_default();
                    for part in out.parts.iter().filter(|p| !p.already_sent) {
                        // Parts sent in this attempt are already in sentitems.
                        let sent_now: bool = tx
                            .query_row(
                                "SELECT count(*) FROM sentitems WHERE ID = ?1 AND SequencePosition = ?2",
                                params![out.id, part.seq],
                                |r| r.get::<_, i64>(0),
                            )
                            .map_err(db)?
                            > 0;
                        if !sent_now {
                            let attempt = Attempt {
                                route: &route,
                                status,
                                tpmr: -1,
                                smsc: "",
                                status_code: *status_code,
                            };
                            insert_sentitem(&tx, &out, part, &attempt).map_err(db)?;
                        }
                    }
                    exec(&tx, "INSERT INTO smsgw_failures (ID, Reason) VALUES (?1, ?2)", params![out.id, reason]).map_err(db)?;
                    delete_message(&tx, out.id).map_err(db)?;
                }
            }
            tx.commit().map_err(db)
        })
        .await
    }

    async fn save_inbox(
        &self,
        parts: &[InboxPart],
        consumed: &[PendingPart],
    ) -> Result<Vec<String>> {
        let (parts, consumed) = (parts.to_vec(), consumed.to_vec());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let mut ids = Vec::with_capacity(parts.len());
            for p in &parts {
                // The same part again (stored, then the daemon stopped before deleting it
                // from the SIM): keep the first row, receive it once.
                let existing: Option<i64> = tx
                    .query_row(
                        "SELECT ID FROM inbox WHERE RecipientID = ?1 AND SenderNumber = ?2 AND ReceivingDateTime = ?3 AND UDH = ?4 AND Text = ?5",
                        params![p.phone_id, p.sender, p.received, p.udh_hex, p.text_hex],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db)?;
                if let Some(id) = existing {
                    ids.push(id);
                    continue;
                }
                exec(&tx,
                    "INSERT INTO inbox (ReceivingDateTime, Text, SenderNumber, Coding, SMSCNumber, UDH, Class, TextDecoded, RecipientID)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![p.received, p.text_hex, p.sender, p.coding.as_str(), p.smsc, p.udh_hex, p.class, p.text_decoded, p.phone_id],
                )
                .map_err(db)?;
                ids.push(tx.last_insert_rowid());
            }
            for q in &consumed {
                exec(&tx,
                    "DELETE FROM smsgw_pending_parts WHERE PhoneID = ?1 AND Sender = ?2 AND Reference = ?3 AND Total = ?4 AND Seq = ?5",
                    params![q.phone_id, q.sender, q.reference, q.total, q.seq],
                )
                .map_err(db)?;
            }
            tx.commit().map_err(db)?;
            Ok(ids.iter().map(ToString::to_string).collect())
        })
        .await
    }

    async fn stash_part(&self, part: &PendingPart) -> Result<()> {
        let p = part.clone();
        self.call(move |c| {
            exec(c,
                "INSERT OR IGNORE INTO smsgw_pending_parts (PhoneID, Sender, Reference, Total, Seq, PDU, ReceivedAt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![p.phone_id, p.sender, p.reference, p.total, p.seq, p.pdu, p.received_at],
            )
            .map_err(db)
            .map(|_| ())
        })
        .await
    }

    async fn complete_parts(
        &self,
        phone_id: &str,
        timeout_secs: u64,
    ) -> Result<Vec<Vec<PendingPart>>> {
        let phone = phone_id.to_string();
        self.call(move |c| {
            let mut groups = Vec::new();
            let keys: Vec<(String, u16, u8)> = {
                let mut stmt = c
                    .prepare(
                        "SELECT Sender, Reference, Total FROM smsgw_pending_parts WHERE PhoneID = ?1
                          GROUP BY Sender, Reference, Total
                         HAVING count(*) >= Total OR min(ReceivedAt) <= datetime('now', 'localtime', ?2)",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![phone, format!("-{timeout_secs} seconds")], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            for (sender, reference, total) in keys {
                let mut stmt = c
                    .prepare(
                        "SELECT Seq, PDU, ReceivedAt FROM smsgw_pending_parts WHERE PhoneID = ?1 AND Sender = ?2 AND Reference = ?3 AND Total = ?4 ORDER BY Seq",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![phone, sender, reference, total], |r| {
                        Ok(PendingPart {
                            phone_id: phone.clone(),
                            sender: sender.clone(),
                            reference,
                            total,
                            seq: r.get(0)?,
                            pdu: r.get(1)?,
                            received_at: r.get(2)?,
                        })
                    })
                    .map_err(db)?;
                groups.push(rows.collect::<rusqlite::Result<_>>().map_err(db)?);
            }
            Ok(groups)
        })
        .await
    }

    async fn apply_receipt(
        &self,
        key: &DeliveryKey,
        status: u8,
        done: &str,
        window_secs: u64,
    ) -> Result<Option<String>> {
        let done = done.to_string();
        let (phone, mr, number, sent_at) = match key.clone() {
            DeliveryKey::Tpmr {
                phone,
                mr,
                number,
                sent_at,
            } => (phone, mr, number, sent_at),
            DeliveryKey::SmscId { route, id } => {
                return self
                    .call(move |c| {
                        let tx = c
                            .transaction_with_behavior(TransactionBehavior::Immediate)
                            .map_err(db)?;
                        let matched = receipt_by_id(&tx, &route, &id, status, &done).map_err(db)?;
                        tx.commit().map_err(db)?;
                        Ok(matched.then(String::new))
                    })
                    .await
            }
        };
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let candidates: Vec<(i64, u32, String)> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT ID, SequencePosition, DestinationNumber FROM sentitems
                          WHERE SenderID = ?1 AND TPMR = ?2 AND Status IN ('SendingOK', 'DeliveryPending')
                            AND abs(strftime('%s', SendingDateTime) - strftime('%s', ?3)) <= ?4
                          ORDER BY SendingDateTime DESC, ID DESC",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![phone, mr, sent_at, window_secs], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            let Some((id, seq, _)) = candidates.into_iter().find(|(_, _, n)| same_number(n, &number)) else {
                exec(&tx,
                    "INSERT INTO smsgw_unmatched_reports (PhoneID, TPMR, Number, Status, DischargeTime) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![phone, mr, number, status, done],
                )
                .map_err(db)?;
                tx.commit().map_err(db)?;
                return Ok(None);
            };
            set_delivery(&tx, id, i64::from(seq), status, &done).map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(Some(id.to_string()))
        })
        .await
    }

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

    async fn refresh_status(&self, s: &PhoneStatus) -> Result<()> {
        let s = s.clone();
        self.call(move |c| {
            let yes_no = |b: bool| if b { "yes" } else { "no" };
            exec(c,
                "INSERT INTO phones (ID, TimeOut, Send, Receive, IMEI, IMSI, NetCode, NetName, Client, Battery, Signal, Sent, Received)
                 VALUES (?1, datetime('now', 'localtime', '+10 seconds'), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(IMEI) DO UPDATE SET ID = excluded.ID, TimeOut = excluded.TimeOut, Send = excluded.Send,
                   Receive = excluded.Receive, IMSI = excluded.IMSI, NetCode = excluded.NetCode, NetName = excluded.NetName,
                   Client = excluded.Client, Battery = excluded.Battery, Signal = excluded.Signal, Sent = excluded.Sent,
                   Received = excluded.Received",
                params![s.id, yes_no(s.send), yes_no(s.receive), s.imei, s.imsi, s.net_code, s.net_name, s.client, s.battery, s.signal, s.sent as i64, s.received as i64],
            )
            .map_err(db)
            .map(|_| ())
        })
        .await
    }
}
