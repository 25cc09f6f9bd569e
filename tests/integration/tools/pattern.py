#!/usr/bin/env python3
"""Deterministic test bodies: the origin's /big?n=N and the clients' uploads.

The body is a run of 64 KiB blocks; block k starts with k as 8 big-endian
bytes followed by a fixed pseudo-random filler, so a lost, duplicated or
reordered block changes the bytes, not only the length.

usage: pattern.py gen N            write N bytes to stdout
       pattern.py check FILE N     exit 0 iff FILE holds exactly those N bytes
       pattern.py sha256 N         print the sha256 hex of the N-byte body
"""
import hashlib
import struct
import sys

BLOCK = 65536


def _filler():
    out = bytearray(BLOCK)
    x = 0x2545F491
    for i in range(BLOCK):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


FILLER = _filler()


def block(k):
    """The k-th 64 KiB block."""
    return struct.pack(">Q", k) + FILLER[8:]


def chunks(n):
    """Yields the N-byte body in pieces of at most BLOCK bytes."""
    k = 0
    while n > 0:
        b = block(k)
        if n < BLOCK:
            b = b[:n]
        yield b
        n -= len(b)
        k += 1


def sha256(n):
    h = hashlib.sha256()
    for c in chunks(n):
        h.update(c)
    return h.hexdigest()


def check(path, n):
    """Returns None if the file is the N-byte body, else a description."""
    with open(path, "rb") as f:
        off = 0
        for c in chunks(n):
            got = f.read(len(c))
            if got != c:
                for i in range(min(len(got), len(c))):
                    if got[i] != c[i]:
                        return "first difference at byte %d" % (off + i)
                return "short file: %d bytes, want %d" % (off + len(got), n)
            off += len(c)
        extra = f.read(1)
        if extra:
            return "file longer than %d bytes" % n
    return None


def main(argv):
    if len(argv) == 3 and argv[1] == "gen":
        out = sys.stdout.buffer
        for c in chunks(int(argv[2])):
            out.write(c)
        return 0
    if len(argv) == 4 and argv[1] == "check":
        why = check(argv[2], int(argv[3]))
        if why:
            print("pattern: %s: %s" % (argv[2], why), file=sys.stderr)
            return 1
        print("pattern ok %s" % argv[3])
        return 0
    if len(argv) == 3 and argv[1] == "sha256":
        print(sha256(int(argv[2])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
