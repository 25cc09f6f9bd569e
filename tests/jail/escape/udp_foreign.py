#!/usr/bin/env python3
"""Escape attempt: UDP datagrams (a QUIC-like payload) to foreign addresses.

usage: udp_foreign.py ADDR:PORT...   (IPv6 as [ADDR]:PORT)
Escaped if a catcher answers.
"""
import sys

import common

# The first bytes of a QUIC long-header Initial packet, then data to leak.
PAYLOAD = bytes([0xc3, 0, 0, 0, 1]) + b"secret-data over udp"


def split(target):
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def main(argv):
    probes = []
    for t in argv:
        host, port = split(t)
        probes.append(("udp " + t,
                       lambda h=host, p=port: common.udp_send(h, p, PAYLOAD)))
    common.run(probes)


if __name__ == "__main__":
    main(sys.argv[1:])
