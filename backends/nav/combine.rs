//! NAV's way of putting the queued alerts of one phone into one SMS (`Dispatcher.formatsms`):
//! `1: first; 2: second; 3: third +2 see web.`, most severe first, counting what a real SMS
//! holds (GSM 03.38 septets, with the extension table's characters taking two, or 70 UCS-2
//! units once any character is outside GSM 7-bit) where NAV counted Python characters.
//!
//! NAV's rules otherwise: the first alert is numbered only once a second joins; an alert is
//! accepted while the text stays shorter than the limit minus 15 (the room kept for the
//! `+N see web.` suffix), or than the limit itself for the last alert; the first alert that
//! does not fit ends the SMS and it and every later alert are marked ignored. One change:
//! the first alert is always sent, as a concatenated SMS when it does not fit in one (NAV
//! sent ` +1 see web.` alone).

use crate::pdu::gsm7;

/// NAV's `maxlen`.
const GSM_LIMIT: usize = 160;
const UCS2_LIMIT: usize = 70;
/// NAV's `ignlen`: room for ` +N see web.`.
const RESERVE: usize = 15;

/// The SMS for one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combined {
    pub text: String,
    /// Rows in the SMS (marked `Y`).
    pub sent: Vec<i64>,
    /// Rows left out (marked `I`, "see web").
    pub ignored: Vec<i64>,
}

/// The length of `text` in the unit of its SMS, and that SMS's limit.
fn units(text: &str) -> (usize, usize) {
    match gsm7::septet_count(text) {
        Ok(n) => (n, GSM_LIMIT),
        Err(_) => (text.encode_utf16().count(), UCS2_LIMIT),
    }
}

/// Combines `alerts` (id, text), already in NAV's order (severity, then time).
pub fn combine(alerts: &[(i64, String)]) -> Combined {
    let mut text = String::new();
    let mut sent = Vec::new();
    let mut ignored = Vec::new();
    for (k, (id, msg)) in alerts.iter().enumerate() {
        if !ignored.is_empty() {
            ignored.push(*id);
            continue;
        }
        let candidate = match k {
            0 => msg.clone(),
            1 => format!("1: {text}; 2: {msg}"),
            _ => format!("{text}; {}: {msg}", k + 1),
        };
        let reserve = if k + 1 == alerts.len() { 0 } else { RESERVE };
        let (len, limit) = units(&candidate);
        if k == 0 || len < limit.saturating_sub(reserve) {
            text = candidate;
            sent.push(*id);
        } else {
            ignored.push(*id);
        }
    }
    if !ignored.is_empty() {
        text.push_str(&format!(" +{} see web.", ignored.len()));
    }
    Combined {
        text,
        sent,
        ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(texts: &[&str]) -> Vec<(i64, String)> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| (i as i64 + 1, t.to_string()))
            .collect()
    }

    #[test]
    fn navs_examples() {
        // The reference's 3 × 21–29 characters.
        let c = combine(&alerts(&[
            "box down sw1 10.0.0.1",
            "box down sw2 10.0.0.2",
            "Link DOWN on Gi1/0/1 (uplink)",
        ]));
        assert_eq!(
            c.text,
            "1: box down sw1 10.0.0.1; 2: box down sw2 10.0.0.2; 3: Link DOWN on Gi1/0/1 (uplink)"
        );
        assert_eq!((c.sent, c.ignored), (vec![1, 2, 3], vec![]));
        // 5 × 40 characters: three fit, "+2 see web.", 145 characters.
        let x = "x".repeat(40);
        let c = combine(&alerts(&[&x, &x, &x, &x, &x]));
        assert_eq!(c.text, format!("1: {x}; 2: {x}; 3: {x} +2 see web."));
        assert_eq!(c.text.chars().count(), 145);
        assert_eq!((c.sent, c.ignored), (vec![1, 2, 3], vec![4, 5]));
        // One alert: no numbering; none: nothing.
        assert_eq!(combine(&alerts(&["only"])).text, "only");
        assert_eq!(combine(&[]).text, "");
    }

    #[test]
    fn the_limit_is_strict_as_in_nav() {
        // Last alert: accepted while shorter than 160.
        let a = "a".repeat(150);
        let c = combine(&alerts(&["b", &a[..150 - 9]]));
        // "1: b; 2: " is 9 characters: 9 + 141 = 150 < 160.
        assert_eq!(c.ignored, Vec::<i64>::new());
        let c = combine(&alerts(&["b", &"a".repeat(151)]));
        // 9 + 151 = 160, not < 160.
        assert_eq!(c.ignored, vec![2]);
        assert_eq!(c.text, "b +1 see web.");
    }

    #[test]
    fn counts_septets_and_ucs2_where_nav_counted_characters() {
        // 75 '€' are 75 characters for NAV but 150 septets: with a second alert they no
        // longer fit.
        let euros = "€".repeat(75);
        let c = combine(&alerts(&[&euros, "link up"]));
        assert_eq!(c.sent, vec![1]);
        assert_eq!(c.ignored, vec![2]);
        // Norwegian letters are GSM 7-bit (æøå), Polish ones are not: 70 UCS-2 units.
        let c = combine(&alerts(&["Strøm borte på rack 3", "Svitsj nede"]));
        assert_eq!(c.text, "1: Strøm borte på rack 3; 2: Svitsj nede");
        let c = combine(&alerts(&["Zasilanie: łącze", &"y".repeat(50)]));
        assert_eq!(c.ignored, vec![2], "{}", c.text);
        // A first alert too long for one SMS is still sent (as a concatenated SMS).
        let long = "ł".repeat(100);
        let c = combine(&alerts(&[&long, "z"]));
        assert_eq!(c.sent, vec![1]);
        assert_eq!(c.text, format!("{long} +1 see web."));
    }
}
