//! PDUs published in public documentation of GSM 03.40 and by SMS tool vendors, decoded and
//! checked field by field, plus malformed PDUs that must give an error (never a panic).
//! The hex strings are facts quoted from those pages; the expected fields were also checked
//! against libGammu's decoder (python3-gammu) when these tests were written.

use smsgw::pdu::{
    self, Address, Alphabet, DecodeOptions, DeliveryStatus, Direction, Pdu, PduErrorKind,
    SmscPrefix, Ton, UserData, Validity,
};

fn bytes(hex: &str) -> Vec<u8> {
    pdu::from_hex(hex).expect("test hex")
}

fn deliver(hex: &str) -> pdu::Deliver {
    match pdu::decode(&bytes(hex)) {
        Ok(Pdu::Deliver(d)) => d,
        other => panic!("{hex}: {other:?}"),
    }
}

/// The SMS-DELIVER example of the widely copied GSM 03.40 tutorial (dreamfabric.com,
/// "SMS messages and the PDU format"): "hellohello" from a subscriber number.
#[test]
fn tutorial_deliver_hellohello() {
    let d = deliver("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37");
    assert_eq!(
        d.smsc.as_ref().map(ToString::to_string).as_deref(),
        Some("+27381000015")
    );
    assert_eq!(d.originator.value, "27838890001");
    assert_eq!(d.originator.ton, Ton::Subscriber);
    assert_eq!(d.scts.to_string(), "1999-03-29 15:16:59 +02:00");
    assert_eq!(d.user_data, UserData::Text("hellohello".into()));
    assert!(!d.more_messages);
    // Encoding the decoded message gives the same bytes back.
    assert_eq!(
        d.encode().unwrap().to_hex(),
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    );
}

/// The SMS-SUBMIT example of the same tutorial: relative validity AA (4 days).
#[test]
fn tutorial_submit_hellohello() {
    let s = match pdu::decode(&bytes("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")) {
        Ok(Pdu::Submit(s)) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(s.smsc, None);
    assert_eq!(s.destination.to_string(), "+46708251358");
    assert_eq!(s.validity, Validity::Relative(0xAA));
    assert_eq!(s.validity.to_string(), "relative 170 (4 days)");
    assert_eq!(s.user_data.text(), Some("hellohello"));
    let mut again = pdu::Submit::new(Address::number("+46708251358").unwrap(), "hellohello");
    again.validity = "4d".parse().unwrap();
    assert_eq!(
        again.encode().unwrap().to_hex(),
        "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    );
}

/// Diafaan's PDU example: an alphanumeric sender ("diafaan", TON 5) with TP-SRI set.
#[test]
fn alphanumeric_sender() {
    let d = deliver("0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B");
    assert_eq!(d.originator.ton, Ton::Alphanumeric);
    assert_eq!(d.originator.to_string(), "diafaan");
    assert!(d.status_report_indication);
    assert_eq!(d.user_data.text(), Some("diafaan.com"));
    assert_eq!(d.scts.to_string(), "2011-01-11 13:25:41 +00:00");
}

/// A status report as a modem lists it (+CMGR after +CDSI).
#[test]
fn status_report_delivered() {
    let r = match pdu::decode(&bytes(
        "07911326040000F006090B911326880736F4111011719551401110117195714000",
    )) {
        Ok(Pdu::StatusReport(r)) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.message_reference, 9);
    assert_eq!(r.recipient.to_string(), "+31628870634");
    assert_eq!(r.delivery_status(), DeliveryStatus::DeliveryOK);
    assert_eq!(r.scts.to_string(), "2011-01-11 17:59:15 +01:00");
    assert_eq!(r.discharge_time.to_string(), "2011-01-11 17:59:17 +01:00");
    assert_eq!(r.pid, None);
}

#[test]
fn status_report_with_parameter_indicator_and_text() {
    // TP-PI 07: PID 00, DCS 00, then UD "OK".
    let hex = "0006100B911326880736F411101171955140111011719571402007000002CF25";
    let r = match pdu::decode(&bytes(hex)) {
        Ok(Pdu::StatusReport(r)) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.delivery_status(), DeliveryStatus::DeliveryPending);
    assert_eq!(r.pid, Some(0));
    assert_eq!(r.user_data, Some(UserData::Text("OK".into())));
    assert_eq!(r.encode().unwrap().to_hex(), hex);
}

#[test]
fn message_waiting_and_compressed_groups_are_reported_not_fatal() {
    // DCS C8: voicemail waiting, active, discard; DCS 24: compressed 8-bit.
    let d = deliver("00040B911326880736F400C8111011719551400100");
    let w = d.dcs.message_waiting().expect("indication");
    assert!(w.active && w.discard);
    let d = deliver("00040B911326880736F40024111011719551400301FF02");
    assert!(d.dcs.compressed());
    assert_eq!(d.user_data, UserData::Binary(vec![1, 0xFF, 2]));
}

#[test]
fn ucs2_with_a_surrogate_pair_and_class_0() {
    // "Hi 😀" in UCS-2, class 0 (flash): DCS 18.
    let d = deliver("0004038121F30018111011719551400A004800690020D83DDE00");
    assert_eq!(d.dcs.alphabet(), Alphabet::Ucs2);
    assert_eq!(d.class().map(|c| c.number()), Some(0));
    assert_eq!(d.user_data.text(), Some("Hi 😀"));
}

#[test]
fn seven_bit_text_after_a_header_uses_fill_bits() {
    // Part 2/2 of reference 0x8A, 7-bit, "Hello": the header is 6 octets = 7 septets with
    // one fill bit.
    let d = deliver(
        "0044038121F3000011101171955140 0C 050003 8A0202 906536FB0D"
            .replace(' ', "")
            .as_str(),
    );
    let c = d.concat().expect("concat");
    assert_eq!((c.reference, c.seq, c.total), (0x8A, 2, 2));
    assert_eq!(d.user_data.text(), Some("Hello"));
}

fn err(hex: &str, options: DecodeOptions) -> pdu::PduError {
    match pdu::decode_with(&bytes(hex), options) {
        Err(e) => e,
        Ok(p) => panic!("{hex} decoded: {p:?}"),
    }
}

#[test]
fn malformed_pdus_name_the_problem_and_the_octet() {
    let d = DecodeOptions::default();
    // Truncated inside the text.
    let e = err(
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD",
        d,
    );
    assert!(
        matches!(e.kind, PduErrorKind::Truncated { field: "TP-UD", .. }),
        "{e}"
    );
    assert_eq!(e.offset, 27);
    // Truncated in the time stamp.
    let e = err("07917283010010F5040BC87238880900F1000099309251", d);
    assert!(e.to_string().contains("TP-SCTS"), "{e}");
    // A wrong SMSC length: common in modem logs of TPDUs without the SMSC part.
    let e = err("2491", d);
    assert!(
        matches!(
            e.kind,
            PduErrorKind::BadLength {
                field: "SMSC address",
                ..
            }
        ),
        "{e}"
    );
    // UDL beyond 160 septets.
    let e = err("0004038121F3000011101171955140A1E8329BFD4697D9EC37", d);
    assert!(
        matches!(
            e.kind,
            PduErrorKind::BadLength {
                field: "TP-UDL",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset, 15);
    // Address with more than 20 digits.
    let e = err("000418", d);
    assert!(e.to_string().contains("TP-OA length 24"), "{e}");
    // A digit nibble that is not a digit, inside an odd-length number.
    let e = err(
        "000403812FF3000011101171955140 00"
            .replace(' ', "")
            .as_str(),
        d,
    );
    assert!(
        matches!(e.kind, PduErrorKind::BadDigit { nibble: 0xF, .. }),
        "{e}"
    );
    // UCS-2 with an odd octet count.
    let e = err("0004038121F3000811101171955140030041FF", d);
    assert!(matches!(e.kind, PduErrorKind::OddUcs2(3)), "{e}");
    // A user data header longer than the user data.
    let e = err("0044038121F300041110117195514003080003", d);
    assert!(matches!(e.kind, PduErrorKind::BadUdh(_)), "{e}");
    // A 7-bit UDL shorter than its own header.
    let e = err(
        "0044038121F3000011101171955140 06 050003 8A0202"
            .replace(' ', "")
            .as_str(),
        d,
    );
    assert!(
        matches!(e.kind, PduErrorKind::UdlShorterThanHeader { .. }),
        "{e}"
    );
    // Reserved TP-MTI, and types this codec does not decode.
    let e = err("0003", d);
    assert!(matches!(e.kind, PduErrorKind::Unsupported(_)), "{e}");
    let ms = DecodeOptions {
        direction: Direction::MsToSc,
        ..d
    };
    assert!(err("0000", ms).to_string().contains("DELIVER-REPORT"));
    assert!(err("", d).to_string().contains("empty"));
    assert!(err("00", d).to_string().contains("first octet"));
}

#[test]
fn auto_smsc_reads_phase_one_pdus_without_the_prefix() {
    let tpdu = "040BC87238880900F10000993092516195800AE8329BFD4697D9EC37";
    let auto = DecodeOptions {
        smsc: SmscPrefix::Auto,
        ..DecodeOptions::default()
    };
    match pdu::decode_with(&bytes(tpdu), auto) {
        Ok(Pdu::Deliver(d)) => assert_eq!(d.user_data.text(), Some("hellohello")),
        other => panic!("{other:?}"),
    }
    assert!(pdu::decode(&bytes(tpdu)).is_err());
}

#[test]
fn hex_errors_point_at_the_octet() {
    let e = pdu::from_hex("00zz").unwrap_err();
    assert_eq!((e.offset, e.kind.clone()), (1, PduErrorKind::BadHex('z')));
    assert!(pdu::from_hex("abc").is_err());
    assert!(pdu::from_hex("0é").is_err());
    assert_eq!(pdu::from_hex(" 0aFF\n").unwrap(), [0x0A, 0xFF]);
}
