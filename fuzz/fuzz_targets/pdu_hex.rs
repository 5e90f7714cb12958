//! Any string as hex, then the decoded bytes as a PDU (what `smsgw pdu decode` does).
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::pdu;

fuzz_target!(|s: &str| {
    if let Ok(bytes) = pdu::from_hex(s) {
        let _ = pdu::decode(&bytes);
    }
});
