//! The GSM 03.38 (3GPP TS 23.038) default alphabet, its extension table, and septet packing.
//!
//! A *septet* is one 7-bit code of the default alphabet. Characters of the extension table
//! (`€ [ ] { } | ~ ^ \` and form feed) take two septets: the escape `0x1B`, then the code.
//! Septets travel packed, eight in seven octets, least significant bit first; after a user
//! data header the text starts on a septet boundary, so *fill bits* (zero bits) pad the header.

/// The escape septet that switches to the extension table for one character.
pub const ESCAPE: u8 = 0x1B;

/// The default alphabet, indexed by septet. `0x1B` is the escape (shown as a space if it is
/// the last septet, as TS 23.038 suggests).
const DEFAULT: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// Septet for each ASCII character that is in the default table; `NONE` otherwise.
const NONE: u8 = 0xFF;
const ASCII: [u8; 128] = build_ascii();

const fn build_ascii() -> [u8; 128] {
    let mut t = [NONE; 128];
    let mut i = 0;
    while i < 128 {
        let c = DEFAULT[i] as u32;
        if c < 128 && i != ESCAPE as usize {
            t[c as usize] = i as u8;
        }
        i += 1;
    }
    t
}

/// The extension table character for a septet after the escape, if it has one.
pub fn extension_char(septet: u8) -> Option<char> {
    Some(match septet {
        0x0A => '\u{0C}',
        0x14 => '^',
        0x28 => '{',
        0x29 => '}',
        0x2F => '\\',
        0x3C => '[',
        0x3D => '~',
        0x3E => ']',
        0x40 => '|',
        0x65 => '€',
        _ => return None,
    })
}

/// How a character is written in GSM 7-bit: one septet, or the escape and one septet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Septets {
    /// A character of the default table.
    One(u8),
    /// A character of the extension table: escape, then this septet.
    Escaped(u8),
}

impl Septets {
    /// How many septets the character takes (1 or 2).
    pub fn count(self) -> usize {
        match self {
            Septets::One(_) => 1,
            Septets::Escaped(_) => 2,
        }
    }
}

/// The septets for a character, or `None` when it is not in the GSM 03.38 alphabet.
///
/// `ç` is not in it: 0x09 is `Ç`. Gammu writes `ç` as 0x09 and the recipient sees `Ç`; we
/// send such a text as UCS-2 instead, so that it arrives as written (found by fuzzing the
/// split/encode/decode/join round trip).
#[inline]
pub fn septets_for(c: char) -> Option<Septets> {
    let cp = c as u32;
    if cp < 128 {
        let s = ASCII[cp as usize];
        if s != NONE {
            return Some(Septets::One(s));
        }
    }
    Some(match c {
        '\u{0C}' => Septets::Escaped(0x0A),
        '^' => Septets::Escaped(0x14),
        '{' => Septets::Escaped(0x28),
        '}' => Septets::Escaped(0x29),
        '\\' => Septets::Escaped(0x2F),
        '[' => Septets::Escaped(0x3C),
        '~' => Septets::Escaped(0x3D),
        ']' => Septets::Escaped(0x3E),
        '|' => Septets::Escaped(0x40),
        '€' => Septets::Escaped(0x65),
        _ if cp < 128 => return None,
        _ => match DEFAULT.iter().position(|&d| d == c) {
            Some(i) if i != ESCAPE as usize => Septets::One(i as u8),
            _ => return None,
        },
    })
}

/// Number of septets `text` takes in GSM 7-bit, or the first character (and its char
/// position) that does not fit.
pub fn septet_count(text: &str) -> Result<usize, (usize, char)> {
    let mut n = 0;
    for (i, c) in text.chars().enumerate() {
        n += septets_for(c).ok_or((i, c))?.count();
    }
    Ok(n)
}

/// True when every character of `text` is in the GSM 03.38 alphabet.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| septets_for(c).is_some())
}

/// Appends the unpacked septets of `text` to `out`; fails on the first character that does
/// not fit, with its char position.
pub fn to_septets(text: &str, out: &mut Vec<u8>) -> Result<(), (usize, char)> {
    for (i, c) in text.chars().enumerate() {
        match septets_for(c).ok_or((i, c))? {
            Septets::One(s) => out.push(s),
            Septets::Escaped(s) => {
                out.push(ESCAPE);
                out.push(s);
            }
        }
    }
    Ok(())
}

/// Decodes unpacked septets into text, appending to `out`.
///
/// An escape followed by a code the extension table does not define shows the default
/// table's character for that code (TS 23.038 6.2.1.1); a trailing escape shows a space.
pub fn decode_septets(septets: impl IntoIterator<Item = u8>, out: &mut String) {
    let mut escaped = false;
    for s in septets {
        let s = s & 0x7F;
        if escaped {
            escaped = false;
            match extension_char(s) {
                Some(c) => out.push(c),
                None if s == ESCAPE => out.push(' '),
                None => out.push(DEFAULT[s as usize]),
            }
        } else if s == ESCAPE {
            escaped = true;
        } else {
            out.push(DEFAULT[s as usize]);
        }
    }
    if escaped {
        out.push(' ');
    }
}

/// Octets needed for `septets` septets packed after `fill_bits` fill bits.
pub fn packed_len(septets: usize, fill_bits: usize) -> usize {
    (fill_bits + septets * 7).div_ceil(8)
}

/// Packs septets eight into seven octets, after `fill_bits` zero bits, appending to `out`.
pub fn pack(septets: &[u8], fill_bits: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + packed_len(septets.len(), fill_bits), 0);
    let buf = &mut out[start..];
    for (i, &s) in septets.iter().enumerate() {
        let bit = fill_bits + i * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let s = u16::from(s & 0x7F) << shift;
        buf[byte] |= s as u8;
        if shift > 1 {
            buf[byte + 1] |= (s >> 8) as u8;
        }
    }
}

/// Iterates over `count` septets packed in `data` after `fill_bits` fill bits. Septets
/// beyond the end of `data` are not produced (callers check the length first).
pub fn unpack(data: &[u8], fill_bits: usize, count: usize) -> impl Iterator<Item = u8> + '_ {
    (0..count).map_while(move |i| {
        let bit = fill_bits + i * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let lo = u16::from(*data.get(byte)?);
        let hi = if shift > 1 {
            u16::from(*data.get(byte + 1)?)
        } else {
            0
        };
        Some((((hi << 8) | lo) >> shift) as u8 & 0x7F)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(text: &str, fill: usize) -> Vec<u8> {
        let mut s = Vec::new();
        to_septets(text, &mut s).unwrap();
        let mut out = Vec::new();
        pack(&s, fill, &mut out);
        out
    }

    #[test]
    fn packs_the_ts_23038_example() {
        // "hellohello" is the classic example: E8 32 9B FD 46 97 D9 EC 37.
        assert_eq!(
            packed("hellohello", 0),
            [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
    }

    #[test]
    fn eight_septets_fill_seven_octets() {
        assert_eq!(packed("12345678", 0).len(), 7);
        assert_eq!(packed("1234567", 0).len(), 7);
    }

    #[test]
    fn unpack_reverses_pack_with_every_fill() {
        let text = "The quick brown fox €[]{} jumps";
        let mut s = Vec::new();
        to_septets(text, &mut s).unwrap();
        for fill in 0..7 {
            let mut out = Vec::new();
            pack(&s, fill, &mut out);
            let back: Vec<u8> = unpack(&out, fill, s.len()).collect();
            assert_eq!(back, s, "fill {fill}");
            let mut t = String::new();
            decode_septets(back, &mut t);
            assert_eq!(t, text);
        }
    }

    #[test]
    fn extension_characters_take_two_septets() {
        for c in ['€', '[', ']', '{', '}', '|', '~', '^', '\\', '\u{0C}'] {
            assert_eq!(septets_for(c).map(Septets::count), Some(2), "{c:?}");
        }
        assert_eq!(septet_count("a€b"), Ok(4));
    }

    #[test]
    fn every_default_character_round_trips() {
        for (i, &c) in DEFAULT.iter().enumerate() {
            if i == ESCAPE as usize {
                continue;
            }
            assert_eq!(septets_for(c), Some(Septets::One(i as u8)), "{c:?}");
        }
    }

    #[test]
    fn characters_outside_the_alphabet_are_refused() {
        assert_eq!(septet_count("ok ł"), Err((3, 'ł')));
        assert!(!is_gsm7("😀"));
        assert!(!is_gsm7("`"));
        assert!(is_gsm7("Grüße, Ça va? ΔΦΓ"));
        // Regression (fuzzing): 'ç' would come back as 'Ç'.
        assert!(!is_gsm7("==ç"));
    }

    #[test]
    fn unknown_escape_shows_the_default_character_and_trailing_escape_a_space() {
        let mut t = String::new();
        decode_septets([ESCAPE, 0x41, ESCAPE], &mut t);
        assert_eq!(t, "A ");
    }

    #[test]
    fn unpack_stops_at_the_end_of_short_data() {
        assert_eq!(unpack(&[0xE8], 0, 5).count(), 1);
    }
}
