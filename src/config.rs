//! The configuration file: one TOML file, default `/etc/smsgw/smsgw.toml`.
//!
//! [`KEYS`] is the documentation of every key (its default, meaning, an example); a test
//! checks that it lists exactly the keys the parser accepts, so it can be the single source
//! of the man page. Unknown keys and bad values are errors that name the file, the line and
//! the key.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::pdu::Validity;

/// Where the daemon, `inject` and `monitor` look for the config by default.
pub const DEFAULT_PATH: &str = "/etc/smsgw/smsgw.toml";

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub daemon: Daemon,
    pub storage: Storage,
    #[serde(rename = "phone")]
    pub phones: Vec<Phone>,
    #[serde(rename = "transport")]
    pub transports: Vec<Transport>,
    pub sending: Sending,
    pub receiving: Receiving,
    pub hooks: Hooks,
    pub metrics: Metrics,
    pub retention: Retention,
    pub spool: Spool,
    /// `[inbox_storage]`: where received messages go when `[storage]` keeps none (nav).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox_storage: Option<Storage>,
}

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
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            state_dir: "/var/lib/smsgw".into(),
            control_socket: "/run/smsgw/control.sock".into(),
            pid_file: "/run/smsgw/smsgw.pid".into(),
            log: "stderr".into(),
            log_level: "info".into(),
        }
    }
}

/// Which storage service keeps the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// An SQLite file with Gammu's schema (the default).
    #[default]
    Sqlite,
    /// A PostgreSQL server with Gammu's schema (`LISTEN/NOTIFY` wake-ups).
    #[serde(alias = "pgsql")]
    Postgres,
    /// A MySQL or MariaDB server with Gammu's schema (polled for new rows).
    #[serde(alias = "mariadb")]
    Mysql,
    /// Gammu's files layout: inbox, outbox, sent and error folders.
    Files,
    /// Nothing is stored; `run_on_receive` exiting 0 is the commit of a received message.
    Null,
    /// NAV's SMS alert queue (`profiles.smsq` in NAV's PostgreSQL database).
    Nav,
}

/// How the files storage writes received texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InboxFormat {
    /// UTF-8.
    Standard,
    /// UTF-16BE after a byte-order mark, as Gammu writes it (what playSMS reads).
    #[default]
    Unicode,
}

/// Whether to encrypt the connection to a database server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DbTls {
    /// TLS when the server offers it.
    #[default]
    Prefer,
    /// Refuse to connect without TLS.
    Require,
    /// Never TLS (a local socket or loopback).
    Disable,
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    pub kind: StorageKind,
    /// SQLite database file.
    pub path: PathBuf,
    /// Milliseconds to wait for a lock another program holds on the SQLite file.
    pub busy_timeout: u64,
    /// Server URL (`postgres://user@host:5432/sms`, `mysql://user@host/sms`); the fields
    /// below fill in what it leaves out.
    pub url: String,
    pub host: String,
    /// 0: the server's default port.
    pub port: u16,
    pub user: String,
    pub database: String,
    /// The password itself (prefer `password_file` or `password_env`).
    pub password: String,
    /// A file whose first line is the password.
    pub password_file: PathBuf,
    /// An environment variable holding the password.
    pub password_env: String,
    pub tls: DbTls,
    /// Connections kept open to the server.
    pub pool_size: u32,
    /// Milliseconds between checks for rows other programs inserted (MySQL; PostgreSQL is
    /// woken by `NOTIFY` and checks every `poll_interval` only as a safety net).
    pub poll_interval: u64,
    /// Files storage: where received messages are written (`IN...txt`).
    pub inbox_path: PathBuf,
    /// Files storage: where messages to send are read from (`OUT...txt`).
    pub outbox_path: PathBuf,
    /// Files storage: where sent messages are moved.
    pub sent_path: PathBuf,
    /// Files storage: where messages that failed are moved, with a `.error` file.
    pub error_path: PathBuf,
    /// Files storage: `standard` (UTF-8) or `unicode` (UTF-16 with a byte-order mark).
    pub inbox_format: InboxFormat,
    /// Time zone of stored times on a server (`Europe/Warsaw`, `+02:00`); empty: the
    /// host's local zone, like the times gammu-smsd writes.
    pub time_zone: String,
    /// NAV: seconds a phone waits after its SMS failed (NAV's `delay`).
    pub delay: u64,
    /// NAV: the wait is multiplied by this after each further failure (`delayfactor`).
    pub delay_factor: f64,
    /// NAV: the longest wait (`maxdelay`).
    pub max_delay: u64,
    /// NAV: a PostgreSQL interval; alerts older than this are cancelled at start.
    pub autocancel: String,
    /// NAV: a PostgreSQL interval; alerts not sent within it are cancelled (empty: never).
    pub expire_after: String,
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            kind: StorageKind::Sqlite,
            path: "/var/lib/smsgw/smsgw.db".into(),
            busy_timeout: 5000,
            url: String::new(),
            host: String::new(),
            port: 0,
            user: String::new(),
            database: String::new(),
            password: String::new(),
            password_file: PathBuf::new(),
            password_env: String::new(),
            tls: DbTls::Prefer,
            pool_size: 4,
            poll_interval: 1000,
            time_zone: String::new(),
            delay: 30,
            delay_factor: 1.5,
            max_delay: 3600,
            autocancel: String::new(),
            expire_after: String::new(),
            inbox_path: "/var/spool/gammu/inbox".into(),
            outbox_path: "/var/spool/gammu/outbox".into(),
            sent_path: "/var/spool/gammu/sent".into(),
            error_path: "/var/spool/gammu/error".into(),
            inbox_format: InboxFormat::Unicode,
        }
    }
}

fn default_baud() -> u32 {
    115_200
}
fn default_receive_frequency() -> u64 {
    15
}
fn default_status_frequency() -> u64 {
    60
}
fn default_true() -> bool {
    true
}
fn default_command_timeout() -> u64 {
    10
}
fn default_send_timeout() -> u64 {
    60
}

/// `[[phone]]`: one modem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    /// Gammu's PhoneID: routes messages (`outbox.SenderID`) and names the modem.
    pub id: String,
    pub device: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smsc: Option<String>,
    #[serde(default = "default_receive_frequency")]
    pub receive_frequency: u64,
    #[serde(default = "default_status_frequency")]
    pub status_frequency: u64,
    #[serde(default)]
    pub reset_frequency: u64,
    #[serde(default = "default_true")]
    pub send: bool,
    #[serde(default = "default_true")]
    pub receive: bool,
    #[serde(default)]
    pub hangup_calls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_init: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnmi: Option<String>,
    #[serde(default = "default_command_timeout")]
    pub command_timeout: u64,
    #[serde(default = "default_send_timeout")]
    pub send_timeout: u64,
    /// At most this many sends per period (`20/min`, `100/hour`, `10/2s`); excess waits.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rate_text")]
    pub rate: Option<Rate>,
    /// At most this many sends per local day; excess waits for tomorrow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_limit: Option<u32>,
    /// USSD code that answers with the SIM's balance (`*100#`), asked every
    /// `balance_frequency` seconds; the answer shows in `monitor` and the metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_code: Option<String>,
    #[serde(default = "default_balance_frequency")]
    pub balance_frequency: u64,
}

impl Phone {
    /// The settings a `[[transport]]`'s sender runs with: its id, nothing of a modem.
    pub fn route(id: &str) -> Phone {
        Phone {
            id: id.to_string(),
            device: String::new(),
            baud: default_baud(),
            pin: None,
            smsc: None,
            receive_frequency: default_receive_frequency(),
            status_frequency: default_status_frequency(),
            reset_frequency: 0,
            send: true,
            receive: false,
            hangup_calls: false,
            vendor_init: None,
            cnmi: None,
            command_timeout: default_command_timeout(),
            send_timeout: default_send_timeout(),
            rate: None,
            daily_limit: None,
            balance_code: None,
            balance_frequency: default_balance_frequency(),
        }
    }
}

fn default_balance_frequency() -> u64 {
    86400
}

/// A send rate: `count` sends per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: std::time::Duration,
}

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        let bad =
            || format!("invalid rate {s:?}: write count/period, e.g. 20/min, 100/hour, 10/2s");
        let (n, per) = s.split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = per.trim().to_ascii_lowercase();
        let split = per.find(|c: char| !c.is_ascii_digit()).unwrap_or(per.len());
        let (num, unit) = per.split_at(split);
        let num: u64 = if num.is_empty() {
            1
        } else {
            num.parse().map_err(|_| bad())?
        };
        let secs = match unit {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86400,
            _ => return Err(bad()),
        };
        if count == 0 || num == 0 {
            return Err(bad());
        }
        Ok(Rate {
            count,
            period: std::time::Duration::from_secs(num * secs),
        })
    }
}

mod rate_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Rate;

    pub fn serialize<S: Serializer>(r: &Option<Rate>, s: S) -> Result<S::Ok, S::Error> {
        match r {
            Some(r) => s.serialize_str(&format!("{}/{}s", r.count, r.period.as_secs())),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Rate>, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

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
    fn stray_key(&self) -> Option<&'static str> {
        use TransportKind::*;
        let set: [(&'static str, bool, &[TransportKind]); 31] = [
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

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// `daemon`, `storage`, `phone` (each `[[phone]]`), `transport`, `sending`, `receiving`,
    /// `hooks`.
    pub section: &'static str,
    pub name: &'static str,
    /// The default as TOML, or `(required)`, or `(none)`.
    pub default: &'static str,
    pub doc: &'static str,
    /// A valid value, as TOML.
    pub example: &'static str,
    /// An invalid value, as TOML (for the tests of error messages).
    pub bad: &'static str,
}

const REQUIRED: &str = "(required)";
const NONE: &str = "(none)";

/// Every key of the file.
pub const KEYS: &[Key] = &[
    Key { section: "daemon", name: "state_dir", default: "\"/var/lib/smsgw\"", doc: "Directory for the daemon's own state (the rejected-PIN memory).", example: "\"/var/lib/smsgw\"", bad: "1" },
    Key { section: "daemon", name: "control_socket", default: "\"/run/smsgw/control.sock\"", doc: "Unix socket of the running daemon, used by inject and monitor.", example: "\"/run/smsgw/control.sock\"", bad: "true" },
    Key { section: "daemon", name: "pid_file", default: "\"/run/smsgw/smsgw.pid\"", doc: "PID file; a second daemon with the same one refuses to start.", example: "\"/run/smsgw/smsgw.pid\"", bad: "[1]" },
    Key { section: "daemon", name: "log", default: "\"stderr\"", doc: "Where logs go: stderr (journald-friendly) or a file path.", example: "\"/var/log/smsgw.log\"", bad: "5" },
    Key { section: "daemon", name: "log_level", default: "\"info\"", doc: "error, warn, info, debug or trace (debug shows every AT line, PINs masked).", example: "\"debug\"", bad: "\"loud\"" },
    Key { section: "storage", name: "kind", default: "\"sqlite\"", doc: "Storage service: sqlite (Gammu's schema in an SQLite file), postgres or mysql (Gammu's schema on a server; mysql also serves MariaDB), files (Gammu's folder layout), nav (NAV's SMS alert queue, profiles.smsq in NAV's PostgreSQL database: url, host, user, database and the password settings apply; user and database default to nav), or null (store nothing).", example: "\"postgres\"", bad: "\"oracle\"" },
    Key { section: "storage", name: "path", default: "\"/var/lib/smsgw/smsgw.db\"", doc: "SQLite database file; created with Gammu's schema when missing.", example: "\"/var/lib/smsgw/smsgw.db\"", bad: "0" },
    Key { section: "storage", name: "busy_timeout", default: "5000", doc: "Milliseconds to wait for an SQLite lock held by another program (Kalkun, a script).", example: "10000", bad: "-5" },
    Key { section: "storage", name: "url", default: "\"\"", doc: "postgres/mysql: server URL, e.g. postgres://smsd@db.example.org/smsd or mysql://smsd@localhost/smsd; host, port, user, database and the password settings fill in what it leaves out.", example: "\"postgres://smsd@127.0.0.1/smsd\"", bad: "5" },
    Key { section: "storage", name: "host", default: "\"\"", doc: "postgres/mysql: server host name or address (default localhost).", example: "\"db.example.org\"", bad: "1" },
    Key { section: "storage", name: "port", default: "0", doc: "postgres/mysql: server port; 0 for the default (5432, 3306).", example: "5433", bad: "70000" },
    Key { section: "storage", name: "user", default: "\"\"", doc: "postgres/mysql: user name (default smsd).", example: "\"smsd\"", bad: "1" },
    Key { section: "storage", name: "database", default: "\"\"", doc: "postgres/mysql: database name (default smsd, Gammu's).", example: "\"smsd\"", bad: "1" },
    Key { section: "storage", name: "password", default: "\"\"", doc: "postgres/mysql: the password, written in the config (prefer password_file or password_env; never logged).", example: "\"secret\"", bad: "1" },
    Key { section: "storage", name: "password_file", default: "\"\"", doc: "postgres/mysql: a file whose first line is the password (e.g. a systemd credential).", example: "\"/etc/smsgw/db-password\"", bad: "1" },
    Key { section: "storage", name: "password_env", default: "\"\"", doc: "postgres/mysql: name of an environment variable holding the password.", example: "\"SMSGW_DB_PASSWORD\"", bad: "1" },
    Key { section: "storage", name: "tls", default: "\"prefer\"", doc: "postgres/mysql: prefer (TLS when the server offers it), require, or disable.", example: "\"require\"", bad: "\"always\"" },
    Key { section: "storage", name: "pool_size", default: "4", doc: "postgres/mysql/nav: connections kept open to the server (nav: at least one per phone and transport, plus two).", example: "8", bad: "0" },
    Key { section: "storage", name: "poll_interval", default: "1000", doc: "Milliseconds between cheap checks for rows that other programs inserted (the wake-up on MySQL; a safety net behind NOTIFY on PostgreSQL).", example: "500", bad: "0" },
    Key { section: "storage", name: "inbox_path", default: "\"/var/spool/gammu/inbox\"", doc: "files: folder received messages are written to, one file per part named as Gammu names them (IN<date>_<time>_<serial>_<sender>_<part>.txt).", example: "\"/var/spool/sms/inbox\"", bad: "1" },
    Key { section: "storage", name: "outbox_path", default: "\"/var/spool/gammu/outbox\"", doc: "files: folder of messages to send (Gammu's OUT...txt names; smsgw inject writes them).", example: "\"/var/spool/sms/outbox\"", bad: "1" },
    Key { section: "storage", name: "sent_path", default: "\"/var/spool/gammu/sent\"", doc: "files: folder sent messages are moved to (with a .report file once status reports arrive).", example: "\"/var/spool/sms/sent\"", bad: "1" },
    Key { section: "storage", name: "error_path", default: "\"/var/spool/gammu/error\"", doc: "files: folder messages that failed are moved to, with a .error file saying why.", example: "\"/var/spool/sms/error\"", bad: "1" },
    Key { section: "storage", name: "inbox_format", default: "\"unicode\"", doc: "files: unicode (UTF-16 with a byte-order mark, Gammu's and playSMS's) or standard (UTF-8).", example: "\"standard\"", bad: "\"detail\"" },
    Key { section: "storage", name: "time_zone", default: "\"\"", doc: "postgres/mysql: zone of the stored local times (Europe/Warsaw, +02:00); empty for the host's local zone, as gammu-smsd writes them.", example: "\"Europe/Warsaw\"", bad: "3" },
    Key { section: "storage", name: "delay", default: "30", doc: "nav: seconds a phone's alerts wait after their SMS failed (NAV's delay); other phones go on.", example: "60", bad: "\"30s\"" },
    Key { section: "storage", name: "delay_factor", default: "1.5", doc: "nav: the wait is multiplied by this after each further failure (NAV's delayfactor).", example: "2.0", bad: "\"x\"" },
    Key { section: "storage", name: "max_delay", default: "3600", doc: "nav: the longest wait between tries for one phone (NAV's maxdelay).", example: "600", bad: "-5" },
    Key { section: "storage", name: "autocancel", default: "\"\"", doc: "nav: a PostgreSQL interval; queued alerts older than this are cancelled (sent = 'I') once at start, as NAV's autocancel.", example: "\"1 day\"", bad: "1" },
    Key { section: "storage", name: "expire_after", default: "\"\"", doc: "nav: a PostgreSQL interval; an alert not sent within it is cancelled (sent = 'I', logged), each on its own age; empty: alerts wait for ever (NAV instead dropped the whole queue after five failed scans).", example: "\"6 hours\"", bad: "[]" },
    Key { section: "phone", name: "id", default: REQUIRED, doc: "PhoneID: names the modem; outbox rows with this SenderID go only to it.", example: "\"modem1\"", bad: "3" },
    Key { section: "phone", name: "device", default: REQUIRED, doc: "Serial device (prefer /dev/serial/by-id/...), tcp://host:port, or sim for the built-in simulated modem.", example: "\"/dev/ttyUSB0\"", bad: "false" },
    Key { section: "phone", name: "baud", default: "115200", doc: "Serial speed.", example: "9600", bad: "\"fast\"" },
    Key { section: "phone", name: "pin", default: NONE, doc: "SIM PIN, entered when the SIM asks; a PIN the SIM rejected is never sent again by itself.", example: "\"1234\"", bad: "1234" },
    Key { section: "phone", name: "smsc", default: NONE, doc: "SMSC number for outgoing messages; without it the modem's own.", example: "\"+48602000000\"", bad: "48602000000" },
    Key { section: "phone", name: "receive_frequency", default: "15", doc: "Seconds between sweeps of the modem's storage (new messages are also read at once on +CMTI).", example: "30", bad: "\"often\"" },
    Key { section: "phone", name: "status_frequency", default: "60", doc: "Seconds between signal/battery/network refreshes; 0 disables.", example: "120", bad: "-1" },
    Key { section: "phone", name: "reset_frequency", default: "0", doc: "Seconds between preventive modem resets (AT+CFUN=1,1); 0 disables.", example: "86400", bad: "1.5" },
    Key { section: "phone", name: "send", default: "true", doc: "Send messages through this modem.", example: "false", bad: "\"no\"" },
    Key { section: "phone", name: "receive", default: "true", doc: "Receive messages from this modem.", example: "false", bad: "1" },
    Key { section: "phone", name: "hangup_calls", default: "false", doc: "Hang up incoming calls.", example: "true", bad: "\"yes\"" },
    Key { section: "phone", name: "vendor_init", default: NONE, doc: "AT commands sent after identify, replacing the vendor defaults (Huawei AT^CURC=0, ZTE); [] sends none.", example: "[\"AT^CURC=0\"]", bad: "\"AT^CURC=0\"" },
    Key { section: "phone", name: "cnmi", default: NONE, doc: "AT+CNMI setting tried first (e.g. \"2,1,0,2,0\"); the usual fallbacks follow.", example: "\"2,1,0,2,0\"", bad: "2" },
    Key { section: "phone", name: "command_timeout", default: "10", doc: "Seconds to wait for the answer to an AT command.", example: "5", bad: "\"5s\"" },
    Key { section: "phone", name: "send_timeout", default: "60", doc: "Seconds to wait for +CMGS after a message went out (busy networks are slow).", example: "90", bad: "[]" },
    Key { section: "phone", name: "rate", default: NONE, doc: "At most this many sends per period (20/min, 100/hour, 10/2s); the rest waits in the outbox. Counted from sentitems, so it survives a restart.", example: "\"20/min\"", bad: "\"fast\"" },
    Key { section: "phone", name: "daily_limit", default: NONE, doc: "At most this many sends per local day (a SIM plan's cap); the rest waits for tomorrow.", example: "500", bad: "-3" },
    Key { section: "phone", name: "balance_code", default: NONE, doc: "USSD code answering with the SIM's balance (prepaid cards); asked after connecting and every balance_frequency seconds, shown by monitor and the metrics.", example: "\"*100#\"", bad: "100" },
    Key { section: "phone", name: "balance_frequency", default: "86400", doc: "Seconds between balance checks when balance_code is set (at least 60).", example: "3600", bad: "\"daily\"" },
    Key { section: "transport", name: "id", default: REQUIRED, doc: "The route id: what outbox.SenderID names to send through this transport, and what sentitems.SenderID records.", example: "\"gw1\"", bad: "1" },
    Key { section: "transport", name: "kind", default: REQUIRED, doc: "smpp (an SMSC over SMPP 3.4), http (a web gateway), soap (a SOAP 1.1 call), mail (e-mail to an SMS gateway), debug (logs only) or failover (other transports tried in order).", example: "\"http\"", bad: "\"pigeon\"" },
    Key { section: "transport", name: "url", default: "\"\"", doc: "http/soap: the gateway URL, a template: {phone}, {text}, {sender}, {username}, {password}, {id} (and NAV's %(phone)s, %(sms)s) are replaced, percent-encoded (+ becomes %2B).", example: "\"https://gw.example.org/send?to={phone}&msg={text}\"", bad: "3" },
    Key { section: "transport", name: "method", default: "\"\"", doc: "http: GET or POST; empty: POST when a body is set, else GET.", example: "\"POST\"", bad: "\"PUT\"" },
    Key { section: "transport", name: "body", default: "\"\"", doc: "http/soap/mail: the body template; values are escaped for the content type (form, JSON, XML). Empty: phone={phone}&text={text} for an http POST, Boost's sendMessage envelope for soap, {text} for mail.", example: "\"{\\\"to\\\": \\\"{phone}\\\", \\\"text\\\": \\\"{text}\\\"}\"", bad: "\"{nope}\"" },
    Key { section: "transport", name: "content_type", default: "\"\"", doc: "http/soap: the body's Content-Type; empty: JSON for a body starting with {, XML for soap, else a form.", example: "\"application/json\"", bad: "[]" },
    Key { section: "transport", name: "headers", default: "{}", doc: "http/soap: extra request headers; values are templates (e.g. an API key from {password}).", example: "{ \"X-Api-Key\" = \"{password}\" }", bad: "{ \"Bad Name\" = \"x\" }" },
    Key { section: "transport", name: "auth", default: "\"\"", doc: "http/soap: none, basic (username and password) or bearer (the password is the token).", example: "\"basic\"", bad: "\"digest\"" },
    Key { section: "transport", name: "username", default: "\"\"", doc: "http/soap/mail: the user for basic auth, {username}, or the SMTP login; smpp: the bind's system_id (write it system_id there).", example: "\"smsgw\"", bad: "1" },
    Key { section: "transport", name: "system_id", default: "\"\"", doc: "smpp: the bind's system_id, the account at the SMSC (another name for username).", example: "\"smsgw\"", bad: "1" },
    Key { section: "transport", name: "password", default: "\"\"", doc: "http/soap/mail/smpp: the password or token, written in the config (prefer password_file or password_env; never logged).", example: "\"secret\"", bad: "1" },
    Key { section: "transport", name: "password_file", default: "\"\"", doc: "http/soap/mail/smpp: a file whose first line is the password or token.", example: "\"/etc/smsgw/gw-password\"", bad: "1" },
    Key { section: "transport", name: "password_env", default: "\"\"", doc: "http/soap/mail/smpp: an environment variable holding the password or token.", example: "\"SMSGW_GW_TOKEN\"", bad: "2" },
    Key { section: "transport", name: "timeout", default: "30", doc: "Seconds a send (an HTTP request, an SMTP dialogue, a submit_sm's response) may take; after that its outcome is unknown (retried on the same transport, never failed over).", example: "10", bad: "\"10s\"" },
    Key { section: "transport", name: "success_pattern", default: "\"\"", doc: "http/soap: a regular expression the answer body must match to count as sent (gateways that answer 200 with an error).", example: "\"^OK\"", bad: "\"(\"" },
    Key { section: "transport", name: "id_pattern", default: "\"\"", doc: "http/soap: a regular expression whose first group is the gateway's message id.", example: "\"id=(\\\\w+)\"", bad: "\"[\"" },
    Key { section: "transport", name: "sender", default: "\"\"", doc: "http/soap: {sender} in templates; mail: the From address (default smsgw@<host name>); smpp: the source address (a name is sent as alphanumeric, +digits as international).", example: "\"NAV\"", bad: "[1]" },
    Key { section: "transport", name: "soap_method", default: "\"\"", doc: "soap: the operation of the default envelope (empty: sendMessage).", example: "\"sendMessage\"", bad: "1" },
    Key { section: "transport", name: "soap_namespace", default: "\"\"", doc: "soap: the namespace of the operation.", example: "\"urn:boost\"", bad: "1" },
    Key { section: "transport", name: "soap_action", default: "\"\"", doc: "soap: the SOAPAction header.", example: "\"urn:boost#sendMessage\"", bad: "1" },
    Key { section: "transport", name: "host", default: "\"\"", doc: "mail: the SMTP server (empty: localhost); smpp: the SMSC.", example: "\"smtp.example.org\"", bad: "1" },
    Key { section: "transport", name: "port", default: "0", doc: "mail: the SMTP port (0: 25, 587 or 465 by tls); smpp: the SMSC's port (0: 2775).", example: "587", bad: "\"smtp\"" },
    Key { section: "transport", name: "tls", default: "\"\"", doc: "mail: none, starttls (the default) or tls. smpp: none (the default) or tls (TLS from the start, the certificate checked against the usual roots and ca_file, for the name in host).", example: "\"none\"", bad: "\"maybe\"" },
    Key { section: "transport", name: "ca_file", default: "\"\"", doc: "smpp with tls: a PEM file of CA certificates to trust besides the usual roots (an SMSC whose certificate comes from its own CA).", example: "\"/etc/smsgw/smsc-ca.pem\"", bad: "3" },
    Key { section: "transport", name: "to", default: "\"\"", doc: "mail: the recipient template, e.g. sms@gw.example.org (NAV's mailaddr) or {phone}@sms.example.org.", example: "\"sms@gw.example.org\"", bad: "\"{number}@x\"" },
    Key { section: "transport", name: "subject", default: "\"\"", doc: "mail: the subject template (empty: NAV's sms {phone}).", example: "\"sms {phone}\"", bad: "\"{subj}\"" },
    Key { section: "transport", name: "result", default: "\"\"", doc: "debug: what the transport answers: success (the default), fail, error, permanent, rejected or unknown.", example: "\"fail\"", bad: "\"maybe\"" },
    Key { section: "transport", name: "system_type", default: "\"\"", doc: "smpp: the bind's system_type, when the SMSC wants one.", example: "\"VMA\"", bad: "1" },
    Key { section: "transport", name: "address_range", default: "\"\"", doc: "smpp: the bind's address_range, when the SMSC wants one (the numbers a receiver serves).", example: "\"^4860\"", bad: "1" },
    Key { section: "transport", name: "interface_version", default: "52", doc: "smpp: the bind's interface_version: 52 (0x34) for SMPP 3.4; 51 (0x33) for an SMSC that wants 3.3.", example: "51", bad: "\"3.4\"" },
    Key { section: "transport", name: "bind", default: "\"transceiver\"", doc: "smpp: transceiver (one connection that sends and receives), transmitter (sends only: no receipts, no messages in), or transmitter+receiver (a second connection bound as receiver, for SMSCs that want that). Received messages go to the inbox like a modem's (parts of long messages joined by UDH or SAR); receipts update the sent part's status by the SMSC's message id.", example: "\"transmitter\"", bad: "\"receiver\"" },
    Key { section: "transport", name: "default_alphabet", default: "\"gsm\"", doc: "smpp: what data_coding 0 (the SMSC's default alphabet) means to this SMSC: gsm (GSM 03.38, one septet per octet, the usual SMPP form), gsm-packed (GSM 03.38 packed 7-bit), or latin1 (ISO-8859-1: GSM text goes as data_coding 3, and a character with no Latin-1 code, like the euro sign, makes the message fail with that reason). Received messages in data_coding 0 are read the same way.", example: "\"latin1\"", bad: "\"utf8\"" },
    Key { section: "transport", name: "rate", default: "0", doc: "smpp: at most this many submit_sm a second on the link (spaced evenly; 0: no limit besides the window; the window is then at most 20 seconds' worth, so that a claimed batch goes out within its lease). An SMSC that still answers ESME_RTHROTTLED makes the messages wait and go later without using a retry.", example: "50", bad: "-5" },
    Key { section: "transport", name: "window", default: "10", doc: "smpp: how many submit_sm (1 to 1000) may wait for their responses at once (the send window: the daemon claims up to this many messages at a time, sends them at once, a message's parts in order, and records them in one commit). A crash or a dropped link can leave up to this many messages in an unknown state: they are sent again once.", example: "64", bad: "-1" },
    Key { section: "transport", name: "enquire_link", default: "30", doc: "smpp: seconds between enquire_links; the link is dropped and bound again when one is not answered within timeout.", example: "60", bad: "\"1m\"" },
    Key { section: "transport", name: "long_messages", default: "\"\"", doc: "smpp: how a long message goes: udh (the default: each part with its concatenation header, esm_class 0x40), sar (each part with the sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs, for SMSCs that want them), or payload (the whole message in one submit_sm, in the message_payload TLV when it is longer than 254 octets; the SMSC splits it; the receipt names the first part).", example: "\"sar\"", bad: "\"split\"" },
    Key { section: "transport", name: "members", default: "[]", doc: "failover: the ids of the transports to try, in order; a member sends only through its list.", example: "[\"d\"]", bad: "[\"nope\"]" },
    Key { section: "transport", name: "failures", default: "3", doc: "failover: failures in a row after which a member is skipped for cooldown seconds (a route-down answer skips it at once).", example: "5", bad: "-1" },
    Key { section: "transport", name: "cooldown", default: "60", doc: "failover: seconds a failing member is skipped; then one message tries it again.", example: "300", bad: "\"1m\"" },
    Key { section: "transport", name: "prefixes", default: "[]", doc: "In a failover list: only numbers starting with one of these go through this transport; empty: every number.", example: "[\"+47\"]", bad: "\"+47\"" },
    Key { section: "sending", name: "max_retries", default: "1", doc: "Attempts after the first before a message ends as SendingError (Gammu's MaxRetries).", example: "3", bad: "-1" },
    Key { section: "sending", name: "retry_timeout", default: "600", doc: "Seconds before a failed message is tried again (Gammu's RetryTimeout).", example: "60", bad: "\"10m\"" },
    Key { section: "sending", name: "delivery_reports", default: "false", doc: "Ask for a status report when the outbox row says DeliveryReport='default'.", example: "true", bad: "\"sms\"" },
    Key { section: "sending", name: "delivery_report_delay", default: "600", doc: "Seconds between a send and its report's time stamp that still match (plus an hour for DST).", example: "3600", bad: "false" },
    Key { section: "sending", name: "validity", default: "\"none\"", doc: "Validity of messages that do not set one: none, max, HOUR, 6HOURS, DAY, 3DAYS, WEEK, or 30m, 2h, 3d, 1w.", example: "\"3d\"", bad: "\"soon\"" },
    Key { section: "receiving", name: "multipart_timeout", default: "600", doc: "Seconds to wait for missing parts of a concatenated message before storing what arrived.", example: "3600", bad: "\"1h\"" },
    Key { section: "receiving", name: "include_numbers", default: "[]", doc: "When not empty, only messages from these numbers are received.", example: "[\"+48600100200\"]", bad: "\"+48600100200\"" },
    Key { section: "receiving", name: "exclude_numbers", default: "[]", doc: "Messages from these numbers are not received (they stay on the SIM).", example: "[\"+48600100200\"]", bad: "[1]" },
    Key { section: "receiving", name: "include_numbers_file", default: NONE, doc: "File of numbers (one a line) added to include_numbers.", example: "\"/etc/smsgw/include.txt\"", bad: "7" },
    Key { section: "receiving", name: "exclude_numbers_file", default: NONE, doc: "File of numbers (one a line) added to exclude_numbers.", example: "\"/etc/smsgw/exclude.txt\"", bad: "true" },
    Key { section: "hooks", name: "run_on_receive", default: NONE, doc: "Program run once for every received message or status report, after it was stored, with the inbox IDs (or file names) as arguments and Gammu's SMS_* and DECODED_* variables (Gammu's RunOnReceive).", example: "\"/usr/local/bin/on-sms\"", bad: "1" },
    Key { section: "hooks", name: "run_on_sent", default: NONE, doc: "Program run after a message was sent, with its outbox ID (Gammu's RunOnSent).", example: "\"/usr/local/bin/on-sent\"", bad: "[1]" },
    Key { section: "hooks", name: "run_on_failure", default: NONE, doc: "Program run after each failed attempt to send a message (its ID; SMSGW_FINAL=yes when no retry is left, SMSGW_ERROR the reason) and with INIT when the modem cannot be set up (Gammu's RunOnFailure).", example: "\"/usr/local/bin/on-failure\"", bad: "false" },
    Key { section: "hooks", name: "run_on_incoming_call", default: NONE, doc: "Program run on an incoming call, with the caller's number (Gammu's RunOnIncomingCall).", example: "\"/usr/local/bin/on-call\"", bad: "2" },
    Key { section: "hooks", name: "run_on_report", default: NONE, doc: "Program run for each status report once it is applied, with the sentitems ID it matched as argument (none when it matched nothing): SMSGW_DELIVERY is DeliveryOK, DeliveryPending, DeliveryFailed or DeliveryUnknown, SMSGW_STATUS the TP-ST value, SMS_1_NUMBER the recipient, SMS_1_REFERENCE the TP-MR.", example: "\"/usr/local/bin/on-report\"", bad: "3" },
    Key { section: "hooks", name: "timeout", default: "60", doc: "Seconds a hook may run before it is killed.", example: "10", bad: "\"1m\"" },
    Key { section: "spool", name: "dir", default: "\"\"", doc: "Directory watched for message files (smstools3 format, or Gammu's OUT...txt files) to queue into the storage within milliseconds; write each file under another name (a dot name, or another directory) and rename it in. Empty watches nothing.", example: "\"/var/spool/sms/outgoing\"", bad: "7" },
    Key { section: "spool", name: "rescan", default: "5", doc: "Seconds between rescans of the spool directory, the safety net behind inotify; a file is taken by a rescan only when unchanged since the previous one.", example: "10", bad: "0" },
    Key { section: "spool", name: "queues", default: "{}", doc: "smstools3 Queue: names mapped to PhoneIDs (a name not listed is taken as the PhoneID).", example: "{ alerts = \"modem1\" }", bad: "[1]" },
    Key { section: "retention", name: "days", default: "0", doc: "Once a day, delete inbox and sent items older than this many days (as `smsgw db prune`); 0 keeps everything.", example: "90", bad: "\"90d\"" },
    Key { section: "metrics", name: "listen", default: "\"\"", doc: "host:port of a Prometheus endpoint (/metrics); empty serves nothing. Keep it on 127.0.0.1 unless a firewall protects it.", example: "\"127.0.0.1:9745\"", bad: "9745" },
    Key { section: "inbox_storage", name: "kind", default: NONE, doc: "With a nav [storage] (NAV's queue keeps no received messages): a second storage for received messages, with the same keys as [storage] (sqlite, postgres, mysql or files). Without it, phones do not receive.", example: "\"sqlite\"", bad: "\"pigeon\"" },
];

/// Sections that are arrays of tables (`[[phone]]`).
pub const ARRAY_SECTIONS: &[&str] = &["phone", "transport"];

/// A config that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is not on one line (the file cannot be read).
    pub line: usize,
    /// `section.key`, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The section header (`[x]` or `[[x]]`) in force at `line` (1-based) and the key written on
/// that line, if any.
fn locate(text: &str, line: usize) -> (Option<String>, Option<String>) {
    let mut section = None;
    let mut key = None;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            section = Some(t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        }
        if i + 1 == line {
            if let Some((k, _)) = t.split_once('=') {
                key = Some(k.trim().trim_matches('"').to_string());
            }
            break;
        }
    }
    (section, key)
}

fn line_of(text: &str, offset: usize) -> usize {
    // Counted on bytes: an offset inside a multi-byte character cannot panic.
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Where a new user starts, named in the errors about a missing or empty config.
const START_HINT: &str = "Start from the example (/usr/share/doc/smsgw/examples/usb-modem-sqlite.toml, or contrib/examples/ in the source), or convert a gammu-smsd config with `smsgw config import-gammu -c /etc/gammu-smsdrc`";

/// Whether `text` is a gammu-smsd INI file rather than TOML: a `[gammu]` or `[smsd]`
/// section (any case) with `key = value` lines TOML would not take.
fn looks_like_gammu(text: &str) -> bool {
    let mut sections = text.lines().map(str::trim).filter(|l| l.starts_with('['));
    let gammu_section = sections.any(|l| {
        let l = l.to_ascii_lowercase();
        l == "[gammu]" || l == "[smsd]"
    });
    gammu_section && toml::from_str::<toml::Table>(text).is_err()
}

/// The edit distance of two short words (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// serde's message made for a person: the nearest key for a typo, no Rust type names, and
/// what to write instead where it is clear.
fn friendly(message: &str, section: Option<&str>, key: Option<&str>) -> String {
    let section_name = section
        .map(|s| s.trim_matches(|c| c == '[' || c == ']').to_string())
        .unwrap_or_default();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let unknown = rest.split('`').next().unwrap_or_default();
        if key.is_none() && unknown == section_name {
            let mut sections: Vec<&str> = KEYS.iter().map(|k| k.section).collect();
            sections.dedup();
            let best = sections
                .iter()
                .map(|s| (distance(unknown, s), *s))
                .min()
                .filter(|(d, _)| *d <= 2);
            return match best {
                Some((_, s)) => format!("unknown section [{unknown}]: did you mean [{s}]?"),
                None => format!(
                    "unknown section [{unknown}] (the sections are {})",
                    sections.join(", ")
                ),
            };
        }
        let candidates: Vec<&str> = KEYS
            .iter()
            .filter(|k| section_name.is_empty() || k.section == section_name)
            .map(|k| k.name)
            .collect();
        let best = candidates
            .iter()
            .map(|k| (distance(unknown, k), *k))
            .min()
            .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < unknown.len());
        return match best {
            Some((_, k)) => format!("unknown key `{unknown}`: did you mean `{k}`?"),
            None => format!(
                "unknown key `{unknown}` (every key is listed in smsgw.toml(5) and `smsgw config check --keys`)"
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        return format!("unknown value `{rest}");
    }
    if message.starts_with("invalid type: integer") && message.contains("expected a string") {
        let n = message.split('`').nth(1).unwrap_or_default().to_string();
        return match key {
            Some("pin") => format!(
                "write the PIN in quotes: pin = \"{n}\" (as a number, a leading 0 would be lost)"
            ),
            Some(k) => format!("write the value in quotes: {k} = \"{n}\""),
            None => format!("write the value in quotes: \"{n}\""),
        };
    }
    let mut m = message.to_string();
    for (rust, plain) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        (
            "expected a sequence",
            "expected a list in brackets: [\"a\", \"b\"]",
        ),
        ("expected a map", "expected a table"),
    ] {
        m = m.replace(rust, plain);
    }
    m
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            key: None,
            message: if e.kind() == std::io::ErrorKind::NotFound {
                format!("cannot read the config: {e}. {START_HINT}")
            } else {
                format!("cannot read the config: {e}")
            },
        })?;
        Config::parse(&text, path)
    }

    /// Parses and checks config text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let whole = |message: String| ConfigError {
            file: file.to_path_buf(),
            line: 0,
            key: None,
            message,
        };
        if looks_like_gammu(text) {
            return Err(whole(format!(
                "this looks like a gammu-smsd config (INI with [gammu]/[smsd]), not smsgw's TOML: convert it with `smsgw config import-gammu -c {} > smsgw.toml`",
                file.display()
            )));
        }
        if text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        }) {
            return Err(whole(format!(
                "the config is empty: it needs at least a [[phone]] (or a [[transport]]). {START_HINT}"
            )));
        }
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            let (section, key) = locate(text, line);
            let message = friendly(e.message(), section.as_deref(), key.as_deref());
            ConfigError {
                file: file.to_path_buf(),
                line,
                key: match (section, key) {
                    (Some(s), Some(k)) => Some(format!("{s}.{k}")),
                    (None, Some(k)) => Some(k),
                    (Some(s), None) => Some(s),
                    (None, None) => None,
                },
                message,
            }
        })?;
        cfg.check(text, file)?;
        Ok(cfg)
    }

    /// Checks what types alone cannot.
    fn check(&self, text: &str, file: &Path) -> Result<(), ConfigError> {
        let err = |needle: &str, key: &str, message: String| {
            let line = text.find(needle).map_or(0, |off| line_of(text, off));
            ConfigError {
                file: file.to_path_buf(),
                line,
                key: Some(key.to_string()),
                message,
            }
        };
        if !self.metrics.listen.is_empty()
            && self.metrics.listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(err(
                "listen",
                "metrics.listen",
                format!(
                    "{:?} is not host:port (e.g. 127.0.0.1:9745)",
                    self.metrics.listen
                ),
            ));
        }
        if self.spool.rescan == 0 {
            return Err(err(
                "rescan",
                "spool.rescan",
                "must be at least 1 (seconds)".into(),
            ));
        }
        if self.storage.pool_size == 0 {
            return Err(err(
                "pool_size",
                "storage.pool_size",
                "must be at least 1".into(),
            ));
        }
        if self.storage.poll_interval == 0 {
            return Err(err(
                "poll_interval",
                "storage.poll_interval",
                "must be at least 1 (milliseconds)".into(),
            ));
        }
        let levels = ["error", "warn", "info", "debug", "trace"];
        if !levels.contains(&self.daemon.log_level.as_str()) {
            return Err(err(
                "log_level",
                "daemon.log_level",
                format!(
                    "{:?} is not one of {}",
                    self.daemon.log_level,
                    levels.join(", ")
                ),
            ));
        }
        if let Some(inbox) = &self.inbox_storage {
            if matches!(inbox.kind, StorageKind::Nav | StorageKind::Null) {
                return Err(err(
                    "[inbox_storage]",
                    "inbox_storage.kind",
                    "received messages need a storage that keeps them: sqlite, postgres, mysql or files".into(),
                ));
            }
            if self.storage.kind != StorageKind::Nav {
                return Err(err(
                    "[inbox_storage]",
                    "inbox_storage",
                    "only a nav [storage] needs a second storage for received messages".into(),
                ));
            }
        }
        // The line where `id = "x"` is written for the second time (a duplicate).
        let second_id = |id: &str| {
            let mut seen = 0;
            text.lines()
                .position(|l| {
                    let is = l.split_once('=').is_some_and(|(k, v)| {
                        k.trim() == "id" && v.trim().trim_matches(['"', '\'']) == id
                    });
                    seen += usize::from(is);
                    seen == 2
                })
                .map_or(0, |i| i + 1)
        };
        let mut ids = HashSet::new();
        for p in &self.phones {
            if p.id.trim().is_empty() {
                return Err(err("id", "phone.id", "a phone needs a non-empty id".into()));
            }
            if !ids.insert(p.id.as_str()) {
                return Err(ConfigError {
                    file: file.to_path_buf(),
                    line: second_id(&p.id),
                    key: Some("phone.id".into()),
                    message: format!("a second phone with the id {:?}: each needs its own", p.id),
                });
            }
            if p.device.trim().is_empty() {
                return Err(err(
                    "device",
                    "phone.device",
                    format!("phone {:?} needs a device", p.id),
                ));
            }
            if !(p.device == "sim" || p.device.starts_with('/') || p.device.contains("://")) {
                return Err(err(
                    &format!("\"{}\"", p.device),
                    "phone.device",
                    format!(
                        "{:?} is not a device path: write the full path, e.g. \"/dev/{}\" (or /dev/serial/by-id/..., tcp://host:port, \"sim\")",
                        p.device,
                        p.device.trim_start_matches("dev/")
                    ),
                ));
            }
            if p.baud == 0 {
                return Err(err("baud", "phone.baud", "must be above 0".into()));
            }
            if p.command_timeout == 0 || p.send_timeout == 0 {
                return Err(err(
                    "timeout",
                    "phone.command_timeout",
                    "timeouts must be at least 1 second".into(),
                ));
            }
            if let Some(pin) = &p.pin {
                if pin.is_empty() || pin.len() > 8 || !pin.chars().all(|c| c.is_ascii_digit()) {
                    return Err(err(
                        "pin",
                        "phone.pin",
                        "a PIN is 4 to 8 digits (write it in quotes)".into(),
                    ));
                }
            }
            if let Some(smsc) = &p.smsc {
                if let Err(e) = crate::pdu::Address::number(smsc) {
                    return Err(err("smsc", "phone.smsc", e.to_string()));
                }
            }
        }
        for t in &self.transports {
            if t.id.trim().is_empty() {
                return Err(err(
                    "id",
                    "transport.id",
                    "a transport needs a non-empty id".into(),
                ));
            }
            if !ids.insert(t.id.as_str()) {
                return Err(ConfigError {
                    file: file.to_path_buf(),
                    line: second_id(&t.id),
                    key: Some("transport.id".into()),
                    message: format!(
                        "the route id {:?} is used a second time (phones and transports share the ids)",
                        t.id
                    ),
                });
            }
            if let Some(key) = t.stray_key() {
                return Err(err(
                    key,
                    &format!("transport.{key}"),
                    format!("transport {:?} is {:?}, which has no {key}", t.id, t.kind),
                ));
            }
            if let Err(e) =
                crate::transport::build(t, &self.transports, crate::transport::Secrets::Skip)
            {
                let key = e
                    .split_once(": ")
                    .and_then(|(_, rest)| rest.split_once(':'))
                    .map(|(k, _)| k.to_string())
                    .filter(|k| !k.contains(' '))
                    .unwrap_or_else(|| "kind".into());
                return Err(err(&key, &format!("transport.{key}"), e));
            }
        }
        for (list, key) in [
            (&self.receiving.include_numbers, "receiving.include_numbers"),
            (&self.receiving.exclude_numbers, "receiving.exclude_numbers"),
        ] {
            for n in list.iter() {
                if crate::pdu::Address::parse(n).is_err() {
                    return Err(err(
                        n,
                        key,
                        format!("{n:?} is not a phone number or sender name"),
                    ));
                }
            }
        }
        // gammu-smsd refuses to start without them (ERR_CANTOPENFILE): a missing list must
        // not let every number through, nor shut every number out.
        for (file_key, path) in [
            (
                "receiving.include_numbers_file",
                &self.receiving.include_numbers_file,
            ),
            (
                "receiving.exclude_numbers_file",
                &self.receiving.exclude_numbers_file,
            ),
        ] {
            if let Some(path) = path {
                if let Err(e) = std::fs::read_to_string(path) {
                    return Err(err(
                        file_key.rsplit('.').next().unwrap_or(file_key),
                        file_key,
                        format!("cannot read {}: {e}", path.display()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The key table as text, for `smsgw config check --keys` and the man page.
    pub fn describe_keys() -> String {
        let mut out = String::new();
        let mut section = "";
        for k in KEYS {
            if k.section != section {
                section = k.section;
                let header = if ARRAY_SECTIONS.contains(&section) {
                    format!("[[{section}]]")
                } else {
                    format!("[{section}]")
                };
                out.push_str(&format!("\n{header}\n"));
            }
            out.push_str(&format!(
                "  {}  (default: {})\n      {}\n      For example: {} = {}\n",
                k.name, k.default, k.doc, k.name, k.example
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("smsgw.toml"))
    }

    /// A config with one phone and one transport so that every section exists.
    fn full_defaults() -> toml::Table {
        let cfg = parse("[[phone]]\nid = \"m\"\ndevice = \"/dev/null\"\n").unwrap();
        let mut v = toml::Table::try_from(&cfg).unwrap();
        let transport: Transport = toml::from_str("id = \"t\"\nkind = \"debug\"").unwrap();
        let transport = toml::Value::try_from(transport).unwrap();
        v.insert("transport".into(), toml::Value::Array(vec![transport]));
        v
    }

    fn value_of<'a>(t: &'a toml::Table, section: &str, key: &str) -> Option<&'a toml::Value> {
        let s = t.get(section)?;
        let table = match s {
            toml::Value::Array(a) => a.first()?.as_table()?,
            toml::Value::Table(t) => t,
            _ => return None,
        };
        table.get(key)
    }

    #[test]
    fn the_key_table_lists_exactly_the_keys_the_parser_knows() {
        let t = full_defaults();
        let mut serialized = HashSet::new();
        for (section, v) in &t {
            let tables: Vec<&toml::Table> = match v {
                toml::Value::Array(a) => a.iter().filter_map(|x| x.as_table()).collect(),
                toml::Value::Table(t) => vec![t],
                _ => vec![],
            };
            for table in tables {
                for key in table.keys() {
                    serialized.insert(format!("{section}.{key}"));
                }
            }
        }
        let documented: HashSet<String> = KEYS
            .iter()
            .map(|k| format!("{}.{}", k.section, k.name))
            .collect();
        // Optional keys without a default are not serialized; they must still be documented.
        let optional: HashSet<String> = KEYS
            .iter()
            .filter(|k| k.default == NONE)
            .map(|k| format!("{}.{}", k.section, k.name))
            .collect();
        for s in &serialized {
            assert!(documented.contains(s), "{s} is accepted but not in KEYS");
        }
        for d in &documented {
            assert!(
                serialized.contains(d) || optional.contains(d) || ALIASES.contains(&d.as_str()),
                "{d} is in KEYS but not a field"
            );
        }
    }

    /// Keys that serde reads as another field (`#[serde(alias)]`): documented, never
    /// written back.
    const ALIASES: [&str; 1] = ["transport.system_id"];

    #[test]
    fn every_key_has_its_documented_default() {
        let t = full_defaults();
        for k in KEYS {
            if k.default == REQUIRED
                || k.default == NONE
                || ALIASES.contains(&format!("{}.{}", k.section, k.name).as_str())
            {
                continue;
            }
            let want: toml::Value =
                toml::from_str::<toml::Table>(&format!("v = {}", k.default)).unwrap()["v"].clone();
            assert_eq!(
                value_of(&t, k.section, k.name),
                Some(&want),
                "{}.{}",
                k.section,
                k.name
            );
        }
    }

    fn config_with(k: &Key, value: &str) -> String {
        let base_phone =
            |extra: &str| format!("[[phone]]\nid = \"m\"\ndevice = \"/dev/null\"\n{extra}");
        match k.section {
            "phone" => {
                let mut fields = vec![("id", "\"m\""), ("device", "\"/dev/null\"")];
                fields.retain(|(n, _)| *n != k.name);
                let mut s = String::from("# a comment\n[[phone]]\n");
                for (n, v) in fields {
                    s.push_str(&format!("{n} = {v}\n"));
                }
                s.push_str(&format!("{} = {value}\n", k.name));
                s
            }
            "transport" => {
                let mut s = base_phone("");
                // A debug transport "d" for failover members, then one of the kind that
                // uses the key, with what that kind requires.
                s.push_str("[[transport]]\nid = \"d\"\nkind = \"debug\"\n[[transport]]\n");
                let (kind, needs): (&str, &[(&str, &str)]) = match k.name {
                    "host" | "port" | "tls" | "to" | "subject" => {
                        ("mail", &[("to", "\"sms@gw.example.org\"")])
                    }
                    "soap_method" | "soap_namespace" | "soap_action" => {
                        ("soap", &[("url", "\"http://gw/\"")])
                    }
                    "result" => ("debug", &[]),
                    "system_type" | "system_id" | "address_range" | "interface_version"
                    | "bind" | "enquire_link" | "long_messages" | "window" | "default_alphabet"
                    | "rate" => ("smpp", &[("host", "\"smsc.example.org\"")]),
                    "ca_file" => (
                        "smpp",
                        &[("host", "\"smsc.example.org\""), ("tls", "\"tls\"")],
                    ),
                    "members" => ("failover", &[]),
                    _ => ("http", &[("url", "\"http://gw/\""), ("method", "\"POST\"")]),
                };
                if k.name != "id" {
                    s.push_str("id = \"t\"\n");
                }
                if k.name != "kind" {
                    s.push_str(&format!("kind = \"{kind}\"\n"));
                }
                for (n, v) in needs {
                    if *n != k.name {
                        s.push_str(&format!("{n} = {v}\n"));
                    }
                }
                s.push_str(&format!("{} = {value}\n", k.name));
                s
            }
            "inbox_storage" => format!(
                "[storage]\nkind = \"nav\"\n\n[inbox_storage]\n{} = {value}\n",
                k.name
            ),
            section => format!("# a comment\n\n[{section}]\n{} = {value}\n", k.name),
        }
    }

    #[test]
    fn every_key_accepts_its_example() {
        // The numbers files must exist (the daemon refuses to start without them).
        let numbers = tempfile::NamedTempFile::new().unwrap();
        for k in KEYS {
            let text = config_with(k, k.example)
                .replace(
                    "\"/etc/smsgw/include.txt\"",
                    &format!("{:?}", numbers.path()),
                )
                .replace(
                    "\"/etc/smsgw/exclude.txt\"",
                    &format!("{:?}", numbers.path()),
                );
            match parse(&text) {
                Ok(_) => {}
                Err(e) => panic!("{}.{} = {}: {e}", k.section, k.name, k.example),
            }
        }
    }

    #[test]
    fn every_bad_value_names_file_line_and_key() {
        for k in KEYS {
            let text = config_with(k, k.bad);
            let e = parse(&text).expect_err(&format!(
                "{}.{} = {} was accepted",
                k.section, k.name, k.bad
            ));
            let lines: Vec<&str> = text.lines().collect();
            let line = lines
                .iter()
                .rposition(|l| l.starts_with(&format!("{} =", k.name)))
                .unwrap()
                + 1;
            let shown = e.to_string();
            assert!(
                shown.starts_with(&format!("smsgw.toml:{line}: {}.{}: ", k.section, k.name)),
                "{}.{} = {}: {shown}",
                k.section,
                k.name,
                k.bad
            );
        }
    }

    #[test]
    fn unknown_keys_and_sections_are_errors() {
        let e = parse("[daemon]\nstate_dir = \"/x\"\nstatedir = \"/y\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (3, Some("daemon.statedir")));
        assert_eq!(
            e.message,
            "unknown key `statedir`: did you mean `state_dir`?"
        );
        let e = parse("[deamon]\n").unwrap_err();
        assert_eq!(
            e.message,
            "unknown section [deamon]: did you mean [daemon]?"
        );
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nrecieve_frequency = 5\n")
            .unwrap_err();
        assert!(
            e.message.contains("did you mean `receive_frequency`?"),
            "{e}"
        );
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nzzzzzz = 5\n").unwrap_err();
        assert!(e.message.contains("config check --keys"), "{e}");
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\npinn = \"1\"\n").unwrap_err();
        assert_eq!(
            e.to_string().split(':').take(3).collect::<Vec<_>>(),
            ["smsgw.toml", "4", " phone.pinn"]
        );
    }

    #[test]
    fn checks_beyond_types() {
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n[[phone]]\nid = \"a\"\ndevice = \"/dev/y\"\n").unwrap_err();
        assert!(
            e.message.contains("a second phone with the id \"a\""),
            "{e}"
        );
        assert_eq!(e.line, 5, "the second one");
        let e = parse("[[phone]]\ndevice = \"/dev/x\"\n").unwrap_err();
        assert!(e.message.contains("missing field `id`"), "{e}");
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\npin = \"12a4\"\n").unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("4 to 8 digits"), "{e}");
        let e = parse("[receiving]\nexclude_numbers = [\"+48 12x\"]\n").unwrap_err();
        assert!(e.message.contains("not a phone number"), "{e}");
        let e = parse("# nothing yet\n").unwrap_err();
        assert!(e.message.starts_with("the config is empty"), "{e}");
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"ttyUSB0\"\n").unwrap_err();
        assert!(e.message.contains("\"/dev/ttyUSB0\""), "{e}");
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\npin = 1234\n").unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("pin = \"1234\""), "{e}");
        let e = parse("[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\nbaud = -1\n").unwrap_err();
        assert!(!e.message.contains("u32"), "no Rust type names: {e}");
        let e = parse("[receiving]\ninclude_numbers_file = \"/nonexistent/allowed\"\n[[phone]]\nid = \"a\"\ndevice = \"/dev/x\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("receiving.include_numbers_file"));
        assert!(
            e.message.contains("cannot read /nonexistent/allowed"),
            "{e}"
        );
        let e = parse("[gammu]\nport = /dev/ttyUSB0\nconnection = at\n[smsd]\nservice = files\n")
            .unwrap_err();
        assert!(e.message.contains("smsgw config import-gammu"), "{e}");
    }

    #[test]
    fn errors_after_non_ascii_text_name_the_right_line() {
        let e = parse("# zażółć gęślą jaźń 😀\n[daemon]\nlog_level = 5\n").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (3, Some("daemon.log_level")));
    }

    #[test]
    fn a_missing_file_says_so() {
        let e = Config::load(Path::new("/nonexistent/smsgw.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/smsgw.toml: cannot read the config"),
            "{e}"
        );
    }

    #[test]
    fn validity_round_trips() {
        let c = parse("[sending]\nvalidity = \"DAY\"\n").unwrap();
        assert_eq!(c.sending.validity, Validity::Relative(167));
    }
}
