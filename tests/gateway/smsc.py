#!/usr/bin/env python3
"""An SMSC for the SMPP transport's tests: smpp34's server (PyPI smpp34, in
target/test-venv). Prints `PORT <n>` once listening, then one JSON line per event:
{"bind": system_id} and {"submit": {...fields...}, "answer": "ok" | status}.

Destinations starting 4700 are refused ESME_RINVDSTADR; the first submit to a destination
starting 4714 is answered ESME_RMSGQFUL (the SMSC's queue is full), later ones are accepted.
"""
import argparse
import asyncio
import json
import socket

import smpp34


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    port = a.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    server = smpp34.Server(host="127.0.0.1", port=port, system_id="SIMSC")
    await server.start()
    print(f"PORT {port}", flush=True)
    full_once = set()
    n = 0
    while True:
        ev = await server.next()
        if isinstance(ev, smpp34.Esme):
            print(json.dumps({"bind": ev.system_id}), flush=True)
        elif isinstance(ev, smpp34.SubmitSmEvent):
            fields = {
                "source_addr": ev.source_addr, "source_addr_ton": ev.source_addr_ton,
                "source_addr_npi": ev.source_addr_npi,
                "destination_addr": ev.destination_addr, "dest_addr_ton": ev.dest_addr_ton,
                "dest_addr_npi": ev.dest_addr_npi, "data_coding": ev.data_coding,
                "esm_class": ev.esm_class, "registered_delivery": ev.registered_delivery,
                "short_message": bytes(ev.short_message).hex(),
                "tlvs": [[t.tag, bytes(t.value).hex()] for t in ev.tlvs],
            }
            dst = ev.destination_addr
            if dst.startswith("4700"):
                ev.reject(smpp34.ESME_RINVDSTADR)
                answer = "ESME_RINVDSTADR"
            elif dst.startswith("4714") and dst not in full_once:
                full_once.add(dst)
                ev.reject(smpp34.ESME_RMSGQFUL)
                answer = "ESME_RMSGQFUL"
            else:
                n += 1
                ev.accept(message_id=f"m{n}")
                answer = f"m{n}"
            print(json.dumps({"submit": fields, "answer": answer}), flush=True)


asyncio.run(main())
