//! Ending an attempt: the parts that went out into `sentitems`, the message out of
//! the outbox; a retry, a release, a failure, a cancel.

use super::*;

/// A batch of messages that went out, with the parts each sent.
pub type Sent = [(Outgoing, Vec<(u32, PartResult)>)];

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
        if tx.events() {
            let mut route = "";
            let mut ev_parts = Vec::with_capacity(parts.len());
            for (seq, part) in parts {
                let PartResult::Sent {
                    route: r,
                    tpmr,
                    message_id,
                    ..
                } = part;
                route = r;
                ev_parts.push(serde_json::json!({"seq": seq, "tpmr": tpmr, "smsc_id": message_id}));
            }
            events::sent(tx, out, route, serde_json::Value::Array(ev_parts)).await?;
        }
        gone.push(out.id);
        results.push(Ok(()));
    }
    delete_messages(tx, &gone).await?;
    Ok(results)
}

/// Records one part the network accepted (lease checked); `mark`: also mark the outbox
/// row sent (not needed when the message is deleted with it); `parked`: receipts wait.
pub(super) async fn record_part(
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

pub(super) async fn insert_sentitem(
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

pub(super) async fn set_part_status(
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

/// Removes messages from the outbox (both tables) and their claims.
pub(super) async fn delete_messages(tx: &mut Tx<'_>, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let (in_ids, a) = tx.dialect().in_ids("\"ID\"", ids);
    for table in [
        "outbox",
        "outbox_multipart",
        "smsgw_claims",
        "smsgw_last_errors",
    ] {
        tx.exec(&format!("DELETE FROM {table} WHERE {in_ids}"), &a)
            .await?;
    }
    Ok(())
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
        Outcome::Sent => {
            events::sent_from_sentitems(tx, out).await?;
            delete_messages(tx, &[out.id]).await?
        }
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
            note_error(tx, out.id, *status_code, reason).await?;
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
            if *status_code >= 0 {
                note_error(tx, out.id, *status_code, reason).await?;
            }
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
            events::failed(tx, out.id, &out.destination, *status_code, reason, false).await?;
            delete_messages(tx, &[out.id]).await?;
        }
    }
    Ok(())
}

/// Moves a message to the sent items as `Error`, with why (`smsgw outbox cancel`, the
/// API's `DELETE`); `reason` begins with "cancelled" (how the message's view tells a
/// cancel from a failure).
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
    events::failed(tx, id, &out.destination, -1, reason, true).await?;
    delete_messages(tx, &[id]).await?;
    Ok(true)
}

/// Keeps why a message waits (its last failed attempt), for `outbox list` and `show`.
async fn note_error(tx: &mut Tx<'_>, id: i64, code: i32, reason: &str) -> Result<()> {
    tx.exec("DELETE FROM smsgw_last_errors WHERE \"ID\" = ?", args![id])
        .await?;
    tx.exec(
        "INSERT INTO smsgw_last_errors (\"ID\", \"Code\", \"Reason\") VALUES (?, ?, ?)",
        args![id, code, reason],
    )
    .await?;
    Ok(())
}
