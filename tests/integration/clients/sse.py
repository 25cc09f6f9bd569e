#!/usr/bin/env python3
"""Checks that server-sent events arrive one by one through a proxy.

usage: sse.py PROXY URL [--ca CA] [--via connect|absolute] [--n 5]

Requests URL (the origin's /sse: N events 200 ms apart, each carrying its
send time "t") through PROXY and records when each event arrives.  Passes
(exit 0) when all N events arrive in order, each within 150 ms of being
sent, and the first one arrived at least 400 ms before the last one was
sent -- i.e. the proxy streams instead of buffering the response.
"""
import argparse
import json
import sys
import urllib.parse

import proxylib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("proxy")
    ap.add_argument("url")
    ap.add_argument("--ca")
    ap.add_argument("--via", default="absolute")
    ap.add_argument("--n", type=int, default=5)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    port = u.port or (443 if u.scheme == "https" else 80)
    conn, absolute = proxylib.connect_url(a.proxy, u.scheme, u.hostname, port,
                                          a.ca, a.via)
    target = a.url if absolute else (u.path + ("?" + u.query if u.query else ""))
    conn.send(("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n"
               "\r\n" % (target, u.netloc)).encode())
    r = proxylib.read_head(conn)
    if r.status != 200:
        print("sse: status %s" % r.status_line())
        return 1
    events, pending = [], b""
    for piece in proxylib.body_chunks(conn, r):
        t = proxylib.now()
        pending += piece
        while b"\n\n" in pending:
            ev, pending = pending.split(b"\n\n", 1)
            for line in ev.decode().split("\n"):
                if line.startswith("data: "):
                    d = json.loads(line[6:])
                    events.append((d["i"], d["t"], t))
    ok = True
    if [e[0] for e in events] != list(range(a.n)):
        print("sse: events %r, want 0..%d" % ([e[0] for e in events], a.n - 1))
        return 1
    for i, sent, got in events:
        lag = got - sent
        print("sse: event %d arrived %.0f ms after it was sent" %
              (i, lag * 1000))
        if lag > 0.250:
            ok = False
    lead = events[-1][1] - events[0][2]
    print("sse: first event arrived %.0f ms before the last was sent" %
          (lead * 1000))
    if lead < 0.400:
        ok = False
    print("sse: %s" % ("streamed" if ok else "BUFFERED or late"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
