//! Modems found by identity rather than by port name. `/dev/ttyUSB*` names change on every
//! re-plug, and a USB modem shows several ports of which one answers AT; a phone bound with
//! `device = "imei:<IMEI>"` (or `imsi:`, `iccid:`) is looked for among the ports that
//! `[daemon] modem_search` names, every time it connects.
//!
//! - IMEI: the modem's serial number (`AT+CGSN`), stays with the hardware.
//! - IMSI: the subscriber's identity on the SIM (`AT+CIMI`); readable only once the SIM is
//!   unlocked, so a SIM with a PIN is better bound by ICCID.
//! - ICCID: the SIM card's serial number (`AT+CCID`), readable without the PIN.
//!
//! Probing never touches a port that another process or another phone of this daemon has
//! open, and the identity of a port is remembered until its device node changes, so a
//! phone waiting for its modem looks again cheaply whenever `/dev` changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::{holders, Holder, Identity, Modem, ModemConfig, ModemError, OpenError};

/// The USB device behind a tty (`ttyUSB2`), from sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usb {
    pub vendor: String,
    pub product: String,
    /// `bInterfaceNumber` of the tty's interface.
    pub interface: String,
    /// Manufacturer and product strings.
    pub label: String,
}

/// The USB ids of the device behind `/dev/<tty>`; `None` for a port that is not USB (a
/// pseudo-terminal, a built-in UART).
pub fn usb_of(tty: &str) -> Option<Usb> {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let device =
        std::fs::canonicalize(Path::new("/sys/class/tty").join(tty).join("device")).ok()?;
    let mut dir = device.as_path();
    let mut interface = String::new();
    while let Some(parent) = dir.parent() {
        if interface.is_empty() {
            interface = read(&dir.join("bInterfaceNumber"));
        }
        let vendor = read(&dir.join("idVendor"));
        if !vendor.is_empty() {
            let label = format!(
                "{} {}",
                read(&dir.join("manufacturer")),
                read(&dir.join("product"))
            );
            return Some(Usb {
                vendor,
                product: read(&dir.join("idProduct")),
                interface,
                label: label.trim().to_string(),
            });
        }
        dir = parent;
    }
    None
}

/// Where `smsgw modems` and phones bound by identity look when the config does not say.
pub const DEFAULT_SEARCH: &[&str] = &["/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*"];

/// What a phone's `device` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// A device path, `tcp://host:port` or `sim`.
    Path(String),
    Imei(String),
    Imsi(String),
    Iccid(String),
}

impl Device {
    /// Reads `device`; an identity with a wrong length or a non-digit is an error that says
    /// what it should look like.
    pub fn parse(device: &str) -> Result<Device, String> {
        let Some((kind, value)) = device.split_once(':') else {
            return Ok(Device::Path(device.to_string()));
        };
        let (make, lengths, what): (fn(String) -> Device, std::ops::RangeInclusive<usize>, _) =
            match kind.to_ascii_lowercase().as_str() {
                "imei" => (
                    Device::Imei,
                    14..=16,
                    "an IMEI is 15 digits (AT+CGSN, `smsgw modems`)",
                ),
                "imsi" => (
                    Device::Imsi,
                    6..=15,
                    "an IMSI is up to 15 digits (AT+CIMI, `smsgw modems`)",
                ),
                // ICCIDs end in a check digit and some modems print a trailing F.
                "iccid" => (
                    Device::Iccid,
                    18..=22,
                    "an ICCID is 19 or 20 digits (AT+CCID, `smsgw modems`)",
                ),
                _ => return Ok(Device::Path(device.to_string())),
            };
        let value = value.trim();
        let digits = value.trim_end_matches(['F', 'f']);
        if !lengths.contains(&value.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("{device:?}: {what}"));
        }
        Ok(make(digits.to_string()))
    }

    /// Whether a modem with `id` is this one.
    pub fn matches(&self, id: &Identity) -> bool {
        let same = |want: &str, have: &Option<String>| {
            have.as_deref()
                .is_some_and(|h| h.trim_end_matches(['F', 'f']) == want)
        };
        match self {
            Device::Path(_) => false,
            Device::Imei(v) => same(v, &id.imei),
            Device::Imsi(v) => same(v, &id.imsi),
            Device::Iccid(v) => same(v, &id.iccid),
        }
    }

    pub fn is_identity(&self) -> bool {
        !matches!(self, Device::Path(_))
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Path(p) => write!(f, "{p}"),
            Device::Imei(v) => write!(f, "IMEI {v}"),
            Device::Imsi(v) => write!(f, "IMSI {v}"),
            Device::Iccid(v) => write!(f, "ICCID {v}"),
        }
    }
}

/// A serial port found by the search: the device node and the names that lead to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The first name the search found (a `by-id` link when the search starts there).
    pub path: PathBuf,
    /// The device node, links resolved.
    pub node: PathBuf,
    /// Every name found for it, `path` first.
    pub names: Vec<PathBuf>,
}

/// Whether `pattern` can be a search pattern: a glob of full paths.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    glob::Pattern::new(pattern).map_err(|e| format!("{pattern:?} is not a glob pattern: {e}"))?;
    if !pattern.starts_with('/') {
        return Err(format!(
            "{pattern:?}: write a full path, e.g. \"/dev/serial/by-id/*\""
        ));
    }
    Ok(())
}

/// The ports that `search` (glob patterns) names, each device once, in the order found.
/// Names that are not character devices (a directory, a broken link) are left out.
pub fn ports(search: &[String]) -> Vec<Port> {
    let mut out: Vec<Port> = Vec::new();
    for pattern in search {
        let Ok(paths) = glob::glob(pattern) else {
            continue;
        };
        for path in paths.flatten() {
            let Ok(node) = std::fs::canonicalize(&path) else {
                continue;
            };
            let is_char = std::fs::metadata(&node).is_ok_and(|m| {
                use std::os::unix::fs::FileTypeExt;
                m.file_type().is_char_device()
            });
            if !is_char {
                continue;
            }
            match out.iter_mut().find(|p| p.node == node) {
                Some(p) => {
                    if !p.names.contains(&path) {
                        p.names.push(path);
                    }
                }
                None => out.push(Port {
                    path: path.clone(),
                    node,
                    names: vec![path],
                }),
            }
        }
    }
    out
}

/// What probing a port found.
#[derive(Debug, Clone)]
pub enum Found {
    /// It answered AT and said what it is.
    Modem(Identity),
    /// Another process has it open (not probed).
    Held(Vec<Holder>),
    /// A phone of this daemon has it (not probed).
    Ours(String),
    /// No `OK` to `AT` within the timeout: not an AT port (a GPS, a console, a diagnostics
    /// port), or a modem that hangs.
    Silent,
    /// It could not be opened.
    Failed(String),
}

/// Ports this process has open as a phone's modem: node → phone id.
static CLAIMS: Mutex<BTreeMap<PathBuf, String>> = Mutex::new(BTreeMap::new());

/// A port a phone of this process has open; released when dropped.
#[derive(Debug)]
pub struct Claim {
    node: PathBuf,
}

/// Marks `device` as used by `phone` until the returned claim is dropped, so that a phone
/// looking for its modem does not probe it.
pub fn claim(device: &str, phone: &str) -> Option<Claim> {
    let node = std::fs::canonicalize(device).ok()?;
    claims().insert(node.clone(), phone.to_string());
    Some(Claim { node })
}

impl Drop for Claim {
    fn drop(&mut self) {
        claims().remove(&self.node);
    }
}

fn claims() -> std::sync::MutexGuard<'static, BTreeMap<PathBuf, String>> {
    CLAIMS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Who has `port` open, if anyone: a phone of this process, or other processes.
fn in_use(port: &Port) -> Option<Found> {
    if let Some(phone) = claims().get(&port.node) {
        return Some(Found::Ours(phone.clone()));
    }
    let held = holders(&port.node);
    (!held.is_empty()).then_some(Found::Held(held))
}

/// Opens `port` and asks who it is; the modem is returned open when it answered.
async fn ask(port: &Port, cfg: &ModemConfig) -> (Found, Option<Modem>) {
    if let Some(used) = in_use(port) {
        return (used, None);
    }
    let mut cfg = cfg.clone();
    cfg.device = port.path.display().to_string();
    let mut modem = match Modem::open(cfg).await {
        Ok(m) => m,
        Err(ModemError::Open(OpenError::Busy { holders, .. })) => {
            return (Found::Held(holders), None)
        }
        Err(e) => return (Found::Failed(e.to_string()), None),
    };
    match modem.probe().await {
        Ok(id) => (Found::Modem(id), Some(modem)),
        Err(_) => {
            modem.close().await;
            (Found::Silent, None)
        }
    }
}

/// Probes `port` (for `smsgw modems`): opened, asked, closed.
pub async fn probe(port: &Port, cfg: &ModemConfig) -> Found {
    let (found, modem) = ask(port, cfg).await;
    if let Some(m) = modem {
        m.close().await;
    }
    found
}

/// What a port said last time: its identity (or that it is no modem), valid while its
/// device node is the same (a re-plugged modem gets a new node).
#[derive(Debug, Clone)]
struct Seen {
    node_stamp: (u64, i64, i64),
    identity: Option<Identity>,
    at: std::time::Instant,
}

/// How long a port that did not answer is left alone: a modem just plugged in may still be
/// booting (well within the default receive frequency of 15 s).
const SILENT_FOR: Duration = Duration::from_secs(10);

static SEEN: Mutex<BTreeMap<PathBuf, Seen>> = Mutex::new(BTreeMap::new());
/// One phone probes at a time, so two never open the same port at once.
static SCAN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn stamp(node: &Path) -> Option<(u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(node).ok()?;
    Some((m.ino(), m.ctime(), m.ctime_nsec()))
}

fn seen(node: &Path) -> Option<Option<Identity>> {
    let now = stamp(node)?;
    let map = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    map.get(node)
        .filter(|s| s.node_stamp == now && (s.identity.is_some() || s.at.elapsed() < SILENT_FOR))
        .map(|s| s.identity.clone())
}

fn remember(node: &Path, identity: Option<Identity>) {
    let Some(node_stamp) = stamp(node) else {
        return;
    };
    let mut map = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    map.insert(
        node.to_path_buf(),
        Seen {
            node_stamp,
            identity,
            at: std::time::Instant::now(),
        },
    );
}

/// Why [`find`] found no modem.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no modem with {wanted} among {searched} port(s) of {search:?}{}", hint(.imsi_unknown, .busy))]
pub struct NotFound {
    pub wanted: String,
    pub searched: usize,
    pub search: Vec<String>,
    /// Modems whose IMSI could not be read (a SIM that waits for its PIN).
    pub imsi_unknown: usize,
    /// Ports left alone because something else has them open.
    pub busy: usize,
}

fn hint(imsi_unknown: &usize, busy: &usize) -> String {
    let mut h = String::new();
    if *imsi_unknown > 0 {
        h.push_str(&format!(
            "; {imsi_unknown} modem(s) did not tell their IMSI (a SIM waiting for its PIN): bind such a phone by iccid: instead"
        ));
    }
    if *busy > 0 {
        h.push_str(&format!(
            "; {busy} port(s) in use by other programs were not probed"
        ));
    }
    h.push_str(": is it plugged in? `smsgw modems` lists what answers");
    h
}

/// Looks for the modem `wanted` among the ports of `search`, leaving out `exclude` (the
/// device paths other phones are bound to). The modem comes back open, not yet initialised,
/// its config's `device` set to the port it was found on.
pub async fn find(
    wanted: &Device,
    search: &[String],
    exclude: &[PathBuf],
    cfg: &ModemConfig,
) -> Result<Modem, ModemError> {
    let _one_at_a_time = SCAN.lock().await;
    let excluded: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut probe_cfg = cfg.clone();
    probe_cfg.command_timeout = cfg.command_timeout.min(Duration::from_secs(3));
    let found = ports(search);
    let mut not_found = NotFound {
        wanted: wanted.to_string(),
        searched: found.len(),
        search: search.to_vec(),
        imsi_unknown: 0,
        busy: 0,
    };
    for port in found.iter().filter(|p| !excluded.contains(&p.node)) {
        if let Some(known) = seen(&port.node) {
            // A port that said it is not this modem (or no modem) is not asked again until
            // its device node changes.
            let retry_for_imsi = matches!(wanted, Device::Imsi(_))
                && known.as_ref().is_some_and(|id| id.imsi.is_none());
            if !known.as_ref().is_some_and(|id| wanted.matches(id)) && !retry_for_imsi {
                continue;
            }
        }
        let (result, modem) = ask(port, &probe_cfg).await;
        match (result, modem) {
            (Found::Modem(id), Some(mut modem)) => {
                remember(&port.node, Some(id.clone()));
                if wanted.matches(&id) {
                    modem.cfg = ModemConfig {
                        device: port.path.display().to_string(),
                        ..cfg.clone()
                    };
                    return Ok(modem);
                }
                if matches!(wanted, Device::Imsi(_)) && id.imsi.is_none() {
                    not_found.imsi_unknown += 1;
                }
                modem.close().await;
            }
            (Found::Silent, _) => {
                tracing::debug!(
                    "{}: no answer to AT: not a modem's AT port",
                    port.path.display()
                );
                remember(&port.node, None);
            }
            (Found::Held(_) | Found::Ours(_), _) => not_found.busy += 1,
            (Found::Failed(e), _) => tracing::debug!("{}: {e}", port.path.display()),
            (Found::Modem(_), None) => {}
        }
    }
    Err(ModemError::NotFound(not_found))
}

/// The directories to watch for ports of `search` appearing: for each pattern, the deepest
/// directory before its first wildcard that exists (`/dev/serial/by-id`, else `/dev`).
pub fn watch_dirs(search: &[String]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for pattern in search {
        let mut dir = PathBuf::new();
        for part in Path::new(pattern).components() {
            let s = part.as_os_str().to_string_lossy();
            if s.contains(['*', '?', '[']) {
                break;
            }
            dir.push(part);
        }
        // The pattern's last plain component is a file name unless a wildcard followed.
        if dir == Path::new(pattern) {
            dir.pop();
        }
        while !dir.as_os_str().is_empty() && !dir.is_dir() {
            dir.pop();
        }
        if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// Waits until something is created in a directory where `search` looks (a modem plugged
/// in, udev making its links), or `timeout` passes. Watching is inotify; should it fail
/// (no inotify), the timeout alone paces the next look.
pub async fn wait_for_change(search: &[String], timeout: Duration) {
    use notify::{EventKind, Watcher};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if matches!(ev.kind, EventKind::Create(_) | EventKind::Modify(_)) {
                let _ = tx.send(());
            }
        }
    });
    let _watcher = match watcher {
        Ok(mut w) => {
            for d in watch_dirs(search) {
                if let Err(e) = w.watch(&d, notify::RecursiveMode::NonRecursive) {
                    tracing::debug!("cannot watch {}: {e}", d.display());
                }
            }
            Some(w)
        }
        Err(e) => {
            tracing::debug!("cannot watch for modems: {e}");
            None
        }
    };
    let _ = tokio::time::timeout(timeout, rx.recv()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_paths_and_identities() {
        assert_eq!(
            Device::parse("/dev/ttyUSB0"),
            Ok(Device::Path("/dev/ttyUSB0".into()))
        );
        assert_eq!(
            Device::parse("tcp://10.0.0.2:4001"),
            Ok(Device::Path("tcp://10.0.0.2:4001".into()))
        );
        assert_eq!(
            Device::parse("imei:490154203237518"),
            Ok(Device::Imei("490154203237518".into()))
        );
        assert_eq!(
            Device::parse("ICCID:8948011234567890123F"),
            Ok(Device::Iccid("8948011234567890123".into()))
        );
        let e = Device::parse("imei:49015420323751x").unwrap_err();
        assert!(e.contains("15 digits"), "{e}");
        assert!(Device::parse("imsi:").is_err());
    }

    #[test]
    fn an_identity_matches_its_modem_only() {
        let id = Identity {
            imei: Some("490154203237518".into()),
            iccid: Some("8948011234567890123F".into()),
            ..Identity::default()
        };
        assert!(Device::Imei("490154203237518".into()).matches(&id));
        assert!(!Device::Imei("490154203237519".into()).matches(&id));
        assert!(Device::Iccid("8948011234567890123".into()).matches(&id));
        // No IMSI read: no match.
        assert!(!Device::Imsi("260011234567890".into()).matches(&id));
        assert!(!Device::Path("/dev/ttyUSB0".into()).matches(&id));
    }

    #[test]
    fn the_watched_directories_are_the_fixed_part_of_each_pattern() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().display().to_string();
        let search = vec![
            format!("{base}/*/modem"),
            format!("{base}/missing/by-id/*"),
            "/dev/ttyUSB*".to_string(),
        ];
        assert_eq!(
            watch_dirs(&search),
            vec![d.path().to_path_buf(), PathBuf::from("/dev")]
        );
    }

    #[test]
    fn ports_are_listed_once_with_all_their_names() {
        let d = tempfile::tempdir().unwrap();
        // /dev/null is a character device at hand.
        std::os::unix::fs::symlink("/dev/null", d.path().join("a")).unwrap();
        std::os::unix::fs::symlink("/dev/null", d.path().join("b")).unwrap();
        std::fs::write(d.path().join("c"), "not a device").unwrap();
        let p = ports(&[format!("{}/*", d.path().display())]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].node, PathBuf::from("/dev/null"));
        assert_eq!(p[0].names, vec![d.path().join("a"), d.path().join("b")]);
    }
}
