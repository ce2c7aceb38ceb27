#!/usr/bin/env python3
"""pcapvariant.py - rewrite a capture into variants that must replay the same.

wireban must find the same SMTP sessions whatever link layer a capture was
taken on and however TCP (or IPv6) cut the byte streams into segments.
This tool takes one capture and writes it again with a different link
layer, file format, segmentation or IPv6 packaging, keeping every TCP
byte stream identical, so a test can replay the original and each variant
and demand identical results.

Usage:
    pcapvariant.py MODE IN OUT [options]     write one variant
    pcapvariant.py all IN DIR [options]      every mode, DIR/NAME.MODE.pcap[ng]
                                             (the IPv6 modes only when IN
                                             has IPv6 TCP)
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
             (AF_INET6 = 30, macOS)
    loop     OpenBSD loopback (linktype 108), AF in network byte order
             (AF_INET6 = 24)
    raw      raw IP (linktype 101)
    hostile  Ethernet; TCP payload (IPv4 and IPv6) re-cut into 1-3 byte
             segments, shuffled within a direction's turn, with
             duplicates and overlapping retransmissions; checksums valid
  IPv6 only (Ethernet, checksums valid):
    frag6    TCP segments as IPv6 fragments of several sizes, out of
             order, interleaved; atomic fragments on some others
    exthdr6  hop-by-hop, destination options and routing type 4 (segments
             left 0) headers before TCP
    overlap6 a decoy before each segment: two fragments overlapping with
             different bytes, which RFC 5722 says to drop whole

Options:
    --seed N            hostile and IPv6 modes' PRNG seed (default 1)
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
except for the pcapng mode.  Python 3 standard library only; the code is
the package pcapvar/ beside this file.  tests/tools/README.md describes
every mode and check in detail.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pcapvar.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
