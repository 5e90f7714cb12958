//! The executor the Gammu-schema logic (`gammu.rs`) runs its statements through: one
//! transaction on SQLite (rusqlite, on the database's own thread), PostgreSQL or MySQL
//! (sqlx). Statements are written with `?` placeholders and Gammu's quoted CamelCase
//! column names; parameters are integers or text; every cell comes back as text (`None`
//! for NULL), so one piece of logic reads the rows of all three.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sqlx::{Executor, MySql, Postgres, Row as _};

use super::dialect::Dialect;
use crate::service::{Result, StorageError};

/// A query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Text(Option<String>),
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::Int(v.into())
            }
        }
    )*};
}
int_arg!(i64, i32, u32, u16, u8);

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(Some(v.clone()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Arg {
        Arg::Text(v.clone())
    }
}

/// The parameters of a statement: `args![id, &name]`.
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$($crate::backends::sql::exec::Arg::from($a)),*][..] };
}
pub(crate) use args;

/// A row, every column as text (`None` for NULL).
pub type Row = Vec<Option<String>>;

pub fn text(r: &Row, i: usize) -> String {
    r.get(i).cloned().flatten().unwrap_or_default()
}

pub fn opt(r: &Row, i: usize) -> Option<String> {
    r.get(i).cloned().flatten()
}

pub fn int(r: &Row, i: usize, default: i64) -> i64 {
    r.get(i)
        .and_then(|v| v.as_deref())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `?` placeholders as PostgreSQL's `$1, $2, ...` (outside quoted text).
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut n, mut quoted) = (0, false);
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

fn pg_cell(row: &sqlx::postgres::PgRow, i: usize) -> Result<Option<String>> {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return Ok(v);
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return Ok(v.map(|v| v.to_string()));
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return Ok(v.map(|v| v.to_string()));
    }
    if let Ok(v) = row.try_get::<Option<i16>, _>(i) {
        return Ok(v.map(|v| v.to_string()));
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return Ok(v.map(|v| v.to_string()));
    }
    if let Ok(v) = row.try_get::<Option<chrono::NaiveDateTime>, _>(i) {
        return Ok(v.map(|v| v.format("%Y-%m-%d %H:%M:%S").to_string()));
    }
    if let Ok(v) = row.try_get::<Option<chrono::NaiveTime>, _>(i) {
        return Ok(v.map(|v| v.format("%H:%M:%S").to_string()));
    }
    Err(StorageError::Data(format!(
        "column {i} has a type smsgw does not read (cast it to text)"
    )))
}

fn my_cell(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<Option<String>> {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return Ok(v);
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return Ok(v.map(|v| v.to_string()));
    }
    if let Ok(v) = row.try_get::<Option<u64>, _>(i) {
        return Ok(v.map(|v| v.to_string()));
    }
    if let Ok(v) = row.try_get::<Option<chrono::NaiveDateTime>, _>(i) {
        return Ok(v.map(|v| v.format("%Y-%m-%d %H:%M:%S").to_string()));
    }
    // TIMESTAMP columns: the wall-clock time of the session's zone, labelled UTC by sqlx.
    if let Ok(v) = row.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i) {
        return Ok(v.map(|v| v.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string()));
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return Ok(v.map(|v| String::from_utf8_lossy(&v).into_owned()));
    }
    Err(StorageError::Data(format!(
        "column {i} has a type smsgw does not read (cast it to text)"
    )))
}

fn lite_cell(v: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// Down, busy or broken: [`StorageError::Unavailable`] for what passes (connection lost,
/// deadlock, lock timeout), [`StorageError::Data`] for the rest.
pub(crate) fn server_error(e: sqlx::Error) -> StorageError {
    use sqlx::Error as E;
    match &e {
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed => StorageError::Unavailable(e.to_string()),
        E::Configuration(_) => StorageError::Config(e.to_string()),
        E::Database(d) => {
            let code = d.code().unwrap_or_default();
            let transient = code.starts_with("08") // connection exceptions
                || code.starts_with("57P") // admin shutdown, cannot connect now
                || code.starts_with("53") // insufficient resources
                || code == "40001" // serialization failure (also MySQL's deadlock SQLSTATE)
                || code == "40P01" // deadlock
                || code == "55P03" // lock not available
                || code == "HY000" && d.message().contains("Lock wait timeout")
                || d.message().contains("Deadlock found");
            if transient {
                StorageError::Unavailable(e.to_string())
            } else {
                StorageError::Data(e.to_string())
            }
        }
        _ => StorageError::Data(e.to_string()),
    }
}

/// SQLite's errors: a lock another program holds (past `busy_timeout`), a file that cannot
/// be written, are passing; the rest is data.
pub(crate) fn lite_error(e: rusqlite::Error) -> StorageError {
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

/// `sql` with `args` bound, for either server's query type.
macro_rules! bound {
    ($sql:expr, $args:expr) => {{
        let mut q = sqlx::query($sql);
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

fn lite_params(args: &[Arg]) -> impl rusqlite::Params + '_ {
    rusqlite::params_from_iter(args.iter().map(|a| match a {
        Arg::Int(v) => rusqlite::types::Value::Integer(*v),
        Arg::Text(Some(t)) => rusqlite::types::Value::Text(t.clone()),
        Arg::Text(None) => rusqlite::types::Value::Null,
    }))
}

/// The connection a transaction runs on.
pub enum Db<'c> {
    Lite(&'c mut rusqlite::Connection),
    Pg(sqlx::Transaction<'static, Postgres>),
    My(sqlx::Transaction<'static, MySql>),
}

/// One open transaction. SQLite's is begun and ended by its runner (`sqlite.rs`), on the
/// database's thread; a server's by `server.rs`.
pub struct Tx<'c> {
    db: Db<'c>,
    events: bool,
    /// An event was appended: the storage tells its consumers once this commits.
    appended: bool,
}

impl<'c> Tx<'c> {
    /// A transaction on `db`; `events`: the changes it makes are written to the event log
    /// (DESIGN.md, "Faces"), which only a storage with consumers (a face, webhooks) keeps.
    pub fn new(db: Db<'c>, events: bool) -> Tx<'c> {
        Tx {
            db,
            events,
            appended: false,
        }
    }

    /// Whether the event log is kept.
    pub fn events(&self) -> bool {
        self.events
    }

    /// Notes that an event was appended in this transaction.
    pub fn mark_appended(&mut self) {
        self.appended = true;
    }

    /// Whether an event was appended in this transaction.
    pub fn appended(&self) -> bool {
        self.appended
    }
}

impl Tx<'_> {
    pub fn dialect(&self) -> Dialect {
        match &self.db {
            Db::Lite(_) => Dialect::Sqlite,
            Db::Pg(_) => Dialect::Postgres,
            Db::My(_) => Dialect::Mysql,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn exec(&mut self, sql: &str, args: &[Arg]) -> Result<u64> {
        match &mut self.db {
            // Prepared once per connection: a send window runs thousands a second, and
            // parsing a statement costs more than running it.
            Db::Lite(c) => c
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(lite_params(args)))
                .map(|n| n as u64)
                .map_err(lite_error),
            Db::Pg(tx) => {
                let sql = numbered(sql);
                let q = bound!(&sql, args);
                Ok(q.execute(&mut **tx)
                    .await
                    .map_err(server_error)?
                    .rows_affected())
            }
            Db::My(tx) => {
                let q = bound!(sql, args);
                Ok(q.execute(&mut **tx)
                    .await
                    .map_err(server_error)?
                    .rows_affected())
            }
        }
    }

    /// Runs a query; its rows.
    pub async fn rows(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<Row>> {
        match &mut self.db {
            Db::Lite(c) => {
                let run = || -> rusqlite::Result<Vec<Row>> {
                    let mut s = c.prepare_cached(sql)?;
                    let n = s.column_count();
                    let rows = s.query_map(lite_params(args), |r| {
                        (0..n)
                            .map(|i| r.get_ref(i).map(lite_cell))
                            .collect::<rusqlite::Result<Row>>()
                    })?;
                    rows.collect()
                };
                run().map_err(lite_error)
            }
            Db::Pg(tx) => {
                let sql = numbered(sql);
                let q = bound!(&sql, args);
                let rows = q.fetch_all(&mut **tx).await.map_err(server_error)?;
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| pg_cell(r, i)).collect())
                    .collect()
            }
            Db::My(tx) => {
                let q = bound!(sql, args);
                let rows = q.fetch_all(&mut **tx).await.map_err(server_error)?;
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| my_cell(r, i)).collect())
                    .collect()
            }
        }
    }

    /// The first row of a query.
    pub async fn row(&mut self, sql: &str, args: &[Arg]) -> Result<Option<Row>> {
        Ok(self.rows(sql, args).await?.into_iter().next())
    }

    /// Runs an `INSERT` into a table with an `ID` key and returns the new ID.
    pub async fn insert(&mut self, sql: &str, args: &[Arg]) -> Result<i64> {
        match &mut self.db {
            Db::Lite(_) | Db::Pg(_) => {
                let row = self
                    .row(&format!("{sql} RETURNING \"ID\""), args)
                    .await?
                    .ok_or_else(|| StorageError::Data("INSERT returned no ID".into()))?;
                Ok(int(&row, 0, 0))
            }
            Db::My(tx) => {
                let q = bound!(sql, args);
                let r = q.execute(&mut **tx).await.map_err(server_error)?;
                Ok(r.last_insert_id() as i64)
            }
        }
    }

    /// Commits a server's transaction (SQLite's is ended by its runner on its thread).
    pub async fn commit(self) -> Result<()> {
        match self.db {
            Db::Lite(_) => Ok(()),
            Db::Pg(tx) => tx.commit().await.map_err(server_error),
            Db::My(tx) => tx.commit().await.map_err(server_error),
        }
    }

    /// Runs a file of statements.
    pub async fn script(&mut self, sql: &str) -> Result<()> {
        match &mut self.db {
            Db::Lite(c) => c.execute_batch(sql).map_err(lite_error)?,
            Db::Pg(tx) => {
                (&mut **tx).execute(sql).await.map_err(server_error)?;
            }
            Db::My(tx) => {
                // One statement at a time: MySQL DDL is not transactional anyway.
                for stmt in split_statements(sql) {
                    (&mut **tx)
                        .execute(stmt.as_str())
                        .await
                        .map_err(server_error)?;
                }
            }
        }
        Ok(())
    }
}

/// The statements of an SQL file without procedures: split at `;` ending a line, comments
/// dropped.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with("--") {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if l.ends_with(';') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// The value of a future that needs no waiting: the logic run over SQLite's executor,
/// whose every step completes at once on the database's thread.
pub fn ready<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => Err(StorageError::Data(
            "internal: an SQLite step waited for something".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT '?' , ? FROM t WHERE a = ? AND b = 'x?y'"),
            "SELECT '?' , $1 FROM t WHERE a = $2 AND b = 'x?y'"
        );
    }

    #[test]
    fn sql_files_split_into_statements() {
        let s =
            split_statements("-- c\nCREATE TABLE a (\n x int\n);\n\nINSERT INTO a VALUES (1);\n");
        assert_eq!(s.len(), 2);
        assert!(s[0].starts_with("CREATE TABLE a"));
        assert_eq!(
            split_statements(crate::backends::sql::server::MYSQL_SCHEMA).len(),
            13
        );
    }
}
