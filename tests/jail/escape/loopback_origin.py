#!/usr/bin/env python3
"""Escape attempt: go around the proxy to a server on the outer namespace's
loopback (the plain origin, 127.0.0.1:BT_ORIGIN_HTTP_PORT), with a Host no
rule allows.

usage: loopback_origin.py
Escaped if the origin answers.  Under nsjail the connection is redirected
to the proxy (403); under landjail connect() must fail.
"""
import common

if __name__ == "__main__":
    port = common.env_int("BT_ORIGIN_HTTP_PORT")
    common.run([("127.0.0.1:%d" % port,
                 lambda: common.tcp_http("127.0.0.1", port,
                                         host="denied.test"))])
