"""A vumi application on RabbitMQ, played by pika (RabbitMQ's own Python client), for
tests/amqp.rs: it declares what a vumi2 application declares (the direct durable exchange
`vumi`, the durable queues `<name>.outbound`, `<name>.inbound`, `<name>.event`, each bound
by its own name), publishes user messages and reads what the transport publishes.

Commands, one JSON object a line on stdin, each answered with one JSON line:
  {"publish": [BODY, ...]}            each BODY (a JSON value, or a string sent as is) to
                                      <name>.outbound, persistent; -> {"published": n}
  {"take": {"queue": Q, "count": n, "timeout": s}}
                                      the next n messages of <name>.Q, acked;
                                      -> {"messages": [...]} (JSON, or {"raw": text})
  {"depth": Q}                        -> {"depth": n}
  {"drop": Q}                         deletes <name>.Q (as a careless operator would); -> {"dropped": Q}
  {"delete": true}                    deletes the test's queues; -> {"deleted": true}

Usage: vumi_app.py --url URL --name NAME [--dead-letter]
  --dead-letter  declares <name>.outbound with a dead-letter route to <name>.dead first,
                 as an application that keeps rejected messages does.
"""

import argparse
import json
import sys
import time

import pika


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--dead-letter", action="store_true")
    args = ap.parse_args()
    name = args.name
    params = pika.URLParameters(args.url)
    # It waits on its standard input between commands without serving the connection:
    # no heartbeats, or the broker would close it during a long wait.
    params.heartbeat = 0
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare("vumi", exchange_type="direct", durable=True)
    queues = ["outbound", "inbound", "event"]
    if args.dead_letter:
        queues.append("dead")
    for flow in queues:
        q = f"{name}.{flow}"
        arguments = None
        if flow == "outbound" and args.dead_letter:
            arguments = {
                "x-dead-letter-exchange": "vumi",
                "x-dead-letter-routing-key": f"{name}.dead",
            }
        ch.queue_declare(q, durable=True, arguments=arguments)
        ch.queue_bind(q, "vumi", routing_key=q)
    # tests/gateway/peer.rs waits for a PORT line: there is none to tell.
    print("PORT 0", flush=True)

    for line in sys.stdin:
        cmd = json.loads(line)
        if "publish" in cmd:
            n = 0
            for body in cmd["publish"]:
                raw = body if isinstance(body, str) else json.dumps(body)
                ch.basic_publish(
                    "vumi",
                    f"{name}.outbound",
                    raw.encode(),
                    pika.BasicProperties(delivery_mode=2, content_type="application/json"),
                )
                n += 1
            print(json.dumps({"published": n}), flush=True)
        elif "take" in cmd:
            t = cmd["take"]
            q = f"{name}.{t['queue']}"
            deadline = time.monotonic() + t.get("timeout", 30)
            got = []
            while len(got) < t["count"] and time.monotonic() < deadline:
                try:
                    method, _props, body = ch.basic_get(q, auto_ack=False)
                except pika.exceptions.ChannelClosedByBroker:
                    # The queue is gone (dropped, not declared again yet).
                    ch = conn.channel()
                    ch.confirm_delivery()
                    conn.process_data_events(time_limit=0.05)
                    continue
                if method is None:
                    conn.process_data_events(time_limit=0.02)
                    continue
                ch.basic_ack(method.delivery_tag)
                try:
                    got.append(json.loads(body))
                except ValueError:
                    got.append({"raw": body.decode("utf-8", "replace")})
            print(json.dumps({"messages": got}), flush=True)
        elif "depth" in cmd:
            q = ch.queue_declare(f"{name}.{cmd['depth']}", passive=True)
            print(json.dumps({"depth": q.method.message_count}), flush=True)
        elif "drop" in cmd:
            ch.queue_delete(f"{name}.{cmd['drop']}")
            print(json.dumps({"dropped": cmd["drop"]}), flush=True)
        elif "delete" in cmd:
            for flow in queues:
                ch.queue_delete(f"{name}.{flow}")
            print(json.dumps({"deleted": True}), flush=True)
    conn.close()


if __name__ == "__main__":
    main()
