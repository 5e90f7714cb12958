//! Between messages as stored and PDUs: queuing a text Gammu's way (`inject`), and turning
//! a claimed outbox message back into the SUBMITs to send (DESIGN.md, "Messages as stored":
//! each row is one part, encoded from `Text` when set, else `TextDecoded`, in its row's
//! `Coding`, with its row's `UDH`, `Class`, `RelativeValidity` and `DeliveryReport`).

use crate::pdu::{
    self, Address, Alphabet, ConcatRef, Dcs, Encoding, MessageClass, Submit, Udh, UserData,
    Validity,
};
use crate::service::{Coding, NewMessage, NewPart, OutPart, Outgoing, ReportRequest};

/// UTF-16 hex: what Gammu writes in `Text` for the text codings (raw hex for 8-bit).
pub fn ucs2_hex(text: &str) -> String {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    pdu::to_hex(&bytes)
}

/// Text from UTF-16 hex (an unpaired surrogate becomes U+FFFD).
pub fn from_ucs2_hex(hex: &str) -> Result<String, String> {
    let bytes = pdu::from_hex(hex).map_err(|e| format!("Text is not hex: {e}"))?;
    if bytes.len() % 2 != 0 {
        return Err("Text has an odd number of octets for UTF-16".into());
    }
    let units = bytes
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]));
    Ok(char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

/// Outbox rows (Gammu's layout) for split text parts: `Text` in UTF-16 hex, `TextDecoded`,
/// `Coding`, the part's `UDH`, and `class` (-1 for none).
fn rows(parts: &[Submit], class: i32) -> Vec<NewPart> {
    parts
        .iter()
        .map(|p| {
            let body = p.user_data.text().unwrap_or_default().to_string();
            NewPart {
                text_hex: Some(ucs2_hex(&body)),
                text_decoded: body,
                coding: Coding::from_alphabet(p.dcs.alphabet()),
                udh_hex: p.udh.as_ref().map(|u| pdu::to_hex(&u.to_bytes())),
                class,
            }
        })
        .collect()
}

/// A concatenation reference for a new message (inject, the faces): random enough that two
/// messages to one phone rarely share it.
pub fn new_reference() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos ^ std::process::id().rotate_left(8)) as u16
}

/// How `inject` queues a text.
#[derive(Debug, Clone, Default)]
pub struct InjectOptions {
    pub unicode: bool,
    pub flash: bool,
    pub report: bool,
    /// `None` leaves `RelativeValidity` at -1 (the modem's default).
    pub validity: Option<Validity>,
    /// Take at most this many characters of the text (Gammu's `-len`); the rest is dropped.
    pub take_chars: Option<usize>,
    /// Refuse a text that needs more parts than this (Gammu's `-maxsms`).
    pub max_parts: Option<usize>,
    pub phone_id: Option<String>,
    pub creator_id: String,
    /// Concatenation reference of a multipart message.
    pub reference: u16,
    /// Write the reference in the 16-bit element (Gammu's `-16bit`); else its low 8 bits.
    pub sixteen_bit: bool,
}

/// Why a text cannot be queued.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("{0}")]
    Number(pdu::EncodeError),
    #[error("the message text is empty")]
    Empty,
    #[error("the text needs {parts} messages, more than the {max} allowed (-maxsms)")]
    TooManyParts { parts: usize, max: usize },
    #[error("{0}")]
    Encode(pdu::EncodeError),
}

/// The outbox rows (Gammu's layout) for `text` to `number`.
pub fn new_message(
    number: &str,
    text: &str,
    o: &InjectOptions,
) -> Result<NewMessage, ComposeError> {
    let destination = Address::number(number).map_err(ComposeError::Number)?;
    let text = match o.take_chars {
        Some(n) => match text.char_indices().nth(n) {
            Some((cut, _)) => &text[..cut],
            None => text,
        },
        None => text,
    };
    if text.is_empty() {
        return Err(ComposeError::Empty);
    }
    let class = o.flash.then_some(MessageClass::Class0);
    let mut template = Submit::new(destination.clone(), "");
    template.dcs = Dcs::new(Alphabet::Gsm7, class);
    let encoding = if o.unicode {
        Encoding::Ucs2
    } else {
        Encoding::Auto
    };
    let reference = if o.sixteen_bit {
        ConcatRef::Sixteen(o.reference)
    } else {
        ConcatRef::Eight(o.reference as u8)
    };
    let parts = pdu::split(&template, text, encoding, reference).map_err(ComposeError::Encode)?;
    if let Some(max) = o.max_parts {
        if parts.len() > max {
            return Err(ComposeError::TooManyParts {
                parts: parts.len(),
                max,
            });
        }
    }
    let parts = rows(&parts, class.map_or(-1, |c| i32::from(c.number())));
    Ok(NewMessage {
        destination: destination.to_string(),
        parts,
        sender_id: o.phone_id.clone(),
        creator_id: o.creator_id.clone(),
        delivery_report: if o.report {
            ReportRequest::Yes
        } else {
            ReportRequest::Default
        },
        relative_validity: match o.validity {
            Some(Validity::Relative(v)) => i32::from(v),
            _ => -1,
        },
        priority: 0,
        delay_secs: 0,
    })
}

/// What the configuration says for messages that do not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct SendDefaults {
    pub validity: Validity,
    pub delivery_reports: bool,
}

fn part_submit(out: &Outgoing, part: &OutPart, defaults: &SendDefaults) -> Result<Submit, String> {
    let destination =
        Address::number(&out.destination).map_err(|e| format!("DestinationNumber: {e}"))?;
    let class = u8::try_from(part.class)
        .ok()
        .and_then(MessageClass::from_number);
    let coding = part.coding.unwrap_or(Coding::Default);
    let user_data = match (coding, &part.text_hex) {
        (Coding::EightBit, Some(hex)) => {
            UserData::Binary(pdu::from_hex(hex).map_err(|e| format!("Text is not hex: {e}"))?)
        }
        (Coding::EightBit, None) => return Err("an 8-bit part needs its data in Text".into()),
        (_, Some(hex)) => UserData::Text(from_ucs2_hex(hex)?),
        (_, None) => UserData::Text(part.text_decoded.clone().unwrap_or_default()),
    };
    let udh = match &part.udh_hex {
        Some(hex) => {
            let bytes = pdu::from_hex(hex).map_err(|e| format!("UDH is not hex: {e}"))?;
            let (udh, len) = Udh::decode(&bytes, 0).map_err(|e| format!("UDH: {e}"))?;
            if len != bytes.len() {
                return Err("UDH has octets after its declared length".into());
            }
            Some(udh)
        }
        None => None,
    };
    let alphabet = match (coding, &user_data) {
        (Coding::EightBit, _) => Alphabet::Eight,
        (Coding::Unicode | Coding::UnicodeCompressed, _) => Alphabet::Ucs2,
        // A Default row whose text is not GSM 7-bit goes as UCS-2 rather than failing.
        (_, UserData::Text(t)) if !pdu::gsm7::is_gsm7(t) => Alphabet::Ucs2,
        _ => Alphabet::Gsm7,
    };
    Ok(Submit {
        smsc: None,
        reject_duplicates: false,
        reply_path: false,
        status_report_request: match out.delivery_report {
            ReportRequest::Yes => true,
            ReportRequest::No => false,
            ReportRequest::Default => defaults.delivery_reports,
        },
        message_reference: 0,
        destination,
        pid: 0,
        dcs: Dcs::new(alphabet, class),
        validity: match u8::try_from(out.relative_validity) {
            Ok(v) => Validity::Relative(v),
            Err(_) => defaults.validity,
        },
        udh,
        user_data,
    })
}

/// A single row without UDH whose text does not fit one SMS (a script wrote a long
/// `TextDecoded`): the parts to write back, Gammu's way, before the first send.
pub fn split_long_row(out: &Outgoing, reference: u8) -> Option<Vec<NewPart>> {
    let [part] = out.parts.as_slice() else {
        return None;
    };
    if part.udh_hex.is_some() || part.already_sent || part.coding == Some(Coding::EightBit) {
        return None;
    }
    let text = match &part.text_hex {
        Some(hex) => from_ucs2_hex(hex).ok()?,
        None => part.text_decoded.clone()?,
    };
    let encoding = if part.coding == Some(Coding::Unicode) {
        Encoding::Ucs2
    } else {
        Encoding::Auto
    };
    if pdu::estimate(&text, encoding, ConcatRef::Eight(reference))
        .ok()?
        .parts
        < 2
    {
        return None;
    }
    let mut template = Submit::new(Address::number("0").ok()?, "");
    template.dcs = Dcs::new(
        Alphabet::Gsm7,
        u8::try_from(part.class)
            .ok()
            .and_then(MessageClass::from_number),
    );
    let parts = pdu::split(&template, &text, encoding, ConcatRef::Eight(reference)).ok()?;
    Some(rows(&parts, part.class))
}

/// The whole text of the parts still to send, for routes that take texts (HTTP, mail); an
/// error says why the message has none (8-bit data, a bad row).
pub fn text(out: &Outgoing) -> Result<String, String> {
    let mut text = String::new();
    for part in out.parts.iter().filter(|p| !p.already_sent) {
        let t = match (part.coding.unwrap_or(Coding::Default), &part.text_hex) {
            (Coding::EightBit, _) => {
                return Err(format!(
                    "part {}: 8-bit data cannot be sent as text",
                    part.seq
                ))
            }
            (_, Some(hex)) => from_ucs2_hex(hex).map_err(|e| format!("part {}: {e}", part.seq))?,
            (_, None) => part.text_decoded.clone().unwrap_or_default(),
        };
        text.push_str(&t);
    }
    Ok(text)
}

/// The SUBMIT of every part still to send, with its `SequencePosition`; an error says why
/// the message is unusable (it then ends as `Error`). Every part is checked to encode.
pub fn submits(out: &Outgoing, defaults: &SendDefaults) -> Result<Vec<(u32, Submit)>, String> {
    let mut v = Vec::new();
    for part in out.parts.iter().filter(|p| !p.already_sent) {
        let s = part_submit(out, part, defaults).map_err(|e| format!("part {}: {e}", part.seq))?;
        s.encode().map_err(|e| format!("part {}: {e}", part.seq))?;
        v.push((part.seq, s));
    }
    Ok(v)
}

/// What one send carries: the `SequencePosition` it is recorded as, the SUBMIT, and the
/// other stored parts it carries too (recorded as sent with it).
pub type OneSend = (u32, Submit, Vec<u32>);

/// The sends of a message. For a route that sends a long message in one piece
/// ([`crate::route::Transport::whole_messages`]), the parts of a message none of which went
/// out yet become one SUBMIT holding the whole text (or data) without the concatenation
/// header; otherwise one send per part.
pub fn sends(out: &Outgoing, submits: Vec<(u32, Submit)>, whole: bool) -> Vec<OneSend> {
    let joinable = whole
        && submits.len() > 1
        && submits.len() == out.parts.len()
        && submits.iter().all(|(_, s)| {
            s.dcs == submits[0].1.dcs
                && s.udh
                    .as_ref()
                    .is_some_and(|u| u.elements.len() == 1 && u.concat_info().is_some())
        });
    let joined = joinable
        .then(|| {
            let total = u8::try_from(submits.len()).ok()?;
            crate::pdu::join(
                total,
                submits.iter().filter_map(|(_, s)| {
                    let c = s.udh.as_ref()?.concat_info()?;
                    Some((c.seq, &s.user_data))
                }),
            )
            .ok()
        })
        .flatten();
    match joined {
        Some(user_data) => {
            let mut rest = submits.iter().map(|(seq, _)| *seq);
            let first = rest.next().unwrap_or(1);
            let others: Vec<u32> = rest.collect();
            let mut one = submits[0].1.clone();
            one.udh = None;
            one.user_data = user_data;
            vec![(first, one, others)]
        }
        None => submits
            .into_iter()
            .map(|(seq, s)| (seq, s, Vec::new()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(parts: Vec<OutPart>) -> Outgoing {
        Outgoing {
            id: 1,
            name: "1".into(),
            destination: "+48123456789".into(),
            sender_id: None,
            creator_id: "t".into(),
            parts,
            relative_validity: -1,
            delivery_report: ReportRequest::Default,
            retries: 0,
            priority: 0,
            inserted: String::new(),
            lease: String::new(),
        }
    }

    fn part(seq: u32, text: &str, coding: Coding, udh: Option<&str>) -> OutPart {
        OutPart {
            seq,
            text_hex: None,
            text_decoded: Some(text.into()),
            coding: Some(coding),
            udh_hex: udh.map(Into::into),
            class: -1,
            already_sent: false,
        }
    }

    #[test]
    fn injected_rows_come_back_as_the_same_pdus() {
        let text = "Zażółć gęślą jaźń ".repeat(10);
        let msg = new_message(
            "+48123456789",
            &text,
            &InjectOptions {
                reference: 9,
                ..InjectOptions::default()
            },
        )
        .unwrap();
        assert_eq!(msg.parts.len(), 3);
        assert!(msg.parts.iter().all(|p| p.coding == Coding::Unicode
            && p.udh_hex.as_deref().unwrap().starts_with("05000309")));
        let out = outgoing(
            msg.parts
                .iter()
                .zip(1..)
                .map(|(p, seq)| OutPart {
                    seq,
                    text_hex: p.text_hex.clone(),
                    text_decoded: Some(p.text_decoded.clone()),
                    coding: Some(p.coding),
                    udh_hex: p.udh_hex.clone(),
                    class: p.class,
                    already_sent: false,
                })
                .collect(),
        );
        let subs = submits(&out, &SendDefaults::default()).unwrap();
        let joined: String = subs
            .iter()
            .map(|(_, s)| s.user_data.text().unwrap().to_string())
            .collect();
        assert_eq!(joined, text);
        assert_eq!(
            subs[2].1.udh.as_ref().unwrap().concat_info().unwrap().seq,
            3
        );
    }

    #[test]
    fn rows_written_by_hand_are_sent_as_stored() {
        // Kalkun-style: TextDecoded only, Default coding, no UDH; a report by default.
        let out = outgoing(vec![part(1, "Hello", Coding::Default, None)]);
        let s = &submits(
            &out,
            &SendDefaults {
                delivery_reports: true,
                validity: Validity::Relative(167),
            },
        )
        .unwrap()[0]
            .1;
        assert_eq!(s.user_data.text(), Some("Hello"));
        assert!(s.status_report_request);
        assert_eq!(s.validity, Validity::Relative(167));
        assert_eq!(s.dcs.alphabet(), Alphabet::Gsm7);
        // Default coding with characters outside GSM 7-bit goes as UCS-2.
        let out = outgoing(vec![part(1, "łódź", Coding::Default, None)]);
        assert_eq!(
            submits(&out, &SendDefaults::default()).unwrap()[0]
                .1
                .dcs
                .alphabet(),
            Alphabet::Ucs2
        );
    }

    #[test]
    fn a_long_single_row_is_split_for_writing_back() {
        let out = outgoing(vec![part(1, &"x".repeat(200), Coding::Default, None)]);
        let parts = split_long_row(&out, 5).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].udh_hex.as_deref(), Some("050003050201"));
        assert_eq!(
            parts.iter().map(|p| p.text_decoded.len()).sum::<usize>(),
            200
        );
        assert!(
            split_long_row(&outgoing(vec![part(1, "short", Coding::Default, None)]), 5).is_none()
        );
        assert!(split_long_row(
            &outgoing(vec![part(
                1,
                &"x".repeat(200),
                Coding::Default,
                Some("050003010201")
            )]),
            5
        )
        .is_none());
    }

    #[test]
    fn unusable_rows_say_why() {
        let mut bad = part(1, "x", Coding::Default, Some("ZZ"));
        assert!(
            submits(&outgoing(vec![bad.clone()]), &SendDefaults::default())
                .unwrap_err()
                .contains("UDH is not hex")
        );
        bad.udh_hex = None;
        bad.text_decoded = Some("x".repeat(200));
        assert!(submits(&outgoing(vec![bad]), &SendDefaults::default())
            .unwrap_err()
            .contains("part 1"));
        let mut o = outgoing(vec![part(1, "x", Coding::Default, None)]);
        o.destination = "not a number".into();
        assert!(submits(&o, &SendDefaults::default())
            .unwrap_err()
            .contains("DestinationNumber"));
    }

    #[test]
    fn ucs2_hex_is_what_gammu_writes() {
        assert_eq!(ucs2_hex("Hi"), "00480069");
        assert_eq!(ucs2_hex("😀"), "D83DDE00");
        assert_eq!(from_ucs2_hex("004C006F006E0067").unwrap(), "Long");
    }

    #[test]
    fn inject_refuses_what_gammu_refuses() {
        let o = InjectOptions::default();
        assert!(matches!(
            new_message("+48x", "hi", &o),
            Err(ComposeError::Number(_))
        ));
        assert!(matches!(
            new_message("+48123", "", &o),
            Err(ComposeError::Empty)
        ));
        let o = InjectOptions {
            max_parts: Some(1),
            ..InjectOptions::default()
        };
        assert!(matches!(
            new_message("+48123", &"x".repeat(161), &o),
            Err(ComposeError::TooManyParts { parts: 2, max: 1 })
        ));
    }

    #[test]
    fn len_takes_that_many_characters_as_gammu_does() {
        let o = InjectOptions {
            take_chars: Some(5),
            ..InjectOptions::default()
        };
        let m = new_message("+48123", "Zażółć gęślą", &o).unwrap();
        assert_eq!(m.parts.len(), 1);
        assert_eq!(m.parts[0].text_decoded, "Zażół");
        let o = InjectOptions {
            take_chars: Some(400),
            sixteen_bit: true,
            reference: 0x1234,
            ..InjectOptions::default()
        };
        let m = new_message("+48123", &"y".repeat(300), &o).unwrap();
        assert_eq!(m.parts.len(), 2, "split, not cut");
        let udh = m.parts[0].udh_hex.as_deref().unwrap_or_default();
        assert!(udh.starts_with("0608041234"), "{udh}");
    }

    #[test]
    fn whole_messages_join_their_parts() {
        let text = "Zasilanie: łącze ".repeat(10);
        let msg =
            crate::compose::new_message("+48600100200", &text, &InjectOptions::default()).unwrap();
        let parts: Vec<OutPart> = msg
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| OutPart {
                seq: i as u32 + 1,
                text_hex: p.text_hex.clone(),
                coding: Some(p.coding),
                udh_hex: p.udh_hex.clone(),
                class: -1,
                text_decoded: Some(p.text_decoded.clone()),
                already_sent: false,
            })
            .collect();
        assert_eq!(parts.len(), 3);
        let out = outgoing(parts);
        let d = SendDefaults::default();
        let plan = sends(&out, submits(&out, &d).unwrap(), true);
        assert_eq!(plan.len(), 1);
        assert_eq!((plan[0].0, plan[0].2.as_slice()), (1, &[2, 3][..]));
        assert_eq!(plan[0].1.udh, None);
        assert_eq!(plan[0].1.user_data, UserData::Text(text));
        assert_eq!(sends(&out, submits(&out, &d).unwrap(), false).len(), 3);
        // A message with a part out already is sent part by part.
        let mut half = out.clone();
        half.parts[0].already_sent = true;
        assert_eq!(sends(&half, submits(&half, &d).unwrap(), true).len(), 2);
    }
}
