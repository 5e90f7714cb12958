#!/usr/bin/env bash
# Checks the Rust version Cargo.toml states (`rust-version`) against what the locked
# dependencies need: the highest `rust-version` any crate in Cargo.lock's graph declares
# (build, normal and dev dependencies, as `cargo test` builds them). Our own code is held to
# the stated version by clippy's incompatible_msrv lint (an API newer than rust-version is a
# warning, and CI's clippy runs with -D warnings).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --locked | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
pkgs = {p["id"]: p for p in m["packages"]}
nodes = {n["id"]: n for n in m["resolve"]["nodes"]}
root = m["resolve"]["root"]
seen, todo = set(), [root]
while todo:
    i = todo.pop()
    if i in seen:
        continue
    seen.add(i)
    todo.extend(d["pkg"] for d in nodes[i]["deps"])
def ver(v):
    return tuple(int(x) for x in v.split("."))[:2]
stated = pkgs[root].get("rust_version") or "0.0"
need = max((ver(pkgs[i]["rust_version"]), pkgs[i]["name"] + " " + pkgs[i]["version"])
           for i in seen if i != root and pkgs[i].get("rust_version"))
print("Cargo.toml says rust-version %s; the locked dependencies need %d.%d (%s)" % (stated, need[0][0], need[0][1], need[1]))
if ver(stated) < need[0]:
    sys.exit("rust-version is too low: raise it to %d.%d in Cargo.toml and README.md" % need[0])
if ver(stated) > need[0]:
    print("(higher than the dependencies need: our own code needs it, or lower it)")
'
grep -q "Needs Rust $(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml) or newer" README.md \
    || { echo "README.md does not state the rust-version of Cargo.toml" >&2; exit 1; }
