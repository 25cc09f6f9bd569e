#!/usr/bin/env python3
"""Escape attempt: kill the proxy (boundary's pid from BT_PROXY_PID) with
SIGKILL.  Under nsjail that pid does not exist in the jail's pid namespace;
under landjail the signal must be refused.

usage: kill_proxy.py
Escaped if kill() succeeds.  (The harness also checks that boundary was
not killed: it must exit with this program's status.)
"""
import os
import signal

import common


def kill(pid):
    def fn():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError as e:
            return False, "kill: " + common.errname(e)
        return True, "SIGKILL delivered to %d" % pid
    return fn


if __name__ == "__main__":
    pid = common.env_int("BT_PROXY_PID")
    if pid <= 1:
        print("RESULT error: BT_PROXY_PID not set")
        raise SystemExit(2)
    common.run([("kill -9 %d" % pid, kill(pid))])
