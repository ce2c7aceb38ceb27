#!/usr/bin/env python3
"""pcap4to6.py - rewrite an IPv4 capture as IPv6, for throughput comparisons.

Usage:
    pcap4to6.py IN OUT [--prefix P/96] [--fix-checksums]
    pcap4to6.py selftest

Every IPv4 packet becomes an IPv6 packet: each address is mapped 1:1 into
a /96 prefix (default 2001:db8::/96, the documentation prefix of RFC 3849;
192.0.2.7 becomes 2001:db8::c000:207, as RFC 6052 embeds it), traffic
class = TOS, hop limit = TTL, next header = protocol, payload length =
total length minus the IPv4 header (its options are dropped).  An IPv4
fragment gets an IPv6 fragment header (the same offset and M flag, the
IPv4 ID as identification).  The link header keeps its kind and says
IPv6 (EtherType 0x86dd after any VLAN tags; SLL protocol; NULL AF 30 in
the byte order the input used; LOOP AF 24); everything else - ARP,
ICMP, IPv6 already - is copied as it was, except ICMP, which would mean
nothing over IPv6 and is dropped (counted on stderr).  Timestamps carry
over; every packet grows by 20 bytes less its IPv4 options, the snapshot
length with it.

TCP and UDP checksums are carried over the change of pseudo-header (RFC
1624's incremental update, which needs no payload, so the first piece of
a fragment gets it too): a right sum stays right and a wrong one (a
capture taken on the sending host, offload) stays wrong, so wireban's
`checksums = auto` behaves on the copy as on the original - which is what
a throughput comparison wants.  A UDP sum of 0 (none, allowed over IPv4,
not over IPv6) is computed.  --fix-checksums makes every complete TCP
packet's sum right instead.

Python 3 standard library only; the capture code is pcapvar/ beside it.
"""

import argparse
import ipaddress
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pcapvar.base import (CaptureError, ET_IPV4, ET_IPV6, LT_EN10MB,  # noqa
                          LT_LOOP, LT_NULL, LT_SLL, LT_SLL2, VLAN_TPIDS,
                          set_quiet)
from pcapvar.inet import checksum, fix_checksums, parse_tcp  # noqa: E402
from pcapvar.link import decode_link  # noqa: E402
from pcapvar.pcapio import CaptureWriter, read_capture  # noqa: E402

PROTO_ICMP, PROTO_TCP, PROTO_UDP = 1, 6, 17
NH_FRAGMENT = 44


def _fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def _sum(data):
    """One's complement sum of data (not inverted)."""
    return ~checksum(data) & 0xffff


def adjust(csum, old, new):
    """RFC 1624 eqn. 3: the checksum field csum after the summed bytes
    old were replaced by new (here: one pseudo-header by another)."""
    return ~_fold((~csum & 0xffff) + (~_sum(old) & 0xffff) + _sum(new)) \
        & 0xffff


def map_addr(prefix, a4):
    return prefix[:12] + a4


def frag_key(l3):
    return l3[12:20] + l3[4:6] + l3[9:10]


def datagram_lengths(cap):
    """{fragment key: length of the reassembled payload} from the last
    fragment of each fragmented IPv4 datagram in cap: the first piece of
    a TCP segment needs it for the pseudo-header."""
    out = {}
    for p in cap.packets:
        fr = decode_link(cap.linktype, p.data)
        if fr is None or fr.ethertype != ET_IPV4 or len(fr.l3) < 20:
            continue
        l3 = fr.l3
        ihl = (l3[0] & 0x0f) * 4
        tot, frag = struct.unpack("!H", l3[2:4])[0], struct.unpack(
            "!H", l3[6:8])[0]
        if frag & 0x1fff and not frag & 0x2000:
            out[frag_key(l3)] = (frag & 0x1fff) * 8 + tot - ihl
    return out


def to_ipv6(l3, prefix, lengths):
    """The IPv6 packet for an IPv4 packet l3, or None when it is not to be
    written (ICMP, or too short to be IPv4).  lengths: as
    datagram_lengths() gives them."""
    if len(l3) < 20 or l3[0] >> 4 != 4:
        return None
    ihl = (l3[0] & 0x0f) * 4
    tos, tot, ident, frag, ttl, proto = struct.unpack("!xBHHHBB", l3[:10])
    if ihl < 20 or tot < ihl or len(l3) < ihl or proto == PROTO_ICMP:
        return None
    src, dst = map_addr(prefix, l3[12:16]), map_addr(prefix, l3[16:20])
    body = bytearray(l3[ihl:tot])           # what was captured of it
    plen = tot - ihl
    offset, more = (frag & 0x1fff) * 8, bool(frag & 0x2000)
    fragment = offset or more
    ext = b""
    nh = proto
    if fragment:
        ext = struct.pack("!BBHI", proto, 0, offset | more, ident)
        nh = NH_FRAGMENT
        plen += 8
    # The sum sits in the first piece only; it covers the whole segment,
    # whose length the IPv4 pseudo-header has, so that is the one undone.
    pos = {PROTO_TCP: 16, PROTO_UDP: 6}.get(proto)
    if pos is not None and offset == 0 and len(body) >= pos + 2:
        seglen = lengths.get(frag_key(l3)) if more else tot - ihl
        if seglen is not None:
            old = l3[12:20] + struct.pack("!BBH", 0, proto, seglen)
            new = src + dst + struct.pack("!IxxxB", seglen, proto)
            csum = struct.unpack("!H", body[pos:pos + 2])[0]
            if proto == PROTO_UDP and csum == 0:
                if not fragment and len(body) == seglen:
                    csum = checksum(new + bytes(body[:6]) + b"\0\0"
                                    + bytes(body[8:])) or 0xffff
            else:
                csum = adjust(csum, old, new)
            struct.pack_into("!H", body, pos, csum)
    hdr = struct.pack("!IHBB", 6 << 28 | tos << 20, plen, nh, ttl)
    return hdr + src + dst + ext + bytes(body)


def new_link(linktype, data, fr):
    """The link header of the rewritten frame."""
    l2 = bytearray(fr.l2)
    if linktype == LT_EN10MB:
        off = 12
        while struct.unpack("!H", l2[off:off + 2])[0] in VLAN_TPIDS:
            off += 4
        struct.pack_into("!H", l2, off, ET_IPV6)
    elif linktype == LT_SLL:
        struct.pack_into("!H", l2, 14, ET_IPV6)
    elif linktype == LT_SLL2:
        struct.pack_into("!H", l2, 0, ET_IPV6)
    elif linktype == LT_NULL:
        le = struct.unpack("<I", data[:4])[0] == 2
        l2 = bytearray(struct.pack("<I" if le else ">I", 30))
    elif linktype == LT_LOOP:
        l2 = bytearray(struct.pack("!I", 24))
    return bytes(l2)


def convert(in_path, out_path, prefix, fix=False):
    """Writes the IPv6 copy; returns (written, dropped ICMP/bad)."""
    cap = read_capture(in_path)
    lengths = datagram_lengths(cap)
    w = CaptureWriter(out_path, "pcap", cap.endian, cap.res, cap.linktype,
                      cap.snaplen)
    dropped = 0
    try:
        for p in cap.packets:
            fr = decode_link(cap.linktype, p.data)
            if fr is None or fr.ethertype != ET_IPV4:
                w.write(p.ts, p.data, p.origlen)
                continue
            l3 = to_ipv6(fr.l3, prefix, lengths)
            if l3 is None:
                dropped += 1
                continue
            if fix:
                l3 = fix_checksums(l3)
            data = new_link(cap.linktype, p.data, fr) + l3
            w.write(p.ts, data, p.origlen - len(p.data) + len(data))
    finally:
        w.close()
    if dropped:
        print("pcap4to6: %d IPv4 packet(s) not written (ICMP, or not IPv4 "
              "inside)" % dropped, file=sys.stderr)
    return w.count, dropped


def parse_prefix(text):
    net = ipaddress.ip_network(text, strict=True)
    if net.version != 6 or net.prefixlen != 96:
        raise argparse.ArgumentTypeError("want an IPv6 /96, e.g. "
                                         "2001:db8::/96")
    return net.network_address.packed


def selftest():
    """The self-test's synthetic capture through the rewrite: same streams
    under the mapped addresses, every TCP checksum right exactly where it
    was right, the timestamps kept, IPv6 and ARP copied."""
    from pcapvar.base import LT_EN10MB as EN
    from pcapvar.reasm import reassemble
    from pcapvar.synth import synthetic_capture
    from pcapvar.inet import checksums_ok
    from pcapvar.pcapio import write_capture
    set_quiet(True)
    tmp = tempfile.mkdtemp(prefix="pcap4to6-")
    probs = []
    try:
        src = synthetic_capture(EN, "<", 6)
        # Make one IPv4 TCP packet's sum right: the copy must keep it so.
        for p in src.packets:
            fr = decode_link(EN, p.data)
            t = parse_tcp(fr.l3) if fr.ethertype == ET_IPV4 else None
            if t is not None and t.plen() > 100:
                p.data = p.data[:14] + fix_checksums(fr.l3)
                break
        a, b = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
        write_capture(src, a)
        prefix = parse_prefix("2001:db8::/96")
        convert(a, b, prefix)
        src, out = read_capture(a), read_capture(b)
        s4, s6 = reassemble(src), reassemble(out)
        want = {}
        for (sa, sp, da, dp), st in s4.items():
            k = ((map_addr(prefix, sa), sp, map_addr(prefix, da), dp)
                 if len(sa) == 4 else (sa, sp, da, dp))
            want[k] = st.data
        if {k: v.data for k, v in s6.items()} != want:
            probs.append("streams differ after the rewrite")
        if len(out.packets) != len(src.packets):
            probs.append("%d packets written of %d" % (len(out.packets),
                                                       len(src.packets)))
        for n, (p, q) in enumerate(zip(src.packets, out.packets)):
            f, g = decode_link(EN, p.data), decode_link(EN, q.data)
            if f.ethertype != ET_IPV4:
                if p.data != q.data:
                    probs.append("#%d non-IPv4 frame changed" % n)
                continue
            if g.ethertype != ET_IPV6 or q.ts != p.ts:
                probs.append("#%d not IPv6 at the same time" % n)
            before, after = checksums_ok(f.l3), checksums_ok(g.l3)
            if before is not None and before != after:
                probs.append("#%d checksum %s before, %s after"
                             % (n, before, after))
        addr = ipaddress.ip_address(map_addr(prefix, bytes([192, 0, 2, 7])))
        if str(addr) != "2001:db8::c000:207":
            probs.append("192.0.2.7 maps to %s" % addr)
    finally:
        shutil.rmtree(tmp)
    for msg in probs:
        print("FAIL", msg)
    print("pcap4to6 selftest: %s" % ("FAIL" if probs else "ok"))
    return 1 if probs else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["selftest"]:
        return selftest()
    ap = argparse.ArgumentParser(
        prog="pcap4to6.py", description="Rewrite an IPv4 capture as IPv6 "
        "(see the docstring).")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--prefix", type=parse_prefix,
                    default=parse_prefix("2001:db8::/96"),
                    help="the /96 the IPv4 addresses go into")
    ap.add_argument("--fix-checksums", action="store_true",
                    help="make every complete TCP packet's sum right")
    a = ap.parse_args(argv)
    try:
        n, _ = convert(a.input, a.output, a.prefix, a.fix_checksums)
    except (CaptureError, OSError) as e:
        print("pcap4to6: %s" % e, file=sys.stderr)
        return 2
    print("%s: %d packets" % (a.output, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
