//! PostgreSQL and MySQL/MariaDB storage with Gammu's schema (version 17): one implementation,
//! the differences between the two servers kept in [`Dialect`].
//!
//! Every query names its columns (tools such as Kalkun add their own), quotes identifiers
//! with `"` (MySQL sessions run with `ANSI_QUOTES`) and takes `?` placeholders (rewritten to
//! `$n` for PostgreSQL). Every value read comes back as text, so both servers decode alike.
//! Claims follow DESIGN.md: `SELECT ... FOR UPDATE SKIP LOCKED` picks, the guarded
//! `SendingTimeOut` update owns (what a real gammu-smsd on the same tables respects), and
//! the transaction commits before any modem I/O. "Now" is always the server's clock.

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_core::future::BoxFuture;
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlSslMode};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode, Postgres};
use sqlx::{Executor as _, Row as _};
use tokio::sync::watch;

use super::Attempt;
use crate::config::{DbTls, Storage as StorageConfig, StorageKind};
use crate::pdu::DeliveryStatus;
use crate::service::{
    same_number, Coding, DeliveryKey, InboxEntry, InboxPart, NewMessage, NewPart, OutPart,
    OutboxEntry, Outcome, Outgoing, PartResult, PendingPart, PhoneStatus, ReportRequest, Result,
    Service, StorageError,
};
use crate::smpp::receipt::id_forms;

/// Gammu's schema for PostgreSQL, as we create it.
pub const PG_SCHEMA: &str = include_str!("../../schema/pgsql.sql");
/// Our tables and the `NOTIFY` trigger, added next to Gammu's.
pub const PG_SMSGW_SCHEMA: &str = include_str!("../../schema/smsgw-pgsql.sql");
/// Gammu's schema for MySQL/MariaDB, as we create it.
pub const MYSQL_SCHEMA: &str = include_str!("../../schema/mysql.sql");
/// Our tables, added next to Gammu's.
pub const MYSQL_SMSGW_SCHEMA: &str = include_str!("../../schema/smsgw-mysql.sql");
/// Where the optional part of `smsgw-pgsql.sql` (the trigger) starts.
const OPTIONAL_MARK: &str = "-- smsgw: optional from here";
/// The channel the outbox trigger notifies.
pub const NOTIFY_CHANNEL: &str = "smsgw_outbox";
const SCHEMA_VERSION: i64 = super::sqlite::SCHEMA_VERSION;
const GAMMU_TABLES: [&str; 6] = [
    "gammu",
    "inbox",
    "outbox",
    "outbox_multipart",
    "phones",
    "sentitems",
];

/// Which server, and how its SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Mysql,
}

impl Dialect {
    /// The local now, to the second.
    pub fn now(self) -> &'static str {
        match self {
            Dialect::Postgres => "LOCALTIMESTAMP(0)",
            Dialect::Mysql => "NOW()",
        }
    }

    /// The local time of day (for `SendBefore`/`SendAfter`).
    fn time_of_day(self) -> &'static str {
        match self {
            Dialect::Postgres => "LOCALTIME(0)",
            Dialect::Mysql => "CURTIME()",
        }
    }

    /// `expr` moved by `secs` seconds (our own numbers only: they are written into the SQL).
    pub fn shift(self, expr: &str, secs: i64) -> String {
        match self {
            Dialect::Postgres => format!("({expr} + interval '{secs} seconds')"),
            Dialect::Mysql => format!("({expr} + INTERVAL {secs} SECOND)"),
        }
    }

    /// The local now moved by `secs` seconds.
    pub fn now_plus(self, secs: i64) -> String {
        self.shift(self.now(), secs)
    }

    /// A time column read as `YYYY-MM-DD HH:MM:SS` text.
    fn ts(self, col: &str) -> String {
        match self {
            Dialect::Postgres => format!("to_char({col}, 'YYYY-MM-DD HH24:MI:SS')"),
            Dialect::Mysql => format!("DATE_FORMAT({col}, '%Y-%m-%d %H:%i:%s')"),
        }
    }

    /// A `YYYY-MM-DD HH:MM:SS` parameter used as a time.
    fn ts_param(self) -> &'static str {
        match self {
            Dialect::Postgres => "CAST(? AS timestamp)",
            Dialect::Mysql => "CAST(? AS DATETIME)",
        }
    }

    /// The current schema, for `information_schema` lookups.
    fn schema_fn(self) -> &'static str {
        match self {
            Dialect::Postgres => "current_schema()",
            Dialect::Mysql => "DATABASE()",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
        }
    }
}

/// `?` placeholders as PostgreSQL's `$1, $2, ...` (outside quoted text).
fn numbered(sql: &str) -> String {
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

/// A query parameter.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Arg {
        Arg::Int(v.into())
    }
}
impl From<u32> for Arg {
    fn from(v: u32) -> Arg {
        Arg::Int(v.into())
    }
}
impl From<u8> for Arg {
    fn from(v: u8) -> Arg {
        Arg::Int(v.into())
    }
}
impl From<u16> for Arg {
    fn from(v: u16) -> Arg {
        Arg::Int(v.into())
    }
}
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

macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(Arg::from($a)),*][..] };
}

/// A row, every column as text (`None` for NULL).
type Row = Vec<Option<String>>;

fn text(r: &Row, i: usize) -> String {
    r.get(i).cloned().flatten().unwrap_or_default()
}

fn opt(r: &Row, i: usize) -> Option<String> {
    r.get(i).cloned().flatten()
}

fn int(r: &Row, i: usize, default: i64) -> i64 {
    r.get(i)
        .and_then(|v| v.as_deref())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
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

/// Down, busy or broken: [`StorageError::Unavailable`] for what passes (connection lost,
/// deadlock, lock timeout), [`StorageError::Data`] for the rest.
pub(crate) fn db(e: sqlx::Error) -> StorageError {
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

/// A transaction on either server.
enum Tx {
    Pg(sqlx::Transaction<'static, Postgres>),
    My(sqlx::Transaction<'static, MySql>),
}

impl Tx {
    fn exec<'a>(&'a mut self, sql: &'a str, args: &'a [Arg]) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            match self {
                Tx::Pg(tx) => {
                    let sql = numbered(sql);
                    let q = bound!(&sql, args);
                    Ok(q.execute(&mut **tx).await.map_err(db)?.rows_affected())
                }
                Tx::My(tx) => {
                    let q = bound!(sql, args);
                    Ok(q.execute(&mut **tx).await.map_err(db)?.rows_affected())
                }
            }
        })
    }

    fn rows<'a>(&'a mut self, sql: &'a str, args: &'a [Arg]) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move {
            match self {
                Tx::Pg(tx) => {
                    let sql = numbered(sql);
                    let q = bound!(&sql, args);
                    let rows = q.fetch_all(&mut **tx).await.map_err(db)?;
                    rows.iter()
                        .map(|r| (0..r.len()).map(|i| pg_cell(r, i)).collect())
                        .collect()
                }
                Tx::My(tx) => {
                    let q = bound!(sql, args);
                    let rows = q.fetch_all(&mut **tx).await.map_err(db)?;
                    rows.iter()
                        .map(|r| (0..r.len()).map(|i| my_cell(r, i)).collect())
                        .collect()
                }
            }
        })
    }

    fn row<'a>(&'a mut self, sql: &'a str, args: &'a [Arg]) -> BoxFuture<'a, Result<Option<Row>>> {
        Box::pin(async move { Ok(self.rows(sql, args).await?.into_iter().next()) })
    }

    /// Runs an `INSERT` into a table with an `ID` key and returns the new ID.
    fn insert<'a>(&'a mut self, sql: &'a str, args: &'a [Arg]) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            match self {
                Tx::Pg(_) => {
                    let row = self
                        .row(&format!("{sql} RETURNING \"ID\""), args)
                        .await?
                        .ok_or_else(|| StorageError::Data("INSERT returned no ID".into()))?;
                    Ok(int(&row, 0, 0))
                }
                Tx::My(tx) => {
                    let q = bound!(sql, args);
                    let r = q.execute(&mut **tx).await.map_err(db)?;
                    Ok(r.last_insert_id() as i64)
                }
            }
        })
    }

    /// Runs a file of statements.
    fn script<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match self {
                Tx::Pg(tx) => {
                    (&mut **tx).execute(sql).await.map_err(db)?;
                }
                Tx::My(tx) => {
                    // One statement at a time: MySQL DDL is not transactional anyway.
                    for stmt in split_statements(sql) {
                        (&mut **tx).execute(stmt.as_str()).await.map_err(db)?;
                    }
                }
            }
            Ok(())
        })
    }

    fn commit(self) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            match self {
                Tx::Pg(tx) => tx.commit().await.map_err(db),
                Tx::My(tx) => tx.commit().await.map_err(db),
            }
        })
    }
}

/// The statements of an SQL file without procedures: split at `;` ending a line, comments
/// dropped.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with("--") {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if t.ends_with(';') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

enum Pool {
    Pg(PgPool),
    My(MySqlPool),
}

/// What `db init` / `db check` found on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerReport {
    pub version: i64,
    /// The schema was created now (by `init`).
    pub created: bool,
    /// `SELECT version()`.
    pub server: String,
    /// The session time zone stored times are read and written in.
    pub time_zone: String,
    /// PostgreSQL: the `NOTIFY` trigger is installed.
    pub notify_trigger: bool,
    /// MySQL: Gammu's tables that are not InnoDB (Gammu's own mysql.sql makes MyISAM
    /// tables: no transactions, so a crash can leave half-written rows).
    pub not_innodb: Vec<String>,
}

/// A PostgreSQL or MySQL/MariaDB database with Gammu's schema.
pub struct Server {
    dialect: Dialect,
    pool: Pool,
    /// `host/database` for messages (never the password).
    label: String,
    time_zone: String,
    /// Highest outbox ID and row count seen by [`Service::outbox_changed`].
    seen: AtomicI64,
    /// Outbox changes announced by `NOTIFY` (PostgreSQL), started on first use.
    changes: Mutex<Option<watch::Receiver<u64>>>,
    pg_options: Option<PgConnectOptions>,
}

/// The password from the config, a file or the environment.
pub(crate) fn password(cfg: &StorageConfig) -> std::result::Result<Option<String>, String> {
    if !cfg.password_env.is_empty() {
        return std::env::var(&cfg.password_env).map(Some).map_err(|_| {
            format!(
                "storage.password_env names {:?}, which is not set in the environment",
                cfg.password_env
            )
        });
    }
    if !cfg.password_file.as_os_str().is_empty() {
        let text = std::fs::read_to_string(&cfg.password_file)
            .map_err(|e| format!("storage.password_file {}: {e}", cfg.password_file.display()))?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
    }
    Ok((!cfg.password.is_empty()).then(|| cfg.password.clone()))
}

/// The zone the host's local time is in, as a server understands it (`None`: use an
/// offset).
fn host_zone() -> Option<String> {
    if let Ok(tz) = std::env::var("TZ") {
        let tz = tz.trim();
        if !tz.is_empty() && !tz.starts_with(':') && !tz.starts_with('/') {
            return Some(tz.to_string());
        }
    }
    if let Ok(t) = std::fs::read_to_string("/etc/timezone") {
        let t = t.trim();
        if !t.is_empty() {
            return Some(t.to_string());
        }
    }
    let link = std::fs::read_link("/etc/localtime").ok()?;
    let s = link.to_string_lossy();
    s.split_once("zoneinfo/").map(|(_, z)| z.to_string())
}

/// The host's current UTC offset as `+HH:MM`.
fn host_offset() -> String {
    let secs = chrono::Local::now().offset().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// Quotes a value for a `SET` statement (time zones come from the config or the host).
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// A lazily connecting PostgreSQL pool with the config's settings (`user` and `database`
/// when the config names none), every session in the stored times' zone; with the
/// options (for `LISTEN` connections), a label for messages and the zone's name.
pub(crate) fn pg_pool(
    cfg: &StorageConfig,
    password: Option<String>,
    user: &str,
    database: &str,
) -> Result<(sqlx::PgPool, PgConnectOptions, String, String)> {
    let bad = StorageError::Config;
    let or = |v: &str, d: &str| {
        if v.is_empty() {
            d.to_string()
        } else {
            v.to_string()
        }
    };
    let pool_size = cfg.pool_size.max(1);
    let acquire = Duration::from_secs(5);
    let mut o = if cfg.url.is_empty() {
        PgConnectOptions::new_without_pgpass()
            .host(&or(&cfg.host, "localhost"))
            .username(&or(&cfg.user, user))
            .database(&or(&cfg.database, database))
            .port(5432)
    } else {
        PgConnectOptions::from_str(&cfg.url)
            .map_err(|e| bad(format!("storage.url is not a PostgreSQL URL: {e}")))?
    };
    if !cfg.host.is_empty() {
        o = o.host(&cfg.host);
    }
    if cfg.port != 0 {
        o = o.port(cfg.port);
    }
    if !cfg.user.is_empty() {
        o = o.username(&cfg.user);
    }
    if !cfg.database.is_empty() {
        o = o.database(&cfg.database);
    }
    if let Some(p) = &password {
        o = o.password(p);
    }
    o = o
        .ssl_mode(match cfg.tls {
            DbTls::Prefer => PgSslMode::Prefer,
            DbTls::Require => PgSslMode::Require,
            DbTls::Disable => PgSslMode::Disable,
        })
        .application_name("smsgw");
    let label = format!(
        "PostgreSQL {}:{}/{}",
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or_default()
    );
    let zone = if cfg.time_zone.is_empty() {
        host_zone()
    } else {
        Some(cfg.time_zone.clone())
    };
    let set_zone = match &zone {
        Some(z) => format!("SET TIME ZONE {}", quote(z)),
        None => format!(
            "SET TIME ZONE INTERVAL {} HOUR TO MINUTE",
            quote(&host_offset())
        ),
    };
    let time_zone = zone.unwrap_or_else(host_offset);
    let session = set_zone.clone();
    let pool = PgPoolOptions::new()
        .max_connections(pool_size)
        .acquire_timeout(acquire)
        .max_lifetime(Duration::from_secs(1800))
        .after_connect(move |c, _| {
            let s = session.clone();
            Box::pin(async move {
                c.execute(s.as_str()).await?;
                Ok(())
            })
        })
        .connect_lazy_with(o.clone());
    Ok((pool, o, label, time_zone))
}

impl Server {
    /// Connects (lazily: the pool opens connections on first use) with the config's
    /// settings; call it inside a Tokio runtime. Errors name what is wrong in the config.
    pub fn connect(cfg: &StorageConfig) -> Result<Server> {
        let bad = StorageError::Config;
        let password = password(cfg).map_err(bad)?;
        let (dialect, default_port) = match cfg.kind {
            StorageKind::Postgres => (Dialect::Postgres, 5432),
            StorageKind::Mysql => (Dialect::Mysql, 3306),
            other => {
                return Err(StorageError::Config(format!(
                    "storage kind {other:?} is not a database server"
                )))
            }
        };
        let or = |v: &str, d: &str| {
            if v.is_empty() {
                d.to_string()
            } else {
                v.to_string()
            }
        };
        let pool_size = cfg.pool_size.max(1);
        let acquire = Duration::from_secs(5);
        match dialect {
            Dialect::Postgres => {
                let (pool, o, label, time_zone) = pg_pool(cfg, password, "smsd", "smsd")?;
                Ok(Server {
                    dialect,
                    pool: Pool::Pg(pool),
                    label,
                    time_zone,
                    seen: AtomicI64::new(-1),
                    changes: Mutex::new(None),
                    pg_options: Some(o),
                })
            }
            Dialect::Mysql => {
                let mut o = if cfg.url.is_empty() {
                    MySqlConnectOptions::new()
                        .host(&or(&cfg.host, "localhost"))
                        .username(&or(&cfg.user, "smsd"))
                        .database(&or(&cfg.database, "smsd"))
                        .port(default_port)
                } else {
                    MySqlConnectOptions::from_str(&cfg.url)
                        .map_err(|e| bad(format!("storage.url is not a MySQL URL: {e}")))?
                };
                if !cfg.host.is_empty() {
                    o = o.host(&cfg.host);
                }
                if cfg.port != 0 {
                    o = o.port(cfg.port);
                }
                if !cfg.user.is_empty() {
                    o = o.username(&cfg.user);
                }
                if !cfg.database.is_empty() {
                    o = o.database(&cfg.database);
                }
                if let Some(p) = &password {
                    o = o.password(p);
                }
                // Named zones need the server's time zone tables; an offset always works
                // (taken again on every new connection, so a DST change is followed
                // within the connections' 30-minute lifetime).
                let zone = if cfg.time_zone.is_empty() {
                    host_offset()
                } else {
                    cfg.time_zone.clone()
                };
                o = o
                    .ssl_mode(match cfg.tls {
                        DbTls::Prefer => MySqlSslMode::Preferred,
                        DbTls::Require => MySqlSslMode::Required,
                        DbTls::Disable => MySqlSslMode::Disabled,
                    })
                    .timezone(None)
                    .charset("utf8mb4");
                let label = format!(
                    "MySQL {}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or_default()
                );
                let configured = !cfg.time_zone.is_empty();
                let pool = MySqlPoolOptions::new()
                    .max_connections(pool_size)
                    .acquire_timeout(acquire)
                    .max_lifetime(Duration::from_secs(1800))
                    .after_connect(move |c, _| {
                        let zone = if configured {
                            zone.clone()
                        } else {
                            host_offset()
                        };
                        Box::pin(async move {
                            c.execute(
                                format!(
                                    "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES'), time_zone = {}",
                                    quote(&zone)
                                )
                                .as_str(),
                            )
                            .await?;
                            c.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_lazy_with(o);
                Ok(Server {
                    dialect,
                    pool: Pool::My(pool),
                    label,
                    time_zone: if cfg.time_zone.is_empty() {
                        format!("host ({})", host_offset())
                    } else {
                        cfg.time_zone.clone()
                    },
                    seen: AtomicI64::new(-1),
                    changes: Mutex::new(None),
                    pg_options: None,
                })
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// `PostgreSQL host:port/database`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Runs one SQL statement as it is, in this storage's session (quoting, time zone),
    /// and returns its rows as text: for tools and tests, never for what the daemon does.
    pub async fn query_text(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let mut tx = self.begin().await?;
        let rows = tx.rows(sql, &[]).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn begin(&self) -> Result<Tx> {
        // Connection errors name the server (never the password).
        let with = |e: StorageError| match e {
            StorageError::Unavailable(m) => {
                StorageError::Unavailable(format!("{}: {m}", self.label))
            }
            StorageError::Data(m) => StorageError::Data(format!("{}: {m}", self.label)),
            other => other,
        };
        match &self.pool {
            Pool::Pg(p) => p.begin().await.map(Tx::Pg).map_err(db).map_err(with),
            Pool::My(p) => p.begin().await.map(Tx::My).map_err(db).map_err(with),
        }
    }

    /// Creates Gammu's schema in a database without it, or checks an existing one; adds
    /// our tables (and on PostgreSQL the `NOTIFY` trigger) either way.
    pub async fn prepare(&self) -> Result<ServerReport> {
        self.schema(true).await
    }

    /// Checks the schema without changing anything (`smsgw db check`).
    pub async fn inspect(&self) -> Result<ServerReport> {
        self.schema(false).await
    }

    async fn table_exists(&self, tx: &mut Tx, name: &str) -> Result<bool> {
        let sql = format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = {} AND table_name = ?",
            self.dialect.schema_fn()
        );
        Ok(tx
            .row(&sql, args![name])
            .await?
            .is_some_and(|r| int(&r, 0, 0) > 0))
    }

    async fn schema(&self, change: bool) -> Result<ServerReport> {
        let mut tx = self.begin().await?;
        // Two daemons starting together on an empty database create it once.
        match self.dialect {
            Dialect::Postgres => {
                tx.exec("SELECT pg_advisory_xact_lock(727001)", &[]).await?;
                let r = self.schema_locked(&mut tx, change).await?;
                tx.commit().await?;
                Ok(r)
            }
            Dialect::Mysql => {
                // A session lock: released on every path, since the connection goes back
                // to the pool.
                tx.exec("SELECT GET_LOCK('smsgw_schema', 30)", &[]).await?;
                let r = self.schema_locked(&mut tx, change).await;
                let released = tx.exec("SELECT RELEASE_LOCK('smsgw_schema')", &[]).await;
                let r = r?;
                released?;
                tx.commit().await?;
                Ok(r)
            }
        }
    }

    async fn schema_locked(&self, tx: &mut Tx, change: bool) -> Result<ServerReport> {
        let d = self.dialect;
        let mut created = false;
        if !self.table_exists(tx, "gammu").await? {
            if !change {
                return Err(StorageError::Schema(format!(
                    "{}: the database has no Gammu schema (`smsgw db init` creates it)",
                    self.label
                )));
            }
            for t in ["inbox", "outbox", "sentitems"] {
                if self.table_exists(tx, t).await? {
                    return Err(StorageError::Schema(format!(
                        "{}: the database has Gammu's tables but no `gammu` version table: it is not a Gammu v17 database",
                        self.label
                    )));
                }
            }
            tx.script(match d {
                Dialect::Postgres => PG_SCHEMA,
                Dialect::Mysql => MYSQL_SCHEMA,
            })
            .await?;
            created = true;
        }
        let version = tx
            .row("SELECT \"Version\" FROM gammu", &[])
            .await?
            .map_or(0, |r| int(&r, 0, 0));
        if version != SCHEMA_VERSION {
            return Err(StorageError::Schema(format!(
                "{}: the database has Gammu schema version {version}; smsgw works with version {SCHEMA_VERSION} (what gammu-smsd 1.42 uses). Upgrade it with Gammu's SQL scripts, or point smsgw at a new database",
                self.label
            )));
        }
        for t in GAMMU_TABLES {
            if !self.table_exists(tx, t).await? {
                return Err(StorageError::Schema(format!(
                    "{}: the table `{t}` of Gammu's schema is missing",
                    self.label
                )));
            }
        }
        let ours = [
            "smsgw_claims",
            "smsgw_pending_parts",
            "smsgw_unmatched_reports",
            "smsgw_failures",
        ];
        let mut complete = true;
        for t in ours {
            complete &= self.table_exists(tx, t).await?;
        }
        if complete && d == Dialect::Postgres {
            complete &= self.notify_trigger(tx).await?;
        }
        // Every start of a daemon or `inject` passes here: add only what is missing.
        if change && !complete {
            match d {
                Dialect::Postgres => {
                    // The optional part starts on the line after the mark.
                    let (tables, trigger) = PG_SMSGW_SCHEMA
                        .split_once(OPTIONAL_MARK)
                        .map(|(t, rest)| (t, rest.split_once('\n').map_or("", |(_, r)| r)))
                        .unwrap_or((PG_SMSGW_SCHEMA, ""));
                    tx.script(tables).await?;
                    // The trigger is a convenience: a user who may not add one to a table
                    // Gammu created still gets a working gateway (polling).
                    tx.exec("SAVEPOINT smsgw_trigger", &[]).await?;
                    match tx.script(trigger).await {
                        Ok(()) => tx.exec("RELEASE SAVEPOINT smsgw_trigger", &[]).await?,
                        Err(e) => {
                            tracing::warn!("{}: cannot add the outbox NOTIFY trigger ({e}): rows inserted by other programs are found every storage.poll_interval instead of at once", self.label);
                            tx.exec("ROLLBACK TO SAVEPOINT smsgw_trigger", &[]).await?
                        }
                    };
                }
                Dialect::Mysql => tx.script(MYSQL_SMSGW_SCHEMA).await?,
            }
        }
        if change {
            self.ensure_order_index(tx).await?;
        }
        let server = tx
            .row("SELECT version()", &[])
            .await?
            .map(|r| text(&r, 0))
            .unwrap_or_default();
        let notify_trigger = match d {
            Dialect::Postgres => self.notify_trigger(tx).await?,
            Dialect::Mysql => false,
        };
        let not_innodb = match d {
            Dialect::Postgres => Vec::new(),
            Dialect::Mysql => tx
                .rows(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('inbox', 'outbox', 'outbox_multipart', 'phones', 'sentitems') AND engine <> 'InnoDB' ORDER BY table_name",
                    &[],
                )
                .await?
                .iter()
                .map(|r| text(r, 0))
                .collect(),
        };
        if !not_innodb.is_empty() {
            tracing::warn!(
                "{}: tables {} are not InnoDB (Gammu's mysql.sql makes MyISAM tables): claims stay safe, but a crash can leave half-written rows; convert them with ALTER TABLE <name> ENGINE=InnoDB",
                self.label,
                not_innodb.join(", ")
            );
        }
        Ok(ServerReport {
            not_innodb,
            version,
            created,
            server,
            time_zone: self.time_zone.clone(),
            notify_trigger,
        })
    }

    /// Writes a message in Gammu's layout (`outbox` + `outbox_multipart`) in `tx`.
    async fn insert_message(&self, tx: &mut Tx, msg: &NewMessage) -> Result<i64> {
        let first = msg
            .parts
            .first()
            .ok_or_else(|| StorageError::Data("a message needs at least one part".into()))?;
        let d = self.dialect;
        let multipart = if msg.parts.len() > 1 { "true" } else { "false" };
        let sql = format!(
            "INSERT INTO outbox (\"DestinationNumber\", \"Text\", \"TextDecoded\", \"Coding\", \"UDH\", \"Class\", \"MultiPart\", \"RelativeValidity\", \"SenderID\", \"DeliveryReport\", \"CreatorID\", \"Priority\",
                                 \"InsertIntoDB\", \"SendingDateTime\", \"SendingTimeOut\")
             VALUES (?, ?, ?, ?, ?, ?, '{multipart}', ?, ?, ?, ?, ?, {now}, {now}, {now})",
            now = d.now()
        );
        let id = tx
            .insert(
                &sql,
                args![
                    &msg.destination,
                    &first.text_hex,
                    &first.text_decoded,
                    first.coding.as_str(),
                    &first.udh_hex,
                    first.class,
                    msg.relative_validity,
                    &msg.sender_id,
                    msg.delivery_report.as_str(),
                    &msg.creator_id,
                    msg.priority,
                ],
            )
            .await?;
        for (seq, p) in (2u32..).zip(&msg.parts[1..]) {
            tx.exec(
                "INSERT INTO outbox_multipart (\"ID\", \"SequencePosition\", \"Text\", \"TextDecoded\", \"Coding\", \"UDH\", \"Class\") VALUES (?, ?, ?, ?, ?, ?, ?)",
                args![id, seq, &p.text_hex, &p.text_decoded, p.coding.as_str(), &p.udh_hex, p.class],
            )
            .await?;
        }
        if d == Dialect::Postgres {
            // Also when the trigger is missing (a database where we may not add one).
            tx.exec("SELECT pg_notify('smsgw_outbox', '')", &[]).await?;
        }
        Ok(id)
    }

    /// An index in the claim's order (Priority DESC, InsertIntoDB, ID), so that a claim stops
    /// at the first eligible row instead of sorting the whole outbox (with 100,000 queued
    /// rows a sort per claim drops SQLite to 15 messages/s). Optional: a user who may not
    /// add an index to Gammu's table gets a warning.
    async fn ensure_order_index(&self, tx: &mut Tx) -> Result<()> {
        let (exists, create) = match self.dialect {
            Dialect::Postgres => (
                "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'smsgw_outbox_order'",
                "CREATE INDEX smsgw_outbox_order ON outbox (\"Priority\" DESC, \"InsertIntoDB\", \"ID\")",
            ),
            Dialect::Mysql => (
                "SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'outbox' AND index_name = 'smsgw_outbox_order'",
                "CREATE INDEX smsgw_outbox_order ON outbox (\"Priority\" DESC, \"InsertIntoDB\", \"ID\")",
            ),
        };
        if tx
            .row(exists, &[])
            .await?
            .is_some_and(|r| int(&r, 0, 0) > 0)
        {
            return Ok(());
        }
        let pg = self.dialect == Dialect::Postgres;
        if pg {
            tx.exec("SAVEPOINT smsgw_index", &[]).await?;
        }
        match tx.exec(create, &[]).await {
            Ok(_) => {
                if pg {
                    tx.exec("RELEASE SAVEPOINT smsgw_index", &[]).await?;
                }
            }
            Err(e) => {
                tracing::warn!("{}: cannot add the index smsgw_outbox_order to outbox ({e}): a long outbox is claimed more slowly", self.label);
                if pg {
                    tx.exec("ROLLBACK TO SAVEPOINT smsgw_index", &[]).await?;
                }
            }
        }
        Ok(())
    }

    async fn notify_trigger(&self, tx: &mut Tx) -> Result<bool> {
        Ok(tx
            .row(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'smsgw_outbox_notify' AND tgrelid = 'outbox'::regclass",
                &[],
            )
            .await?
            .is_some_and(|r| int(&r, 0, 0) > 0))
    }

    fn claim_sql(&self, routes: usize) -> String {
        let d = self.dialect;
        let mut sql = format!(
            "SELECT \"ID\" FROM outbox
              WHERE \"SendingDateTime\" <= {now}
                AND (\"SendingTimeOut\" IS NULL OR \"SendingTimeOut\" <= {now})
                AND \"SendBefore\" >= {tod} AND \"SendAfter\" <= {tod}
                AND (\"SenderID\" IS NULL OR \"SenderID\" = ''",
            now = d.now(),
            tod = d.time_of_day()
        );
        for _ in 0..routes {
            sql.push_str(" OR \"SenderID\" = ?");
        }
        sql.push_str(") ORDER BY \"Priority\" DESC, \"InsertIntoDB\" ASC, \"ID\" ASC LIMIT ?");
        match d {
            // Locks only the rows it returns: each daemon gets different ones.
            Dialect::Postgres => sql.push_str(" FOR UPDATE SKIP LOCKED"),
            // InnoDB locks every row the sorted scan reads, so SKIP LOCKED would hide the
            // whole queue from the other daemons while one claims: pick without locking
            // and let the guarded update decide (a few spare candidates for the races).
            Dialect::Mysql => {}
        }
        sql
    }

    /// How many candidates to read for a claim of `limit`.
    fn candidates(&self, limit: usize) -> usize {
        match self.dialect {
            Dialect::Postgres => limit,
            Dialect::Mysql => limit.saturating_mul(2).saturating_add(8),
        }
    }

    async fn lease_of(&self, tx: &mut Tx, id: i64, lock: bool) -> Result<Option<String>> {
        let sql = format!(
            "SELECT {} FROM outbox WHERE \"ID\" = ?{}",
            self.dialect.ts("\"SendingTimeOut\""),
            if lock { " FOR UPDATE" } else { "" }
        );
        Ok(tx.row(&sql, args![id]).await?.and_then(|r| opt(&r, 0)))
    }

    /// Claims up to `limit` messages inside `tx` (see [`Service::claim_outbox`]).
    async fn claim_in(
        &self,
        tx: &mut Tx,
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        let d = self.dialect;
        let mut a: Vec<Arg> = routes.iter().map(Arg::from).collect();
        a.push(Arg::Int(self.candidates(limit) as i64));
        let ids: Vec<i64> = tx
            .rows(&self.claim_sql(routes.len()), &a)
            .await?
            .iter()
            .map(|r| int(r, 0, 0))
            .collect();
        let guard = format!(
            "UPDATE outbox SET \"SendingTimeOut\" = {lease} WHERE \"ID\" = ? AND (\"SendingTimeOut\" IS NULL OR \"SendingTimeOut\" <= {now})",
            lease = d.now_plus(lease_secs.into()),
            now = d.now()
        );
        let mut out = Vec::new();
        for id in ids {
            if out.len() >= limit {
                break;
            }
            // The guarded lease: what keeps a real gammu-smsd (and other smsgw) away.
            if tx.exec(&guard, args![id]).await? != 1 {
                continue;
            }
            let lease = self.lease_of(tx, id, false).await?.unwrap_or_default();
            tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![id])
                .await?;
            tx.exec(
                "INSERT INTO smsgw_claims (\"ID\", \"Owner\", \"Lease\") VALUES (?, ?, ?)",
                args![id, owner, &lease],
            )
            .await?;
            let head_sql = format!(
                "SELECT \"DestinationNumber\", \"SenderID\", \"CreatorID\", \"RelativeValidity\", \"DeliveryReport\", \"Retries\", \"Priority\", {} FROM outbox WHERE \"ID\" = ?",
                d.ts("\"InsertIntoDB\"")
            );
            let Some(h) = tx.row(&head_sql, args![id]).await? else {
                continue;
            };
            let parts = self.read_parts(tx, id).await?;
            out.push(Outgoing {
                id,
                name: id.to_string(),
                destination: text(&h, 0),
                sender_id: opt(&h, 1).filter(|s| !s.is_empty()),
                creator_id: text(&h, 2),
                parts,
                relative_validity: int(&h, 3, -1) as i32,
                delivery_report: ReportRequest::parse(&opt(&h, 4).unwrap_or_default()),
                retries: int(&h, 5, 0).max(0) as u32,
                priority: int(&h, 6, 0) as i32,
                inserted: text(&h, 7),
                lease,
            });
        }
        Ok(out)
    }

    /// Records a sent batch inside `tx` (see [`Service::finish_sent`]).
    async fn finish_in(
        &self,
        tx: &mut Tx,
        done: &[(Outgoing, Vec<(u32, PartResult)>)],
    ) -> Result<Vec<Result<()>>> {
        let mut results = Vec::with_capacity(done.len());
        for (out, parts) in done {
            match self.check_lease(tx, out).await {
                Ok(()) => {}
                Err(e @ StorageError::LostClaim(_)) => {
                    results.push(Err(e));
                    continue;
                }
                // Anything else fails the whole batch: nothing of it is committed.
                Err(e) => return Err(e),
            }
            for (seq, part) in parts {
                self.record_part(tx, out, *seq, part, false).await?;
            }
            self.delete_message(tx, out.id).await?;
            results.push(Ok(()));
        }
        Ok(results)
    }

    /// Fails with `LostClaim` unless the lease is still the one we set; locks the row.
    async fn check_lease(&self, tx: &mut Tx, out: &Outgoing) -> Result<()> {
        match self.lease_of(tx, out.id, true).await? {
            Some(l) if l == out.lease => Ok(()),
            _ => Err(StorageError::LostClaim(out.id)),
        }
    }

    async fn read_parts(&self, tx: &mut Tx, id: i64) -> Result<Vec<OutPart>> {
        let sent = |s: Option<String>| s.is_some_and(|s| s.starts_with("SendingOK"));
        let head = tx
            .row(
                "SELECT \"Text\", \"Coding\", \"UDH\", \"Class\", \"TextDecoded\", \"Status\", \"MultiPart\" FROM outbox WHERE \"ID\" = ?",
                args![id],
            )
            .await?
            .ok_or_else(|| StorageError::Data(format!("outbox message {id} is gone")))?;
        let mut parts = vec![OutPart {
            seq: 1,
            text_hex: opt(&head, 0).filter(|s| !s.is_empty()),
            coding: Coding::parse(&text(&head, 1)),
            udh_hex: opt(&head, 2).filter(|s| !s.is_empty()),
            class: int(&head, 3, -1) as i32,
            text_decoded: opt(&head, 4),
            already_sent: sent(opt(&head, 5)),
        }];
        if text(&head, 6).eq_ignore_ascii_case("true") {
            let rows = tx
                .rows(
                    "SELECT \"SequencePosition\", \"Text\", \"Coding\", \"UDH\", \"Class\", \"TextDecoded\", \"Status\" FROM outbox_multipart WHERE \"ID\" = ? AND \"SequencePosition\" >= 2 ORDER BY \"SequencePosition\"",
                    args![id],
                )
                .await?;
            // Gammu reads 2, 3, ... until one is missing; so do we.
            for (expected, r) in (2i64..).zip(rows) {
                if int(&r, 0, 0) != expected {
                    break;
                }
                parts.push(OutPart {
                    seq: expected as u32,
                    text_hex: opt(&r, 1).filter(|s| !s.is_empty()),
                    coding: Coding::parse(&text(&r, 2)),
                    udh_hex: opt(&r, 3).filter(|s| !s.is_empty()),
                    class: int(&r, 4, -1) as i32,
                    text_decoded: opt(&r, 5),
                    already_sent: sent(opt(&r, 6)),
                });
            }
        }
        Ok(parts)
    }

    /// Sets a sent part's delivery state from a status report or receipt (`status`: TP-ST).
    async fn set_delivery(
        &self,
        tx: &mut Tx,
        id: i64,
        seq: i64,
        status: u8,
        done: &str,
    ) -> Result<()> {
        let state = DeliveryStatus::from_status(status);
        if state == DeliveryStatus::DeliveryOK {
            tx.exec(
                &format!(
                    "UPDATE sentitems SET \"Status\" = ?, \"StatusError\" = ?, \"DeliveryDateTime\" = {} WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
                    self.dialect.ts_param()
                ),
                args![state.to_string(), status, done, id, seq],
            )
            .await?;
        } else {
            tx.exec(
                "UPDATE sentitems SET \"Status\" = ?, \"StatusError\" = ? WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
                args![state.to_string(), status, id, seq],
            )
            .await?;
        }
        Ok(())
    }

    /// Records one part the network accepted (inside the caller's transaction, lease
    /// checked); `mark`: also mark the outbox row sent (not needed when the message is
    /// deleted with it).
    async fn record_part(
        &self,
        tx: &mut Tx,
        out: &Outgoing,
        seq: u32,
        result: &PartResult,
        mark: bool,
    ) -> Result<()> {
        let part =
            out.parts.iter().find(|p| p.seq == seq).ok_or_else(|| {
                StorageError::Data(format!("message {} has no part {seq}", out.id))
            })?;
        let (attempt, message_id) = Attempt::sent(result);
        self.insert_sentitem(tx, out, part, &attempt).await?;
        if mark {
            self.set_part_status(tx, out.id, seq, attempt.status, -1)
                .await?;
        }
        if let Some(m) = message_id {
            self.keep_smsc_id(tx, attempt.route, m, out.id, seq).await?;
        }
        Ok(())
    }

    /// Keeps the SMSC's id of a sent part, then applies the receipts that came before it.
    async fn keep_smsc_id(
        &self,
        tx: &mut Tx,
        route: &str,
        message_id: &str,
        id: i64,
        seq: u32,
    ) -> Result<()> {
        let forget = "DELETE FROM smsgw_smsc_ids WHERE \"Route\" = ? AND \"MessageID\" = ?";
        tx.exec(forget, args![route, message_id]).await?;
        tx.exec(
            "INSERT INTO smsgw_smsc_ids (\"Route\", \"MessageID\", \"ID\", \"SequencePosition\") VALUES (?, ?, ?, ?)",
            args![route, message_id, id, seq],
        )
        .await?;
        // Parked receipts under the id itself, else under another form of it.
        let forms = id_forms(message_id);
        let mut values = vec![Arg::from(route)];
        values.extend(forms.iter().map(Arg::from));
        let parked = tx
            .rows(
                &format!(
                    "SELECT \"MessageID\", \"Status\", COALESCE(\"DischargeTime\", '') FROM smsgw_pending_receipts
                      WHERE \"Route\" = ? AND \"MessageID\" IN ({}) ORDER BY \"ReceivedAt\"",
                    vec!["?"; forms.len()].join(", ")
                ),
                &values,
            )
            .await?;
        let Some(form) = forms
            .iter()
            .find(|f| parked.iter().any(|r| text(r, 0) == **f))
        else {
            return Ok(());
        };
        for r in parked.iter().filter(|r| text(r, 0) == *form) {
            let status = u8::try_from(int(r, 1, 0xFF)).unwrap_or(0xFF);
            self.set_delivery(tx, id, i64::from(seq), status, &text(r, 2))
                .await?;
            if DeliveryStatus::from_status(status).is_final() {
                tx.exec(forget, args![route, message_id]).await?;
            }
        }
        tx.exec(
            "DELETE FROM smsgw_pending_receipts WHERE \"Route\" = ? AND \"MessageID\" = ?",
            args![route, form],
        )
        .await?;
        tracing::info!(
            route,
            message_id,
            id,
            part = seq,
            "a receipt that came before the part was recorded now matched it"
        );
        Ok(())
    }

    /// Applies a receipt by SMSC message id; parks it when no part has that id (yet).
    async fn receipt_by_id(
        &self,
        tx: &mut Tx,
        route: &str,
        message_id: &str,
        status: u8,
        done: &str,
    ) -> Result<bool> {
        let forms = id_forms(message_id);
        let sql = format!(
            "SELECT \"MessageID\", \"ID\", \"SequencePosition\" FROM smsgw_smsc_ids WHERE \"Route\" = ? AND \"MessageID\" IN ({})",
            vec!["?"; forms.len()].join(", ")
        );
        let mut values = vec![Arg::from(route)];
        values.extend(forms.iter().map(Arg::from));
        let hits = tx.rows(&sql, &values).await?;
        // The id as written wins over another form of it.
        let hit = hits
            .iter()
            .find(|h| text(h, 0) == message_id)
            .or_else(|| hits.first());
        let Some(hit) = hit else {
            tx.exec(
                "INSERT INTO smsgw_pending_receipts (\"Route\", \"MessageID\", \"Status\", \"DischargeTime\") VALUES (?, ?, ?, ?)",
                args![route, message_id, status, done],
            )
            .await?;
            return Ok(false);
        };
        self.set_delivery(tx, int(hit, 1, 0), int(hit, 2, 0), status, done)
            .await?;
        if DeliveryStatus::from_status(status).is_final() {
            tx.exec(
                "DELETE FROM smsgw_smsc_ids WHERE \"Route\" = ? AND \"MessageID\" = ?",
                args![route, text(hit, 0)],
            )
            .await?;
        }
        Ok(true)
    }

    async fn insert_sentitem(
        &self,
        tx: &mut Tx,
        out: &Outgoing,
        part: &OutPart,
        a: &Attempt<'_>,
    ) -> Result<()> {
        let d = self.dialect;
        // Gammu's duplicate (ID, SequencePosition) trap on a retried multipart message
        // (#311): the newer attempt replaces the older row.
        tx.exec(
            "DELETE FROM sentitems WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
            args![out.id, part.seq],
        )
        .await?;
        let sql = format!(
            "INSERT INTO sentitems (\"CreatorID\", \"ID\", \"SequencePosition\", \"Status\", \"SendingDateTime\", \"SMSCNumber\", \"TPMR\", \"SenderID\", \"Text\", \"DestinationNumber\", \"Coding\", \"UDH\", \"Class\", \"TextDecoded\", \"InsertIntoDB\", \"RelativeValidity\", \"StatusCode\")
             VALUES (?, ?, ?, ?, {now}, ?, ?, ?, ?, ?, ?, ?, ?, ?, {ts}, ?, ?)",
            now = d.now(),
            ts = d.ts_param()
        );
        tx.exec(
            &sql,
            args![
                &out.creator_id,
                out.id,
                part.seq,
                a.status,
                a.smsc,
                a.tpmr,
                a.route,
                part.text_hex.clone().unwrap_or_default(),
                &out.destination,
                part.coding.unwrap_or_default().as_str(),
                part.udh_hex.clone().unwrap_or_default(),
                part.class,
                part.text_decoded.clone().unwrap_or_default(),
                &out.inserted,
                out.relative_validity,
                a.status_code,
            ],
        )
        .await?;
        Ok(())
    }

    async fn set_part_status(
        &self,
        tx: &mut Tx,
        id: i64,
        seq: u32,
        status: &str,
        code: i32,
    ) -> Result<()> {
        if seq == 1 {
            tx.exec(
                "UPDATE outbox SET \"Status\" = ?, \"StatusCode\" = ? WHERE \"ID\" = ?",
                args![status, code, id],
            )
            .await?;
        } else {
            tx.exec(
                "UPDATE outbox_multipart SET \"Status\" = ?, \"StatusCode\" = ? WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
                args![status, code, id, seq],
            )
            .await?;
        }
        Ok(())
    }

    async fn delete_message(&self, tx: &mut Tx, id: i64) -> Result<()> {
        tx.exec("DELETE FROM outbox WHERE \"ID\" = ?", args![id])
            .await?;
        tx.exec("DELETE FROM outbox_multipart WHERE \"ID\" = ?", args![id])
            .await?;
        tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![id])
            .await?;
        Ok(())
    }

    /// Starts listening for the outbox trigger's `NOTIFY` (PostgreSQL).
    fn listen(&self) -> Option<watch::Receiver<u64>> {
        let options = self.pg_options.clone()?;
        let (tx, rx) = watch::channel(0u64);
        let label = self.label.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect_with(
                    &PgPoolOptions::new()
                        .max_connections(1)
                        .connect_lazy_with(options.clone()),
                )
                .await
                {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::debug!("{label}: LISTEN connection: {e}");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                        continue;
                    }
                };
                if let Err(e) = listener.listen(NOTIFY_CHANNEL).await {
                    tracing::debug!("{label}: LISTEN {NOTIFY_CHANNEL}: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
                backoff = Duration::from_millis(200);
                // Whatever was inserted while we were not listening is found now.
                tx.send_modify(|n| *n = n.wrapping_add(1));
                loop {
                    let got = tokio::select! {
                        got = listener.try_recv() => got,
                        // The storage was dropped: nobody listens any more.
                        () = tx.closed() => return,
                    };
                    match got {
                        Ok(Some(_)) => tx.send_modify(|n| *n = n.wrapping_add(1)),
                        Ok(None) => {
                            // The connection was lost; try_recv reconnects on the next call.
                            tracing::debug!("{label}: LISTEN connection lost, reconnecting");
                            tx.send_modify(|n| *n = n.wrapping_add(1));
                        }
                        Err(e) => {
                            tracing::debug!("{label}: LISTEN: {e}");
                            break;
                        }
                    }
                }
                tokio::time::sleep(backoff).await;
            }
        });
        Some(rx)
    }
}

#[async_trait]
impl Service for Server {
    async fn init(&self) -> Result<()> {
        let r = self.prepare().await?;
        tracing::info!(
            storage = %self.label,
            server = %r.server,
            time_zone = %r.time_zone,
            "{} database {} (Gammu schema version {})",
            self.dialect.name(),
            if r.created { "created" } else { "ready" },
            r.version
        );
        Ok(())
    }

    async fn health(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.row("SELECT 1", &[]).await?;
        tx.commit().await
    }

    fn changes(&self) -> Option<watch::Receiver<u64>> {
        let mut guard = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = self.listen();
        }
        guard.clone()
    }

    async fn create_outbox(&self, msg: &NewMessage) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = self.insert_message(&mut tx, msg).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn create_outbox_once(&self, msg: &NewMessage, key: &str) -> Result<Option<i64>> {
        let mut tx = self.begin().await?;
        if tx
            .row(
                "SELECT \"ID\" FROM smsgw_spool WHERE \"SpoolKey\" = ?",
                args![key],
            )
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let id = self.insert_message(&mut tx, msg).await?;
        // Two daemons queuing the same file: the key's primary key lets one commit.
        tx.exec(
            "INSERT INTO smsgw_spool (\"SpoolKey\", \"ID\") VALUES (?, ?)",
            args![key, id],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        let mut tx = self.begin().await?;
        let out = self
            .claim_in(&mut tx, owner, routes, limit, lease_secs)
            .await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn split_outbox(&self, out: &Outgoing, parts: &[NewPart]) -> Result<Outgoing> {
        let first = parts
            .first()
            .ok_or_else(|| StorageError::Data("no parts to write back".into()))?;
        let mut tx = self.begin().await?;
        self.check_lease(&mut tx, out).await?;
        tx.exec(
            "UPDATE outbox SET \"Text\" = ?, \"TextDecoded\" = ?, \"Coding\" = ?, \"UDH\" = ?, \"MultiPart\" = 'true' WHERE \"ID\" = ?",
            args![&first.text_hex, &first.text_decoded, first.coding.as_str(), &first.udh_hex, out.id],
        )
        .await?;
        tx.exec(
            "DELETE FROM outbox_multipart WHERE \"ID\" = ?",
            args![out.id],
        )
        .await?;
        for (seq, p) in (2u32..).zip(&parts[1..]) {
            tx.exec(
                "INSERT INTO outbox_multipart (\"ID\", \"SequencePosition\", \"Text\", \"TextDecoded\", \"Coding\", \"UDH\", \"Class\") VALUES (?, ?, ?, ?, ?, ?, ?)",
                args![out.id, seq, &p.text_hex, &p.text_decoded, p.coding.as_str(), &p.udh_hex, p.class],
            )
            .await?;
        }
        let new_parts = self.read_parts(&mut tx, out.id).await?;
        tx.commit().await?;
        Ok(Outgoing {
            parts: new_parts,
            ..out.clone()
        })
    }

    async fn list_outbox(&self, stuck: bool) -> Result<Vec<OutboxEntry>> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT o.\"ID\", o.\"DestinationNumber\", o.\"SenderID\",
                    (SELECT count(*) FROM outbox_multipart m WHERE m.\"ID\" = o.\"ID\"),
                    o.\"Retries\", o.\"Priority\", {ins}, {due}, {lease}, o.\"StatusCode\",
                    (SELECT c.\"Owner\" FROM smsgw_claims c WHERE c.\"ID\" = o.\"ID\" AND c.\"Lease\" = {lease}),
                    o.\"TextDecoded\"
               FROM outbox o {filter}
              ORDER BY o.\"Priority\" DESC, o.\"InsertIntoDB\", o.\"ID\"",
            ins = d.ts("o.\"InsertIntoDB\""),
            due = d.ts("o.\"SendingDateTime\""),
            lease = d.ts("o.\"SendingTimeOut\""),
            filter = if stuck {
                format!(
                    "WHERE o.\"Retries\" > 0 OR o.\"SendingDateTime\" <= {}",
                    d.now_plus(-600)
                )
            } else {
                String::new()
            }
        );
        let rows = tx.rows(&sql, &[]).await?;
        let more = tx
            .rows(
                "SELECT \"ID\", \"TextDecoded\" FROM outbox_multipart ORDER BY \"ID\", \"SequencePosition\"",
                &[],
            )
            .await?;
        tx.commit().await?;
        let mut rest: std::collections::HashMap<i64, String> = Default::default();
        for r in &more {
            rest.entry(int(r, 0, 0)).or_default().push_str(&text(r, 1));
        }
        Ok(rows
            .iter()
            .map(|r| {
                let id = int(r, 0, 0);
                OutboxEntry {
                    id,
                    destination: text(r, 1),
                    route: text(r, 2),
                    parts: (1 + int(r, 3, 0)).max(1) as u32,
                    retries: int(r, 4, 0).max(0) as u32,
                    priority: int(r, 5, 0) as i32,
                    inserted: text(r, 6),
                    send_after: text(r, 7),
                    lease_until: text(r, 8),
                    status_code: int(r, 9, -1) as i32,
                    claimed_by: opt(r, 10),
                    text: text(r, 11) + rest.get(&id).map_or("", String::as_str),
                }
            })
            .collect())
    }

    async fn cancel_outbox(&self, id: i64, reason: &str) -> Result<bool> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let head = tx
            .row(
                &format!(
                    "SELECT \"DestinationNumber\", \"SenderID\", \"CreatorID\", \"RelativeValidity\", {} FROM outbox WHERE \"ID\" = ? FOR UPDATE",
                    d.ts("\"InsertIntoDB\"")
                ),
                args![id],
            )
            .await?;
        let Some(h) = head else {
            return Ok(false);
        };
        let route = text(&h, 1);
        let out = Outgoing {
            id,
            name: id.to_string(),
            destination: text(&h, 0),
            sender_id: Some(route.clone()),
            creator_id: text(&h, 2),
            parts: self.read_parts(&mut tx, id).await?,
            relative_validity: int(&h, 3, -1) as i32,
            delivery_report: ReportRequest::Default,
            retries: 0,
            priority: 0,
            inserted: text(&h, 4),
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
            self.insert_sentitem(&mut tx, &out, part, &attempt).await?;
        }
        tx.exec(
            "INSERT INTO smsgw_failures (\"ID\", \"Reason\") VALUES (?, ?)",
            args![id, reason],
        )
        .await?;
        self.delete_message(&mut tx, id).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn retry_outbox(&self, id: i64) -> Result<bool> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let n = tx
            .exec(
                &format!(
                    "UPDATE outbox SET \"Retries\" = 0, \"SendingDateTime\" = {now}, \"SendingTimeOut\" = {now} WHERE \"ID\" = ?",
                    now = d.now()
                ),
                args![id],
            )
            .await?;
        tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![id])
            .await?;
        if d == Dialect::Postgres {
            tx.exec("SELECT pg_notify('smsgw_outbox', '')", &[]).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn list_inbox(&self, since: Option<&str>) -> Result<Vec<InboxEntry>> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let since = since.unwrap_or("1970-01-01");
        let rows = tx
            .rows(
                &format!(
                    "SELECT \"ID\", {}, \"SenderNumber\", \"RecipientID\", \"UDH\", \"TextDecoded\" FROM inbox
                      WHERE \"ReceivingDateTime\" >= {} ORDER BY \"ReceivingDateTime\" DESC, \"ID\" DESC",
                    d.ts("\"ReceivingDateTime\""),
                    d.ts_param()
                ),
                args![since],
            )
            .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| InboxEntry {
                id: int(r, 0, 0),
                received: text(r, 1),
                sender: text(r, 2),
                phone: text(r, 3),
                udh: text(r, 4),
                text: text(r, 5),
            })
            .collect())
    }

    async fn prune(&self, days: u32, dry_run: bool) -> Result<(u64, u64)> {
        let d = self.dialect;
        let cutoff = d.now_plus(-i64::from(days) * 86_400);
        let mut tx = self.begin().await?;
        let mut counts = [0u64; 2];
        for (i, (t, col)) in [
            ("inbox", "ReceivingDateTime"),
            ("sentitems", "SendingDateTime"),
        ]
        .iter()
        .enumerate()
        {
            counts[i] = tx
                .row(
                    &format!("SELECT count(*) FROM {t} WHERE \"{col}\" < {cutoff}"),
                    &[],
                )
                .await?
                .map_or(0, |r| int(&r, 0, 0).max(0) as u64);
            if !dry_run {
                tx.exec(&format!("DELETE FROM {t} WHERE \"{col}\" < {cutoff}"), &[])
                    .await?;
            }
        }
        if !dry_run {
            tx.exec(
                &format!("DELETE FROM smsgw_spool WHERE \"QueuedAt\" < {cutoff}"),
                &[],
            )
            .await?;
        }
        tx.commit().await?;
        Ok((counts[0], counts[1]))
    }

    async fn send_times(&self, route: &str, since: &str) -> Result<Vec<String>> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let rows = tx
            .rows(
                &format!(
                    "SELECT {} FROM sentitems WHERE \"SenderID\" = ? AND \"SendingDateTime\" >= {} AND \"Status\" NOT IN ('SendingError', 'Error')",
                    d.ts("\"SendingDateTime\""),
                    d.ts_param()
                ),
                args![route, since],
            )
            .await?;
        tx.commit().await?;
        Ok(rows.iter().map(|r| text(r, 0)).collect())
    }

    async fn outbox_depth(&self) -> Result<Option<u64>> {
        let mut tx = self.begin().await?;
        let n = tx
            .row("SELECT count(*) FROM outbox", &[])
            .await?
            .map_or(0, |r| int(&r, 0, 0).max(0) as u64);
        tx.commit().await?;
        Ok(Some(n))
    }

    async fn claim_owners(&self) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        let rows = tx
            .rows("SELECT DISTINCT \"Owner\" FROM smsgw_claims", &[])
            .await?;
        tx.commit().await?;
        Ok(rows.iter().map(|r| text(r, 0)).collect())
    }

    async fn release_claims(&self, owners: &[String]) -> Result<usize> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let mut n = 0;
        for o in owners {
            let ids = tx
                .rows(
                    &format!(
                        "SELECT c.\"ID\" FROM smsgw_claims c JOIN outbox o ON o.\"ID\" = c.\"ID\"
                          WHERE c.\"Owner\" = ? AND c.\"Lease\" = {}",
                        d.ts("o.\"SendingTimeOut\"")
                    ),
                    args![o],
                )
                .await?;
            for r in ids {
                // Only while the lease is still the one that owner set.
                n += tx
                    .exec(
                        &format!(
                            "UPDATE outbox SET \"SendingTimeOut\" = {} WHERE \"ID\" = ?",
                            d.now()
                        ),
                        args![int(&r, 0, 0)],
                    )
                    .await? as usize;
            }
            tx.exec("DELETE FROM smsgw_claims WHERE \"Owner\" = ?", args![o])
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn renew_claim(&self, out: &mut Outgoing, lease_secs: u32) -> Result<()> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let n = tx
            .exec(
                &format!(
                    "UPDATE outbox SET \"SendingTimeOut\" = {} WHERE \"ID\" = ? AND \"SendingTimeOut\" = {}",
                    d.now_plus(lease_secs.into()),
                    d.ts_param()
                ),
                args![out.id, &out.lease],
            )
            .await?;
        if n != 1 {
            return Err(StorageError::LostClaim(out.id));
        }
        let lease = self
            .lease_of(&mut tx, out.id, false)
            .await?
            .unwrap_or_default();
        tx.exec(
            "UPDATE smsgw_claims SET \"Lease\" = ? WHERE \"ID\" = ?",
            args![&lease, out.id],
        )
        .await?;
        tx.commit().await?;
        out.lease = lease;
        Ok(())
    }

    async fn record_sent(&self, out: &Outgoing, seq: u32, result: &PartResult) -> Result<()> {
        let mut tx = self.begin().await?;
        self.check_lease(&mut tx, out).await?;
        self.record_part(&mut tx, out, seq, result, true).await?;
        tx.commit().await
    }

    async fn finish_sent(
        &self,
        done: &[(Outgoing, Vec<(u32, PartResult)>)],
    ) -> Result<Vec<Result<()>>> {
        let mut tx = self.begin().await?;
        let results = self.finish_in(&mut tx, done).await?;
        tx.commit().await?;
        Ok(results)
    }

    async fn finish_sent_and_claim(
        &self,
        done: &[(Outgoing, Vec<(u32, PartResult)>)],
        owner: &str,
        routes: &[String],
        limit: usize,
        lease_secs: u32,
    ) -> Result<(Vec<Result<()>>, Result<Vec<Outgoing>>)> {
        let mut tx = self.begin().await?;
        let finished = self.finish_in(&mut tx, done).await?;
        match self
            .claim_in(&mut tx, owner, routes, limit, lease_secs)
            .await
        {
            Ok(claimed) => {
                tx.commit().await?;
                Ok((finished, Ok(claimed)))
            }
            Err(e) => {
                // Not half a claim: the sent messages are recorded on their own.
                drop(tx);
                Ok((self.finish_sent(done).await?, Err(e)))
            }
        }
    }

    async fn apply_receipts(&self, receipts: &[(DeliveryKey, u8, String)]) -> Result<Vec<bool>> {
        let mut matched = Vec::with_capacity(receipts.len());
        if receipts
            .iter()
            .any(|(k, ..)| !matches!(k, DeliveryKey::SmscId { .. }))
        {
            // Status reports by TP-MR go one by one (they are a modem's: a few a second).
            for (key, status, done) in receipts {
                matched.push(self.apply_receipt(key, *status, done, 0).await?.is_some());
            }
            return Ok(matched);
        }
        let mut tx = self.begin().await?;
        for (key, status, done) in receipts {
            if let DeliveryKey::SmscId { route, id } = key {
                matched.push(
                    self.receipt_by_id(&mut tx, route, id, *status, done)
                        .await?,
                );
            }
        }
        tx.commit().await?;
        Ok(matched)
    }

    async fn finish_outbox(
        &self,
        out: &Outgoing,
        outcome: &Outcome,
        retry_after_secs: u32,
    ) -> Result<()> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        self.check_lease(&mut tx, out).await?;
        match outcome {
            Outcome::Sent => self.delete_message(&mut tx, out.id).await?,
            Outcome::Retry {
                status_code,
                reason,
                ..
            } => {
                tx.exec(
                    &format!(
                        "UPDATE outbox SET \"Retries\" = ?, \"StatusCode\" = ?, \"SendingTimeOut\" = {} WHERE \"ID\" = ?",
                        d.now_plus(retry_after_secs.into())
                    ),
                    args![out.retries + 1, *status_code, out.id],
                )
                .await?;
                tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![out.id])
                    .await?;
                tracing::info!(id = out.id, "message will be retried: {reason}");
            }
            Outcome::Release {
                status_code,
                reason,
            } => {
                // A release for want of a network keeps its code (a stop keeps the last).
                tx.exec(
                    &format!(
                        "UPDATE outbox SET \"SendingTimeOut\" = {}, \"StatusCode\" = CASE WHEN ? >= 0 THEN ? ELSE \"StatusCode\" END WHERE \"ID\" = ?",
                        d.now_plus(retry_after_secs.into())
                    ),
                    args![*status_code, *status_code, out.id],
                )
                .await?;
                tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![out.id])
                    .await?;
                tracing::info!(id = out.id, "message released: {reason}");
            }
            Outcome::Failed {
                status_code,
                reason,
                unusable,
            } => {
                let status = if *unusable { "Error" } else { "SendingError" };
                let route = out.sender_id.clone().unwrap_or_default();
                for part in out.parts.iter().filter(|p| !p.already_sent) {
                    // Parts sent in this attempt are already in sentitems.
                    let sent_now = tx
                        .row(
                            "SELECT count(*) FROM sentitems WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
                            args![out.id, part.seq],
                        )
                        .await?
                        .is_some_and(|r| int(&r, 0, 0) > 0);
                    if !sent_now {
                        let attempt = Attempt {
                            route: &route,
                            status,
                            tpmr: -1,
                            smsc: "",
                            status_code: *status_code,
                        };
                        self.insert_sentitem(&mut tx, out, part, &attempt).await?;
                    }
                }
                tx.exec(
                    "INSERT INTO smsgw_failures (\"ID\", \"Reason\") VALUES (?, ?)",
                    args![out.id, reason.as_str()],
                )
                .await?;
                self.delete_message(&mut tx, out.id).await?;
            }
        }
        tx.commit().await
    }

    async fn save_inbox(
        &self,
        parts: &[InboxPart],
        consumed: &[PendingPart],
    ) -> Result<Vec<String>> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let mut ids = Vec::with_capacity(parts.len());
        for p in parts {
            // The same part again (stored, then the daemon stopped before deleting it from
            // the SIM): keep the first row, receive it once.
            let existing = tx
                .row(
                    &format!(
                        "SELECT \"ID\" FROM inbox WHERE \"RecipientID\" = ? AND \"SenderNumber\" = ? AND \"ReceivingDateTime\" = {} AND \"UDH\" = ? AND \"Text\" = ?",
                        d.ts_param()
                    ),
                    args![&p.phone_id, &p.sender, &p.received, &p.udh_hex, &p.text_hex],
                )
                .await?;
            if let Some(r) = existing {
                ids.push(int(&r, 0, 0));
                continue;
            }
            let id = tx
                .insert(
                    &format!(
                        "INSERT INTO inbox (\"ReceivingDateTime\", \"Text\", \"SenderNumber\", \"Coding\", \"SMSCNumber\", \"UDH\", \"Class\", \"TextDecoded\", \"RecipientID\")
                         VALUES ({}, ?, ?, ?, ?, ?, ?, ?, ?)",
                        d.ts_param()
                    ),
                    args![&p.received, &p.text_hex, &p.sender, p.coding.as_str(), &p.smsc, &p.udh_hex, p.class, &p.text_decoded, &p.phone_id],
                )
                .await?;
            ids.push(id);
        }
        for q in consumed {
            tx.exec(
                "DELETE FROM smsgw_pending_parts WHERE \"PhoneID\" = ? AND \"Sender\" = ? AND \"Reference\" = ? AND \"Total\" = ? AND \"Seq\" = ?",
                args![&q.phone_id, &q.sender, q.reference, q.total, q.seq],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ids.iter().map(ToString::to_string).collect())
    }

    async fn stash_part(&self, p: &PendingPart) -> Result<()> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let sql = match d {
            Dialect::Postgres => format!(
                "INSERT INTO smsgw_pending_parts (\"PhoneID\", \"Sender\", \"Reference\", \"Total\", \"Seq\", \"PDU\", \"ReceivedAt\") VALUES (?, ?, ?, ?, ?, ?, {}) ON CONFLICT DO NOTHING",
                d.ts_param()
            ),
            Dialect::Mysql => format!(
                "INSERT IGNORE INTO smsgw_pending_parts (\"PhoneID\", \"Sender\", \"Reference\", \"Total\", \"Seq\", \"PDU\", \"ReceivedAt\") VALUES (?, ?, ?, ?, ?, ?, {})",
                d.ts_param()
            ),
        };
        tx.exec(
            &sql,
            args![
                &p.phone_id,
                &p.sender,
                p.reference,
                p.total,
                p.seq,
                &p.pdu,
                &p.received_at
            ],
        )
        .await?;
        tx.commit().await
    }

    async fn complete_parts(
        &self,
        phone_id: &str,
        timeout_secs: u64,
    ) -> Result<Vec<Vec<PendingPart>>> {
        let d = self.dialect;
        let mut tx = self.begin().await?;
        let keys = tx
            .rows(
                &format!(
                    "SELECT \"Sender\", \"Reference\", \"Total\" FROM smsgw_pending_parts WHERE \"PhoneID\" = ?
                      GROUP BY \"Sender\", \"Reference\", \"Total\"
                     HAVING count(*) >= \"Total\" OR min(\"ReceivedAt\") <= {}",
                    d.now_plus(-(timeout_secs.min(i64::MAX as u64) as i64))
                ),
                args![phone_id],
            )
            .await?;
        let mut groups = Vec::new();
        for k in keys {
            let (sender, reference, total) = (text(&k, 0), int(&k, 1, 0), int(&k, 2, 0));
            let rows = tx
                .rows(
                    &format!(
                        "SELECT \"Seq\", \"PDU\", {} FROM smsgw_pending_parts WHERE \"PhoneID\" = ? AND \"Sender\" = ? AND \"Reference\" = ? AND \"Total\" = ? ORDER BY \"Seq\"",
                        d.ts("\"ReceivedAt\"")
                    ),
                    args![phone_id, &sender, reference, total],
                )
                .await?;
            groups.push(
                rows.iter()
                    .map(|r| PendingPart {
                        phone_id: phone_id.to_string(),
                        sender: sender.clone(),
                        reference: reference.clamp(0, u16::MAX.into()) as u16,
                        total: total.clamp(0, u8::MAX.into()) as u8,
                        seq: int(r, 0, 0).clamp(0, u8::MAX.into()) as u8,
                        pdu: text(r, 1),
                        received_at: text(r, 2),
                    })
                    .collect(),
            );
        }
        tx.commit().await?;
        Ok(groups)
    }

    async fn apply_receipt(
        &self,
        key: &DeliveryKey,
        status: u8,
        done: &str,
        window_secs: u64,
    ) -> Result<Option<String>> {
        let (phone, mr, number, sent_at) = match key {
            DeliveryKey::Tpmr {
                phone,
                mr,
                number,
                sent_at,
            } => (phone, mr, number, sent_at),
            DeliveryKey::SmscId { route, id } => {
                let mut tx = self.begin().await?;
                let matched = self.receipt_by_id(&mut tx, route, id, status, done).await?;
                tx.commit().await?;
                return Ok(matched.then(String::new));
            }
        };
        let d = self.dialect;
        let w = window_secs.min(i64::MAX as u64) as i64;
        let mut tx = self.begin().await?;
        let candidates = tx
            .rows(
                &format!(
                    "SELECT \"ID\", \"SequencePosition\", \"DestinationNumber\" FROM sentitems
                      WHERE \"SenderID\" = ? AND \"TPMR\" = ? AND \"Status\" IN ('SendingOK', 'DeliveryPending')
                        AND \"SendingDateTime\" BETWEEN {} AND {}
                      ORDER BY \"SendingDateTime\" DESC, \"ID\" DESC",
                    d.shift(d.ts_param(), -w),
                    d.shift(d.ts_param(), w)
                ),
                args![phone, *mr, sent_at, sent_at],
            )
            .await?;
        let Some(hit) = candidates.iter().find(|r| same_number(&text(r, 2), number)) else {
            tx.exec(
                "INSERT INTO smsgw_unmatched_reports (\"PhoneID\", \"TPMR\", \"Number\", \"Status\", \"DischargeTime\") VALUES (?, ?, ?, ?, ?)",
                args![phone, *mr, number, status, done],
            )
            .await?;
            tx.commit().await?;
            return Ok(None);
        };
        self.set_delivery(&mut tx, int(hit, 0, 0), int(hit, 1, 0), status, done)
            .await?;
        tx.commit().await?;
        Ok(Some(int(hit, 0, 0).to_string()))
    }

    async fn refresh_status(&self, s: &PhoneStatus) -> Result<()> {
        let d = self.dialect;
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut tx = self.begin().await?;
        let set = format!(
            "\"ID\" = ?, \"TimeOut\" = {timeout}, \"Send\" = '{send}', \"Receive\" = '{receive}', \"IMSI\" = ?, \"NetCode\" = ?, \"NetName\" = ?, \"Client\" = ?, \"Battery\" = ?, \"Signal\" = ?, \"Sent\" = ?, \"Received\" = ?",
            timeout = d.now_plus(10),
            send = yes_no(s.send),
            receive = yes_no(s.receive)
        );
        let values = args![
            &s.id,
            &s.imsi,
            &s.net_code,
            &s.net_name,
            &s.client,
            s.battery,
            s.signal,
            s.sent.min(i32::MAX as u64) as i64,
            s.received.min(i32::MAX as u64) as i64,
            &s.imei,
        ];
        let n = tx
            .exec(
                &format!("UPDATE phones SET {set} WHERE \"IMEI\" = ?"),
                values,
            )
            .await?;
        if n == 0 {
            tx.exec(
                &format!(
                    "INSERT INTO phones (\"ID\", \"TimeOut\", \"Send\", \"Receive\", \"IMSI\", \"NetCode\", \"NetName\", \"Client\", \"Battery\", \"Signal\", \"Sent\", \"Received\", \"IMEI\", \"InsertIntoDB\")
                     VALUES (?, {}, '{}', '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, {})",
                    d.now_plus(10),
                    yes_no(s.send),
                    yes_no(s.receive),
                    d.now()
                ),
                values,
            )
            .await?;
        }
        tx.commit().await
    }

    async fn outbox_changed(&self) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Two plain integers (arithmetic on them is DECIMAL on MySQL).
        let mark = tx
            .row("SELECT MAX(\"ID\"), count(*) FROM outbox", &[])
            .await?
            .map_or(0, |r| {
                int(&r, 0, 0)
                    .wrapping_mul(1_000_003)
                    .wrapping_add(int(&r, 1, 0))
            });
        tx.commit().await?;
        Ok(self.seen.swap(mark, Ordering::SeqCst) != mark)
    }
}

/// Connects the storage the config names and prepares its schema.
pub async fn open(cfg: &StorageConfig) -> Result<Arc<Server>> {
    let s = Server::connect(cfg)?;
    s.init().await?;
    Ok(Arc::new(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_comes_from_the_environment_a_file_or_the_config() {
        let dir = std::env::temp_dir().join(format!("smsgw-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        let mut cfg = StorageConfig {
            password: "inline".into(),
            ..StorageConfig::default()
        };
        assert_eq!(password(&cfg).unwrap().as_deref(), Some("inline"));
        cfg.password_file = file.clone();
        assert_eq!(password(&cfg).unwrap().as_deref(), Some("s3cret"));
        cfg.password_env = "SMSGW_TEST_NO_SUCH_VARIABLE".into();
        let err = password(&cfg).unwrap_err();
        assert!(err.contains("SMSGW_TEST_NO_SUCH_VARIABLE"), "{err}");
        cfg.password_env.clear();
        cfg.password_file = dir.join("missing");
        assert!(password(&cfg).unwrap_err().contains("missing"));
        let _ = std::fs::remove_dir_all(&dir);
    }

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
        assert_eq!(split_statements(MYSQL_SCHEMA).len(), 13);
    }
}
