/*
 * check_sniffer_conn.c - which connections are followed (ports, servers,
 * orientation), how they end (FIN, RST, idle timeout, end of file, a new
 * handshake replacing them), and reassembly; IPv4 and IPv6 alike.
 *
 * The timeout and close cases are data: a conversation written as steps,
 * and what must come out of it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sniffrec.h"

static void
conv_af(struct conv *v, int af, enum pcapw_link k, bool ng)
{
	if (af == 4)
		conv_init(v, k, ng);
	else
		conv_init6(v, k, ng);
}

/* ---------------------------------------------------------------- */
/* Ports, servers, who is the server.                                 */

struct port_case {
	const char	*name;
	uint16_t	 cport, sport;	/* of the conversation */
	uint16_t	 ports[3];	/* config; 0-terminated, none: defaults */
	const char	*server;	/* config servers, or NULL */
	int		 af;
	int		 conns;
};

static const struct port_case portcases[] = {
	{ "25, defaults", 40000, 25, { 0 }, NULL, 4, 1 },
	{ "465, defaults", 40000, 465, { 0 }, NULL, 4, 1 },
	{ "587, defaults", 40000, 587, { 0 }, NULL, 4, 1 },
	{ "8025, defaults", 40000, 8025, { 0 }, NULL, 4, 0 },
	{ "8025, ports 8025", 40000, 8025, { 8025 }, NULL, 4, 1 },
	{ "25, ports 8025 2525", 40000, 25, { 8025, 2525 }, NULL, 4, 0 },
	{ "client port 25 to server port 40000", 25, 40000, { 0 }, NULL, 4,
	    0 },
	{ "server listed", 40000, 25, { 0 }, "10.0.0.2", 4, 1 },
	{ "server not listed", 40000, 25, { 0 }, "10.0.0.9", 4, 0 },
	{ "client listed as server", 40000, 25, { 0 }, "10.0.0.1", 4, 0 },
	{ "v6 8025, defaults", 40000, 8025, { 0 }, NULL, 6, 0 },
	{ "v6 client port 25", 25, 40000, { 0 }, NULL, 6, 0 },
	{ "v6 server listed", 40000, 25, { 0 }, "2001:db8::2", 6, 1 },
	{ "v6 server not listed", 40000, 25, { 0 }, "2001:db8::9", 6, 0 },
	{ "v6, the v4 server listed", 40000, 25, { 0 }, "10.0.0.2", 6, 0 },
};
#define NPORTCASES	(int)(sizeof(portcases) / sizeof(portcases[0]))

START_TEST(test_ports)
{
	const struct port_case *pc = &portcases[_i];
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];
	size_t i;

	conv_af(&v, pc->af, PCAPW_ETH, false);
	v.cport = pc->cport;
	v.sport = pc->sport;
	handshake(&v);
	dialog(&v);
	fin_close(&v);
	cap_close(&v.cap);

	small_defaults(&cfg);
	if (pc->ports[0] != 0) {
		for (i = 0; i < 3 && pc->ports[i] != 0; i++)
			cfg.ports[i] = pc->ports[i];
		cfg.nports = i;
	}
	if (pc->server != NULL) {
		ck_assert_int_eq(wb_addr_parse(&cfg.servers[0], pc->server), 0);
		cfg.nservers = 1;
	}
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_msg(R.n == pc->conns, "%s: %d connections", pc->name, R.n);
	if (pc->conns == 1) {
		ck_assert_uint_eq(R.c[0]->sport, pc->sport);
		ck_assert_uint_eq(R.c[0]->cport, pc->cport);
		ck_assert_str_eq(R.c[0]->tr, transcript());
	}
	if (pc->conns == 0 && pc->cport != 25 && pc->server == NULL)
		ck_assert_uint_eq(st.skipped, v.npkts);	/* not even libnids */
	unlink(v.cap.path);
}
END_TEST

/* The SYN's destination is the server, even when it speaks first. */
START_TEST(test_orientation)
{
	struct sniff_stats st;
	struct conv v;

	conv_init(&v, PCAPW_ETH, false);
	memcpy(v.cip, "\xc0\x00\x02\x07", 4);
	memcpy(v.sip, "\xc6\x33\x64\x01", 4);
	v.cport = 587;		/* a client port that is also watched */
	v.sport = 25;
	handshake(&v);
	dialog(&v);
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->client, "192.0.2.7");
	ck_assert_str_eq(R.c[0]->server, "198.51.100.1");
	ck_assert_uint_eq(R.c[0]->cport, 587);
	ck_assert_uint_eq(R.c[0]->sport, 25);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_SERVER], side_bytes('S'));
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* How connections end: timeouts and closes, as data.                 */

/*
 * Steps, one string each: H handshake, "C:text" / "S:text" the client /
 * server says text, A a pure ACK from the server, "W:n" wait n minutes,
 * F FIN both ways, R the server resets, N new ISNs on both sides, Y a
 * client SYN with a new ISN (kept), Z a client SYN with another ISN (the
 * conversation goes on with the old), P the next client port.
 */

struct end_case {
	const char	*name;
	const char	*steps[14];
	wb_usec		 idle;		/* 0: the default */
	int		 nconns;
	struct {
		enum sniff_close how;
		const char	*client;	/* its bytes */
	}		 c[2];
	int		 timeouts, replaced;
	bool		 at_last;	/* closed at the last packet's time */
};

static const struct end_case ends[] = {
	{ "idle 11 min: timed out at the next packet",
	    { "H", "S:220 hello\r\n", "C:EHLO x\r\n",
	    "W:11", "C:QUIT\r\n" }, 0, 1,
	    { { SNIFF_CLOSE_TIMEOUT, "EHLO x\r\n" } }, 1, 0, true },
	{ "idle 9 min: still open",
	    { "H", "C:EHLO x\r\n", "W:9",
	    "C:QUIT\r\n" }, 0, 1,
	    { { SNIFF_CLOSE_EOF, "EHLO x\r\nQUIT\r\n" } }, 0, 0, false },
	{ "pure ACKs every 5 min keep it open",
	    { "H", "C:EHLO x\r\n", "W:5", "A",
	    "W:5", "A", "W:5", "A",
	    "W:5", "A", "C:QUIT\r\n" }, 0, 1,
	    { { SNIFF_CLOSE_EOF, "EHLO x\r\nQUIT\r\n" } }, 0, 0, false },
	{ "timed out, then the same ports again",
	    { "H", "C:EHLO one\r\n", "W:11", "N",
	    "H", "C:EHLO two\r\n", "F" }, 0, 2,
	    { { SNIFF_CLOSE_TIMEOUT, "EHLO one\r\n" },
	    { SNIFF_CLOSE_FIN, "EHLO two\r\n" } }, 1, 0, false },
	/* libnids' own flow timeout must never fire first: a SYN 2 h in
	 * changes nothing, 3 h after it ours closed the first one. */
	{ "idle 180 min: a lone SYN 2 h in, a handshake 5 h in",
	    { "H", "C:EHLO one\r\n", "W:120", "Y",
	    "W:181", "N", "H", "C:EHLO two\r\n" },
	    180 * MINUTE, 2,
	    { { SNIFF_CLOSE_TIMEOUT, "EHLO one\r\n" },
	    { SNIFF_CLOSE_EOF, "EHLO two\r\n" } }, 1, 0, false },
	{ "server resets",
	    { "H", "S:220 hello\r\n", "C:EHLO x\r\n",
	    "R" }, 0, 1, { { SNIFF_CLOSE_RST, "EHLO x\r\n" } }, 0, 0,
	    false },
	{ "two open at the end of the file",
	    { "H", "C:EHLO one\r\n", "P", "H",
	    "C:EHLO two\r\n" }, 0, 2,
	    { { SNIFF_CLOSE_EOF, "EHLO one\r\n" },
	    { SNIFF_CLOSE_EOF, "EHLO two\r\n" } }, 0, 0, true },
	{ "a new handshake on the same ports replaces it",
	    { "H", "C:EHLO one\r\n", "N", "H",
	    "C:EHLO two\r\n", "F" }, 0, 2,
	    { { SNIFF_CLOSE_REPLACED, "EHLO one\r\n" },
	    { SNIFF_CLOSE_FIN, "EHLO two\r\n" } }, 0, 1, false },
	{ "a SYN on its ports that nobody answers changes nothing",
	    { "H", "C:EHLO one\r\n", "Z", "S:250 hi\r\n",
	    "C:QUIT\r\n", "F" }, 0, 1,
	    { { SNIFF_CLOSE_FIN, "EHLO one\r\nQUIT\r\n" } }, 0, 0, false },
};
#define NENDS	(int)(sizeof(ends) / sizeof(ends[0]))

static void
play(struct conv *v, const char *const *st)
{
	uint32_t keep;

	for (; *st != NULL; st++)
		switch ((*st)[0]) {
		case 'H':
			handshake(v);
			break;
		case 'C':
		case 'S':
			say(v, (*st)[0] == 'C', *st + 2);
			break;
		case 'A':
			seg(v, false, F_ACK, NULL);
			break;
		case 'W':
			v->t += strtol(*st + 2, NULL, 10) * MINUTE;
			break;
		case 'F':
			fin_close(v);
			break;
		case 'R':
			seg(v, false, F_RST | F_ACK, NULL);
			break;
		case 'N':
			v->cseq += 77777;
			v->sseq += 99999;
			break;
		case 'Y':
			v->cseq += 77777;
			seg(v, true, F_SYN, NULL);
			break;
		case 'Z':
			keep = v->cseq;
			v->cseq += 55555;
			seg(v, true, F_SYN, NULL);
			v->cseq = keep;
			break;
		case 'P':
			v->cport++;
			break;
		default:
			ck_abort_msg("step %s", *st);
		}
}

START_TEST(test_ends)
{
	const struct end_case *ec = &ends[_i / 2];
	int af = _i % 2 ? 6 : 4, i;
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];

	conv_af(&v, af, PCAPW_ETH, false);
	play(&v, ec->steps);
	cap_close(&v.cap);
	small_defaults(&cfg);
	if (ec->idle != 0)
		cfg.idle_timeout = ec->idle;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_msg(R.n == ec->nconns, "%s (IPv%d): %d connections",
	    ec->name, af, R.n);
	for (i = 0; i < R.n; i++) {
		ck_assert_msg(R.c[i]->how == ec->c[i].how, "%s (IPv%d): "
		    "connection %d closed %s", ec->name, af, i,
		    sniff_close_str(R.c[i]->how));
		ck_assert_str_eq(R.c[i]->bytes[SNIFF_FROM_CLIENT],
		    ec->c[i].client);
		if (i > 0)
			ck_assert_uint_gt(R.c[i]->id, R.c[i - 1]->id);
	}
	ck_assert_uint_eq(st.timeouts, (unsigned)ec->timeouts);
	ck_assert_uint_eq(st.replaced, (unsigned)ec->replaced);
	ck_assert_uint_eq(st.evictions, 0);
	if (ec->at_last)
		ck_assert_int_eq(R.c[0]->close_ts, v.t - 1000);
	unlink(v.cap.path);
}
END_TEST

/* sniff_expire() when no packets come; an idle_timeout of 0 never. */
START_TEST(test_expire_call)
{
	struct sniff_config cfg;
	struct sniff *s;
	struct conv v;
	char err[512];

	conv_af(&v, _i == 0 ? 4 : 6, PCAPW_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO x\r\n");
	cap_close(&v.cap);

	small_defaults(&cfg);
	rec_reset();
	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sniff_dispatch(s, 4, err, sizeof(err)), 4);
	ck_assert_int_eq(R.n, 1);
	sniff_expire(s, v.t + 9 * MINUTE);
	ck_assert_int_eq(R.nclosed, 0);
	sniff_expire(s, v.t + 10 * MINUTE);
	ck_assert_int_eq(R.nclosed, 1);
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_TIMEOUT);
	ck_assert_int_eq(sniff_dispatch(s, -1, err, sizeof(err)), 0);
	sniff_close(s);

	cfg.idle_timeout = 0;
	rec_reset();
	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sniff_dispatch(s, 4, err, sizeof(err)), 4);
	sniff_expire(s, v.t + 1000 * MINUTE);
	ck_assert_int_eq(R.nclosed, 0);
	sniff_close(s);
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_EOF);
	unlink(v.cap.path);
}
END_TEST

/* libnids is reset between captures: the same file, the same result. */
START_TEST(test_second_file)
{
	struct sniff_stats st;
	struct conv v;
	uint64_t last;

	conv_af(&v, _i == 0 ? 4 : 6, PCAPW_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO one\r\n");
	v.cport++;
	handshake(&v);
	say(&v, true, "EHLO two\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 2);
	last = R.c[1]->id;
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 2);
	ck_assert_uint_gt(R.c[0]->id, last);
	ck_assert_str_eq(R.c[1]->bytes[SNIFF_FROM_CLIENT], "EHLO two\r\n");
	ck_assert_int_eq(R.c[1]->how, SNIFF_CLOSE_EOF);
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Reassembly: out of order, duplicated, overlapping.                 */

START_TEST(test_reorder)
{
	static const char cmd[] = "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@x>\r\n";
	struct sniff_stats st;
	struct conv v;
	uint32_t s0;

	conv_af(&v, _i == 0 ? 4 : 6, PCAPW_VLAN, true);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	s0 = v.cseq;
	seg_at(&v, true, F_ACK | F_PSH, s0 + 20, cmd + 20, strlen(cmd) - 20);
	seg_at(&v, true, F_ACK | F_PSH, s0 + 10, cmd + 10, 15);
	seg_at(&v, true, F_ACK | F_PSH, s0 + 10, cmd + 10, 15);	/* dup */
	seg_at(&v, true, F_ACK | F_PSH, s0, cmd, 12);
	seg_at(&v, true, F_ACK | F_PSH, s0, cmd, 3);		/* old */
	v.cseq = s0 + (uint32_t)strlen(cmd);
	say(&v, false, "250 ok\r\n250 ok\r\n");
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_CLIENT], cmd);
	ck_assert_str_eq(R.c[0]->tr,
	    "S>220 hello\r\nC>MAIL FROM:<a@example.org>\r\nRCPT TO:<b@x>\r\n"
	    "S>250 ok\r\n250 ok\r\n");
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_FIN);
	unlink(v.cap.path);
}
END_TEST

/* A big reply in many segments, and 1-byte segments. */
START_TEST(test_many_segments)
{
	static char big[12000];
	struct sniff_stats st;
	struct conv v;
	size_t i;
	char one[2] = { 0, 0 };

	for (i = 0; i + 1 < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	conv_af(&v, _i == 0 ? 4 : 6, PCAPW_SLL2, false);
	handshake(&v);
	for (i = 0; i + 1 < sizeof(big); i += 1400) {
		char part[1401];
		size_t n = sizeof(big) - 1 - i < 1400 ? sizeof(big) - 1 - i :
		    1400;

		memcpy(part, big + i, n);
		part[n] = '\0';
		say(&v, false, part);
	}
	for (i = 0; i < 6; i++) {
		one[0] = "QUIT\r\n"[i];
		say(&v, true, one);
	}
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_SERVER], big);
	ck_assert_str_eq(R.c[0]->bytes[SNIFF_FROM_CLIENT], "QUIT\r\n");
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */

static Suite *
conn_suite(void)
{
	Suite *s = suite_create("sniffer_conn");
	TCase *tc;

	tc = tcase_create("ports");
	tcase_add_loop_test(tc, test_ports, 0, NPORTCASES);
	tcase_add_test(tc, test_orientation);
	suite_add_tcase(s, tc);

	tc = tcase_create("ends");
	tcase_add_loop_test(tc, test_ends, 0, 2 * NENDS);
	tcase_add_loop_test(tc, test_expire_call, 0, 2);
	tcase_add_loop_test(tc, test_second_file, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("reassembly");
	tcase_add_loop_test(tc, test_reorder, 0, 2);
	tcase_add_loop_test(tc, test_many_segments, 0, 2);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
