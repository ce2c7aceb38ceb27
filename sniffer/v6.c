/*
 * v6.c - an IPv6 packet on its way to the one reassembler.
 *
 * libnids is IPv4 only and nothing maintained does IPv6 better, so an
 * IPv6 TCP segment becomes an IPv4 one: the same TCP header and payload
 * behind a 20-byte IPv4 header whose addresses map6.c lends from
 * 240.0.0.0/4. IPv4 and IPv6 then meet the same handshake gate, the same
 * handling of hostile segmentation, overlaps, retransmissions and window
 * checks, and the callbacks map the addresses back (conn.c).
 *
 * Order: the extension headers are walked (ip6.c), fragments are
 * reassembled (frag6.c) and the datagram comes back here whole, the TCP
 * checksum is verified with the IPv6 pseudo-header (the translation
 * would change what it covers), then the addresses are looked up. Only a
 * SYN may lend new ones; any other segment between addresses without a
 * mapping cannot belong to a pending handshake nor a connection, and
 * stops here.
 *
 * Counting: every frame, and every datagram frag6.c rebuilds, lands in
 * exactly one of ipv6, ipv6_frags, skipped, ipv6_uninspected, malformed.
 */
#include <string.h>

#include "internal.h"

static void	 translate(struct sniff *, const uint8_t *,
		    const struct sniff_ip6 *);

void
sniff_v6_in(struct sniff *s, const uint8_t *p, size_t caplen, bool cut,
    bool reassembled)
{
	struct sniff_ip6 o;
	size_t n;

	switch (sniff_ip6_parse(&s->cfg, p, caplen, reassembled, &o)) {
	case SNIFF_IP_FEED:
		s->st.ipv6++;
		if (sniff_csum_wanted(s) &&
		    sniff_tcp6_sum(p, p + o.thoff, o.len - o.thoff) != 0 &&
		    sniff_csum_bad(s, 6, p + 8, p + 24))
			return;
		translate(s, p, &o);
		return;
	case SNIFF_IP_FRAG:
		switch (sniff_frag6_add(&s->frag6, p, o.len, o.nhoff, o.fhoff,
		    s->now, s->dgram6, &n)) {
		case SNIFF_F6_BAD:
			s->st.malformed++;
			return;
		case SNIFF_F6_DONE:
			s->st.ipv6_frags++;
			sniff_v6_in(s, s->dgram6, n, false, true);
			return;
		default:
			s->st.ipv6_frags++;
			return;
		}
	case SNIFF_IP_SKIP:
		s->st.skipped++;
		return;
	case SNIFF_IP_UNINSPECTED:
		s->st.ipv6_uninspected++;
		return;
	case SNIFF_IP_TRUNC:
		if (cut)
			s->st.skipped++;
		else
			s->st.malformed++;
		return;
	default:
		s->st.malformed++;
		return;
	}
}

/* The checked segment as IPv4, to tcp.c; a SYN lends addresses. */
static void
translate(struct sniff *s, const uint8_t *p, const struct sniff_ip6 *o)
{
	const uint8_t *th = p + o->thoff;
	size_t tlen = o->len - o->thoff;
	uint8_t *q = s->pkt6;
	struct sniff_seg g;
	uint32_t a, b;
	bool syn = (th[13] & (TH_SYN_ | TH_ACK_ | TH_RST_)) == TH_SYN_;

	if (syn) {
		a = sniff_map6_ref(&s->map6, p + 8);
		b = a != 0 ? sniff_map6_ref(&s->map6, p + 24) : 0;
		if (b == 0) {
			if (a != 0)
				sniff_map6_unref(&s->map6, a);
			sniff_warn(s, W_MAP6, "IPv6 address map full: "
			    "handshake not followed");
			return;
		}
	} else {
		if ((a = sniff_map6_find(&s->map6, p + 8)) == 0 ||
		    (b = sniff_map6_find(&s->map6, p + 24)) == 0)
			return;
	}
	q[0] = 0x45;
	q[1] = (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);	/* class */
	q[2] = (uint8_t)((20 + tlen) >> 8);
	q[3] = (uint8_t)(20 + tlen);
	q[4] = q[5] = 0;
	q[6] = 0x40;			/* DF */
	q[7] = 0;
	q[8] = p[7];			/* hop limit */
	q[9] = 6;
	q[10] = q[11] = 0;		/* libnids checks no sums (reasm.c) */
	memcpy(q + 12, &a, 4);
	memcpy(q + 16, &b, 4);
	memcpy(q + 20, th, tlen);
	sniff_seg_fill(&g, q, 20 + tlen, 20, o->thl);
	g.v6 = true;
	g.src6 = p + 8;
	g.dst6 = p + 24;
	sniff_tcp_in(s, &g);
	if (syn) {		/* the gate took its own, if it kept it */
		sniff_map6_unref(&s->map6, a);
		sniff_map6_unref(&s->map6, b);
	}
}
