#!/usr/bin/env python3
"""One GET with python's urllib, which takes the proxy from HTTP(S)_PROXY
and the trusted roots from SSL_CERT_FILE (both set by boundary).

usage: urllib_get.py URL
Prints "status=N" and the body; exits 0 once a response arrived (whatever
its status), 1 otherwise.
"""
import sys
import urllib.error
import urllib.request


def main(url):
    try:
        with urllib.request.urlopen(url, timeout=8) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        print("error=%s" % e)
        return 1
    print("status=%d" % status)
    sys.stdout.write(body.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
