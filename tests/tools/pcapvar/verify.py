"""verify - variants checked with the real tools: tcpdump must read each
one cleanly with the right timestamps, and tshark's follow,tcp,ascii text
of every TCP stream must be the original's."""

import concurrent.futures
import gzip
import os
import re
import shutil
import subprocess
import tempfile

from .base import CaptureError
from .driver import convert, modes_for, variant_name
from .pcapio import read_capture

# Modes that write every frame at the original's time: pcapng exactly,
# the link modes too (null, loop and raw may drop non-IP frames).  The
# rewrites only promise times that never go back.
REWRITES = ("hostile", "frag6", "exthdr6", "overlap6")

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


def tshark_follow(path, damaged_ok=False, opts=()):
    """{stream index: [(node, text), ...]} from tshark's follow,tcp,ascii,
    with consecutive chunks of the same node merged: tshark prints one
    chunk per in-order delivery, and hostile variants change only those
    boundaries, never the text or who sent it when.  opts: more tshark
    options (preferences)."""
    opts = list(opts)
    rc, out, err = _run(["tshark", "-n", "-r", path] + opts +
                        ["-T", "fields", "-e", "tcp.stream"])
    if not _tshark_ok(rc, err, damaged_ok):
        raise CaptureError("tshark -r %s: %s" % (path, err.strip()))
    ids = sorted(set(int(x) for x in out.split()))
    result = {}
    for k in range(0, len(ids), 64):        # many -z per run, not too many
        batch = ids[k:k + 64]
        cmd = ["tshark", "-n", "-r", path, "-q"] + opts
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


def tshark_count(path, display_filter, opts=()):
    """How many frames of path match a tshark display filter."""
    rc, out, err = _run(["tshark", "-n", "-r", path] + list(opts) +
                        ["-Y", display_filter, "-T", "fields", "-e",
                         "frame.number"])
    if rc != 0:
        raise CaptureError("tshark -Y %s %s: %s" % (display_filter, path,
                                                   err.strip()))
    return len(out.split())


def _decoys(path):
    """The decoy datagrams of an overlap6 variant, by our own reading."""
    from .checks6 import decoy_idents
    return len(decoy_idents(read_capture(path)))


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
    # The IPv6 modes only for a capture they change, as "all" does.
    have = modes_for(cap)
    for mode in [m for m in modes if m in have]:
        out = os.path.join(tmp, variant_name(path, mode))
        probs = []
        n = 0
        try:
            n = convert(path, mode, out, seed=seed, cap=cap)
            times, probs = _tcpdump_times(out)
            if len(times) != n:
                probs.append("tcpdump read %d packets of %d"
                             % (len(times), n))
            # Link modes keep every timestamp (null/loop/raw may drop
            # non-IP frames); the rewrites only promise they never go
            # back, except where the original's own went back.
            if mode == "pcapng" and times != orig_times:
                probs.append("timestamps differ")
            elif mode in REWRITES:
                back, orig_back = _backsteps(times), _backsteps(orig_times)
                if back > orig_back:
                    probs.append("timestamps go back %d times, in the "
                                 "original %d" % (back, orig_back))
            elif not _is_subsequence(times, orig_times):
                probs.append("timestamps differ")
            # Wireshark 4.0 does not drop a datagram whose fragments
            # overlap with different data (RFC 5722): it reassembles it,
            # flagged ipv6.fragment.overlap.conflict, and follows the
            # decoy's text.  So for overlap6: every decoy must be flagged,
            # and the streams are followed without IPv6 reassembly, where
            # only the genuine segments are TCP.
            # The rewrites promise valid TCP checksums: tshark checks them
            # with its own code (status 0 is "bad").
            if mode in REWRITES:
                bad = tshark_count(out, "tcp.checksum.status == 0",
                                   ("-o", "tcp.check_checksum:TRUE"))
                if bad:
                    probs.append("tshark finds %d bad TCP checksums" % bad)
            opts = ()
            if mode == "overlap6":
                opts = ("-o", "ipv6.defragment:FALSE")
                flagged = tshark_count(out, "ipv6.fragment.overlap.conflict")
                if flagged != _decoys(out):
                    probs.append("tshark flags %d conflicting overlaps, "
                                 "%d decoys" % (flagged, _decoys(out)))
            got = tshark_follow(out, opts=opts)
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


