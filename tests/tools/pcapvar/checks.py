"""checks - what the self-test demands of each general mode's output:
the same TCP streams as the input (every mode), and the mode's own
promises (link modes: header fields; hostile: segmentation).  The IPv6
modes' checks are in checks6.py."""

import ipaddress
import struct

from .base import (ARPHRD_ETHER,
                   ARPHRD_LOOPBACK, ET_8021AD, ET_8021Q, ET_IPV4, ET_IPV6,
                   LT_EN10MB, PACKET_HOST, PACKET_OUTGOING, TH_ACK, TH_FIN,
                   TH_SYN)
from .driver import out_linktype
from .inet import checksums_ok, find_servers, fix_checksums, parse_tcp, sdiff
from .link import decode_link

class Checker:
    def __init__(self):
        self.failed = 0

    def check(self, name, problems):
        if problems:
            self.failed += 1
            print("FAIL %s" % name)
            for msg in problems[:10]:
                print("     %s" % msg)
        else:
            print("ok   %s" % name)


def tcp6_sum_ok(l3):
    """The TCP checksum of an IPv6 packet, checked without inet.py (so a
    mistake there cannot hide itself): RFC 8200 8.1's pseudo-header, the
    header's own destination (the rewrites' routing headers have segments
    left 0), the upper layer found by walking the chain by hand."""
    nh, off = l3[6], 40
    end = 40 + int.from_bytes(l3[4:6], "big")
    while nh in (0, 43, 44, 60):
        nh, off = l3[off], off + (8 if nh == 44 else (l3[off + 1] + 1) * 8)
    if nh != 6:
        return False
    seg = l3[off:end]
    data = (l3[8:40] + (end - off).to_bytes(4, "big") + b"\0\0\0\x06"
            + seg + b"\0" * (len(seg) % 2))
    total = 0
    for k in range(0, len(data), 2):
        total += data[k] << 8 | data[k + 1]
    while total > 0xffff:
        total = (total & 0xffff) + (total >> 16)
    return total == 0xffff


def compare_streams(orig, var):
    problems = []
    if set(orig) != set(var):
        problems.append("TCP directions differ: %d vs %d"
                        % (len(orig), len(var)))
    for k in orig:
        if k not in var:
            continue
        a, b = orig[k], var[k]
        if a.data != b.data:
            problems.append("stream %s differs (%d vs %d bytes)"
                            % (fmt_key(k), len(a.data), len(b.data)))
        if b.conflicts:
            problems.append("stream %s: %d conflicting bytes"
                            % (fmt_key(k), b.conflicts))
        if a.gaps != b.gaps:
            problems.append("stream %s: %d gaps, original %d"
                            % (fmt_key(k), b.gaps, a.gaps))
        if a.fin != b.fin:
            problems.append("stream %s: FIN at %s, original %s"
                            % (fmt_key(k), b.fin, a.fin))
    return problems


def fmt_key(k):
    def addr(a):
        return str(ipaddress.ip_address(bytes(a)))
    return "%s:%d>%s:%d" % (addr(k[0]), k[1], addr(k[2]), k[3])


def check_link_variant(src, var, mode, fix):
    """A link-mode variant: same layer 3 bytes and timestamps frame by
    frame (only non-IP frames may be missing from null/loop/raw), the right
    link type, byte order and header contents."""
    problems = []
    want_lt = out_linktype(mode, src)
    if var.linktype != want_lt:
        problems.append("link type %d, want %d" % (var.linktype, want_lt))
    if var.endian != src.endian or var.res != src.res:
        problems.append("byte order/precision changed")
    if var.fmt != ("pcapng" if mode == "pcapng" else "pcap"):
        problems.append("file format %s" % var.fmt)
    sf = [decode_link(src.linktype, p.data) for p in src.packets]
    keep = [(p, f) for p, f in zip(src.packets, sf)
            if mode not in ("null", "loop", "raw") or f.ethertype in (ET_IPV4,
                                                              ET_IPV6)]
    if len(keep) != len(var.packets):
        problems.append("%d packets, want %d" % (len(var.packets),
                                                 len(keep)))
        return problems
    servers = find_servers(sf)
    for n, ((p, f), q) in enumerate(zip(keep, var.packets)):
        g = decode_link(var.linktype, q.data)
        if q.ts != p.ts:
            problems.append("#%d timestamp %d, want %d" % (n, q.ts, p.ts))
        if mode == "pcapng":
            if q.data != p.data:
                problems.append("#%d frame changed" % n)
            continue
        want = fix_checksums(f.l3) if fix else f.l3
        if g is None or g.l3 != want or g.ethertype != f.ethertype:
            problems.append("#%d layer 3 changed" % n)
        if q.origlen - len(q.data) != p.origlen - len(p.data):
            problems.append("#%d original length not adjusted" % n)
        if fix and checksums_ok(g.l3) is False:
            problems.append("#%d checksum still wrong" % n)
        if mode in ("null", "loop"):
            # null: the file's byte order; loop: network byte order.
            order = src.endian if mode == "null" else "!"
            af = struct.unpack(order + "I", q.data[:4])[0]
            # Literal values: the documented choice, not the constants
            # the tool writes with (macOS 30, OpenBSD 24).
            want_af = 2 if f.ethertype == ET_IPV4 else (
                30 if mode == "null" else 24)
            if af != want_af:
                problems.append("#%d AF %d, want %d in %s byte order"
                                % (n, af, want_af, order))
        if mode in ("vlan", "qinq"):
            tags = ([ET_8021Q, 42] if mode == "vlan"
                    else [ET_8021AD, 100, ET_8021Q, 42])
            got = list(struct.unpack("!%dH" % len(tags),
                                     q.data[12:12 + 2 * len(tags)]))
            if got != tags:
                problems.append("#%d tags %s" % (n, got))
        if mode in ("sll", "sll2"):
            if mode == "sll":
                ptype, arphrd, alen = struct.unpack("!HHH", q.data[:6])
            else:
                arphrd, ptype, alen = struct.unpack("!HBB", q.data[8:12])
            t = parse_tcp(f.l3) if f.ethertype in (ET_IPV4,
                                                   ET_IPV6) else None
            want_pt = (PACKET_OUTGOING if t and (t.dst, t.dport)
                       not in servers else PACKET_HOST)
            if ptype != want_pt or alen != 6 or arphrd not in (
                    ARPHRD_ETHER, ARPHRD_LOOPBACK):
                problems.append("#%d sll fields %d/%d/%d"
                                % (n, ptype, arphrd, alen))
    return problems


def check_hostile(src, var):
    """The properties hostile mode promises, checked on its output."""
    problems = []
    if var.linktype != LT_EN10MB:
        problems.append("link type %d" % var.linktype)
    # Map every output TCP packet back to the original packet it came
    # from: payload by the sequence range it covers, the rest by headers.
    orig = []
    by_hdr = {}
    first_seq = {}          # directions without a SYN: their first seq
    for i, p in enumerate(src.packets):
        f = decode_link(src.linktype, p.data)
        t = (parse_tcp(f.l3) if f and f.ethertype in (ET_IPV4, ET_IPV6)
             else None)
        orig.append((p, f, t))
        if t is not None:
            by_hdr.setdefault((t.key(), t.seq, t.ack, t.flags), i)
            first_seq.setdefault(t.key(), None if t.flags & TH_SYN
                                 else t.seq)
    midstream = set(k for k, v in first_seq.items() if v is not None)

    def origin(t, plen):
        if plen == 0:
            return by_hdr.get((t.key(), t.seq, t.ack, t.flags))
        for i, (_, _, u) in enumerate(orig):
            if u is None or u.key() != t.key():
                continue
            n = u.end - u.iphl - u.thl
            a = sdiff(t.seq, u.seq)
            if 0 <= a and a + plen <= n:
                return i
        return None

    last_ts = None
    max_seen = {}           # direction key -> highest origin seen so far
    fin_seen = set()
    handshake_done = set()
    sizes, seqs = [], {}
    dups = reorders = overlaps = 0
    seen_segs = {}
    for n, q in enumerate(var.packets):
        if last_ts is not None and q.ts < last_ts:
            problems.append("#%d timestamp goes back" % n)
        last_ts = q.ts
        f = decode_link(var.linktype, q.data)
        if f is None or f.ethertype not in (ET_IPV4, ET_IPV6):
            continue
        t = parse_tcp(f.l3)
        if t is None:
            continue
        if (checksums_ok(f.l3) is False if f.ethertype == ET_IPV4
                else not tcp6_sum_ok(f.l3)):
            problems.append("#%d bad checksum" % n)
        plen = t.end - t.iphl - t.thl
        k = t.key()
        conn = frozenset([k, (k[2], k[3], k[0], k[1])])
        rev = (k[2], k[3], k[0], k[1])
        o = origin(t, plen)
        if o is None:
            problems.append("#%d: no original packet holds it" % n)
            continue
        # The turn rule: nothing from a later packet of the other
        # direction may have been written yet.
        if max_seen.get(rev, -1) > o:
            problems.append("#%d (from #%d) after packet #%d of the other "
                            "direction" % (n, o, max_seen[rev]))
        max_seen[k] = max(max_seen.get(k, -1), o)
        if t.flags & TH_SYN and t.flags & TH_ACK:
            handshake_done.add(conn)
        if first_seq.get(k) is not None:
            if t.seq != first_seq[k]:
                problems.append("#%d opens a mid-stream direction at seq "
                                "%d, not %d" % (n, t.seq, first_seq[k]))
            first_seq[k] = None
        if plen:
            if conn not in handshake_done and k not in midstream:
                problems.append("#%d data before the SYN-ACK" % n)
            if k in fin_seen:
                problems.append("#%d data after the FIN" % n)
            sizes.append(plen)
            seg = (k, t.seq, plen)
            if seg in seen_segs:
                dups += 1
            elif any(sdiff(t.seq, s) < 0 < sdiff(t.seq + plen, s)
                     for s in seqs.get(k, [])[-8:]):
                overlaps += 1
            seen_segs[seg] = n
            if seqs.get(k) and sdiff(t.seq, seqs[k][-1]) < 0:
                reorders += 1
            seqs.setdefault(k, []).append(t.seq)
        if t.flags & TH_FIN:
            fin_seen.add(k)
    if sizes and (min(sizes) < 1 or max(sizes) > 5):
        problems.append("segment sizes %d..%d" % (min(sizes), max(sizes)))
    if not (dups and reorders and overlaps):
        problems.append("too tame: %d dups, %d reorders, %d overlaps"
                        % (dups, reorders, overlaps))
    # Non-TCP packets (and fragments) must come through byte for byte.
    want = [f.l3 for p, f, t in orig if t is None]
    got = []
    for q in var.packets:
        f = decode_link(var.linktype, q.data)
        if f is None or f.ethertype not in (ET_IPV4, ET_IPV6) or \
                parse_tcp(f.l3) is None:
            got.append(f.l3)
    if got != want:
        problems.append("non-TCP packets changed (%d vs %d)"
                        % (len(got), len(want)))
    return problems


