//! Codec speed: decoding received messages and encoding outgoing ones.
//!
//! `cargo bench --bench pdu` prints, per benchmark, the time of one operation. Goals
//! (issue 2): at least 2 million single-part DELIVER decodes a second on one core (500 ns
//! each, with the UDH parsed and the text decoded into a String), and a 3-part UCS-2
//! split + encode in under 5 µs.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use smsgw::pdu::{self, Address, ConcatRef, Deliver, Encoding, Submit};

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    let cases = [
        // 160-character GSM 7-bit DELIVER.
        ("deliver_gsm7_160", {
            let t = "The quick brown fox jumps over the lazy dog. ".repeat(4);
            deliver_hex(&t[..160], None)
        }),
        // A part of a concatenated UCS-2 message: UDH + 67 UTF-16 units.
        ("deliver_ucs2_udh", {
            let t: String = "Zażółć gęślą jaźń ".chars().cycle().take(67).collect();
            deliver_hex(&t, Some(2))
        }),
        // The short tutorial message.
        (
            "deliver_short",
            "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37".to_string(),
        ),
        (
            "status_report",
            "07911326040000F006090B911326880736F4111011719551401110117195714000".to_string(),
        ),
    ];
    for (name, hex) in cases {
        let bytes = pdu::from_hex(&hex).expect("bench PDU");
        g.bench_function(name, |b| {
            b.iter(|| pdu::decode(black_box(&bytes)).expect("decodes"))
        });
    }
    g.finish();
}

/// A DELIVER of `text` (one part's worth), with a concat header when `seq` is given.
fn deliver_hex(text: &str, seq: Option<u8>) -> String {
    let template = Submit::new(Address::number("+48123456789").expect("number"), "");
    let mut part = pdu::split(&template, text, Encoding::Auto, ConcatRef::Eight(1))
        .expect("split")
        .remove(0);
    if let Some(seq) = seq {
        part.udh = Some(pdu::Udh::concat(pdu::Concat {
            reference: 0x42,
            sixteen_bit: false,
            total: 3,
            seq,
        }));
    }
    let d = Deliver {
        smsc: Some(Address::number("+48602000000").expect("smsc")),
        more_messages: false,
        loop_prevention: false,
        reply_path: false,
        status_report_indication: false,
        originator: Address::number("+48123456789").expect("number"),
        pid: 0,
        dcs: part.dcs,
        scts: pdu::Scts {
            year: 26,
            month: 11,
            day: 23,
            hour: 17,
            minute: 30,
            second: 0,
            tz_quarters: 4,
        },
        udh: part.udh,
        user_data: part.user_data,
    };
    d.encode().expect("encode").to_hex()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let template = Submit::new(Address::number("+48123456789").expect("number"), "");
    // 3 parts of UCS-2: 67 + 67 + 50 UTF-16 units.
    let ucs2: String = "Zażółć gęślą jaźń — ".chars().cycle().take(184).collect();
    let gsm: String = "Hello [world] ".chars().cycle().take(400).collect();
    for (name, text) in [
        ("split_encode_ucs2_3_parts", &ucs2),
        ("split_encode_gsm7_3_parts", &gsm),
    ] {
        assert_eq!(
            pdu::estimate(text, Encoding::Auto, ConcatRef::Eight(0))
                .expect("estimate")
                .parts,
            3
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                let parts = pdu::split(
                    &template,
                    black_box(text),
                    Encoding::Auto,
                    ConcatRef::Eight(9),
                )
                .expect("split");
                parts
                    .iter()
                    .map(|p| p.encode().expect("encode").bytes.len())
                    .sum::<usize>()
            })
        });
    }
    let single = Submit::new(
        Address::number("+48123456789").expect("number"),
        "Your code is 123456",
    );
    g.bench_function("encode_gsm7_single", |b| {
        b.iter(|| black_box(&single).encode().expect("encode"))
    });
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
