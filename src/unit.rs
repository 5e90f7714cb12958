//! What the packaged systemd unit (`contrib/smsgw.service`) must allow for a config: the
//! unit runs with `ProtectSystem=strict` and may write only `/var/lib/smsgw` and
//! `/run/smsgw`; a config that keeps gammu-smsd's paths (`/var/lib/gammu/smsd.db`,
//! `/var/spool/gammu/*`, a log file) needs a drop-in that lets it write there, and the
//! groups that own those folders.

use std::path::{Path, PathBuf};

use crate::config::{Config, Storage, StorageKind};

/// Where the packaged unit lets smsgw write.
pub const UNIT_WRITABLE: [&str; 2] = ["/var/lib/smsgw", "/run/smsgw"];

/// Where a drop-in for the packaged unit goes.
pub const DROPIN_PATH: &str = "/etc/systemd/system/smsgw.service.d/paths.conf";

fn storage_dirs(s: &Storage, out: &mut Vec<PathBuf>) {
    match s.kind {
        // SQLite writes its journal next to the database: the folder, not the file.
        StorageKind::Sqlite => {
            if let Some(dir) = s.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                out.push(dir.to_path_buf());
            }
        }
        StorageKind::Files => {
            for p in [&s.inbox_path, &s.outbox_path, &s.sent_path, &s.error_path] {
                out.push(p.clone());
            }
        }
        StorageKind::Postgres | StorageKind::Mysql | StorageKind::Null | StorageKind::Nav => {}
    }
}

/// The folders the daemon writes to with this config that the packaged unit does not
/// allow, each once (a folder inside another listed one is left out).
pub fn writable_elsewhere(cfg: &Config) -> Vec<PathBuf> {
    let mut all = Vec::new();
    storage_dirs(&cfg.storage, &mut all);
    if let Some(inbox) = &cfg.inbox_storage {
        storage_dirs(inbox, &mut all);
    }
    // The log file itself, not its folder (often /var/log): logrotate's `create` makes
    // the new file before SIGHUP has it reopened.
    if cfg.daemon.log != "stderr" {
        all.push(PathBuf::from(&cfg.daemon.log));
    }
    if !cfg.spool.dir.as_os_str().is_empty() {
        all.push(cfg.spool.dir.clone());
    }
    all.push(cfg.daemon.state_dir.clone());
    for f in [&cfg.daemon.control_socket, &cfg.daemon.pid_file] {
        if let Some(dir) = f.parent() {
            all.push(dir.to_path_buf());
        }
    }
    let allowed = |p: &Path| UNIT_WRITABLE.iter().any(|a| p.starts_with(a));
    let mut out: Vec<PathBuf> = all
        .into_iter()
        .filter(|p| p.is_absolute() && !allowed(p))
        .collect();
    out.sort();
    out.dedup();
    let kept = out.clone();
    out.retain(|p| !kept.iter().any(|q| q != p && p.starts_with(q)));
    out
}

/// The groups owning the folders that exist among `dirs` (other than root and smsgw):
/// the smsgw user reaches a `gammu:gammu 0770` spool through its group.
pub fn owning_groups(dirs: &[PathBuf]) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut groups: Vec<String> = dirs
        .iter()
        .filter_map(|d| std::fs::metadata(d).ok())
        .filter_map(|m| nix::unistd::Group::from_gid(m.gid().into()).ok().flatten())
        .map(|g| g.name)
        .filter(|g| g != "root" && g != "smsgw")
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

/// The drop-in that lets the packaged unit run this config; `None` when it needs none.
pub fn dropin(cfg: &Config) -> Option<String> {
    let dirs = writable_elsewhere(cfg);
    if dirs.is_empty() {
        return None;
    }
    let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let mut text = format!(
        "# Written by `smsgw config import-gammu`: the folders this config writes to, besides\n\
         # {} that the unit allows (it runs with ProtectSystem=strict).\n\
         [Service]\nReadWritePaths={}\n",
        UNIT_WRITABLE.join(" and "),
        list.join(" ")
    );
    let groups = owning_groups(&dirs);
    if !groups.is_empty() {
        text.push_str(&format!(
            "# The groups that own them (gammu-smsd's folders are gammu:gammu, mode 0770): the\n\
             # smsgw user writes there through the group, which needs write permission (g+w).\n\
             SupplementaryGroups=dialout {}\n",
            groups.join(" ")
        ));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gammu_paths_need_a_dropin_and_smsgws_own_do_not() {
        let own = Config::parse(
            "[[phone]]\nid = \"m\"\ndevice = \"/dev/ttyUSB0\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        assert!(dropin(&own).is_none(), "{:?}", writable_elsewhere(&own));
        let gammu = Config::parse(
            "[daemon]\nlog = \"/var/log/gammu-smsd/smsd.log\"\n[storage]\nkind = \"files\"\ninbox_path = \"/var/spool/gammu/inbox\"\noutbox_path = \"/var/spool/gammu/outbox\"\nsent_path = \"/var/spool/gammu/sent\"\nerror_path = \"/var/spool/gammu/error\"\n[[phone]]\nid = \"m\"\ndevice = \"/dev/ttyUSB0\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let d = dropin(&gammu).unwrap();
        assert!(
            d.contains("ReadWritePaths=/var/log/gammu-smsd/smsd.log /var/spool/gammu/error /var/spool/gammu/inbox /var/spool/gammu/outbox /var/spool/gammu/sent\n"),
            "{d}"
        );
        let sqlite = Config::parse(
            "[storage]\npath = \"/var/lib/gammu/smsd.db\"\n[[phone]]\nid = \"m\"\ndevice = \"/dev/ttyUSB0\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        assert_eq!(
            writable_elsewhere(&sqlite),
            [PathBuf::from("/var/lib/gammu")]
        );
    }
}
