#!/usr/bin/env python3
"""Escape attempt: read the proxy's CA private key (with it a jailed
program could mint certificates every client of this machine trusts).

usage: ca_key.py   (the key's path in BT_CA_KEY)
Escaped if any of the spellings of the path yields PEM private key bytes.
"""
import os

import common


def read(path):
    def fn():
        try:
            with open(path, "rb") as f:
                data = f.read(65536)
        except OSError as e:
            return False, "open: " + common.errname(e)
        if b"PRIVATE KEY" in data:
            return True, "read %d bytes of private key" % len(data)
        return False, "readable but no private key in it (%d bytes)" % len(
            data)
    return fn


def main():
    key = os.environ.get("BT_CA_KEY", "")
    if not key:
        print("RESULT error: BT_CA_KEY not set")
        raise SystemExit(2)
    common.run([("open " + key, read(key)),
                ("via /proc/self/root", read("/proc/self/root" + key)),
                ("via /proc/1/root", read("/proc/1/root" + key))])


if __name__ == "__main__":
    main()
