#!/usr/bin/env python3
"""Escape attempt: take over the proxy or the jail's own supervisor
process: PTRACE_SEIZE (does not stop the tracee), reading /proc/PID/mem and
/proc/PID/environ, and pidfd_getfd() on its descriptors (a socket of the
proxy is a way out).

usage: ptrace_proxy.py   (targets: BT_PROXY_PID, and the parent process
                          unless it is the machine's init)
Escaped if any of these succeeds.
"""
import ctypes
import os

import common

PTRACE_SEIZE = 0x4206
PTRACE_DETACH = 17
SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]


def err():
    return os.strerror(ctypes.get_errno())


def seize(pid):
    def fn():
        if libc.ptrace(PTRACE_SEIZE, pid, None, None) == 0:
            libc.ptrace(PTRACE_DETACH, pid, None, None)
            return True, "PTRACE_SEIZE of %d succeeded" % pid
        return False, "ptrace: " + err()
    return fn


def mem(pid):
    def fn():
        try:
            with open("/proc/%d/maps" % pid) as f:
                first = f.readline()
            start = int(first.split("-")[0], 16)
            fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
            data = os.pread(fd, 16, start)
            os.close(fd)
        except (OSError, ValueError, IndexError) as e:
            return False, "mem: " + common.errname(e)
        return True, "read %d bytes of its memory" % len(data)
    return fn


def environ(pid):
    def fn():
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                data = f.read()
        except OSError as e:
            return False, "environ: " + common.errname(e)
        return (True, "read its environment") if data else \
            (False, "environ: empty")
    return fn


def getfd(pid):
    def fn():
        pfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
        if pfd < 0:
            return False, "pidfd_open: " + err()
        got = []
        last = ""
        for fd in range(0, 64):
            r = libc.syscall(SYS_PIDFD_GETFD, pfd, fd, 0)
            if r >= 0:
                try:
                    got.append("%d->%s" % (fd, os.readlink(
                        "/proc/self/fd/%d" % r)))
                except OSError:
                    got.append(str(fd))
                os.close(r)
            else:
                e = ctypes.get_errno()
                if e != 9:  # EBADF: no such descriptor
                    last = os.strerror(e)
        os.close(pfd)
        if got:
            return True, "pidfd_getfd got " + " ".join(got[:6])
        return False, "pidfd_getfd: " + (last or "nothing")
    return fn


def main():
    targets = []
    proxy = common.env_int("BT_PROXY_PID")
    if proxy > 1:
        targets.append(("proxy", proxy))
    ppid = os.getppid()
    if ppid != proxy and (ppid != 1 or os.environ.get("BT_JAIL_TYPE") ==
                          "nsjail"):
        targets.append(("parent", ppid))
    probes = []
    for label, pid in targets:
        probes += [("%s %d seize" % (label, pid), seize(pid)),
                   ("%s %d mem" % (label, pid), mem(pid)),
                   ("%s %d environ" % (label, pid), environ(pid)),
                   ("%s %d pidfd_getfd" % (label, pid), getfd(pid))]
    common.run(probes)


if __name__ == "__main__":
    main()
