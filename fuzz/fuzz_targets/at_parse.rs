//! Any bytes from a modem through the AT line framer (split at every point, with and
//! without a prompt expected) and every line classifier and response parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smsgw::at::framer::{Frame, Framer};
use smsgw::at::line;
use smsgw::modem::{event, parse};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let mut framer = Framer::new();
    let mut frames = Vec::new();
    let cut = usize::from(sel).min(bytes.len());
    framer.push(&bytes[..cut], sel & 1 == 1, &mut frames);
    framer.push(&bytes[cut..], sel & 2 == 2, &mut frames);
    for f in frames {
        let Frame::Line(l) = f else { continue };
        assert!(l.len() <= smsgw::at::framer::MAX_LINE * 4);
        let _ = line::parse_final(&l);
        let _ = line::urc_shape(&l);
        let _ = line::response_prefix(&l);
        let _ = line::mask_secrets(&l);
        let urc = smsgw::at::Urc { line: l.clone(), pdu: Some(l.clone()) };
        let _ = event(&urc);
        let v = l.split_once(':').map_or(l.as_str(), |(_, v)| v);
        let _ = parse::csq(v);
        let _ = parse::cbc(v);
        let _ = parse::creg(v, sel & 4 == 4);
        let _ = parse::cops(v);
        let _ = parse::cpin(v);
        let _ = parse::cpms_support(v);
        let _ = parse::cpms_counts(v);
        let _ = parse::cmgl_header(v);
        let _ = parse::cmgr_header(v);
        let _ = parse::mem_index(v);
        let _ = parse::csca(v);
        let _ = parse::cmgs(v);
        let _ = parse::iccid(&l);
    }
});
