//! What the gateway is doing, for people and for monitors: `/status` (HTML, no script, a
//! refresh every 10 s), `/status.json`, `/health` (storage up?) and `/metrics`
//! (Prometheus).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use super::{auth, Face};
use crate::daemon::status::PhoneState;

#[derive(Debug, Serialize)]
pub struct Overview {
    pub version: &'static str,
    pub uptime_secs: u64,
    pub storage: String,
    pub outbox: Option<u64>,
    pub sent: u64,
    pub received: u64,
    pub failed: u64,
    pub delivered: u64,
    /// Messages sent per minute since the start.
    pub sent_per_minute: f64,
    pub phones: Vec<PhoneState>,
}

pub async fn overview(face: &Face) -> Overview {
    let phones = face.board.phones();
    let storage = match face.storage.health().await {
        Ok(()) => "up".to_string(),
        Err(e) => format!("down: {e}"),
    };
    let outbox = face.storage.outbox_depth().await.ok().flatten();
    let sum = |f: fn(&PhoneState) -> u64| phones.iter().map(f).sum::<u64>();
    let uptime = face.started.elapsed();
    let sent = sum(|p| p.sent);
    Overview {
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: uptime.as_secs(),
        storage,
        outbox,
        sent,
        received: sum(|p| p.received),
        failed: sum(|p| p.failed),
        delivered: sum(|p| p.delivered),
        sent_per_minute: sent as f64 / (uptime.as_secs_f64() / 60.0).max(1.0 / 60.0),
        phones,
    }
}

/// Whether the status may be shown: `public_status`, or any user's credentials.
fn allowed(face: &Face, headers: &HeaderMap) -> bool {
    face.cfg().http.public_status || auth::from_headers(&face.cfg(), headers).is_some()
}

fn unauthorized() -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "credentials needed\n").into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"smsgw\", charset=\"UTF-8\""),
    );
    r
}

pub async fn health(State(face): State<Arc<Face>>) -> Response {
    match face.storage.health().await {
        Ok(()) => Json(json!({"status": "ok", "storage": "up"})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "down", "storage": e.to_string()})),
        )
            .into_response(),
    }
}

pub async fn json(State(face): State<Arc<Face>>, headers: HeaderMap) -> Response {
    if !allowed(&face, &headers) {
        return unauthorized();
    }
    Json(overview(&face).await).into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn percent(v: i32) -> String {
    if v < 0 {
        "?".into()
    } else {
        format!("{v}%")
    }
}

/// The page itself, from an overview.
pub fn render(o: &Overview) -> String {
    let mut h = String::with_capacity(4096);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"10\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>smsgw status</title><style>\
body{{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
th,td{{padding:.35em .8em;border-bottom:1px solid #ddd;text-align:left}}th{{background:#f4f4f4}}\
.ok{{color:#176f2c;font-weight:600}}.bad{{color:#b00020;font-weight:600}}.n{{text-align:right;font-variant-numeric:tabular-nums}}\
</style></head><body><h1>smsgw {}</h1>",
        o.version
    );
    let up = o.uptime_secs;
    let _ = write!(
        h,
        "<p>Up {}d {:02}:{:02}:{:02} &middot; storage <span class=\"{}\">{}</span> &middot; outbox {} &middot; \
sent {} &middot; received {} &middot; failed {} &middot; delivered {} &middot; {:.1} sent/min</p>",
        up / 86400,
        up / 3600 % 24,
        up / 60 % 60,
        up % 60,
        if o.storage == "up" { "ok" } else { "bad" },
        esc(&o.storage),
        o.outbox.map_or("?".into(), |d| d.to_string()),
        o.sent,
        o.received,
        o.failed,
        o.delivered,
        o.sent_per_minute
    );
    h.push_str("<table><tr><th>Route</th><th>State</th><th>Signal</th><th>Network</th><th>Battery</th><th>Sent</th><th>Received</th><th>Failed</th><th>Delivered</th><th>Limits</th><th>Last error</th></tr>");
    for p in &o.phones {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{}\">{}</td><td class=\"n\">{}</td><td>{} {}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.id),
            if matches!(p.state.as_str(), "connected" | "ready") {
                "ok"
            } else {
                "bad"
            },
            esc(&p.state),
            percent(p.signal),
            esc(&p.network_name),
            esc(&p.network_code),
            percent(p.battery),
            p.sent,
            p.received,
            p.failed,
            p.delivered,
            esc(&p.limits),
            esc(p.error.as_deref().unwrap_or(""))
        );
    }
    if o.phones.is_empty() {
        h.push_str("<tr><td colspan=\"11\">no phones</td></tr>");
    }
    h.push_str("</table><p><a href=\"/status.json\">status.json</a> &middot; <a href=\"/api/v1/openapi.json\">API</a></p></body></html>");
    h
}

pub async fn page(State(face): State<Arc<Face>>, headers: HeaderMap) -> Response {
    if !allowed(&face, &headers) {
        return unauthorized();
    }
    Html(render(&overview(&face).await)).into_response()
}

/// `/metrics` on the API's listener: as the status page, behind credentials unless
/// `public_status`.
pub async fn metrics(State(face): State<Arc<Face>>, headers: HeaderMap) -> Response {
    if !allowed(&face, &headers) {
        return unauthorized();
    }
    metrics_open(State(face)).await
}

/// `/metrics` on `[metrics] listen`, open as it always was.
pub async fn metrics_open(State(face): State<Arc<Face>>) -> Response {
    let text = crate::daemon::metrics::render(&face.board, face.storage.as_ref()).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "smsgw serves /cgi-bin/sendsms, /api/v1, /status, /health and /metrics\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_phones_report() {
        let o = Overview {
            version: "0",
            uptime_secs: 90061,
            storage: "up".into(),
            outbox: Some(3),
            sent: 10,
            received: 2,
            failed: 0,
            delivered: 9,
            sent_per_minute: 0.5,
            phones: vec![PhoneState {
                id: "m<1>".into(),
                state: "connected".into(),
                network_name: "Telia & Co".into(),
                signal: 71,
                battery: -1,
                ..PhoneState::default()
            }],
        };
        let h = render(&o);
        assert!(h.contains("m&lt;1&gt;"));
        assert!(h.contains("Telia &amp; Co"));
        assert!(h.contains("Up 1d 01:01:01"));
        assert!(h.contains("71%"));
        assert!(!h.contains("<script"));
    }
}
