//! Splitting a text into the parts of a concatenated message, counting what a text needs
//! before sending it (like `gammu-smsd-inject -autolen`), and joining received parts.
//!
//! Per part, with the 8-bit reference header (6 octets): 153 GSM septets, 67 UCS-2 code units
//! or 134 octets; a single part holds 160, 70 or 140. An extension character (two septets) and
//! a surrogate pair (two code units) are never split across parts.

use std::fmt;

use super::dcs::{Alphabet, Dcs};
use super::error::EncodeError;
use super::gsm7::{self, Septets};
use super::submit::Submit;
use super::ud::{self, UserData, MAX_UD_OCTETS, MAX_UD_SEPTETS};
use super::udh::{Concat, Udh};

/// Which alphabet to use for a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// GSM 7-bit when every character fits, otherwise UCS-2.
    #[default]
    Auto,
    /// GSM 7-bit or fail (with the first character that does not fit).
    Gsm7,
    /// UCS-2 even when GSM 7-bit would do.
    Ucs2,
}

/// The concatenation reference a multipart message carries in every part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConcatRef {
    /// IEI 00, one octet: what Gammu and most phones write.
    Eight(u8),
    /// IEI 08, two octets: one septet or code unit less per part.
    Sixteen(u16),
}

impl ConcatRef {
    fn header(self, total: u8, seq: u8) -> Udh {
        let (reference, sixteen_bit) = match self {
            ConcatRef::Eight(r) => (u16::from(r), false),
            ConcatRef::Sixteen(r) => (r, true),
        };
        Udh::concat(Concat {
            reference,
            sixteen_bit,
            total,
            seq,
        })
    }

    fn header_len(self) -> usize {
        match self {
            ConcatRef::Eight(_) => 6,
            ConcatRef::Sixteen(_) => 7,
        }
    }
}

/// Most parts one concatenated message can have.
pub const MAX_PARTS: usize = 255;

/// What a text needs: its alphabet, how many parts, and room left in the last part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub alphabet: Alphabet,
    /// Number of PDUs.
    pub parts: usize,
    /// Characters in the text (Unicode scalar values).
    pub chars: usize,
    /// Length in the alphabet's units: septets, UTF-16 code units or octets.
    pub units: usize,
    /// Units that fit in each part (160/70/140 for one part, 153/67/134 for several).
    pub per_part: usize,
    /// Units still free in the last part.
    pub remaining: usize,
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.alphabet {
            Alphabet::Gsm7 => "septets",
            Alphabet::Ucs2 => "UTF-16 units",
            Alphabet::Eight => "octets",
        };
        write!(
            f,
            "{} part{}, {}, {} characters, {} {unit} ({} per part, {} left in the last)",
            self.parts,
            if self.parts == 1 { "" } else { "s" },
            self.alphabet,
            self.chars,
            self.units,
            self.per_part,
            self.remaining
        )
    }
}

/// The alphabet `encoding` picks for `text`.
pub fn choose_alphabet(text: &str, encoding: Encoding) -> Result<Alphabet, EncodeError> {
    match encoding {
        Encoding::Ucs2 => Ok(Alphabet::Ucs2),
        Encoding::Auto if gsm7::is_gsm7(text) => Ok(Alphabet::Gsm7),
        Encoding::Auto => Ok(Alphabet::Ucs2),
        Encoding::Gsm7 => match gsm7::septet_count(text) {
            Ok(_) => Ok(Alphabet::Gsm7),
            Err((position, ch)) => Err(EncodeError::NotGsm7 { ch, position }),
        },
    }
}

/// Capacity of one part in units: alone (no header) or with a header of `header` octets.
fn capacity(alphabet: Alphabet, header: usize) -> usize {
    match alphabet {
        Alphabet::Gsm7 if header == 0 => MAX_UD_SEPTETS,
        Alphabet::Gsm7 => MAX_UD_SEPTETS - ud::header_septets(header).0,
        Alphabet::Ucs2 => (MAX_UD_OCTETS - header) / 2,
        Alphabet::Eight => MAX_UD_OCTETS - header,
    }
}

/// The units of each character of `text` in `alphabet`, in order.
fn unit_lengths(text: &str, alphabet: Alphabet) -> impl Iterator<Item = usize> + '_ {
    text.chars().map(move |c| match alphabet {
        Alphabet::Gsm7 => gsm7::septets_for(c).map_or(1, Septets::count),
        Alphabet::Ucs2 => c.len_utf16(),
        Alphabet::Eight => c.len_utf8(),
    })
}

/// Byte ranges of `text` for each part, never splitting a character.
fn chunk(text: &str, alphabet: Alphabet, per_part: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let (mut start, mut used) = (0, 0);
    for ((i, _), n) in text.char_indices().zip(unit_lengths(text, alphabet)) {
        if used + n > per_part {
            parts.push((start, i));
            start = i;
            used = 0;
        }
        used += n;
    }
    parts.push((start, text.len()));
    parts
}

/// How many parts and units `text` needs (`reference` decides the header size).
pub fn estimate(
    text: &str,
    encoding: Encoding,
    reference: ConcatRef,
) -> Result<Estimate, EncodeError> {
    let alphabet = choose_alphabet(text, encoding)?;
    let units: usize = unit_lengths(text, alphabet).sum();
    let single = capacity(alphabet, 0);
    let (parts, per_part, last) = if units <= single {
        (1, single, units)
    } else {
        let per = capacity(alphabet, reference.header_len());
        let chunks = chunk(text, alphabet, per);
        let (s, e) = chunks[chunks.len() - 1];
        (chunks.len(), per, unit_lengths(&text[s..e], alphabet).sum())
    };
    Ok(Estimate {
        alphabet,
        parts,
        chars: text.chars().count(),
        units,
        per_part,
        remaining: per_part - last,
    })
}

/// Splits `text` into SUBMITs, each a copy of `template` (recipient, SMSC, class, validity,
/// report request...) with its own DCS alphabet, concatenation header and text. A text that
/// fits one PDU gives one SUBMIT without a header. `template.udh` and `user_data` are
/// replaced.
pub fn split(
    template: &Submit,
    text: &str,
    encoding: Encoding,
    reference: ConcatRef,
) -> Result<Vec<Submit>, EncodeError> {
    let alphabet = choose_alphabet(text, encoding)?;
    let dcs = Dcs::new(alphabet, template.dcs.class());
    let units: usize = unit_lengths(text, alphabet).sum();
    let make = |udh, body: &str| Submit {
        dcs,
        udh,
        user_data: UserData::Text(body.to_string()),
        ..template.clone()
    };
    if units <= capacity(alphabet, 0) {
        return Ok(vec![make(None, text)]);
    }
    let chunks = chunk(text, alphabet, capacity(alphabet, reference.header_len()));
    if chunks.len() > MAX_PARTS {
        return Err(EncodeError::TooManyParts {
            needed: chunks.len(),
            max: MAX_PARTS,
        });
    }
    let total = chunks.len() as u8;
    Ok(chunks
        .iter()
        .zip(1..=total)
        .map(|(&(s, e), seq)| make(Some(reference.header(total, seq)), &text[s..e]))
        .collect())
}

/// Splits 8-bit data into SUBMITs (134 octets a part with the 8-bit reference).
pub fn split_data(
    template: &Submit,
    data: &[u8],
    reference: ConcatRef,
) -> Result<Vec<Submit>, EncodeError> {
    let dcs = Dcs::new(Alphabet::Eight, template.dcs.class());
    let make = |udh, body: &[u8]| Submit {
        dcs,
        udh,
        user_data: UserData::Binary(body.to_vec()),
        ..template.clone()
    };
    if data.len() <= MAX_UD_OCTETS {
        return Ok(vec![make(None, data)]);
    }
    let per = capacity(Alphabet::Eight, reference.header_len());
    let needed = data.len().div_ceil(per);
    if needed > MAX_PARTS {
        return Err(EncodeError::TooManyParts {
            needed,
            max: MAX_PARTS,
        });
    }
    Ok(data
        .chunks(per)
        .zip(1..=needed as u8)
        .map(|(c, seq)| make(Some(reference.header(needed as u8, seq)), c))
        .collect())
}

/// Why received parts cannot be joined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("part {0} of {1} is missing")]
    Missing(u8, u8),
    #[error("part {seq} is outside 1..={total}")]
    OutOfRange { seq: u8, total: u8 },
    #[error("part {0} arrived twice with different contents")]
    Conflict(u8),
    #[error("the parts mix text and 8-bit data")]
    Mixed,
    #[error("no parts")]
    Empty,
}

/// Joins the parts of one concatenated message, given as (sequence number, user data) in
/// any order, into its whole text or data. `total` is the part count from the header.
/// A part repeated with the same contents (modems do deliver twice) is taken once.
pub fn join<'a>(
    total: u8,
    parts: impl IntoIterator<Item = (u8, &'a UserData)>,
) -> Result<UserData, JoinError> {
    let mut slots: Vec<Option<&UserData>> = vec![None; usize::from(total)];
    for (seq, ud) in parts {
        let slot = usize::from(seq)
            .checked_sub(1)
            .and_then(|i| slots.get_mut(i))
            .ok_or(JoinError::OutOfRange { seq, total })?;
        match slot {
            Some(prev) if *prev != ud => return Err(JoinError::Conflict(seq)),
            _ => *slot = Some(ud),
        }
    }
    if total == 0 {
        return Err(JoinError::Empty);
    }
    let mut text = String::new();
    let mut data = Vec::new();
    let mut kinds = (false, false);
    for (i, s) in slots.iter().enumerate() {
        match s.ok_or(JoinError::Missing(i as u8 + 1, total))? {
            UserData::Text(t) => {
                kinds.0 = true;
                text.push_str(t);
            }
            UserData::Binary(b) => {
                kinds.1 = true;
                data.extend_from_slice(b);
            }
        }
    }
    match kinds {
        (true, false) => Ok(UserData::Text(text)),
        (false, true) => Ok(UserData::Binary(data)),
        _ => Err(JoinError::Mixed),
    }
}
