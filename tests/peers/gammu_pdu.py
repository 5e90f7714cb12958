#!/usr/bin/python3
"""Received PDUs made by libGammu (Debian's python3-gammu), not by smsgw's encoder: the
messages a modem would hand smsgw, for tests/user_paths.rs.

    gammu_pdu.py messages         one JSON object: name -> list of PDU hex (SMSC part first)
    gammu_pdu.py report MR NUMBER [TP-ST]
                                  one status report for the message with that TP-MR, sent to
                                  NUMBER, dated now (checked by libGammu's DecodePDU)
"""

import datetime
import json
import sys

import gammu

SMSC = {"Location": 0, "Number": "+48602951111", "Validity": "NA"}
SENDER = "+48600111222"


def delivers(text, unicode=False, klass=-1, sender=SENDER):
    """The SMS-DELIVER PDUs of `text` as libGammu splits and encodes it."""
    smsinfo = {
        "Class": klass,
        "Unicode": unicode,
        "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}],
    }
    now = datetime.datetime.now().replace(microsecond=0)
    out = []
    for p in gammu.EncodeSMS(smsinfo):
        p.update({"Number": sender, "Type": "Deliver", "DateTime": now, "SMSC": SMSC})
        pdu = gammu.EncodePDU(p, "Deliver")
        gammu.DecodePDU(pdu, True)
        out.append(pdu.hex().upper())
    return out


def semi_octets(digits):
    if len(digits) % 2:
        digits += "F"
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def scts(t):
    """A TP-SCTS of local time `t` with its zone."""
    off = t.utcoffset() or datetime.timedelta(0)
    q = int(off.total_seconds() // 900)
    s = "".join("%02d" % v for v in (t.year % 100, t.month, t.day, t.hour, t.minute, t.second))
    tz = "%02d" % abs(q)
    b = semi_octets(s) + tz[1] + tz[0]
    if q < 0:
        b = b[:-1] + "%X" % (int(b[-1], 16) | 8)
    return b


def report(mr, number, status=0):
    digits = number.lstrip("+")
    ra = "%02X" % len(digits) + ("91" if number.startswith("+") else "81") + semi_octets(digits)
    now = datetime.datetime.now().astimezone().replace(microsecond=0)
    smsc = SMSC["Number"].lstrip("+")
    smsc_part = "%02X91" % (1 + (len(smsc) + 1) // 2) + semi_octets(smsc)
    pdu = smsc_part + "06" + "%02X" % mr + ra + scts(now) + scts(now) + "%02X" % status
    d = gammu.DecodePDU(bytes.fromhex(pdu), True)
    assert d["MessageReference"] == mr and d["Number"] == number, d
    return pdu.upper()


def main():
    if sys.argv[1:2] == ["messages"]:
        three = "Zażółć gęślą jaźń, część trzecia. " * 5
        print(json.dumps({
            "single_gsm": delivers("Hello from a phone @ 10:00"),
            "single_ucs2": delivers("Cześć, jak się masz? 😀", unicode=True),
            "two_part": delivers("A message long enough for two parts. " * 6),
            "three_part_ucs2": delivers(three, unicode=True),
            "class0": delivers("Flash!", klass=0),
            "texts": {
                "single_gsm": "Hello from a phone @ 10:00",
                "single_ucs2": "Cześć, jak się masz? 😀",
                "two_part": "A message long enough for two parts. " * 6,
                "three_part_ucs2": three,
                "class0": "Flash!",
            },
        }, ensure_ascii=False))
    elif sys.argv[1:2] == ["report"]:
        status = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        print(report(int(sys.argv[2]), sys.argv[3], status))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
