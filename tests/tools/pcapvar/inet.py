"""inet - IPv4, IPv6 and TCP: finding the TCP segment in a layer 3 packet,
building segments with right lengths and checksums, the IPv6 extension
header chain, and which endpoints are servers.

Offsets are into the layer 3 bytes.  A TCP packet is "complete" when the
whole IP packet was captured and it is no fragment: only then can its
checksum be computed and is its payload all there.  An IPv6 atomic
fragment (a fragment header with offset 0 and M 0) is no fragment: RFC
6946 says it is processed on its own, as if it had no such header.
"""

import struct

from .base import ET_IPV4, ET_IPV6, SMTP_PORTS, TH_ACK, TH_SYN

PROTO_TCP = 6
PROTO_UDP = 17
NH_HOPOPTS = 0
NH_ROUTING = 43
NH_FRAGMENT = 44
NH_AH = 51
NH_NONE = 59
NH_DSTOPTS = 60
# Extension headers whose length byte counts 8-byte units beyond the first
# 8 (hop-by-hop, routing, destination options, mobility, HIP, shim6).
EXT_8 = (NH_HOPOPTS, NH_ROUTING, NH_DSTOPTS, 135, 139, 140)
# A bound on the chain: real packets carry a few; past this the packet is
# taken for not-TCP rather than walked further.
MAX_EXT_HEADERS = 16
IP6_HLEN = 40


def checksum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def sdiff(a, b):
    """a - b for 32-bit sequence numbers, as a signed number."""
    d = (a - b) & 0xffffffff
    return d - (1 << 32) if d >= 1 << 31 else d


# ---------------------------------------------------------------- IPv6 chain

class Ip6Chain:
    """The extension headers of an IPv6 packet, walked from the fixed
    header: headers is [(type, offset, length)], proto and off the upper
    layer's protocol and offset, frag (offset in bytes, more, ident,
    header offset) when a fragment header was met, final_dst the address
    the upper layer's pseudo-header uses (RFC 8200 8.1)."""
    __slots__ = ("headers", "proto", "off", "frag", "final_dst")


def walk_ipv6(l3, end=None):
    """Returns the Ip6Chain of an IPv6 packet, or None when the chain is
    cut short, longer than MAX_EXT_HEADERS, or the fixed header is not
    there.  After a non-atomic fragment header the walk stops (what
    follows is the fragmentable part, maybe not the start of it)."""
    n = len(l3) if end is None else min(end, len(l3))
    if n < IP6_HLEN or l3[0] >> 4 != 6:
        return None
    c = Ip6Chain()
    c.headers = []
    c.frag = None
    c.final_dst = l3[24:40]
    nh, off = l3[6], IP6_HLEN
    for _ in range(MAX_EXT_HEADERS):
        if nh in EXT_8 or nh == NH_AH:
            if off + 8 > n:
                return None
            hlen = ((l3[off + 1] + 2) * 4 if nh == NH_AH
                    else (l3[off + 1] + 1) * 8)
            if off + hlen > n:
                return None
            if nh == NH_ROUTING and l3[off + 3]:
                c.final_dst = _routing_final(l3, off, hlen)
            c.headers.append((nh, off, hlen))
            nh, off = l3[off], off + hlen
        elif nh == NH_FRAGMENT:
            if off + 8 > n:
                return None
            fo = struct.unpack("!H", l3[off + 2:off + 4])[0]
            ident = struct.unpack("!I", l3[off + 4:off + 8])[0]
            c.frag = (fo & 0xfff8, bool(fo & 1), ident, off)
            c.headers.append((nh, off, 8))
            nh, off = l3[off], off + 8
            if c.frag[0] or c.frag[1]:
                break
        else:
            break
    else:
        return None
    c.proto, c.off = nh, off
    return c


def _routing_final(l3, off, hlen):
    """The final destination of a routing header with segments left: the
    last address of type 0 or 2, Segment List[0] of type 4 (RFC 8754)."""
    rtype = l3[off + 2]
    if rtype in (0, 2) and hlen >= 24:
        k = (hlen - 8) // 16
        return l3[off + 8 + 16 * (k - 1):off + 8 + 16 * k]
    if rtype == 4 and hlen >= 24:
        return l3[off + 8:off + 24]
    return l3[24:40]


def is_fragment(l3):
    """True for an IPv4 or IPv6 fragment (an atomic fragment is none)."""
    if len(l3) >= 20 and l3[0] >> 4 == 4:
        return bool(struct.unpack("!H", l3[6:8])[0] & 0x3fff)
    c = walk_ipv6(l3)
    return c is not None and c.frag is not None and bool(c.frag[0]
                                                         or c.frag[1])


# ---------------------------------------------------------------- TCP

class Tcp:
    """A TCP segment found in a layer 3 packet (IPv4 or IPv6).

    iphl: offset of the TCP header (the IP header plus, for IPv6, its
    extension headers); end: end of the IP packet within what was
    captured; csum_dst: the destination the pseudo-header uses."""
    __slots__ = ("v", "src", "dst", "sport", "dport", "seq", "ack", "flags",
                 "window", "wscale", "iphl", "thl", "end", "complete",
                 "csum_dst")

    def key(self):
        return (self.src, self.sport, self.dst, self.dport)

    def payload(self, l3):
        return l3[self.iphl + self.thl:self.end]

    def plen(self):
        return self.end - self.iphl - self.thl


def parse_tcp(l3):
    """Returns a Tcp for an IPv4 or IPv6 packet holding TCP, else None.

    For a packet whose bytes were cut by the snap length the payload is
    what was captured; a fragment is not TCP (its first piece has the
    header but not the whole segment) and gives None.  IPv6 extension
    headers are walked (up to MAX_EXT_HEADERS)."""
    n = len(l3)
    if n < 20:
        return None
    t = Tcp()
    t.v = l3[0] >> 4
    if t.v == 4:
        ihl = (l3[0] & 0x0f) * 4
        tot = struct.unpack("!H", l3[2:4])[0]
        frag = struct.unpack("!H", l3[6:8])[0]
        if ihl < 20 or tot < ihl or l3[9] != PROTO_TCP or frag & 0x3fff:
            return None
        t.src, t.dst = l3[12:16], l3[16:20]
        t.csum_dst = t.dst
    elif t.v == 6:
        if n < IP6_HLEN:
            return None
        tot = IP6_HLEN + struct.unpack("!H", l3[4:6])[0]
        c = walk_ipv6(l3, tot)
        if c is None or c.proto != PROTO_TCP or (
                c.frag is not None and (c.frag[0] or c.frag[1])):
            return None
        ihl = c.off
        t.src, t.dst = l3[8:24], l3[24:40]
        t.csum_dst = c.final_dst
    else:
        return None
    t.complete = tot <= n
    t.end = min(tot, n)
    if t.end < ihl + 20:
        return None
    (t.sport, t.dport, t.seq, t.ack, off, t.flags,
     t.window) = struct.unpack("!HHIIBBH", l3[ihl:ihl + 16])
    t.iphl = ihl
    t.thl = (off >> 4) * 4
    if t.thl < 20 or ihl + t.thl > t.end:
        return None
    t.wscale = tcp_wscale(l3, t) if t.flags & TH_SYN else None
    return t


def tcp_wscale(l3, t):
    """The window scale shift a SYN offers, or None."""
    opts = l3[t.iphl + 20:t.iphl + t.thl]
    k = 0
    while k < len(opts):
        kind = opts[k]
        if kind == 0:
            break
        if kind == 1:
            k += 1
            continue
        if k + 1 >= len(opts) or opts[k + 1] < 2:
            break
        if kind == 3 and opts[k + 1] == 3 and k + 2 < len(opts):
            return min(opts[k + 2], 14)
        k += opts[k + 1]
    return None


def pseudo_header(ip_hdr, seglen, proto=PROTO_TCP):
    """The checksum pseudo-header for a segment of seglen bytes after the
    IP header ip_hdr (IPv4: 12 bytes; IPv6: 40, RFC 8200 8.1, with the
    final destination when a routing header has segments left)."""
    if ip_hdr[0] >> 4 == 4:
        return ip_hdr[12:20] + struct.pack("!BBH", 0, proto, seglen)
    c = walk_ipv6(ip_hdr)
    dst = c.final_dst if c is not None else ip_hdr[24:40]
    return ip_hdr[8:24] + dst + struct.pack("!IxxxB", seglen, proto)


def build_tcp(ip_hdr, tcp_hdr, payload, seq=None, flags=None):
    """An IPv4 or IPv6 TCP packet from header templates (ip_hdr: for IPv6
    the fixed header and any extension headers) with the lengths and
    checksums made right, and seq/flags replaced when given."""
    ip = bytearray(ip_hdr)
    tcp = bytearray(tcp_hdr)
    if ip[0] >> 4 == 4:
        struct.pack_into("!H", ip, 2, len(ip) + len(tcp) + len(payload))
        struct.pack_into("!H", ip, 10, 0)
        struct.pack_into("!H", ip, 10, checksum(bytes(ip)))
    else:
        struct.pack_into("!H", ip, 4, len(ip) - IP6_HLEN + len(tcp)
                         + len(payload))
    if seq is not None:
        struct.pack_into("!I", tcp, 4, seq & 0xffffffff)
    if flags is not None:
        tcp[13] = flags
    struct.pack_into("!H", tcp, 16, 0)
    seg = bytes(tcp) + payload
    struct.pack_into("!H", tcp, 16, checksum(
        pseudo_header(bytes(ip), len(seg)) + seg))
    return bytes(ip) + bytes(tcp) + payload


# The old name, kept for callers that only ever built IPv4.
build_ipv4_tcp = build_tcp


def fix_checksums(l3):
    """Recomputes the checksums of a complete TCP packet (IPv4: header and
    TCP; IPv6: TCP); anything else (fragments, truncated, non-TCP) is
    left alone.  Bytes after the IP packet (Ethernet padding) are kept."""
    t = parse_tcp(l3)
    if t is None or not t.complete:
        return l3
    ihl = t.iphl
    body = build_tcp(l3[:ihl], l3[ihl:ihl + t.thl], t.payload(l3))
    return body + l3[t.end:]


def checksums_ok(l3):
    """True when a complete TCP packet has valid checksums (IPv4 header
    and TCP), False when not, None when it cannot be checked."""
    t = parse_tcp(l3)
    if t is None or not t.complete:
        return None
    if t.v == 4 and checksum(l3[:t.iphl]) != 0:
        return False
    seg = l3[t.iphl:t.end]
    return checksum(pseudo_header(l3[:t.iphl], len(seg)) + seg) == 0


def find_servers(frames):
    """The (address, port) endpoints that are TCP servers.

    The receiver of a SYN (or the sender of a SYN-ACK) is the server; for a
    connection whose handshake was not captured, the end with an SMTP port,
    else the one with the lower port.  The sll modes need this to mark
    packets as received by or sent from the capturing host."""
    servers = set()
    conns = []
    for fr in frames:
        if fr is None or fr.ethertype not in (ET_IPV4, ET_IPV6):
            continue
        t = parse_tcp(fr.l3)
        if t is None:
            continue
        if t.flags & TH_SYN:
            servers.add((t.src, t.sport) if t.flags & TH_ACK
                        else (t.dst, t.dport))
        conns.append(((t.src, t.sport), (t.dst, t.dport)))
    for a, b in conns:
        if a in servers or b in servers:
            continue
        if (a[1] in SMTP_PORTS) != (b[1] in SMTP_PORTS):
            servers.add(a if a[1] in SMTP_PORTS else b)
        else:
            servers.add(a if a[1] < b[1] else b)
    return servers
