//! Message files dropped into the spool directory: smstools3 message files and Gammu
//! files-backend outbox files (`OUT...txt`), read into one message each.
//!
//! Errors say where: the line and header of an smstools3 file, the part of a Gammu name.

use std::time::Duration;

use crate::compose::InjectOptions;
use crate::pdu::Validity;

/// What a dropped file asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// International numbers with `+`, short numbers as written.
    pub to: String,
    pub text: String,
    pub unicode: bool,
    pub flash: bool,
    /// `None`: the configuration decides.
    pub report: Option<bool>,
    pub validity: Option<Validity>,
    /// Higher goes first (Gammu's `Priority` column).
    pub priority: i32,
    /// smstools3 `Queue:`/`Provider:`, or none.
    pub queue: Option<String>,
}

impl Dropped {
    /// The options `compose::new_message` takes.
    pub fn options(&self, phone_id: Option<String>, report_default: bool) -> InjectOptions {
        InjectOptions {
            unicode: self.unicode,
            flash: self.flash,
            report: self.report.unwrap_or(report_default),
            validity: self.validity,
            phone_id,
            creator_id: "smsgw-spool".into(),
            ..InjectOptions::default()
        }
    }
}

/// Why a file cannot be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpoolError(pub String);

fn err(msg: impl Into<String>) -> SpoolError {
    SpoolError(msg.into())
}

/// Reads a dropped file: a Gammu outbox file when the name says so (`OUT...txt...`),
/// otherwise an smstools3 message file.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Dropped, SpoolError> {
    if let Some(g) = gammu_name(name) {
        return gammu_file(g?, bytes);
    }
    smstools(bytes)
}

/// The parts of a Gammu outbox file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GammuName {
    pub number: String,
    /// The letter after `OUT` (`A` highest); `None` for `OUT<number>.txt`.
    pub priority: Option<char>,
    /// `d`: a delivery report; `f`: flash.
    pub report: bool,
    pub flash: bool,
}

/// `Some` when `name` is a Gammu outbox file name (`OUT` ... `.txt` + flags), with the
/// number read from one of the three forms gammu-smsd accepts.
pub fn gammu_name(name: &str) -> Option<Result<GammuName, SpoolError>> {
    // Bytes, not str slices: a name may start with a multi-byte character.
    let starts = |s: &str, with: &[u8]| {
        s.as_bytes()
            .get(..with.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(with))
    };
    if !starts(name, b"out") {
        return None;
    }
    let dot = name.rfind('.')?;
    let ext = &name[dot + 1..];
    if !starts(ext, b"txt") {
        return None;
    }
    let flags = &ext[3..];
    let stem = &name[3..dot];
    Some(read_gammu_name(stem, flags, name))
}

fn read_gammu_name(stem: &str, flags: &str, name: &str) -> Result<GammuName, SpoolError> {
    let mut report = false;
    let mut flash = false;
    for f in flags.chars() {
        match f {
            'd' => report = true,
            'f' => flash = true,
            'b' => {
                return Err(err(format!(
                    "{name}: flag b (a WAP bookmark) is not supported; send the URL as text"
                )))
            }
            other => {
                return Err(err(format!(
                    "{name}: unknown flag {other:?} after .txt (d: report, f: flash)"
                )))
            }
        }
    }
    let fields: Vec<&str> = stem.split('_').collect();
    let (priority, number) = match fields.len() {
        // OUT<number>.txt
        1 => (None, fields[0].to_string()),
        // OUT<prio>_<number>_<serial>.txt
        3 => (fields[0].chars().next(), fields[1].to_string()),
        // OUT<prio><YYYYMMDD>_<HHMMSS>_<serial>_<number>_<anything>.txt
        n if n >= 5 => (fields[0].chars().next(), fields[3].to_string()),
        _ => {
            return Err(err(format!(
                "{name}: not one of Gammu's outbox names (OUT<number>.txt, OUT<prio>_<number>_<serial>.txt, OUT<prio><date>_<time>_<serial>_<number>_<any>.txt)"
            )))
        }
    };
    let number = number.replace('X', "*");
    if number.is_empty() {
        return Err(err(format!("{name}: the name has no number")));
    }
    Ok(GammuName {
        number,
        priority,
        report,
        flash,
    })
}

/// Text in UTF-16 (with a byte-order mark) or UTF-8.
fn decode_text(bytes: &[u8], what: &str) -> Result<String, SpoolError> {
    let utf16 = |be: bool, b: &[u8]| -> Result<String, SpoolError> {
        if !b.len().is_multiple_of(2) {
            return Err(err(format!(
                "{what}: UTF-16 text with an odd number of bytes"
            )));
        }
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| err(format!("{what}: invalid UTF-16 text")))
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(false, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(true, rest),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            std::str::from_utf8(rest).map(str::to_string).map_err(|e| {
                err(format!(
                    "{what}: invalid UTF-8 at byte {}",
                    e.valid_up_to() + 3
                ))
            })
        }
        _ => std::str::from_utf8(bytes).map(str::to_string).map_err(|e| {
            err(format!(
                "{what}: invalid UTF-8 at byte {} (write UTF-8, or UTF-16 with a byte-order mark)",
                e.valid_up_to()
            ))
        }),
    }
}

fn gammu_file(g: GammuName, bytes: &[u8]) -> Result<Dropped, SpoolError> {
    let text = decode_text(bytes, "the file")?;
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    if text.is_empty() {
        return Err(err("the file is empty: no text to send"));
    }
    Ok(Dropped {
        to: g.number,
        unicode: false,
        flash: g.flash,
        report: g.report.then_some(true),
        validity: None,
        // A highest .. Z lowest; no letter in the middle.
        priority: g.priority.map_or(0, |c| match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => i32::from(b'Z' - c as u8) - 12,
            _ => 0,
        }),
        queue: None,
        text,
    })
}

fn yes(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Some(true),
        "no" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// smstools3's `Validity:`: a number with min/hour/day/week/month/year, or a raw relative
/// TP-VP value 0-255.
fn smstools_validity(v: &str) -> Result<Validity, String> {
    let t = v.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<u16>() {
        return u8::try_from(n)
            .map(Validity::Relative)
            .map_err(|_| format!("{v:?}: a raw value is 0-255"));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{v:?}: use a number with min, hour, day, week, month or year"))?;
    let per_minute = match unit.trim() {
        u if u.starts_with("min") => 1,
        u if u.starts_with('h') => 60,
        u if u.starts_with('d') => 1440,
        u if u.starts_with('w') => 7 * 1440,
        u if u.starts_with("mon") => 30 * 1440,
        u if u.starts_with('y') => 365 * 1440,
        _ => {
            return Err(format!(
                "{v:?}: unknown unit (min, hour, day, week, month, year)"
            ))
        }
    };
    if n == 0 {
        return Err(format!("{v:?}: must be longer than zero"));
    }
    Ok(Validity::relative(Duration::from_secs(
        n.saturating_mul(per_minute).saturating_mul(60),
    )))
}

/// An smstools3 message file: `Header: value` lines, an empty line, the text.
fn smstools(bytes: &[u8]) -> Result<Dropped, SpoolError> {
    // The header block ends at the first empty line ("\n\n" or "\r\n\r\n").
    let (head, body) = split_head(bytes).ok_or_else(|| {
        err("no empty line after the headers (smstools3 format: headers, an empty line, the text)")
    })?;
    let head = std::str::from_utf8(head).map_err(|e| {
        err(format!(
            "the headers are not UTF-8 text (byte {})",
            e.valid_up_to()
        ))
    })?;
    let mut d = Dropped {
        to: String::new(),
        text: String::new(),
        unicode: false,
        flash: false,
        report: None,
        validity: None,
        priority: 0,
        queue: None,
    };
    let mut alphabet = None;
    for (i, line) in head.lines().enumerate() {
        let n = i + 1;
        let line = line.trim_end_matches('\r');
        let Some((key, value)) = line.split_once(':') else {
            return Err(err(format!(
                "line {n}: {line:?} is not a header (Name: value)"
            )));
        };
        let value = value.trim();
        let bad = |why: String| err(format!("line {n}: header {key}: {why}"));
        // Header names are case-sensitive in smstools3; unknown ones are ignored.
        match key {
            "To" => {
                let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                d.to = if let Some(short) = digits.strip_prefix('s') {
                    short.to_string()
                } else if digits.starts_with('+') {
                    digits
                } else {
                    format!("+{digits}")
                };
                let plain = d.to.trim_start_matches('+');
                if plain.is_empty() || !plain.chars().all(|c| c.is_ascii_digit()) {
                    return Err(bad(format!(
                        "{value:?} is not a number (international without +, or s before a short number)"
                    )));
                }
            }
            "Alphabet" => {
                let a = value.to_ascii_uppercase();
                alphabet = Some(match a.get(..3).unwrap_or(a.as_str()) {
                    "GSM" => "GSM",
                    "ISO" | "LAT" | "ANS" => "ISO",
                    "UCS" | "CHI" | "UNI" => "UCS",
                    "UTF" => "UTF",
                    "BIN" => {
                        return Err(bad(
                            "binary messages are not supported by the spool; use smsgw inject"
                                .into(),
                        ))
                    }
                    _ => return Err(bad(format!("{value:?}: use GSM, ISO, UCS or UTF-8"))),
                });
            }
            "Flash" => {
                d.flash = yes(value).ok_or_else(|| bad(format!("{value:?}: use yes or no")))?
            }
            "Report" => {
                d.report = Some(yes(value).ok_or_else(|| bad(format!("{value:?}: use yes or no")))?)
            }
            "Validity" => d.validity = Some(smstools_validity(value).map_err(bad)?),
            "Priority" => {
                d.priority = if value.eq_ignore_ascii_case("high") {
                    1
                } else {
                    0
                }
            }
            "Queue" | "Provider" => d.queue = Some(value.to_string()),
            _ => {}
        }
    }
    if d.to.is_empty() {
        return Err(err("no To: header"));
    }
    let text = match alphabet {
        Some("UCS") => {
            if body.len() % 2 != 0 {
                return Err(err(
                    "Alphabet UCS: the text has an odd number of bytes (UTF-16BE expected)",
                ));
            }
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            d.unicode = true;
            String::from_utf16(&units).map_err(|_| err("Alphabet UCS: invalid UTF-16BE text"))?
        }
        Some("ISO") => body.iter().map(|&b| char::from(b)).collect(),
        // UTF-8, GSM (written as text) or no header: UTF-8; a file that is not valid UTF-8
        // without an Alphabet header is read as ISO-8859-1, smstools3's default.
        Some(_) => std::str::from_utf8(body)
            .map(str::to_string)
            .map_err(|e| err(format!("the text is not UTF-8 (byte {})", e.valid_up_to())))?,
        None => match std::str::from_utf8(body) {
            Ok(t) => t.to_string(),
            Err(_) => body.iter().map(|&b| char::from(b)).collect(),
        },
    };
    d.text = text.trim_end_matches(['\n', '\r']).to_string();
    if d.text.is_empty() {
        return Err(err("the text after the headers is empty"));
    }
    Ok(d)
}

fn split_head(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| start + p);
        let line_end = end.unwrap_or(bytes.len());
        let line = &bytes[start..line_end];
        if line.is_empty() || line == b"\r" {
            let rest = end.map_or(&bytes[bytes.len()..], |e| &bytes[e + 1..]);
            return Some((&bytes[..start], rest));
        }
        end?;
        start = line_end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smstools_headers_and_body() {
        let f = b"To: 48600100200\nFlash: yes\nReport: yes\nValidity: 3 days\nPriority: High\nQueue: alerts\nX-Unknown: ignored\n\nDisk full on srv1\n";
        let d = parse("msg.abc123", f).unwrap();
        assert_eq!(d.to, "+48600100200");
        assert_eq!(d.text, "Disk full on srv1");
        assert!(d.flash && d.report == Some(true) && d.priority == 1);
        assert_eq!(d.queue.as_deref(), Some("alerts"));
        assert_eq!(d.validity, Some("3d".parse().unwrap()));
        let d = parse("x", b"To: s1234\r\n\r\nshort\r\n").unwrap();
        assert_eq!((d.to.as_str(), d.text.as_str()), ("1234", "short"));
        assert_eq!(
            parse("x", b"To: 48600100200\nValidity: 167\n\nraw")
                .unwrap()
                .validity,
            Some(Validity::Relative(167))
        );
    }

    #[test]
    fn smstools_alphabets() {
        let mut f = b"To: 48600100200\nAlphabet: UCS\n\n".to_vec();
        for u in "żółw 🐢".encode_utf16() {
            f.extend_from_slice(&u.to_be_bytes());
        }
        let d = parse("x", &f).unwrap();
        assert_eq!(d.text, "żółw 🐢");
        assert!(d.unicode);
        let d = parse("x", b"To: 48600100200\nAlphabet: ISO\n\ncaf\xe9").unwrap();
        assert_eq!(d.text, "café");
        let d = parse("x", "To: 48600100200\nAlphabet: UTF-8\n\ncafé".as_bytes()).unwrap();
        assert_eq!(d.text, "café");
        // No Alphabet: UTF-8 when it is, else smstools3's ISO-8859-1.
        assert_eq!(parse("x", b"To: 1\n\ncaf\xe9").unwrap().text, "café");
    }

    #[test]
    fn smstools_errors_name_the_line_and_header() {
        let e = parse("x", b"To: 48600100200\nFlash: maybe\n\nhi").unwrap_err();
        assert_eq!(e.0, "line 2: header Flash: \"maybe\": use yes or no");
        let e = parse("x", b"From: me\nTo: 48-600\n\nhi").unwrap_err();
        assert!(e.0.starts_with("line 2: header To:"), "{e}");
        assert_eq!(
            parse("x", b"Flash: yes\n\nhi").unwrap_err().0,
            "no To: header"
        );
        assert!(parse("x", b"To: 1\nno colon here\n\nhi")
            .unwrap_err()
            .0
            .starts_with("line 2:"));
        assert!(parse("x", b"To: 1\n")
            .unwrap_err()
            .0
            .contains("no empty line"));
        assert!(parse("x", b"To: 1\n\n").unwrap_err().0.contains("empty"));
        assert!(parse("x", b"To: 1\nValidity: 2 fortnights\n\nhi")
            .unwrap_err()
            .0
            .starts_with("line 2: header Validity"));
    }

    #[test]
    fn gammu_names() {
        let g = |n: &str| gammu_name(n).unwrap().unwrap();
        assert_eq!(g("OUT+48600100200.txt").number, "+48600100200");
        let n = g("OUTA_+48600100200_00.txt");
        assert_eq!((n.number.as_str(), n.priority), ("+48600100200", Some('A')));
        let n = g("OUTG20040620_193810_123_+4512345678_xpq.txtdf");
        assert_eq!(n.number, "+4512345678");
        assert!(n.report && n.flash);
        assert_eq!(g("OUT*100X.txt").number, "*100*");
        assert!(gammu_name("message.txt").is_none());
        assert!(gammu_name("OUTfoo.smsbackup").is_none());
        assert!(gammu_name("OUT+1.txtz").unwrap().is_err());
        assert!(gammu_name("OUTA_1.txt").unwrap().is_err());
        // Found by fuzzing: multi-byte characters where "OUT" or "txt" would be.
        assert!(gammu_name("ó").is_none());
        assert!(gammu_name("OUT+1.tó").is_none());
        assert!(parse("żółw", b"To: 1\n\nhi").is_ok());
    }

    #[test]
    fn gammu_files_in_utf8_and_utf16() {
        let d = parse("OUTA_+48600100200_00.txtd", "zażółć\n".as_bytes()).unwrap();
        assert_eq!((d.to.as_str(), d.text.as_str()), ("+48600100200", "zażółć"));
        assert_eq!(d.report, Some(true));
        let mut le = vec![0xFF, 0xFE];
        for u in "emoji 🐢".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(parse("OUT+1.txt", &le).unwrap().text, "emoji 🐢");
        let mut be = vec![0xFE, 0xFF];
        for u in "BE".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(parse("OUT+1.txt", &be).unwrap().text, "BE");
        assert!(parse("OUTA_+1_0.txt", b"").is_err());
        assert!(parse("OUT+1.txt", b"\xff\xfe\x00").is_err());
        // Priority: A first.
        let a = parse("OUTA_+1_0.txt", b"a").unwrap().priority;
        let z = parse("OUTZ_+1_0.txt", b"z").unwrap().priority;
        assert!(a > z && a > 0 && z < 0);
    }
}
