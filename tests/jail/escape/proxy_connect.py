#!/usr/bin/env python3
"""Escape attempt: ask the proxy itself (127.0.0.1:BT_PROXY_PORT) to reach
foreign IP literals: CONNECT ADDR:80 and an absolute-form GET.

usage: proxy_connect.py ADDR...
Escaped if a catcher answers through the proxy.
"""
import socket
import sys

import common


def connect_tunnel(addr, port):
    authority = common.hostport(addr, 80)

    def fn():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=3)
            s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (
                authority, authority)).encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
        except OSError as e:
            return False, "proxy: " + common.errname(e)
        if not head.startswith(b"HTTP/1.1 200"):
            rest = b"" if common.complete(head) else common.read_response(
                s, timeout=1)
            return common.classify(head + rest)
        s.sendall(common.http_request(authority))
        return common.classify(common.read_response(s))
    return fn


def absolute(addr, port):
    authority = common.hostport(addr, 80)

    def fn():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=3)
            s.sendall(("GET http://%s/exfil HTTP/1.1\r\nHost: %s\r\n"
                       "Connection: close\r\n\r\n" % (authority, authority)
                       ).encode())
        except OSError as e:
            return False, "proxy: " + common.errname(e)
        return common.classify(common.read_response(s))
    return fn


def main(argv):
    port = common.env_int("BT_PROXY_PORT")
    probes = []
    for addr in argv:
        probes += [("CONNECT " + addr, connect_tunnel(addr, port)),
                   ("GET http://" + addr, absolute(addr, port))]
    common.run(probes)


if __name__ == "__main__":
    main(sys.argv[1:])
