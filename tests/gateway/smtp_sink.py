#!/usr/bin/env python3
"""An SMTP server for the mail transport's tests, on aiosmtpd (Debian's python3-aiosmtpd).

Prints `PORT <n>` once listening, then one JSON line per message accepted:
{"from": ..., "to": [...], "subject": ..., "body": ..., "login": ...}.
With --user U --password P it requires AUTH (PLAIN or LOGIN, allowed without TLS here).
Recipients starting with "refuse" are answered 550.
"""
import argparse
import email
import email.policy
import json
import socket
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self):
        self.login = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(("plain",))
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "body": body.get_content() if body is not None else "",
            "login": session.auth_data.login.decode() if session.auth_data else None,
        }), flush=True)
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()

    def auth(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword)
              and data.login.decode() == a.user and data.password.decode() == a.password)
        return AuthResult(success=ok, auth_data=data if ok else None)

    kwargs = {}
    if a.user:
        kwargs = dict(authenticator=auth, auth_require_tls=False, auth_required=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = Controller(Sink(), hostname="127.0.0.1", port=port, **kwargs)
    c.start()
    print(f"PORT {port}", flush=True)
    try:
        for _ in sys.stdin:
            pass
    finally:
        c.stop()


if __name__ == "__main__":
    main()
