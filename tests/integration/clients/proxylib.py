"""Small helpers shared by the python test clients: reach a host through an
HTTP proxy (CONNECT tunnel, optionally TLS inside it, or a plain socket for
absolute-form requests) and read HTTP/1.1 responses incrementally.
Standard library only."""
import socket
import ssl
import time


class ProtocolError(Exception):
    pass


def split_hostport(s, default_port=None):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        if default_port is None:
            raise ValueError("need HOST:PORT, got %r" % s)
        return s, default_port
    return host, int(port)


class Conn:
    """A byte stream with a read buffer: a socket or an SSL socket."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.buf = b""
        self.sock.settimeout(timeout)

    def send(self, data):
        self.sock.sendall(data)

    def fill(self):
        """Reads more bytes; returns False at EOF."""
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def read_until(self, sep, limit=1 << 20):
        while sep not in self.buf:
            if len(self.buf) > limit:
                raise ProtocolError("no %r within %d bytes" % (sep, limit))
            if not self.fill():
                raise ProtocolError("EOF before %r (have %r)" %
                                    (sep, self.buf[:200]))
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise ProtocolError("EOF after %d of %d bytes" %
                                    (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_to_eof(self):
        while self.fill():
            pass
        out, self.buf = self.buf, b""
        return out

    def at_eof(self, wait=1.5):
        """'closed' if the peer closes within WAIT s, 'open' if it stays
        silent, or 'data' if more bytes arrive."""
        if self.buf:
            return "data"
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return "open"
        except (ConnectionResetError, ssl.SSLError, OSError):
            return "closed"
        if not data:
            return "closed"
        self.buf += data
        return "data"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []	# [(lowercase name, value)]
        self.body = b""

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def status_line(self):
        return "%s %d %s" % (self.version, self.status, self.reason)


def read_head(conn):
    raw = conn.read_until(b"\r\n\r\n", 256 * 1024)
    lines = raw.decode("latin-1").split("\r\n")
    r = Response()
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ProtocolError("bad status line %r" % lines[0])
    r.version, r.status = parts[0], int(parts[1])
    r.reason = parts[2] if len(parts) > 2 else ""
    for line in lines[1:]:
        if line:
            k, _, v = line.partition(":")
            r.headers.append((k.strip().lower(), v.strip()))
    return r


def body_chunks(conn, r, method="GET"):
    """Yields the response body of head R as it arrives, de-chunked."""
    if method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200:
        return
    if method == "CONNECT" and 200 <= r.status < 300:
        return
    te = (r.header("transfer-encoding") or "").lower()
    if "chunked" in te:
        while True:
            line = conn.read_until(b"\r\n", 4096)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while conn.read_until(b"\r\n", 65536) != b"\r\n":
                    pass
                return
            yield conn.read_exact(size)
            conn.read_exact(2)
    elif r.header("content-length") is not None:
        n = int(r.header("content-length"))
        while n > 0:
            if not conn.buf and not conn.fill():
                raise ProtocolError("EOF with %d body bytes missing" % n)
            take = conn.buf[:n]
            conn.buf = conn.buf[len(take):]
            n -= len(take)
            yield take
    else:
        while True:
            if conn.buf:
                out, conn.buf = conn.buf, b""
                yield out
            if not conn.fill():
                return


def read_response(conn, method="GET", interim=None):
    """Reads one final response (body included); 1xx interim responses are
    passed to INTERIM(resp) if given, else skipped."""
    while True:
        r = read_head(conn)
        if 100 <= r.status < 200 and r.status != 101:
            if interim:
                interim(r)
            continue
        r.body = b"".join(body_chunks(conn, r, method))
        return r


def open_tunnel(proxy, host, port, timeout=10.0):
    """CONNECTs to HOST:PORT through PROXY ("addr:port"); returns (Conn,
    Response of the CONNECT).  The Conn is the tunnel if the status is 2xx."""
    ph, pp = split_hostport(proxy)
    sock = socket.create_connection((ph, pp), timeout=timeout)
    conn = Conn(sock, timeout)
    auth = "%s:%d" % (host, port)
    conn.send(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
               (auth, auth)).encode())
    r = read_head(conn)
    return conn, r


def start_tls(conn, sni, ca, verify_name=True):
    """Upgrades CONN to TLS with SNI, trusting only the CA file."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = verify_name
    ctx.set_alpn_protocols(["http/1.1"])
    s = ctx.wrap_socket(conn.sock, server_hostname=sni)
    nc = Conn(s, conn.sock.gettimeout() or 10.0)
    nc.buf = conn.buf
    return nc


def connect_url(proxy, scheme, host, port, ca=None, via="connect"):
    """Returns (Conn, absolute_form) for sending requests for a URL through
    PROXY: plain http with via="absolute" uses absolute-form on a plain
    connection to the proxy; everything else a CONNECT tunnel (TLS inside
    for https/wss)."""
    tls = scheme in ("https", "wss")
    if not tls and via == "absolute":
        ph, pp = split_hostport(proxy)
        return Conn(socket.create_connection((ph, pp), timeout=10)), True
    conn, r = open_tunnel(proxy, host, port)
    if not 200 <= r.status < 300:
        raise ProtocolError("CONNECT %s:%d: %s" % (host, port,
                                                   r.status_line()))
    if tls:
        conn = start_tls(conn, host, ca)
    return conn, False


def now():
    return time.time()
