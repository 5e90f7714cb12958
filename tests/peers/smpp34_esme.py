#!/usr/bin/env python3
"""An ESME for tests/smpp_server.rs: smpp34's client (PyPI smpp34, in target/test-venv),
driven by JSON lines on stdin, answering JSON lines on stdout.

    {"bind": {"port": P, "system_id": S, "password": W, "bind_type": "TRX"}}
        -> {"bound": true} or {"error": "..."}
    {"submit": {"destination_addr": "...", "short_message_hex": "...", ...submit_sm fields,
                "tlvs": [[tag, "hex"], ...]}}
        -> {"status": N, "message_id": "..."}
    {"submit_many": [{...}, ...]}  (at once, as parts of a long message go)
        -> {"all": [{"status": N, "message_id": "..."}, ...]}
    {"next": SECONDS}
        -> the next deliver_sm: {"source_addr", "destination_addr", "esm_class",
           "data_coding", "short_message_hex", "tlvs": [[tag, "hex"], ...]} or {"timeout": true}
    {"unbind": true} -> {"unbound": true}
"""
import asyncio
import json
import sys

import smpp34


def out(v):
    sys.stdout.write(json.dumps(v) + "\n")
    sys.stdout.flush()


async def main():
    print("PORT 0", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    smsc = None
    while True:
        line = await reader.readline()
        if not line:
            break
        req = json.loads(line)
        try:
            if "bind" in req:
                b = req["bind"]
                client = smpp34.Client("127.0.0.1", b["port"], b["system_id"], b["password"],
                                       bind_type=b.get("bind_type", "TRX"),
                                       window_size=b.get("window", 10))
                smsc = await client.connect()
                out({"bound": True})
            elif "submit" in req:
                f = dict(req["submit"])
                dest = f.pop("destination_addr")
                short = bytes.fromhex(f.pop("short_message_hex", ""))
                tlvs = [smpp34.Tlv(t, bytes.fromhex(v)) for t, v in f.pop("tlvs", [])]
                r = await smsc.submit_sm(dest, short, tlvs=tlvs, **f)
                out({"status": r.command_status, "message_id": r.message_id})
            elif "submit_many" in req:
                async def one(f):
                    f = dict(f)
                    dest = f.pop("destination_addr")
                    short = bytes.fromhex(f.pop("short_message_hex", ""))
                    tlvs = [smpp34.Tlv(t, bytes.fromhex(v)) for t, v in f.pop("tlvs", [])]
                    r = await smsc.submit_sm(dest, short, tlvs=tlvs, **f)
                    return {"status": r.command_status, "message_id": r.message_id}
                out({"all": await asyncio.gather(*(one(f) for f in req["submit_many"]))})
            elif "next" in req:
                try:
                    ev = await asyncio.wait_for(smsc.next(), req["next"])
                except asyncio.TimeoutError:
                    out({"timeout": True})
                    continue
                if isinstance(ev, smpp34.DeliverSmEvent):
                    out({
                        "source_addr": ev.source_addr,
                        "source_addr_ton": ev.source_addr_ton,
                        "destination_addr": ev.destination_addr,
                        "esm_class": ev.esm_class,
                        "data_coding": ev.data_coding,
                        "short_message_hex": bytes(ev.short_message).hex(),
                        "tlvs": [[t.tag, bytes(t.value).hex()] for t in ev.tlvs],
                    })
                else:
                    out({"event": repr(ev)})
            elif "unbind" in req:
                await smsc.unbind()
                out({"unbound": True})
        except Exception as e:  # the test shows what failed
            out({"error": f"{type(e).__name__}: {e}"})


asyncio.run(main())
