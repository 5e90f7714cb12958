//! Delivery receipts in deliver_sm: the `receipted_message_id` and `message_state` TLVs
//! first, then the text of SMPP 3.4's appendix B (`id:... sub:... dlvrd:... submit date:...
//! done date:... stat:... err:... text:...`), which SMSCs write with variations: fields
//! missing or in another case, 10-digit (YYMMDDhhmm) or 12-digit (with seconds) dates,
//! `Text:` with a capital. Ids are compared allowing the hex/decimal mismatch some SMSCs
//! have between submit_sm_resp and the receipt.

/// What a receipt says of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Delivered (`DELIVRD`, `ACCEPTED`, message_state 2 or 6).
    Delivered,
    /// Not delivered for good (`EXPIRED`, `DELETED`, `UNDELIV`, `REJECTD`, 3, 4, 5, 8).
    Failed,
    /// Not final yet (`ENROUTE`, `UNKNOWN`, 1, 7, or a value we do not know).
    Pending,
}

impl State {
    /// From the text's `stat:` value.
    pub fn from_stat(stat: &str) -> State {
        match stat.to_ascii_uppercase().as_str() {
            "DELIVRD" | "DELIVERED" | "ACCEPTD" | "ACCEPTED" | "0" => State::Delivered,
            "EXPIRED" | "DELETED" | "UNDELIV" | "UNDELIVERABLE" | "REJECTD" | "REJECTED"
            | "FAILED" => State::Failed,
            _ => State::Pending,
        }
    }

    /// From the message_state TLV.
    pub fn from_message_state(v: u8) -> State {
        match v {
            2 | 6 => State::Delivered,
            3 | 4 | 5 | 8 => State::Failed,
            _ => State::Pending,
        }
    }
}

/// A parsed receipt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// The SMSC's id of the message it reports on.
    pub id: String,
    pub stat: String,
    pub err: String,
    /// `YYMMDDhhmm[ss]` as written.
    pub submit_date: String,
    pub done_date: String,
    pub text: String,
}

/// Parses the receipt text; `None` when it has no `id:`.
pub fn parse_text(text: &str) -> Option<Receipt> {
    // Keys in the order of appendix B; each value runs to the next key (text: to the end).
    const KEYS: [&str; 8] = [
        "id:",
        "sub:",
        "dlvrd:",
        "submit date:",
        "done date:",
        "stat:",
        "err:",
        "text:",
    ];
    let lower = text.to_ascii_lowercase();
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    for k in KEYS {
        // A key starts the text or follows a space.
        let mut from = 0;
        while let Some(i) = lower.get(from..).and_then(|s| s.find(k)) {
            let at = from + i;
            if at == 0 || lower.as_bytes()[at - 1] == b' ' {
                found.push((at, at + k.len(), k));
                break;
            }
            from = at + k.len();
        }
    }
    found.sort_by_key(|f| f.0);
    let mut r = Receipt::default();
    for (n, (_, start, key)) in found.iter().enumerate() {
        let end = if *key == "text:" {
            text.len()
        } else {
            found.get(n + 1).map_or(text.len(), |f| f.0)
        };
        let value = text.get(*start..end.max(*start)).unwrap_or("").trim();
        match *key {
            "id:" => r.id = value.to_string(),
            "stat:" => r.stat = value.to_string(),
            "err:" => r.err = value.to_string(),
            "submit date:" => r.submit_date = value.to_string(),
            "done date:" => r.done_date = value.to_string(),
            "text:" => r.text = value.to_string(),
            _ => {}
        }
    }
    (!r.id.is_empty()).then_some(r)
}

impl Receipt {
    /// The text of appendix B, as an SMSC writes it (`id:... sub:001 dlvrd:001 submit
    /// date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:...`): `dlvrd` 001
    /// for a delivered message, `text` cut to its first 20 characters.
    pub fn to_text(&self) -> String {
        let delivered = State::from_stat(&self.stat) == State::Delivered;
        let text: String = self.text.chars().take(20).collect();
        format!(
            "id:{} sub:001 dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}",
            self.id,
            if delivered { "001" } else { "000" },
            self.submit_date,
            self.done_date,
            self.stat,
            if self.err.is_empty() {
                "000"
            } else {
                &self.err
            },
            text
        )
    }
}

/// A local `YYYY-MM-DD HH:MM:SS` as a receipt's date, `YYMMDDhhmm` (empty if it is none).
pub fn receipt_date(local: &str) -> String {
    let digits: String = local.chars().filter(char::is_ascii_digit).collect();
    digits.get(2..12).unwrap_or_default().to_string()
}

/// The done date as local `YYYY-MM-DD HH:MM:SS` (10 or 12 digits), if it is one.
pub fn done_time(date: &str) -> Option<String> {
    if !(date.len() == 10 || date.len() == 12) || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |i: usize| date.get(i..i + 2);
    let (yy, mo, dd, hh, mi) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8)?);
    let ss = if date.len() == 12 { n(10)? } else { "00" };
    let ok = |v: &str, max: u32| v.parse::<u32>().is_ok_and(|x| x <= max);
    if !(ok(mo, 12) && ok(dd, 31) && ok(hh, 23) && ok(mi, 59) && ok(ss, 59)) {
        return None;
    }
    Some(format!("20{yy}-{mo}-{dd} {hh}:{mi}:{ss}"))
}

/// Whether a receipt's id names the message the SMSC answered with `sent`: equal, or the
/// same number written in hex in one and decimal in the other. The second is ambiguous
/// ("10" in hex is "16" in decimal): use it only when no id matches exactly.
pub fn same_id(sent: &str, receipt: &str) -> bool {
    if sent.eq_ignore_ascii_case(receipt) {
        return true;
    }
    let dec = |s: &str| s.parse::<u128>().ok();
    let hex = |s: &str| u128::from_str_radix(s, 16).ok();
    let dec_hex = matches!((dec(sent), hex(receipt)), (Some(d), Some(h)) if d == h);
    let hex_dec = matches!((hex(sent), dec(receipt)), (Some(h), Some(d)) if d == h);
    dec_hex || hex_dec
}

/// The ways the same id may be written in a receipt and in a submit_sm_resp, the id itself
/// first: decimal digits also as hex (lower and upper case), hex digits also as decimal.
/// Storages look receipts up by these; a match on the id itself wins (see [`same_id`]).
pub fn id_forms(id: &str) -> Vec<String> {
    let mut forms = vec![id.to_string()];
    let mut add = |f: String| {
        if !forms.contains(&f) {
            forms.push(f);
        }
    };
    if let Ok(d) = id.parse::<u128>() {
        add(format!("{d:x}"));
        add(format!("{d:X}"));
    }
    if let Ok(h) = u128::from_str_radix(id, 16) {
        add(h.to_string());
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appendix_b_text() {
        let r = parse_text("id:0123456789 sub:001 dlvrd:001 submit date:2611231405 done date:2611231406 stat:DELIVRD err:000 text:Hello world: id:x").unwrap();
        assert_eq!(r.id, "0123456789");
        assert_eq!(r.stat, "DELIVRD");
        assert_eq!(r.err, "000");
        assert_eq!(r.text, "Hello world: id:x");
        assert_eq!(
            done_time(&r.done_date).as_deref(),
            Some("2026-11-23 14:06:00")
        );
        assert_eq!(State::from_stat(&r.stat), State::Delivered);
    }

    #[test]
    fn variations_seen_in_the_wild() {
        // 12-digit dates, capital Text:, no sub/dlvrd.
        let r = parse_text(
            "id:ab12f submit date:261123140501 done date:261123140659 stat:UNDELIV err:034 Text:",
        )
        .unwrap();
        assert_eq!(r.id, "ab12f");
        assert_eq!(
            done_time(&r.done_date).as_deref(),
            Some("2026-11-23 14:06:59")
        );
        assert_eq!(State::from_stat(&r.stat), State::Failed);
        assert_eq!(r.text, "");
        assert_eq!(State::from_stat("ENROUTE"), State::Pending);
        assert_eq!(State::from_stat("whatever"), State::Pending);
        assert!(parse_text("hello").is_none());
        assert!(parse_text("").is_none());
        assert_eq!(done_time("2613991200"), None);
        assert_eq!(done_time("26112314"), None);
    }

    #[test]
    fn hex_and_decimal_ids_match() {
        assert!(same_id("12345", "12345"));
        assert!(same_id("3039", "12345"));
        assert!(same_id("12345", "3039"));
        assert!(same_id("ABCDEF", "abcdef"));
        assert!(!same_id("12345", "12346"));
        assert!(!same_id("xyz", "12345"));
        assert_eq!(id_forms("12345"), ["12345", "3039", "74565"]);
        assert_eq!(id_forms("ab"), ["ab", "171"]);
        assert_eq!(id_forms("x-1"), ["x-1"]);
        assert!(id_forms("255").contains(&"FF".to_string()));
    }

    #[test]
    fn written_as_parsed() {
        let r = Receipt {
            id: "42".into(),
            stat: "DELIVRD".into(),
            err: String::new(),
            submit_date: receipt_date("2026-12-07 10:01:02"),
            done_date: receipt_date("2026-12-07 10:02:03"),
            text: "a text longer than twenty characters".into(),
        };
        let t = r.to_text();
        assert_eq!(t, "id:42 sub:001 dlvrd:001 submit date:2612071001 done date:2612071002 stat:DELIVRD err:000 text:a text longer than t");
        let back = parse_text(&t).unwrap();
        assert_eq!((back.id.as_str(), back.stat.as_str()), ("42", "DELIVRD"));
        assert_eq!(receipt_date(""), "");
    }

    #[test]
    fn message_state_values() {
        assert_eq!(State::from_message_state(2), State::Delivered);
        assert_eq!(State::from_message_state(5), State::Failed);
        assert_eq!(State::from_message_state(1), State::Pending);
    }
}
