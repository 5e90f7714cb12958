//! What the daemon knows of its phones and storage right now: written by the phone tasks,
//! served on the control socket (`status`), printed by `smsgw monitor`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// One phone as the daemon sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhoneState {
    /// PhoneID.
    pub id: String,
    /// `connecting`, `connected`, `PIN needed`, `PIN rejected`, `SIM locked (PUK)`,
    /// `reconnecting`, `stopped`.
    pub state: String,
    /// The port the modem was found on (for a phone bound by identity, it can change).
    #[serde(default)]
    pub device: String,
    pub imei: String,
    pub imsi: String,
    /// Percent, -1 unknown.
    pub signal: i32,
    /// Percent, -1 unknown.
    pub battery: i32,
    pub network_code: String,
    pub network_name: String,
    pub sent: u64,
    pub received: u64,
    pub failed: u64,
    /// Status reports (and SMSC receipts) that said delivered, and that said it failed.
    #[serde(default)]
    pub delivered: u64,
    #[serde(default)]
    pub undelivered: u64,
    /// The last problem, if the phone is not connected.
    pub error: Option<String>,
    /// How close the phone is to its send limits (`7/20 per 60s, 120/500 today`).
    #[serde(default)]
    pub limits: String,
    /// The last answer to `balance_code`, and when it came (local time).
    #[serde(default)]
    pub balance: String,
    #[serde(default)]
    pub balance_at: String,
}

/// The first number in a balance answer (`Balance: 10,50 EUR` → 10.5), for the metrics.
/// A comma followed by three digits is a thousands separator, any other comma or point the
/// decimal mark (so `1.234,50` reads as 1.234: the text itself is always in `monitor`).
pub fn balance_number(text: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let negative = text[..start].ends_with('-');
    let rest = &text[start..];
    let mut number = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
        } else if (c == '.' || c == ',') && !number.contains('.') {
            let digits: String = chars.clone().take_while(|d| d.is_ascii_digit()).collect();
            if digits.is_empty() {
                break;
            }
            if c == ',' && digits.len() == 3 {
                continue; // a thousands separator
            }
            number.push('.');
        } else {
            break;
        }
    }
    let n: f64 = number.parse().ok()?;
    Some(if negative { -n } else { n })
}

/// The whole daemon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `up`, or `down: <why>`.
    pub storage: String,
    pub phones: Vec<PhoneState>,
}

/// Upper bounds (seconds) of the send-latency histogram buckets.
pub const SEND_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// A Prometheus-style histogram of how long sending one part took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Cumulative counts per bucket of [`SEND_BUCKETS`].
    pub buckets: [u64; 10],
    pub count: u64,
    pub sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, secs: f64) {
        for (i, le) in SEND_BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

/// The shared board the phone tasks write.
#[derive(Debug, Clone, Default)]
pub struct Board(
    Arc<Mutex<BTreeMap<String, PhoneState>>>,
    Arc<Mutex<BTreeMap<String, Histogram>>>,
    Arc<Mutex<BTreeMap<(&'static str, String), i64>>>,
);

impl Board {
    /// Changes one phone's entry.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut PhoneState)) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(id.to_string()).or_insert_with(|| PhoneState {
            id: id.to_string(),
            signal: -1,
            battery: -1,
            ..PhoneState::default()
        });
        f(entry);
    }

    /// Records how long sending one part through `id` took.
    pub fn observe_send(&self, id: &str, secs: f64) {
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default()
            .observe(secs);
    }

    pub fn send_latency(&self) -> BTreeMap<String, Histogram> {
        self.1.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Adds `delta` to a face's counter `metric` (a Prometheus name) of `account`.
    pub fn count(&self, metric: &'static str, account: &str, delta: i64) {
        *self
            .2
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((metric, account.to_string()))
            .or_default() += delta;
    }

    /// The faces' counters: (metric, account) and value.
    pub fn counters(&self) -> BTreeMap<(&'static str, String), i64> {
        self.2.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn phones(&self) -> Vec<PhoneState> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::balance_number;

    #[test]
    fn balance_numbers_from_operator_answers() {
        assert_eq!(balance_number("Balance: 10.00 EUR"), Some(10.0));
        assert_eq!(
            balance_number("Stan konta: 12,50 zl, wazne do 2027-01-01"),
            Some(12.5)
        );
        assert_eq!(balance_number("Your balance is 1,234.50 USD"), Some(1234.5));
        assert_eq!(balance_number("Saldo: -3.20"), Some(-3.2));
        assert_eq!(balance_number("Reply for *100#"), Some(100.0));
        assert_eq!(balance_number("No credit left."), None);
        assert_eq!(balance_number(""), None);
    }
}
