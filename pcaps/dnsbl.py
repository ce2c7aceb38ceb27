#!/usr/bin/env python3
"""dnsbl.py: a tiny authoritative DNS server for the test blocklists.

make-pcaps.sh runs it in the mail host's namespace on 127.0.0.1:53 (UDP,
on that namespace's loopback, so DNS never shows in the captures), and
/etc/netns/<ns>/resolv.conf points exim's resolver at it.  exim's
`dnslists` condition then does real DNS: an A query for the reversed
address under the zone, and a TXT query for $dnslist_text.  This way the
"black list" replies in the captures carry exim's own formatting instead
of a faked text.  An IPv4 address is reversed by its four octets, an IPv6
address by its 32 hex nibbles, as exim looks it up (spec chapter 44,
"DNS lists and IPv6": 2001:db8::12 is
2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ZONE;
192.0.2.13 is 13.2.0.192.ZONE).

Usage: dnsbl.py LISTEN_ADDR ZONE CLIENT_IP TXT [ZONE CLIENT_IP TXT ...]

Each triple lists CLIENT_IP in ZONE with return value 127.0.0.2 and the
given TXT.  Every other name gets NXDOMAIN, which also makes every remote
mail domain unrouteable (exim's dnslookup router finds no MX and no A).
Only what exim asks is implemented: one question, class IN, A and TXT.
"""

import ipaddress
import socket
import struct
import sys

QTYPE_A, QTYPE_TXT = 1, 16
RCODE_NXDOMAIN = 3
TTL = 60


def parse_question(msg):
    """Return (qname, qtype, qclass, end offset) of the first question."""
    labels, pos = [], 12
    while True:
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0:  # a compressed name in a query: not something we send
            raise ValueError("compressed qname")
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return ".".join(labels).lower(), qtype, qclass, pos + 4


def txt_rdata(text):
    """TXT rdata: length-prefixed strings of at most 255 bytes each."""
    raw = text.encode()
    return b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255]
                    for i in range(0, len(raw), 255)) or b"\0"


def reversed_name(ip):
    """The blocklist key of an address: reversed octets (IPv4) or
    reversed nibbles of the full 128 bits (IPv6), without the zone."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return ".".join(reversed(str(addr).split(".")))
    return ".".join(reversed(addr.exploded.replace(":", "")))


def answer(query, listings):
    qid, flags = struct.unpack("!HH", query[:4])
    qname, qtype, qclass, qend = parse_question(query)
    question = query[12:qend]
    rd = flags & 0x0100
    rcode, records = 0, []
    if qname not in listings:
        rcode = RCODE_NXDOMAIN
    elif qtype == QTYPE_A:
        records.append((QTYPE_A, socket.inet_aton("127.0.0.2")))
    elif qtype == QTYPE_TXT:
        records.append((QTYPE_TXT, txt_rdata(listings[qname])))
    # Flags: response, authoritative, recursion available, RD echoed.
    head = struct.pack("!HHHHHH", qid, 0x8480 | rd | rcode, 1,
                       len(records), 0, 0)
    body = b""
    for rtype, rdata in records:
        # 0xC00C: a pointer back to the qname in the question.
        body += struct.pack("!HHHIH", 0xC00C, rtype, qclass, TTL, len(rdata))
        body += rdata
    return head + question + body, qname, qtype, rcode


def main(argv):
    if len(argv) < 2 or (len(argv) - 2) % 3:
        sys.exit(__doc__)
    listen, triples = argv[1], argv[2:]
    listings = {}
    for i in range(0, len(triples), 3):
        zone, ip, text = triples[i:i + 3]
        rev = reversed_name(ip)
        listings[f"{rev}.{zone}".lower()] = text

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((listen, 53))
    print(f"dnsbl: serving {len(listings)} listing(s) on {listen}:53",
          flush=True)
    while True:
        query, peer = sock.recvfrom(4096)
        try:
            reply, qname, qtype, rcode = answer(query, listings)
        except (ValueError, IndexError, struct.error):
            continue  # not a query we understand: stay silent
        sock.sendto(reply, peer)
        print(f"dnsbl: {qname} type {qtype} -> rcode {rcode}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
