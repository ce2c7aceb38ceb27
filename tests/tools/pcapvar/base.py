"""base - the numbers every module shares, the error type, warnings.

Link types are the LINKTYPE_* values written in files, not the DLT_* of
any one system.  Nothing here does I/O except warn() (stderr).
"""

import sys

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
ET_ARP = 0x0806
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
# BSD value (NetBSD, OpenBSD), FreeBSD uses 28, macOS 30, Linux 10.  The
# null mode writes macOS's 30 (most NULL captures with IPv6 come from a
# Mac's lo0), the loop mode OpenBSD's 24 (DLT_LOOP is OpenBSD's), and the
# self-test feeds FreeBSD's 28 in, so the reader sees all three.
AF_INET = 2
AF_INET6_NULL = 30
AF_INET6_LOOP = 24
AF_INET6_ALL = (10, 24, 28, 30)

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK, TH_URG = 1, 2, 4, 8, 16, 32

SMTP_PORTS = (25, 465, 587, 2525)
ETH_MIN_FRAME = 60       # without FCS; shorter frames are padded on the wire


class CaptureError(Exception):
    """The input cannot be read or converted; the message says why."""


_quiet = [False]         # the self-test drops frames on purpose


def set_quiet(on):
    _quiet[0] = bool(on)


def warn(msg):
    if not _quiet[0]:
        print("pcapvariant: " + msg, file=sys.stderr)
