#!/usr/bin/env bash
# Installs the .deb with dpkg as on a real Debian machine, checks what a sysadmin gets, and
# removes it again, all inside a private mount namespace whose /etc, /usr and /var are
# overlays on a throwaway directory: the host itself is not changed (no user, no files).
#
#   sudo scripts/try-deb-install.sh [path/to/smsgw_*.deb]
#
# Needs root (unshare, mount), overlayfs, and a Debian-like host with adduser and setpriv.
# CI runs it after scripts/check-deb.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-}
if [ -z "$deb" ]; then
    deb=$(ls -t target/debian/smsgw_*.deb 2>/dev/null | head -n 1 || true)
fi
[ -n "$deb" ] && [ -f "$deb" ] || { echo "no .deb: run scripts/check-deb.sh (or cargo deb) first, or pass its path" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root for unshare and mount (nothing on the host is changed)" >&2; exit 2; }
deb=$(realpath "$deb")
work=$(mktemp -d /tmp/smsgw-deb.XXXXXX)  # not under /var, which gets overlaid
trap 'rm -rf "$work"' EXIT

unshare --mount --fork bash -euo pipefail -s "$deb" "$work" <<'INSIDE'
deb=$1
work=$2
mount --make-rprivate /
for d in etc usr var; do
    mkdir -p "$work/$d/upper" "$work/$d/work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/$d/upper,workdir=$work/$d/work" "/$d"
done
fail() { echo "try-deb-install: $*" >&2; exit 1; }
if getent passwd smsgw >/dev/null; then
    fail "this host already has an smsgw user: the check needs a host without one"
fi

echo "== dpkg -i $(basename "$deb")"
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
dpkg-query -W -f '${Status}\n' smsgw | grep -qx "install ok installed" || fail "smsgw is not installed"
/usr/bin/smsgw --version
id -nG smsgw | tr ' ' '\n' | grep -qx dialout || fail "the smsgw user is not in dialout"
[ "$(stat -c %U:%G:%a /var/lib/smsgw)" = smsgw:smsgw:750 ] || fail "/var/lib/smsgw: $(stat -c %U:%G:%a /var/lib/smsgw)"
[ "$(stat -c %U:%G:%a /etc/smsgw/smsgw.toml)" = root:smsgw:640 ] || fail "/etc/smsgw/smsgw.toml: $(stat -c %U:%G:%a /etc/smsgw/smsgw.toml)"
setpriv --reuid smsgw --regid smsgw --init-groups /usr/bin/smsgw config check /etc/smsgw/smsgw.toml \
    || fail "the smsgw user cannot use the packaged config"
test -f /usr/share/man/man8/smsgw.8.gz || fail "no man page"
test -f /usr/lib/systemd/system/smsgw.service || fail "no systemd unit"
grep -q '^User=smsgw' /usr/lib/systemd/system/smsgw.service || fail "the unit does not run as smsgw"

echo "== dpkg -r smsgw"
dpkg -r smsgw >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -r failed"; }
test ! -e /usr/bin/smsgw || fail "/usr/bin/smsgw left after removal"
test -f /etc/smsgw/smsgw.toml || fail "the edited config (a conffile) must survive removal"
echo "installed, checked and removed in a private namespace; the host is unchanged"
INSIDE
