//! Gammu's files storage: folders instead of tables, compatible with gammu-smsd's FILES
//! service (playSMS, shell scripts).
//!
//! - outbox: `OUT<number>.txt`, `OUT<prio>_<number>_<serial>.txt` or
//!   `OUT<prio><date>_<time>_<serial>_<number>_<any>.txt`, flags `d` (report) and `f`
//!   (flash) after `.txt`, taken in name order (so `OUTA...` before `OUTZ...`); text in
//!   UTF-8 or UTF-16 with a byte-order mark. `inject` writes
//!   `OUTC<date>_<time>_00_<number>_sms<j>.txt` atomically.
//! - A message being sent sits in `outbox/.sending/<owner>/`; sent, it moves to the sent
//!   folder; failed for good, to the error folder with `<name>.error` saying why. Unlike
//!   Gammu, attempts are counted (`outbox/.smsgw/<name>.state`), so a failing file waits
//!   `retry_timeout` between attempts and ends in the error folder instead of blocking the
//!   queue (Gammu issue #462).
//! - inbox: `IN<YYYYMMDD>_<HHMMSS>_<serial>_<sender>_<part>.txt` (`.bin` for 8-bit), one
//!   file per part, the SMSC time in the name, text in UTF-16 with a BOM (`unicode`) or UTF-8
//!   (`standard`).
//! - Status reports: one line per report in `<sent>/<name>.report`
//!   (`part 1: DeliveryOK (TP-ST 0) at 2026-11-23 12:00:05`); what was sent with which TP-MR
//!   is logged in `<sent>/.smsgw/sent.log` to match them.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::compose::{self, InjectOptions};
use crate::config::{InboxFormat, Storage as StorageConfig};
use crate::pdu::DeliveryStatus;
use crate::service::{
    same_number, Coding, DeliveryKey, InboxPart, NewMessage, NewPart, OutPart, Outcome, Outgoing,
    PartResult, PendingPart, PhoneStatus, ReportRequest, Result, Service, StorageError,
};
use crate::spool::parse;

fn io(what: &Path, e: std::io::Error) -> StorageError {
    StorageError::Unavailable(format!("{}: {e}", what.display()))
}

fn now_local() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn fmt_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

/// What smsgw remembers of an outbox file between attempts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct FileState {
    retries: u32,
    /// Not before this local time (`YYYY-MM-DD HH:MM:SS`); empty: now.
    not_before: String,
    last_error: String,
    /// Parts sent on earlier attempts (not sent again).
    sent_parts: Vec<u32>,
}

/// A claimed file.
#[derive(Debug, Clone)]
struct Claim {
    name: String,
    owner_dir: PathBuf,
}

/// Gammu's folder layout.
pub struct Files {
    inbox: PathBuf,
    outbox: PathBuf,
    sent: PathBuf,
    error: PathBuf,
    format: InboxFormat,
    claims: Mutex<HashMap<i64, Claim>>,
    next_id: std::sync::atomic::AtomicI64,
    /// Names written by `create_outbox`, by the ID it returned.
    written: Mutex<HashMap<i64, PathBuf>>,
    /// (outbox modification time, entries) at the last `outbox_changed`.
    seen: Mutex<Option<(std::time::SystemTime, usize)>>,
}

fn sanitize(owner: &str) -> String {
    owner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A sender as Gammu writes it into an inbox name.
fn name_number(n: &str) -> String {
    n.chars()
        .map(|c| match c {
            '*' => 'X',
            '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

/// Decodes a stored part's hex (UCS-2 for text, Gammu's way) into text, or raw bytes for
/// 8-bit.
fn part_content(p: &InboxPart) -> std::result::Result<(Option<String>, Vec<u8>), String> {
    let bytes = crate::pdu::from_hex(&p.text_hex).map_err(|e| e.to_string())?;
    if p.coding == Coding::EightBit {
        return Ok((None, bytes));
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    Ok((Some(String::from_utf16_lossy(&units)), bytes))
}

impl Files {
    pub fn open(cfg: &StorageConfig) -> Files {
        Files {
            inbox: cfg.inbox_path.clone(),
            outbox: cfg.outbox_path.clone(),
            sent: cfg.sent_path.clone(),
            error: cfg.error_path.clone(),
            format: cfg.inbox_format,
            claims: Mutex::default(),
            next_id: std::sync::atomic::AtomicI64::new(1),
            written: Mutex::default(),
            seen: Mutex::default(),
        }
    }

    fn sending(&self) -> PathBuf {
        self.outbox.join(".sending")
    }

    fn state_path(&self, name: &str) -> PathBuf {
        self.outbox.join(".smsgw").join(format!("{name}.state"))
    }

    fn pending_dir(&self) -> PathBuf {
        self.inbox.join(".smsgw-pending")
    }

    fn sent_log(&self) -> PathBuf {
        self.sent.join(".smsgw").join("sent.log")
    }

    /// The path `create_outbox` wrote for `id` (what `inject` prints, as Gammu does).
    pub fn written_path(&self, id: i64) -> Option<PathBuf> {
        self.written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    fn read_state(&self, name: &str) -> FileState {
        std::fs::read_to_string(self.state_path(name))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn write_state(&self, name: &str, st: &FileState) -> Result<()> {
        let path = self.state_path(name);
        let text = serde_json::to_string(st).map_err(|e| StorageError::Data(e.to_string()))?;
        write_atomic(&path, text.as_bytes())
    }

    fn claim_of(&self, out: &Outgoing) -> Result<Claim> {
        self.claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&out.id)
            .cloned()
            .ok_or(StorageError::LostClaim(out.id))
    }

    /// Moves a claimed file out of `.sending` to `dir` (keeping its name; a name already
    /// there gets `.1`, `.2`...). Returns the new path.
    fn move_claimed(&self, c: &Claim, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let from = c.owner_dir.join(&c.name);
        let mut to = dir.join(&c.name);
        for i in 1.. {
            if !to.exists() {
                break;
            }
            to = dir.join(format!("{}.{i}", c.name));
        }
        std::fs::rename(&from, &to).map_err(|e| io(&from, e))?;
        Ok(to)
    }

    /// Reads a claimed file into a message; `Err` is the reason it cannot be sent.
    fn read_claimed(
        &self,
        path: &Path,
        name: &str,
        id: i64,
    ) -> std::result::Result<NewMessage, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
        let d = parse::parse(name, &bytes).map_err(|e| e.0)?;
        let mut m = compose::new_message(
            &d.to,
            &d.text,
            &InjectOptions {
                flash: d.flash,
                report: d.report.unwrap_or(false),
                creator_id: "Gammu files".into(),
                // A concatenation reference that differs from one message to the next.
                reference: u16::from((id as u64 ^ std::process::id() as u64) as u8),
                ..InjectOptions::default()
            },
        )
        .map_err(|e| e.to_string())?;
        if d.report.is_none() {
            m.delivery_report = ReportRequest::Default;
        }
        Ok(m)
    }
}

/// Writes `bytes` to `path` through a hidden temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// Writes `bytes` as a new file `path`, failing with `AlreadyExists` if the name is taken
/// (a hard link from a temporary file: the name appears complete or not at all).
fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".smsgw-new.{}.{:?}.tmp",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked
}

#[async_trait]
impl Service for Files {
    async fn init(&self) -> Result<()> {
        for d in [&self.inbox, &self.outbox, &self.sent, &self.error] {
            std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
        }
        for d in [
            self.sending(),
            self.outbox.join(".smsgw"),
            self.pending_dir(),
        ] {
            std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        }
        Ok(())
    }

    async fn health(&self) -> Result<()> {
        std::fs::metadata(&self.outbox)
            .map(|_| ())
            .map_err(|e| io(&self.outbox, e))
    }

    async fn create_outbox(&self, msg: &NewMessage) -> Result<i64> {
        let text: String = msg.parts.iter().map(|p| p.text_decoded.as_str()).collect();
        if text.is_empty() {
            return Err(StorageError::Data(
                "the files storage keeps text messages only (no 8-bit data)".into(),
            ));
        }
        let mut flags = String::new();
        if msg.delivery_report == ReportRequest::Yes {
            flags.push('d');
        }
        if msg.parts.first().is_some_and(|p| p.class == 0) {
            flags.push('f');
        }
        let stamp = chrono::Local::now().format("%Y%m%d_%H%M%S");
        let number = name_number(&msg.destination);
        for j in 0..100 {
            let path = self
                .outbox
                .join(format!("OUTC{stamp}_00_{number}_sms{j}.txt{flags}"));
            match create_new(&path, text.as_bytes()) {
                Ok(()) => {
                    let id = self
                        .next_id
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    self.written
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(id, path);
                    return Ok(id);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io(&path, e)),
            }
        }
        Err(StorageError::Unavailable(format!(
            "{}: 100 messages to {number} in one second already",
            self.outbox.display()
        )))
    }

    fn describe_id(&self, id: i64) -> String {
        self.written_path(id)
            .map_or_else(|| id.to_string(), |p| p.display().to_string())
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        _routes: &[String],
        limit: usize,
        _lease_secs: u32,
    ) -> Result<Vec<Outgoing>> {
        let owner_dir = self.sending().join(sanitize(owner));
        std::fs::create_dir_all(&owner_dir).map_err(|e| io(&owner_dir, e))?;
        let mut names: Vec<String> = std::fs::read_dir(&self.outbox)
            .map_err(|e| io(&self.outbox, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') && (parse::gammu_name(n).is_some() || smsbackup(n)))
            .collect();
        // Gammu's order: plain byte order of the name (OUTA before OUTZ).
        names.sort();
        let now = now_local();
        let mut out = Vec::new();
        for name in names {
            if out.len() >= limit {
                break;
            }
            let st = self.read_state(&name);
            if parse_time(&st.not_before).is_some_and(|t| t > now) {
                continue;
            }
            let from = self.outbox.join(&name);
            let to = owner_dir.join(&name);
            // The rename is the claim: of two senders, one finds the file gone.
            if std::fs::rename(&from, &to).is_err() {
                continue;
            }
            let id = self
                .next_id
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let claim = Claim {
                name: name.clone(),
                owner_dir: owner_dir.clone(),
            };
            let read = if smsbackup(&name) {
                Err("Gammu's detail format (.smsbackup) is not read by smsgw: set OutboxFormat = unicode or standard for gammu-smsd-inject".to_string())
            } else {
                self.read_claimed(&to, &name, id)
            };
            let msg = match read {
                Ok(m) => m,
                Err(reason) => {
                    tracing::warn!("files: {name} cannot be sent: {reason}");
                    let moved = self.move_claimed(&claim, &self.error)?;
                    let mut e = moved.into_os_string();
                    e.push(".error");
                    let _ = std::fs::write(&e, format!("{reason}\n"));
                    continue;
                }
            };
            self.claims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, claim);
            out.push(Outgoing {
                id,
                name: name.clone(),
                destination: msg.destination.clone(),
                sender_id: None,
                creator_id: msg.creator_id.clone(),
                parts: msg
                    .parts
                    .iter()
                    .zip(1u32..)
                    .map(|(p, seq)| OutPart {
                        seq,
                        text_hex: p.text_hex.clone(),
                        text_decoded: Some(p.text_decoded.clone()),
                        coding: Some(p.coding),
                        udh_hex: p.udh_hex.clone(),
                        class: p.class,
                        already_sent: st.sent_parts.contains(&seq),
                    })
                    .collect(),
                relative_validity: msg.relative_validity,
                delivery_report: msg.delivery_report,
                retries: st.retries,
                priority: 0,
                inserted: fmt_time(now),
                lease: owner.to_string(),
            });
        }
        Ok(out)
    }

    async fn split_outbox(&self, out: &Outgoing, parts: &[NewPart]) -> Result<Outgoing> {
        self.claim_of(out)?;
        Ok(Outgoing {
            parts: parts
                .iter()
                .zip(1u32..)
                .map(|(p, seq)| OutPart {
                    seq,
                    text_hex: p.text_hex.clone(),
                    text_decoded: Some(p.text_decoded.clone()),
                    coding: Some(p.coding),
                    udh_hex: p.udh_hex.clone(),
                    class: p.class,
                    already_sent: false,
                })
                .collect(),
            ..out.clone()
        })
    }

    async fn claim_owners(&self) -> Result<Vec<String>> {
        Ok(std::fs::read_dir(self.sending())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn release_claims(&self, owners: &[String]) -> Result<usize> {
        let mut n = 0;
        for o in owners {
            let dir = self.sending().join(sanitize(o));
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.filter_map(|e| e.ok()) {
                let to = self.outbox.join(e.file_name());
                if !to.exists() && std::fs::rename(e.path(), &to).is_ok() {
                    n += 1;
                }
            }
            let _ = std::fs::remove_dir(&dir);
        }
        Ok(n)
    }

    async fn renew_claim(&self, out: &mut Outgoing, _lease_secs: u32) -> Result<()> {
        // The file is in our own .sending folder: nobody else takes it.
        let c = self.claim_of(out)?;
        if c.owner_dir.join(&c.name).exists() {
            Ok(())
        } else {
            Err(StorageError::LostClaim(out.id))
        }
    }

    async fn record_sent(&self, out: &Outgoing, seq: u32, result: &PartResult) -> Result<()> {
        let c = self.claim_of(out)?;
        let mut st = self.read_state(&c.name);
        if !st.sent_parts.contains(&seq) {
            st.sent_parts.push(seq);
        }
        self.write_state(&c.name, &st)?;
        let PartResult::Sent { route, tpmr, .. } = result;
        let log = self.sent_log();
        if let Some(d) = log.parent() {
            std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
        }
        let line = format!(
            "{}\t{route}\t{}\t{}\t{}\t{seq}\n",
            fmt_time(now_local()),
            tpmr.map_or(-1, i32::from),
            out.destination,
            c.name
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| io(&log, e))
    }

    async fn finish_outbox(
        &self,
        out: &Outgoing,
        outcome: &Outcome,
        retry_after_secs: u32,
    ) -> Result<()> {
        let c = self.claim_of(out)?;
        let later = || fmt_time(now_local() + chrono::Duration::seconds(retry_after_secs.into()));
        match outcome {
            Outcome::Sent => {
                self.move_claimed(&c, &self.sent)?;
                let _ = std::fs::remove_file(self.state_path(&c.name));
            }
            Outcome::Failed { reason, .. } => {
                let moved = self.move_claimed(&c, &self.error)?;
                let mut e = moved.into_os_string();
                e.push(".error");
                write_atomic(Path::new(&e), format!("{reason}\n").as_bytes())?;
                let _ = std::fs::remove_file(self.state_path(&c.name));
            }
            Outcome::Retry {
                status_code,
                reason,
                ..
            } => {
                let mut st = self.read_state(&c.name);
                st.retries = out.retries + 1;
                st.not_before = later();
                st.last_error = format!("{reason} (code {status_code})");
                self.write_state(&c.name, &st)?;
                self.move_claimed(&c, &self.outbox)?;
            }
            Outcome::Release {
                status_code,
                reason,
            } => {
                let mut st = self.read_state(&c.name);
                st.not_before = later();
                st.last_error = format!("{reason} (code {status_code})");
                self.write_state(&c.name, &st)?;
                self.move_claimed(&c, &self.outbox)?;
            }
        }
        self.claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&out.id);
        Ok(())
    }

    async fn save_inbox(
        &self,
        parts: &[InboxPart],
        consumed: &[PendingPart],
    ) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let Some(first) = parts.first() else {
            return Ok(ids);
        };
        let t = parse_time(&first.received).unwrap_or_else(now_local);
        let stamp = t.format("%Y%m%d_%H%M%S");
        let sender = name_number(&first.sender);
        let contents: Vec<(Option<String>, Vec<u8>)> = parts
            .iter()
            .map(|p| part_content(p).map_err(StorageError::Data))
            .collect::<Result<_>>()?;
        let encoded: Vec<(String, Vec<u8>)> = contents
            .iter()
            .map(|(text, raw)| match text {
                None => ("bin".to_string(), raw.clone()),
                Some(t) => (
                    "txt".to_string(),
                    match self.format {
                        InboxFormat::Standard => t.as_bytes().to_vec(),
                        InboxFormat::Unicode => {
                            let mut v = vec![0xFE, 0xFF];
                            for u in t.encode_utf16() {
                                v.extend_from_slice(&u.to_be_bytes());
                            }
                            v
                        }
                    },
                ),
            })
            .collect();
        // The serial is chosen so that part 00 is new; the same message stored again (the
        // daemon stopped before deleting it from the SIM) is found and not written twice.
        let name = |serial: u32, i: usize, ext: &str| {
            format!("IN{stamp}_{serial:02}_{sender}_{i:02}.{ext}")
        };
        let mut serial = None;
        for s in 0..100 {
            let path = self.inbox.join(name(s, 0, &encoded[0].0));
            match std::fs::read(&path) {
                Ok(existing) if existing == encoded[0].1 => {
                    serial = Some((s, true));
                    break;
                }
                Ok(_) => continue,
                Err(_) => {
                    serial = Some((s, false));
                    break;
                }
            }
        }
        let (serial, exists) = serial.ok_or_else(|| {
            StorageError::Unavailable(format!(
                "{}: 100 messages from {sender} at {stamp} already",
                self.inbox.display()
            ))
        })?;
        for (i, (ext, bytes)) in encoded.iter().enumerate() {
            let path = self.inbox.join(name(serial, i, ext));
            if !(exists && path.exists()) {
                write_atomic(&path, bytes)?;
            }
            ids.push(name(serial, i, ext));
        }
        for q in consumed {
            let _ = std::fs::remove_file(self.pending_dir().join(pending_name(q)));
        }
        Ok(ids)
    }

    async fn stash_part(&self, part: &PendingPart) -> Result<()> {
        let path = self.pending_dir().join(pending_name(part));
        let text = format!("{}\n{}\n", part.received_at, part.pdu);
        write_atomic(&path, text.as_bytes())
    }

    async fn complete_parts(
        &self,
        phone_id: &str,
        timeout_secs: u64,
    ) -> Result<Vec<Vec<PendingPart>>> {
        let dir = self.pending_dir();
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut groups: HashMap<(String, u16, u8), Vec<PendingPart>> = HashMap::new();
        for e in rd.filter_map(|e| e.ok()) {
            let Some(name) = e.file_name().into_string().ok() else {
                continue;
            };
            let Some(key) = parse_pending_name(&name) else {
                continue;
            };
            if key.0 != sanitize(phone_id) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let mut lines = text.lines();
            let (Some(at), Some(pdu)) = (lines.next(), lines.next()) else {
                continue;
            };
            groups
                .entry((key.1.clone(), key.2, key.3))
                .or_default()
                .push(PendingPart {
                    phone_id: phone_id.to_string(),
                    sender: key.1,
                    reference: key.2,
                    total: key.3,
                    seq: key.4,
                    pdu: pdu.to_string(),
                    received_at: at.to_string(),
                });
        }
        let oldest_allowed =
            now_local() - chrono::Duration::seconds(timeout_secs.min(i64::MAX as u64) as i64);
        let mut out = Vec::new();
        for ((_, _, total), mut parts) in groups {
            parts.sort_by_key(|p| p.seq);
            let stale = parts
                .iter()
                .filter_map(|p| parse_time(&p.received_at))
                .min()
                .is_some_and(|t| t <= oldest_allowed);
            if parts.len() >= usize::from(total) || stale {
                out.push(parts);
            }
        }
        Ok(out)
    }

    async fn apply_receipt(
        &self,
        key: &DeliveryKey,
        status: u8,
        done: &str,
        window_secs: u64,
    ) -> Result<Option<String>> {
        let DeliveryKey::Tpmr {
            phone,
            mr,
            number,
            sent_at,
        } = key
        else {
            return Ok(None);
        };
        let Some(at) = parse_time(sent_at) else {
            return Ok(None);
        };
        let log = std::fs::read_to_string(self.sent_log()).unwrap_or_default();
        let window = chrono::Duration::seconds(window_secs.min(i64::MAX as u64) as i64);
        // The most recent matching send.
        let hit = log.lines().rev().find_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let [time, route, tpmr, to, name, seq] = f.as_slice() else {
                return None;
            };
            let t = parse_time(time)?;
            (*route == phone
                && tpmr.parse::<i32>().ok() == Some(i32::from(*mr))
                && same_number(to, number)
                && (t - at).abs() <= window)
                .then(|| (name.to_string(), seq.to_string()))
        });
        let Some((name, seq)) = hit else {
            tracing::info!(phone, mr, number, "status report for no known sent file");
            return Ok(None);
        };
        let state = DeliveryStatus::from_status(status);
        let path = self.sent.join(format!("{name}.report"));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                f.write_all(format!("part {seq}: {state} (TP-ST {status}) at {done}\n").as_bytes())
            })
            .map_err(|e| io(&path, e))?;
        // Gammu leaves SMS_n_SENT_ID empty for the files storage.
        Ok(Some(String::new()))
    }

    async fn refresh_status(&self, _status: &PhoneStatus) -> Result<()> {
        // Gammu's files service keeps no phone status; `monitor` asks the daemon.
        Ok(())
    }

    async fn outbox_changed(&self) -> Result<bool> {
        let m = std::fs::metadata(&self.outbox).map_err(|e| io(&self.outbox, e))?;
        let entries = std::fs::read_dir(&self.outbox)
            .map(|rd| rd.count())
            .unwrap_or(0);
        let mark = (m.modified().unwrap_or(std::time::UNIX_EPOCH), entries);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let changed = seen.as_ref() != Some(&mark);
        *seen = Some(mark);
        Ok(changed)
    }
}

/// An outbox file in Gammu's `detail` format, which smsgw does not read.
fn smsbackup(name: &str) -> bool {
    name.as_bytes()
        .get(..3)
        .is_some_and(|b| b.eq_ignore_ascii_case(b"out"))
        && name.ends_with(".smsbackup")
}

fn pending_name(p: &PendingPart) -> String {
    format!(
        "{}__{}__{}__{}__{}",
        sanitize(&p.phone_id),
        name_number(&p.sender),
        p.reference,
        p.total,
        p.seq
    )
}

/// (phone, sender, reference, total, seq) of a pending part's file name.
fn parse_pending_name(n: &str) -> Option<(String, String, u16, u8, u8)> {
    let f: Vec<&str> = n.split("__").collect();
    let [phone, sender, r, t, s] = f.as_slice() else {
        return None;
    };
    Some((
        phone.to_string(),
        sender.to_string(),
        r.parse().ok()?,
        t.parse().ok()?,
        s.parse().ok()?,
    ))
}
