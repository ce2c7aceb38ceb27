/*
 * ip.c - IPv4 header checks, the port filter, and the Internet checksum
 * for both families.
 *
 * Invariant: every length field is checked against the bytes captured
 * before anything behind it is read, and only a packet whose IPv4 and
 * TCP header lengths are consistent and whose whole IP packet was
 * captured goes on (libnids trusts ip_len and th_off more than it
 * should). Packets neither to nor from a watched port never reach it
 * either. Real IPv4 TCP from or to 240.0.0.0/4 is dropped: those
 * addresses stand for IPv6 ones inside libnids (map6.c).
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define IP4_HLEN	20
#define TCP_HLEN	20
#define PROTO_TCP	6

static uint16_t	be16(const uint8_t *);
static uint64_t	pseudo_tail(size_t);

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool
sniff_watched(const struct sniff_config *c, uint16_t port,
    const struct wb_addr *a)
{
	size_t i;

	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			break;
	if (i == c->nports)
		return false;
	if (c->nservers == 0)
		return true;
	for (i = 0; i < c->nservers; i++)
		if (wb_addr_eq(&c->servers[i], a))
			return true;
	return false;
}

/*
 * SNIFF_IP_TRUNC means "needs bytes past caplen"; the caller knows
 * whether the snaplen cut them (truncated) or the header lies (bad).
 */
enum sniff_ipv
sniff_ip4_parse(const struct sniff_config *c, const uint8_t *p, size_t caplen,
    struct sniff_ip4 *o)
{
	struct wb_addr src, dst;
	size_t hl, tot, thl;
	uint16_t frag;

	memset(o, 0, sizeof(*o));
	if (caplen < IP4_HLEN)
		return SNIFF_IP_TRUNC;
	if (p[0] >> 4 != 4)
		return SNIFF_IP_BAD;
	hl = (size_t)(p[0] & 0x0f) * 4;
	tot = be16(p + 2);
	if (hl < IP4_HLEN || tot < hl)
		return SNIFF_IP_BAD;
	if (tot > caplen)
		return SNIFF_IP_TRUNC;
	if (p[9] != PROTO_TCP)
		return SNIFF_IP_SKIP;
	o->len = tot;
	o->hl = hl;
	memcpy(o->src, p + 12, 4);
	memcpy(o->dst, p + 16, 4);
	if (sniff_synthetic(o->src) || sniff_synthetic(o->dst))
		return SNIFF_IP_RESERVED;
	frag = be16(p + 6);
	if (frag & 0x3fff) {
		/* MF or an offset: libnids reassembles, reasm.c filters. */
		o->frag = true;
		return SNIFF_IP_FEED;
	}
	if (tot - hl < TCP_HLEN)
		return SNIFF_IP_BAD;
	thl = (size_t)(p[hl + 12] >> 4) * 4;
	if (thl < TCP_HLEN || thl > tot - hl)
		return SNIFF_IP_BAD;
	o->thl = thl;
	o->sport = be16(p + hl);
	o->dport = be16(p + hl + 2);
	wb_addr_v4(&src, o->src);
	wb_addr_v4(&dst, o->dst);
	if (sniff_watched(c, o->dport, &dst) || sniff_watched(c, o->sport, &src))
		return SNIFF_IP_FEED;
	return SNIFF_IP_SKIP;
}

/*
 * Adds n bytes to a one's complement sum, 32 bits at a time into 64 (so
 * no carry is lost before the fold). Words are summed in host order: the
 * one's complement sum commutes with byte swapping, so only the odd last
 * byte needs placing as the high half of a network-order word. n must
 * be even except for the last call of a sum.
 */
static uint64_t
sniff_sum_bytes(uint64_t sum, const uint8_t *p, size_t n)
{
	uint8_t last[2];
	uint32_t w;
	uint16_t h;

	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, 4);
		sum += w;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		n -= 2;
	}
	if (n == 1) {
		last[0] = p[0];
		last[1] = 0;
		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

/* The folded sum, in host order of the words summed: 0xffff when right. */
static uint16_t
sniff_sum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The host-order sum of the TCP pseudo-header fields len and proto. */
static uint64_t
pseudo_tail(size_t seglen)
{
	uint8_t t[4];
	uint16_t h[2];

	t[0] = (uint8_t)(seglen >> 24);
	t[1] = (uint8_t)(seglen >> 16);
	t[2] = (uint8_t)(seglen >> 8);
	t[3] = (uint8_t)seglen;
	memcpy(h, t, 4);
	t[0] = t[1] = t[2] = 0;
	t[3] = PROTO_TCP;
	return (uint64_t)h[0] + h[1] + sniff_sum_bytes(0, t, 4);
}

/* True when the TCP checksum of an IPv4 packet is right (len checked). */
bool
sniff_tcp4_ok(const uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	uint64_t sum;

	sum = sniff_sum_bytes(0, ip + 12, 8) + pseudo_tail(len - hl);
	return sniff_sum_fold(sniff_sum_bytes(sum, ip + hl, len - hl)) ==
	    0xffff;
}

/*
 * True when both checksums of an IPv4 TCP packet are right: len is its
 * total length (checked by the caller). The hot path of `checksums` on
 * and auto, about four times faster than libnids' own check, which is
 * therefore never switched on.
 */
bool
sniff_sums_ok(const uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	if (sniff_sum_fold(sniff_sum_bytes(0, ip, hl)) != 0xffff)
		return false;
	return sniff_tcp4_ok(ip, len);
}

/*
 * The Internet checksum of an IPv4 TCP segment with its pseudo-header
 * (kill.c's RSTs). ip holds the whole packet, len its total length. 0
 * when the segment's checksum is right; with the checksum field zeroed,
 * the value to put there (network order, as two bytes to store high
 * first).
 */
uint16_t
sniff_tcp_sum(const uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	uint64_t sum;
	uint16_t h;
	uint8_t b[2];

	sum = sniff_sum_bytes(0, ip + 12, 8) + pseudo_tail(len - hl);
	h = (uint16_t)~sniff_sum_fold(sniff_sum_bytes(sum, ip + hl, len - hl));
	memcpy(b, &h, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

/*
 * The same for a TCP segment of tlen bytes at th inside the IPv6 packet
 * ip6 (RFC 8200 8.1: the addresses of its header, the upper-layer length
 * in 32 bits, next header 6).
 */
uint16_t
sniff_tcp6_sum(const uint8_t *ip6, const uint8_t *th, size_t tlen)
{
	uint64_t sum;
	uint16_t h;
	uint8_t b[2];

	sum = sniff_sum_bytes(0, ip6 + 8, 32) + pseudo_tail(tlen);
	h = (uint16_t)~sniff_sum_fold(sniff_sum_bytes(sum, th, tlen));
	memcpy(b, &h, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}
