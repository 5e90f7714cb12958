//! `[[transport]]`: a way out other than a modem (HTTP, SOAP, mail, SMPP, debug, failover
//! lists), one flat table for every kind, and which keys each kind takes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What a `[[transport]]` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// An HTTP gateway: GET or POST with templated URL, body and headers.
    Http,
    /// A SOAP 1.1 call (an HTTP POST with an XML envelope), by default Boost's
    /// `sendMessage(username, password, sender, phone, text)`.
    Soap,
    /// E-mail to an SMS gateway over SMTP.
    Mail,
    /// An SMSC over SMPP 3.4.
    Smpp,
    /// Logs the message and answers as `result` says (dry runs, tests).
    Debug,
    /// An ordered list of other transports tried in turn (NAV's `dispatcher1..n`).
    Failover,
}

/// `[[transport]]`: a way out other than a modem. One flat table for every kind; the keys
/// a kind does not use are refused by [`Config::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    /// The route id (what `outbox.SenderID` names).
    pub id: String,
    pub kind: TransportKind,
    /// http/soap: the URL template.
    #[serde(default)]
    pub url: String,
    /// http: `GET` or `POST` (soap always posts).
    #[serde(default)]
    pub method: String,
    /// http/soap/mail: the body template; empty for the kind's default.
    #[serde(default)]
    pub body: String,
    /// http/soap: the body's `Content-Type`; empty for the kind's default.
    #[serde(default)]
    pub content_type: String,
    /// http/soap: extra request headers (values are templates).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// http/soap: `none`, `basic` or `bearer` (the password is the token).
    #[serde(default)]
    pub auth: String,
    /// http/soap/mail: the login; smpp: the bind's `system_id` (also written `system_id`).
    #[serde(default, alias = "system_id")]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_file: PathBuf,
    #[serde(default)]
    pub password_env: String,
    /// Seconds a send may take before its outcome is unknown.
    #[serde(default = "default_transport_timeout")]
    pub timeout: u64,
    /// http/soap: a regular expression the response body must match to count as sent.
    #[serde(default)]
    pub success_pattern: String,
    /// http/soap: a regular expression whose first group is the gateway's message id.
    #[serde(default)]
    pub id_pattern: String,
    /// The sender (`{sender}` in templates; soap's `sender`; mail's From).
    #[serde(default)]
    pub sender: String,
    /// soap: the operation's name and namespace, and the `SOAPAction` header.
    #[serde(default)]
    pub soap_method: String,
    #[serde(default)]
    pub soap_namespace: String,
    #[serde(default)]
    pub soap_action: String,
    /// mail: the SMTP server.
    #[serde(default)]
    pub host: String,
    /// mail: 0 for the default of `tls` (25, 587, 465).
    #[serde(default)]
    pub port: u16,
    /// mail: `none`, `starttls` or `tls`; smpp: `none` or `tls`.
    #[serde(default)]
    pub tls: String,
    /// smpp: a PEM file of CA certificates trusted besides the usual roots (an SMSC with a
    /// certificate of its own CA).
    #[serde(default)]
    pub ca_file: PathBuf,
    /// mail: the recipient template (`{phone}@sms.example.org`).
    #[serde(default)]
    pub to: String,
    /// mail: the subject template (NAV's `sms {phone}` when empty).
    #[serde(default)]
    pub subject: String,
    /// debug: `success`, `fail`, `error`, `permanent` or `unknown`.
    #[serde(default)]
    pub result: String,
    /// smpp: the bind's system_type.
    #[serde(default)]
    pub system_type: String,
    /// smpp: the bind's address_range (which numbers a receiver wants; empty: the SMSC's
    /// choice).
    #[serde(default)]
    pub address_range: String,
    /// smpp: the bind's interface_version (0x34 for SMPP 3.4; some SMSCs want 0x33).
    #[serde(default = "default_interface_version")]
    pub interface_version: u8,
    /// smpp: `transceiver`, `transmitter` or `transmitter+receiver`.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// smpp: seconds between enquire_links.
    #[serde(default = "default_enquire_link")]
    pub enquire_link: u64,
    /// smpp: how the parts of a long message are tied: `udh` or `sar`.
    #[serde(default)]
    pub long_messages: String,
    /// smpp: what data_coding 0 means to the SMSC: `gsm`, `gsm-packed` or `latin1`.
    #[serde(default = "default_alphabet")]
    pub default_alphabet: String,
    /// smpp: data_coding values (as strings, TOML's keys) the SMSC uses its own way, and
    /// the codec each is read with (vumi2's `data_coding_overrides`).
    #[serde(default)]
    pub data_coding_overrides: std::collections::BTreeMap<String, String>,
    /// smpp: a regular expression for the SMSC's receipt text, with named groups `id` and
    /// `stat` (and `done_date`); empty: SMPP 3.4's appendix B.
    #[serde(default)]
    pub receipt_regex: String,
    /// smpp: receipt `stat:` values and what they mean (`delivered`, `failed`,
    /// `pending`), before the usual ones.
    #[serde(default)]
    pub receipt_status: std::collections::BTreeMap<String, String>,
    /// smpp: also ask for intermediate notifications (registered_delivery 0x10): the
    /// SMSC's "enroute" receipts, reported as pending.
    #[serde(default)]
    pub intermediate_notification: bool,
    /// smpp: SME acknowledgements to ask for with each report (`delivery`, `user`):
    /// registered_delivery 0x04 and 0x08.
    #[serde(default)]
    pub sme_originated_acks: Vec<String>,
    /// smpp: at most this many submit_sm a second (0: no limit).
    #[serde(default)]
    pub rate: u32,
    /// smpp: submit_sm waiting for their responses at once.
    #[serde(default = "default_window")]
    pub window: u32,
    /// failover: the transports tried in order.
    #[serde(default)]
    pub members: Vec<String>,
    /// failover: failures in a row after which a member is skipped for `cooldown` seconds.
    #[serde(default = "default_failures")]
    pub failures: u32,
    #[serde(default = "default_cooldown")]
    pub cooldown: u64,
    /// Only numbers starting with one of these go through this transport (in a failover
    /// list); empty: every number.
    #[serde(default)]
    pub prefixes: Vec<String>,
}

fn default_transport_timeout() -> u64 {
    30
}
fn default_failures() -> u32 {
    3
}
fn default_cooldown() -> u64 {
    60
}
fn default_enquire_link() -> u64 {
    30
}
fn default_bind() -> String {
    "transceiver".into()
}
fn default_window() -> u32 {
    10
}
fn default_interface_version() -> u8 {
    0x34
}
fn default_alphabet() -> String {
    "gsm".into()
}

impl Transport {
    /// A key set on this transport that its kind does not use.
    pub(super) fn stray_key(&self) -> Option<&'static str> {
        use TransportKind::*;
        let set: [(&'static str, bool, &[TransportKind]); 36] = [
            ("url", !self.url.is_empty(), &[Http, Soap]),
            ("method", !self.method.is_empty(), &[Http, Soap]),
            ("body", !self.body.is_empty(), &[Http, Soap, Mail]),
            ("content_type", !self.content_type.is_empty(), &[Http, Soap]),
            ("headers", !self.headers.is_empty(), &[Http, Soap]),
            ("auth", !self.auth.is_empty(), &[Http, Soap]),
            (
                "username",
                !self.username.is_empty(),
                &[Http, Soap, Mail, Smpp],
            ),
            (
                "password",
                !self.password.is_empty(),
                &[Http, Soap, Mail, Smpp],
            ),
            (
                "password_file",
                !self.password_file.as_os_str().is_empty(),
                &[Http, Soap, Mail, Smpp],
            ),
            (
                "password_env",
                !self.password_env.is_empty(),
                &[Http, Soap, Mail, Smpp],
            ),
            (
                "success_pattern",
                !self.success_pattern.is_empty(),
                &[Http, Soap],
            ),
            ("id_pattern", !self.id_pattern.is_empty(), &[Http, Soap]),
            ("sender", !self.sender.is_empty(), &[Http, Soap, Mail, Smpp]),
            ("soap_method", !self.soap_method.is_empty(), &[Soap]),
            ("soap_namespace", !self.soap_namespace.is_empty(), &[Soap]),
            ("soap_action", !self.soap_action.is_empty(), &[Soap]),
            ("host", !self.host.is_empty(), &[Mail, Smpp]),
            ("port", self.port != 0, &[Mail, Smpp]),
            ("tls", !self.tls.is_empty(), &[Mail, Smpp]),
            ("ca_file", !self.ca_file.as_os_str().is_empty(), &[Smpp]),
            ("to", !self.to.is_empty(), &[Mail]),
            ("subject", !self.subject.is_empty(), &[Mail]),
            ("result", !self.result.is_empty(), &[Debug]),
            ("system_type", !self.system_type.is_empty(), &[Smpp]),
            ("address_range", !self.address_range.is_empty(), &[Smpp]),
            (
                "interface_version",
                self.interface_version != default_interface_version(),
                &[Smpp],
            ),
            ("bind", self.bind != default_bind(), &[Smpp]),
            ("long_messages", !self.long_messages.is_empty(), &[Smpp]),
            ("window", self.window != default_window(), &[Smpp]),
            (
                "default_alphabet",
                self.default_alphabet != default_alphabet(),
                &[Smpp],
            ),
            ("rate", self.rate != 0, &[Smpp]),
            (
                "data_coding_overrides",
                !self.data_coding_overrides.is_empty(),
                &[Smpp],
            ),
            ("receipt_regex", !self.receipt_regex.is_empty(), &[Smpp]),
            ("receipt_status", !self.receipt_status.is_empty(), &[Smpp]),
            (
                "intermediate_notification",
                self.intermediate_notification,
                &[Smpp],
            ),
            (
                "sme_originated_acks",
                !self.sme_originated_acks.is_empty(),
                &[Smpp],
            ),
        ];
        if let Some((key, ..)) = set
            .iter()
            .find(|(_, on, kinds)| *on && !kinds.contains(&self.kind))
        {
            return Some(key);
        }
        if !self.members.is_empty() && self.kind != Failover {
            return Some("members");
        }
        None
    }
}
