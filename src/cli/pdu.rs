//! `smsgw pdu decode | encode | count`: the codec for people reading modem logs.

use std::fmt::Write as _;
use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use smsgw::pdu::{
    self, Address, Alphabet, ConcatRef, Dcs, DecodeOptions, Deliver, Direction, Encoding,
    MessageClass, Npi, Pdu, SmscPrefix, StatusReport, Submit, Ton, Udh, UserData, Validity,
};

#[derive(Debug, Subcommand)]
pub enum PduCommand {
    /// Print every field of a PDU, as `AT+CMGR`/`AT+CMGL` show it (SMSC part first).
    ///
    /// The type comes from TP-MTI: DELIVER, SUBMIT (a sent message the modem stored) or
    /// STATUS-REPORT. Exits 1 with the reason and octet when the PDU is malformed.
    Decode(DecodeArgs),
    /// Print the hex PDUs a modem is given to send TEXT to NUMBER (one line per part).
    Encode(EncodeArgs),
    /// Print how many parts and characters a text needs (like gammu-smsd-inject -autolen).
    Count(CountArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DirectionArg {
    /// From TP-MTI alone: 00 DELIVER, 01 SUBMIT, 10 STATUS-REPORT.
    Infer,
    /// SMSC to phone: DELIVER, SUBMIT-REPORT, STATUS-REPORT.
    ScToMs,
    /// Phone to SMSC: DELIVER-REPORT, SUBMIT, COMMAND.
    MsToSc,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The PDU in hex (spaces allowed); read from standard input when left out.
    hex: Option<String>,
    /// The hex is a bare TPDU, without the SMSC part in front.
    #[arg(long, conflicts_with = "auto_smsc")]
    tpdu: bool,
    /// Try with the SMSC part, then without (old phase-1 devices omit it).
    #[arg(long)]
    auto_smsc: bool,
    /// How to read TP-MTI.
    #[arg(long, value_enum, default_value = "infer")]
    direction: DirectionArg,
    /// Read past what the daemon reads past in messages a modem stored (user data shorter
    /// than TP-UDL says, a header flag with no user data), with a warning for each.
    #[arg(long)]
    lenient: bool,
    /// Print the fields as one JSON object (warnings in "warnings").
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Recipient: +international or national digits.
    number: String,
    /// Message text; read from standard input when neither this nor --text is given (one
    /// trailing newline dropped).
    #[arg(conflicts_with = "text_opt")]
    text: Option<String>,
    /// The text, as `smsgw inject` takes it (the same as TEXT).
    #[arg(
        long = "text",
        id = "text_opt",
        value_name = "TEXT",
        allow_hyphen_values = true
    )]
    text_opt: Option<String>,
    /// Use UCS-2 even when the text fits the GSM 7-bit alphabet.
    #[arg(long, conflicts_with = "binary")]
    unicode: bool,
    /// TEXT is hex of 8-bit data, sent with an 8-bit DCS.
    #[arg(long)]
    binary: bool,
    /// Flash message (class 0: shown at once, not stored).
    #[arg(long, conflicts_with = "class")]
    flash: bool,
    /// Message class 0-3.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    class: Option<u8>,
    /// Ask for a status (delivery) report.
    #[arg(long)]
    report: bool,
    /// Validity: none, max, HOUR, 6HOURS, DAY, 3DAYS, WEEK, or e.g. 30m, 2h, 3d, 1w.
    #[arg(long, default_value = "none")]
    validity: Validity,
    /// SMSC number to put in front; without it the PDU starts with 00 (the modem's SMSC).
    #[arg(long)]
    smsc: Option<String>,
    /// Concatenation reference for a multipart message (0-255, or 0-65535 with --sixteen-bit).
    #[arg(long, default_value_t = 0)]
    reference: u16,
    /// Use the 16-bit concatenation reference.
    #[arg(long)]
    sixteen_bit: bool,
    /// Print each part as the AT+CMGS command and PDU a modem is given.
    #[arg(long)]
    at: bool,
}

#[derive(Debug, Args)]
pub struct CountArgs {
    /// Message text; read from standard input when left out.
    text: Option<String>,
    /// Count as UCS-2 even when the text fits the GSM 7-bit alphabet.
    #[arg(long)]
    unicode: bool,
}

pub fn run(cmd: PduCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PduCommand::Decode(a) => decode(a),
        PduCommand::Encode(a) => encode(a),
        PduCommand::Count(a) => count(a),
    }
}

fn text_or_stdin(text: Option<String>) -> anyhow::Result<String> {
    if let Some(t) = text {
        return Ok(t);
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the text from standard input")?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

fn fail(msg: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("smsgw: {msg}");
    Ok(ExitCode::FAILURE)
}

fn decode(a: DecodeArgs) -> anyhow::Result<ExitCode> {
    let hex = text_or_stdin(a.hex)?;
    let compact: String = hex.split_whitespace().collect();
    let bytes = match pdu::from_hex(&compact) {
        Ok(b) => b,
        Err(e) => return fail(format_args!("not a hex PDU: {e}")),
    };
    let options = DecodeOptions {
        smsc: if a.tpdu {
            SmscPrefix::Absent
        } else if a.auto_smsc {
            SmscPrefix::Auto
        } else {
            SmscPrefix::Present
        },
        direction: match a.direction {
            DirectionArg::Infer => Direction::Infer,
            DirectionArg::ScToMs => Direction::ScToMs,
            DirectionArg::MsToSc => Direction::MsToSc,
        },
        lenient: a.lenient,
    };
    match pdu::decode_noting(&bytes, options) {
        Ok((p, warnings)) => {
            if a.json {
                let mut v = json(&p);
                v["warnings"] = serde_json::json!(warnings);
                println!("{v}");
            } else {
                for w in &warnings {
                    eprintln!("smsgw: warning: {w}");
                }
                print!("{}", describe(&p));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let hint = match (&e.kind, options.smsc) {
                (pdu::PduErrorKind::BadLength { .. }, SmscPrefix::Present) if e.offset == 0 => {
                    "\nhint: if the PDU has no SMSC part, try --tpdu or --auto-smsc"
                }
                _ if !a.lenient
                    && pdu::decode_with(
                        &bytes,
                        DecodeOptions {
                            lenient: true,
                            ..options
                        },
                    )
                    .is_ok() =>
                {
                    "\nhint: the daemon reads such a message from a modem as libGammu does: try --lenient"
                }
                _ => "",
            };
            fail(format_args!("cannot decode PDU: {e}{hint}"))
        }
    }
}

fn encode(a: EncodeArgs) -> anyhow::Result<ExitCode> {
    let text = text_or_stdin(a.text.or(a.text_opt))?;
    let destination = match Address::number(&a.number) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let smsc = match a.smsc.as_deref().map(Address::number).transpose() {
        Ok(s) => s,
        Err(e) => return fail(format_args!("--smsc: {e}")),
    };
    let class = if a.flash {
        Some(MessageClass::Class0)
    } else {
        a.class.and_then(MessageClass::from_number)
    };
    let mut template = Submit::new(destination, "");
    template.smsc = smsc;
    template.dcs = Dcs::new(Alphabet::Gsm7, class);
    template.validity = a.validity;
    template.status_report_request = a.report;
    let reference = if a.sixteen_bit {
        ConcatRef::Sixteen(a.reference)
    } else {
        match u8::try_from(a.reference) {
            Ok(r) => ConcatRef::Eight(r),
            Err(_) => return fail("--reference above 255 needs --sixteen-bit"),
        }
    };
    let parts = if a.binary {
        let compact: String = text.split_whitespace().collect();
        let data = match pdu::from_hex(&compact) {
            Ok(d) => d,
            Err(e) => return fail(format_args!("--binary text is not hex: {e}")),
        };
        pdu::split_data(&template, &data, reference)
    } else {
        let encoding = if a.unicode {
            Encoding::Ucs2
        } else {
            Encoding::Auto
        };
        pdu::split(&template, &text, encoding, reference)
    };
    let parts = match parts {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut out = String::new();
    for part in &parts {
        let e = match part.encode() {
            Ok(e) => e,
            Err(e) => return fail(e),
        };
        if a.at {
            let _ = writeln!(out, "AT+CMGS={}", e.tpdu_len());
            let _ = writeln!(out, "{}<Ctrl-Z>", e.to_hex());
        } else {
            let _ = writeln!(out, "{}", e.to_hex());
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn count(a: CountArgs) -> anyhow::Result<ExitCode> {
    let text = text_or_stdin(a.text)?;
    let encoding = if a.unicode {
        Encoding::Ucs2
    } else {
        Encoding::Auto
    };
    match pdu::estimate(&text, encoding, ConcatRef::Eight(0)) {
        Ok(e) => {
            println!("{e}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => fail(e),
    }
}

/// Text with control characters made visible, for one line of output: `\n`, `\r`, `\t`,
/// `\u{..}`, and a backslash of the text written `\\` so that the escapes stay unambiguous.
fn visible(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\\' {
            s.extend(c.escape_default());
        } else {
            s.push(c);
        }
    }
    s
}

fn address(a: &Address) -> String {
    let ton = match a.ton {
        Ton::Unknown => "unknown type",
        Ton::International => "international",
        Ton::National => "national",
        Ton::NetworkSpecific => "network specific",
        Ton::Subscriber => "subscriber",
        Ton::Alphanumeric => "alphanumeric",
        Ton::Abbreviated => "abbreviated",
        Ton::Reserved => "reserved type",
    };
    let npi = match a.npi {
        Npi::Unknown => "unknown plan".to_string(),
        Npi::Isdn => "ISDN/E.164".to_string(),
        Npi::Data => "data plan".to_string(),
        Npi::Telex => "telex plan".to_string(),
        Npi::National => "national plan".to_string(),
        Npi::Private => "private plan".to_string(),
        Npi::Ermes => "ERMES plan".to_string(),
        Npi::Other(n) => format!("plan {n}"),
    };
    format!(
        "{} ({ton}, {npi}; TOA 0x{:02X})",
        visible(&a.to_string()),
        a.toa()
    )
}

fn smsc(s: &Option<Address>) -> String {
    s.as_ref()
        .map_or_else(|| "none given (the modem's default)".to_string(), address)
}

fn user_data(out: &mut String, udh: &Option<Udh>, ud: &UserData, dcs: Dcs) {
    match udh {
        None => {
            let _ = writeln!(out, "UDH:             none");
        }
        Some(h) => {
            let _ = writeln!(out, "UDH:             {}", pdu::to_hex(&h.to_bytes()));
            for e in &h.elements {
                let _ = writeln!(out, "                 {e}");
            }
        }
    }
    match ud {
        UserData::Text(t) => {
            let units = match dcs.alphabet() {
                Alphabet::Ucs2 => format!("{} UTF-16 units", t.encode_utf16().count()),
                _ => format!("{} septets", pdu::gsm7::septet_count(t).unwrap_or(0)),
            };
            let _ = writeln!(
                out,
                "Length:          {} characters, {units}",
                t.chars().count()
            );
            let _ = writeln!(out, "Text:            {}", visible(t));
        }
        UserData::Binary(b) => {
            let _ = writeln!(out, "Length:          {} octets", b.len());
            let _ = writeln!(out, "Data:            {}", pdu::to_hex(b));
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Every field of a decoded PDU, one per line.
fn describe(p: &Pdu) -> String {
    let mut o = String::new();
    match p {
        Pdu::Deliver(d) => describe_deliver(&mut o, d),
        Pdu::Submit(s) => describe_submit(&mut o, s),
        Pdu::StatusReport(r) => describe_report(&mut o, r),
    }
    o
}

fn describe_deliver(o: &mut String, d: &Deliver) {
    let _ = writeln!(o, "Type:            SMS-DELIVER (received message)");
    let _ = writeln!(o, "SMSC:            {}", smsc(&d.smsc));
    let _ = writeln!(o, "From (TP-OA):    {}", address(&d.originator));
    let _ = writeln!(o, "Sent (TP-SCTS):  {}", d.scts);
    let _ = writeln!(o, "TP-PID:          0x{:02X}", d.pid);
    let _ = writeln!(o, "TP-DCS:          {}", d.dcs);
    let _ = writeln!(o, "More messages:   {}", yes(d.more_messages));
    let _ = writeln!(o, "Report asked:    {}", yes(d.status_report_indication));
    let _ = writeln!(o, "Reply path:      {}", yes(d.reply_path));
    user_data(o, &d.udh, &d.user_data, d.dcs);
}

fn describe_submit(o: &mut String, s: &Submit) {
    let _ = writeln!(o, "Type:            SMS-SUBMIT (message to send)");
    let _ = writeln!(o, "SMSC:            {}", smsc(&s.smsc));
    let _ = writeln!(o, "To (TP-DA):      {}", address(&s.destination));
    let _ = writeln!(o, "TP-MR:           {}", s.message_reference);
    let _ = writeln!(o, "TP-PID:          0x{:02X}", s.pid);
    let _ = writeln!(o, "TP-DCS:          {}", s.dcs);
    let _ = writeln!(o, "Validity:        {}", s.validity);
    let _ = writeln!(o, "Report asked:    {}", yes(s.status_report_request));
    let _ = writeln!(o, "Reject dups:     {}", yes(s.reject_duplicates));
    let _ = writeln!(o, "Reply path:      {}", yes(s.reply_path));
    user_data(o, &s.udh, &s.user_data, s.dcs);
}

fn describe_report(o: &mut String, r: &StatusReport) {
    let _ = writeln!(o, "Type:            SMS-STATUS-REPORT");
    let _ = writeln!(o, "SMSC:            {}", smsc(&r.smsc));
    let _ = writeln!(o, "Recipient:       {}", address(&r.recipient));
    let _ = writeln!(o, "TP-MR:           {}", r.message_reference);
    let _ = writeln!(
        o,
        "Status (TP-ST):  0x{:02X} {}",
        r.status,
        r.delivery_status()
    );
    let _ = writeln!(o, "Received (SCTS): {}", r.scts);
    let _ = writeln!(o, "Done (TP-DT):    {}", r.discharge_time);
    let _ = writeln!(
        o,
        "About:           {}",
        if r.qualifier_command {
            "SMS-COMMAND"
        } else {
            "SMS-SUBMIT"
        }
    );
    if let Some(p) = r.pid {
        let _ = writeln!(o, "TP-PID:          0x{p:02X}");
    }
    if let Some(d) = r.dcs {
        let _ = writeln!(o, "TP-DCS:          {d}");
    }
    if let Some(u) = &r.user_data {
        user_data(o, &r.udh, u, r.dcs.unwrap_or(Dcs(0)));
    }
}

/// An address as JSON: the number as written, its type, plan and TOA octet.
fn address_json(a: &Address) -> serde_json::Value {
    serde_json::json!({
        "number": a.to_string(),
        "ton": format!("{:?}", a.ton).to_lowercase(),
        "npi": match a.npi {
            Npi::Other(n) => format!("plan {n}"),
            n => format!("{n:?}").to_lowercase(),
        },
        "toa": a.toa(),
    })
}

fn time_json(t: &pdu::Scts) -> serde_json::Value {
    t.to_datetime()
        .map_or(serde_json::Value::Null, |t| t.to_rfc3339().into())
}

/// The DCS, UDH and user data fields, shared by every type.
fn user_data_json(v: &mut serde_json::Value, udh: &Option<Udh>, ud: &UserData, dcs: Dcs) {
    v["dcs"] = dcs.0.into();
    v["alphabet"] = match dcs.alphabet() {
        Alphabet::Gsm7 => "gsm7",
        Alphabet::Eight => "8bit",
        Alphabet::Ucs2 => "ucs2",
    }
    .into();
    v["class"] = dcs.class().map(|c| c.number()).into();
    v["udh"] = match udh {
        None => serde_json::Value::Null,
        Some(h) => serde_json::json!({
            "hex": pdu::to_hex(&h.to_bytes()),
            "elements": h.elements.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "concat": h.concat_info().map(|c| serde_json::json!({
                "reference": c.reference, "sixteen_bit": c.sixteen_bit, "seq": c.seq, "total": c.total,
            })),
        }),
    };
    match ud {
        UserData::Text(t) => v["text"] = t.as_str().into(),
        UserData::Binary(b) => v["data"] = pdu::to_hex(b).into(),
    }
}

/// Every field of a decoded PDU as one JSON object.
fn json(p: &Pdu) -> serde_json::Value {
    let smsc = |s: &Option<Address>| s.as_ref().map_or(serde_json::Value::Null, address_json);
    match p {
        Pdu::Deliver(d) => {
            let mut v = serde_json::json!({
                "type": "SMS-DELIVER",
                "smsc": smsc(&d.smsc),
                "from": address_json(&d.originator),
                "scts": time_json(&d.scts),
                "pid": d.pid,
                "more_messages": d.more_messages,
                "report_asked": d.status_report_indication,
                "reply_path": d.reply_path,
            });
            user_data_json(&mut v, &d.udh, &d.user_data, d.dcs);
            v
        }
        Pdu::Submit(s) => {
            let mut v = serde_json::json!({
                "type": "SMS-SUBMIT",
                "smsc": smsc(&s.smsc),
                "to": address_json(&s.destination),
                "mr": s.message_reference,
                "pid": s.pid,
                "validity": s.validity.to_string(),
                "report_asked": s.status_report_request,
                "reject_duplicates": s.reject_duplicates,
                "reply_path": s.reply_path,
            });
            user_data_json(&mut v, &s.udh, &s.user_data, s.dcs);
            v
        }
        Pdu::StatusReport(r) => {
            let mut v = serde_json::json!({
                "type": "SMS-STATUS-REPORT",
                "smsc": smsc(&r.smsc),
                "recipient": address_json(&r.recipient),
                "mr": r.message_reference,
                "status": r.status,
                "delivery_status": r.delivery_status().to_string(),
                "scts": time_json(&r.scts),
                "discharge_time": time_json(&r.discharge_time),
                "about": if r.qualifier_command { "SMS-COMMAND" } else { "SMS-SUBMIT" },
                "pid": r.pid,
            });
            if let Some(u) = &r.user_data {
                user_data_json(&mut v, &r.udh, u, r.dcs.unwrap_or(Dcs(0)));
            }
            v
        }
    }
}
