//! The spool directory: programs drop message files (smstools3 format, or Gammu's
//! `OUT...txt` outbox files) and smsgw queues them into the configured storage.
//!
//! A file is taken on its inotify event (closed after writing, or renamed in), or by the
//! periodic rescan once it is unchanged since the previous scan. Taking it: hard-link it into
//! the hidden `.taken` folder (this fails for the second of two daemons), unlink the
//! original, read and parse it, queue it together with its key (name, inode, time, size and
//! content hash) in one storage transaction, and only then unlink it from `.taken`. After a
//! crash, a file left in `.taken` whose key is already queued is removed, not queued again.
//! A file that cannot be read as a message goes to `failed/` with a `.error` file next to it
//! saying why.

pub mod parse;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::service::Service;

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Queued as this outbox ID.
    Queued(i64),
    /// Queued before (a file taken again after a crash): removed.
    AlreadyQueued,
    /// Not a message: moved to `failed/` with the reason.
    Failed(String),
    /// Gone, taken by another daemon, or not a file to take.
    Skipped,
    /// The storage could not queue it now: it stays in `.taken` and is tried again.
    StorageDown(String),
}

/// One spool directory and the storage it feeds.
pub struct Spool {
    dir: PathBuf,
    taken: PathBuf,
    failed: PathBuf,
    storage: Arc<dyn Service>,
    queues: std::collections::BTreeMap<String, String>,
    report_default: bool,
    /// Size and modification time of each file at the previous rescan.
    seen: HashMap<String, (u64, SystemTime)>,
    /// inotify: names of files closed after writing or renamed in.
    events: mpsc::UnboundedReceiver<String>,
    watcher: Option<notify::RecommendedWatcher>,
}

/// Starts watching `dir` for complete files (closed after writing, or renamed in).
fn watch(
    dir: &Path,
) -> (
    notify::Result<notify::RecommendedWatcher>,
    mpsc::UnboundedReceiver<String>,
) {
    use notify::{event::AccessKind, event::AccessMode, event::ModifyKind, EventKind, Watcher};
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let base = dir.to_path_buf();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        let complete = matches!(
            ev.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
                | EventKind::Modify(ModifyKind::Name(
                    notify::event::RenameMode::To | notify::event::RenameMode::Both
                ))
        );
        if !complete {
            return;
        }
        for p in ev.paths {
            if p.parent() == Some(base.as_path()) {
                if let Some(n) = p.file_name().and_then(|n| n.to_str()) {
                    let _ = tx.send(n.to_string());
                }
            }
        }
    })
    .and_then(|mut w| {
        w.watch(dir, notify::RecursiveMode::NonRecursive)?;
        Ok(w)
    });
    (watcher, rx)
}

/// Names that are not (yet) messages: hidden files, lock files, temporary files.
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with("LOCKED")
        || [".LOCK", ".tmp", ".part", "~"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// The key a file is queued under: the same file taken twice gets the same key; the same
/// text dropped again later (a new inode or time) gets another.
fn key(name: &str, meta: &std::fs::Metadata, bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!(
        "{name}|{}|{}|{}.{}|{}|{:016x}",
        meta.dev(),
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.len(),
        h.finish()
    )
}

impl Spool {
    /// Opens `cfg.spool.dir` and starts watching it, then creates its `.taken` and `failed`
    /// folders (so `.taken` existing means files dropped from now on are seen at once).
    pub fn open(cfg: &Config, storage: Arc<dyn Service>) -> std::io::Result<Spool> {
        let dir = cfg.spool.dir.clone();
        let taken = dir.join(".taken");
        let failed = dir.join("failed");
        std::fs::create_dir_all(&dir)?;
        let (watcher, events) = watch(&dir);
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "spool: cannot watch {} ({e}); files are taken by the rescan every {} s",
                    dir.display(),
                    cfg.spool.rescan
                );
                None
            }
        };
        for d in [&taken, &failed] {
            std::fs::create_dir_all(d)?;
        }
        Ok(Spool {
            events,
            watcher,
            dir,
            taken,
            failed,
            storage,
            queues: cfg.spool.queues.clone(),
            report_default: cfg.sending.delivery_reports,
            seen: HashMap::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes `name` from the spool directory and queues it.
    pub async fn take(&self, name: &str) -> Taken {
        if ignored(name) || self.dir.join(format!("{name}.LOCK")).exists() {
            return Taken::Skipped;
        }
        let from = self.dir.join(name);
        match std::fs::symlink_metadata(&from) {
            Ok(m) if m.is_file() => {}
            _ => return Taken::Skipped,
        }
        let to = self.taken.join(name);
        // A hard link cannot replace an existing name: of two daemons, one wins.
        if std::fs::hard_link(&from, &to).is_err() {
            return Taken::Skipped;
        }
        if let Err(e) = std::fs::remove_file(&from) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("spool: cannot remove {}: {e}", from.display());
            }
        }
        self.queue_taken(name).await
    }

    /// Queues a file that is in `.taken` (just taken, or left there by a crash or an
    /// outage).
    async fn queue_taken(&self, name: &str) -> Taken {
        let path = self.taken.join(name);
        let (meta, bytes) =
            match std::fs::metadata(&path).and_then(|m| Ok((m, std::fs::read(&path)?))) {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Taken::Skipped,
                Err(e) => return self.fail(name, &format!("cannot read the file: {e}")),
            };
        let dropped = match parse::parse(name, &bytes) {
            Ok(d) => d,
            Err(e) => return self.fail(name, &e.0),
        };
        let phone = dropped
            .queue
            .as_ref()
            .map(|q| self.queues.get(q).cloned().unwrap_or_else(|| q.clone()));
        let mut msg = match crate::compose::new_message(
            &dropped.to,
            &dropped.text,
            &dropped.options(phone, self.report_default),
        ) {
            Ok(m) => m,
            Err(e) => return self.fail(name, &e.to_string()),
        };
        msg.priority = dropped.priority;
        match self
            .storage
            .create_outbox_once(&msg, &key(name, &meta, &bytes))
            .await
        {
            Ok(got) => {
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(
                        "spool: queued {name} but cannot remove {}: {e}",
                        path.display()
                    );
                }
                match got {
                    Some(id) => {
                        tracing::info!(id, to = %msg.destination, "spool: queued {name}");
                        Taken::Queued(id)
                    }
                    None => {
                        tracing::info!(
                            "spool: {name} was queued before (taken again after a crash): removed"
                        );
                        Taken::AlreadyQueued
                    }
                }
            }
            Err(e) => {
                tracing::warn!(
                    "spool: cannot queue {name} yet (kept in {}): {e}",
                    self.taken.display()
                );
                Taken::StorageDown(e.to_string())
            }
        }
    }

    /// Moves a taken file to `failed/` with a `.error` file saying why.
    fn fail(&self, name: &str, reason: &str) -> Taken {
        let from = self.taken.join(name);
        let mut to = self.failed.join(name);
        for i in 1.. {
            if !to.exists() {
                break;
            }
            to = self.failed.join(format!("{name}.{i}"));
        }
        let moved = std::fs::rename(&from, &to);
        let mut err_path = to.clone().into_os_string();
        err_path.push(".error");
        let written = std::fs::write(&err_path, format!("{reason}\n"));
        match (moved, written) {
            (Ok(()), Ok(())) => tracing::warn!(
                "spool: {name} is not a message it can send: {reason} (moved to {})",
                to.display()
            ),
            (m, w) => tracing::error!(
                "spool: {name}: {reason}; moving it to {} failed: {m:?} {w:?}",
                to.display()
            ),
        }
        Taken::Failed(reason.to_string())
    }

    /// Files left in `.taken` (a crash, an outage): queued unless queued already.
    pub async fn recover(&self) -> Vec<(String, Taken)> {
        let mut out = Vec::new();
        for name in list(&self.taken) {
            let t = self.queue_taken(&name).await;
            out.push((name, t));
        }
        out
    }

    /// A rescan: the files unchanged since the previous scan, oldest first.
    pub fn stable_files(&mut self) -> Vec<String> {
        let mut now = HashMap::new();
        let mut stable = Vec::new();
        for name in list(&self.dir) {
            if ignored(&name) {
                continue;
            }
            let Ok(m) = std::fs::symlink_metadata(self.dir.join(&name)) else {
                continue;
            };
            if !m.is_file() {
                continue;
            }
            let state = (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH));
            if self.seen.get(&name) == Some(&state) {
                stable.push((state.1, name.clone()));
            }
            now.insert(name, state);
        }
        self.seen = now;
        stable.sort();
        stable.into_iter().map(|(_, n)| n).collect()
    }
}

/// The plain files of a folder, by name.
fn list(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Watches the spool directory until `stop`; wakes the senders after queuing.
pub async fn run(
    mut spool: Spool,
    rescan: Duration,
    wake: watch::Sender<u64>,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        inotify = spool.watcher.is_some(),
        "spool: watching {}",
        spool.dir().display()
    );
    let poke = |t: &Taken| {
        if matches!(t, Taken::Queued(_)) {
            wake.send_modify(|n| *n = n.wrapping_add(1));
        }
    };
    for (_, t) in spool.recover().await {
        poke(&t);
    }
    let mut tick = tokio::time::interval(rescan);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            Some(name) = spool.events.recv() => {
                let t = spool.take(&name).await;
                poke(&t);
            }
            _ = tick.tick() => {
                for (_, t) in spool.recover().await {
                    poke(&t);
                }
                for name in spool.stable_files() {
                    let t = spool.take(&name).await;
                    poke(&t);
                }
            }
        }
    }
}
