#!/usr/bin/env python3
"""Escape attempt: Multipath TCP (socket(AF_INET, SOCK_STREAM,
IPPROTO_MPTCP)), whose connections Landlock's TCP rules do not cover on
every kernel.

usage: mptcp.py ADDR PORT...
Escaped if a catcher answers.
"""
import sys

import common

IPPROTO_MPTCP = 262


def main(argv):
    addr = argv[0]
    probes = [("mptcp " + common.hostport(addr, int(p)),
               lambda p=int(p): common.tcp_http(addr, p, proto=IPPROTO_MPTCP))
              for p in argv[1:]]
    common.run(probes)


if __name__ == "__main__":
    main(sys.argv[1:])
