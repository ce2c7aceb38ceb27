"""pcapio - captures in and out: classic pcap (either byte order, usec or
nsec) and pcapng, optionally gzip-compressed on input.

A Capture is held whole in memory (the inputs are test fixtures of a few
MiB).  Timestamps are integers in units of 10**-res seconds, so every
conversion keeps them exactly.
"""

import gzip
import struct

from .base import CaptureError, warn

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


def write_capture(cap, path):
    """Writes a whole Capture as classic pcap in its own byte order and
    precision."""
    w = CaptureWriter(path, "pcap", cap.endian, cap.res, cap.linktype,
                      cap.snaplen)
    try:
        for p in cap.packets:
            w.write(p.ts, p.data, p.origlen)
    finally:
        w.close()
