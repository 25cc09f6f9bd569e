#!/usr/bin/env python3
"""Escape attempt: remove the jail's nftables redirect ("flush ruleset",
through libnftables and through the nft binary if installed), then check
that a foreign TCP connection still ends at the proxy.

usage: nft_flush.py ADDR4
Escaped if a flush succeeds or the later connection reaches a catcher.
"""
import ctypes
import ctypes.util
import shutil
import subprocess
import sys

import common


def lib_flush():
    name = ctypes.util.find_library("nftables") or "libnftables.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        return False, "libnftables not loadable: %s" % e
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ctx = lib.nft_ctx_new(0)
    lib.nft_ctx_buffer_error(ctx)
    rc = lib.nft_run_cmd_from_buffer(ctx, b"flush ruleset")
    if rc == 0:
        return True, "flush ruleset succeeded"
    err = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode().strip()
    return False, "refused: " + (err.splitlines()[0] if err else "?")


def bin_flush():
    nft = shutil.which("nft")
    if not nft:
        return False, "no nft binary (libnftables probe covers it)"
    p = subprocess.run([nft, "flush", "ruleset"], capture_output=True,
                       text=True, timeout=5)
    if p.returncode == 0:
        return True, "nft flush ruleset succeeded"
    first = (p.stderr.strip().splitlines() or [""])[0]
    return False, "exit %d: %s" % (p.returncode, first[:120])


def main(argv):
    addr = argv[0] if argv else common.FOREIGN4
    common.run([("libnftables flush", lib_flush),
                ("nft flush", bin_flush),
                ("after " + common.hostport(addr, 80),
                 lambda: common.tcp_http(addr, 80))])


if __name__ == "__main__":
    main(sys.argv[1:])
