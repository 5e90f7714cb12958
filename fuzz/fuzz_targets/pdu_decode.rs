//! Any bytes through the generic decoder, with the options picked by the first byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::pdu::{self, DecodeOptions, Direction, SmscPrefix};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let options = DecodeOptions {
        smsc: [SmscPrefix::Present, SmscPrefix::Absent, SmscPrefix::Auto][usize::from(sel % 3)],
        direction: [Direction::Infer, Direction::ScToMs, Direction::MsToSc][usize::from(sel / 3 % 3)],
        lenient: sel & 0x80 != 0,
    };
    match pdu::decode_noting(bytes, options) {
        Err(e) => {
            assert!(e.offset <= bytes.len());
            let _ = e.to_string();
        }
        Ok((_, quirks)) => assert!(options.lenient || quirks.is_empty()),
    }
});
