#!/usr/bin/env python3
"""Escape attempt: ICMP echo requests carrying data, through an
unprivileged ping socket and through a raw socket, to foreign addresses.

usage: icmp_echo.py ADDR...
Escaped if an echo reply comes back from ADDR (the outer namespace's
counters see the request either way).
"""
import os
import select
import socket
import struct
import sys

import common

PAYLOAD = b"secret-data over icmp"


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def echo(addr, kind):
    v6 = ":" in addr
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    stype = socket.SOCK_DGRAM if kind == "ping" else socket.SOCK_RAW
    try:
        s = socket.socket(common.family(addr), stype, proto)
    except OSError as e:
        return False, "socket: " + common.errname(e)
    ident = os.getpid() & 0xffff
    req_type, rep_type = (128, 129) if v6 else (8, 0)
    pkt = struct.pack("!BBHHH", req_type, 0, 0, ident, 1) + PAYLOAD
    if not v6:
        pkt = pkt[:2] + struct.pack("!H", checksum(pkt)) + pkt[4:]
    try:
        s.sendto(pkt, (addr, 0))
    except OSError as e:
        return False, "sendto: " + common.errname(e)
    end = 1.5
    while True:
        r, _, _ = select.select([s], [], [], end)
        if not r:
            return False, "sent; no echo reply"
        data, peer = s.recvfrom(4096)
        if kind == "raw" and not v6:
            data = data[(data[0] & 0xf) * 4:]
        if data and data[0] == rep_type and PAYLOAD in data:
            return True, "echo reply from " + peer[0]
        end = 0.5


def main(argv):
    probes = []
    for addr in argv:
        for kind in ("ping", "raw"):
            probes.append(("icmp %s %s" % (kind, addr),
                           lambda a=addr, k=kind: echo(a, k)))
    common.run(probes)


if __name__ == "__main__":
    main(sys.argv[1:])
