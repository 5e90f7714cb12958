//! `smsgw ussd PHONE_ID CODE`: a USSD request (a prepaid balance query such as `*100#`)
//! through the running daemon's modem.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use smsgw::config::{Config, DEFAULT_PATH};

/// Options of `smsgw ussd`.
#[derive(Debug, Args)]
pub struct UssdArgs {
    /// The config file (names the daemon's control socket).
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// The phone (PhoneID) to ask through.
    phone: String,
    /// The code, digits with * and #, e.g. *100#.
    code: String,
    /// Also store the answer in the inbox, as Gammu does (class 127).
    #[arg(long)]
    store: bool,
}

pub fn run(a: UssdArgs) -> anyhow::Result<ExitCode> {
    let cfg = match Config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smsgw: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if a.code.is_empty()
        || !a
            .code
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
        || a.phone.contains(char::is_whitespace)
    {
        eprintln!("smsgw: a USSD code has only digits, * and # (e.g. *100#)");
        return Ok(ExitCode::from(1));
    }
    let mut s = match UnixStream::connect(&cfg.daemon.control_socket) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "smsgw: no daemon answers on {} ({e}): USSD goes through the running daemon",
                cfg.daemon.control_socket.display()
            );
            return Ok(ExitCode::from(3));
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(90)))?;
    writeln!(
        s,
        "ussd {} {}{}",
        a.phone,
        a.code,
        if a.store { " store" } else { "" }
    )?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
    match (v["answer"].as_str(), v["error"].as_str()) {
        (Some(answer), _) => {
            println!("{answer}");
            Ok(ExitCode::SUCCESS)
        }
        (_, Some(e)) => {
            eprintln!("smsgw: {e}");
            Ok(ExitCode::FAILURE)
        }
        _ => {
            eprintln!("smsgw: unexpected answer from the daemon: {line}");
            Ok(ExitCode::FAILURE)
        }
    }
}
