//! `kind = "nav"`: NAV's SMS alert queue, `profiles.smsq` in NAV's PostgreSQL database, in
//! place of NAV's smsd (facts: reference/nav-smsd.md).
//!
//! The queued alerts of one phone (`sent = 'N'`, most severe first, then oldest) become one
//! SMS ([`combine`]); its rows are marked `Y` (sent) or `I` (left out, "see web"), with
//! `smsid` and `timesent`, as NAV does. A claim is a transaction holding a transaction-scoped
//! advisory lock on the phone for the whole dispatch (smsq has no lease column): a second
//! smsgw skips that phone, and if this one dies the lock goes with its connection and the
//! rows are still `N`. A phone whose SMS failed waits NAV's backoff (`delay`, times
//! `delay_factor` per failure, at most `max_delay`) without holding up the other phones
//! (an SMS whose outcome is unknown, a gateway timeout, is sent again once, then its alerts
//! are marked ignored rather than risk more copies);
//! alerts older than `expire_after` are cancelled one by one (NAV instead ignored the whole
//! queue after five failed scans). `autocancel` cancels old alerts once at start, as NAV.
//! Cancelled rows get `sent = 'I'` and no `timesent`, as NAV's cancel does.
//!
//! NAV's schema is NAV's (`navsyncdb` owns it): nothing is created or altered. The queue is
//! polled with `sent = 'N'`; on a large table an index helps (see the README):
//! `CREATE INDEX smsq_unsent ON profiles.smsq (phone) WHERE sent = 'N'`.

pub mod combine;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::{Postgres, Row, Transaction};

use crate::config::Storage as StorageConfig;
use crate::service::*;

/// The first key of our advisory locks (`hashtext('smsgw.nav')` is computed by the server).
const LOCK_SPACE: &str = "smsgw.nav";
/// How often expired alerts are looked for.
const EXPIRE_EVERY: Duration = Duration::from_secs(60);
/// Tries whose outcome was unknown (a gateway timeout: the SMS may have gone out) that are
/// sent again; after that the alerts are marked ignored rather than risk more copies.
const MAX_UNKNOWN: u32 = 1;

/// A phone's SMS being dispatched.
struct Claim {
    tx: Transaction<'static, Postgres>,
    phone: String,
    sent: Vec<i64>,
    ignored: Vec<i64>,
    /// NAV's `smsid`: the modem's TP-MR, else 0.
    smsid: i32,
}

/// A phone whose last SMS failed.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    until: Instant,
    delay: f64,
    /// Tries in a row whose outcome was unknown (the SMS may have gone out).
    unknown: u32,
}

/// NAV's alert queue.
pub struct Nav {
    pool: sqlx::PgPool,
    label: String,
    delay: f64,
    factor: f64,
    max_delay: f64,
    autocancel: String,
    expire_after: String,
    claims: tokio::sync::Mutex<HashMap<i64, Claim>>,
    backoff: Mutex<HashMap<String, Backoff>>,
    last_expiry: Mutex<Option<Instant>>,
    seen: Mutex<(i64, i64)>,
}

fn db(e: sqlx::Error) -> StorageError {
    crate::backends::sql::server::db(e)
}

impl Nav {
    /// Connects lazily to NAV's database (user and database `nav` unless configured).
    pub fn connect(cfg: &StorageConfig) -> Result<Nav> {
        let password = crate::backends::sql::server::password(cfg).map_err(StorageError::Config)?;
        let (pool, _, label, _) =
            crate::backends::sql::server::pg_pool(cfg, password, "nav", "nav")?;
        Ok(Nav {
            pool,
            label,
            delay: cfg.delay.max(1) as f64,
            factor: cfg.delay_factor.max(1.0),
            max_delay: cfg.max_delay.max(cfg.delay.max(1)) as f64,
            autocancel: cfg.autocancel.trim().to_string(),
            expire_after: cfg.expire_after.trim().to_string(),
            claims: tokio::sync::Mutex::new(HashMap::new()),
            backoff: Mutex::new(HashMap::new()),
            last_expiry: Mutex::new(None),
            seen: Mutex::new((-1, -1)),
        })
    }

    /// Where the queue is, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Checks that `text` is a PostgreSQL interval.
    async fn check_interval(&self, key: &str, text: &str) -> Result<()> {
        sqlx::query("SELECT $1::interval")
            .bind(text)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                sqlx::Error::Database(_) => StorageError::Config(format!(
                    "storage.{key} = {text:?} is not a PostgreSQL interval (e.g. \"1 day 12 hours\", \"30 min\")"
                )),
                e => db(e),
            })
    }

    /// Cancels `N` alerts queued longer than `interval` ago; returns how many.
    async fn cancel_older(&self, interval: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE profiles.smsq SET sent = 'I' WHERE sent = 'N' AND time < LOCALTIMESTAMP - $1::interval",
        )
        .bind(interval)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    /// Cancels expired alerts, at most once a minute.
    async fn expire(&self) -> Result<()> {
        if self.expire_after.is_empty() {
            return Ok(());
        }
        {
            let mut last = self.last_expiry.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < EXPIRE_EVERY) {
                return Ok(());
            }
            *last = Some(Instant::now());
        }
        let n = self.cancel_older(&self.expire_after).await?;
        if n > 0 {
            tracing::warn!(
                cancelled = n,
                expire_after = %self.expire_after,
                "alerts could not be sent before they expired: marked ignored (sent = 'I')"
            );
        }
        Ok(())
    }

    fn waiting(&self, phone: &str) -> bool {
        self.backoff
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(phone)
            .is_some_and(|b| b.until > Instant::now())
    }

    /// Tries to claim one phone's alerts.
    async fn claim_phone(&self, phone: &str) -> Result<Option<(Outgoing, Claim)>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2))")
                .bind(LOCK_SPACE)
                .bind(phone)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        if !locked {
            return Ok(None);
        }
        // Read after the lock: a dispatch that just committed is seen.
        let rows = sqlx::query(
            "SELECT id::bigint, msg, time::text FROM profiles.smsq WHERE phone = $1 AND sent = 'N' \
             ORDER BY severity ASC NULLS LAST, time ASC, id ASC",
        )
        .bind(phone)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut alerts = Vec::with_capacity(rows.len());
        let mut first_time = String::new();
        for r in &rows {
            let id: i64 = r.try_get(0).map_err(db)?;
            let msg: String = r.try_get(1).map_err(db)?;
            if first_time.is_empty() {
                first_time = r.try_get(2).map_err(db)?;
            }
            alerts.push((id, msg));
        }
        let c = combine::combine(&alerts);
        let id = c.sent.first().copied().unwrap_or(alerts[0].0);
        let coding = if crate::pdu::gsm7::is_gsm7(&c.text) {
            Coding::Default
        } else {
            Coding::Unicode
        };
        let out = Outgoing {
            id,
            name: id.to_string(),
            destination: phone.to_string(),
            sender_id: None,
            creator_id: "NAV".into(),
            parts: vec![OutPart {
                seq: 1,
                text_hex: None,
                text_decoded: Some(c.text),
                coding: Some(coding),
                udh_hex: None,
                class: -1,
                already_sent: false,
            }],
            relative_validity: -1,
            delivery_report: ReportRequest::Default,
            retries: 0,
            priority: 0,
            inserted: first_time,
            lease: "nav".into(),
        };
        let claim = Claim {
            tx,
            phone: phone.to_string(),
            sent: c.sent,
            ignored: c.ignored,
            smsid: 0,
        };
        Ok(Some((out, claim)))
    }

    /// Marks `ids` with `state`, `smsid` and `timesent` (cancelled rows: `state` only).
    async fn mark(
        tx: &mut Transaction<'static, Postgres>,
        ids: &[i64],
        state: &str,
        smsid: Option<i32>,
    ) -> std::result::Result<(), sqlx::Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let q = match smsid {
            Some(smsid) => sqlx::query(
                "UPDATE profiles.smsq SET sent = $1, smsid = $2, timesent = LOCALTIMESTAMP WHERE id = ANY($3) AND sent = 'N'",
            )
            .bind(state)
            .bind(smsid)
            .bind(ids),
            None => sqlx::query(
                "UPDATE profiles.smsq SET sent = $1 WHERE id = ANY($2) AND sent = 'N'",
            )
            .bind(state)
            .bind(ids),
        };
        q.execute(&mut **tx).await.map(|_| ())
    }

    /// Makes `phone` wait: `wait`, or NAV's growing delay. Returns how many tries in a row
    /// ended with an unknown outcome, this one included when `maybe_sent`.
    fn back_off(&self, phone: &str, wait: Option<Duration>, maybe_sent: bool) -> u32 {
        let mut map = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        let prev = map.get(phone).copied();
        let delay = match (wait, prev) {
            (Some(w), _) => w.as_secs_f64(),
            (None, Some(b)) => (b.delay * self.factor).min(self.max_delay),
            (None, None) => self.delay,
        };
        let unknown = if maybe_sent {
            prev.map_or(0, |b| b.unknown) + 1
        } else {
            0
        };
        map.insert(
            phone.to_string(),
            Backoff {
                until: Instant::now() + Duration::from_secs_f64(delay),
                delay: if wait.is_some() { self.delay } else { delay },
                unknown,
            },
        );
        unknown
    }
}

#[async_trait]
impl Service for Nav {
    async fn init(&self) -> Result<()> {
        match sqlx::query("SELECT id, phone, msg, sent, smsid, timesent, severity, time FROM profiles.smsq LIMIT 0")
            .execute(&self.pool)
            .await
        {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) => {
                return Err(StorageError::Schema(format!(
                    "{}: no usable profiles.smsq table ({}): is this NAV's database, set up by navsyncdb?",
                    self.label,
                    e.message()
                )))
            }
            Err(e) => return Err(db(e)),
        }
        for (key, value) in [
            ("autocancel", &self.autocancel),
            ("expire_after", &self.expire_after),
        ] {
            if !value.is_empty() && value != "0" {
                self.check_interval(key, value).await?;
            }
        }
        if !self.autocancel.is_empty() && self.autocancel != "0" {
            let n = self.cancel_older(&self.autocancel).await?;
            tracing::warn!(cancelled = n, autocancel = %self.autocancel, "autocancel: old alerts marked ignored");
        }
        Ok(())
    }

    async fn health(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db)
    }

    async fn create_outbox(&self, msg: &NewMessage) -> Result<i64> {
        let mut text: String = msg.parts.iter().map(|p| p.text_decoded.as_str()).collect();
        // As NAV's model does: smsq.msg holds 145 characters.
        if text.chars().count() > 145 {
            text = text.chars().take(142).collect::<String>() + "...";
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO profiles.smsq (time, phone, msg, sent) VALUES (LOCALTIMESTAMP, $1, $2, 'N') RETURNING id::bigint",
        )
        .bind(&msg.destination)
        .bind(&text)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(id)
    }

    async fn claim_outbox(
        &self,
        _owner: &str,
        _routes: &[String],
        limit: usize,
        _lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        self.expire().await?;
        // Phones with the most severe (then oldest) alert first.
        let phones: Vec<String> = sqlx::query_scalar(
            "SELECT phone FROM profiles.smsq WHERE sent = 'N' GROUP BY phone \
             ORDER BY min(coalesce(severity, 2147483647)), min(time)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut claims = self.claims.lock().await;
        let mut out = Vec::new();
        for phone in phones {
            if out.len() >= limit {
                break;
            }
            if self.waiting(&phone) || claims.values().any(|c| c.phone == phone) {
                continue;
            }
            if let Some((o, claim)) = self.claim_phone(&phone).await? {
                claims.insert(o.id, claim);
                out.push(o);
            }
        }
        Ok(out)
    }

    async fn split_outbox(&self, out: &Outgoing, parts: &[NewPart]) -> Result<Outgoing> {
        // smsq has one row per alert, not per part: the parts live with the claim.
        let mut split = out.clone();
        split.parts = parts
            .iter()
            .enumerate()
            .map(|(i, p)| OutPart {
                seq: i as u32 + 1,
                text_hex: p.text_hex.clone(),
                text_decoded: Some(p.text_decoded.clone()),
                coding: Some(p.coding),
                udh_hex: p.udh_hex.clone(),
                class: p.class,
                already_sent: false,
            })
            .collect();
        Ok(split)
    }

    async fn outbox_depth(&self) -> Result<Option<u64>> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles.smsq WHERE sent = 'N'")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(Some(n.max(0) as u64))
    }

    async fn renew_claim(&self, out: &mut Outgoing, _lease_secs: u32) -> Result<()> {
        // The advisory lock lasts as long as the claim's transaction.
        if self.claims.lock().await.contains_key(&out.id) {
            Ok(())
        } else {
            Err(StorageError::LostClaim(out.id))
        }
    }

    async fn record_sent(&self, out: &Outgoing, _seq: u32, result: &PartResult) -> Result<()> {
        let PartResult::Sent { tpmr, .. } = result;
        let mut claims = self.claims.lock().await;
        let claim = claims
            .get_mut(&out.id)
            .ok_or(StorageError::LostClaim(out.id))?;
        if let Some(mr) = tpmr {
            claim.smsid = i32::from(*mr);
        }
        Ok(())
    }

    async fn finish_outbox(
        &self,
        out: &Outgoing,
        outcome: &Outcome,
        retry_after_secs: u32,
    ) -> Result<()> {
        let claim = self.claims.lock().await.remove(&out.id);
        let Some(mut claim) = claim else {
            return Err(StorageError::LostClaim(out.id));
        };
        match outcome {
            Outcome::Sent => {
                let smsid = Some(claim.smsid);
                let marked = async {
                    Self::mark(&mut claim.tx, &claim.sent, "Y", smsid).await?;
                    Self::mark(&mut claim.tx, &claim.ignored, "I", smsid).await?;
                    claim.tx.commit().await
                }
                .await;
                self.backoff
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&claim.phone);
                if let Err(e) = marked {
                    // The SMS is out: mark the rows on a fresh connection rather than let
                    // them be sent again.
                    tracing::warn!(phone = %claim.phone, "cannot mark the sent alerts in the claim's transaction ({e}); marking them again");
                    let mut tx = self.pool.begin().await.map_err(db)?;
                    Self::mark(&mut tx, &claim.sent, "Y", smsid)
                        .await
                        .map_err(db)?;
                    Self::mark(&mut tx, &claim.ignored, "I", smsid)
                        .await
                        .map_err(db)?;
                    tx.commit().await.map_err(db)?;
                }
            }
            Outcome::Retry {
                reason, maybe_sent, ..
            } => {
                if self.back_off(&claim.phone, None, *maybe_sent) > MAX_UNKNOWN {
                    // Sent again once already without an answer: a third copy would be
                    // worse than none.
                    let all: Vec<i64> = claim.sent.iter().chain(&claim.ignored).copied().collect();
                    tracing::error!(phone = %claim.phone, ids = ?all, "alerts may have been delivered (twice no answer): marked ignored, not sent again: {reason}");
                    Self::mark(&mut claim.tx, &all, "I", None)
                        .await
                        .map_err(db)?;
                    claim.tx.commit().await.map_err(db)?;
                    self.backoff
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&claim.phone);
                } else {
                    let _ = claim.tx.rollback().await;
                    tracing::warn!(phone = %claim.phone, "alerts not sent, tried again after NAV's backoff: {reason}");
                }
            }
            Outcome::Release { .. } => {
                let _ = claim.tx.rollback().await;
                self.back_off(
                    &claim.phone,
                    Some(Duration::from_secs(u64::from(retry_after_secs))),
                    false,
                );
            }
            Outcome::Failed { reason, .. } => {
                let all: Vec<i64> = claim.sent.iter().chain(&claim.ignored).copied().collect();
                tracing::error!(phone = %claim.phone, ids = ?all, "alerts cannot be sent, marked ignored: {reason}");
                Self::mark(&mut claim.tx, &all, "I", None)
                    .await
                    .map_err(db)?;
                claim.tx.commit().await.map_err(db)?;
            }
        }
        Ok(())
    }

    async fn save_inbox(
        &self,
        _parts: &[InboxPart],
        _consumed: &[PendingPart],
    ) -> Result<Vec<String>> {
        Err(StorageError::Data(
            "NAV's queue keeps no received messages: they stay on the SIM (set receive = false on the phone)".into(),
        ))
    }

    async fn stash_part(&self, _part: &PendingPart) -> Result<()> {
        Err(StorageError::Data(
            "NAV's queue keeps no received messages".into(),
        ))
    }

    async fn outbox_changed(&self) -> Result<bool> {
        let row = sqlx::query("SELECT count(*)::bigint, coalesce(max(id), 0)::bigint FROM profiles.smsq WHERE sent = 'N'")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let now: (i64, i64) = (row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let changed = *seen != now && now.0 > 0;
        *seen = now;
        Ok(changed)
    }
}
