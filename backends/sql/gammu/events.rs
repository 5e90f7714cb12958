//! The faces' two paths (DESIGN.md, "Faces"): `submit` (messages queued with how a face
//! queued them, in one commit) and the event log (`smsgw_events`, appended in the commit
//! of the change it reports; each consumer's cursor and parked retries).

use serde_json::{json, Value};

use super::*;
use crate::service::{Event, EventKind, MessageView, Parked, Submission, Submitted};

/// Appends an event in the caller's transaction.
pub(super) async fn append(
    tx: &mut Tx<'_>,
    kind: EventKind,
    message_id: i64,
    body: Value,
) -> Result<()> {
    if !tx.events() {
        return Ok(());
    }
    tx.exec(
        "INSERT INTO smsgw_events (\"Kind\", \"MessageID\", \"Body\") VALUES (?, ?, ?)",
        args![kind.as_str(), message_id, body.to_string()],
    )
    .await?;
    tx.mark_appended();
    Ok(())
}

/// The `sent` event of a message whose parts all went out through `route`.
pub(super) async fn sent(tx: &mut Tx<'_>, out: &Outgoing, route: &str, parts: Value) -> Result<()> {
    let body = json!({
        "id": out.id,
        "to": out.destination,
        "route": route,
        "parts": parts,
        "retries": out.retries,
    });
    append(tx, EventKind::Sent, out.id, body).await
}

/// The `sent` event of a message whose parts were recorded one by one (a modem's sends):
/// the parts as `sentitems` holds them.
pub(super) async fn sent_from_sentitems(tx: &mut Tx<'_>, out: &Outgoing) -> Result<()> {
    if !tx.events() {
        return Ok(());
    }
    let rows = tx
        .rows(
            "SELECT \"SequencePosition\", \"TPMR\", \"SenderID\" FROM sentitems WHERE \"ID\" = ? ORDER BY \"SequencePosition\"",
            args![out.id],
        )
        .await?;
    let route = rows.first().map(|r| text(r, 2)).unwrap_or_default();
    let parts: Vec<Value> = rows
        .iter()
        .map(|r| json!({"seq": int(r, 0, 0), "tpmr": int(r, 1, -1)}))
        .collect();
    sent(tx, out, &route, Value::Array(parts)).await
}

/// The `failed` event: given up after `reason` (or cancelled).
pub(super) async fn failed(
    tx: &mut Tx<'_>,
    id: i64,
    to: &str,
    code: i32,
    reason: &str,
    cancelled: bool,
) -> Result<()> {
    let body = json!({
        "id": id,
        "to": to,
        "code": code,
        "reason": reason,
        "cancelled": cancelled,
    });
    append(tx, EventKind::Failed, id, body).await
}

/// The `report` event of a part's status report or receipt (`tp_st`: TP-ST).
pub(super) async fn report(
    tx: &mut Tx<'_>,
    route: &str,
    id: i64,
    seq: i64,
    tp_st: u8,
    done: &str,
) -> Result<()> {
    let state = DeliveryStatus::from_status(tp_st);
    let status = match state {
        DeliveryStatus::DeliveryOK => "delivered",
        DeliveryStatus::DeliveryFailed => "failed",
        DeliveryStatus::DeliveryPending => "pending",
        _ => "unknown",
    };
    let body = json!({
        "id": id,
        "route": route,
        "part": seq,
        "status": status,
        "tp_st": tp_st,
        "done": done,
    });
    append(tx, EventKind::Report, id, body).await
}

/// The `received` event of a message stored as `ids` (its parts, joined).
pub(super) async fn received(tx: &mut Tx<'_>, parts: &[InboxPart], ids: &[i64]) -> Result<()> {
    let (Some(first), Some(&id)) = (parts.first(), ids.first()) else {
        return Ok(());
    };
    let text: String = parts.iter().map(|p| p.text_decoded.as_str()).collect();
    let body = json!({
        "id": id,
        "ids": ids,
        "from": first.sender,
        "phone": first.phone_id,
        "smsc": first.smsc,
        "received": first.received,
        "coding": first.coding.as_str(),
        "class": first.class,
        "text": text,
        "parts": parts.len(),
    });
    append(tx, EventKind::Received, id, body).await
}

/// Queues one message per recipient with how the face queued them (DESIGN's `submit`).
pub async fn submit(tx: &mut Tx<'_>, msgs: &[NewMessage], how: &Submission) -> Result<Submitted> {
    if let Some(key) = &how.idempotency_key {
        let rows = tx
            .rows(
                "SELECT \"ID\" FROM smsgw_submissions WHERE \"Owner\" = ? AND \"IdemKey\" = ? ORDER BY \"ID\"",
                args![&how.owner, key],
            )
            .await?;
        if !rows.is_empty() {
            return Ok(Submitted {
                ids: rows.iter().map(|r| int(r, 0, 0)).collect(),
                repeated: true,
            });
        }
    }
    let mut ids = Vec::with_capacity(msgs.len());
    for msg in msgs {
        let id = insert_message(tx, msg).await?;
        tx.exec(
            "INSERT INTO smsgw_submissions (\"ID\", \"Face\", \"Owner\", \"IdemKey\", \"Destination\", \"Sender\", \"DlrUrl\", \"DlrMask\") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            args![id, &how.face, &how.owner, &how.idempotency_key, &msg.destination, &how.from, &how.dlr_url, how.dlr_mask],
        )
        .await?;
        let body = json!({
            "id": id,
            "to": msg.destination,
            "parts": msg.parts.len(),
            "route": msg.sender_id,
        });
        append(tx, EventKind::Queued, id, body).await?;
        ids.push(id);
    }
    if let (Some(key), Some(first)) = (&how.idempotency_key, ids.first()) {
        // Two requests with one key at the same moment: this primary key lets one commit.
        tx.exec(
            "INSERT INTO smsgw_spool (\"SpoolKey\", \"ID\") VALUES (?, ?)",
            args![format!("idem:{}:{}:{key}", how.face, how.owner), *first],
        )
        .await?;
    }
    Ok(Submitted {
        ids,
        repeated: false,
    })
}

/// The columns [`event_at`] reads, of `e` (`smsgw_events`) and `s` (its submission).
fn event_columns(d: crate::backends::sql::dialect::Dialect) -> String {
    format!(
        "e.\"ID\", e.\"Kind\", e.\"MessageID\", e.\"Body\", {}, s.\"Face\", s.\"Owner\", s.\"IdemKey\", s.\"Sender\", s.\"DlrUrl\", s.\"DlrMask\", s.\"Destination\"",
        d.ts("e.\"CreatedAt\"")
    )
}

/// An event's submission, if a face queued its message (a received message's ID is an
/// inbox ID: it has none).
const SUBMISSION: &str =
    "LEFT JOIN smsgw_submissions s ON s.\"ID\" = e.\"MessageID\" AND e.\"Kind\" <> 'received'";

fn event_at(r: &Row) -> Event {
    Event {
        id: int(r, 0, 0),
        // Written by us only; an unknown kind would be a newer smsgw's, read as a report.
        kind: EventKind::parse(&text(r, 1)).unwrap_or(EventKind::Report),
        message_id: int(r, 2, 0),
        body: serde_json::from_str(&text(r, 3)).unwrap_or(Value::Null),
        at: text(r, 4),
        submission: opt(r, 5).map(|face| Submission {
            face,
            owner: text(r, 6),
            idempotency_key: opt(r, 7),
            from: text(r, 8),
            dlr_url: opt(r, 9).filter(|u| !u.is_empty()),
            dlr_mask: int(r, 10, 0).clamp(0, 255) as u8,
            to: text(r, 11),
        }),
    }
}

pub async fn events_after(tx: &mut Tx<'_>, after: i64, limit: usize) -> Result<Vec<Event>> {
    let sql = format!(
        "SELECT {} FROM smsgw_events e {SUBMISSION} WHERE e.\"ID\" > ? ORDER BY e.\"ID\" LIMIT {limit}",
        event_columns(tx.dialect())
    );
    Ok(tx
        .rows(&sql, args![after])
        .await?
        .iter()
        .map(event_at)
        .collect())
}

/// A consumer's cursor; a new consumer starts at the end of the log.
pub async fn event_cursor(tx: &mut Tx<'_>, consumer: &str) -> Result<i64> {
    if let Some(r) = tx
        .row(
            "SELECT \"LastID\" FROM smsgw_event_cursors WHERE \"Consumer\" = ?",
            args![consumer],
        )
        .await?
    {
        return Ok(int(&r, 0, 0));
    }
    let end = tx
        .row("SELECT MAX(\"ID\") FROM smsgw_events", &[])
        .await?
        .map_or(0, |r| int(&r, 0, 0));
    tx.exec(
        "INSERT INTO smsgw_event_cursors (\"Consumer\", \"LastID\") VALUES (?, ?)",
        args![consumer, end],
    )
    .await?;
    Ok(end)
}

/// [`Service::lease_events`]: renews `holder`'s lease, takes an expired one, or creates
/// it; false while another holder's has not run out.
pub async fn lease_events(
    tx: &mut Tx<'_>,
    consumer: &str,
    holder: &str,
    secs: u32,
) -> Result<bool> {
    let d = tx.dialect();
    let sql = format!(
        "UPDATE smsgw_event_leases SET \"Holder\" = ?, \"LeasedUntil\" = {} WHERE \"Consumer\" = ? AND (\"Holder\" = ? OR \"LeasedUntil\" < {})",
        d.now_plus(secs.into()),
        d.now()
    );
    if tx.exec(&sql, args![holder, consumer, holder]).await? > 0 {
        return Ok(true);
    }
    let sql = d.insert_ignore(&format!(
        "smsgw_event_leases (\"Consumer\", \"Holder\", \"LeasedUntil\") VALUES (?, ?, {})",
        d.now_plus(secs.into())
    ));
    tx.exec(&sql, args![consumer, holder]).await?;
    // Ours if the insert took, or if another holder's row is ours after all (MySQL counts
    // an UPDATE that changes nothing as no row).
    let row = tx
        .row(
            "SELECT \"Holder\" FROM smsgw_event_leases WHERE \"Consumer\" = ?",
            args![consumer],
        )
        .await?;
    Ok(row.is_some_and(|r| text(&r, 0) == holder))
}

pub async fn event_progress(
    tx: &mut Tx<'_>,
    consumer: &str,
    cursor: i64,
    parked: &[Parked],
    retried: &[i64],
) -> Result<()> {
    let d = tx.dialect();
    let sql = format!(
        "UPDATE smsgw_event_cursors SET \"LastID\" = ?, \"UpdatedAt\" = {} WHERE \"Consumer\" = ? AND \"LastID\" < ?",
        d.now()
    );
    tx.exec(&sql, args![cursor, consumer, cursor]).await?;
    for id in retried {
        tx.exec(
            "DELETE FROM smsgw_event_retries WHERE \"Consumer\" = ? AND \"EventID\" = ?",
            args![consumer, *id],
        )
        .await?;
    }
    for p in parked {
        tx.exec(
            "DELETE FROM smsgw_event_retries WHERE \"Consumer\" = ? AND \"EventID\" = ?",
            args![consumer, p.event_id],
        )
        .await?;
        let sql = format!(
            "INSERT INTO smsgw_event_retries (\"Consumer\", \"EventID\", \"Attempts\", \"NextAt\", \"LastError\") VALUES (?, ?, ?, {}, ?)",
            d.now_plus(p.delay_secs.into())
        );
        tx.exec(&sql, args![consumer, p.event_id, p.attempts, &p.error])
            .await?;
    }
    Ok(())
}

pub async fn due_retries(
    tx: &mut Tx<'_>,
    consumer: &str,
    limit: usize,
) -> Result<Vec<(Event, u32)>> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT {}, r.\"Attempts\" FROM smsgw_event_retries r JOIN smsgw_events e ON e.\"ID\" = r.\"EventID\" {SUBMISSION}
          WHERE r.\"Consumer\" = ? AND r.\"NextAt\" <= {} ORDER BY r.\"NextAt\", r.\"EventID\" LIMIT {limit}",
        event_columns(d),
        d.now()
    );
    let rows = tx.rows(&sql, args![consumer]).await?;
    Ok(rows
        .iter()
        .map(|r| (event_at(r), int(r, 12, 0).clamp(0, u32::MAX.into()) as u32))
        .collect())
}

pub async fn prune_events(tx: &mut Tx<'_>, consumers: &[String], min_age_secs: u32) -> Result<u64> {
    // Consumers no longer configured keep nothing alive.
    let cursors = tx
        .rows(
            "SELECT \"Consumer\", \"LastID\" FROM smsgw_event_cursors",
            &[],
        )
        .await?;
    let mut upto: Option<i64> = None;
    for r in &cursors {
        let name = text(r, 0);
        if consumers.contains(&name) {
            let last = int(r, 1, 0);
            upto = Some(upto.map_or(last, |u| u.min(last)));
        } else {
            for table in ["smsgw_event_cursors", "smsgw_event_retries"] {
                tx.exec(
                    &format!("DELETE FROM {table} WHERE \"Consumer\" = ?"),
                    args![&name],
                )
                .await?;
            }
        }
    }
    let upto = match upto {
        Some(u) => u,
        None if consumers.is_empty() => i64::MAX,
        // A configured consumer without a cursor yet starts at the end: nothing before
        // it is needed.
        None => i64::MAX,
    };
    let d = tx.dialect();
    let sql = format!(
        "DELETE FROM smsgw_events WHERE \"ID\" <= ? AND \"CreatedAt\" < {}
            AND \"ID\" NOT IN (SELECT \"EventID\" FROM smsgw_event_retries)",
        d.now_plus(-i64::from(min_age_secs))
    );
    tx.exec(&sql, args![upto]).await
}

/// Where message `id` stands: in the outbox (queued or being sent), or in the sent items.
pub async fn message_view(tx: &mut Tx<'_>, id: i64) -> Result<Option<MessageView>> {
    let mut view = message_state(tx, id).await?;
    if let Some(v) = &mut view {
        v.owner = tx
            .row(
                "SELECT \"Owner\" FROM smsgw_submissions WHERE \"ID\" = ?",
                args![id],
            )
            .await?
            .map(|r| text(&r, 0));
    }
    Ok(view)
}

async fn message_state(tx: &mut Tx<'_>, id: i64) -> Result<Option<MessageView>> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT \"DestinationNumber\", \"SenderID\", \"Retries\", {}, \"TextDecoded\", \"MultiPart\" FROM outbox WHERE \"ID\" = ?",
        d.ts("\"InsertIntoDB\"")
    );
    if let Some(h) = tx.row(&sql, args![id]).await? {
        let mut parts = vec![];
        if text(&h, 5).eq_ignore_ascii_case("true") {
            more_parts(tx, id, &mut parts).await?;
        }
        let claimed = tx
            .row("SELECT 1 FROM smsgw_claims WHERE \"ID\" = ?", args![id])
            .await?
            .is_some();
        let error = tx
            .row(
                "SELECT \"Reason\" FROM smsgw_last_errors WHERE \"ID\" = ?",
                args![id],
            )
            .await?
            .map(|r| text(&r, 0));
        let text_all = std::iter::once(text(&h, 4))
            .chain(
                parts
                    .iter()
                    .map(|p| p.text_decoded.clone().unwrap_or_default()),
            )
            .collect();
        return Ok(Some(MessageView {
            id,
            status: if claimed { "sending" } else { "queued" }.into(),
            to: text(&h, 0),
            route: text(&h, 1),
            parts: parts.len() as u32 + 1,
            retries: int(&h, 2, 0).clamp(0, u32::MAX.into()) as u32,
            queued_at: text(&h, 3),
            sent_at: None,
            delivered_at: None,
            error,
            text: text_all,
            owner: None,
        }));
    }
    let sql = format!(
        "SELECT \"Status\", {}, {}, \"DestinationNumber\", \"SenderID\", \"TextDecoded\", {} FROM sentitems WHERE \"ID\" = ? ORDER BY \"SequencePosition\"",
        d.ts("\"SendingDateTime\""),
        d.ts("\"DeliveryDateTime\""),
        d.ts("\"InsertIntoDB\"")
    );
    let rows = tx.rows(&sql, args![id]).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let reason = tx
        .row(
            "SELECT \"Reason\" FROM smsgw_failures WHERE \"ID\" = ? ORDER BY \"FailedAt\" DESC",
            args![id],
        )
        .await?
        .map(|r| text(&r, 0));
    let statuses: Vec<String> = rows.iter().map(|r| text(r, 0)).collect();
    let any = |s: &[&str]| statuses.iter().any(|x| s.contains(&x.as_str()));
    let status = if any(&["Error"])
        && reason
            .as_deref()
            .is_some_and(|r| r.starts_with("cancelled"))
    {
        "cancelled"
    } else if any(&["Error", "SendingError", "DeliveryFailed"]) {
        "failed"
    } else if statuses.iter().all(|s| s == "DeliveryOK") {
        "delivered"
    } else {
        "sent"
    };
    let latest = |i: usize| {
        rows.iter()
            .filter_map(|r| opt(r, i))
            .filter(|t| !t.is_empty())
            .max()
    };
    Ok(Some(MessageView {
        id,
        status: status.into(),
        to: text(first, 3),
        route: text(first, 4),
        parts: rows.len() as u32,
        retries: 0,
        queued_at: text(first, 6),
        sent_at: latest(1).filter(|_| status != "cancelled"),
        delivered_at: latest(2).filter(|_| status == "delivered"),
        error: reason.filter(|_| status == "failed" || status == "cancelled"),
        text: rows.iter().map(|r| text(r, 5)).collect(),
        owner: None,
    }))
}

pub async fn submissions(
    tx: &mut Tx<'_>,
    owner: &str,
    after: i64,
    limit: usize,
) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT \"ID\" FROM smsgw_submissions WHERE \"Owner\" = ? AND \"ID\" > ? ORDER BY \"ID\" LIMIT {limit}"
    );
    Ok(tx
        .rows(&sql, args![owner, after])
        .await?
        .iter()
        .map(|r| int(r, 0, 0))
        .collect())
}

pub async fn inbox_after(tx: &mut Tx<'_>, after: i64, limit: usize) -> Result<Vec<InboxEntry>> {
    let sql = format!(
        "SELECT \"ID\", {}, \"SenderNumber\", \"RecipientID\", \"UDH\", \"TextDecoded\" FROM inbox
          WHERE \"ID\" > ? ORDER BY \"ID\" LIMIT {limit}",
        tx.dialect().ts("\"ReceivingDateTime\"")
    );
    Ok(tx
        .rows(&sql, args![after])
        .await?
        .iter()
        .map(super::views::inbox_entry)
        .collect())
}
