"""driver - one variant of one capture: which modes there are, what each
output is called, and convert(), which writes it."""

import os

from .base import CaptureError, LT_EN10MB, READABLE_LINKTYPES
from .hostile import HostileOptions, convert_hostile
from .link import LINK_MODES, OUT_LINKTYPE, convert_link
from .pcapio import CaptureWriter, read_capture
from .v6only import (V6_MODES, V6Options, convert_exthdr6, convert_frag6,
                     convert_overlap6, has_ipv6_tcp)

# Every capture gets these; the IPv6 modes only a capture with IPv6 TCP
# (on any other they would be a copy of the hostile mode's Ethernet).
GENERAL_MODES = ("pcapng",) + LINK_MODES + ("hostile",)
MODES = GENERAL_MODES + V6_MODES
V6_CONVERT = {"frag6": convert_frag6, "exthdr6": convert_exthdr6,
              "overlap6": convert_overlap6}


def modes_for(cap):
    """The modes "all" writes for a capture."""
    return GENERAL_MODES + (V6_MODES if has_ipv6_tcp(cap) else ())


def out_linktype(mode, cap):
    if mode == "pcapng":
        return cap.linktype
    if mode == "hostile" or mode in V6_MODES:
        return LT_EN10MB
    return OUT_LINKTYPE[mode]


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
    fmt = "pcap"
    if mode == "pcapng":
        gen = ((p.ts, p.data, p.origlen) for p in cap.packets)
        fmt = "pcapng"
    elif mode == "hostile":
        gen = convert_hostile(cap, HostileOptions(seed, dup_rate,
                                                  overlap_rate, pad))
    elif mode in V6_MODES:
        gen = V6_CONVERT[mode](cap, V6Options(seed))
    else:
        gen = convert_link(cap, mode, fix)
    w = CaptureWriter(out_path, fmt, endian, res, out_linktype(mode, cap),
                      cap.snaplen)
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
