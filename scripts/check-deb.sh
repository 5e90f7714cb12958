#!/usr/bin/env bash
# Builds the .deb with cargo-deb and checks that it carries what a sysadmin needs: the
# binary, the man pages, the systemd unit, the udev rule, the example config (as a conffile),
# the completions, and the postinst that creates the smsgw user in dialout.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked
deb=$(cargo deb 2>/dev/null | tail -n 1)
[ -f "$deb" ] || { echo "cargo deb made no package" >&2; exit 1; }
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
missing=0
for want in ./usr/bin/smsgw ./usr/share/man/man8/smsgw.8.gz ./usr/share/man/man8/smsgw-run.8.gz \
    ./usr/share/man/man5/smsgw.toml.5.gz ./etc/smsgw/smsgw.toml ./usr/lib/systemd/system/smsgw.service \
    ./usr/share/doc/smsgw/examples/99-smsgw-modem.rules ./usr/share/bash-completion/completions/smsgw; do
    if ! grep -qx "$want" <<<"$files"; then
        echo "missing from $deb: $want" >&2
        missing=1
    fi
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/smsgw/smsgw.toml || { echo "the config is not a conffile" >&2; missing=1; }
dpkg-deb -I "$deb" postinst | grep -q "adduser smsgw dialout" || { echo "postinst does not put smsgw in dialout" >&2; missing=1; }
dpkg-deb -I "$deb" postinst | grep -q "chown root:smsgw /etc/smsgw/smsgw.toml" || { echo "postinst does not let the smsgw user read its config" >&2; missing=1; }
[ "$missing" = 0 ] || exit 1
echo "$deb: $(wc -l <<<"$files") entries, all expected files present"
