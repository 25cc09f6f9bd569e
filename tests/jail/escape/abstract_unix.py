#!/usr/bin/env python3
"""Escape attempt: an abstract Unix socket of a process outside the jail
(name in BT_ABSTRACT), a classic way to a host-side helper.

usage: abstract_unix.py
Escaped if the outside listener answers.
"""
import os
import socket

import common


def connect(name):
    def fn():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(b"\0" + name.encode())
            s.sendall(b"secret-data over an abstract socket\r\n\r\n")
        except OSError as e:
            return False, "connect: " + common.errname(e)
        data = common.read_response(s, timeout=2)
        if common.MARK in data:
            return True, "the outside listener answered"
        return False, "connected but no answer (%d bytes)" % len(data)
    return fn


if __name__ == "__main__":
    name = os.environ.get("BT_ABSTRACT", "")
    if not name:
        print("RESULT error: BT_ABSTRACT not set")
        raise SystemExit(2)
    common.run([("@" + name, connect(name))])
