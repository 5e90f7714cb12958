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
#[command(after_help = "\
gammu-smsd-inject's own forms work too: smsgw inject TEXT +48600100200 -text 'Hi' -unicode
-flash -report -validity DAY -len 400 -autolen 400 -maxsms 3 -16bit -smscnumber +48602951111
-textutf8 'Hi' -inputunicode, and -c FILE, -l, -L.

Without --len a long text is split into as many parts as it needs (gammu-smsd-inject would
cut it to one message). Prints `Written message with ID <id>`. Exit codes as
gammu-smsd-inject: 1 the message is not valid, 2 the config is not usable, 3 the storage
failed; 64 a wrong argument.")]
pub struct InjectArgs {
    /// The config file (for the storage and the daemon's control socket).
    #[arg(short, long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Message type (Gammu's TEXT).
    #[arg(value_enum, ignore_case = true)]
    kind: MessageType,
    /// Recipient: +international or national digits.
    number: String,
    /// The text, as `smsgw pdu encode NUMBER TEXT` takes it (the same as --text).
    #[arg(value_name = "TEXT", conflicts_with = "text")]
    text_arg: Option<String>,
    /// The text (Gammu: -text, -textutf8); read from standard input when neither this nor
    /// TEXT is given (one trailing newline dropped).
    #[arg(long, allow_hyphen_values = true)]
    text: Option<String>,
    /// Standard input is UTF-16 (Gammu's -inputunicode; big-endian unless a byte-order mark
    /// says otherwise).
    #[arg(long, conflicts_with = "text")]
    input_unicode: bool,
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
    /// Take at most N characters of the text and split them into as many parts as needed
    /// (Gammu's -len and -autolen).
    #[arg(long = "len", visible_alias = "autolen", value_name = "N")]
    take_chars: Option<usize>,
    /// Refuse a text that needs more than N parts (Gammu's -maxsms).
    #[arg(long, value_name = "N")]
    max_parts: Option<usize>,
    /// Tie the parts with a 16-bit reference (Gammu's -16bit).
    #[arg(long)]
    sixteen_bit: bool,
    /// Gammu's -smscnumber: accepted, but Gammu's outbox keeps no SMSC: the modem's is used
    /// (set it on the SIM, or `smsc` on the phone).
    #[arg(long, value_name = "NUMBER")]
    smsc: Option<String>,
    /// Only this phone (PhoneID) may send it (Gammu's SenderID).
    #[arg(long)]
    phone_id: Option<String>,
}

/// gammu-smsd-inject's options and what they are here: (Gammu's name, ours, takes a value).
const GAMMU_OPTIONS: &[(&str, &str, bool)] = &[
    ("-text", "--text", true),
    ("-textutf8", "--text", true),
    ("-inputunicode", "--input-unicode", false),
    ("-unicode", "--unicode", false),
    ("-flash", "--flash", false),
    ("-report", "--report", false),
    ("-validity", "--validity", true),
    ("-len", "--len", true),
    ("-maxlen", "--len", true),
    ("-autolen", "--len", true),
    ("-maxsms", "--max-parts", true),
    ("-16bit", "--sixteen-bit", false),
    ("-smscnumber", "--smsc", true),
    ("-v", "--version", false),
];

/// gammu-smsd-inject's options that do nothing here (logging is always off for inject).
const GAMMU_IGNORED: &[&str] = &["-l", "--use-log", "-L", "--no-use-log"];

/// Rewrites gammu-smsd-inject's single-dash options (`-text "hi"`, `-unicode`, `-len 400`,
/// case as Gammu: any) into ours (`--text=hi`, ...), so that one parser reads both. A value
/// is joined with `=` so that a text starting with `-` stays a text. `args` are the
/// arguments after `inject`.
pub fn gammu_args(args: &[std::ffi::OsString]) -> Result<Vec<std::ffi::OsString>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(word) = a.to_str() else {
            out.push(a.clone());
            continue;
        };
        let lower = word.to_ascii_lowercase();
        if GAMMU_IGNORED.contains(&word) {
            continue;
        }
        if let Some((_, ours, value)) = GAMMU_OPTIONS.iter().find(|(g, ..)| *g == lower) {
            if !*value {
                out.push(ours.into());
                continue;
            }
            let Some(v) = it.next() else {
                return Err(format!("{word} needs a value"));
            };
            let mut joined = std::ffi::OsString::from(format!("{ours}="));
            joined.push(v);
            out.push(joined);
            continue;
        }
        // A single-dash word we do not know: say it is Gammu's and not supported, rather
        // than let clap read it as a bundle of short options.
        if word.len() > 2 && word.starts_with('-') && !word.starts_with("--") {
            return Err(match lower.as_str() {
                "-enablevoice" | "-disablevoice" | "-enablefax" | "-disablefax"
                | "-enableemail" | "-disableemail" | "-voidsms" | "-replacemessages"
                | "-replacefile" | "-smscset" | "-reply" | "-sender" => {
                    format!("gammu-smsd-inject's {word} is not supported by smsgw inject")
                }
                _ => format!("unknown option {word} (see smsgw inject --help)"),
            });
        }
        out.push(a.clone());
    }
    Ok(out)
}

/// Reads standard input; UTF-16 with `input_unicode` (Gammu's -inputunicode).
fn read_stdin(input_unicode: bool) -> std::io::Result<String> {
    if !input_unicode {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s);
    }
    let mut b = Vec::new();
    std::io::stdin().read_to_end(&mut b)?;
    let (little, body) = match b.as_slice() {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    if body.len() % 2 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "-inputunicode: standard input has an odd number of bytes: not UTF-16",
        ));
    }
    let units = body.chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("-inputunicode: not UTF-16: {e}"),
            )
        })
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
    let text = match a.text.or(a.text_arg) {
        Some(t) => t,
        None => match read_stdin(a.input_unicode) {
            Ok(mut s) => {
                if s.ends_with('\n') {
                    s.pop();
                }
                s
            }
            Err(e) => {
                eprintln!("Failed to create message: reading the text from standard input: {e}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    if a.smsc.is_some() {
        eprintln!("smsgw inject: note: -smscnumber is not kept (Gammu's outbox has no SMSC): the modem's SMSC sends it");
    }
    // A config without phones or transports queues for a daemon elsewhere: any id goes.
    let routes_known = !cfg.phones.is_empty() || !cfg.transports.is_empty();
    if let Some(id) = a.phone_id.as_ref().filter(|_| routes_known) {
        if !cfg.phones.iter().any(|p| &p.id == id) && !cfg.transports.iter().any(|t| &t.id == id) {
            let known = cfg.route_ids();
            eprintln!(
                "Failed to create message: --phone-id {id:?} is no phone or transport of {} (known: {})",
                a.config.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            );
            return Ok(ExitCode::from(1));
        }
    }
    let options = InjectOptions {
        unicode: a.unicode,
        flash: a.flash,
        report: a.report,
        validity: a
            .validity
            .or(Some(cfg.sending.validity))
            .filter(|v| *v != Validity::None),
        take_chars: a.take_chars,
        max_parts: a.max_parts,
        phone_id: a.phone_id,
        creator_id: format!("smsgw {}", env!("CARGO_PKG_VERSION")),
        reference: compose::new_reference(),
        sixteen_bit: a.sixteen_bit,
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
