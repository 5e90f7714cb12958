//! A `submit_sm` read into the faces' [`Request`]: the destination, the text or data in
//! its data_coding (the same reading as the client side's `smpp::deliver::content`), the
//! SMPP times (`schedule_delivery_time`, `validity_period`), priority, class and the
//! receipt asked for (`registered_delivery`). A part of a long message (a concatenation
//! UDH, or the SAR TLVs) is handed up as a [`Part`] for [`super::join`] to wait for the
//! others. Errors carry the command_status to answer with.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::config::SmppAccount;
use crate::face::submit::{Body, Request};
use crate::pdu::{Alphabet, UserData};
use crate::smpp::deliver::{content, Reading};
use crate::smpp::pdu::{status, tag, Addr, Sm};
use crate::smpp::DefaultAlphabet;

/// A refusal: the command_status and why (logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u32,
    pub reason: String,
}

fn refuse(status: u32, reason: impl Into<String>) -> Refusal {
    Refusal {
        status,
        reason: reason.into(),
    }
}

/// What a submit_sm asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A whole message.
    Whole(Request),
    /// One part of a long message.
    Part(Part),
}

/// One part of a long message, waiting for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The message's options (from the part; the first part's are used).
    pub request: Request,
    /// Which message it belongs to: source, destination, the client's reference, total.
    pub key: (String, String, u16, u8),
    /// 1-based.
    pub index: u8,
    /// Its header as the client sent it (or as the SAR TLVs say), to queue it as it is
    /// should the others not come.
    pub udh: Vec<u8>,
}

/// What the client's `registered_delivery` asks for, as Kannel's dlr-mask the submission
/// keeps: 1 delivered, 2 failed, 8 the intermediate "taken by the modem or SMSC".
pub fn dlr_mask(registered_delivery: u8) -> u8 {
    let final_ = match registered_delivery & 0x03 {
        1 => 1 | 2,
        2 => 2,
        _ => 0,
    };
    let intermediate = if registered_delivery & 0x10 != 0 {
        8
    } else {
        0
    };
    final_ | intermediate
}

/// The number an SMPP address names: `+` before international (TON 1) digits.
pub fn number(a: &Addr) -> String {
    let digits = a.addr.trim();
    if a.ton == 1 && !digits.starts_with('+') && !digits.starts_with("00") {
        format!("+{digits}")
    } else {
        digits.to_string()
    }
}

/// Reads `sm` from `account`.
pub fn read(sm: &Sm, account: &SmppAccount, now: DateTime<Utc>) -> Result<Read, Refusal> {
    if sm.destination.addr.trim().is_empty() {
        return Err(refuse(status::ESME_RINVDSTADR, "empty destination_addr"));
    }
    if !account.may_send_as(&sm.source.addr) {
        return Err(refuse(
            status::ESME_RINVSRCADR,
            format!(
                "source_addr {:?} is not one of the account's sources",
                sm.source.addr
            ),
        ));
    }
    if sm.esm_class & 0x3C != 0 {
        return Err(refuse(
            status::ESME_RINVESMCLASS,
            format!(
                "esm_class 0x{:02X} is no message type an ESME submits",
                sm.esm_class
            ),
        ));
    }
    let payload = sm
        .tlvs
        .iter()
        .find(|t| t.tag == tag::MESSAGE_PAYLOAD)
        .map(|t| t.value.as_slice());
    if payload.is_some() && !sm.short_message.is_empty() {
        return Err(refuse(
            status::ESME_RINVMSGLEN,
            "both short_message and message_payload are set",
        ));
    }
    let alphabet = DefaultAlphabet::parse(&account.default_alphabet).unwrap_or_default();
    let (udh, dcs, user_data) = content(
        sm.esm_class,
        sm.data_coding,
        payload.unwrap_or(&sm.short_message),
        &sm.tlvs,
        &Reading::plain(alphabet),
    )
    .map_err(|e| refuse(status::ESME_RINVDCS, e))?;
    let body = match user_data {
        UserData::Text(t) => Body::Text(t),
        UserData::Binary(b) => Body::Binary(b),
    };
    let validity = match seconds_from(&sm.validity_period, now) {
        Ok(None) => None,
        Ok(Some(s)) if s > 0 => Some(Duration::from_secs(s as u64)),
        Ok(Some(_)) => {
            return Err(refuse(
                status::ESME_RINVEXPIRY,
                format!("validity_period {:?} has passed", sm.validity_period),
            ))
        }
        Err(e) => return Err(refuse(status::ESME_RINVEXPIRY, e)),
    };
    let delay_secs = match seconds_from(&sm.schedule_delivery_time, now) {
        Ok(s) => u32::try_from(s.unwrap_or(0).max(0)).unwrap_or(u32::MAX),
        Err(e) => return Err(refuse(status::ESME_RINVSCHED, e)),
    };
    let request = Request {
        to: vec![number(&sm.destination)],
        body,
        unicode: dcs.alphabet() == Alphabet::Ucs2,
        class: dcs.class().map(|c| c.number()),
        report: (sm.registered_delivery & 0x03 != 0).then_some(true),
        validity,
        delay_secs,
        route: None,
        udh: None,
        priority: i32::from(sm.priority_flag.min(3)),
    };
    let Some(udh) = udh else {
        return Ok(Read::Whole(request));
    };
    match udh.concat_info() {
        Some(c) if c.total > 1 => Ok(Read::Part(Part {
            request,
            key: (
                sm.source.addr.clone(),
                sm.destination.addr.clone(),
                c.reference,
                c.total,
            ),
            index: c.seq,
            udh: udh.to_bytes(),
        })),
        // Ports, a one-part "concatenation", ...: one part with the client's header.
        _ => Ok(Read::Whole(Request {
            udh: Some(udh.to_bytes()),
            ..request
        })),
    }
}

/// An SMPP time (`YYMMDDhhmmsstnnp`: `p` is `+`/`-` for an absolute time `nn` quarter
/// hours from UTC, `R` for a time relative to now) as seconds from `now`; `None` when
/// empty.
pub fn seconds_from(t: &str, now: DateTime<Utc>) -> Result<Option<i64>, String> {
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || format!("{t:?} is not an SMPP time (YYMMDDhhmmsstnnp)");
    if t.len() != 16 || !t.is_char_boundary(15) || !t[..15].bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |i: usize| t[i..i + 2].parse::<i64>().unwrap_or(0);
    let (yy, mo, dd, hh, mi, ss) = (n(0), n(2), n(4), n(6), n(8), n(10));
    match &t[15..] {
        "R" => Ok(Some(
            ((yy * 365 + mo * 30 + dd) * 24 + hh) * 3600 + mi * 60 + ss,
        )),
        sign @ ("+" | "-") => {
            let quarter_hours = n(13);
            if quarter_hours > 48 {
                return Err(bad());
            }
            let offset = quarter_hours * 15 * 60 * if sign == "+" { 1 } else { -1 };
            let local = NaiveDate::from_ymd_opt(2000 + yy as i32, mo as u32, dd as u32)
                .and_then(|d| d.and_hms_opt(hh as u32, mi as u32, ss as u32))
                .ok_or_else(bad)?;
            let at = Utc.from_utc_datetime(&local) - chrono::Duration::seconds(offset);
            Ok(Some((at - now).num_seconds()))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::pdu::Tlv;

    fn account() -> SmppAccount {
        SmppAccount {
            system_id: "a".into(),
            password: "p".into(),
            ..SmppAccount::default()
        }
    }

    fn sm(text: &[u8]) -> Sm {
        Sm {
            source: Addr {
                ton: 5,
                npi: 0,
                addr: "NOC".into(),
            },
            destination: Addr {
                ton: 1,
                npi: 1,
                addr: "4790000001".into(),
            },
            short_message: text.to_vec(),
            ..Sm::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()
    }

    #[test]
    fn an_ordinary_gsm_message() {
        let mut s = sm(b"Hello");
        s.registered_delivery = 1;
        s.priority_flag = 2;
        let Read::Whole(r) = read(&s, &account(), now()).unwrap() else {
            panic!()
        };
        assert_eq!(r.to, ["+4790000001"]);
        assert_eq!(r.body, Body::Text("Hello".into()));
        assert_eq!((r.report, r.priority, r.unicode), (Some(true), 2, false));
        assert_eq!(dlr_mask(1), 3);
        assert_eq!(dlr_mask(0x12), 10);
    }

    #[test]
    fn parts_by_udh_and_by_sar_and_a_payload() {
        let mut s = sm(&[5, 0, 3, 9, 2, 1, b'a', b'b']);
        s.esm_class = 0x40;
        let Read::Part(p) = read(&s, &account(), now()).unwrap() else {
            panic!()
        };
        assert_eq!((p.key.2, p.key.3, p.index), (9, 2, 1));
        assert_eq!(p.request.body, Body::Text("ab".into()));
        let mut s = sm("ł"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect::<Vec<u8>>()
            .as_slice());
        s.data_coding = 8;
        s.tlvs = vec![
            Tlv::u16(tag::SAR_MSG_REF_NUM, 300),
            Tlv::u8(tag::SAR_TOTAL_SEGMENTS, 3),
            Tlv::u8(tag::SAR_SEGMENT_SEQNUM, 3),
        ];
        let Read::Part(p) = read(&s, &account(), now()).unwrap() else {
            panic!()
        };
        assert_eq!((p.key.2, p.key.3, p.index), (300, 3, 3));
        assert!(p.request.unicode);
        let mut s = sm(b"");
        s.tlvs = vec![Tlv::new(tag::MESSAGE_PAYLOAD, vec![b'x'; 400])];
        let Read::Whole(r) = read(&s, &account(), now()).unwrap() else {
            panic!()
        };
        assert_eq!(r.body, Body::Text("x".repeat(400)));
    }

    #[test]
    fn refusals_carry_their_status() {
        let st = |s: Sm, a: &SmppAccount| read(&s, a, now()).unwrap_err().status;
        let mut s = sm(b"x");
        s.destination.addr.clear();
        assert_eq!(st(s, &account()), status::ESME_RINVDSTADR);
        let mut s = sm(b"x");
        s.data_coding = 8;
        s.short_message = vec![0, 0x41, 0];
        assert_eq!(st(s, &account()), status::ESME_RINVDCS);
        let mut s = sm(b"x");
        s.validity_period = "not a time".into();
        assert_eq!(st(s, &account()), status::ESME_RINVEXPIRY);
        let mut s = sm(b"x");
        s.esm_class = 0x04;
        assert_eq!(st(s, &account()), status::ESME_RINVESMCLASS);
        let held = SmppAccount {
            sources: vec!["47*".into()],
            ..account()
        };
        assert_eq!(st(sm(b"x"), &held), status::ESME_RINVSRCADR);
        let mut s = sm(b"x");
        s.source.addr = "4712".into();
        assert!(read(&s, &held, now()).is_ok());
    }

    #[test]
    fn smpp_times() {
        assert_eq!(seconds_from("", now()), Ok(None));
        assert_eq!(seconds_from("000001000000000R", now()), Ok(Some(86400)));
        // 11:00 at UTC+1 is 10:00 UTC.
        assert_eq!(seconds_from("261207110000004+", now()), Ok(Some(0)));
        assert_eq!(seconds_from("261207100500000+", now()), Ok(Some(300)));
        assert!(seconds_from("261307100500000+", now()).is_err());
        assert!(seconds_from("2612071005000ł", now()).is_err());
    }
}
