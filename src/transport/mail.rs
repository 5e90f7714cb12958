//! E-mail to an SMS gateway over SMTP (`kind = "mail"`): NAV's UninettMailDispatcher
//! (subject `sms <phone>`, the text as the body) with templates, STARTTLS or TLS, and auth.
//!
//! Outcomes: a 5xx answer is `Rejected` (the gateway refused this message or address); a
//! 4xx answer or a failure to connect is `NotSent`; a timeout or a broken connection once
//! the message may have been handed over is `Unknown`.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::template::{Escape, Template, Values};
use crate::pdu::Submit;
use crate::route::{PartReceipt, SendError, SendErrorKind, Transport};

/// A mail-to-SMS gateway.
pub struct Mail {
    id: String,
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Template,
    subject: Template,
    body: Template,
    server: String,
}

impl Mail {
    /// Builds the transport from its config (`password` already resolved).
    pub fn new(t: &crate::config::Transport, password: String) -> Result<Mail, String> {
        let host = if t.host.is_empty() {
            "localhost"
        } else {
            &t.host
        };
        let tls = if t.tls.is_empty() { "starttls" } else { &t.tls };
        let (builder, default_port) = match tls {
            "none" => (
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                25,
            ),
            "starttls" => (
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                    .map_err(|e| format!("tls: {e}"))?,
                587,
            ),
            "tls" => (
                AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                    .map_err(|e| format!("tls: {e}"))?,
                465,
            ),
            other => return Err(format!("tls: {other:?} is not none, starttls or tls")),
        };
        let port = if t.port == 0 { default_port } else { t.port };
        let mut builder = builder
            .port(port)
            .timeout(Some(Duration::from_secs(t.timeout.max(1))));
        if !t.username.is_empty() {
            builder = builder.credentials(Credentials::new(t.username.clone(), password));
        }
        let from = if t.sender.is_empty() {
            let host = nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "localhost".into());
            format!("smsgw@{host}")
        } else {
            t.sender.clone()
        };
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("sender: {from:?} is not a mail address: {e}"))?;
        if t.to.is_empty() {
            return Err("to: the gateway's address is needed (e.g. \"sms@gw.example.org\" or \"{phone}@sms.example.org\")".into());
        }
        let parse =
            |key: &str, text: &str| Template::parse(text).map_err(|e| format!("{key}: {e}"));
        Ok(Mail {
            id: t.id.clone(),
            mailer: builder.build(),
            from,
            to: parse("to", &t.to)?,
            subject: parse(
                "subject",
                if t.subject.is_empty() {
                    "sms {phone}"
                } else {
                    &t.subject
                },
            )?,
            body: parse("body", if t.body.is_empty() { "{text}" } else { &t.body })?,
            server: format!("{host}:{port}"),
        })
    }
}

/// What an SMTP failure means.
fn smtp_failed(server: &str, e: &lettre::transport::smtp::Error) -> SendError {
    let (kind, what) = if e.is_permanent() {
        (SendErrorKind::Rejected, "refused")
    } else if e.is_transient() {
        (SendErrorKind::NotSent, "refused for now")
    } else if e.is_timeout() {
        (
            SendErrorKind::Unknown,
            "no answer within the timeout (the message may have been taken)",
        )
    } else if e.is_response() {
        (
            SendErrorKind::Unknown,
            "answered something we do not understand",
        )
    } else {
        (SendErrorKind::NotSent, "cannot connect")
    };
    let mut err = SendError::new(kind, format!("SMTP {server}: {what}: {e}"));
    err.code = e.status().and_then(|c| c.to_string().parse().ok());
    err
}

#[async_trait]
impl Transport for Mail {
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
        let values = Values {
            phone: to,
            text,
            id,
            ..Values::default()
        };
        let address = self.to.render(&values, Escape::None);
        let rcpt: Mailbox = address.parse().map_err(|e| {
            SendError::new(
                SendErrorKind::Rejected,
                format!("{address:?} is not a mail address: {e}"),
            )
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(rcpt)
            .subject(self.subject.render(&values, Escape::None))
            .header(ContentType::TEXT_PLAIN)
            .body(self.body.render(&values, Escape::None))
            .map_err(|e| {
                SendError::new(
                    SendErrorKind::Rejected,
                    format!("cannot build the mail: {e}"),
                )
            })?;
        match self.mailer.send(message).await {
            Ok(_) => Ok(PartReceipt {
                tpmr: None,
                message_id: None,
            }),
            Err(e) => Err(smtp_failed(&self.server, &e)),
        }
    }
}
