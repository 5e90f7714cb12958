//! Parsers for the information lines of GSM 07.05/07.07 answers. Each takes the text after
//! the `+XXX:` prefix and returns `None` (never panics) when a modem says something else.

/// Splits a parameter list on commas outside double quotes, trimming and unquoting.
pub fn fields(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// Signal quality from `+CSQ: <rssi>,<ber>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// 0..=31, `None` when the modem does not know (99).
    pub rssi: Option<u8>,
    /// Received signal strength in dBm (-113 to -51).
    pub dbm: Option<i32>,
    /// 0..=100, for people and Gammu's `phones.Signal`.
    pub percent: Option<u8>,
    /// Bit error rate class 0..=7.
    pub ber: Option<u8>,
}

/// `+CSQ:` value (some modems leave the prefix out; pass the bare value then).
pub fn csq(v: &str) -> Option<Signal> {
    let f = fields(v);
    let rssi: u8 = f.first()?.parse().ok()?;
    let ber: Option<u8> = f.get(1).and_then(|b| b.parse().ok()).filter(|&b| b <= 7);
    let rssi = (rssi <= 31).then_some(rssi);
    Some(Signal {
        rssi,
        dbm: rssi.map(|r| -113 + 2 * i32::from(r)),
        percent: rssi.map(|r| ((u32::from(r) * 100 + 15) / 31) as u8),
        ber,
    })
}

/// Battery from `+CBC: <bcs>,<bcl>[,<mV>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Battery {
    /// 0 on battery, 1 battery connected but not powered by it, 2 no battery, 3 power fault.
    pub state: u8,
    pub percent: u8,
    pub millivolts: Option<u32>,
}

pub fn cbc(v: &str) -> Option<Battery> {
    let f = fields(v);
    Some(Battery {
        state: f.first()?.parse().ok()?,
        percent: f.get(1)?.parse::<u8>().ok()?.min(100),
        millivolts: f.get(2).and_then(|m| m.parse().ok()),
    })
}

/// Network registration state (`<stat>` of `+CREG`/`+CGREG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    NotRegistered,
    Home,
    Searching,
    Denied,
    Unknown,
    Roaming,
}

impl Registration {
    pub fn from_stat(n: u8) -> Registration {
        match n {
            0 => Registration::NotRegistered,
            1 => Registration::Home,
            2 => Registration::Searching,
            3 => Registration::Denied,
            5 => Registration::Roaming,
            _ => Registration::Unknown,
        }
    }

    pub fn is_registered(self) -> bool {
        matches!(self, Registration::Home | Registration::Roaming)
    }

    /// Gammu's names (`phones.NetCode`-adjacent state).
    pub fn as_str(self) -> &'static str {
        match self {
            Registration::NotRegistered => "not registered",
            Registration::Home => "home network",
            Registration::Searching => "searching",
            Registration::Denied => "registration denied",
            Registration::Unknown => "unknown",
            Registration::Roaming => "roaming",
        }
    }
}

/// Registration, location area and cell from `+CREG: [<n>,]<stat>[,<lac>,<ci>[,<act>]]`.
/// The answer to `AT+CREG?` starts with `<n>`; the URC does not. `query` says which.
pub fn creg(v: &str, query: bool) -> Option<(Registration, Option<String>, Option<String>)> {
    let f = fields(v);
    let stat_at = usize::from(query);
    let stat: u8 = f.get(stat_at)?.parse().ok()?;
    let lac = f.get(stat_at + 1).filter(|s| !s.is_empty()).cloned();
    let ci = f.get(stat_at + 2).filter(|s| !s.is_empty()).cloned();
    Some((Registration::from_stat(stat), lac, ci))
}

/// The operator from `+COPS: <mode>[,<format>,<oper>[,<act>]]`.
pub fn cops(v: &str) -> Option<String> {
    fields(v).get(2).filter(|s| !s.is_empty()).cloned()
}

/// SIM lock state from `+CPIN: <code>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinState {
    Ready,
    /// `SIM PIN`: the configured PIN can be entered.
    SimPin,
    /// `SIM PUK`: locked after wrong PINs; an operator must act.
    SimPuk,
    /// Anything else the SIM wants (`PH-SIM PIN`, `SIM PIN2`, ...).
    Other(String),
}

pub fn cpin(v: &str) -> PinState {
    match v.trim().trim_matches('"').to_ascii_uppercase().as_str() {
        "READY" | "" => PinState::Ready,
        "SIM PIN" => PinState::SimPin,
        "SIM PUK" => PinState::SimPuk,
        other => PinState::Other(other.to_string()),
    }
}

/// `+CPMS=?`: the memories allowed for mem1, mem2 and mem3.
pub fn cpms_support(v: &str) -> [Vec<String>; 3] {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in v.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.clear();
            }
            ')' if depth > 0 => {
                depth -= 1;
                groups.push(
                    cur.split(',')
                        .map(|s| s.trim().trim_matches('"').to_ascii_uppercase())
                        .filter(|s| !s.is_empty())
                        .collect(),
                );
            }
            _ if depth > 0 => cur.push(c),
            _ => {}
        }
    }
    let mut it = groups.into_iter();
    let first = it.next().unwrap_or_default();
    let second = it.next().unwrap_or_else(|| first.clone());
    let third = it.next().unwrap_or_else(|| second.clone());
    [first, second, third]
}

/// Used and total slots of mem1 from `+CPMS: <used1>,<total1>,...` (the answer to a set) or
/// `+CPMS: "<mem1>",<used1>,<total1>,...` (the answer to a query).
pub fn cpms_counts(v: &str) -> Option<(usize, usize)> {
    let f = fields(v);
    let numbers: Vec<usize> = f.iter().filter_map(|s| s.parse().ok()).collect();
    Some((*numbers.first()?, *numbers.get(1)?))
}

/// `+CMGL: <index>,<stat>,[<alpha>],<length>` (PDU mode): index and stat. ZTE modems leave
/// `<stat>` empty.
pub fn cmgl_header(v: &str) -> Option<(usize, Option<u8>)> {
    let f = fields(v);
    let index = f.first()?.parse().ok()?;
    Some((index, f.get(1).and_then(|s| s.parse().ok())))
}

/// `+CMGR: <stat>,[<alpha>],<length>`: the stat.
pub fn cmgr_header(v: &str) -> Option<u8> {
    fields(v).first().and_then(|s| s.parse().ok())
}

/// `+CMTI: <mem>,<index>` / `+CDSI: <mem>,<index>`.
pub fn mem_index(v: &str) -> Option<(String, usize)> {
    let f = fields(v);
    Some((f.first()?.to_ascii_uppercase(), f.get(1)?.parse().ok()?))
}

/// `+CSCA: "<number>",<type>`: the SMSC number.
pub fn csca(v: &str) -> Option<String> {
    fields(v).first().filter(|s| !s.is_empty()).cloned()
}

/// `+CLIP: "<number>",<type>,...`: the caller.
pub fn clip(v: &str) -> Option<String> {
    fields(v).first().filter(|s| !s.is_empty()).cloned()
}

/// `+CMGS: <mr>[,<scts>]`: the TP-MR the network gave the message.
pub fn cmgs(v: &str) -> Option<u8> {
    fields(v).first()?.parse().ok()
}

/// The text of `+CUSD: <m>[,"<text>"[,<dcs>]]` (UCS-2 hex answers, as some Huawei
/// firmware sends, are decoded).
pub fn cusd(v: &str) -> String {
    let f = fields(v);
    let text = f.get(1).cloned().unwrap_or_default();
    let dcs: Option<u8> = f.get(2).and_then(|d| d.parse().ok());
    if dcs == Some(72) && text.len() % 4 == 0 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        if let Ok(bytes) = crate::pdu::from_hex(&text) {
            let units = bytes
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]));
            return char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
        }
    }
    text
}

/// `+CCID: <iccid>` or a bare ICCID (digits, sometimes with a trailing F).
pub fn iccid(line: &str) -> Option<String> {
    let v = line
        .rsplit(':')
        .next()
        .unwrap_or(line)
        .trim()
        .trim_matches('"');
    let digits: String = v.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (digits.len() >= 10).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal() {
        let s = csq("20,99").unwrap();
        assert_eq!(
            (s.rssi, s.dbm, s.percent, s.ber),
            (Some(20), Some(-73), Some(65), None)
        );
        assert_eq!(csq("31,0").unwrap().percent, Some(100));
        assert_eq!(csq("0,0").unwrap().dbm, Some(-113));
        assert_eq!(csq("99,99").unwrap().rssi, None);
        assert_eq!(csq("garbage"), None);
        assert_eq!(csq(""), None);
    }

    #[test]
    fn battery() {
        assert_eq!(cbc("0,80").unwrap().percent, 80);
        assert_eq!(cbc("0,80,4100").unwrap().millivolts, Some(4100));
        assert_eq!(cbc("1,250").unwrap().percent, 100);
        assert_eq!(cbc("x"), None);
    }

    #[test]
    fn registration() {
        assert_eq!(creg("0,1", true).unwrap().0, Registration::Home);
        let (r, lac, ci) = creg("2,5,\"00C3\",\"0010\",7", true).unwrap();
        assert_eq!(
            (r, lac.as_deref(), ci.as_deref()),
            (Registration::Roaming, Some("00C3"), Some("0010"))
        );
        assert_eq!(creg("1", false).unwrap().0, Registration::Home);
        assert_eq!(creg("0,0", true).unwrap().0, Registration::NotRegistered);
        assert!(creg("", true).is_none());
        assert_eq!(cops("0,0,\"Play\",7").as_deref(), Some("Play"));
        assert_eq!(cops("0,2,\"26006\"").as_deref(), Some("26006"));
        assert_eq!(cops("0"), None);
    }

    #[test]
    fn pin_states() {
        assert_eq!(cpin("READY"), PinState::Ready);
        assert_eq!(cpin("SIM PIN"), PinState::SimPin);
        assert_eq!(cpin(" SIM PUK"), PinState::SimPuk);
        assert_eq!(cpin("PH-SIM PIN"), PinState::Other("PH-SIM PIN".into()));
        assert_eq!(
            cpin(""),
            PinState::Ready,
            "Gammu treats an empty answer as no PIN"
        );
    }

    #[test]
    fn storage() {
        let s = cpms_support("(\"SM\",\"ME\",\"SR\"),(\"SM\",\"ME\"),(\"SM\",\"ME\")");
        assert_eq!(s[0], ["SM", "ME", "SR"]);
        assert_eq!(s[2], ["SM", "ME"]);
        let s = cpms_support("(\"SM\")");
        assert_eq!(s[1], ["SM"]);
        assert_eq!(cpms_support("()")[0], Vec::<String>::new());
        assert_eq!(cpms_counts("3,30,3,30,3,30"), Some((3, 30)));
        assert_eq!(
            cpms_counts("\"SM\",3,30,\"SM\",3,30,\"ME\",0,100"),
            Some((3, 30))
        );
        assert_eq!(cmgl_header("0,1,,23"), Some((0, Some(1))));
        assert_eq!(cmgl_header("5,,,27"), Some((5, None)), "ZTE: empty stat");
        assert_eq!(cmgr_header(",,27"), None);
        assert_eq!(mem_index("\"SM\",3"), Some(("SM".into(), 3)));
        assert_eq!(mem_index("\"me\", 0"), Some(("ME".into(), 0)));
        assert_eq!(mem_index("\"SM\""), None);
    }

    #[test]
    fn ussd_answers() {
        assert_eq!(cusd("0,\"Balance: 10.00 EUR\",15"), "Balance: 10.00 EUR");
        assert_eq!(cusd("0,\"0042\",72"), "B");
        assert_eq!(cusd("2"), "");
    }

    #[test]
    fn misc() {
        assert_eq!(
            csca("\"+48602000000\",145").as_deref(),
            Some("+48602000000")
        );
        assert_eq!(clip("\"+48123\",145,,,,0").as_deref(), Some("+48123"));
        assert_eq!(cmgs("42"), Some(42));
        assert_eq!(cmgs("300"), None);
        assert_eq!(
            iccid("+CCID: 8948011234567890123").as_deref(),
            Some("8948011234567890123")
        );
        assert_eq!(
            iccid("89480112345678901F").as_deref(),
            Some("89480112345678901F")
        );
        assert_eq!(iccid("ERROR"), None);
        assert_eq!(fields("\"a,b\", c ,"), ["a,b", "c", ""]);
    }
}
