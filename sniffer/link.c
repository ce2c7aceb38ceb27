/*
 * link.c - find the IP header in a link-layer frame.
 *
 * Invariant: nothing is read past caplen. A frame this file cannot place
 * (too short, an unknown type, more tags than we allow) comes back with
 * family 0 and is counted as "other" by the caller.
 *
 * Link types: Ethernet with up to two 802.1Q/802.1ad tags, Linux cooked
 * v1 and v2 (which may carry a tag too), BSD loopback NULL and LOOP
 * (the address family in either byte order: captures travel between
 * machines), and raw IP in its several numberings.
 */
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Numbers, not names: some differ between systems' <pcap/dlt.h>. */
#define LT_NULL		0
#define LT_EN10MB	1
#define LT_RAW12	12	/* DLT_RAW elsewhere, DLT_LOOP on OpenBSD */
#define LT_RAW14	14	/* DLT_RAW on OpenBSD */
#define LT_RAW101	101	/* LINKTYPE_RAW in files */
#define LT_LOOP		108
#define LT_SLL		113
#define LT_IPV4		228
#define LT_IPV6		229
#define LT_SLL2		276

#define ETH_HLEN	14
#define SLL_HLEN	16
#define SLL2_HLEN	20
#define NULL_HLEN	4
#define TAG_LEN		4
#define MAX_TAGS	2	/* QinQ; a third tag is "other" */

#define ET_IPV4		0x0800
#define ET_IPV6		0x86dd

static uint16_t	 be16(const uint8_t *);
static bool	 is_tag(uint16_t);
static void	 ethertype(uint16_t, const uint8_t *, size_t, size_t,
		    struct sniff_l3 *);
static void	 rawip(const uint8_t *, size_t, size_t, struct sniff_l3 *);
static void	 bsd_af(const uint8_t *, size_t, struct sniff_l3 *);

bool
sniff_link_supported(int dlt)
{
	switch (dlt) {
	case LT_NULL:
	case LT_EN10MB:
	case LT_RAW12:
	case LT_RAW14:
	case LT_RAW101:
	case LT_LOOP:
	case LT_SLL:
	case LT_IPV4:
	case LT_IPV6:
	case LT_SLL2:
		return true;
	default:
		return false;
	}
}

void
sniff_link_decode(int dlt, const uint8_t *f, size_t caplen,
    struct sniff_l3 *l3)
{
	l3->off = 0;
	l3->family = 0;
	switch (dlt) {
	case LT_EN10MB:
		if (caplen >= ETH_HLEN)
			ethertype(be16(f + 12), f, caplen, ETH_HLEN, l3);
		break;
	case LT_SLL:
		if (caplen >= SLL_HLEN)
			ethertype(be16(f + 14), f, caplen, SLL_HLEN, l3);
		break;
	case LT_SLL2:
		if (caplen >= SLL2_HLEN)
			ethertype(be16(f), f, caplen, SLL2_HLEN, l3);
		break;
	case LT_NULL:
	case LT_LOOP:
		bsd_af(f, caplen, l3);
		break;
	case LT_RAW12:
	case LT_RAW14:
	case LT_RAW101:
		rawip(f, caplen, 0, l3);
		break;
	case LT_IPV4:
	case LT_IPV6:
		/* The link type promises the version; the header decides. */
		rawip(f, caplen, 0, l3);
		if (l3->family != (dlt == LT_IPV4 ? 4 : 6))
			l3->family = 0;
		break;
	default:
		break;
	}
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool
is_tag(uint16_t type)
{
	return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

/*
 * type is the ethertype found just before off. Each VLAN tag is the
 * 2-byte TCI followed by the next ethertype.
 */
static void
ethertype(uint16_t type, const uint8_t *f, size_t caplen, size_t off,
    struct sniff_l3 *l3)
{
	int tags;

	for (tags = 0; is_tag(type); tags++) {
		if (tags == MAX_TAGS || caplen - off < TAG_LEN)
			return;
		type = be16(f + off + 2);
		off += TAG_LEN;
	}
	if (type == ET_IPV4)
		l3->family = 4;
	else if (type == ET_IPV6)
		l3->family = 6;
	else
		return;
	l3->off = off;
}

static void
rawip(const uint8_t *f, size_t caplen, size_t off, struct sniff_l3 *l3)
{
	if (caplen <= off)
		return;
	switch (f[off] >> 4) {
	case 4:
		l3->family = 4;
		break;
	case 6:
		l3->family = 6;
		break;
	default:
		return;
	}
	l3->off = off;
}

/*
 * NULL carries the capturing host's AF_ value in its byte order, LOOP in
 * network order; both are seen swapped in the wild. AF_INET is 2
 * everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS).
 */
static void
bsd_af(const uint8_t *f, size_t caplen, struct sniff_l3 *l3)
{
	uint32_t le, be;

	if (caplen < NULL_HLEN)
		return;
	le = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 |
	    (uint32_t)f[3] << 24;
	be = (uint32_t)f[3] | (uint32_t)f[2] << 8 | (uint32_t)f[1] << 16 |
	    (uint32_t)f[0] << 24;
	if (le == 2 || be == 2)
		l3->family = 4;
	else if (le == 24 || le == 28 || le == 30 ||
	    be == 24 || be == 28 || be == 30)
		l3->family = 6;
	else
		return;
	l3->off = NULL_HLEN;
}
