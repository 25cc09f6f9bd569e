#!/usr/bin/env python3
"""An interactive shell in the jail, driven through a pseudo-terminal as a
person would: window size, Ctrl-C, Ctrl-Z and job control, a resize, exit.

usage: tty_session.py BOUNDARY-COMMAND... -- (the command line that starts
       boundary; this script appends `-- bash --norc --noprofile -i`)

Prints one line per step, "ok STEP" or "FAIL STEP: what the terminal
showed", and exits 0 only when every step passed and boundary's exit status
is the shell's (4).
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

PROMPT = "jail$ "


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Term:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["PS1"] = PROMPT
            os.environ["TERM"] = "dumb"
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        self.buf = ""

    def read_until(self, text, timeout=10.0):
        end = time.monotonic() + timeout
        while text not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            self.buf += data.decode("utf-8", "replace")
        return True

    def send(self, s):
        os.write(self.fd, s.encode())

    def step(self, name, send, expect, timeout=10.0):
        self.buf = ""
        if send is not None:
            self.send(send)
        good = self.read_until(expect, timeout)
        shown = self.buf.replace("\r", "")[-300:]
        print(("ok %s" % name) if good else
              ("FAIL %s: expected %r, terminal showed %r" % (name, expect,
                                                              shown)))
        sys.stdout.flush()
        return good


def main():
    if "--" not in sys.argv:
        print("usage: tty_session.py BOUNDARY... --")
        return 2
    argv = sys.argv[1:sys.argv.index("--")] + [
        "--", "bash", "--norc", "--noprofile", "-i"]
    t = Term(argv)
    set_size(t.fd, 33, 101)
    good = t.step("prompt", None, PROMPT, 20.0)
    good &= t.step("window size", "stty size\n", "33 101")
    good &= t.step("a terminal", "tty >/dev/null && echo IS-A-TTY\n",
                   "IS-A-TTY")
    good &= t.step("foreground job runs", "sleep 30\n", "sleep 30")
    time.sleep(0.5)
    good &= t.step("Ctrl-C ends it", "\x03", PROMPT)
    good &= t.step("its status is 130", "echo rc=$?\n", "rc=130")
    good &= t.step("Ctrl-Z stops a job", "sleep 40\n", "")
    time.sleep(0.5)
    good &= t.step("job stopped", "\x1a", "Stopped")
    good &= t.step("jobs lists it", "jobs\n", "sleep 40")
    good &= t.step("bg resumes it", "bg %1; jobs\n", "Running")
    good &= t.step("kill it", "kill %1; wait; echo killed\n", "killed")
    set_size(t.fd, 40, 120)
    time.sleep(0.3)
    good &= t.step("resized window", "stty size\n", "40 120")
    good &= t.step("exit 4", "exit 4\n", "exit")
    status = None
    end = time.monotonic() + 20
    while time.monotonic() < end:
        pid, st = os.waitpid(t.pid, os.WNOHANG)
        if pid == t.pid:
            status = os.waitstatus_to_exitcode(st)
            break
        try:
            os.read(t.fd, 4096)
        except OSError:
            pass
        time.sleep(0.05)
    if status is None:
        os.kill(t.pid, signal.SIGKILL)
        print("FAIL boundary did not exit")
        return 1
    if status != 4:
        print("FAIL boundary exited %d, not the shell's 4" % status)
        return 1
    print("ok boundary exits with the shell's status (4)")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
