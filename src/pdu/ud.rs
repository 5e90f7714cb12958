//! User data (TP-UDL and TP-UD): the header and the text or bytes after it, in the alphabet
//! the DCS names.

use super::dcs::{Alphabet, Dcs};
use super::error::{EncodeError, PduError, PduErrorKind};
use super::gsm7;
use super::reader::Reader;
use super::udh::Udh;

/// Most octets of user data in one PDU.
pub const MAX_UD_OCTETS: usize = 140;
/// Most septets of GSM 7-bit user data in one PDU.
pub const MAX_UD_SEPTETS: usize = 160;

/// The body of a message: text (GSM 7-bit or UCS-2 on the air) or 8-bit data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserData {
    Text(String),
    Binary(Vec<u8>),
}

impl UserData {
    /// The text, if this is text.
    pub fn text(&self) -> Option<&str> {
        match self {
            UserData::Text(t) => Some(t),
            UserData::Binary(_) => None,
        }
    }
}

/// Septets a header of `header_octets` occupies (with its fill bits), and the fill bits.
pub(crate) fn header_septets(header_octets: usize) -> (usize, usize) {
    let septets = (header_octets * 8).div_ceil(7);
    (septets, septets * 7 - header_octets * 8)
}

/// Writes TP-UDL and TP-UD.
pub(crate) fn encode(
    dcs: Dcs,
    udh: Option<&Udh>,
    ud: &UserData,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let header_len = udh.map_or(0, Udh::encoded_len);
    let alphabet = if dcs.compressed() {
        Alphabet::Eight
    } else {
        dcs.alphabet()
    };
    let udl_at = out.len();
    out.push(0);
    if let Some(h) = udh {
        h.encode(out);
    }
    let udl = match (alphabet, ud) {
        (Alphabet::Gsm7, UserData::Text(text)) => {
            let mut septets = Vec::with_capacity(text.len());
            gsm7::to_septets(text, &mut septets)
                .map_err(|(position, ch)| EncodeError::NotGsm7 { ch, position })?;
            let (hs, fill) = header_septets(header_len);
            let udl = if header_len == 0 { 0 } else { hs } + septets.len();
            if udl > MAX_UD_SEPTETS {
                return Err(EncodeError::UserDataTooLong {
                    len: udl,
                    max: MAX_UD_SEPTETS,
                    unit: "septets",
                });
            }
            gsm7::pack(&septets, if header_len == 0 { 0 } else { fill }, out);
            udl
        }
        (Alphabet::Ucs2, UserData::Text(text)) => {
            for u in text.encode_utf16() {
                out.extend_from_slice(&u.to_be_bytes());
            }
            out.len() - udl_at - 1
        }
        (Alphabet::Eight, UserData::Binary(data)) => {
            out.extend_from_slice(data);
            out.len() - udl_at - 1
        }
        (Alphabet::Eight, UserData::Text(_)) => {
            return Err(EncodeError::DataMismatch("text under an 8-bit DCS"))
        }
        (_, UserData::Binary(_)) => {
            return Err(EncodeError::DataMismatch("bytes under a text DCS"))
        }
    };
    if alphabet != Alphabet::Gsm7 && udl > MAX_UD_OCTETS {
        return Err(EncodeError::UserDataTooLong {
            len: udl,
            max: MAX_UD_OCTETS,
            unit: "octets",
        });
    }
    out[udl_at] = udl as u8;
    Ok(())
}

fn ud_empty(alphabet: Alphabet) -> UserData {
    match alphabet {
        Alphabet::Eight => UserData::Binary(Vec::new()),
        _ => UserData::Text(String::new()),
    }
}

/// Reads TP-UDL and TP-UD. With `r.lenient`, a PDU that is off in a way libGammu reads past
/// (user data cut short, a header announced with no user data) decodes, with a quirk noted
/// in `r`.
pub(crate) fn decode(
    r: &mut Reader<'_>,
    dcs: Dcs,
    udhi: bool,
) -> Result<(Option<Udh>, UserData), PduError> {
    let udl_at = r.pos();
    let udl = usize::from(r.u8("TP-UDL")?);
    let alphabet = if dcs.compressed() {
        Alphabet::Eight
    } else {
        dcs.alphabet()
    };
    let bad_len = |max, unit| {
        PduError::new(
            udl_at,
            PduErrorKind::BadLength {
                field: "TP-UDL",
                len: udl,
                max,
                unit,
                hint: "",
            },
        )
    };
    if alphabet == Alphabet::Gsm7 {
        if udl > MAX_UD_SEPTETS {
            return Err(bad_len(MAX_UD_SEPTETS, "septets"));
        }
        let base = r.pos();
        let needed = gsm7::packed_len(udl, 0);
        // Phones that store a message cut short (Gammu's tests/at-sms/41.dump): the septets
        // that are there, as libGammu reads them.
        let udl = if r.lenient && needed > r.remaining() && udl > 0 && !(udhi && r.remaining() == 0)
        {
            let have = r.remaining() * 8 / 7;
            r.quirk(format!(
                "TP-UDL says {udl} septets ({needed} octets) but only {} octets follow (at octet {udl_at}): the text is cut short after {have} septets",
                r.remaining()
            ));
            have
        } else {
            udl
        };
        let data = r.take(gsm7::packed_len(udl, 0), "TP-UD")?;
        if r.lenient && udhi && data.is_empty() {
            // TP-UDHI set with no user data at all (Gammu's tests/at-sms/20.dump).
            r.quirk(format!(
                "TP-UDHI says a header follows but TP-UDL is 0 (at octet {udl_at}): no header, no text"
            ));
            return Ok((None, UserData::Text(String::new())));
        }
        let (udh, text_at, fill, count) = if udhi {
            let (udh, hlen) = Udh::decode(data, base)?;
            let (hs, fill) = header_septets(hlen);
            if udl < hs {
                return Err(PduError::new(
                    udl_at,
                    PduErrorKind::UdlShorterThanHeader { udl, header: hs },
                ));
            }
            (Some(udh), hlen, fill, udl - hs)
        } else {
            (None, 0, 0, udl)
        };
        let mut text = String::with_capacity(count);
        gsm7::decode_septets(gsm7::unpack(&data[text_at..], fill, count), &mut text);
        return Ok((udh, UserData::Text(text)));
    }
    if udl > MAX_UD_OCTETS {
        return Err(bad_len(MAX_UD_OCTETS, "octets"));
    }
    let base = r.pos();
    let udl = if r.lenient && udl > r.remaining() && alphabet == Alphabet::Ucs2 && !dcs.compressed()
    {
        let have = r.remaining() & !1;
        r.quirk(format!(
            "TP-UDL says {udl} octets but only {} follow (at octet {udl_at}): the text is cut short after {have} octets",
            r.remaining()
        ));
        have
    } else {
        udl
    };
    let data = r.take(udl, "TP-UD")?;
    if r.lenient && udhi && data.is_empty() {
        r.quirk(format!(
            "TP-UDHI says a header follows but TP-UDL is 0 (at octet {udl_at}): no header, no data"
        ));
        return Ok((None, ud_empty(alphabet)));
    }
    let (udh, body) = if udhi {
        let (udh, hlen) = Udh::decode(data, base)?;
        (Some(udh), &data[hlen..])
    } else {
        (None, data)
    };
    let ud = match alphabet {
        Alphabet::Ucs2 => {
            if body.len() % 2 != 0 {
                return Err(PduError::new(udl_at, PduErrorKind::OddUcs2(body.len())));
            }
            let units = body
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]));
            UserData::Text(
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            )
        }
        _ => UserData::Binary(body.to_vec()),
    };
    Ok((udh, ud))
}
