//! What the event log gives an account's binds as `deliver_sm`: the delivery receipt of a
//! message it submitted (esm_class 0x04, the text of SMPP 3.4's appendix B and the
//! `receipted_message_id` and `message_state` TLVs; 0x20 for the intermediate "sent"
//! notice), and the messages received by the phones it is given (`receive`).

use crate::config::SmppAccount;
use crate::pdu::gsm7;
use crate::service::{Event, EventKind, Service, StorageError};
use crate::smpp::pdu::{tag, Addr, Sm, Tlv};
use crate::smpp::receipt::{receipt_date, Receipt};
use crate::smpp::DefaultAlphabet;

/// What a deliver_sm carries (for the counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Receipt,
    Received,
}

/// An SMPP address for a number or a name: TON 1 (international) for `+` digits, TON 5
/// (alphanumeric) for a name, else as written.
pub fn address(n: &str) -> Addr {
    if let Some(digits) = n.strip_prefix('+') {
        return Addr {
            ton: 1,
            npi: 1,
            addr: digits.to_string(),
        };
    }
    if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
        return Addr {
            ton: 0,
            npi: 1,
            addr: n.to_string(),
        };
    }
    Addr {
        ton: 5,
        npi: 0,
        addr: n.chars().take(20).collect(),
    }
}

/// The deliver_sm event `e` makes for `account`, if any.
pub async fn for_event(
    account: &SmppAccount,
    e: &Event,
    storage: &dyn Service,
) -> Result<Option<(Sm, Kind)>, StorageError> {
    if e.kind == EventKind::Received {
        return Ok(received(account, e).map(|sm| (sm, Kind::Received)));
    }
    let Some(s) = &e.submission else {
        return Ok(None);
    };
    if s.face != "smpp" || s.owner != account.system_id || s.dlr_mask == 0 {
        return Ok(None);
    }
    // (stat, message_state, intermediate, the status the message must be in)
    let (stat, state, intermediate, must_be) = match e.kind {
        EventKind::Sent if s.dlr_mask & 8 != 0 => ("ENROUTE", 1, true, None),
        EventKind::Failed if s.dlr_mask & 2 != 0 && e.body["cancelled"] != true => {
            ("UNDELIV", 5, false, None)
        }
        EventKind::Report => match e.body["status"].as_str() {
            Some("pending") if s.dlr_mask & 8 != 0 => ("ENROUTE", 1, true, None),
            Some("delivered") if s.dlr_mask & 1 != 0 => ("DELIVRD", 2, false, Some("delivered")),
            Some("failed") if s.dlr_mask & 2 != 0 => ("UNDELIV", 5, false, Some("failed")),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let view = storage.message_view(e.message_id).await?;
    // A long message is final when every part is: one receipt for the whole, sent with
    // the report that made it so.
    if let (Some(want), Some(v)) = (must_be, &view) {
        if v.status != want {
            return Ok(None);
        }
    }
    let id = e.message_id.to_string();
    let receipt = Receipt {
        id: id.clone(),
        stat: stat.into(),
        err: if state == 5 {
            format!("{:03}", e.body["code"].as_i64().unwrap_or(0).clamp(0, 999))
        } else {
            "000".into()
        },
        submit_date: view
            .as_ref()
            .map(|v| receipt_date(&v.queued_at))
            .unwrap_or_default(),
        done_date: receipt_date(&e.at),
        text: view.map(|v| v.text).unwrap_or_default(),
    };
    let mut receipted = id.into_bytes();
    receipted.push(0);
    Ok(Some((
        Sm {
            source: address(&s.to),
            destination: address(&s.from),
            esm_class: if intermediate { 0x20 } else { 0x04 },
            short_message: receipt.to_text().into_bytes(),
            tlvs: vec![
                Tlv::new(tag::RECEIPTED_MESSAGE_ID, receipted),
                Tlv::u8(tag::MESSAGE_STATE, state),
            ],
            ..Sm::default()
        },
        Kind::Receipt,
    )))
}

/// A received message for `account`, if it is given the phone that received it.
fn received(account: &SmppAccount, e: &Event) -> Option<Sm> {
    let phone = e.body["phone"].as_str().unwrap_or_default();
    if !account.receive.iter().any(|r| r == phone || r == "*") {
        return None;
    }
    let text = e.body["text"].as_str().unwrap_or_default();
    let from = e.body["from"].as_str().unwrap_or_default();
    let alphabet = DefaultAlphabet::parse(&account.default_alphabet).unwrap_or_default();
    let (data_coding, bytes) = encode(text, alphabet);
    let mut sm = Sm {
        source: address(from),
        destination: Addr {
            ton: 0,
            npi: 0,
            addr: phone.chars().take(20).collect(),
        },
        data_coding,
        ..Sm::default()
    };
    // short_message holds 254 octets; a longer text goes whole in message_payload.
    if bytes.len() <= 254 {
        sm.short_message = bytes;
    } else {
        sm.tlvs.push(Tlv::new(tag::MESSAGE_PAYLOAD, bytes));
    }
    Some(sm)
}

/// `text` as data_coding 0 in the client's default alphabet when it fits, else UCS-2 (8).
pub fn encode(text: &str, alphabet: DefaultAlphabet) -> (u8, Vec<u8>) {
    match alphabet {
        DefaultAlphabet::Gsm | DefaultAlphabet::GsmPacked => {
            let mut septets = Vec::new();
            if gsm7::to_septets(text, &mut septets).is_ok() {
                if alphabet == DefaultAlphabet::Gsm {
                    return (0, septets);
                }
                let mut packed = Vec::new();
                gsm7::pack(&septets, 0, &mut packed);
                return (0, packed);
            }
        }
        DefaultAlphabet::Latin1 => {
            if text.chars().all(|c| u32::from(c) <= 0xFF) {
                return (0, text.chars().map(|c| c as u8).collect());
            }
        }
    }
    (8, text.encode_utf16().flat_map(u16::to_be_bytes).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Submission;
    use serde_json::json;

    #[test]
    fn addresses_by_kind() {
        assert_eq!(address("+4790000001").ton, 1);
        assert_eq!(address("+4790000001").addr, "4790000001");
        assert_eq!(address("12345").ton, 0);
        assert_eq!(address("NOC").ton, 5);
    }

    #[test]
    fn text_in_the_default_alphabet_or_ucs2() {
        assert_eq!(
            encode("Hi€", DefaultAlphabet::Gsm),
            (0, vec![0x48, 0x69, 0x1B, 0x65])
        );
        assert_eq!(
            encode("café", DefaultAlphabet::Latin1),
            (0, b"caf\xe9".to_vec())
        );
        assert_eq!(encode("ł", DefaultAlphabet::Gsm), (8, vec![0x01, 0x42]));
    }

    #[test]
    fn a_received_message_goes_to_the_account_given_its_phone() {
        let account = SmppAccount {
            system_id: "app".into(),
            receive: vec!["m1".into()],
            ..SmppAccount::default()
        };
        let mut e = Event {
            id: 1,
            kind: EventKind::Received,
            message_id: 5,
            body: json!({"phone": "m1", "from": "+4790000002", "text": "x".repeat(300)}),
            at: "2026-12-07 10:00:00".into(),
            submission: None,
        };
        let sm = received(&account, &e).unwrap();
        assert_eq!(sm.source.addr, "4790000002");
        assert!(sm.short_message.is_empty());
        assert_eq!(sm.tlvs[0].value.len(), 300);
        e.body["phone"] = json!("m2");
        assert!(received(&account, &e).is_none());
        e.submission = Some(Submission::default());
        assert!(received(&account, &e).is_none());
    }
}
