/*
 * ip.c - IPv4 and IPv6 header checks and the port filter.
 *
 * Invariant: every length field is checked against the bytes captured
 * before anything behind it is read, and only a packet whose IPv4 and
 * TCP header lengths are consistent and whose whole IP packet was
 * captured reaches libnids (which trusts ip_len and th_off more than it
 * should). Packets neither to nor from a watched port never reach it
 * either: they would take slots in its stream table (a full table evicts
 * the oldest connection) for nothing.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define IP4_HLEN	20
#define IP6_HLEN	40
#define TCP_HLEN	20
#define PROTO_TCP	6
#define IP6_MAX_EXT	8	/* extension headers walked before giving up */

static uint16_t	be16(const uint8_t *);

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
	memcpy(o->src, p + 12, 4);
	memcpy(o->dst, p + 16, 4);
	frag = be16(p + 6);
	if (frag & 0x3fff) {
		/* MF or an offset: libnids reassembles, then filters by port. */
		o->frag = true;
		return SNIFF_IP_FEED;
	}
	if (tot - hl < TCP_HLEN)
		return SNIFF_IP_BAD;
	thl = (size_t)(p[hl + 12] >> 4) * 4;
	if (thl < TCP_HLEN || thl > tot - hl)
		return SNIFF_IP_BAD;
	o->sport = be16(p + hl);
	o->dport = be16(p + hl + 2);
	wb_addr_v4(&src, o->src);
	wb_addr_v4(&dst, o->dst);
	if (sniff_watched(c, o->dport, &dst) || sniff_watched(c, o->sport, &src))
		return SNIFF_IP_FEED;
	return SNIFF_IP_SKIP;
}

/*
 * Only to tell IPv6 SMTP from the rest of the IPv6 noise: walks the
 * extension headers to TCP. SNIFF_IP_FEED means "TCP on a watched port".
 */
enum sniff_ipv
sniff_ip6_parse(const struct sniff_config *c, const uint8_t *p, size_t caplen)
{
	struct wb_addr src, dst;
	size_t off, len;
	uint8_t nh;
	int i;

	if (caplen < IP6_HLEN)
		return SNIFF_IP_TRUNC;
	if (p[0] >> 4 != 6)
		return SNIFF_IP_BAD;
	nh = p[6];
	off = IP6_HLEN;
	for (i = 0; i < IP6_MAX_EXT; i++) {
		switch (nh) {
		case PROTO_TCP:
			if (caplen - off < 4)
				return SNIFF_IP_TRUNC;
			wb_addr_v6(&src, p + 8);
			wb_addr_v6(&dst, p + 24);
			if (sniff_watched(c, be16(p + off + 2), &dst) ||
			    sniff_watched(c, be16(p + off), &src))
				return SNIFF_IP_FEED;
			return SNIFF_IP_SKIP;
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
		case 135:	/* mobility */
		case 139:	/* HIP */
		case 140:	/* shim6 */
		case 44:	/* fragment (8 bytes: its length byte is 0) */
		case 51:	/* AH: length in 4-byte units, minus 2 */
			if (caplen - off < 8)
				return SNIFF_IP_TRUNC;
			if (nh == 44 && (be16(p + off + 2) & 0xfff8) != 0)
				return SNIFF_IP_SKIP;	/* no ports here */
			if (nh == 44)
				len = 8;
			else if (nh == 51)
				len = ((size_t)p[off + 1] + 2) * 4;
			else
				len = ((size_t)p[off + 1] + 1) * 8;
			nh = p[off];
			if (len > caplen - off)
				return SNIFF_IP_TRUNC;
			off += len;
			break;
		default:
			return SNIFF_IP_SKIP;
		}
	}
	return SNIFF_IP_SKIP;
}

/* 0 when the IPv4 header's checksum is right (hl checked by the caller). */
uint16_t
sniff_ip_sum(const uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4, i;
	uint32_t sum = 0;

	for (i = 0; i + 1 < hl; i += 2)
		sum += be16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Adds n bytes to a one's complement sum, 32 bits at a time into 64 (so
 * no carry is lost before the fold). Words are summed in host order: the
 * one's complement sum commutes with byte swapping, so only the odd last
 * byte needs placing as the high half of a network-order word.
 */
static uint64_t
sum_bytes(uint64_t sum, const uint8_t *p, size_t n)
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
	uint8_t pseudo[4];
	uint64_t sum;

	sum = sum_bytes(0, ip, hl);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		return false;
	pseudo[0] = 0;
	pseudo[1] = PROTO_TCP;
	pseudo[2] = (uint8_t)((len - hl) >> 8);
	pseudo[3] = (uint8_t)(len - hl);
	sum = sum_bytes(0, ip + 12, 8);
	sum = sum_bytes(sum, pseudo, 4);
	sum = sum_bytes(sum, ip + hl, len - hl);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * The Internet checksum of an IPv4 TCP segment with its pseudo-header.
 * ip holds the whole packet, len its total length (checked by the
 * caller). 0 when the segment's checksum is right; with the checksum
 * field zeroed, the value to put there.
 */
uint16_t
sniff_tcp_sum(const uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4, seg = len - hl, i;
	const uint8_t *t = ip + hl;
	uint32_t sum = 0;

	for (i = 12; i < 20; i += 2)
		sum += be16(ip + i);
	sum += PROTO_TCP + (uint32_t)seg;
	for (i = 0; i + 1 < seg; i += 2)
		sum += be16(t + i);
	if (seg & 1)
		sum += (uint32_t)t[seg - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
