#!/usr/bin/env python3
"""A stand-in for the host's resolver, for the --use-real-dns test: answers
every A query over UDP with 192.0.2.55 (TTL 5) and logs each query name.

usage: fake_dns.py ADDR PORT LOGFILE
Prints "ready" once bound; serves until killed.
"""
import socket
import struct
import sys

ANSWER = bytes([192, 0, 2, 55])


def qname(msg):
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels), i + 1


def reply(msg):
    name, end = qname(msg)
    qtype = struct.unpack(">H", msg[end:end + 2])[0] if end + 2 <= len(msg) else 0
    qid = msg[:2]
    question = msg[12:end + 4]
    if qtype == 1:
        head = qid + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0)
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + ANSWER
        return name, head + question + rr
    head = qid + struct.pack(">HHHHH", 0x8180, 1, 0, 0, 0)
    return name, head + question


def main():
    addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        msg, peer = s.recvfrom(4096)
        if len(msg) < 12:
            continue
        name, out = reply(msg)
        with open(log, "a") as f:
            f.write(name + "\n")
        s.sendto(out, peer)


if __name__ == "__main__":
    main()
