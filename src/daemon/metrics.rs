//! The optional Prometheus endpoint (`[metrics] listen`): per-phone signal, battery,
//! registration and counters, outbox depth, send latency and storage health, rendered from
//! the same board the control socket serves to `monitor --json`. Served by the HTTP
//! face's router (`face::http`), on `[metrics] listen` or the API's listener.

use std::fmt::Write as _;

use super::status::{Board, PhoneState, SEND_BUCKETS};
use crate::service::Service;

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The faces' metrics: name, help, type (values from [`Board::count`]).
pub const FACE_METRICS: [(&str, &str, &str); 11] = [
    ("smsgw_smpp_binds", "SMPP binds open now.", "gauge"),
    ("smsgw_smpp_binds_total", "SMPP binds accepted.", "counter"),
    (
        "smsgw_smpp_submits_total",
        "submit_sm committed (answered ESME_ROK).",
        "counter",
    ),
    (
        "smsgw_smpp_receipts_total",
        "Delivery receipts (deliver_sm) the ESME took.",
        "counter",
    ),
    (
        "smsgw_smpp_received_total",
        "Received SMS (deliver_sm) the ESME took.",
        "counter",
    ),
    (
        "smsgw_smpp_errors_total",
        "Requests answered with an error status, refused binds and generic_nack.",
        "counter",
    ),
    (
        crate::face::amqp::CONNECTED,
        "1 while the AMQP face is connected to its broker (account: the transport name).",
        "gauge",
    ),
    (
        crate::face::amqp::CONSUMED,
        "Messages taken from <name>.outbound.",
        "counter",
    ),
    (
        crate::face::amqp::REFUSED,
        "Outbound messages answered with a nack event or dead-lettered.",
        "counter",
    ),
    (
        crate::face::amqp::PUBLISHED,
        "Events and inbound messages the broker confirmed.",
        "counter",
    ),
    (
        crate::face::amqp::UNCONFIRMED,
        "Events and inbound messages published and not confirmed yet.",
        "gauge",
    ),
];

/// The exposition text.
pub async fn render(board: &Board, storage: &dyn Service) -> String {
    let mut o = String::new();
    let phones = board.phones();
    let gauge = |o: &mut String, name: &str, help: &str, kind: &str| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    type PerPhone = fn(&PhoneState) -> i64;
    for (name, help, get) in [
        (
            "smsgw_phone_connected",
            "1 when the modem is connected and set up.",
            (|p: &PhoneState| i64::from(p.state == "connected")) as PerPhone,
        ),
        (
            "smsgw_phone_signal_percent",
            "Signal quality, 0-100 (-1 unknown).",
            |p| i64::from(p.signal),
        ),
        (
            "smsgw_phone_battery_percent",
            "Battery charge, 0-100 (-1 unknown).",
            |p| i64::from(p.battery),
        ),
    ] {
        gauge(&mut o, name, help, "gauge");
        for p in &phones {
            let _ = writeln!(o, "{name}{{phone=\"{}\"}} {}", label(&p.id), get(p));
        }
    }
    gauge(
        &mut o,
        "smsgw_phone_registered",
        "1 when the modem is registered to a network.",
        "gauge",
    );
    for p in &phones {
        let registered = !p.network_code.is_empty() && p.network_code != "ERROR";
        let _ = writeln!(
            o,
            "smsgw_phone_registered{{phone=\"{}\",network=\"{}\"}} {}",
            label(&p.id),
            label(&p.network_name),
            u8::from(registered)
        );
    }
    gauge(
        &mut o,
        "smsgw_phone_balance",
        "The first number in the last answer to balance_code (absent until one came).",
        "gauge",
    );
    for p in &phones {
        if let Some(n) = super::status::balance_number(&p.balance) {
            let _ = writeln!(o, "smsgw_phone_balance{{phone=\"{}\"}} {n}", label(&p.id));
        }
    }
    for (name, help, get) in [
        (
            "smsgw_messages_sent_total",
            "Parts sent.",
            (|p: &PhoneState| p.sent) as fn(&PhoneState) -> u64,
        ),
        (
            "smsgw_messages_received_total",
            "Parts received and stored.",
            |p| p.received,
        ),
        (
            "smsgw_messages_failed_total",
            "Messages that ended in an error state.",
            |p| p.failed,
        ),
        (
            "smsgw_messages_delivered_total",
            "Status reports (or SMSC receipts) that said delivered.",
            |p| p.delivered,
        ),
        (
            "smsgw_messages_undelivered_total",
            "Status reports (or SMSC receipts) that said the delivery failed.",
            |p| p.undelivered,
        ),
    ] {
        gauge(&mut o, name, help, "counter");
        for p in &phones {
            let _ = writeln!(o, "{name}{{phone=\"{}\"}} {}", label(&p.id), get(p));
        }
    }
    gauge(
        &mut o,
        "smsgw_send_duration_seconds",
        "Time to send one part (AT+CMGS to +CMGS).",
        "histogram",
    );
    for (phone, h) in board.send_latency() {
        let phone = label(&phone);
        for (le, n) in SEND_BUCKETS.iter().zip(h.buckets) {
            let _ = writeln!(
                o,
                "smsgw_send_duration_seconds_bucket{{phone=\"{phone}\",le=\"{le}\"}} {n}"
            );
        }
        let _ = writeln!(
            o,
            "smsgw_send_duration_seconds_bucket{{phone=\"{phone}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            o,
            "smsgw_send_duration_seconds_sum{{phone=\"{phone}\"}} {}",
            h.sum
        );
        let _ = writeln!(
            o,
            "smsgw_send_duration_seconds_count{{phone=\"{phone}\"}} {}",
            h.count
        );
    }
    // The faces' counters, per account (the SMPP server's).
    let counters = board.counters();
    for (name, help, kind) in FACE_METRICS {
        if !counters.keys().any(|(m, _)| *m == name) {
            continue;
        }
        gauge(&mut o, name, help, kind);
        for ((m, account), v) in &counters {
            if *m == name {
                let _ = writeln!(o, "{name}{{account=\"{}\"}} {v}", label(account));
            }
        }
    }
    let (up, depth) = match storage.health().await {
        Ok(()) => (1, storage.outbox_depth().await.ok().flatten()),
        Err(_) => (0, None),
    };
    gauge(
        &mut o,
        "smsgw_storage_up",
        "1 when the storage answers.",
        "gauge",
    );
    let _ = writeln!(o, "smsgw_storage_up {up}");
    if let Some(d) = depth {
        gauge(
            &mut o,
            "smsgw_outbox_depth",
            "Messages waiting in the outbox.",
            "gauge",
        );
        let _ = writeln!(o, "smsgw_outbox_depth {d}");
    }
    o
}
