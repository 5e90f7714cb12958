//! PostgreSQL and MySQL/MariaDB: the pool and its sessions (time zone, `ANSI_QUOTES`), the
//! schema, `LISTEN` for the outbox trigger, and the transactions the storage logic
//! (`gammu.rs`) runs in.
//!
//! Every session runs in the stored times' zone; MySQL sessions quote identifiers with `"`
//! (`ANSI_QUOTES`) as PostgreSQL does, so the logic's statements serve both.

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlSslMode};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::Executor as _;
use tokio::sync::watch;

pub use super::dialect::Dialect;
pub(crate) use super::exec::server_error as db;
use super::exec::{args, int, text, Db, Tx};
use super::gammu;
use super::storage::Conn;
use crate::config::{DbTls, Storage as StorageConfig, StorageKind};
use crate::service::{Result, StorageError};

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
use super::{GAMMU_TABLES, SCHEMA_VERSION};

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
    /// Whether changes are written to the event log ([`Conn::keep_events`]).
    events: std::sync::atomic::AtomicBool,
    /// Bumped after a commit that appended events ([`Conn::appended`]).
    appended: watch::Sender<u64>,
}

/// The password from the config, a file or the environment.
pub(crate) fn password(cfg: &StorageConfig) -> std::result::Result<Option<String>, String> {
    crate::secret::resolve(
        "storage.",
        &cfg.password,
        &cfg.password_file,
        &cfg.password_env,
    )
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

/// The connect options the config sets beside (or over) a URL: host, port, user,
/// database, password. One macro for both servers' option types (they share the method
/// names, not a trait).
macro_rules! with_config_fn {
    ($name:ident, $t:ty) => {
        fn $name(mut o: $t, cfg: &StorageConfig, password: &Option<String>) -> $t {
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
            if let Some(p) = password {
                o = o.password(p);
            }
            o
        }
    };
}
with_config_fn!(pg_with_config, PgConnectOptions);
with_config_fn!(my_with_config, MySqlConnectOptions);

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
    let o = if cfg.url.is_empty() {
        PgConnectOptions::new_without_pgpass()
            .host(&or(&cfg.host, "localhost"))
            .username(&or(&cfg.user, user))
            .database(&or(&cfg.database, database))
            .port(5432)
    } else {
        PgConnectOptions::from_str(&cfg.url)
            .map_err(|e| bad(format!("storage.url is not a PostgreSQL URL: {e}")))?
    };
    let mut o = pg_with_config(o, cfg, &password);
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
        let default_port = 3306;
        if !matches!(cfg.kind, StorageKind::Postgres | StorageKind::Mysql) {
            return Err(StorageError::Config(format!(
                "storage kind {:?} is not a database server",
                cfg.kind
            )));
        }
        let or = |v: &str, d: &str| {
            if v.is_empty() {
                d.to_string()
            } else {
                v.to_string()
            }
        };
        let pool_size = cfg.pool_size.max(1);
        let acquire = Duration::from_secs(5);
        match cfg.kind {
            StorageKind::Postgres => {
                let (pool, o, label, time_zone) = pg_pool(cfg, password, "smsd", "smsd")?;
                Ok(Server {
                    dialect: Dialect::Postgres,
                    pool: Pool::Pg(pool),
                    label,
                    time_zone,
                    seen: AtomicI64::new(-1),
                    changes: Mutex::new(None),
                    pg_options: Some(o),
                    events: true.into(),
                    appended: watch::channel(0).0,
                })
            }
            _ => {
                let o = if cfg.url.is_empty() {
                    MySqlConnectOptions::new()
                        .host(&or(&cfg.host, "localhost"))
                        .username(&or(&cfg.user, "smsd"))
                        .database(&or(&cfg.database, "smsd"))
                        .port(default_port)
                } else {
                    MySqlConnectOptions::from_str(&cfg.url)
                        .map_err(|e| bad(format!("storage.url is not a MySQL URL: {e}")))?
                };
                let mut o = my_with_config(o, cfg, &password);
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
                    dialect: Dialect::Mysql,
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
                    events: true.into(),
                    appended: watch::channel(0).0,
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

    async fn begin(&self) -> Result<Tx<'static>> {
        // Connection errors name the server (never the password).
        let with = |e: StorageError| match e {
            StorageError::Unavailable(m) => {
                StorageError::Unavailable(format!("{}: {m}", self.label))
            }
            StorageError::Data(m) => StorageError::Data(format!("{}: {m}", self.label)),
            other => other,
        };
        let events = self.events.load(std::sync::atomic::Ordering::Relaxed);
        match &self.pool {
            Pool::Pg(p) => p
                .begin()
                .await
                .map(|t| Tx::new(Db::Pg(t), events))
                .map_err(db)
                .map_err(with),
            Pool::My(p) => p
                .begin()
                .await
                .map(|t| Tx::new(Db::My(t), events))
                .map_err(db)
                .map_err(with),
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

    async fn table_exists(&self, tx: &mut Tx<'_>, name: &str) -> Result<bool> {
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
        match &self.pool {
            Pool::Pg(_) => {
                tx.exec("SELECT pg_advisory_xact_lock(727001)", &[]).await?;
                let r = self.schema_locked(&mut tx, change).await?;
                tx.commit().await?;
                Ok(r)
            }
            Pool::My(_) => {
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

    async fn schema_locked(&self, tx: &mut Tx<'_>, change: bool) -> Result<ServerReport> {
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
            tx.script(match &self.pool {
                Pool::Pg(_) => PG_SCHEMA,
                Pool::My(_) => MYSQL_SCHEMA,
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
            "smsgw_last_errors",
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
            match &self.pool {
                Pool::Pg(_) => {
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
                Pool::My(_) => tx.script(MYSQL_SMSGW_SCHEMA).await?,
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
        let notify_trigger = match &self.pool {
            Pool::Pg(_) => self.notify_trigger(tx).await?,
            Pool::My(_) => false,
        };
        let not_innodb = match &self.pool {
            Pool::Pg(_) => Vec::new(),
            Pool::My(_) => tx
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

    /// An index in the claim's order (Priority DESC, InsertIntoDB, ID), so that a claim stops
    /// at the first eligible row instead of sorting the whole outbox (with 100,000 queued
    /// rows a sort per claim drops SQLite to 15 messages/s). Optional: a user who may not
    /// add an index to Gammu's table gets a warning.
    async fn ensure_order_index(&self, tx: &mut Tx<'_>) -> Result<()> {
        let (exists, create) = match &self.pool {
            Pool::Pg(_) => (
                "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'smsgw_outbox_order'",
                "CREATE INDEX smsgw_outbox_order ON outbox (\"Priority\" DESC, \"InsertIntoDB\", \"ID\")",
            ),
            Pool::My(_) => (
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

    async fn notify_trigger(&self, tx: &mut Tx<'_>) -> Result<bool> {
        Ok(tx
            .row(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'smsgw_outbox_notify' AND tgrelid = 'outbox'::regclass",
                &[],
            )
            .await?
            .is_some_and(|r| int(&r, 0, 0) > 0))
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
impl Conn for Server {
    fn keep_events(&self, on: bool) {
        self.events.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    async fn transaction<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        let mut tx = self.begin().await?;
        let r = f(&mut tx).await?;
        let appended = tx.appended();
        tx.commit().await?;
        if appended {
            self.appended.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(r)
    }

    fn appended(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

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

    fn changes(&self) -> Option<watch::Receiver<u64>> {
        let mut guard = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = self.listen();
        }
        guard.clone()
    }

    async fn outbox_changed(&self) -> Result<bool> {
        let mut tx = self.begin().await?;
        let mark = gammu::outbox_mark(&mut tx).await?;
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
}
