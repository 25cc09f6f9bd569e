#!/usr/bin/env python3
"""Escape attempt: a network namespace of one's own (unshare(CLONE_NEWNET)
through ctypes, and unshare(1) -n), which would come with CAP_NET_ADMIN
over fresh, unfiltered networking.

usage: unshare_net.py
Escaped if either succeeds.  Also reports, without counting it as an
escape, whether CLONE_NEWUSER|CLONE_NEWNET works (a namespace that has no
interfaces but lo, so no way out).
"""
import ctypes
import os
import shutil
import subprocess

import common

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


def unshare(flags):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) == 0:
        return True
    return os.strerror(ctypes.get_errno())


def newnet():
    r = unshare(CLONE_NEWNET)
    return (True, "unshare(CLONE_NEWNET) succeeded") if r is True \
        else (False, "unshare(CLONE_NEWNET): " + r)


def tool():
    u = shutil.which("unshare")
    if not u:
        return False, "no unshare binary"
    p = subprocess.run([u, "-n", "true"], capture_output=True, text=True,
                       timeout=5)
    if p.returncode == 0:
        return True, "unshare -n true succeeded"
    return False, "exit %d: %s" % (p.returncode, p.stderr.strip()[:120])


def with_user():
    r = unshare(CLONE_NEWUSER | CLONE_NEWNET)
    return False, ("informational: CLONE_NEWUSER|CLONE_NEWNET allowed (an "
                   "empty namespace)") if r is True else \
        ("CLONE_NEWUSER|CLONE_NEWNET: " + r)


if __name__ == "__main__":
    common.run([("unshare(CLONE_NEWNET)", newnet),
                ("unshare -n", tool),
                ("unshare(CLONE_NEWUSER|CLONE_NEWNET)", with_user)])
