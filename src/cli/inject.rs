//! `smsgw inject`: queue a message, like `gammu-smsd-inject`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use smsgw::compose::{self, InjectOptions};
use smsgw::config::{Config, DEFAULT_PATH};
use smsgw::pdu::Validity;

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPER")]
enum MessageType {
    /// A text message.
    Text,
}

/// Options of `smsgw inject`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints `Written message with ID <id>`. Exit codes as gammu-smsd-inject: 1 the message is not valid, 2 the config is not usable, 3 the storage failed."
)]
pub struct InjectArgs {
    /// The config file (for the storage and the daemon's control socket).
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Message type (Gammu's TEXT).
    #[arg(value_enum, ignore_case = true)]
    kind: MessageType,
    /// Recipient: +international or national digits.
    number: String,
    /// The text; read from standard input when left out (one trailing newline dropped).
    #[arg(long)]
    text: Option<String>,
    /// Send as UCS-2 even when the text fits the GSM 7-bit alphabet.
    #[arg(long)]
    unicode: bool,
    /// Flash message (class 0).
    #[arg(long)]
    flash: bool,
    /// Ask for a status report.
    #[arg(long)]
    report: bool,
    /// Validity: HOUR, 6HOURS, DAY, 3DAYS, WEEK, MAX, or e.g. 30m, 2h, 3d, 1w.
    #[arg(long)]
    validity: Option<Validity>,
    /// Refuse texts longer than this many characters.
    #[arg(long = "len")]
    max_chars: Option<usize>,
    /// Only this phone (PhoneID) may send it (Gammu's SenderID).
    #[arg(long)]
    phone_id: Option<String>,
}

fn reference() -> u8 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos ^ std::process::id().rotate_left(8)) as u8
}

/// Wakes a running daemon so that it sends at once; no daemon is not an error.
fn poke(socket: &std::path::Path) {
    if let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) {
        let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
        let _ = s.write_all(b"wake\n");
    }
}

pub fn run(a: InjectArgs) -> anyhow::Result<ExitCode> {
    let MessageType::Text = a.kind;
    let cfg = match Config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Failed to read config: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let text = match a.text {
        Some(t) => t,
        None => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                eprintln!("Failed to create message: reading the text from standard input: {e}");
                return Ok(ExitCode::from(1));
            }
            if s.ends_with('\n') {
                s.pop();
            }
            s
        }
    };
    let options = InjectOptions {
        unicode: a.unicode,
        flash: a.flash,
        report: a.report,
        validity: a
            .validity
            .or(Some(cfg.sending.validity))
            .filter(|v| *v != Validity::None),
        max_chars: a.max_chars,
        phone_id: a.phone_id,
        creator_id: format!("smsgw {}", env!("CARGO_PKG_VERSION")),
        reference: reference(),
    };
    let msg = match compose::new_message(&a.number, &text, &options) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("Failed to create message: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let id = rt.block_on(async {
        let storage = smsgw::backends::open(&cfg).await?;
        let id = storage.create_outbox(&msg).await?;
        Ok::<_, smsgw::service::StorageError>(storage.describe_id(id))
    });
    match id {
        Ok(id) => {
            println!("Written message with ID {id}");
            poke(&cfg.daemon.control_socket);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("Failed to inject message: {e}");
            Ok(ExitCode::from(3))
        }
    }
}
