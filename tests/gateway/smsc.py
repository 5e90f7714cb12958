#!/usr/bin/env python3
"""An SMSC for the SMPP transport's tests: smpp34's server (PyPI smpp34, in
target/test-venv). Prints `PORT <n>` once listening, then one JSON line per event:
{"bind": system_id} and {"submit": {...fields...}, "answer": "ok" | status}.

Destinations starting 4700 are refused ESME_RINVDSTADR; the first submit to a destination
starting 4714 is answered ESME_RMSGQFUL (the SMSC's queue is full), later ones are accepted.

A submit with registered_delivery gets a receipt (appendix-B text, stat:DELIVRD, the id in
hex: `m12` style ids are written as given) on the latest session that can receive: at once,
or with --hold-receipts when a `{"release": true}` line comes on standard input. A
`{"mo": {...}}` line delivers a deliver_sm (source_addr, data_coding, esm_class, hex
short_message, tlvs as [tag, hex]). Each deliver_sm's answer is printed as
{"delivered": kind, "id": ..., "status": command_status}. With --answer-delay S each
submit_sm is answered S seconds later; a submit's `in_flight` says how many were unanswered
when it came (itself included), `at` when (seconds, monotonic).
"""
import argparse
import asyncio
import json
import socket
import sys
import time

import smpp34


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--hold-receipts", action="store_true")
    p.add_argument("--answer-delay", type=float, default=0.0,
                   help="seconds before each submit_sm is answered")
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
    receivers = []
    held = []
    n = 0

    async def deliver(kind, ident, **kw):
        live = [e for e in receivers if e.can_receive]
        if not live:
            print(json.dumps({"delivered": kind, "id": ident, "status": "no receiver"}), flush=True)
            return
        try:
            r = await live[-1].deliver_sm(**kw)
            st = r.command_status
        except Exception as e:  # a session that went away
            st = f"error: {e}"
        print(json.dumps({"delivered": kind, "id": ident, "status": st}), flush=True)

    def receipt_kw(mid, dest):
        text = (f"id:{mid} sub:001 dlvrd:001 submit date:2611231405 "
                f"done date:2611231406 stat:DELIVRD err:000 text:")
        return dict(destination_addr=dest, short_message=text.encode(), esm_class=0x04)

    async def commands():
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            c = json.loads(line)
            if c.get("release"):
                for mid, dest in held:
                    await deliver("receipt", mid, **receipt_kw(mid, dest))
                held.clear()
            if "mo" in c:
                m = c["mo"]
                await deliver("mo", m.get("id", ""), destination_addr="NOC",
                              source_addr=m["source_addr"],
                              source_addr_ton=m.get("source_addr_ton", 1),
                              source_addr_npi=m.get("source_addr_npi", 1),
                              esm_class=m.get("esm_class", 0),
                              data_coding=m.get("data_coding", 0),
                              short_message=bytes.fromhex(m["short_message"]),
                              tlvs=[smpp34.Tlv(t, bytes.fromhex(v)) for t, v in m.get("tlvs", [])])

    tasks = [asyncio.create_task(commands())]
    in_flight = 0

    async def later(ev, answer):
        nonlocal in_flight
        await asyncio.sleep(a.answer_delay)
        in_flight -= 1
        try:
            answer(ev)
        except Exception:  # the session went away meanwhile
            pass

    while True:
        ev = await server.next()
        if isinstance(ev, smpp34.Esme):
            receivers.append(ev)
            print(json.dumps({"bind": ev.system_id, "receives": ev.can_receive}), flush=True)
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
                answer = "ESME_RINVDSTADR"
                act = lambda e: e.reject(smpp34.ESME_RINVDSTADR)
            elif dst.startswith("4714") and dst not in full_once:
                full_once.add(dst)
                answer = "ESME_RMSGQFUL"
                act = lambda e: e.reject(smpp34.ESME_RMSGQFUL)
            else:
                n += 1
                # Decimal ids, written in hex in the receipts (as some SMSCs do).
                mid = str(1000 + n)
                answer = mid
                act = lambda e, mid=mid: e.accept(message_id=mid)
                if ev.registered_delivery & 1:
                    if a.hold_receipts:
                        held.append((f"{1000 + n:x}", ev.source_addr))
                    else:
                        tasks.append(asyncio.create_task(deliver(
                            "receipt", mid, **receipt_kw(f"{1000 + n:x}", ev.source_addr))))
            in_flight += 1
            fields["in_flight"] = in_flight
            fields["at"] = time.monotonic()
            if a.answer_delay:
                tasks.append(asyncio.create_task(later(ev, act)))
            else:
                in_flight -= 1
                act(ev)
            print(json.dumps({"submit": fields, "answer": answer}), flush=True)


asyncio.run(main())
