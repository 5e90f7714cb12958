//! `smsgw sim`: the simulated modem on a pseudo-terminal, controlled from standard input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use smsgw::sim::{Sim, SimConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::signal::unix::{signal, SignalKind};

/// Options of `smsgw sim`.
#[derive(Debug, Args)]
#[command(after_help = "\
Commands on standard input, one a line:
  sms FROM TEXT      a message arrives (split into parts when long)
  deliver HEX        a PDU (with SMSC part) arrives
  ring NUMBER        an incoming call
  unplug             drop the line; the device comes back on a new pseudo-terminal
  hang / resume      stop / start answering
  fail N [CODE]      the next N sends fail with +CMS ERROR: CODE (default 500)
  network on|off     registered or not (sends fail with +CMS ERROR: 331)
  status             what was sent and what is stored
SIGUSR1 delivers a test message; SIGTERM, SIGINT or end of input stop the modem.")]
pub struct SimArgs {
    /// Also make this symlink to the device (kept pointing at it after a reset).
    #[arg(long)]
    link: Option<PathBuf>,
    /// The SIM asks for this PIN (three wrong ones lock it).
    #[arg(long)]
    pin: Option<String>,
    /// File of PDUs (hex with SMSC part, one a line) stored on the SIM at start.
    #[arg(long)]
    inbox: Option<PathBuf>,
    /// Append every PDU the modem is asked to send to this file as a JSON line.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Start with echo off.
    #[arg(long)]
    no_echo: bool,
    /// ATE0 does not turn echo off.
    #[arg(long)]
    echo_stuck: bool,
    /// Huawei-like: \r\r\n line ends, ^RSSI noise, COMMAND NOT SUPPORT.
    #[arg(long)]
    huawei: bool,
    /// AT+CPIN? answers without a final OK.
    #[arg(long)]
    cpin_no_ok: bool,
    /// Only direct delivery (+CMT / +CDS), no storage of incoming messages.
    #[arg(long)]
    direct: bool,
    /// First storage index (0 or 1).
    #[arg(long, default_value_t = 1)]
    index_base: usize,
    /// Message slots per memory.
    #[arg(long, default_value_t = 30)]
    capacity: usize,
    /// The first N sends fail.
    #[arg(long, default_value_t = 0)]
    fail_sends: u32,
    /// +CMS ERROR code of failed sends.
    #[arg(long, default_value_t = 500)]
    fail_code: u16,
    /// Percent of sends that fail at random with a temporary +CMS ERROR (repeatable).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    fail_percent: u8,
    /// Not registered to a network.
    #[arg(long)]
    no_network: bool,
    /// Milliseconds before every answer.
    #[arg(long, default_value_t = 0)]
    reply_delay: u64,
    /// Extra milliseconds before the answer to a sent PDU.
    #[arg(long, default_value_t = 0)]
    send_delay: u64,
    /// Milliseconds until a requested status report arrives.
    #[arg(long, default_value_t = 100)]
    report_delay: u64,
    /// TP-ST of status reports (0 delivered, 64 failed...).
    #[arg(long, default_value_t = 0)]
    report_status: u8,
    /// Send a "pending" status report before the final one.
    #[arg(long)]
    report_pending: bool,
}

pub fn run(a: SimArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = SimConfig {
        pin: a.pin,
        echo: !a.no_echo,
        echo_stuck: a.echo_stuck,
        huawei: a.huawei,
        cpin_no_ok: a.cpin_no_ok,
        direct_only: a.direct,
        index_base: a.index_base,
        capacity: a.capacity,
        fail_sends: a.fail_sends,
        fail_code: a.fail_code,
        fail_percent: a.fail_percent,
        no_network: a.no_network,
        reply_delay: Duration::from_millis(a.reply_delay),
        send_delay: Duration::from_millis(a.send_delay),
        report_delay: Duration::from_millis(a.report_delay),
        report_status: a.report_status,
        report_pending_first: a.report_pending,
        record: a.record,
        ..SimConfig::default()
    };
    if let Some(path) = &a.inbox {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --inbox {}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let hex = line.trim();
            if hex.is_empty() || hex.starts_with('#') {
                continue;
            }
            if let Err(e) = smsgw::pdu::from_hex(hex) {
                anyhow::bail!("{}:{}: not a hex PDU: {e}", path.display(), i + 1);
            }
            cfg.inbox.push(hex.to_ascii_uppercase());
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(cfg, a.link))
}

async fn serve(cfg: SimConfig, link: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    // Signal handlers first: a client may signal as soon as the path is printed.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let sim = Sim::new(cfg);
    let handle = sim
        .attach_pty(link.clone())
        .context("opening a pseudo-terminal")?;
    let path = handle.path().unwrap_or_default();
    match &link {
        Some(l) => println!(
            "Simulated modem on {} (link {})",
            path.display(),
            l.display()
        ),
        None => println!("Simulated modem on {}", path.display()),
    }
    let mut watch = handle.watch();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut test_messages = 0u32;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = usr1.recv() => {
                test_messages += 1;
                if let Err(e) = sim.deliver_text("+48700000000", &format!("Test message {test_messages} from the simulated network"), test_messages as u8) {
                    eprintln!("sim: {e}");
                }
            }
            changed = watch.changed() => {
                if changed.is_err() {
                    break;
                }
                let p = watch.borrow_and_update().clone();
                match p {
                    Some(p) => println!("Simulated modem back on {}", p.display()),
                    None => println!("Simulated modem gone (unplugged or reset)"),
                }
            }
            line = lines.next_line() => match line {
                Ok(Some(l)) => control(&sim, &l),
                Ok(None) | Err(_) => break,
            },
        }
    }
    if let Some(l) = link {
        let _ = std::fs::remove_file(l);
    }
    Ok(ExitCode::SUCCESS)
}

fn control(sim: &Sim, line: &str) {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    match word {
        "" => {}
        "sms" => match rest.split_once(char::is_whitespace) {
            Some((from, text)) => match sim.deliver_text(from, text, 0) {
                Ok(p) => println!("delivered {} part(s)", p.len()),
                Err(e) => println!("error: {e}"),
            },
            None => println!("usage: sms FROM TEXT"),
        },
        "deliver" => match smsgw::pdu::from_hex(rest) {
            Ok(_) => {
                sim.deliver(rest);
                println!("delivered");
            }
            Err(e) => println!("error: not a hex PDU: {e}"),
        },
        "ring" => sim.ring(rest),
        "unplug" => sim.unplug(),
        "hang" => sim.set_hang(true),
        "resume" => sim.set_hang(false),
        "fail" => {
            let mut it = rest.split_whitespace();
            match (it.next().map(str::parse::<u32>), it.next().map(str::parse::<u16>).unwrap_or(Ok(500))) {
                (Some(Ok(n)), Ok(code)) => sim.fail_next_sends(n, code),
                _ => println!("usage: fail N [CODE]"),
            }
        }
        "network" => match rest {
            "on" => sim.set_network(true),
            "off" => sim.set_network(false),
            _ => println!("usage: network on|off"),
        },
        "status" => {
            let s = sim.snapshot();
            println!("sent {} PDU(s); stored {} message(s); {} acknowledgement(s); connected: {}", s.sent.len(), s.stored.len(), s.acks, s.connected);
            for r in &s.sent {
                println!("  MR {} to {}: {:?}", r.mr, r.to, r.text);
            }
            for (mem, i, stat, _) in &s.stored {
                println!("  {mem} {i} stat {stat}");
            }
        }
        _ => println!("unknown command {word:?}: sms, deliver, ring, unplug, hang, resume, fail, network, status"),
    }
}
