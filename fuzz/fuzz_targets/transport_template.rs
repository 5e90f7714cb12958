//! Any text as a transport template (config input) with any values: parsed or refused,
//! never a panic; a rendered URL carries the values percent-encoded (no space, `&`, `+` or
//! non-ASCII byte from a value survives).
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::transport::template::{Escape, Template, Values};

fuzz_target!(|input: (String, String, String)| {
    let (template, phone, text) = input;
    let values = Values {
        phone: &phone,
        text: &text,
        ..Values::default()
    };
    if let Ok(t) = Template::parse(&template) {
        for e in [Escape::Form, Escape::Json, Escape::Xml, Escape::None] {
            let _ = t.render(&values, e);
        }
    }
    let t = Template::parse("{phone}|{text}").unwrap();
    let url = t.render(&values, Escape::Url);
    assert!(url.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%|".contains(&b)), "{url}");
});
