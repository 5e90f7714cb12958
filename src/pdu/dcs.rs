//! The data coding scheme (TP-DCS, 3GPP TS 23.038 section 4): which alphabet the user data
//! uses, the message class, compression, and message-waiting indications.

use std::fmt;

/// How user data is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alphabet {
    /// GSM 03.38 default alphabet, packed septets.
    Gsm7,
    /// 8-bit data.
    Eight,
    /// UCS-2 (UTF-16 big-endian in practice: surrogate pairs carry astral characters).
    Ucs2,
}

impl fmt::Display for Alphabet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Alphabet::Gsm7 => "GSM 7-bit",
            Alphabet::Eight => "8-bit",
            Alphabet::Ucs2 => "UCS-2",
        })
    }
}

/// Message class. Class 0 is a *flash* message (shown, not stored); 1 is for the phone, 2 for
/// the SIM, 3 for the terminal equipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageClass {
    Class0,
    Class1,
    Class2,
    Class3,
}

impl MessageClass {
    /// The class from its number (0 to 3).
    pub fn from_number(n: u8) -> Option<MessageClass> {
        Some(match n {
            0 => MessageClass::Class0,
            1 => MessageClass::Class1,
            2 => MessageClass::Class2,
            3 => MessageClass::Class3,
            _ => return None,
        })
    }

    /// The class number (0 to 3), as Gammu's `Class` column stores it.
    pub fn number(self) -> u8 {
        match self {
            MessageClass::Class0 => 0,
            MessageClass::Class1 => 1,
            MessageClass::Class2 => 2,
            MessageClass::Class3 => 3,
        }
    }
}

/// What a message-waiting indication announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitingKind {
    Voicemail,
    Fax,
    Email,
    Other,
}

/// A message-waiting indication (DCS groups 1100, 1101, 1110).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageWaiting {
    /// Whether the indication is being set (true) or cleared.
    pub active: bool,
    /// Group 1100 asks the phone to discard the message text after showing the indication.
    pub discard: bool,
    pub kind: WaitingKind,
}

/// The TP-DCS octet. Kept as the raw octet so that decode/encode round-trips exactly;
/// methods read its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dcs(pub u8);

impl Dcs {
    /// The octet for an alphabet and optional class, written the way Gammu writes it (so
    /// stored messages and our PDUs agree): without a class the general group (`00`, `04`,
    /// `08`); with a class the data-coding/message-class group (`F0`-`F7`) for 7-bit and
    /// 8-bit, and the general group with class bits (`18`-`1B`) for UCS-2.
    pub fn new(alphabet: Alphabet, class: Option<MessageClass>) -> Dcs {
        let a = match alphabet {
            Alphabet::Gsm7 => 0x00,
            Alphabet::Eight => 0x04,
            Alphabet::Ucs2 => 0x08,
        };
        match (alphabet, class) {
            (_, None) => Dcs(a),
            (Alphabet::Ucs2, Some(c)) => Dcs(0x10 | a | c.number()),
            (_, Some(c)) => Dcs(0xF0 | a | c.number()),
        }
    }

    /// The alphabet of the user data. Reserved values are read as GSM 7-bit, as TS 23.038
    /// says a receiver should.
    pub fn alphabet(self) -> Alphabet {
        let b = self.0;
        match b >> 4 {
            0x0..=0x7 => match (b >> 2) & 0x03 {
                1 => Alphabet::Eight,
                2 => Alphabet::Ucs2,
                _ => Alphabet::Gsm7,
            },
            0xE => Alphabet::Ucs2,
            0xF if b & 0x04 != 0 => Alphabet::Eight,
            _ => Alphabet::Gsm7,
        }
    }

    /// The message class, when the DCS gives one.
    pub fn class(self) -> Option<MessageClass> {
        let b = self.0;
        match b >> 4 {
            0x0..=0x7 if b & 0x10 != 0 => MessageClass::from_number(b & 0x03),
            0xF => MessageClass::from_number(b & 0x03),
            _ => None,
        }
    }

    /// Whether the text is compressed (TS 23.042). The codec does not decompress: such user
    /// data is returned as bytes.
    pub fn compressed(self) -> bool {
        self.0 >> 6 <= 1 && self.0 & 0x20 != 0
    }

    /// Whether the message is marked for automatic deletion (group `01xx`).
    pub fn auto_delete(self) -> bool {
        self.0 >> 6 == 1
    }

    /// The message-waiting indication, for DCS groups `1100`, `1101` and `1110`.
    pub fn message_waiting(self) -> Option<MessageWaiting> {
        let b = self.0;
        let discard = match b >> 4 {
            0xC => true,
            0xD | 0xE => false,
            _ => return None,
        };
        Some(MessageWaiting {
            active: b & 0x08 != 0,
            discard,
            kind: match b & 0x03 {
                0 => WaitingKind::Voicemail,
                1 => WaitingKind::Fax,
                2 => WaitingKind::Email,
                _ => WaitingKind::Other,
            },
        })
    }
}

impl fmt::Display for Dcs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X}: {}", self.0, self.alphabet())?;
        if let Some(c) = self.class() {
            write!(f, ", class {}", c.number())?;
            if c == MessageClass::Class0 {
                f.write_str(" (flash)")?;
            }
        }
        if self.compressed() {
            f.write_str(", compressed")?;
        }
        if self.auto_delete() {
            f.write_str(", marked for automatic deletion")?;
        }
        if let Some(w) = self.message_waiting() {
            write!(
                f,
                ", message waiting: {:?} {}{}",
                w.kind,
                if w.active { "set" } else { "cleared" },
                if w.discard { ", discard text" } else { "" }
            )?;
        }
        if matches!(self.0 >> 4, 0x8..=0xB) {
            f.write_str(" (reserved coding group)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_gammu_writes() {
        assert_eq!(Dcs::new(Alphabet::Gsm7, None).0, 0x00);
        assert_eq!(Dcs::new(Alphabet::Gsm7, Some(MessageClass::Class0)).0, 0xF0);
        assert_eq!(
            Dcs::new(Alphabet::Eight, Some(MessageClass::Class1)).0,
            0xF5
        );
        assert_eq!(Dcs::new(Alphabet::Ucs2, Some(MessageClass::Class0)).0, 0x18);
        assert_eq!(Dcs::new(Alphabet::Ucs2, None).0, 0x08);
        assert_eq!(Dcs::new(Alphabet::Eight, None).0, 0x04);
    }

    #[test]
    fn reads_every_group() {
        assert_eq!(Dcs(0x08).alphabet(), Alphabet::Ucs2);
        assert_eq!(Dcs(0x19).class(), Some(MessageClass::Class1));
        assert_eq!(Dcs(0x08).class(), None);
        assert!(Dcs(0x20).compressed());
        assert!(!Dcs(0x00).compressed());
        assert!(Dcs(0x48).auto_delete());
        assert_eq!(Dcs(0x48).alphabet(), Alphabet::Ucs2);
        assert_eq!(Dcs(0xF6).alphabet(), Alphabet::Eight);
        assert_eq!(Dcs(0xF6).class(), Some(MessageClass::Class2));
        assert_eq!(
            Dcs(0x0C).alphabet(),
            Alphabet::Gsm7,
            "reserved alphabet reads as 7-bit"
        );
        assert_eq!(
            Dcs(0x90).alphabet(),
            Alphabet::Gsm7,
            "reserved group reads as 7-bit"
        );
        let w = Dcs(0xC8).message_waiting().unwrap();
        assert!(w.active && w.discard && w.kind == WaitingKind::Voicemail);
        assert_eq!(Dcs(0xE9).alphabet(), Alphabet::Ucs2);
        assert_eq!(Dcs(0xE9).message_waiting().unwrap().kind, WaitingKind::Fax);
        assert_eq!(Dcs(0xE9).class(), None);
        assert!(Dcs(0xC0).to_string().contains("message waiting"));
    }
}
