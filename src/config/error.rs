//! A config that cannot be used: where (file, line, key) and why, said for a person.

use std::fmt;
use std::path::PathBuf;

use super::keys::KEYS;

/// A config that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is not on one line (the file cannot be read).
    pub line: usize,
    /// `section.key`, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The section header (`[x]` or `[[x]]`) in force at `line` (1-based) and the key written on
/// that line, if any.
pub(super) fn locate(text: &str, line: usize) -> (Option<String>, Option<String>) {
    let mut section = None;
    let mut key = None;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            section = Some(t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        }
        if i + 1 == line {
            if let Some((k, _)) = t.split_once('=') {
                key = Some(k.trim().trim_matches('"').to_string());
            }
            break;
        }
    }
    (section, key)
}

pub(super) fn line_of(text: &str, offset: usize) -> usize {
    // Counted on bytes: an offset inside a multi-byte character cannot panic.
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Where a new user starts, named in the errors about a missing or empty config.
pub(super) const START_HINT: &str = "Start from the example (/usr/share/doc/smsgw/examples/usb-modem-sqlite.toml, or contrib/examples/ in the source), or convert a gammu-smsd config with `smsgw config import-gammu -c /etc/gammu-smsdrc`";

/// Whether `text` is a gammu-smsd INI file rather than TOML: a `[gammu]` or `[smsd]`
/// section (any case) with `key = value` lines TOML would not take.
pub(super) fn looks_like_gammu(text: &str) -> bool {
    let mut sections = text.lines().map(str::trim).filter(|l| l.starts_with('['));
    let gammu_section = sections.any(|l| {
        let l = l.to_ascii_lowercase();
        l == "[gammu]" || l == "[smsd]"
    });
    gammu_section && toml::from_str::<toml::Table>(text).is_err()
}

/// The edit distance of two short words (for "did you mean").
pub(super) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// serde's message made for a person: the nearest key for a typo, no Rust type names, and
/// what to write instead where it is clear.
pub(super) fn friendly(message: &str, section: Option<&str>, key: Option<&str>) -> String {
    let section_name = section
        .map(|s| s.trim_matches(|c| c == '[' || c == ']').to_string())
        .unwrap_or_default();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let unknown = rest.split('`').next().unwrap_or_default();
        if key.is_none() && unknown == section_name {
            let mut sections: Vec<&str> = KEYS.iter().map(|k| k.section).collect();
            sections.dedup();
            let best = sections
                .iter()
                .map(|s| (distance(unknown, s), *s))
                .min()
                .filter(|(d, _)| *d <= 2);
            return match best {
                Some((_, s)) => format!("unknown section [{unknown}]: did you mean [{s}]?"),
                None => format!(
                    "unknown section [{unknown}] (the sections are {})",
                    sections.join(", ")
                ),
            };
        }
        let candidates: Vec<&str> = KEYS
            .iter()
            .filter(|k| section_name.is_empty() || k.section == section_name)
            .map(|k| k.name)
            .collect();
        let best = candidates
            .iter()
            .map(|k| (distance(unknown, k), *k))
            .min()
            .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < unknown.len());
        return match best {
            Some((_, k)) => format!("unknown key `{unknown}`: did you mean `{k}`?"),
            None => format!(
                "unknown key `{unknown}` (every key is listed in smsgw.toml(5) and `smsgw config check --keys`)"
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        return format!("unknown value `{rest}");
    }
    if message.starts_with("invalid type: integer") && message.contains("expected a string") {
        let n = message.split('`').nth(1).unwrap_or_default().to_string();
        return match key {
            Some("pin") => format!(
                "write the PIN in quotes: pin = \"{n}\" (as a number, a leading 0 would be lost)"
            ),
            Some(k) => format!("write the value in quotes: {k} = \"{n}\""),
            None => format!("write the value in quotes: \"{n}\""),
        };
    }
    let mut m = message.to_string();
    for (rust, plain) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        (
            "expected a sequence",
            "expected a list in brackets: [\"a\", \"b\"]",
        ),
        ("expected a map", "expected a table"),
    ] {
        m = m.replace(rust, plain);
    }
    m
}
