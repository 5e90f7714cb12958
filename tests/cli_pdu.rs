//! `smsgw pdu decode | encode | count` as a user runs them.

mod run;

use run::{smsgw, stderr, stdout};

#[test]
fn decode_prints_every_field() {
    let o = smsgw(
        &[
            "pdu",
            "decode",
            "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "Type:            SMS-DELIVER",
        "SMSC:            +27381000015",
        "From (TP-OA):    27838890001",
        "Sent (TP-SCTS):  1999-03-29 15:16:59 +02:00",
        "TP-DCS:          0x00: GSM 7-bit",
        "Text:            hellohello",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn decode_reads_stored_submits_and_status_reports() {
    let o = smsgw(
        &[
            "pdu",
            "decode",
            "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
        ],
        None,
    );
    assert!(stdout(&o).contains("SMS-SUBMIT"));
    assert!(stdout(&o).contains("relative 170 (4 days)"));
    let o = smsgw(
        &[
            "pdu",
            "decode",
            "07911326040000F006090B911326880736F4111011719551401110117195714000",
        ],
        None,
    );
    assert!(
        stdout(&o).contains("Status (TP-ST):  0x00 DeliveryOK"),
        "{}",
        stdout(&o)
    );
    let o = smsgw(
        &[
            "pdu",
            "decode",
            "--tpdu",
            "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
        ],
        None,
    );
    assert!(
        !o.status.success(),
        "a bare TPDU starting 00 11 is not a valid SUBMIT"
    );
    let o = smsgw(
        &[
            "pdu",
            "decode",
            "--tpdu",
            "11000B916407281553F80000AA0AE8329BFD4697D9EC37",
        ],
        None,
    );
    assert!(stdout(&o).contains("hellohello"), "{}", stderr(&o));
}

#[test]
fn malformed_input_exits_1_with_the_reason() {
    for (hex, says) in [
        ("07917283010010F5040BC872388809", "TP-OA"),
        ("2491", "--tpdu"),
        ("0G", "invalid hex character 'G'"),
        ("123", "odd number"),
        ("0003", "reserved TP-MTI"),
    ] {
        let o = smsgw(&["pdu", "decode", hex], None);
        assert_eq!(o.status.code(), Some(1), "{hex}");
        assert!(stderr(&o).contains(says), "{hex}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{hex}: {}", stderr(&o));
    }
}

#[test]
fn encode_prints_pdus_that_decode_back() {
    let text = "A long message ".repeat(12);
    let o = smsgw(
        &["pdu", "encode", "+48123456789", &text, "--reference", "7"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2);
    let mut joined = String::new();
    for (i, line) in lines.iter().enumerate() {
        let d = smsgw(&["pdu", "decode", line], None);
        let out = stdout(&d);
        assert!(
            out.contains(&format!("concatenated part {}/2, 8-bit reference 7", i + 1)),
            "{out}"
        );
        let t = out
            .lines()
            .find_map(|l| l.strip_prefix("Text:            "))
            .expect("text");
        joined.push_str(t);
    }
    assert_eq!(joined, text);
}

#[test]
fn encode_flags_reach_the_pdu() {
    let o = smsgw(
        &[
            "pdu",
            "encode",
            "+48123456789",
            "hi",
            "--flash",
            "--report",
            "--validity",
            "DAY",
            "--at",
        ],
        None,
    );
    assert_eq!(
        stdout(&o),
        "AT+CMGS=16\n0031000B918421436587F900F0A702E834<Ctrl-Z>\n"
    );
    let o = smsgw(
        &["pdu", "encode", "123", "--unicode"],
        Some("é\n".as_bytes()),
    );
    assert_eq!(stdout(&o), "000100038121F300080200E9\n", "{}", stderr(&o));
}

#[test]
fn encode_refuses_bad_numbers_and_arguments() {
    let o = smsgw(&["pdu", "encode", "+48 12x", "hi"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("invalid address"), "{}", stderr(&o));
    let o = smsgw(&["pdu", "encode", "123", "hi", "--validity", "soon"], None);
    assert_eq!(o.status.code(), Some(64), "a usage error (EX_USAGE)");
    assert!(stderr(&o).contains("invalid validity"), "{}", stderr(&o));
    let o = smsgw(&["pdu", "encode", "123", "hi", "--reference", "300"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--sixteen-bit"));
}

#[test]
fn count_says_parts_and_room_left() {
    let o = smsgw(&["pdu", "count", &"x".repeat(161)], None);
    assert_eq!(
        stdout(&o),
        "2 parts, GSM 7-bit, 161 characters, 161 septets (153 per part, 145 left in the last)\n"
    );
    let o = smsgw(&["pdu", "count"], Some("😀\n".as_bytes()));
    assert!(
        stdout(&o).starts_with("1 part, UCS-2, 1 characters, 2 UTF-16 units"),
        "{}",
        stdout(&o)
    );
}

/// "a", a line feed, "b", a backslash, "n": in UCS-2.
const BACKSLASH: &str = "0004038121F30008111011719551400A0061000A0062005C006E";

#[test]
fn decode_escapes_the_backslash_so_a_newline_is_unambiguous() {
    let o = smsgw(&["pdu", "decode", BACKSLASH], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Text:            a\\nb\\\\n\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn decode_json_reads_standard_input_and_gives_every_field() {
    let o = smsgw(
        &["pdu", "decode", "--json"],
        Some(format!("{BACKSLASH}\n").as_bytes()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["type"], "SMS-DELIVER");
    assert_eq!(v["text"], "a\nb\\n");
    assert_eq!(v["from"]["number"], "123");
    assert_eq!(v["alphabet"], "ucs2");
    assert_eq!(v["scts"], "2011-01-11T17:59:15+01:00");
    assert_eq!(v["warnings"], serde_json::json!([]));
}

/// Gammu's tests/at-sms/41.dump: TP-UDL says 93 septets, 79 octets follow.
const CUT_SHORT: &str = "0041000b817777777777f700005d060504157800004de1135b851283d4e2afdd8bd576f3b2dc5e96f7dc617a788e2ebbd761173c2ca7e777f0b79cdecbe5663bf8bdc74e57cdcfbcf5b97387dbe59e1be00ed3c37374d9bd0ebbe06139";

#[test]
fn a_pdu_cut_short_is_refused_with_a_hint_and_read_with_lenient() {
    let o = smsgw(&["pdu", "decode", CUT_SHORT], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("TP-UD needs 82 octet(s) but only 79 remain"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("try --lenient"), "{}", stderr(&o));
    let o = smsgw(&["pdu", "decode", "--lenient", "--json", CUT_SHORT], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["type"], "SMS-SUBMIT");
    assert!(
        v["text"].as_str().unwrap().starts_with("MBOXUPDATE?m=15;"),
        "{v}"
    );
    let w = v["warnings"][0].as_str().unwrap();
    assert!(w.contains("TP-UDL says 93 septets"), "{w}");
}

#[test]
fn encode_takes_the_text_as_argument_or_with_text_as_inject_does() {
    let a = smsgw(&["pdu", "encode", "+48123456789", "Hello"], None);
    let b = smsgw(&["pdu", "encode", "+48123456789", "--text", "Hello"], None);
    assert!(a.status.success() && b.status.success(), "{}", stderr(&b));
    assert_eq!(stdout(&a), stdout(&b));
}
