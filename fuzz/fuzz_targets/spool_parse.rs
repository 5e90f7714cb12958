//! Any bytes under any name as a dropped spool file (smstools3 or a Gammu OUT file): a
//! message or an error, never a panic; a message always has a number and a text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, Vec<u8>)| {
    let (name, bytes) = input;
    if let Ok(d) = smsgw::spool::parse::parse(&name, &bytes) {
        assert!(!d.to.is_empty() && !d.text.is_empty());
        let _ = smsgw::compose::new_message(&d.to, &d.text, &d.options(None, false));
    }
});
