"""cli - the command line of pcapvariant.py (see its docstring)."""

import argparse
import os

from .base import CaptureError, warn
from .driver import MODES, convert, modes_for, variant_name
from .pcapio import read_capture


def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=1,
                        help="hostile and IPv6 modes: PRNG seed (default 1)")
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
        prog="pcapvariant.py",
        description="Rewrite a capture into link-layer and segmentation "
        "variants with identical TCP streams.",
        epilog="See pcapvariant.py's docstring (or tests/tools/README.md).")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="MODE")
    for mode in MODES:
        p = sub.add_parser(mode, parents=[common],
                           help="write the %s variant" % mode)
        p.add_argument("input")
        p.add_argument("output")
    p = sub.add_parser("all", parents=[common],
                       help="write every variant into a directory (the "
                       "IPv6 modes only for a capture with IPv6 TCP)")
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
            from .selftest import selftest
            return selftest()
        if a.cmd == "verify":
            from .verify import verify
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
            for mode in modes_for(cap):
                out = os.path.join(a.outdir, variant_name(a.input, mode))
                n = convert(a.input, mode, out, cap=cap, **kw)
                print("%s: %d packets" % (out, n))
            return 0
        convert(a.input, a.cmd, a.output, **kw)
        return 0
    except (CaptureError, OSError) as e:
        warn(str(e))
        return 2
