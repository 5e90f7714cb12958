#!/usr/bin/env python3
"""smpp34's own codec (PyPI smpp34, Rust-backed) as an oracle for ours.

Reads JSON lines on stdin and answers one JSON line each:
  {"decode": "<hex>"}  -> the PDU's fields as smpp34 decodes them
  {"encode": {"kind": "submit_sm" | "deliver_sm", <fields>}} -> {"hex": "<hex>"}
Binary values (short_message, TLV values) travel as hex.
"""
import json
import sys

import smpp34

FIELDS = ["sequence_number", "service_type", "source_addr_ton", "source_addr_npi",
          "source_addr", "dest_addr_ton", "dest_addr_npi", "destination_addr", "esm_class",
          "protocol_id", "priority_flag", "schedule_delivery_time", "validity_period",
          "registered_delivery", "replace_if_present_flag", "data_coding",
          "sm_default_msg_id"]


def fields(p):
    if isinstance(p, smpp34.RawPdu):
        return {"command_id": p.command_id, "command_status": p.command_status,
                "sequence_number": p.sequence_number, "body": bytes(p.body).hex()}
    out = {f: getattr(p, f) for f in FIELDS}
    out["command_id"] = p.command_id
    out["short_message"] = bytes(p.short_message).hex()
    out["tlvs"] = [[t.tag, bytes(t.value).hex()] for t in p.tlvs]
    return out


for line in sys.stdin:
    req = json.loads(line)
    try:
        if "decode" in req:
            ans = fields(smpp34.decode(bytes.fromhex(req["decode"])))
        else:
            f = dict(req["encode"])
            cls = smpp34.SubmitSm if f.pop("kind") == "submit_sm" else smpp34.DeliverSm
            sm = bytes.fromhex(f.pop("short_message"))
            tlvs = [smpp34.Tlv(t, bytes.fromhex(v)) for t, v in f.pop("tlvs")]
            src, dst = f.pop("source_addr"), f.pop("destination_addr")
            ans = {"hex": cls(src, dst, sm, tlvs=tlvs, **f).encode().hex()}
    except Exception as e:  # the test shows what smpp34 refused
        ans = {"error": repr(e)}
    print(json.dumps(ans), flush=True)
