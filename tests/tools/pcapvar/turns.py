"""turns - the unit within which the rewrites may reorder: a turn.

A "turn" is a run of consecutive packets (in capture order) that all
carry payload of the same connection in the same direction.  Anything
else - a packet of the other direction, a pure ACK, a handshake packet,
a packet of another connection, a non-TCP packet - ends the turn and is
written where it was.  Moving data only within its turn keeps who spoke
first (which the SMTP command/reply pairing depends on), keeps data after
the handshake, and lets a FIN stay last in its direction's turn.

A direction whose first packet was not captured (a capture started
mid-connection) has no SYN to anchor its sequence numbers; readers then
take the first segment they see as the start (tshark's follow does), so
a rewrite must keep that direction's first piece first ("pin_first").
"""

from .base import TH_FIN


def iter_turns(pkts, tcps, movable):
    """Yields ("copy", i) for a packet written where it was, and ("turn",
    [i, ...], next_ts, pin_first) for a turn of movable packets; next_ts
    is the time of the packet after the turn (None at the end)."""
    started = set()         # directions with a packet written already
    i = 0
    while i < len(pkts):
        if not movable(i):
            yield ("copy", i)
            if tcps[i] is not None:
                started.add(tcps[i].key())
            i += 1
            continue
        turn = [i]
        key = tcps[i].key()
        while (not tcps[turn[-1]].flags & TH_FIN
               and turn[-1] + 1 < len(pkts) and movable(turn[-1] + 1)
               and tcps[turn[-1] + 1].key() == key):
            turn.append(turn[-1] + 1)
        nxt = turn[-1] + 1
        next_ts = pkts[nxt].ts if nxt < len(pkts) else None
        yield ("turn", turn, next_ts, key not in started)
        started.add(key)
        i = nxt


def slot_times(turn, pkts, next_ts, counts, unit):
    """Timestamps for the pieces a turn is rewritten into.  They belong to
    positions, not pieces: position k of packet j's share (counts[j]
    pieces) gets T_j plus k microseconds (unit), squeezed to stay below
    the next packet's time when they are closer.  Shuffling the pieces
    afterwards leaves the timestamps non-decreasing."""
    slots = []
    for j, i in enumerate(turn):
        t0 = pkts[i].ts
        t1 = pkts[turn[j + 1]].ts if j + 1 < len(turn) else next_ts
        n = counts[j]
        for k in range(n):
            if t1 is None or t1 - t0 >= n * unit:
                slots.append(t0 + k * unit)
            elif t1 > t0:
                slots.append(t0 + k * (t1 - t0 - 1) // n)
            else:
                slots.append(t0)
    return slots


def shuffle_groups(rng, elems, lo, hi):
    """Shuffles elems in place within groups of lo..hi consecutive items."""
    k = 0
    while k < len(elems):
        g = rng.randint(lo, hi)
        group = elems[k:k + g]
        rng.shuffle(group)
        elems[k:k + g] = group
        k += g
