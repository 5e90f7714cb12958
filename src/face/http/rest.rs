//! The JSON API under `/api/v1` (described by `openapi.json`, served at
//! `/api/v1/openapi.json`): queue messages (with `Idempotency-Key`), see where each stands,
//! cancel one, page through them and through the inbox, see the phones. HTTP basic with a
//! `[[http.user]]`'s name and password, or `Authorization: Bearer <token>`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{auth, Face};
use crate::config::HttpUser;
use crate::face::submit::{self, Body, Caller, Request, SubmitError};
use crate::service::Submission;

/// The OpenAPI 3 document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<Arc<Face>> {
    Router::new()
        .route("/api/v1/messages", get(list).post(create))
        .route("/api/v1/messages/{id}", get(show).delete(cancel))
        .route("/api/v1/inbox", get(inbox))
        .route("/api/v1/phones", get(phones))
        .route("/api/v1/openapi.json", get(openapi))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn unauthorized() -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "credentials needed: HTTP basic with an [[http.user]]'s name and password, or Authorization: Bearer <token>",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"smsgw\", charset=\"UTF-8\""),
    );
    r
}

/// The user the request's credentials name (`None`: answer [`unauthorized`]).
fn user(face: &Face, headers: &HeaderMap) -> Option<HttpUser> {
    auth::from_headers(&face.cfg(), headers).cloned()
}

/// `POST /api/v1/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMessage {
    to: Recipients,
    text: String,
    #[serde(default)]
    unicode: bool,
    #[serde(default)]
    flash: bool,
    report: Option<bool>,
    /// Minutes.
    validity: Option<u32>,
    /// RFC 3339 (`2026-12-07T10:00:00+01:00`).
    send_at: Option<String>,
    route: Option<String>,
    #[serde(default)]
    priority: i32,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Recipients {
    One(String),
    Many(Vec<String>),
}

async fn create(State(face): State<Arc<Face>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(user) = user(&face, &headers) else {
        return unauthorized();
    };
    let m: NewMessage = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("body: {e}")),
    };
    let delay_secs = match &m.send_at {
        None => 0,
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(at) => {
                let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
                secs.clamp(0, i64::from(u32::MAX)) as u32
            }
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "send_at {t:?} is not an RFC 3339 time (2026-12-07T10:00:00+01:00): {e}"
                    ),
                )
            }
        },
    };
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.is_empty() && k.len() <= 200 => Some(k.to_string()),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
        }
    };
    let req = Request {
        to: match m.to {
            Recipients::One(t) => vec![t],
            Recipients::Many(t) => t,
        },
        body: Body::Text(m.text),
        unicode: m.unicode,
        class: m.flash.then_some(0),
        report: m.report,
        validity: m.validity.map(|v| Duration::from_secs(u64::from(v) * 60)),
        delay_secs,
        route: m.route,
        udh: None,
        priority: m.priority,
    };
    if let Err(wait) = face.limits.take(&user.name, user.rate, req.to.len()) {
        let r = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!("more than {} messages per second", user.rate),
        );
        return auth::retry_after(r, wait);
    }
    let how = Submission {
        face: "http".into(),
        to: String::new(),
        owner: user.name.clone(),
        idempotency_key: key,
        from: String::new(),
        dlr_url: None,
        dlr_mask: 0,
    };
    let caller = Caller {
        routes: &user.routes,
        max_parts: face.cfg().http.max_parts,
    };
    match submit::submit(face.storage.as_ref(), &face.cfg(), &caller, &req, &how).await {
        Ok(done) => {
            if !done.repeated {
                face.poke();
            }
            let mut r = (
                StatusCode::ACCEPTED,
                Json(json!({
                    "id": done.ids.first(),
                    "ids": done.ids,
                    "status": "queued",
                })),
            )
                .into_response();
            if done.repeated {
                r.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            r
        }
        Err(e) => {
            let status = match &e {
                SubmitError::RouteNotAllowed(_) => StatusCode::FORBIDDEN,
                SubmitError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(target: "smsgw::http", "POST /api/v1/messages: {e}");
            }
            error(status, e.to_string())
        }
    }
}

/// The message if `user` may see it (its own).
async fn owned(
    face: &Face,
    user: &HttpUser,
    id: &str,
) -> Result<crate::service::MessageView, Box<Response>> {
    let not_found = || Box::new(error(StatusCode::NOT_FOUND, format!("no message {id}")));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    match face.storage.message_view(id).await {
        Ok(Some(v)) if v.owner.as_deref() == Some(user.name.as_str()) => Ok(v),
        Ok(_) => Err(not_found()),
        Err(e) => Err(Box::new(error(
            StatusCode::SERVICE_UNAVAILABLE,
            e.to_string(),
        ))),
    }
}

async fn show(
    State(face): State<Arc<Face>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user(&face, &headers) else {
        return unauthorized();
    };
    match owned(&face, &user, &id).await {
        Ok(v) => Json(v).into_response(),
        Err(r) => *r,
    }
}

async fn cancel(
    State(face): State<Arc<Face>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user(&face, &headers) else {
        return unauthorized();
    };
    let v = match owned(&face, &user, &id).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if v.status != "queued" {
        return error(
            StatusCode::CONFLICT,
            format!(
                "message {} is {}: only a queued message can be cancelled",
                v.id, v.status
            ),
        );
    }
    let reason = format!("cancelled by {} (HTTP API)", user.name);
    match face.storage.cancel_outbox(v.id, &reason).await {
        Ok(true) => Json(json!({"id": v.id, "status": "cancelled"})).into_response(),
        Ok(false) => error(
            StatusCode::CONFLICT,
            format!("message {} left the queue meanwhile", v.id),
        ),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    /// Queued at or after this local time (`YYYY-MM-DD[ HH:MM:SS]`).
    since: Option<String>,
    /// The `next` of the previous page.
    cursor: Option<i64>,
    limit: Option<usize>,
}

const STATUSES: [&str; 6] = [
    "queued",
    "sending",
    "sent",
    "delivered",
    "failed",
    "cancelled",
];

async fn list(
    State(face): State<Arc<Face>>,
    headers: HeaderMap,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(user) = user(&face, &headers) else {
        return unauthorized();
    };
    let Query(q) = match q {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("status {s:?} is not one of {}", STATUSES.join(", ")),
        );
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let mut cursor = q.cursor.unwrap_or(0);
    let mut out = Vec::new();
    // Filters apply to each page of ids; a page may come back short, `next` goes on.
    let ids = match face.storage.submissions(&user.name, cursor, limit).await {
        Ok(ids) => ids,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    let full = ids.len() == limit;
    for id in ids {
        cursor = id;
        match face.storage.message_view(id).await {
            Ok(Some(v)) => {
                let keep = q.status.as_deref().is_none_or(|s| v.status == s)
                    && q.since.as_deref().is_none_or(|s| v.queued_at.as_str() >= s);
                if keep {
                    out.push(v);
                }
            }
            Ok(None) => {}
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        }
    }
    Json(json!({"messages": out, "next": full.then_some(cursor)})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxQuery {
    since_id: Option<i64>,
    limit: Option<usize>,
}

async fn inbox(
    State(face): State<Arc<Face>>,
    headers: HeaderMap,
    q: Result<Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if user(&face, &headers).is_none() {
        return unauthorized();
    }
    let Query(q) = match q {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    match face
        .storage
        .inbox_after(q.since_id.unwrap_or(0), limit)
        .await
    {
        Ok(rows) => {
            let next = (rows.len() == limit)
                .then(|| rows.last().map(|r| r.id))
                .flatten();
            let messages: Vec<_> = rows
                .iter()
                .map(|r| {
                    json!({"id": r.id, "received": r.received, "from": r.sender,
                           "phone": r.phone, "udh": r.udh, "text": r.text})
                })
                .collect();
            Json(json!({"messages": messages, "next": next})).into_response()
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

async fn phones(State(face): State<Arc<Face>>, headers: HeaderMap) -> Response {
    if user(&face, &headers).is_none() {
        return unauthorized();
    }
    Json(json!({"phones": face.board.phones()})).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
