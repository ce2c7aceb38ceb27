/*
 * check_sniffer.c - the sniffer, from frames to stream chunks: link
 * layers, how frames are counted, truncation, garbage, checksums, ports.
 *
 * Every test writes a tiny capture of its own (tests/lib/pcapw.c: pcap
 * or pcapng, any link type), runs the sniffer over it with recording
 * handlers (tests/lib/sniffrec.c), and checks the exact bytes per
 * direction, the order of the directions, how each connection closed and
 * the counters. The other suites: check_sniffer_conn.c (ports, timeouts,
 * ends, reassembly), check_sniffer_io.c (errors, kill, live capture),
 * check_sniffer6.c (IPv6 parts and sessions), check_sniffer_gate.c (the
 * handshake gate and eviction).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sniffrec.h"

static void
assert_standard(const struct sniff_stats *st, const struct conv *v)
{
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->client, v->af == 4 ? "10.0.0.1" :
	    "2001:db8::1");
	ck_assert_str_eq(R.c[0]->server, v->af == 4 ? "10.0.0.2" :
	    "2001:db8::2");
	ck_assert_uint_eq(R.c[0]->cport, 40000);
	ck_assert_uint_eq(R.c[0]->sport, 25);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_CLIENT], side_bytes('C'));
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_SERVER], side_bytes('S'));
	ck_assert_str_eq(R.c[0]->tr, transcript());
	ck_assert(R.c[0]->closed);
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_FIN);
	ck_assert_uint_eq(st->packets, v->npkts);
	ck_assert_uint_eq(v->af == 4 ? st->ipv4 : st->ipv6, v->npkts);
	ck_assert_uint_eq(st->sessions, 1);
	ck_assert_uint_eq(st->other + st->malformed + st->truncated +
	    st->skipped + st->ipv6_frags + st->ipv6_uninspected +
	    (v->af == 4 ? st->ipv6 : st->ipv4), 0);
}

/* ---------------------------------------------------------------- */
/* Link layers: the same conversation through every one, IPv4 and    */
/* IPv6, pcap and pcapng.                                             */

static struct {
	enum pcapw_link	 k;
	int		 af;
	bool		 ng;
} lcases[4 * PCAPW_NLINKS];
static int nlcases;

static void
make_lcases(void)
{
	int af, k, ng;

	for (af = 4; af <= 6; af += 2)
		for (k = 0; k < PCAPW_NLINKS; k++)
			for (ng = 0; ng < 2; ng++)
				if (pcapw_link_carries((enum pcapw_link)k, af)) {
					lcases[nlcases].k = (enum pcapw_link)k;
					lcases[nlcases].af = af;
					lcases[nlcases].ng = ng == 1;
					nlcases++;
				}
}

START_TEST(test_links)
{
	struct sniff_stats st;
	struct conv v;

	if (lcases[_i].af == 4)
		write_standard(&v, lcases[_i].k, lcases[_i].ng);
	else
		write_standard6(&v, lcases[_i].k, lcases[_i].ng);
	run_default(v.cap.path, &st);
	ck_assert_msg(R.n == 1, "%s IPv%d %s: %d connections",
	    pcapw_link_name(lcases[_i].k), lcases[_i].af,
	    lcases[_i].ng ? "pcapng" : "pcap", R.n);
	assert_standard(&st, &v);
	ck_assert_uint_eq(R.c[0]->open_ts, T0 + 2000);
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Frames sorted into the counters: one frame per case.               */

enum bucket { B_IPV4, B_IPV6, B_FRAG6, B_SKIP, B_UNINSP, B_RES4, B_OTHER,
	B_BAD, B_N };

struct frame_case {
	const char	*name;
	enum pcapw_link	 link;
	int		 kind;		/* how the frame is made, below */
	enum bucket	 want;
	bool		 truncated;
};

enum {
	K_SHORT_ETH, K_ARP, K_3TAGS, K_TAG_CUT, K_8023, K_V6, K_V6_UDP,
	K_V6_HBH, K_V6_DST, K_V6_FRAG, K_V6_SHORT, K_V6_ESP, K_V6_PORT80,
	K_V6_AF, K_NULL7, K_NULL3, K_SLL_SHORT, K_SLL2_V4, K_RAW_V5,
	K_IPV4DLT_V6, K_IPV6DLT_V4, K_IHL4, K_TOT_LT_IHL, K_TOT_GT_CAP,
	K_TOT_GT_CAP_CUT, K_THOFF4, K_THOFF_BIG, K_UDP, K_PORT80, K_FRAG,
	K_PADDED, K_SPORT25, K_V4_SHORT_HDR, K_RAW_EMPTY, K_SLL2_SHORT,
	K_V6_CUT_EXT, K_V6_CUT_SNAP, K_RES_SRC, K_RES_BCAST, K_RES_UDP
};

static const struct frame_case frames[] = {
	{ "ethernet, 10 bytes", PCAPW_ETH, K_SHORT_ETH, B_OTHER, false },
	{ "ARP", PCAPW_ETH, K_ARP, B_OTHER, false },
	{ "three VLAN tags", PCAPW_ETH, K_3TAGS, B_OTHER, false },
	{ "VLAN tag cut short", PCAPW_ETH, K_TAG_CUT, B_OTHER, false },
	{ "802.3 length field", PCAPW_ETH, K_8023, B_OTHER, false },
	{ "IPv6 TCP 25", PCAPW_ETH, K_V6, B_IPV6, false },
	{ "IPv6 UDP", PCAPW_ETH, K_V6_UDP, B_SKIP, false },
	{ "IPv6 hop-by-hop, TCP 25", PCAPW_ETH, K_V6_HBH, B_IPV6, false },
	{ "IPv6 dest opts, TCP 25", PCAPW_ETH, K_V6_DST, B_IPV6, false },
	{ "IPv6 later fragment", PCAPW_ETH, K_V6_FRAG, B_FRAG6, false },
	{ "IPv6, 20 bytes", PCAPW_ETH, K_V6_SHORT, B_BAD, false },
	{ "IPv6 ESP", PCAPW_ETH, K_V6_ESP, B_UNINSP, false },
	{ "IPv6 TCP port 80", PCAPW_ETH, K_V6_PORT80, B_SKIP, false },
	{ "NULL AF 24", PCAPW_NULL_LE, K_V6_AF, B_IPV6, false },
	{ "NULL AF 28", PCAPW_NULL28, K_V6_AF, B_IPV6, false },
	{ "LOOP AF 30", PCAPW_LOOP30, K_V6_AF, B_IPV6, false },
	{ "NULL AF 7", PCAPW_NULL_LE, K_NULL7, B_OTHER, false },
	{ "NULL, 3 bytes", PCAPW_NULL_LE, K_NULL3, B_OTHER, false },
	{ "SLL, 10 bytes", PCAPW_SLL, K_SLL_SHORT, B_OTHER, false },
	{ "SLL2 IPv4 to 25", PCAPW_SLL2, K_SLL2_V4, B_IPV4, false },
	{ "SLL2, 12 bytes", PCAPW_SLL2, K_SLL2_SHORT, B_OTHER, false },
	{ "raw, version 5", PCAPW_RAW101, K_RAW_V5, B_OTHER, false },
	{ "raw, empty", PCAPW_RAW101, K_RAW_EMPTY, B_OTHER, false },
	{ "DLT_IPV4 holding IPv6", PCAPW_IPV4, K_IPV4DLT_V6, B_OTHER, false },
	{ "DLT_IPV6 holding IPv4", PCAPW_IPV6, K_IPV6DLT_V4, B_OTHER, false },
	{ "IPv4 ihl 4", PCAPW_ETH, K_IHL4, B_BAD, false },
	{ "IPv4 total length < header", PCAPW_ETH, K_TOT_LT_IHL, B_BAD, false },
	{ "IPv4 longer than the frame", PCAPW_ETH, K_TOT_GT_CAP, B_BAD, false },
	{ "IPv4 cut by the snaplen", PCAPW_ETH, K_TOT_GT_CAP_CUT, B_SKIP,
	    true },
	{ "IPv4, 12 bytes", PCAPW_ETH, K_V4_SHORT_HDR, B_BAD, false },
	{ "TCP data offset 4", PCAPW_ETH, K_THOFF4, B_BAD, false },
	{ "TCP data offset past the packet", PCAPW_ETH, K_THOFF_BIG, B_BAD,
	    false },
	{ "IPv4 UDP", PCAPW_ETH, K_UDP, B_SKIP, false },
	{ "TCP port 80", PCAPW_ETH, K_PORT80, B_SKIP, false },
	{ "IPv4 fragment", PCAPW_ETH, K_FRAG, B_IPV4, false },
	{ "ethernet padding", PCAPW_ETH, K_PADDED, B_IPV4, false },
	{ "TCP from port 25", PCAPW_ETH, K_SPORT25, B_IPV4, false },
	{ "IPv6 ext header past the payload", PCAPW_ETH, K_V6_CUT_EXT, B_BAD,
	    false },
	{ "IPv6 cut by the snaplen", PCAPW_ETH, K_V6_CUT_SNAP, B_SKIP, true },
	{ "IPv4 TCP from 240.0.0.7", PCAPW_ETH, K_RES_SRC, B_RES4, false },
	{ "IPv4 TCP to 255.255.255.255", PCAPW_ETH, K_RES_BCAST, B_RES4,
	    false },
	{ "IPv4 UDP from 240/4", PCAPW_ETH, K_RES_UDP, B_SKIP, false },
};
#define NFRAMES	(int)(sizeof(frames) / sizeof(frames[0]))

static const uint8_t A4[4] = { 10, 0, 0, 1 }, B4[4] = { 10, 0, 0, 2 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static size_t
tcp4(uint8_t *ip, const uint8_t *a, const uint8_t *b, uint16_t sport,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const void *data, size_t len)
{
	struct pcapw_tcp t = { .sport = sport, .dport = dport, .seq = seq,
	    .ack = ack, .flags = flags, .data = data, .len = len };

	return pcapw_ip4_tcp(ip, a, b, &t);
}

/* An IPv6 SYN to dport behind one header: -1 none, else its number. */
static size_t
syn6(uint8_t *p, uint16_t dport, int ext)
{
	struct pcapw_tcp t = { .sport = 40000, .dport = dport, .seq = 1,
	    .flags = F_SYN };
	uint8_t pay[128];
	size_t n = 0;

	if (ext == 0 || ext == 60) {		/* hop-by-hop, dest opts */
		memset(pay, 0, 8);
		pay[0] = 6;
		pay[2] = 1;			/* PadN, 4 bytes */
		pay[3] = 4;
		n = 8;
	} else if (ext == 44) {			/* a later, last fragment */
		memset(pay, 0, 8);
		pay[0] = 6;
		pcapw_put16(pay + 2, 0x0100);
		n = 8;
	}
	n += pcapw_tcp6(pay + n, A6, B6, &t);
	return pcapw_ip6(p, A6, B6, ext < 0 ? 6 : (uint8_t)ext, pay, n);
}

/* Builds case fc into f; *cap may be set below the length. */
static size_t
make_frame(const struct frame_case *fc, uint8_t *f, size_t *cap)
{
	static const uint8_t r4[4] = { 240, 0, 0, 7 }, bc[4] = { 255, 255,
	    255, 255 };
	uint8_t ip[256];
	size_t n, i;

	n = tcp4(ip, A4, B4, 40000, 25, 1, 0, F_SYN, NULL, 0);
	*cap = 0;
	switch (fc->kind) {
	case K_SHORT_ETH:
	case K_SLL_SHORT:
		memset(f, 0, 10);
		return 10;
	case K_ARP:
		n = pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
		pcapw_put16(f + 12, 0x0806);
		return n;
	case K_3TAGS:
		n = pcapw_wrap(PCAPW_QINQ, 4, ip, n, f);
		memmove(f + 16, f + 12, n - 12);
		pcapw_put16(f + 12, 0x8100);
		pcapw_put16(f + 14, 5);
		return n + 4;
	case K_TAG_CUT:
		memset(f, 0, 16);
		pcapw_put16(f + 12, 0x8100);
		return 16;
	case K_8023:
		n = pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
		pcapw_put16(f + 12, 0x0040);
		return n;
	case K_V6:
	case K_V6_AF:
		return pcapw_wrap(fc->link, 6, ip, syn6(ip, 25, -1), f);
	case K_V6_UDP:
		n = syn6(ip, 25, -1);
		ip[6] = 17;
		return pcapw_wrap(PCAPW_ETH, 6, ip, n, f);
	case K_V6_ESP:
		n = syn6(ip, 25, -1);
		ip[6] = 50;
		return pcapw_wrap(PCAPW_ETH, 6, ip, n, f);
	case K_V6_PORT80:
		return pcapw_wrap(PCAPW_ETH, 6, ip, syn6(ip, 80, -1), f);
	case K_V6_HBH:
		return pcapw_wrap(PCAPW_ETH, 6, ip, syn6(ip, 25, 0), f);
	case K_V6_DST:
		return pcapw_wrap(PCAPW_ETH, 6, ip, syn6(ip, 25, 60), f);
	case K_V6_FRAG:
		return pcapw_wrap(PCAPW_ETH, 6, ip, syn6(ip, 25, 44), f);
	case K_V6_SHORT:
		syn6(ip, 25, -1);
		return pcapw_wrap(PCAPW_ETH, 6, ip, 20, f);
	case K_V6_CUT_EXT:	/* the hop-by-hop claims 16 bytes */
		n = syn6(ip, 25, 0);
		ip[41] = 1;
		pcapw_put16(ip + 4, 12);
		return pcapw_wrap(PCAPW_ETH, 6, ip, 52, f);
	case K_V6_CUT_SNAP:
		n = pcapw_wrap(PCAPW_ETH, 6, ip, syn6(ip, 25, -1), f);
		*cap = n - 10;
		return n;
	case K_NULL7:
		n = pcapw_wrap(PCAPW_NULL_LE, 4, ip, n, f);
		f[0] = 7;
		return n;
	case K_NULL3:
		memset(f, 0, 3);
		f[0] = 2;
		return 3;
	case K_SLL2_V4:
		return pcapw_wrap(PCAPW_SLL2, 4, ip, n, f);
	case K_SLL2_SHORT:
		memset(f, 0, 12);
		pcapw_put16(f, 0x0800);
		return 12;
	case K_RAW_V5:
		ip[0] = 0x55;
		return pcapw_wrap(PCAPW_RAW101, 4, ip, n, f);
	case K_RAW_EMPTY:
		return 0;
	case K_IPV4DLT_V6:
		return pcapw_wrap(PCAPW_IPV4, 6, ip, syn6(ip, 25, -1), f);
	case K_IPV6DLT_V4:
		return pcapw_wrap(PCAPW_IPV6, 4, ip, n, f);
	case K_IHL4:
		ip[0] = 0x44;
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_TOT_LT_IHL:
		pcapw_put16(ip + 2, 16);
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_TOT_GT_CAP:
		pcapw_put16(ip + 2, 1500);
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_TOT_GT_CAP_CUT:
		n = pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
		*cap = n - 10;
		return n;
	case K_V4_SHORT_HDR:
		return pcapw_wrap(PCAPW_ETH, 4, ip, 12, f);
	case K_THOFF4:
		ip[32] = 4 << 4;
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_THOFF_BIG:
		ip[32] = 15 << 4;
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_UDP:
		ip[9] = 17;
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_PORT80:
		n = tcp4(ip, A4, B4, 40000, 80, 1, 0, F_SYN, NULL, 0);
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_FRAG:
		pcapw_put16(ip + 6, 0x2000);		/* first fragment, MF */
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_PADDED:
		n = pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
		for (i = 0; i < 18; i++)
			f[n + i] = 0xee;
		return n + 18;
	case K_SPORT25:
		n = tcp4(ip, B4, A4, 25, 40000, 1, 2, F_SYN | F_ACK, NULL, 0);
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_RES_SRC:
		n = tcp4(ip, r4, B4, 40000, 25, 1, 0, F_SYN, NULL, 0);
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_RES_BCAST:
		n = tcp4(ip, A4, bc, 40000, 25, 1, 0, F_SYN, NULL, 0);
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	case K_RES_UDP:
		n = tcp4(ip, r4, B4, 40000, 25, 1, 0, F_SYN, NULL, 0);
		ip[9] = 17;
		return pcapw_wrap(PCAPW_ETH, 4, ip, n, f);
	}
	ck_abort_msg("unknown kind %d", fc->kind);
	return 0;
}

START_TEST(test_frames)
{
	const struct frame_case *fc = &frames[_i];
	uint64_t want[B_N] = { 0 }, got[B_N];
	struct sniff_stats st;
	uint8_t f[512];
	struct cap c;
	size_t n, caplen;

	n = make_frame(fc, f, &caplen);
	cap_open(&c, pcapw_linktype(fc->link), false);
	cap_write(&c, T0, f, caplen > 0 ? caplen : n, n);
	cap_close(&c);
	run_default(c.path, &st);
	want[fc->want] = 1;
	got[B_IPV4] = st.ipv4;
	got[B_IPV6] = st.ipv6;
	got[B_FRAG6] = st.ipv6_frags;
	got[B_SKIP] = st.skipped;
	got[B_UNINSP] = st.ipv6_uninspected;
	got[B_RES4] = st.reserved4;
	got[B_OTHER] = st.other;
	got[B_BAD] = st.malformed;
	ck_assert_msg(memcmp(want, got, sizeof(want)) == 0,
	    "%s: ipv4 %llu ipv6 %llu frags %llu skipped %llu uninspected "
	    "%llu reserved %llu other %llu bad %llu", fc->name,
	    (unsigned long long)got[0], (unsigned long long)got[1],
	    (unsigned long long)got[2], (unsigned long long)got[3],
	    (unsigned long long)got[4], (unsigned long long)got[5],
	    (unsigned long long)got[6], (unsigned long long)got[7]);
	ck_assert_uint_eq(st.truncated, fc->truncated ? 1 : 0);
	ck_assert_uint_eq(st.packets, 1);
	ck_assert_uint_eq(st.bytes, n);
	ck_assert_int_eq(R.n, 0);
	ck_assert(!st.checksums_off);	/* every sum built right */
	unlink(c.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Truncated frames.                                                  */

/* A cut reply: the bytes before it arrive, the stream stops there. */
START_TEST(test_truncated_segment)
{
	struct sniff_stats st;
	struct conv v;

	if (_i == 0)
		conv_init(&v, PCAPW_ETH, false);
	else
		conv_init6(&v, PCAPW_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	say(&v, true, "EHLO x\r\n");
	v.cut = _i == 0 ? 60 : 80;	/* headers and 6 bytes of the reply */
	say(&v, false, "250 this line is cut by the snaplen\r\n");
	say(&v, true, "QUIT\r\n");
	say(&v, false, "221 bye\r\n");
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_uint_eq(st.truncated, 1);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_CLIENT], "EHLO x\r\nQUIT\r\n");
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_SERVER], "220 hello\r\n");
	/* the server's FIN waits behind the gap */
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_EOF);
	unlink(v.cap.path);
}
END_TEST

/* The same frame cut at every length, each link type: no crash. */
START_TEST(test_truncated_every_length)
{
	int i = 2 * _i;		/* pcap, not pcapng: the file is not the point */
	enum pcapw_link k = lcases[i].k;
	int af = lcases[i].af;
	struct sniff_stats st;
	uint8_t ip[256], f[300];
	struct pcapw_tcp t = { .sport = 40000, .dport = 25, .seq = 1,
	    .ack = 1, .flags = F_ACK | F_PSH, .data = "HELO x\r\n", .len = 8 };
	struct cap c;
	size_t n, cut;

	if (af == 4)
		n = pcapw_ip4_tcp(ip, A4, B4, &t);
	else
		n = pcapw_ip6_tcp(ip, A6, B6, &t);
	n = pcapw_wrap(k, af, ip, n, f);
	cap_open(&c, pcapw_linktype(k), false);
	for (cut = 0; cut <= n; cut++)
		cap_write(&c, T0 + (wb_usec)cut, f, cut, n);
	cap_close(&c);
	run_default(c.path, &st);
	ck_assert_uint_eq(st.packets, n + 1);
	ck_assert_uint_eq(st.truncated, n);
	ck_assert_uint_eq(af == 4 ? st.ipv4 : st.ipv6, 1);
	ck_assert_uint_eq(st.malformed, 0);
	unlink(c.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Garbage: random frames, and random TCP that reaches libnids.       */

static uint32_t
xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

START_TEST(test_garbage)
{
	static const int lts[] = { 1, 113, 276, 0, 108, 101, 12, 14, 228, 229 };
	static const enum pcapw_link lk[] = { PCAPW_ETH, PCAPW_SLL,
	    PCAPW_SLL2, PCAPW_NULL_LE, PCAPW_LOOP_BE, PCAPW_RAW101,
	    PCAPW_RAW12, PCAPW_RAW14, PCAPW_IPV4, PCAPW_IPV6 };
	int lt = lts[_i];
	uint32_t x = 0x9e3779b9u + (uint32_t)_i;
	struct sniff_stats st;
	uint8_t f[512], ip[256];
	struct cap c;
	size_t n, j, total = 0;
	int i, af;

	cap_open(&c, lt, _i % 2 == 1);
	for (i = 0; i < 3000; i++) {
		n = xorshift(&x) % 200;
		for (j = 0; j < n; j++)
			f[j] = (uint8_t)xorshift(&x);
		if (i % 3 == 0 && lt == 1) {	/* plausible headers, */
			pcapw_put16(f + 12, i % 2 ? 0x0800 : 0x86dd);
			f[14] = i % 2 ? 0x45 : 0x60;
		}
		if (i % 3 == 1) {	/* or a TCP segment with random fields */
			struct pcapw_tcp t = {
				.sport = (i & 4) ? 40000 : 25,
				.dport = (i & 4) ? 25 : 40000,
				.seq = xorshift(&x) % 64,
				.ack = xorshift(&x) % 64,
				.flags = (uint8_t)xorshift(&x),
				.data = f, .len = xorshift(&x) % 40,
			};

			af = lt == 228 ? 4 : lt == 229 ? 6 : (i & 8) ? 6 : 4;
			if (af == 4)
				n = pcapw_ip4_tcp(ip, (i & 4) ? A4 : B4,
				    (i & 4) ? B4 : A4, &t);
			else
				n = pcapw_ip6_tcp(ip, (i & 4) ? A6 : B6,
				    (i & 4) ? B6 : A6, &t);
			if (i % 5 == 0)
				ip[af == 4 ? 32 : 52] = (uint8_t)xorshift(&x);
			n = pcapw_wrap(lk[_i], af, ip, n, f);
		}
		cap_write(&c, T0 + i * 1000, f, n, n + (i % 7 == 0 ? 5 : 0));
		total++;
	}
	cap_close(&c);
	run_default(c.path, &st);
	ck_assert_uint_eq(st.packets, total);
	ck_assert_int_eq(R.n, R.nclosed);
	unlink(c.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Checksums: auto, on, off, for both families.                       */

enum csum_bad { BAD_NONE, BAD_SERVER_TCP, BAD_CLIENT_IP0, BAD_ONE_RETX,
	BAD_ONE_CLIENT };

struct csum_case {
	const char		*name;
	int			 af;
	enum sniff_checksums	 mode;
	enum csum_bad		 bad;
	bool			 whole;		/* the transcript arrives */
	int			 sessions;
	bool			 off;		/* checksums_off */
	bool			 badsum;	/* some dropped */
	bool			 said;		/* the switch was logged */
};

static const struct csum_case csums[] = {
	{ "auto, all good", 4, SNIFF_CSUM_AUTO, BAD_NONE, true, 1, false,
	    false, false },
	{ "auto, server offloaded", 4, SNIFF_CSUM_AUTO, BAD_SERVER_TCP, true,
	    1, true, false, true },
	{ "auto, client IPv4 sums 0", 4, SNIFF_CSUM_AUTO, BAD_CLIENT_IP0,
	    true, 1, true, false, true },
	{ "auto, one bad client segment", 4, SNIFF_CSUM_AUTO, BAD_ONE_CLIENT,
	    true, 1, true, false, true },
	{ "on, server offloaded", 4, SNIFF_CSUM_ON, BAD_SERVER_TCP, false, 0,
	    false, true, false },
	{ "on, client IPv4 sums 0", 4, SNIFF_CSUM_ON, BAD_CLIENT_IP0, false,
	    0, false, true, false },
	{ "on, one bad segment resent", 4, SNIFF_CSUM_ON, BAD_ONE_RETX, true,
	    1, false, true, false },
	{ "off, server offloaded", 4, SNIFF_CSUM_OFF, BAD_SERVER_TCP, true, 1,
	    false, false, false },
	{ "off, client IPv4 sums 0", 4, SNIFF_CSUM_OFF, BAD_CLIENT_IP0, true,
	    1, false, false, false },
	{ "v6 auto, all good", 6, SNIFF_CSUM_AUTO, BAD_NONE, true, 1, false,
	    false, false },
	{ "v6 auto, server offloaded", 6, SNIFF_CSUM_AUTO, BAD_SERVER_TCP,
	    true, 1, true, false, true },
	{ "v6 auto, one bad client segment", 6, SNIFF_CSUM_AUTO,
	    BAD_ONE_CLIENT, true, 1, true, false, true },
	{ "v6 on, server offloaded", 6, SNIFF_CSUM_ON, BAD_SERVER_TCP, false,
	    0, false, true, false },
	{ "v6 on, one bad segment resent", 6, SNIFF_CSUM_ON, BAD_ONE_RETX,
	    true, 1, false, true, false },
	{ "v6 off, server offloaded", 6, SNIFF_CSUM_OFF, BAD_SERVER_TCP, true,
	    1, false, false, false },
};
#define NCSUMS	(int)(sizeof(csums) / sizeof(csums[0]))

static void
write_csum_case(struct conv *v, const struct csum_case *cc)
{
	size_t i;

	if (cc->af == 4)
		conv_init(v, PCAPW_ETH, false);
	else
		conv_init6(v, PCAPW_ETH, false);
	if (cc->bad == BAD_SERVER_TCP)
		v->badsum[1] = true;
	if (cc->bad == BAD_CLIENT_IP0)
		v->ipsum0[0] = true;
	handshake(v);
	for (i = 0; i < 7; i++) {
		const char *line = i % 2 == 0 ? "250 ok\r\n" : "NOOP\r\n";
		bool c = i % 2 == 1;

		if (i == 1 && (cc->bad == BAD_ONE_RETX ||
		    cc->bad == BAD_ONE_CLIENT)) {
			v->badsum[0] = true;
			seg_at(v, true, F_ACK | F_PSH, v->cseq, line,
			    strlen(line));
			v->badsum[0] = false;
			if (cc->bad == BAD_ONE_CLIENT) {
				v->cseq += (uint32_t)strlen(line);
				continue;
			}
		}
		say(v, c, line);
	}
	fin_close(v);
	cap_close(&v->cap);
}

START_TEST(test_checksums)
{
	const struct csum_case *cc = &csums[_i];
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];

	write_csum_case(&v, cc);
	small_defaults(&cfg);
	cfg.checksums = cc->mode;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_msg(R.n == cc->sessions, "%s: %d sessions", cc->name, R.n);
	ck_assert_uint_eq(st.sessions, (unsigned)cc->sessions);
	if (cc->whole)
		ck_assert_str_eq(R.c[0]->tr, "S>250 ok\r\nC>NOOP\r\nS>250 ok\r\n"
		    "C>NOOP\r\nS>250 ok\r\nC>NOOP\r\nS>250 ok\r\n");
	ck_assert_msg(st.checksums_off == cc->off, "%s: checksums_off %d",
	    cc->name, st.checksums_off);
	ck_assert_msg((st.badsum > 0) == cc->badsum, "%s: badsum %llu",
	    cc->name, (unsigned long long)st.badsum);
	ck_assert_msg(logged("checksums are wrong") == cc->said,
	    "%s: %d log lines, first: %s", cc->name, R.nlog, R.log[0]);
	if (cc->said || cc->badsum)	/* once; every drop counted */
		ck_assert_int_eq(R.nlog, 1);
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */

static Suite *
sniffer_suite(void)
{
	Suite *s = suite_create("sniffer");
	TCase *tc;

	make_lcases();
	tc = tcase_create("links");
	tcase_add_loop_test(tc, test_links, 0, nlcases);
	suite_add_tcase(s, tc);

	tc = tcase_create("frames");
	tcase_add_loop_test(tc, test_frames, 0, NFRAMES);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncated");
	tcase_add_loop_test(tc, test_truncated_segment, 0, 2);
	tcase_add_loop_test(tc, test_truncated_every_length, 0, nlcases / 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("garbage");
	tcase_add_loop_test(tc, test_garbage, 0, 10);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("checksums");
	tcase_add_loop_test(tc, test_checksums, 0, NCSUMS);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sniffer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
