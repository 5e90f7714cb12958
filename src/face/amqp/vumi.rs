//! vumi's messages as JSON (vumi2's `messages.py` is the contract): the `user_message` an
//! application publishes on `<name>.outbound`, and what smsgw publishes back: `event`s
//! (`ack`, `nack`, `delivery_report`) on `<name>.event` and received SMS as `user_message`
//! on `<name>.inbound`. Times are UTC, `%Y-%m-%d %H:%M:%S.%f`.

use serde_json::{json, Map, Value};

use crate::service::{Event, EventKind, MessageView};

/// vumi's `message_version`.
pub const VERSION: &str = "20110921";

/// Longest `message_id` taken (it is kept as the submission's idempotency key).
pub const MAX_ID: usize = 200;

/// An outbound `user_message`, as far as smsgw uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pub message_id: String,
    pub to: String,
    pub from: String,
    pub content: String,
}

/// Why a body is not a message smsgw can send; `message_id` when it could still be read
/// (a `nack` event can then answer it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub message_id: Option<String>,
    pub reason: String,
}

/// Reads an outbound body.
pub fn parse(body: &[u8]) -> Result<Outbound, Bad> {
    let v: Value = serde_json::from_slice(body).map_err(|e| Bad {
        message_id: None,
        reason: format!("the body is not JSON: {e}"),
    })?;
    let Value::Object(m) = v else {
        return Err(Bad {
            message_id: None,
            reason: "the body is not a JSON object".into(),
        });
    };
    let message_id = match m.get("message_id") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID => s.clone(),
        Some(Value::String(s)) if s.len() > MAX_ID => {
            return Err(Bad {
                message_id: None,
                reason: format!("message_id is longer than {MAX_ID} characters"),
            })
        }
        None | Some(Value::Null) => {
            return Err(Bad {
                message_id: None,
                reason: "message_id is missing".into(),
            })
        }
        Some(_) => {
            return Err(Bad {
                message_id: None,
                reason: "message_id is not a non-empty string".into(),
            })
        }
    };
    let bad = |reason: String| Bad {
        message_id: Some(message_id.clone()),
        reason,
    };
    if let Some(t) = m.get("message_type") {
        if t != "user_message" {
            return Err(bad(format!(
                "message_type is {t}, not \"user_message\": only user messages are sent"
            )));
        }
    }
    let string = |key: &str, required: bool| -> Result<String, Bad> {
        match m.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            None | Some(Value::Null) if !required => Ok(String::new()),
            None | Some(Value::Null) => Err(bad(format!("{key} is missing"))),
            Some(other) => Err(bad(format!("{key} is not a string but {other}"))),
        }
    };
    let to = string("to_addr", true)?;
    if to.is_empty() {
        return Err(bad("to_addr is empty".into()));
    }
    Ok(Outbound {
        to,
        from: string("from_addr", false)?,
        content: string("content", false)?,
        message_id,
    })
}

/// A vumi time: UTC with microseconds.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// The storage's local `YYYY-MM-DD HH:MM:SS` as a vumi time (now, if it cannot be read).
fn stored_time(local: &str) -> String {
    use chrono::TimeZone;
    let utc = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S")
        .ok()
        .and_then(|t| chrono::Local.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&chrono::Utc));
    timestamp(utc.unwrap_or_else(chrono::Utc::now))
}

fn envelope(message_type: &str, at: String) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("message_version".into(), json!(VERSION));
    m.insert("message_type".into(), json!(message_type));
    m.insert("timestamp".into(), json!(at));
    m.insert("routing_metadata".into(), json!({}));
    m.insert("helper_metadata".into(), json!({}));
    m.insert("transport_metadata".into(), json!({}));
    m
}

/// A vumi `event` about `user_message_id`.
pub fn event(event_id: String, user_message_id: &str, at: String, kind: EventType<'_>) -> Value {
    let mut m = envelope("event", at);
    m.insert("event_id".into(), json!(event_id));
    m.insert("user_message_id".into(), json!(user_message_id));
    let (t, sent, reason, status) = match kind {
        EventType::Ack { sent_message_id } => {
            ("ack", json!(sent_message_id), json!(null), json!(null))
        }
        EventType::Nack { reason } => ("nack", json!(null), json!(reason), json!(null)),
        EventType::DeliveryReport { status } => {
            ("delivery_report", json!(null), json!(null), json!(status))
        }
    };
    m.insert("event_type".into(), json!(t));
    m.insert("sent_message_id".into(), sent);
    m.insert("nack_reason".into(), reason);
    m.insert("delivery_status".into(), status);
    Value::Object(m)
}

/// vumi2's `EventType`, with what each requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType<'a> {
    /// The modem or SMSC took the message.
    Ack { sent_message_id: &'a str },
    /// It will not be sent.
    Nack { reason: &'a str },
    /// `pending`, `delivered` or `failed`.
    DeliveryReport { status: &'a str },
}

/// The `nack` for an outbound message refused before it was stored: its event id is made
/// from the message's, so a redelivered message gets the same one.
pub fn refusal(user_message_id: &str, reason: &str) -> Value {
    event(
        format!("smsgw-refused-{user_message_id}"),
        user_message_id,
        timestamp(chrono::Utc::now()),
        EventType::Nack { reason },
    )
}

/// What the event log's entry `e` becomes for the transport `name`: the routing flow
/// (`event` or `inbound`) and the body, or nothing when it is not this transport's.
/// `view` is the message's state, for a report about a message in parts (one report for
/// the whole, when its last part is final).
pub fn for_event(
    e: &Event,
    name: &str,
    receive: &[String],
    view: Option<&MessageView>,
) -> Option<(&'static str, Value)> {
    let at = stored_time(&e.at);
    if e.kind == EventKind::Received {
        let phone = e.body["phone"].as_str().unwrap_or_default();
        if !receive.iter().any(|r| r == "*" || r == phone) {
            return None;
        }
        return Some(("inbound", inbound(e, name, at)));
    }
    let s = e.submission.as_ref()?;
    if s.face != "amqp" || s.owner != name {
        return None;
    }
    let user_message_id = s.idempotency_key.as_deref()?;
    let event_id = format!("smsgw-{}", e.id);
    let id = e.message_id.to_string();
    let kind = match e.kind {
        EventKind::Sent => EventType::Ack {
            sent_message_id: &id,
        },
        EventKind::Failed => EventType::Nack {
            reason: e.body["reason"].as_str().unwrap_or("failed"),
        },
        EventKind::Report => {
            let status = e.body["status"].as_str()?;
            match status {
                "pending" => EventType::DeliveryReport { status },
                // A message in parts is delivered when every part is, failed when one is.
                "delivered" | "failed" => {
                    if view.is_some_and(|v| v.status != status) {
                        return None;
                    }
                    EventType::DeliveryReport { status }
                }
                _ => return None,
            }
        }
        EventKind::Queued | EventKind::Received => return None,
    };
    Some(("event", event(event_id, user_message_id, at, kind)))
}

/// A received SMS as the `user_message` an application gets.
fn inbound(e: &Event, name: &str, at: String) -> Value {
    let b = &e.body;
    let mut m = envelope("user_message", at);
    m.insert(
        "message_id".into(),
        json!(format!("smsgw-inbox-{}", e.message_id)),
    );
    m.insert("to_addr".into(), b["phone"].clone());
    m.insert("from_addr".into(), b["from"].clone());
    m.insert("content".into(), b["text"].clone());
    m.insert("in_reply_to".into(), json!(null));
    m.insert("session_event".into(), json!(null));
    m.insert("transport_name".into(), json!(name));
    m.insert("transport_type".into(), json!("sms"));
    m.insert("provider".into(), json!(null));
    m.insert("group".into(), json!(null));
    m.insert("to_addr_type".into(), json!(null));
    m.insert("from_addr_type".into(), json!(null));
    m.insert(
        "transport_metadata".into(),
        json!({"smsgw": {
            "inbox_ids": b["ids"],
            "smsc": b["smsc"],
            "received": b["received"],
            "parts": b["parts"],
            "coding": b["coding"],
        }}),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Submission;

    #[test]
    fn an_application_s_message_is_read_and_bad_ones_say_why() {
        let ok = parse(br#"{"message_id":"abc","to_addr":"+4790000001","from_addr":"nav","content":"hi","message_type":"user_message","transport_name":"smsgw","transport_type":"sms","helper_metadata":{},"transport_metadata":{},"timestamp":"2026-12-07 10:00:00.000000","session_event":null,"in_reply_to":null,"message_version":"20110921"}"#).unwrap();
        assert_eq!(
            ok,
            Outbound {
                message_id: "abc".into(),
                to: "+4790000001".into(),
                from: "nav".into(),
                content: "hi".into()
            }
        );
        let why = |b: &str| parse(b.as_bytes()).unwrap_err();
        assert_eq!(why("not json").message_id, None);
        assert!(why("not json").reason.starts_with("the body is not JSON"));
        assert_eq!(why("[1]").reason, "the body is not a JSON object");
        assert_eq!(why(r#"{"to_addr":"1"}"#).reason, "message_id is missing");
        assert_eq!(
            why(r#"{"message_id":"m1"}"#),
            Bad {
                message_id: Some("m1".into()),
                reason: "to_addr is missing".into()
            }
        );
        assert_eq!(
            why(r#"{"message_id":"m1","to_addr":12345}"#).reason,
            "to_addr is not a string but 12345"
        );
        assert_eq!(
            why(r#"{"message_id":"m1","to_addr":"1","message_type":"event"}"#).reason,
            "message_type is \"event\", not \"user_message\": only user messages are sent"
        );
    }

    fn event_of(kind: EventKind, body: Value) -> Event {
        Event {
            id: 9,
            kind,
            message_id: 42,
            body,
            at: "2026-12-07 10:00:00".into(),
            submission: Some(Submission {
                face: "amqp".into(),
                owner: "smsgw".into(),
                idempotency_key: Some("vumi-1".into()),
                ..Submission::default()
            }),
        }
    }

    #[test]
    fn events_are_vumi2_s_ack_nack_and_delivery_report() {
        let (flow, v) =
            for_event(&event_of(EventKind::Sent, json!({})), "smsgw", &[], None).unwrap();
        assert_eq!(flow, "event");
        assert_eq!(
            (
                &v["event_type"],
                &v["user_message_id"],
                &v["sent_message_id"],
                &v["event_id"]
            ),
            (
                &json!("ack"),
                &json!("vumi-1"),
                &json!("42"),
                &json!("smsgw-9")
            )
        );
        assert_eq!(v["message_version"], "20110921");
        assert_eq!(v["timestamp"].as_str().unwrap().len(), 26);
        let (_, v) = for_event(
            &event_of(EventKind::Failed, json!({"reason": "no credit"})),
            "smsgw",
            &[],
            None,
        )
        .unwrap();
        assert_eq!(
            (&v["event_type"], &v["nack_reason"]),
            (&json!("nack"), &json!("no credit"))
        );
        let report = event_of(EventKind::Report, json!({"status": "delivered"}));
        let mut view = MessageView {
            id: 42,
            status: "sent".into(),
            to: String::new(),
            route: String::new(),
            parts: 2,
            retries: 0,
            queued_at: String::new(),
            sent_at: None,
            delivered_at: None,
            error: None,
            text: String::new(),
            owner: None,
        };
        assert_eq!(
            for_event(&report, "smsgw", &[], Some(&view)),
            None,
            "one part of two"
        );
        view.status = "delivered".into();
        let (_, v) = for_event(&report, "smsgw", &[], Some(&view)).unwrap();
        assert_eq!(v["delivery_status"], "delivered");
        // Another transport's, or another face's, messages are not ours.
        assert_eq!(for_event(&report, "other", &[], Some(&view)), None);
    }

    #[test]
    fn received_messages_go_out_for_the_phones_given() {
        let e = Event {
            submission: None,
            ..event_of(
                EventKind::Received,
                json!({"phone": "modem1", "from": "+4790000002", "text": "hei", "ids": [5, 6]}),
            )
        };
        assert_eq!(for_event(&e, "smsgw", &["modem2".into()], None), None);
        let (flow, v) = for_event(&e, "smsgw", &["*".into()], None).unwrap();
        assert_eq!(flow, "inbound");
        assert_eq!(
            (
                &v["to_addr"],
                &v["from_addr"],
                &v["content"],
                &v["transport_type"]
            ),
            (
                &json!("modem1"),
                &json!("+4790000002"),
                &json!("hei"),
                &json!("sms")
            )
        );
        assert_eq!(v["message_id"], "smsgw-inbox-42");
    }
}
