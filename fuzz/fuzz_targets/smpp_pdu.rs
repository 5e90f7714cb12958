//! Any bytes from an SMSC as a stream of SMPP PDUs: frames, bad frames or a framing error,
//! never a panic; a PDU that decodes encodes back to the same PDU.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::smpp::codec::{Frame, SmppCodec};
use smsgw::smpp::pdu::Pdu;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut buf = bytes::BytesMut::from(data);
    let mut codec = SmppCodec::default();
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        if let Frame::Pdu(p) = frame {
            if let Ok(b) = p.encode() {
                assert_eq!(Pdu::decode(&b).as_ref(), Ok(&p));
            }
        }
    }
});
