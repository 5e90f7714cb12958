#!/usr/bin/env bash
# Regenerates the libGammu test vectors and checks they match the committed ones, so the
# oracle the codec is tested against stays reproducible. Installs Debian's python3-gammu
# when it is missing (scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
/usr/bin/python3 scripts/gen-gammu-vectors.py > "$tmp"
if ! cmp -s "$tmp" tests/data/gammu-vectors.jsonl; then
    echo "tests/data/gammu-vectors.jsonl differs from what scripts/gen-gammu-vectors.py makes now:" >&2
    diff <(head -c 2000 tests/data/gammu-vectors.jsonl) <(head -c 2000 "$tmp") >&2 || true
    exit 1
fi
echo "libGammu vectors: $(wc -l < "$tmp") regenerated, identical to the committed ones"
