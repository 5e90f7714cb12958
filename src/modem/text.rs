//! Text mode (`AT+CMGF=1`), for the devices that refuse PDU mode: the modem composes and
//! parses the PDUs itself and speaks in fields. smsgw keeps working in PDUs above this
//! layer: what the modem lists is turned into the DELIVER or STATUS-REPORT it stands for,
//! and a SUBMIT to send into `AT+CSMP` (first octet, validity, data coding) and `AT+CMGS`
//! with the recipient and the text.
//!
//! The character set (`AT+CSCS`) is UCS2 when the modem has it: numbers and texts then
//! travel as UTF-16 hex, and nothing is lost whatever the alphabet. Otherwise IRA (ASCII),
//! and a text outside it is refused rather than garbled. Text mode cannot send a
//! concatenated part (no user data header) or 8-bit data: such a message fails with a
//! reason that says PDU mode is needed.

use super::*;
use crate::compose::{from_ucs2_hex, ucs2_hex};
use crate::pdu::{Address, Alphabet, Dcs, Deliver, Scts, StatusReport, UserData, Validity};

/// The character set the modem was set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `AT+CSCS="UCS2"`: every string as UTF-16 hex.
    Ucs2,
    /// `AT+CSCS="IRA"` (or the modem's default): ASCII.
    Ira,
}

impl std::fmt::Display for Charset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Charset::Ucs2 => "UCS2",
            Charset::Ira => "IRA",
        })
    }
}

impl Charset {
    /// A string as the modem wants it.
    fn encode(self, s: &str) -> String {
        match self {
            Charset::Ucs2 => ucs2_hex(s),
            Charset::Ira => s.to_string(),
        }
    }

    /// A string field as the modem gave it (an empty field stays empty).
    fn decode(self, s: &str) -> String {
        let s = s.trim().trim_matches('"');
        match self {
            Charset::Ucs2 if !s.is_empty() && s.len().is_multiple_of(4) => {
                from_ucs2_hex(s).unwrap_or_else(|_| s.to_string())
            }
            _ => s.to_string(),
        }
    }
}

/// The fields of a header, commas inside quotes kept (`"21/03/04,10:00:00+04"`).
fn fields(header: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// `<stat>` as text (`"REC UNREAD"`) or number.
fn stat(s: &str) -> Option<u8> {
    match s.trim().trim_matches('"').to_ascii_uppercase().as_str() {
        "REC UNREAD" | "0" => Some(0),
        "REC READ" | "1" => Some(1),
        "STO UNSENT" | "2" => Some(2),
        "STO SENT" | "3" => Some(3),
        _ => None,
    }
}

/// `"yy/MM/dd,hh:mm:ss±zz"` (zz in quarter hours).
fn scts(s: &str) -> Option<Scts> {
    let s = s.trim().trim_matches('"');
    let (date, time) = s.split_once(',')?;
    let d: Vec<u8> = date
        .split('/')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (clock, tz) = match time.find(['+', '-']) {
        Some(i) => (&time[..i], time[i..].parse::<i8>().ok()?),
        None => (time, 0),
    };
    let t: Vec<u8> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match (d.as_slice(), t.as_slice()) {
        ([year, month, day], [hour, minute, second]) => Some(Scts {
            year: *year,
            month: *month,
            day: *day,
            hour: *hour,
            minute: *minute,
            second: *second,
            tz_quarters: tz,
        }),
        _ => None,
    }
}

fn address(s: &str, charset: Charset) -> Option<Address> {
    let a = charset.decode(s);
    Address::parse(&a).ok()
}

/// The message a text-mode `+CMGR:` answer stands for, and its `<stat>`: a DELIVER
/// (`<stat>,<oa>,[<alpha>],<scts>[,<tooa>,<fo>,<pid>,<dcs>,<sca>,<tosca>,<length>]` and the
/// text on the following lines) or a STATUS-REPORT (`<stat>,<fo>,<mr>,[<ra>],[<tora>],
/// <scts>,<dt>,<st>`).
pub fn cmgr(header: &str, data: &[&str], charset: Charset) -> Result<(Option<u8>, Pdu), String> {
    let f = fields(header);
    let get = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
    let st = stat(get(0));
    if !get(1).starts_with('"') && get(1).parse::<u8>().is_ok() {
        let bad = || format!("a status report header that does not read: {header:?}");
        let report = StatusReport {
            smsc: None,
            more_messages: false,
            loop_prevention: false,
            qualifier_command: false,
            message_reference: get(2).parse().map_err(|_| bad())?,
            recipient: address(get(3), charset).ok_or_else(bad)?,
            scts: scts(get(5)).ok_or_else(bad)?,
            discharge_time: scts(get(6)).ok_or_else(bad)?,
            status: get(7).parse().map_err(|_| bad())?,
            pid: None,
            dcs: None,
            udh: None,
            user_data: None,
        };
        return Ok((st, Pdu::StatusReport(report)));
    }
    let bad = || format!("a message header that does not read: {header:?}");
    let originator = address(get(1), charset).ok_or_else(bad)?;
    let when = scts(get(3)).ok_or_else(bad)?;
    let dcs = Dcs(get(7).parse().unwrap_or(0));
    let body = data.join("\n");
    let user_data = match dcs.alphabet() {
        Alphabet::Eight => UserData::Binary(
            pdu::from_hex(body.trim()).map_err(|e| format!("8-bit data that is not hex: {e}"))?,
        ),
        Alphabet::Ucs2 => {
            UserData::Text(from_ucs2_hex(body.trim()).map_err(|e| format!("UCS-2 data: {e}"))?)
        }
        Alphabet::Gsm7 => UserData::Text(match charset {
            Charset::Ucs2 => from_ucs2_hex(body.trim()).map_err(|e| format!("the text: {e}"))?,
            Charset::Ira => body,
        }),
    };
    let deliver = Deliver {
        smsc: address(get(8), charset),
        more_messages: false,
        loop_prevention: false,
        reply_path: false,
        status_report_indication: false,
        originator,
        pid: get(6).parse().unwrap_or(0),
        dcs,
        scts: when,
        udh: None,
        user_data,
    };
    Ok((st, Pdu::Deliver(deliver)))
}

/// The indexes a text-mode `+CMGL:` listing names (`<index>,<stat>,...`).
pub fn cmgl_indexes(r: &Response) -> Vec<usize> {
    r.lines
        .iter()
        .filter_map(|l| crate::at::line::strip_prefix_ci(l.trim(), "+CMGL:"))
        .filter_map(|h| h.split(',').next()?.trim().parse().ok())
        .collect()
}

/// What to send for one SUBMIT in text mode: the `AT+CSMP` parameters, the recipient and
/// the text, each in `charset`. A part of a concatenated message, 8-bit data or a text the
/// character set cannot carry is an error: only PDU mode sends those.
pub fn submit(
    s: &crate::pdu::Submit,
    charset: Charset,
) -> Result<(String, String, String), String> {
    if s.udh.is_some() {
        return Err("a part of a concatenated message (user data header) cannot be sent in text mode, and this modem refuses PDU mode: send it through another route, or shorter".into());
    }
    let UserData::Text(text) = &s.user_data else {
        return Err(
            "8-bit data cannot be sent in text mode, and this modem refuses PDU mode".into(),
        );
    };
    if charset == Charset::Ira && !text.is_ascii() {
        return Err(
            "the modem has no UCS2 character set for text mode (AT+CSCS) and the text is not ASCII"
                .into(),
        );
    }
    // SMS-SUBMIT, relative validity, TP-SRR when a report is asked for.
    let fo = 0x11 | if s.status_report_request { 0x20 } else { 0 };
    let vp = match s.validity {
        Validity::Relative(v) => v,
        _ => 167,
    };
    let csmp = format!("AT+CSMP={fo},{vp},{},{}", s.pid, s.dcs.0);
    let number = s.destination.to_string();
    let toda = if number.starts_with('+') { 145 } else { 129 };
    let cmgs = format!("AT+CMGS=\"{}\",{toda}", charset.encode(&number));
    Ok((csmp, cmgs, charset.encode(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_mode_message_reads_as_the_deliver_it_stands_for() {
        let (st, p) = cmgr(
            "\"REC UNREAD\",\"002B00340038003600300030003100310031003200320032\",,\"26/12/07,10:11:12+04\",145,4,0,8,\"002B00340038003600300032003000300030003000300030\",145,5",
            &[&ucs2_hex("żółte  ")],
            Charset::Ucs2,
        )
        .unwrap();
        assert_eq!(st, Some(0));
        let Pdu::Deliver(d) = p else { panic!() };
        assert_eq!(d.originator.to_string(), "+48600111222");
        assert_eq!(d.user_data.text(), Some("żółte  "));
        assert_eq!((d.scts.year, d.scts.hour, d.scts.tz_quarters), (26, 10, 4));
        let (_, p) = cmgr(
            "\"REC READ\",\"+48600111222\",,\"26/12/07,10:11:12-08\"",
            &["Hello, world", "second line"],
            Charset::Ira,
        )
        .unwrap();
        let Pdu::Deliver(d) = p else { panic!() };
        assert_eq!(d.user_data.text(), Some("Hello, world\nsecond line"));
        assert_eq!(d.scts.tz_quarters, -8);
        let (_, p) = cmgr(
            "\"REC UNREAD\",6,17,\"+48600111222\",145,\"26/12/07,10:11:12+04\",\"26/12/07,10:11:20+04\",0",
            &[],
            Charset::Ira,
        )
        .unwrap();
        let Pdu::StatusReport(r) = p else { panic!() };
        assert_eq!((r.message_reference, r.status), (17, 0));
        assert!(cmgr("\"REC UNREAD\",\"+4860\"", &[], Charset::Ira).is_err());
    }

    #[test]
    fn a_submit_becomes_csmp_and_cmgs() {
        let mut s = crate::pdu::Submit::new(Address::number("+48600111222").unwrap(), "Zażółć");
        s.status_report_request = true;
        let (csmp, cmgs, text) = submit(&s, Charset::Ucs2).unwrap();
        assert_eq!(csmp, "AT+CSMP=49,167,0,8");
        assert_eq!(
            cmgs,
            "AT+CMGS=\"002B00340038003600300030003100310031003200320032\",145"
        );
        assert_eq!(text, ucs2_hex("Zażółć"));
        assert!(submit(&s, Charset::Ira).unwrap_err().contains("not ASCII"));
        s.udh = Some(crate::pdu::Udh::default());
        assert!(submit(&s, Charset::Ucs2)
            .unwrap_err()
            .contains("concatenated"));
    }
}
