//! `smsgw monitor`: the phones' status, from the running daemon's control socket, or from
//! the `phones` table (SQLite, PostgreSQL, MySQL) when no daemon answers locally.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use smsgw::config::{Config, StorageKind, DEFAULT_PATH};
use smsgw::daemon::status::{PhoneState, Status};

/// Options of `smsgw monitor` (gammu-smsd-monitor's, plus --json).
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The config file (names the control socket and the storage).
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// How many times to print; -1 for ever.
    #[arg(short = 'n', long = "loops", default_value_t = -1, allow_negative_numbers = true)]
    loops: i64,
    /// Seconds between prints.
    #[arg(short = 'd', long = "delay", default_value_t = 20)]
    delay: u64,
    /// One line per phone, separated by semicolons (gammu-smsd-monitor -C).
    #[arg(short = 'C', long = "csv", conflicts_with = "json")]
    csv: bool,
    /// The status as JSON (one object per print).
    #[arg(long)]
    json: bool,
}

/// The running daemon's status, from its control socket.
pub(super) fn from_daemon(cfg: &Config) -> Option<Status> {
    let mut s = UnixStream::connect(&cfg.daemon.control_socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"status\n").ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    serde_json::from_str(&line).ok()
}

fn phone_from_row(
    id: String,
    imei: String,
    imsi: String,
    numbers: [i64; 4],
    net: (String, String),
    fresh: bool,
) -> PhoneState {
    let [signal, battery, sent, received] = numbers;
    PhoneState {
        id,
        imei,
        imsi,
        signal: signal as i32,
        battery: battery as i32,
        network_code: net.0,
        network_name: net.1,
        sent: sent.max(0) as u64,
        received: received.max(0) as u64,
        failed: 0,
        state: if fresh {
            "connected (per phones table)".into()
        } else {
            "unknown (no recent update)".into()
        },
        error: None,
        ..PhoneState::default()
    }
}

/// The `phones` table of a PostgreSQL or MySQL database (a daemon on another host, too).
fn from_server(cfg: &Config) -> Result<Status, String> {
    use smsgw::backends::sql::server::Server;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let _in_runtime = rt.enter();
    let s = Server::connect(&cfg.storage).map_err(|e| e.to_string())?;
    let sql = format!(
        "SELECT \"ID\", \"IMEI\", \"IMSI\", \"Signal\", \"Battery\", \"NetCode\", \"NetName\", \"Sent\", \"Received\", CASE WHEN \"TimeOut\" >= {} THEN 1 ELSE 0 END FROM phones ORDER BY \"ID\"",
        s.dialect().now()
    );
    let rows = rt
        .block_on(s.query_text(&sql))
        .map_err(|e| format!("{}: {e}", s.label()))?;
    let text = |r: &[Option<String>], i: usize| r.get(i).cloned().flatten().unwrap_or_default();
    let num = |r: &[Option<String>], i: usize| text(r, i).parse::<i64>().unwrap_or(-1);
    Ok(Status {
        storage: "up".into(),
        phones: rows
            .iter()
            .map(|r| {
                phone_from_row(
                    text(r, 0),
                    text(r, 1),
                    text(r, 2),
                    [num(r, 3), num(r, 4), num(r, 7), num(r, 8)],
                    (text(r, 5), text(r, 6)),
                    num(r, 9) == 1,
                )
            })
            .collect(),
    })
}

fn from_table(cfg: &Config) -> Result<Status, String> {
    if matches!(cfg.storage.kind, StorageKind::Postgres | StorageKind::Mysql) {
        return from_server(cfg);
    }
    if cfg.storage.kind != StorageKind::Sqlite {
        return Err(
            "no daemon answers on the control socket and the storage keeps no phones table".into(),
        );
    }
    let c = rusqlite::Connection::open_with_flags(
        &cfg.storage.path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| format!("{}: {e}", cfg.storage.path.display()))?;
    let mut st = c
        .prepare("SELECT ID, IMEI, IMSI, Signal, Battery, NetCode, NetName, Sent, Received, TimeOut >= datetime('now', 'localtime') FROM phones ORDER BY ID")
        .map_err(|e| e.to_string())?;
    let phones = st
        .query_map([], |r| {
            Ok(phone_from_row(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                [r.get(3)?, r.get(4)?, r.get(7)?, r.get(8)?],
                (
                    r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                ),
                r.get::<_, bool>(9)?,
            ))
        })
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(Status {
        storage: "up".into(),
        phones,
    })
}

fn print(st: &Status, source: &str, a: &MonitorArgs) {
    let client = format!("smsgw {}", env!("CARGO_PKG_VERSION"));
    if a.json {
        let mut v = serde_json::to_value(st).unwrap_or_default();
        v["source"] = serde_json::Value::from(source);
        println!("{v}");
        return;
    }
    if a.csv {
        for p in &st.phones {
            println!(
                "{client};{};{};{};{};{};{};{};{}",
                p.id, p.imei, p.imsi, p.sent, p.received, p.failed, p.battery, p.signal
            );
        }
        return;
    }
    println!("Source: {source}");
    println!("Storage: {}", st.storage);
    for p in &st.phones {
        println!("Client: {client}");
        println!("PhoneID: {}", p.id);
        println!("State: {}", p.state);
        if !p.device.is_empty() {
            println!("Device: {}", p.device);
        }
        if let Some(e) = &p.error {
            println!("Error: {e}");
        }
        println!("IMEI: {}", p.imei);
        println!("IMSI: {}", p.imsi);
        println!("Sent: {}", p.sent);
        println!("Received: {}", p.received);
        println!("Failed: {}", p.failed);
        println!("Delivered: {}", p.delivered);
        println!("Undelivered: {}", p.undelivered);
        // Gammu's spelling, kept for scripts that parse it.
        println!("BatterPercent: {}", p.battery);
        println!("NetworkSignal: {}", p.signal);
        println!("Network: {} {}", p.network_code, p.network_name);
        if !p.balance.is_empty() {
            // Operators answer on several lines; monitor prints one line per field.
            let one_line = p.balance.split_whitespace().collect::<Vec<_>>().join(" ");
            println!("Balance: {one_line} (at {})", p.balance_at);
        }
        if !p.limits.is_empty() {
            println!("Limits: {}", p.limits);
        }
    }
    println!();
}

pub fn run(a: MonitorArgs) -> anyhow::Result<ExitCode> {
    let cfg = match Config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smsgw: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut n = 0i64;
    loop {
        let (st, source) = match from_daemon(&cfg) {
            Some(st) => (
                st,
                format!("daemon ({})", cfg.daemon.control_socket.display()),
            ),
            None => match from_table(&cfg) {
                Ok(st) => (
                    st,
                    format!(
                        "phones table of {} (no daemon answers on {})",
                        cfg.storage.path.display(),
                        cfg.daemon.control_socket.display()
                    ),
                ),
                Err(e) => {
                    eprintln!("smsgw: cannot get the status: {e}");
                    return Ok(ExitCode::from(3));
                }
            },
        };
        print(&st, &source, &a);
        let _ = std::io::stdout().flush();
        n += 1;
        if a.loops >= 0 && n >= a.loops {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(a.delay));
    }
}
