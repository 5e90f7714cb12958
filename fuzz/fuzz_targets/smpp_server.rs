//! Any bytes an ESME could send to the SMPP server: framed, and every submit_sm read as the
//! server reads it (data codings, UDH, SAR, message_payload, SMPP times, source rules),
//! joined when it is a part, and composed into outbox rows: a refusal with a status or
//! rows, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::config::{Config, SmppAccount};
use smsgw::face::smpp_server::join::Joiner;
use smsgw::face::smpp_server::read::{read, Read};
use smsgw::face::submit::{compose, Caller};
use smsgw::smpp::codec::{Frame, SmppCodec};
use smsgw::smpp::pdu::Body;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Ok(cfg) = Config::parse(
        "[[phone]]\nid = \"m\"\ndevice = \"/dev/null\"\n",
        std::path::Path::new("fuzz.toml"),
    ) else {
        return;
    };
    let account = SmppAccount {
        system_id: "f".into(),
        password: "p".into(),
        sources: vec!["47*".into(), "NOC".into()],
        ..SmppAccount::default()
    };
    let caller = Caller {
        routes: &[],
        max_parts: 10,
    };
    let mut buf = bytes::BytesMut::from(data);
    let mut codec = SmppCodec { max: 8192 };
    let mut joiner = Joiner::default();
    let mut seq = 0;
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let Frame::Pdu(p) = frame else { continue };
        let Body::SubmitSm(sm) = p.body else { continue };
        seq += 1;
        match read(&sm, &account, chrono::Utc::now()) {
            Ok(Read::Whole(req)) => {
                let _ = compose(&cfg, &caller, &req);
            }
            Ok(Read::Part(part)) => {
                if let Some(Ok(ready)) = joiner.add(part, seq) {
                    let _ = compose(&cfg, &caller, &ready.request);
                }
            }
            Err(_) => {}
        }
    }
    for ready in joiner.expired(std::time::Duration::ZERO) {
        let _ = compose(&cfg, &caller, &ready.request);
    }
});
