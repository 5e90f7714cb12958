//! The storage service on Gammu's schema, written once for SQLite, PostgreSQL and
//! MySQL/MariaDB: which statements, in which transaction, with which guards. Each function
//! runs inside one transaction its caller opened (`storage.rs`); the SQL that differs
//! between the databases comes from [`Dialect`]. Adding a query is one edit here, tested on
//! all three by the storage suite.
//!
//! The claim is DESIGN's: pick candidates, take each with a guarded `UPDATE ... WHERE ID = ?
//! AND (SendingTimeOut IS NULL OR SendingTimeOut <= now)` and check the affected rows (what
//! keeps a real gammu-smsd away), record the owner in `smsgw_claims`. Lease and eligibility
//! times use the database's clock.

use std::collections::HashMap;

use super::exec::{args, int, opt, text, Arg, Row, Tx};
use super::Attempt;
use crate::pdu::DeliveryStatus;
use crate::service::{
    same_number, Coding, DeliveryKey, InboxEntry, InboxPart, NewMessage, NewPart, OutPart,
    OutboxEntry, Outcome, Outgoing, PartResult, PendingPart, PhoneStatus, ReportRequest, Result,
    StorageError,
};
use crate::smpp::receipt::id_forms;

/// A batch of messages that went out, with the parts each sent.
pub type Sent = [(Outgoing, Vec<(u32, PartResult)>)];

/// Writes a message in Gammu's layout (`outbox` + `outbox_multipart`); returns its ID.
pub async fn insert_message(tx: &mut Tx<'_>, msg: &NewMessage) -> Result<i64> {
    let first = msg
        .parts
        .first()
        .ok_or_else(|| StorageError::Data("a message needs at least one part".into()))?;
    let d = tx.dialect();
    let multipart = if msg.parts.len() > 1 { "true" } else { "false" };
    // Times written explicitly in local time: a database made by Gammu 1.42's sqlite.sql
    // defaults them to UTC, which would delay the message by the UTC offset.
    let sql = format!(
        "INSERT INTO outbox (\"DestinationNumber\", \"Text\", \"TextDecoded\", \"Coding\", \"UDH\", \"Class\", \"MultiPart\", \"RelativeValidity\", \"SenderID\", \"DeliveryReport\", \"CreatorID\", \"Priority\",
                             \"InsertIntoDB\", \"SendingDateTime\", \"SendingTimeOut\")
         VALUES (?, ?, ?, ?, ?, ?, '{multipart}', ?, ?, ?, ?, ?, {now}, {now}, {now})",
        now = d.now()
    );
    let id = tx
        .insert(
            &sql,
            args![
                &msg.destination,
                &first.text_hex,
                &first.text_decoded,
                first.coding.as_str(),
                &first.udh_hex,
                first.class,
                msg.relative_validity,
                &msg.sender_id,
                msg.delivery_report.as_str(),
                &msg.creator_id,
                msg.priority,
            ],
        )
        .await?;
    insert_more_parts(tx, id, &msg.parts[1..]).await?;
    if let Some(notify) = d.notify() {
        // Also when the trigger is missing (a database where we may not add one).
        tx.exec(notify, &[]).await?;
    }
    Ok(id)
}

/// Parts 2, 3, ... of a message into `outbox_multipart`.
async fn insert_more_parts(tx: &mut Tx<'_>, id: i64, rest: &[NewPart]) -> Result<()> {
    for (seq, p) in (2u32..).zip(rest) {
        tx.exec(
            "INSERT INTO outbox_multipart (\"ID\", \"SequencePosition\", \"Text\", \"TextDecoded\", \"Coding\", \"UDH\", \"Class\") VALUES (?, ?, ?, ?, ?, ?, ?)",
            args![id, seq, &p.text_hex, &p.text_decoded, p.coding.as_str(), &p.udh_hex, p.class],
        )
        .await?;
    }
    Ok(())
}

/// Queues a message unless `key` (a spool file's) was queued already.
pub async fn create_outbox_once(
    tx: &mut Tx<'_>,
    msg: &NewMessage,
    key: &str,
) -> Result<Option<i64>> {
    if tx
        .row(
            "SELECT \"ID\" FROM smsgw_spool WHERE \"SpoolKey\" = ?",
            args![key],
        )
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let id = insert_message(tx, msg).await?;
    // Two daemons queuing the same file: the key's primary key lets one commit.
    tx.exec(
        "INSERT INTO smsgw_spool (\"SpoolKey\", \"ID\") VALUES (?, ?)",
        args![key, id],
    )
    .await?;
    Ok(Some(id))
}

/// Whether a part's `Status` says it went out already.
fn already_sent(s: Option<String>) -> bool {
    s.is_some_and(|s| s.starts_with("SendingOK"))
}

/// A part from `Text, Coding, UDH, Class, TextDecoded, Status` at `at` of `r`.
fn part_at(r: &Row, at: usize, seq: u32) -> OutPart {
    OutPart {
        seq,
        text_hex: opt(r, at).filter(|s| !s.is_empty()),
        coding: Coding::parse(&text(r, at + 1)),
        udh_hex: opt(r, at + 2).filter(|s| !s.is_empty()),
        class: int(r, at + 3, -1) as i32,
        text_decoded: opt(r, at + 4),
        already_sent: already_sent(opt(r, at + 5)),
    }
}

/// Parts 2, 3, ... from `outbox_multipart`; Gammu reads them until one is missing, and so
/// do we.
async fn more_parts(tx: &mut Tx<'_>, id: i64, parts: &mut Vec<OutPart>) -> Result<()> {
    let rows = tx
        .rows(
            "SELECT \"SequencePosition\", \"Text\", \"Coding\", \"UDH\", \"Class\", \"TextDecoded\", \"Status\" FROM outbox_multipart WHERE \"ID\" = ? AND \"SequencePosition\" >= 2 ORDER BY \"SequencePosition\"",
            args![id],
        )
        .await?;
    for (expected, r) in (2u32..).zip(rows) {
        if int(&r, 0, 0) != i64::from(expected) {
            break;
        }
        parts.push(part_at(&r, 1, expected));
    }
    Ok(())
}

pub async fn read_parts(tx: &mut Tx<'_>, id: i64) -> Result<Vec<OutPart>> {
    let head = tx
        .row(
            "SELECT \"Text\", \"Coding\", \"UDH\", \"Class\", \"TextDecoded\", \"Status\", \"MultiPart\" FROM outbox WHERE \"ID\" = ?",
            args![id],
        )
        .await?
        .ok_or_else(|| StorageError::Data(format!("outbox message {id} is gone")))?;
    let mut parts = vec![part_at(&head, 0, 1)];
    if text(&head, 6).eq_ignore_ascii_case("true") {
        more_parts(tx, id, &mut parts).await?;
    }
    Ok(parts)
}

/// The database's now plus `secs`, as the text a lease is compared by.
async fn now_plus(tx: &mut Tx<'_>, secs: i64) -> Result<String> {
    let d = tx.dialect();
    let sql = format!("SELECT {}", d.ts(&d.now_plus(secs)));
    Ok(tx
        .row(&sql, &[])
        .await?
        .map(|r| text(&r, 0))
        .unwrap_or_default())
}

/// Claims up to `limit` messages for `routes` (rows with an empty `SenderID` or one of
/// these), best first, each under a lease of `lease_secs`.
pub async fn claim(
    tx: &mut Tx<'_>,
    owner: &str,
    routes: &[String],
    limit: usize,
    lease_secs: u32,
) -> Result<Vec<Outgoing>> {
    let d = tx.dialect();
    let sender = d.unindexed("\"SenderID\"");
    let mut sql = format!(
        "SELECT \"ID\" FROM outbox
          WHERE \"SendingDateTime\" <= {now}
            AND (\"SendingTimeOut\" IS NULL OR \"SendingTimeOut\" <= {now})
            AND \"SendBefore\" >= {tod} AND \"SendAfter\" <= {tod}
            AND ({sender} IS NULL OR {sender} = ''",
        now = d.now(),
        tod = d.time_of_day()
    );
    for _ in routes {
        sql.push_str(&format!(" OR {sender} = ?"));
    }
    sql.push_str(") ORDER BY \"Priority\" DESC, \"InsertIntoDB\" ASC, \"ID\" ASC LIMIT ?");
    sql.push_str(d.claim_lock());
    let mut a: Vec<Arg> = routes.iter().map(Arg::from).collect();
    a.push(Arg::Int(d.candidates(limit) as i64));
    let candidates: Vec<i64> = tx
        .rows(&sql, &a)
        .await?
        .iter()
        .map(|r| int(r, 0, 0))
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // One lease for the whole claim, read back as the text it is compared by.
    let lease = now_plus(tx, lease_secs.into()).await?;
    let guard = format!(
        "UPDATE outbox SET \"SendingTimeOut\" = {} WHERE \"ID\" = ? AND (\"SendingTimeOut\" IS NULL OR \"SendingTimeOut\" <= {})",
        d.ts_param(),
        d.now()
    );
    let mut won = Vec::new();
    for id in candidates {
        if won.len() >= limit {
            break;
        }
        // The guarded lease: what keeps a real gammu-smsd (and other smsgw) away.
        if tx.exec(&guard, args![&lease, id]).await? == 1 {
            won.push(id);
        }
    }
    if won.is_empty() {
        return Ok(Vec::new());
    }
    let (in_won, won_args) = d.in_ids("\"ID\"", &won);
    tx.exec(
        &format!("DELETE FROM smsgw_claims WHERE {in_won}"),
        &won_args,
    )
    .await?;
    let mut a = vec![Arg::from(owner), Arg::from(&lease)];
    a.extend(won_args.iter().cloned());
    tx.exec(
        &format!("INSERT INTO smsgw_claims (\"ID\", \"Owner\", \"Lease\") SELECT \"ID\", ?, ? FROM outbox WHERE {in_won}"),
        &a,
    )
    .await?;
    let heads = tx
        .rows(
            &format!(
                "SELECT \"ID\", \"DestinationNumber\", \"SenderID\", \"CreatorID\", \"RelativeValidity\", \"DeliveryReport\", \"Retries\", \"Priority\", {},
                        \"Text\", \"Coding\", \"UDH\", \"Class\", \"TextDecoded\", \"Status\", \"MultiPart\"
                   FROM outbox WHERE {in_won}",
                d.ts("\"InsertIntoDB\"")
            ),
            &won_args,
        )
        .await?;
    let mut heads: HashMap<i64, Row> = heads.into_iter().map(|h| (int(&h, 0, 0), h)).collect();
    let mut out = Vec::with_capacity(won.len());
    // In the order of the pick (best first).
    for id in won {
        let Some(h) = heads.remove(&id) else {
            continue;
        };
        let mut parts = vec![part_at(&h, 9, 1)];
        if text(&h, 15).eq_ignore_ascii_case("true") {
            more_parts(tx, id, &mut parts).await?;
        }
        out.push(Outgoing {
            id,
            name: id.to_string(),
            destination: text(&h, 1),
            sender_id: opt(&h, 2).filter(|s| !s.is_empty()),
            creator_id: text(&h, 3),
            parts,
            relative_validity: int(&h, 4, -1) as i32,
            delivery_report: ReportRequest::parse(&opt(&h, 5).unwrap_or_else(|| "default".into())),
            retries: int(&h, 6, 0).max(0) as u32,
            priority: int(&h, 7, 0) as i32,
            inserted: text(&h, 8),
            lease: lease.clone(),
        });
    }
    Ok(out)
}

/// The current leases of `ids`, locked until the commit.
async fn leases(tx: &mut Tx<'_>, ids: &[i64]) -> Result<HashMap<i64, Option<String>>> {
    let d = tx.dialect();
    let (in_ids, a) = d.in_ids("\"ID\"", ids);
    let sql = format!(
        "SELECT \"ID\", {} FROM outbox WHERE {in_ids}{}",
        d.ts("\"SendingTimeOut\""),
        d.for_update()
    );
    Ok(tx
        .rows(&sql, &a)
        .await?
        .iter()
        .map(|r| (int(r, 0, 0), opt(r, 1)))
        .collect())
}

/// Fails with `LostClaim` unless the lease is still the one we set; locks the row.
pub async fn check_lease(tx: &mut Tx<'_>, out: &Outgoing) -> Result<()> {
    match leases(tx, &[out.id]).await?.remove(&out.id).flatten() {
        Some(l) if l == out.lease => Ok(()),
        _ => Err(StorageError::LostClaim(out.id)),
    }
}

/// Whether any receipt waits for its part (else recording a part need not look).
async fn receipts_parked(tx: &mut Tx<'_>) -> Result<bool> {
    Ok(tx
        .row(
            "SELECT count(*) FROM (SELECT 1 FROM smsgw_pending_receipts LIMIT 1) p",
            &[],
        )
        .await?
        .is_some_and(|r| int(&r, 0, 0) > 0))
}

/// Records the parts of messages that all went out and deletes the messages;
/// `LostClaim` for a message whose lease is not ours any more.
pub async fn finish_sent(tx: &mut Tx<'_>, done: &Sent) -> Result<Vec<Result<()>>> {
    let ids: Vec<i64> = done.iter().map(|(out, _)| out.id).collect();
    let held = leases(tx, &ids).await?;
    let parked = receipts_parked(tx).await?;
    let mut results = Vec::with_capacity(done.len());
    let mut gone = Vec::with_capacity(done.len());
    for (out, parts) in done {
        if held.get(&out.id).cloned().flatten().as_deref() != Some(out.lease.as_str()) {
            results.push(Err(StorageError::LostClaim(out.id)));
            continue;
        }
        for (seq, part) in parts {
            // Anything but a lost claim fails the whole batch: nothing is committed.
            record_part(tx, out, *seq, part, false, parked).await?;
        }
        gone.push(out.id);
        results.push(Ok(()));
    }
    delete_messages(tx, &gone).await?;
    Ok(results)
}

/// Records one part the network accepted (lease checked); `mark`: also mark the outbox
/// row sent (not needed when the message is deleted with it); `parked`: receipts wait.
async fn record_part(
    tx: &mut Tx<'_>,
    out: &Outgoing,
    seq: u32,
    result: &PartResult,
    mark: bool,
    parked: bool,
) -> Result<()> {
    let part = out
        .parts
        .iter()
        .find(|p| p.seq == seq)
        .ok_or_else(|| StorageError::Data(format!("message {} has no part {seq}", out.id)))?;
    let (attempt, message_id) = Attempt::sent(result);
    insert_sentitem(tx, out, part, &attempt).await?;
    if mark {
        set_part_status(tx, out.id, seq, attempt.status, -1).await?;
    }
    if let Some(m) = message_id {
        keep_smsc_id(tx, attempt.route, m, out.id, seq, parked).await?;
    }
    Ok(())
}

/// Records a part that went out, the message staying in the outbox.
pub async fn record_sent(
    tx: &mut Tx<'_>,
    out: &Outgoing,
    seq: u32,
    result: &PartResult,
) -> Result<()> {
    check_lease(tx, out).await?;
    let parked = receipts_parked(tx).await?;
    record_part(tx, out, seq, result, true, parked).await
}

async fn insert_sentitem(
    tx: &mut Tx<'_>,
    out: &Outgoing,
    part: &OutPart,
    a: &Attempt<'_>,
) -> Result<()> {
    let d = tx.dialect();
    // Gammu's duplicate (ID, SequencePosition) trap on a retried multipart message (#311):
    // the newer attempt replaces the older row.
    tx.exec(
        "DELETE FROM sentitems WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
        args![out.id, part.seq],
    )
    .await?;
    let sql = format!(
        "INSERT INTO sentitems (\"CreatorID\", \"ID\", \"SequencePosition\", \"Status\", \"SendingDateTime\", \"SMSCNumber\", \"TPMR\", \"SenderID\", \"Text\", \"DestinationNumber\", \"Coding\", \"UDH\", \"Class\", \"TextDecoded\", \"InsertIntoDB\", \"RelativeValidity\", \"StatusCode\")
         VALUES (?, ?, ?, ?, {now}, ?, ?, ?, ?, ?, ?, ?, ?, ?, {ts}, ?, ?)",
        now = d.now(),
        ts = d.ts_param()
    );
    tx.exec(
        &sql,
        args![
            &out.creator_id,
            out.id,
            part.seq,
            a.status,
            a.smsc,
            a.tpmr,
            a.route,
            part.text_hex.clone().unwrap_or_default(),
            &out.destination,
            part.coding.unwrap_or_default().as_str(),
            part.udh_hex.clone().unwrap_or_default(),
            part.class,
            part.text_decoded.clone().unwrap_or_default(),
            &out.inserted,
            out.relative_validity,
            a.status_code,
        ],
    )
    .await?;
    Ok(())
}

async fn set_part_status(
    tx: &mut Tx<'_>,
    id: i64,
    seq: u32,
    status: &str,
    code: i32,
) -> Result<()> {
    if seq == 1 {
        tx.exec(
            "UPDATE outbox SET \"Status\" = ?, \"StatusCode\" = ? WHERE \"ID\" = ?",
            args![status, code, id],
        )
        .await?;
    } else {
        tx.exec(
            "UPDATE outbox_multipart SET \"Status\" = ?, \"StatusCode\" = ? WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
            args![status, code, id, seq],
        )
        .await?;
    }
    Ok(())
}

/// Sets a sent part's delivery state from a status report or receipt (`status`: TP-ST).
async fn set_delivery(tx: &mut Tx<'_>, id: i64, seq: i64, status: u8, done: &str) -> Result<()> {
    let state = DeliveryStatus::from_status(status);
    if state == DeliveryStatus::DeliveryOK {
        let sql = format!(
            "UPDATE sentitems SET \"Status\" = ?, \"StatusError\" = ?, \"DeliveryDateTime\" = {} WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
            tx.dialect().ts_param()
        );
        tx.exec(&sql, args![state.to_string(), status, done, id, seq])
            .await?;
    } else {
        tx.exec(
            "UPDATE sentitems SET \"Status\" = ?, \"StatusError\" = ? WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
            args![state.to_string(), status, id, seq],
        )
        .await?;
    }
    Ok(())
}

/// `"MessageID" IN (?, ...)` over every form of an SMSC id (hex and decimal), with the
/// route first: the SQL and its arguments.
fn id_forms_in(route: &str, message_id: &str) -> (Vec<String>, String, Vec<Arg>) {
    let forms = id_forms(message_id);
    let sql = format!(
        "\"Route\" = ? AND \"MessageID\" IN ({})",
        vec!["?"; forms.len()].join(", ")
    );
    let mut a = vec![Arg::from(route)];
    a.extend(forms.iter().map(Arg::from));
    (forms, sql, a)
}

/// Keeps the SMSC's id of a sent part, after applying the receipts that came before it
/// (`parked`: any wait at all). A final receipt that came first leaves nothing to keep.
async fn keep_smsc_id(
    tx: &mut Tx<'_>,
    route: &str,
    message_id: &str,
    id: i64,
    seq: u32,
    parked: bool,
) -> Result<()> {
    let ended = parked && apply_parked(tx, route, message_id, id, seq).await?;
    if !ended {
        tx.exec(
            "DELETE FROM smsgw_smsc_ids WHERE \"Route\" = ? AND \"MessageID\" = ?",
            args![route, message_id],
        )
        .await?;
        tx.exec(
            "INSERT INTO smsgw_smsc_ids (\"Route\", \"MessageID\", \"ID\", \"SequencePosition\") VALUES (?, ?, ?, ?)",
            args![route, message_id, id, seq],
        )
        .await?;
    }
    Ok(())
}

/// Applies to a part just recorded the receipts parked under its SMSC id (the id as given,
/// else another form of it), in the order they came; whether one of them was final.
async fn apply_parked(
    tx: &mut Tx<'_>,
    route: &str,
    message_id: &str,
    id: i64,
    seq: u32,
) -> Result<bool> {
    let (forms, which, a) = id_forms_in(route, message_id);
    let sql = format!(
        "SELECT \"MessageID\", \"Status\", COALESCE(\"DischargeTime\", '') FROM smsgw_pending_receipts
          WHERE {which} ORDER BY {}",
        tx.dialect().arrival_order()
    );
    let parked = tx.rows(&sql, &a).await?;
    let Some(form) = forms
        .iter()
        .find(|f| parked.iter().any(|r| text(r, 0) == **f))
    else {
        return Ok(false);
    };
    let mut ended = false;
    for r in parked.iter().filter(|r| text(r, 0) == *form) {
        let status = u8::try_from(int(r, 1, 0xFF)).unwrap_or(0xFF);
        set_delivery(tx, id, i64::from(seq), status, &text(r, 2)).await?;
        ended |= DeliveryStatus::from_status(status).is_final();
    }
    tx.exec(
        "DELETE FROM smsgw_pending_receipts WHERE \"Route\" = ? AND \"MessageID\" = ?",
        args![route, form],
    )
    .await?;
    tracing::info!(
        route,
        message_id,
        id,
        part = seq,
        "a receipt that came before the part was recorded now matched it"
    );
    Ok(ended)
}

/// Applies a receipt by SMSC message id; parks it when no part has that id (yet). A final
/// receipt frees the id.
async fn receipt_by_id(
    tx: &mut Tx<'_>,
    route: &str,
    message_id: &str,
    status: u8,
    done: &str,
) -> Result<bool> {
    let (_, which, a) = id_forms_in(route, message_id);
    let hits = tx
        .rows(
            &format!(
                "SELECT \"MessageID\", \"ID\", \"SequencePosition\" FROM smsgw_smsc_ids WHERE {which}"
            ),
            &a,
        )
        .await?;
    // The id as written wins over another form of it.
    let hit = hits
        .iter()
        .find(|h| text(h, 0) == message_id)
        .or_else(|| hits.first());
    let Some(hit) = hit else {
        tx.exec(
            "INSERT INTO smsgw_pending_receipts (\"Route\", \"MessageID\", \"Status\", \"DischargeTime\") VALUES (?, ?, ?, ?)",
            args![route, message_id, status, done],
        )
        .await?;
        return Ok(false);
    };
    set_delivery(tx, int(hit, 1, 0), int(hit, 2, 0), status, done).await?;
    if DeliveryStatus::from_status(status).is_final() {
        tx.exec(
            "DELETE FROM smsgw_smsc_ids WHERE \"Route\" = ? AND \"MessageID\" = ?",
            args![route, text(hit, 0)],
        )
        .await?;
    }
    Ok(true)
}

/// Applies receipts by SMSC id in one transaction; whether each matched.
pub async fn receipts_by_id(
    tx: &mut Tx<'_>,
    receipts: &[(DeliveryKey, u8, String)],
) -> Result<Vec<bool>> {
    let mut matched = Vec::with_capacity(receipts.len());
    for (key, status, done) in receipts {
        matched.push(match key {
            DeliveryKey::SmscId { route, id } => {
                receipt_by_id(tx, route, id, *status, done).await?
            }
            DeliveryKey::Tpmr { .. } => report_by_tpmr(tx, key, *status, done, 0).await?.is_some(),
        });
    }
    Ok(matched)
}

/// Applies a status report or receipt; the `sentitems` ID it matched (empty for an SMSC
/// id), `None` when it matched nothing (kept in our tables).
pub async fn apply_receipt(
    tx: &mut Tx<'_>,
    key: &DeliveryKey,
    status: u8,
    done: &str,
    window_secs: u64,
) -> Result<Option<String>> {
    match key {
        DeliveryKey::SmscId { route, id } => Ok(receipt_by_id(tx, route, id, status, done)
            .await?
            .then(String::new)),
        DeliveryKey::Tpmr { .. } => report_by_tpmr(tx, key, status, done, window_secs).await,
    }
}

/// A modem's status report: the most recent `sentitems` row of that phone with that TP-MR,
/// still waiting for a report, the number equal after normalisation, sent within the
/// window of the report's time.
async fn report_by_tpmr(
    tx: &mut Tx<'_>,
    key: &DeliveryKey,
    status: u8,
    done: &str,
    window_secs: u64,
) -> Result<Option<String>> {
    let DeliveryKey::Tpmr {
        phone,
        mr,
        number,
        sent_at,
    } = key
    else {
        return Ok(None);
    };
    let d = tx.dialect();
    let w = window_secs.min(i64::MAX as u64) as i64;
    let sql = format!(
        "SELECT \"ID\", \"SequencePosition\", \"DestinationNumber\" FROM sentitems
          WHERE \"SenderID\" = ? AND \"TPMR\" = ? AND \"Status\" IN ('SendingOK', 'DeliveryPending')
            AND \"SendingDateTime\" BETWEEN {} AND {}
          ORDER BY \"SendingDateTime\" DESC, \"ID\" DESC",
        d.shift(d.ts_param(), -w),
        d.shift(d.ts_param(), w)
    );
    let candidates = tx.rows(&sql, args![phone, *mr, sent_at, sent_at]).await?;
    let Some(hit) = candidates.iter().find(|r| same_number(&text(r, 2), number)) else {
        tx.exec(
            "INSERT INTO smsgw_unmatched_reports (\"PhoneID\", \"TPMR\", \"Number\", \"Status\", \"DischargeTime\") VALUES (?, ?, ?, ?, ?)",
            args![phone, *mr, number, status, done],
        )
        .await?;
        return Ok(None);
    };
    set_delivery(tx, int(hit, 0, 0), int(hit, 1, 0), status, done).await?;
    Ok(Some(int(hit, 0, 0).to_string()))
}

/// Removes messages from the outbox (both tables) and their claims.
async fn delete_messages(tx: &mut Tx<'_>, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let (in_ids, a) = tx.dialect().in_ids("\"ID\"", ids);
    for table in ["outbox", "outbox_multipart", "smsgw_claims"] {
        tx.exec(&format!("DELETE FROM {table} WHERE {in_ids}"), &a)
            .await?;
    }
    Ok(())
}

/// Writes the parts of a long single row back in Gammu's layout before its first send.
pub async fn split_outbox(tx: &mut Tx<'_>, out: &Outgoing, parts: &[NewPart]) -> Result<Outgoing> {
    let first = parts
        .first()
        .ok_or_else(|| StorageError::Data("no parts to write back".into()))?;
    check_lease(tx, out).await?;
    tx.exec(
        "UPDATE outbox SET \"Text\" = ?, \"TextDecoded\" = ?, \"Coding\" = ?, \"UDH\" = ?, \"MultiPart\" = 'true' WHERE \"ID\" = ?",
        args![&first.text_hex, &first.text_decoded, first.coding.as_str(), &first.udh_hex, out.id],
    )
    .await?;
    tx.exec(
        "DELETE FROM outbox_multipart WHERE \"ID\" = ?",
        args![out.id],
    )
    .await?;
    insert_more_parts(tx, out.id, &parts[1..]).await?;
    Ok(Outgoing {
        parts: read_parts(tx, out.id).await?,
        ..out.clone()
    })
}

/// Extends a claim's lease; the new lease.
pub async fn renew_claim(tx: &mut Tx<'_>, out: &Outgoing, lease_secs: u32) -> Result<String> {
    let d = tx.dialect();
    let lease = now_plus(tx, lease_secs.into()).await?;
    let sql = format!(
        "UPDATE outbox SET \"SendingTimeOut\" = {ts} WHERE \"ID\" = ? AND \"SendingTimeOut\" = {ts}",
        ts = d.ts_param()
    );
    if tx.exec(&sql, args![&lease, out.id, &out.lease]).await? != 1 {
        return Err(StorageError::LostClaim(out.id));
    }
    tx.exec(
        "UPDATE smsgw_claims SET \"Lease\" = ? WHERE \"ID\" = ?",
        args![&lease, out.id],
    )
    .await?;
    Ok(lease)
}

/// Ends an attempt as `outcome` says (the lease checked).
pub async fn finish_outbox(
    tx: &mut Tx<'_>,
    out: &Outgoing,
    outcome: &Outcome,
    retry_after_secs: u32,
) -> Result<()> {
    let d = tx.dialect();
    check_lease(tx, out).await?;
    match outcome {
        Outcome::Sent => delete_messages(tx, &[out.id]).await?,
        Outcome::Retry {
            status_code,
            reason,
            ..
        } => {
            let sql = format!(
                "UPDATE outbox SET \"Retries\" = ?, \"StatusCode\" = ?, \"SendingTimeOut\" = {} WHERE \"ID\" = ?",
                d.now_plus(retry_after_secs.into())
            );
            tx.exec(&sql, args![out.retries + 1, *status_code, out.id])
                .await?;
            tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![out.id])
                .await?;
            tracing::info!(id = out.id, "message will be retried: {reason}");
        }
        Outcome::Release {
            status_code,
            reason,
        } => {
            // A release for want of a network keeps its code (a stop keeps the last).
            let sql = format!(
                "UPDATE outbox SET \"SendingTimeOut\" = {}, \"StatusCode\" = CASE WHEN ? >= 0 THEN ? ELSE \"StatusCode\" END WHERE \"ID\" = ?",
                d.now_plus(retry_after_secs.into())
            );
            tx.exec(&sql, args![*status_code, *status_code, out.id])
                .await?;
            tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![out.id])
                .await?;
            tracing::info!(id = out.id, "message released: {reason}");
        }
        Outcome::Failed {
            status_code,
            reason,
            unusable,
        } => {
            let status = if *unusable { "Error" } else { "SendingError" };
            let route = out.sender_id.clone().unwrap_or_default();
            for part in out.parts.iter().filter(|p| !p.already_sent) {
                // Parts sent in this attempt are already in sentitems.
                let sent_now = tx
                    .row(
                        "SELECT count(*) FROM sentitems WHERE \"ID\" = ? AND \"SequencePosition\" = ?",
                        args![out.id, part.seq],
                    )
                    .await?
                    .is_some_and(|r| int(&r, 0, 0) > 0);
                if !sent_now {
                    let attempt = Attempt {
                        route: &route,
                        status,
                        tpmr: -1,
                        smsc: "",
                        status_code: *status_code,
                    };
                    insert_sentitem(tx, out, part, &attempt).await?;
                }
            }
            tx.exec(
                "INSERT INTO smsgw_failures (\"ID\", \"Reason\") VALUES (?, ?)",
                args![out.id, reason.as_str()],
            )
            .await?;
            delete_messages(tx, &[out.id]).await?;
        }
    }
    Ok(())
}

/// The outbox for `smsgw outbox list` (`stuck`: retried, or due for ten minutes).
pub async fn list_outbox(tx: &mut Tx<'_>, stuck: bool) -> Result<Vec<OutboxEntry>> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT o.\"ID\", o.\"DestinationNumber\", o.\"SenderID\",
                (SELECT count(*) FROM outbox_multipart m WHERE m.\"ID\" = o.\"ID\"),
                o.\"Retries\", o.\"Priority\", {ins}, {due}, {lease}, o.\"StatusCode\",
                (SELECT c.\"Owner\" FROM smsgw_claims c WHERE c.\"ID\" = o.\"ID\" AND c.\"Lease\" = {lease}),
                o.\"TextDecoded\"
           FROM outbox o {filter}
          ORDER BY o.\"Priority\" DESC, o.\"InsertIntoDB\", o.\"ID\"",
        ins = d.ts("o.\"InsertIntoDB\""),
        due = d.ts("o.\"SendingDateTime\""),
        lease = d.ts("o.\"SendingTimeOut\""),
        filter = if stuck {
            format!(
                "WHERE o.\"Retries\" > 0 OR o.\"SendingDateTime\" <= {}",
                d.now_plus(-600)
            )
        } else {
            String::new()
        }
    );
    let rows = tx.rows(&sql, &[]).await?;
    let more = tx
        .rows(
            "SELECT \"ID\", \"TextDecoded\" FROM outbox_multipart ORDER BY \"ID\", \"SequencePosition\"",
            &[],
        )
        .await?;
    let mut rest: HashMap<i64, String> = HashMap::new();
    for r in &more {
        rest.entry(int(r, 0, 0)).or_default().push_str(&text(r, 1));
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id = int(r, 0, 0);
            OutboxEntry {
                id,
                destination: text(r, 1),
                route: text(r, 2),
                parts: (1 + int(r, 3, 0)).max(1) as u32,
                retries: int(r, 4, 0).max(0) as u32,
                priority: int(r, 5, 0) as i32,
                inserted: text(r, 6),
                send_after: text(r, 7),
                lease_until: text(r, 8),
                status_code: int(r, 9, -1) as i32,
                claimed_by: opt(r, 10),
                text: text(r, 11) + rest.get(&id).map_or("", String::as_str),
            }
        })
        .collect())
}

/// Moves a message to the sent items as `Error`, with why (`smsgw outbox cancel`).
pub async fn cancel_outbox(tx: &mut Tx<'_>, id: i64, reason: &str) -> Result<bool> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT \"DestinationNumber\", \"SenderID\", \"CreatorID\", \"RelativeValidity\", {} FROM outbox WHERE \"ID\" = ?{}",
        d.ts("\"InsertIntoDB\""),
        d.for_update()
    );
    let Some(h) = tx.row(&sql, args![id]).await? else {
        return Ok(false);
    };
    let route = text(&h, 1);
    let out = Outgoing {
        id,
        name: id.to_string(),
        destination: text(&h, 0),
        sender_id: Some(route.clone()),
        creator_id: text(&h, 2),
        parts: read_parts(tx, id).await?,
        relative_validity: int(&h, 3, -1) as i32,
        delivery_report: ReportRequest::Default,
        retries: 0,
        priority: 0,
        inserted: text(&h, 4),
        lease: String::new(),
    };
    for part in out.parts.iter().filter(|p| !p.already_sent) {
        let attempt = Attempt {
            route: &route,
            status: "Error",
            tpmr: -1,
            smsc: "",
            status_code: -1,
        };
        insert_sentitem(tx, &out, part, &attempt).await?;
    }
    tx.exec(
        "INSERT INTO smsgw_failures (\"ID\", \"Reason\") VALUES (?, ?)",
        args![id, reason],
    )
    .await?;
    delete_messages(tx, &[id]).await?;
    Ok(true)
}

/// Makes a message due now with its retries reset (`smsgw outbox retry`).
pub async fn retry_outbox(tx: &mut Tx<'_>, id: i64) -> Result<bool> {
    let d = tx.dialect();
    let sql = format!(
        "UPDATE outbox SET \"Retries\" = 0, \"SendingDateTime\" = {now}, \"SendingTimeOut\" = {now} WHERE \"ID\" = ?",
        now = d.now()
    );
    let n = tx.exec(&sql, args![id]).await?;
    tx.exec("DELETE FROM smsgw_claims WHERE \"ID\" = ?", args![id])
        .await?;
    if let Some(notify) = d.notify() {
        tx.exec(notify, &[]).await?;
    }
    Ok(n == 1)
}

/// Received parts since `since` (local time), newest first.
pub async fn list_inbox(tx: &mut Tx<'_>, since: Option<&str>) -> Result<Vec<InboxEntry>> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT \"ID\", {}, \"SenderNumber\", \"RecipientID\", \"UDH\", \"TextDecoded\" FROM inbox
          WHERE \"ReceivingDateTime\" >= {} ORDER BY \"ReceivingDateTime\" DESC, \"ID\" DESC",
        d.ts("\"ReceivingDateTime\""),
        d.ts_param()
    );
    let rows = tx
        .rows(&sql, args![since.unwrap_or("1970-01-01 00:00:00")])
        .await?;
    Ok(rows
        .iter()
        .map(|r| InboxEntry {
            id: int(r, 0, 0),
            received: text(r, 1),
            sender: text(r, 2),
            phone: text(r, 3),
            udh: text(r, 4),
            text: text(r, 5),
        })
        .collect())
}

/// Deletes inbox and sent items older than `days` (only counts with `dry_run`).
pub async fn prune(tx: &mut Tx<'_>, days: u32, dry_run: bool) -> Result<(u64, u64)> {
    let cutoff = tx.dialect().now_plus(-i64::from(days) * 86_400);
    let mut counts = [0u64; 2];
    for (i, (t, col)) in [
        ("inbox", "ReceivingDateTime"),
        ("sentitems", "SendingDateTime"),
    ]
    .iter()
    .enumerate()
    {
        counts[i] = tx
            .row(
                &format!("SELECT count(*) FROM {t} WHERE \"{col}\" < {cutoff}"),
                &[],
            )
            .await?
            .map_or(0, |r| int(&r, 0, 0).max(0) as u64);
        if !dry_run {
            tx.exec(&format!("DELETE FROM {t} WHERE \"{col}\" < {cutoff}"), &[])
                .await?;
        }
    }
    if !dry_run {
        tx.exec(
            &format!("DELETE FROM smsgw_spool WHERE \"QueuedAt\" < {cutoff}"),
            &[],
        )
        .await?;
    }
    Ok((counts[0], counts[1]))
}

/// When `route` sent parts since `since` (local time): seeds the send limits.
pub async fn send_times(tx: &mut Tx<'_>, route: &str, since: &str) -> Result<Vec<String>> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT {} FROM sentitems WHERE \"SenderID\" = ? AND \"SendingDateTime\" >= {} AND \"Status\" NOT IN ('SendingError', 'Error')",
        d.ts("\"SendingDateTime\""),
        d.ts_param()
    );
    Ok(tx
        .rows(&sql, args![route, since])
        .await?
        .iter()
        .map(|r| text(r, 0))
        .collect())
}

pub async fn outbox_depth(tx: &mut Tx<'_>) -> Result<u64> {
    Ok(tx
        .row("SELECT count(*) FROM outbox", &[])
        .await?
        .map_or(0, |r| int(&r, 0, 0).max(0) as u64))
}

/// A mark that changes when rows are added to or taken from the outbox (servers' poll).
pub async fn outbox_mark(tx: &mut Tx<'_>) -> Result<i64> {
    // Two plain integers (arithmetic on them is DECIMAL on MySQL).
    Ok(tx
        .row("SELECT MAX(\"ID\"), count(*) FROM outbox", &[])
        .await?
        .map_or(0, |r| {
            int(&r, 0, 0)
                .wrapping_mul(1_000_003)
                .wrapping_add(int(&r, 1, 0))
        }))
}

pub async fn claim_owners(tx: &mut Tx<'_>) -> Result<Vec<String>> {
    Ok(tx
        .rows("SELECT DISTINCT \"Owner\" FROM smsgw_claims", &[])
        .await?
        .iter()
        .map(|r| text(r, 0))
        .collect())
}

/// Gives back the messages `owners` claimed (daemons that died), while their leases are
/// still the ones those owners set.
pub async fn release_claims(tx: &mut Tx<'_>, owners: &[String]) -> Result<usize> {
    let d = tx.dialect();
    let mut n = 0;
    for o in owners {
        let sql = format!(
            "SELECT c.\"ID\" FROM smsgw_claims c JOIN outbox o ON o.\"ID\" = c.\"ID\"
              WHERE c.\"Owner\" = ? AND c.\"Lease\" = {}",
            d.ts("o.\"SendingTimeOut\"")
        );
        let ids = tx.rows(&sql, args![o]).await?;
        let release = format!(
            "UPDATE outbox SET \"SendingTimeOut\" = {} WHERE \"ID\" = ?",
            d.now()
        );
        for r in ids {
            n += tx.exec(&release, args![int(&r, 0, 0)]).await? as usize;
        }
        tx.exec("DELETE FROM smsgw_claims WHERE \"Owner\" = ?", args![o])
            .await?;
    }
    Ok(n)
}

/// Stores received parts and drops the pending parts they came from; the inbox IDs.
pub async fn save_inbox(
    tx: &mut Tx<'_>,
    parts: &[InboxPart],
    consumed: &[PendingPart],
) -> Result<Vec<String>> {
    let d = tx.dialect();
    let mut ids = Vec::with_capacity(parts.len());
    let same = format!(
        "SELECT \"ID\" FROM inbox WHERE \"RecipientID\" = ? AND \"SenderNumber\" = ? AND \"ReceivingDateTime\" = {} AND \"UDH\" = ? AND \"Text\" = ?",
        d.ts_param()
    );
    let insert = format!(
        "INSERT INTO inbox (\"ReceivingDateTime\", \"Text\", \"SenderNumber\", \"Coding\", \"SMSCNumber\", \"UDH\", \"Class\", \"TextDecoded\", \"RecipientID\")
         VALUES ({}, ?, ?, ?, ?, ?, ?, ?, ?)",
        d.ts_param()
    );
    for p in parts {
        // The same part again (stored, then the daemon stopped before deleting it from
        // the SIM): keep the first row, receive it once.
        let existing = tx
            .row(
                &same,
                args![&p.phone_id, &p.sender, &p.received, &p.udh_hex, &p.text_hex],
            )
            .await?;
        if let Some(r) = existing {
            ids.push(int(&r, 0, 0));
            continue;
        }
        let id = tx
            .insert(
                &insert,
                args![
                    &p.received,
                    &p.text_hex,
                    &p.sender,
                    p.coding.as_str(),
                    &p.smsc,
                    &p.udh_hex,
                    p.class,
                    &p.text_decoded,
                    &p.phone_id
                ],
            )
            .await?;
        ids.push(id);
    }
    for q in consumed {
        tx.exec(
            "DELETE FROM smsgw_pending_parts WHERE \"PhoneID\" = ? AND \"Sender\" = ? AND \"Reference\" = ? AND \"Total\" = ? AND \"Seq\" = ?",
            args![&q.phone_id, &q.sender, q.reference, q.total, q.seq],
        )
        .await?;
    }
    Ok(ids.iter().map(ToString::to_string).collect())
}

/// Keeps a part of a concatenated message until the others arrive (once).
pub async fn stash_part(tx: &mut Tx<'_>, p: &PendingPart) -> Result<()> {
    let d = tx.dialect();
    let sql = d.insert_ignore(&format!(
        "smsgw_pending_parts (\"PhoneID\", \"Sender\", \"Reference\", \"Total\", \"Seq\", \"PDU\", \"ReceivedAt\") VALUES (?, ?, ?, ?, ?, ?, {})",
        d.ts_param()
    ));
    tx.exec(
        &sql,
        args![
            &p.phone_id,
            &p.sender,
            p.reference,
            p.total,
            p.seq,
            &p.pdu,
            &p.received_at
        ],
    )
    .await?;
    Ok(())
}

/// Groups of pending parts that are complete, or whose oldest part waited longer than
/// `timeout_secs`.
pub async fn complete_parts(
    tx: &mut Tx<'_>,
    phone_id: &str,
    timeout_secs: u64,
) -> Result<Vec<Vec<PendingPart>>> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT \"Sender\", \"Reference\", \"Total\" FROM smsgw_pending_parts WHERE \"PhoneID\" = ?
          GROUP BY \"Sender\", \"Reference\", \"Total\"
         HAVING count(*) >= \"Total\" OR min(\"ReceivedAt\") <= {}",
        d.now_plus(-(timeout_secs.min(i64::MAX as u64) as i64))
    );
    let keys = tx.rows(&sql, args![phone_id]).await?;
    let parts = format!(
        "SELECT \"Seq\", \"PDU\", {} FROM smsgw_pending_parts WHERE \"PhoneID\" = ? AND \"Sender\" = ? AND \"Reference\" = ? AND \"Total\" = ? ORDER BY \"Seq\"",
        d.ts("\"ReceivedAt\"")
    );
    let mut groups = Vec::new();
    for k in keys {
        let (sender, reference, total) = (text(&k, 0), int(&k, 1, 0), int(&k, 2, 0));
        let rows = tx
            .rows(&parts, args![phone_id, &sender, reference, total])
            .await?;
        groups.push(
            rows.iter()
                .map(|r| PendingPart {
                    phone_id: phone_id.to_string(),
                    sender: sender.clone(),
                    reference: reference.clamp(0, u16::MAX.into()) as u16,
                    total: total.clamp(0, u8::MAX.into()) as u8,
                    seq: int(r, 0, 0).clamp(0, u8::MAX.into()) as u8,
                    pdu: text(r, 1),
                    received_at: text(r, 2),
                })
                .collect(),
        );
    }
    Ok(groups)
}

/// Writes a modem's status into Gammu's `phones` table (keyed by IMEI).
pub async fn refresh_status(tx: &mut Tx<'_>, s: &PhoneStatus) -> Result<()> {
    let d = tx.dialect();
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let set = format!(
        "\"ID\" = ?, \"TimeOut\" = {timeout}, \"Send\" = '{send}', \"Receive\" = '{receive}', \"IMSI\" = ?, \"NetCode\" = ?, \"NetName\" = ?, \"Client\" = ?, \"Battery\" = ?, \"Signal\" = ?, \"Sent\" = ?, \"Received\" = ?",
        timeout = d.now_plus(10),
        send = yes_no(s.send),
        receive = yes_no(s.receive)
    );
    let values = args![
        &s.id,
        &s.imsi,
        &s.net_code,
        &s.net_name,
        &s.client,
        s.battery,
        s.signal,
        s.sent.min(i32::MAX as u64) as i64,
        s.received.min(i32::MAX as u64) as i64,
        &s.imei,
    ];
    let n = tx
        .exec(
            &format!("UPDATE phones SET {set} WHERE \"IMEI\" = ?"),
            values,
        )
        .await?;
    if n == 0 {
        tx.exec(
            &format!(
                "INSERT INTO phones (\"ID\", \"TimeOut\", \"Send\", \"Receive\", \"IMSI\", \"NetCode\", \"NetName\", \"Client\", \"Battery\", \"Signal\", \"Sent\", \"Received\", \"IMEI\", \"InsertIntoDB\")
                 VALUES (?, {}, '{}', '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, {})",
                d.now_plus(10),
                yes_no(s.send),
                yes_no(s.receive),
                d.now()
            ),
            values,
        )
        .await?;
    }
    Ok(())
}
