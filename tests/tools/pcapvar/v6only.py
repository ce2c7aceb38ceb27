"""v6only - the rewrites only IPv6 has.  Each writes Ethernet (an Ethernet
input keeps its own header), leaves IPv4 and non-TCP packets as they
are (checksums made valid), and gives every IPv6 TCP packet it touches a
valid TCP checksum, so a checksum-verifying reader keeps verifying.

frag6     Every IPv6 TCP segment with payload is sent as fragments (RFC
          8200 4.5): the first holds the whole header chain and the TCP
          header (RFC 7112), the others 8 to 64 bytes, all multiples of 8
          but the last.  Each datagram's fragments are out of order, and
          the fragments of 2-3 consecutive datagrams of a turn are
          interleaved.  Half the segments without payload (handshake,
          pure ACKs) get an atomic fragment header (offset 0, M 0), which
          RFC 6946 says is processed on its own.  The reassembled streams
          are the original's.
exthdr6   Every IPv6 TCP packet gets an extension header chain before TCP,
          in RFC 8200 4.1's order, cycling through SHAPES: hop-by-hop with
          padding options only, destination options (padding, or the RFC
          4727 experimental option 0x1E, whose top bits say "skip if
          unknown"), and a routing header of type 4 (segment routing, RFC
          8754) with Segments Left 0: the packet is at its final segment,
          and RFC 8200 4.4 says a node ignores a routing header whose
          Segments Left is 0.  Never type 0.  Padding runs stay within 7
          bytes (Linux drops longer ones).  The streams are unchanged.
overlap6  Before every IPv6 TCP segment with enough payload comes a decoy:
          the same segment (same addresses, ports and sequence number)
          with its payload altered (letters ROT13, digits +5), sent as
          two fragments of one datagram that overlap by 8 or 16 bytes
          with DIFFERENT contents.  RFC 5722 (and RFC 8200 4.5): a
          receiver must then drop the whole datagram.  The genuine
          segment follows, unfragmented.  So a conforming reader sees
          exactly the original streams and the variant's expected events
          are the original's; a reader that reassembles overlapping
          fragments (first or last copy wins) takes the decoy's altered
          bytes first, since its checksum is valid under both choices (the
          overlapping words are a permutation of each other), and a TCP
          reassembler keeps the first bytes it got.
"""

import random
import struct

from .base import ET_IPV6, TH_FIN, TH_RST, TH_SYN, TH_URG
from .inet import (IP6_HLEN, NH_DSTOPTS, NH_FRAGMENT, NH_HOPOPTS,
                   NH_ROUTING, build_tcp, checksum, fix_checksums, parse_tcp,
                   walk_ipv6)
from .link import decode_link, ether_copy, ether_l2
from .turns import iter_turns, slot_times

V6_MODES = ("frag6", "exthdr6", "overlap6")

# The chains exthdr6 cycles through, in RFC 8200 4.1's order.
SHAPES = (("hbh",), ("dst",), ("hbh", "dst"), ("hbh", "rh4"),
          ("rh4", "dst"), ("hbh", "dst", "rh4", "dst"))
NH_OF = {"hbh": NH_HOPOPTS, "dst": NH_DSTOPTS, "rh4": NH_ROUTING}
# An intermediate segment for two-segment routing headers (RFC 3849).
DOC_SEGMENT = bytes.fromhex("20010db8000000000000000000005e90")
# Sizes of the fragments after the first.
FRAG_SIZES = (8, 16, 24, 32, 48, 64)
EXP_OPTION = 0x1e        # RFC 4727: experimental, action 00 (skip)


class V6Options:
    def __init__(self, seed=1):
        self.seed = seed


def has_ipv6_tcp(cap):
    """True when some frame of cap is IPv6 TCP (the IPv6 modes change
    nothing else, so "all" writes them only for such captures)."""
    for p in cap.packets:
        fr = decode_link(cap.linktype, p.data)
        if (fr is not None and fr.ethertype == ET_IPV6
                and parse_tcp(fr.l3) is not None):
            return True
    return False


def _candidates(frames):
    """parse_tcp of every complete IPv6 TCP frame without a fragment
    header (an atomic one included): the packets these modes rewrite."""
    out = []
    for fr in frames:
        t = None
        if fr is not None and fr.ethertype == ET_IPV6:
            t = parse_tcp(fr.l3)
            if t is not None and (not t.complete or
                                  walk_ipv6(fr.l3, t.end).frag is not None):
                t = None
        out.append(t)
    return out


def _data(t):
    return (t is not None and t.plen() > 0
            and not t.flags & (TH_SYN | TH_RST | TH_URG))


def _setup(cap, seed):
    frames = [decode_link(cap.linktype, p.data) for p in cap.packets]
    return (random.Random(seed), 10 ** (cap.res - 6), cap.packets, frames,
            _candidates(frames))


def _out(ts, fr, l3):
    data = ether_l2(fr) + l3
    return ts, data, len(data)


# ---------------------------------------------------------------- fragments

def fragment(l3, ident, first_extra, sizes):
    """The fragments of a complete IPv6 packet l3 (no fragment header yet),
    in offset order.  The per-fragment part is the fixed header and any
    hop-by-hop, routing and destination options before a routing header
    (RFC 8200 4.5); the first fragment carries the rest of the chain and
    the upper-layer header, rounded up to 8 bytes, plus first_extra
    bytes; the others take sizes in turn (the last one what is left).  A
    packet that fits in the first fragment gives one atomic fragment."""
    c = walk_ipv6(l3)
    t = parse_tcp(l3)
    cut, last_hdr = IP6_HLEN, None
    routing = [k for k, h in enumerate(c.headers) if h[0] == NH_ROUTING]
    for k, (typ, off, hlen) in enumerate(c.headers):
        if typ == NH_HOPOPTS or (routing and k <= routing[-1]):
            cut, last_hdr = off + hlen, off
        else:
            break
    first_nh = l3[6] if last_hdr is None else l3[last_hdr]
    body = l3[cut:t.end]
    upper_end = t.iphl + t.thl - cut
    first_len = -(-upper_end // 8) * 8 + first_extra
    bounds = []
    o = 0
    k = 0
    while o < len(body):
        size = first_len if o == 0 else sizes[k % len(sizes)]
        if o:
            k += 1
        e = min(len(body), o + size)
        bounds.append((o, e))
        o = e
    frags = []
    for o, e in bounds:
        hdr = bytearray(l3[:cut])
        if last_hdr is None:
            hdr[6] = NH_FRAGMENT
        else:
            hdr[last_hdr] = NH_FRAGMENT
        struct.pack_into("!H", hdr, 4, cut - IP6_HLEN + 8 + e - o)
        more = 1 if e < len(body) else 0
        fh = struct.pack("!BBHI", first_nh, 0, o | more, ident)
        frags.append(bytes(hdr) + fh + body[o:e])
    return frags


def _riffle(rng, seqs):
    """A random interleaving of the lists in seqs that keeps each list's
    own order (each next item drawn with weight its list's length)."""
    seqs = [list(s) for s in seqs]
    out = []
    while any(seqs):
        r = rng.randrange(sum(len(s) for s in seqs))
        for s in seqs:
            if r < len(s):
                out.append(s.pop(0))
                break
            r -= len(s)
    return out


def convert_frag6(cap, opts):
    rng, unit, pkts, frames, tcps = _setup(cap, opts.seed)
    ident = rng.getrandbits(32)
    for item in iter_turns(pkts, tcps, lambda i: _data(tcps[i])):
        if item[0] == "copy":
            i = item[1]
            if tcps[i] is not None and rng.random() < 0.5:
                l3 = fix_checksums(frames[i].l3[:tcps[i].end])
                frag = fragment(l3, ident, 1 << 16, FRAG_SIZES)
                ident = (ident + 1) & 0xffffffff
                yield _out(pkts[i].ts, frames[i], frag[0])
                continue
            out = ether_copy(pkts[i], frames[i])
            if out is not None:
                yield out
            continue
        _, turn, next_ts, pin_first = item
        dgrams = []
        for i in turn:
            l3 = fix_checksums(frames[i].l3[:tcps[i].end])
            sizes = [rng.choice(FRAG_SIZES) for _ in range(6)]
            frags = fragment(l3, ident, rng.choice((0, 0, 8, 16)), sizes)
            ident = (ident + 1) & 0xffffffff
            order = list(range(len(frags)))
            rng.shuffle(order)
            if len(order) > 1 and order == sorted(order):
                order.reverse()         # out of order, every time
            dgrams.append([(i, frags[k]) for k in order])
        head = [dgrams.pop(0)] if pin_first else []
        tail = [dgrams.pop()] if dgrams and tcps[turn[-1]].flags & TH_FIN \
            else []
        # The first datagram of a direction whose start was not captured
        # completes first; a FIN's datagram completes last; the others
        # are interleaved in groups of 2-3 datagrams.
        middle = []
        while dgrams:
            g = rng.randint(2, 3)
            middle += _riffle(rng, dgrams[:g])
            dgrams = dgrams[g:]
        elems = [x for d in head for x in d] + middle + \
            [x for d in tail for x in d]
        counts = [sum(1 for j, _ in elems if j == i) for i in turn]
        slots = slot_times(turn, pkts, next_ts, counts, unit)
        for pos, (i, frag) in enumerate(elems):
            yield _out(slots[pos], frames[i], frag)


# ---------------------------------------------------------------- chains

def _padding(rng):
    """Six bytes of options that are padding only: Pad1s and a PadN."""
    return rng.choice((b"\x01\x04\0\0\0\0",      # PadN(4)
                       b"\0\0\x01\x02\0\0",      # Pad1, Pad1, PadN(2)
                       b"\x01\x03\0\0\0\0",      # PadN(3), Pad1
                       b"\0" * 6))                # six Pad1


def _ext_header(kind, nh, dst, rng):
    if kind == "hbh":
        return bytes([nh, 0]) + _padding(rng)
    if kind == "dst":
        if rng.random() < 0.5:
            return bytes([nh, 0]) + _padding(rng)
        # The experimental option (6 bytes of data), then 4 bytes of PadN.
        return (bytes([nh, 1, EXP_OPTION, 6]) + b"wb-exp"
                + b"\x01\x04\0\0\0\0")
    # Segment routing, Segments Left 0: Segment List[0] is the final
    # destination, which is where the packet is (its IPv6 destination).
    segs = [dst] + ([DOC_SEGMENT] if rng.random() < 0.5 else [])
    return (struct.pack("!BBBBBBH", nh, 2 * len(segs), 4, 0, len(segs) - 1,
                        0, 0) + b"".join(segs))


def add_chain(l3, shape, rng):
    """l3 (a complete IPv6 TCP packet without extension headers) with the
    chain shape inserted after the fixed header, checksums made right."""
    t = parse_tcp(l3)
    kinds = list(shape)
    chain = b""
    for k, kind in enumerate(kinds):
        nh = NH_OF[kinds[k + 1]] if k + 1 < len(kinds) else l3[6]
        chain += _ext_header(kind, nh, l3[24:40], rng)
    hdr = bytearray(l3[:IP6_HLEN])
    hdr[6] = NH_OF[kinds[0]]
    ip_hdr = bytes(hdr) + chain
    return build_tcp(ip_hdr, l3[t.iphl:t.iphl + t.thl], t.payload(l3))


def convert_exthdr6(cap, opts):
    rng, _, pkts, frames, tcps = _setup(cap, opts.seed)
    n = 0
    for p, fr, t in zip(pkts, frames, tcps):
        if t is not None and t.iphl == IP6_HLEN:
            l3 = add_chain(fr.l3[:t.end], SHAPES[n % len(SHAPES)], rng)
            n += 1
            yield _out(p.ts, fr, l3)
            continue
        out = ether_copy(p, fr)
        if out is not None:
            yield out


# ---------------------------------------------------------------- overlaps

_ROT = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    b"NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm5678901234")


def poison(payload):
    """The decoy's payload: letters ROT13, digits +5 (a reply code 250
    becomes 705, which no reader takes for a reply), the rest as is."""
    return payload.translate(_ROT)


def same_sum_variant(region):
    """Other bytes with the same one's complement sum: the 16-bit words
    rotated by one, or (all words equal) two words moved by +1 and -1."""
    words = list(struct.unpack("!%dH" % (len(region) // 2), region))
    rot = words[1:] + words[:1]
    if rot != words:
        return struct.pack("!%dH" % len(rot), *rot)
    w = words[0]
    if 0 < w < 0xffff:
        words[0], words[1] = w + 1, w - 1
    else:
        words[0], words[1] = 1, 0xfffe
    return struct.pack("!%dH" % len(words), *words)


def decoy(l3, ident, rng):
    """The two overlapping fragments of the decoy of l3 (a complete IPv6
    TCP packet without extension headers), or None when its payload is
    too short for an overlap that leaves the TCP header whole."""
    t = parse_tcp(l3)
    bad = build_tcp(l3[:IP6_HLEN], l3[IP6_HLEN:t.iphl + t.thl],
                    poison(t.payload(l3)))
    body = bad[IP6_HLEN:]
    start = -(-t.thl // 8) * 8          # the overlap is payload only
    ov = rng.choice((8, 16))
    if start + ov >= len(body):
        ov = 8
        if start + ov >= len(body):
            return None
    b = start + 8 * rng.randrange((len(body) - start - ov - 1) // 8 + 1)
    region = body[b:b + ov]
    other = same_sum_variant(region)
    assert other != region and checksum(other) == checksum(region)
    hdr = bytearray(bad[:IP6_HLEN])
    hdr[6] = NH_FRAGMENT
    out = []
    for o, data, more in ((0, body[:b + ov], 1),
                          (b, other + body[b + ov:], 0)):
        h = bytearray(hdr)
        struct.pack_into("!H", h, 4, 8 + len(data))
        out.append(bytes(h) + struct.pack("!BBHI", l3[6], 0, o | more,
                                          ident) + data)
    return out


def convert_overlap6(cap, opts):
    rng, unit, pkts, frames, tcps = _setup(cap, opts.seed)
    ident = rng.getrandbits(32)
    for i, (p, fr, t) in enumerate(zip(pkts, frames, tcps)):
        if _data(t) and t.iphl == IP6_HLEN:
            l3 = fix_checksums(fr.l3[:t.end])
            frags = decoy(l3, ident, rng)
            if frags is not None:
                ident = (ident + 1) & 0xffffffff
                if rng.random() < 0.5:
                    frags.reverse()
                nxt = pkts[i + 1].ts if i + 1 < len(pkts) else None
                slots = slot_times([i], pkts, nxt, [3], unit)
                for ts, frag in zip(slots, frags + [l3]):
                    yield _out(ts, fr, frag)
                continue
        # Not IPv6 TCP data, or too short for a decoy: as it is.
        out = ether_copy(p, fr)
        if out is not None:
            yield out
