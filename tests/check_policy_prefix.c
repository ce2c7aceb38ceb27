/*
 * check_policy_prefix.c - unit tests of the policy of bans/ that concern
 * what one ban covers (an address or its prefix, ipv4_prefix and
 * ipv6_prefix, the ranges never banned) and of the policy's refusal of
 * a bad configuration. Time is always a number the test passes.
 */
#include <check.h>
#include <string.h>

#include "bans.h"
#include "../bans/bans_int.h"
#include "bans_fixture.h"

/* ---- policy: prefixes -------------------------------------------------- */

static struct ban_policy *
prefix_policy(int prefix4, int prefix6, int maxretry)
{
	struct ban_policy_config c;
	struct ban_policy *p;
	char err[128];

	ban_policy_defaults(&c);
	c.seed = 42;
	c.maxretry = maxretry;
	c.prefix4 = prefix4;
	c.prefix6 = prefix6;
	p = ban_policy_new(&c, err, sizeof(err));
	ck_assert_msg(p != NULL, "ban_policy_new: %s", err);
	return p;
}

/*
 * Offences from addr1 then addr2 (weight 1 each, maxretry 2): when both
 * are in one prefix of the policy the second bans it, and the ban is
 * what `want` says (prefix text), else nothing is banned.
 */
static const struct {
	int		 p4, p6;
	const char	*ignore;	/* ignoreip, or NULL */
	const char	*addr1, *addr2;
	const char	*want;		/* the ban, or NULL: none */
} groups[] = {
	/* The /64 is one offender: rotating inside it does not help. */
	{ 32, 64, NULL, "2001:db8:1:2::5", "2001:db8:1:2:ffff::9",
	    "2001:db8:1:2::/64" },
	{ 32, 64, NULL, "2001:db8:1:2::5", "2001:db8:1:3::5", NULL },
	{ 32, 48, NULL, "2001:db8:1:2::5", "2001:db8:1:3::5",
	    "2001:db8:1::/48" },
	{ 32, 128, NULL, "2001:db8:1:2::5", "2001:db8:1:2::6", NULL },
	{ 32, 128, NULL, "2001:db8:1:2::5", "2001:db8:1:2::5",
	    "2001:db8:1:2::5" },
	/* IPv4 is per address by default; /24 groups when asked. */
	{ 32, 64, NULL, "192.0.2.1", "192.0.2.2", NULL },
	{ 24, 64, NULL, "192.0.2.1", "192.0.2.200", "192.0.2.0/24" },
	{ 24, 64, NULL, "192.0.2.1", "192.0.3.1", NULL },
	/* An IPv4-mapped IPv6 address is its IPv4 address. */
	{ 32, 64, NULL, "::ffff:192.0.2.7", "192.0.2.7", "192.0.2.7" },
	/* A prefix holding an ignored address falls back to the address. */
	{ 32, 64, "2001:db8:1:2::1", "2001:db8:1:2::5", "2001:db8:1:2::6",
	    NULL },
	{ 32, 64, "2001:db8:1:2::1", "2001:db8:1:2::5", "2001:db8:1:2::5",
	    "2001:db8:1:2::5" },
	{ 24, 64, "192.0.2.0/28", "192.0.2.77", "192.0.2.77", "192.0.2.77" },
	/* Never banned, whatever the policy says. */
	{ 32, 64, NULL, "0.0.0.0", "0.0.0.0", NULL },
	{ 32, 64, NULL, "255.255.255.255", "255.255.255.255", NULL },
	{ 32, 64, NULL, "224.0.0.1", "224.0.0.1", NULL },
	{ 32, 64, NULL, "127.0.0.9", "127.0.0.9", NULL },
	{ 32, 64, NULL, "::1", "::1", NULL },
	{ 32, 64, NULL, "::", "::", NULL },
	{ 32, 64, NULL, "ff02::1", "ff02::1", NULL },
};

START_TEST(test_prefix_groups)
{
	struct ban_policy *p = prefix_policy(groups[_i].p4, groups[_i].p6, 2);
	struct wb_addr a1 = A(groups[_i].addr1), a2 = A(groups[_i].addr2);
	char buf[WB_PREFIX_STRLEN];
	struct ban b, got;
	int rc;

	if (groups[_i].ignore != NULL)
		ck_assert_int_eq(ban_policy_ignore(p, groups[_i].ignore), 0);
	ck_assert_int_eq(ban_policy_offence(p, &a1, "relay", 1, T0, NULL), 0);
	rc = ban_policy_offence(p, &a2, "relay", 1, T0 + 1, &b);
	if (groups[_i].want == NULL) {
		ck_assert_int_eq(rc, 0);
		ck_assert(!ban_policy_get(p, &a2, NULL));
	} else {
		ck_assert_int_eq(rc, 1);
		ck_assert_str_eq(wb_prefix_str(&b.addr, b.bits, buf),
		    groups[_i].want);
		/* Both addresses are covered by it now. */
		ck_assert(ban_policy_get(p, &a1, &got));
		ck_assert(ban_policy_get(p, &a2, &got));
		ck_assert(wb_addr_eq(&got.addr, &b.addr));
		ck_assert_int_eq(got.bits, b.bits);
	}
	ban_policy_free(p);
}
END_TEST

/* Manual prefix bans: covering lookups, offences inside, unban by address. */
START_TEST(test_prefix_manual)
{
	struct ban_policy *p = prefix_policy(32, 64, 1);
	struct wb_addr net = A("2001:db8:5::"), in = A("2001:db8:5:7::1"),
	    out = A("2001:db8:6::1"), v4 = A("198.51.100.0"),
	    v4in = A("198.51.100.20");
	struct ban_policy_stats st;
	struct ban b;

	ck_assert_int_eq(ban_policy_ban(p, &net, 48, NULL, S(60), T0, &b), 1);
	ck_assert_int_eq(b.bits, 48);
	ck_assert(ban_policy_get(p, &in, &b));
	ck_assert_int_eq(b.bits, 48);
	ck_assert(!ban_policy_get(p, &out, NULL));
	/* An offence from inside the /48 is one "while banned". */
	ck_assert_int_eq(ban_policy_offence(p, &in, "relay", 1, T0, NULL), 0);
	ban_policy_stats(p, &st);
	ck_assert_uint_eq(st.while_banned, 1);
	/* Host bits of a manual prefix are cleared. */
	ck_assert_int_eq(ban_policy_ban(p, &v4in, 24, NULL, S(60), T0, &b), 1);
	ck_assert(wb_addr_eq(&b.addr, &v4));
	/* Unban by an address inside lifts the covering ban. */
	ck_assert_int_eq(ban_policy_unban(p, &in, -1, T0 + 1, &b), 1);
	ck_assert_int_eq(b.bits, 48);
	ck_assert(!ban_policy_get(p, &in, NULL));
	/* Unban of an exact prefix that is not banned does nothing. */
	ck_assert_int_eq(ban_policy_unban(p, &v4in, 32, T0 + 1, NULL), 0);
	ck_assert_int_eq(ban_policy_unban(p, &v4in, 24, T0 + 1, NULL), 1);
	ban_policy_free(p);
}
END_TEST

/* What a manual ban refuses: never-banned ranges and ignored addresses. */
static const struct {
	const char	*addr;
	int		 bits;
} refused_bans[] = {
	{ "0.0.0.0", 32 }, { "0.0.0.0", 0 }, { "255.255.255.255", 32 },
	{ "224.0.0.1", 32 }, { "239.1.2.3", 32 }, { "127.0.0.1", 32 },
	{ "127.1.2.3", 32 }, { "::", 128 }, { "::1", 128 }, { "ff02::1", 128 },
	{ "::", 0 }, { "192.0.0.0", 2 },	/* holds 224/4... */
	{ "192.0.2.0", 24 },			/* holds the ignored .9 */
	{ "192.0.2.9", 32 },
};

START_TEST(test_prefix_refused)
{
	struct ban_policy *p = prefix_policy(32, 64, 1);
	struct wb_addr a = A(refused_bans[_i].addr);

	ck_assert_int_eq(ban_policy_ignore(p, "192.0.2.9"), 0);
	ck_assert_int_eq(ban_policy_ban(p, &a, refused_bans[_i].bits, NULL,
	    S(60), T0, NULL), -1);
	ck_assert_int_eq(log_lines, 1);
	ck_assert(!ban_policy_get(p, &a, NULL));
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
	int		 p4, p6;	/* 0: the default */
} bad_configs[] = {
	{ "maxretry", 0, S(600), S(3600), S(7200), 2, 10, 0, 0 },
	{ "maxretry", 1001, S(600), S(3600), S(7200), 2, 10, 0, 0 },
	{ "findtime", 3, 0, S(3600), S(7200), 2, 10, 0, 0 },
	{ "bantime", 3, S(600), 0, S(7200), 2, 10, 0, 0 },
	{ "bantime_factor", 3, S(600), S(3600), S(7200), 0.5, 10, 0, 0 },
	{ "bantime_max", 3, S(600), S(3600), S(60), 2, 10, 0, 0 },
	{ "max_tracked", 3, S(600), S(3600), S(7200), 2, 0, 0, 0 },
	{ "ipv4_prefix", 3, S(600), S(3600), S(7200), 2, 10, 7, 0 },
	{ "ipv4_prefix", 3, S(600), S(3600), S(7200), 2, 10, 33, 0 },
	{ "ipv6_prefix", 3, S(600), S(3600), S(7200), 2, 10, 0, 31 },
	{ "ipv6_prefix", 3, S(600), S(3600), S(7200), 2, 10, 0, 129 },
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
	if (bad_configs[_i].p4 != 0)
		c.prefix4 = bad_configs[_i].p4;
	if (bad_configs[_i].p6 != 0)
		c.prefix6 = bad_configs[_i].p6;
	ck_assert_ptr_null(ban_policy_new(&c, err, sizeof(err)));
	ck_assert_msg(strstr(err, bad_configs[_i].key) != NULL, "%s", err);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

static Suite *
suite(void)
{
	Suite *s = suite_create("policy_prefix");
	TCase *t;

	t = tc(s, "prefix");
	tcase_add_loop_test(t, test_prefix_groups, 0, N(groups));
	tcase_add_test(t, test_prefix_manual);
	tcase_add_loop_test(t, test_prefix_refused, 0, N(refused_bans));

	t = tc(s, "config");
	tcase_add_loop_test(t, test_bad_config, 0, N(bad_configs));
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
