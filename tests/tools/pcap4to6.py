#!/usr/bin/env python3
"""pcap4to6.py - rewrites the IPv4 of a capture as IPv6, nothing else.

  pcap4to6.py IN OUT [--prefix 2001:db8::]
  pcap4to6.py -d DIR IN... [--prefix 2001:db8::]   DIR/NAME for each IN

Every IPv4 packet carrying TCP or UDP becomes an IPv6 one: the address
a.b.c.d becomes PREFIX + a.b.c.d in the last 32 bits (a /96, default
2001:db8::), TOS the traffic class, TTL the hop limit, protocol the next
header; IPv4 options are dropped. A fragment keeps its offset, MF and
identification in a fragment header. The TCP or UDP checksum is adjusted
by the difference of the pseudo-headers, so a right sum stays right and
a wrong one (offload) stays wrong by as much. The link header only
changes its protocol field (EtherType, the cooked headers', the BSD
address family: 24, in the byte order found); everything else, padding,
timestamps, lengths on the wire (+ the header growth), comes through.
Other IPv4 (ICMP, ...) and all non-IPv4 frames are copied as they are.

Input and output formats as tests/tools/pcapvariant.py reads and writes
them (pcap or pcapng in, the same format out). Used by the IPv6 replay
test and to compare IPv4 and IPv6 throughput on the same traffic.
"""
import argparse
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapvariant as pv  # noqa: E402

ET_IPV4, ET_IPV6 = 0x0800, 0x86dd


def csum_add(a, b):
    s = a + b
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def prefix_delta(prefix):
    """What the 12 prefix bytes of both addresses add to a sum."""
    words = struct.unpack("!6H", prefix)
    d = 0
    for w in words:
        d = csum_add(d, w)
    return csum_add(d, d)


def l3_to_v6(l3, prefix, delta):
    """The IPv6 packet for IPv4 packet l3, or None to keep l3."""
    if len(l3) < 20 or l3[0] >> 4 != 4:
        return None
    ihl = (l3[0] & 0x0f) * 4
    total = struct.unpack("!H", l3[2:4])[0]
    proto = l3[9]
    if proto not in (6, 17) or ihl < 20 or total < ihl or len(l3) < ihl:
        return None
    frag = struct.unpack("!H", l3[6:8])[0]
    off, more = (frag & 0x1fff) * 8, (frag & 0x2000) != 0
    payload = bytearray(l3[ihl:total])
    tail = l3[total:] if total <= len(l3) else b""
    csum_at = {6: 16, 17: 6}[proto]
    if off == 0 and len(payload) >= csum_at + 2:
        cs = struct.unpack("!H", payload[csum_at:csum_at + 2])[0]
        if not (proto == 17 and cs == 0):
            cs = ~csum_add(~cs & 0xffff, delta) & 0xffff
            payload[csum_at:csum_at + 2] = struct.pack("!H", cs)
    src, dst = prefix + l3[12:16], prefix + l3[16:20]
    plen = total - ihl
    nh, ext = proto, b""
    if off != 0 or more:
        ident = struct.unpack("!H", l3[4:6])[0]
        ext = struct.pack("!BBHI", proto, 0, off | (1 if more else 0),
                          ident)
        nh = 44
    ver = 0x60000000 | (l3[1] << 20)
    hdr = struct.pack("!IHBB", ver, plen + len(ext), nh, l3[8]) + src + dst
    return hdr + ext + bytes(payload) + tail, ihl


def relink(linktype, fr, data):
    """The link header of fr, now saying IPv6."""
    l2 = bytearray(fr.l2)
    if linktype == pv.LT_EN10MB or linktype == pv.LT_SLL:
        l2[-2:] = struct.pack("!H", ET_IPV6)
    elif linktype == pv.LT_SLL2:
        l2[0:2] = struct.pack("!H", ET_IPV6)
    elif linktype in (pv.LT_NULL, pv.LT_LOOP):
        le = struct.unpack("<I", data[:4])[0]
        l2[0:4] = struct.pack("<I" if le == 2 else ">I", 24)
    elif linktype == pv.LT_IPV4:
        raise pv.CaptureError("DLT_IPV4 cannot carry IPv6")
    return bytes(l2)


def convert(in_path, out_path, prefix):
    cap = pv.read_capture(in_path)
    delta = prefix_delta(prefix)
    w = pv.CaptureWriter(out_path, cap.fmt, cap.endian, cap.res,
                         cap.linktype, cap.snaplen)
    n6 = 0
    try:
        for p in cap.packets:
            data = p.data
            fr = pv.decode_link(cap.linktype, data)
            if fr is not None and fr.ethertype == ET_IPV4:
                r = l3_to_v6(fr.l3, prefix, delta)
                if r is not None:
                    v6, ihl = r
                    grow = 40 - ihl + (8 if v6[6] == 44 else 0)
                    data = relink(cap.linktype, fr, data) + v6
                    w.write(p.ts, data, p.origlen + grow)
                    n6 += 1
                    continue
            w.write(p.ts, data, p.origlen)
    finally:
        w.close()
    return len(cap.packets), n6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-d", dest="dir",
                    help="write DIR/NAME for every input (one process)")
    ap.add_argument("--prefix", default="2001:db8::",
                    help="the /96 the IPv4 addresses go into")
    ap.add_argument("-q", action="store_true", help="no counts on stderr")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    prefix = ipaddress.IPv6Address(a.prefix).packed[:12]
    if a.dir is not None:
        pairs = [(f, os.path.join(a.dir, os.path.basename(f)))
                 for f in a.files]
    elif len(a.files) == 2:
        pairs = [(a.files[0], a.files[1])]
    else:
        ap.error("IN OUT, or -d DIR IN...")
    rc = 0
    for src, dst in pairs:
        try:
            n, n6 = convert(src, dst, prefix)
        except (pv.CaptureError, OSError) as e:
            print("pcap4to6: %s: %s" % (src, e), file=sys.stderr)
            rc = 1
            continue
        if not a.q:
            print("pcap4to6: %s: %d packets, %d rewritten as IPv6"
                  % (dst, n, n6), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
