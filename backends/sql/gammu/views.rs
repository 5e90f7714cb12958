//! What the commands and the daemon's status read and write besides the message flow:
//! listings, retry, prune, send times, outbox depth and the `phones` table.

use super::*;

/// The outbox for `smsgw outbox list` (`stuck`: retried, or due for ten minutes).
pub async fn list_outbox(tx: &mut Tx<'_>, stuck: bool) -> Result<Vec<OutboxEntry>> {
    let d = tx.dialect();
    let sql = format!(
        "SELECT o.\"ID\", o.\"DestinationNumber\", o.\"SenderID\",
                (SELECT count(*) FROM outbox_multipart m WHERE m.\"ID\" = o.\"ID\"),
                o.\"Retries\", o.\"Priority\", {ins}, {due}, {lease}, o.\"StatusCode\",
                (SELECT c.\"Owner\" FROM smsgw_claims c WHERE c.\"ID\" = o.\"ID\" AND c.\"Lease\" = {lease}),
                o.\"TextDecoded\",
                (SELECT e.\"Reason\" FROM smsgw_last_errors e WHERE e.\"ID\" = o.\"ID\")
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
                last_error: opt(r, 12),
            }
        })
        .collect())
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
    Ok(rows.iter().map(inbox_entry).collect())
}

/// An inbox row from `ID, ReceivingDateTime, SenderNumber, RecipientID, UDH, TextDecoded`.
pub(super) fn inbox_entry(r: &Row) -> InboxEntry {
    InboxEntry {
        id: int(r, 0, 0),
        received: text(r, 1),
        sender: text(r, 2),
        phone: text(r, 3),
        udh: text(r, 4),
        text: text(r, 5),
    }
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
