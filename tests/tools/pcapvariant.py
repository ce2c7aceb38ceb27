#!/usr/bin/env python3
"""pcapvariant.py - rewrite a capture into variants that must replay the same.

wireban must find the same SMTP sessions whatever link layer a capture was
taken on and however TCP cut the byte streams into segments.  This tool
takes one capture and writes it again with a different link layer, file
format or segmentation, keeping every TCP byte stream identical, so a test
can replay the original and each variant and demand identical results.

Usage:
    pcapvariant.py MODE IN OUT [options]     write one variant
    pcapvariant.py all IN DIR [options]      every mode, DIR/NAME.MODE.pcap[ng]
    pcapvariant.py selftest                  synthetic round trips, no tools
    pcapvariant.py verify [-j N] [--modes M,..] [--keep DIR] FILE...
                                             compare with tshark and tcpdump
                                             (exit 77 if they are missing)

MODE:
    pcapng   the same frames as pcapng (one interface, same link type)
    sll      Linux cooked v1 (linktype 113), as "tcpdump -i any" writes
    sll2     Linux cooked v2 (linktype 276)
    vlan     Ethernet, one 802.1Q tag (VLAN 42)
    qinq     Ethernet, 802.1ad VLAN 100 outside, 802.1Q VLAN 42 inside
    null     BSD loopback (linktype 0), AF in the file's byte order
    raw      raw IP (linktype 101)
    hostile  Ethernet; TCP payload re-cut into 1-3 byte segments,
             shuffled within a direction's turn, with duplicates and
             overlapping retransmissions; all checksums made valid

Options:
    --seed N            hostile mode's PRNG seed (default 1)
    --fix-checksums     link modes: recompute IPv4 header and TCP checksums
                        (default: keep them, loopback captures have bad ones)
    --byte-order same|little|big
                        byte order of the output file (default: the input's)
    --nsec              nanosecond timestamps in the output (usec input is
                        converted exactly); default: the input's precision
    --no-pad            hostile: do not pad short frames to Ethernet's 60
    --dup-rate F, --overlap-rate F
                        hostile: share of segments re-sent (default 0.1 each)

Input: classic pcap (either byte order, usec or nsec), pcapng (all
interfaces of one link type), optionally gzip-compressed; link types NULL 0,
EN10MB 1 (up to two VLAN tags), RAW 12/14/101, LOOP 108, LINUX_SLL 113,
IPV4 228, IPV6 229, LINUX_SLL2 276.  The output is always classic pcap,
except for the pcapng mode.  Python 3 standard library only.
tests/tools/README.md describes every mode and check in detail.
"""

import argparse
import concurrent.futures
import gzip
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------- numbers

# Link types as written in files (LINKTYPE_*), not the DLT_* of any system.
LT_NULL = 0
LT_EN10MB = 1
LT_RAW12 = 12
LT_RAW14 = 14
LT_RAW = 101
LT_LOOP = 108
LT_SLL = 113
LT_IPV4 = 228
LT_IPV6 = 229
LT_SLL2 = 276
READABLE_LINKTYPES = (LT_NULL, LT_EN10MB, LT_RAW12, LT_RAW14, LT_RAW,
                      LT_LOOP, LT_SLL, LT_IPV4, LT_IPV6, LT_SLL2)

ET_IPV4 = 0x0800
ET_IPV6 = 0x86dd
ET_8021Q = 0x8100
ET_8021AD = 0x88a8
ET_QINQ_OLD = 0x9100
VLAN_TPIDS = (ET_8021Q, ET_8021AD, ET_QINQ_OLD)
# Linux's protocol number for frames that carry an 802.2 LLC header rather
# than an EtherType; an Ethernet frame whose type field is a length has one.
ETH_P_802_2 = 0x0004

ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
PACKET_HOST = 0          # SLL packet type: addressed to this host
PACKET_OUTGOING = 4      # SLL packet type: sent by this host

# AF_INET is 2 everywhere.  AF_INET6 differs: 24 is what libpcap calls the
# BSD value (NetBSD, OpenBSD), FreeBSD uses 28, macOS 30, Linux 10.
AF_INET = 2
AF_INET6_OUT = 24
AF_INET6_ALL = (10, 24, 28, 30)

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK, TH_URG = 1, 2, 4, 8, 16, 32

SMTP_PORTS = (25, 465, 587, 2525)
ETH_MIN_FRAME = 60       # without FCS; shorter frames are padded on the wire

MODES = ("pcapng", "sll", "sll2", "vlan", "qinq", "null", "raw", "hostile")


class CaptureError(Exception):
    """The input cannot be read or converted; the message says why."""


# ---------------------------------------------------------------- reading

class Packet:
    """One captured frame.  ts is an integer count of 10**-res seconds so
    that timestamps survive every conversion exactly."""
    __slots__ = ("ts", "data", "origlen")

    def __init__(self, ts, data, origlen):
        self.ts = ts
        self.data = data
        self.origlen = origlen


class Capture:
    """A whole capture file held in memory: the captures this tool is
    meant for are test fixtures of at most a few MiB."""

    def __init__(self, linktype, snaplen, endian, res, packets, fmt):
        self.linktype = linktype
        self.snaplen = snaplen
        self.endian = endian        # '<' or '>' as struct wants it
        self.res = res              # 6 (usec) or 9 (nsec)
        self.packets = packets
        self.fmt = fmt              # 'pcap' or 'pcapng'
        self.out_endian = endian    # byte order convert() writes in


PCAP_MAGIC_USEC = 0xa1b2c3d4
PCAP_MAGIC_NSEC = 0xa1b23c4d
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_IDB = 1
PCAPNG_PB = 2            # obsolete Packet Block
PCAPNG_SPB = 3
PCAPNG_EPB = 6
PCAPNG_BOM = 0x1A2B3C4D


def read_capture(path):
    with open(path, "rb") as f:
        data = f.read()
    # Several public SMTP captures ship gzipped; tshark reads them as is.
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) >= 4 and struct.unpack("<I", data[:4])[0] == PCAPNG_SHB:
        return _read_pcapng(data, path)
    return _read_pcap(data, path)


def _read_pcap(data, path):
    if len(data) < 24:
        raise CaptureError("%s: too short for a pcap file header" % path)
    for endian in "<>":
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (PCAP_MAGIC_USEC, PCAP_MAGIC_NSEC):
            break
    else:
        raise CaptureError("%s: not a pcap or pcapng file" % path)
    res = 9 if magic == PCAP_MAGIC_NSEC else 6
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII",
                                                  data[4:24])
    # The top bits of the link type field may carry FCS information.
    linktype &= 0x03FFFFFF
    unit = 10 ** res
    packets = []
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            warn("%s: truncated record header at offset %d ignored"
                 % (path, off))
            break
        sec, frac, caplen, origlen = struct.unpack(endian + "IIII",
                                                   data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            # Either a file cut short or a damaged record length; libpcap
            # stops here too.
            warn("%s: record %d claims %d bytes, past the end of the file;"
                 " read %d packets" % (path, len(packets) + 1, caplen,
                                       len(packets)))
            break
        packets.append(Packet(sec * unit + frac, data[off:off + caplen],
                              origlen))
        off += caplen
    return Capture(linktype, snaplen, endian, res, packets, "pcap")


def _read_pcapng(data, path):
    endian = "<"
    ifaces = []         # per interface: (linktype, snaplen, units/s, offset)
    raw = []            # (interface, ticks, data, origlen)
    first_endian = None
    off = 0
    while off + 12 <= len(data):
        btype = struct.unpack(endian + "I", data[off:off + 4])[0]
        if btype == PCAPNG_SHB:
            # The block type reads the same in both orders; the byte-order
            # magic after the length tells which one this section uses.
            bom = data[off + 8:off + 12]
            if bom == struct.pack("<I", PCAPNG_BOM):
                endian = "<"
            elif bom == struct.pack(">I", PCAPNG_BOM):
                endian = ">"
            else:
                raise CaptureError("%s: bad pcapng byte-order magic" % path)
            if first_endian is None:
                first_endian = endian
            ifaces = []     # interface numbers restart in every section
        blen = struct.unpack(endian + "I", data[off + 4:off + 8])[0]
        if blen < 12 or blen % 4 or off + blen > len(data):
            warn("%s: bad pcapng block length at offset %d, stopped"
                 % (path, off))
            break
        body = data[off + 8:off + blen - 4]
        if btype == PCAPNG_IDB:
            linktype, _, snaplen = struct.unpack(endian + "HHI", body[:8])
            units, tsoff = 10 ** 6, 0
            for code, val in _pcapng_options(body[8:], endian):
                if code == 9 and val:           # if_tsresol
                    r = val[0]
                    units = 2 ** (r & 0x7f) if r & 0x80 else 10 ** r
                elif code == 14 and len(val) == 8:  # if_tsoffset, seconds
                    tsoff = struct.unpack(endian + "q", val)[0]
            ifaces.append((linktype, snaplen, units, tsoff))
        elif btype in (PCAPNG_EPB, PCAPNG_PB):
            if btype == PCAPNG_EPB:
                iface, hi, lo, caplen, origlen = struct.unpack(
                    endian + "IIIII", body[:20])
            else:
                iface, _, hi, lo, caplen, origlen = struct.unpack(
                    endian + "HHIIII", body[:20])
            if iface >= len(ifaces):
                raise CaptureError("%s: packet for undeclared interface %d"
                                   % (path, iface))
            raw.append((ifaces[iface], hi << 32 | lo,
                        body[20:20 + caplen], origlen))
        elif btype == PCAPNG_SPB:
            if not ifaces:
                raise CaptureError("%s: simple packet before any interface"
                                   % path)
            origlen = struct.unpack(endian + "I", body[:4])[0]
            # A simple packet has no timestamp: reuse the previous one.
            prev = raw[-1][1] if raw else 0
            raw.append((ifaces[0], prev, body[4:4 + origlen], origlen))
        off += blen
    used = set(r[0] for r in raw) or set(ifaces)
    if not used:
        raise CaptureError("%s: no interface in pcapng file" % path)
    linktypes = set(i[0] for i in used)
    if len(linktypes) != 1:
        raise CaptureError("%s: interfaces of several link types %s"
                           % (path, sorted(linktypes)))
    # Keep microseconds when every interface has them, else nanoseconds
    # (exact for any decimal resolution up to 1e-9).
    res = 6 if all(i[2] == 10 ** 6 for i in used) else 9
    unit = 10 ** res
    packets = []
    for (_, _, units, tsoff), ticks, pkt, origlen in raw:
        packets.append(Packet(ticks * unit // units + tsoff * unit, pkt,
                              origlen))
    snaplen = max(i[1] for i in used)
    return Capture(linktypes.pop(), snaplen, first_endian or "<", res,
                   packets, "pcapng")


def _pcapng_options(buf, endian):
    off = 0
    while off + 4 <= len(buf):
        code, olen = struct.unpack(endian + "HH", buf[off:off + 4])
        if code == 0:
            break
        yield code, buf[off + 4:off + 4 + olen]
        off += 4 + (olen + 3) // 4 * 4


# ---------------------------------------------------------------- writing

class CaptureWriter:
    """Streams packets to a classic pcap or a pcapng file.

    The snapshot length goes in the header before the packets; a new link
    header may make frames longer than the input's snaplen, so the field
    is patched at close time to cover the longest frame written (libpcap
    treats caplen > snaplen as a damaged file)."""

    def __init__(self, path, fmt, endian, res, linktype, snaplen):
        self.f = open(path, "wb")
        self.fmt = fmt
        self.e = endian
        self.res = res
        self.snaplen = snaplen
        self.maxcap = 0
        self.count = 0
        e = endian
        if fmt == "pcap":
            magic = PCAP_MAGIC_NSEC if res == 9 else PCAP_MAGIC_USEC
            self.f.write(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0,
                                     snaplen, linktype))
            self.snap_off = 16
        else:
            appl = b"wireban tests/tools/pcapvariant.py"
            shb_opts = _pcapng_opt(e, 4, appl) + struct.pack(e + "HH", 0, 0)
            # Section length -1: unknown, we do not seek back for it.
            body = struct.pack(e + "IHHq", PCAPNG_BOM, 1, 0, -1) + shb_opts
            self._block(PCAPNG_SHB, body)
            # if_tsresol is only written when not the default (usec), as
            # most writers do; nanosecond files get 9.
            idb_opts = b""
            if res != 6:
                idb_opts = (_pcapng_opt(e, 9, bytes([res]))
                            + struct.pack(e + "HH", 0, 0))
            self.snap_off = self.f.tell() + 12
            self._block(PCAPNG_IDB, struct.pack(e + "HHI", linktype, 0,
                                                snaplen) + idb_opts)

    def _block(self, btype, body):
        body += b"\0" * (-len(body) % 4)
        total = len(body) + 12
        self.f.write(struct.pack(self.e + "II", btype, total) + body
                     + struct.pack(self.e + "I", total))

    def write(self, ts, data, origlen):
        origlen = max(origlen, len(data))
        self.maxcap = max(self.maxcap, len(data))
        self.count += 1
        if self.fmt == "pcap":
            unit = 10 ** self.res
            self.f.write(struct.pack(self.e + "IIII", ts // unit, ts % unit,
                                     len(data), origlen))
            self.f.write(data)
        else:
            self._block(PCAPNG_EPB, struct.pack(
                self.e + "IIIII", 0, ts >> 32, ts & 0xffffffff, len(data),
                origlen) + data)

    def close(self):
        if self.maxcap > self.snaplen:
            self.f.seek(self.snap_off)
            self.f.write(struct.pack(self.e + "I", self.maxcap))
        self.f.close()


def _pcapng_opt(endian, code, val):
    return (struct.pack(endian + "HH", code, len(val)) + val
            + b"\0" * (-len(val) % 4))


# ---------------------------------------------------------------- link layer

class Frame:
    """A frame split into its link header and the layer 3 packet.

    ethertype: the protocol of l3 as an EtherType (ETH_P_802_2 for an
    802.2 LLC payload), None when the link header does not say.
    src_mac/dst_mac: from an Ethernet header, else None.
    l2: the original link header bytes (reused by hostile mode when the
    input already is Ethernet, so VLAN tags and MACs stay as they were)."""
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


def _synth_mac(l3, ethertype, want_src):
    """A stable locally administered MAC for a frame whose input had none:
    02:00 followed by the IPv4 address (the last 4 bytes for IPv6), so a
    reader can tell the hosts apart."""
    if ethertype == ET_IPV4 and len(l3) >= 20:
        return b"\x02\x00" + (l3[12:16] if want_src else l3[16:20])
    if ethertype == ET_IPV6 and len(l3) >= 40:
        return b"\x02\x00" + (l3[20:24] if want_src else l3[36:40])
    return b"\x02\x00\x00\x00\x00\x00"


def ether_header(frame, tags):
    """Ethernet header for frame with the given (TPID, VLAN id) tags,
    outermost first."""
    src = frame.src_mac or _synth_mac(frame.l3, frame.ethertype, True)
    dst = frame.dst_mac or _synth_mac(frame.l3, frame.ethertype, False)
    hdr = dst + src
    for tpid, vid in tags:
        hdr += struct.pack("!HH", tpid, vid & 0x0fff)
    et = frame.ethertype
    if et < 0x600:
        # An LLC payload: the type field becomes the length, as on the wire.
        et = min(len(frame.l3), 1500)
    return hdr + struct.pack("!H", et)


def _is_loopback(frame, in_linktype):
    """Would Linux have captured this on lo?  True for 127/8 and ::1, and
    for everything from a BSD loopback capture."""
    if in_linktype in (LT_NULL, LT_LOOP):
        return True
    l3 = frame.l3
    if frame.ethertype == ET_IPV4 and len(l3) >= 20:
        return l3[12] == 127 or l3[16] == 127
    if frame.ethertype == ET_IPV6 and len(l3) >= 40:
        lo6 = b"\0" * 15 + b"\1"
        return l3[8:24] == lo6 or l3[24:40] == lo6
    return False


# ---------------------------------------------------------------- IP and TCP

def checksum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Tcp:
    """A TCP segment found in a layer 3 packet (IPv4 or IPv6).

    complete: the whole IP packet was captured and is not a fragment, so
    its checksums can be computed and its payload is all there.
    Offsets are into the layer 3 bytes."""
    __slots__ = ("v", "src", "dst", "sport", "dport", "seq", "ack", "flags",
                 "window", "wscale", "iphl", "thl", "end", "complete")

    def key(self):
        return (self.src, self.sport, self.dst, self.dport)

    def payload(self, l3):
        return l3[self.iphl + self.thl:self.end]


def parse_tcp(l3):
    """Returns a Tcp for an IPv4 or IPv6 packet holding TCP, else None.

    For an IPv4 packet whose bytes were cut by the snap length the payload
    is what was captured; a fragment is not TCP (its first fragment has
    the header but not the whole segment) and gives None.  IPv6 extension
    headers are not followed: such packets give None."""
    n = len(l3)
    if n < 20:
        return None
    t = Tcp()
    t.v = l3[0] >> 4
    if t.v == 4:
        ihl = (l3[0] & 0x0f) * 4
        tot = struct.unpack("!H", l3[2:4])[0]
        frag = struct.unpack("!H", l3[6:8])[0]
        if ihl < 20 or tot < ihl or l3[9] != 6 or frag & 0x3fff:
            return None
        t.src, t.dst = l3[12:16], l3[16:20]
        t.complete = tot <= n
        t.end = min(tot, n)
    elif t.v == 6:
        if n < 40 or l3[6] != 6:
            return None
        ihl = 40
        tot = 40 + struct.unpack("!H", l3[4:6])[0]
        t.src, t.dst = l3[8:24], l3[24:40]
        t.complete = tot <= n
        t.end = min(tot, n)
    else:
        return None
    if t.end < ihl + 20:
        return None
    (t.sport, t.dport, t.seq, t.ack, off, t.flags,
     t.window) = struct.unpack("!HHIIBBH", l3[ihl:ihl + 16])
    t.iphl = ihl
    t.thl = (off >> 4) * 4
    if t.thl < 20 or ihl + t.thl > t.end:
        return None
    t.wscale = _tcp_wscale(l3, t) if t.flags & TH_SYN else None
    return t


def _tcp_checksum_v4(ip_src, ip_dst, segment):
    pseudo = ip_src + ip_dst + struct.pack("!BBH", 0, 6, len(segment))
    return checksum(pseudo + segment)


def build_ipv4_tcp(ip_hdr, tcp_hdr, payload, seq=None, flags=None):
    """An IPv4 TCP packet from header templates with total length and both
    checksums made right (and seq/flags replaced when given)."""
    ip = bytearray(ip_hdr)
    tcp = bytearray(tcp_hdr)
    struct.pack_into("!H", ip, 2, len(ip) + len(tcp) + len(payload))
    struct.pack_into("!H", ip, 10, 0)
    struct.pack_into("!H", ip, 10, checksum(bytes(ip)))
    if seq is not None:
        struct.pack_into("!I", tcp, 4, seq & 0xffffffff)
    if flags is not None:
        tcp[13] = flags
    struct.pack_into("!H", tcp, 16, 0)
    seg = bytes(tcp) + payload
    struct.pack_into("!H", tcp, 16, _tcp_checksum_v4(ip[12:16], ip[16:20],
                                                       seg))
    return bytes(ip) + bytes(tcp) + payload


def fix_checksums(l3):
    """Recomputes the IPv4 header and TCP checksums of a complete IPv4 TCP
    packet; anything else (IPv6, fragments, truncated, non-TCP) is left
    alone.  Bytes after the IP total length (Ethernet padding) are kept."""
    t = parse_tcp(l3)
    if t is None or t.v != 4 or not t.complete:
        return l3
    ihl = t.iphl
    body = build_ipv4_tcp(l3[:ihl], l3[ihl:ihl + t.thl], t.payload(l3))
    return body + l3[t.end:]


def checksums_ok(l3):
    """True when a complete IPv4 TCP packet has valid IP and TCP checksums
    (None when it cannot be checked)."""
    t = parse_tcp(l3)
    if t is None or t.v != 4 or not t.complete:
        return None
    if checksum(l3[:t.iphl]) != 0:
        return False
    return _tcp_checksum_v4(l3[12:16], l3[16:20],
                            l3[t.iphl:t.end]) == 0


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


# ---------------------------------------------------------------- link modes

def convert_link(cap, mode, fix=False):
    """Yields (ts, data, origlen) for one of the link-layer modes.

    Only the link header changes (plus checksums when fix is set); the
    layer 3 bytes, timestamps and original lengths carry over.  A frame
    that the new link type cannot carry (not IP for null/raw, unknown
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
        elif mode in ("null", "raw") and fr.ethertype not in (ET_IPV4,
                                                               ET_IPV6):
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
            hdr = _sll_header(mode, fr, cap.linktype, servers)
        elif mode == "null":
            af = AF_INET if fr.ethertype == ET_IPV4 else AF_INET6_OUT
            hdr = struct.pack(cap.out_endian + "I", af)
        else:  # raw
            hdr = b""
        data = hdr + l3
        yield p.ts, data, p.origlen - len(p.data) + len(data)
    for why, n in sorted(dropped.items()):
        warn("%s: %d frame(s) dropped: %s" % (mode, n, why))


def _sll_header(mode, fr, in_linktype, servers):
    if _is_loopback(fr, in_linktype):
        # What tcpdump -i any shows for lo: an all-zero 6-byte address.
        arphrd, addr, ifindex = ARPHRD_LOOPBACK, b"\0" * 6, 1
    else:
        arphrd, ifindex = ARPHRD_ETHER, 2
        addr = fr.src_mac or _synth_mac(fr.l3, fr.ethertype, True)
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


OUT_LINKTYPE = {"sll": LT_SLL, "sll2": LT_SLL2, "vlan": LT_EN10MB,
                "qinq": LT_EN10MB, "null": LT_NULL, "raw": LT_RAW,
                "hostile": LT_EN10MB}


# ---------------------------------------------------------------- hostile

class HostileOptions:
    def __init__(self, seed=1, dup_rate=0.1, overlap_rate=0.1, pad=True):
        self.seed = seed
        self.dup_rate = dup_rate
        self.overlap_rate = overlap_rate
        self.pad = pad


def convert_hostile(cap, opts):
    """Yields (ts, data, origlen): the capture as Ethernet with every IPv4
    TCP payload re-cut into tiny, shuffled, duplicated and overlapping
    segments whose reassembly is byte for byte the original stream.

    A "turn" is a run of consecutive packets (in capture order) that all
    carry payload of the same connection in the same direction.  Anything
    else - a packet of the other direction, a pure ACK, a handshake packet,
    a packet of another connection, a non-TCP packet - ends the turn and
    is written where it was.  Segments only move within their turn, so
    who spoke first (which the SMTP command/reply pairing depends on) is
    never changed, no data moves before the handshake, and a FIN is always
    the last segment of its direction's turn.

    A direction whose first packet was not captured (a capture started
    mid-connection) has no SYN to anchor its sequence numbers; readers
    then take the first segment they see as the start (tshark's follow
    does), so that direction's first segment is never moved."""
    rng = random.Random(opts.seed)
    unit = 10 ** (cap.res - 6)              # one microsecond in ticks
    pkts = cap.packets
    frames = [decode_link(cap.linktype, p.data) for p in pkts]
    tcps = [parse_tcp(fr.l3) if fr is not None and fr.ethertype == ET_IPV4
            else None for fr in frames]

    def splittable(i):
        t = tcps[i]
        return (t is not None and t.v == 4 and t.complete
                and t.end > t.iphl + t.thl
                and not t.flags & (TH_SYN | TH_RST | TH_URG))

    dropped = 0
    started = set()         # directions with a packet written already
    i = 0
    while i < len(pkts):
        if not splittable(i):
            out = _hostile_copy(pkts[i], frames[i], opts)
            if out is None:
                dropped += 1
            else:
                yield out
            if tcps[i] is not None:
                started.add(tcps[i].key())
            i += 1
            continue
        turn = [i]
        key = tcps[i].key()
        while (not tcps[turn[-1]].flags & TH_FIN and turn[-1] + 1 < len(pkts)
               and splittable(turn[-1] + 1)
               and tcps[turn[-1] + 1].key() == key):
            turn.append(turn[-1] + 1)
        nxt = turn[-1] + 1
        next_ts = pkts[nxt].ts if nxt < len(pkts) else None
        for out in _hostile_turn(turn, pkts, frames, tcps, next_ts, rng,
                                 unit, opts, pin_first=key not in started):
            yield out
        started.add(key)
        i = nxt
    if dropped:
        warn("hostile: %d frame(s) dropped: no known network protocol"
             % dropped)
    over = _window_overruns(tcps, splittable)
    if over:
        warn("hostile: %d packet(s) carry data past the receiver's "
             "advertised window; a reassembler that checks each segment "
             "against the window (libnids does) drops the pieces cut from "
             "beyond it, while the whole original packet passed its check"
             % over)


def _tcp_wscale(l3, t):
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


def _window_overruns(tcps, splittable):
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
            plen = t.end - t.iphl - t.thl
            limit = ack + win
            # A packet that starts past the window is out of it whole, in
            # the original as much as in the variant: not counted.
            if (_sdiff(t.seq, limit) < 0
                    and _sdiff(t.seq + plen - 1, limit) >= 0):
                over += 1
        if t.flags & TH_ACK:
            shift = 0
            if wscale.get(k) is not None and wscale.get(rev) is not None:
                shift = wscale[k]
            last[k] = (t.ack, t.window << shift)
    return over


def _hostile_l2(fr):
    # An Ethernet input keeps its own header (MACs, VLAN tags); others get
    # a plain one.
    if fr.src_mac is not None:
        return fr.l2
    return ether_header(fr, [])


def _hostile_copy(p, fr, opts):
    """A packet that is not re-cut: re-encapsulated in Ethernet (unchanged
    when it already was), with valid checksums if it is IPv4 TCP."""
    if fr is None or fr.ethertype is None:
        return None
    l3 = fix_checksums(fr.l3)
    data = _hostile_l2(fr) + l3
    return p.ts, data, p.origlen - len(p.data) + len(data)


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
        n = t.end - t.iphl - t.thl
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

    # Timestamps belong to positions, not pieces: position k of packet j's
    # share of the turn gets T_j plus k microseconds, squeezed to stay
    # below the next packet's time when they are closer.  Shuffling pieces
    # afterwards leaves the timestamps non-decreasing.
    slots = []
    for j, i in enumerate(turn):
        t0 = pkts[i].ts
        t1 = pkts[turn[j + 1]].ts if j + 1 < len(turn) else next_ts
        n = per_packet[j]
        for k in range(n):
            if t1 is None or t1 - t0 >= n * unit:
                slots.append(t0 + k * unit)
            elif t1 > t0:
                slots.append(t0 + k * (t1 - t0 - 1) // n)
            else:
                slots.append(t0)

    # Shuffle within groups of 2-8 consecutive pieces, the first piece
    # excepted when it must open its direction.
    first = elems.pop(0) if pin_first and elems else None
    k = 0
    while k < len(elems):
        g = rng.randint(2, 8)
        group = elems[k:k + g]
        rng.shuffle(group)
        elems[k:k + g] = group
        k += g
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
        seg = build_ipv4_tcp(l3[:t.iphl], l3[t.iphl:body],
                             l3[body + s:body + e], seq=t.seq + s,
                             flags=flags)
        data = _hostile_l2(fr) + seg
        if opts.pad and len(data) < ETH_MIN_FRAME:
            data += b"\0" * (ETH_MIN_FRAME - len(data))
        yield slots[pos], data, len(data)


# ---------------------------------------------------------------- driver

QUIET = False           # the selftest drops frames on purpose


def warn(msg):
    if not QUIET:
        print("pcapvariant: " + msg, file=sys.stderr)


def convert(in_path, mode, out_path, seed=1, fix=False, byte_order="same",
            nsec=False, pad=True, dup_rate=0.1, overlap_rate=0.1, cap=None):
    """Writes the MODE variant of in_path (or of an already read Capture)
    to out_path; returns the number of packets written."""
    if mode not in MODES:
        raise CaptureError("unknown mode %r" % mode)
    if cap is None:
        cap = read_capture(in_path)
    if mode != "pcapng" and cap.linktype not in READABLE_LINKTYPES:
        raise CaptureError("input link type %d is not supported"
                           % cap.linktype)
    endian = {"same": cap.endian, "little": "<", "big": ">"}[byte_order]
    cap.out_endian = endian
    res = cap.res
    scale = 1
    if nsec and res == 6:
        res, scale = 9, 1000
    if mode == "pcapng":
        gen = ((p.ts, p.data, p.origlen) for p in cap.packets)
        linktype, fmt = cap.linktype, "pcapng"
    elif mode == "hostile":
        gen = convert_hostile(cap, HostileOptions(seed, dup_rate,
                                                  overlap_rate, pad))
        linktype, fmt = LT_EN10MB, "pcap"
    else:
        gen = convert_link(cap, mode, fix)
        linktype, fmt = OUT_LINKTYPE[mode], "pcap"
    w = CaptureWriter(out_path, fmt, endian, res, linktype, cap.snaplen)
    try:
        for ts, data, origlen in gen:
            w.write(ts * scale, data, origlen)
    finally:
        w.close()
    return w.count


def variant_name(in_path, mode):
    base = os.path.basename(in_path)
    for ext in (".gz", ".pcapng", ".pcap"):
        if base.endswith(ext):
            base = base[:-len(ext)]
    return "%s.%s.%s" % (base, mode, "pcapng" if mode == "pcapng" else
                         "pcap")


# ---------------------------------------------------------------- checking

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
            base = min(self.segs, key=lambda s: _sdiff(s[0], first))[0]
        else:
            base = 0
        buf = bytearray()
        have = bytearray()
        for seq, payload, flags in self.segs:
            a = _sdiff(seq, base)
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


def _sdiff(a, b):
    """a - b for 32-bit sequence numbers, as a signed number."""
    d = (a - b) & 0xffffffff
    return d - (1 << 32) if d >= 1 << 31 else d


def reassemble(cap):
    """{(src, sport, dst, dport): Stream} for every TCP direction (IPv4 and
    IPv6) in the capture, read through the link layer."""
    streams = {}
    for p in cap.packets:
        fr = decode_link(cap.linktype, p.data)
        if fr is None or fr.ethertype not in (ET_IPV4, ET_IPV6):
            continue
        t = parse_tcp(fr.l3)
        if t is None:
            continue
        s = streams.setdefault(t.key(), Stream())
        if t.flags & TH_SYN:
            s.isn = t.seq
        s.segs.append((t.seq, t.payload(fr.l3), t.flags))
    for s in streams.values():
        s.finish()
    return streams


# ---------------------------------------------------------------- selftest

def _synthetic_l3():
    """A small SMTP conversation (plus noise) as (ts_usec, l3, ethertype)
    tuples: a rejected relay attempt and a delivered message with a body
    larger than one segment, QUIT sent with FIN, a second connection
    interleaved with the first and ended by RST, a third one captured
    mid-stream, an IPv6 SMTP packet, a UDP datagram and an IPv4 fragment.
    TCP checksums are deliberately wrong, as on a loopback capture."""
    out = []
    ts = [1700000000 * 10 ** 6 + 100]

    def ip4(src, dst, proto, payload, ident=1, frag=0x4000):
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0,
                                    20 + len(payload), ident, frag, 64,
                                    proto, 0, bytes(src), bytes(dst)))
        struct.pack_into("!H", hdr, 10, checksum(bytes(hdr)))
        return bytes(hdr) + payload

    class Conn:
        def __init__(self, cip, cport, sip, sport, cisn, sisn):
            self.c = (cip, cport)
            self.s = (sip, sport)
            self.nxt = {"c": cisn, "s": sisn}

        def pkt(self, who, flags, payload=b"", opts=b""):
            src, dst = (self.c, self.s) if who == "c" else (self.s, self.c)
            other = "s" if who == "c" else "c"
            ack = self.nxt[other] if flags & TH_ACK else 0
            thl = 20 + len(opts)
            tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], self.nxt[who],
                              ack, thl // 4 << 4, flags, 65535, 0xbad0,
                              0) + opts
            self.nxt[who] = (self.nxt[who] + len(payload)
                             + (1 if flags & (TH_SYN | TH_FIN) else 0)
                             ) & 0xffffffff
            ts[0] += 37
            out.append((ts[0], ip4(src[0], dst[0], 6, tcp + payload),
                        ET_IPV4))

    client = [192, 0, 2, 7]
    server = [198, 51, 100, 1]
    A = Conn(client, 40312, server, 25, 0xfffffff0, 1000)  # seq wraps
    B = Conn([192, 0, 2, 8], 40999, server, 25, 5000, 9000)
    PA = TH_PSH | TH_ACK
    mss = b"\x02\x04\x05\xb4"
    A.pkt("c", TH_SYN, opts=mss)
    A.pkt("s", TH_SYN | TH_ACK, opts=mss)
    A.pkt("c", TH_ACK)
    A.pkt("s", PA, b"220 mx.example ESMTP\r\n")
    A.pkt("c", TH_ACK)
    B.pkt("c", TH_SYN)
    A.pkt("c", PA, b"EHLO client.example\r\n")
    B.pkt("s", TH_SYN | TH_ACK)
    A.pkt("s", PA, b"250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
    B.pkt("c", TH_ACK)
    A.pkt("c", PA, b"MAIL FROM:<a@client.example>\r\n")
    B.pkt("s", PA, b"220 mx.example ESMTP\r\n")
    A.pkt("s", PA, b"250 OK\r\n")
    A.pkt("c", PA, b"RCPT TO:<v@elsewhere.example>\r\n")
    B.pkt("c", PA, b"QUIT\r\n")
    A.pkt("s", PA, b"550 relay not permitted\r\n")
    B.pkt("s", TH_RST | TH_ACK)
    A.pkt("c", PA, b"RCPT TO:<u@mx.example>\r\n")
    A.pkt("s", PA, b"250 Accepted\r\n")
    A.pkt("c", PA, b"DATA\r\n")
    A.pkt("s", PA, b"354 Enter message\r\n")
    body = b"".join(b"Line %04d of the message body, padded out.\r\n" % n
                    for n in range(60))
    A.pkt("c", TH_ACK, body[:1200])
    # Consecutive same-direction payload packets form one turn.
    A.pkt("c", TH_ACK, body[1200:2400])
    A.pkt("s", TH_ACK)
    A.pkt("c", PA, body[2400:] + b".\r\n")
    A.pkt("s", PA, b"250 OK id=1abc\r\n")
    A.pkt("c", PA | TH_FIN, b"QUIT\r\n")
    A.pkt("s", PA, b"221 closing\r\n")
    A.pkt("s", TH_FIN | TH_ACK)
    A.pkt("c", TH_ACK)
    # A connection whose handshake was not captured.
    C = Conn([192, 0, 2, 9], 41000, server, 25, 7000, 8000)
    C.pkt("s", PA, b"250 still here, mid-stream\r\n")
    C.pkt("c", PA, b"RSET\r\nNOOP\r\n")
    C.pkt("s", PA, b"250 OK\r\n250 OK\r\n")

    # Noise that must come through untouched: IPv6 TCP, UDP, a fragment.
    v6c = bytes(15) + b"\1"
    tcp6 = struct.pack("!HHIIBBHHH", 50000, 25, 77, 88, 5 << 4, PA, 65535,
                       0, 0) + b"EHLO v6\r\n"
    ip6 = (struct.pack("!IHBB", 6 << 28, len(tcp6), 6, 64) + v6c + v6c
           + tcp6)
    udp = struct.pack("!HHHH", 5353, 53, 8 + 5, 0) + b"hello"
    frag = ip4(client, server, 6, struct.pack("!HH", 40312, 25) + b"x" * 20,
               ident=99, frag=0x2000)
    for pos, (l3, et) in ((7, (ip6, ET_IPV6)), (12, (ip4(client, server,
                                                           17, udp), ET_IPV4)),
                          (20, (frag, ET_IPV4))):
        t = out[pos][0]
        out.insert(pos, (t, l3, et))
    return out


def _synthetic_capture(linktype, endian, res):
    """The synthetic conversation as a Capture of the given link type,
    with an ARP frame in it where the link type can carry one."""
    pkts = []
    scale = 10 ** (res - 6)
    arp = (struct.pack("!HHBBH", 1, ET_IPV4, 6, 4, 1) + b"\x02" * 6
           + bytes([192, 0, 2, 7]) + bytes(6) + bytes([198, 51, 100, 1]))
    items = _synthetic_l3()
    items.insert(3, (items[3][0], arp, 0x0806))
    for ts, l3, et in items:
        # Sub-microsecond digits prove nanosecond timestamps survive.
        ts = ts * scale + (123 if res == 9 else 0)
        fr = Frame(et, l3, b"")
        if linktype == LT_EN10MB:
            data = ether_header(fr, [])
        elif linktype == LT_SLL:
            data = struct.pack("!HHH8sH", 0, ARPHRD_ETHER, 6,
                               _synth_mac(l3, et, True), et)
        elif linktype == LT_NULL:
            if et not in (ET_IPV4, ET_IPV6):
                continue
            data = struct.pack(endian + "I",
                               AF_INET if et == ET_IPV4 else 30)
        elif linktype == LT_RAW:
            if et not in (ET_IPV4, ET_IPV6):
                continue
            data = b""
        else:
            raise ValueError(linktype)
        data += l3
        # Ethernet pads short frames; the padding must not become data.
        if linktype == LT_EN10MB and len(data) < ETH_MIN_FRAME:
            data += b"\0" * (ETH_MIN_FRAME - len(data))
        pkts.append(Packet(ts, data, len(data)))
    return Capture(linktype, 65535, endian, res, pkts, "pcap")


def _write_capture(cap, path):
    w = CaptureWriter(path, "pcap", cap.endian, cap.res, cap.linktype,
                      cap.snaplen)
    for p in cap.packets:
        w.write(p.ts, p.data, p.origlen)
    w.close()


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


def _compare_streams(orig, var):
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
                            % (_fmt_key(k), len(a.data), len(b.data)))
        if b.conflicts:
            problems.append("stream %s: %d conflicting bytes"
                            % (_fmt_key(k), b.conflicts))
        if a.gaps != b.gaps:
            problems.append("stream %s: %d gaps, original %d"
                            % (_fmt_key(k), b.gaps, a.gaps))
        if a.fin != b.fin:
            problems.append("stream %s: FIN at %s, original %s"
                            % (_fmt_key(k), b.fin, a.fin))
    return problems


def _fmt_key(k):
    def addr(a):
        if len(a) == 4:
            return ".".join(str(x) for x in a)
        return a.hex()
    return "%s:%d>%s:%d" % (addr(k[0]), k[1], addr(k[2]), k[3])


def _check_link_variant(src, var, mode, fix):
    """A link-mode variant: same layer 3 bytes and timestamps frame by
    frame (only non-IP frames may be missing from null/raw), the right
    link type, byte order and header contents."""
    problems = []
    want_lt = src.linktype if mode == "pcapng" else OUT_LINKTYPE[mode]
    if var.linktype != want_lt:
        problems.append("link type %d, want %d" % (var.linktype, want_lt))
    if var.endian != src.endian or var.res != src.res:
        problems.append("byte order/precision changed")
    if var.fmt != ("pcapng" if mode == "pcapng" else "pcap"):
        problems.append("file format %s" % var.fmt)
    sf = [decode_link(src.linktype, p.data) for p in src.packets]
    keep = [(p, f) for p, f in zip(src.packets, sf)
            if mode not in ("null", "raw") or f.ethertype in (ET_IPV4,
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
        if mode == "null":
            af = struct.unpack(src.endian + "I", q.data[:4])[0]
            if af != (AF_INET if f.ethertype == ET_IPV4 else AF_INET6_OUT):
                problems.append("#%d AF %d not in the file's byte order"
                                % (n, af))
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


def _check_hostile(src, var):
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
        t = parse_tcp(f.l3) if f and f.ethertype == ET_IPV4 else None
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
            a = _sdiff(t.seq, u.seq)
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
        if f is None or f.ethertype != ET_IPV4:
            continue
        t = parse_tcp(f.l3)
        if t is None:
            continue
        if checksums_ok(f.l3) is False:
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
            elif any(_sdiff(t.seq, s) < 0 < _sdiff(t.seq + plen, s)
                     for s in seqs.get(k, [])[-8:]):
                overlaps += 1
            seen_segs[seg] = n
            if seqs.get(k) and _sdiff(t.seq, seqs[k][-1]) < 0:
                reorders += 1
            seqs.setdefault(k, []).append(t.seq)
        if t.flags & TH_FIN:
            fin_seen.add(k)
    if sizes and (min(sizes) < 1 or max(sizes) > 5):
        problems.append("segment sizes %d..%d" % (min(sizes), max(sizes)))
    if not (dups and reorders and overlaps):
        problems.append("too tame: %d dups, %d reorders, %d overlaps"
                        % (dups, reorders, overlaps))
    # Non-TCP packets (and IPv6) must come through byte for byte.
    want = [f.l3 for p, f, t in orig if t is None]
    got = []
    for q in var.packets:
        f = decode_link(var.linktype, q.data)
        if f is None or parse_tcp(f.l3) is None or f.ethertype != ET_IPV4:
            got.append(f.l3)
    if got != want:
        problems.append("non-TCP packets changed (%d vs %d)"
                        % (len(got), len(want)))
    return problems


def selftest():
    """Round trips of a synthetic capture through every mode, from several
    input link types, byte orders and precisions.  No external tools."""
    global QUIET
    QUIET = True
    ck = Checker()
    tmp = tempfile.mkdtemp(prefix="pcapvariant-")
    try:
        inputs = [(LT_EN10MB, "<", 6), (LT_EN10MB, ">", 9),
                  (LT_SLL, "<", 9), (LT_NULL, ">", 6), (LT_RAW, "<", 6)]
        for lt, endian, res in inputs:
            desc = "lt%d-%s-%s" % (lt, "le" if endian == "<" else "be",
                                   "nsec" if res == 9 else "usec")
            src_path = os.path.join(tmp, desc + ".pcap")
            _write_capture(_synthetic_capture(lt, endian, res), src_path)
            src = read_capture(src_path)
            ostreams = reassemble(src)
            # The synthetic input itself must be whole, or nothing below
            # would mean much.
            probs = []
            if len(ostreams) != 7 or any(s.gaps or s.conflicts
                                         for s in ostreams.values()):
                probs.append("synthetic input reassembles to %d streams"
                             % len(ostreams))
            ck.check("input %s" % desc, probs)
            for mode in MODES:
                out = os.path.join(tmp, "%s.%s" % (desc, mode))
                runs = [(mode, False)]
                if mode in ("vlan", "raw"):
                    runs.append((mode, True))
                for m, fix in runs:
                    convert(src_path, m, out, seed=1, fix=fix)
                    var = read_capture(out)
                    probs = _compare_streams(ostreams, reassemble(var))
                    if m == "hostile":
                        probs += _check_hostile(src, var)
                    else:
                        probs += _check_link_variant(src, var, m, fix)
                    ck.check("%-8s from %s%s" % (m, desc,
                                                 " --fix-checksums"
                                                 if fix else ""), probs)
        # Options that change the file rather than the packets.
        src_path = os.path.join(tmp, "lt1-le-usec.pcap")
        out = os.path.join(tmp, "opts.pcapng")
        convert(src_path, "pcapng", out, byte_order="big", nsec=True)
        var, src = read_capture(out), read_capture(src_path)
        probs = []
        if (var.endian, var.res) != (">", 9):
            probs.append("got %s/%d" % (var.endian, var.res))
        if [p.ts for p in var.packets] != [p.ts * 1000 for p in src.packets]:
            probs.append("timestamps not converted exactly")
        ck.check("pcapng --byte-order big --nsec", probs)
        # The window diagnostic: a 300-byte packet to a peer that offered
        # 100 bytes is flagged, one wholly past the window is not.
        def seg(c2s, seq, ack, flags, payload=b""):
            a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
            ports = (1025, 25) if c2s else (25, 1025)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, 6, 0,
                             a if c2s else b, b if c2s else a)
            tcp = struct.pack("!HHIIBBHHH", ports[0], ports[1], 0, ack,
                              5 << 4, 0, 100, 0, 0)
            return parse_tcp(build_ipv4_tcp(ip, tcp, payload, seq, flags))
        tcps = [seg(True, 0, 0, TH_SYN), seg(False, 50, 1, TH_SYN | TH_ACK),
                seg(True, 1, 51, TH_ACK), seg(True, 1, 51, TH_ACK, b"x" * 300),
                seg(True, 301, 51, TH_ACK, b"y" * 10)]
        over = _window_overruns(tcps, lambda i: i >= 3)
        ck.check("hostile window diagnostic", [] if over == 1
                 else ["counted %d, want 1" % over])
        # The command line, through "all".
        outdir = os.path.join(tmp, "all")
        with open(os.devnull, "w") as null:
            saved, sys.stdout = sys.stdout, null
            try:
                rc = main(["all", src_path, outdir, "--seed", "2"])
            finally:
                sys.stdout = saved
        made = sorted(os.listdir(outdir))
        want = sorted(variant_name(src_path, m) for m in MODES)
        ck.check("command line: all", [] if rc == 0 and made == want
                 else ["rc %d, wrote %s" % (rc, made)])
        # Same seed, same file; another seed, another file.
        outs = []
        for seed in (3, 3, 4):
            out = os.path.join(tmp, "seed%d-%d.pcap" % (seed, len(outs)))
            convert(src_path, "hostile", out, seed=seed)
            with open(out, "rb") as f:
                outs.append(f.read())
        ck.check("hostile --seed is deterministic",
                 [] if outs[0] == outs[1] != outs[2] else ["not so"])
    finally:
        shutil.rmtree(tmp)
    print("selftest: %s" % ("FAIL (%d)" % ck.failed if ck.failed else "ok"))
    return 1 if ck.failed else 0


# ---------------------------------------------------------------- verify

def _run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def _tshark_ok(rc, err, damaged_ok):
    """tshark fails on a damaged file after printing what it could read.
    That is accepted for an original (whose readable part is what this
    tool converts), never for a variant we wrote."""
    if rc == 0:
        return True
    return damaged_ok and "appears to be damaged or corrupt" in err


def tshark_follow(path, damaged_ok=False):
    """{stream index: [(node, text), ...]} from tshark's follow,tcp,ascii,
    with consecutive chunks of the same node merged: tshark prints one
    chunk per in-order delivery, and hostile variants change only those
    boundaries, never the text or who sent it when."""
    rc, out, err = _run(["tshark", "-n", "-r", path, "-T", "fields",
                         "-e", "tcp.stream"])
    if not _tshark_ok(rc, err, damaged_ok):
        raise CaptureError("tshark -r %s: %s" % (path, err.strip()))
    ids = sorted(set(int(x) for x in out.split()))
    result = {}
    for k in range(0, len(ids), 64):        # many -z per run, not too many
        batch = ids[k:k + 64]
        cmd = ["tshark", "-n", "-r", path, "-q"]
        for s in batch:
            cmd += ["-z", "follow,tcp,ascii,%d" % s]
        rc, out, err = _run(cmd)
        if not _tshark_ok(rc, err, damaged_ok):
            raise CaptureError("tshark follow %s: %s" % (path, err.strip()))
        got = _parse_follow(out.decode("latin-1"))
        if set(got) != set(batch):
            raise CaptureError("tshark follow %s: streams %s, asked for %s"
                               % (path, sorted(got), batch))
        result.update(got)
    return result


def _parse_follow(text):
    """Splits tshark -qz follow,tcp,ascii output into {stream: chunks}.

    Several -z options print their streams in reverse order, so each one
    is identified by its "Filter: tcp.stream eq N" line.  A stream is a
    "=====" line, header lines up to "Node 1: ...", chunks, and a closing
    "=====" line.  A chunk is its byte count (tab-indented when node 1 sent
    it), a newline, exactly that many characters (non-printables became
    '.', so one per byte; its own newlines count) and a newline."""
    streams = {}
    sep = "=" * 67 + "\n"
    pos = text.find(sep)
    while pos >= 0:
        pos += len(sep)
        if not text.startswith("Follow:", pos):
            pos = text.find(sep, pos)       # that was a closing line
            continue
        m = re.compile(r"Filter: tcp\.stream eq (\d+)\n").search(text, pos)
        index = int(m.group(1))
        pos = text.index("\n", text.index("\nNode 1:", pos) + 1) + 1
        chunks = []
        while pos < len(text) and not text.startswith(sep, pos):
            end = text.index("\n", pos)
            head = text[pos:end]
            node = 1 if head.startswith("\t") else 0
            n = int(head)
            body = text[end + 1:end + 1 + n]
            pos = end + 1 + n + 1
            if chunks and chunks[-1][0] == node:
                chunks[-1] = (node, chunks[-1][1] + body)
            else:
                chunks.append((node, body))
        streams[index] = chunks
        pos = text.find(sep, pos)
    return streams


# tcpdump's chatter on stderr that is not a complaint about the file: the
# second line appears for SLL2, whose interface indexes it looks up on the
# machine it runs on.
BENIGN_TCPDUMP = ("reading from file ",
                  "Warning: interface names might be incorrect")


def _tcpdump_times(path):
    """(timestamps, problems) from tcpdump -tt at nanosecond precision:
    one epoch time per packet line (hex dumps of unknown protocols add
    lines without one), and whatever tcpdump complained about."""
    rc, so, err = _run(["tcpdump", "-nn", "-tt", "--time-stamp-precision=nano",
                        "-r", path])
    errs = [l for l in err.splitlines()
            if l and not l.startswith(BENIGN_TCPDUMP)]
    probs = ["tcpdump: rc %d %s" % (rc, errs[:3])] if rc != 0 or errs else []
    return re.findall(rb"(?m)^(\d+\.\d+) ", so), probs


def _backsteps(times):
    """How often tcpdump's times (fixed 9 decimals) go back."""
    t = [tuple(int(x) for x in v.split(b".")) for v in times]
    return sum(1 for a, b in zip(t, t[1:]) if b < a)


def _is_subsequence(short, long_):
    it = iter(long_)
    return all(x in it for x in short)


def verify_file(path, modes, seed, tmp):
    """Checks one capture's variants; returns (report lines, failures)."""
    lines = []
    try:
        want = tshark_follow(path, damaged_ok=True)
        cap = read_capture(path)
    except (CaptureError, OSError) as e:
        return ["FAIL %s: %s" % (path, e)], 1
    nbytes = sum(len(t) for ch in want.values() for _, t in ch)
    lines.append("== %s: %d packets, %d TCP stream(s), %d bytes of stream "
                 "text" % (path, len(cap.packets), len(want), nbytes))
    # tcpdump cannot read gzip: give it the decompressed original.
    plain = os.path.join(tmp, "original")
    with open(plain, "wb") as f:
        with open(path, "rb") as g:
            raw = g.read()
        f.write(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    orig_times, _ = _tcpdump_times(plain)
    failed = 0
    for mode in modes:
        out = os.path.join(tmp, variant_name(path, mode))
        probs = []
        n = 0
        try:
            n = convert(path, mode, out, seed=seed, cap=cap)
            times, probs = _tcpdump_times(out)
            if len(times) != n:
                probs.append("tcpdump read %d packets of %d"
                             % (len(times), n))
            # Link modes keep every timestamp (null/raw may drop non-IP
            # frames); hostile only promises they never go back, except
            # where the original's own went back.
            if mode == "pcapng" and times != orig_times:
                probs.append("timestamps differ")
            elif mode == "hostile":
                back, orig_back = _backsteps(times), _backsteps(orig_times)
                if back > orig_back:
                    probs.append("timestamps go back %d times, in the "
                                 "original %d" % (back, orig_back))
            elif not _is_subsequence(times, orig_times):
                probs.append("timestamps differ")
            got = tshark_follow(out)
            if set(got) != set(want):
                probs.append("tshark sees %d streams, original %d"
                             % (len(got), len(want)))
            for s in sorted(want):
                if s in got and got[s] != want[s]:
                    probs.append("tshark stream %d text differs" % s)
        except CaptureError as e:
            probs.append(str(e))
        label = "%-8s %s (%d packets)" % (mode, path, n)
        if probs:
            failed += 1
            lines.append("FAIL " + label)
            lines.extend("     " + msg for msg in probs[:5])
        else:
            lines.append("ok   " + label)
    return lines, failed


def verify(files, modes, seed, keep=None, jobs=1):
    """Each FILE against its variants with the real tools: tcpdump must
    read every variant cleanly with the right timestamps, and tshark's
    follow,tcp,ascii text of every TCP stream must be the original's."""
    for tool in ("tshark", "tcpdump"):
        if shutil.which(tool) is None:
            print("SKIP verify: %s not installed" % tool)
            return 77
    tmp = keep or tempfile.mkdtemp(prefix="pcapvariant-verify-")
    failed = 0

    def one(k):
        # Many public captures share a name (input.pcap): one directory
        # per input keeps their variants apart.
        d = os.path.join(tmp, "%03d-%s" % (k, os.path.basename(files[k])))
        os.makedirs(d, exist_ok=True)
        return verify_file(files[k], modes, seed, d)

    try:
        # tshark spends seconds starting up; running several at once is
        # the only real speed-up.  Reports still come out in input order.
        with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as ex:
            for lines, bad in ex.map(one, range(len(files))):
                print("\n".join(lines), flush=True)
                failed += bad
    finally:
        if keep is None:
            shutil.rmtree(tmp)
    print("verify: %s" % ("FAIL (%d)" % failed if failed else "ok"))
    return 1 if failed else 0


# ---------------------------------------------------------------- main

def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=1,
                        help="hostile: PRNG seed (default 1)")
    common.add_argument("--fix-checksums", action="store_true",
                        help="recompute IPv4 and TCP checksums (link modes)")
    common.add_argument("--byte-order", choices=("same", "little", "big"),
                        default="same",
                        help="output byte order (default: the input's)")
    common.add_argument("--nsec", action="store_true",
                        help="write nanosecond timestamps")
    common.add_argument("--no-pad", action="store_true",
                        help="hostile: no padding to 60-byte frames")
    common.add_argument("--dup-rate", type=float, default=0.1,
                        help="hostile: share of segments sent twice")
    common.add_argument("--overlap-rate", type=float, default=0.1,
                        help="hostile: share re-sent with 1-2 more bytes")

    ap = argparse.ArgumentParser(
        description="Rewrite a capture into link-layer and segmentation "
        "variants with identical TCP streams.",
        epilog="See the module docstring (or tests/tools/README.md).")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="MODE")
    for mode in MODES:
        p = sub.add_parser(mode, parents=[common],
                           help="write the %s variant" % mode)
        p.add_argument("input")
        p.add_argument("output")
    p = sub.add_parser("all", parents=[common],
                       help="write every variant into a directory")
    p.add_argument("input")
    p.add_argument("outdir")
    sub.add_parser("selftest", help="synthetic round trips")
    p = sub.add_parser("verify", help="compare variants with tshark/tcpdump")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", metavar="DIR",
                   help="write the variants into DIR and keep them")
    p.add_argument("-j", "--jobs", type=int, default=1,
                   help="check this many files at once")
    p.add_argument("files", nargs="+")
    a = ap.parse_args(argv)

    try:
        if a.cmd == "selftest":
            return selftest()
        if a.cmd == "verify":
            modes = [m for m in a.modes.split(",") if m]
            bad = [m for m in modes if m not in MODES]
            if bad:
                ap.error("unknown mode(s) %s" % bad)
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
            return verify(a.files, modes, a.seed, a.keep, a.jobs)
        kw = dict(seed=a.seed, fix=a.fix_checksums, byte_order=a.byte_order,
                  nsec=a.nsec, pad=not a.no_pad, dup_rate=a.dup_rate,
                  overlap_rate=a.overlap_rate)
        if a.cmd == "all":
            os.makedirs(a.outdir, exist_ok=True)
            cap = read_capture(a.input)
            for mode in MODES:
                out = os.path.join(a.outdir, variant_name(a.input, mode))
                n = convert(a.input, mode, out, cap=cap, **kw)
                print("%s: %d packets" % (out, n))
            return 0
        convert(a.input, a.cmd, a.output, **kw)
        return 0
    except (CaptureError, OSError) as e:
        warn(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
