#!/usr/bin/env python3
"""mkseeds-pcap.py - seeds for fuzz_pcap from the exim captures.

  mkseeds-pcap.py OUTDIR PCAP...

Each capture becomes one seed in fuzz_pcap's input format: a byte for
the link type (its index in fuzz_pcap.c's dlts[]: Ethernet is 0, raw
IPv4/IPv6 5), then every frame as a 2-byte big-endian length and its
bytes. Frames past 64 KiB are cut; a seed stops at 128 KiB.
"""
import os
import struct
import sys

INDEX = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 228: 6, 229: 7, 12: 8}


def frames(path):
    d = open(path, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    dlt = struct.unpack(e + "I", d[20:24])[0]
    o, out = 24, []
    while o + 16 <= len(d):
        n = struct.unpack(e + "I", d[o + 8:o + 12])[0]
        out.append(d[o + 16:o + 16 + n])
        o += 16 + n
    return dlt, out


def main():
    outdir = sys.argv[1]
    for p in sys.argv[2:]:
        dlt, fs = frames(p)
        if dlt not in INDEX:
            continue
        seed = bytearray([INDEX[dlt]])
        for f in fs:
            f = f[:65535]
            if len(seed) + 2 + len(f) > 1 << 17:
                break
            seed += struct.pack(">H", len(f)) + f
        name = os.path.basename(p).rsplit(".", 1)[0]
        open(os.path.join(outdir, name), "wb").write(seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
