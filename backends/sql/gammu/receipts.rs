//! Status reports and receipts: a modem's report matched by PhoneID, TP-MR, number
//! and time; an SMSC's receipt by the message id kept with the part, parked when it
//! overtakes the part's record.

use super::*;

/// Whether any receipt waits for its part (else recording a part need not look).
pub(super) async fn receipts_parked(tx: &mut Tx<'_>) -> Result<bool> {
    Ok(tx
        .row(
            "SELECT count(*) FROM (SELECT 1 FROM smsgw_pending_receipts LIMIT 1) p",
            &[],
        )
        .await?
        .is_some_and(|r| int(&r, 0, 0) > 0))
}

/// Sets a sent part's delivery state from a status report or receipt (`status`: TP-ST)
/// that came through `route`.
pub(super) async fn set_delivery(
    tx: &mut Tx<'_>,
    route: &str,
    id: i64,
    seq: i64,
    status: u8,
    done: &str,
) -> Result<()> {
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
    events::report(tx, route, id, seq, status, done).await
}

/// `"MessageID" IN (?, ...)` over every form of an SMSC id (hex and decimal), with the
/// route first: the SQL and its arguments.
pub(super) fn id_forms_in(route: &str, message_id: &str) -> (Vec<String>, String, Vec<Arg>) {
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
pub(super) async fn keep_smsc_id(
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
pub(super) async fn apply_parked(
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
        set_delivery(tx, route, id, i64::from(seq), status, &text(r, 2)).await?;
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
pub(super) async fn receipt_by_id(
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
    set_delivery(tx, route, int(hit, 1, 0), int(hit, 2, 0), status, done).await?;
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
pub(super) async fn report_by_tpmr(
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
    set_delivery(tx, phone, int(hit, 0, 0), int(hit, 1, 0), status, done).await?;
    Ok(Some(int(hit, 0, 0).to_string()))
}
