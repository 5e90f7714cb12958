//! Any text splits, encodes, decodes and joins back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::pdu::{self, Address, ConcatRef, Encoding, Submit, UserData};

fuzz_target!(|text: &str| {
    let Ok(to) = Address::number("+4912345") else {
        return;
    };
    let template = Submit::new(to, "");
    let Ok(parts) = pdu::split(&template, text, Encoding::Auto, ConcatRef::Eight(1)) else {
        return; // more than 255 parts
    };
    let mut back = Vec::new();
    for p in &parts {
        let encoded = p.encode().expect("a split part encodes");
        let s = Submit::decode(&encoded.bytes).expect("an encoded part decodes");
        let seq = s.udh.as_ref().and_then(|u| u.concat_info()).map_or(1, |c| c.seq);
        back.push((seq, s.user_data));
    }
    let joined = pdu::join(parts.len() as u8, back.iter().map(|(s, u)| (*s, u))).expect("joins");
    assert_eq!(joined, UserData::Text(text.to_string()));
});
