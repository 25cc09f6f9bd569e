#!/usr/bin/env python3
"""Catchers for the jail tests: listeners on the "foreign" addresses that
no jailed program may ever reach.  Every hit is appended to --log as one
line, and answered with the marker CAUGHT so the sender can tell it got
through.

usage: catcher.py --log FILE [--addr ADDR]... [--tcp PORT]... [--udp PORT]...
                  [--abstract NAME]
  every --tcp/--udp port is bound on every --addr; --abstract listens on
  the abstract Unix socket "\\0NAME".
Prints "ready" on stdout once every listener is bound, then serves until
SIGTERM.  Log lines: "<unix time> <tcp|udp|unix> <local> from <peer> <data>"
where <data> is the repr() of the first bytes received (TCP: up to the end
of an HTTP head, 4 KiB or 0.5 s).
"""
import argparse
import signal
import socket
import sys
import threading
import time

MARK = b"CAUGHT"
LOCK = threading.Lock()
LOG = None


def log(kind, local, peer, data):
    line = "%.3f %s %s from %s %r\n" % (time.time(), kind, local, peer, data)
    with LOCK:
        with open(LOG, "a") as f:
            f.write(line)


def fmt(addr):
    if isinstance(addr, tuple):
        host = addr[0]
        return ("[%s]:%d" if ":" in host else "%s:%d") % (host, addr[1])
    if isinstance(addr, bytes):
        return "@" + addr.lstrip(b"\0").decode(errors="replace")
    return str(addr) or "?"


def serve_stream(lsock, kind, local):
    while True:
        try:
            c, peer = lsock.accept()
        except OSError:
            return
        threading.Thread(target=stream_conn, args=(c, kind, local, peer),
                         daemon=True).start()


def stream_conn(c, kind, local, peer):
    data = b""
    c.settimeout(0.5)
    try:
        while len(data) < 4096 and b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    log(kind, local, fmt(peer), data[:512])
    try:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
                  b"Connection: close\r\n\r\n" + MARK)
    except OSError:
        pass
    c.close()


def serve_dgram(s, local):
    while True:
        try:
            data, peer = s.recvfrom(65536)
        except OSError:
            return
        log("udp", local, fmt(peer), data[:512])
        try:
            s.sendto(MARK + b" " + data[:2], peer)
        except OSError:
            pass


def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--addr", action="append", default=[])
    ap.add_argument("--tcp", action="append", type=int, default=[])
    ap.add_argument("--udp", action="append", type=int, default=[])
    ap.add_argument("--abstract")
    a = ap.parse_args()
    LOG = a.log
    threads = []
    for addr in a.addr:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        for port in a.tcp:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
            s.listen(64)
            local = fmt((addr, port))
            threads.append(threading.Thread(
                target=serve_stream, args=(s, "tcp", local), daemon=True))
        for port in a.udp:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind((addr, port))
            threads.append(threading.Thread(
                target=serve_dgram, args=(s, fmt((addr, port))), daemon=True))
    if a.abstract:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(b"\0" + a.abstract.encode())
        s.listen(16)
        threads.append(threading.Thread(
            target=serve_stream, args=(s, "unix", "@" + a.abstract),
            daemon=True))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for t in threads:
        t.start()
    print("ready", flush=True)
    while not stop.wait(1):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
