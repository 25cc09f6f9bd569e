#!/usr/bin/env python3
"""Escape attempt: AF_PACKET sockets (link-layer access below every IP
rule).  Creating one is the escape.

usage: packet_socket.py
"""
import socket

import common

ETH_P_ALL = 0x0003


def packet(stype):
    try:
        s = socket.socket(socket.AF_PACKET, stype, socket.htons(ETH_P_ALL))
    except OSError as e:
        return False, "socket: " + common.errname(e)
    s.close()
    return True, "created"


if __name__ == "__main__":
    common.run([("packet raw", lambda: packet(socket.SOCK_RAW)),
                ("packet dgram", lambda: packet(socket.SOCK_DGRAM))])
