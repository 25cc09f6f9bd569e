#!/usr/bin/env python3
"""Escape attempt: use a descriptor boundary left open across execve (a
socket of the proxy or of the outer namespace, a seccomp listener, a
namespace file, a pidfd).

usage: fd_leak.py
Escaped if any inherited descriptor above 2 is a socket, an anonymous
inode or a namespace; other inherited files are listed but not counted.
"""
import os

import common


def scan():
    found, other = [], []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd <= 2:
            continue
        try:
            target = os.readlink("/proc/self/fd/%d" % fd)
        except OSError:
            continue  # the directory listing's own descriptor
        if target.startswith(("socket:", "anon_inode:", "net:", "user:",
                              "mnt:", "pid:")):
            found.append("%d->%s" % (fd, target))
        else:
            other.append("%d->%s" % (fd, target))
    if found:
        return True, "inherited " + " ".join(found)
    return False, "nothing usable inherited" + (
        " (other: %s)" % " ".join(other) if other else "")


if __name__ == "__main__":
    common.run([("inherited descriptors", scan)])
