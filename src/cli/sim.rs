//! `smsgw sim`: the simulated modem on a pseudo-terminal, controlled from standard input
//! and, with `--control`, from a Unix socket (for scripts and services without a terminal).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use smsgw::sim::{Dialect, Sim, SimConfig, DIALECTS};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{signal, SignalKind};

/// Options of `smsgw sim`.
#[derive(Debug, Args)]
#[command(after_help = "\
Commands on standard input or the --control socket, one a line:
  sms FROM TEXT      a message arrives (split into parts when long)
  deliver HEX        a PDU (with SMSC part) arrives
  ring NUMBER        an incoming call
  unplug             drop the line; the device comes back on a new pseudo-terminal
  hang / resume      stop / start answering
  fail N [CODE]      the next N sends fail with +CMS ERROR: CODE (default 500)
  network on|off     registered or not (sends fail with +CMS ERROR: 331)
  status             what was sent and what is stored
SIGUSR1 delivers a test message; SIGTERM or SIGINT stop the modem. The end of standard
input (`smsgw sim </dev/null &`, a service) only ends reading it: the modem serves on.
Without a terminal:
  smsgw sim --link /tmp/modem --control /tmp/sim.sock </dev/null &
  smsgw sim --control /tmp/sim.sock --tell 'sms +48600111222 Hello'")]
pub struct SimArgs {
    /// Also make this symlink to the device (kept pointing at it after a reset).
    #[arg(long)]
    link: Option<PathBuf>,
    /// Also take commands on this Unix socket (one a line; each answer goes back on the
    /// connection that asked).
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// Do not start a modem: send this command to the one running with `--control PATH`,
    /// print its answer and exit (1 when the answer is an error or usage).
    #[arg(long, value_name = "COMMAND", requires = "control")]
    tell: Option<String>,
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
    /// Refuse PDU mode (AT+CMGF=0): text mode only, as some devices are.
    #[arg(long)]
    text_only: bool,
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
    /// Speak a vendor's dialect: its identity, the unsolicited noise it drops into answers,
    /// its line ends and quirks, its profile's init commands (huawei-e173, huawei-e3372,
    /// zte-mf190, quectel-ec25, quectel-bg96, simcom-sim800, simcom-sim7600, sierra-mc7304,
    /// telit-le910, ublox-sara, cinterion-ehs6, siemens-mc35i, wavecom-fastrack).
    #[arg(long, value_name = "NAME", value_parser = dialect_name)]
    profile: Option<&'static Dialect>,
    /// The modem's IMEI (AT+CGSN), to try phones bound with device = "imei:...".
    #[arg(long, default_value = "490154203237518")]
    imei: String,
    /// The SIM's IMSI (AT+CIMI).
    #[arg(long, default_value = "260011234567890")]
    imsi: String,
    /// The SIM's ICCID (AT+CCID).
    #[arg(long, default_value = "8948011234567890123")]
    iccid: String,
}

/// A `--profile` name.
fn dialect_name(name: &str) -> Result<&'static Dialect, String> {
    Dialect::named(name).ok_or_else(|| {
        let names: Vec<&str> = DIALECTS.iter().map(|d| d.name).collect();
        format!("no dialect {name:?}; there are {}", names.join(", "))
    })
}

/// `--tell`: one command to a running simulator.
fn tell(control: &std::path::Path, line: &str) -> anyhow::Result<ExitCode> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(control).with_context(|| {
        format!(
            "no simulator listens on {} (start one with smsgw sim --control {0})",
            control.display()
        )
    })?;
    writeln!(s, "{}", line.trim())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    print!("{answer}");
    let failed =
        answer.starts_with("error") || answer.starts_with("usage") || answer.starts_with("unknown");
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub fn run(a: SimArgs) -> anyhow::Result<ExitCode> {
    if let (Some(line), Some(control)) = (&a.tell, &a.control) {
        return tell(control, line);
    }
    let mut cfg = SimConfig {
        pin: a.pin,
        echo: !a.no_echo,
        echo_stuck: a.echo_stuck,
        huawei: a.huawei,
        cpin_no_ok: a.cpin_no_ok,
        direct_only: a.direct,
        text_only: a.text_only,
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
        imei: a.imei,
        imsi: a.imsi,
        iccid: a.iccid,
        ..SimConfig::default()
    };
    if let Some(d) = a.profile {
        d.apply(&mut cfg);
        cfg.huawei |= a.huawei;
        cfg.cpin_no_ok |= a.cpin_no_ok;
    }
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
    let code = rt.block_on(serve(cfg, a.link, a.control));
    // A read of standard input in progress is not waited for.
    rt.shutdown_timeout(Duration::from_millis(100));
    code
}

/// Prints a line; a closed or full standard output does not stop the modem.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Serves one connection of the control socket: each line is a command, its answer goes
/// back.
async fn control_client(sim: Sim, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let answer = control(&sim, &line);
        if write
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
}

async fn serve(
    cfg: SimConfig,
    link: Option<PathBuf>,
    control_path: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    // Signal handlers first: a client may signal as soon as the path is printed.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let sim = Sim::new(cfg);
    let handle = sim
        .attach_pty(link.clone())
        .context("opening a pseudo-terminal")?;
    let path = handle.path().unwrap_or_default();
    let listener = match &control_path {
        Some(p) => {
            // A socket left by an earlier run that was killed.
            if std::fs::symlink_metadata(p)
                .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            {
                let _ = std::fs::remove_file(p);
            }
            Some(
                UnixListener::bind(p)
                    .with_context(|| format!("--control: cannot listen on {}", p.display()))?,
            )
        }
        None => None,
    };
    match &link {
        Some(l) => say(&format!(
            "Simulated modem on {} (link {})",
            path.display(),
            l.display()
        )),
        None => say(&format!("Simulated modem on {}", path.display())),
    }
    let mut watch = handle.watch();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut test_messages = 0u32;
    loop {
        tokio::select! {
            accepted = async { listener.as_ref()?.accept().await.ok() }, if listener.is_some() => {
                if let Some((stream, _)) = accepted {
                    tokio::spawn(control_client(sim.clone(), stream));
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = usr1.recv() => {
                test_messages += 1;
                if let Err(e) = sim.deliver_text("+48700000000", &format!("Test message {test_messages} from the simulated network"), test_messages as u8) {
                    say(&format!("error: {e}"));
                }
            }
            changed = watch.changed() => {
                if changed.is_err() {
                    break;
                }
                let p = watch.borrow_and_update().clone();
                match p {
                    Some(p) => say(&format!("Simulated modem back on {}", p.display())),
                    None => say("Simulated modem gone (unplugged or reset)"),
                }
            }
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(l)) => {
                    let answer = control(&sim, &l);
                    if !answer.is_empty() {
                        say(&answer);
                    }
                }
                // End of input (or none at all): the modem serves on until a signal.
                Ok(None) | Err(_) => stdin_open = false,
            },
        }
    }
    if let Some(l) = link {
        let _ = std::fs::remove_file(l);
    }
    if let Some(p) = control_path {
        let _ = std::fs::remove_file(p);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one command line; returns its answer (empty for none).
fn control(sim: &Sim, line: &str) -> String {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    match word {
        "" => String::new(),
        "sms" => match rest.split_once(char::is_whitespace) {
            Some((from, text)) => match sim.deliver_text(from, text, 0) {
                Ok(p) => format!("delivered {} part(s)", p.len()),
                Err(e) => format!("error: {e}"),
            },
            None => "usage: sms FROM TEXT".into(),
        },
        "deliver" => match smsgw::pdu::from_hex(rest) {
            Ok(_) => {
                sim.deliver(rest);
                "delivered".into()
            }
            Err(e) => format!("error: not a hex PDU: {e}"),
        },
        "ring" => {
            sim.ring(rest);
            "ringing".into()
        }
        "unplug" => {
            sim.unplug();
            "unplugged".into()
        }
        "hang" => {
            sim.set_hang(true);
            "hanging".into()
        }
        "resume" => {
            sim.set_hang(false);
            "answering".into()
        }
        "fail" => {
            let mut it = rest.split_whitespace();
            match (it.next().map(str::parse::<u32>), it.next().map(str::parse::<u16>).unwrap_or(Ok(500))) {
                (Some(Ok(n)), Ok(code)) => {
                    sim.fail_next_sends(n, code);
                    format!("the next {n} send(s) fail with +CMS ERROR: {code}")
                }
                _ => "usage: fail N [CODE]".into(),
            }
        }
        "network" => match rest {
            "on" => {
                sim.set_network(true);
                "network on".into()
            }
            "off" => {
                sim.set_network(false);
                "network off".into()
            }
            _ => "usage: network on|off".into(),
        },
        "status" => {
            let s = sim.snapshot();
            let mut out = format!("sent {} PDU(s); stored {} message(s); {} acknowledgement(s); connected: {}", s.sent.len(), s.stored.len(), s.acks, s.connected);
            for r in &s.sent {
                out.push_str(&format!("\n  MR {} to {}: {:?}", r.mr, r.to, r.text));
            }
            for (mem, i, stat, _) in &s.stored {
                out.push_str(&format!("\n  {mem} {i} stat {stat}"));
            }
            out
        }
        _ => format!("unknown command {word:?}: sms, deliver, ring, unplug, hang, resume, fail, network, status"),
    }
}
