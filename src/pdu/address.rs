//! Addresses (GSM 03.40 9.1.2.5): the SMSC address, TP-OA, TP-DA and TP-RA.
//!
//! An address is a *type of address* octet (TOA: type of number, TON, and numbering plan,
//! NPI) and a value. Digits travel as swapped semi-octets (nibbles), `F` filling an odd
//! count; alphanumeric senders (TON 5) travel as packed GSM 7-bit septets.

use std::fmt;

use super::error::{EncodeError, PduError, PduErrorKind};
use super::gsm7;
use super::reader::Reader;

/// Type of number (TON), bits 6..4 of the TOA octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ton {
    Unknown,
    International,
    National,
    NetworkSpecific,
    Subscriber,
    /// Letters and digits packed as GSM 7-bit (a sender name such as `MyBank`).
    Alphanumeric,
    Abbreviated,
    Reserved,
}

impl Ton {
    fn from_bits(b: u8) -> Ton {
        match b & 7 {
            0 => Ton::Unknown,
            1 => Ton::International,
            2 => Ton::National,
            3 => Ton::NetworkSpecific,
            4 => Ton::Subscriber,
            5 => Ton::Alphanumeric,
            6 => Ton::Abbreviated,
            _ => Ton::Reserved,
        }
    }

    fn bits(self) -> u8 {
        match self {
            Ton::Unknown => 0,
            Ton::International => 1,
            Ton::National => 2,
            Ton::NetworkSpecific => 3,
            Ton::Subscriber => 4,
            Ton::Alphanumeric => 5,
            Ton::Abbreviated => 6,
            Ton::Reserved => 7,
        }
    }
}

/// Numbering plan identification (NPI), bits 3..0 of the TOA octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Npi {
    Unknown,
    /// ISDN/telephone numbering plan (E.164), what phone numbers use.
    Isdn,
    Data,
    Telex,
    National,
    Private,
    Ermes,
    /// Any other value, kept as it came.
    Other(u8),
}

impl Npi {
    fn from_bits(b: u8) -> Npi {
        match b & 0x0F {
            0 => Npi::Unknown,
            1 => Npi::Isdn,
            3 => Npi::Data,
            4 => Npi::Telex,
            8 => Npi::National,
            9 => Npi::Private,
            10 => Npi::Ermes,
            n => Npi::Other(n),
        }
    }

    fn bits(self) -> u8 {
        match self {
            Npi::Unknown => 0,
            Npi::Isdn => 1,
            Npi::Data => 3,
            Npi::Telex => 4,
            Npi::National => 8,
            Npi::Private => 9,
            Npi::Ermes => 10,
            Npi::Other(n) => n & 0x0F,
        }
    }
}

/// A phone number or alphanumeric sender with its type of address.
///
/// `value` holds the digits without a `+` (international numbers carry
/// [`Ton::International`] instead); [`fmt::Display`] writes the `+` back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    pub ton: Ton,
    pub npi: Npi,
    pub value: String,
}

/// Longest address value in a TPDU: 20 semi-octets.
const MAX_DIGITS: usize = 20;
/// Longest SMSC address: a TOA octet and ten octets of digits.
const MAX_SMSC_OCTETS: usize = 11;
/// Longest alphanumeric address: 11 characters (20 semi-octets of septets).
const MAX_ALPHANUMERIC: usize = 11;

fn digit_nibble(c: char) -> Option<u8> {
    Some(match c {
        '0'..='9' => c as u8 - b'0',
        '*' => 0x0A,
        '#' => 0x0B,
        'a' | 'A' => 0x0C,
        'b' | 'B' => 0x0D,
        'c' | 'C' => 0x0E,
        _ => return None,
    })
}

fn nibble_digit(n: u8) -> Option<char> {
    Some(match n {
        0..=9 => (b'0' + n) as char,
        0x0A => '*',
        0x0B => '#',
        0x0C => 'a',
        0x0D => 'b',
        0x0E => 'c',
        _ => return None,
    })
}

impl Address {
    /// A phone number: `+` and digits for an international number, digits (and `*`, `#`)
    /// otherwise. Spaces, dashes, dots and parentheses people write in numbers are ignored.
    /// A number written with the `00` international prefix (`0048...`) is international
    /// (`+48...`), as Gammu writes it.
    pub fn number(number: &str) -> Result<Address, EncodeError> {
        let bad = |reason| EncodeError::BadAddress {
            value: number.to_string(),
            reason,
        };
        let trimmed = number.trim();
        let (ton, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (Ton::International, rest),
            None => (Ton::Unknown, trimmed),
        };
        let mut value = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                ' ' | '-' | '.' | '(' | ')' => {}
                '0'..='9' | '*' | '#' => value.push(c),
                _ => {
                    return Err(bad(
                        "a phone number has only digits, '*', '#' and a leading '+'",
                    ))
                }
            }
        }
        if value.is_empty() {
            return Err(bad("no digits"));
        }
        if ton == Ton::Unknown && value.len() > 2 && value.starts_with("00") {
            return Ok(Address {
                ton: Ton::International,
                npi: Npi::Isdn,
                value: value[2..].to_string(),
            });
        }
        if value.len() > MAX_DIGITS {
            return Err(bad("more than 20 digits"));
        }
        Ok(Address {
            ton,
            npi: Npi::Isdn,
            value,
        })
    }

    /// An alphanumeric sender name (TON 5): up to 11 characters of the GSM 7-bit alphabet.
    pub fn alphanumeric(name: &str) -> Result<Address, EncodeError> {
        let bad = |reason| EncodeError::BadAddress {
            value: name.to_string(),
            reason,
        };
        match gsm7::septet_count(name) {
            Err(_) => Err(bad("a sender name must be in the GSM 7-bit alphabet")),
            Ok(0) => Err(bad("empty sender name")),
            Ok(n) if n > MAX_ALPHANUMERIC => Err(bad("a sender name has at most 11 characters")),
            Ok(_) => Ok(Address {
                ton: Ton::Alphanumeric,
                npi: Npi::Unknown,
                value: name.to_string(),
            }),
        }
    }

    /// A phone number when `s` looks like one, an alphanumeric sender otherwise.
    pub fn parse(s: &str) -> Result<Address, EncodeError> {
        Address::number(s).or_else(|e| {
            if s.trim_start().starts_with('+') || s.chars().all(|c| c.is_ascii_digit()) {
                Err(e)
            } else {
                Address::alphanumeric(s)
            }
        })
    }

    /// The type-of-address octet.
    pub fn toa(&self) -> u8 {
        0x80 | (self.ton.bits() << 4) | self.npi.bits()
    }

    fn from_toa(toa: u8, value: String) -> Address {
        Address {
            ton: Ton::from_bits(toa >> 4),
            npi: Npi::from_bits(toa),
            value,
        }
    }

    /// Writes the address as TP-OA/TP-DA/TP-RA: length in semi-octets, TOA, value.
    pub(crate) fn encode_tp(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.ton == Ton::Alphanumeric {
            let mut septets = Vec::with_capacity(MAX_ALPHANUMERIC);
            gsm7::to_septets(&self.value, &mut septets).map_err(|_| EncodeError::BadAddress {
                value: self.value.clone(),
                reason: "a sender name must be in the GSM 7-bit alphabet",
            })?;
            if septets.len() > MAX_ALPHANUMERIC {
                return Err(EncodeError::BadAddress {
                    value: self.value.clone(),
                    reason: "a sender name has at most 11 characters",
                });
            }
            out.push((septets.len() * 7).div_ceil(4) as u8);
            out.push(self.toa());
            gsm7::pack(&septets, 0, out);
            return Ok(());
        }
        let len = self.value.chars().count();
        if len > MAX_DIGITS {
            return Err(EncodeError::BadAddress {
                value: self.value.clone(),
                reason: "more than 20 digits",
            });
        }
        out.push(len as u8);
        out.push(self.toa());
        self.encode_digits(out)
    }

    /// Writes the address as the SMSC prefix: length in octets, TOA, digits.
    pub(crate) fn encode_smsc(
        smsc: Option<&Address>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let Some(a) = smsc.filter(|a| !a.value.is_empty()) else {
            out.push(0);
            return Ok(());
        };
        let digits = a.value.chars().count();
        let octets = 1 + digits.div_ceil(2);
        if octets > MAX_SMSC_OCTETS || a.ton == Ton::Alphanumeric {
            return Err(EncodeError::BadAddress {
                value: a.value.clone(),
                reason: "an SMSC number has at most 20 digits",
            });
        }
        out.push(octets as u8);
        out.push(a.toa());
        a.encode_digits(out)
    }

    fn encode_digits(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut pending: Option<u8> = None;
        for c in self.value.chars() {
            let n = digit_nibble(c).ok_or_else(|| EncodeError::BadAddress {
                value: self.value.clone(),
                reason: "a phone number has only digits, '*', '#' and a leading '+'",
            })?;
            match pending.take() {
                None => pending = Some(n),
                Some(lo) => out.push(lo | (n << 4)),
            }
        }
        if let Some(lo) = pending {
            out.push(lo | 0xF0);
        }
        Ok(())
    }

    /// Reads TP-OA/TP-DA/TP-RA.
    pub(crate) fn decode_tp(r: &mut Reader<'_>, field: &'static str) -> Result<Address, PduError> {
        let len_at = r.pos();
        let len = usize::from(r.u8(field)?);
        if len > MAX_DIGITS {
            return Err(PduError::new(
                len_at,
                PduErrorKind::BadLength {
                    field,
                    len,
                    max: MAX_DIGITS,
                    unit: "semi-octets",
                    hint: "",
                },
            ));
        }
        let toa = r.u8(field)?;
        let octets = r.take(len.div_ceil(2), field)?;
        if Ton::from_bits(toa >> 4) == Ton::Alphanumeric {
            let septets = len * 4 / 7;
            let mut value = String::with_capacity(septets);
            gsm7::decode_septets(gsm7::unpack(octets, 0, septets), &mut value);
            return Ok(Address::from_toa(toa, value));
        }
        let value = decode_digits(octets, len, field, len_at + 2)?;
        Ok(Address::from_toa(toa, value))
    }

    /// Reads the SMSC prefix; `None` when its length is 0 or it holds no digits.
    pub(crate) fn decode_smsc(r: &mut Reader<'_>) -> Result<Option<Address>, PduError> {
        const FIELD: &str = "SMSC address";
        let len = usize::from(r.u8(FIELD)?);
        if len == 0 {
            return Ok(None);
        }
        if len > MAX_SMSC_OCTETS {
            return Err(PduError::new(
                0,
                PduErrorKind::BadLength {
                    field: FIELD,
                    len,
                    max: MAX_SMSC_OCTETS,
                    unit: "octets",
                    hint: "; if this PDU has no SMSC prefix, decode it as a bare TPDU",
                },
            ));
        }
        let toa = r.u8(FIELD)?;
        let octets = r.take(len - 1, FIELD)?;
        // The digit count is not given: a final F nibble is filler.
        let digits = match octets.last() {
            Some(last) if last >> 4 == 0x0F => octets.len() * 2 - 1,
            _ => octets.len() * 2,
        };
        let value = decode_digits(octets, digits, FIELD, 2)?;
        if value.is_empty() {
            return Ok(None);
        }
        Ok(Some(Address::from_toa(toa, value)))
    }
}

/// Decodes `count` swapped semi-octets. `base` is the octet offset of `octets` in the input,
/// for error positions. The filler of an odd count is not checked (modems write `F` or `0`).
fn decode_digits(
    octets: &[u8],
    count: usize,
    field: &'static str,
    base: usize,
) -> Result<String, PduError> {
    let mut s = String::with_capacity(count);
    for i in 0..count {
        let b = octets[i / 2];
        let n = if i % 2 == 0 { b & 0x0F } else { b >> 4 };
        match nibble_digit(n) {
            Some(c) => s.push(c),
            None => {
                return Err(PduError::new(
                    base + i / 2,
                    PduErrorKind::BadDigit { field, nibble: n },
                ))
            }
        }
    }
    Ok(s)
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ton == Ton::International && !self.value.starts_with('+') {
            f.write_str("+")?;
        }
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(a: &Address) -> Vec<u8> {
        let mut v = Vec::new();
        a.encode_tp(&mut v).unwrap();
        v
    }

    #[test]
    fn international_number_has_swapped_digits_and_filler() {
        let a = Address::number("+48123456789").unwrap();
        assert_eq!(tp(&a), [0x0B, 0x91, 0x84, 0x21, 0x43, 0x65, 0x87, 0xF9]);
        assert_eq!(a.to_string(), "+48123456789");
    }

    #[test]
    fn alphanumeric_sender_packs_septets() {
        // "Alpha": 35 bits = 9 useful semi-octets (Gammu writes 0A, whole octets; both
        // decode to five characters).
        let a = Address::alphanumeric("Alpha").unwrap();
        assert_eq!(tp(&a), [0x09, 0xD0, 0x41, 0x36, 0x1C, 0x1D, 0x06]);
        let mut r = Reader::new(&[0x0A, 0xD0, 0x41, 0x36, 0x1C, 0x1D, 0x06]);
        assert_eq!(Address::decode_tp(&mut r, "TP-OA").unwrap(), a);
    }

    #[test]
    fn numbers_people_write_are_cleaned() {
        assert_eq!(
            Address::number(" +48 (12) 345-67.89 ").unwrap().value,
            "48123456789"
        );
        assert!(Address::number("+").is_err());
        assert_eq!(Address::number("0048601").unwrap().to_string(), "+48601");
        assert_eq!(Address::number("0048601").unwrap().ton, Ton::International);
        assert_eq!(Address::number("00").unwrap().ton, Ton::Unknown);
        assert!(Address::number("12a").is_err());
        assert!(Address::number("123456789012345678901").is_err());
        assert_eq!(Address::parse("MyBank").unwrap().ton, Ton::Alphanumeric);
        assert!(Address::parse("+12x").is_err());
        assert!(Address::parse("TooLongSenderName").is_err());
    }

    #[test]
    fn smsc_of_length_zero_is_none() {
        let mut r = Reader::new(&[0x00]);
        assert_eq!(Address::decode_smsc(&mut r).unwrap(), None);
        let mut out = Vec::new();
        Address::encode_smsc(None, &mut out).unwrap();
        assert_eq!(out, [0]);
    }

    #[test]
    fn oversized_smsc_length_says_what_to_try() {
        let mut r = Reader::new(&[0x24, 0x91]);
        let e = Address::decode_smsc(&mut r).unwrap_err();
        assert!(e.to_string().contains("bare TPDU"), "{e}");
    }

    #[test]
    fn bad_digit_is_reported_at_its_octet() {
        let mut r = Reader::new(&[0x04, 0x81, 0x21, 0xF3]);
        let e = Address::decode_tp(&mut r, "TP-OA").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(matches!(e.kind, PduErrorKind::BadDigit { nibble: 0xF, .. }));
    }
}
