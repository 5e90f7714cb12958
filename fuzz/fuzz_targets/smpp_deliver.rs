//! Any deliver_sm an SMSC could send (any esm_class, data_coding, short_message, TLVs,
//! under each reading of data_coding 0): read as a receipt, a message or an error, never a
//! panic; a message becomes an SMS-DELIVER that encodes or says why not.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::smpp::deliver::{incoming, Incoming};
use smsgw::smpp::pdu::{cmd, Addr, Body, Pdu, Sm, Tlv};
use smsgw::smpp::DefaultAlphabet;

fuzz_target!(|data: &[u8]| {
    let [esm_class, data_coding, ton, len, rest @ ..] = data else {
        return;
    };
    let (short, mut rest) = rest.split_at(usize::from(*len).min(rest.len()));
    let mut tlvs = Vec::new();
    while let [t1, t2, n, more @ ..] = rest {
        let (value, after) = more.split_at(usize::from(*n).min(more.len()));
        tlvs.push(Tlv::new(u16::from_be_bytes([*t1, *t2]), value.to_vec()));
        rest = after;
    }
    let sm = Sm {
        source: Addr {
            ton: *ton,
            npi: 1,
            addr: String::from_utf8_lossy(short.get(..short.len().min(20)).unwrap_or_default())
                .into_owned(),
        },
        esm_class: *esm_class,
        data_coding: *data_coding,
        short_message: short.to_vec(),
        tlvs,
        ..Sm::default()
    };
    let alphabet = match ton % 3 {
        0 => DefaultAlphabet::Gsm,
        1 => DefaultAlphabet::GsmPacked,
        _ => DefaultAlphabet::Latin1,
    };
    let pdu = Pdu::new(cmd::DELIVER_SM, 1, Body::DeliverSm(sm));
    if let Ok(Incoming::Message(d)) = incoming(&pdu, alphabet) {
        let _ = d.encode();
        let _ = d.originator.to_string();
    }
});
