/*
 * check_sniffer6_sessions.c - IPv6 sessions end to end through
 * sniff_open_file: fragmented segments (a fragmented SYN too), overlaps,
 * atomic fragments, extension headers, AH, a datagram too big for IPv4,
 * thousands of sessions through a small address map, IPv4 and IPv6 side
 * by side, real IPv4 in 240/4 trying to join an IPv6 stream, and one
 * checksum switch for both families.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sniffrec.h"

static void
sync_t(struct conv *a, const struct conv *b)
{
	if (b->t > a->t)
		a->t = b->t;
}

/*
 * One segment sent as IPv6 fragments of the TCP segment: the pieces are
 * cut at the offsets in cuts (multiples of 8, ascending, 0 ends), sent
 * in the order given by order (indexes, -1 ends); hbh puts a hop-by-hop
 * header before the fragment header.
 */
static void
frag_seg(struct conv *v, bool from_client, uint8_t flags, const char *text,
    const size_t *cuts, const int *order, bool hbh, uint32_t id)
{
	static uint8_t ip[FRAME_MAX], fr[FRAME_MAX];
	uint32_t *seq = from_client ? &v->cseq : &v->sseq;
	size_t len = text != NULL ? strlen(text) : 0, n, tlen, b[16], nb = 0;
	const uint8_t *src = from_client ? v->cip : v->sip;
	const uint8_t *dst = from_client ? v->sip : v->cip;
	int i;

	n = conv_packet(v, ip, from_client, flags, *seq, from_client ?
	    ((flags & F_ACK) ? v->sseq : 0) : v->cseq, text, len);
	tlen = n - 40;
	b[nb++] = 0;
	for (i = 0; cuts[i] != 0; i++)
		b[nb++] = cuts[i];
	b[nb] = tlen;
	for (i = 0; order[i] >= 0; i++) {
		size_t k = (size_t)order[i], m;

		m = pcapw_ip6_frag(fr, src, dst, 6, id, ip + 40, b[k],
		    b[k + 1] - b[k], k + 1 < nb);
		if (hbh) {
			memmove(fr + 48, fr + 40, m - 40);
			memset(fr + 40, 0, 8);
			fr[40] = 44;
			fr[42] = 1;
			fr[43] = 4;
			fr[6] = 0;
			pcapw_put16(fr + 4, (uint32_t)(m + 8 - 40));
			m += 8;
		}
		conv_frame(v, fr, m);
	}
	*seq += (uint32_t)len + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
}

struct fragv {
	const char	*name;
	size_t		 cuts[4];
	int		 order[6];
	bool		 hbh;
	bool		 dup;		/* the middle piece twice */
};

static const struct fragv fragvs[] = {
	{ "in order", { 8, 24, 0 }, { 0, 1, 2, -1 }, false, false },
	{ "reversed", { 8, 24, 0 }, { 2, 1, 0, -1 }, false, false },
	{ "a piece twice", { 8, 24, 0 }, { 0, 1, 1, 2, -1 }, false, true },
	{ "behind hop-by-hop", { 16, 0 }, { 1, 0, -1 }, true, false },
};
#define NFRAGVS	(int)(sizeof(fragvs) / sizeof(fragvs[0]))

/* The SYN and a command in fragments: both reassembled, followed. */
START_TEST(test_fragmented)
{
	const struct fragv *fv = &fragvs[_i];
	static const size_t syncut[] = { 8, 0 };
	static const int synorder[] = { 1, 0, -1 };
	struct sniff_stats st;
	struct conv v;
	int pieces = 0, i;

	for (i = 0; fv->order[i] >= 0; i++)
		pieces++;
	conv_init6(&v, PCAPW_ETH, false);
	frag_seg(&v, true, F_SYN, NULL, syncut, synorder, fv->hbh, 1);
	seg(&v, false, F_SYN | F_ACK, NULL);
	seg(&v, true, F_ACK, NULL);
	say(&v, false, "220 hello\r\n");
	frag_seg(&v, true, F_ACK | F_PSH, "MAIL FROM:<a@example.org>\r\n",
	    fv->cuts, fv->order, fv->hbh, 2);
	say(&v, false, "250 ok\r\n");
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_msg(R.n == 1, "%s: %d connections", fv->name, R.n);
	ck_assert_str_eq(R.c[0]->tr, "S>220 hello\r\nC>MAIL FROM:<a@example.org>"
	    "\r\nS>250 ok\r\n");
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_FIN);
	ck_assert_str_eq(R.c[0]->client, "2001:db8::1");
	ck_assert_uint_eq(st.frag6_reassembled, 2);
	ck_assert_uint_eq(st.ipv6_frags, (unsigned)(2 + pieces));
	ck_assert_uint_eq(st.frag6_overlap, 0);
	unlink(v.cap.path);
}
END_TEST

/* Overlapping pieces drop the segment; its retransmission gets through. */
START_TEST(test_overlap_then_whole)
{
	static const size_t cuts[] = { 8, 0 };
	static const int order[] = { 0, -1 };
	static const char cmd[] = "RCPT TO:<b@example.net>\r\n";
	static uint8_t ip[FRAME_MAX], fr[FRAME_MAX];
	struct sniff_stats st;
	struct conv v;
	size_t n, m;

	conv_init6(&v, PCAPW_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	/* the first 8 bytes, then 16 from offset 0 again, then the rest */
	frag_seg(&v, true, F_ACK | F_PSH, cmd, cuts, order, false, 9);
	v.cseq -= (uint32_t)strlen(cmd);
	n = conv_packet(&v, ip, true, F_ACK | F_PSH, v.cseq, v.sseq, cmd,
	    strlen(cmd));
	m = pcapw_ip6_frag(fr, v.cip, v.sip, 6, 9, ip + 40, 0, 16, true);
	conv_frame(&v, fr, m);
	m = pcapw_ip6_frag(fr, v.cip, v.sip, 6, 9, ip + 40, 16, n - 56, false);
	conv_frame(&v, fr, m);
	say(&v, true, cmd);		/* resent whole */
	say(&v, false, "250 ok\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->tr, "S>220 hello\r\nC>RCPT TO:<b@example.net>"
	    "\r\nS>250 ok\r\n");
	ck_assert_uint_eq(st.frag6_overlap, 1);
	ck_assert_uint_eq(st.frag6_reassembled, 0);
	ck_assert_uint_eq(st.ipv6_frags, 3);
	unlink(v.cap.path);
}
END_TEST

/*
 * Every packet dressed: atomic fragments (RFC 6946), hop-by-hop and
 * destination options, a finished routing header; or AH, not followed.
 */
enum dress { DR_ATOMIC, DR_HBH_DST, DR_ROUTING, DR_AH };

static size_t
dress(uint8_t *ip, size_t n, enum dress d, uint32_t *id)
{
	size_t hl = d == DR_ROUTING ? 24 : d == DR_HBH_DST ? 16 : 8;
	uint8_t *h = ip + 40;

	memmove(ip + 40 + hl, ip + 40, n - 40);
	memset(h, 0, hl);
	switch (d) {
	case DR_ATOMIC:
		ip[6] = 44;
		h[0] = 6;
		pcapw_put32(h + 4, (*id)++);
		break;
	case DR_HBH_DST:
		ip[6] = 0;
		h[0] = 60;
		h[2] = 1;
		h[3] = 4;
		h[8] = 6;
		h[10] = 1;
		h[11] = 4;
		break;
	case DR_ROUTING:
		ip[6] = 43;
		h[0] = 6;
		h[1] = 2;
		h[2] = 2;	/* type 2, segments left 0 */
		break;
	case DR_AH:
		ip[6] = 51;
		h[0] = 6;
		h[1] = 0;
		break;
	}
	pcapw_put16(ip + 4, (uint32_t)(n + hl - 40));
	return n + hl;
}

START_TEST(test_dressed)
{
	static const char *const lines[][2] = {
		{ "S", "220 hello\r\n" }, { "C", "EHLO x\r\n" },
		{ "S", "250 ok\r\n" }, { "C", "QUIT\r\n" }, { "S", "221 bye\r\n" },
	};
	static uint8_t ip[FRAME_MAX];
	enum dress d = (enum dress)_i;
	struct sniff_stats st;
	struct conv v;
	uint32_t id = 1, *seq;
	size_t i, n;

	conv_init6(&v, PCAPW_SLL2, false);
	for (i = 0; i < 3 + sizeof(lines) / sizeof(lines[0]); i++) {
		bool c = i < 3 ? i != 1 : lines[i - 3][0][0] == 'C';
		uint8_t fl = i == 0 ? F_SYN : i == 1 ? F_SYN | F_ACK :
		    i == 2 ? F_ACK : F_ACK | F_PSH;
		const char *t = i < 3 ? NULL : lines[i - 3][1];
		size_t len = t != NULL ? strlen(t) : 0;

		seq = c ? &v.cseq : &v.sseq;
		n = conv_packet(&v, ip, c, fl, *seq, c ? (i == 0 ? 0 : v.sseq) :
		    v.cseq, t, len);
		n = dress(ip, n, d, &id);
		conv_frame(&v, ip, n);
		*seq += (uint32_t)len + (i < 2 ? 1 : 0);
	}
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	if (d == DR_AH) {
		ck_assert_int_eq(R.n, 0);
		ck_assert_uint_eq(st.ipv6_uninspected, v.npkts);
	} else {
		ck_assert_int_eq(R.n, 1);
		ck_assert_str_eq(R.c[0]->tr, "S>220 hello\r\nC>EHLO x\r\n"
		    "S>250 ok\r\nC>QUIT\r\nS>221 bye\r\n");
		ck_assert_uint_eq(st.ipv6, v.npkts);
	}
	unlink(v.cap.path);
}
END_TEST

/* Reassembled, a segment of 65520 bytes: no IPv4 packet can hold it. */
START_TEST(test_too_big)
{
	static char big[65521];
	static const int order[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, -1 };
	size_t cuts[9], i;
	struct sniff_stats st;
	struct conv v;

	memset(big, 'x', 65500);
	big[65500] = '\0';
	for (i = 0; i < 8; i++)
		cuts[i] = (i + 1) * 7280;
	cuts[8] = 0;
	conv_init6(&v, PCAPW_ETH, false);
	handshake(&v);
	frag_seg(&v, true, F_ACK, big, cuts, order, false, 5);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_uint_eq(st.frag6_reassembled, 1);
	ck_assert_uint_eq(st.ipv6_uninspected, 1);
	ck_assert_uint_eq(st.ipv6_frags, 9);
	ck_assert_int_eq(R.n, 1);
	ck_assert_uint_eq(R.c[0]->len[SNIFF_FROM_CLIENT], 0);
	unlink(v.cap.path);
}
END_TEST

/*
 * 3000 sessions one after the other from as many addresses, through an
 * address map of 68 entries (max_streams 16, max_handshakes 16): every
 * one is followed, so every address was given back.
 */
START_TEST(test_many_sessions)
{
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];
	int i;

	conv_init6(&v, PCAPW_RAW101, false);
	for (i = 0; i < 3000; i++) {
		pcapw_put32(v.cip + 12, (uint32_t)(i + 1));
		v.cport = (uint16_t)(20000 + i % 30000);
		handshake(&v);
		say(&v, false, "220 hi\r\n");
		fin_close(&v);
	}
	cap_close(&v.cap);
	small_defaults(&cfg);
	cfg.max_streams = 16;
	cfg.max_handshakes = 16;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(R.n, 3000);
	ck_assert_int_eq(R.closes[SNIFF_CLOSE_FIN], 3000);
	ck_assert_str_eq(R.c[2999]->client, "2001:db8::bb8");
	ck_assert(!logged("map full"));
	unlink(v.cap.path);
}
END_TEST

/* Two IPv6 sessions and an IPv4 one, interleaved: nobody's bytes mix. */
START_TEST(test_side_by_side)
{
	struct conv a, b, c, *all[3] = { &a, &b, &c };
	struct sniff_stats st;
	int i;

	conv_init6(&a, PCAPW_ETH, true);
	conv_init6(&b, PCAPW_ETH, true);
	conv_join(&b, &a);
	b.cip[15] = 7;
	b.sip[15] = 8;
	conv_init(&c, PCAPW_ETH, true);
	conv_join(&c, &a);
	c.cport = a.cport = b.cport;	/* the same ports, all three */
	for (i = 0; i < 3; i++) {
		sync_t(all[i], all[(i + 2) % 3]);
		handshake(all[i]);
	}
	for (i = 0; i < 9; i++) {
		struct conv *v = all[i % 3];
		char line[32];

		sync_t(v, all[(i + 2) % 3]);
		snprintf(line, sizeof(line), "%c%d\r\n", "abc"[i % 3], i);
		say(v, i % 2 == 0, line);
	}
	cap_close(&a.cap);
	run_default(a.cap.path, &st);
	ck_assert_int_eq(R.n, 3);
	ck_assert_str_eq(R.c[0]->client, "2001:db8::1");
	ck_assert_str_eq(R.c[1]->client, "2001:db8::7");
	ck_assert_str_eq(R.c[1]->server, "2001:db8::8");
	ck_assert_str_eq(R.c[2]->client, "10.0.0.1");
	ck_assert_str_eq(R.c[0]->tr, "C>a0\r\nS>a3\r\nC>a6\r\n");
	ck_assert_str_eq(R.c[1]->tr, "S>b1\r\nC>b4\r\nS>b7\r\n");
	ck_assert_str_eq(R.c[2]->tr, "C>c2\r\nS>c5\r\nC>c8\r\n");
	unlink(a.cap.path);
}
END_TEST

/*
 * Real IPv4 between the addresses an IPv6 session was lent (240.0.0.1
 * and .2, the first two), at the right sequence number: dropped before
 * libnids, counted in reserved4.
 */
START_TEST(test_reserved4_injection)
{
	struct sniff_stats st;
	struct conv v, x;

	conv_init6(&v, PCAPW_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	conv_init(&x, PCAPW_ETH, false);
	conv_join(&x, &v);
	memcpy(x.cip, "\xf0\x00\x00\x01", 4);
	memcpy(x.sip, "\xf0\x00\x00\x02", 4);
	x.cseq = v.cseq;
	x.sseq = v.sseq;
	x.t = v.t;
	say(&x, true, "EVIL\r\n");
	v.t = x.t;
	say(&v, true, "EHLO x\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->tr, "S>220 hello\r\nC>EHLO x\r\n");
	ck_assert_uint_eq(st.reserved4, 1);
	unlink(v.cap.path);
}
END_TEST

/*
 * auto: an offloaded IPv6 session switches verification off for the
 * IPv4 one after it too, said once.
 */
START_TEST(test_checksums_both_families)
{
	struct sniff_stats st;
	struct conv v, w;

	conv_init6(&v, PCAPW_ETH, false);
	v.badsum[1] = true;
	handshake(&v);
	say(&v, false, "220 six\r\n");
	conv_init(&w, PCAPW_ETH, false);
	conv_join(&w, &v);
	w.t = v.t;
	w.badsum[1] = true;
	handshake(&w);
	say(&w, false, "220 four\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 2);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_SERVER], "220 six\r\n");
	ck_assert_str_eq(R.c[1]->bytes[SNIFF_FROM_SERVER], "220 four\r\n");
	ck_assert(st.checksums_off);
	ck_assert_int_eq(R.nlog, 1);
	ck_assert(logged("2001:db8::2 -> 2001:db8::1 first"));
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */

static Suite *
sessions_suite(void)
{
	Suite *s = suite_create("sniffer6_sessions");
	TCase *tc;

	tc = tcase_create("fragments");
	tcase_add_loop_test(tc, test_fragmented, 0, NFRAGVS);
	tcase_add_test(tc, test_overlap_then_whole);
	tcase_add_test(tc, test_too_big);
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_add_loop_test(tc, test_dressed, 0, DR_AH + 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("addresses");
	tcase_add_test(tc, test_many_sessions);
	tcase_add_test(tc, test_side_by_side);
	tcase_add_test(tc, test_reserved4_injection);
	tcase_add_test(tc, test_checksums_both_families);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sessions_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
