//! `smsgw outbox list|show|cancel|retry` and `smsgw inbox list`: the queues, by hand.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use smsgw::config::{Config, DEFAULT_PATH};
use smsgw::service::Service;

#[derive(Debug, Args)]
pub struct Common {
    /// The config file (names the storage).
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// What is waiting: route, parts, retries, last error, who holds it.
    List {
        #[command(flatten)]
        common: Common,
        /// Only messages retried at least once or due for more than ten minutes.
        #[arg(long)]
        stuck: bool,
    },
    /// One message in full.
    Show {
        #[command(flatten)]
        common: Common,
        /// The outbox ID (as `outbox list` shows it).
        id: i64,
    },
    /// Cancel a message: it moves to the sent items as Error, with who and when.
    Cancel {
        #[command(flatten)]
        common: Common,
        /// The outbox ID (as `outbox list` shows it).
        id: i64,
    },
    /// Send a message again now, with its retries reset.
    Retry {
        #[command(flatten)]
        common: Common,
        /// The outbox ID (as `outbox list` shows it).
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Received messages, newest first.
    List {
        #[command(flatten)]
        common: Common,
        /// Only since then, local time: `today`, `yesterday`, a time ago (`90m`, `2h`,
        /// `3d`, `1w`) or a date (`2026-12-01`, `2026-12-01 08:00`, `2026-12-01T08:00:00`).
        #[arg(long, value_parser = parse_since)]
        since: Option<String>,
    },
}

/// `--since` as people type it, as the local `YYYY-MM-DD HH:MM:SS` the storage compares.
fn parse_since(text: &str) -> Result<String, String> {
    use chrono::{Duration, Local, NaiveDate, NaiveDateTime, NaiveTime};
    let t = text.trim();
    let fmt = |d: NaiveDateTime| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let midnight = |d: NaiveDate| fmt(d.and_time(NaiveTime::MIN));
    let today = Local::now().date_naive();
    match t.to_ascii_lowercase().as_str() {
        "today" => return Ok(midnight(today)),
        "yesterday" => return Ok(midnight(today - Duration::days(1))),
        _ => {}
    }
    if let Some(unit) = t.chars().last().filter(|c| "smhdw".contains(*c)) {
        if let Ok(n) = t[..t.len() - 1].parse::<i64>() {
            let secs = n.saturating_mul(match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => 604_800,
            });
            let ago = Duration::try_seconds(secs).ok_or("too far back")?;
            return Ok(fmt(Local::now().naive_local() - ago));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(midnight(d));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(fmt(d));
        }
    }
    Err(format!(
        "{t:?} is not a date: use today, yesterday, a time ago (90m, 2h, 3d, 1w) or YYYY-MM-DD[ HH:MM[:SS]]"
    ))
}

fn storage(
    common: &Common,
) -> Result<(tokio::runtime::Runtime, std::sync::Arc<dyn Service>), ExitCode> {
    let cfg = Config::load(&common.config).map_err(|e| {
        eprintln!("smsgw: {e}");
        ExitCode::from(2)
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("smsgw: {e}");
            ExitCode::FAILURE
        })?;
    let s = rt.block_on(smsgw::backends::open(&cfg)).map_err(|e| {
        eprintln!("smsgw: storage: {e}");
        ExitCode::from(3)
    })?;
    Ok((rt, s))
}

fn who() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| format!("uid {}", nix::unistd::getuid()))
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("smsgw: {e}");
    ExitCode::from(3)
}

pub fn outbox(cmd: OutboxCommand) -> anyhow::Result<ExitCode> {
    let common = match &cmd {
        OutboxCommand::List { common, .. }
        | OutboxCommand::Show { common, .. }
        | OutboxCommand::Cancel { common, .. }
        | OutboxCommand::Retry { common, .. } => common,
    };
    let (rt, s) = match storage(common) {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    Ok(match &cmd {
        OutboxCommand::List { .. } | OutboxCommand::Show { .. } => {
            let stuck = matches!(cmd, OutboxCommand::List { stuck: true, .. });
            let all = match rt.block_on(s.list_outbox(stuck)) {
                Ok(a) => a,
                Err(e) => return Ok(fail(e)),
            };
            let chosen: Vec<_> = match &cmd {
                OutboxCommand::Show { id, .. } => all.into_iter().filter(|e| e.id == *id).collect(),
                _ => all,
            };
            if let OutboxCommand::Show { id, .. } = &cmd {
                if chosen.is_empty() {
                    eprintln!("smsgw: no message {id} in the outbox");
                    return Ok(ExitCode::FAILURE);
                }
            }
            if common.json {
                println!("{}", serde_json::to_string_pretty(&chosen)?);
            } else if matches!(cmd, OutboxCommand::Show { .. }) {
                let e = &chosen[0];
                let last_error = match (&e.last_error, e.status_code) {
                    (Some(why), _) => why.clone(),
                    (None, -1) => "none".to_string(),
                    (None, code) => format!("code {code}"),
                };
                println!("ID: {}\nTo: {}\nRoute: {}\nParts: {}\nRetries: {}\nPriority: {}\nQueued: {}\nNot before: {}\nLeased until: {}\nLast error: {}\nHeld by: {}\nText: {}",
                    e.id, e.destination, if e.route.is_empty() { "any" } else { &e.route }, e.parts, e.retries, e.priority, e.inserted, e.send_after, e.lease_until, last_error, e.claimed_by.as_deref().unwrap_or("nobody"), e.text);
            } else {
                println!(
                    "{:>6}  {:<16} {:<10} {:>5} {:>7}  {:<19}  {:>5}  TEXT",
                    "ID", "TO", "ROUTE", "PARTS", "RETRIES", "QUEUED", "ERROR"
                );
                for e in &chosen {
                    let text: String = e
                        .text
                        .chars()
                        .take(40)
                        .collect::<String>()
                        .replace('\n', " ");
                    println!(
                        "{:>6}  {:<16} {:<10} {:>5} {:>7}  {:<19}  {:>5}  {text}",
                        e.id,
                        e.destination,
                        if e.route.is_empty() { "any" } else { &e.route },
                        e.parts,
                        e.retries,
                        e.inserted,
                        e.status_code
                    );
                }
            }
            ExitCode::SUCCESS
        }
        OutboxCommand::Cancel { id, .. } => {
            let reason = format!(
                "cancelled by {} at {}",
                who(),
                chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
            );
            match rt.block_on(s.cancel_outbox(*id, &reason)) {
                Ok(true) => {
                    println!("Message {id} {reason}");
                    ExitCode::SUCCESS
                }
                Ok(false) => {
                    eprintln!("smsgw: no message {id} in the outbox");
                    ExitCode::FAILURE
                }
                Err(e) => fail(e),
            }
        }
        OutboxCommand::Retry { id, .. } => match rt.block_on(s.retry_outbox(*id)) {
            Ok(true) => {
                println!("Message {id} will be sent again now");
                ExitCode::SUCCESS
            }
            Ok(false) => {
                eprintln!("smsgw: no message {id} in the outbox");
                ExitCode::FAILURE
            }
            Err(e) => fail(e),
        },
    })
}

pub fn inbox(cmd: InboxCommand) -> anyhow::Result<ExitCode> {
    let InboxCommand::List { common, since } = cmd;
    let (rt, s) = match storage(&common) {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let rows = match rt.block_on(s.list_inbox(since.as_deref())) {
        Ok(r) => r,
        Err(e) => return Ok(fail(e)),
    };
    if common.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{:>6}  {:<19}  {:<16} {:<10} TEXT",
            "ID", "RECEIVED", "FROM", "PHONE"
        );
        for r in &rows {
            let text: String = r
                .text
                .chars()
                .take(50)
                .collect::<String>()
                .replace('\n', " ");
            println!(
                "{:>6}  {:<19}  {:<16} {:<10} {text}",
                r.id, r.received, r.sender, r.phone
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_what_people_type_and_refuses_the_rest() {
        let today = chrono::Local::now().date_naive();
        assert_eq!(
            parse_since("yesterday").unwrap(),
            format!("{} 00:00:00", today - chrono::Duration::days(1))
        );
        assert_eq!(parse_since("today").unwrap(), format!("{today} 00:00:00"));
        assert_eq!(parse_since("2026-12-01").unwrap(), "2026-12-01 00:00:00");
        assert_eq!(
            parse_since("2026-12-01T08:30").unwrap(),
            "2026-12-01 08:30:00"
        );
        assert_eq!(
            parse_since("2026-12-01 08:30:05").unwrap(),
            "2026-12-01 08:30:05"
        );
        let two_hours = parse_since("2h").unwrap();
        assert!(two_hours.len() == 19 && two_hours.as_str() < parse_since("1m").unwrap().as_str());
        for bad in ["2026-13-45", "last week", "", "h", "12x"] {
            assert!(parse_since(bad).is_err(), "{bad:?} accepted");
        }
    }
}
