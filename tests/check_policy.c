/*
 * check_policy.c - unit tests of the policy of bans/ (offence windows,
 * weights, the increment, ignoreip, manual bans, expiry, the cap) and of
 * its parser of CIDRs. Time is always a number the test
 * passes: no test sleeps.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"
#include "../bans/bans_int.h"
#include "bans_fixture.h"

/* ---- util: CIDRs ---------------------------------------- */


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
		ck_assert_int_eq(ban_policy_ban(p, &a, -1, NULL, S(60), T0, NULL),
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
	ck_assert_int_eq(ban_policy_ban(p, &a, -1, NULL, S(90), T0, &b), 1);
	ck_assert_str_eq(b.rule, "manual");
	ck_assert_int_eq(b.expiry, T0 + S(90));
	ck_assert_int_eq(b.count, 1);
	ck_assert_int_eq(hook_calls, 1);
	ck_assert(wb_addr_eq(&hook_last.addr, &a));
	/* Again: no new ban, the expiry moves, no hook. */
	ck_assert_int_eq(ban_policy_ban(p, &a, -1, NULL, S(500), T0 + S(10), &b),
	    0);
	ck_assert_int_eq(b.expiry, T0 + S(510));
	ck_assert_int_eq(hook_calls, 1);
	/* Unban: 1, then 0. */
	ck_assert_int_eq(ban_policy_unban(p, &a, -1, T0 + S(20), &b), 1);
	ck_assert_int_eq(b.expiry, T0 + S(20));
	ck_assert_int_eq(ban_policy_unban(p, &a, -1, T0 + S(21), &b), 0);
	ck_assert(!ban_policy_get(p, &a, NULL));
	/* Duration 0 takes the increment: the second ban is 2 h. */
	ck_assert_int_eq(ban_policy_ban(p, &a, -1, "ops", 0, T0 + S(30), &b), 1);
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
	ck_assert_int_eq(ban_policy_ban(p, &a, -1, NULL, S(1), T0, NULL), -1);
	ck_assert_int_eq(ban_policy_offence(p, &a, "x", 1, T0, NULL), -1);
	ck_assert_int_eq(ban_policy_unban(p, &a, -1, T0, NULL), 0);
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
	ck_assert_int_eq(ban_policy_unban(p, &a, -1, T0 + 2, NULL), 1);
	ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 1, T0 + 3, NULL),
	    0);
	ck_assert_int_eq(ban_policy_offence(p, &a, "auth", 1, T0 + 4, NULL),
	    0);
	ban_policy_free(p);
}
END_TEST

/* ---- policy: expiry ---------------------------------------------------- */

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
	ck_assert_int_eq(ban_policy_ban(p, &a, -1, NULL, S(300), T0, NULL), 1);
	ck_assert_int_eq(ban_policy_ban(p, &b, -1, NULL, S(100), T0, NULL), 1);
	ck_assert_int_eq(ban_policy_ban(p, &c, -1, NULL, S(200), T0, NULL), 1);
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
		ck_assert_int_eq(ban_policy_ban(p, &n, -1, NULL, S(5),
		    T0 + S(3602), NULL), -1);
		/* The cap said once that it was reached, then the refusal. */
		ck_assert_int_eq(log_lines, 2);
		ck_assert_ptr_nonnull(strstr(log_last, "every tracked"));
		ban_policy_stats(p, &st);
		ck_assert_uint_ge(st.full, 1);
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

	/* 20,000 different /64s (one /64 is one offender). */
	for (i = 0; i < 20000; i++) {
		a.a[4] = (uint8_t)(i >> 24);
		a.a[5] = (uint8_t)(i >> 16);
		a.a[6] = (uint8_t)(i >> 8);
		a.a[7] = (uint8_t)i;
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

static Suite *
suite(void)
{
	Suite *s = suite_create("policy");
	TCase *t;

	t = tc(s, "util");
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
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
