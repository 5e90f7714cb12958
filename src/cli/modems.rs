//! `smsgw modems`: every serial port that answers AT, with the modem's and the SIM's
//! identity (what `device = "imei:..."` binds to), and which phone of the config it serves.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use smsgw::config::{Config, DEFAULT_PATH};
use smsgw::daemon::status::Status;
use smsgw::modem::fleet::{self, Device, Found, Port};
use smsgw::modem::{profile, ModemConfig};

/// Options of `smsgw modems`.
#[derive(Debug, Args)]
pub struct ModemsArgs {
    /// Where to look: a glob pattern of serial ports as a full path, repeatable (default: the config's
    /// [daemon] modem_search, else /dev/serial/by-id/*, /dev/ttyUSB*, /dev/ttyACM*).
    #[arg(long, value_name = "GLOB")]
    search: Vec<String>,
    /// The config file: its search patterns, and which phone each modem serves (read when
    /// it exists; given explicitly, it must).
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// Seconds a port has to answer AT before it is taken for something else (a GPS, a
    /// console, a modem's diagnostics port).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60))]
    timeout: u64,
    /// Print a JSON array, one object per port.
    #[arg(long)]
    json: bool,
}

/// One port as printed.
#[derive(Debug, Serialize)]
struct Row {
    port: String,
    /// The device node and the other names that lead to it.
    node: String,
    names: Vec<String>,
    /// `modem`, `in use`, `no answer` or `error`.
    state: &'static str,
    manufacturer: Option<String>,
    model: Option<String>,
    revision: Option<String>,
    imei: Option<String>,
    imsi: Option<String>,
    iccid: Option<String>,
    /// USB `vendor:product`, interface and name, for a USB port.
    usb: Option<String>,
    /// The vendor profile that applies (`smsgw.toml(5)`, "Vendor profiles").
    profile: Option<String>,
    /// The processes that have it open.
    held_by: Vec<String>,
    /// The configured phone it serves (bound by path or by identity).
    phone: Option<String>,
    error: Option<String>,
}

pub fn run(a: ModemsArgs) -> anyhow::Result<ExitCode> {
    let cfg = match &a.config {
        Some(path) => Some(Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?),
        None if std::path::Path::new(DEFAULT_PATH).exists() => Config::load(DEFAULT_PATH.as_ref())
            .map_err(|e| eprintln!("{e} (going on with the default search)"))
            .ok(),
        None => None,
    };
    let search = if !a.search.is_empty() {
        a.search.clone()
    } else if let Some(c) = &cfg {
        c.daemon.modem_search.clone()
    } else {
        fleet::DEFAULT_SEARCH
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    for s in &search {
        fleet::check_pattern(s).map_err(|e| anyhow::anyhow!("--search {e}"))?;
    }
    // What the running daemon found on the ports it holds (asked once).
    let daemon = cfg.as_ref().and_then(super::monitor::from_daemon);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ports = fleet::ports(&search);
    let mut probe_cfg = ModemConfig::new("probe", "");
    probe_cfg.command_timeout = Duration::from_secs(a.timeout);
    let mut rows = Vec::new();
    for port in &ports {
        let found = rt.block_on(fleet::probe(port, &probe_cfg));
        rows.push(row(port, found, cfg.as_ref(), daemon.as_ref(), a.timeout));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        if rows.is_empty() {
            println!(
                "no serial ports in {}: is the modem plugged in? USB modems in storage mode need usb_modeswitch",
                search.join(", ")
            );
        }
        for r in &rows {
            print(r);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn row(
    port: &Port,
    found: Found,
    cfg: Option<&Config>,
    daemon: Option<&Status>,
    timeout: u64,
) -> Row {
    let mut r = Row {
        port: port.path.display().to_string(),
        node: port.node.display().to_string(),
        names: port.names.iter().map(|n| n.display().to_string()).collect(),
        state: "modem",
        manufacturer: None,
        model: None,
        revision: None,
        imei: None,
        imsi: None,
        iccid: None,
        usb: None,
        profile: None,
        held_by: Vec::new(),
        phone: None,
        error: None,
    };
    let usb = port
        .node
        .file_name()
        .and_then(|n| fleet::usb_of(&n.to_string_lossy()));
    let known = usb
        .as_ref()
        .and_then(|u| profile::for_usb(&u.vendor, &u.product));
    if let Some(u) = &usb {
        let mut text = format!(
            "{}:{} interface {} {}",
            u.vendor, u.product, u.interface, u.label
        );
        if let Some(hint) = profile::at_port_hint(&u.vendor, &u.product, &u.interface) {
            text.push_str(&format!(" ({hint})"));
        }
        r.usb = Some(text.trim().to_string());
    }
    r.profile = known.map(|(p, _)| p.name.to_string());
    // A phone bound to one of the port's names.
    r.phone = cfg.and_then(|c| {
        c.phones
            .iter()
            .find(|p| {
                port.names
                    .iter()
                    .any(|n| n == std::path::Path::new(&p.device))
                    || std::fs::canonicalize(&p.device).is_ok_and(|d| d == port.node)
            })
            .map(|p| p.id.clone())
    });
    match found {
        Found::Modem(id) => {
            r.phone = r.phone.or_else(|| {
                cfg.and_then(|c| {
                    c.phones
                        .iter()
                        .find(|p| Device::parse(&p.device).is_ok_and(|d| d.matches(&id)))
                        .map(|p| p.id.clone())
                })
            });
            r.profile = Some(
                profile::for_manufacturer(id.manufacturer.as_deref())
                    .name
                    .into(),
            );
            r.manufacturer = id.manufacturer;
            r.model = id.model;
            r.revision = id.revision;
            r.imei = id.imei;
            r.imsi = id.imsi;
            r.iccid = id.iccid;
        }
        Found::Held(holders) => {
            r.state = "in use";
            r.held_by = holders
                .iter()
                .map(|h| format!("{} (PID {})", h.program, h.pid))
                .collect();
            // The daemon knows what it found there.
            if let Some(st) = daemon {
                if let Some(p) = st.phones.iter().find(|p| {
                    !p.device.is_empty()
                        && std::fs::canonicalize(&p.device).is_ok_and(|d| d == port.node)
                }) {
                    r.phone = Some(p.id.clone());
                    r.imei = Some(p.imei.clone()).filter(|s| !s.is_empty());
                    r.imsi = Some(p.imsi.clone()).filter(|s| !s.is_empty());
                }
            }
        }
        Found::Ours(phone) => {
            r.state = "in use";
            r.phone = Some(phone);
        }
        Found::Silent => {
            r.state = "no answer";
            r.error = Some(format!(
                "no answer to AT within {timeout} s: not an AT port (a GPS, a console, a modem's diagnostics or data port), or a modem that hangs; skipped"
            ));
        }
        Found::Failed(e) => {
            r.state = "error";
            r.error = Some(e);
        }
    }
    r
}

fn print(r: &Row) {
    let mut head = r.port.clone();
    if r.node != r.port {
        head.push_str(&format!(" -> {}", r.node));
    }
    if let Some(u) = &r.usb {
        head.push_str(&format!("\n  USB {u}"));
    }
    match r.state {
        "modem" => {
            let name = [&r.manufacturer, &r.model]
                .iter()
                .filter_map(|v| v.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            println!("{head}");
            println!(
                "  modem: {}{}",
                if name.is_empty() { "unknown" } else { &name },
                r.revision
                    .as_deref()
                    .map(|v| format!(", revision {v}"))
                    .unwrap_or_default()
            );
            println!(
                "  IMEI {}, IMSI {}, ICCID {}",
                r.imei.as_deref().unwrap_or("unknown"),
                r.imsi
                    .as_deref()
                    .unwrap_or("unknown (SIM locked or absent)"),
                r.iccid.as_deref().unwrap_or("unknown")
            );
            if let Some(p) = &r.profile {
                println!("  profile: {p}");
            }
            match &r.phone {
                Some(p) => println!("  serves phone {p}"),
                None => {
                    if let Some(imei) = &r.imei {
                        println!("  free: bind a phone with device = \"imei:{imei}\"");
                    } else {
                        println!("  free");
                    }
                }
            }
        }
        "in use" => {
            let by = if r.held_by.is_empty() {
                String::new()
            } else {
                format!(" by {}", r.held_by.join(", "))
            };
            let phone = r
                .phone
                .as_deref()
                .map(|p| format!(" (phone {p})"))
                .unwrap_or_default();
            println!("{head}\n  in use{by}{phone}: not probed");
            if let Some(imei) = &r.imei {
                println!(
                    "  IMEI {imei}, IMSI {} (as the daemon found it)",
                    r.imsi.as_deref().unwrap_or("unknown")
                );
            }
        }
        _ => println!("{head}\n  {}", r.error.as_deref().unwrap_or(r.state)),
    }
}
