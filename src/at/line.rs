//! Classifying single lines of an AT dialogue: final result codes, unsolicited result codes
//! (URCs), the response prefix a command expects, and masking secrets for the trace. Pure
//! functions on text: everything the modem sends is untrusted and may be any bytes.

use std::borrow::Cow;
use std::fmt;

/// An error result with its numeric code (`AT+CMEE=1`) or text (`AT+CMEE=2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: Option<u16>,
    pub text: String,
}

/// The final result code that ends a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Final {
    Ok,
    Error,
    /// `+CME ERROR: n`: equipment (phone/SIM) error, GSM 07.07 9.2.
    CmeError(ErrorCode),
    /// `+CMS ERROR: n`: message service error, GSM 07.05 3.2.5.
    CmsError(ErrorCode),
    NoCarrier,
    Busy,
    NoAnswer,
    NoDialtone,
    /// Vendor finals that mean "error": Huawei's `COMMAND NOT SUPPORT`, `TOO MANY PARAMETERS`.
    Vendor(String),
}

impl Final {
    pub fn is_ok(&self) -> bool {
        matches!(self, Final::Ok)
    }

    /// The `+CME ERROR` code, if that is what this is.
    pub fn cme(&self) -> Option<u16> {
        match self {
            Final::CmeError(e) => e.code,
            _ => None,
        }
    }

    /// The `+CMS ERROR` code, if that is what this is.
    pub fn cms(&self) -> Option<u16> {
        match self {
            Final::CmsError(e) => e.code,
            _ => None,
        }
    }
}

impl fmt::Display for Final {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Final::Ok => f.write_str("OK"),
            Final::Error => f.write_str("ERROR"),
            Final::CmeError(e) => write!(f, "+CME ERROR: {}", e.text),
            Final::CmsError(e) => write!(f, "+CMS ERROR: {}", e.text),
            Final::NoCarrier => f.write_str("NO CARRIER"),
            Final::Busy => f.write_str("BUSY"),
            Final::NoAnswer => f.write_str("NO ANSWER"),
            Final::NoDialtone => f.write_str("NO DIALTONE"),
            Final::Vendor(s) => f.write_str(s),
        }
    }
}

fn error_code(rest: &str) -> ErrorCode {
    let text = rest.trim().to_string();
    ErrorCode {
        code: text.parse().ok(),
        text,
    }
}

/// The final result code a line is, if it is one.
pub fn parse_final(line: &str) -> Option<Final> {
    let l = line.trim();
    Some(match l {
        "OK" | "0" => Final::Ok,
        "ERROR" | "4" => Final::Error,
        "NO CARRIER" => Final::NoCarrier,
        "BUSY" => Final::Busy,
        "NO ANSWER" => Final::NoAnswer,
        "NO DIALTONE" => Final::NoDialtone,
        "COMMAND NOT SUPPORT" | "TOO MANY PARAMETERS" => Final::Vendor(l.to_string()),
        _ => {
            if let Some(rest) = strip_prefix_ci(l, "+CME ERROR:") {
                Final::CmeError(error_code(rest))
            } else if let Some(rest) = strip_prefix_ci(l, "+CMS ERROR:") {
                Final::CmsError(error_code(rest))
            } else {
                return None;
            }
        }
    })
}

/// `s` without `prefix`, compared without regard to ASCII case.
pub fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// How a URC is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrcShape {
    /// One line.
    Line,
    /// A header line, then a PDU line (`+CMT:`, `+CDS:`, `+CBM:` in PDU mode).
    WithPdu,
}

/// URCs that carry a PDU on the next line.
const WITH_PDU: &[&str] = &["+CMT:", "+CDS:", "+CBM:"];

/// One-line URCs of GSM 07.05/07.07 and common vendors (boot notices of SIMCom modems,
/// ZTE, Wavecom, Quectel, Telit and u-blox indications). Any `^XXX` line (Huawei) is a URC too.
const URCS: &[&str] = &[
    "+CMTI:",
    "+CDSI:",
    "+CBMI:",
    "RING",
    "+CRING:",
    "+CLIP:",
    "+CCWA:",
    "+CREG:",
    "+CGREG:",
    "+CEREG:",
    "+CUSD:",
    "+CIEV:",
    "+CGEV:",
    "+CSSI:",
    "+CSSU:",
    "+CFUN:",
    "+CPIN:",
    "+PBREADY",
    "RDY",
    "CALL READY",
    "SMS READY",
    "+ZDONR:",
    "+ZPASR:",
    "+ZUSIMR:",
    "+WIND:",
    "+QIND:",
    "+CUSATP:",
    "+CUSATEND",
    "+STIN:",
    "NO CARRIER",
    "+CTZV:",
    "+CTZE:",
    "+NITZ:",
    // Vendors' (see modem::profile): ZTE, Quectel, SIMCom, Telit, u-blox.
    "+ZEND",
    "+QUSIM:",
    "POWERED DOWN",
    "PB DONE",
    "SMS DONE",
    "#QSS:",
    "+UUPSDA:",
    "+UUPSDD:",
    "+UUSOCL:",
];

/// Whether `line` is an unsolicited result code, and its shape.
pub fn urc_shape(line: &str) -> Option<UrcShape> {
    let l = line.trim_start();
    if WITH_PDU.iter().any(|p| strip_prefix_ci(l, p).is_some()) {
        return Some(UrcShape::WithPdu);
    }
    if l.starts_with('^') || URCS.iter().any(|p| strip_prefix_ci(l, p).is_some()) {
        return Some(UrcShape::Line);
    }
    None
}

/// The prefix of the information lines a command answers with: `+CSQ:` for `AT+CSQ`,
/// `+CREG:` for `AT+CREG?`, `^CURC:` for `AT^CURC?`. `None` for basic commands (`ATI`).
pub fn response_prefix(command: &str) -> Option<String> {
    let rest = strip_prefix_ci(command.trim(), "AT")?;
    let first = rest.chars().next()?;
    if !matches!(first, '+' | '^' | '$' | '%' | '*' | '#' | '!') {
        return None;
    }
    let end = rest.find(['=', '?', ';']).unwrap_or(rest.len());
    if end < 2 {
        return None;
    }
    Some(format!("{}:", rest[..end].to_ascii_uppercase()))
}

/// Commands whose arguments are secrets: PINs, PUKs, facility passwords.
const SECRET_COMMANDS: &[&str] = &["AT+CPIN=", "AT+CPIN2=", "AT+CPWD=", "AT+CLCK=", "AT^CPIN="];

/// The line with secrets replaced by `***`, for logs (a command or its echo).
pub fn mask_secrets(line: &str) -> Cow<'_, str> {
    let t = line.trim_start();
    for c in SECRET_COMMANDS {
        if let Some(_rest) = strip_prefix_ci(t, c) {
            let keep = line.len() - t.len() + c.len();
            return Cow::Owned(format!("{}***", &line[..keep]));
        }
    }
    Cow::Borrowed(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finals() {
        assert_eq!(parse_final("OK"), Some(Final::Ok));
        assert_eq!(parse_final(" OK "), Some(Final::Ok));
        assert_eq!(parse_final("ERROR"), Some(Final::Error));
        let e = parse_final("+CMS ERROR: 304").unwrap();
        assert_eq!(e.cms(), Some(304));
        let e = parse_final("+CME ERROR: SIM not inserted").unwrap();
        assert_eq!(e.cme(), None);
        assert_eq!(e.to_string(), "+CME ERROR: SIM not inserted");
        assert_eq!(
            parse_final("+cme error: 11").and_then(|f| f.cme()),
            Some(11)
        );
        assert_eq!(
            parse_final("COMMAND NOT SUPPORT"),
            Some(Final::Vendor("COMMAND NOT SUPPORT".into()))
        );
        assert_eq!(parse_final("+CMGS: 5"), None);
        assert_eq!(parse_final("OKAY"), None);
    }

    #[test]
    fn urcs() {
        assert_eq!(urc_shape("+CMTI: \"SM\",3"), Some(UrcShape::Line));
        assert_eq!(urc_shape("+CMT: ,23"), Some(UrcShape::WithPdu));
        assert_eq!(urc_shape("+CDS: 25"), Some(UrcShape::WithPdu));
        assert_eq!(urc_shape("^RSSI: 17"), Some(UrcShape::Line));
        assert_eq!(urc_shape("^BOOT:12345,0,0,0,6"), Some(UrcShape::Line));
        assert_eq!(urc_shape("RING"), Some(UrcShape::Line));
        assert_eq!(urc_shape("+CMGS: 5"), None);
        assert_eq!(urc_shape("0791..."), None);
    }

    #[test]
    fn prefixes() {
        assert_eq!(response_prefix("AT+CSQ").as_deref(), Some("+CSQ:"));
        assert_eq!(response_prefix("AT+CREG?").as_deref(), Some("+CREG:"));
        assert_eq!(response_prefix("at+cmgs=23").as_deref(), Some("+CMGS:"));
        assert_eq!(response_prefix("AT^CURC=0").as_deref(), Some("^CURC:"));
        assert_eq!(response_prefix("ATI"), None);
        assert_eq!(response_prefix("AT"), None);
        assert_eq!(response_prefix("AT+"), None);
        assert_eq!(response_prefix("ÄT+X"), None);
    }

    #[test]
    fn pins_are_masked() {
        assert_eq!(mask_secrets("AT+CPIN=\"1234\""), "AT+CPIN=***");
        assert_eq!(mask_secrets("at+cpin=\"12345678\",\"1234\""), "at+cpin=***");
        assert_eq!(mask_secrets("AT+CLCK=\"SC\",0,\"1234\""), "AT+CLCK=***");
        assert_eq!(mask_secrets("AT+CPIN?"), "AT+CPIN?");
        assert_eq!(mask_secrets("+CPIN: READY"), "+CPIN: READY");
    }
}
