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
}

/// The whole daemon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `up`, or `down: <why>`.
    pub storage: String,
    pub phones: Vec<PhoneState>,
}

/// The shared board the phone tasks write.
#[derive(Debug, Clone, Default)]
pub struct Board(Arc<Mutex<BTreeMap<String, PhoneState>>>);

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

    pub fn phones(&self) -> Vec<PhoneState> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}
