#!/usr/bin/env python3
"""The integration tests' origin: one HTTP/1.1 server on 127.0.0.1, served in
plain text, over TLS, and (optionally) over TLS with an untrusted certificate.
Standard library only.

usage: origin.py --cert PEM --key PEM [--rogue-cert PEM --rogue-key PEM]
                 [--git-root DIR] [--log FILE]

Prints one line "http=PORT https=PORT [rogue=PORT]" on stdout once every
listener accepts, then serves until SIGTERM/SIGINT.  Ports are ephemeral.

Endpoints (any method unless noted; absolute-form targets are accepted):
  /echo, and any path not below   200, JSON: method, target, path, query,
                                  version, headers [[name, value]...], body
                                  (text), body_length, body_sha256,
                                  request_chunked, tls, sni
  /upload                         the same without the body itself
  /big?n=BYTES                    the deterministic body of tools/pattern.py
                                  with Content-Length (HEAD: headers only)
  /chunked?n=N                    N lines "chunk I\\n", one chunk each
  /sse?n=5&ms=200                 text/event-stream, N events MS apart, each
                                  written and flushed on its own; the data
                                  is JSON {"i": I, "t": send time}
  /status/NNN                     that status; no body for 1xx/204/304 and
                                  HEAD
  /slow?ms=N                      answers after N ms
  /close                          body delimited by closing the connection
  /hangup?ms=N                    a keep-alive answer, then the connection
                                  is closed N ms later
  /ws                             RFC 6455 handshake, then echoes text and
                                  binary frames, answers ping, echoes close
  /git/REPO/...                   git smart HTTP: git http-backend as CGI
                                  with GIT_PROJECT_ROOT=--git-root

Every request is logged to --log as one line:
  "<unix time> <listener> <method> <target> host=<Host header>"
"""
import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
import pattern  # noqa: E402

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_BODY = 64 * 1024 * 1024
LOG_LOCK = threading.Lock()
ARGS = None


class BadRequest(Exception):
    pass


def log(line):
    if not ARGS.log:
        return
    with LOG_LOCK:
        with open(ARGS.log, "a") as f:
            f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "origin/1"
    timeout = 30

    # ---- connection set-up ------------------------------------------------

    def setup(self):
        self.sni = None
        if self.server.tls_ctx is not None:
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (OSError, ssl.SSLError):
                self.request.close()
                raise
            self.sni = getattr(self.request, "sni_name", None)
        super().setup()

    def log_message(self, fmt, *args):
        pass

    # ---- helpers ------------------------------------------------------------

    def read_body(self):
        """Returns (body bytes, was chunked)."""
        te = self.headers.get_all("Transfer-Encoding") or []
        if te:
            if te[-1].strip().lower().split(",")[-1].strip() != "chunked":
                raise BadRequest("unsupported transfer-encoding")
            return self.read_chunked(), True
        cl = self.headers.get_all("Content-Length") or []
        if not cl:
            return b"", False
        if len(set(v.strip() for v in cl)) != 1:
            raise BadRequest("conflicting content-length")
        n = int(cl[0])
        if n < 0 or n > MAX_BODY:
            raise BadRequest("bad content-length")
        data = self.rfile.read(n)
        if len(data) != n:
            raise BadRequest("short body")
        return data, False

    def read_chunked(self):
        parts = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise BadRequest("bad chunk size line")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise BadRequest("body too large")
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest("bad chunk")
            parts.append(data)
        while True:	# trailers
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                break
        return b"".join(parts)

    def send_simple(self, code, body, ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        no_body = code in (204, 304) or 100 <= code < 200
        if not no_body:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not no_body and self.command != "HEAD":
            self.wfile.write(body)

    def chunked_ok(self):
        return self.request_version == "HTTP/1.1"

    def write_chunk(self, data):
        if self.chunked_ok():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def start_stream(self, code, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if self.chunked_ok():
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()

    def end_stream(self):
        if self.chunked_ok():
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ---- dispatch -----------------------------------------------------------

    def dispatch(self):
        target = self.path
        u = urllib.parse.urlsplit(target)
        if u.scheme in ("http", "https") and u.netloc:
            path = u.path or "/"
        else:
            path = target.split("?", 1)[0]
        query = urllib.parse.parse_qs(u.query)
        log("%.6f %s %s %s host=%s" % (time.time(), self.server.name,
                                       self.command, target,
                                       self.headers.get("Host", "-")))

        def q(name, default):
            try:
                return int(query.get(name, [default])[0])
            except ValueError:
                return default

        try:
            if path == "/ws":
                return self.do_websocket()
            if path.startswith("/git/"):
                return self.do_git(path[4:], u.query)
            body, chunked = self.read_body()
            if path == "/big":
                return self.do_big(q("n", 0))
            if path == "/chunked":
                self.start_stream(200, "text/plain")
                if self.command != "HEAD":
                    for i in range(q("n", 5)):
                        self.write_chunk(b"chunk %d\n" % i)
                    self.end_stream()
                return
            if path == "/sse":
                return self.do_sse(q("n", 5), q("ms", 200))
            if path.startswith("/status/"):
                try:
                    code = int(path[8:])
                except ValueError:
                    code = 400
                if not 100 <= code <= 599 or code == 101:
                    code = 400
                return self.send_simple(code, b"status %d\n" % code)
            if path == "/slow":
                time.sleep(q("ms", 1000) / 1000.0)
                return self.send_simple(200, b"slow done\n")
            if path == "/hangup":
                # a kept-alive answer, then the server drops the idle
                # connection after ms milliseconds (as servers do)
                self.send_simple(200, b"hanging up\n")
                self.wfile.flush()
                time.sleep(q("ms", 100) / 1000.0)
                self.close_connection = True
                return
            if path == "/close":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if self.command != "HEAD":
                    self.wfile.write(b"delimited by close\n" * 100)
                return
            return self.do_echo(target, path, u.query, body, chunked,
                                with_body=(path != "/upload"))
        except BadRequest as e:
            self.close_connection = True
            self.send_simple(400, ("origin: %s\n" % e).encode())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = dispatch
    do_OPTIONS = do_HEAD = do_TRACE = dispatch

    # ---- endpoints ----------------------------------------------------------

    def do_echo(self, target, path, query, body, chunked, with_body):
        d = {
            "method": self.command,
            "target": target,
            "path": path,
            "query": query,
            "version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "request_chunked": chunked,
            "tls": self.server.tls_ctx is not None,
            "sni": self.sni,
        }
        if with_body:
            d["body"] = body.decode("utf-8", "replace")
        out = (json.dumps(d, indent=1) + "\n").encode()
        self.send_simple(200, out, "application/json")

    def do_big(self, n):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        for c in pattern.chunks(n):
            self.wfile.write(c)
        self.wfile.flush()

    def do_sse(self, n, ms):
        self.start_stream(200, "text/event-stream")
        if self.command == "HEAD":
            return
        for i in range(n):
            if i:
                time.sleep(ms / 1000.0)
            ev = "id: %d\nevent: tick\ndata: %s\n\n" % (
                i, json.dumps({"i": i, "t": time.time()}))
            self.write_chunk(ev.encode())
        self.end_stream()

    def do_websocket(self):
        self.close_connection = True
        key = self.headers.get("Sec-WebSocket-Key")
        up = (self.headers.get("Upgrade") or "").lower()
        conn = (self.headers.get("Connection") or "").lower()
        if up != "websocket" or "upgrade" not in conn or not key:
            return self.send_simple(400, b"not a websocket handshake\n")
        accept = base64.b64encode(hashlib.sha1(
            (key.strip() + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            fr = ws_read_frame(self.rfile)
            if fr is None:
                return
            fin, op, masked, payload = fr
            if not masked:	# RFC 6455 5.1: close with 1002
                self.wfile.write(ws_frame(8, b"\x03\xea"))
                return
            if op in (1, 2, 0):
                self.wfile.write(ws_frame(op, payload, fin))
            elif op == 9:
                self.wfile.write(ws_frame(10, payload))
            elif op == 8:
                self.wfile.write(ws_frame(8, payload[:2]))
                return
            self.wfile.flush()

    def do_git(self, path_info, query):
        body, _ = self.read_body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": ARGS.git_root or "/nonexistent",
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": ARGS.git_root or "/nonexistent",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": "test",
            "SERVER_PROTOCOL": self.request_version,
            "GATEWAY_INTERFACE": "CGI/1.1",
            "CONTENT_LENGTH": str(len(body)),
        }
        for h, var in (("Content-Type", "CONTENT_TYPE"),
                       ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
                       ("Git-Protocol", "GIT_PROTOCOL")):
            if self.headers.get(h):
                env[var] = self.headers.get(h)
        p = subprocess.run(["git", "http-backend"], input=body, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        out = p.stdout
        sep = out.find(b"\r\n\r\n")
        seplen = 4
        if sep < 0:
            sep = out.find(b"\n\n")
            seplen = 2
        if sep < 0:
            return self.send_simple(500, b"git http-backend: " + p.stderr)
        code, hdrs = 200, []
        for line in out[:sep].decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                code = int(v.split()[0])
            else:
                hdrs.append((k, v.strip()))
        payload = out[sep + seplen:]
        self.send_response(code)
        for k, v in hdrs:
            if k.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def ws_read_exact(f, n):
    data = f.read(n)
    if len(data) != n:
        return None
    return data


def ws_read_frame(f):
    """Returns (fin, opcode, masked, payload) or None at EOF."""
    h = ws_read_exact(f, 2)
    if h is None:
        return None
    fin, op = h[0] >> 7, h[0] & 15
    masked, n = h[1] >> 7, h[1] & 127
    if n == 126:
        n = int.from_bytes(ws_read_exact(f, 2) or b"\0\0", "big")
    elif n == 127:
        n = int.from_bytes(ws_read_exact(f, 8) or b"\0" * 8, "big")
    mask = ws_read_exact(f, 4) if masked else None
    data = ws_read_exact(f, n) if n else b""
    if data is None:
        return None
    if mask:
        data = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
    return fin, op, masked, data


def ws_frame(op, payload, fin=1, mask=None):
    """One frame; masked with the 4-byte <mask> if given (clients)."""
    n = len(payload)
    b1 = 0x80 if mask else 0
    if n < 126:
        head = bytes([(fin << 7) | op, b1 | n])
    elif n < 65536:
        head = bytes([(fin << 7) | op, b1 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([(fin << 7) | op, b1 | 127]) + n.to_bytes(8, "big")
    if mask:
        payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        return head + mask + payload
    return head + payload


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, name, tls_ctx):
        self.name = name
        self.tls_ctx = tls_ctx
        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request, client_address):
        pass	# clients that go away mid-request are part of the tests

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls_ctx is not None:
            sock = self.tls_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])

    def on_sni(sslsock, name, _ctx):
        sslsock.sni_name = name

    ctx.sni_callback = on_sni
    return ctx


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--rogue-cert")
    ap.add_argument("--rogue-key")
    ap.add_argument("--git-root")
    ap.add_argument("--log")
    ARGS = ap.parse_args()

    servers = [Server("http", None),
               Server("https", tls_context(ARGS.cert, ARGS.key))]
    if ARGS.rogue_cert:
        servers.append(Server("rogue",
                              tls_context(ARGS.rogue_cert, ARGS.rogue_key)))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(" ".join("%s=%d" % (s.name, s.server_address[1]) for s in servers),
          flush=True)
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:	# the runner died without cleaning up
            break
    for s in servers:
        s.shutdown()
        s.server_close()


if __name__ == "__main__":
    main()
