//! How the three databases' SQL differs, in one table per dialect: the local clock, times
//! as text, lists of row ids, locking, "insert unless there". The statements of
//! `gammu.rs` are written once with these; nothing else in them depends on the database.
//!
//! Times are stored as Gammu stores them: local wall-clock time without a zone, compared in
//! SQL against the database's own local now (never the host's clock).

use super::exec::Arg;

/// Which database, and how its SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    /// The local now, to the second.
    pub fn now(self) -> &'static str {
        match self {
            Dialect::Sqlite => "datetime('now', 'localtime')",
            Dialect::Postgres => "LOCALTIMESTAMP(0)",
            Dialect::Mysql => "NOW()",
        }
    }

    /// The local time of day (for `SendBefore`/`SendAfter`).
    pub fn time_of_day(self) -> &'static str {
        match self {
            Dialect::Sqlite => "time('now', 'localtime')",
            Dialect::Postgres => "LOCALTIME(0)",
            Dialect::Mysql => "CURTIME()",
        }
    }

    /// `expr` moved by `secs` seconds (our own numbers only: they are written into the SQL).
    pub fn shift(self, expr: &str, secs: i64) -> String {
        match self {
            Dialect::Sqlite => format!("datetime({expr}, '{secs:+} seconds')"),
            Dialect::Postgres => format!("({expr} + interval '{secs} seconds')"),
            Dialect::Mysql => format!("({expr} + INTERVAL {secs} SECOND)"),
        }
    }

    /// The local now moved by `secs` seconds.
    pub fn now_plus(self, secs: i64) -> String {
        self.shift(self.now(), secs)
    }

    /// A time column read as `YYYY-MM-DD HH:MM:SS` text.
    pub fn ts(self, col: &str) -> String {
        match self {
            // Stored that way already.
            Dialect::Sqlite => col.to_string(),
            Dialect::Postgres => format!("to_char({col}, 'YYYY-MM-DD HH24:MI:SS')"),
            Dialect::Mysql => format!("DATE_FORMAT({col}, '%Y-%m-%d %H:%i:%s')"),
        }
    }

    /// A `YYYY-MM-DD HH:MM:SS` parameter used as a time.
    pub fn ts_param(self) -> &'static str {
        match self {
            Dialect::Sqlite => "?",
            Dialect::Postgres => "CAST(? AS timestamp)",
            Dialect::Mysql => "CAST(? AS DATETIME)",
        }
    }

    /// Locks the rows a `SELECT` reads until the commit (SQLite's write transaction holds
    /// the whole database already).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres | Dialect::Mysql => " FOR UPDATE",
        }
    }

    /// What a claim's `SELECT` ends with. PostgreSQL locks only the rows it returns, so each
    /// daemon gets different ones. InnoDB locks every row the sorted scan reads, so SKIP
    /// LOCKED would hide the whole queue from the other daemons while one claims: MySQL
    /// picks without locking and lets the guarded update decide, as SQLite does.
    pub fn claim_lock(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite | Dialect::Mysql => "",
        }
    }

    /// How many candidates a claim of `limit` reads: spares on MySQL, where other claimers
    /// may win some of them (PostgreSQL's SKIP LOCKED hands each claimer its own; SQLite's
    /// write lock lets one claimer at a time pick).
    pub fn candidates(self, limit: usize) -> usize {
        match self {
            Dialect::Sqlite | Dialect::Postgres => limit,
            Dialect::Mysql => limit.saturating_mul(2).saturating_add(8),
        }
    }

    /// Whether `UPDATE ... RETURNING` says which rows an update changed (MySQL and MariaDB
    /// have no `UPDATE ... RETURNING`).
    pub fn update_returning(self) -> bool {
        match self {
            Dialect::Sqlite | Dialect::Postgres => true,
            Dialect::Mysql => false,
        }
    }

    /// A column a claim filters on but should not walk an index of: SQLite's planner would
    /// take the `SenderID` index and sort the whole outbox instead of walking
    /// `smsgw_outbox_order` and stopping at the first eligible row.
    pub fn unindexed(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("+{col}"),
            Dialect::Postgres | Dialect::Mysql => col.to_string(),
        }
    }

    /// `INSERT` that does nothing when the row's key is there already; `rest` is
    /// `table (cols) VALUES (...)`.
    pub fn insert_ignore(self, rest: &str) -> String {
        match self {
            Dialect::Sqlite => format!("INSERT OR IGNORE INTO {rest}"),
            Dialect::Postgres => format!("INSERT INTO {rest} ON CONFLICT DO NOTHING"),
            Dialect::Mysql => format!("INSERT IGNORE INTO {rest}"),
        }
    }

    /// `col` is one of `ids`: the SQL and its arguments. One argument holding the whole
    /// list where the database can read one (so the statement's text is the same for every
    /// batch and stays prepared), a placeholder each on MySQL.
    pub fn in_ids(self, col: &str, ids: &[i64]) -> (String, Vec<Arg>) {
        let list = |open: &str, close: &str| {
            let items: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!("{open}{}{close}", items.join(","))
        };
        match self {
            Dialect::Sqlite => (
                format!("{col} IN (SELECT value FROM json_each(?))"),
                vec![Arg::from(list("[", "]"))],
            ),
            Dialect::Postgres => (
                format!("{col} = ANY(CAST(? AS bigint[]))"),
                vec![Arg::from(list("{", "}"))],
            ),
            Dialect::Mysql if ids.is_empty() => ("1 = 0".to_string(), Vec::new()),
            Dialect::Mysql => (
                format!("{col} IN ({})", vec!["?"; ids.len()].join(", ")),
                ids.iter().map(|i| Arg::Int(*i)).collect(),
            ),
        }
    }

    /// Wakes the daemons listening for outbox rows (PostgreSQL's `NOTIFY`); `None` where
    /// the daemons poll.
    pub fn notify(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("SELECT pg_notify('smsgw_outbox', '')"),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// The order receipts were parked in (SQLite keeps the insertion order in `rowid`; the
    /// servers' second-precision `ReceivedAt` is what they have).
    pub fn arrival_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "\"ReceivedAt\", rowid",
            Dialect::Postgres | Dialect::Mysql => "\"ReceivedAt\"",
        }
    }

    /// The current schema, for `information_schema` lookups (the servers).
    pub fn schema_fn(self) -> &'static str {
        match self {
            Dialect::Sqlite => "'main'",
            Dialect::Postgres => "current_schema()",
            Dialect::Mysql => "DATABASE()",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
        }
    }
}
