//! The storage test suite, written once against `dyn Service`: every storage runs it (SQLite
//! now; PostgreSQL and MariaDB reuse it). A backend provides a fresh database per test and a
//! [`Raw`] handle for what the daemon never does (aging a row to fake the passing of time).

#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::Arc;

use smsgw::compose::{self, InjectOptions};
use smsgw::service::{
    Coding, DeliveryKey, EventKind, InboxPart, NewMessage, Outcome, Outgoing, Parked, PartResult,
    PendingPart, PhoneStatus, Service, StorageError, Submission,
};

/// Direct SQL on the test's database, in the backend's dialect.
pub trait Raw: Send + Sync {
    fn exec(&self, sql: &str);
    fn count(&self, sql: &str) -> i64;
    fn text(&self, sql: &str) -> Option<String>;
    /// An SQL expression for the database's local now plus `secs` (may be negative).
    fn now_plus(&self, secs: i64) -> String;
}

/// A fresh database: a second connection (another daemon) can be opened on it.
pub trait Backend {
    fn service(&self) -> Arc<dyn Service>;
    fn second(&self) -> Arc<dyn Service>;
    fn raw(&self) -> &dyn Raw;
    /// Whether a rolled-back transaction leaves nothing in Gammu's tables (not so for the
    /// MyISAM tables of Gammu's own mysql.sql).
    fn transactional(&self) -> bool {
        true
    }
}

fn message(text: &str, phone: Option<&str>) -> NewMessage {
    compose::new_message(
        "+48600100200",
        text,
        &InjectOptions {
            phone_id: phone.map(str::to_string),
            creator_id: "suite".into(),
            reference: 7,
            ..InjectOptions::default()
        },
    )
    .expect("message")
}

fn routes(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| s.to_string()).collect()
}

pub async fn create_and_claim_reads_parts_in_order(b: &dyn Backend) {
    let s = b.service();
    let text = "Parts come back in order. ".repeat(20);
    let id = s.create_outbox(&message(&text, None)).await.unwrap();
    let got = s.claim_outbox("a", &routes(&["m1"]), 10, 60).await.unwrap();
    assert_eq!(got.len(), 1);
    let out = &got[0];
    assert_eq!(
        (out.id, out.destination.as_str(), out.retries),
        (id, "+48600100200", 0)
    );
    assert_eq!(
        out.parts.iter().map(|p| p.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let subs = compose::submits(out, &Default::default()).unwrap();
    let joined: String = subs
        .iter()
        .map(|(_, s)| s.user_data.text().unwrap().to_string())
        .collect();
    assert_eq!(joined, text);
    assert!(
        s.claim_outbox("b", &routes(&["m1"]), 10, 60)
            .await
            .unwrap()
            .is_empty(),
        "claimed rows are leased"
    );
}

pub async fn eligibility_rules(b: &dyn Backend) {
    let s = b.service();
    let raw = b.raw();
    let future = s.create_outbox(&message("later", None)).await.unwrap();
    raw.exec(&format!(
        "UPDATE outbox SET SendingDateTime = {} WHERE ID = {future}",
        raw.now_plus(3600)
    ));
    let window = s
        .create_outbox(&message("outside the window", None))
        .await
        .unwrap();
    raw.exec(&format!(
        "UPDATE outbox SET SendAfter = '23:59:59', SendBefore = '23:59:59' WHERE ID = {window}"
    ));
    let other = s
        .create_outbox(&message("for another phone", Some("other")))
        .await
        .unwrap();
    let mine = s
        .create_outbox(&message("for me", Some("m1")))
        .await
        .unwrap();
    let anyone = s.create_outbox(&message("for anyone", None)).await.unwrap();
    let null_sender = s
        .create_outbox(&message("null sender", None))
        .await
        .unwrap();
    raw.exec(&format!(
        "UPDATE outbox SET SenderID = NULL WHERE ID = {null_sender}"
    ));
    let urgent = s.create_outbox(&message("urgent", None)).await.unwrap();
    raw.exec(&format!(
        "UPDATE outbox SET Priority = 5 WHERE ID = {urgent}"
    ));
    let got: Vec<i64> = s
        .claim_outbox("a", &routes(&["m1"]), 10, 60)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(
        got,
        [urgent, mine, anyone, null_sender],
        "priority first, then age; not future, not outside the window, not another phone's"
    );
    let _ = (future, window, other);
}

pub async fn claim_limit_is_respected(b: &dyn Backend) {
    let s = b.service();
    for i in 0..5 {
        s.create_outbox(&message(&format!("m{i}"), None))
            .await
            .unwrap();
    }
    assert_eq!(s.claim_outbox("a", &[], 2, 60).await.unwrap().len(), 2);
    assert_eq!(s.claim_outbox("a", &[], 10, 60).await.unwrap().len(), 3);
}

pub async fn two_claimers_never_get_the_same_row(b: &dyn Backend) {
    let s = b.service();
    let mut all = HashSet::new();
    for i in 0..120 {
        all.insert(
            s.create_outbox(&message(&format!("n{i}"), None))
                .await
                .unwrap(),
        );
    }
    let claimer = |svc: Arc<dyn Service>, owner: &'static str| async move {
        let mut mine = Vec::new();
        loop {
            let got = svc.claim_outbox(owner, &[], 7, 60).await.unwrap();
            if got.is_empty() {
                return mine;
            }
            mine.extend(got.into_iter().map(|o| o.id));
        }
    };
    let (a, b2) = tokio::join!(
        tokio::spawn(claimer(b.service(), "a")),
        tokio::spawn(claimer(b.second(), "b"))
    );
    let (a, b2) = (a.unwrap(), b2.unwrap());
    let sa: HashSet<i64> = a.iter().copied().collect();
    let sb: HashSet<i64> = b2.iter().copied().collect();
    assert!(sa.is_disjoint(&sb), "a row was claimed twice");
    assert_eq!(a.len() + b2.len(), all.len());
    assert_eq!(&sa | &sb, all);
}

pub async fn lease_expiry_takeover_and_renewal(b: &dyn Backend) {
    let (s, s2, raw) = (b.service(), b.second(), b.raw());
    s.create_outbox(&message("contended", None)).await.unwrap();
    let mut mine = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    let before = mine.lease.clone();
    s.renew_claim(&mut mine, 120).await.unwrap();
    assert_ne!(mine.lease, before, "renewal extends the lease");
    assert!(s2.claim_outbox("b", &[], 1, 60).await.unwrap().is_empty());
    // The owner dies: its lease runs out and another sender takes the message over.
    raw.exec(&format!(
        "UPDATE outbox SET SendingTimeOut = {} WHERE ID = {}",
        raw.now_plus(-5),
        mine.id
    ));
    let mut theirs = s2.claim_outbox("b", &[], 1, 60).await.unwrap().remove(0);
    assert_eq!(theirs.id, mine.id);
    let sent = PartResult::Sent {
        route: "m1".into(),
        tpmr: Some(1),
        report: false,
        smsc: String::new(),
        message_id: None,
    };
    assert!(matches!(
        s.record_sent(&mine, 1, &sent).await,
        Err(StorageError::LostClaim(_))
    ));
    assert!(matches!(
        s.renew_claim(&mut mine, 60).await,
        Err(StorageError::LostClaim(_))
    ));
    assert!(matches!(
        s.finish_outbox(&mine, &Outcome::Sent, 600).await,
        Err(StorageError::LostClaim(_))
    ));
    s2.renew_claim(&mut theirs, 60).await.unwrap();
    s2.record_sent(&theirs, 1, &sent).await.unwrap();
    s2.finish_outbox(&theirs, &Outcome::Sent, 600)
        .await
        .unwrap();
    assert_eq!(raw.count("SELECT count(*) FROM outbox"), 0);
    assert_eq!(raw.count("SELECT count(*) FROM sentitems"), 1);
}

pub async fn claims_of_a_dead_owner_can_be_released(b: &dyn Backend) {
    let (s, s2) = (b.service(), b.second());
    s.create_outbox(&message("in flight when the owner died", None))
        .await
        .unwrap();
    let dead = s
        .claim_outbox("host:4242:m1", &[], 1, 60)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(s2.claim_owners().await.unwrap(), ["host:4242:m1"]);
    assert!(
        s2.claim_outbox("b", &[], 1, 60).await.unwrap().is_empty(),
        "leased"
    );
    assert_eq!(
        s2.release_claims(&["host:4242:m1".to_string()])
            .await
            .unwrap(),
        1
    );
    let again = s2.claim_outbox("b", &[], 1, 60).await.unwrap();
    assert_eq!(
        again[0].id, dead.id,
        "released at once, not after the lease"
    );
    assert!(s2.claim_owners().await.unwrap() == ["b"]);
}

pub async fn retries_then_sending_error(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let id = s
        .create_outbox(&message(&"Two parts. ".repeat(20), None))
        .await
        .unwrap();
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    s.finish_outbox(
        &out,
        &Outcome::Retry {
            status_code: 42,
            reason: "+CMS ERROR: 42 (congestion)".into(),
            maybe_sent: false,
        },
        600,
    )
    .await
    .unwrap();
    assert_eq!(
        raw.count(&format!("SELECT Retries FROM outbox WHERE ID = {id}")),
        1
    );
    assert_eq!(
        raw.count(&format!("SELECT StatusCode FROM outbox WHERE ID = {id}")),
        42
    );
    assert!(
        s.claim_outbox("a", &[], 1, 60).await.unwrap().is_empty(),
        "waits for the retry timeout"
    );
    raw.exec(&format!(
        "UPDATE outbox SET SendingTimeOut = {} WHERE ID = {id}",
        raw.now_plus(-1)
    ));
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    assert_eq!(out.retries, 1);
    // A route-down release does not use up a retry.
    s.finish_outbox(
        &out,
        &Outcome::Release {
            status_code: 331,
            reason: "no network".into(),
        },
        1,
    )
    .await
    .unwrap();
    // Why it waits shows in the outbox (`outbox list`): +CMS ERROR 331, no network.
    assert_eq!(
        raw.count(&format!("SELECT StatusCode FROM outbox WHERE ID = {id}")),
        331
    );
    let listed = s.list_outbox(false).await.unwrap();
    let waiting = listed.iter().find(|e| e.id == id).unwrap();
    assert_eq!(waiting.status_code, 331);
    assert_eq!(waiting.last_error.as_deref(), Some("no network"));
    raw.exec(&format!(
        "UPDATE outbox SET SendingTimeOut = {} WHERE ID = {id}",
        raw.now_plus(-1)
    ));
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    assert_eq!(out.retries, 1);
    s.finish_outbox(
        &out,
        &Outcome::Failed {
            status_code: 42,
            reason: "gave up after 2 attempts".into(),
            unusable: false,
        },
        600,
    )
    .await
    .unwrap();
    assert_eq!(
        raw.count("SELECT count(*) FROM outbox")
            + raw.count("SELECT count(*) FROM outbox_multipart"),
        0
    );
    assert_eq!(raw.count(&format!("SELECT count(*) FROM sentitems WHERE ID = {id} AND Status = 'SendingError' AND StatusCode = 42")), 2);
    assert_eq!(
        raw.text(&format!(
            "SELECT Reason FROM smsgw_failures WHERE ID = {id}"
        ))
        .as_deref(),
        Some("gave up after 2 attempts")
    );
}

pub async fn sent_parts_are_not_sent_again(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let id = s
        .create_outbox(&message(&"Three parts here. ".repeat(20), None))
        .await
        .unwrap();
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    assert_eq!(out.parts.len(), 3);
    let sent = |mr| PartResult::Sent {
        route: "m1".into(),
        tpmr: Some(mr),
        report: true,
        smsc: "+48602000000".into(),
        message_id: None,
    };
    s.record_sent(&out, 1, &sent(10)).await.unwrap();
    s.finish_outbox(
        &out,
        &Outcome::Retry {
            status_code: 500,
            reason: "part 2 failed".into(),
            maybe_sent: false,
        },
        600,
    )
    .await
    .unwrap();
    raw.exec(&format!(
        "UPDATE outbox SET SendingTimeOut = {} WHERE ID = {id}",
        raw.now_plus(-1)
    ));
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    assert_eq!(
        out.parts.iter().map(|p| p.already_sent).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert_eq!(
        compose::submits(&out, &Default::default())
            .unwrap()
            .iter()
            .map(|(seq, _)| *seq)
            .collect::<Vec<_>>(),
        [2, 3]
    );
    s.record_sent(&out, 2, &sent(11)).await.unwrap();
    s.record_sent(&out, 3, &sent(12)).await.unwrap();
    s.finish_outbox(&out, &Outcome::Sent, 600).await.unwrap();
    assert_eq!(
        raw.count("SELECT count(*) FROM outbox")
            + raw.count("SELECT count(*) FROM outbox_multipart"),
        0
    );
    assert_eq!(raw.count(&format!("SELECT count(*) FROM sentitems WHERE ID = {id} AND Status = 'SendingOK' AND SenderID = 'm1'")), 3);
    assert_eq!(
        raw.count(&format!(
            "SELECT TPMR FROM sentitems WHERE ID = {id} AND SequencePosition = 3"
        )),
        12
    );
    assert_eq!(
        raw.text(&format!(
            "SELECT UDH FROM sentitems WHERE ID = {id} AND SequencePosition = 2"
        ))
        .as_deref(),
        Some("050003070302")
    );
}

/// The inbox rows of a three-part message from +48111 on m1 (the whole text on part 1).
fn three_parts() -> Vec<InboxPart> {
    (1..=3)
        .map(|i| InboxPart {
            phone_id: "m1".into(),
            sender: "+48111".into(),
            smsc: "+48602000000".into(),
            received: "2026-11-23 10:00:00".into(),
            coding: Coding::Default,
            udh_hex: format!("05000309030{i}"),
            text_hex: compose::ucs2_hex(&format!("part {i}")),
            text_decoded: if i == 1 {
                "part 1part 2part 3".into()
            } else {
                String::new()
            },
            class: -1,
        })
        .collect()
}

pub async fn inbox_and_pending_parts(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let part = |seq: u8, total: u8| PendingPart {
        phone_id: "m1".into(),
        sender: "+48111".into(),
        reference: 9,
        total,
        seq,
        pdu: format!("PDU{seq}"),
        received_at: "2026-11-23 10:00:00".into(),
    };
    s.stash_part(&part(3, 3)).await.unwrap();
    s.stash_part(&part(1, 3)).await.unwrap();
    s.stash_part(&part(1, 3)).await.unwrap(); // a modem may deliver a part twice
    assert!(s
        .complete_parts("m1", 3600 * 24 * 365 * 50)
        .await
        .unwrap()
        .is_empty());
    s.stash_part(&part(2, 3)).await.unwrap();
    let groups = s.complete_parts("m1", 3600 * 24 * 365 * 50).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].iter().map(|p| p.seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let rows = three_parts();
    let ids = s.save_inbox(&rows, &groups[0]).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        raw.count("SELECT count(*) FROM smsgw_pending_parts"),
        0,
        "consumed with the commit"
    );
    assert_eq!(
        raw.text(&format!(
            "SELECT TextDecoded FROM inbox WHERE ID = {}",
            ids[0]
        ))
        .as_deref(),
        Some("part 1part 2part 3")
    );
    assert_eq!(
        raw.text(&format!(
            "SELECT TextDecoded FROM inbox WHERE ID = {}",
            ids[1]
        ))
        .as_deref(),
        Some("")
    );
    assert_eq!(
        raw.text(&format!(
            "SELECT RecipientID FROM inbox WHERE ID = {}",
            ids[2]
        ))
        .as_deref(),
        Some("m1")
    );
    assert_eq!(
        raw.text(&format!(
            "SELECT Processed FROM inbox WHERE ID = {}",
            ids[2]
        ))
        .as_deref(),
        Some("false")
    );
    // An incomplete message is released after the multipart timeout.
    s.stash_part(&part(1, 2)).await.unwrap();
    raw.exec(&format!(
        "UPDATE smsgw_pending_parts SET ReceivedAt = {}",
        raw.now_plus(-700)
    ));
    assert!(s.complete_parts("m1", 3600).await.unwrap().is_empty());
    assert_eq!(s.complete_parts("m1", 600).await.unwrap().len(), 1);
}

pub async fn status_reports_match_pending_then_final(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let id = s.create_outbox(&message("report me", None)).await.unwrap();
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    s.record_sent(
        &out,
        1,
        &PartResult::Sent {
            route: "m1".into(),
            tpmr: Some(7),
            report: true,
            smsc: String::new(),
            message_id: None,
        },
    )
    .await
    .unwrap();
    s.finish_outbox(&out, &Outcome::Sent, 600).await.unwrap();
    let sent_at = raw
        .text(&format!(
            "SELECT SendingDateTime FROM sentitems WHERE ID = {id}"
        ))
        .unwrap();
    // The report names the recipient in national form.
    let key = DeliveryKey::Tpmr {
        phone: "m1".into(),
        mr: 7,
        number: "600100200".into(),
        sent_at,
    };
    // Matched: the sentitems ID is what run_on_receive gets as SMS_1_SENT_ID.
    assert_eq!(
        s.apply_receipt(&key, 0x20, "2026-11-23 10:00:05", 3600)
            .await
            .unwrap(),
        Some(id.to_string())
    );
    assert_eq!(
        raw.text(&format!("SELECT Status FROM sentitems WHERE ID = {id}"))
            .as_deref(),
        Some("DeliveryPending")
    );
    assert!(s
        .apply_receipt(&key, 0x00, "2026-11-23 10:00:09", 3600)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        raw.text(&format!("SELECT Status FROM sentitems WHERE ID = {id}"))
            .as_deref(),
        Some("DeliveryOK")
    );
    assert_eq!(
        raw.text(&format!(
            "SELECT DeliveryDateTime FROM sentitems WHERE ID = {id}"
        ))
        .as_deref(),
        Some("2026-11-23 10:00:09")
    );
    assert_eq!(
        raw.count(&format!(
            "SELECT StatusError FROM sentitems WHERE ID = {id}"
        )),
        0
    );
    // A final report is not applied twice; one for another message is kept aside.
    assert!(s
        .apply_receipt(&key, 0x40, "2026-11-23 10:00:10", 3600)
        .await
        .unwrap()
        .is_none());
    let other = DeliveryKey::Tpmr {
        phone: "m1".into(),
        mr: 99,
        number: "+48700".into(),
        sent_at: "2026-11-23 10:00:00".into(),
    };
    assert!(s
        .apply_receipt(&other, 0, "2026-11-23 10:00:00", 3600)
        .await
        .unwrap()
        .is_none());
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_unmatched_reports"), 2);
    assert_eq!(
        raw.count("SELECT count(*) FROM inbox"),
        0,
        "reports never go to the inbox"
    );
}

pub async fn receipts_match_smsc_message_ids(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let id = s
        .create_outbox(&message(&"Two parts over SMPP. ".repeat(10), None))
        .await
        .unwrap();
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    assert_eq!(out.parts.len(), 2);
    let sent = |message_id: &str| PartResult::Sent {
        route: "smsc".into(),
        tpmr: None,
        report: true,
        smsc: String::new(),
        message_id: Some(message_id.into()),
    };
    // Part 2's receipt overtakes its submit_sm_resp: parked, applied when it is recorded.
    let early = DeliveryKey::SmscId {
        route: "smsc".into(),
        id: "b7".into(),
    };
    assert!(s
        .apply_receipt(&early, 0x40, "2026-11-23 10:00:03", 0)
        .await
        .unwrap()
        .is_none());
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_pending_receipts"), 1);
    s.record_sent(&out, 1, &sent("12345")).await.unwrap();
    s.record_sent(&out, 2, &sent("b7")).await.unwrap();
    s.finish_outbox(&out, &Outcome::Sent, 600).await.unwrap();
    let status = |seq: u32| {
        raw.text(&format!(
            "SELECT Status FROM sentitems WHERE ID = {id} AND SequencePosition = {seq}"
        ))
    };
    assert_eq!(status(2).as_deref(), Some("DeliveryFailed"));
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_pending_receipts"), 0);
    // The receipt writes part 1's id in hex (12345 = 0x3039); pending, then delivered.
    let key = DeliveryKey::SmscId {
        route: "smsc".into(),
        id: "3039".into(),
    };
    assert!(s
        .apply_receipt(&key, 0x20, "2026-11-23 10:00:05", 0)
        .await
        .unwrap()
        .is_some());
    assert_eq!(status(1).as_deref(), Some("DeliveryPending"));
    assert!(s
        .apply_receipt(&key, 0x00, "2026-11-23 10:00:09", 0)
        .await
        .unwrap()
        .is_some());
    assert_eq!(status(1).as_deref(), Some("DeliveryOK"));
    assert_eq!(
        raw.text(&format!(
            "SELECT DeliveryDateTime FROM sentitems WHERE ID = {id} AND SequencePosition = 1"
        ))
        .as_deref(),
        Some("2026-11-23 10:00:09")
    );
    // Final receipts free the ids; the same id on another route is not ours.
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_smsc_ids"), 0);
    let other = DeliveryKey::SmscId {
        route: "other".into(),
        id: "12345".into(),
    };
    assert!(s
        .apply_receipt(&other, 0, "2026-11-23 10:00:10", 0)
        .await
        .unwrap()
        .is_none());
    assert_eq!(status(1).as_deref(), Some("DeliveryOK"));
    assert_eq!(raw.count("SELECT count(*) FROM inbox"), 0);
}

pub async fn a_batch_is_recorded_in_one_go(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    for i in 0..3 {
        s.create_outbox(&message(&format!("batch {i}"), None))
            .await
            .unwrap();
    }
    let claimed = s.claim_outbox("a", &[], 3, 60).await.unwrap();
    assert_eq!(claimed.len(), 3);
    // The second one's lease is taken over by another sender meanwhile.
    raw.exec(&format!(
        "UPDATE outbox SET SendingTimeOut = {} WHERE ID = {}",
        raw.now_plus(600),
        claimed[1].id
    ));
    let done: Vec<_> = claimed
        .iter()
        .map(|out| {
            (
                out.clone(),
                vec![(
                    1,
                    PartResult::Sent {
                        route: "smsc".into(),
                        tpmr: None,
                        report: true,
                        smsc: String::new(),
                        message_id: Some(format!("id{}", out.id)),
                    },
                )],
            )
        })
        .collect();
    let results = s.finish_sent(&done).await.unwrap();
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(matches!(results[1], Err(StorageError::LostClaim(id)) if id == claimed[1].id));
    assert_eq!(raw.count("SELECT count(*) FROM sentitems"), 2);
    assert_eq!(
        raw.count("SELECT count(*) FROM outbox"),
        1,
        "the lost one stays"
    );
    let receipts = vec![
        (
            DeliveryKey::SmscId {
                route: "smsc".into(),
                id: format!("id{}", claimed[2].id),
            },
            0,
            "2026-11-24 10:00:00".to_string(),
        ),
        (
            DeliveryKey::SmscId {
                route: "smsc".into(),
                id: format!("id{}", claimed[1].id),
            },
            0,
            "2026-11-24 10:00:00".to_string(),
        ),
    ];
    assert_eq!(s.apply_receipts(&receipts).await.unwrap(), [true, false]);
    assert_eq!(
        raw.count("SELECT count(*) FROM sentitems WHERE Status = 'DeliveryOK'"),
        1
    );
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_pending_receipts"), 1);
}

/// A send window's commit: the batch recorded and the next batch claimed in one call; the
/// claimed messages are under our lease (another claimer gets none of them).
pub async fn a_batch_is_recorded_and_the_next_claimed(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    for i in 0..5 {
        s.create_outbox(&message(&format!("window {i}"), None))
            .await
            .unwrap();
    }
    let first = s.claim_outbox("a", &[], 2, 60).await.unwrap();
    assert_eq!(first.len(), 2);
    let sent = |batch: &[Outgoing]| -> Vec<(Outgoing, Vec<(u32, PartResult)>)> {
        batch
            .iter()
            .map(|out| {
                let part = PartResult::Sent {
                    route: "smsc".into(),
                    tpmr: None,
                    report: false,
                    smsc: String::new(),
                    message_id: Some(format!("w{}", out.id)),
                };
                (out.clone(), vec![(1, part)])
            })
            .collect()
    };
    let done = sent(&first);
    let (results, next) = s
        .finish_sent_and_claim(&done, "a", &[], 2, 60)
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let next = next.unwrap();
    assert_eq!(next.len(), 2);
    assert!(next.iter().all(|n| first.iter().all(|f| f.id != n.id)));
    assert_eq!(raw.count("SELECT count(*) FROM sentitems"), 2);
    assert_eq!(raw.count("SELECT count(*) FROM outbox"), 3);
    // Only the fifth is left to another claimer.
    let other = s.claim_outbox("b", &[], 5, 60).await.unwrap();
    assert_eq!(other.len(), 1, "{other:?}");
    assert!(next.iter().all(|n| n.id != other[0].id));
    // The claimed batch can be recorded in turn.
    let (results, rest) = s
        .finish_sent_and_claim(&sent(&next), "a", &[], 2, 60)
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(rest.unwrap().is_empty());
    assert_eq!(raw.count("SELECT count(*) FROM sentitems"), 4);
}

pub async fn phones_row_is_kept_up_to_date(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let mut st = PhoneStatus {
        id: "m1".into(),
        imei: "490154203237518".into(),
        imsi: "260011234567890".into(),
        client: "smsgw test".into(),
        send: true,
        receive: true,
        battery: -1,
        signal: 60,
        net_code: "26001".into(),
        net_name: "Sim Network".into(),
        sent: 3,
        received: 1,
    };
    s.refresh_status(&st).await.unwrap();
    st.signal = 70;
    st.sent = 4;
    s.refresh_status(&st).await.unwrap();
    assert_eq!(raw.count("SELECT count(*) FROM phones"), 1);
    assert_eq!(raw.count("SELECT Signal FROM phones"), 70);
    assert_eq!(raw.count("SELECT Sent FROM phones"), 4);
    // Gammu's PostgreSQL schema keeps it as a boolean, the others as 'yes'/'no'.
    assert!(matches!(
        raw.text("SELECT Send FROM phones").as_deref(),
        Some("yes" | "true")
    ));
}

pub async fn a_long_row_is_written_back_in_parts(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let text = "x".repeat(200);
    raw.exec(&format!(
        "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime, SendingTimeOut) VALUES ('+48600100200', '{text}', 'script', {now}, {now})",
        now = raw.now_plus(-1)
    ));
    let out = s.claim_outbox("a", &[], 1, 60).await.unwrap().remove(0);
    let parts = compose::split_long_row(&out, 3).expect("needs splitting");
    let split = s.split_outbox(&out, &parts).await.unwrap();
    assert_eq!(split.parts.len(), 2);
    assert_eq!(split.parts[1].seq, 2);
    assert_eq!(
        raw.text("SELECT MultiPart FROM outbox").as_deref(),
        Some("true")
    );
    assert_eq!(
        raw.text("SELECT UDH FROM outbox_multipart WHERE SequencePosition = 2")
            .as_deref(),
        Some("050003030202")
    );
    let subs = compose::submits(&split, &Default::default()).unwrap();
    assert_eq!(
        subs.iter()
            .map(|(_, s)| s.user_data.text().unwrap().len())
            .sum::<usize>(),
        200
    );
}

pub async fn times_are_the_databases_local_time(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    let id = s.create_outbox(&message("when", None)).await.unwrap();
    let stored = raw
        .text(&format!(
            "SELECT SendingDateTime FROM outbox WHERE ID = {id}"
        ))
        .unwrap();
    let stored = chrono::NaiveDateTime::parse_from_str(&stored, "%Y-%m-%d %H:%M:%S").unwrap();
    let now = chrono::Local::now().naive_local();
    assert!(
        (now - stored).num_seconds().abs() < 60,
        "stored {stored}, local now {now} (TZ={:?})",
        std::env::var("TZ")
    );
}

pub async fn a_keyed_message_is_queued_once(b: &dyn Backend) {
    let (one, two) = (b.service(), b.second());
    let m = message("from a spool file", None);
    let first = one.create_outbox_once(&m, "file-a|1|2").await.unwrap();
    assert!(first.is_some());
    assert_eq!(
        two.create_outbox_once(&m, "file-a|1|2").await.unwrap(),
        None
    );
    assert!(one
        .create_outbox_once(&m, "file-a|1|3")
        .await
        .unwrap()
        .is_some());
    assert_eq!(b.raw().count("SELECT count(*) FROM outbox"), 2);
}

fn submission(key: Option<&str>) -> Submission {
    Submission {
        face: "http".into(),
        owner: "alice".into(),
        idempotency_key: key.map(str::to_string),
        from: "Shop".into(),
        dlr_url: Some("http://127.0.0.1:9/dlr?type=%d".into()),
        dlr_mask: 31,
        to: String::new(),
    }
}

pub async fn a_submission_is_queued_once_and_logged(b: &dyn Backend) {
    let (one, two, raw) = (b.service(), b.second(), b.raw());
    let msgs = [message("to two", None), message("to two", Some("m1"))];
    let first = one.submit(&msgs, &submission(Some("k1"))).await.unwrap();
    assert_eq!(first.ids.len(), 2);
    assert!(!first.repeated);
    // The same key again, from another daemon: nothing new, the same ids.
    let again = two.submit(&msgs, &submission(Some("k1"))).await.unwrap();
    assert!(again.repeated);
    assert_eq!(again.ids, first.ids);
    assert_eq!(raw.count("SELECT count(*) FROM outbox"), 2);
    // Another user's key of the same name is another request.
    let mut bob = submission(Some("k1"));
    bob.owner = "bob".into();
    assert!(!one.submit(&msgs[..1], &bob).await.unwrap().repeated);
    assert_eq!(one.submissions("alice", 0, 10).await.unwrap(), first.ids);
    assert_eq!(
        one.submissions("alice", first.ids[0], 10).await.unwrap(),
        [first.ids[1]]
    );

    let events = one.events_after(0, 100).await.unwrap();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.kind == EventKind::Queued));
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    let e = &events[0];
    assert_eq!(e.message_id, first.ids[0]);
    assert_eq!(e.body["to"], "+48600100200");
    let how = e
        .submission
        .as_ref()
        .expect("the submission with the event");
    assert_eq!(how.owner, "alice");
    assert_eq!(how.from, "Shop");
    assert_eq!(how.dlr_mask, 31);
    assert_eq!(
        how.dlr_url.as_deref(),
        Some("http://127.0.0.1:9/dlr?type=%d")
    );

    let id = first.ids[0];
    let view = one.message_view(id).await.unwrap().unwrap();
    assert_eq!((view.status.as_str(), view.parts), ("queued", 1));
    assert_eq!(view.text, "to two");
    // Claimed: sending; sent; then a status report: delivered, each with its event.
    let out = one
        .claim_outbox("a", &routes(&["m2"]), 1, 60)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(out.id, id);
    assert_eq!(
        one.message_view(id).await.unwrap().unwrap().status,
        "sending"
    );
    one.record_sent(
        &out,
        1,
        &PartResult::Sent {
            route: "m2".into(),
            tpmr: Some(42),
            report: true,
            smsc: String::new(),
            message_id: None,
        },
    )
    .await
    .unwrap();
    one.finish_outbox(&out, &Outcome::Sent, 600).await.unwrap();
    let view = one.message_view(id).await.unwrap().unwrap();
    assert_eq!((view.status.as_str(), view.route.as_str()), ("sent", "m2"));
    assert!(view.sent_at.is_some());
    let sent_at = raw
        .text(&format!(
            "SELECT SendingDateTime FROM sentitems WHERE ID = {id}"
        ))
        .unwrap();
    let key = DeliveryKey::Tpmr {
        phone: "m2".into(),
        mr: 42,
        number: "+48600100200".into(),
        sent_at,
    };
    one.apply_receipt(&key, 0, "2026-11-23 10:00:09", 3600)
        .await
        .unwrap()
        .expect("matched");
    let view = one.message_view(id).await.unwrap().unwrap();
    assert_eq!(view.status, "delivered");
    assert_eq!(view.delivered_at.as_deref(), Some("2026-11-23 10:00:09"));
    let later = one.events_after(events[2].id, 100).await.unwrap();
    let kinds: Vec<EventKind> = later.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Sent, EventKind::Report]);
    assert_eq!(later[0].body["route"], "m2");
    assert_eq!(later[0].body["parts"][0]["tpmr"], 42);
    assert_eq!(later[1].body["status"], "delivered");
    assert_eq!(later[1].submission.as_ref().unwrap().owner, "alice");
    assert_eq!(later[1].submission.as_ref().unwrap().to, "+48600100200");
    assert_eq!(later[1].body["route"], "m2");

    // Cancelled before it went: the view and the event say so.
    let other = first.ids[1];
    assert!(one
        .cancel_outbox(other, "cancelled by alice")
        .await
        .unwrap());
    let view = one.message_view(other).await.unwrap().unwrap();
    assert_eq!(view.status, "cancelled");
    let last = one.events_after(later[1].id, 100).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].kind, EventKind::Failed);
    assert_eq!(last[0].body["cancelled"], true);
    assert!(one.message_view(999_999).await.unwrap().is_none());
}

pub async fn event_cursors_retries_and_pruning(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    s.submit(&[message("before", None)], &submission(None))
        .await
        .unwrap();
    // A new consumer starts at the end: turning a webhook on does not replay the past.
    let start = s.event_cursor("webhook:sent").await.unwrap();
    assert_eq!(start, raw.count("SELECT max(ID) FROM smsgw_events"));
    assert!(s.events_after(start, 10).await.unwrap().is_empty());
    // A received message (three parts joined) is one event with the whole text.
    let rows = three_parts();
    let ids = s.save_inbox(&rows, &[]).await.unwrap();
    // Stored again (the daemon stopped before deleting it from the SIM): no second event.
    s.save_inbox(&rows, &[]).await.unwrap();
    let events = s.events_after(start, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind, EventKind::Received);
    assert_eq!(e.message_id.to_string(), ids[0]);
    assert_eq!(e.body["text"], "part 1part 2part 3");
    assert_eq!(e.body["from"], "+48111");
    assert_eq!(e.body["parts"], 3);
    assert!(e.submission.is_none(), "an inbox ID is no outbox ID");
    let inbox = s.inbox_after(0, 2).await.unwrap();
    assert_eq!(inbox.len(), 2);
    assert_eq!(inbox[0].id.to_string(), ids[0]);
    assert_eq!(s.inbox_after(inbox[1].id, 10).await.unwrap().len(), 1);

    // Delivery failed: parked; moving the cursor past it; due at once (delay 0).
    s.event_progress(
        "webhook:sent",
        e.id,
        &[Parked {
            event_id: e.id,
            attempts: 1,
            delay_secs: 0,
            error: "HTTP 500".into(),
        }],
        &[],
    )
    .await
    .unwrap();
    assert_eq!(s.event_cursor("webhook:sent").await.unwrap(), e.id);
    let due = s.due_retries("webhook:sent", 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].0.id, due[0].1), (e.id, 1));
    assert_eq!(due[0].0.body["text"], "part 1part 2part 3");
    // A cursor never goes back.
    s.event_progress("webhook:sent", start, &[], &[])
        .await
        .unwrap();
    assert_eq!(s.event_cursor("webhook:sent").await.unwrap(), e.id);
    // Pruning keeps what a retry waits for, and what is younger than the age asked.
    let consumers = vec!["webhook:sent".to_string()];
    assert_eq!(s.prune_events(&consumers, 3600).await.unwrap(), 0);
    raw.exec(&format!(
        "UPDATE smsgw_events SET CreatedAt = {}",
        raw.now_plus(-7200)
    ));
    assert_eq!(s.prune_events(&consumers, 3600).await.unwrap(), 1);
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_events"), 1);
    s.event_progress("webhook:sent", e.id, &[], &[e.id])
        .await
        .unwrap();
    assert!(s.due_retries("webhook:sent", 10).await.unwrap().is_empty());
    assert_eq!(s.prune_events(&consumers, 3600).await.unwrap(), 1);
    // A consumer no longer configured keeps nothing alive.
    s.event_cursor("gone").await.unwrap();
    s.prune_events(&consumers, 0).await.unwrap();
    assert_eq!(
        raw.count("SELECT count(*) FROM smsgw_event_cursors WHERE Consumer = 'gone'"),
        0
    );
}

/// Many writes at once (a face under load: SQLite runs them as one group commit): each
/// stands or falls alone; one that fails halfway leaves nothing behind.
pub async fn concurrent_writes_stand_or_fall_alone(b: &dyn Backend) {
    let (s, raw) = (b.service(), b.raw());
    // A key taken by an earlier process without its submission rows: the submit with it
    // writes its message, then fails on the key, and must leave no row.
    raw.exec("INSERT INTO smsgw_spool (SpoolKey, ID) VALUES ('idem:http:alice:taken', 999)");
    let mut tasks = Vec::new();
    for i in 0..60 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let key = (i % 20 == 7).then_some("taken");
            s.submit(&[message(&format!("load {i}"), None)], &submission(key))
                .await
                .map(|d| d.ids)
        }));
    }
    let mut ok = 0;
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(ids) => {
                assert_eq!(ids.len(), 1);
                ok += 1;
            }
            Err(_) => failed += 1,
        }
    }
    assert_eq!((ok, failed), (57, 3));
    if !b.transactional() {
        // MyISAM keeps what a failed transaction wrote in Gammu's tables (smsgw warns at
        // start); our own tables are InnoDB.
        assert_eq!(raw.count("SELECT count(*) FROM smsgw_submissions"), 57);
        return;
    }
    assert_eq!(raw.count("SELECT count(*) FROM outbox"), 57);
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_submissions"), 57);
    assert_eq!(raw.count("SELECT count(*) FROM smsgw_events"), 57);
}

/// Two daemons on one database: one delivers a consumer's events at a time; the other
/// takes over when that one's lease runs out, and the holder renews its own.
pub async fn one_daemon_at_a_time_delivers_a_consumer_s_events(b: &dyn Backend) {
    let (one, two, raw) = (b.service(), b.second(), b.raw());
    assert!(one.lease_events("amqp:smsgw", "a:1", 30).await.unwrap());
    assert!(!two.lease_events("amqp:smsgw", "b:2", 30).await.unwrap());
    assert!(
        one.lease_events("amqp:smsgw", "a:1", 30).await.unwrap(),
        "renewed"
    );
    // Another consumer is leased on its own.
    assert!(two.lease_events("webhook:sent", "b:2", 30).await.unwrap());
    // a:1 stopped renewing: its lease is in the past.
    raw.exec(
        "UPDATE smsgw_event_leases SET LeasedUntil = '2000-01-01 00:00:00' WHERE Consumer = 'amqp:smsgw'",
    );
    assert!(
        two.lease_events("amqp:smsgw", "b:2", 30).await.unwrap(),
        "taken over"
    );
    assert!(!one.lease_events("amqp:smsgw", "a:1", 30).await.unwrap());
}

/// What a backend constructor returns: the backend, or `None` when its server is
/// unreachable (allowed outside CI only).
pub trait Made<B> {
    fn made(self) -> Option<B>;
}

impl<B: Backend> Made<B> for B {
    fn made(self) -> Option<B> {
        Some(self)
    }
}

impl<B: Backend> Made<B> for Option<B> {
    fn made(self) -> Option<B> {
        self
    }
}

/// One `#[tokio::test]` per case of the suite, for a backend made by `$make().await`.
macro_rules! storage_suite_tests {
    ($make:path) => {
        storage_suite_tests!(@cases $make;
            create_and_claim_reads_parts_in_order,
            eligibility_rules,
            claim_limit_is_respected,
            two_claimers_never_get_the_same_row,
            lease_expiry_takeover_and_renewal,
            claims_of_a_dead_owner_can_be_released,
            retries_then_sending_error,
            sent_parts_are_not_sent_again,
            inbox_and_pending_parts,
            status_reports_match_pending_then_final,
            receipts_match_smsc_message_ids,
            a_batch_is_recorded_in_one_go,
            a_batch_is_recorded_and_the_next_claimed,
            phones_row_is_kept_up_to_date,
            a_long_row_is_written_back_in_parts,
            times_are_the_databases_local_time,
            a_keyed_message_is_queued_once,
            a_submission_is_queued_once_and_logged,
            event_cursors_retries_and_pruning,
            one_daemon_at_a_time_delivers_a_consumer_s_events,
            concurrent_writes_stand_or_fall_alone
        );
    };
    (@cases $make:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                // `None`: the server is unreachable outside CI (said loudly by `$make`).
                if let Some(backend) = storage_suite::Made::made($make().await) {
                    storage_suite::$case(&backend).await;
                }
            }
        )*
    };
}
