//! Queued messages: writing a message in Gammu's layout (`outbox` +
//! `outbox_multipart`), reading its parts back, and rewriting a long row as parts.

use super::*;

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
         VALUES (?, ?, ?, ?, ?, ?, '{multipart}', ?, ?, ?, ?, ?, {now}, {due}, {now})",
        now = d.now(),
        due = if msg.delay_secs > 0 {
            d.now_plus(msg.delay_secs.into())
        } else {
            d.now().to_string()
        }
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
pub(super) async fn insert_more_parts(tx: &mut Tx<'_>, id: i64, rest: &[NewPart]) -> Result<()> {
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
pub(super) fn already_sent(s: Option<String>) -> bool {
    s.is_some_and(|s| s.starts_with("SendingOK"))
}

/// A part from `Text, Coding, UDH, Class, TextDecoded, Status` at `at` of `r`.
pub(super) fn part_at(r: &Row, at: usize, seq: u32) -> OutPart {
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
pub(super) async fn more_parts(tx: &mut Tx<'_>, id: i64, parts: &mut Vec<OutPart>) -> Result<()> {
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
