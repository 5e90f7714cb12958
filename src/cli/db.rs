//! `smsgw db init | check | prune | schema`: create or check the storage's schema (SQLite,
//! PostgreSQL, MySQL), delete old messages, print the schema's SQL.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use smsgw::backends::sql::server::Server;
use smsgw::backends::sql::sqlite::Sqlite;
use smsgw::config::{Config, StorageKind, DEFAULT_PATH};

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create Gammu's schema (version 17) and smsgw's tables in the configured database,
    /// or check and complete an existing one.
    Init(DbArgs),
    /// Check the configured database without changing it: schema version, tables, time
    /// defaults. Exits 3 when it cannot be used.
    Check(DbArgs),
    /// Delete inbox and sent items older than a number of days (e.g. `--older-than 90d`).
    Prune(PruneArgs),
    /// Print the SQL of the schema smsgw creates (Gammu's tables with local-time defaults,
    /// and smsgw's own), for a database administrator to run or compare.
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which database's SQL.
    #[arg(value_enum)]
    database: SchemaKind,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SchemaKind {
    Sqlite,
    Postgres,
    Mysql,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The config file.
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Age in days, written `90d` or `90`.
    #[arg(long, value_parser = parse_days)]
    older_than: u32,
    /// Only count what would be deleted.
    #[arg(long)]
    dry_run: bool,
}

fn parse_days(s: &str) -> Result<u32, String> {
    s.trim_end_matches('d')
        .parse()
        .map_err(|_| format!("{s:?} is not a number of days (e.g. 90d)"))
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The config file.
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
}

pub fn run(cmd: DbCommand) -> anyhow::Result<ExitCode> {
    let (args, change) = match &cmd {
        DbCommand::Init(a) => (a, true),
        DbCommand::Check(a) => (a, false),
        DbCommand::Prune(p) => return prune(p),
        DbCommand::Schema(s) => {
            use smsgw::backends::sql::{server, sqlite};
            let (gammu, ours) = match s.database {
                SchemaKind::Sqlite => (sqlite::GAMMU_SCHEMA, sqlite::SMSGW_SCHEMA),
                SchemaKind::Postgres => (server::PG_SCHEMA, server::PG_SMSGW_SCHEMA),
                SchemaKind::Mysql => (server::MYSQL_SCHEMA, server::MYSQL_SMSGW_SCHEMA),
            };
            print!("-- Gammu's tables (schema version 17), as smsgw creates them\n{gammu}\n-- smsgw's own tables\n{ours}");
            return Ok(ExitCode::SUCCESS);
        }
    };
    let cfg = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smsgw: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if cfg.storage.kind == StorageKind::Null {
        println!("storage is null: there is no database");
        return Ok(ExitCode::SUCCESS);
    }
    if matches!(cfg.storage.kind, StorageKind::Postgres | StorageKind::Mysql) {
        return server(&cfg, change);
    }
    let path = &cfg.storage.path;
    if !change && !path.exists() {
        eprintln!(
            "smsgw: no database at {} (`smsgw db init` creates it)",
            path.display()
        );
        return Ok(ExitCode::from(3));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let db = Sqlite::open(path, cfg.storage.busy_timeout)?;
        if change {
            db.prepare().await
        } else {
            db.inspect().await
        }
    });
    match report {
        Ok(r) => {
            println!(
                "{}: {} Gammu schema version {}, journal mode {}",
                path.display(),
                if r.created { "created with" } else { "has" },
                r.version,
                r.journal_mode
            );
            if r.utc_defaults {
                println!(
                    "warning: the time defaults are UTC (Gammu 1.42's sqlite.sql) but times are compared in local time; rows other programs insert without a SendingDateTime wait for the UTC offset. Let them set SendingDateTime, or recreate the tables with smsgw's schema (`smsgw db schema sqlite` prints it; `smsgw db init` creates it in a new database)."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("smsgw: {}: {e}", path.display());
            Ok(ExitCode::from(3))
        }
    }
}

/// `db init` / `db check` on PostgreSQL or MySQL.
fn server(cfg: &Config, change: bool) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let db = Server::connect(&cfg.storage)?;
        let label = db.label().to_string();
        let r = if change {
            db.prepare().await
        } else {
            db.inspect().await
        };
        Ok::<_, smsgw::service::StorageError>((label, r))
    });
    match result {
        Ok((label, Ok(r))) => {
            println!(
                "{label}: {} Gammu schema version {} ({}); times in {}",
                if r.created { "created with" } else { "has" },
                r.version,
                r.server,
                r.time_zone
            );
            if !r.not_innodb.is_empty() {
                println!("warning: tables {} are not InnoDB (Gammu's mysql.sql makes MyISAM tables): no transactions, so a crash can leave half-written rows. Convert each with ALTER TABLE <name> ENGINE=InnoDB", r.not_innodb.join(", "));
            }
            if db_is_postgres(cfg) && !r.notify_trigger {
                println!("warning: the smsgw_outbox_notify trigger is missing: rows inserted by other programs are found by polling (storage.poll_interval) instead of at once; `smsgw db init` adds it");
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok((label, Err(e))) => {
            eprintln!("smsgw: {label}: {e}");
            Ok(ExitCode::from(3))
        }
        Err(e) => {
            eprintln!("smsgw: {e}");
            Ok(ExitCode::from(3))
        }
    }
}

fn db_is_postgres(cfg: &Config) -> bool {
    cfg.storage.kind == StorageKind::Postgres
}

fn prune(p: &PruneArgs) -> anyhow::Result<ExitCode> {
    let cfg = match Config::load(&p.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smsgw: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let s = smsgw::backends::open(&cfg).await?;
        s.prune(p.older_than, p.dry_run).await
    });
    match result {
        Ok((inbox, sent)) => {
            let verb = if p.dry_run { "would delete" } else { "deleted" };
            println!(
                "{verb} {inbox} inbox and {sent} sent item(s) older than {} days",
                p.older_than
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("smsgw: {e}");
            Ok(ExitCode::from(3))
        }
    }
}
