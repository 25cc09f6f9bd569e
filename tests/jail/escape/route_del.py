#!/usr/bin/env python3
"""Escape attempt: change the routing table (delete the default routes, add
a route), then check that a foreign TCP connection still ends at the proxy.

usage: route_del.py ADDR4
Escaped if any change succeeds or the later connection reaches a catcher.
"""
import subprocess
import sys

import common

TEST_ROUTE = "198.51.100.77/32"


def ip(*args):
    p = subprocess.run(["ip"] + list(args), capture_output=True, text=True,
                       timeout=5)
    return p.returncode, (p.stderr or p.stdout).strip()[:120]


def change(*args):
    def fn():
        rc, msg = ip(*args)
        if rc == 0:
            if args[:2] == ("route", "add"):
                ip("route", "del", TEST_ROUTE)
            return True, "ip %s succeeded" % " ".join(args)
        return False, "exit %d: %s" % (rc, msg)
    return fn


def main(argv):
    addr = argv[0] if argv else common.FOREIGN4
    common.run([("ip route del default", change("route", "del", "default")),
                ("ip -6 route del default",
                 change("-6", "route", "del", "default")),
                ("ip route add", change("route", "add", TEST_ROUTE, "dev",
                                        "lo")),
                ("after " + common.hostport(addr, 80),
                 lambda: common.tcp_http(addr, 80))])


if __name__ == "__main__":
    main(sys.argv[1:])
