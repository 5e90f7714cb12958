//! Kannel's `/cgi-bin/sendsms`, answered as Kannel answers it, so that an application
//! written for Kannel's smsbox switches by changing a host name. Parameters by GET query
//! or POST form (or a POST query with the text as its body); the texts of the answers are
//! Kannel's (`0: Accepted for delivery`, `Authorization failed for sendsms`, `Missing
//! receiver number, rejected`). The delivery reports go to `dlr-url` (`face::deliver`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{auth, Face};
use crate::face::submit::{self, Body, Caller, Request, SubmitError};
use crate::service::Submission;

/// The parameters as Kannel reads them: raw bytes after percent-decoding (the text may be
/// in any charset, or binary).
struct Params(Vec<(String, Vec<u8>)>);

impl Params {
    /// Raw bytes after percent-decoding (`+` is a space): the text may be in any charset
    /// or binary, and so may the udh.
    fn raw(query: &[u8]) -> Params {
        let mut out = Vec::new();
        for pair in query.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let mut it = pair.splitn(2, |&b| b == b'=');
            let k = percent_decode(it.next().unwrap_or_default());
            let v = percent_decode(it.next().unwrap_or_default());
            out.push((String::from_utf8_lossy(&k).into_owned(), v));
        }
        Params(out)
    }

    fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    fn bytes(&self, names: &[&str]) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(_, v)| v.as_slice())
    }

    fn text(&self, names: &[&str]) -> Option<String> {
        self.bytes(names)
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
    }

    fn number(&self, name: &str) -> Result<Option<i64>, String> {
        match self.text(&[name]) {
            None => Ok(None),
            Some(t) if t.is_empty() => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|_| format!("Invalid {name} value {t:?}, rejected")),
        }
    }
}

/// Percent-decoding as a query string is read (`+` is a space); a broken escape is kept.
pub(super) fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                let hex = std::str::from_utf8(&s[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    let mut r = (status, text.into()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

pub async fn sendsms_get(State(face): State<Arc<Face>>, RawQuery(q): RawQuery) -> Response {
    let q = q.unwrap_or_default();
    sendsms(&face, Params::raw(q.as_bytes()), None).await
}

pub async fn sendsms_post(
    State(face): State<Arc<Face>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = Params::raw(q.unwrap_or_default().as_bytes());
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut text_body = None;
    if kind.starts_with("application/x-www-form-urlencoded") {
        params.extend(Params::raw(&body));
    } else if !body.is_empty() {
        // Kannel's POST: parameters in the query (or X-Kannel headers), the text as body.
        text_body = Some(body.to_vec());
    }
    for (h, name) in [
        ("x-kannel-username", "username"),
        ("x-kannel-password", "password"),
        ("x-kannel-to", "to"),
        ("x-kannel-from", "from"),
        ("x-kannel-smsc", "smsc"),
        ("x-kannel-coding", "coding"),
        ("x-kannel-dlr-mask", "dlr-mask"),
        ("x-kannel-dlr-url", "dlr-url"),
    ] {
        if let Some(v) = headers.get(h) {
            params.0.push((name.into(), v.as_bytes().to_vec()));
        }
    }
    sendsms(&face, params, text_body).await
}

async fn sendsms(face: &Face, p: Params, text_body: Option<Vec<u8>>) -> Response {
    let cfg = &face.cfg();
    let name = p.text(&["username", "user"]).unwrap_or_default();
    let password = p.text(&["password", "pass"]).unwrap_or_default();
    let Some(user) = auth::by_password(cfg, &name, &password) else {
        tracing::info!(target: "smsgw::http", user = %name, "sendsms: authorization failed");
        return answer(StatusCode::FORBIDDEN, "Authorization failed for sendsms");
    };
    let req = match request(&p, text_body) {
        Ok(r) => r,
        Err(e) => return answer(StatusCode::BAD_REQUEST, e),
    };
    let how = Submission {
        face: "http".into(),
        to: String::new(),
        owner: user.name.clone(),
        idempotency_key: None,
        from: p.text(&["from"]).unwrap_or_default(),
        dlr_url: p.text(&["dlr-url", "dlrurl"]).filter(|u| !u.is_empty()),
        dlr_mask: match p.number("dlr-mask") {
            Ok(m) => m.unwrap_or(0).clamp(0, 255) as u8,
            Err(e) => return answer(StatusCode::BAD_REQUEST, e),
        },
    };
    if let Err(wait) = face.limits.take(&user.name, user.rate, req.to.len()) {
        let r = answer(StatusCode::TOO_MANY_REQUESTS, "Too many requests, rejected");
        return auth::retry_after(r, wait);
    }
    let caller = Caller {
        routes: &user.routes,
        max_parts: cfg.http.max_parts,
    };
    match submit::submit(face.storage.as_ref(), cfg, &caller, &req, &how).await {
        Ok(done) => {
            face.poke();
            let ids: Vec<String> = done.ids.iter().map(i64::to_string).collect();
            let mut r = answer(StatusCode::ACCEPTED, "0: Accepted for delivery");
            if let Ok(v) = HeaderValue::from_str(&ids.join(" ")) {
                r.headers_mut().insert("x-smsgw-message-id", v);
            }
            r
        }
        Err(e) => {
            let (status, text) = refusal(&e);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(target: "smsgw::http", "sendsms: {e}");
            }
            answer(status, text)
        }
    }
}

/// How Kannel words a refusal (Kannel's own texts where it has one, which clients match
/// by their start; ours in its style, ending in ", rejected").
fn refusal(e: &SubmitError) -> (StatusCode, String) {
    match e {
        SubmitError::NoRecipient => (
            StatusCode::BAD_REQUEST,
            "Missing receiver number, rejected".into(),
        ),
        SubmitError::Empty => (
            StatusCode::BAD_REQUEST,
            "Empty text not allowed, rejected.".into(),
        ),
        SubmitError::BadNumber { .. } => (
            StatusCode::BAD_REQUEST,
            format!("Garbage 'to' field, rejected. ({e})"),
        ),
        SubmitError::BadContent(m) if m.starts_with("udh") => (
            StatusCode::BAD_REQUEST,
            format!("UDH field misformed, rejected ({m})"),
        ),
        SubmitError::RouteNotAllowed(r) => (
            StatusCode::FORBIDDEN,
            format!("Forbidden smsc {r:?} for this user, rejected"),
        ),
        SubmitError::Storage(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Storage unavailable, try again later".into(),
        ),
        e => (
            StatusCode::BAD_REQUEST,
            format!("{}, rejected", capitalised(&e.to_string())),
        ),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The text in `charset` (Kannel's defaults: UTF-8, or UTF-16BE with `coding=2`).
fn decode_text(raw: &[u8], charset: Option<&str>, coding: i64) -> Result<String, String> {
    let label = charset.unwrap_or(if coding == 2 { "UTF-16BE" } else { "UTF-8" });
    let enc = encoding_rs::Encoding::for_label(label.trim().as_bytes())
        .ok_or_else(|| format!("Unknown charset {label:?}, rejected"))?;
    // A BOM of this charset is dropped; a text that is not what it says is refused, not
    // mangled.
    let (text, bad) = enc.decode_with_bom_removal(raw);
    if bad {
        return Err(format!("Text is not valid {}, rejected", enc.name()));
    }
    Ok(text.into_owned())
}

fn request(p: &Params, text_body: Option<Vec<u8>>) -> Result<Request, String> {
    let to: Vec<String> = p
        .text(&["to"])
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let coding = p.number("coding")?.unwrap_or(0);
    if !(0..=2).contains(&coding) {
        return Err(format!(
            "Invalid coding {coding} (0 GSM, 1 binary, 2 UCS-2), rejected"
        ));
    }
    let raw = text_body
        .or_else(|| p.bytes(&["text"]).map(<[u8]>::to_vec))
        .unwrap_or_default();
    let udh = p
        .bytes(&["udh"])
        .filter(|u| !u.is_empty())
        .map(<[u8]>::to_vec);
    let body = if coding == 1 {
        Body::Binary(raw)
    } else {
        Body::Text(decode_text(&raw, p.text(&["charset"]).as_deref(), coding)?)
    };
    if to.is_empty() {
        // Answered before the text is looked at, as Kannel does.
        return Ok(Request {
            to,
            body,
            ..Request::default()
        });
    }
    let minutes = |name: &str| -> Result<Option<u32>, String> {
        match p.number(name)? {
            Some(m) if m < 0 || m > i64::from(u32::MAX / 60) => {
                Err(format!("Invalid {name} value {m}, rejected"))
            }
            m => Ok(m.map(|m| m as u32)),
        }
    };
    let class = match p.number("mclass")? {
        Some(c @ 0..=3) => Some(c as u8),
        Some(c) => return Err(format!("Invalid mclass value {c} (0-3), rejected")),
        None => None,
    };
    let dlr_mask = p.number("dlr-mask")?.unwrap_or(0);
    Ok(Request {
        to,
        body,
        unicode: coding == 2,
        class: class.or_else(|| (p.text(&["flash"]).as_deref() == Some("1")).then_some(0)),
        report: (dlr_mask & 0b11 != 0).then_some(true),
        validity: minutes("validity")?
            .filter(|m| *m > 0)
            .map(|m| Duration::from_secs(u64::from(m) * 60)),
        delay_secs: minutes("deferred")?.unwrap_or(0).saturating_mul(60),
        route: p.text(&["smsc"]).filter(|s| !s.is_empty()),
        udh,
        priority: p.number("priority")?.unwrap_or(0).clamp(0, 3) as i32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_parameters_keep_their_bytes() {
        let p = Params::raw(
            b"to=%2B4790000001+4790000002&text=%E6%F8%E5&udh=%06%05%04%0B%84%23%F0&coding=1",
        );
        assert_eq!(p.text(&["to"]).unwrap(), "+4790000001 4790000002");
        assert_eq!(
            p.bytes(&["udh"]).unwrap(),
            [6, 5, 4, 0x0b, 0x84, 0x23, 0xf0]
        );
        assert_eq!(p.bytes(&["text"]).unwrap(), [0xe6, 0xf8, 0xe5]);
        let r = request(&p, None).unwrap();
        assert_eq!(r.to, ["+4790000001", "4790000002"]);
        assert_eq!(r.body, Body::Binary(vec![0xe6, 0xf8, 0xe5]));
    }

    #[test]
    fn charsets_as_kannel_reads_them() {
        assert_eq!(
            decode_text(&[0xe6, 0xf8, 0xe5], Some("ISO-8859-1"), 0).unwrap(),
            "æøå"
        );
        assert_eq!(decode_text(&[0x04, 0x1f], None, 2).unwrap(), "П");
        assert_eq!(
            decode_text(&[0xe6, 0xf8], None, 0).unwrap_err(),
            "Text is not valid UTF-8, rejected"
        );
        assert_eq!(
            decode_text(&[0xff, 0xfe], None, 0).unwrap_err(),
            "Text is not valid UTF-8, rejected",
            "another charset's BOM is no switch"
        );
        assert_eq!(decode_text(&[0xfe, 0xff, 0, 0x41], None, 2).unwrap(), "A");
        assert_eq!(
            decode_text(b"x", Some("klingon"), 0).unwrap_err(),
            "Unknown charset \"klingon\", rejected"
        );
    }

    #[test]
    fn options_map_to_the_request() {
        let p = Params::raw(
            b"to=4790000001&text=hi&mclass=0&validity=60&deferred=2&dlr-mask=31&smsc=m1&priority=9",
        );
        let r = request(&p, None).unwrap();
        assert_eq!(r.class, Some(0));
        assert_eq!(r.validity, Some(Duration::from_secs(3600)));
        assert_eq!(r.delay_secs, 120);
        assert_eq!(r.report, Some(true));
        assert_eq!(r.route.as_deref(), Some("m1"));
        assert_eq!(r.priority, 3);
        assert_eq!(
            request(&Params::raw(b"to=1&text=x&coding=7"), None).unwrap_err(),
            "Invalid coding 7 (0 GSM, 1 binary, 2 UCS-2), rejected"
        );
        assert_eq!(
            request(&Params::raw(b"to=1&text=x&validity=soon"), None).unwrap_err(),
            "Invalid validity value \"soon\", rejected"
        );
    }

    #[test]
    fn refusals_in_kannel_s_words() {
        let say = |e: SubmitError| refusal(&e).1;
        assert_eq!(
            say(SubmitError::NoRecipient),
            "Missing receiver number, rejected"
        );
        assert_eq!(say(SubmitError::Empty), "Empty text not allowed, rejected.");
        assert!(say(SubmitError::BadNumber {
            number: "x".into(),
            reason: "no digits".into()
        })
        .starts_with("Garbage 'to' field, rejected."));
        assert!(say(SubmitError::BadContent("udh: too short".into()))
            .starts_with("UDH field misformed, rejected"));
        assert_eq!(
            say(SubmitError::TooManyParts { needed: 4, max: 3 }),
            "The text needs 4 messages, more than the 3 allowed, rejected"
        );
    }

    #[test]
    fn a_truncated_escape_is_kept_as_it_is() {
        assert_eq!(percent_decode(b"a%4"), b"a%4");
        assert_eq!(percent_decode(b"%zz%41"), b"%zzA");
        assert_eq!(percent_decode(b"%"), b"%");
    }
}
