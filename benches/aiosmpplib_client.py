#!/usr/bin/env python3
"""aiosmpplib 0.7.4 as an ESME for `cargo bench --bench smpp`: binds as transceiver to
127.0.0.1:PORT, queues N submit_sm (each asking for a receipt) and prints
`RESULT <seconds to the last submit_sm_resp> <seconds to the last receipt>`.

The stock SimpleCorrelator walks every stored correlation on each put and get, so its rate
falls as a run gets longer; as the reference says, its expiry scan is switched off here so
that what is measured is the client, not that scan.
"""
import argparse
import asyncio
import logging
import time

import aiosmpplib
from aiosmpplib.correlator import SimpleCorrelator


class FastCorrelator(SimpleCorrelator):
    async def _remove_expired(self):
        pass


class Counter(aiosmpplib.AbstractHook):
    def __init__(self, n):
        self.n = n
        self.resps = 0
        self.receipts = 0
        self.first = None
        self.resp_done = None
        self.done = asyncio.Event()

    async def sending(self, smpp_message, pdu, client_id):
        if self.first is None and isinstance(smpp_message, aiosmpplib.SubmitSm):
            self.first = time.monotonic()

    async def received(self, smpp_message, pdu, client_id):
        if isinstance(smpp_message, aiosmpplib.SubmitSmResp):
            self.resps += 1
            if self.resps == self.n:
                self.resp_done = time.monotonic()
        elif isinstance(smpp_message, aiosmpplib.DeliverSm):
            self.receipts += 1
        if self.resps >= self.n and self.receipts >= self.n:
            self.done.set()

    async def send_error(self, smpp_message, error, client_id):
        pass


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--n", type=int, default=20000)
    a = p.parse_args()
    hook = Counter(a.n)
    esme = aiosmpplib.ESME(
        smsc_host="127.0.0.1", smsc_port=a.port, system_id="aiosmpp", password="pw",
        hook=hook, correlator=FastCorrelator("bench"), log_level=logging.ERROR,
    )
    task = asyncio.create_task(esme.start())
    for i in range(a.n):
        await esme.broker.enqueue(aiosmpplib.SubmitSm(
            short_message=f"bench {i}", log_id=str(i),
            source=aiosmpplib.PhoneNumber("12345"),
            destination=aiosmpplib.PhoneNumber("48600100200"),
        ))
    await asyncio.wait_for(hook.done.wait(), 300)
    end = time.monotonic()
    print(f"RESULT {hook.resp_done - hook.first:.3f} {end - hook.first:.3f}", flush=True)
    await esme.stop()
    task.cancel()


asyncio.run(main())
