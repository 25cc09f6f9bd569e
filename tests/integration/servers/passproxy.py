#!/usr/bin/env python3
"""A deliberately dumb forwarding proxy used only by `run.sh --self-test`, so
that the case files' clients, servers and certificates can be checked
before bin/boundary exists.  It decides nothing, audits nothing and does not
intercept TLS: CONNECT becomes a byte tunnel to the mapped address, and a
connection whose first request is absolute-form (or origin-form with Host)
is relayed verbatim to the mapped address of that request's authority (the origin accepts
absolute-form targets).  Never use it to judge proxy behaviour.

usage: passproxy.py --port N --connect-to HOST:PORT:ADDR:PORT2 ...
Prints "ready" when listening on 127.0.0.1:N; exits on SIGTERM.
"""
import argparse
import signal
import socket
import sys
import threading
import urllib.parse

MAP = {}


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def refuse(c, code, why):
    body = ("passproxy: %s\n" % why).encode()
    c.sendall(b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close"
              b"\r\n\r\n%s" % (code, b"Refused", len(body), body))
    c.close()


def serve(c):
    c.settimeout(30)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            data = c.recv(65536)
            if not data:
                c.close()
                return
            buf += data
            if len(buf) > 1 << 20:
                return refuse(c, 431, "head too large")
        line = buf.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3:
            return refuse(c, 400, "bad request line")
        method, target = parts[0], parts[1]
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            rest = buf.split(b"\r\n\r\n", 1)[1]
        elif target.startswith("/"):
            hosts = [ln.split(b":", 1)[1].strip().decode("latin-1")
                     for ln in buf.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
                     if ln.lower().startswith(b"host:")]
            if len(hosts) != 1:
                return refuse(c, 400, "origin-form without one Host")
            host, _, port = hosts[0].partition(":")
            port = port or "80"
            rest = buf
        else:
            u = urllib.parse.urlsplit(target)
            if u.scheme != "http" or not u.hostname:
                return refuse(c, 400, "not absolute-form")
            host, port = u.hostname, str(u.port or 80)
            rest = buf
        dest = MAP.get((host.lower(), port))
        if dest is None:
            return refuse(c, 502, "%s:%s not in --connect-to" % (host, port))
        try:
            u_sock = socket.create_connection(dest, timeout=10)
        except OSError as e:
            return refuse(c, 502, "connect %s: %s" % (dest, e))
        u_sock.settimeout(None)
        c.settimeout(None)
        if method == "CONNECT":
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            u_sock.sendall(rest)
        t = threading.Thread(target=pump, args=(u_sock, c), daemon=True)
        t.start()
        pump(c, u_sock)
        t.join()
        u_sock.close()
        c.close()
    except OSError:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connect-to", action="append", default=[])
    a = ap.parse_args()
    for m in a.connect_to:
        h, p, addr, p2 = m.split(":")
        MAP[(h.lower(), p)] = (addr, int(p2))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
