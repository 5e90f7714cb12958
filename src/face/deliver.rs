//! Takes the event log to its readers: `[webhooks]` (JSON, signed), Kannel's `dlr-url` of
//! each message that asked for one, and each SMPP server account (receipts and received
//! messages as deliver_sm) and the AMQP face (vumi events and inbound messages, each
//! confirmed by the broker). Each is a consumer with its own cursor: an event is
//! delivered at least once (its `event_id` is stable, for the peer to deduplicate), the
//! cursor moves only past events delivered or parked for a retry, retries back off from
//! 1 s to 10 min for `retry_hours`, across restarts. A dead peer slows only its own
//! consumer: sending and receiving never wait for it. An SMPP account's consumer waits
//! while the account has no receiving bind (its events stay in the log) and keeps up to
//! `window` deliver_sm in flight; the AMQP consumer waits while the broker is away and
//! keeps `prefetch` messages awaiting the broker's confirm.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::watch;

use crate::config::{Config, Webhooks};
use crate::face::smpp_server::outbound;
use crate::service::{Event, EventKind, Parked, Service, StorageError};

/// Where a consumer's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every event of one kind, to one URL.
    Webhook { kind: EventKind, url: String },
    /// Each message's own `dlr-url`, for the types its `dlr-mask` asks for.
    Dlr,
    /// An SMPP server account: receipts of what it submitted, messages for its phones.
    Smpp { account: String },
    /// The AMQP face: vumi events of what it queued, received messages for its phones.
    Amqp,
}

/// The faces a consumer may hand its events to.
#[derive(Clone, Default)]
pub struct Peers {
    pub smpp: Option<Arc<crate::face::smpp_server::Server>>,
    pub amqp: Option<Arc<crate::face::amqp::Face>>,
}

/// Whether a storage opened with `cfg` must keep the event log: some face or webhook reads
/// it (the daemon's, or the one a CLI command writes for).
pub fn needs_events(cfg: &Config) -> bool {
    !consumers(cfg).is_empty()
}

/// The consumers the config asks for, with their names (the cursor's key).
pub fn consumers(cfg: &Config) -> Vec<(String, Target)> {
    let w = &cfg.webhooks;
    let mut out: Vec<(String, Target)> = [
        (EventKind::Received, &w.received),
        (EventKind::Report, &w.report),
        (EventKind::Sent, &w.sent),
        (EventKind::Failed, &w.failed),
    ]
    .into_iter()
    .filter(|(_, url)| !url.is_empty())
    .map(|(kind, url)| {
        (
            format!("webhook:{}", kind.as_str()),
            Target::Webhook {
                kind,
                url: url.clone(),
            },
        )
    })
    .collect();
    if !cfg.http.listen.is_empty() {
        out.push(("dlr-url".into(), Target::Dlr));
    }
    if cfg.smpp_server.on() {
        for a in &cfg.smpp_server.accounts {
            // A transmitter-only account can take nothing.
            if a.bind_types.iter().any(|t| t != "transmitter") {
                out.push((
                    format!("smpp:{}", a.system_id),
                    Target::Smpp {
                        account: a.system_id.clone(),
                    },
                ));
            }
        }
    }
    if cfg.amqp.on() {
        out.push((format!("amqp:{}", cfg.amqp.transport_name), Target::Amqp));
    }
    out
}

/// The `X-Smsgw-Signature` of a body: `sha256=` and the hex HMAC-SHA256 with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The JSON a webhook gets: the event's body with its id, kind, message and time.
pub fn webhook_body(e: &Event) -> Value {
    let mut body = match &e.body {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    body.insert("event_id".into(), json!(e.id));
    body.insert("event".into(), json!(e.kind.as_str()));
    body.insert("message_id".into(), json!(e.message_id));
    body.insert("at".into(), json!(e.at));
    if let Some(s) = &e.submission {
        body.insert("user".into(), json!(s.owner));
    }
    Value::Object(body)
}

/// Kannel's DLR type for an event, if the mask asks for it: 1 delivered, 2 failed,
/// 4 buffered (a pending report), 8 accepted by the modem or SMSC, 16 rejected.
pub fn dlr_type(e: &Event, mask: u8) -> Option<u8> {
    let t = match e.kind {
        EventKind::Sent => 8,
        EventKind::Failed => {
            if mask & 16 != 0 {
                16
            } else {
                2
            }
        }
        EventKind::Report => match e.body["status"].as_str() {
            Some("delivered") => 1,
            Some("failed") => 2,
            Some("pending") => 4,
            _ => return None,
        },
        EventKind::Queued | EventKind::Received => return None,
    };
    (mask & t != 0).then_some(t)
}

/// Kannel's `dlr-url` with its escapes filled in (each value percent-encoded): `%d` type,
/// `%p` recipient, `%P` sender, `%q`/`%Q` the same with a leading 00 as +, `%t` time,
/// `%T` Unix time, `%A` the report's text, `%i` route (smsc id), `%I` message id, `%F` the
/// SMSC's id of the part, `%k` first word and `%b` text of the message, `%%` a percent.
pub fn dlr_url(template: &str, e: &Event, kind: u8, text: &str) -> String {
    let s = e.submission.clone().unwrap_or_default();
    let to = match e.body["to"].as_str() {
        Some(t) => t.to_string(),
        None => s.to.clone(),
    };
    let plus = |n: &str| match n.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => n.to_string(),
    };
    let now = chrono::Local::now();
    let reply = match kind {
        1 => "DELIVRD".to_string(),
        2 | 16 => format!(
            "NACK/{}",
            e.body["reason"]
                .as_str()
                .or(e.body["status"].as_str())
                .unwrap_or("failed")
        ),
        4 => "BUFFRED".to_string(),
        _ => "ACK/".to_string(),
    };
    let smsc_id = e.body["parts"][0]["smsc_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut out = String::with_capacity(template.len() + 32);
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let value = match chars.next() {
            Some('d') => kind.to_string(),
            Some('p') => to.clone(),
            Some('P') => s.from.clone(),
            Some('q') => plus(&to),
            Some('Q') => plus(&s.from),
            Some('t') => now.format("%Y-%m-%d %H:%M:%S").to_string(),
            Some('T') => now.timestamp().to_string(),
            Some('A') => reply.clone(),
            Some('i') => e.body["route"].as_str().unwrap_or_default().to_string(),
            Some('I') => e.message_id.to_string(),
            Some('F') => smsc_id.clone(),
            Some('k') => text
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string(),
            Some('b') => text.to_string(),
            Some('%') => {
                out.push('%');
                continue;
            }
            Some(other) => {
                // Not ours: left as written.
                out.push('%');
                out.push(other);
                continue;
            }
            None => {
                out.push('%');
                continue;
            }
        };
        out.extend(url_encode(&value));
    }
    out
}

fn url_encode(v: &str) -> impl Iterator<Item = char> + '_ {
    v.bytes().flat_map(|b| {
        let keep = b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
        let s: Vec<char> = if keep {
            vec![b as char]
        } else {
            format!("%{b:02X}").chars().collect()
        };
        s.into_iter()
    })
}

/// One attempt's answer.
enum Tried {
    Done,
    /// Nothing to deliver for this consumer.
    Skip,
    Failed(String),
}

struct Runner {
    name: String,
    target: Target,
    storage: Arc<dyn Service>,
    http: reqwest::Client,
    hooks: Webhooks,
    /// Peers that failed lately, and until when they are not tried (their events are
    /// parked at once).
    down: Mutex<HashMap<String, Instant>>,
    peers: Peers,
    /// Events tried at once (in order of the log).
    parallel: usize,
}

/// Back-off before attempt `n + 1`: 1 s, 2 s, 4 s ... 10 min.
pub fn backoff(attempts: u32) -> u32 {
    1u32.checked_shl(attempts.saturating_sub(1).min(20))
        .unwrap_or(u32::MAX)
        .min(600)
}

/// Attempts that fit in `hours` of back-off.
pub fn max_attempts(hours: u64) -> u32 {
    let mut total = 0u64;
    let mut n = 0u32;
    while total < hours * 3600 {
        n += 1;
        total += u64::from(backoff(n));
    }
    n.max(1)
}

impl Runner {
    fn url_of(&self, e: &Event) -> Option<String> {
        match &self.target {
            Target::Webhook { kind, url } => (e.kind == *kind).then(|| url.clone()),
            Target::Dlr => {
                let s = e.submission.as_ref()?;
                let url = s.dlr_url.as_ref()?;
                dlr_type(e, s.dlr_mask)?;
                Some(url.clone())
            }
            Target::Smpp { .. } | Target::Amqp => None,
        }
    }

    /// An event for an SMPP account: its deliver_sm, if any, to one of its binds.
    async fn try_smpp(&self, account: &str, e: &Event) -> Tried {
        let Some(server) = &self.peers.smpp else {
            return Tried::Skip;
        };
        let cfg = server.cfg();
        let Some(a) = cfg
            .smpp_server
            .accounts
            .iter()
            .find(|a| a.system_id == account)
        else {
            return Tried::Skip;
        };
        match outbound::for_event(a, e, self.storage.as_ref()).await {
            Ok(None) => Tried::Skip,
            Ok(Some((sm, kind))) => match server.push(account, sm).await {
                Ok(()) => {
                    let metric = match kind {
                        outbound::Kind::Receipt => "smsgw_smpp_receipts_total",
                        outbound::Kind::Received => "smsgw_smpp_received_total",
                    };
                    server.board.count(metric, account, 1);
                    Tried::Done
                }
                Err(why) => Tried::Failed(why),
            },
            Err(err) => Tried::Failed(format!("storage: {err}")),
        }
    }

    /// An event for the AMQP face: its vumi event or inbound message, confirmed.
    async fn try_amqp(&self, e: &Event) -> Tried {
        let Some(face) = &self.peers.amqp else {
            return Tried::Skip;
        };
        let cfg = face.cfg();
        let a = &cfg.amqp;
        let ours = e.submission.as_ref().is_some_and(|s| s.face == "amqp");
        if e.kind != EventKind::Received && !ours {
            return Tried::Skip;
        }
        // A report about a message in parts needs its state (one report for the whole).
        let view = if e.kind == EventKind::Report {
            match self.storage.message_view(e.message_id).await {
                Ok(v) => v,
                Err(err) => return Tried::Failed(format!("storage: {err}")),
            }
        } else {
            None
        };
        let Some((flow, body)) =
            crate::face::amqp::vumi::for_event(e, &a.transport_name, &a.receive, view.as_ref())
        else {
            return Tried::Skip;
        };
        match face.publish(flow, &body).await {
            Ok(()) => Tried::Done,
            Err(why) => Tried::Failed(why),
        }
    }

    async fn try_one(&self, e: &Event) -> Tried {
        match &self.target {
            Target::Smpp { account } => return self.try_smpp(account, e).await,
            Target::Amqp => return self.try_amqp(e).await,
            _ => {}
        }
        let Some(url) = self.url_of(e) else {
            return Tried::Skip;
        };
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        if self
            .down
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&host)
            .is_some_and(|until| Instant::now() < *until)
        {
            return Tried::Failed(format!("{host} failed a moment ago"));
        }
        let timeout = Duration::from_secs(self.hooks.timeout);
        let request = match &self.target {
            Target::Webhook { .. } => {
                let body = webhook_body(e).to_string();
                let mut r = self
                    .http
                    .post(&url)
                    .timeout(timeout)
                    .header("content-type", "application/json")
                    .header("x-smsgw-event-id", e.id.to_string())
                    .header("x-smsgw-event", e.kind.as_str());
                if !self.hooks.secret.is_empty() {
                    r = r.header(
                        "x-smsgw-signature",
                        signature(&self.hooks.secret, body.as_bytes()),
                    );
                }
                r.body(body)
            }
            Target::Smpp { .. } | Target::Amqp => return Tried::Skip,
            Target::Dlr => {
                let s = e.submission.clone().unwrap_or_default();
                let kind = dlr_type(e, s.dlr_mask).unwrap_or(0);
                let text = if url.contains("%k") || url.contains("%b") {
                    match self.storage.message_view(e.message_id).await {
                        Ok(Some(v)) => v.text,
                        _ => String::new(),
                    }
                } else {
                    String::new()
                };
                self.http
                    .get(dlr_url(&url, e, kind, &text))
                    .timeout(timeout)
            }
        };
        match request.send().await {
            Ok(r) if r.status().is_success() => Tried::Done,
            Ok(r) => self.failed(host, format!("HTTP {}", r.status())),
            Err(err) => {
                // The URL may hold credentials (a dlr-url's): never in the log.
                let err = err.without_url();
                let why = if err.is_timeout() {
                    format!("no answer within {timeout:?}")
                } else {
                    format!("{err}")
                };
                self.failed(host, why)
            }
        }
    }

    fn failed(&self, host: String, why: String) -> Tried {
        self.down
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(host, Instant::now() + Duration::from_secs(1));
        Tried::Failed(why)
    }

    /// One round: new events after `cursor`, then due retries. Whether anything was done.
    async fn round(
        &mut self,
        cursor: &mut i64,
        gap: &mut Option<(i64, Instant)>,
    ) -> Result<bool, StorageError> {
        let events = self.storage.events_after(*cursor, 500).await?;
        let mut parked = Vec::new();
        let mut next = *cursor;
        let mut worked = false;
        // A server may commit a later event before an earlier one (two transactions): wait
        // up to 5 s at a gap before passing it (a rolled-back one never fills).
        let mut take = 0;
        for e in &events {
            if e.id != next + 1 {
                match gap {
                    Some((at, since))
                        if *at == next + 1 && since.elapsed() > Duration::from_secs(5) => {}
                    Some((at, _)) if *at == next + 1 => break,
                    _ => {
                        *gap = Some((next + 1, Instant::now()));
                        break;
                    }
                }
            }
            *gap = None;
            next = e.id;
            take += 1;
        }
        let mut attempts = Vec::with_capacity(take);
        for e in &events[..take] {
            attempts.push(self.try_one(e));
        }
        let tried: Vec<Tried> = futures_util::stream::iter(attempts)
            .buffered(self.parallel)
            .collect()
            .await;
        for (e, t) in events.iter().zip(tried) {
            match t {
                Tried::Done => worked = true,
                Tried::Skip => {}
                Tried::Failed(why) => {
                    tracing::info!(consumer = %self.name, event = e.id, "cannot deliver now: {why} (retried in 1 s)");
                    parked.push(Parked {
                        event_id: e.id,
                        attempts: 1,
                        delay_secs: backoff(1),
                        error: why,
                    });
                }
            }
        }
        if next != *cursor || !parked.is_empty() {
            self.storage
                .event_progress(&self.name, next, &parked, &[])
                .await?;
            worked = true;
            *cursor = next;
        }
        let due = self.storage.due_retries(&self.name, 50).await?;
        if !due.is_empty() {
            let limit = max_attempts(self.hooks.retry_hours);
            let (mut again, mut ended) = (Vec::new(), Vec::new());
            for (e, attempts) in &due {
                match self.try_one(e).await {
                    Tried::Done | Tried::Skip => ended.push(e.id),
                    Tried::Failed(why) if attempts + 1 >= limit => {
                        tracing::warn!(consumer = %self.name, event = e.id, attempts = attempts + 1, "given up after {} hours: {why}", self.hooks.retry_hours);
                        ended.push(e.id);
                    }
                    Tried::Failed(why) => again.push(Parked {
                        event_id: e.id,
                        attempts: attempts + 1,
                        delay_secs: backoff(attempts + 1),
                        error: why,
                    }),
                }
            }
            self.storage
                .event_progress(&self.name, *cursor, &again, &ended)
                .await?;
            worked = true;
        }
        Ok(worked)
    }
}

/// How long a daemon's lease on a consumer's events lasts, and how often it is renewed.
const LEASE_SECS: u32 = 30;
const LEASE_RENEW: Duration = Duration::from_secs(10);

/// Runs one consumer until `stop`; `poll` is how often an idle consumer looks for events.
pub async fn run(
    name: String,
    target: Target,
    storage: Arc<dyn Service>,
    hooks: Webhooks,
    peers: Peers,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let http = match reqwest::Client::builder()
        .user_agent(concat!("smsgw/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(consumer = %name, "cannot make an HTTP client: {e}");
            return;
        }
    };
    let parallel = match (&target, &peers.smpp, &peers.amqp) {
        (Target::Smpp { .. }, Some(s), _) => s.cfg().smpp_server.window,
        (Target::Amqp, _, Some(a)) => usize::from(a.cfg().amqp.prefetch),
        _ => 1,
    };
    let mut r = Runner {
        name,
        target,
        storage,
        http,
        hooks,
        down: Mutex::default(),
        peers,
        parallel,
    };
    let mut cursor = loop {
        match r.storage.event_cursor(&r.name).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(consumer = %r.name, "event log: {e} (trying again)");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = crate::face::http::stopped(&mut stop) => return,
                }
            }
        }
    };
    tracing::info!(consumer = %r.name, cursor, "delivering events");
    // Daemons sharing one database deliver each consumer's events from one of them.
    let holder = format!(
        "{}:{}",
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    );
    let mut lease_until: Option<Instant> = None;
    let mut told_held = false;
    // Woken by this process's commits that append events; the poll finds other processes'.
    let mut appended = r.storage.events_appended();
    let mut gap = None;
    loop {
        // An SMPP account's events wait in the log while no bind can take them.
        if let (Target::Smpp { account }, Some(server)) = (&r.target, &r.peers.smpp) {
            if !server.until_receiver(account, &mut stop).await {
                return;
            }
        }
        // The AMQP face's, while the broker is away.
        if let (Target::Amqp, Some(face)) = (&r.target, &r.peers.amqp) {
            if !face.until_connected(&mut stop).await {
                return;
            }
        }
        if lease_until.is_none_or(|t| Instant::now() >= t) {
            match r.storage.lease_events(&r.name, &holder, LEASE_SECS).await {
                Ok(true) => {
                    lease_until = Some(Instant::now() + LEASE_RENEW);
                    if told_held {
                        tracing::info!(consumer = %r.name, "delivering events (the other daemon's lease ran out)");
                        told_held = false;
                        // Where the other daemon left off.
                        if let Ok(c) = r.storage.event_cursor(&r.name).await {
                            cursor = cursor.max(c);
                        }
                    }
                }
                Ok(false) => {
                    if !told_held {
                        tracing::info!(consumer = %r.name, "another daemon on this database delivers these events; taking over if it stops for {LEASE_SECS} s");
                        told_held = true;
                    }
                    lease_until = None;
                    tokio::select! {
                        _ = tokio::time::sleep(LEASE_RENEW / 2) => {}
                        () = crate::face::http::stopped(&mut stop) => return,
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(consumer = %r.name, "event log lease: {e}");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = crate::face::http::stopped(&mut stop) => return,
                    }
                    continue;
                }
            }
        }
        let worked = tokio::select! {
            w = r.round(&mut cursor, &mut gap) => w,
            () = crate::face::http::stopped(&mut stop) => return,
        };
        let pause = match worked {
            Ok(true) => continue,
            Ok(false) if gap.is_some() => Duration::from_millis(100),
            Ok(false) => poll,
            Err(e) => {
                tracing::warn!(consumer = %r.name, "event log: {e}");
                Duration::from_secs(1)
            }
        };
        let woken = async {
            match appended.as_mut() {
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            () = woken => {}
            () = crate::face::http::stopped(&mut stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Submission;

    fn event(kind: EventKind, body: Value) -> Event {
        Event {
            id: 7,
            kind,
            message_id: 42,
            body,
            at: "2026-12-07 10:00:00".into(),
            submission: Some(Submission {
                face: "http".into(),
                owner: "shop".into(),
                idempotency_key: None,
                from: "0047123".into(),
                dlr_url: Some("x".into()),
                dlr_mask: 31,
                to: "+47900".into(),
            }),
        }
    }

    #[test]
    fn dlr_types_follow_the_mask() {
        let sent = event(EventKind::Sent, json!({"to": "+47900", "route": "m1"}));
        assert_eq!(dlr_type(&sent, 31), Some(8));
        assert_eq!(dlr_type(&sent, 1), None);
        let rep = event(EventKind::Report, json!({"status": "delivered"}));
        assert_eq!(dlr_type(&rep, 1), Some(1));
        let pend = event(EventKind::Report, json!({"status": "pending"}));
        assert_eq!(dlr_type(&pend, 4), Some(4));
        let failed = event(EventKind::Failed, json!({"reason": "x"}));
        assert_eq!(dlr_type(&failed, 2), Some(2));
        assert_eq!(dlr_type(&failed, 18), Some(16));
    }

    #[test]
    fn kannel_escapes_are_filled_in_and_encoded() {
        let e = event(
            EventKind::Sent,
            json!({"to": "0047900 1", "route": "m1", "parts": [{"smsc_id": "ab"}]}),
        );
        let url = dlr_url(
            "http://app/dlr?type=%d&to=%p&from=%P&q=%q&Q=%Q&id=%I&smsc=%i&a=%A&f=%F&k=%k&pct=%%&z=%z",
            &e,
            8,
            "hello world",
        );
        assert_eq!(
            url,
            "http://app/dlr?type=8&to=0047900%201&from=0047123&q=%2B47900%201&Q=%2B47123&id=42&smsc=m1&a=ACK%2F&f=ab&k=hello&pct=%&z=%z"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_back_off_to_ten_minutes_for_the_hours_asked() {
        assert_eq!((backoff(1), backoff(2), backoff(3)), (1, 2, 4));
        assert_eq!(backoff(30), 600);
        let n = max_attempts(24);
        let total: u64 = (1..=n).map(|a| u64::from(backoff(a))).sum();
        assert!((24 * 3600..24 * 3600 + 600).contains(&total), "{n} {total}");
    }
}
