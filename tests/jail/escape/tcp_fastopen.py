#!/usr/bin/env python3
"""Escape attempt: TCP Fast Open, i.e. a connection opened by
sendto(MSG_FASTOPEN) without any connect() call (a seccomp or Landlock
check on connect() alone misses it).

usage: tcp_fastopen.py ADDR PORT...
Escaped if a catcher answers.
"""
import sys

import common


def main(argv):
    addr = argv[0]
    probes = [("tfo " + common.hostport(addr, int(p)),
               lambda p=int(p): common.tcp_http(addr, p, fastopen=True))
              for p in argv[1:]]
    common.run(probes)


if __name__ == "__main__":
    main(sys.argv[1:])
