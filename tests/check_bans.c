/*
 * check_bans.c - unit tests of bans/: policy (fake clock), state file,
 * backends other than iptables, and the iptables rule layout.
 *
 * Invariant: nothing here touches the host's firewall. The iptables
 * backend is only given configurations it must refuse before it takes
 * the lock or reads a table; its kernel side is tested by
 * tests/netns-iptables.sh inside a private network namespace. Time is
 * always a number the test passes: no test sleeps.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include "bans.h"
#include "../bans/bans_int.h"

#define S(x)	((wb_usec)(x) * WB_USEC_PER_SEC)
#define T0	S(1700000000)

/* ---- helpers ---------------------------------------------------------- */

static struct wb_addr
A(const char *s)
{
	struct wb_addr a;

	ck_assert_msg(wb_addr_parse(&a, s) == 0, "bad test address %s", s);
	return a;
}

/* Log lines go here, so tests can count them and output stays quiet. */
static int	 log_lines;
static char	 log_last[512];

static void
log_hook(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	log_lines++;
	(void)snprintf(log_last, sizeof(log_last), "%s", line);
}

static void
setup(void)
{
	log_lines = 0;
	log_last[0] = '\0';
	ban_log_set(log_hook, NULL);
	ban_record_reset();
}

static char tmpdir[PATH_MAX];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
teardown(void)
{
	ban_log_set(NULL, NULL);
	if (tmpdir[0] != '\0')
		(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

static struct ban_policy *
policy(int maxretry, size_t max_tracked)
{
	struct ban_policy_config c;
	struct ban_policy *p;
	char err[128];

	ban_policy_defaults(&c);
	c.seed = 42;
	if (maxretry > 0)
		c.maxretry = maxretry;
	if (max_tracked > 0)
		c.max_tracked = max_tracked;
	p = ban_policy_new(&c, err, sizeof(err));
	ck_assert_msg(p != NULL, "ban_policy_new: %s", err);
	return p;
}

/* A temp directory per test (Check forks each), removed by teardown. */

static const char *
tmp_path(const char *name)
{
	static char path[PATH_MAX + 64];

	if (tmpdir[0] == '\0') {
		const char *base = getenv("TMPDIR");

		(void)snprintf(tmpdir, sizeof(tmpdir), "%s/check_bans.XXXXXX",
		    base != NULL && base[0] != '\0' ? base : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	}
	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
read_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Renders a policy's bans and history as text, for comparisons. */
struct dump {
	char	 buf[16384];
	size_t	 len;
};

static void
dump_one(void *arg, const struct ban *b)
{
	struct dump *d = arg;
	char a[WB_ADDR_STRLEN];
	int n;

	n = snprintf(d->buf + d->len, sizeof(d->buf) - d->len,
	    "%s|%s|%lld|%lld|%u|%d\n", wb_addr_str(&b->addr, a), b->rule,
	    (long long)b->start, (long long)b->expiry, b->count, b->score);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_lt((size_t)n, sizeof(d->buf) - d->len);
	d->len += (size_t)n;
}

static void
dump_policy(const struct ban_policy *p, struct dump *d)
{
	d->len = 0;
	d->buf[0] = '\0';
	(void)snprintf(d->buf, sizeof(d->buf), "active:\n");
	d->len = strlen(d->buf);
	ck_assert_int_ge(ban_policy_foreach(p, BAN_ACTIVE, dump_one, d), 0);
	(void)snprintf(d->buf + d->len, sizeof(d->buf) - d->len, "past:\n");
	d->len += strlen(d->buf + d->len);
	ck_assert_int_ge(ban_policy_foreach(p, BAN_HISTORY, dump_one, d), 0);
}

/* ---- util: durations and CIDRs ---------------------------------------- */

static const struct {
	const char	*s;
	int		 rc;
	wb_usec		 v;
} durations[] = {
	{ "0", 0, 0 },
	{ "90", 0, S(90) },
	{ "3s", 0, S(3) },
	{ "10m", 0, S(600) },
	{ "1h", 0, S(3600) },
	{ "2d", 0, S(2 * 86400) },
	{ "1w", 0, S(7 * 86400) },
	{ "", -1, 0 },
	{ "-5", -1, 0 },
	{ "+5", -1, 0 },
	{ " 5", -1, 0 },
	{ "5x", -1, 0 },
	{ "5mm", -1, 0 },
	{ "h", -1, 0 },
	{ "99999999999999999999", -1, 0 },
	{ "9999999999999w", -1, 0 },
};

START_TEST(test_duration)
{
	wb_usec v = -7;
	int rc = ban_duration_parse(durations[_i].s, &v);

	ck_assert_msg(rc == durations[_i].rc, "\"%s\": rc %d",
	    durations[_i].s, rc);
	if (rc == 0)
		ck_assert_int_eq(v, durations[_i].v);
	else
		ck_assert_int_eq(v, -7);
}
END_TEST

static const struct {
	const char	*s;
	int		 rc;
	const char	*net;
	int		 bits;
} cidrs[] = {
	{ "192.0.2.7", 0, "192.0.2.7", 32 },
	{ "10.0.0.0/8", 0, "10.0.0.0", 8 },
	{ "10.1.2.3/8", 0, "10.0.0.0", 8 },
	{ "192.0.2.77/27", 0, "192.0.2.64", 27 },
	{ "0.0.0.0/0", 0, "0.0.0.0", 0 },
	{ "2001:db8::1", 0, "2001:db8::1", 128 },
	{ "2001:db8:1:2::5/64", 0, "2001:db8:1:2::", 64 },
	{ "2001:db8::/29", 0, "2001:db8::", 29 },
	{ "10.0.0.0/33", -1, NULL, 0 },
	{ "::/129", -1, NULL, 0 },
	{ "10.0.0.0/", -1, NULL, 0 },
	{ "10.0.0.0/-1", -1, NULL, 0 },
	{ "10.0.0.0/8x", -1, NULL, 0 },
	{ "10.0.0.0/ 8", -1, NULL, 0 },
	{ "/8", -1, NULL, 0 },
	{ "example.org", -1, NULL, 0 },
	{ "", -1, NULL, 0 },
};

START_TEST(test_cidr)
{
	struct wb_addr net, want;
	int bits = -1, rc;

	rc = ban_cidr_parse(cidrs[_i].s, &net, &bits);
	ck_assert_msg(rc == cidrs[_i].rc, "\"%s\": rc %d", cidrs[_i].s, rc);
	if (rc != 0)
		return;
	want = A(cidrs[_i].net);
	ck_assert_msg(wb_addr_eq(&net, &want), "\"%s\": wrong net",
	    cidrs[_i].s);
	ck_assert_int_eq(bits, cidrs[_i].bits);
}
END_TEST

/* ---- policy: the window and the weights ------------------------------- */

#define STEPS_MAX 8
struct step {
	int	 at;	/* seconds after T0; -1 ends the list */
	int	 weight;
	int	 ban;	/* expected return of ban_policy_offence */
};

static const struct {
	const char	*name;
	struct step	 s[STEPS_MAX];
} windows[] = {
	{ "three light offences in the window", {
		{ 0, 1, 0 }, { 100, 1, 0 }, { 200, 1, 1 }, { -1, 0, 0 } } },
	{ "a heavy offence bans at once", {
		{ 0, 3, 1 }, { -1, 0, 0 } } },
	{ "heavier than maxretry bans at once", {
		{ 0, 10, 1 }, { -1, 0, 0 } } },
	{ "two plus one", {
		{ 0, 2, 0 }, { 30, 1, 1 }, { -1, 0, 0 } } },
	{ "spread over more than findtime", {
		{ 0, 1, 0 }, { 300, 1, 0 }, { 600, 1, 0 }, { -1, 0, 0 } } },
	{ "first one a microsecond inside", {
		{ 0, 1, 0 }, { 300, 1, 0 }, { 599, 1, 1 }, { -1, 0, 0 } } },
	{ "old weight left the window", {
		{ 0, 2, 0 }, { 601, 2, 0 }, { 700, 1, 1 }, { -1, 0, 0 } } },
	{ "a sliding window, not fixed buckets", {
		{ 0, 1, 0 }, { 500, 1, 0 }, { 700, 1, 0 }, { 800, 1, 1 },
		{ -1, 0, 0 } } },
	{ "zero and negative weights never count", {
		{ 0, 0, 0 }, { 1, -5, 0 }, { 2, 0, 0 }, { 3, 2, 0 },
		{ 4, 1, 1 }, { -1, 0, 0 } } },
	{ "out-of-order times still count", {
		{ 100, 1, 0 }, { 50, 1, 0 }, { 90, 1, 1 }, { -1, 0, 0 } } },
};

START_TEST(test_window)
{
	struct ban_policy *p = policy(0, 0);
	struct wb_addr a = A("192.0.2.7");
	struct ban b;
	int i;

	for (i = 0; i < STEPS_MAX && windows[_i].s[i].at >= 0; i++) {
		const struct step *st = &windows[_i].s[i];
		wb_usec now = T0 + S(st->at);
		int rc;

		/* 599 s + 999999 us: the edge of the 600 s window. */
		if (st->at == 599)
			now += WB_USEC_PER_SEC - 1;
		rc = ban_policy_offence(p, &a, "rule", st->weight, now, &b);
		ck_assert_msg(rc == st->ban, "%s: step %d: got %d",
		    windows[_i].name, i, rc);
		if (rc == 1) {
			ck_assert_int_eq(b.start, now);
			ck_assert_int_eq(b.expiry - b.start, S(3600));
			ck_assert_int_eq(b.count, 1);
			ck_assert_int_ge(b.score, 3);
		}
	}
	ban_policy_free(p);
}
END_TEST

/* The ban reports the weight sum and the rule that tipped it. */
START_TEST(test_window_decision)
{
	struct ban_policy *p = policy(0, 0);
	struct wb_addr a = A("198.51.100.3");
	struct ban b;

	ck_assert_int_eq(ban_policy_offence(p, &a, "unknown_user", 1, T0, &b),
	    0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "unknown_user", 1,
	    T0 + S(1), &b), 0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "relay", 3, T0 + S(2), &b),
	    1);
	ck_assert(wb_addr_eq(&b.addr, &a));
	ck_assert_str_eq(b.rule, "relay");
	ck_assert_int_eq(b.score, 5);
	ck_assert_int_eq(b.count, 1);
	/* While banned, offences are counted but start nothing. */
	ck_assert_int_eq(ban_policy_offence(p, &a, "relay", 3, T0 + S(3), &b),
	    0);
	{
		struct ban_policy_stats st;

		ban_policy_stats(p, &st);
		ck_assert_uint_eq(st.offences, 4);
		ck_assert_uint_eq(st.while_banned, 1);
		ck_assert_uint_eq(st.banned, 1);
		ck_assert_uint_eq(st.bans_total, 1);
	}
	ban_policy_free(p);
}
END_TEST

/* maxretry m: m-1 light offences do not ban, the m-th does. */
static const int maxretries[] = { 1, 2, 3, 5, 10, 50 };

START_TEST(test_maxretry)
{
	int m = maxretries[_i], i;
	struct ban_policy *p = policy(m, 0);
	struct wb_addr a = A("2001:db8::7");

	for (i = 1; i < m; i++)
		ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 1,
		    T0 + i, NULL), 0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 1, T0 + m, NULL),
	    1);
	ck_assert(ban_policy_get(p, &a, NULL));
	ban_policy_free(p);
}
END_TEST

/* More offences than ring slots: the ring keeps the newest, enough. */
START_TEST(test_ring_keeps_newest)
{
	struct ban_policy *p = policy(5, 0);
	struct wb_addr a = A("192.0.2.9");
	int i;

	/* Four old ones fill the ring, then leave the window. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0 + i,
		    NULL), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1,
		    T0 + S(1000) + i, NULL), 0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0 + S(1001),
	    NULL), 1);
	ban_policy_free(p);
}
END_TEST

/* ---- policy: increment ------------------------------------------------- */

static const struct {
	double		 factor;
	wb_usec		 bantime, max;
	unsigned	 count;
	wb_usec		 want;
} durs[] = {
	{ 2.0, S(3600), S(604800), 0, S(3600) },
	{ 2.0, S(3600), S(604800), 1, S(3600) },
	{ 2.0, S(3600), S(604800), 2, S(7200) },
	{ 2.0, S(3600), S(604800), 3, S(14400) },
	{ 2.0, S(3600), S(604800), 8, S(3600) * 128 },
	{ 2.0, S(3600), S(604800), 9, S(604800) },
	{ 2.0, S(3600), S(604800), 1000, S(604800) },
	{ 2.0, S(3600), S(604800), UINT_MAX, S(604800) },
	{ 1.0, S(3600), S(604800), 50, S(3600) },
	{ 1.5, S(100), S(1000), 3, S(225) },
	{ 3.0, S(10), S(1000), 4, S(270) },
	{ 3.0, S(10), S(1000), 5, S(810) },
	{ 3.0, S(10), S(1000), 6, S(1000) },
	{ 1000.0, S(1), S(86400), 200, S(86400) },
	{ 2.0, S(3600), S(3600), 5, S(3600) },
};

START_TEST(test_duration_table)
{
	struct ban_policy_config c;
	struct ban_policy *p;

	ban_policy_defaults(&c);
	c.bantime_factor = durs[_i].factor;
	c.bantime = durs[_i].bantime;
	c.bantime_max = durs[_i].max;
	c.seed = 1;
	p = ban_policy_new(&c, NULL, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(ban_policy_duration(p, durs[_i].count),
	    durs[_i].want);
	ban_policy_free(p);
}
END_TEST

/* Ban, expire, offend again: 1h 2h 4h ... capped at one week. */
START_TEST(test_increment)
{
	static const int hours[] = { 1, 2, 4, 8, 16, 32, 64, 128, 168, 168 };
	struct ban_policy *p = policy(0, 0);
	struct wb_addr a = A("203.0.113.5");
	wb_usec now = T0;
	struct ban b;
	size_t i;

	for (i = 0; i < sizeof(hours) / sizeof(hours[0]); i++) {
		ck_assert_int_eq(ban_policy_offence(p, &a, "relay", 3, now,
		    &b), 1);
		ck_assert_int_eq(b.count, i + 1);
		ck_assert_int_eq(b.expiry - b.start, S(3600) * hours[i]);
		now = b.expiry;
		ck_assert_uint_eq(ban_policy_expire(p, now, NULL, NULL), 1);
		ck_assert(!ban_policy_get(p, &a, NULL));
		now += S(1);
	}
	ban_policy_free(p);
}
END_TEST

/* ---- policy: ignoreip -------------------------------------------------- */

static const struct {
	const char	*addr;
	bool		 ignored;
} ignores[] = {
	{ "192.0.2.1", true },		/* exact */
	{ "192.0.2.2", false },
	{ "10.1.2.3", true },		/* in 10.0.0.0/8 */
	{ "11.0.0.1", false },
	{ "198.51.100.77", true },	/* in 198.51.100.64/26 */
	{ "198.51.100.128", false },
	{ "2001:db8::1", true },	/* exact v6 */
	{ "2001:db8::2", false },
	{ "2001:db8:aa:bb::99", true },	/* in 2001:db8:aa:bb::/64 */
	{ "2001:db8:aa:bc::1", false },
	{ "::ffff:10.9.9.9", true },	/* v4-mapped, in 10/8 */
	{ "::ffff:11.9.9.9", false },
	{ "127.0.0.5", true },		/* self, added by the caller */
	{ "::1", true },
};

static struct ban_policy *
ignoring_policy(void)
{
	static const char *const specs[] = {
		"192.0.2.1", "10.0.0.0/8", "198.51.100.64/26", "2001:db8::1",
		"2001:db8:aa:bb::/64", NULL
	};
	struct ban_policy *p = policy(0, 0);
	struct wb_addr self;
	size_t i;

	for (i = 0; specs[i] != NULL; i++)
		ck_assert_int_eq(ban_policy_ignore(p, specs[i]), 0);
	self = A("127.0.0.0");
	ck_assert_int_eq(ban_policy_ignore_net(p, &self, 8), 0);
	self = A("::1");
	ck_assert_int_eq(ban_policy_ignore_net(p, &self, 128), 0);
	return p;
}

START_TEST(test_ignoreip)
{
	struct ban_policy *p = ignoring_policy();
	struct wb_addr a = A(ignores[_i].addr);
	struct ban_policy_stats st;
	int rc;

	ck_assert_msg(ban_policy_is_ignored(p, &a) == ignores[_i].ignored,
	    "%s", ignores[_i].addr);
	rc = ban_policy_offence(p, &a, "relay", 100, T0, NULL);
	ck_assert_int_eq(rc, ignores[_i].ignored ? 0 : 1);
	ban_policy_stats(p, &st);
	ck_assert_uint_eq(st.ignored, ignores[_i].ignored ? 1 : 0);
	/* A manual ban of an ignored address is refused, with a log line. */
	if (ignores[_i].ignored) {
		ck_assert_int_eq(ban_policy_ban(p, &a, NULL, S(60), T0, NULL),
		    -1);
		ck_assert_int_eq(log_lines, 1);
	}
	ban_policy_free(p);
}
END_TEST

static const char *const bad_ignores[] = {
	"10.0.0.0/33", "::/129", "foo", "1.2.3.4/", "", "1.2.3.4/8/8",
};

START_TEST(test_ignoreip_bad)
{
	struct ban_policy *p = policy(0, 0);

	ck_assert_int_eq(ban_policy_ignore(p, bad_ignores[_i]), -1);
	ck_assert_int_eq(log_lines, 1);
	ban_policy_free(p);
}
END_TEST

/* ---- policy: manual ban and unban, hook --------------------------------- */

static int	 hook_calls;
static struct ban hook_last;

static void
hook(void *arg, const struct ban *b)
{
	(void)arg;
	hook_calls++;
	hook_last = *b;
}

START_TEST(test_manual)
{
	struct ban_policy *p = policy(0, 0);
	struct wb_addr a = A("192.0.2.50");
	struct ban b;

	hook_calls = 0;
	ban_policy_set_hook(p, hook, NULL);
	ck_assert_int_eq(ban_policy_ban(p, &a, NULL, S(90), T0, &b), 1);
	ck_assert_str_eq(b.rule, "manual");
	ck_assert_int_eq(b.expiry, T0 + S(90));
	ck_assert_int_eq(b.count, 1);
	ck_assert_int_eq(hook_calls, 1);
	ck_assert(wb_addr_eq(&hook_last.addr, &a));
	/* Again: no new ban, the expiry moves, no hook. */
	ck_assert_int_eq(ban_policy_ban(p, &a, NULL, S(500), T0 + S(10), &b),
	    0);
	ck_assert_int_eq(b.expiry, T0 + S(510));
	ck_assert_int_eq(hook_calls, 1);
	/* Unban: 1, then 0. */
	ck_assert_int_eq(ban_policy_unban(p, &a, T0 + S(20), &b), 1);
	ck_assert_int_eq(b.expiry, T0 + S(20));
	ck_assert_int_eq(ban_policy_unban(p, &a, T0 + S(21), &b), 0);
	ck_assert(!ban_policy_get(p, &a, NULL));
	/* Duration 0 takes the increment: the second ban is 2 h. */
	ck_assert_int_eq(ban_policy_ban(p, &a, "ops", 0, T0 + S(30), &b), 1);
	ck_assert_str_eq(b.rule, "ops");
	ck_assert_int_eq(b.count, 2);
	ck_assert_int_eq(b.expiry - b.start, S(7200));
	ck_assert_int_eq(hook_calls, 2);
	/* An offence-triggered ban runs the hook too. */
	a = A("192.0.2.51");
	ck_assert_int_eq(ban_policy_offence(p, &a, "sync", 3, T0, NULL), 1);
	ck_assert_int_eq(hook_calls, 3);
	ck_assert_str_eq(hook_last.rule, "sync");
	/* Bad input. */
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(ban_policy_ban(p, &a, NULL, S(1), T0, NULL), -1);
	ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0, NULL), -1);
	ck_assert_int_eq(ban_policy_unban(p, &a, T0, NULL), 0);
	ban_policy_free(p);
}
END_TEST

/* Unban forgets offences: the next one starts from zero. */
START_TEST(test_unban_resets_window)
{
	struct ban_policy *p = policy(0, 0);
	struct wb_addr a = A("192.0.2.60");

	ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 1, T0, NULL), 0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 2, T0 + 1, NULL),
	    1);
	ck_assert_int_eq(ban_policy_unban(p, &a, T0 + 2, NULL), 1);
	ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 1, T0 + 3, NULL),
	    0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 1, T0 + 4, NULL),
	    0);
	ban_policy_free(p);
}
END_TEST

/* ---- policy: expiry ---------------------------------------------------- */

struct collect {
	struct ban	 v[16];
	size_t		 n;
};

static void
collect(void *arg, const struct ban *b)
{
	struct collect *c = arg;

	ck_assert_uint_lt(c->n, 16);
	c->v[c->n++] = *b;
}

START_TEST(test_expiry)
{
	struct ban_policy *p = policy(0, 0);
	struct wb_addr a = A("192.0.2.1"), b = A("192.0.2.2"),
	    c = A("2001:db8::3");
	struct collect got = { .n = 0 };
	struct ban_policy_stats st;
	wb_usec when;

	ck_assert(!ban_policy_next_expiry(p, &when));
	ck_assert_uint_eq(ban_policy_expire(p, T0, collect, &got), 0);
	ck_assert_int_eq(ban_policy_ban(p, &a, NULL, S(300), T0, NULL), 1);
	ck_assert_int_eq(ban_policy_ban(p, &b, NULL, S(100), T0, NULL), 1);
	ck_assert_int_eq(ban_policy_ban(p, &c, NULL, S(200), T0, NULL), 1);
	ck_assert(ban_policy_next_expiry(p, &when));
	ck_assert_int_eq(when, T0 + S(100));
	/* One microsecond early: nothing; on the dot: b. */
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(100) - 1, collect,
	    &got), 0);
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(100), collect, &got),
	    1);
	ck_assert(wb_addr_eq(&got.v[0].addr, &b));
	ck_assert(!ban_policy_get(p, &b, NULL));
	ck_assert(ban_policy_get(p, &a, NULL));
	/* Long after: the rest, in expiry order. */
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(10000), collect, &got),
	    2);
	ck_assert(wb_addr_eq(&got.v[1].addr, &c));
	ck_assert(wb_addr_eq(&got.v[2].addr, &a));
	ck_assert(!ban_policy_next_expiry(p, &when));
	ban_policy_stats(p, &st);
	ck_assert_uint_eq(st.banned, 0);
	ck_assert_uint_eq(st.bans_total, 3);
	ck_assert_uint_eq(st.unbans_total, 3);
	ban_policy_free(p);
}
END_TEST

/* Never-banned addresses leave the table once their window is over. */
START_TEST(test_expiry_forgets)
{
	struct ban_policy *p = policy(0, 0);
	struct wb_addr a = A("192.0.2.1"), b = A("192.0.2.2");
	struct ban_policy_stats st;

	ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0, NULL), 0);
	ck_assert_int_eq(ban_policy_offence(p, &b, "x", 3, T0, NULL), 1);
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(599), NULL, NULL), 0);
	ban_policy_stats(p, &st);
	ck_assert_uint_eq(st.tracked, 2);
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(3600), NULL, NULL), 1);
	ban_policy_stats(p, &st);
	/* a forgotten; b kept for its ban count. */
	ck_assert_uint_eq(st.tracked, 1);
	ck_assert_int_eq(ban_policy_offence(p, &b, "x", 3, T0 + S(4000),
	    NULL), 1);
	ck_assert_uint_eq(ban_policy_duration(p, 2), S(7200));
	{
		struct ban x;

		ck_assert(ban_policy_get(p, &b, &x));
		ck_assert_int_eq(x.count, 2);
	}
	ban_policy_free(p);
}
END_TEST

/* ---- policy: the tracked-address cap ----------------------------------- */

START_TEST(test_cap_evicts_oldest)
{
	struct ban_policy *p = policy(0, 4);
	struct ban_policy_stats st;
	struct wb_addr a = A("192.0.2.100");
	char s[32];
	int i;

	/* Two strikes for a, then eight other addresses push it out. */
	ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0, NULL), 0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0 + 1, NULL), 0);
	for (i = 0; i < 8; i++) {
		(void)snprintf(s, sizeof(s), "198.51.100.%d", i);
		struct wb_addr o = A(s);

		ck_assert_int_eq(ban_policy_offence(p, &o, "x", 1, T0 + 2 + i,
		    NULL), 0);
	}
	ban_policy_stats(p, &st);
	ck_assert_uint_eq(st.tracked, 4);
	ck_assert_uint_eq(st.evicted, 5);
	/* a was evicted: its third strike is a first one. */
	ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0 + 20, NULL), 0);
	ban_policy_stats(p, &st);
	ck_assert_uint_eq(st.tracked, 4);
	ban_policy_free(p);
}
END_TEST

START_TEST(test_cap_keeps_bans)
{
	struct ban_policy *p = policy(0, 3);
	struct ban_policy_stats st;
	struct wb_addr h = A("203.0.113.1");
	char s[32];
	int i;

	/* h: banned once, now history. */
	ck_assert_int_eq(ban_policy_offence(p, &h, "x", 3, T0, NULL), 1);
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(3600), NULL, NULL), 1);
	/* Three bans: h (history) is evicted to make room, bans never. */
	for (i = 0; i < 3; i++) {
		(void)snprintf(s, sizeof(s), "192.0.2.%d", i + 1);
		struct wb_addr o = A(s);

		ck_assert_int_eq(ban_policy_offence(p, &o, "x", 3,
		    T0 + S(3601), NULL), 1);
	}
	ban_policy_stats(p, &st);
	ck_assert_uint_eq(st.tracked, 3);
	ck_assert_uint_eq(st.banned, 3);
	ck_assert_uint_eq(st.evicted, 1);
	/* Full of bans: a newcomer is not tracked, a manual ban fails. */
	{
		struct wb_addr n = A("192.0.2.99");

		ck_assert_int_eq(ban_policy_offence(p, &n, "x", 3,
		    T0 + S(3602), NULL), 0);
		ban_policy_stats(p, &st);
		ck_assert_uint_eq(st.untracked, 1);
		ck_assert_int_eq(ban_policy_ban(p, &n, NULL, S(5),
		    T0 + S(3602), NULL), -1);
		ck_assert_int_eq(log_lines, 1);
	}
	for (i = 0; i < 3; i++) {
		(void)snprintf(s, sizeof(s), "192.0.2.%d", i + 1);
		struct wb_addr o = A(s);

		ck_assert(ban_policy_get(p, &o, NULL));
	}
	/* h lost its history with its entry: its next ban is a first. */
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(9000), NULL, NULL), 3);
	{
		struct ban b;

		ck_assert_int_eq(ban_policy_offence(p, &h, "x", 3, T0 + S(9001),
		    &b), 1);
		ck_assert_int_eq(b.count, 1);
	}
	ban_policy_free(p);
}
END_TEST

/* A crowd of addresses far past the cap stays within it. */
START_TEST(test_cap_many)
{
	struct ban_policy *p = policy(0, 1000);
	struct ban_policy_stats st;
	struct wb_addr a = A("2001:db8::");
	unsigned i;

	for (i = 0; i < 20000; i++) {
		a.a[12] = (uint8_t)(i >> 24);
		a.a[13] = (uint8_t)(i >> 16);
		a.a[14] = (uint8_t)(i >> 8);
		a.a[15] = (uint8_t)i;
		ck_assert_int_ge(ban_policy_offence(p, &a, "x",
		    i % 7 == 0 ? 3 : 1, T0 + i, NULL), 0);
	}
	ban_policy_stats(p, &st);
	ck_assert_uint_le(st.tracked, 1000);
	ck_assert_uint_eq(st.tracked, 1000);
	ck_assert_uint_le(st.banned, 1000);
	ban_policy_free(p);
}
END_TEST

/* ---- policy: configuration --------------------------------------------- */

static const struct {
	const char	*key;
	int		 maxretry;
	wb_usec		 findtime, bantime, bantime_max;
	double		 factor;
	size_t		 tracked;
} bad_configs[] = {
	{ "maxretry", 0, S(600), S(3600), S(7200), 2, 10 },
	{ "maxretry", 1001, S(600), S(3600), S(7200), 2, 10 },
	{ "findtime", 3, 0, S(3600), S(7200), 2, 10 },
	{ "bantime", 3, S(600), 0, S(7200), 2, 10 },
	{ "bantime_factor", 3, S(600), S(3600), S(7200), 0.5, 10 },
	{ "bantime_max", 3, S(600), S(3600), S(60), 2, 10 },
	{ "max_tracked", 3, S(600), S(3600), S(7200), 2, 0 },
};

START_TEST(test_bad_config)
{
	struct ban_policy_config c;
	char err[128] = "";

	ban_policy_defaults(&c);
	c.maxretry = bad_configs[_i].maxretry;
	c.findtime = bad_configs[_i].findtime;
	c.bantime = bad_configs[_i].bantime;
	c.bantime_max = bad_configs[_i].bantime_max;
	c.bantime_factor = bad_configs[_i].factor;
	c.max_tracked = bad_configs[_i].tracked;
	ck_assert_ptr_null(ban_policy_new(&c, err, sizeof(err)));
	ck_assert_msg(strstr(err, bad_configs[_i].key) != NULL, "%s", err);
}
END_TEST

/* ---- state file -------------------------------------------------------- */

static struct ban
mkban(const char *addr, const char *rule, wb_usec start, wb_usec len,
    unsigned count, int score)
{
	struct ban b;

	memset(&b, 0, sizeof(b));
	b.addr = A(addr);
	(void)snprintf(b.rule, sizeof(b.rule), "%s", rule);
	b.start = start;
	b.expiry = start + len;
	b.count = count;
	b.score = score;
	return b;
}

/* A policy with bans and history of every awkward kind. */
static struct ban_policy *
sample_policy(int variant)
{
	struct ban_policy *p = policy(0, 0);
	struct ban b;

	b = mkban("192.0.2.7", "relay", T0, S(3600), 1, 3);
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	b = mkban("2001:db8::7", "unknown_user", T0 + 123456, S(7200), 2, 3);
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	b = mkban("198.51.100.1", "a rule; with%odd\tbytes", T0, S(60), 3, 1);
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	b = mkban("203.0.113.9", "", T0 - S(9000), S(3600), 4, 0);
	ck_assert_int_eq(ban_policy_restore(p, &b, false), 0);
	b = mkban("2001:db8::99", "-", T0 - S(5000), S(3600), 1, 5);
	ck_assert_int_eq(ban_policy_restore(p, &b, false), 0);
	if (variant == 1) {
		int i;

		for (i = 0; i < 40; i++) {
			char s[32];

			(void)snprintf(s, sizeof(s), "10.0.%d.%d", i / 10,
			    i % 10 + 1);
			b = mkban(s, "auth", T0 + i, S(3600), 1, 3);
			ck_assert_int_eq(ban_policy_restore(p, &b, i % 2),
			    0);
		}
	}
	return p;
}

START_TEST(test_state_roundtrip)
{
	struct ban_policy *p = sample_policy(1), *q = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	static struct dump d1, d2;

	ck_assert_int_eq(ban_state_save(p, path), 0);
	ck_assert_int_eq(ban_state_load(q, path, &st), 0);
	ck_assert_uint_eq(st.active, 3 + 20);
	ck_assert_uint_eq(st.history, 2 + 20);
	ck_assert_uint_eq(st.bad, 0);
	dump_policy(p, &d1);
	dump_policy(q, &d2);
	ck_assert_str_eq(d1.buf, d2.buf);
	/* Saved again, the file is byte for byte the same. */
	{
		char first[8192];

		(void)snprintf(first, sizeof(first), "%s", read_file(path));
		ck_assert_int_eq(ban_state_save(q, path), 0);
		ck_assert_str_eq(first, read_file(path));
		ck_assert_ptr_nonnull(strstr(first, "wireban-state 1\n"));
		ck_assert_ptr_nonnull(strstr(first,
		    "ban 192.0.2.7 relay 1700000000.000000 1700003600.000000 "
		    "1 3\n"));
		ck_assert_ptr_nonnull(strstr(first, "a%20rule;%20with%25odd"
		    "%09bytes"));
	}
	/* No temp file is left behind. */
	ck_assert_int_ne(access(tmp_path("state.tmp"), F_OK), 0);
	ck_assert_int_eq(log_lines, 0);
	ban_policy_free(p);
	ban_policy_free(q);
}
END_TEST

START_TEST(test_state_missing_and_unwritable)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_state_stats st;

	ck_assert_int_eq(ban_state_load(p, tmp_path("nothing"), &st), 0);
	ck_assert_uint_eq(st.active + st.history + st.bad, 0);
	ck_assert_int_eq(ban_state_save(p, tmp_path("no/such/dir/state")),
	    -1);
	ck_assert_int_eq(log_lines, 1);
	ban_policy_free(p);
}
END_TEST

/* One bad line among good ones: reported with file:line, skipped. */
static const struct {
	const char	*line;
	const char	*why;
} garbage[] = {
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 1", "7 fields" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 1 3 x", "7 fields" },
	{ "bam 192.0.2.1 relay 1700000000.000000 1700003600.000000 1 3", "kind" },
	{ "ban 192.0.2.300 relay 1700000000.000000 1700003600.000000 1 3", "address" },
	{ "ban host.example relay 1700000000.000000 1700003600.000000 1 3", "address" },
	{ "ban 192.0.2.1 re%2 1700000000.000000 1700003600.000000 1 3", "rule" },
	{ "ban 192.0.2.1 re%00x 1700000000.000000 1700003600.000000 1 3", "rule" },
	{ "ban 192.0.2.1 abcdefghijklmnopqrstuvwxyz0123456789 1700000000.000000 1700003600.000000 1 3", "rule" },
	{ "ban 192.0.2.1 relay 1700000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 1700000000.00000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay -1700000000.000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 1700000000.0000x0 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 99999999999999999999.000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 1700003600.000000 1700000000.000000 1 3", "before" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 0 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 -1 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 1x 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 99999999999 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 1 -3", "score" },
	{ "\x01\x02\xff\xfe binary junk", "fields" },
	{ "ban", "7 fields" },
};

START_TEST(test_state_garbage)
{
	struct ban_policy *p = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	char text[1024];
	struct wb_addr g1 = A("192.0.2.201"), g2 = A("192.0.2.202");

	(void)snprintf(text, sizeof(text), "wireban-state 1\n"
	    "# a comment\n\n"
	    "ban 192.0.2.201 relay 1700000000.000000 1700003600.000000 1 3\n"
	    "%s\n"
	    "past 192.0.2.202 auth 1690000000.000000 1690003600.000000 2 3\n",
	    garbage[_i].line);
	write_file(path, text);
	ck_assert_int_eq(ban_state_load(p, path, &st), 0);
	ck_assert_uint_eq(st.bad, 1);
	ck_assert_uint_eq(st.active, 1);
	ck_assert_uint_eq(st.history, 1);
	ck_assert(ban_policy_get(p, &g1, NULL));
	ck_assert(!ban_policy_get(p, &g2, NULL));
	ck_assert_int_eq(log_lines, 1);
	{
		char where[PATH_MAX + 16];

		(void)snprintf(where, sizeof(where), "%s:5: ", path);
		ck_assert_msg(strncmp(log_last, where, strlen(where)) == 0,
		    "log: %s", log_last);
		ck_assert_msg(strstr(log_last, garbage[_i].why) != NULL,
		    "log: %s", log_last);
	}
	ban_policy_free(p);
}
END_TEST

/* Whole-file problems: rejected with one line, nothing restored. */
static const struct {
	const char	*text;
	int		 rc;
	size_t		 bad;
} files[] = {
	{ "", -1, 0 },
	{ "wireban-state 2\nban 192.0.2.1 r 1.000000 2.000000 1 3\n", -1, 0 },
	{ "wireban-state\n", -1, 0 },
	{ "wireban-state 1 x\n", -1, 0 },
	{ "iptables-save v1\n", -1, 0 },
	{ "ban 192.0.2.1 r 1.000000 2.000000 1 3\n", -1, 0 },
	{ "wireban-state 1\n", 0, 0 },
	/* No final newline: the last line still counts. */
	{ "wireban-state 1\nban 192.0.2.1 r 1.000000 2.000000 1 3", 0, 0 },
	{ "wireban-state 1\r\nban 192.0.2.1 r 1.000000 2.000000 1 3\r\n", 0, 0 },
};

START_TEST(test_state_files)
{
	struct ban_policy *p = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;

	write_file(path, files[_i].text);
	ck_assert_int_eq(ban_state_load(p, path, &st), files[_i].rc);
	ck_assert_uint_eq(st.bad, files[_i].bad);
	if (files[_i].rc != 0)
		ck_assert_int_eq(log_lines, 1);
	ban_policy_free(p);
}
END_TEST

START_TEST(test_state_long_line)
{
	struct ban_policy *p = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	static char text[8192];
	struct wb_addr a = A("192.0.2.1");
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "wireban-state 1\nban ");
	memset(text + n, 'x', 5000);
	n += 5000;
	(void)snprintf(text + n, sizeof(text) - n,
	    "\nban 192.0.2.1 r 1.000000 2.000000 1 3\n");
	write_file(path, text);
	ck_assert_int_eq(ban_state_load(p, path, &st), 0);
	ck_assert_uint_eq(st.bad, 1);
	ck_assert_uint_eq(st.active, 1);
	ck_assert(ban_policy_get(p, &a, NULL));
	ban_policy_free(p);
}
END_TEST

/* A state line for an address now in ignoreip is refused, not banned. */
START_TEST(test_state_refused)
{
	struct ban_policy *p = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;

	ck_assert_int_eq(ban_policy_ignore(p, "192.0.2.0/24"), 0);
	write_file(path, "wireban-state 1\n"
	    "ban 192.0.2.1 r 1.000000 2.000000 1 3\n"
	    "ban 198.51.100.1 r 1.000000 2.000000 1 3\n");
	ck_assert_int_eq(ban_state_load(p, path, &st), 0);
	ck_assert_uint_eq(st.refused, 1);
	ck_assert_uint_eq(st.active, 1);
	ban_policy_free(p);
}
END_TEST

/*
 * Crash safety: a child saves two different states in turn as fast as
 * it can and is killed with SIGKILL at an arbitrary moment (after a
 * random number of completed saves, plus a random spin). Each time the
 * file must load cleanly and hold exactly one of the two states.
 */
START_TEST(test_state_crash)
{
	struct ban_policy *pa = sample_policy(0), *pb = sample_policy(1);
	const char *path = tmp_path("state");
	static struct dump da, db, dg;
	unsigned seed = 12345, round;
	unsigned seen_a = 0, seen_b = 0;

	dump_policy(pa, &da);
	dump_policy(pb, &db);
	ck_assert_str_ne(da.buf, db.buf);
	ck_assert_int_eq(ban_state_save(pa, path), 0);
	for (round = 0; round < 150; round++) {
		volatile unsigned sink = 0;
		unsigned spin, k, i;
		int fds[2], status;
		pid_t pid;
		char c;

		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			unsigned n;

			close(fds[0]);
			for (n = 0;; n++) {
				if (ban_state_save(n % 2 ? pa : pb, path) != 0)
					_exit(1);
				if (write(fds[1], "x", 1) != 1)
					_exit(2);
			}
		}
		close(fds[1]);
		k = 1 + (unsigned)rand_r(&seed) % 3;
		for (i = 0; i < k; i++)
			ck_assert_int_eq(read(fds[0], &c, 1), 1);
		spin = (unsigned)rand_r(&seed) % 200000;
		for (i = 0; i < spin; i++)
			sink++;
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		close(fds[0]);
		{
			struct ban_policy *q = policy(0, 0);
			struct ban_state_stats st;

			ck_assert_int_eq(ban_state_load(q, path, &st), 0);
			ck_assert_uint_eq(st.bad, 0);
			dump_policy(q, &dg);
			if (strcmp(dg.buf, da.buf) == 0)
				seen_a++;
			else if (strcmp(dg.buf, db.buf) == 0)
				seen_b++;
			else
				ck_abort_msg("round %u: a state that is "
				    "neither:\n%s", round, dg.buf);
			ban_policy_free(q);
		}
	}
	ck_assert_uint_eq(seen_a + seen_b, 150);
	ck_assert_uint_gt(seen_a, 0);
	ck_assert_uint_gt(seen_b, 0);
	ck_assert_int_eq(log_lines, 0);
	ban_policy_free(pa);
	ban_policy_free(pb);
}
END_TEST

/* ---- reconcile with the record backend ---------------------------------- */

START_TEST(test_reconcile)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_fw_config fc;
	struct collect unbanned = { .n = 0 };
	struct ban b;
	const struct ban_rec_call *call;
	size_t i, nsync = 0, nunban = 0;
	wb_usec now = T0 + S(1000);

	ban_fw_config_defaults(&fc);
	b = mkban("192.0.2.1", "relay", T0, S(3600), 1, 3);	/* live */
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	b = mkban("192.0.2.2", "auth", T0, S(500), 1, 3);	/* expired */
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	b = mkban("2001:db8::3", "rbl", T0, S(7200), 2, 3);	/* live */
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	b = mkban("192.0.2.4", "sync", T0 - S(9000), S(60), 1, 3); /* past */
	ck_assert_int_eq(ban_policy_restore(p, &b, false), 0);

	ck_assert_int_eq(ban_backend_record.open(&fc), 0);
	/* The firewall holds a stale rule the state does not know. */
	b = mkban("203.0.113.66", "old", T0, S(60), 1, 3);
	ck_assert_int_eq(ban_backend_record.ban(&b), 0);
	ck_assert_int_eq(ban_reconcile(p, &ban_backend_record, now, collect,
	    &unbanned), 0);
	ck_assert_uint_eq(unbanned.n, 1);
	b.addr = A("192.0.2.2");
	ck_assert(wb_addr_eq(&unbanned.v[0].addr, &b.addr));
	ck_assert_str_eq(unbanned.v[0].rule, "auth");
	for (i = 0; (call = ban_record_get(i)) != NULL; i++) {
		if (call->op == BAN_REC_SYNC) {
			nsync++;
			ck_assert_uint_eq(call->n, 2);
			/* The backend sees the time left: start moved to now. */
			ck_assert_int_eq(call->ban.start, now);
			ck_assert_int_eq(call->ban.expiry, T0 +
			    (call->ban.addr.family == AF_INET ? S(3600) :
			    S(7200)));
		}
		if (call->op == BAN_REC_UNBAN)
			nunban++;
	}
	ck_assert_uint_eq(nsync, 2);
	ck_assert_uint_eq(nunban, 1);
	ck_assert_uint_eq(ban_record_banned(), 2);
	b.addr = A("192.0.2.1");
	ck_assert(ban_record_has(&b.addr));
	b.addr = A("2001:db8::3");
	ck_assert(ban_record_has(&b.addr));
	b.addr = A("203.0.113.66");
	ck_assert(!ban_record_has(&b.addr));
	/* The history survives, so the next ban of .4 is its second. */
	b.addr = A("192.0.2.4");
	ck_assert_int_eq(ban_policy_offence(p, &b.addr, "x", 3, now, &b), 1);
	ck_assert_int_eq(b.count, 2);
	/* A failing backend makes reconcile fail, logged. */
	ban_record_fail(true);
	log_lines = 0;
	ck_assert_int_eq(ban_reconcile(p, &ban_backend_record, now, NULL,
	    NULL), -1);
	ck_assert_int_ge(log_lines, 1);
	ban_record_fail(false);
	ban_backend_record.close();
	ban_policy_free(p);
}
END_TEST

/* dry-run reconciles too; the policy keeps the true start. */
START_TEST(test_reconcile_dryrun)
{
	struct ban_policy *p = policy(0, 0);
	struct ban b;

	b = mkban("192.0.2.1", "relay", T0, S(3600), 1, 3);
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	ck_assert_int_eq(ban_reconcile(p, &ban_backend_dryrun, T0 + S(600),
	    NULL, NULL), 0);
	ck_assert(ban_policy_get(p, &b.addr, &b));
	ck_assert_int_eq(b.start, T0);
	ck_assert_ptr_nonnull(strstr(log_last, "1 bans restored"));
	ban_policy_free(p);
}
END_TEST

/* The daemon's loop in small: offence -> ban -> expire -> unban. */
struct flow {
	const struct ban_backend *b;
	int	 errors;
};

static void
flow_ban(void *arg, const struct ban *b)
{
	struct flow *f = arg;

	if (f->b->ban(b) != 0)
		f->errors++;
}

static void
flow_unban(void *arg, const struct ban *b)
{
	struct flow *f = arg;

	if (f->b->unban(b) != 0)
		f->errors++;
}

START_TEST(test_record_flow)
{
	struct ban_policy *p = policy(0, 0);
	struct flow f = { &ban_backend_record, 0 };
	struct ban_fw_config fc;
	struct wb_addr a = A("192.0.2.9"), b6 = A("2001:db8::9");
	const struct ban_rec_call *c;

	ban_fw_config_defaults(&fc);
	ck_assert_ptr_eq(ban_backend_find("record"), &ban_backend_record);
	ck_assert_int_eq(ban_backend_record.open(&fc), 0);
	ban_policy_set_hook(p, flow_ban, &f);
	ck_assert_int_eq(ban_policy_offence(p, &a, "relay", 3, T0, NULL), 1);
	ck_assert_int_eq(ban_policy_offence(p, &b6, "auth", 1, T0, NULL), 0);
	ck_assert_int_eq(ban_policy_offence(p, &b6, "auth", 1, T0 + 1, NULL),
	    0);
	ck_assert_int_eq(ban_policy_offence(p, &b6, "auth", 1, T0 + 2, NULL),
	    1);
	ck_assert_int_eq(ban_backend_record.commit(), 0);
	ck_assert(ban_record_has(&a));
	ck_assert(ban_record_has(&b6));
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(3600), flow_unban, &f),
	    1);
	ck_assert(!ban_record_has(&a));
	ck_assert(ban_record_has(&b6));
	ck_assert_int_eq(f.errors, 0);
	ck_assert_int_eq(ban_backend_record.flush(), 0);
	ck_assert_uint_eq(ban_record_banned(), 0);
	ban_backend_record.close();
	ck_assert_uint_eq(ban_record_count(), 7);
	c = ban_record_get(0);
	ck_assert_int_eq(c->op, BAN_REC_OPEN);
	c = ban_record_get(1);
	ck_assert_int_eq(c->op, BAN_REC_BAN);
	ck_assert_str_eq(c->ban.rule, "relay");
	ck_assert_int_eq(c->ban.expiry - c->ban.start, S(3600));
	c = ban_record_get(2);
	ck_assert_int_eq(c->op, BAN_REC_BAN);
	ck_assert(wb_addr_eq(&c->ban.addr, &b6));
	ck_assert_int_eq(ban_record_get(3)->op, BAN_REC_COMMIT);
	ck_assert_int_eq(ban_record_get(4)->op, BAN_REC_UNBAN);
	ck_assert_int_eq(ban_record_get(5)->op, BAN_REC_FLUSH);
	ck_assert_int_eq(ban_record_get(6)->op, BAN_REC_CLOSE);
	ck_assert_ptr_null(ban_record_get(7));
	ban_policy_free(p);
}
END_TEST

/* ---- the backend table ------------------------------------------------ */

static const char *const backend_names[] = {
	"iptables", "dry-run", "exec", "record",
};

START_TEST(test_backend_table)
{
	const struct ban_backend *b = ban_backend_find(backend_names[_i]);
	size_t i, n = 0;

	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->name, backend_names[_i]);
	ck_assert(b->open && b->ban && b->unban && b->commit && b->sync &&
	    b->flush && b->close);
	for (i = 0; ban_backends[i] != NULL; i++)
		if (strcmp(ban_backends[i]->name, backend_names[_i]) == 0)
			n++;
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(ban_backend_find("nftables"));
	ck_assert_ptr_null(ban_backend_find(NULL));
}
END_TEST

/*
 * Configurations the iptables backend must refuse before it takes the
 * lock or reads a table: safe to run as root on the host.
 */
static const struct {
	const char	*chain;
	bool		 allports;
	size_t		 nports;
	uint16_t	 port0;
} bad_fw[] = {
	{ "", false, 3, 25 },
	{ NULL, false, 3, 25 },
	{ "INPUT", false, 3, 25 },
	{ "DROP", false, 3, 25 },
	{ "has space", false, 3, 25 },
	{ "-wireban", false, 3, 25 },
	{ "wireban;x", false, 3, 25 },
	{ "abcdefghijklmnopqrstuvwxyz0123", false, 3, 25 },
	{ "wireban", false, 0, 25 },
	{ "wireban", false, 16, 25 },
	{ "wireban", false, 3, 0 },
};

START_TEST(test_iptables_refuses)
{
	struct ban_fw_config c;
	struct ban b = mkban("192.0.2.1", "r", T0, S(1), 1, 1);

	ban_fw_config_defaults(&c);
	c.chain = bad_fw[_i].chain;
	c.allports = bad_fw[_i].allports;
	c.nports = bad_fw[_i].nports;
	c.ports[0] = bad_fw[_i].port0;
	ck_assert_int_eq(ban_backend_iptables.open(&c), -1);
	ck_assert_int_eq(log_lines, 1);
	/* Not open: nothing is staged, nothing committed. */
	ck_assert_int_eq(ban_backend_iptables.ban(&b), -1);
	ck_assert_int_eq(ban_backend_iptables.commit(), 0);
	ck_assert_int_eq(ban_backend_iptables.sync(&b, 1), -1);
	ban_backend_iptables.close();
}
END_TEST

START_TEST(test_dryrun)
{
	struct ban_fw_config c;
	struct ban b = mkban("192.0.2.1", "relay", T0, S(3600), 1, 3);

	ban_fw_config_defaults(&c);
	ck_assert_int_eq(ban_backend_dryrun.open(&c), 0);
	ck_assert_int_eq(ban_backend_dryrun.ban(&b), 0);
	ck_assert_str_eq(log_last, "dry-run: would ban 192.0.2.1 (relay) for "
	    "3600s");
	ck_assert_int_eq(ban_backend_dryrun.unban(&b), 0);
	ck_assert_int_eq(ban_backend_dryrun.commit(), 0);
	ck_assert_int_eq(ban_backend_dryrun.sync(&b, 1), 0);
	ck_assert_int_eq(ban_backend_dryrun.flush(), 0);
	ban_backend_dryrun.close();
	ck_assert_int_eq(log_lines, 3);
}
END_TEST

/* ---- exec backend ------------------------------------------------------ */

/* Rule names are passed as $2, literally, whatever they contain. */
static const char *const exec_rules[] = {
	"relay",
	"a;touch pwned",
	"$(touch pwned)",
	"`touch pwned`",
	"x' ; touch pwned ; '",
	"x\" && touch pwned",
	"a b  c",
	"|touch pwned",
	"* ?",
};

START_TEST(test_exec_literal)
{
	struct ban_fw_config c;
	struct ban b = mkban("192.0.2.7", "", T0, S(3600), 1, 3);
	char cmd[PATH_MAX * 2 + 64], want[256];
	const char *out;

	(void)tmp_path("x");
	(void)snprintf(cmd, sizeof(cmd), "cd '%s' && printf '%%s|%%s|%%s|%%s\\n' "
	    "\"$0\" \"$1\" \"$2\" \"$3\" >> out", tmpdir);
	ban_fw_config_defaults(&c);
	c.ban_command = cmd;
	c.unban_command = cmd;
	(void)snprintf(b.rule, sizeof(b.rule), "%s", exec_rules[_i]);
	ck_assert_int_eq(ban_backend_exec.open(&c), 0);
	ck_assert_int_eq(ban_backend_exec.ban(&b), 0);
	b.addr = A("2001:db8::7");
	b.expiry = b.start + S(90);
	ck_assert_int_eq(ban_backend_exec.unban(&b), 0);
	ban_backend_exec.close();
	out = read_file(tmp_path("out"));
	ck_assert_ptr_nonnull(out);
	(void)snprintf(want, sizeof(want),
	    "wireban|192.0.2.7|%s|3600\nwireban|2001:db8::7|%s|90\n",
	    exec_rules[_i], exec_rules[_i]);
	ck_assert_str_eq(out, want);
	ck_assert_int_ne(access(tmp_path("pwned"), F_OK), 0);
	ck_assert_int_eq(log_lines, 0);
}
END_TEST

static const struct {
	const char	*cmd;
	int		 timeout_ms;
	const char	*log;
} exec_fails[] = {
	{ "exit 3", 10000, "exited with 3" },
	{ "kill -9 $$", 10000, "signal 9" },
	{ "sleep 30", 200, "killed after 200 ms" },
	{ "sleep 30 & sleep 30; wait", 200, "killed after 200 ms" },
	{ "/nonexistent/command 2>/dev/null", 10000, "exited with 127" },
};

START_TEST(test_exec_failures)
{
	struct ban_fw_config c;
	struct ban b = mkban("192.0.2.7", "relay", T0, S(3600), 1, 3);
	struct timespec t0, t1;
	double took;

	ban_fw_config_defaults(&c);
	c.ban_command = exec_fails[_i].cmd;
	c.exec_timeout_ms = exec_fails[_i].timeout_ms;
	ck_assert_int_eq(ban_backend_exec.open(&c), 0);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(ban_backend_exec.ban(&b), -1);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(took < 5.0, "took %.1f s", took);
	ck_assert_int_eq(log_lines, 1);
	ck_assert_msg(strstr(log_last, exec_fails[_i].log) != NULL, "log: %s",
	    log_last);
	/* No unban_command: unban does nothing and succeeds. */
	ck_assert_int_eq(ban_backend_exec.unban(&b), 0);
	ban_backend_exec.close();
	/* Every child was reaped. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

START_TEST(test_exec_needs_command)
{
	struct ban_fw_config c;
	struct ban b = mkban("192.0.2.7", "relay", T0, S(3600), 1, 3);

	ban_fw_config_defaults(&c);
	ck_assert_int_eq(ban_backend_exec.open(&c), -1);
	ck_assert_int_eq(log_lines, 1);
	ck_assert_int_eq(ban_backend_exec.ban(&b), -1);
	c.ban_command = "";
	ck_assert_int_eq(ban_backend_exec.open(&c), -1);
}
END_TEST

/* The child sees only $0..$3, stdin at EOF, a fixed PATH. */
START_TEST(test_exec_environment)
{
	struct ban_fw_config c;
	struct ban b = mkban("192.0.2.7", "relay", T0, S(3600), 1, 3);
	char cmd[PATH_MAX * 2 + 128];
	const char *out;

	(void)tmp_path("x");
	setenv("WIREBAN_SECRET", "leak", 1);
	(void)snprintf(cmd, sizeof(cmd), "cd '%s' && { echo \"$#\"; "
	    "echo \"${WIREBAN_SECRET:-none}\"; cat; echo \"$PATH\"; "
	    "ls /proc/self/fd | wc -l; } > out 2>&1", tmpdir);
	ban_fw_config_defaults(&c);
	c.ban_command = cmd;
	ck_assert_int_eq(ban_backend_exec.open(&c), 0);
	ck_assert_int_eq(ban_backend_exec.ban(&b), 0);
	ban_backend_exec.close();
	out = read_file(tmp_path("out"));
	ck_assert_ptr_nonnull(out);
	/* 3 args, no secret, empty stdin, PATH, fds 0 1 2 + ls's own. */
	ck_assert_msg(strncmp(out, "3\nnone\n/usr/local/sbin:", 23) == 0,
	    "%s", out);
	ck_assert_msg(strstr(out, "\n4\n") != NULL, "%s", out);
}
END_TEST

/* ---- iptables rule layout ---------------------------------------------- */

START_TEST(test_rule_ban_v4)
{
	union ban_rulebuf rb;
	struct wb_addr a = A("192.0.2.7"), got;
	const struct ipt_entry *e = (const struct ipt_entry *)rb.bytes;
	const struct xt_standard_target *t;
	size_t n;

	n = ban_rule_ban(&rb, &a, BAN_TARGET_DROP);
	ck_assert_uint_eq(n, sizeof(struct ipt_entry) +
	    XT_ALIGN(sizeof(struct xt_standard_target)));
	ck_assert_uint_eq(e->target_offset, sizeof(struct ipt_entry));
	ck_assert_uint_eq(e->next_offset, n);
	ck_assert_uint_eq(e->ip.smsk.s_addr, 0xffffffffu);
	ck_assert_uint_eq(e->ip.proto, 0);
	t = (const struct xt_standard_target *)(rb.bytes + e->target_offset);
	ck_assert_str_eq(t->target.u.user.name, "DROP");
	ck_assert_uint_eq(t->target.u.user.target_size,
	    XT_ALIGN(sizeof(struct xt_standard_target)));
	ck_assert(ban_rule_source(e, AF_INET, &got));
	ck_assert(wb_addr_eq(&got, &a));
	/* Everything past the rule is zero. */
	for (; n < BAN_RULE_BUF; n++)
		ck_assert_uint_eq(rb.bytes[n], 0);
}
END_TEST

START_TEST(test_rule_reject)
{
	union ban_rulebuf rb;
	struct wb_addr a = A("192.0.2.7"), a6 = A("2001:db8::7"), got;
	const struct xt_entry_target *t;
	size_t n;

	n = ban_rule_ban(&rb, &a, BAN_TARGET_REJECT);
	{
		const struct ipt_entry *e = (const struct ipt_entry *)rb.bytes;
		const struct ipt_reject_info *ri;

		ck_assert_uint_eq(e->ip.proto, IPPROTO_TCP);
		t = (const struct xt_entry_target *)(rb.bytes +
		    e->target_offset);
		ck_assert_str_eq(t->u.user.name, "REJECT");
		ck_assert_uint_eq(t->u.user.target_size,
		    XT_ALIGN(sizeof(*t)) + XT_ALIGN(sizeof(*ri)));
		ri = (const struct ipt_reject_info *)t->data;
		ck_assert_int_eq(ri->with, IPT_TCP_RESET);
		ck_assert_uint_eq(n, e->target_offset + t->u.user.target_size);
	}
	n = ban_rule_ban(&rb, &a6, BAN_TARGET_REJECT);
	{
		const struct ip6t_entry *e =
		    (const struct ip6t_entry *)rb.bytes;

		ck_assert_uint_eq(e->target_offset, sizeof(*e));
		ck_assert_uint_eq(e->ipv6.proto, IPPROTO_TCP);
		ck_assert(e->ipv6.flags & IP6T_F_PROTO);
		ck_assert(ban_rule_source(e, AF_INET6, &got));
		ck_assert(wb_addr_eq(&got, &a6));
		ck_assert(!ban_rule_source(e, AF_INET, &got) ||
		    !wb_addr_eq(&got, &a6));
		ck_assert_uint_eq(n, e->next_offset);
	}
	memset(&a, 0, sizeof(a));
	ck_assert_uint_eq(ban_rule_ban(&rb, &a, BAN_TARGET_DROP), 0);
}
END_TEST

static const struct {
	int		 af;
	bool		 allports;
	size_t		 nports;
	const char	*match;		/* NULL: none */
	uint8_t		 revision;
	size_t		 datalen;
} jumps[] = {
	{ AF_INET, false, 3, "multiport", 1, sizeof(struct xt_multiport_v1) },
	{ AF_INET, false, 15, "multiport", 1, sizeof(struct xt_multiport_v1) },
	{ AF_INET, false, 1, "tcp", 0, sizeof(struct xt_tcp) },
	{ AF_INET, true, 0, NULL, 0, 0 },
	{ AF_INET6, false, 3, "multiport", 1, sizeof(struct xt_multiport_v1) },
	{ AF_INET6, false, 1, "tcp", 0, sizeof(struct xt_tcp) },
	{ AF_INET6, true, 3, NULL, 0, 0 },
};

START_TEST(test_rule_jump)
{
	static const uint16_t ports[BAN_PORTS_MAX] = {
		25, 465, 587, 2525, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36
	};
	union ban_rulebuf rb;
	size_t n, hdr, toff, next;
	const struct xt_standard_target *t;

	n = ban_rule_jump(&rb, jumps[_i].af, "wireban", jumps[_i].allports,
	    ports, jumps[_i].nports);
	ck_assert_uint_gt(n, 0);
	if (jumps[_i].af == AF_INET) {
		const struct ipt_entry *e = (const struct ipt_entry *)rb.bytes;

		hdr = sizeof(*e);
		toff = e->target_offset;
		next = e->next_offset;
		ck_assert_uint_eq(e->ip.proto, IPPROTO_TCP);
	} else {
		const struct ip6t_entry *e =
		    (const struct ip6t_entry *)rb.bytes;

		hdr = sizeof(*e);
		toff = e->target_offset;
		next = e->next_offset;
		ck_assert_uint_eq(e->ipv6.proto, IPPROTO_TCP);
		ck_assert(e->ipv6.flags & IP6T_F_PROTO);
	}
	ck_assert_uint_eq(next, n);
	ck_assert_uint_eq(toff % 8, 0);
	if (jumps[_i].match == NULL) {
		ck_assert_uint_eq(toff, hdr);
	} else {
		const struct xt_entry_match *m =
		    (const struct xt_entry_match *)(rb.bytes + hdr);

		ck_assert_str_eq(m->u.user.name, jumps[_i].match);
		ck_assert_uint_eq(m->u.user.revision, jumps[_i].revision);
		ck_assert_uint_eq(m->u.user.match_size,
		    XT_ALIGN(sizeof(*m)) + XT_ALIGN(jumps[_i].datalen));
		ck_assert_uint_eq(toff, hdr + m->u.user.match_size);
		if (strcmp(jumps[_i].match, "multiport") == 0) {
			const struct xt_multiport_v1 *mp =
			    (const struct xt_multiport_v1 *)m->data;
			size_t i;

			ck_assert_uint_eq(mp->flags, XT_MULTIPORT_DESTINATION);
			ck_assert_uint_eq(mp->count, jumps[_i].nports);
			for (i = 0; i < jumps[_i].nports; i++)
				ck_assert_uint_eq(mp->ports[i], ports[i]);
			ck_assert_uint_eq(mp->invert, 0);
		} else {
			const struct xt_tcp *tcp =
			    (const struct xt_tcp *)m->data;

			ck_assert_uint_eq(tcp->spts[0], 0);
			ck_assert_uint_eq(tcp->spts[1], 0xffff);
			ck_assert_uint_eq(tcp->dpts[0], 25);
			ck_assert_uint_eq(tcp->dpts[1], 25);
			ck_assert_uint_eq(tcp->invflags, 0);
		}
	}
	t = (const struct xt_standard_target *)(rb.bytes + toff);
	ck_assert_str_eq(t->target.u.user.name, "wireban");
	ck_assert_uint_eq(toff + t->target.u.user.target_size, next);
}
END_TEST

START_TEST(test_rule_jump_bad)
{
	static const uint16_t ports[16] = { 25 };
	union ban_rulebuf rb;

	ck_assert_uint_eq(ban_rule_jump(&rb, AF_INET, "wireban", false, ports,
	    0), 0);
	ck_assert_uint_eq(ban_rule_jump(&rb, AF_INET, "wireban", false, ports,
	    16), 0);
	ck_assert_uint_eq(ban_rule_jump(&rb, AF_INET, "", true, ports, 0), 0);
	ck_assert_uint_eq(ban_rule_jump(&rb, AF_INET,
	    "abcdefghijklmnopqrstuvwxyz0123", true, ports, 0), 0);
	ck_assert_uint_eq(ban_rule_jump(&rb, AF_UNIX, "wireban", true, ports,
	    0), 0);
}
END_TEST

/* ---- log hook ---------------------------------------------------------- */

START_TEST(test_log_default)
{
	struct ban_policy *p = policy(0, 0);

	const char *path = tmp_path("stderr");
	int fd, saved;

	/* The default writes "wireban: LINE" to stderr. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	ban_log_set(NULL, NULL);
	ck_assert_int_eq(ban_policy_ignore(p, "junk"), -1);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	close(fd);
	ck_assert_str_eq(read_file(path),
	    "wireban: policy: ignoreip: bad address or CIDR \"junk\"\n");
	ck_assert_int_eq(log_lines, 0);
	/* And back to the hook. */
	ban_log_set(log_hook, NULL);
	ck_assert_int_eq(ban_policy_ignore(p, "junk"), -1);
	ck_assert_int_eq(log_lines, 1);
	ck_assert_ptr_nonnull(strstr(log_last, "junk"));
	ban_policy_free(p);
	ban_policy_free(NULL);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

#define N(a)	((int)(sizeof(a) / sizeof((a)[0])))

static TCase *
tc(Suite *s, const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, setup, teardown);
	suite_add_tcase(s, t);
	return t;
}

static Suite *
bans_suite(void)
{
	Suite *s = suite_create("bans");
	TCase *t;

	t = tc(s, "util");
	tcase_add_loop_test(t, test_duration, 0, N(durations));
	tcase_add_loop_test(t, test_cidr, 0, N(cidrs));
	tcase_add_test(t, test_log_default);

	t = tc(s, "window");
	tcase_add_loop_test(t, test_window, 0, N(windows));
	tcase_add_test(t, test_window_decision);
	tcase_add_test(t, test_ring_keeps_newest);

	t = tc(s, "maxretry");
	tcase_add_loop_test(t, test_maxretry, 0, N(maxretries));

	t = tc(s, "increment");
	tcase_add_loop_test(t, test_duration_table, 0, N(durs));
	tcase_add_test(t, test_increment);

	t = tc(s, "ignoreip");
	tcase_add_loop_test(t, test_ignoreip, 0, N(ignores));
	tcase_add_loop_test(t, test_ignoreip_bad, 0, N(bad_ignores));

	t = tc(s, "manual");
	tcase_add_test(t, test_manual);
	tcase_add_test(t, test_unban_resets_window);

	t = tc(s, "expiry");
	tcase_add_test(t, test_expiry);
	tcase_add_test(t, test_expiry_forgets);

	t = tc(s, "cap");
	tcase_add_test(t, test_cap_evicts_oldest);
	tcase_add_test(t, test_cap_keeps_bans);
	tcase_add_test(t, test_cap_many);

	t = tc(s, "config");
	tcase_add_loop_test(t, test_bad_config, 0, N(bad_configs));

	t = tc(s, "state");
	tcase_add_test(t, test_state_roundtrip);
	tcase_add_test(t, test_state_missing_and_unwritable);
	tcase_add_loop_test(t, test_state_garbage, 0, N(garbage));
	tcase_add_loop_test(t, test_state_files, 0, N(files));
	tcase_add_test(t, test_state_long_line);
	tcase_add_test(t, test_state_refused);

	t = tc(s, "crash");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_state_crash);

	t = tc(s, "reconcile");
	tcase_add_test(t, test_reconcile);
	tcase_add_test(t, test_reconcile_dryrun);

	t = tc(s, "backends");
	tcase_add_loop_test(t, test_backend_table, 0, N(backend_names));
	tcase_add_test(t, test_record_flow);
	tcase_add_test(t, test_dryrun);
	tcase_add_loop_test(t, test_iptables_refuses, 0, N(bad_fw));

	t = tc(s, "exec");
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, test_exec_literal, 0, N(exec_rules));
	tcase_add_loop_test(t, test_exec_failures, 0, N(exec_fails));
	tcase_add_test(t, test_exec_needs_command);
	tcase_add_test(t, test_exec_environment);

	t = tc(s, "rules");
	tcase_add_test(t, test_rule_ban_v4);
	tcase_add_test(t, test_rule_reject);
	tcase_add_loop_test(t, test_rule_jump, 0, N(jumps));
	tcase_add_test(t, test_rule_jump_bad);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(bans_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
