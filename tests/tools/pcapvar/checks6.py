"""checks6 - what the self-test demands of the IPv6 modes' output, beyond
the same TCP streams (which reasm checks for every mode, reassembling
IPv6 fragments the RFC 5722 way)."""

import struct

from .base import ET_IPV6, TH_RST, TH_SYN, TH_URG
from .checks import compare_streams, tcp6_sum_ok
from .inet import (IP6_HLEN, NH_DSTOPTS, NH_HOPOPTS, NH_ROUTING,
                   fix_checksums, parse_tcp, walk_ipv6)
from .link import decode_link
from .reasm import Ip6Defrag, reassemble
from .v6only import SHAPES


def _v6(var):
    """(index, l3 cut to the IPv6 packet, Ip6Chain) of every IPv6 frame."""
    for n, q in enumerate(var.packets):
        f = decode_link(var.linktype, q.data)
        if f is None or f.ethertype != ET_IPV6 or len(f.l3) < IP6_HLEN:
            continue
        end = IP6_HLEN + struct.unpack("!H", f.l3[4:6])[0]
        yield n, f.l3[:end], walk_ipv6(f.l3, end)


def _times(var):
    return ["#%d timestamp goes back" % n
            for n in range(1, len(var.packets))
            if var.packets[n].ts < var.packets[n - 1].ts]


def _bare_chains(src):
    """How many IPv6 TCP packets of src have no extension header (the
    ones exthdr6 and overlap6 rewrite), how many of those carry data, and
    the others (checksums fixed), which must come through as they are."""
    n = data = 0
    chained = set()
    for _, l3, c in _v6(src):
        t = parse_tcp(l3)
        if t is None:
            continue
        if c.headers:
            chained.add(fix_checksums(l3))
            continue
        n += 1
        data += t.plen() > 0 and not t.flags & (TH_SYN | TH_RST | TH_URG)
    return n, data, chained


def check_frag6(src, var):
    problems = _times(var)
    dgrams = {}
    atomic = bare = 0
    for n, l3, c in _v6(var):
        if c is None:
            continue
        if c.frag is None:
            t = parse_tcp(l3)
            if t is not None and t.plen() and not c.headers:
                bare += 1
            continue
        fo, more, ident, hoff = c.frag
        if l3[hoff] != 6:
            continue            # the input's own fragments (of UDP)
        if not fo and not more:
            t = parse_tcp(l3)
            atomic += t is not None and t.plen() == 0
            if not tcp6_sum_ok(l3):
                problems.append("#%d atomic fragment: bad checksum" % n)
            continue
        dgrams.setdefault(ident, []).append((n, fo, l3[hoff + 8:], more,
                                             l3[hoff]))
    if bare:
        problems.append("%d IPv6 data segment(s) not fragmented" % bare)
    sizes = set()           # of the fragments between first and last
    for ident, frags in dgrams.items():
        offs = [fo for _, fo, _, _, _ in frags]
        if offs == sorted(offs):
            problems.append("datagram %#x arrives in order" % ident)
        for n, fo, data, more, nh in frags:
            if more:
                if fo:
                    sizes.add(len(data))
                if len(data) % 8:
                    problems.append("#%d: a %d-byte fragment before the "
                                    "last" % (n, len(data)))
            if fo == 0 and nh == 6 and (len(data) < 20 or
                                        len(data) < (data[12] >> 4) * 4):
                problems.append("#%d: first fragment without the whole "
                                "TCP header" % n)
    if len(sizes) < 3:
        problems.append("fragment sizes %s: want several" % sorted(sizes))
    spans = sorted((min(f[0] for f in fr), max(f[0] for f in fr))
                   for fr in dgrams.values())
    if not any(b[0] < a[1] for a, b in zip(spans, spans[1:])):
        problems.append("no two datagrams interleaved")
    if not atomic:
        problems.append("no atomic fragment on a segment without payload")
    defrag = Ip6Defrag()
    whole = 0
    for n, l3, c in _v6(var):
        if c is not None and c.frag is not None and (
                c.frag[0] or c.frag[1]) and l3[c.frag[3]] == 6:
            d = defrag.add(l3)
            if d is not None:
                whole += 1
                if not tcp6_sum_ok(d):
                    problems.append("#%d completes a datagram with a bad "
                                    "checksum" % n)
    if whole != len(dgrams):
        problems.append("%d of %d datagrams reassemble" % (whole,
                                                           len(dgrams)))
    return problems


def _options(buf):
    """Problems with a hop-by-hop or destination options area: bad TLVs,
    padding runs over 7 bytes, an option that is not "skip if unknown"."""
    probs = []
    k = run = 0
    while k < len(buf):
        if buf[k] == 0:
            run, k = run + 1, k + 1
        elif k + 1 < len(buf) and k + 2 + buf[k + 1] <= len(buf):
            if buf[k] == 1:
                run += 2 + buf[k + 1]
            else:
                run = 0
                if buf[k] >> 6:
                    probs.append("option %#x is not skippable" % buf[k])
            k += 2 + buf[k + 1]
        else:
            return probs + ["options cut short"]
        if run > 7:
            probs.append("%d bytes of padding in a row" % run)
            run = -100
    return probs


def check_exthdr6(src, var):
    problems = _times(var)
    want, _, theirs = _bare_chains(src)
    chained = 0
    shapes = set()
    names = {NH_HOPOPTS: "hbh", NH_DSTOPTS: "dst", NH_ROUTING: "rh4"}
    for n, l3, c in _v6(var):
        t = parse_tcp(l3)
        if t is None or c is None:
            continue
        if not tcp6_sum_ok(l3):
            problems.append("#%d bad checksum" % n)
        if not c.headers or l3 in theirs:
            continue            # none, or the input's own
        chained += 1
        kinds = []
        for k, (typ, off, hlen) in enumerate(c.headers):
            kinds.append(names.get(typ, str(typ)))
            if typ == NH_HOPOPTS and k:
                problems.append("#%d hop-by-hop not first" % n)
            if typ in (NH_HOPOPTS, NH_DSTOPTS):
                problems += ["#%d %s" % (n, p)
                             for p in _options(l3[off + 2:off + hlen])]
            if typ == NH_ROUTING:
                rtype, left, last = l3[off + 2], l3[off + 3], l3[off + 4]
                nseg = l3[off + 1] // 2
                if (rtype, left) != (4, 0) or last != nseg - 1 or \
                        l3[off + 8:off + 24] != l3[24:40]:
                    problems.append("#%d routing header type %d, segments "
                                    "left %d" % (n, rtype, left))
        shapes.add(tuple(kinds))
    if chained != want:
        problems.append("%d packets with a chain, want %d" % (chained, want))
    if want >= len(SHAPES) and shapes != set(SHAPES):
        problems.append("chains %s" % sorted(shapes))
    return problems


def decoy_idents(var):
    """{fragment id: [(index, l3, chain)]} of the fragments of TCP
    datagrams in var (an overlap6 variant: the decoys)."""
    decoys = {}
    for n, l3, c in _v6(var):
        if c is not None and c.frag is not None and l3[c.frag[3]] == 6:
            decoys.setdefault(c.frag[2], []).append((n, l3, c))
    return decoys


def check_overlap6(src, var, ostreams):
    problems = _times(var)
    _, want, _ = _bare_chains(src)
    stats = {}
    reassemble(var, "rfc5722", stats)
    decoys = decoy_idents(var)
    # (The input's own UDP fragment is never completed, never dropped.)
    if not decoys or stats["dropped"] != len(decoys):
        problems.append("%d decoys, %d dropped by an RFC 5722 reader"
                        % (len(decoys), stats["dropped"]))
    if len(decoys) < want // 2:
        problems.append("only %d decoys for %d data segments"
                        % (len(decoys), want))
    for ident, frags in decoys.items():
        if len(frags) != 2:
            problems.append("decoy %#x: %d fragments" % (ident, len(frags)))
            continue
        (n1, a, ca), (n2, b, cb) = frags
        lo, hi = sorted([(ca.frag[0], a[ca.off:]), (cb.frag[0], b[cb.off:])])
        ov = len(lo[1]) - hi[0]
        if ov <= 0 or lo[1][hi[0]:] == hi[1][:ov]:
            problems.append("decoy %#x: no conflicting overlap" % ident)
        got = []
        for policy in ("first", "last"):
            d = Ip6Defrag(policy)
            d.add(a)
            whole = d.add(b)
            if whole is None or not tcp6_sum_ok(whole):
                problems.append("decoy %#x: bad checksum when the %s copy "
                                "wins" % (ident, policy))
            got.append(whole)
        if got[0] == got[1]:
            problems.append("decoy %#x: both policies agree" % ident)
        nxt = var.packets[n2 + 1] if n2 + 1 < len(var.packets) else None
        f = decode_link(var.linktype, nxt.data) if nxt else None
        t, td = parse_tcp(f.l3) if f else None, parse_tcp(got[0] or b"")
        if t is None or td is None or (t.key(), t.seq) != (td.key(),
                                                           td.seq):
            problems.append("decoy %#x not followed by its segment" % ident)
    # The point of the decoys: a reader that reassembles them anyway ends
    # up with other bytes than the original streams.
    for policy in ("first", "last"):
        if not compare_streams(ostreams, reassemble(var, policy)):
            problems.append("a %s-copy-wins reader is not fooled" % policy)
    return problems
