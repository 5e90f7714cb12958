//! Any text as a delivery receipt: parsed or not, never a panic; dates and ids likewise.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::smpp::receipt;

fuzz_target!(|input: (String, String)| {
    let (text, other) = input;
    if let Some(r) = receipt::parse_text(&text) {
        assert!(!r.id.is_empty());
        let _ = receipt::State::from_stat(&r.stat);
        let _ = receipt::done_time(&r.done_date);
        let _ = receipt::same_id(&r.id, &other);
    }
    let _ = receipt::done_time(&other);
});
