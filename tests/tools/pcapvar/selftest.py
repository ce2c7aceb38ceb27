"""selftest - round trips of the synthetic capture (synth.py) through every
mode, from several input link types, byte orders and precisions, read
back with this package's own reader and checked (checks.py, checks6.py).
No external tools.  One ok/FAIL line per check; exit status 1 on any
failure."""

import os
import shutil
import struct
import sys
import tempfile

from .base import LT_EN10MB, LT_NULL, LT_RAW, LT_SLL, TH_SYN, TH_ACK, \
    set_quiet
from .checks import Checker, check_hostile, check_link_variant, \
    compare_streams
from .checks6 import check_exthdr6, check_frag6, check_overlap6
from .driver import GENERAL_MODES, MODES, convert, variant_name
from .hostile import window_overruns
from .inet import build_tcp, parse_tcp
from .pcapio import read_capture, write_capture
from .reasm import reassemble
from .synth import synthetic_capture

# Directions in the synthetic capture: IPv4 A, B, C and IPv6 A, B, C, D,
# two each.
SYNTH_STREAMS = 14


def _check_mode(mode, src, var, ostreams, fix):
    probs = compare_streams(ostreams, reassemble(var))
    if mode == "hostile":
        probs += check_hostile(src, var)
    elif mode == "frag6":
        probs += check_frag6(src, var)
    elif mode == "exthdr6":
        probs += check_exthdr6(src, var)
    elif mode == "overlap6":
        probs += check_overlap6(src, var, ostreams)
    else:
        probs += check_link_variant(src, var, mode, fix)
    return probs


def _round_trips(ck, tmp):
    inputs = [(LT_EN10MB, "<", 6), (LT_EN10MB, ">", 9),
              (LT_SLL, "<", 9), (LT_NULL, ">", 6), (LT_RAW, "<", 6)]
    for lt, endian, res in inputs:
        desc = "lt%d-%s-%s" % (lt, "le" if endian == "<" else "be",
                               "nsec" if res == 9 else "usec")
        src_path = os.path.join(tmp, desc + ".pcap")
        write_capture(synthetic_capture(lt, endian, res), src_path)
        src = read_capture(src_path)
        ostreams = reassemble(src)
        # The synthetic input itself must be whole, or nothing below
        # would mean much.
        probs = []
        if len(ostreams) != SYNTH_STREAMS or any(
                s.gaps or s.conflicts for s in ostreams.values()):
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
                ck.check("%-8s from %s%s" % (m, desc, " --fix-checksums"
                                             if fix else ""),
                         _check_mode(m, src, var, ostreams, fix))


def _options(ck, tmp):
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
        return parse_tcp(build_tcp(ip, tcp, payload, seq, flags))
    tcps = [seg(True, 0, 0, TH_SYN), seg(False, 50, 1, TH_SYN | TH_ACK),
            seg(True, 1, 51, TH_ACK), seg(True, 1, 51, TH_ACK, b"x" * 300),
            seg(True, 301, 51, TH_ACK, b"y" * 10)]
    over = window_overruns(tcps, lambda i: i >= 3)
    ck.check("hostile window diagnostic", [] if over == 1
             else ["counted %d, want 1" % over])

    # The command line, through "all": every mode for a capture with
    # IPv6 TCP, the general ones only for an IPv4-only capture.
    from .cli import main
    v4_path = os.path.join(tmp, "v4only.pcap")
    v4 = read_capture(src_path)
    v4.packets = [p for p in v4.packets if p.data[12:14] != b"\x86\xdd"]
    write_capture(v4, v4_path)
    for path, modes in ((src_path, MODES), (v4_path, GENERAL_MODES)):
        outdir = os.path.join(tmp, "all-" + os.path.basename(path))
        with open(os.devnull, "w") as null:
            saved, sys.stdout = sys.stdout, null
            try:
                rc = main(["all", path, outdir, "--seed", "2"])
            finally:
                sys.stdout = saved
        made = sorted(os.listdir(outdir))
        want = sorted(variant_name(path, m) for m in modes)
        ck.check("command line: all %s" % os.path.basename(path),
                 [] if rc == 0 and made == want
                 else ["rc %d, wrote %s" % (rc, made)])

    # Same seed, same file; another seed, another file.
    for mode in ("hostile", "frag6", "exthdr6", "overlap6"):
        outs = []
        for seed in (3, 3, 4):
            out = os.path.join(tmp, "seed%d-%d.pcap" % (seed, len(outs)))
            convert(src_path, mode, out, seed=seed)
            with open(out, "rb") as f:
                outs.append(f.read())
        ck.check("%s --seed is deterministic" % mode,
                 [] if outs[0] == outs[1] != outs[2] else ["not so"])


def selftest():
    set_quiet(True)
    ck = Checker()
    tmp = tempfile.mkdtemp(prefix="pcapvariant-")
    try:
        _round_trips(ck, tmp)
        _options(ck, tmp)
    finally:
        shutil.rmtree(tmp)
        set_quiet(False)
    print("selftest: %s" % ("FAIL (%d)" % ck.failed if ck.failed else "ok"))
    return 1 if ck.failed else 0
