#!/usr/bin/env bash
# Installs the .deb in a clean Debian container and checks what a sysadmin gets: the binary,
# the smsgw user in dialout, a config that user can read and that passes `config check`, the
# man pages and the systemd unit.
#
#   scripts/try-deb-in-container.sh [path/to/smsgw_*.deb]
#
# Needs podman or docker (RUNTIME=... to choose) and the image in IMAGE (default
# debian:bookworm-slim, the release the package is built on; glibc must not be older than the
# build machine's). Not run by CI: CI has no container runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-}
if [ -z "$deb" ]; then
    deb=$(ls -t target/debian/smsgw_*.deb 2>/dev/null | head -n 1 || true)
fi
[ -n "$deb" ] && [ -f "$deb" ] || { echo "no .deb: run 'cargo deb' first or pass its path" >&2; exit 2; }
runtime=${RUNTIME:-$(command -v podman || command -v docker || true)}
[ -n "$runtime" ] || { echo "needs podman or docker" >&2; exit 2; }
image=${IMAGE:-debian:bookworm-slim}

"$runtime" run --rm -v "$(realpath "$deb"):/tmp/smsgw.deb:ro" "$image" bash -euo pipefail -c '
    step() { echo "== $*"; }
    step install
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/smsgw.deb >/dev/null
    step binary; smsgw --version
    step user; id -nG smsgw | tr " " "\n" | grep -qx dialout
    step config readable by the daemon user
    test "$(stat -c %U:%G:%a /etc/smsgw/smsgw.toml)" = root:smsgw:640
    setpriv --reuid smsgw --regid smsgw --init-groups smsgw config check /etc/smsgw/smsgw.toml
    step man pages and unit
    test -f /usr/share/man/man8/smsgw.8.gz
    test -f /usr/lib/systemd/system/smsgw.service
    step all good
'
