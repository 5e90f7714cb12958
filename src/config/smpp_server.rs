//! `[smpp_server]` and `[[smpp_server.account]]`: smsgw as an SMSC, so that SMPP
//! applications (ESMEs) send through its routes (`face::smpp_server`).

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError};

/// `[smpp_server]`: off while both `listen` and `tls_listen` are empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmppServer {
    /// `host:port` for plain SMPP; empty serves none.
    pub listen: String,
    /// `host:port` for SMPP over TLS (with `tls_cert` and `tls_key`); empty serves none.
    pub tls_listen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// The system_id smsgw answers binds with.
    pub system_id: String,
    /// Requests of one bind handled at once (submit_sm committing), and deliver_sm sent to
    /// it without an answer yet.
    pub window: usize,
    /// Longest PDU taken (octets); a longer command_length is answered generic_nack and the
    /// connection closed.
    pub max_pdu: usize,
    /// Most parts (SMS) one message may need.
    pub max_parts: usize,
    /// Binds one account may hold at once.
    pub max_binds: usize,
    /// Seconds without a PDU from the client (enquire_link counts) before it is unbound.
    pub inactivity: u64,
    /// Seconds the first part of a long message (UDH or SAR) waits for the others; then
    /// the parts that came are queued as they are.
    pub part_timeout: u64,
    #[serde(rename = "account", skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<SmppAccount>,
}

impl Default for SmppServer {
    fn default() -> Self {
        SmppServer {
            listen: String::new(),
            tls_listen: String::new(),
            tls_cert: None,
            tls_key: None,
            system_id: "smsgw".into(),
            window: 64,
            max_pdu: 8192,
            max_parts: 10,
            max_binds: 4,
            inactivity: 300,
            part_timeout: 60,
            accounts: Vec::new(),
        }
    }
}

impl SmppServer {
    /// Whether the server listens at all.
    pub fn on(&self) -> bool {
        !self.listen.is_empty() || !self.tls_listen.is_empty()
    }
}

/// `[[smpp_server.account]]`: an ESME that may bind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmppAccount {
    /// The bind's system_id (at most 15 characters).
    pub system_id: String,
    /// The bind's password (at most 8 characters, SMPP's limit).
    pub password: String,
    /// `transmitter`, `receiver`, `transceiver`: the binds allowed.
    pub bind_types: Vec<String>,
    /// Routes (phone or transport ids) the account may send through; empty allows all.
    pub routes: Vec<String>,
    /// Phone (or transport) ids whose received messages go to this account as
    /// deliver_sm; `*` for every one.
    pub receive: Vec<String>,
    /// submit_sm per second (more: ESME_RTHROTTLED); 0 for no limit.
    pub rate: f64,
    /// Source addresses the account may submit with (`*` at the end: any continuation);
    /// empty allows any.
    pub sources: Vec<String>,
    /// What data_coding 0 means to this client: gsm, gsm-packed or latin1.
    pub default_alphabet: String,
}

impl Default for SmppAccount {
    fn default() -> Self {
        SmppAccount {
            system_id: String::new(),
            password: String::new(),
            bind_types: vec![
                "transmitter".into(),
                "receiver".into(),
                "transceiver".into(),
            ],
            routes: Vec::new(),
            receive: Vec::new(),
            rate: 0.0,
            sources: Vec::new(),
            default_alphabet: "gsm".into(),
        }
    }
}

impl SmppAccount {
    /// Whether `source` matches the account's `sources`.
    pub fn may_send_as(&self, source: &str) -> bool {
        self.sources.is_empty()
            || self.sources.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => source.starts_with(prefix),
                None => p == source,
            })
    }
}

const BIND_TYPES: [&str; 3] = ["transmitter", "receiver", "transceiver"];

impl Config {
    /// `[smpp_server]` and its accounts.
    pub(super) fn check_smpp_server(&self) -> Result<(), ConfigError> {
        let err = |needle: &str, key: &str, message: String| self.error_at(needle, key, message);
        let s = &self.smpp_server;
        if !s.on() && !s.accounts.is_empty() {
            return Err(err(
                "[[smpp_server.account]]",
                "smpp_server.account",
                "accounts are set but [smpp_server] listen is empty: set listen (e.g. \"127.0.0.1:2775\") to serve SMPP".into(),
            ));
        }
        for (key, listen) in [("listen", &s.listen), ("tls_listen", &s.tls_listen)] {
            if !listen.is_empty() && listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(err(
                    key,
                    &format!("smpp_server.{key}"),
                    format!("{listen:?} is not host:port (e.g. 127.0.0.1:2775)"),
                ));
            }
        }
        if !s.listen.is_empty() && s.listen == s.tls_listen {
            return Err(err(
                "tls_listen",
                "smpp_server.tls_listen",
                "is the same address as listen: give TLS a port of its own".into(),
            ));
        }
        if s.on() {
            self.needs_sql_storage("the SMPP server", "smpp_server.listen")?;
        }
        self.tls_pair("smpp_server", &s.tls_cert, &s.tls_key)?;
        if s.tls_cert.is_none() && !s.tls_listen.is_empty() {
            return Err(err(
                "tls_listen",
                "smpp_server.tls_listen",
                "needs tls_cert and tls_key (PEM files)".into(),
            ));
        }
        if s.system_id.is_empty() || s.system_id.len() > 15 {
            return Err(err(
                "system_id",
                "smpp_server.system_id",
                "must be 1 to 15 characters (SMPP's system_id)".into(),
            ));
        }
        self.in_ranges(
            "smpp_server",
            &[
                ("window", 1, 10_000, s.window),
                ("max_pdu", 512, crate::smpp::pdu::MAX_PDU, s.max_pdu),
                ("max_parts", 1, 255, s.max_parts),
                ("max_binds", 1, 1000, s.max_binds),
                ("inactivity", 5, 86_400, s.inactivity as usize),
                ("part_timeout", 1, 3600, s.part_timeout as usize),
            ],
        )?;
        let mut names = HashSet::new();
        for a in &s.accounts {
            let at = format!("system_id = {:?}", a.system_id);
            let key = |k: &str| format!("smpp_server.account.{k}");
            if a.system_id.is_empty() || a.system_id.len() > 15 {
                return Err(err(
                    &at,
                    &key("system_id"),
                    "every account needs a system_id of 1 to 15 characters".into(),
                ));
            }
            if !names.insert(a.system_id.as_str()) {
                return Err(err(
                    &at,
                    &key("system_id"),
                    format!("account {:?} is listed twice", a.system_id),
                ));
            }
            if a.password.is_empty() || a.password.len() > 8 {
                return Err(err(
                    if a.password.is_empty() { &at } else { "password" },
                    &key("password"),
                    format!(
                        "account {:?}: the password must be 1 to 8 characters (SMPP carries no longer one)",
                        a.system_id
                    ),
                ));
            }
            if let Some(b) = a
                .bind_types
                .iter()
                .find(|b| !BIND_TYPES.contains(&b.as_str()))
            {
                return Err(err(
                    "bind_types",
                    &key("bind_types"),
                    format!("{b:?} is not transmitter, receiver or transceiver"),
                ));
            }
            if a.bind_types.is_empty() {
                return Err(err(
                    "bind_types",
                    &key("bind_types"),
                    "is empty: the account could never bind".into(),
                ));
            }
            self.routes_and_rate(
                "smpp_server.account",
                &format!("account {:?}", a.system_id),
                &a.routes,
                a.rate,
            )?;
            if let Err(e) = crate::smpp::DefaultAlphabet::parse(&a.default_alphabet) {
                return Err(err("default_alphabet", &key("default_alphabet"), e));
            }
        }
        // One receiver per phone or number: a received message goes to one account.
        let mut owners = std::collections::HashMap::new();
        let known = self.route_ids();
        for a in &s.accounts {
            for r in &a.receive {
                if r != "*" && !known.is_empty() && !known.contains(&r.as_str()) {
                    return Err(err(
                        "receive",
                        "smpp_server.account.receive",
                        format!(
                            "account {:?}: {r:?} is no phone or transport id (\"*\" gives it every one)",
                            a.system_id
                        ),
                    ));
                }
                if let Some(other) = owners.insert(r.as_str(), a.system_id.as_str()) {
                    return Err(err(
                        "receive",
                        "smpp_server.account.receive",
                        format!(
                            "{r:?} is given to accounts {other:?} and {:?}: a received message goes to one",
                            a.system_id
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
