#!/usr/bin/env python3
"""nft(8) for machines without the nft binary: runs one nftables command
through libnftables (the library the jail links against), via ctypes.

usage: nftctl.py [-s] [--packets] COMMAND...
  -s         stateless output (no counter values): for before/after diffs
  --packets  print only the sum of every "packets N" in the output
The words of COMMAND are joined with blanks ("list ruleset",
"add table inet t", "flush ruleset").  Prints the command's output; on
failure prints libnftables' error text on stderr and exits 1.
"""
import ctypes
import ctypes.util
import re
import sys

OUTPUT_STATELESS = 1 << 2


def main(argv):
    stateless = False
    packets = False
    while argv and argv[0].startswith("-"):
        opt = argv.pop(0)
        if opt == "-s":
            stateless = True
        elif opt == "--packets":
            packets = True
        else:
            print("nftctl.py: unknown option " + opt, file=sys.stderr)
            return 2
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    name = ctypes.util.find_library("nftables") or "libnftables.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        print("nftctl.py: cannot load libnftables: %s" % e, file=sys.stderr)
        return 3
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        print("nftctl.py: nft_ctx_new failed", file=sys.stderr)
        return 3
    if stateless:
        lib.nft_ctx_output_set_flags(ctx, OUTPUT_STATELESS)
    lib.nft_ctx_buffer_output(ctx)
    lib.nft_ctx_buffer_error(ctx)
    rc = lib.nft_run_cmd_from_buffer(ctx, " ".join(argv).encode())
    out = (lib.nft_ctx_get_output_buffer(ctx) or b"").decode()
    err = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode()
    lib.nft_ctx_free(ctx)
    if rc != 0:
        sys.stderr.write(err or "nftctl.py: command failed\n")
        return 1
    if packets:
        print(sum(int(n) for n in re.findall(r"\bpackets (\d+)", out)))
    else:
        sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
