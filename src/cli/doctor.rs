//! `smsgw doctor`: what is on this machine, what the config points at, and what to fix.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use smsgw::config::{Config, StorageKind, DEFAULT_PATH};
use smsgw::modem::fleet::{self, Device};
use smsgw::modem::{Modem, ModemConfig};

/// Options of `smsgw doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The config file.
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Also send `AT` to serial ports that are not configured (GPS receivers and UPS links
    /// live on serial ports too, so this is off by default).
    #[arg(long)]
    probe: bool,
}

#[derive(Debug, Default)]
struct Port {
    dev: PathBuf,
    driver: String,
    usb: Option<fleet::Usb>,
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Serial ports with a real device behind them, from sysfs.
fn ports() -> Vec<Port> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/sys/class/tty") else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(device) = std::fs::canonicalize(e.path().join("device")) else {
            continue;
        };
        let driver = std::fs::read_link(device.join("driver"))
            .ok()
            .and_then(|d| d.file_name().map(|f| f.to_string_lossy().into_owned()))
            .unwrap_or_default();
        // serial8250 with no hardware behind it: skip the dozens of ttyS placeholders.
        if driver == "serial8250" && read(&e.path().join("type")) == "0" {
            continue;
        }
        let usb = fleet::usb_of(&name);
        out.push(Port {
            dev: Path::new("/dev").join(&name),
            driver,
            usb,
        });
    }
    out.sort_by(|a, b| a.dev.cmp(&b.dev));
    out
}

async fn probe(dev: &Path) -> String {
    let cfg = ModemConfig::new("probe", &dev.display().to_string());
    match Modem::open(cfg).await {
        Ok(mut m) => {
            let r = tokio::time::timeout(Duration::from_secs(3), m.command("AT")).await;
            m.close().await;
            match r {
                Ok(Ok(r)) if r.result.is_ok() => "answers AT".into(),
                _ => "no answer to AT".into(),
            }
        }
        Err(e) => format!("cannot open: {e}"),
    }
}

pub fn run(a: DoctorArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(doctor(a))
}

async fn doctor(a: DoctorArgs) -> anyhow::Result<ExitCode> {
    let mut fixes: Vec<String> = Vec::new();
    let cfg = match Config::load(&a.config) {
        Ok(c) => {
            println!("config {}: OK", a.config.display());
            Some(c)
        }
        Err(e) => {
            println!("config: {e}");
            fixes.push(format!("fix the config: {e}"));
            None
        }
    };
    let configured: Vec<String> = cfg
        .iter()
        .flat_map(|c| c.phones.iter().map(|p| p.device.clone()))
        .collect();

    println!("\nserial ports:");
    let found = ports();
    if found.is_empty() {
        println!("  none (is the modem plugged in? USB modems may need usb_modeswitch)");
    }
    for p in &found {
        let mut line = format!(
            "  {} ({})",
            p.dev.display(),
            if p.driver.is_empty() { "?" } else { &p.driver }
        );
        if let Some(u) = &p.usb {
            line.push_str(&format!(
                " USB {}:{} interface {} {}",
                u.vendor, u.product, u.interface, u.label
            ));
            if let Some(hint) =
                smsgw::modem::profile::at_port_hint(&u.vendor, &u.product, &u.interface)
            {
                line.push_str(&format!(" - {hint}"));
            }
        }
        for h in smsgw::modem::holders(&p.dev) {
            line.push_str(&format!(" - held by {} (PID {})", h.program, h.pid));
            if h.is_smsgw() {
                line.push_str(": the smsgw daemon");
            } else if h.program.contains("ModemManager") {
                fixes.push(format!(
                    "ModemManager holds {}: stop it (`systemctl disable --now ModemManager`) or add the udev rule in contrib/99-smsgw-modem.rules with this modem's ids",
                    p.dev.display()
                ));
            }
        }
        if a.probe && !configured.iter().any(|c| Path::new(c) == p.dev) {
            line.push_str(&format!(" - {}", probe(&p.dev).await));
        }
        println!("{line}");
    }

    let Some(cfg) = cfg else {
        return report(fixes);
    };
    println!("\nphones:");
    for p in &cfg.phones {
        if p.device == "sim" {
            println!("  {}: the built-in simulated modem", p.id);
            continue;
        }
        let bound = Device::parse(&p.device).ok().filter(Device::is_identity);
        if ["/dev/ttyUSB", "/dev/ttyACM"]
            .iter()
            .any(|n| p.device.starts_with(n))
        {
            fixes.push(format!(
                "phone {}: {} is a name the kernel gives in the order modems appear: after a re-plug or a reboot it can be another modem, or a port that is not the AT port. Use its /dev/serial/by-id/ link, or bind it by identity with device = \"imei:<IMEI>\" (`smsgw modems` lists them)",
                p.id, p.device
            ));
        }
        // A port in use is not opened (as root, TIOCEXCL would not even stop us, and the
        // answers would be stolen from its holder): say who holds it.
        let held = if bound.is_some() {
            Vec::new()
        } else {
            smsgw::modem::holders(Path::new(&p.device))
        };
        if !held.is_empty() {
            let ours = held.iter().any(smsgw::modem::Holder::is_smsgw);
            let why = smsgw::modem::OpenError::Busy {
                device: p.device.clone(),
                holders: held,
            };
            println!("  {}: {why}", p.id);
            if !ours {
                fixes.push(format!("phone {}: {why}", p.id));
            }
            continue;
        }
        let mut mc = ModemConfig::new(&p.id, &p.device);
        mc.baud = p.baud;
        mc.pin = p.pin.clone();
        mc.state_dir = cfg.daemon.state_dir.clone();
        mc.command_timeout = Duration::from_secs(p.command_timeout.min(5));
        let result = async {
            let mut m = match &bound {
                Some(wanted) => {
                    let m = fleet::find(wanted, &cfg.daemon.modem_search, &[], &mc).await?;
                    println!("  {}: {wanted} is on {}", p.id, m.config().device);
                    m
                }
                None => Modem::open(mc).await?,
            };
            let init = m.init().await;
            if let Err(e) = init {
                m.close().await;
                return Err(e);
            }
            let signal = m.signal().await;
            let reg = m.registration().await;
            let (_, name) = m.operator().await;
            let summary = format!(
                "{} {} (IMEI {}), PIN OK, signal {}, {}{}, messages in {:?}, new ones in {}",
                m.identity.manufacturer.clone().unwrap_or_default(),
                m.identity.model.clone().unwrap_or_default(),
                m.identity.imei.clone().unwrap_or_else(|| "?".into()),
                signal
                    .and_then(|s| s.dbm)
                    .map_or("unknown".to_string(), |d| format!("{d} dBm")),
                reg.map_or("registration unknown", |r| r.as_str()),
                name.map(|n| format!(" on {n}")).unwrap_or_default(),
                m.read_memories,
                m.receive_memory,
            );
            let weak = signal.and_then(|s| s.rssi).is_some_and(|r| r < 8);
            let unregistered = reg.is_some_and(|r| !r.is_registered());
            m.close().await;
            Ok::<_, smsgw::modem::ModemError>((summary, weak, unregistered))
        };
        match tokio::time::timeout(Duration::from_secs(60), result).await {
            Ok(Ok((summary, weak, unregistered))) => {
                println!("  {}: OK: {summary}", p.id);
                if weak {
                    fixes.push(format!("phone {}: the signal is weak: move the modem or use an antenna or USB extension", p.id));
                }
                if unregistered {
                    fixes.push(format!("phone {}: not registered to a network: check the SIM's service and coverage", p.id));
                }
            }
            Ok(Err(e)) => {
                println!("  {}: {e}", p.id);
                fixes.push(format!("phone {}: {e}", p.id));
            }
            Err(_) => {
                println!("  {}: no answer within a minute", p.id);
                fixes.push(format!(
                    "phone {}: the modem on {} does not answer: is it the AT port?",
                    p.id, p.device
                ));
            }
        }
    }
    if cfg.phones.is_empty() && cfg.transports.is_empty() {
        fixes.push("add a [[phone]] or a [[transport]] to the config".into());
    }

    if !cfg.transports.is_empty() {
        println!("\ntransports:");
    }
    for t in &cfg.transports {
        if let Err(e) = smsgw::transport::build(t, &cfg.transports, smsgw::transport::Secrets::Read)
        {
            println!("  {}: {e}", t.id);
            fixes.push(e);
            continue;
        }
        if t.kind != smsgw::config::TransportKind::Smpp {
            println!(
                "  {} ({:?}): settings OK (nothing is sent to check it)",
                t.id, t.kind
            );
            continue;
        }
        // An SMSC: bind and unbind (the settings were checked just above).
        let Ok(mut settings) =
            smsgw::transport::smpp::settings(t, smsgw::transport::password(t).unwrap_or_default())
        else {
            continue;
        };
        settings.response_timeout = settings
            .response_timeout
            .min(std::time::Duration::from_secs(10));
        match smsgw::smpp::session::Session::connect(&settings).await {
            Ok((s, _)) => {
                println!(
                    "  {} (SMPP {}): bound, the SMSC is {:?}",
                    t.id, settings.address, s.smsc_id
                );
                s.close();
            }
            Err(e) => {
                println!("  {} (SMPP {}): {e}", t.id, settings.address);
                fixes.push(format!("transport {}: {e}", t.id));
            }
        }
    }

    listeners(&cfg, &mut fixes);
    broker(&cfg, &mut fixes).await;

    println!("\nstorage:");
    match cfg.storage.kind {
        StorageKind::Null => println!("  null: nothing is stored"),
        StorageKind::Nav => match smsgw::backends::nav::Nav::connect(&cfg.storage) {
            Ok(nav) => {
                use smsgw::service::Service;
                match nav.init().await {
                    Ok(()) => match nav.outbox_depth().await {
                        Ok(n) => println!(
                            "  {}: NAV's profiles.smsq, {} alert(s) queued",
                            nav.label(),
                            n.unwrap_or(0)
                        ),
                        Err(e) => fixes.push(format!("storage: {e}")),
                    },
                    Err(e) => {
                        println!("  {}: {e}", nav.label());
                        fixes.push(format!("storage: {e}"));
                    }
                }
            }
            Err(e) => {
                println!("  {e}");
                fixes.push(format!("storage: {e}"));
            }
        },
        StorageKind::Files => {
            for (what, p) in [
                ("inbox", &cfg.storage.inbox_path),
                ("outbox", &cfg.storage.outbox_path),
                ("sent", &cfg.storage.sent_path),
                ("error", &cfg.storage.error_path),
            ] {
                match std::fs::metadata(p) {
                    Ok(m) if m.is_dir() => println!("  {what}: {}", p.display()),
                    _ => {
                        println!(
                            "  {what}: {} is missing (the daemon creates it)",
                            p.display()
                        );
                    }
                }
            }
        }
        StorageKind::Postgres | StorageKind::Mysql => {
            match smsgw::backends::sql::server::Server::connect(&cfg.storage) {
                Ok(db) => match db.inspect().await {
                    Ok(r) => {
                        println!(
                            "  {}: Gammu schema version {} ({}), times in {}",
                            db.label(),
                            r.version,
                            r.server,
                            r.time_zone
                        );
                        if !r.not_innodb.is_empty() {
                            fixes.push(format!("{}: tables {} are MyISAM (no transactions): ALTER TABLE <name> ENGINE=InnoDB", db.label(), r.not_innodb.join(", ")));
                        }
                        if cfg.storage.kind == StorageKind::Postgres && !r.notify_trigger {
                            fixes.push(format!("{}: the smsgw_outbox_notify trigger is missing (`smsgw db init` adds it); until then other programs' rows wait for the poll", db.label()));
                        }
                    }
                    Err(e) => {
                        println!("  {}: {e}", db.label());
                        fixes.push(format!("storage: {e}"));
                    }
                },
                Err(e) => {
                    println!("  {e}");
                    fixes.push(format!("storage: {e}"));
                }
            }
        }
        StorageKind::Sqlite => {
            let path = &cfg.storage.path;
            if !path.exists() {
                println!(
                    "  {}: missing (the daemon creates it; or `smsgw db init`)",
                    path.display()
                );
            } else {
                match smsgw::backends::sql::sqlite::Sqlite::open(path, cfg.storage.busy_timeout) {
                    Ok(db) => match db.inspect().await {
                        Ok(r) => {
                            println!(
                                "  {}: Gammu schema version {}, journal mode {}",
                                path.display(),
                                r.version,
                                r.journal_mode
                            );
                            if r.utc_defaults {
                                fixes.push(format!("{}: time defaults are UTC (Gammu 1.42's sqlite.sql); rows inserted without times wait for the UTC offset", path.display()));
                            }
                        }
                        Err(e) => {
                            println!("  {}: {e}", path.display());
                            fixes.push(format!("storage: {e}"));
                        }
                    },
                    Err(e) => {
                        println!("  {}: {e}", path.display());
                        fixes.push(format!("storage: {e}"));
                    }
                }
            }
        }
    }
    report(fixes)
}

/// `[amqp]`: the broker answers with these credentials, and the transport's queues (how
/// many messages wait, how many consumers read them).
async fn broker(cfg: &Config, fixes: &mut Vec<String>) {
    use lapin::options::QueueDeclareOptions;
    let a = &cfg.amqp;
    if !a.on() {
        return;
    }
    let shown = a.url_for_logs();
    println!("\nAMQP broker:");
    let connect = lapin::Connection::connect(&a.url, lapin::ConnectionProperties::default());
    let conn = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            println!("  {shown}: {e}");
            fixes.push(format!("[amqp] url {shown}: {e} (is the broker running there, and are the user, password and vhost right? `rabbitmqctl list_users`, `list_vhosts`)"));
            return;
        }
        Err(_) => {
            println!("  {shown}: no answer within 5 s");
            fixes.push(format!(
                "[amqp] url {shown}: no answer within 5 s (a firewall, or not AMQP on that port)"
            ));
            return;
        }
    };
    println!("  {shown}: connected");
    for flow in ["outbound", "inbound", "event"] {
        let q = a.queue(flow);
        let Ok(ch) = conn.create_channel().await else {
            break;
        };
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        match ch
            .queue_declare(q.as_str().into(), passive, Default::default())
            .await
        {
            Ok(info) => println!(
                "  {q}: {} message(s) waiting, {} consumer(s)",
                info.message_count(),
                info.consumer_count()
            ),
            Err(_) => println!("  {q}: not declared yet (the daemon declares it when it connects)"),
        }
    }
    let _ = conn.close(200, "smsgw doctor".into()).await;
    let host = a
        .url
        .split_once("://")
        .map(|(_, r)| r.rsplit_once('@').map_or(r, |(_, h)| h))
        .and_then(|h| h.split(['/', ':']).next())
        .unwrap_or_default();
    if a.url.starts_with("amqp://") && !matches!(host, "127.0.0.1" | "localhost" | "::1" | "[") {
        println!("  [amqp] url goes to {host} without TLS: the password and the messages cross the network in the clear (amqps:// encrypts them)");
    }
}

/// The faces' ports (`[http]`, `[metrics]`, `[smpp_server]`): free, or held by a running
/// smsgw that answers `/health` (SMPP: enquire_link); the TLS files; credentials sent in
/// the clear beyond this host.
fn listeners(cfg: &Config, fixes: &mut Vec<String>) {
    let wanted: Vec<(&str, &str)> = [
        ("[http] listen", cfg.http.listen.as_str()),
        ("[metrics] listen", cfg.metrics.listen.as_str()),
        ("[smpp_server] listen", cfg.smpp_server.listen.as_str()),
        (
            "[smpp_server] tls_listen",
            cfg.smpp_server.tls_listen.as_str(),
        ),
    ]
    .into_iter()
    .filter(|(_, l)| !l.is_empty())
    .collect();
    if wanted.is_empty() {
        return;
    }
    println!("\nlisteners:");
    for (key, listen) in wanted {
        match std::net::TcpListener::bind(listen) {
            Ok(_) => println!("  {key} {listen}: free"),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                if key.starts_with("[smpp_server] listen") && answers_smpp(listen) {
                    println!(
                        "  {key} {listen}: in use by the running smsgw (it answers enquire_link)"
                    );
                } else if key.starts_with("[smpp_server] tls") {
                    println!("  {key} {listen}: in use (the running smsgw's, if it is running)");
                } else if answers_as_smsgw(listen) {
                    println!("  {key} {listen}: in use by the running smsgw (it answers /health)");
                } else {
                    println!("  {key} {listen}: in use by another program");
                    fixes.push(format!("{key} {listen} is taken by another program (`ss -ltnp` shows which): free it or choose another port"));
                }
            }
            Err(e) => {
                println!("  {key} {listen}: {e}");
                fixes.push(format!("{key} {listen}: {e}"));
            }
        }
    }
    let s = &cfg.smpp_server;
    if let (false, Some(cert), Some(key)) = (s.tls_listen.is_empty(), &s.tls_cert, &s.tls_key) {
        match smsgw::face::http::tls::acceptor("[smpp_server]", cert, key) {
            Ok(_) => println!(
                "  SMPP over TLS: {} and {} make a certificate",
                cert.display(),
                key.display()
            ),
            Err(e) => {
                println!("  SMPP over TLS: {e}");
                fixes.push(e);
            }
        }
    }
    if !s.listen.is_empty()
        && !s
            .listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback())
    {
        println!("  [smpp_server] listen {} is reachable from other hosts: bind passwords go in the clear (tls_listen carries them encrypted)", s.listen);
    }
    if cfg.http.listen.is_empty() {
        return;
    }
    match (&cfg.http.tls_cert, &cfg.http.tls_key) {
        (Some(cert), Some(key)) => match smsgw::face::http::tls::acceptor("[http]", cert, key) {
            Ok(_) => println!(
                "  HTTPS: {} and {} make a certificate",
                cert.display(),
                key.display()
            ),
            Err(e) => {
                println!("  HTTPS: {e}");
                fixes.push(e);
            }
        },
        _ => {
            let local = cfg
                .http
                .listen
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|a| a.ip().is_loopback());
            if !local {
                fixes.push(format!("[http] listen {} is reachable from other hosts without TLS: passwords go in the clear; set tls_cert and tls_key, or listen on 127.0.0.1 behind a TLS proxy", cfg.http.listen));
            }
        }
    }
}

/// A connection to `listen` with a 2 s timeout for connecting and reading.
fn connect(listen: &str) -> Option<std::net::TcpStream> {
    let addr = listen.parse::<std::net::SocketAddr>().ok()?;
    let s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).ok()?;
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    Some(s)
}

/// Whether what listens on `listen` answers `GET /health` as smsgw does.
fn answers_as_smsgw(listen: &str) -> bool {
    use std::io::{Read, Write};
    let Some(mut s) = connect(listen) else {
        return false;
    };
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: smsgw\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = Vec::new();
    let _ = s.take(4096).read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    // The API's /health, or the metrics listener's 404 naming what smsgw serves.
    answer.contains("\"storage\"") || answer.contains("smsgw serves")
}

/// Whether what listens on `listen` answers an SMPP enquire_link (smsgw's SMPP server
/// answers one before a bind).
fn answers_smpp(listen: &str) -> bool {
    use std::io::{Read, Write};
    let Some(mut s) = connect(listen) else {
        return false;
    };
    let enquire = smsgw::smpp::pdu::Pdu::new(
        smsgw::smpp::pdu::cmd::ENQUIRE_LINK,
        1,
        smsgw::smpp::pdu::Body::EnquireLink,
    );
    let Ok(bytes) = enquire.encode() else {
        return false;
    };
    if s.write_all(&bytes).is_err() {
        return false;
    }
    let mut head = [0u8; 16];
    s.read_exact(&mut head).is_ok()
        && head[4..8] == smsgw::smpp::pdu::cmd::ENQUIRE_LINK_RESP.to_be_bytes()
}

fn report(fixes: Vec<String>) -> anyhow::Result<ExitCode> {
    if fixes.is_empty() {
        println!("\nnothing to fix");
        return Ok(ExitCode::SUCCESS);
    }
    println!("\nto fix:");
    for f in &fixes {
        println!("  - {f}");
    }
    Ok(ExitCode::FAILURE)
}
