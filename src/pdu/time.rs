//! Time fields: the service centre time stamp (TP-SCTS, also the layout of TP-DT and of an
//! absolute TP-VP) and the validity period (TP-VP).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, Timelike};

use super::error::PduError;
use super::reader::Reader;

/// A time stamp as it travels: local date and time of the SMSC plus its offset from UTC in
/// quarter hours. Fields are kept as received; [`Scts::to_datetime`] checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scts {
    /// Two-digit year (`21` is 2021).
    pub year: u8,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Offset from UTC in quarter hours (`+4` is UTC+01:00).
    pub tz_quarters: i8,
}

fn bcd(b: u8) -> u8 {
    (b & 0x0F) * 10 + (b >> 4)
}

fn to_bcd(v: u8) -> u8 {
    let v = v % 100;
    ((v % 10) << 4) | (v / 10)
}

impl Scts {
    pub(crate) fn decode(r: &mut Reader<'_>, field: &'static str) -> Result<Scts, PduError> {
        let b = r.take(7, field)?;
        let tz = b[6];
        let quarters = ((tz & 0x07) * 10 + (tz >> 4)) as i8;
        Ok(Scts {
            year: bcd(b[0]),
            month: bcd(b[1]),
            day: bcd(b[2]),
            hour: bcd(b[3]),
            minute: bcd(b[4]),
            second: bcd(b[5]),
            tz_quarters: if tz & 0x08 != 0 { -quarters } else { quarters },
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let q = self.tz_quarters.unsigned_abs().min(79);
        let mut tz = to_bcd(q);
        if self.tz_quarters < 0 {
            tz |= 0x08;
        }
        out.extend_from_slice(&[
            to_bcd(self.year),
            to_bcd(self.month),
            to_bcd(self.day),
            to_bcd(self.hour),
            to_bcd(self.minute),
            to_bcd(self.second),
            tz,
        ]);
    }

    /// The full year: two-digit years below 70 are 20xx, the others 19xx.
    pub fn full_year(&self) -> i32 {
        let y = i32::from(self.year);
        if y < 70 {
            2000 + y
        } else {
            1900 + y
        }
    }

    /// The time with its offset, or `None` when a field is out of range.
    pub fn to_datetime(&self) -> Option<DateTime<FixedOffset>> {
        let offset = FixedOffset::east_opt(i32::from(self.tz_quarters) * 15 * 60)?;
        NaiveDate::from_ymd_opt(self.full_year(), self.month.into(), self.day.into())?
            .and_hms_opt(self.hour.into(), self.minute.into(), self.second.into())?
            .and_local_timezone(offset)
            .single()
    }

    /// The time stamp of a date and time with its offset (seconds of the offset below a
    /// quarter hour are dropped).
    pub fn from_datetime<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> Scts {
        let offset = t.offset().fix().local_minus_utc();
        Scts {
            year: (t.year().rem_euclid(100)) as u8,
            month: t.month() as u8,
            day: t.day() as u8,
            hour: t.hour() as u8,
            minute: t.minute() as u8,
            second: t.second() as u8,
            tz_quarters: (offset / 900).clamp(-79, 79) as i8,
        }
    }
}

impl fmt::Display for Scts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = self.tz_quarters.unsigned_abs();
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}{:02}:{:02}",
            self.full_year(),
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            if self.tz_quarters < 0 { '-' } else { '+' },
            q / 4,
            (q % 4) * 15
        )
    }
}

/// The validity period of a SUBMIT (TP-VP, with its format TP-VPF in the first octet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Validity {
    /// No TP-VP: the SMSC's default.
    #[default]
    None,
    /// One octet, 5 minutes to 63 weeks (see [`Validity::relative_duration`]).
    Relative(u8),
    /// An expiry time.
    Absolute(Scts),
    /// Seven octets of the enhanced format, kept as they are.
    Enhanced([u8; 7]),
}

impl Validity {
    /// The TP-VPF bits (4..3) of the first octet.
    pub(crate) fn vpf_bits(&self) -> u8 {
        match self {
            Validity::None => 0x00,
            Validity::Enhanced(_) => 0x08,
            Validity::Relative(_) => 0x10,
            Validity::Absolute(_) => 0x18,
        }
    }

    pub(crate) fn decode(vpf_bits: u8, r: &mut Reader<'_>) -> Result<Validity, PduError> {
        Ok(match vpf_bits & 0x18 {
            0x00 => Validity::None,
            0x10 => Validity::Relative(r.u8("TP-VP")?),
            0x18 => Validity::Absolute(Scts::decode(r, "TP-VP")?),
            _ => {
                let b = r.take(7, "TP-VP")?;
                let mut e = [0; 7];
                e.copy_from_slice(b);
                Validity::Enhanced(e)
            }
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Validity::None => {}
            Validity::Relative(v) => out.push(*v),
            Validity::Absolute(t) => t.encode(out),
            Validity::Enhanced(e) => out.extend_from_slice(e),
        }
    }

    /// The relative validity closest to (and not shorter than) `d`, capped at 63 weeks.
    pub fn relative(d: Duration) -> Validity {
        let minutes = d.as_secs().div_ceil(60);
        let v = if minutes <= 12 * 60 {
            (minutes.div_ceil(5).max(1) - 1) as u8
        } else if minutes <= 24 * 60 {
            (143 + (minutes - 12 * 60).div_ceil(30)) as u8
        } else if minutes <= 30 * 24 * 60 {
            (166 + minutes.div_ceil(24 * 60)).min(196) as u8
        } else {
            (192 + minutes.div_ceil(7 * 24 * 60)).min(255) as u8
        };
        Validity::Relative(v)
    }

    /// The duration of a relative validity octet (GSM 03.40 9.2.3.12.1).
    pub fn relative_duration(v: u8) -> Duration {
        let v = u64::from(v);
        let minutes = match v {
            0..=143 => (v + 1) * 5,
            144..=167 => 12 * 60 + (v - 143) * 30,
            168..=196 => (v - 166) * 24 * 60,
            _ => (v - 192) * 7 * 24 * 60,
        };
        Duration::from_secs(minutes * 60)
    }
}

/// Parses a validity as people and Gammu write it: `none` (the SMSC's default), Gammu's
/// names (`HOUR`, `6HOURS`, `DAY`, `3DAYS`, `WEEK`, `MAX`), or a number with a unit (`30m`,
/// `2h`, `3d`, `1w`), rounded up to the next relative value.
impl std::str::FromStr for Validity {
    type Err = String;

    fn from_str(s: &str) -> Result<Validity, String> {
        let t = s.trim().to_ascii_lowercase();
        let minutes: u64 = match t.as_str() {
            "none" | "default" => return Ok(Validity::None),
            "max" | "maximum" => return Ok(Validity::Relative(255)),
            "hour" => 60,
            "6hours" => 360,
            "day" => 1440,
            "3days" => 3 * 1440,
            "week" => 7 * 1440,
            _ => {
                let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
                let (n, unit) = t.split_at(split);
                let n: u64 = n.parse().map_err(|_| {
                    format!("invalid validity {s:?}: use none, max, HOUR, DAY, WEEK or a number with m, h, d or w (e.g. 2d)")
                })?;
                let per = match unit.trim() {
                    "m" | "min" | "minute" | "minutes" => 1,
                    "h" | "hour" | "hours" => 60,
                    "d" | "day" | "days" => 1440,
                    "w" | "week" | "weeks" => 7 * 1440,
                    _ => {
                        return Err(format!(
                        "invalid validity unit in {s:?}: use m, h, d or w (e.g. 30m, 2h, 3d, 1w)"
                    ))
                    }
                };
                if n == 0 {
                    return Err(format!("invalid validity {s:?}: must be longer than zero"));
                }
                n.saturating_mul(per)
            }
        };
        Ok(Validity::relative(Duration::from_secs(
            minutes.saturating_mul(60),
        )))
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validity::None => f.write_str("none (SMSC default)"),
            Validity::Relative(v) => {
                let m = Validity::relative_duration(*v).as_secs() / 60;
                let (n, unit) = if m.is_multiple_of(7 * 24 * 60) {
                    (m / (7 * 24 * 60), "week")
                } else if m.is_multiple_of(24 * 60) {
                    (m / (24 * 60), "day")
                } else if m.is_multiple_of(60) {
                    (m / 60, "hour")
                } else {
                    (m, "minute")
                };
                write!(
                    f,
                    "relative {v} ({n} {unit}{})",
                    if n == 1 { "" } else { "s" }
                )
            }
            Validity::Absolute(t) => write!(f, "until {t}"),
            Validity::Enhanced(e) => {
                f.write_str("enhanced ")?;
                e.iter().try_for_each(|b| write!(f, "{b:02X}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scts_decodes_swapped_digits_and_negative_zone() {
        // 2011-01-11 17:59:15, zone byte 0x40 = +04 quarters (UTC+01:00).
        let mut r = Reader::new(&[0x11, 0x10, 0x11, 0x71, 0x95, 0x51, 0x40]);
        let t = Scts::decode(&mut r, "TP-SCTS").unwrap();
        assert_eq!(t.to_string(), "2011-01-11 17:59:15 +01:00");
        // Zone 0x8A: the low nibble is the tens digit with the sign bit (0x8 set, tens 2),
        // the high nibble the units (8): -28 quarters = -07:00.
        let mut r = Reader::new(&[0x99, 0x20, 0x71, 0x21, 0x04, 0x00, 0x8A]);
        let t = Scts::decode(&mut r, "TP-SCTS").unwrap();
        assert_eq!(t.tz_quarters, -28);
        assert_eq!(t.to_string(), "1999-02-17 12:40:00 -07:00");
        let mut out = Vec::new();
        t.encode(&mut out);
        assert_eq!(out, [0x99, 0x20, 0x71, 0x21, 0x04, 0x00, 0x8A]);
    }

    #[test]
    fn invalid_scts_fields_give_no_datetime() {
        let t = Scts {
            year: 21,
            month: 13,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            tz_quarters: 0,
        };
        assert_eq!(t.to_datetime(), None);
    }

    #[test]
    fn relative_validity_boundaries() {
        assert_eq!(Validity::relative_duration(0), Duration::from_secs(5 * 60));
        assert_eq!(
            Validity::relative_duration(143),
            Duration::from_secs(12 * 3600)
        );
        assert_eq!(
            Validity::relative_duration(167),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            Validity::relative_duration(168),
            Duration::from_secs(2 * 86400)
        );
        assert_eq!(
            Validity::relative_duration(196),
            Duration::from_secs(30 * 86400)
        );
        assert_eq!(
            Validity::relative_duration(197),
            Duration::from_secs(5 * 7 * 86400)
        );
        assert_eq!(
            Validity::relative_duration(255),
            Duration::from_secs(63 * 7 * 86400)
        );
        // Gammu's named values: HOUR = 11, DAY = 167 (0xA7), WEEK = 173 (0xAD), MAX = 255.
        assert_eq!(
            Validity::relative(Duration::from_secs(3600)),
            Validity::Relative(11)
        );
        assert_eq!(
            Validity::relative(Duration::from_secs(86400)),
            Validity::Relative(167)
        );
        assert_eq!(
            Validity::relative(Duration::from_secs(7 * 86400)),
            Validity::Relative(173)
        );
        assert_eq!(
            Validity::relative(Duration::from_secs(10 * 365 * 86400)),
            Validity::Relative(255)
        );
        for v in 0..=255u8 {
            assert_eq!(
                Validity::relative(Validity::relative_duration(v)),
                Validity::Relative(v)
            );
        }
    }

    #[test]
    fn validity_parses_gammu_names_and_durations() {
        let p = |s: &str| s.parse::<Validity>();
        assert_eq!(p("HOUR"), Ok(Validity::Relative(11)));
        assert_eq!(p("6HOURS"), Ok(Validity::Relative(71)));
        assert_eq!(p("day"), Ok(Validity::Relative(167)));
        assert_eq!(p("3DAYS"), Ok(Validity::Relative(169)));
        assert_eq!(p("WEEK"), Ok(Validity::Relative(173)));
        assert_eq!(p("MAX"), Ok(Validity::Relative(255)));
        assert_eq!(p("none"), Ok(Validity::None));
        assert_eq!(p("30m"), Ok(Validity::Relative(5)));
        assert_eq!(p("2h"), Ok(Validity::Relative(23)));
        assert_eq!(p("1w"), Ok(Validity::Relative(173)));
        assert_eq!(p("100w"), Ok(Validity::Relative(255)));
        assert!(p("0h").is_err());
        assert!(p("2y").unwrap_err().contains("unit"));
        assert!(p("soon").unwrap_err().contains("invalid validity"));
        assert!(p("99999999999999999999d").is_err());
    }

    #[test]
    fn validity_reads_as_a_person_would_say_it() {
        assert_eq!(Validity::Relative(167).to_string(), "relative 167 (1 day)");
        assert_eq!(Validity::Relative(0).to_string(), "relative 0 (5 minutes)");
    }
}
