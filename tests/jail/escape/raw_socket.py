#!/usr/bin/env python3
"""Escape attempt: raw IP sockets.  Creating one is the escape (it needs
CAP_NET_RAW, which the jailed program must not hold); if one is created, a
hand-made UDP datagram is also sent to the foreign address so the outer
namespace's counters see it.

usage: raw_socket.py ADDR4
"""
import socket
import struct
import sys

import common


def raw(fam, proto, addr=None):
    try:
        s = socket.socket(fam, socket.SOCK_RAW, proto)
    except OSError as e:
        return False, "socket: " + common.errname(e)
    detail = "created"
    if addr and proto == socket.IPPROTO_UDP:
        data = b"secret-data over raw"
        udp = struct.pack("!HHHH", 40000, 53, 8 + len(data), 0) + data
        try:
            s.sendto(udp, (addr, 0))
            detail += ", sent a UDP datagram to " + addr
        except OSError as e:
            detail += ", sendto: " + common.errname(e)
    s.close()
    return True, detail


def main(argv):
    addr = argv[0] if argv else common.FOREIGN4
    common.run([
        ("raw inet udp", lambda: raw(socket.AF_INET, socket.IPPROTO_UDP,
                                     addr)),
        ("raw inet ip", lambda: raw(socket.AF_INET, socket.IPPROTO_RAW)),
        ("raw inet6 icmpv6", lambda: raw(socket.AF_INET6,
                                         socket.IPPROTO_ICMPV6)),
    ])


if __name__ == "__main__":
    main(sys.argv[1:])
