//! HTTP gateways (`kind = "http"`) and SOAP 1.1 calls (`kind = "soap"`, an HTTP POST with an
//! XML envelope). One request per message, with the whole text.
//!
//! Outcomes: a 2xx answer whose body matches `success_pattern` (when set) is sent, and
//! `id_pattern`'s first group is kept as the gateway's message id. A failure to connect
//! (refused, DNS, TLS) is `NotSent`: nothing reached the gateway, another may send it. An
//! error or timeout after the request was written is `Unknown`: the gateway may have taken
//! the message, so it is never failed over. 401, 402, 403, 404 and 407 are `RouteDown` (the
//! credentials, the credit or the URL are wrong: every message would fail); 408, 429 and 5xx
//! are `NotSent`; other 4xx are `Rejected` (this message is refused); a 2xx whose body does
//! not match, or a SOAP `Fault`, is `NotSent`.

use std::time::Duration;

use async_trait::async_trait;

use super::template::{Escape, Template, Values};
use crate::pdu::Submit;
use crate::route::{PartReceipt, SendError, SendErrorKind, Transport};

/// Boost's `sendMessage` as NAV's BoostDispatcher called it (SOAPpy's RPC encoding).
const SOAP_BODY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><m:{method} xmlns:m="{namespace}"><username>{username}</username><password>{password}</password><sender>{sender}</sender><phone>{phone}</phone><text>{text}</text></m:{method}></soap:Body>
</soap:Envelope>"#;

/// How a request authenticates.
#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic { user: String, password: String },
    Bearer(String),
}

/// An HTTP or SOAP gateway.
pub struct Http {
    id: String,
    client: reqwest::Client,
    post: bool,
    url: Template,
    body: Option<(Template, Escape)>,
    content_type: String,
    headers: Vec<(reqwest::header::HeaderName, Template)>,
    auth: Auth,
    username: String,
    password: String,
    sender: String,
    success: Option<regex::Regex>,
    message_id: Option<regex::Regex>,
    soap: bool,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn regex(key: &str, text: &str) -> Result<Option<regex::Regex>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    regex::Regex::new(text)
        .map(Some)
        .map_err(|e| format!("{key}: not a regular expression: {e}"))
}

/// Refuses, at config time, a URL the gateway could never be reached at: it must be
/// `http://` or `https://` with a host, whatever the message fills in.
fn check_url(url: &Template) -> Result<(), String> {
    let sample = Values {
        phone: "+4712345678",
        text: "test",
        sender: "smsgw",
        username: "user",
        password: "secret",
        id: "1",
    };
    let rendered = url.render(&sample, Escape::Url);
    let parsed = reqwest::Url::parse(&rendered).map_err(|e| {
        format!("url: not a URL ({e}); write it as http://host/path or https://host/path")
    })?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" | "https" => Err("url: the URL has no host".into()),
        other => Err(format!(
            "url: {other}:// is not a gateway URL: use http:// or https://"
        )),
    }
}

impl Http {
    /// Builds the transport from its config (`password` already resolved).
    pub fn new(t: &crate::config::Transport, password: String) -> Result<Http, String> {
        let soap = t.kind == crate::config::TransportKind::Soap;
        let url = Template::parse(&t.url).map_err(|e| format!("url: {e}"))?;
        if t.url.is_empty() {
            return Err("url: a gateway URL is needed".into());
        }
        check_url(&url)?;
        if url.uses("password") {
            tracing::warn!(transport = %t.id, "the password is in the URL: gateways and proxies log URLs; prefer auth = \"basic\" or a header");
        }
        let post = match t.method.to_ascii_uppercase().as_str() {
            "" => soap || !t.body.is_empty(),
            "GET" if soap => return Err("method: a SOAP call is a POST".into()),
            "GET" => false,
            "POST" => true,
            other => return Err(format!("method: {other:?} is not GET or POST")),
        };
        let content_type = if !t.content_type.is_empty() {
            t.content_type.clone()
        } else if soap {
            "text/xml; charset=utf-8".into()
        } else if t.body.trim_start().starts_with('{') || t.body.trim_start().starts_with('[') {
            "application/json".into()
        } else {
            "application/x-www-form-urlencoded".into()
        };
        let escape = if soap || content_type.contains("xml") {
            Escape::Xml
        } else if content_type.contains("json") {
            Escape::Json
        } else if content_type.contains("x-www-form-urlencoded") {
            Escape::Form
        } else {
            Escape::None
        };
        let body = if soap && t.body.is_empty() {
            let method = if t.soap_method.is_empty() {
                "sendMessage"
            } else {
                &t.soap_method
            };
            let text = SOAP_BODY.replace("{method}", method).replace(
                "{namespace}",
                &super::template::escaped(&t.soap_namespace, Escape::Xml),
            );
            Some((Template::parse(&text)?, escape))
        } else if post {
            let body = if t.body.is_empty() {
                "phone={phone}&text={text}"
            } else {
                &t.body
            };
            Some((
                Template::parse(body).map_err(|e| format!("body: {e}"))?,
                escape,
            ))
        } else {
            if !t.body.is_empty() {
                return Err("body: a GET request has no body (set method = \"POST\")".into());
            }
            None
        };
        let mut headers = Vec::new();
        for (name, value) in &t.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("headers: {name:?} is not a header name"))?;
            if value.contains(['\r', '\n']) {
                return Err(format!("headers: the value of {name} has a line break"));
            }
            headers.push((
                name,
                Template::parse(value).map_err(|e| format!("headers: {e}"))?,
            ));
        }
        if soap {
            let action = &t.soap_action;
            headers.push((
                reqwest::header::HeaderName::from_static("soapaction"),
                Template::parse(&format!("\"{}\"", action.replace('"', "")))?,
            ));
        }
        let auth = match t.auth.as_str() {
            "" | "none" => Auth::None,
            "basic" => Auth::Basic {
                user: t.username.clone(),
                password: password.clone(),
            },
            "bearer" => {
                if password.is_empty() {
                    return Err(
                        "auth: bearer needs the token in password, password_file or password_env"
                            .into(),
                    );
                }
                Auth::Bearer(password.clone())
            }
            other => return Err(format!("auth: {other:?} is not none, basic or bearer")),
        };
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(t.timeout.clamp(1, 10)))
            .timeout(Duration::from_secs(t.timeout.max(1)))
            .user_agent(concat!("smsgw/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Http {
            id: t.id.clone(),
            client,
            post,
            url,
            body,
            content_type,
            headers,
            auth,
            username: t.username.clone(),
            password,
            sender: t.sender.clone(),
            success: regex("success_pattern", &t.success_pattern)?,
            message_id: regex("id_pattern", &t.id_pattern)?,
            soap,
        })
    }

    /// Sends one text to one number.
    pub async fn post(&self, to: &str, text: &str, id: &str) -> Result<PartReceipt, SendError> {
        let values = Values {
            phone: to,
            text,
            sender: &self.sender,
            username: &self.username,
            password: &self.password,
            id,
        };
        let url = self.url.render(&values, Escape::Url);
        let mut req = if self.post {
            self.client.post(&url)
        } else {
            self.client.get(&url)
        };
        if let Some((body, escape)) = &self.body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, &self.content_type)
                .body(body.render(&values, *escape));
        }
        for (name, value) in &self.headers {
            req = req.header(name.clone(), value.render(&values, Escape::None));
        }
        req = match &self.auth {
            Auth::None => req,
            Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
            Auth::Bearer(token) => req.bearer_auth(token),
        };
        // Logs name the gateway without the query, which may hold credentials.
        let shown = url.split(['?', '#']).next().unwrap_or("").to_string();
        let response = match req.send().await {
            Ok(r) => r,
            // Without the URL: its query may hold credentials.
            Err(e) => return Err(request_failed(&shown, &e.without_url())),
        };
        let status = response.status();
        let body = match response.text().await {
            Ok(b) => b,
            Err(e) if status.is_success() => {
                return Err(SendError::new(
                    SendErrorKind::Unknown,
                    format!("{shown}: HTTP {status}, then the answer broke off: {e}"),
                ))
            }
            Err(_) => String::new(),
        };
        judge(
            &shown,
            status.as_u16(),
            &body,
            self.soap,
            self.success.as_ref(),
            self.message_id.as_ref(),
        )
    }
}

/// A request that got no answer.
fn request_failed(url: &str, e: &reqwest::Error) -> SendError {
    let what = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_else(|| e.to_string());
    if e.is_connect() || e.is_builder() {
        SendError::new(
            SendErrorKind::NotSent,
            format!("{url}: cannot connect: {what}"),
        )
    } else if e.is_timeout() {
        SendError::new(
            SendErrorKind::Unknown,
            format!("{url}: no answer within the timeout (the gateway may have taken the message)"),
        )
    } else {
        SendError::new(
            SendErrorKind::Unknown,
            format!("{url}: the request failed after it was sent: {what}"),
        )
    }
}

/// What an answer means (see the module's doc).
fn judge(
    url: &str,
    status: u16,
    body: &str,
    soap: bool,
    success: Option<&regex::Regex>,
    message_id: Option<&regex::Regex>,
) -> Result<PartReceipt, SendError> {
    let excerpt: String = body.chars().take(200).collect();
    let excerpt = excerpt.trim();
    let fail = |kind, why: String| {
        let mut e = SendError::new(kind, format!("{url}: {why}"));
        e.code = Some(status);
        Err(e)
    };
    if soap && body.contains(":Fault>") {
        return fail(
            SendErrorKind::NotSent,
            format!("SOAP fault (HTTP {status}): {excerpt}"),
        );
    }
    match status {
        200..=299 => {}
        401 | 402 | 403 | 404 | 407 => {
            return fail(
                SendErrorKind::RouteDown,
                format!("HTTP {status}: {excerpt}"),
            )
        }
        408 | 429 | 500..=599 => {
            return fail(SendErrorKind::NotSent, format!("HTTP {status}: {excerpt}"))
        }
        400..=499 => return fail(SendErrorKind::Rejected, format!("HTTP {status}: {excerpt}")),
        _ => return fail(SendErrorKind::NotSent, format!("HTTP {status}: {excerpt}")),
    }
    if let Some(re) = success {
        if !re.is_match(body) {
            return fail(
                SendErrorKind::NotSent,
                format!("HTTP {status} but the answer does not match success_pattern: {excerpt}"),
            );
        }
    }
    let message_id = message_id.and_then(|re| {
        re.captures(body)
            .and_then(|c| c.get(1).or_else(|| c.get(0)))
            .map(|m| m.as_str().to_string())
    });
    Ok(PartReceipt {
        tpmr: None,
        message_id,
    })
}

#[async_trait]
impl Transport for Http {
    fn id(&self) -> &str {
        &self.id
    }
    fn takes_text(&self) -> bool {
        true
    }
    async fn send(&mut self, _part: &Submit) -> Result<PartReceipt, SendError> {
        Err(super::pdu_refused(&self.id))
    }
    async fn send_text(
        &mut self,
        to: &str,
        text: &str,
        id: &str,
    ) -> Result<PartReceipt, SendError> {
        self.post(to, text, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_outcomes() {
        let kind = |status, body: &str| {
            judge("u", status, body, false, None, None)
                .err()
                .map(|e| e.kind)
        };
        assert_eq!(kind(200, ""), None);
        assert_eq!(kind(204, ""), None);
        assert_eq!(kind(400, "bad number"), Some(SendErrorKind::Rejected));
        assert_eq!(kind(422, ""), Some(SendErrorKind::Rejected));
        assert_eq!(kind(401, ""), Some(SendErrorKind::RouteDown));
        assert_eq!(kind(402, ""), Some(SendErrorKind::RouteDown));
        assert_eq!(kind(429, ""), Some(SendErrorKind::NotSent));
        assert_eq!(kind(503, ""), Some(SendErrorKind::NotSent));
        assert_eq!(kind(302, ""), Some(SendErrorKind::NotSent));
    }

    #[test]
    fn body_patterns_decide_and_give_the_id() {
        let ok = regex::Regex::new("^OK").unwrap();
        let id = regex::Regex::new(r"id=(\w+)").unwrap();
        let r = judge("u", 200, "OK id=ab12", false, Some(&ok), Some(&id)).unwrap();
        assert_eq!(r.message_id.as_deref(), Some("ab12"));
        let e = judge("u", 200, "ERR no credit", false, Some(&ok), Some(&id)).unwrap_err();
        assert_eq!(e.kind, SendErrorKind::NotSent);
        assert!(e.reason.contains("ERR no credit"), "{}", e.reason);
        let e = judge("u", 500, "<soap:Fault>x</soap:Fault>", true, None, None).unwrap_err();
        assert!(e.reason.contains("SOAP fault"));
    }
}
