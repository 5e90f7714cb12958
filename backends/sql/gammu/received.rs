//! Received messages: the inbox rows, and the parts of long messages waiting for
//! the rest.

use super::*;

/// Stores received parts and drops the pending parts they came from; the inbox IDs.
pub async fn save_inbox(
    tx: &mut Tx<'_>,
    parts: &[InboxPart],
    consumed: &[PendingPart],
) -> Result<Vec<String>> {
    let d = tx.dialect();
    let mut ids = Vec::with_capacity(parts.len());
    let mut new = false;
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
        new = true;
    }
    if new {
        events::received(tx, parts, &ids).await?;
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
