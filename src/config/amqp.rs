//! `[amqp]`: smsgw as a vumi transport on RabbitMQ (the AMQP face).

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError};

/// `[amqp]`: off while `url` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Amqp {
    /// `amqp://user:pass@host:5672/vhost`, or `amqps://` for TLS; empty: no AMQP.
    pub url: String,
    /// vumi's transport name: smsgw consumes `<name>.outbound` and publishes
    /// `<name>.inbound` and `<name>.event`.
    pub transport_name: String,
    /// The direct, durable exchange the three queues are bound to.
    pub exchange: String,
    /// Outbound messages handled at once (unacknowledged), and events and inbound messages
    /// published awaiting the broker's confirm.
    pub prefetch: u16,
    /// The route (phone or transport id) outbound messages go through; none: any, as the
    /// default route list says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Phone (or transport) ids whose received messages are published on
    /// `<name>.inbound`; `*` for every one.
    pub receive: Vec<String>,
    /// Ask the network for a status report of each message (vumi's `delivery_report`).
    pub delivery_reports: bool,
    /// Most parts (SMS) one message may need.
    pub max_parts: usize,
    /// Seconds before the first reconnection; doubled after each failure up to
    /// `reconnect_max`.
    pub reconnect_min: u64,
    pub reconnect_max: u64,
}

impl Default for Amqp {
    fn default() -> Self {
        Amqp {
            url: String::new(),
            transport_name: "smsgw".into(),
            exchange: "vumi".into(),
            prefetch: 64,
            route: None,
            receive: vec!["*".into()],
            delivery_reports: true,
            max_parts: 10,
            reconnect_min: 1,
            reconnect_max: 60,
        }
    }
}

impl Amqp {
    /// Whether the face runs.
    pub fn on(&self) -> bool {
        !self.url.is_empty()
    }

    /// The queue (and routing key) of one of vumi's three message flows.
    pub fn queue(&self, flow: &str) -> String {
        format!("{}.{flow}", self.transport_name)
    }

    /// A reload keeps the running connection's settings (`url`, `transport_name`,
    /// `exchange`, `prefetch`, the reconnection waits) from `running`: they change at the
    /// next start. Whether any differed.
    pub fn keep_connection(&mut self, running: &Amqp) -> bool {
        let changed = (
            &self.url,
            &self.transport_name,
            &self.exchange,
            self.prefetch,
        ) != (
            &running.url,
            &running.transport_name,
            &running.exchange,
            running.prefetch,
        ) || (self.reconnect_min, self.reconnect_max)
            != (running.reconnect_min, running.reconnect_max);
        self.url = running.url.clone();
        self.transport_name = running.transport_name.clone();
        self.exchange = running.exchange.clone();
        self.prefetch = running.prefetch;
        self.reconnect_min = running.reconnect_min;
        self.reconnect_max = running.reconnect_max;
        changed
    }

    /// The URL without its password, for logs.
    pub fn url_for_logs(&self) -> String {
        redact(&self.url)
    }
}

/// `amqp://user:secret@host/` as `amqp://user:***@host/`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_string(),
    }
}

impl Config {
    /// `[amqp]`.
    pub(super) fn check_amqp(&self) -> Result<(), ConfigError> {
        let a = &self.amqp;
        let err = |key: &str, message: String| self.error_at(key, &format!("amqp.{key}"), message);
        if !a.on() {
            return Ok(());
        }
        if !(a.url.starts_with("amqp://") || a.url.starts_with("amqps://")) {
            return Err(err(
                "url",
                format!(
                    "{:?} is not an AMQP URL: write amqp://user:password@host:5672/vhost (amqps:// for TLS)",
                    redact(&a.url)
                ),
            ));
        }
        if let Err(e) = a.url.parse::<lapin::uri::AMQPUri>() {
            return Err(err(
                "url",
                format!("{:?} is not an AMQP URL: {e}", redact(&a.url)),
            ));
        }
        self.needs_sql_storage("the AMQP transport", "amqp.url")?;
        for (key, v) in [
            ("transport_name", &a.transport_name),
            ("exchange", &a.exchange),
        ] {
            let ok = !v.is_empty()
                && v.len() <= 200
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
            if !ok {
                return Err(err(
                    key,
                    format!("{v:?} must be 1 to 200 letters, digits, '-', '_', '.' or ':'"),
                ));
            }
        }
        self.in_ranges(
            "amqp",
            &[
                ("prefetch", 1, 10_000, usize::from(a.prefetch)),
                ("max_parts", 1, 255, a.max_parts),
                ("reconnect_min", 1, 3600, a.reconnect_min as usize),
                ("reconnect_max", 1, 86_400, a.reconnect_max as usize),
            ],
        )?;
        if a.reconnect_max < a.reconnect_min {
            return Err(err(
                "reconnect_max",
                format!(
                    "{} is less than reconnect_min ({})",
                    a.reconnect_max, a.reconnect_min
                ),
            ));
        }
        let routes: Vec<String> = a.route.iter().cloned().collect();
        self.routes_and_rate("amqp", "[amqp] route", &routes, 0.0)
            .map_err(|_| {
                err(
                    "route",
                    format!(
                        "{:?} is no phone or transport id (known: {})",
                        a.route.as_deref().unwrap_or_default(),
                        self.route_ids().join(", ")
                    ),
                )
            })?;
        let known = self.route_ids();
        if let Some(r) = a
            .receive
            .iter()
            .find(|r| *r != "*" && !known.is_empty() && !known.contains(&r.as_str()))
        {
            return Err(err(
                "receive",
                format!("{r:?} is no phone or transport id (\"*\" for every one)"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_out_of_logs() {
        assert_eq!(
            redact("amqp://smsgw:s3cr@t@broker:5672/%2f"),
            "amqp://smsgw:***@broker:5672/%2f"
        );
        assert_eq!(redact("amqp://broker/vh"), "amqp://broker/vh");
        assert_eq!(redact("amqps://u@b"), "amqps://u:***@b");
    }
}
