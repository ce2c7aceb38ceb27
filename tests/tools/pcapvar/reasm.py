"""reasm - reassembly for checking variants: TCP directions by sequence
number, and IPv6 fragments the way RFC 8200 4.5 and RFC 5722 want them
(or, to show what overlap6 does to a careless reader, first or last copy
wins).

This is the self-test's reference reader: it must be simple enough to be
obviously right, not fast.
"""

import struct

from .base import ET_IPV4, ET_IPV6, TH_FIN, TH_SYN
from .inet import IP6_HLEN, is_fragment, parse_tcp, sdiff, walk_ipv6
from .link import decode_link


class Stream:
    """One direction of a TCP connection reassembled by sequence number.

    data: the bytes from the first one (ISN+1 when the SYN was seen, else
    the lowest sequence number seen); gaps: bytes never seen below the
    highest one; conflicts: bytes seen twice with different values;
    fin: offset of the FIN, or None."""

    def __init__(self):
        self.segs = []
        self.isn = None
        self.fin = None
        self.data = b""
        self.gaps = 0
        self.conflicts = 0

    def finish(self):
        if self.isn is not None:
            base = (self.isn + 1) & 0xffffffff
        elif self.segs:
            # The lowest seq, in serial number arithmetic from the first.
            first = self.segs[0][0]
            base = min(self.segs, key=lambda s: sdiff(s[0], first))[0]
        else:
            base = 0
        buf = bytearray()
        have = bytearray()
        for seq, payload, flags in self.segs:
            a = sdiff(seq, base)
            if flags & TH_FIN:
                self.fin = a + len(payload)
            if a < 0 or not payload:
                continue
            b = a + len(payload)
            if b > len(buf):
                buf.extend(b"\0" * (b - len(buf)))
                have.extend(b"\0" * (b - len(have)))
            if any(have[a:b]):
                for k in range(a, b):
                    if have[k] and buf[k] != payload[k - a]:
                        self.conflicts += 1
            buf[a:b] = payload
            have[a:b] = b"\1" * (b - a)
        self.gaps = have.count(0)
        self.data = bytes(buf)


class Ip6Defrag:
    """IPv6 fragment reassembly.  policy "rfc5722": a datagram with any
    overlap is dropped whole, and later fragments of it too; "first" or
    "last": overlapping bytes are taken from the first or the last copy.
    dropped counts the datagrams dropped for an overlap."""

    def __init__(self, policy="rfc5722"):
        assert policy in ("rfc5722", "first", "last")
        self.policy = policy
        self.queues = {}
        self.dead = set()
        self.dropped = 0

    def add(self, l3):
        """Takes one fragment; returns the reassembled packet when this
        one completed it, else None."""
        end = IP6_HLEN + struct.unpack("!H", l3[4:6])[0]
        c = walk_ipv6(l3, end)
        if c is None or c.frag is None:
            return None
        fo, more, ident, hoff = c.frag
        key = (l3[8:24], l3[24:40], ident)
        if key in self.dead:
            return None
        q = self.queues.setdefault(key, {"unfrag": None, "prev": None,
                                         "nh": None, "pieces": [],
                                         "end": None})
        data = l3[hoff + 8:end]
        if any(o < fo + len(data) and fo < o + len(d)
               for o, d in q["pieces"]):
            if self.policy == "rfc5722":
                del self.queues[key]
                self.dead.add(key)
                self.dropped += 1
                return None
        q["pieces"].append((fo, data))
        if fo == 0:
            q["unfrag"] = l3[:hoff]
            q["nh"] = l3[hoff]
            q["prev"] = c.headers[-2][1] if len(c.headers) > 1 else None
        if not more:
            q["end"] = fo + len(data)
        if q["unfrag"] is None or q["end"] is None:
            return None
        covered = bytearray(q["end"])
        for o, d in q["pieces"]:
            covered[o:o + len(d)] = b"\1" * len(d)
        if len(covered) != q["end"] or not all(covered):
            return None
        buf = bytearray(q["end"])
        order = q["pieces"] if self.policy == "last" else q["pieces"][::-1]
        for o, d in order:
            buf[o:o + len(d)] = d
        del self.queues[key]
        hdr = bytearray(q["unfrag"])
        hdr[6 if q["prev"] is None else q["prev"]] = q["nh"]
        struct.pack_into("!H", hdr, 4, len(hdr) - IP6_HLEN + len(buf))
        return bytes(hdr) + bytes(buf)


def reassemble(cap, policy="rfc5722", stats=None):
    """{(src, sport, dst, dport): Stream} for every TCP direction (IPv4 and
    IPv6) in the capture, read through the link layer, IPv6 fragments
    reassembled by policy (see Ip6Defrag).  IPv4 fragments are left out.
    stats, a dict, gets "dropped" (datagrams dropped for overlaps) and
    "reassembled"."""
    streams = {}
    defrag = Ip6Defrag(policy)
    done = 0
    for p in cap.packets:
        fr = decode_link(cap.linktype, p.data)
        if fr is None or fr.ethertype not in (ET_IPV4, ET_IPV6):
            continue
        l3 = fr.l3
        if fr.ethertype == ET_IPV6 and is_fragment(l3):
            l3 = defrag.add(l3)
            if l3 is None:
                continue
            done += 1
        t = parse_tcp(l3)
        if t is None:
            continue
        s = streams.setdefault(t.key(), Stream())
        if t.flags & TH_SYN:
            s.isn = t.seq
        s.segs.append((t.seq, t.payload(l3), t.flags))
    for s in streams.values():
        s.finish()
    if stats is not None:
        stats["dropped"] = defrag.dropped
        stats["reassembled"] = done
    return streams
