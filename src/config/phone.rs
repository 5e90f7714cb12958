//! `[[phone]]`: one modem, and its send rate.

use serde::{Deserialize, Serialize};

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
