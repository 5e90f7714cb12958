#!/usr/bin/env bash
# Regenerates the libGammu test vectors and checks they match the committed ones, so the
# oracle the codec is tested against stays reproducible. Installs Debian's python3-gammu
# when it is missing (root only).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import gammu' 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq python3-gammu >/dev/null
    else
        echo "python3-gammu is missing: apt-get install python3-gammu" >&2
        exit 1
    fi
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
/usr/bin/python3 scripts/gen-gammu-vectors.py > "$tmp"
if ! cmp -s "$tmp" tests/data/gammu-vectors.jsonl; then
    echo "tests/data/gammu-vectors.jsonl differs from what scripts/gen-gammu-vectors.py makes now:" >&2
    diff <(head -c 2000 tests/data/gammu-vectors.jsonl) <(head -c 2000 "$tmp") >&2 || true
    exit 1
fi
echo "libGammu vectors: $(wc -l < "$tmp") regenerated, identical to the committed ones"
