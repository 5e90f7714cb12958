#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust, from Debian's packages:
#   gammu         the real gammu CLI, a client our simulated modem must satisfy
#   python3-gammu libGammu for Python, the oracle that generated the PDU test vectors
# Only missing packages are installed; needs root (or sudo) for apt-get.
set -euo pipefail
missing=()
command -v gammu >/dev/null 2>&1 || missing+=(gammu)
/usr/bin/python3 -c 'import gammu' 2>/dev/null || missing+=(python3-gammu)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
echo "installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
