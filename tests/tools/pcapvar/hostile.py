"""hostile - TCP payload re-cut into 1-3 byte segments, shuffled within a
turn (see turns.py), with duplicates and overlapping retransmissions,
whose reassembly is byte for byte the original stream.  IPv4 and IPv6
alike: an IPv6 segment keeps the original's extension headers, and its
checksum covers the IPv6 pseudo-header.
"""

import random

from .base import ETH_MIN_FRAME, ET_IPV4, ET_IPV6, TH_FIN, TH_RST, TH_SYN, \
    TH_URG, TH_ACK, warn
from .inet import build_tcp, parse_tcp, sdiff
from .link import decode_link, ether_copy, ether_l2
from .turns import iter_turns, shuffle_groups, slot_times


class HostileOptions:
    def __init__(self, seed=1, dup_rate=0.1, overlap_rate=0.1, pad=True):
        self.seed = seed
        self.dup_rate = dup_rate
        self.overlap_rate = overlap_rate
        self.pad = pad


def ip_tcps(frames):
    """parse_tcp of every IPv4 or IPv6 frame, None for the others."""
    return [parse_tcp(fr.l3) if fr is not None
            and fr.ethertype in (ET_IPV4, ET_IPV6) else None
            for fr in frames]


def convert_hostile(cap, opts):
    """Yields (ts, data, origlen): the capture as Ethernet with every TCP
    payload re-cut into tiny, shuffled, duplicated and overlapping
    segments.  Packets that are not cut (see splittable) are copied with
    valid checksums; a direction's first piece stays first when its start
    was not captured, and a FIN is the last piece of its turn."""
    rng = random.Random(opts.seed)
    unit = 10 ** (cap.res - 6)              # one microsecond in ticks
    pkts = cap.packets
    frames = [decode_link(cap.linktype, p.data) for p in pkts]
    tcps = ip_tcps(frames)

    def splittable(i):
        t = tcps[i]
        return (t is not None and t.complete and t.plen() > 0
                and not t.flags & (TH_SYN | TH_RST | TH_URG))

    dropped = 0
    for item in iter_turns(pkts, tcps, splittable):
        if item[0] == "copy":
            out = ether_copy(pkts[item[1]], frames[item[1]])
            if out is None:
                dropped += 1
            else:
                yield out
            continue
        _, turn, next_ts, pin_first = item
        for out in _hostile_turn(turn, pkts, frames, tcps, next_ts, rng,
                                 unit, opts, pin_first):
            yield out
    if dropped:
        warn("hostile: %d frame(s) dropped: no known network protocol"
             % dropped)
    over = window_overruns(tcps, splittable)
    if over:
        warn("hostile: %d packet(s) carry data past the receiver's "
             "advertised window; a reassembler that checks each segment "
             "against the window (libnids does) drops the pieces cut from "
             "beyond it, while the whole original packet passed its check"
             % over)


def window_overruns(tcps, splittable):
    """Counts the re-cut packets that start inside but reach past what the
    receiver last advertised (its ACK plus its scaled window).  Real TCP
    never sends that, synthetic captures do; libnids only checks where a
    segment starts, so it takes the whole original but drops the pieces
    cut from beyond the window."""
    wscale = {}     # direction -> shift offered in its SYN
    last = {}       # direction -> (ack, window in bytes) of its last packet
    over = 0
    for i, t in enumerate(tcps):
        if t is None:
            continue
        k = t.key()
        rev = (k[2], k[3], k[0], k[1])
        if t.flags & TH_SYN:
            wscale[k] = t.wscale
            if t.flags & TH_ACK:        # a SYN's window is never scaled
                last[k] = (t.ack, t.window)
            continue
        if splittable(i) and rev in last:
            ack, win = last[rev]
            plen = t.plen()
            limit = ack + win
            # A packet that starts past the window is out of it whole, in
            # the original as much as in the variant: not counted.
            if (sdiff(t.seq, limit) < 0
                    and sdiff(t.seq + plen - 1, limit) >= 0):
                over += 1
        if t.flags & TH_ACK:
            shift = 0
            if wscale.get(k) is not None and wscale.get(rev) is not None:
                shift = wscale[k]
            last[k] = (t.ack, t.window << shift)
    return over


def _hostile_turn(turn, pkts, frames, tcps, next_ts, rng, unit, opts,
                  pin_first):
    # Cut each packet's payload into 1-3 byte pieces, (packet, start, end).
    # Re-sends are added right after their piece, before shuffling, so a
    # duplicate may land before or after its twin.  A FIN packet's last
    # piece keeps the FIN and is held back to close the turn.
    elems = []
    per_packet = []
    fin_elem = None
    for j, i in enumerate(turn):
        t = tcps[i]
        n = t.plen()
        pieces = []
        o = 0
        while o < n:
            e = min(n, o + rng.randint(1, 3))
            pieces.append((j, o, e))
            o = e
        if t.flags & TH_FIN:
            fin_elem = pieces.pop()
        count = 0
        for piece in pieces:
            elems.append(piece)
            count += 1
            r = rng.random()
            if r < opts.dup_rate:
                elems.append(piece)
                count += 1
            elif r < opts.dup_rate + opts.overlap_rate:
                # Re-send the piece grown by 1-2 bytes of the same packet:
                # forward if there is room, else backward, so the extra
                # bytes are the original stream's own.
                _, s, e = piece
                ext = rng.randint(1, 2)
                if e + ext <= n:
                    elems.append((j, s, e + ext))
                elif s - ext >= 0:
                    elems.append((j, s - ext, e))
                else:
                    elems.append((j, 0, n))
                count += 1
        if fin_elem is not None:
            count += 1
        per_packet.append(count)

    slots = slot_times(turn, pkts, next_ts, per_packet, unit)

    # Shuffle within groups of 2-8 consecutive pieces, the first piece
    # excepted when it must open its direction.
    first = elems.pop(0) if pin_first and elems else None
    shuffle_groups(rng, elems, 2, 8)
    if first is not None:
        elems.insert(0, first)
    if fin_elem is not None:
        elems.append(fin_elem)

    for pos, (j, s, e) in enumerate(elems):
        i = turn[j]
        t, fr = tcps[i], frames[i]
        l3 = fr.l3
        fin = fin_elem is not None and pos == len(elems) - 1
        flags = t.flags & ~TH_FIN | (TH_FIN if fin else 0)
        body = t.iphl + t.thl
        seg = build_tcp(l3[:t.iphl], l3[t.iphl:body], l3[body + s:body + e],
                        seq=t.seq + s, flags=flags)
        data = ether_l2(fr) + seg
        if opts.pad and len(data) < ETH_MIN_FRAME:
            data += b"\0" * (ETH_MIN_FRAME - len(data))
        yield slots[pos], data, len(data)
