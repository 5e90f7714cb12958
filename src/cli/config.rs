//! `smsgw config check`: read a config the way the daemon does and say what is wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use smsgw::config::{Config, StorageKind, DEFAULT_PATH};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a config file: every error names the file, line and key. Exits 2 when it is
    /// not usable.
    Check(CheckArgs),
    /// Convert a gammu-smsd config (`/etc/gammu-smsdrc`) to smsgw's TOML, printed on
    /// standard output, with a comment for every key that could not be carried over.
    ImportGammu(ImportArgs),
    /// Convert NAV's smsd config (`smsd.conf`, and `db.conf` for the database) to smsgw's
    /// TOML with the `nav` storage, printed on standard output, with a comment for every key
    /// that could not be carried over.
    ImportNav(ImportNavArgs),
    /// Print an argon2 hash of the password read from standard input (one line), for
    /// `[[http.user]] password_hash`: the config then holds no password.
    HashPassword,
}

#[derive(Debug, Args)]
pub struct ImportNavArgs {
    /// NAV's smsd config.
    #[arg(default_value = "/etc/nav/smsd.conf")]
    file: PathBuf,
    /// NAV's database config (host, port, database, user; the password is not copied).
    #[arg(long, value_name = "FILE")]
    db_conf: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The gammu-smsd config [default: /etc/gammu-smsdrc].
    #[arg(value_name = "FILE", conflicts_with = "config")]
    file: Option<PathBuf>,
    /// The gammu-smsd config, as `gammu-smsd -c FILE` names it (the same as FILE).
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also write the systemd drop-in that lets the packaged unit write where the imported
    /// config keeps gammu-smsd's folders (ReadWritePaths, SupplementaryGroups)
    /// [default: /etc/systemd/system/smsgw.service.d/paths.conf].
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = smsgw::unit::DROPIN_PATH)]
    systemd_dropin: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The config file [default: /etc/smsgw/smsgw.toml].
    #[arg(value_name = "FILE", conflicts_with = "config")]
    file: Option<PathBuf>,
    /// The config file, as every other command takes it (the same as FILE).
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// List every key with its default and meaning instead.
    #[arg(long)]
    keys: bool,
}

/// After an import: what the packaged systemd unit needs for the imported config, written
/// as a drop-in when asked, else said on standard error.
fn unit_advice(toml: &str, dropin_file: Option<&std::path::Path>) -> ExitCode {
    let cfg = match Config::parse(toml, std::path::Path::new("imported.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smsgw: note: the imported config does not check here yet ({e}): fix it, then `smsgw config check` says more");
            return ExitCode::SUCCESS;
        }
    };
    let Some(dropin) = smsgw::unit::dropin(&cfg) else {
        return ExitCode::SUCCESS;
    };
    match dropin_file {
        Some(path) => {
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(path, &dropin));
            match written {
                Ok(()) => {
                    eprintln!(
                        "smsgw: wrote {}; run `systemctl daemon-reload`",
                        path.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("smsgw: cannot write {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            }
        }
        None => {
            eprintln!("smsgw: note: this config keeps writing outside /var/lib/smsgw and /run/smsgw, which the packaged systemd unit does not allow (ProtectSystem=strict). Add --systemd-dropin to write {}, or create it with:\n{dropin}", smsgw::unit::DROPIN_PATH);
            ExitCode::SUCCESS
        }
    }
}

/// FILE or `-c FILE`, else the default.
fn chosen(file: Option<PathBuf>, config: Option<PathBuf>, default: &str) -> PathBuf {
    file.or(config).unwrap_or_else(|| PathBuf::from(default))
}

pub fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::HashPassword => {
            let mut line = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut line) {
                eprintln!("smsgw: reading the password from standard input: {e}");
                return Ok(ExitCode::from(2));
            }
            let password = line.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                eprintln!("smsgw: no password on standard input (e.g. `read -rs p; echo \"$p\" | smsgw config hash-password`)");
                return Ok(ExitCode::from(2));
            }
            match smsgw::face::http::auth::hash_password(password) {
                Ok(h) => {
                    println!("{h}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("smsgw: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        ConfigCommand::ImportNav(a) => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
            };
            let smsd = read(&a.file);
            let db = a.db_conf.as_ref().map(read).transpose();
            match (smsd, db) {
                (Ok(smsd), Ok(db)) => {
                    print!(
                        "{}",
                        smsgw::import_nav::nav_to_toml(
                            &smsd,
                            db.as_deref(),
                            &a.file.display().to_string()
                        )
                    );
                    Ok(ExitCode::SUCCESS)
                }
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("smsgw: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        ConfigCommand::ImportGammu(a) => {
            let file = chosen(a.file, a.config, "/etc/gammu-smsdrc");
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    match smsgw::import::gammu_to_toml(&text, &file.display().to_string()) {
                        Ok(toml) => {
                            print!("{toml}");
                            Ok(unit_advice(&toml, a.systemd_dropin.as_deref()))
                        }
                        Err(e) => {
                            eprintln!("smsgw: {e}");
                            Ok(ExitCode::from(2))
                        }
                    }
                }
                Err(e) => {
                    eprintln!("smsgw: cannot read {}: {e}", file.display());
                    Ok(ExitCode::from(2))
                }
            }
        }
        ConfigCommand::Check(a) => {
            if a.keys {
                print!("{}", Config::describe_keys());
                return Ok(ExitCode::SUCCESS);
            }
            let file = chosen(a.file, a.config, DEFAULT_PATH);

            match Config::load(&file) {
                Ok(c) => {
                    let storage = match c.storage.kind {
                        StorageKind::Sqlite => format!("sqlite at {}", c.storage.path.display()),
                        StorageKind::Postgres | StorageKind::Mysql => {
                            // Reads the URL and the password source; connects nowhere.
                            let rt = tokio::runtime::Builder::new_current_thread()
                                .enable_all()
                                .build()?;
                            let _in_runtime = rt.enter();
                            match smsgw::backends::sql::server::Server::connect(&c.storage) {
                                Ok(s) => s.label().to_string(),
                                Err(e) => {
                                    eprintln!("smsgw: {}: {e}", file.display());
                                    return Ok(ExitCode::from(2));
                                }
                            }
                        }
                        StorageKind::Files => format!(
                            "files (outbox {}, inbox {})",
                            c.storage.outbox_path.display(),
                            c.storage.inbox_path.display()
                        ),
                        StorageKind::Null => "null".to_string(),
                        StorageKind::Nav => {
                            let rt = tokio::runtime::Builder::new_current_thread()
                                .enable_all()
                                .build()?;
                            let _in_runtime = rt.enter();
                            match smsgw::backends::nav::Nav::connect(&c.storage) {
                                Ok(s) => format!("NAV queue at {}", s.label()),
                                Err(e) => {
                                    eprintln!("smsgw: {}: {e}", file.display());
                                    return Ok(ExitCode::from(2));
                                }
                            }
                        }
                    };
                    if let Err(e) = smsgw::transport::check(&c, smsgw::transport::Secrets::Read) {
                        eprintln!("smsgw: {e}");
                        return Ok(ExitCode::from(2));
                    }
                    if c.phones.is_empty() && c.transports.is_empty() {
                        eprintln!("smsgw: warning: {}: no [[phone]] or [[transport]]: the daemon would have nothing to send or receive with (inject can still queue messages for a daemon elsewhere)", file.display());
                    }
                    let phones: Vec<&str> = c.phones.iter().map(|p| p.id.as_str()).collect();
                    let transports: Vec<&str> =
                        c.transports.iter().map(|t| t.id.as_str()).collect();
                    let list = |v: &[&str]| {
                        if v.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", v.join(", "))
                        }
                    };
                    println!(
                        "{}: OK: storage {storage}; {} phone(s){}{}",
                        file.display(),
                        phones.len(),
                        list(&phones),
                        if transports.is_empty() {
                            String::new()
                        } else {
                            format!("; {} transport(s){}", transports.len(), list(&transports))
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("smsgw: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}
