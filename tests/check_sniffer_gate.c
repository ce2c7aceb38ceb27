/*
 * check_sniffer_gate.c - the handshake gate and who is evicted.
 *
 * The attack (libnids alone): with max_streams open, every new SYN made
 * libnids free its oldest stream. A client mid-transaction sends max
 * streams + 1 spoofed SYNs and its session vanishes before the "550
 * relay not permitted" it was waiting for. Here: spoofed handshakes the
 * server answers but nobody completes, full handshakes that sit idle,
 * IPv4 and IPv6, fragmented SYNs; then the rules of the gate (sequence
 * numbers, retransmissions, timeout, overflow, options kept) and of
 * eviction (idle first, the longest idle, busy last), as tables.
 *
 * The recorder's hook plays the caller's part in a few lines: client
 * bytes make a connection busy (a command waits for its reply), server
 * bytes make it idle.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sniffrec.h"

static void
smtpish(struct sniff_conn *c, struct rconn *r, enum sniff_dir d,
    const uint8_t *b, size_t len)
{
	(void)r;
	(void)b;
	(void)len;
	sniff_conn_set_busy(c, d == SNIFF_FROM_CLIENT);
}

static void
conv_af(struct conv *v, int af, enum pcapw_link k)
{
	if (af == 4)
		conv_init(v, k, false);
	else
		conv_init6(v, k, false);
}

/* Flood client number i: 10.128/9 or 2001:db8:f::/48, its own port. */
static void
flood_peer(struct conv *f, uint32_t i)
{
	if (f->af == 4) {
		f->cip[0] = 10;
		pcapw_put16(f->cip + 1, 0x8000 | (i >> 8));
		f->cip[3] = (uint8_t)i;
	} else {
		memset(f->cip + 4, 0, 12);
		f->cip[5] = 0x0f;
		pcapw_put32(f->cip + 12, i);
	}
	f->cport = (uint16_t)(1024 + i % 60000);
	f->cseq = i * 2654435761u;
	f->sseq = ~f->cseq;
}

/* A SYN the sender spoofed and the server answers; nobody completes it. */
static void
spoofed(struct conv *f, uint32_t i, bool frag4)
{
	static uint8_t ip[128], fr[128];
	size_t n;

	flood_peer(f, i);
	if (!frag4) {
		seg(f, true, F_SYN, NULL);
	} else {
		/* IPv4 fragments: libnids reassembles, the gate still sees it */
		n = conv_packet(f, ip, true, F_SYN, f->cseq, 0, NULL, 0);
		memcpy(fr, ip, 28);
		pcapw_put16(fr + 2, 28);
		pcapw_put16(fr + 6, 0x2000);		/* MF */
		conv_frame(f, fr, 28);
		memcpy(fr, ip, 20);
		memcpy(fr + 20, ip + 28, n - 28);
		pcapw_put16(fr + 2, (uint32_t)(n - 8));
		pcapw_put16(fr + 6, 1);			/* offset 8 */
		conv_frame(f, fr, n - 8);
		f->cseq++;
	}
	seg(f, false, F_SYN | F_ACK, NULL);
}

/* A session with its RCPT sent and the reply not yet. */
static void
mid_rcpt(struct conv *v)
{
	handshake(v);
	say(v, false, "220 mx.example ESMTP\r\n");
	say(v, true, "EHLO client.example\r\n");
	say(v, false, "250 mx.example\r\n");
	say(v, true, "MAIL FROM:<a@example.org>\r\n");
	say(v, false, "250 OK\r\n");
	say(v, true, "RCPT TO:<b@example.net>\r\n");
}

#define REPLY	"550 relay not permitted\r\n"

struct flood_case {
	const char	*name;
	int		 af;
	int		 live;		/* sessions mid-transaction */
	bool		 frag4;		/* the SYNs as IPv4 fragments */
};

static const struct flood_case floods[] = {
	{ "IPv4, one session", 4, 1, false },
	{ "IPv6, one session", 6, 1, false },
	{ "IPv4, ten sessions", 4, 10, false },
	{ "IPv6, ten sessions", 6, 10, false },
	{ "IPv4, fragmented SYNs", 4, 1, true },
};
#define NFLOODS	(int)(sizeof(floods) / sizeof(floods[0]))

/*
 * max_streams 1000; sessions mid-transaction, then 10,000 spoofed SYNs
 * from as many addresses with the server's SYN-ACKs: every reply the
 * sessions wait for is still delivered, and nothing was evicted.
 */
START_TEST(test_spoofed_flood)
{
	const struct flood_case *fc = &floods[_i];
	struct conv v[10], f;
	struct sniff_config cfg;
	struct sniff_stats st;
	char err[512];
	int i;

	conv_af(&v[0], fc->af, PCAPW_ETH);
	for (i = 0; i < fc->live; i++) {
		if (i > 0) {
			conv_af(&v[i], fc->af, PCAPW_ETH);
			conv_join(&v[i], &v[0]);
			v[i].cport = (uint16_t)(40000 + i);
			v[i].t = v[i - 1].t;
		}
		mid_rcpt(&v[i]);
	}
	conv_af(&f, fc->af, PCAPW_ETH);
	conv_join(&f, &v[0]);
	f.t = v[fc->live - 1].t;
	f.step = 20;
	for (i = 0; i < 10000; i++)
		spoofed(&f, (uint32_t)i, fc->frag4);
	for (i = 0; i < fc->live; i++) {
		v[i].t = f.t;
		say(&v[i], false, REPLY);
		f.t = v[i].t;
	}
	cap_close(&v[0].cap);

	small_defaults(&cfg);
	cfg.max_streams = 1000;
	R.hook = smtpish;
	ck_assert_int_eq(run(v[0].cap.path, &cfg, &st, err, sizeof(err)), 0);
	R.hook = NULL;
	ck_assert_msg(R.n == fc->live, "%s: %d sessions", fc->name, R.n);
	for (i = 0; i < fc->live; i++) {
		ck_assert_msg(strstr(R.c[i]->bytes[SNIFF_FROM_SERVER], REPLY) !=
		    NULL, "%s: session %d lost its reply", fc->name, i);
		ck_assert_int_eq(R.c[i]->how, SNIFF_CLOSE_EOF);
	}
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.hs_overflow, 10000 - 1024);
	ck_assert_uint_eq(R.last.hs_pending, 1024);
	ck_assert_uint_eq(st.hs_pending, 0);		/* the end closed all */
	ck_assert_uint_eq(st.sessions, (unsigned)fc->live);
	unlink(v[0].cap.path);
}
END_TEST

/*
 * max_streams 1000; a session waiting for its RCPT reply, then 2,000
 * full handshakes (the client ACKs, the server greets, then silence):
 * idle ones make room, the busy one stays and gets its reply.
 */
START_TEST(test_full_handshakes)
{
	int af = _i == 0 ? 4 : 6, i;
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v, f;
	char err[512];

	conv_af(&v, af, PCAPW_ETH);
	mid_rcpt(&v);
	conv_af(&f, af, PCAPW_ETH);
	conv_join(&f, &v);
	f.t = v.t;
	f.step = 20;
	for (i = 0; i < 2000; i++) {
		flood_peer(&f, (uint32_t)i);
		handshake(&f);
		say(&f, false, "220 mx.example ESMTP\r\n");
	}
	v.t = f.t;
	say(&v, false, REPLY);
	cap_close(&v.cap);

	small_defaults(&cfg);
	cfg.max_streams = 1000;
	R.hook = smtpish;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	R.hook = NULL;
	ck_assert_int_eq(R.n, 2001);
	ck_assert_ptr_nonnull(strstr(R.c[0]->bytes[SNIFF_FROM_SERVER], REPLY));
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_EOF);
	ck_assert_uint_eq(st.evicted_idle, 1001);
	ck_assert_uint_eq(st.evicted_busy, 0);
	ck_assert_uint_eq(st.evictions, 1001);
	ck_assert_int_eq(R.closes[SNIFF_CLOSE_EVICTED], 1001);
	for (i = 1; i <= 1001; i++)	/* the longest idle went first */
		ck_assert_int_eq(R.c[i]->how, SNIFF_CLOSE_EVICTED);
	ck_assert_uint_eq(R.last.conns_open, 1000);
	ck_assert(logged("evicting the longest idle"));
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Eviction order, as data: four slots, connections 0..7.             */

/*
 * Steps "On" open connection n (full handshake), "Bn" its client sends
 * a line (busy), "In" its server replies (idle), "Tn" a pure ACK from
 * its server (activity, nothing else).
 */
struct evict_case {
	const char	*name;
	const char	*steps[16];
	const char	*evicted;	/* connections, in the order closed */
	int		 idle, busy;
};

static const struct evict_case evicts[] = {
	{ "the oldest when all idle", { "O0", "O1", "O2", "O3", "O4", "O5" },
	    "01", 2, 0 },
	{ "the longest idle, not the oldest", { "O0", "O1", "O2", "O3", "T0",
	    "T1", "O4", "O5" }, "23", 2, 0 },
	{ "busy ones last", { "O0", "O1", "O2", "O3", "B0", "B2", "O4", "O5",
	    "O6" }, "134", 3, 0 },
	{ "all busy: the longest idle busy one", { "O0", "O1", "O2", "O3",
	    "B1", "B0", "B2", "B3", "O4" }, "1", 0, 1 },
	{ "replied: idle again", { "O0", "O1", "O2", "O3", "B0", "I0", "B1",
	    "O4", "O5", "O6" }, "230", 3, 0 },
};
#define NEVICTS	(int)(sizeof(evicts) / sizeof(evicts[0]))

START_TEST(test_evict_order)
{
	const struct evict_case *ec = &evicts[_i];
	struct conv v[8];
	struct sniff_config cfg;
	struct sniff_stats st;
	wb_usec t = T0;
	char err[512], got[16];
	int i, k, n = 0, j;

	for (i = 0; i < 8; i++) {
		conv_init(&v[i], PCAPW_ETH, false);
		if (i > 0)
			conv_join(&v[i], &v[0]);
		v[i].cport = (uint16_t)(41000 + i);
	}
	for (i = 0; i < 16 && ec->steps[i] != NULL; i++) {
		k = ec->steps[i][1] - '0';
		v[k].t = t + WB_USEC_PER_SEC;	/* a second apart */
		switch (ec->steps[i][0]) {
		case 'O':
			handshake(&v[k]);
			break;
		case 'B':
			say(&v[k], true, "RCPT TO:<x@y>\r\n");
			break;
		case 'I':
			say(&v[k], false, "250 ok\r\n");
			break;
		case 'T':
			seg(&v[k], false, F_ACK, NULL);
			break;
		}
		t = v[k].t;
	}
	cap_close(&v[0].cap);
	small_defaults(&cfg);
	cfg.max_streams = 4;
	R.hook = smtpish;
	ck_assert_int_eq(run(v[0].cap.path, &cfg, &st, err, sizeof(err)), 0);
	R.hook = NULL;
	/* In the order closed: close_ts then, for EOF, the open order. */
	for (j = 0; j < 8; j++)
		for (i = 0; i < R.n; i++)
			if (R.c[i]->how == SNIFF_CLOSE_EVICTED &&
			    R.c[i]->cport == 41000 + j)
				got[n++] = (char)('0' + j);
	got[n] = '\0';
	for (i = 0; i < n; i++)		/* sort by close time */
		for (j = i + 1; j < n; j++)
			if (rec_by_cport((uint16_t)(41000 + got[j] - '0'))->
			    close_ts < rec_by_cport((uint16_t)(41000 + got[i] -
			    '0'))->close_ts) {
				char c = got[i];

				got[i] = got[j];
				got[j] = c;
			}
	ck_assert_msg(strcmp(got, ec->evicted) == 0, "%s: evicted %s, want %s",
	    ec->name, got, ec->evicted);
	ck_assert_uint_eq(st.evicted_idle, (unsigned)ec->idle);
	ck_assert_uint_eq(st.evicted_busy, (unsigned)ec->busy);
	unlink(v[0].cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* The gate's rules, as data.                                         */

/*
 * Steps on one conversation: S client SYN; s a client SYN with a new
 * ISN; A the server's SYN-ACK; a a SYN-ACK acknowledging the ISN before
 * the new one; K the client's ACK; k an ACK one off in ack; q one before
 * in seq (the ISN itself); D the client's "EHLO x" (completing, as the
 * first data); L its second line, "QUIT", the first one lost; R the
 * server's RST to the SYN; "W:n" wait n seconds; "C:text" / "S:text".
 */
struct gate_case {
	const char	*name;
	const char	*steps[12];
	int		 max_handshakes;	/* 0: 1024 */
	int		 nconns;
	const char	*client;	/* connection 0's client bytes */
	int		 timeouts, overflow, pending;
};

static const struct gate_case gates[] = {
	{ "a plain handshake", { "S", "A", "K", "C:EHLO x\r\n" }, 0, 1,
	    "EHLO x\r\n", 0, 0, 0 },
	{ "the ACK 11 s late", { "S", "A", "W:11", "K", "C:EHLO x\r\n" }, 0,
	    0, NULL, 1, 0, 0 },
	{ "the ACK 9 s late", { "S", "A", "W:9", "K", "C:EHLO x\r\n" }, 0, 1,
	    "EHLO x\r\n", 0, 0, 0 },
	{ "a repeated SYN-ACK renews it", { "S", "A", "W:8", "A", "W:8", "K",
	    "C:EHLO x\r\n" }, 0, 1, "EHLO x\r\n", 0, 0, 0 },
	{ "a repeated SYN", { "S", "S", "A", "K", "C:EHLO x\r\n" }, 0, 1,
	    "EHLO x\r\n", 0, 0, 0 },
	{ "a SYN with a new ISN starts over", { "S", "s", "A", "K",
	    "C:EHLO x\r\n" }, 0, 1, "EHLO x\r\n", 0, 0, 0 },
	{ "a SYN-ACK to the old ISN is not kept", { "S", "s", "a", "K",
	    "C:EHLO x\r\n" }, 0, 0, NULL, 0, 0, 1 },
	{ "an ACK one off in ack", { "S", "A", "k" }, 0, 0, NULL, 0, 0, 1 },
	{ "an ACK before the client's ISN + 1", { "S", "A", "q" }, 0, 0, NULL,
	    0, 0, 1 },
	{ "the ACK and the first data lost", { "S", "A", "L" }, 0, 1, "", 0,
	    0, 0 },
	{ "a wrong ACK, then the right one", { "S", "A", "k", "K",
	    "C:EHLO x\r\n" }, 0, 1, "EHLO x\r\n", 0, 0, 0 },
	{ "no SYN-ACK seen", { "S", "K", "C:EHLO x\r\n" }, 0, 0, NULL, 0, 0,
	    1 },
	{ "the first data completes it", { "S", "A", "D", "S:250 hi\r\n" }, 0,
	    1, "EHLO x\r\n", 0, 0, 0 },
	{ "refused by the server", { "S", "R" }, 0, 0, NULL, 0, 0, 0 },
	{ "full: the oldest pending one goes", { "S", "A", "P", "S", "A", "P",
	    "S", "A", "K", "O", "K" }, 2, 1, "", 0, 1, 1 },
};
#define NGATES	(int)(sizeof(gates) / sizeof(gates[0]))

/* One segment with these numbers exactly. */
static void
pkt(struct conv *v, bool from_client, uint8_t flags, uint32_t seq,
    uint32_t ack, const char *text)
{
	static uint8_t ip[FRAME_MAX];
	size_t n;

	n = conv_packet(v, ip, from_client, flags, seq, ack, text,
	    text != NULL ? strlen(text) : 0);
	conv_frame(v, ip, n);
}

/* P: the next port, a handshake of its own; O: back to the first. */
static void
gate_play(struct conv *v, const char *const *st)
{
	uint32_t isn = v->cseq, sisn = v->sseq, isn0 = isn, sisn0 = sisn;
	uint16_t port0 = v->cport;

	for (; *st != NULL; st++) {
		switch ((*st)[0]) {
		case 'S':
			if ((*st)[1] == ':')
				say(v, false, *st + 2);
			else
				pkt(v, true, F_SYN, isn, 0, NULL);
			continue;
		case 's':
			isn += 1000;
			pkt(v, true, F_SYN, isn, 0, NULL);
			continue;
		case 'A':
			pkt(v, false, F_SYN | F_ACK, sisn, isn + 1, NULL);
			continue;
		case 'a':
			pkt(v, false, F_SYN | F_ACK, sisn, isn - 1000 + 1, NULL);
			continue;
		case 'K':
			pkt(v, true, F_ACK, isn + 1, sisn + 1, NULL);
			break;
		case 'k':
			pkt(v, true, F_ACK, isn + 1, sisn + 2, NULL);
			break;
		case 'q':
			pkt(v, true, F_ACK, isn, sisn + 1, NULL);
			break;
		case 'L':	/* after "EHLO x\r\n", 8 bytes, never seen */
			pkt(v, true, F_ACK | F_PSH, isn + 9, sisn + 1,
			    "QUIT\r\n");
			continue;
		case 'D':
			pkt(v, true, F_ACK | F_PSH, isn + 1, sisn + 1,
			    "EHLO x\r\n");
			v->cseq = isn + 1 + 8;
			v->sseq = sisn + 1;
			continue;
		case 'R':
			pkt(v, false, F_RST | F_ACK, 0, isn + 1, NULL);
			continue;
		case 'W':
			v->t += strtol(*st + 2, NULL, 10) * WB_USEC_PER_SEC;
			continue;
		case 'C':
			say(v, true, *st + 2);
			continue;
		case 'P':
			v->cport++;
			isn += 100000;
			sisn += 100000;
			continue;
		case 'O':
			v->cport = port0;
			isn = isn0;
			sisn = sisn0;
			continue;
		default:
			ck_abort_msg("step %s", *st);
		}
		v->cseq = isn + 1;	/* after an ACK: talk on from there */
		v->sseq = sisn + 1;
	}
}

START_TEST(test_gate_rules)
{
	const struct gate_case *gc = &gates[_i / 2];
	int af = _i % 2 ? 6 : 4;
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];

	conv_af(&v, af, PCAPW_ETH);
	gate_play(&v, gc->steps);
	cap_close(&v.cap);
	small_defaults(&cfg);
	if (gc->max_handshakes > 0)
		cfg.max_handshakes = gc->max_handshakes;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_msg(R.n == gc->nconns, "%s (IPv%d): %d connections",
	    gc->name, af, R.n);
	if (gc->client != NULL)
		ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_CLIENT], gc->client);
	ck_assert_uint_eq(st.hs_timeouts, (unsigned)gc->timeouts);
	ck_assert_uint_eq(st.hs_overflow, (unsigned)gc->overflow);
	ck_assert_uint_eq(R.last.hs_pending, (unsigned)gc->pending);
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* What libnids is told: window scale and timestamps, intact.         */

/*
 * The client says window 16 scaled by 128 (2048 bytes): the server's
 * second 1000-byte segment starts past 16, within 2048. libnids keeps
 * it only if it saw the scale in the stored SYN and SYN-ACK.
 */
START_TEST(test_window_scale)
{
	static const uint8_t ws[4] = { 1, 3, 3, 7 };	/* NOP, wscale 7 */
	static char kb[1001];
	struct sniff_stats st;
	struct conv v;

	memset(kb, 'k', 1000);
	conv_af(&v, _i == 0 ? 4 : 6, PCAPW_ETH);
	v.opts[0] = v.opts[1] = ws;
	v.optlen[0] = v.optlen[1] = 4;
	v.win[0] = 16;
	handshake(&v);
	say(&v, false, kb);
	say(&v, false, kb);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_uint_eq(R.c[0]->len[SNIFF_FROM_SERVER], 2000);
	unlink(v.cap.path);
}
END_TEST

/*
 * Timestamps on every segment: one from the server older than its
 * SYN-ACK's is dropped by libnids' PAWS check, which it only makes when
 * the stored SYN and SYN-ACK both carried the option.
 */
START_TEST(test_timestamps)
{
	uint8_t tc[12] = { 1, 1, 8, 10 }, ts[12] = { 1, 1, 8, 10 };
	struct sniff_stats st;
	struct conv v;

	conv_af(&v, _i == 0 ? 4 : 6, PCAPW_ETH);
	v.opts[0] = tc;
	v.opts[1] = ts;
	v.optlen[0] = v.optlen[1] = 12;
	v.opts_all = true;
	pcapw_put32(tc + 4, 100);
	pcapw_put32(ts + 4, 5000);
	seg(&v, true, F_SYN, NULL);
	pcapw_put32(ts + 8, 100);
	seg(&v, false, F_SYN | F_ACK, NULL);
	pcapw_put32(tc + 4, 101);
	pcapw_put32(tc + 8, 5000);
	seg(&v, true, F_ACK, NULL);
	pcapw_put32(ts + 4, 4000);		/* older: PAWS drops it */
	seg_at(&v, false, F_ACK | F_PSH, v.sseq, "old\r\n", 5);
	pcapw_put32(ts + 4, 5001);
	say(&v, false, "220 new\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_SERVER], "220 new\r\n");
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */

static Suite *
gate_suite(void)
{
	Suite *s = suite_create("sniffer_gate");
	TCase *tc;

	tc = tcase_create("attack");
	tcase_add_loop_test(tc, test_spoofed_flood, 0, NFLOODS);
	tcase_add_loop_test(tc, test_full_handshakes, 0, 2);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("eviction");
	tcase_add_loop_test(tc, test_evict_order, 0, NEVICTS);
	suite_add_tcase(s, tc);

	tc = tcase_create("gate");
	tcase_add_loop_test(tc, test_gate_rules, 0, 2 * NGATES);
	tcase_add_loop_test(tc, test_window_scale, 0, 2);
	tcase_add_loop_test(tc, test_timestamps, 0, 2);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(gate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
