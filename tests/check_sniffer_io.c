/*
 * check_sniffer_io.c - what the sniffer does with what it cannot read
 * (missing, corrupt, cut and huge files, bad configurations, a second
 * sniffer), and resetting connections: -1 on a capture file, real RSTs
 * on a live loopback capture, IPv4 and IPv6 (root only).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"
#include "sniffrec.h"

/* ---------------------------------------------------------------- */
/* Errors: files that cannot be read, config, one sniffer at a time.  */

START_TEST(test_error_missing)
{
	struct sniff_config cfg;
	char err[512] = "";

	small_defaults(&cfg);
	rec_reset();
	ck_assert_ptr_null(sniff_open_file(&cfg, "/nonexistent/x.pcap", &H,
	    err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.pcap"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

static void
write_bytes(struct cap *c, const void *d, size_t n)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "/tmp/check_sniffer_XXXXXX");
	fd = mkstemp(c->path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, d, n), (ssize_t)n);
	close(fd);
}

START_TEST(test_error_not_pcap)
{
	static const char junk[] = "From: not a capture\r\n\r\nhello\r\n";
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	struct sniff_config cfg;
	char err[512];
	struct cap c;

	small_defaults(&cfg);
	rec_reset();
	write_bytes(&c, junk, sizeof(junk));
	ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, c.path));
	unlink(c.path);
	write_bytes(&c, gz, sizeof(gz));
	ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, c.path));
	ck_assert_ptr_nonnull(strstr(err, "gzip"));
	unlink(c.path);
	write_bytes(&c, "", 0);
	ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, c.path));
	unlink(c.path);
}
END_TEST

/* Cut in the middle of a record: what came before is handled, then -1. */
START_TEST(test_error_corrupt)
{
	struct sniff_config cfg;
	struct sniff *s;
	struct conv v;
	char err[512];
	long cutat;
	int n;

	conv_init(&v, PCAPW_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	say(&v, true, "EHLO x\r\n");
	fflush(v.cap.f);
	cutat = ftell(v.cap.f);
	say(&v, false, "250 this reply is cut in the file\r\n");
	cap_close(&v.cap);
	ck_assert_int_eq(truncate(v.cap.path, cutat + 30), 0);

	small_defaults(&cfg);
	rec_reset();
	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	n = sniff_dispatch(s, -1, err, sizeof(err));
	ck_assert_int_eq(n, -1);
	ck_assert_msg(strncmp(err, v.cap.path, strlen(v.cap.path)) == 0 &&
	    strstr(err, "truncated") != NULL, "err: %s", err);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0]->tr, "S>220 hello\r\nC>EHLO x\r\n");
	err[0] = '\0';
	ck_assert_int_eq(sniff_dispatch(s, -1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, v.cap.path));
	sniff_close(s);
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_EOF);
	unlink(v.cap.path);
}
END_TEST

/* A record claiming 4 GB. */
START_TEST(test_error_huge_record)
{
	struct sniff_stats st;
	struct conv v;
	char err[512];
	uint8_t rec[16] = { 0 };

	conv_init(&v, PCAPW_ETH, false);
	handshake(&v);
	memset(rec + 8, 0xff, 8);
	fwrite(rec, 1, sizeof(rec), v.cap.f);
	cap_close(&v.cap);
	{
		struct sniff_config cfg;

		small_defaults(&cfg);
		ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)),
		    -1);
	}
	ck_assert_ptr_nonnull(strstr(err, v.cap.path));
	ck_assert_uint_eq(st.packets, 3);
	unlink(v.cap.path);
}
END_TEST

START_TEST(test_error_config_and_busy)
{
	struct sniff_config cfg, bad;
	struct sniff *s;
	struct conv v;
	char err[512];

	write_standard(&v, PCAPW_ETH, false);
	small_defaults(&cfg);
	rec_reset();

	bad = cfg;
	bad.nports = 0;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "ports"));
	bad = cfg;
	bad.max_streams = 0;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));
	bad = cfg;
	bad.idle_timeout = -1;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));
	bad = cfg;
	bad.max_handshakes = 0;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "max_handshakes"));
	bad = cfg;
	bad.handshake_timeout = 0;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "handshake_timeout"));

	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(sniff_open_file(&cfg, v.cap.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "another capture"));
	ck_assert_int_eq(sniff_fd(s), -1);
	sniff_close(s);
	sniff_close(NULL);
	unlink(v.cap.path);

	/* 802.11 */
	{
		struct cap c;

		cap_open(&c, 105, false);
		cap_close(&c);
		ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
		    sizeof(err)));
		ck_assert_ptr_nonnull(strstr(err, "not supported"));
		ck_assert_ptr_nonnull(strstr(err, c.path));
		unlink(c.path);
	}
	/* an empty file */
	s = sniff_open_file(&cfg, "/dev/null", &H, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "/dev/null"));
}
END_TEST

/* In a capture file there is nothing to reset: -1, nothing sent. */
START_TEST(test_kill_file)
{
	struct sniff_stats st;
	struct conv v;

	if (_i == 0)
		write_standard(&v, PCAPW_ETH, false);
	else
		write_standard6(&v, PCAPW_ETH, false);
	R.kill_on_data = true;
	R.kill_rc = 0;
	run_default(v.cap.path, &st);
	R.kill_on_data = false;
	ck_assert_int_eq(R.kill_rc, -1);
	ck_assert_str_eq(R.c[0]->tr, transcript());
	unlink(v.cap.path);
}
END_TEST

START_TEST(test_close_str_and_log)
{
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_FIN), "fin");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_RST), "rst");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_TIMEOUT), "timeout");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_EOF), "eof");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_EVICTED), "evicted");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_REPLACED), "replaced");
	sniff_set_log(NULL);	/* back to stderr: must not crash */
}
END_TEST

/* ---------------------------------------------------------------- */
/* The live filter: what it lets through, compiled as for a device.   */

enum fkind { FK_V4_25, FK_V4_80, FK_V4_FRAG, FK_V4_UDP, FK_V6_25, FK_V6_80,
	FK_V6_FRAG, FK_V6_HBH, FK_V6_DST, FK_V6_AH, FK_V6_ESP, FK_V6_UDP };

static const struct filter_case {
	const char	*name;
	enum pcapw_link	 link;
	enum fkind	 kind;
	bool		 pass;
} fcases[] = {
	{ "IPv4 TCP 25", PCAPW_ETH, FK_V4_25, true },
	{ "IPv4 TCP 80", PCAPW_ETH, FK_V4_80, false },
	{ "IPv4 later fragment", PCAPW_ETH, FK_V4_FRAG, true },
	{ "IPv4 UDP", PCAPW_ETH, FK_V4_UDP, false },
	{ "IPv6 TCP 25", PCAPW_ETH, FK_V6_25, true },
	{ "IPv6 TCP 80", PCAPW_ETH, FK_V6_80, false },
	{ "IPv6 later fragment", PCAPW_ETH, FK_V6_FRAG, true },
	{ "IPv6 hop-by-hop, TCP", PCAPW_ETH, FK_V6_HBH, true },
	{ "IPv6 dest opts, TCP", PCAPW_ETH, FK_V6_DST, true },
	{ "IPv6 AH", PCAPW_ETH, FK_V6_AH, true },
	{ "IPv6 ESP", PCAPW_ETH, FK_V6_ESP, false },
	{ "IPv6 UDP", PCAPW_ETH, FK_V6_UDP, false },
	{ "802.1Q IPv6 later fragment", PCAPW_VLAN, FK_V6_FRAG, true },
	{ "QinQ IPv6 TCP 25", PCAPW_QINQ, FK_V6_25, true },
	{ "QinQ IPv6 TCP 80", PCAPW_QINQ, FK_V6_80, false },
	{ "QinQ IPv4 later fragment", PCAPW_QINQ, FK_V4_FRAG, true },
	{ "SLL2 IPv6 later fragment", PCAPW_SLL2, FK_V6_FRAG, true },
	{ "SLL2 IPv6 TCP 25", PCAPW_SLL2, FK_V6_25, true },
	{ "SLL2 IPv6 UDP", PCAPW_SLL2, FK_V6_UDP, false },
	{ "raw IPv6 hop-by-hop, TCP", PCAPW_RAW12, FK_V6_HBH, true },
};
#define NFCASES	(int)(sizeof(fcases) / sizeof(fcases[0]))

static size_t
filter_packet(enum fkind k, uint8_t *ip)
{
	static const uint8_t a4[4] = { 10, 0, 0, 1 }, b4[4] = { 10, 0, 0, 2 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	struct pcapw_tcp t = { .sport = 40000, .dport = 25, .seq = 1,
	    .flags = F_SYN };
	uint8_t seg[64];
	size_t n;

	if (k == FK_V4_80 || k == FK_V6_80)
		t.dport = 80;
	switch (k) {
	case FK_V4_25:
	case FK_V4_80:
	case FK_V4_FRAG:
	case FK_V4_UDP:
		n = pcapw_ip4_tcp(ip, a4, b4, &t);
		if (k == FK_V4_FRAG)
			pcapw_put16(ip + 6, 3);		/* offset 24, no ports */
		if (k == FK_V4_UDP)
			ip[9] = 17;
		return n;
	case FK_V6_FRAG:
		n = pcapw_tcp6(seg, a6, b6, &t);
		return pcapw_ip6_frag(ip, a6, b6, 6, 1, seg, 8, n - 8, false);
	case FK_V6_HBH:
	case FK_V6_DST:
	case FK_V6_AH:
		n = pcapw_tcp6(seg + 8, a6, b6, &t);
		memset(seg, 0, 8);
		seg[0] = 6;
		return pcapw_ip6(ip, a6, b6, k == FK_V6_HBH ? 0 : k == FK_V6_DST ?
		    60 : 51, seg, n + 8);
	default:
		n = pcapw_ip6_tcp(ip, a6, b6, &t);
		if (k == FK_V6_ESP)
			ip[6] = 50;
		if (k == FK_V6_UDP)
			ip[6] = 17;
		return n;
	}
}

START_TEST(test_live_filter)
{
	const struct filter_case *fc = &fcases[_i];
	int af = fc->kind >= FK_V6_25 ? 6 : 4;
	struct sniff_config cfg;
	struct bpf_program prog;
	struct pcap_pkthdr h;
	uint8_t ip[256], f[300];
	char expr[4096];
	pcap_t *p;
	bool vlan = pcapw_linktype(fc->link) == 1;

	sniff_config_defaults(&cfg);
	ck_assert_int_eq(sniff_filter_expr(&cfg, vlan, expr, sizeof(expr)), 0);
	ck_assert_ptr_nonnull(p = pcap_open_dead(pcapw_linktype(fc->link),
	    65535));
	ck_assert_msg(pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) ==
	    0, "%s: %s", fc->name, pcap_geterr(p));
	memset(&h, 0, sizeof(h));
	h.caplen = h.len = (bpf_u_int32)pcapw_wrap(fc->link, af, ip,
	    filter_packet(fc->kind, ip), f);
	ck_assert_msg((pcap_offline_filter(&prog, &h, f) != 0) == fc->pass,
	    "%s: %s", fc->name, fc->pass ? "dropped" : "let through");
	pcap_freecode(&prog);
	pcap_close(p);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Live, on the loopback: root only. A real connection, then reset.   */

/* A listening socket on 127.0.0.1 or ::1, any port. */
static int
listener(int af, uint16_t *port, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	int l;

	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*sl = sizeof(*a);
	} else {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		*sl = sizeof(*a6);
	}
	l = socket(af, SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)ss, *sl), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)ss, sl), 0);
	*port = ntohs(af == AF_INET ? a->sin_port : a6->sin6_port);
	return l;
}

static void
pump(struct sniff *s, int ms, bool (*done)(void))
{
	struct pollfd p = { .fd = sniff_fd(s), .events = POLLIN };
	char err[512];
	int i;

	for (i = 0; i < ms / 10 && !done(); i++) {
		(void)poll(&p, 1, 10);
		ck_assert_int_ge(sniff_dispatch(s, -1, err, sizeof(err)), 0);
	}
}

static bool
got_dialog(void)
{
	return R.n == 1 && R.c[0]->len[0] == 8 && R.c[0]->len[1] == 16;
}

static bool
got_close(void)
{
	return R.n == 1 && R.c[0]->closed;
}

/*
 * The filter needs the port, so: listen, open the sniffer, connect.
 * Then a kill from inside on_data: the server's socket must be reset
 * and the sniffer must see its own RST. On "lo" (Ethernet, with the
 * VLAN filter) and on "any" (Linux cooked, without it), IPv4 and IPv6.
 */
START_TEST(test_live_loopback_kill)
{
	static const char *const ifaces[] = { "lo", "any" };
	const char *iface = ifaces[_i % 2];
	int af = _i < 2 ? AF_INET : AF_INET6;
	const char *lo = af == AF_INET ? "127.0.0.1" : "::1";
	struct sniff_config cfg;
	struct sockaddr_storage a;
	socklen_t al;
	struct timeval tv = { 2, 0 };
	struct sniff *s;
	char err[512], buf[64];
	int l, cli, srv;
	uint16_t port;
	ssize_t r;

	R.kill_on_data = false;
	l = listener(af, &port, &a, &al);
	small_defaults(&cfg);
	cfg.ports[0] = port;
	cfg.nports = 1;
	rec_reset();
	if ((s = sniff_open_live(&cfg, iface, &H, err, sizeof(err))) == NULL) {
		fprintf(stderr, "check_sniffer: live test skipped: %s\n", err);
		close(l);
		return;
	}
	R.s = s;
	ck_assert_int_ge(sniff_fd(s), 0);
	cli = socket(af, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(cli, (struct sockaddr *)&a, al), 0);
	srv = accept(l, NULL, NULL);
	ck_assert_int_ge(srv, 0);
	close(l);

	ck_assert_int_eq(write(srv, "220 hi\r\n", 8), 8);
	ck_assert_int_eq(read(cli, buf, 8), 8);
	ck_assert_int_eq(write(cli, "EHLO x\r\n", 8), 8);
	ck_assert_int_eq(read(srv, buf, 8), 8);
	ck_assert_int_eq(write(srv, "250 ok\r\n", 8), 8);
	ck_assert_int_eq(read(cli, buf, 8), 8);
	pump(s, 3000, got_dialog);
	ck_assert_msg(R.n == 1, "live %s %s: %d connections", iface, lo, R.n);
	ck_assert_str_eq(R.c[0]->tr, "S>220 hi\r\nC>EHLO x\r\nS>250 ok\r\n");
	ck_assert_str_eq(R.c[0]->client, lo);
	ck_assert_str_eq(R.c[0]->server, lo);
	ck_assert_uint_eq(R.c[0]->sport, port);

	R.kill_on_data = true;
	R.kill_rc = 1;
	ck_assert_int_eq(write(cli, "NOOP\r\n", 6), 6);
	pump(s, 3000, got_close);
	ck_assert_int_eq(R.kill_rc, 0);
	ck_assert(R.c[0]->closed);
	ck_assert_int_eq(R.c[0]->how, SNIFF_CLOSE_RST);
	(void)setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = read(srv, buf, sizeof(buf));
	if (r == 6)		/* the NOOP itself, then the reset */
		r = read(srv, buf, sizeof(buf));
	ck_assert_msg(r == -1 && errno == ECONNRESET,
	    "server socket: read %zd, %s", r, strerror(errno));
	sniff_close(s);
	close(cli);
	close(srv);
}
END_TEST

/* ---------------------------------------------------------------- */

static Suite *
io_suite(void)
{
	Suite *s = suite_create("sniffer_io");
	TCase *tc;

	tc = tcase_create("errors");
	tcase_add_test(tc, test_error_missing);
	tcase_add_test(tc, test_error_not_pcap);
	tcase_add_test(tc, test_error_corrupt);
	tcase_add_test(tc, test_error_huge_record);
	tcase_add_test(tc, test_error_config_and_busy);
	tcase_add_test(tc, test_close_str_and_log);
	suite_add_tcase(s, tc);

	tc = tcase_create("filter");
	tcase_add_loop_test(tc, test_live_filter, 0, NFCASES);
	suite_add_tcase(s, tc);

	tc = tcase_create("kill");
	tcase_add_loop_test(tc, test_kill_file, 0, 2);
	tcase_add_loop_test(tc, test_live_loopback_kill, 0, 4);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(io_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
