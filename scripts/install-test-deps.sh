#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust, from Debian's packages:
#   gammu          the real gammu CLI, a client our simulated modem must satisfy
#   python3-gammu  libGammu for Python, the oracle that generated the PDU test vectors
#   gammu-smsd     the real gammu-smsd, gammu-smsd-inject and Gammu's sqlite.sql, for the
#                  interoperability tests on one database
#   libdbd-sqlite3 the libdbi driver gammu-smsd uses for SQLite
#   python3-aiosmtpd an SMTP server nobody here wrote, for the mail transport's tests
#   openssl        makes the CA and certificate of the SMPP TLS test
#   python3-venv   for target/test-venv below
#   curl           a client nobody here wrote, for the HTTP API's tests (Kannel's sendsms)
#   chromium       a real browser for the status page's test (headless, a screenshot)
#   kannel         Kannel's bearerbox and smsbox, chained in front of smsgw's sendsms
#   rabbitmq-server the AMQP broker of the vumi transport's tests (started if it is not
#                  listening on 127.0.0.1:5672)
# and, from PyPI into target/test-venv, smpp34 (an SMPP 3.4 codec, client and server nobody
# here wrote) for the SMPP tests, aiosmpplib 0.7.4 (a Python ESME) for the SMPP bench, and
# pika 1.3.2 (RabbitMQ's own Python client) playing the vumi application.
# Only missing packages are installed; needs root (or sudo) for apt-get.
set -euo pipefail
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
missing=()
command -v gammu >/dev/null 2>&1 || missing+=(gammu)
/usr/bin/python3 -c 'import gammu' 2>/dev/null || missing+=(python3-gammu)
command -v gammu-smsd >/dev/null 2>&1 || missing+=(gammu-smsd)
ls /usr/lib/*/dbd/libdbdsqlite3.so >/dev/null 2>&1 || missing+=(libdbd-sqlite3)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/bearerbox ] || missing+=(kannel)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
broker() {
    # Debian starts it on install where there is an init system; a container has none.
    if ! (echo >/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
        echo "starting rabbitmq-server"
        $sudo /usr/sbin/rabbitmq-server -detached
        for _ in $(seq 1 60); do
            (echo >/dev/tcp/127.0.0.1/5672) 2>/dev/null && return 0
            sleep 1
        done
        echo "rabbitmq-server did not listen on 127.0.0.1:5672 within 60 s" >&2
        return 1
    fi
}
venv() {
    local dir
    dir="$(dirname "$0")/../target/test-venv"
    # smpp34: the tests' SMSC and codec oracle; aiosmpplib: a peer of `cargo bench --bench smpp`.
    if ! "$dir/bin/python" -c 'import smpp34, aiosmpplib, pika' 2>/dev/null; then
        echo "installing smpp34, aiosmpplib and pika into target/test-venv"
        mkdir -p "$(dirname "$dir")"
        [ -x "$dir/bin/python" ] || /usr/bin/python3 -m venv "$dir"
        "$dir/bin/pip" install -q smpp34==1.5.0 aiosmpplib==0.7.4 pika==1.3.2
    fi
}
if [ ${#missing[@]} -eq 0 ]; then
    venv
    broker
    exit 0
fi
echo "installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
venv
broker
