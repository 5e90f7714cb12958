//! The simulated modem's state and its answer to each command line. Synchronous and
//! deterministic: the connection loop in `sim/mod.rs` does the I/O and the timing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::pdu::{
    self, Address, DecodeOptions, Direction, Pdu, Scts, StatusReport, Submit, UserData,
};

use super::{SentRecord, SimConfig};

/// Message status in storage (`<stat>` of `+CMGL`/`+CMGR`).
pub(crate) const REC_UNREAD: u8 = 0;
pub(crate) const REC_READ: u8 = 1;

#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub stat: u8,
    /// Hex PDU with the SMSC part.
    pub pdu: String,
}

#[derive(Debug, Default)]
pub(crate) struct Memory {
    pub slots: BTreeMap<usize, Stored>,
    pub capacity: usize,
}

/// SIM lock state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    Ready,
    Pin,
    Puk,
}

/// What the connection loop does after a command.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Text to write (lines with their endings).
    pub out: String,
    /// Wait for a PDU of this many TPDU octets, ended by Ctrl-Z.
    pub prompt: Option<usize>,
    /// Drop the line now (reset: the USB device re-enumerates).
    pub vanish: bool,
    /// Status reports to deliver later (hex PDU).
    pub reports: Vec<String>,
    /// URCs to send right after the reply (a USSD answer).
    pub urcs: Vec<String>,
}

pub(crate) struct State {
    pub cfg: SimConfig,
    pub echo: bool,
    pub lock: Lock,
    pub pin_attempts: u8,
    pub memories: BTreeMap<String, Memory>,
    /// mem1 (read, list, delete), mem2 (write), mem3 (where received messages go).
    pub mem: [String; 3],
    /// `+CNMI` mt and ds.
    pub cnmi_mt: u8,
    pub cnmi_ds: u8,
    pub cops_format: u8,
    pub next_mr: u8,
    pub failures_left: u32,
    /// State of the random failures (`SimConfig::fail_percent`).
    pub random: u64,
    pub sent: Vec<SentRecord>,
    pub acks: u32,
    /// Messages that did not fit into full storage; delivered when room frees up.
    pub waiting: Vec<String>,
    pub responses: u64,
    /// PDUs given after the prompt, accepted or not.
    pub attempts: u32,
    /// Bare `AT` lines received (even while hanging): each is a client waking the modem.
    pub wakeups: u32,
    /// `AT+CREG=n`: 1 or 2 announce registration changes with a `+CREG:` URC.
    pub creg_urc: u8,
    /// `AT+CMGF=1`, `AT+CSCS="UCS2"`, `AT+CSMP` (fo, vp, pid, dcs), and the recipient of a
    /// text-mode `AT+CMGS` waiting for its text.
    pub text_mode: bool,
    pub ucs2: bool,
    pub csmp: (u8, u8, u8, u8),
    pub pending_text: Option<String>,
    /// Every command line received, upper case (the last [`COMMANDS_KEPT`]).
    pub commands: Vec<String>,
}

/// How many command lines the simulator remembers.
const COMMANDS_KEPT: usize = 1000;

fn hex_tpdu_len(pdu: &str) -> usize {
    let bytes = pdu::from_hex(pdu).unwrap_or_default();
    let smsc = bytes.first().map_or(0, |&n| usize::from(n) + 1);
    bytes.len().saturating_sub(smsc)
}

impl State {
    pub fn new(cfg: SimConfig) -> State {
        let mut memories = BTreeMap::new();
        for name in ["SM", "ME", "SR"] {
            memories.insert(
                name.to_string(),
                Memory {
                    slots: BTreeMap::new(),
                    capacity: cfg.capacity,
                },
            );
        }
        let mut cfg = cfg;
        if cfg.huawei && cfg.noise.is_empty() {
            cfg.noise = vec![format!("^RSSI: {}", cfg.signal)];
        }
        let mut s = State {
            lock: if cfg.pin.is_some() {
                Lock::Pin
            } else {
                Lock::Ready
            },
            echo: cfg.echo,
            pin_attempts: 3,
            memories,
            mem: ["SM".into(), "SM".into(), "SM".into()],
            cnmi_mt: 0,
            cnmi_ds: 0,
            cops_format: 0,
            next_mr: 0,
            failures_left: cfg.fail_sends,
            random: 0x9E37_79B9_7F4A_7C15,
            sent: Vec::new(),
            acks: 0,
            waiting: Vec::new(),
            responses: 0,
            attempts: 0,
            wakeups: 0,
            creg_urc: 0,
            commands: Vec::new(),
            text_mode: false,
            ucs2: false,
            csmp: (17, 167, 0, 0),
            pending_text: None,
            cfg,
        };
        let inbox = s.cfg.inbox.clone();
        for pdu in inbox {
            s.store("SM", REC_UNREAD, pdu);
        }
        s
    }

    /// After a reset: the SIM asks for its PIN again, settings are lost, storage stays.
    pub fn reboot(&mut self) {
        self.lock = if self.cfg.pin.is_some() && self.lock != Lock::Puk {
            Lock::Pin
        } else {
            self.lock
        };
        self.echo = self.cfg.echo;
        self.cnmi_mt = 0;
        self.cnmi_ds = 0;
    }

    fn nl(&self) -> &'static str {
        if self.cfg.huawei {
            "\r\r\n"
        } else {
            "\r\n"
        }
    }

    fn line(&self, out: &mut String, text: &str) {
        let _ = write!(out, "\r\n{text}{}", self.nl());
    }

    /// Stores a PDU; returns its index, or `None` when the memory is full.
    pub fn store(&mut self, mem: &str, stat: u8, pdu: String) -> Option<usize> {
        let base = self.cfg.index_base;
        let m = self.memories.get_mut(mem)?;
        if m.slots.len() >= m.capacity {
            return None;
        }
        let idx = (base..).find(|i| !m.slots.contains_key(i))?;
        m.slots.insert(idx, Stored { stat, pdu });
        Some(idx)
    }

    /// A message arrives from the network. Returns the URC text to send (if any).
    pub fn arrive(&mut self, pdu: String) -> Option<String> {
        let nl = self.nl();
        if self.cnmi_mt == 2 || self.cfg.direct_only && self.cnmi_mt != 0 {
            return Some(format!("\r\n+CMT: ,{}{nl}{pdu}{nl}", hex_tpdu_len(&pdu)));
        }
        let mem = self.mem[2].clone();
        match self.store(&mem, REC_UNREAD, pdu.clone()) {
            Some(idx) if self.cnmi_mt == 1 => Some(format!("\r\n+CMTI: \"{mem}\",{idx}{nl}")),
            Some(_) => None,
            None => {
                self.waiting.push(pdu);
                None
            }
        }
    }

    /// A status report arrives. Returns the URC text to send (if any).
    pub fn arrive_report(&mut self, pdu: String) -> Option<String> {
        let nl = self.nl();
        match self.cnmi_ds {
            1 => Some(format!("\r\n+CDS: {}{nl}{pdu}{nl}", hex_tpdu_len(&pdu))),
            2 => {
                let mem = if self.cfg.report_memory_sr {
                    "SR"
                } else {
                    "SM"
                };
                let idx = self.store(mem, REC_UNREAD, pdu)?;
                Some(format!("\r\n+CDSI: \"{mem}\",{idx}{nl}"))
            }
            _ => None,
        }
    }

    fn memory(&self, i: usize) -> &Memory {
        // `mem` only ever holds names of existing memories.
        &self.memories[&self.mem[i]]
    }

    pub fn handle(&mut self, raw: &str) -> Outcome {
        let mut o = Outcome::default();
        let cmd = raw.trim();
        if cmd.is_empty() {
            return o;
        }
        self.responses += 1;
        let up = cmd.to_ascii_uppercase();
        if self.commands.len() >= COMMANDS_KEPT {
            self.commands.remove(0);
        }
        self.commands.push(up.clone());
        let Some(body) = up.strip_prefix("AT") else {
            self.line(&mut o.out, "ERROR");
            return o;
        };
        let allowed_locked = [
            "", "Z", "E0", "E1", "&F", "I", "+CMEE", "+CPIN", "+CGMI", "+CGMM", "+CGMR", "+CGSN",
            "+GSN", "+CFUN", "+CCID", "^CURC",
        ];
        let vendor_init = self.cfg.accepts.iter().any(|a| a.eq_ignore_ascii_case(cmd));
        if self.lock != Lock::Ready
            && !vendor_init
            && !allowed_locked
                .iter()
                .any(|a| body == *a || a.len() > 1 && body.starts_with(a))
        {
            self.line(&mut o.out, "+CME ERROR: 11");
            return o;
        }
        let mut info: Vec<String> = Vec::new();
        let result = self.dispatch(cmd, body, &mut info, &mut o);
        for l in &info {
            self.line(&mut o.out, l);
        }
        // The vendor's unsolicited lines, one every third response, inside it.
        if !self.cfg.noise.is_empty() && self.responses.is_multiple_of(3) && o.prompt.is_none() {
            let n = (self.responses / 3) as usize % self.cfg.noise.len();
            let noise = self.cfg.noise[n].clone();
            self.line(&mut o.out, &noise);
        }
        if let Some(r) = result {
            self.line(&mut o.out, &r);
        }
        o
    }

    /// Runs one command; returns the final result line (None when waiting for a prompt).
    fn dispatch(
        &mut self,
        cmd: &str,
        body: &str,
        info: &mut Vec<String>,
        o: &mut Outcome,
    ) -> Option<String> {
        let ok = Some("OK".to_string());
        let err = Some("ERROR".to_string());
        let unsupported = || {
            Some(if self.cfg.huawei {
                "COMMAND NOT SUPPORT".to_string()
            } else {
                "ERROR".to_string()
            })
        };
        let arg = |prefix: &str| cmd.get(prefix.len()..).unwrap_or("").trim().to_string();
        match body {
            "" | "Z" | "&F" | "+CMEE=1" | "+CMEE=2" | "+CMEE=0" | "^CURC=0" | "+CLIP=1"
            | "+CLIP=0" | "+CRC=1" | "+CCWA=1" | "+CUSD=1" | "+CUSD=0" | "+CMMS=2" | "+CMMS=1"
            | "+CMMS=0" | "H" | "+CHUP" | "+CSDH=0" | "+CSDH=1" | "+CGREG=0" | "+CGREG=1"
            | "+CGREG=2" | "+CVHU=0" | "+CFUN=1" | "+CSMS=0" | "+CSMS=1" => ok,
            "+CREG=0" | "+CREG=1" | "+CREG=2" => {
                self.creg_urc = body.as_bytes()[6] - b'0';
                ok
            }
            "E0" => {
                self.echo = self.cfg.echo_stuck && self.echo;
                ok
            }
            "E1" => {
                self.echo = true;
                ok
            }
            "I" | "+CGMI" | "+GMI" | "I3" => {
                info.push(self.cfg.manufacturer.clone());
                ok
            }
            "+CGMM" | "+GMM" | "I4" => {
                info.push(self.cfg.model.clone());
                ok
            }
            "+CGMR" | "+GMR" | "I5" => {
                info.push(self.cfg.revision.clone());
                ok
            }
            "+CGSN" | "+GSN" => {
                info.push(self.cfg.imei.clone());
                ok
            }
            "+CIMI" => {
                info.push(self.cfg.imsi.clone());
                ok
            }
            "+CCID" => {
                info.push(format!("+CCID: {}", self.cfg.iccid));
                ok
            }
            "+CMEE?" => {
                info.push("+CMEE: 1".into());
                ok
            }
            "+CMGF=0" if self.cfg.text_only => err,
            "+CMGF=0" | "+CMGF=1" => {
                self.text_mode = body == "+CMGF=1";
                ok
            }
            "+CSCS=\"GSM\"" | "+CSCS=\"IRA\"" | "+CSCS=\"UCS2\"" => {
                self.ucs2 = body == "+CSCS=\"UCS2\"";
                ok
            }
            _ if body.starts_with("+CSMP=") => {
                let p: Vec<Option<u8>> = body[6..]
                    .split(',')
                    .map(|v| v.trim().parse().ok())
                    .collect();
                match p.as_slice() {
                    [Some(fo), Some(vp), Some(pid), Some(dcs)] => {
                        self.csmp = (*fo, *vp, *pid, *dcs);
                        ok
                    }
                    _ => err,
                }
            }
            _ if self.text_mode && body.starts_with("+CMGS=") => {
                let da = cmd[8..]
                    .split(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches('"');
                self.pending_text = Some(self.te_decode(da));
                o.prompt = Some(0);
                None
            }
            _ if self.text_mode && body.starts_with("+CMGL=") => {
                let mem = self.mem[0].clone();
                let slots: Vec<(usize, u8, String)> = self
                    .memories
                    .get(&mem)
                    .map(|m| {
                        m.slots
                            .iter()
                            .map(|(i, s)| (*i, s.stat, s.pdu.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                for (idx, stat, pdu) in slots {
                    let (header, data) = self.as_text(stat, &pdu);
                    info.push(format!("+CMGL: {idx},{header}"));
                    info.extend(data);
                }
                ok
            }
            _ if self.text_mode && body.starts_with("+CMGR=") => {
                let idx: Option<usize> = body[6..].trim().parse().ok();
                let mem = self.mem[0].clone();
                let slot = idx.and_then(|i| self.memories.get_mut(&mem)?.slots.get_mut(&i));
                match slot {
                    Some(s) => {
                        let (stat, pdu) = (s.stat, s.pdu.clone());
                        if s.stat == REC_UNREAD {
                            s.stat = REC_READ;
                        }
                        let (header, data) = self.as_text(stat, &pdu);
                        info.push(format!("+CMGR: {header}"));
                        info.extend(data);
                        ok
                    }
                    None => Some("+CMS ERROR: 321".into()),
                }
            }
            "+CMGF?" => {
                info.push(format!("+CMGF: {}", u8::from(self.text_mode)));
                ok
            }
            "+CMGF=?" => {
                info.push("+CMGF: (0)".into());
                ok
            }
            "+CSCS=?" => {
                info.push("+CSCS: (\"GSM\",\"IRA\",\"UCS2\")".into());
                ok
            }
            "+CSCS?" => {
                info.push("+CSCS: \"GSM\"".into());
                ok
            }
            "+CHUP=?" | "+CLIP=?" => ok,
            "+CPIN?" => {
                info.push(
                    match self.lock {
                        Lock::Ready => "+CPIN: READY",
                        Lock::Pin => "+CPIN: SIM PIN",
                        Lock::Puk => "+CPIN: SIM PUK",
                    }
                    .into(),
                );
                if self.cfg.cpin_no_ok {
                    // Some Wavecom modems answer without a final result.
                    return None;
                }
                ok
            }
            _ if body.starts_with("+CPIN=") => {
                let given = arg("AT+CPIN=").trim_matches('"').to_string();
                match self.lock {
                    Lock::Ready => ok,
                    Lock::Puk => Some("+CME ERROR: 16".into()),
                    Lock::Pin if Some(&given) == self.cfg.pin.as_ref() => {
                        self.lock = Lock::Ready;
                        ok
                    }
                    Lock::Pin => {
                        self.pin_attempts = self.pin_attempts.saturating_sub(1);
                        if self.pin_attempts == 0 {
                            self.lock = Lock::Puk;
                        }
                        Some("+CME ERROR: 16".into())
                    }
                }
            }
            "+CFUN?" => {
                info.push("+CFUN: 1".into());
                ok
            }
            "+CFUN=1,1" | "+CFUN=1, 1" => {
                o.vanish = true;
                ok
            }
            "+CFUN=4" | "+CFUN=0" => ok,
            "+CSQ" => {
                info.push(format!("+CSQ: {},99", self.cfg.signal));
                ok
            }
            "+CBC" => {
                info.push(format!("+CBC: 0,{}", self.cfg.battery));
                ok
            }
            "+CREG?" | "+CGREG?" => {
                let name = if body == "+CREG?" { "+CREG" } else { "+CGREG" };
                info.push(format!(
                    "{name}: 0,{}",
                    if self.cfg.no_network { 0 } else { 1 }
                ));
                ok
            }
            "+CGATT?" => {
                info.push(format!("+CGATT: {}", u8::from(!self.cfg.no_network)));
                ok
            }
            _ if body.starts_with("+COPS=3,") => {
                self.cops_format = body[8..].parse().unwrap_or(0);
                ok
            }
            "+COPS?" => {
                if self.cfg.no_network {
                    info.push("+COPS: 0".into());
                } else if self.cops_format == 2 {
                    info.push(format!("+COPS: 0,2,\"{}\",7", self.cfg.operator_code));
                } else {
                    info.push(format!("+COPS: 0,0,\"{}\",7", self.cfg.operator_name));
                }
                ok
            }
            "+CSCA?" => {
                info.push(format!("+CSCA: \"{}\",145", self.cfg.smsc));
                ok
            }
            _ if body.starts_with("+CSCA=") => ok,
            "+CPMS=?" => {
                info.push("+CPMS: (\"SM\",\"ME\",\"SR\"),(\"SM\",\"ME\"),(\"SM\",\"ME\")".into());
                ok
            }
            "+CPMS?" => {
                let parts: Vec<String> = (0..3)
                    .map(|i| {
                        let m = self.memory(i);
                        format!("\"{}\",{},{}", self.mem[i], m.slots.len(), m.capacity)
                    })
                    .collect();
                info.push(format!("+CPMS: {}", parts.join(",")));
                ok
            }
            _ if body.starts_with("+CPMS=") => {
                let names: Vec<String> = body[6..]
                    .split(',')
                    .map(|s| s.trim().trim_matches('"').to_string())
                    .collect();
                if names.is_empty()
                    || names.len() > 3
                    || names.iter().any(|n| !self.memories.contains_key(n))
                {
                    return Some("+CMS ERROR: 302".into());
                }
                for (i, n) in names.into_iter().enumerate() {
                    self.mem[i] = n;
                }
                let parts: Vec<String> = (0..3)
                    .map(|i| {
                        let m = self.memory(i);
                        format!("{},{}", m.slots.len(), m.capacity)
                    })
                    .collect();
                info.push(format!("+CPMS: {}", parts.join(",")));
                ok
            }
            "+CNMI=?" => {
                info.push(
                    if self.cfg.direct_only {
                        "+CNMI: (0-2),(0,2),(0),(0,1),(0,1)"
                    } else {
                        "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"
                    }
                    .into(),
                );
                ok
            }
            "+CNMI?" => {
                info.push(format!("+CNMI: 2,{},0,{},0", self.cnmi_mt, self.cnmi_ds));
                ok
            }
            _ if body.starts_with("+CNMI=") => {
                let v: Vec<u8> = body[6..]
                    .split(',')
                    .map(|s| s.trim().parse().unwrap_or(255))
                    .collect();
                let mt = v.get(1).copied().unwrap_or(0);
                let ds = v.get(3).copied().unwrap_or(0);
                if mt > 3
                    || ds > 2
                    || self.cfg.direct_only && mt == 1
                    || self.cfg.direct_only && ds == 2
                {
                    return Some("+CMS ERROR: 303".into());
                }
                self.cnmi_mt = mt;
                self.cnmi_ds = ds;
                ok
            }
            "+CNMA" => {
                self.acks += 1;
                ok
            }
            _ if body.starts_with("+CMGL") => {
                let want: u8 = body
                    .strip_prefix("+CMGL=")
                    .map_or(Some(0), |a| a.trim().parse().ok())
                    .unwrap_or(99);
                if want > 4 {
                    return Some("+CMS ERROR: 302".into());
                }
                let mem = self.mem[0].clone();
                if let Some(m) = self.memories.get_mut(&mem) {
                    for (idx, s) in m.slots.iter_mut() {
                        if want == 4 || s.stat == want {
                            info.push(format!("+CMGL: {idx},{},,{}", s.stat, hex_tpdu_len(&s.pdu)));
                            info.push(s.pdu.clone());
                            if s.stat == REC_UNREAD {
                                s.stat = REC_READ;
                            }
                        }
                    }
                }
                ok
            }
            _ if body.starts_with("+CMGR=") => {
                let idx: Option<usize> = body[6..].trim().parse().ok();
                let mem = self.mem[0].clone();
                let m = self.memories.get_mut(&mem);
                match (idx, m) {
                    (Some(i), Some(m)) => match m.slots.get_mut(&i) {
                        Some(s) => {
                            info.push(format!("+CMGR: {},,{}", s.stat, hex_tpdu_len(&s.pdu)));
                            info.push(s.pdu.clone());
                            if s.stat == REC_UNREAD {
                                s.stat = REC_READ;
                            }
                            ok
                        }
                        None => Some("+CMS ERROR: 321".into()),
                    },
                    _ => Some("+CMS ERROR: 321".into()),
                }
            }
            _ if body.starts_with("+CMGD=") => {
                let idx: Option<usize> = body[6..]
                    .split(',')
                    .next()
                    .and_then(|s| s.trim().parse().ok());
                let mem = self.mem[0].clone();
                match idx {
                    Some(i) => {
                        if let Some(m) = self.memories.get_mut(&mem) {
                            m.slots.remove(&i);
                        }
                        if !self.waiting.is_empty() {
                            let pdu = self.waiting.remove(0);
                            let mem3 = self.mem[2].clone();
                            if self.store(&mem3, REC_UNREAD, pdu.clone()).is_none() {
                                self.waiting.insert(0, pdu);
                            }
                        }
                        ok
                    }
                    None => Some("+CMS ERROR: 321".into()),
                }
            }
            _ if body.starts_with("+CMGS=") => match body[6..].trim().parse::<usize>() {
                Ok(n) if (1..=200).contains(&n) => {
                    o.prompt = Some(n);
                    None
                }
                _ => Some("+CMS ERROR: 304".into()),
            },
            _ if body.starts_with("+CUSD=1,") => {
                // The network's answer comes as a URC after OK.
                let code = cmd["AT+CUSD=1,".len()..]
                    .split(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches('"');
                o.urcs
                    .push(format!("\r\n+CUSD: 0,\"Reply for {code}\",15{}", self.nl()));
                ok
            }
            _ if body.ends_with("=?") => ok,
            _ if self.cfg.accepts.iter().any(|a| a.eq_ignore_ascii_case(cmd)) => ok,
            _ => unsupported(),
        }
    }

    /// A string parameter or text as the TE wrote it in the current character set.
    fn te_decode(&self, s: &str) -> String {
        if self.ucs2 {
            crate::compose::from_ucs2_hex(s).unwrap_or_else(|_| s.to_string())
        } else {
            s.to_string()
        }
    }

    fn te_encode(&self, s: &str) -> String {
        if self.ucs2 {
            crate::compose::ucs2_hex(s)
        } else {
            s.to_string()
        }
    }

    /// A stored PDU as text mode shows it (`AT+CSDH=1`): the header after `<index>,` or
    /// `+CMGR: `, and the data lines.
    fn as_text(&self, stat: u8, hex: &str) -> (String, Vec<String>) {
        let stat = ["REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"]
            .get(usize::from(stat))
            .copied()
            .unwrap_or("REC READ");
        let time = |t: &Scts| {
            format!(
                "\"{:02}/{:02}/{:02},{:02}:{:02}:{:02}{:+03}\"",
                t.year, t.month, t.day, t.hour, t.minute, t.second, t.tz_quarters
            )
        };
        let bytes = pdu::from_hex(hex).unwrap_or_default();
        match pdu::decode_with(&bytes, DecodeOptions::default()) {
            Ok(Pdu::StatusReport(r)) => (
                format!(
                    "\"{stat}\",6,{},\"{}\",145,{},{},{}",
                    r.message_reference,
                    self.te_encode(&r.recipient.to_string()),
                    time(&r.scts),
                    time(&r.discharge_time),
                    r.status
                ),
                Vec::new(),
            ),
            Ok(Pdu::Deliver(d)) => {
                let text = match &d.user_data {
                    UserData::Text(t) if d.dcs.alphabet() == crate::pdu::Alphabet::Ucs2 => {
                        crate::compose::ucs2_hex(t)
                    }
                    UserData::Text(t) => self.te_encode(t),
                    UserData::Binary(b) => pdu::to_hex(b),
                };
                let sca = d.smsc.as_ref().map(|a| a.to_string()).unwrap_or_default();
                (
                    format!(
                        "\"{stat}\",\"{}\",,{},145,4,{},{},\"{}\",145,{}",
                        self.te_encode(&d.originator.to_string()),
                        time(&d.scts),
                        d.pid,
                        d.dcs.0,
                        self.te_encode(&sca),
                        text.len()
                    ),
                    vec![text],
                )
            }
            _ => (
                format!("\"{stat}\",\"\",,\"00/01/01,00:00:00+00\""),
                vec![String::new()],
            ),
        }
    }

    /// The text given after a text-mode `AT+CMGS` prompt, composed into the SUBMIT the
    /// modem would send (`AT+CSMP`'s first octet, validity and data coding).
    fn text_submit(&self, da: &str, text: &str) -> Option<String> {
        let (fo, vp, pid, dcs) = self.csmp;
        let text = self.te_decode(text);
        let mut s = Submit::new(Address::parse(da).ok()?, text);
        s.status_report_request = fo & 0x20 != 0;
        s.validity = crate::pdu::Validity::Relative(vp);
        s.pid = pid;
        s.dcs = crate::pdu::Dcs(dcs);
        s.encode().ok().map(|e| e.to_hex())
    }

    /// The PDU given after the prompt. Returns the result text and, for a message that asked
    /// for one, the status report to deliver later.
    pub fn submit(&mut self, expected_len: usize, hex: &str) -> Outcome {
        if let Some(da) = self.pending_text.take() {
            // Text mode: the text, composed as the modem would.
            let Some(pdu_hex) = self.text_submit(&da, hex) else {
                let mut o = Outcome::default();
                self.attempts += 1;
                self.line(&mut o.out, "+CMS ERROR: 304");
                return o;
            };
            let len = pdu::from_hex(&pdu_hex).map_or(0, |b| b.len().saturating_sub(1));
            return self.submit(len, &pdu_hex);
        }
        let mut o = Outcome::default();
        self.attempts += 1;
        let hex = hex.trim();
        let bad = |s: &Self, o: &mut Outcome| s.line(&mut o.out, "+CMS ERROR: 304");
        let Ok(bytes) = pdu::from_hex(hex) else {
            bad(self, &mut o);
            return o;
        };
        let smsc_len = bytes.first().map_or(0, |&n| usize::from(n) + 1);
        if bytes.len() < smsc_len || bytes.len() - smsc_len != expected_len {
            bad(self, &mut o);
            return o;
        }
        let options = DecodeOptions {
            direction: Direction::MsToSc,
            ..DecodeOptions::default()
        };
        let Ok(Pdu::Submit(submit)) = pdu::decode_with(&bytes, options) else {
            bad(self, &mut o);
            return o;
        };
        if self.cfg.no_network {
            self.line(&mut o.out, "+CMS ERROR: 331");
            return o;
        }
        if self.failures_left > 0 {
            self.failures_left -= 1;
            let code = self.cfg.fail_code;
            self.line(&mut o.out, &format!("+CMS ERROR: {code}"));
            return o;
        }
        if self.cfg.fail_percent > 0 {
            // xorshift64: cheap, and the same sequence on every run.
            let mut x = self.random;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.random = x;
            if x % 100 < u64::from(self.cfg.fail_percent) {
                const TEMPORARY: [u16; 5] = [38, 41, 42, 47, 500];
                let code = TEMPORARY[(x >> 32) as usize % TEMPORARY.len()];
                self.line(&mut o.out, &format!("+CMS ERROR: {code}"));
                return o;
            }
        }
        let mr = self.next_mr;
        self.next_mr = self.next_mr.wrapping_add(1);
        self.sent.push(SentRecord::new(mr, hex, &submit));
        if submit.status_report_request {
            o.reports.extend(self.reports_for(mr, &submit));
        }
        self.line(&mut o.out, &format!("+CMGS: {mr}"));
        self.line(&mut o.out, "OK");
        o
    }

    fn reports_for(&self, mr: u8, s: &Submit) -> Vec<String> {
        let now = Scts::from_datetime(&chrono::Local::now());
        let mut statuses = Vec::new();
        if self.cfg.report_pending_first {
            statuses.push(0x20u8);
        }
        statuses.push(self.cfg.report_status);
        statuses
            .into_iter()
            .filter_map(|status| {
                StatusReport {
                    smsc: Address::number(&self.cfg.smsc).ok(),
                    more_messages: false,
                    loop_prevention: false,
                    qualifier_command: false,
                    message_reference: mr,
                    recipient: s.destination.clone(),
                    scts: now,
                    discharge_time: now,
                    status,
                    pid: None,
                    dcs: None,
                    udh: None,
                    user_data: None,
                }
                .encode()
                .ok()
                .map(|e| e.to_hex())
            })
            .collect()
    }
}

impl SentRecord {
    fn new(mr: u8, hex: &str, s: &Submit) -> SentRecord {
        let concat = s.udh.as_ref().and_then(|u| u.concat_info());
        SentRecord {
            time: chrono::Local::now().to_rfc3339(),
            mr,
            pdu: hex.to_ascii_uppercase(),
            to: s.destination.to_string(),
            text: match &s.user_data {
                UserData::Text(t) => t.clone(),
                UserData::Binary(b) => pdu::to_hex(b),
            },
            part: concat.map(|c| (c.seq, c.total, c.reference)),
            report: s.status_report_request,
        }
    }
}
