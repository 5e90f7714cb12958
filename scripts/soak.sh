#!/usr/bin/env bash
# The full soak (issue 13): 5,000 messages through two simulated modems that fail 10% of
# sends with random +CMS ERRORs, drop the line 5 times and hang once, 500 inbound messages (a
# third multipart, parts out of order), and the daemon killed with SIGKILL 3 times and
# restarted. Fails if a message is lost, a failure has no reason, an inbound message is
# stored twice or left on the SIM, or there are more duplicates than faults. Bounded: 15 min.
# The normal test run (`cargo test`) does a short version of the same test.
set -euo pipefail
cd "$(dirname "$0")/.."
SMSGW_SOAK=full timeout 1200 cargo test --release --locked --test soak -- --nocapture
