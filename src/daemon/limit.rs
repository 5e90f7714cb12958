//! Per-route send limits (`rate = "20/min"`, `daily_limit = 500`): messages over the limit
//! stay queued. Seeded from `sentitems` at start, so a restart does not reset them.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{Local, NaiveDateTime};
use tokio::time::Instant;

use crate::config::Rate;

/// The limits of one route and what it has sent against them.
#[derive(Debug)]
pub struct Limiter {
    rate: Option<Rate>,
    daily: Option<u32>,
    /// Send times inside the rate window.
    window: VecDeque<Instant>,
    /// (local date, sends that day).
    today: (chrono::NaiveDate, u32),
}

impl Limiter {
    pub fn new(rate: Option<Rate>, daily: Option<u32>) -> Option<Limiter> {
        (rate.is_some() || daily.is_some()).then(|| Limiter {
            rate,
            daily,
            window: VecDeque::new(),
            today: (Local::now().date_naive(), 0),
        })
    }

    /// How far back `seed` needs send times (local `YYYY-MM-DD HH:MM:SS`).
    pub fn seed_since(&self) -> String {
        let day_start = Local::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let window_start = self
            .rate
            .map(|r| {
                Local::now().naive_local()
                    - chrono::Duration::from_std(r.period).unwrap_or_default()
            })
            .unwrap_or(day_start);
        day_start
            .min(window_start)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// Counts earlier sends (times from `sentitems`, local).
    pub fn seed(&mut self, times: &[String]) {
        let now_local = Local::now().naive_local();
        let now = Instant::now();
        let today = now_local.date();
        for t in times {
            let Ok(at) = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S") else {
                continue;
            };
            if at.date() == today {
                self.today.1 += 1;
            }
            if let Some(r) = self.rate {
                let age = (now_local - at).to_std().unwrap_or_default();
                if age < r.period {
                    self.window.push_back(now.checked_sub(age).unwrap_or(now));
                }
            }
        }
        self.window.make_contiguous().sort();
    }

    /// `None` when a send may go now, else how long to wait.
    pub fn wait(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let date = Local::now().date_naive();
        if self.today.0 != date {
            self.today = (date, 0);
        }
        if let Some(max) = self.daily {
            if self.today.1 >= max {
                let midnight = date
                    .succ_opt()
                    .and_then(|d| d.and_hms_opt(0, 0, 1))
                    .unwrap_or_default();
                let left = (midnight - Local::now().naive_local())
                    .to_std()
                    .unwrap_or(Duration::from_secs(60));
                return Some(left);
            }
        }
        let r = self.rate?;
        while self
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= r.period)
        {
            self.window.pop_front();
        }
        if self.window.len() < r.count as usize {
            return None;
        }
        self.window
            .front()
            .map(|t| r.period.saturating_sub(now.duration_since(*t)))
    }

    /// Records one send.
    pub fn sent(&mut self) {
        self.window.push_back(Instant::now());
        self.today.1 += 1;
    }

    /// How close the route is to its limits, for monitor and metrics.
    pub fn usage(&mut self) -> String {
        let _ = self.wait();
        let mut parts = Vec::new();
        if let Some(r) = self.rate {
            parts.push(format!(
                "{}/{} per {}s",
                self.window.len(),
                r.count,
                r.period.as_secs()
            ));
        }
        if let Some(d) = self.daily {
            parts.push(format!("{}/{d} today", self.today.1));
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_rate_holds_and_frees_up_as_time_passes() {
        let mut l = Limiter::new(Some("3/10s".parse().unwrap()), None).unwrap();
        for _ in 0..3 {
            assert_eq!(l.wait(), None);
            l.sent();
        }
        let w = l.wait().expect("over the rate");
        assert!(w <= Duration::from_secs(10) && w > Duration::from_secs(9));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(l.wait(), None);
        assert_eq!(l.usage(), "0/3 per 10s");
    }

    #[test]
    fn a_daily_limit_counts_seeded_sends() {
        let mut l = Limiter::new(None, Some(2)).unwrap();
        let now = Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
        l.seed(&[now.clone(), now]);
        assert!(l.wait().is_some(), "two sent today already");
        assert_eq!(l.usage(), "2/2 today");
        assert!(Limiter::new(None, None).is_none());
    }
}
