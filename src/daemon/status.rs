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
    /// The last problem, if the phone is not connected.
    pub error: Option<String>,
    /// How close the phone is to its send limits (`7/20 per 60s, 120/500 today`).
    #[serde(default)]
    pub limits: String,
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

    pub fn phones(&self) -> Vec<PhoneState> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}
