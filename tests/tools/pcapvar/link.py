"""link - link layers: splitting a frame into link header and IP packet,
making new link headers, and the link-layer modes (sll, sll2, vlan,
qinq, null, loop, raw).

A link mode changes only the link header: the layer 3 bytes (including
any Ethernet padding after them), the timestamp and the original length
(minus the old plus the new header length) carry over.  IPv4 and IPv6
are handled alike; the only per-family choice is the address family
value of null and loop (see base.AF_INET6_*).
"""

import struct

from .base import (AF_INET, AF_INET6_ALL, AF_INET6_LOOP, AF_INET6_NULL,
                   ARPHRD_ETHER, ARPHRD_LOOPBACK, CaptureError, ET_8021AD,
                   ET_8021Q, ET_IPV4, ET_IPV6, ETH_P_802_2, LT_EN10MB,
                   LT_IPV4, LT_IPV6, LT_LOOP, LT_NULL, LT_RAW, LT_RAW12,
                   LT_RAW14, LT_SLL, LT_SLL2, PACKET_HOST, PACKET_OUTGOING,
                   VLAN_TPIDS, warn)
from .inet import find_servers, fix_checksums, parse_tcp

LINK_MODES = ("sll", "sll2", "vlan", "qinq", "null", "loop", "raw")
OUT_LINKTYPE = {"sll": LT_SLL, "sll2": LT_SLL2, "vlan": LT_EN10MB,
                "qinq": LT_EN10MB, "null": LT_NULL, "loop": LT_LOOP,
                "raw": LT_RAW}


class Frame:
    """A frame split into its link header and the layer 3 packet.

    ethertype: the protocol of l3 as an EtherType (ETH_P_802_2 for an
    802.2 LLC payload), None when the link header does not say.
    src_mac/dst_mac: from an Ethernet header, else None.
    l2: the original link header bytes (reused by the Ethernet rewrites
    when the input already is Ethernet, so VLAN tags and MACs stay)."""
    __slots__ = ("ethertype", "l3", "l2", "src_mac", "dst_mac")

    def __init__(self, ethertype, l3, l2, src_mac=None, dst_mac=None):
        self.ethertype = ethertype
        self.l3 = l3
        self.l2 = l2
        self.src_mac = src_mac
        self.dst_mac = dst_mac


def _ip_version_type(l3):
    if l3:
        v = l3[0] >> 4
        if v == 4:
            return ET_IPV4
        if v == 6:
            return ET_IPV6
    return None


def decode_link(linktype, data):
    """Returns a Frame, or None when the link header is cut short."""
    if linktype == LT_EN10MB:
        if len(data) < 14:
            return None
        off, et = 14, struct.unpack("!H", data[12:14])[0]
        while et in VLAN_TPIDS:
            if len(data) < off + 4:
                return None
            et = struct.unpack("!H", data[off + 2:off + 4])[0]
            off += 4
        if et < 0x600:      # a length: an 802.3 frame with LLC
            et = ETH_P_802_2
        return Frame(et, data[off:], data[:off], data[6:12], data[0:6])
    if linktype == LT_SLL:
        if len(data) < 16:
            return None
        return Frame(struct.unpack("!H", data[14:16])[0], data[16:],
                     data[:16])
    if linktype == LT_SLL2:
        if len(data) < 20:
            return None
        return Frame(struct.unpack("!H", data[0:2])[0], data[20:],
                     data[:20])
    if linktype in (LT_NULL, LT_LOOP):
        if len(data) < 4:
            return None
        # NULL has the capturing host's byte order, which need not be the
        # file's; LOOP is network order but is seen swapped too.
        le, be = struct.unpack("<I", data[:4])[0], struct.unpack(
            ">I", data[:4])[0]
        if AF_INET in (le, be):
            et = ET_IPV4
        elif le in AF_INET6_ALL or be in AF_INET6_ALL:
            et = ET_IPV6
        else:
            et = None
        return Frame(et, data[4:], data[:4])
    if linktype in (LT_RAW, LT_RAW12, LT_RAW14, LT_IPV4, LT_IPV6):
        return Frame(_ip_version_type(data), data, b"")
    raise CaptureError("link type %d is not supported" % linktype)


def synth_mac(l3, ethertype, want_src):
    """A stable locally administered MAC for a frame whose input had none:
    02:00 followed by the IPv4 address (the last 4 bytes for IPv6), so a
    reader can tell the hosts apart."""
    if ethertype == ET_IPV4 and len(l3) >= 20:
        return b"\x02\x00" + (l3[12:16] if want_src else l3[16:20])
    if ethertype == ET_IPV6 and len(l3) >= 40:
        return b"\x02\x00" + (l3[20:24] if want_src else l3[36:40])
    return b"\x02\x00\x00\x00\x00\x00"


def ether_header(frame, tags, ethertype=None):
    """Ethernet header for frame with the given (TPID, VLAN id) tags,
    outermost first (and another EtherType when given)."""
    src = frame.src_mac or synth_mac(frame.l3, frame.ethertype, True)
    dst = frame.dst_mac or synth_mac(frame.l3, frame.ethertype, False)
    hdr = dst + src
    for tpid, vid in tags:
        hdr += struct.pack("!HH", tpid, vid & 0x0fff)
    et = frame.ethertype if ethertype is None else ethertype
    if et < 0x600:
        # An LLC payload: the type field becomes the length, as on the wire.
        et = min(len(frame.l3), 1500)
    return hdr + struct.pack("!H", et)


def ether_l2(fr):
    """The Ethernet header the rewrites (hostile, the IPv6 modes) put on a
    frame: an Ethernet input keeps its own (MACs, VLAN tags), others get
    a plain one."""
    if fr.src_mac is not None:
        return fr.l2
    return ether_header(fr, [])


def ether_copy(p, fr):
    """A packet the Ethernet rewrites leave alone: re-encapsulated in
    Ethernet (unchanged when it already was), checksums made valid if it
    is a complete TCP packet.  None when its protocol is unknown."""
    if fr is None or fr.ethertype is None:
        return None
    l3 = fix_checksums(fr.l3)
    data = ether_l2(fr) + l3
    return p.ts, data, p.origlen - len(p.data) + len(data)


def is_loopback(frame, in_linktype):
    """Would Linux have captured this on lo?  True for 127/8 and ::1, for
    everything from a BSD loopback capture, and for an Ethernet frame with
    both MACs zero (what Linux's lo puts on every packet, whatever its
    addresses: a capture on lo of fd77::1 has them too)."""
    if in_linktype in (LT_NULL, LT_LOOP):
        return True
    if (frame.src_mac == bytes(6) and frame.dst_mac == bytes(6)
            and frame.ethertype in (ET_IPV4, ET_IPV6)):
        return True
    l3 = frame.l3
    if frame.ethertype == ET_IPV4 and len(l3) >= 20:
        return l3[12] == 127 or l3[16] == 127
    if frame.ethertype == ET_IPV6 and len(l3) >= 40:
        lo6 = b"\0" * 15 + b"\1"
        return l3[8:24] == lo6 or l3[24:40] == lo6
    return False


def convert_link(cap, mode, fix=False):
    """Yields (ts, data, origlen) for one of the link-layer modes.

    Only the link header changes (plus checksums when fix is set); the
    layer 3 bytes, timestamps and original lengths carry over.  A frame
    that the new link type cannot carry (not IP for null/loop/raw, unknown
    protocol, cut inside its link header) is dropped and counted."""
    frames = [decode_link(cap.linktype, p.data) for p in cap.packets]
    servers = find_servers(frames) if mode in ("sll", "sll2") else set()
    dropped = {}
    for p, fr in zip(cap.packets, frames):
        why = None
        if fr is None:
            why = "link header cut short"
        elif fr.ethertype is None:
            why = "unknown network protocol"
        elif mode in ("null", "loop", "raw") and fr.ethertype not in (
                ET_IPV4, ET_IPV6):
            why = "not IP (ethertype 0x%04x)" % fr.ethertype
        if why:
            dropped[why] = dropped.get(why, 0) + 1
            continue
        l3 = fix_checksums(fr.l3) if fix else fr.l3
        if mode in ("vlan", "qinq"):
            tags = ([(ET_8021Q, 42)] if mode == "vlan"
                    else [(ET_8021AD, 100), (ET_8021Q, 42)])
            hdr = ether_header(fr, tags)
        elif mode in ("sll", "sll2"):
            hdr = sll_header(mode, fr, cap.linktype, servers)
        elif mode == "null":
            hdr = struct.pack(cap.out_endian + "I", bsd_af(mode,
                                                           fr.ethertype))
        elif mode == "loop":
            # DLT_LOOP: the family in network byte order, whatever the
            # file's byte order.
            hdr = struct.pack("!I", bsd_af(mode, fr.ethertype))
        else:  # raw
            hdr = b""
        data = hdr + l3
        yield p.ts, data, p.origlen - len(p.data) + len(data)
    for why, n in sorted(dropped.items()):
        warn("%s: %d frame(s) dropped: %s" % (mode, n, why))


def bsd_af(mode, ethertype):
    """The address family value null or loop write for a frame."""
    if ethertype == ET_IPV4:
        return AF_INET
    return AF_INET6_NULL if mode == "null" else AF_INET6_LOOP


def sll_header(mode, fr, in_linktype, servers):
    if is_loopback(fr, in_linktype):
        # What tcpdump -i any shows for lo: an all-zero 6-byte address.
        arphrd, addr, ifindex = ARPHRD_LOOPBACK, b"\0" * 6, 1
    else:
        arphrd, ifindex = ARPHRD_ETHER, 2
        addr = fr.src_mac or synth_mac(fr.l3, fr.ethertype, True)
    # As if captured on the server: what goes to a server endpoint was
    # received, everything else was sent.  Non-TCP counts as received.
    pkttype = PACKET_HOST
    if fr.ethertype in (ET_IPV4, ET_IPV6):
        t = parse_tcp(fr.l3)
        if t is not None and (t.dst, t.dport) not in servers:
            pkttype = PACKET_OUTGOING
    if mode == "sll":
        return struct.pack("!HHH8sH", pkttype, arphrd, len(addr), addr,
                           fr.ethertype)
    return struct.pack("!HHIHBB8s", fr.ethertype, 0, ifindex, arphrd,
                       pkttype, len(addr), addr)
