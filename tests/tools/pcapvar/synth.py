"""synth - the self-test's synthetic capture, in any input link type.

The same SMTP script runs over IPv4 and over IPv6: a rejected relay
attempt and a delivered message with a body larger than one segment,
QUIT sent with FIN, sequence numbers that wrap past 2^32; a second
connection interleaved with the first and ended by RST; a third captured
mid-stream.  IPv6 adds a mid-stream connection whose packets already
carry a destination options header.  Noise that every mode must carry
through unchanged: UDP over both families, an IPv4 fragment, an IPv6
fragment (of UDP), an ARP frame, Ethernet padding.  TCP checksums are
deliberately wrong, as on a loopback capture.
"""

import struct

from .base import (AF_INET, ARPHRD_ETHER, ET_ARP, ET_IPV4, ET_IPV6,
                   ETH_MIN_FRAME, LT_EN10MB, LT_NULL, LT_RAW, LT_SLL, TH_ACK,
                   TH_FIN, TH_PSH, TH_RST, TH_SYN)
from .inet import checksum
from .link import Frame, ether_header, synth_mac
from .pcapio import Capture, Packet

# FreeBSD's AF_INET6: the input side of the AF values (null writes 30,
# loop 24).
AF_INET6_IN = 28
V6_CLIENT = bytes.fromhex("20010db8000000000000000000000007")
V6_SERVER = bytes.fromhex("20010db8000100000000000000000001")
# The DO header D6's packets carry: PadN(4).
D6_DSTOPTS = b"\x06\x00\x01\x04\0\0\0\0"


def ip4(src, dst, proto, payload, ident=1, frag=0x4000):
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload),
                                ident, frag, 64, proto, 0, bytes(src),
                                bytes(dst)))
    struct.pack_into("!H", hdr, 10, checksum(bytes(hdr)))
    return bytes(hdr) + payload


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) + src + dst \
        + payload


class Conn:
    """One TCP connection of the script; pkt() appends a packet to out."""

    def __init__(self, out, ts, mk, cip, cport, sip, sport, cisn, sisn,
                 ext=b""):
        self.out, self.ts, self.mk, self.ext = out, ts, mk, ext
        self.c = (cip, cport)
        self.s = (sip, sport)
        self.nxt = {"c": cisn, "s": sisn}

    def pkt(self, who, flags, payload=b"", opts=b""):
        src, dst = (self.c, self.s) if who == "c" else (self.s, self.c)
        other = "s" if who == "c" else "c"
        ack = self.nxt[other] if flags & TH_ACK else 0
        thl = 20 + len(opts)
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], self.nxt[who], ack,
                          thl // 4 << 4, flags, 65535, 0xbad0, 0) + opts
        self.nxt[who] = (self.nxt[who] + len(payload)
                         + (1 if flags & (TH_SYN | TH_FIN) else 0)
                         ) & 0xffffffff
        self.ts[0] += 37
        self.out.append((self.ts[0],) + self.mk(src[0], dst[0],
                                                self.ext + tcp + payload))


def _script(out, ts, mk, client, client2, client3, server):
    A = Conn(out, ts, mk, client, 40312, server, 25, 0xfffffff0, 1000)
    B = Conn(out, ts, mk, client2, 40999, server, 25, 5000, 9000)
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
    C = Conn(out, ts, mk, client3, 41000, server, 25, 7000, 8000)
    C.pkt("s", PA, b"250 still here, mid-stream\r\n")
    C.pkt("c", PA, b"RSET\r\nNOOP\r\n")
    C.pkt("s", PA, b"250 OK\r\n250 OK\r\n")


def synthetic_l3():
    """The conversation as (ts_usec, l3, ethertype) tuples."""
    out = []
    ts = [1700000000 * 10 ** 6 + 100]
    server = bytes([198, 51, 100, 1])
    _script(out, ts, lambda s, d, seg: (ip4(s, d, 6, seg), ET_IPV4),
            bytes([192, 0, 2, 7]), bytes([192, 0, 2, 8]),
            bytes([192, 0, 2, 9]), server)
    n4 = len(out)

    def v6(s, d, seg):
        return ip6(s, d, 6, seg), ET_IPV6

    def v6c(k):
        return V6_CLIENT[:15] + bytes([k])
    _script(out, ts, v6, v6c(7), v6c(8), v6c(9), V6_SERVER)
    # A mid-stream connection with a destination options header on each
    # packet: the rewrites must keep (hostile) or skip (the IPv6 modes)
    # an existing chain.
    D = Conn(out, ts, lambda s, d, seg: (ip6(s, d, 60, seg), ET_IPV6),
             v6c(10), 41001, V6_SERVER, 25, 3000, 4000, ext=D6_DSTOPTS)
    D.pkt("c", TH_PSH | TH_ACK, b"NOOP\r\n")
    D.pkt("s", TH_PSH | TH_ACK, b"250 OK\r\n")

    client, srv = bytes([192, 0, 2, 7]), server
    udp = struct.pack("!HHHH", 5353, 53, 8 + 5, 0) + b"hello"
    frag4 = ip4(client, srv, 6, struct.pack("!HH", 40312, 25) + b"x" * 20,
                ident=99, frag=0x2000)
    # The first fragment of a UDP datagram over IPv6 (never completed).
    frag6 = ip6(v6c(7), V6_SERVER, 44, struct.pack(
        "!BBHI", 17, 0, 1, 0x1234) + udp + b"y" * 3)
    for pos, (l3, et) in ((7, (ip4(client, srv, 17, udp), ET_IPV4)),
                          (20, (frag4, ET_IPV4)),
                          (n4 + 5, (ip6(v6c(7), V6_SERVER, 17, udp),
                                    ET_IPV6)),
                          (n4 + 12, (frag6, ET_IPV6))):
        t = out[pos][0]
        out.insert(pos, (t, l3, et))
    return out


def synthetic_capture(linktype, endian, res):
    """The synthetic conversation as a Capture of the given link type,
    with an ARP frame in it where the link type can carry one."""
    pkts = []
    scale = 10 ** (res - 6)
    arp = (struct.pack("!HHBBH", 1, ET_IPV4, 6, 4, 1) + b"\x02" * 6
           + bytes([192, 0, 2, 7]) + bytes(6) + bytes([198, 51, 100, 1]))
    items = synthetic_l3()
    items.insert(3, (items[3][0], arp, ET_ARP))
    for ts, l3, et in items:
        # Sub-microsecond digits prove nanosecond timestamps survive.
        ts = ts * scale + (123 if res == 9 else 0)
        fr = Frame(et, l3, b"")
        if linktype == LT_EN10MB:
            data = ether_header(fr, [])
        elif linktype == LT_SLL:
            data = struct.pack("!HHH8sH", 0, ARPHRD_ETHER, 6,
                               synth_mac(l3, et, True), et)
        elif linktype == LT_NULL:
            if et not in (ET_IPV4, ET_IPV6):
                continue
            data = struct.pack(endian + "I",
                               AF_INET if et == ET_IPV4 else AF_INET6_IN)
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
