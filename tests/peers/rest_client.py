#!/usr/bin/python3
"""A client of smsgw's JSON API written with Python's http.client, nobody's SDK: it walks
the API as an application would and checks every answer against the OpenAPI document the
server publishes (status codes documented for the route, required fields of the schema, their
JSON types), then that every documented route was exercised. For tests/http_api.rs.

    rest_client.py BASE_URL USER PASSWORD TOKEN HELD_USER HELD_PASSWORD

The server has a phone `gsm1` (a simulated modem), a debug transport `dbg`, max_parts 3, and
HELD_USER may use only gsm1. Prints one JSON line: {"checked": n, "sent_id": id}.
"""

import base64
import datetime
import http.client
import json
import re
import sys
import time
import urllib.parse

BASE, USER, PASSWORD, TOKEN, HELD, HELD_PW = sys.argv[1:7]
url = urllib.parse.urlsplit(BASE)
SPEC = None
SEEN = set()
CHECKED = 0


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


ME = basic(USER, PASSWORD)


def route_of(path):
    """The documented path template a concrete path matches."""
    for template in SPEC["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"{path} is not in the OpenAPI document")


def resolve(schema):
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


TYPES = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool, "number": (int, float)}


def conforms(value, schema, where):
    schema = resolve(schema)
    if value is None:
        assert schema.get("nullable"), f"{where}: null where the document says {schema}"
        return
    if "oneOf" in schema:
        errors = []
        for s in schema["oneOf"]:
            try:
                conforms(value, s, where)
                return
            except AssertionError as e:
                errors.append(str(e))
        raise AssertionError(f"{where}: matches none of oneOf: {errors}")
    t = schema.get("type")
    if t:
        assert isinstance(value, TYPES[t]) and not (t == "integer" and isinstance(value, bool)), \
            f"{where}: {value!r} is not {t}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if t == "object":
        for r in schema.get("required", []):
            assert r in value, f"{where}: required field {r!r} missing in {value}"
        for k, s in schema.get("properties", {}).items():
            if k in value:
                conforms(value[k], s, f"{where}.{k}")
    if t == "array":
        for i, item in enumerate(value):
            conforms(item, schema.get("items", {}), f"{where}[{i}]")


def call(method, path, body=None, headers=None, raw=None):
    """One request on a new connection; checked against the document. (status, headers, body)"""
    global CHECKED
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    h = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    if SPEC is not None:
        template = route_of(urllib.parse.urlsplit(path).path)
        op = SPEC["paths"][template].get(method.lower())
        assert op, f"{method} {template} is not documented"
        SEEN.add((template, method.lower()))
        documented = op["responses"]
        assert str(r.status) in documented, \
            f"{method} {path}: {r.status} is not documented ({sorted(documented)}): {payload[:200]!r}"
        content = documented[str(r.status)].get("content", {})
        ctype = r.getheader("Content-Type", "")
        if "application/json" in content:
            assert ctype.startswith("application/json"), f"{method} {path}: Content-Type {ctype}"
            conforms(json.loads(payload), content["application/json"]["schema"], f"{method} {path}")
        CHECKED += 1
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode(errors="replace")
    return r.status, r, parsed


def expect(status, got, what):
    assert got[0] == status, f"{what}: {got[0]} (wanted {status}): {got[2]}"
    return got[2]


status, _, spec = call("GET", "/api/v1/openapi.json")
assert status == 200
SPEC = spec
call("GET", "/api/v1/openapi.json")

assert expect(200, call("GET", "/health"), "health")["status"] == "ok"

# Who may ask.
s, r, b = call("POST", "/api/v1/messages", {"to": "+48123456789", "text": "x"})
assert s == 401 and "Basic" in r.getheader("WWW-Authenticate"), (s, b)
expect(401, call("POST", "/api/v1/messages", {"to": "+48123456789", "text": "x"}, basic(USER, "wrong")), "wrong password")
expect(401, call("POST", "/api/v1/messages", {"to": "+48123456789", "text": "x"}, {"Authorization": "Bearer nope"}), "wrong token")

# Queued, and answered only after the commit: it is there to be read at once.
queued = expect(202, call("POST", "/api/v1/messages", {"to": "+48123456789", "text": "REST hello", "report": True, "route": "gsm1"}, ME), "queue")
sent_id = queued["id"]
assert queued["status"] == "queued" and queued["ids"] == [sent_id]
assert expect(200, call("GET", f"/api/v1/messages/{sent_id}", headers=ME), "read back")["to"] == "+48123456789"

# The same Idempotency-Key queues once and answers with the same ids.
key = {**ME, "Idempotency-Key": "order-4711"}
body = {"to": ["+48123456780", "+48123456781"], "text": "once", "route": "dbg"}
first = expect(202, call("POST", "/api/v1/messages", body, key), "idempotent 1")
s, r, again = call("POST", "/api/v1/messages", body, key)
assert s == 202 and again["ids"] == first["ids"] and len(first["ids"]) == 2, (first, again)
assert r.getheader("Idempotent-Replayed") == "true"

# A token works as well as a password.
expect(202, call("POST", "/api/v1/messages", {"to": "+48123456782", "text": "by token", "route": "dbg"}, {"Authorization": f"Bearer {TOKEN}"}), "token")

# Wrong requests say what is wrong.
def refused(body, needle, raw=None, headers=ME):
    s, _, b = call("POST", "/api/v1/messages", body, headers, raw=raw)
    assert s == 400 and needle in b["error"], (body, raw, s, b)

refused(None, "body:", raw=b"{not json")
refused({"to": "+48123456789", "text": "x", "colour": "red"}, "unknown field")
refused({"to": "+48123456789"}, "missing field `text`")
refused({"to": "+48abc", "text": "x"}, "is not a phone number")
refused({"to": [], "text": "x"}, "no recipient")
refused({"to": "+48123456789", "text": ""}, "empty")
refused({"to": "+48123456789", "text": "x" * 600}, "needs 4 messages, more than the 3 allowed")
refused({"to": "+48123456789", "text": "x", "send_at": "tomorrow"}, "RFC 3339")
refused({"to": "+48123456789", "text": "x", "route": "nowhere"}, "no phone or transport")
s, _, b = call("POST", "/api/v1/messages", {"to": "+48123456789", "text": "x", "route": "dbg"}, basic(HELD, HELD_PW))
assert s == 403 and "not allowed" in b["error"], (s, b)
s, _, b = call("POST", "/api/v1/messages", None, ME, raw=b"{" + b" " * 100000 + b"}")
assert s == 413, (s, b)

# Later: cancel it while it waits.
later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat()
wait = expect(202, call("POST", "/api/v1/messages", {"to": "+48123456783", "text": "later", "send_at": later, "route": "gsm1"}, ME), "deferred")["id"]
assert expect(200, call("GET", f"/api/v1/messages/{wait}", headers=ME), "deferred")["status"] == "queued"
assert expect(200, call("DELETE", f"/api/v1/messages/{wait}", headers=ME), "cancel")["status"] == "cancelled"
v = expect(200, call("GET", f"/api/v1/messages/{wait}", headers=ME), "cancelled")
assert v["status"] == "cancelled" and "cancelled by" in v["error"], v
expect(409, call("DELETE", f"/api/v1/messages/{wait}", headers=ME), "cancel twice")
expect(401, call("DELETE", f"/api/v1/messages/{wait}"), "cancel without credentials")

# Nobody else's messages, and nothing that is not a message.
expect(404, call("GET", f"/api/v1/messages/{sent_id}", headers=basic(HELD, HELD_PW)), "another user's")
expect(404, call("GET", "/api/v1/messages/abc", headers=ME), "not an id")
expect(404, call("DELETE", "/api/v1/messages/999999", headers=ME), "no such")
expect(401, call("GET", f"/api/v1/messages/{sent_id}"), "read without credentials")

# The modem sends it.
deadline = time.time() + 30
while True:
    v = expect(200, call("GET", f"/api/v1/messages/{sent_id}", headers=ME), "poll")
    if v["status"] == "sent":
        break
    assert v["status"] in ("queued", "sending"), v
    assert time.time() < deadline, f"not sent: {v}"
    time.sleep(0.05)
assert v["route"] == "gsm1" and v["sent_at"], v

# Paging through the user's messages.
page = expect(200, call("GET", "/api/v1/messages?limit=2", headers=ME), "page 1")
assert len(page["messages"]) == 2 and page["next"], page
rest = expect(200, call("GET", f"/api/v1/messages?limit=50&cursor={page['next']}", headers=ME), "page 2")
ids = [m["id"] for m in page["messages"] + rest["messages"]]
assert ids == sorted(ids) and len(ids) == 5 and rest["next"] is None, ids
only = expect(200, call("GET", "/api/v1/messages?status=cancelled", headers=ME), "filter")
assert [m["id"] for m in only["messages"]] == [wait], only
expect(400, call("GET", "/api/v1/messages?status=lost", headers=ME), "bad status")
expect(400, call("GET", "/api/v1/messages?limit=many", headers=ME), "bad limit")
expect(401, call("GET", "/api/v1/messages"), "list without credentials")

# The phones, the inbox (the test delivered one SMS to the modem before starting this).
phones = expect(200, call("GET", "/api/v1/phones", headers=ME), "phones")["phones"]
by_id = {p["id"]: p for p in phones}
assert set(by_id) == {"gsm1", "dbg"} and by_id["gsm1"]["state"] == "connected", phones
assert by_id["gsm1"]["imei"] == "490154203237518" and by_id["gsm1"]["received"] == 1, phones
expect(401, call("GET", "/api/v1/phones"), "phones without credentials")
deadline = time.time() + 30
while True:
    inbox = expect(200, call("GET", "/api/v1/inbox?limit=10", headers=ME), "inbox")
    if inbox["messages"]:
        break
    assert time.time() < deadline, "nothing in the inbox"
    time.sleep(0.05)
first = inbox["messages"][0]
assert first["from"] == "+48600111222" and first["phone"] == "gsm1", first
after = expect(200, call("GET", f"/api/v1/inbox?since_id={first['id']}", headers=ME), "inbox after")
assert all(m["id"] > first["id"] for m in after["messages"]), after
expect(400, call("GET", "/api/v1/inbox?since_id=x", headers=ME), "bad since_id")
expect(401, call("GET", "/api/v1/inbox"), "inbox without credentials")

# The status, for people and monitors.
st = expect(200, call("GET", "/status.json", headers=ME), "status.json")
assert "gsm1" in [p["id"] for p in st["phones"]] and st["storage"] == "up", st
expect(401, call("GET", "/status.json"), "status.json without credentials")
s, r, page = call("GET", "/status", headers=ME)
assert s == 200 and r.getheader("Content-Type").startswith("text/html") and "gsm1" in page, s
expect(401, call("GET", "/status"), "status without credentials")
s, _, metrics = call("GET", "/metrics", headers=ME)
assert s == 200 and "smsgw_phone_connected" in metrics, s
expect(401, call("GET", "/metrics"), "metrics without credentials")

# Kannel's sendsms is documented too: one request each way.
q = urllib.parse.urlencode({"username": USER, "password": PASSWORD, "to": "+48123456784", "text": "kannel", "smsc": "dbg"})
assert expect(202, call("GET", f"/cgi-bin/sendsms?{q}"), "sendsms GET") == "0: Accepted for delivery"
expect(403, call("POST", "/cgi-bin/sendsms", None, {"Content-Type": "application/x-www-form-urlencoded"}, raw=b"username=x&password=y&to=1&text=x"), "sendsms POST")

missing = {(p, m) for p, ops in SPEC["paths"].items() for m in ops} - SEEN
assert not missing, f"documented but never exercised: {sorted(missing)}"
print(json.dumps({"checked": CHECKED, "sent_id": sent_id}))
