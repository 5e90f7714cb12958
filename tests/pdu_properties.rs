//! Properties of the codec over generated inputs: any text splits, encodes, decodes and joins
//! back to itself; decoding arbitrary bytes never panics.

use proptest::prelude::*;
use smsgw::pdu::{
    self, Address, ConcatRef, DecodeOptions, Deliver, Direction, Encoding, Pdu, Scts, SmscPrefix,
    Submit, UserData, MAX_UD_OCTETS,
};

/// Texts that stress the alphabets: GSM characters, extension characters, and anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex("[a-zA-Z0-9 @£$¥èéùìòÇçØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,./:;<=>?¡ÄÖÑÜ§¿äöñüà€\\[\\]{}|~^\\\\\n\r]{0,700}")
            .expect("regex"),
        proptest::string::string_regex("[a-z€😀漢ł\u{1F3FD}\u{10000}-\u{10FFFF}]{0,400}").expect("regex"),
        any::<String>(),
    ]
}

fn reference() -> impl Strategy<Value = ConcatRef> {
    prop_oneof![
        any::<u8>().prop_map(ConcatRef::Eight),
        any::<u16>().prop_map(ConcatRef::Sixteen)
    ]
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![Just(Encoding::Auto), Just(Encoding::Ucs2)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_text_splits_encodes_decodes_and_joins_back(text in text(), reference in reference(), encoding in encoding()) {
        let template = Submit::new(Address::number("+4912345678").unwrap(), "");
        let parts = pdu::split(&template, &text, encoding, reference).unwrap();
        let estimate = pdu::estimate(&text, encoding, reference).unwrap();
        prop_assert_eq!(estimate.parts, parts.len());
        let total = parts.len() as u8;
        let mut decoded = Vec::new();
        for part in &parts {
            let encoded = part.encode().unwrap();
            prop_assert!(encoded.tpdu_len() <= 12 + 2 + 1 + 1 + 1 + 1 + MAX_UD_OCTETS);
            let Pdu::Submit(back) = pdu::decode(&encoded.bytes).unwrap() else {
                return Err(TestCaseError::fail("not a SUBMIT"));
            };
            prop_assert_eq!(&back, part);
            let seq = back.udh.as_ref().and_then(|u| u.concat_info()).map_or(1, |c| c.seq);
            decoded.push((seq, back.user_data));
        }
        decoded.reverse(); // any arrival order
        let joined = pdu::join(total, decoded.iter().map(|(s, u)| (*s, u))).unwrap();
        prop_assert_eq!(joined, UserData::Text(text));
    }

    #[test]
    fn c_cedilla_is_not_turned_into_capital(prefix in "[a-z=]{0,5}") {
        // Regression found by the pdu_text_roundtrip fuzz target: "==ç" came back as "==Ç".
        let text = format!("{prefix}ç");
        let template = Submit::new(Address::number("1").unwrap(), "");
        let part = &pdu::split(&template, &text, Encoding::Auto, ConcatRef::Eight(0)).unwrap()[0];
        let back = Submit::decode(&part.encode().unwrap().bytes).unwrap();
        prop_assert_eq!(back.user_data, UserData::Text(text));
    }

    #[test]
    fn data_splits_and_joins_back(data in proptest::collection::vec(any::<u8>(), 0..1000), reference in reference()) {
        let template = Submit::new(Address::number("12345").unwrap(), "");
        let parts = pdu::split_data(&template, &data, reference).unwrap();
        let ud: Vec<(u8, UserData)> = parts.iter().map(|p| {
            let back = Submit::decode(&p.encode().unwrap().bytes).unwrap();
            (back.udh.as_ref().and_then(|u| u.concat_info()).map_or(1, |c| c.seq), back.user_data)
        }).collect();
        let joined = pdu::join(parts.len() as u8, ud.iter().map(|(s, u)| (*s, u))).unwrap();
        prop_assert_eq!(joined, UserData::Binary(data));
    }

    #[test]
    fn delivers_round_trip(text in text(), sender in "[+]?[0-9]{1,20}|[A-Za-z0-9]{1,11}",
                           tz in -79i8..=79, secs in 0i64..2_000_000_000) {
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
        let scts = Scts::from_datetime(&t.and_utc());
        let scts = Scts { tz_quarters: tz, ..scts };
        let template = Submit::new(Address::number("1").unwrap(), "");
        // Deliver each part of the split text, as a phone would receive it.
        for part in pdu::split(&template, &text, Encoding::Auto, ConcatRef::Eight(1)).unwrap() {
            let d = Deliver {
                smsc: Some(Address::number("+4917000000").unwrap()),
                more_messages: false,
                loop_prevention: false,
                reply_path: false,
                status_report_indication: true,
                originator: Address::parse(&sender).unwrap(),
                pid: 0,
                dcs: part.dcs,
                scts,
                udh: part.udh.clone(),
                user_data: part.user_data.clone(),
            };
            let bytes = d.encode().unwrap().bytes;
            prop_assert_eq!(Deliver::decode(&bytes).unwrap(), d);
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200),
                                             smsc in 0..3u8, dir in 0..3u8, lenient in any::<bool>()) {
        let options = DecodeOptions {
            smsc: [SmscPrefix::Present, SmscPrefix::Absent, SmscPrefix::Auto][smsc as usize],
            direction: [Direction::Infer, Direction::ScToMs, Direction::MsToSc][dir as usize],
            lenient,
        };
        match pdu::decode_noting(&bytes, options) {
            Err(e) => {
                prop_assert!(e.offset <= bytes.len());
                prop_assert!(!e.to_string().is_empty());
            }
            Ok((_, quirks)) => prop_assert!(lenient || quirks.is_empty()),
        }
    }

    #[test]
    fn decoding_near_valid_pdus_never_panics(cut in 0usize..60, flip in 0usize..60, bit in 0u8..8) {
        // Mutations of a real multipart DELIVER reach deeper than random bytes do.
        let mut bytes = pdu::from_hex("07917283010010F5440BC87238880900F10000993092516195800C0500038A0202906536FB0D").unwrap();
        if flip < bytes.len() {
            bytes[flip] ^= 1 << bit;
        }
        bytes.truncate(cut.max(1));
        let _ = pdu::decode(&bytes);
        let _ = pdu::decode_with(&bytes, pdu::RECEIVED);
    }

    #[test]
    fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300), junk in any::<String>()) {
        prop_assert_eq!(pdu::from_hex(&pdu::to_hex(&bytes)).unwrap(), bytes);
        let _ = pdu::from_hex(&junk);
    }
}
