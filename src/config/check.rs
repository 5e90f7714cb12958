//! What types alone cannot check: values in range, ids unique, devices that are paths,
//! numbers files that can be read.

use std::collections::HashSet;

use super::error::ConfigError;
use super::{Config, StorageKind};

impl Config {
    /// Checks what types alone cannot.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let (text, file) = (&self.source.text, &self.source.file);
        let err = |needle: &str, key: &str, message: String| self.error_at(needle, key, message);
        for pattern in &self.daemon.modem_search {
            crate::modem::fleet::check_pattern(pattern)
                .map_err(|e| err("modem_search", "daemon.modem_search", e))?;
        }
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
        self.check_http()?;
        self.check_smpp_server()?;
        self.check_amqp()?;
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
        // The line where `id = "x"` is written for the `nth` time (the second: a duplicate).
        let id_line = |id: &str, nth: usize| {
            let mut seen = 0;
            text.lines()
                .position(|l| {
                    let is = l.split_once('=').is_some_and(|(k, v)| {
                        k.trim() == "id" && v.trim().trim_matches(['"', '\'']) == id
                    });
                    seen += usize::from(is);
                    seen == nth
                })
                .map_or(0, |i| i + 1)
        };
        let second_id = |id: &str| id_line(id, 2);
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
            let device = crate::modem::fleet::Device::parse(&p.device)
                .map_err(|e| err(&format!("\"{}\"", p.device), "phone.device", e))?;
            if device.is_identity() {
                let earlier = self.phones.iter().take_while(|o| !std::ptr::eq(*o, p));
                if let Some(other) = earlier
                    .into_iter()
                    .find(|o| crate::modem::fleet::Device::parse(&o.device).as_ref() == Ok(&device))
                {
                    // At this phone's id: the second of the two.
                    return Err(ConfigError {
                        file: file.to_path_buf(),
                        line: id_line(&p.id, 1),
                        key: Some("phone.device".into()),
                        message: format!(
                            "phones {:?} and {:?} are both bound to {device}: one modem serves one phone",
                            other.id, p.id
                        ),
                    });
                }
            } else if !(p.device == "sim" || p.device.starts_with('/') || p.device.contains("://"))
            {
                return Err(err(
                    &format!("\"{}\"", p.device),
                    "phone.device",
                    format!(
                        "{:?} is not a device path: write the full path, e.g. \"/dev/{}\" (or /dev/serial/by-id/..., imei:<IMEI>, tcp://host:port, \"sim\")",
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
}

impl Config {
    /// A face (`what`, configured at `key`) queues into the storage and keeps its events
    /// there: the files, null and nav storages cannot serve it.
    pub(super) fn needs_sql_storage(&self, what: &str, key: &str) -> Result<(), ConfigError> {
        if matches!(
            self.storage.kind,
            StorageKind::Files | StorageKind::Null | StorageKind::Nav
        ) {
            return Err(self.error_at(
                "listen",
                key,
                format!(
                    "{what} queues into the storage and keeps its events there: it needs [storage] kind sqlite, postgres or mysql (not {})",
                    format!("{:?}", self.storage.kind).to_lowercase()
                ),
            ));
        }
        Ok(())
    }

    /// Each `(key, min, max, value)` of `section` within its bounds.
    pub(super) fn in_ranges(
        &self,
        section: &str,
        checks: &[(&str, usize, usize, usize)],
    ) -> Result<(), ConfigError> {
        for &(key, min, max, v) in checks {
            if !(min..=max).contains(&v) {
                return Err(self.error_at(
                    key,
                    &format!("{section}.{key}"),
                    format!("{v} is not between {min} and {max}"),
                ));
            }
        }
        Ok(())
    }

    /// A face user's (`who`, in `section`) `routes`, each a phone or transport id, and its
    /// `rate`.
    pub(super) fn routes_and_rate(
        &self,
        section: &str,
        who: &str,
        routes: &[String],
        rate: f64,
    ) -> Result<(), ConfigError> {
        let known = self.route_ids();
        if let Some(r) = routes
            .iter()
            .find(|r| !known.is_empty() && !known.contains(&r.as_str()))
        {
            return Err(self.error_at(
                "routes",
                &format!("{section}.routes"),
                format!("{who}: {r:?} is no phone or transport id"),
            ));
        }
        if !(rate >= 0.0 && rate.is_finite()) {
            return Err(self.error_at(
                "rate",
                &format!("{section}.rate"),
                format!("{rate} is not a rate (messages per second, 0 for no limit)"),
            ));
        }
        Ok(())
    }

    /// A face's `tls_cert` and `tls_key` in `section`: both or neither.
    pub(super) fn tls_pair(
        &self,
        section: &str,
        cert: &Option<std::path::PathBuf>,
        key: &Option<std::path::PathBuf>,
    ) -> Result<(), ConfigError> {
        match (cert, key) {
            (Some(_), None) => Err(self.error_at(
                "tls_cert",
                &format!("{section}.tls_key"),
                "tls_cert is set: set tls_key too (the certificate's private key, PEM)".into(),
            )),
            (None, Some(_)) => Err(self.error_at(
                "tls_key",
                &format!("{section}.tls_cert"),
                "tls_key is set: set tls_cert too (the certificate chain, PEM)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// `[http]`, `[[http.user]]` and `[webhooks]`.
    fn check_http(&self) -> Result<(), ConfigError> {
        let err = |needle: &str, key: &str, message: String| self.error_at(needle, key, message);
        let h = &self.http;
        if h.listen.is_empty() {
            if !h.users.is_empty() {
                return Err(err(
                    "[[http.user]]",
                    "http.user",
                    "users are set but [http] listen is empty: set listen (e.g. \"127.0.0.1:13013\") to serve the HTTP API".into(),
                ));
            }
        } else {
            if h.listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(err(
                    "listen",
                    "http.listen",
                    format!("{:?} is not host:port (e.g. 127.0.0.1:13013)", h.listen),
                ));
            }
            self.needs_sql_storage("the HTTP API", "http.listen")?;
        }
        self.tls_pair("http", &h.tls_cert, &h.tls_key)?;
        self.in_ranges(
            "http",
            &[
                ("max_body", 1024, 64 << 20, h.max_body),
                ("timeout", 1, 3600, h.timeout as usize),
                ("max_connections", 1, 1 << 20, h.max_connections),
                ("max_parts", 1, 255, h.max_parts),
            ],
        )?;
        let mut names = HashSet::new();
        for u in &h.users {
            let at = format!("name = {:?}", u.name);
            if u.name.is_empty() {
                return Err(err(
                    "[[http.user]]",
                    "http.user.name",
                    "every [[http.user]] needs a name".into(),
                ));
            }
            if !names.insert(u.name.as_str()) {
                return Err(err(
                    &at,
                    "http.user.name",
                    format!("user {:?} is listed twice", u.name),
                ));
            }
            if !u.password.is_empty() && !u.password_hash.is_empty() {
                return Err(err(
                    "password_hash",
                    "http.user.password_hash",
                    format!(
                        "user {:?} has both password and password_hash: keep one",
                        u.name
                    ),
                ));
            }
            if !u.password_hash.is_empty() {
                if let Err(e) = argon2::PasswordHash::new(&u.password_hash) {
                    return Err(err(
                        "password_hash",
                        "http.user.password_hash",
                        format!("user {:?}: not a password hash ({e}); make one with `smsgw config hash-password`", u.name),
                    ));
                }
            }
            if u.password.is_empty() && u.password_hash.is_empty() && u.token.is_empty() {
                return Err(err(
                    &at,
                    "http.user.password",
                    format!(
                        "user {:?} has neither a password nor a token: it could never log in",
                        u.name
                    ),
                ));
            }
            self.routes_and_rate(
                "http.user",
                &format!("user {:?}", u.name),
                &u.routes,
                u.rate,
            )?;
        }
        let w = &self.webhooks;
        for (key, url) in [
            ("received", &w.received),
            ("report", &w.report),
            ("sent", &w.sent),
            ("failed", &w.failed),
        ] {
            if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
                return Err(err(
                    key,
                    &format!("webhooks.{key}"),
                    format!("{url:?} is not an http:// or https:// URL"),
                ));
            }
        }
        if w.timeout == 0 {
            return Err(err(
                "timeout",
                "webhooks.timeout",
                "must be at least 1 (seconds)".into(),
            ));
        }
        Ok(())
    }
}
