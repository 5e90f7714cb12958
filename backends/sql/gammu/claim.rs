//! Claims: picking due messages, taking each with the guarded lease, checking and
//! renewing the lease, giving back what a dead daemon held.

use super::*;

/// The database's now plus `secs`, as the text a lease is compared by.
pub(super) async fn now_plus(tx: &mut Tx<'_>, secs: i64) -> Result<String> {
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
    // The guarded lease: what keeps a real gammu-smsd (and other smsgw) away. Where an
    // UPDATE can say which rows it changed, one statement takes the whole batch; else one
    // each, counting the rows changed.
    let guarded = format!(
        "(\"SendingTimeOut\" IS NULL OR \"SendingTimeOut\" <= {})",
        d.now()
    );
    let mut won = Vec::new();
    if d.update_returning() {
        let take: Vec<i64> = candidates.iter().copied().take(limit).collect();
        let (in_take, take_args) = d.in_ids("\"ID\"", &take);
        let mut a = vec![Arg::from(&lease)];
        a.extend(take_args);
        let sql = format!(
            "UPDATE outbox SET \"SendingTimeOut\" = {} WHERE {in_take} AND {guarded} RETURNING \"ID\"",
            d.ts_param()
        );
        let changed: std::collections::HashSet<i64> = tx
            .rows(&sql, &a)
            .await?
            .iter()
            .map(|r| int(r, 0, 0))
            .collect();
        // In the order of the pick (best first).
        won.extend(take.into_iter().filter(|id| changed.contains(id)));
    } else {
        let guard = format!(
            "UPDATE outbox SET \"SendingTimeOut\" = {} WHERE \"ID\" = ? AND {guarded}",
            d.ts_param()
        );
        for id in candidates {
            if won.len() >= limit {
                break;
            }
            if tx.exec(&guard, args![&lease, id]).await? == 1 {
                won.push(id);
            }
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
pub(super) async fn leases(tx: &mut Tx<'_>, ids: &[i64]) -> Result<HashMap<i64, Option<String>>> {
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

pub async fn claim_owners(tx: &mut Tx<'_>) -> Result<Vec<String>> {
    Ok(tx
        .rows(
            "SELECT DISTINCT \"Owner\" FROM smsgw_claims UNION SELECT \"Holder\" FROM smsgw_event_leases",
            &[],
        )
        .await?
        .iter()
        .map(|r| text(r, 0))
        .collect())
}

/// Gives back the messages `owners` claimed (daemons that died), while their leases are
/// still the ones those owners set, and their leases on consumers' events.
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
        // A daemon's leases on consumers' events (`host:pid`, where claims are
        // `host:pid:route`).
        tx.exec(
            "DELETE FROM smsgw_event_leases WHERE \"Holder\" = ?",
            args![o],
        )
        .await?;
    }
    Ok(n)
}
