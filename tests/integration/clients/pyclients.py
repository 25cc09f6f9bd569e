#!/usr/bin/env python3
"""Python standard-library HTTP clients through a proxy.

usage: pyclients.py httpclient PROXY URL [--ca CA]
       pyclients.py urllib URL [--ca CA]

httpclient: http.client -- absolute-form requests on one HTTPConnection to
  the proxy for http://, or HTTPSConnection.set_tunnel (CONNECT) for
  https://.  Three requests on the same connection: GET URL, POST URL with
  a body, GET URL again; each must be 200 and echo the request (the origin's
  /echo).  Checks that the connection was reused.
urllib: urllib.request.urlopen(URL), the proxy taken from the environment
  (http_proxy / https_proxy, as the case sets them); GET then POST.
Prints "NAME: METHOD STATUS" per request; exit 0 when all checks pass.
"""
import argparse
import http.client
import json
import ssl
import sys
import urllib.parse
import urllib.request


def check_echo(name, method, status, body, want_path, want_body=None):
    print("%s: %s %d" % (name, method, status))
    if status != 200:
        print("%s: body %r" % (name, body[:300]))
        return False
    d = json.loads(body)
    if d["method"] != method or d["path"] != want_path:
        print("%s: origin saw %s %s" % (name, d["method"], d["path"]))
        return False
    if want_body is not None and d["body"] != want_body:
        print("%s: origin got body %r" % (name, d["body"][:100]))
        return False
    return True


def httpclient(proxy, url, ca):
    u = urllib.parse.urlsplit(url)
    ph, _, pp = proxy.rpartition(":")
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=ca)
        c = http.client.HTTPSConnection(ph, int(pp), context=ctx, timeout=10)
        c.set_tunnel(u.hostname, u.port or 443)
        target = u.path + ("?" + u.query if u.query else "")
    else:
        c = http.client.HTTPConnection(ph, int(pp), timeout=10)
        target = url
    ok = True
    socks = set()
    for method, body in (("GET", None), ("POST", "a=1&b=2"), ("GET", None)):
        c.request(method, target, body=body,
                  headers={"Content-Type": "text/plain"} if body else {})
        socks.add(id(c.sock))
        r = c.getresponse()
        ok &= check_echo("http.client", method, r.status, r.read(), u.path,
                         body)
    if len(socks) != 1:
        print("http.client: the connection was not kept alive")
        ok = False
    c.close()
    return ok


def urllib_client(url, ca):
    ctx = ssl.create_default_context(cafile=ca) if ca else None
    ok = True
    for data in (None, b"posted by urllib"):
        req = urllib.request.Request(url, data=data)
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            ok &= check_echo("urllib", "POST" if data else "GET", r.status,
                             r.read(), urllib.parse.urlsplit(url).path,
                             data.decode() if data else None)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["httpclient", "urllib"])
    ap.add_argument("args", nargs="+")
    ap.add_argument("--ca")
    a = ap.parse_args()
    if a.mode == "httpclient":
        ok = httpclient(a.args[0], a.args[1], a.ca)
    else:
        ok = urllib_client(a.args[0], a.ca)
    print("result: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
