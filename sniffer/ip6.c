/*
 * ip6.c - an IPv6 header and its extension headers, walked to TCP.
 *
 * Pure: bytes in, a verdict and offsets out (the unit tests drive it
 * case by case). Invariant: nothing past the captured bytes nor past the
 * payload length is read, and at most SNIFF_IP6_MAX_EXT headers of
 * SNIFF_IP6_EXT_BYTES in all are walked, so a hostile chain costs a
 * bounded amount of work whatever it claims.
 *
 * What is not followed, and why:
 * - AH and ESP (RFC 4302, 4303): ESP hides the segment, and an AH-
 *   protected one would need AH's own length rules; "not inspected";
 * - a routing header with segments left: the packet is still on its
 *   way, the address in the header is not the final one (the TCP sum
 *   is over the final one); "not inspected";
 * - routing type 0 (deprecated by RFC 5095), next header 59 (no next
 *   header), hop-by-hop anywhere but first (RFC 8200 4.1), a jumbo
 *   payload option (RFC 2675: no IPv6 MTU here has room for one), a
 *   chain past the payload: malformed;
 * - a fragment whose datagram would exceed 65535 bytes, a non-last one
 *   whose length is not a multiple of 8 (RFC 8200 4.5), an empty one:
 *   malformed. An atomic fragment (offset 0, M clear; RFC 6946) is a
 *   whole packet and the walk goes on behind it.
 */
#include <string.h>

#include "internal.h"

#define IP6_HLEN	40
#define TCP_HLEN	20

#define NH_HOPOPT	0
#define NH_TCP		6
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_ESP		50
#define NH_AH		51
#define NH_NONE		59
#define NH_DSTOPTS	60

#define OPT_PAD1	0
#define OPT_JUMBO	0xc2

static uint16_t	 be16(const uint8_t *);
static enum sniff_ipv verdict(struct sniff_ip6 *, enum sniff_ipv,
		    const char *);
static bool	 has_jumbo(const uint8_t *, size_t);
static enum sniff_ipv tcp(const struct sniff_config *, const uint8_t *,
		    size_t, size_t, struct sniff_ip6 *);
static enum sniff_ipv fragment(const uint8_t *, size_t, size_t, size_t,
		    bool, struct sniff_ip6 *, bool *);

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static enum sniff_ipv
verdict(struct sniff_ip6 *o, enum sniff_ipv v, const char *why)
{
	o->why = why;
	return v;
}

/* Options of a hop-by-hop header of hl bytes at h: a jumbo payload? */
static bool
has_jumbo(const uint8_t *h, size_t hl)
{
	size_t i = 2;

	while (i < hl) {
		if (h[i] == OPT_PAD1) {
			i++;
			continue;
		}
		if (h[i] == OPT_JUMBO)
			return true;
		if (hl - i < 2)
			break;
		i += 2 + (size_t)h[i + 1];
	}
	return false;
}

static enum sniff_ipv
tcp(const struct sniff_config *c, const uint8_t *p, size_t len, size_t off,
    struct sniff_ip6 *o)
{
	struct wb_addr src, dst;
	size_t thl;

	if (len - off < TCP_HLEN)
		return verdict(o, SNIFF_IP_BAD, "TCP header cut");
	thl = (size_t)(p[off + 12] >> 4) * 4;
	if (thl < TCP_HLEN || thl > len - off)
		return verdict(o, SNIFF_IP_BAD, "TCP data offset");
	o->thoff = off;
	o->thl = thl;
	o->sport = be16(p + off);
	o->dport = be16(p + off + 2);
	wb_addr_v6(&src, p + 8);
	wb_addr_v6(&dst, p + 24);
	if (!sniff_watched(c, o->dport, &dst) &&
	    !sniff_watched(c, o->sport, &src))
		return verdict(o, SNIFF_IP_SKIP, "not a watched port");
	/* libnids gets it as IPv4: 20 header bytes and the segment. */
	if (len - off > SNIFF_IP_MAX - 20)
		return verdict(o, SNIFF_IP_UNINSPECTED, "too big for IPv4");
	return SNIFF_IP_FEED;
}

/*
 * The fragment header at off (8 bytes, checked), nhoff the byte that
 * named it. *atomic is set when it is no fragment at all.
 */
static enum sniff_ipv
fragment(const uint8_t *p, size_t len, size_t off, size_t nhoff,
    bool reassembled, struct sniff_ip6 *o, bool *atomic)
{
	uint16_t fo = be16(p + off + 2);
	size_t foff = fo & 0xfff8, flen = len - off - 8;
	bool more = (fo & 1) != 0;

	*atomic = false;
	if (foff == 0 && !more) {
		*atomic = true;		/* RFC 6946 */
		return SNIFF_IP_FEED;
	}
	if (reassembled)
		return verdict(o, SNIFF_IP_BAD, "fragment in a reassembled one");
	if (flen == 0 || (more && flen % 8 != 0))
		return verdict(o, SNIFF_IP_BAD, "fragment length");
	if (off - IP6_HLEN + foff + flen > 65535)
		return verdict(o, SNIFF_IP_BAD, "fragment past 65535");
	switch (p[off]) {
	case NH_TCP:
	case NH_DSTOPTS:
	case NH_ROUTING:
		o->nhoff = nhoff;
		o->fhoff = off;
		return SNIFF_IP_FRAG;
	case NH_AH:
	case NH_ESP:
		return verdict(o, SNIFF_IP_UNINSPECTED, "AH or ESP");
	case NH_HOPOPT:
		return verdict(o, SNIFF_IP_BAD, "hop-by-hop not first");
	default:
		return verdict(o, SNIFF_IP_SKIP, "not TCP");
	}
}

/*
 * SNIFF_IP_TRUNC means "needs bytes past caplen"; the caller knows
 * whether the snaplen cut them (truncated) or the header lies (bad).
 * reassembled: p came out of frag6.c, a fragment header in it is bad.
 */
enum sniff_ipv
sniff_ip6_parse(const struct sniff_config *c, const uint8_t *p,
    size_t caplen, bool reassembled, struct sniff_ip6 *o)
{
	size_t off = IP6_HLEN, nhoff = 6, hl, ext = 0, len;
	enum sniff_ipv v;
	bool atomic;
	uint8_t nh;
	int i;

	memset(o, 0, sizeof(*o));
	if (caplen < IP6_HLEN)
		return verdict(o, SNIFF_IP_TRUNC, "IPv6 header cut");
	if (p[0] >> 4 != 6)
		return verdict(o, SNIFF_IP_BAD, "version");
	if (be16(p + 4) == 0)	/* a jumbogram, or nothing at all */
		return verdict(o, SNIFF_IP_BAD, "payload length 0");
	len = IP6_HLEN + be16(p + 4);
	if (len > caplen)
		return verdict(o, SNIFF_IP_TRUNC, "payload cut");
	o->len = len;
	nh = p[6];
	for (i = 0; i <= SNIFF_IP6_MAX_EXT; i++) {
		if (nh == NH_TCP)
			return tcp(c, p, len, off, o);
		if (i == SNIFF_IP6_MAX_EXT)
			break;
		switch (nh) {
		case NH_HOPOPT:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_FRAGMENT:
			break;
		case NH_AH:
		case NH_ESP:
			return verdict(o, SNIFF_IP_UNINSPECTED, "AH or ESP");
		case NH_NONE:
			return verdict(o, SNIFF_IP_BAD, "no next header");
		default:	/* UDP, ICMPv6, mobility, HIP, ...: not TCP */
			return verdict(o, SNIFF_IP_SKIP, "not TCP");
		}
		if (len - off < 8)
			return verdict(o, SNIFF_IP_BAD, "extension header cut");
		hl = nh == NH_FRAGMENT ? 8 : ((size_t)p[off + 1] + 1) * 8;
		if (hl > len - off)
			return verdict(o, SNIFF_IP_BAD, "extension header cut");
		if ((ext += hl) > SNIFF_IP6_EXT_BYTES)
			return verdict(o, SNIFF_IP_BAD,
			    "extension headers too long");
		switch (nh) {
		case NH_HOPOPT:
			if (i != 0)
				return verdict(o, SNIFF_IP_BAD,
				    "hop-by-hop not first");
			if (has_jumbo(p + off, hl))
				return verdict(o, SNIFF_IP_BAD, "jumbo payload");
			break;
		case NH_ROUTING:
			if (p[off + 2] == 0)
				return verdict(o, SNIFF_IP_BAD, "routing type 0");
			if (p[off + 3] != 0)
				return verdict(o, SNIFF_IP_UNINSPECTED,
				    "segments left");
			break;
		case NH_FRAGMENT:
			v = fragment(p, len, off, nhoff, reassembled, o, &atomic);
			if (!atomic)
				return v;
			break;
		default:
			break;
		}
		nhoff = off;
		nh = p[off];
		off += hl;
	}
	return verdict(o, SNIFF_IP_BAD, "too many extension headers");
}
