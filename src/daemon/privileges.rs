//! `--user` / `--group`: run as an unprivileged user on hosts without systemd's `User=`.
//! Before dropping, check that the user will be able to open every configured device again
//! (modems are reopened after every unplug or reset, long after the drop).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::unistd::{Gid, Group, Uid, User};

/// Who to become.
#[derive(Debug, Clone)]
pub struct Target {
    pub user: User,
    pub gid: Gid,
    /// The user's groups (primary, supplementary, and `--group`).
    pub groups: Vec<Gid>,
}

/// Resolves `--user` and `--group` (names or numbers).
pub fn resolve(user: &str, group: Option<&str>) -> Result<Target, String> {
    let u = match user.parse::<u32>() {
        Ok(n) => User::from_uid(Uid::from_raw(n)),
        Err(_) => User::from_name(user),
    }
    .map_err(|e| format!("cannot look up user {user:?}: {e}"))?
    .ok_or_else(|| format!("no user {user:?} on this host"))?;
    let gid = match group {
        None => u.gid,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => Gid::from_raw(n),
            Err(_) => {
                Group::from_name(g)
                    .map_err(|e| format!("cannot look up group {g:?}: {e}"))?
                    .ok_or_else(|| format!("no group {g:?} on this host"))?
                    .gid
            }
        },
    };
    let name =
        std::ffi::CString::new(u.name.clone()).map_err(|_| "user name with a NUL".to_string())?;
    let mut groups = nix::unistd::getgrouplist(&name, u.gid)
        .map_err(|e| format!("cannot read the groups of {}: {e}", u.name))?;
    if !groups.contains(&gid) {
        groups.push(gid);
    }
    Ok(Target {
        user: u,
        gid,
        groups,
    })
}

/// Whether `t` may read and write `path`, by its owner, group and mode.
pub fn can_open(t: &Target, path: &Path) -> Result<(), String> {
    let m = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mode = m.mode();
    let ok = if t.user.uid.is_root() {
        true
    } else if m.uid() == t.user.uid.as_raw() {
        mode & 0o600 == 0o600
    } else if t.groups.iter().any(|g| g.as_raw() == m.gid()) {
        mode & 0o060 == 0o060
    } else {
        mode & 0o006 == 0o006
    };
    if ok {
        return Ok(());
    }
    let group = Group::from_gid(Gid::from_raw(m.gid()))
        .ok()
        .flatten()
        .map_or_else(|| m.gid().to_string(), |g| g.name);
    Err(format!(
        "user {} could not open {} again after a reconnect (owner {}, group {group}, mode {:o}): add the user to group {group} (usually `dialout`) or run with --group {group}",
        t.user.name,
        path.display(),
        m.uid(),
        mode & 0o777
    ))
}

/// Becomes `t`: supplementary groups, group, then user.
pub fn drop_to(t: &Target) -> Result<(), String> {
    nix::unistd::setgroups(&t.groups).map_err(|e| format!("setgroups: {e}"))?;
    nix::unistd::setgid(t.gid).map_err(|e| format!("setgid: {e}"))?;
    nix::unistd::setuid(t.user.uid).map_err(|e| format!("setuid: {e}"))?;
    Ok(())
}
