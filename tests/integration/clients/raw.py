#!/usr/bin/env python3
"""Sends hand-written bytes to a proxy and prints what comes back, so cases
can test parser rejections, smuggling attempts and keep-alive behaviour.

usage: raw.py PROXY [--connect HOST:PORT] [--tls SNI --ca CA] STEP...

PROXY is ADDR:PORT.  --connect first opens a CONNECT tunnel (printed as
step 0); --tls then starts TLS inside it with SNI, trusting CA.  Each STEP
is sent as one write and one response is read and printed.  In a STEP:
  \\r \\n \\t \\0 \\\\ \\xHH   the usual escapes
  {pad:N}                 N bytes of 'a' (oversized heads)
  HEAD||BODY              sends HEAD, reads one interim (1xx) response, then
                          sends BODY and reads the final response
  {responses:N}           (at the start) read N responses after this step
                          instead of one (pipelining)
Output, per response I (numbered from 1 over the whole run):
  I: HTTP/1.1 403 Forbidden
  I: header NAME: VALUE        (every header, name lowercased)
  I: body: TEXT                (the body, escaped, first 4000 bytes)
  I: echo: method=M path=P query=Q body=B   (when the origin's /echo answered)
  I: interim: HTTP/1.1 100 Continue
and finally "connection: closed" (the peer closed within 1.5 s), "open"
or "data" (unexpected bytes).  A step that gets no response prints
"I: no response (EOF)" and ends the run.  Exit status 0 unless the
arguments are wrong or the proxy is unreachable.
"""
import json
import re
import socket
import sys

import proxylib


def unescape(s):
    s = re.sub(r"\{pad:(\d+)\}", lambda m: "a" * int(m.group(1)), s)
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and i + 3 < len(s):
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0",
                    "\\": b"\\"}.get(n, ("\\" + n).encode())
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def show(i, r):
    print("%d: %s" % (i, r.status_line()))
    for k, v in r.headers:
        print("%d: header %s: %s" % (i, k, v))
    text = r.body[:4000].decode("utf-8", "replace")
    print("%d: body: %s" % (i, text.replace("\r", "\\r").replace("\n", "\\n")))
    try:
        d = json.loads(r.body)
    except ValueError:
        return
    if isinstance(d, dict) and "method" in d and "path" in d:
        print("%d: echo: method=%s path=%s query=%s body=%s" %
              (i, d["method"], d["path"], d["query"], d.get("body", "")))


def main(argv):
    args = argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    proxy = args.pop(0)
    connect = sni = ca = None
    steps = []
    while args:
        a = args.pop(0)
        if a == "--connect":
            connect = args.pop(0)
        elif a == "--tls":
            sni = args.pop(0)
        elif a == "--ca":
            ca = args.pop(0)
        else:
            steps.append(a)
    try:
        if connect:
            host, port = proxylib.split_hostport(connect)
            conn, r = proxylib.open_tunnel(proxy, host, port)
            r.body = b"".join(proxylib.body_chunks(conn, r, "CONNECT"))
            show(0, r)
            if not 200 <= r.status < 300:
                print("connection: %s" % conn.at_eof())
                return 0
            if sni:
                conn = proxylib.start_tls(conn, sni, ca)
        else:
            ph, pp = proxylib.split_hostport(proxy)
            conn = proxylib.Conn(socket.create_connection((ph, pp), 10))
    except (OSError, proxylib.ProtocolError) as e:
        print("raw.py: %s" % e, file=sys.stderr)
        return 2

    i = 0
    for step in steps:
        count = 1
        m = re.match(r"\{responses:(\d+)\}", step)
        if m:
            count = int(m.group(1))
            step = step[m.end():]
        data = unescape(step)
        methods = re.findall(rb"(?:^|\r\n\r\n)([A-Z]+) ", data) or [b"GET"]
        for k in range(count):
            i += 1
            method = methods[min(k, len(methods) - 1)].decode()
            try:
                if k == 0 and b"||" in data:
                    head, body = data.split(b"||", 1)
                    conn.send(head)
                    r = proxylib.read_head(conn)
                    print("%d: interim: %s" % (i, r.status_line()))
                    conn.send(body)
                elif k == 0:
                    conn.send(data)
                r = proxylib.read_response(
                    conn, method,
                    interim=lambda x: print("%d: interim: %s" %
                                            (i, x.status_line())))
            except (OSError, proxylib.ProtocolError) as e:
                print("%d: no response (%s)" % (i, e))
                print("connection: closed")
                return 0
            show(i, r)
            sys.stdout.flush()
    print("connection: %s" % conn.at_eof())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
