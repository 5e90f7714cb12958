#!/usr/bin/python3
"""Generate PDU test vectors with libGammu (Debian's python3-gammu) as an independent oracle.

    apt-get install python3-gammu
    /usr/bin/python3 scripts/gen-gammu-vectors.py > tests/data/gammu-vectors.jsonl

Each line is one JSON object; tests/pdu_oracle.rs reads them:

  {"kind": "submit", ...}   a text (or 8-bit data) Gammu split with EncodeSMS and encoded
                            with EncodePDU: our split + encode must give the same PDUs,
                            byte for byte, and our decode must read them back.
  {"kind": "deliver", ...}  an SMS-DELIVER Gammu encoded; the fields Gammu's DecodePDU
                            reads from it, which our decode must read too.
  {"kind": "status_report", ...}  a status report built here, with the fields DecodePDU
                            reads from it.

The seed is fixed, so the output is reproducible with the same libGammu.
"""

import datetime
import json
import random
import sys

import gammu

rng = random.Random(20261123)

ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?:;'\"-+*/=<>()#%&@$\n\r"
GSM_SPECIAL = "£¥èéùìòØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà¤"
GSM_EXT = "€[]{}|~^\\"
# Outside GSM 03.38: Polish, Cyrillic, Greek lower case, CJK, and astral emoji.
UNICODE = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻжизньПриветαβγ中文字漢😀🎉👍🏽𝄞"

# Gammu's relative validity names and their length in minutes.
VALIDITY = {"5M": 5, "1H": 60, "6H": 360, "12H": 720, "1D": 1440, "3D": 4320,
            "1W": 10080, "4W": 40320, "Max": 63 * 10080}


def rand_text(unicode_mix):
    n = rng.choice([1, 5, 20, 70, 140, 152, 153, 154, 160, 161, 200, 306, 307, 320, 480, 700])
    n = max(1, n + rng.randint(-3, 3))
    pools = [ASCII] * 6 + [GSM_SPECIAL, GSM_EXT]
    if unicode_mix:
        pools += [UNICODE] * 2
    return "".join(rng.choice(rng.choice(pools)) for _ in range(n))


def rand_number():
    kind = rng.random()
    if kind < 0.6:
        return "+" + str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 13)))
    if kind < 0.9:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 12)))
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 5)))  # short code


def rand_sender():
    if rng.random() < 0.3:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ")
                       for _ in range(rng.randint(1, 11))).strip() or "X"
    return rand_number()


def rand_smsc():
    return "+" + str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 12)))


# no_tilde_in_ucs2: libGammu 1.42 writes "~" in UCS-2 text as U+0001 (and reads U+0001 back
# as "~"): its internal string format uses "~" as an escape. That is Gammu's bug, not the
# codec's, so UCS-2 vectors leave "~" out; GSM 7-bit vectors keep it.


def gsm_only(text):
    return all(c in ASCII + GSM_SPECIAL + GSM_EXT for c in text)


def strip_nul(text):
    # python-gammu pads decoded text with NULs (and garbage after them) to the septet length.
    return text.split("\x00", 1)[0] if isinstance(text, str) else text


def fix_reference(parts, sixteen):
    """EncodeSMS draws its own concatenation reference; put one from our seeded generator in
    every part so that the output is reproducible."""
    if len(parts) < 2:
        return parts
    ref = rng.randrange(65536 if sixteen else 256)
    fixed = []
    for p in parts:
        p = dict(p)
        udh = dict(p["UDH"])
        total, seq = udh["AllParts"], udh["PartNumber"]
        if sixteen:
            udh.update({"Text": bytes([6, 8, 4, ref >> 8, ref & 0xFF, total, seq]), "ID16bit": ref})
        else:
            udh.update({"Text": bytes([5, 0, 3, ref, total, seq]), "ID8bit": ref})
        p["UDH"] = udh
        fixed.append(p)
    return fixed


def submit_vector():
    binary = rng.random() < 0.1
    sixteen = rng.random() < 0.2
    cls = rng.choice([-1, -1, -1, 0, 1, 2, 3])
    if binary:
        # libGammu has no multipart 8-bit data entry: split here (134 octets a part after the
        # 8-bit reference header), and let Gammu encode each part.
        data = bytes(rng.randrange(256) for _ in range(rng.choice([1, 10, 140, 141, 300])))
        sixteen = False
        template = gammu.EncodeSMS({"Class": cls, "Entries": [{"ID": "Text", "Buffer": "x"}]})[0]
        chunks = [data] if len(data) <= 140 else [data[i:i + 134] for i in range(0, len(data), 134)]
        ref = rng.randrange(256)
        parts = []
        for seq, chunk in enumerate(chunks, 1):
            p = dict(template)
            p.update({"Coding": "8bit", "Text": chunk, "Class": cls})
            if len(chunks) > 1:
                p["UDH"] = {"Type": "ConcatenatedMessages", "Text": bytes([5, 0, 3, ref, len(chunks), seq]),
                            "ID8bit": ref, "ID16bit": -1, "PartNumber": seq, "AllParts": len(chunks)}
            parts.append(p)
        text = None
    else:
        text = rand_text(rng.random() < 0.4)
        unicode = rng.random() < 0.1 or not gsm_only(text)
        if unicode:
            text = text.replace("~", "-")  # see no_tilde_in_ucs2
        entry = {"ID": "ConcatenatedTextLong16bit" if sixteen else "ConcatenatedTextLong", "Buffer": text}
        parts = fix_reference(gammu.EncodeSMS({"Class": cls, "Unicode": unicode, "Entries": [entry]}), sixteen)
    number = rand_number()
    smsc = rand_smsc()
    validity = rng.choice(list(VALIDITY))
    report = rng.random() < 0.3
    reject = rng.random() < 0.1
    reply = rng.random() < 0.1
    pdus, texts = [], []
    reference = None
    for p in parts:
        p = dict(p)
        p.update({"Number": number, "SMSC": {"Location": 0, "Number": smsc, "Validity": validity},
                  "Type": "Status_Report" if report else "Submit",
                  "RejectDuplicates": int(reject), "ReplyViaSameSMSC": int(reply)})
        if p["UDH"]["Type"] != "NoUDH":
            reference = p["UDH"]["ID16bit"] if sixteen else p["UDH"]["ID8bit"]
        pdus.append(gammu.EncodePDU(p, "Submit").hex().upper())
        texts.append(p["Text"].hex() if binary else p["Text"])
    v = {"kind": "submit", "number": number, "smsc": smsc, "class": cls,
         "validity_minutes": VALIDITY[validity], "report": report, "reject_duplicates": reject,
         "reply_path": reply, "sixteen_bit": sixteen, "reference": reference or 0,
         "coding": parts[0]["Coding"], "parts": texts, "pdus": pdus}
    if binary:
        v["data"] = data.hex()
    else:
        v["text"] = text
        v["unicode"] = unicode
    return v


def deliver_vector():
    text = rand_text(rng.random() < 0.4)
    unicode = not gsm_only(text)
    if unicode:
        text = text.replace("~", "-")  # see no_tilde_in_ucs2
    cls = rng.choice([-1, -1, 0, 1, 2, 3])
    parts = fix_reference(gammu.EncodeSMS({"Class": cls, "Unicode": unicode,
                                           "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}]}), False)
    p = dict(rng.choice(parts))
    when = datetime.datetime(rng.randint(2000, 2069), rng.randint(1, 12), rng.randint(1, 28),
                             rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    p.update({"Number": rand_sender(), "Type": "Deliver", "DateTime": when,
              "SMSC": {"Location": 0, "Number": rand_smsc(), "Validity": "NA"}})
    pdu = gammu.EncodePDU(p, "Deliver")
    d = gammu.DecodePDU(pdu, True)
    return {"kind": "deliver", "pdu": pdu.hex().upper(), "number": d["Number"],
            "smsc": d["SMSC"]["Number"], "text": strip_nul(d["Text"]), "coding": d["Coding"],
            "class": d["Class"], "udh": d["UDH"]["Text"].hex().upper(),
            "part": d["UDH"]["PartNumber"], "all_parts": d["UDH"]["AllParts"],
            "datetime": d["DateTime"].strftime("%Y-%m-%d %H:%M:%S")}


def semi_octets(digits):
    if len(digits) % 2:
        digits += "F"
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def scts(t, tzq):
    s = "".join("%02d" % v for v in (t.year % 100, t.month, t.day, t.hour, t.minute, t.second))
    tz = "%02d" % abs(tzq)
    b = semi_octets(s) + tz[1] + tz[0]
    if tzq < 0:
        b = b[:-1] + "%X" % (int(b[-1], 16) | 8)
    return b


def status_report_vector():
    number = rand_number()
    intl = number.startswith("+")
    digits = number.lstrip("+")
    ra = "%02X" % len(digits) + ("91" if intl else "81") + semi_octets(digits)
    t1 = datetime.datetime(rng.randint(2000, 2069), rng.randint(1, 12), rng.randint(1, 28),
                           rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    t2 = t1 + datetime.timedelta(seconds=rng.randint(0, 86400))
    mr = rng.randrange(256)
    st = rng.choice([0x00, 0x01, 0x02, 0x20, 0x21, 0x30, 0x40, 0x41, 0x45, 0x60, 0x62, 0x80])
    smsc = rand_smsc().lstrip("+")
    smsc_part = "%02X91" % (1 + (len(smsc) + 1) // 2) + semi_octets(smsc)
    tail = rng.choice(["", "00"])
    tzq = rng.choice([0, 4, 8, -20, 36])
    pdu = smsc_part + "06" + "%02X" % mr + ra + scts(t1, tzq) + scts(t2, tzq) + "%02X" % st + tail
    d = gammu.DecodePDU(bytes.fromhex(pdu), True)
    return {"kind": "status_report", "pdu": pdu.upper(), "number": d["Number"],
            "reference": d["MessageReference"], "status": d["DeliveryStatus"],
            "scts": d["DateTime"].strftime("%Y-%m-%d %H:%M:%S"),
            "discharge": d["SMSCDateTime"].strftime("%Y-%m-%d %H:%M:%S"),
            "smsc": d["SMSC"]["Number"]}


def main():
    out = sys.stdout
    for make, count in ((submit_vector, 200), (deliver_vector, 150), (status_report_vector, 60)):
        for _ in range(count):
            out.write(json.dumps(make(), ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
