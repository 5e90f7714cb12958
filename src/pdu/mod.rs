//! The SMS PDU codec: GSM 03.40 (3GPP TS 23.040) transfer PDUs and the GSM 03.38
//! (TS 23.038) alphabets. Pure: no I/O, no async; every decoder takes untrusted bytes and
//! returns a [`PduError`] (what, and at which octet) instead of panicking.
//!
//! A PDU as modems print it (`AT+CMGR`, `AT+CMGL`) and take it (`AT+CMGS`) is the SMSC
//! address, then the TPDU. The TPDU's first octet holds TP-MTI, the message type indicator;
//! its meaning depends on the direction: SC→MS `00` DELIVER, `10` STATUS-REPORT; MS→SC
//! `01` SUBMIT. Sent messages a modem stores are SUBMITs, so by default each MTI is read as
//! the one type this codec decodes for it.
//!
//! ```
//! use smsgw::pdu::{self, Address, ConcatRef, Encoding, Submit};
//!
//! let template = Submit::new(Address::number("+48123456789").unwrap(), "");
//! let parts = pdu::split(&template, "Hello €", Encoding::Auto, ConcatRef::Eight(7)).unwrap();
//! let encoded = parts[0].encode().unwrap();
//! assert_eq!(encoded.to_hex(), "0001000B918421436587F9000008C8329BFD066DCA");
//! assert_eq!(encoded.tpdu_len(), 20); // what AT+CMGS=<n> takes
//! ```

mod address;
mod dcs;
mod deliver;
mod error;
pub mod gsm7;
mod reader;
mod split;
mod status_report;
mod submit;
mod time;
mod ud;
mod udh;

pub use address::{Address, Npi, Ton};
pub use dcs::{Alphabet, Dcs, MessageClass, MessageWaiting, WaitingKind};
pub use deliver::Deliver;
pub use error::{EncodeError, PduError, PduErrorKind};
pub use split::{
    choose_alphabet, estimate, join, split, split_data, ConcatRef, Encoding, Estimate, JoinError,
    MAX_PARTS,
};
pub use status_report::{DeliveryStatus, StatusReport};
pub use submit::Submit;
pub use time::{Scts, Validity};
pub use ud::{UserData, MAX_UD_OCTETS, MAX_UD_SEPTETS};
pub use udh::{Concat, Udh, UdhElement};

use reader::Reader;

/// An encoded PDU: the SMSC prefix followed by the TPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// SMSC prefix and TPDU.
    pub bytes: Vec<u8>,
    /// Octets of the SMSC prefix (1 for `00`).
    pub smsc_len: usize,
}

impl Encoded {
    /// The TPDU without the SMSC prefix.
    pub fn tpdu(&self) -> &[u8] {
        &self.bytes[self.smsc_len..]
    }

    /// The length `AT+CMGS=<n>` wants: TPDU octets only, not the SMSC prefix.
    pub fn tpdu_len(&self) -> usize {
        self.bytes.len() - self.smsc_len
    }

    /// Upper-case hex of the whole PDU, as written to a modem.
    pub fn to_hex(&self) -> String {
        to_hex(&self.bytes)
    }
}

/// A decoded PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    Deliver(Deliver),
    Submit(Submit),
    StatusReport(StatusReport),
}

/// Which way the PDU travelled, which decides what its TP-MTI means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Read `00` as DELIVER, `01` as SUBMIT, `10` as STATUS-REPORT: right for everything a
    /// modem lists (received messages, reports, and sent messages it stored).
    #[default]
    Infer,
    /// From the SMSC to the phone: DELIVER, SUBMIT-REPORT (not decoded), STATUS-REPORT.
    ScToMs,
    /// From the phone to the SMSC: DELIVER-REPORT (not decoded), SUBMIT, COMMAND (not decoded).
    MsToSc,
}

/// Whether the input starts with an SMSC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmscPrefix {
    /// It does: what `AT+CMGR`/`AT+CMGL` print (`00` when the modem has none to show).
    #[default]
    Present,
    /// It does not: a bare TPDU.
    Absent,
    /// Try with the prefix, and without when that fails (old phase-1 devices omit it).
    Auto,
}

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeOptions {
    pub smsc: SmscPrefix,
    pub direction: Direction,
    /// Read past what libGammu reads past in PDUs phones store (user data shorter than
    /// TP-UDL says, TP-UDHI set with no user data), noting each such thing, instead of
    /// refusing the PDU. The daemon reads a modem's messages this way; strict is the default.
    pub lenient: bool,
}

/// How the daemon reads what a modem lists or the network delivers: with or without the
/// SMSC prefix, the type from TP-MTI, lenient as libGammu.
pub const RECEIVED: DecodeOptions = DecodeOptions {
    smsc: SmscPrefix::Auto,
    direction: Direction::Infer,
    lenient: true,
};

/// Decodes a PDU with its SMSC prefix, the type from TP-MTI.
pub fn decode(bytes: &[u8]) -> Result<Pdu, PduError> {
    decode_with(bytes, DecodeOptions::default())
}

/// Decodes a PDU as `options` say.
pub fn decode_with(bytes: &[u8], options: DecodeOptions) -> Result<Pdu, PduError> {
    decode_noting(bytes, options).map(|(p, _)| p)
}

/// Decodes a PDU as `options` say; also returns what was off in it and read past (only with
/// `options.lenient`), for a warning. Anything else that is off is an error.
pub fn decode_noting(bytes: &[u8], options: DecodeOptions) -> Result<(Pdu, Vec<String>), PduError> {
    match options.smsc {
        SmscPrefix::Present => decode_from(bytes, true, options),
        SmscPrefix::Absent => decode_from(bytes, false, options),
        SmscPrefix::Auto => match decode_from(bytes, true, options) {
            // A clean reading wins over one that needs to read past something.
            Ok((p, q)) if q.is_empty() => Ok((p, q)),
            first => match (first, decode_from(bytes, false, options)) {
                (_, Ok((p, q))) if q.is_empty() => Ok((p, q)),
                (Ok(f), _) => Ok(f),
                (Err(_), Ok(s)) => Ok(s),
                (Err(e), Err(_)) => Err(e),
            },
        },
    }
}

fn decode_from(
    bytes: &[u8],
    with_smsc: bool,
    options: DecodeOptions,
) -> Result<(Pdu, Vec<String>), PduError> {
    if bytes.is_empty() {
        return Err(PduError::new(0, PduErrorKind::Empty));
    }
    let direction = options.direction;
    let mut r = Reader::new(bytes);
    r.lenient = options.lenient;
    let smsc = if with_smsc {
        Address::decode_smsc(&mut r)?
    } else {
        None
    };
    let first_at = r.pos();
    let first = r.peek().ok_or_else(|| {
        r.error(PduErrorKind::Truncated {
            field: "first octet",
            needed: 1,
            available: 0,
        })
    })?;
    let unsupported = |what| Err(PduError::new(first_at, PduErrorKind::Unsupported(what)));
    let pdu = match (first & 0x03, direction) {
        (deliver::MTI, Direction::Infer | Direction::ScToMs) => {
            Deliver::decode_tpdu(&mut r, smsc).map(Pdu::Deliver)
        }
        (submit::MTI, Direction::Infer | Direction::MsToSc) => {
            Submit::decode_tpdu(&mut r, smsc).map(Pdu::Submit)
        }
        (status_report::MTI, Direction::Infer | Direction::ScToMs) => {
            StatusReport::decode_tpdu(&mut r, smsc).map(Pdu::StatusReport)
        }
        (deliver::MTI, Direction::MsToSc) => unsupported("SMS-DELIVER-REPORT"),
        (submit::MTI, Direction::ScToMs) => unsupported("SMS-SUBMIT-REPORT"),
        (status_report::MTI, Direction::MsToSc) => unsupported("SMS-COMMAND"),
        _ => unsupported("reserved TP-MTI 11"),
    }?;
    Ok((pdu, r.quirks))
}

fn strict(direction: Direction) -> DecodeOptions {
    DecodeOptions {
        direction,
        ..DecodeOptions::default()
    }
}

impl Deliver {
    /// Decodes an SMS-DELIVER with its SMSC prefix.
    pub fn decode(bytes: &[u8]) -> Result<Deliver, PduError> {
        match decode_from(bytes, true, strict(Direction::ScToMs))?.0 {
            Pdu::Deliver(d) => Ok(d),
            _ => Err(PduError::new(
                0,
                PduErrorKind::Unsupported("not an SMS-DELIVER"),
            )),
        }
    }
}

impl StatusReport {
    /// Decodes an SMS-STATUS-REPORT with its SMSC prefix.
    pub fn decode(bytes: &[u8]) -> Result<StatusReport, PduError> {
        match decode_from(bytes, true, strict(Direction::ScToMs))?.0 {
            Pdu::StatusReport(s) => Ok(s),
            _ => Err(PduError::new(
                0,
                PduErrorKind::Unsupported("not an SMS-STATUS-REPORT"),
            )),
        }
    }
}

impl Submit {
    /// Decodes an SMS-SUBMIT with its SMSC prefix.
    pub fn decode(bytes: &[u8]) -> Result<Submit, PduError> {
        match decode_from(bytes, true, strict(Direction::MsToSc))?.0 {
            Pdu::Submit(s) => Ok(s),
            _ => Err(PduError::new(
                0,
                PduErrorKind::Unsupported("not an SMS-SUBMIT"),
            )),
        }
    }
}

/// Upper-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0F)] as char);
    }
    s
}

/// Bytes of a hex string (either case; surrounding whitespace ignored). Errors name the
/// octet the bad digit belongs to.
pub fn from_hex(hex: &str) -> Result<Vec<u8>, PduError> {
    let hex = hex.trim();
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut high: Option<u8> = None;
    for (i, c) in hex.chars().enumerate() {
        let d = c
            .to_digit(16)
            .ok_or_else(|| PduError::new(i / 2, PduErrorKind::BadHex(c)))? as u8;
        match high.take() {
            None => high = Some(d),
            Some(h) => out.push(h << 4 | d),
        }
    }
    if high.is_some() {
        return Err(PduError::new(
            out.len(),
            PduErrorKind::OddHex(out.len() * 2 + 1),
        ));
    }
    Ok(out)
}
