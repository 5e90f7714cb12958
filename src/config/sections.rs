//! The small sections: `[daemon]`, `[sending]`, `[receiving]`, `[hooks]`, `[spool]`,
//! `[metrics]`, `[retention]`, `[http]`, `[webhooks]`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::pdu::Validity;

/// `[spool]`: a directory where programs drop message files (smstools3 or Gammu format)
/// that smsgw queues into the storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Spool {
    /// The directory; empty (the default) watches nothing.
    pub dir: PathBuf,
    /// Seconds between safety rescans (files are normally taken on their inotify event).
    pub rescan: u64,
    /// smstools3 `Queue:` names to PhoneIDs; a name not listed is used as the PhoneID.
    pub queues: std::collections::BTreeMap<String, String>,
}

impl Default for Spool {
    fn default() -> Self {
        Spool {
            dir: PathBuf::new(),
            rescan: 5,
            queues: Default::default(),
        }
    }
}

/// `[retention]`: what the daemon deletes by itself, once a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Delete inbox and sent items older than this many days; 0 keeps everything.
    pub days: u32,
}

/// `[metrics]`: an optional Prometheus endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// `host:port` to serve `/metrics` on; empty (the default) serves nothing.
    pub listen: String,
}

/// `[daemon]`: files of the running daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Daemon {
    pub state_dir: PathBuf,
    pub control_socket: PathBuf,
    pub pid_file: PathBuf,
    pub log: String,
    pub log_level: String,
    /// Where phones bound by identity (`device = "imei:..."`) look for their modem: glob
    /// patterns of serial ports, in order.
    pub modem_search: Vec<String>,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            state_dir: "/var/lib/smsgw".into(),
            control_socket: "/run/smsgw/control.sock".into(),
            pid_file: "/run/smsgw/smsgw.pid".into(),
            log: "stderr".into(),
            log_level: "info".into(),
            modem_search: crate::modem::fleet::DEFAULT_SEARCH
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// `[sending]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sending {
    /// Attempts after the first before a message fails (Gammu's MaxRetries).
    pub max_retries: u32,
    /// Seconds before a failed message is tried again (Gammu's RetryTimeout).
    pub retry_timeout: u64,
    /// Ask for status reports when a message does not say (`DeliveryReport='default'`).
    pub delivery_reports: bool,
    /// Seconds between a send and its status report's time stamp that still match.
    pub delivery_report_delay: u64,
    /// Validity of messages that do not say: `none`, `max`, `DAY`, `2h`...
    #[serde(with = "validity_text")]
    pub validity: Validity,
}

impl Default for Sending {
    fn default() -> Self {
        Sending {
            max_retries: 1,
            retry_timeout: 600,
            delivery_reports: false,
            delivery_report_delay: 600,
            validity: Validity::None,
        }
    }
}

mod validity_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::pdu::Validity;

    pub fn serialize<S: Serializer>(v: &Validity, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Validity::None => s.serialize_str("none"),
            Validity::Relative(r) => s.serialize_str(&format!(
                "{}m",
                Validity::relative_duration(*r).as_secs() / 60
            )),
            other => s.serialize_str(&other.to_string()),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Validity, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `[receiving]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Receiving {
    /// Seconds to wait for the missing parts of a concatenated message.
    pub multipart_timeout: u64,
    /// Accept only these senders (when not empty).
    pub include_numbers: Vec<String>,
    /// Reject these senders (messages stay on the SIM, as Gammu does).
    pub exclude_numbers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_numbers_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_numbers_file: Option<PathBuf>,
}

impl Default for Receiving {
    fn default() -> Self {
        Receiving {
            multipart_timeout: 600,
            include_numbers: Vec::new(),
            exclude_numbers: Vec::new(),
            include_numbers_file: None,
            exclude_numbers_file: None,
        }
    }
}

/// `[hooks]`: programs run on events (argv, never a shell string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hooks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_on_receive: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_on_sent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_on_failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_on_incoming_call: Option<String>,
    /// Run for each status report (smsgw's own; Gammu runs RunOnReceive for reports too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_on_report: Option<String>,
    /// Seconds a hook may run before it is killed.
    pub timeout: u64,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            run_on_receive: None,
            run_on_sent: None,
            run_on_failure: None,
            run_on_incoming_call: None,
            run_on_report: None,
            timeout: 60,
        }
    }
}

/// `[http]`: the HTTP face (Kannel's sendsms, the REST API, the status page); off while
/// `listen` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// `host:port`; empty (the default) serves nothing.
    pub listen: String,
    /// Largest request body in bytes (larger: 413).
    pub max_body: usize,
    /// Seconds a request may take, headers and body (a slow client is cut off).
    pub timeout: u64,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Most parts one message may need (Kannel's `max-messages`).
    pub max_parts: usize,
    /// `/status` and `/status.json` without credentials.
    pub public_status: bool,
    /// HTTPS: the certificate chain and its private key (PEM), both or neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    #[serde(rename = "user", skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<HttpUser>,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: String::new(),
            max_body: 65536,
            timeout: 10,
            max_connections: 1024,
            max_parts: 10,
            public_status: false,
            tls_cert: None,
            tls_key: None,
            users: Vec::new(),
        }
    }
}

/// `[[http.user]]`: who may send through the HTTP face.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpUser {
    /// Kannel's `username`, HTTP basic's user.
    pub name: String,
    /// Kannel's `password`, HTTP basic's password.
    pub password: String,
    /// The password as an argon2 hash (PHC string, `smsgw config hash-password`), instead
    /// of `password`.
    pub password_hash: String,
    /// A token for `Authorization: Bearer`; empty allows none.
    pub token: String,
    /// Routes (phone or transport ids) the user may name; empty allows all.
    pub routes: Vec<String>,
    /// Messages per second the user may queue (more: 429); 0 for no limit.
    pub rate: f64,
}

/// `[webhooks]`: URLs told of events (JSON, signed with `secret`), delivered at least once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Webhooks {
    pub received: String,
    pub report: String,
    pub sent: String,
    pub failed: String,
    /// Key of the `X-Smsgw-Signature` HMAC-SHA256; empty signs nothing.
    pub secret: String,
    /// Seconds to wait for an answer.
    pub timeout: u64,
    /// Hours an undeliverable event is retried (with back-off) before it is dropped.
    pub retry_hours: u64,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks {
            received: String::new(),
            report: String::new(),
            sent: String::new(),
            failed: String::new(),
            secret: String::new(),
            timeout: 10,
            retry_hours: 48,
        }
    }
}
