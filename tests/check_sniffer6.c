/*
 * check_sniffer6.c - the parts IPv6 goes through, one by one: the
 * extension header walker (ip6.c), the defragmenter (frag6.c) and the
 * address map (map6.c). Pure functions, driven case by case from tables;
 * check_sniffer6_sessions.c runs whole IPv6 captures.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sniffrec.h"

static struct sniff_hkey
key(uint64_t a, uint64_t b)
{
	struct sniff_hkey k;

	sniff_hkey_set(&k, a, b);
	return k;
}

static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* ---------------------------------------------------------------- */
/* The extension header walker.                                       */

/*
 * An IPv6 packet from words, each an extension header or the last
 * protocol, in order: hbh hbh16 jumbo dst dstbig rt0 rt2 rt4 rtleft
 * frag@OFF[m] ah esp none udp icmp tcp tcp80 tcpbig. Each header names
 * the next. Returns the packet's length.
 */
static size_t
build6(uint8_t *p, const char *spec)
{
	char buf[256], *w, *save = NULL;
	uint8_t *nhp = p + 6, *h;
	size_t off = 40, n;
	struct pcapw_tcp t = { .sport = 40000, .dport = 25, .seq = 1,
	    .flags = F_ACK };

	memset(p, 0, 40);
	p[0] = 0x60;
	p[7] = 64;
	memcpy(p + 8, A6, 16);
	memcpy(p + 24, B6, 16);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		h = p + off;
		n = 8;
		memset(h, 0, 8);
		if (strcmp(w, "hbh") == 0 || strcmp(w, "dst") == 0 ||
		    strcmp(w, "jumbo") == 0) {
			*nhp = w[0] == 'd' ? 60 : 0;
			h[2] = w[0] == 'j' ? 0xc2 : 1;	/* jumbo, or PadN */
			h[3] = 4;
		} else if (strcmp(w, "hbh16") == 0) {
			*nhp = 0;
			n = 16;
			memset(h, 0, 16);
			h[1] = 1;
			h[2] = 1;
			h[3] = 12;
		} else if (strcmp(w, "dstbig") == 0) {
			*nhp = 60;
			n = 2048;
			memset(h, 0, n);	/* Pad1 all along */
			h[1] = 255;
		} else if (strncmp(w, "rt", 2) == 0) {
			*nhp = 43;
			n = 24;
			memset(h, 0, n);
			h[1] = 2;
			h[2] = w[2] == '0' ? 0 : w[2] == '4' ? 4 : 2;
			h[3] = strcmp(w, "rtleft") == 0 ? 1 : 0;
		} else if (strncmp(w, "frag@", 5) == 0) {
			unsigned long fo = strtoul(w + 5, NULL, 10);

			*nhp = 44;
			pcapw_put16(h + 2, (uint32_t)((fo & 0xfff8) |
			    (w[strlen(w) - 1] == 'm' ? 1 : 0)));
			pcapw_put32(h + 4, 0x1234);
		} else if (strcmp(w, "ah") == 0) {
			*nhp = 51;
			h[1] = 1;
		} else if (strcmp(w, "esp") == 0) {
			*nhp = 50;
		} else if (strcmp(w, "none") == 0) {
			*nhp = 59;
		} else if (strcmp(w, "udp") == 0) {
			*nhp = 17;
		} else if (strcmp(w, "icmp") == 0) {
			*nhp = 58;
		} else if (strncmp(w, "tcp", 3) == 0) {
			static uint8_t big[65500];

			*nhp = 6;
			t.dport = strcmp(w, "tcp80") == 0 ? 80 : 25;
			t.data = big;
			/* 32 bytes: a whole first fragment's worth */
			t.len = strcmp(w, "tcpbig") == 0 ? sizeof(big) : 12;
			n = pcapw_tcp6(h, A6, B6, &t);
		} else {
			ck_abort_msg("build6: %s", w);
		}
		nhp = h;	/* every header's first byte names the next */
		off += n;
	}
	pcapw_put16(p + 4, (uint32_t)(off - 40));
	return off;
}

struct walk_case {
	const char	*name;
	const char	*spec;
	int		 plen;		/* >= 0: payload length field */
	int		 cut;		/* > 0: caplen is len - cut */
	bool		 reassembled;
	enum sniff_ipv	 want;
	size_t		 at;		/* FEED: thoff; FRAG: fhoff */
	const char	*why;		/* in o.why, when not FEED */
};

static const struct walk_case walks[] = {
	{ "TCP", "tcp", -1, 0, false, SNIFF_IP_FEED, 40, NULL },
	{ "hop-by-hop, TCP", "hbh tcp", -1, 0, false, SNIFF_IP_FEED, 48, NULL },
	{ "16-byte hop-by-hop", "hbh16 tcp", -1, 0, false, SNIFF_IP_FEED, 56,
	    NULL },
	{ "destination options", "dst tcp", -1, 0, false, SNIFF_IP_FEED, 48,
	    NULL },
	{ "routing type 2, done", "rt2 tcp", -1, 0, false, SNIFF_IP_FEED, 64,
	    NULL },
	{ "segment routing, done", "rt4 tcp", -1, 0, false, SNIFF_IP_FEED, 64,
	    NULL },
	{ "four headers", "hbh dst rt2 dst tcp", -1, 0, false, SNIFF_IP_FEED,
	    88, NULL },
	{ "eight headers", "dst dst dst dst dst dst dst dst tcp", -1, 0, false,
	    SNIFF_IP_FEED, 104, NULL },
	{ "nine headers", "dst dst dst dst dst dst dst dst dst tcp", -1, 0,
	    false, SNIFF_IP_BAD, 0, "too many" },
	{ "headers over 512 bytes", "dstbig tcp", -1, 0, false, SNIFF_IP_BAD,
	    0, "too long" },
	{ "routing type 0", "rt0 tcp", -1, 0, false, SNIFF_IP_BAD, 0,
	    "type 0" },
	{ "routing, segments left", "rtleft tcp", -1, 0, false,
	    SNIFF_IP_UNINSPECTED, 0, "segments left" },
	{ "hop-by-hop second", "dst hbh tcp", -1, 0, false, SNIFF_IP_BAD, 0,
	    "not first" },
	{ "AH", "ah tcp", -1, 0, false, SNIFF_IP_UNINSPECTED, 0, "AH" },
	{ "ESP", "esp", -1, 0, false, SNIFF_IP_UNINSPECTED, 0, "ESP" },
	{ "ESP behind dst", "dst esp", -1, 0, false, SNIFF_IP_UNINSPECTED, 0,
	    "ESP" },
	{ "no next header", "none", -1, 0, false, SNIFF_IP_BAD, 0, "no next" },
	{ "dst, no next header", "dst none", -1, 0, false, SNIFF_IP_BAD, 0,
	    "no next" },
	{ "jumbo option", "jumbo tcp", -1, 0, false, SNIFF_IP_BAD, 0, "jumbo" },
	{ "jumbogram: payload length 0", "jumbo tcp", 0, 0, false,
	    SNIFF_IP_BAD, 0, "length 0" },
	{ "chain past the payload", "dst tcp", 4, 0, false, SNIFF_IP_BAD, 0,
	    "cut" },
	{ "TCP past the payload", "dst tcp", 18, 0, false, SNIFF_IP_BAD, 0,
	    "TCP header cut" },
	{ "cut by the snaplen", "tcp", -1, 1, false, SNIFF_IP_TRUNC, 0, NULL },
	{ "UDP", "udp", -1, 0, false, SNIFF_IP_SKIP, 0, "not TCP" },
	{ "ICMPv6 behind hop-by-hop", "hbh icmp", -1, 0, false, SNIFF_IP_SKIP,
	    0, "not TCP" },
	{ "TCP port 80", "tcp80", -1, 0, false, SNIFF_IP_SKIP, 0, "port" },
	{ "first fragment", "frag@0m tcp", -1, 0, false, SNIFF_IP_FRAG, 40,
	    NULL },
	{ "fragment behind hop-by-hop", "hbh frag@0m tcp", -1, 0, false,
	    SNIFF_IP_FRAG, 48, NULL },
	{ "last fragment", "frag@1024 tcp", -1, 0, false, SNIFF_IP_FRAG, 40,
	    NULL },
	{ "atomic fragment", "frag@0 tcp", -1, 0, false, SNIFF_IP_FEED, 48,
	    NULL },
	{ "atomic fragment, reassembled", "frag@0 tcp", -1, 0, true,
	    SNIFF_IP_FEED, 48, NULL },
	{ "fragment in a reassembled one", "frag@0m tcp", -1, 0, true,
	    SNIFF_IP_BAD, 0, "reassembled" },
	{ "fragment of UDP", "frag@0m udp", -1, 0, false, SNIFF_IP_SKIP, 0,
	    "not TCP" },
	{ "fragment of ESP", "frag@0m esp", -1, 0, false,
	    SNIFF_IP_UNINSPECTED, 0, "ESP" },
	{ "fragment not a multiple of 8", "frag@0m tcp", 8 + 27, 0, false,
	    SNIFF_IP_BAD, 0, "length" },
	{ "empty fragment", "frag@8", -1, 0, false, SNIFF_IP_BAD, 0, "length" },
	{ "fragment past 65535", "frag@65528 tcp", -1, 0, false, SNIFF_IP_BAD,
	    0, "65535" },
	{ "TCP too big for IPv4", "tcpbig", -1, 0, false, SNIFF_IP_UNINSPECTED,
	    0, "too big" },
};
#define NWALKS	(int)(sizeof(walks) / sizeof(walks[0]))

START_TEST(test_walk)
{
	const struct walk_case *wc = &walks[_i];
	static uint8_t p[70000];
	struct sniff_config cfg;
	struct sniff_ip6 o;
	enum sniff_ipv v;
	size_t len, caplen, i;

	sniff_config_defaults(&cfg);
	len = build6(p, wc->spec);
	if (wc->plen >= 0) {
		pcapw_put16(p + 4, (uint32_t)wc->plen);
		if (wc->plen > 0)
			len = 40 + (size_t)wc->plen;
	}
	caplen = len - (size_t)wc->cut;
	v = sniff_ip6_parse(&cfg, p, caplen, wc->reassembled, &o);
	ck_assert_msg(v == wc->want, "%s: verdict %d, want %d (%s)", wc->name,
	    v, wc->want, o.why != NULL ? o.why : "-");
	if (v == SNIFF_IP_FEED) {
		ck_assert_uint_eq(o.thoff, wc->at);
		ck_assert_uint_eq(o.len, len);
	}
	if (v == SNIFF_IP_FRAG) {
		ck_assert_uint_eq(o.fhoff, wc->at);
		ck_assert_uint_eq(p[o.nhoff], 44);
	}
	if (wc->why != NULL)
		ck_assert_msg(o.why != NULL && strstr(o.why, wc->why) != NULL,
		    "%s: why %s", wc->name, o.why != NULL ? o.why : "NULL");
	/* Every shorter capture: nothing read past it, nothing followed. */
	for (i = 0; i < caplen; i++) {
		v = sniff_ip6_parse(&cfg, p, i, wc->reassembled, &o);
		ck_assert_msg(v == SNIFF_IP_TRUNC || v == SNIFF_IP_BAD,
		    "%s cut at %zu: verdict %d", wc->name, i, v);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* The defragmenter.                                                  */

#define FRAGDATA	64	/* the fragmentable part: TCP and data */

static uint8_t	 fdata[FRAGDATA];

struct fr {
	uint16_t	 off, len;
	bool		 more;
	bool		 diff;		/* other bytes than fdata's */
	uint32_t	 id;
	int		 src;		/* 0: A6, 1: another address */
	int		 t;		/* seconds */
	enum sniff_f6	 want;
};

struct frag_case {
	const char	*name;
	struct fr	 f[7];		/* len 0 ends */
	size_t		 max_dgrams, max_bytes;
	bool		 hbh;		/* a hop-by-hop header first */
	size_t		 total;		/* when the last is DONE */
	/* at the end: what is left times out */
	int		 reassembled, overlap, timeouts, full;
};

#define H_	SNIFF_F6_HELD
#define D_	SNIFF_F6_DONE
#define X_	SNIFF_F6_DROPPED

static const struct frag_case fcases[] = {
	{ "in order", { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 16, 16, true, false, 1, 0, 0, H_ },
	    { 32, 32, false, false, 1, 0, 0, D_ } }, 8, 65536, false, 64,
	    1, 0, 0, 0 },
	{ "out of order", { { 32, 32, false, false, 1, 0, 0, H_ },
	    { 0, 16, true, false, 1, 0, 0, H_ },
	    { 16, 16, true, false, 1, 0, 0, D_ } }, 8, 65536, false, 64,
	    1, 0, 0, 0 },
	{ "behind hop-by-hop", { { 16, 48, false, false, 1, 0, 0, H_ },
	    { 0, 16, true, false, 1, 0, 0, D_ } }, 8, 65536, true, 64,
	    1, 0, 0, 0 },
	{ "duplicate, same bytes", { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 0, 16, true, false, 1, 0, 0, H_ },
	    { 16, 48, false, false, 1, 0, 0, D_ } }, 8, 65536, false, 64,
	    1, 0, 0, 0 },
	{ "duplicate, other bytes: the first kept",
	    { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 0, 16, true, true, 1, 0, 0, H_ },
	    { 16, 48, false, false, 1, 0, 0, D_ } }, 8, 65536, false, 64,
	    1, 0, 0, 0 },
	{ "overlap, same bytes", { { 0, 24, true, false, 1, 0, 0, H_ },
	    { 16, 16, true, false, 1, 0, 0, X_ },
	    { 32, 32, false, false, 1, 0, 0, X_ },
	    { 0, 16, true, false, 1, 0, 0, X_ } }, 8, 65536, false, 0,
	    0, 1, 0, 0 },
	{ "overlap, other bytes", { { 16, 48, false, false, 1, 0, 0, H_ },
	    { 8, 16, true, true, 1, 0, 0, X_ },
	    { 0, 16, true, false, 1, 0, 0, X_ } }, 8, 65536, false, 0,
	    0, 1, 0, 0 },
	{ "two last fragments disagree", { { 32, 32, false, false, 1, 0, 0,
	    H_ }, { 40, 24, false, false, 1, 0, 0, X_ } }, 8, 65536, false,
	    0, 0, 1, 0, 0 },
	{ "a fragment past the last", { { 16, 32, false, false, 1, 0, 0, H_ },
	    { 48, 16, true, false, 1, 0, 0, X_ } }, 8, 65536, false, 0,
	    0, 1, 0, 0 },
	{ "the dead one's time runs out, then a new one",
	    { { 0, 24, true, false, 1, 0, 0, H_ },
	    { 8, 16, true, false, 1, 0, 1, X_ },
	    { 0, 16, true, false, 1, 0, 61, H_ },
	    { 16, 48, false, false, 1, 0, 62, D_ } }, 8, 65536, false, 64,
	    1, 1, 0, 0 },
	/* the second fragment starts a datagram of its own; it times out
	 * too when the test ends */
	{ "not whole after 60 s", { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 16, 48, false, false, 1, 0, 60, H_ } }, 8, 65536, false, 0,
	    0, 0, 2, 0 },
	{ "whole after 59 s", { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 16, 48, false, false, 1, 0, 59, D_ } }, 8, 65536, false, 64,
	    1, 0, 0, 0 },
	{ "ids and sources apart", { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 16, 48, false, false, 2, 0, 0, H_ },
	    { 16, 48, false, false, 1, 1, 0, H_ },
	    { 16, 48, false, false, 1, 0, 0, D_ } }, 8, 65536, false, 64,
	    1, 0, 2, 0 },
	{ "table full: the oldest goes", { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 0, 16, true, false, 2, 0, 0, H_ },
	    { 0, 16, true, false, 3, 0, 0, H_ },
	    { 16, 48, false, false, 1, 0, 0, H_ },
	    { 16, 48, false, false, 3, 0, 0, D_ } }, 2, 65536, false, 64,
	    1, 0, 1, 2 },
	{ "bytes full: the oldest goes", { { 0, 16, true, false, 1, 0, 0, H_ },
	    { 0, 16, true, false, 2, 0, 0, H_ },
	    { 16, 48, false, false, 2, 0, 0, D_ },
	    { 16, 48, false, false, 1, 0, 0, H_ } }, 8, 3000, false, 64,
	    1, 0, 1, 1 },
};
#define NFCASES	(int)(sizeof(fcases) / sizeof(fcases[0]))

/* Fragment f of fdata (or its complement) as a whole IPv6 packet. */
static size_t
make_frag(uint8_t *p, const struct fr *f, bool hbh, size_t *nhoff,
    size_t *fhoff)
{
	static const uint8_t C6[16] = { 0x20, 0x01, 0x0d, 0xb8, 9, [15] = 9 };
	uint8_t d[FRAGDATA];
	size_t i, n, u = hbh ? 48 : 40;

	for (i = 0; i < FRAGDATA; i++)
		d[i] = f->diff ? (uint8_t)~fdata[i] : fdata[i];
	n = pcapw_ip6_frag(p, f->src ? C6 : A6, B6, 6, f->id, d, f->off,
	    f->len, f->more);
	if (hbh) {		/* a hop-by-hop header before the fragment */
		memmove(p + 48, p + 40, n - 40);
		memset(p + 40, 0, 8);
		p[40] = 44;
		p[42] = 1;
		p[43] = 4;
		p[6] = 0;
		pcapw_put16(p + 4, (uint32_t)(n + 8 - 40));
		n += 8;
	}
	*nhoff = hbh ? 40 : 6;
	*fhoff = u;
	return n;
}

START_TEST(test_frag6)
{
	const struct frag_case *fc = &fcases[_i];
	static uint8_t out[SNIFF_IP6_DGRAM_MAX];
	struct sniff_frag6 f;
	struct sniff_hkey k = key(1, 2);
	uint8_t p[256];
	size_t i, n, nhoff, fhoff, outlen = 0, u = fc->hbh ? 48 : 40;
	enum sniff_f6 r;

	for (i = 0; i < FRAGDATA; i++)
		fdata[i] = (uint8_t)(i * 7 + 1);
	sniff_frag6_init(&f, fc->max_dgrams, fc->max_bytes, SNIFF_FRAG6_TIMEOUT,
	    &k);
	for (i = 0; i < 7 && fc->f[i].len > 0; i++) {
		n = make_frag(p, &fc->f[i], fc->hbh, &nhoff, &fhoff);
		r = sniff_frag6_add(&f, p, n, nhoff, fhoff, T0 +
		    fc->f[i].t * WB_USEC_PER_SEC, out, &outlen);
		ck_assert_msg(r == fc->f[i].want, "%s: fragment %zu: %d, want "
		    "%d", fc->name, i, r, fc->f[i].want);
		if (r == SNIFF_F6_DONE) {
			ck_assert_uint_eq(outlen, u + fc->total);
			ck_assert_int_eq(memcmp(out + u, fdata, fc->total), 0);
			ck_assert_uint_eq((size_t)(out[4] << 8 | out[5]),
			    u - 40 + fc->total);
			ck_assert_uint_eq(out[fc->hbh ? 40 : 6], 6);
			ck_assert_int_eq(memcmp(out + 8, A6, 16), 0);
		}
	}
	sniff_frag6_expire(&f, T0 + 1000 * WB_USEC_PER_SEC);
	ck_assert_uint_eq(f.reassembled, (unsigned)fc->reassembled);
	ck_assert_uint_eq(f.overlap, (unsigned)fc->overlap);
	ck_assert_uint_eq(f.timeouts, (unsigned)fc->timeouts);
	ck_assert_uint_eq(f.full, (unsigned)fc->full);
	ck_assert_uint_eq(f.ndgrams, 0);
	ck_assert_uint_eq(f.bytes, 0);
	sniff_frag6_fini(&f);
}
END_TEST

/* 64 fragments of a datagram at most; the 65th drops it. */
START_TEST(test_frag6_too_many)
{
	static uint8_t out[SNIFF_IP6_DGRAM_MAX], data[1024];
	struct sniff_frag6 f;
	struct sniff_hkey k = key(3, 4);
	uint8_t p[128];
	size_t n, i, outlen;

	sniff_frag6_init(&f, 8, 1 << 20, SNIFF_FRAG6_TIMEOUT, &k);
	for (i = 0; i < SNIFF_FRAG6_FRAGS; i++) {
		n = pcapw_ip6_frag(p, A6, B6, 6, 7, data, i * 8, 8, true);
		ck_assert_int_eq(sniff_frag6_add(&f, p, n, 6, 40, T0, out,
		    &outlen), SNIFF_F6_HELD);
	}
	n = pcapw_ip6_frag(p, A6, B6, 6, 7, data, i * 8, 8, false);
	ck_assert_int_eq(sniff_frag6_add(&f, p, n, 6, 40, T0, out, &outlen),
	    SNIFF_F6_DROPPED);
	ck_assert_uint_eq(f.full, 1);
	ck_assert_uint_eq(f.bytes, 0);
	sniff_frag6_fini(&f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* The address map.                                                   */

static void
addr6(uint8_t *a, uint32_t i)
{
	memcpy(a, A6, 16);
	pcapw_put32(a + 12, i);
}

START_TEST(test_map6_basics)
{
	struct sniff_hkey k = key(5, 6);
	struct sniff_map6 m;
	uint8_t a[16], b[16];
	uint32_t sa, sb;

	addr6(a, 1);
	addr6(b, 2);
	sniff_map6_init(&m, 100, &k);
	ck_assert_uint_eq(sniff_map6_find(&m, a), 0);	/* nothing made */
	sa = sniff_map6_ref(&m, a);
	sb = sniff_map6_ref(&m, b);
	ck_assert(sniff_synthetic((const uint8_t *)&sa));
	ck_assert(sniff_synthetic((const uint8_t *)&sb));
	ck_assert_uint_ne(sa, sb);
	ck_assert_uint_eq(sniff_map6_find(&m, a), sa);
	ck_assert_uint_eq(sniff_map6_ref(&m, a), sa);	/* a second ref */
	ck_assert_int_eq(memcmp(sniff_map6_addr(&m, sa), a, 16), 0);
	sniff_map6_unref(&m, sa);
	ck_assert_uint_eq(sniff_map6_find(&m, a), sa);	/* one left */
	sniff_map6_unref(&m, sa);
	ck_assert_uint_eq(sniff_map6_find(&m, a), 0);
	ck_assert_ptr_null(sniff_map6_addr(&m, sa));
	sniff_map6_unref(&m, sa);			/* no-op */
	ck_assert_ptr_null(sniff_map6_addr(&m, htonl(0x0a000001)));
	ck_assert_uint_eq(m.used, 1);
	sniff_map6_fini(&m);
	ck_assert(!sniff_synthetic((const uint8_t *)"\xdf\xff\xff\xff"));
	ck_assert(sniff_synthetic((const uint8_t *)"\xf0\x00\x00\x00"));
	ck_assert(sniff_synthetic((const uint8_t *)"\xff\xff\xff\xff"));
}
END_TEST

/*
 * Bounded, and an address comes back only once released, the longest
 * released first.
 */
START_TEST(test_map6_reuse)
{
	struct sniff_hkey k = key(7, 8);
	struct sniff_map6 m;
	uint8_t a[16];
	uint32_t s[4], t;
	int i;

	sniff_map6_init(&m, 4, &k);
	for (i = 0; i < 4; i++) {
		addr6(a, (uint32_t)i);
		ck_assert_uint_ne(s[i] = sniff_map6_ref(&m, a), 0);
	}
	addr6(a, 99);
	ck_assert_uint_eq(sniff_map6_ref(&m, a), 0);	/* full */
	ck_assert_uint_eq(m.n, 4);
	sniff_map6_unref(&m, s[2]);
	sniff_map6_unref(&m, s[0]);
	t = sniff_map6_ref(&m, a);
	ck_assert_uint_eq(t, s[2]);			/* released first */
	addr6(a, 100);
	ck_assert_uint_eq(sniff_map6_ref(&m, a), s[0]);
	addr6(a, 101);
	ck_assert_uint_eq(sniff_map6_ref(&m, a), 0);
	addr6(a, 1);
	ck_assert_uint_eq(sniff_map6_find(&m, a), s[1]);	/* untouched */
	sniff_map6_fini(&m);
}
END_TEST

/*
 * The map's hash is keyed: 4096 addresses of one /64, differing in their
 * last bits as an attacker's would, spread over 1024 buckets; under
 * another key, in other places.
 */
START_TEST(test_map6_keyed)
{
	struct sniff_hkey k1 = key(9, 10), k2 = key(11, 12);
	static int chain[1024];
	uint8_t a[16];
	uint32_t i, same = 0;
	int max = 0;

	for (i = 0; i < 4096; i++) {
		addr6(a, i << 10);	/* the low 10 bits all zero */
		if (++chain[sniff_hash16(&k1, a) & 1023] > max)
			max = chain[sniff_hash16(&k1, a) & 1023];
		if ((sniff_hash16(&k1, a) & 1023) == (sniff_hash16(&k2, a) & 1023))
			same++;
	}
	ck_assert_int_le(max, 16);	/* 4 on average */
	ck_assert_uint_lt(same, 40);	/* 4 by chance */
}
END_TEST

/* ---------------------------------------------------------------- */

static Suite *
v6_suite(void)
{
	Suite *s = suite_create("sniffer6");
	TCase *tc;

	tc = tcase_create("walker");
	tcase_add_loop_test(tc, test_walk, 0, NWALKS);
	suite_add_tcase(s, tc);

	tc = tcase_create("defragmenter");
	tcase_add_loop_test(tc, test_frag6, 0, NFCASES);
	tcase_add_test(tc, test_frag6_too_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("map");
	tcase_add_test(tc, test_map6_basics);
	tcase_add_test(tc, test_map6_reuse);
	tcase_add_test(tc, test_map6_keyed);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(v6_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
