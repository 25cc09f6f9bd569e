#!/usr/bin/env python3
"""Escape attempt: a TCP connection to a foreign address, carrying an HTTP
request with a foreign Host header (exfil.test).

usage: tcp_foreign.py ADDR PORT...
Escaped if a catcher answers.  Under nsjail the connection is redirected to
the proxy, which must answer 403; under landjail connect() must fail.
"""
import sys

import common


def main(argv):
    addr = argv[0]
    probes = [(common.hostport(addr, int(p)),
               lambda p=int(p): common.tcp_http(addr, p))
              for p in argv[1:]]
    common.run(probes)


if __name__ == "__main__":
    main(sys.argv[1:])
