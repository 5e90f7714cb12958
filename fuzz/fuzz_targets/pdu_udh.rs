//! Any bytes as a user data header; what decodes must encode back to the bytes it read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::pdu::Udh;

fuzz_target!(|data: &[u8]| {
    if let Ok((udh, len)) = Udh::decode(data, 0) {
        assert!(len <= data.len());
        let _ = udh.concat_info();
        assert_eq!(udh.to_bytes(), data[..len]);
    }
});
