//! Errors of the codec: [`PduError`] for what cannot be decoded (always with the octet where
//! it went wrong), [`EncodeError`] for what cannot be encoded.

use std::fmt;

/// A PDU that cannot be decoded: what is wrong, and at which octet of the input.
///
/// `offset` counts octets from the start of the bytes given to the decoder (the SMSC
/// prefix included when there is one), so it points at the same place a person sees in
/// the hex a modem printed (octet `n` = hex digits `2n` and `2n+1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PduError {
    /// Octet offset into the decoder's input.
    pub offset: usize,
    /// What is wrong there.
    pub kind: PduErrorKind,
}

impl PduError {
    pub(crate) fn new(offset: usize, kind: PduErrorKind) -> Self {
        PduError { offset, kind }
    }
}

impl fmt::Display for PduError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at octet {})", self.kind, self.offset)
    }
}

impl std::error::Error for PduError {}

/// The ways a PDU can be malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PduErrorKind {
    /// The input ends before a field is complete.
    #[error("PDU ends early: {field} needs {needed} octet(s) but only {available} remain")]
    Truncated {
        field: &'static str,
        needed: usize,
        available: usize,
    },
    /// A length field holds a value the format does not allow.
    #[error("{field} length {len} is out of range (at most {max} {unit}){hint}")]
    BadLength {
        field: &'static str,
        len: usize,
        max: usize,
        unit: &'static str,
        hint: &'static str,
    },
    /// A semi-octet that is not a digit, `*`, `#`, `a`, `b` or `c`.
    #[error("invalid semi-octet 0x{nibble:X} in {field}")]
    BadDigit { field: &'static str, nibble: u8 },
    /// A PDU type this codec does not decode (DELIVER-REPORT, COMMAND, ...).
    #[error("unsupported PDU type: {0}")]
    Unsupported(&'static str),
    /// UCS-2 user data with an odd number of octets.
    #[error("UCS-2 user data has an odd number of octets ({0})")]
    OddUcs2(usize),
    /// A user data header that does not fit in the user data.
    #[error("user data header: {0}")]
    BadUdh(&'static str),
    /// The user data length says fewer septets than the header occupies.
    #[error("user data length {udl} septets is shorter than its {header} septet header")]
    UdlShorterThanHeader { udl: usize, header: usize },
    /// A character in a hex string that is not a hex digit.
    #[error("invalid hex character {0:?}")]
    BadHex(char),
    /// A hex string with an odd number of digits.
    #[error("hex string has an odd number of digits ({0})")]
    OddHex(usize),
    /// Nothing to decode.
    #[error("empty PDU")]
    Empty,
}

/// A message that cannot be encoded as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The text has a character outside the GSM 03.38 alphabet and GSM 7-bit was forced.
    #[error(
        "character {ch:?} at position {position} is not in the GSM 7-bit alphabet (use UCS-2)"
    )]
    NotGsm7 { ch: char, position: usize },
    /// The user data (with its header) does not fit into one PDU.
    #[error("user data is {len} {unit}, more than the {max} that fit in one PDU")]
    UserDataTooLong {
        len: usize,
        max: usize,
        unit: &'static str,
    },
    /// The text needs more parts than allowed.
    #[error("message needs {needed} parts, more than the {max} allowed")]
    TooManyParts { needed: usize, max: usize },
    /// An address (phone number, SMSC, sender) that cannot be encoded.
    #[error("invalid address {value:?}: {reason}")]
    BadAddress { value: String, reason: &'static str },
    /// Text user data under an 8-bit DCS, or binary user data under a text DCS.
    #[error("user data does not match the DCS alphabet ({0})")]
    DataMismatch(&'static str),
}
