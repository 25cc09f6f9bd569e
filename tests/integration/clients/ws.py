#!/usr/bin/env python3
"""A minimal RFC 6455 client that talks to the origin's /ws echo through a
proxy.

usage: ws.py PROXY URL [--via connect|absolute] [--ca CA]

URL is ws://HOST[:PORT]/ws or wss://...  --via absolute (ws:// only) sends
the Upgrade request in absolute-form on a plain connection to the proxy;
--via connect (the default, and always for wss://) opens a CONNECT tunnel
first, as browsers and most libraries do.  Checks the 101 and
Sec-WebSocket-Accept, then sends masked text frames of 5, 200 and 70000
bytes (7-, 16- and 64-bit lengths), a binary frame and a ping, expects
each echoed back, and closes.  Exit 0 and "ws: ok" on success.
"""
import argparse
import base64
import hashlib
import os
import sys
import urllib.parse

import proxylib

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(op, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | op, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | op, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | op, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


def read_frame(conn):
    h = conn.read_exact(2)
    op, masked, n = h[0] & 15, h[1] >> 7, h[1] & 127
    if n == 126:
        n = int.from_bytes(conn.read_exact(2), "big")
    elif n == 127:
        n = int.from_bytes(conn.read_exact(8), "big")
    if masked:
        raise proxylib.ProtocolError("server frame is masked")
    return op, conn.read_exact(n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("proxy")
    ap.add_argument("url")
    ap.add_argument("--via", default="connect")
    ap.add_argument("--ca")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    tls = u.scheme == "wss"
    port = u.port or (443 if tls else 80)
    conn, absolute = proxylib.connect_url(a.proxy, u.scheme, u.hostname, port,
                                          a.ca, a.via)
    target = u.path or "/"
    if absolute:
        target = "http://%s%s" % (u.netloc, target)
    key = base64.b64encode(os.urandom(16)).decode()
    conn.send(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" %
               (target, u.netloc, key)).encode())
    r = proxylib.read_head(conn)
    if r.status != 101:
        body = b"".join(proxylib.body_chunks(conn, r))
        print("ws: handshake got %s: %s" % (r.status_line(), body[:200]))
        return 1
    want = base64.b64encode(hashlib.sha1((key + GUID).encode())
                            .digest()).decode()
    if r.header("sec-websocket-accept") != want:
        print("ws: bad Sec-WebSocket-Accept %r" % r.header("sec-websocket-accept"))
        return 1
    tests = [(1, b"hello"), (1, ("x" * 200).encode()),
             (1, bytes(range(32, 127)) * 737), (2, bytes(range(256))),
             (9, b"ping!")]
    for op, payload in tests:
        conn.send(frame(op, payload))
        rop, data = read_frame(conn)
        want_op = 10 if op == 9 else op
        if rop != want_op or data != payload:
            print("ws: sent op %d (%d bytes), got op %d (%d bytes)" %
                  (op, len(payload), rop, len(data)))
            return 1
        print("ws: echo op %d, %d bytes" % (op, len(payload)))
    conn.send(frame(8, (1000).to_bytes(2, "big")))
    rop, data = read_frame(conn)
    if rop != 8:
        print("ws: no close frame (op %d)" % rop)
        return 1
    print("ws: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
