#!/usr/bin/env python3
"""aiosmpplib 0.7.4 (PyPI, in target/test-venv) as an ESME for tests/smpp_server.rs: binds
as transceiver to 127.0.0.1:PORT, submits each TEXT to TO (asking for a receipt; a long
text goes in message_payload, aiosmpplib's way), and prints a JSON line per event:

    {"resp": LOG_ID, "status": N, "message_id": "..."}     a submit_sm_resp
    {"receipt": true, "text": "...", "tlvs": {...}}         a delivery receipt
    {"received": "...", "from": "...", "to": "..."}       a received message

It runs until killed.
"""
import argparse
import asyncio
import json
import logging
import sys

import aiosmpplib


def out(v):
    sys.stdout.write(json.dumps(v) + "\n")
    sys.stdout.flush()


class Hook(aiosmpplib.AbstractHook):
    async def sending(self, smpp_message, pdu, client_id):
        pass

    async def received(self, smpp_message, pdu, client_id):
        if isinstance(smpp_message, aiosmpplib.SubmitSmResp):
            out({"resp": smpp_message.log_id, "status": int(smpp_message.command_status.value),
                 "message_id": smpp_message.message_id})
        elif isinstance(smpp_message, aiosmpplib.DeliverSm):
            if smpp_message.is_receipt():
                params = {}
                for p in smpp_message.optional_params or []:
                    v = p.value
                    params[str(p.tag.name if hasattr(p.tag, "name") else p.tag)] = (
                        v.decode("latin-1") if isinstance(v, (bytes, bytearray)) else str(v))
                out({"receipt": True, "text": smpp_message.short_message, "tlvs": params})
            else:
                out({"received": smpp_message.short_message or smpp_message.message_payload,
                     "from": smpp_message.source.number, "to": smpp_message.destination.number})

    async def send_error(self, smpp_message, error, client_id):
        out({"send_error": repr(error)})


async def main():
    print("PORT 0", flush=True)
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--system-id", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("texts", nargs="*")
    a = p.parse_args()
    esme = aiosmpplib.ESME(
        smsc_host="127.0.0.1", smsc_port=a.port, system_id=a.system_id, password=a.password,
        hook=Hook(), log_level=logging.ERROR,
    )
    task = asyncio.create_task(esme.start())
    for i, text in enumerate(a.texts):
        await esme.broker.enqueue(aiosmpplib.SubmitSm(
            short_message=text, log_id=str(i),
            source=aiosmpplib.PhoneNumber("Shop"),
            destination=aiosmpplib.PhoneNumber(a.to),
        ))
    await task


asyncio.run(main())
