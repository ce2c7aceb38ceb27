#!/usr/bin/env python3
"""flood.py - captures of the table-flooding attacks on the sniffer.

  flood.py syn OUT     relay probes whose replies come after a flood of
                       spoofed SYNs (each answered by the server's
                       SYN-ACK; no client ACK: a blind spoofer cannot)
  flood.py idle OUT    relay probes whose replies come after a flood of
                       idle, fully completed handshakes

In both, eleven clients (192.0.2.66, and 192.0.2.100..109: "ten live
sessions in the middle of a transaction") each open a session to the
server 192.0.2.1:25, get the 220 greeting, EHLO/250, MAIL/250 and send
RCPT to a foreign domain; then the flood (N connections, -n, default
10000 for syn, 2000 for idle, from 10.0.0.0/8); then the server answers
each of the eleven RCPTs "550 relay not permitted" (exim's text). With
capture.max_streams below the flood's size, a sniffer whose table the
flood can fill loses the eleven sessions before their 550 arrives: no
reject event, no ban. A sniffer that keeps floods out of its table
(syn: the handshake gate) or evicts idle sessions before busy ones
(idle) reports all eleven.

Ethernet, IPv4, TCP with correct checksums; times 10 us apart.
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapvar.inet import checksum as csum  # noqa: E402

SERVER = (192, 0, 2, 1)
PORT = 25
CLIENTS = [(192, 0, 2, 66)] + [(192, 0, 2, 100 + i) for i in range(10)]
MAC_S = bytes.fromhex("00005e005301")
MAC_C = bytes.fromhex("00005e005302")


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0,
                                 262144, 1))
        self.t = 1732700000 * 1000000

    def tcp(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        ip_src, ip_dst = bytes(src), bytes(dst)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff,
                          ack & 0xffffffff, 5 << 4, flags, 65535, 0, 0)
        pseudo = ip_src + ip_dst + struct.pack("!BBH", 0, 6,
                                               len(tcp) + len(payload))
        c = csum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        tot = 20 + len(tcp) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 0, 0x4000, 64, 6,
                         0, ip_src, ip_dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        to_server = dst == SERVER
        eth = (MAC_S if to_server else MAC_C) + \
            (MAC_C if to_server else MAC_S) + b"\x08\x00"
        frame = eth + ip + tcp + payload
        self.t += 10
        self.f.write(struct.pack("<IIII", self.t // 1000000,
                                 self.t % 1000000, len(frame), len(frame)))
        self.f.write(frame)


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


class Session:
    """One client's session, its sequence numbers on both sides."""

    def __init__(self, w, client, cport):
        self.w, self.c, self.p = w, client, cport
        self.cs, self.ss = 1000 + cport * 7, 500000 + cport * 13

    def handshake(self):
        w = self.w
        w.tcp(self.c, SERVER, self.p, PORT, self.cs, 0, SYN)
        w.tcp(SERVER, self.c, PORT, self.p, self.ss, self.cs + 1, SYN | ACK)
        self.cs += 1
        self.ss += 1
        w.tcp(self.c, SERVER, self.p, PORT, self.cs, self.ss, ACK)

    def client(self, data):
        self.w.tcp(self.c, SERVER, self.p, PORT, self.cs, self.ss,
                   PSH | ACK, data)
        self.cs += len(data)
        self.w.tcp(SERVER, self.c, PORT, self.p, self.ss, self.cs, ACK)

    def server(self, data):
        self.w.tcp(SERVER, self.c, PORT, self.p, self.ss, self.cs,
                   PSH | ACK, data)
        self.ss += len(data)
        self.w.tcp(self.c, SERVER, self.p, PORT, self.cs, self.ss, ACK)


def flood_addr(i):
    return (10, (i >> 16) & 255, (i >> 8) & 255, i & 255)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=["syn", "idle"])
    ap.add_argument("out")
    ap.add_argument("-n", type=int, default=None)
    a = ap.parse_args()
    n = a.n if a.n is not None else (10000 if a.kind == "syn" else 2000)
    w = Writer(a.out)
    sess = [Session(w, c, 40000 + i) for i, c in enumerate(CLIENTS)]
    for s in sess:
        s.handshake()
        s.server(b"220 mx.wireban.test ESMTP Exim 4.96 Tue, 01 Dec 2026 "
                 b"10:00:00 +0000\r\n")
        s.client(b"EHLO probe.example\r\n")
        s.server(b"250-mx.wireban.test Hello probe.example\r\n"
                 b"250-SIZE 52428800\r\n250-PIPELINING\r\n250 HELP\r\n")
        s.client(b"MAIL FROM:<x@example.com>\r\n")
        s.server(b"250 OK\r\n")
        s.client(b"RCPT TO:<v@elsewhere.example>\r\n")
    for i in range(1, n + 1):
        src, sport = flood_addr(i), 1024 + i % 60000
        cs, ss = 7000000 + i, 9000000 + i
        w.tcp(src, SERVER, sport, PORT, cs, 0, SYN)
        w.tcp(SERVER, src, PORT, sport, ss, cs + 1, SYN | ACK)
        if a.kind == "idle":
            w.tcp(src, SERVER, sport, PORT, cs + 1, ss + 1, ACK)
    for s in sess:
        s.server(b"550 relay not permitted\r\n")
        s.client(b"QUIT\r\n")
        s.server(b"221 mx.wireban.test closing connection\r\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
