//! What an SMSC delivers to us (`deliver_sm`, `data_sm`): a delivery receipt, or a message.
//! A message becomes an SMS-DELIVER, so that it is stored exactly as one a modem received:
//! parts of a long message are tied by their UDH, or by the SAR TLVs turned into the 16-bit
//! concatenation element, and wait for each other in the same table.
//!
//! data_coding: 0 is the SMSC's default alphabet, read as the transport's
//! `default_alphabet` says (GSM 03.38 septets one per octet by default, packed, or
//! Latin-1); 1 (IA5/ASCII) and 3 (Latin-1) are read as Latin-1; 8 is UCS-2;
//! 2 and 4 are 8-bit data; 5 (JIS, ISO-2022-JP), 6 (Cyrillic, ISO-8859-5) and 7
//! (Latin/Hebrew, ISO-8859-8) are read with those character sets; values with the GSM DCS
//! layout (0x10–0x3F, 0xF0–0xFF) are read by their alphabet; anything else is kept as 8-bit
//! data. [`content`] reads a submit_sm the same way (the SMPP server's side).

use chrono::Local;

use super::pdu::{tag, Addr, Body, Pdu, Tlv};
use super::receipt::{self, State};
use super::{fill_bits, DefaultAlphabet};
use crate::pdu::{gsm7, Address, Alphabet, Concat, Dcs, Deliver, Npi, Scts, Ton, Udh, UserData};

/// A deliver_sm or data_sm, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A message, or one part of one.
    Message(Deliver),
    /// A delivery receipt for the message the SMSC gave `id`; `status` as a status report's
    /// TP-ST (0x00 delivered, 0x20 pending, 0x40 failed); `done` the local time it names.
    Receipt {
        id: String,
        status: u8,
        done: Option<String>,
    },
}

/// The TP-ST a receipt's state is stored as.
pub fn tp_status(state: State) -> u8 {
    match state {
        State::Delivered => 0x00,
        State::Pending => 0x20,
        State::Failed => 0x40,
    }
}

/// How a peer's deliver_sm are read (vumi2's `data_coding_overrides` and receipt `regex` /
/// `status_mapping`): what data_coding 0 means, codings the peer uses its own way, and the
/// text of its receipts.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub default: DefaultAlphabet,
    /// A data_coding read with another codec than SMPP's (an SMSC that sends Latin-1 as 0,
    /// Cyrillic as 3).
    pub overrides: Vec<(u8, Codec)>,
    /// A receipt's text read with this expression (named groups `id` and `stat`, and
    /// `done_date` if it has one) instead of appendix B's layout.
    pub receipt: Option<regex::Regex>,
    /// `stat:` values and what they mean, before the usual ones.
    pub statuses: Vec<(String, State)>,
}

impl Reading {
    /// Only the default alphabet (the SMPP server's accounts).
    pub fn plain(default: DefaultAlphabet) -> Reading {
        Reading {
            default,
            ..Reading::default()
        }
    }

    /// A receipt's `stat:` value as a state.
    fn state(&self, stat: &str) -> State {
        self.statuses
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(stat))
            .map_or_else(|| State::from_stat(stat), |(_, st)| *st)
    }

    /// A receipt's text: (id, stat, done date), by the peer's expression or appendix B.
    fn receipt_text(&self, text: &str) -> Option<(String, String, String)> {
        match &self.receipt {
            Some(re) => {
                let c = re.captures(text)?;
                let group = |n: &str| c.name(n).map_or("", |m| m.as_str()).to_string();
                Some((group("id"), group("stat"), group("done_date")))
            }
            None => receipt::parse_text(text).map(|r| (r.id, r.stat, r.done_date)),
        }
    }
}

/// A codec a data_coding can be read with (`data_coding_overrides`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// GSM 03.38, one septet per octet.
    Gsm,
    /// GSM 03.38, packed.
    GsmPacked,
    Latin1,
    Ascii,
    Ucs2,
    /// ISO-2022-JP.
    Jis,
    /// ISO-8859-5.
    Cyrillic,
    /// ISO-8859-8.
    Hebrew,
    /// 8-bit data, not text.
    Binary,
}

impl Codec {
    pub const NAMES: &'static str =
        "gsm, gsm-packed, latin1, ascii, ucs2, iso-2022-jp, iso-8859-5, iso-8859-8 or binary";

    pub fn parse(s: &str) -> Result<Codec, String> {
        Ok(match s {
            "gsm" => Codec::Gsm,
            "gsm-packed" => Codec::GsmPacked,
            "latin1" => Codec::Latin1,
            "ascii" => Codec::Ascii,
            "ucs2" => Codec::Ucs2,
            "iso-2022-jp" => Codec::Jis,
            "iso-8859-5" => Codec::Cyrillic,
            "iso-8859-8" => Codec::Hebrew,
            "binary" => Codec::Binary,
            other => return Err(format!("{other:?} is not {}", Codec::NAMES)),
        })
    }
}

fn tlv(tlvs: &[Tlv], t: u16) -> Option<&[u8]> {
    tlvs.iter().find(|x| x.tag == t).map(|x| x.value.as_slice())
}

/// A C-string TLV value (receipted_message_id) without its NUL.
fn tlv_text(v: &[u8]) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).trim().to_string()
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// The sender as a TP-OA: a number (`+` for TON 1), or a name.
fn originator(a: &Addr) -> Address {
    let digits = a.addr.trim_start_matches('+');
    let number = if a.ton == 1 || a.addr.starts_with('+') {
        Address::number(&format!("+{digits}"))
    } else {
        Address::number(&a.addr)
    };
    match number {
        Ok(n) if a.ton != 5 => n,
        _ => Address::alphanumeric(&a.addr).unwrap_or(Address {
            // Kept as the SMSC wrote it (stored, never encoded into a PDU).
            ton: Ton::Alphanumeric,
            npi: Npi::Unknown,
            value: a.addr.clone(),
        }),
    }
}

/// The text or data of a payload in SMPP data_coding `dc` (after a UDH of `udh_octets`),
/// and the DCS it is stored with.
fn user_data(
    dc: u8,
    body: &[u8],
    udh_octets: usize,
    reading: &Reading,
) -> Result<(Dcs, UserData), String> {
    let text = |t: String| {
        let alphabet = if gsm7::is_gsm7(&t) {
            Alphabet::Gsm7
        } else {
            Alphabet::Ucs2
        };
        let class = if (0x10..=0x3F).contains(&dc) || dc >= 0xF0 {
            Dcs(dc).class()
        } else {
            None
        };
        (Dcs::new(alphabet, class), UserData::Text(t))
    };
    let septets = |b: &[u8]| {
        let mut t = String::new();
        gsm7::decode_septets(b.iter().map(|c| c & 0x7F), &mut t);
        t
    };
    let ucs2 = |b: &[u8]| -> Result<String, String> {
        if !b.len().is_multiple_of(2) {
            return Err(format!("UCS-2 text of {} octets (an odd number)", b.len()));
        }
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&units))
    };
    let packed = |b: &[u8]| {
        let fill = fill_bits(udh_octets);
        let count = (b.len() * 8).saturating_sub(fill) / 7;
        let mut s: Vec<u8> = gsm7::unpack(b, fill, count).collect();
        // Seven spare bits at the end read as one more septet, '@' (0): not text.
        if count > 0 && s.last() == Some(&0) && gsm7::packed_len(count - 1, fill) == b.len() {
            s.pop();
        }
        let mut t = String::with_capacity(s.len());
        gsm7::decode_septets(s, &mut t);
        t
    };
    let binary = |b: &[u8]| {
        (
            Dcs::new(Alphabet::Eight, None),
            UserData::Binary(b.to_vec()),
        )
    };
    let codec = reading
        .overrides
        .iter()
        .find(|(d, _)| *d == dc)
        .map(|(_, c)| *c);
    if let Some(codec) = codec {
        return Ok(match codec {
            Codec::Gsm => text(septets(body)),
            Codec::GsmPacked => text(packed(body)),
            Codec::Latin1 => text(latin1(body)),
            Codec::Ascii => match body.iter().position(|b| !b.is_ascii()) {
                None => text(latin1(body)),
                Some(i) => {
                    return Err(format!(
                        "octet {i} (0x{:02X}) of the text is not ASCII",
                        body[i]
                    ))
                }
            },
            Codec::Ucs2 => text(ucs2(body)?),
            Codec::Jis => text(charset(encoding_rs::ISO_2022_JP, body)?),
            Codec::Cyrillic => text(charset(encoding_rs::ISO_8859_5, body)?),
            Codec::Hebrew => text(charset(encoding_rs::ISO_8859_8, body)?),
            Codec::Binary => binary(body),
        });
    }
    Ok(match dc {
        0x00 => match reading.default {
            DefaultAlphabet::Gsm => text(septets(body)),
            DefaultAlphabet::GsmPacked => text(packed(body)),
            DefaultAlphabet::Latin1 => text(latin1(body)),
        },
        0x01 | 0x03 => text(latin1(body)),
        0x05 => text(charset(encoding_rs::ISO_2022_JP, body)?),
        0x06 => text(charset(encoding_rs::ISO_8859_5, body)?),
        0x07 => text(charset(encoding_rs::ISO_8859_8, body)?),
        0x08 => text(ucs2(body)?),
        0x10..=0x3F | 0xF0..=0xFF => match Dcs(dc).alphabet() {
            Alphabet::Gsm7 => text(septets(body)),
            Alphabet::Ucs2 => text(ucs2(body)?),
            Alphabet::Eight => (Dcs(dc), UserData::Binary(body.to_vec())),
        },
        _ => binary(body),
    })
}

/// `body` in `encoding`; bytes it cannot read are an error, not replacement characters.
fn charset(encoding: &'static encoding_rs::Encoding, body: &[u8]) -> Result<String, String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .map(|t| t.into_owned())
        .ok_or_else(|| format!("the text is not valid {}", encoding.name()))
}

/// The content of a submit_sm, deliver_sm or data_sm (`payload`: message_payload or
/// short_message): its UDH (esm_class 0x40, or the SAR TLVs as a 16-bit concatenation
/// element), its DCS and its text or data.
pub fn content(
    esm_class: u8,
    dc: u8,
    payload: &[u8],
    tlvs: &[Tlv],
    reading: &Reading,
) -> Result<(Option<Udh>, Dcs, UserData), String> {
    let (udh, body, udh_octets) = if esm_class & 0x40 != 0 {
        let (udh, len) = Udh::decode(payload, 0).map_err(|e| format!("its UDH: {e}"))?;
        (Some(udh), payload.get(len..).unwrap_or_default(), len)
    } else {
        (None, payload, 0)
    };
    let sar = (
        tlv(tlvs, tag::SAR_MSG_REF_NUM),
        tlv(tlvs, tag::SAR_TOTAL_SEGMENTS),
        tlv(tlvs, tag::SAR_SEGMENT_SEQNUM),
    );
    let udh = match (udh, sar) {
        (None, (Some(&[r1, r2]), Some(&[total]), Some(&[seq]))) => Some(Udh::concat(Concat {
            reference: u16::from_be_bytes([r1, r2]),
            sixteen_bit: true,
            total,
            seq,
        })),
        (udh, _) => udh,
    };
    let (dcs, user_data) = user_data(dc, body, udh_octets, reading)?;
    Ok((udh, dcs, user_data))
}

/// Reads a deliver_sm or data_sm. An error says what is wrong with it (the PDU is then
/// refused, and logged, rather than stored wrong).
pub fn incoming(pdu: &Pdu, reading: &Reading) -> Result<Incoming, String> {
    let (source, esm_class, dc, short, tlvs) = match &pdu.body {
        Body::DeliverSm(sm) => (
            &sm.source,
            sm.esm_class,
            sm.data_coding,
            sm.short_message.as_slice(),
            sm.tlvs.as_slice(),
        ),
        Body::DataSm(d) => (
            &d.source,
            d.esm_class,
            d.data_coding,
            &[][..],
            d.tlvs.as_slice(),
        ),
        _ => return Err("not a deliver_sm or data_sm".into()),
    };
    let payload = tlv(tlvs, tag::MESSAGE_PAYLOAD).unwrap_or(short);
    let kind = esm_class & 0x3C;
    let receipted = tlv(tlvs, tag::RECEIPTED_MESSAGE_ID).map(tlv_text);
    // A receipt (0x04), an intermediate notification (0x20), or an SME's delivery or
    // manual acknowledgement (0x08, 0x10: asked for by `sme_originated_acks`) naming the
    // message it acknowledges.
    let sme_ack = (kind == 0x08 || kind == 0x10) && receipted.is_some();
    if kind == 0x04 || kind == 0x20 || sme_ack || (kind == 0 && receipted.is_some()) {
        let text = latin1(payload);
        let parsed = reading.receipt_text(&text);
        let id = receipted
            .filter(|i| !i.is_empty())
            .or_else(|| parsed.as_ref().map(|r| r.0.clone()))
            .filter(|i| !i.is_empty())
            .ok_or_else(|| format!("a delivery receipt without a message id: {text:?}"))?;
        let state = match tlv(tlvs, tag::MESSAGE_STATE) {
            Some(&[s]) => State::from_message_state(s),
            _ if sme_ack => State::Delivered,
            _ => parsed
                .as_ref()
                .map_or(State::Pending, |r| reading.state(&r.1)),
        };
        let done = parsed.and_then(|r| receipt::done_time(&r.2));
        return Ok(Incoming::Receipt {
            id,
            status: tp_status(state),
            done,
        });
    }
    let (udh, dcs, user_data) = content(esm_class, dc, payload, tlvs, reading)?;
    Ok(Incoming::Message(Deliver {
        smsc: None,
        more_messages: false,
        loop_prevention: false,
        reply_path: false,
        status_report_indication: false,
        originator: originator(source),
        pid: 0,
        dcs,
        scts: Scts::from_datetime(&Local::now()),
        udh,
        user_data,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::pdu::{cmd, Sm};

    fn deliver(sm: Sm) -> Pdu {
        Pdu::new(cmd::DELIVER_SM, 9, Body::DeliverSm(sm))
    }

    fn incoming_gsm(p: &Pdu) -> Result<Incoming, String> {
        incoming(p, &Reading::default())
    }

    #[test]
    fn the_default_alphabet_decides_data_coding_0() {
        let mut septets = Vec::new();
        gsm7::to_septets("hello world", &mut septets).unwrap();
        let mut packed = vec![5, 0, 3, 1, 2, 1];
        crate::pdu::gsm7::pack(&septets, fill_bits(6), &mut packed);
        let sm = Sm {
            esm_class: 0x40,
            short_message: packed,
            ..Sm::default()
        };
        let Incoming::Message(d) =
            incoming(&deliver(sm), &Reading::plain(DefaultAlphabet::GsmPacked)).unwrap()
        else {
            panic!("not a message")
        };
        assert_eq!(d.user_data, UserData::Text("hello world".into()));
        // Seven septets fill seven octets with seven spare bits: not an '@'.
        let mut seven = Vec::new();
        crate::pdu::gsm7::pack(&septets[..7], 0, &mut seven);
        let sm = Sm {
            short_message: seven,
            ..Sm::default()
        };
        let Incoming::Message(d) =
            incoming(&deliver(sm), &Reading::plain(DefaultAlphabet::GsmPacked)).unwrap()
        else {
            panic!("not a message")
        };
        assert_eq!(d.user_data, UserData::Text("hello w".into()));
        let sm = Sm {
            short_message: b"caf\xe9".to_vec(),
            ..Sm::default()
        };
        let Incoming::Message(d) =
            incoming(&deliver(sm), &Reading::plain(DefaultAlphabet::Latin1)).unwrap()
        else {
            panic!("not a message")
        };
        assert_eq!(d.user_data, UserData::Text("café".into()));
    }

    #[test]
    fn a_gsm_message_from_a_number() {
        let sm = Sm {
            source: Addr {
                ton: 1,
                npi: 1,
                addr: "4799990000".into(),
            },
            short_message: vec![0x48, 0x69, 0x1B, 0x65],
            ..Sm::default()
        };
        let Incoming::Message(d) = incoming_gsm(&deliver(sm)).unwrap() else {
            panic!("not a message")
        };
        assert_eq!(d.originator.to_string(), "+4799990000");
        assert_eq!(d.user_data, UserData::Text("Hi€".into()));
        assert_eq!(d.dcs.alphabet(), Alphabet::Gsm7);
        assert!(d.encode().is_ok());
    }

    #[test]
    fn ucs2_sar_part_gets_a_concatenation_header() {
        let sm = Sm {
            source: Addr {
                ton: 5,
                npi: 0,
                addr: "Bank".into(),
            },
            data_coding: 8,
            short_message: "ł€".encode_utf16().flat_map(u16::to_be_bytes).collect(),
            tlvs: vec![
                Tlv::u16(tag::SAR_MSG_REF_NUM, 0x1234),
                Tlv::u8(tag::SAR_TOTAL_SEGMENTS, 2),
                Tlv::u8(tag::SAR_SEGMENT_SEQNUM, 2),
            ],
            ..Sm::default()
        };
        let Incoming::Message(d) = incoming_gsm(&deliver(sm)).unwrap() else {
            panic!("not a message")
        };
        assert_eq!(d.originator.to_string(), "Bank");
        assert_eq!(d.user_data, UserData::Text("ł€".into()));
        let c = d.concat().unwrap();
        assert_eq!((c.reference, c.total, c.seq), (0x1234, 2, 2));
        assert!(d.encode().is_ok());
    }

    #[test]
    fn udh_part_and_latin1() {
        let mut short = vec![5, 0, 3, 7, 3, 1];
        short.extend(b"caf\xe9");
        let sm = Sm {
            esm_class: 0x40,
            data_coding: 3,
            short_message: short,
            ..Sm::default()
        };
        let Incoming::Message(d) = incoming_gsm(&deliver(sm)).unwrap() else {
            panic!("not a message")
        };
        assert_eq!(d.user_data, UserData::Text("café".into()));
        assert_eq!(
            d.concat().map(|c| (c.reference, c.total, c.seq)),
            Some((7, 3, 1))
        );
    }

    #[test]
    fn receipts_by_tlv_and_by_text() {
        let sm = Sm {
            esm_class: 0x04,
            short_message: b"id:0123 sub:001 dlvrd:001 submit date:2611231405 done date:2611231406 stat:DELIVRD err:000 text:x".to_vec(),
            ..Sm::default()
        };
        assert_eq!(
            incoming_gsm(&deliver(sm.clone())).unwrap(),
            Incoming::Receipt {
                id: "0123".into(),
                status: 0,
                done: Some("2026-11-23 14:06:00".into())
            }
        );
        let with_tlvs = Sm {
            tlvs: vec![
                Tlv::new(tag::RECEIPTED_MESSAGE_ID, b"ABC\0".to_vec()),
                Tlv::u8(tag::MESSAGE_STATE, 5),
            ],
            ..sm
        };
        assert!(matches!(
            incoming_gsm(&deliver(with_tlvs)).unwrap(),
            Incoming::Receipt { id, status: 0x40, .. } if id == "ABC"
        ));
        let no_id = Sm {
            esm_class: 0x04,
            short_message: b"stat:DELIVRD".to_vec(),
            ..Sm::default()
        };
        assert!(incoming_gsm(&deliver(no_id)).is_err());
    }

    /// vumi2's options: a receipt text of the SMSC's own layout and its own status
    /// words, data codings it uses its own way, an SME's acknowledgement.
    #[test]
    fn an_smsc_s_own_receipts_and_codings_are_read_as_configured() {
        let reading = Reading {
            default: DefaultAlphabet::Gsm,
            overrides: vec![(0, Codec::Latin1), (3, Codec::Cyrillic)],
            receipt: Some(
                regex::Regex::new(r"^ref=(?P<id>\w+);st=(?P<stat>\w+);at=(?P<done_date>\d*)")
                    .unwrap(),
            ),
            statuses: vec![
                ("OKAY".into(), State::Delivered),
                ("0".into(), State::Failed),
            ],
        };
        let receipt = |text: &[u8]| {
            incoming(
                &deliver(Sm {
                    esm_class: 0x04,
                    short_message: text.to_vec(),
                    ..Sm::default()
                }),
                &reading,
            )
        };
        assert_eq!(
            receipt(b"ref=77f;st=OKAY;at=2612071005").unwrap(),
            Incoming::Receipt {
                id: "77f".into(),
                status: 0,
                done: Some("2026-12-07 10:05:00".into())
            }
        );
        // The configured meaning first ("0" is usually delivered), then the usual words.
        assert!(matches!(
            receipt(b"ref=1;st=0;at=").unwrap(),
            Incoming::Receipt { status: 0x40, .. }
        ));
        assert!(matches!(
            receipt(b"ref=1;st=UNDELIV;at=").unwrap(),
            Incoming::Receipt { status: 0x40, .. }
        ));
        assert!(
            receipt(b"id:1 stat:DELIVRD").is_err(),
            "appendix B is not this SMSC's"
        );
        let text = |dc: u8, body: &[u8]| match incoming(
            &deliver(Sm {
                data_coding: dc,
                short_message: body.to_vec(),
                ..Sm::default()
            }),
            &reading,
        ) {
            Ok(Incoming::Message(d)) => d.user_data,
            other => panic!("{other:?}"),
        };
        assert_eq!(text(0, b"caf\xe9"), UserData::Text("café".into()));
        assert_eq!(
            text(3, b"\xbf\xe0\xd8\xd2\xd5\xe2"),
            UserData::Text("Привет".into())
        );
        // An SME's delivery acknowledgement naming the message delivers it.
        let ack = Sm {
            esm_class: 0x08,
            tlvs: vec![Tlv::new(tag::RECEIPTED_MESSAGE_ID, b"9\0".to_vec())],
            ..Sm::default()
        };
        assert!(matches!(
            incoming(&deliver(ack), &reading).unwrap(),
            Incoming::Receipt { id, status: 0, .. } if id == "9"
        ));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let bad_udh = Sm {
            esm_class: 0x40,
            short_message: vec![9, 0],
            ..Sm::default()
        };
        assert!(incoming_gsm(&deliver(bad_udh)).is_err());
        let odd = Sm {
            data_coding: 8,
            short_message: vec![0, 0x41, 0],
            ..Sm::default()
        };
        assert!(incoming_gsm(&deliver(odd)).is_err());
    }
}
