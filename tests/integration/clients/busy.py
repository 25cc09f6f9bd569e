#!/usr/bin/env python3
"""Opens N connections to the proxy, each sending half a request head, and
counts how many the proxy closed; then closes them all and makes one normal
request.  usage: busy.py PROXY_PORT N"""
import http.client
import resource
import socket
import sys
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET http://api.test/echo HTTP/1.1\r\nHost: api")
    socks.append(s)
print("opened", len(socks))
time.sleep(1.0)
refused = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            refused += 1
    except BlockingIOError:
        pass
    except ConnectionResetError:
        refused += 1
print("refused", refused)
for s in socks:
    s.close()
time.sleep(0.5)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("GET", "http://api.test/echo")
r = c.getresponse()
r.read()
print("after", r.status)
