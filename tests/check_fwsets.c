/*
 * check_fwsets.c - unit tests of the set backends of bans/ (nftables,
 * ipset) and of the prefix handling every backend shares, without a
 * kernel: the refusals before anything is touched, the staging and its
 * coalescing, the nft command text (ruleset, batch, sync elements,
 * timeouts), prefixes in exec, dry-run and record, stats and hints.
 * (The ipset rule layout is tested with the other libiptc rules in
 * check_backends.c.) The kernel side is tested inside
 * network namespaces by tests/t-netns-fw.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bans.h"
#include "../bans/bans_int.h"
#include "bans_fixture.h"

/* A ban of s ("ADDR" or "ADDR/BITS") from T0 for len. */
static struct ban
pban(const char *s, wb_usec len)
{
	struct ban b = mkban("192.0.2.1", "r", T0, len, 1, 1);
	int bits;

	ck_assert_int_eq(ban_cidr_parse(s, &b.addr, &bits), 0);
	b.bits = (uint8_t)bits;
	return b;
}

/* ---- refusals ---------------------------------------------------------- */

/* Configurations nftables refuses before it makes a libnftables context. */
static const struct {
	const char	*table;
	int		 p4, p6;
	size_t		 nports;
	uint16_t	 port0;
} bad_nft[] = {
	{ "", 32, 64, 3, 25 },
	{ NULL, 32, 64, 3, 25 },
	{ "1wireban", 32, 64, 3, 25 },
	{ "wire ban", 32, 64, 3, 25 },
	{ "wire;ban", 32, 64, 3, 25 },
	{ "wire\"ban", 32, 64, 3, 25 },
	{ "abcdefghijklmnopqrstuvwxyz012345", 32, 64, 3, 25 },
	{ "wireban", 0, 64, 3, 25 },
	{ "wireban", 33, 64, 3, 25 },
	{ "wireban", 32, 0, 3, 25 },
	{ "wireban", 32, 129, 3, 25 },
	{ "wireban", 32, 64, 0, 25 },
	{ "wireban", 32, 64, 16, 25 },
	{ "wireban", 32, 64, 3, 0 },
};

START_TEST(test_nft_refuses)
{
	struct ban_fw_config c;
	struct ban b = pban("192.0.2.1", S(1));

	ban_fw_config_defaults(&c);
	c.table = bad_nft[_i].table;
	c.prefix4 = bad_nft[_i].p4;
	c.prefix6 = bad_nft[_i].p6;
	c.nports = bad_nft[_i].nports;
	c.ports[0] = bad_nft[_i].port0;
	ck_assert_int_eq(ban_backend_nftables.open(&c), -1);
	ck_assert_int_eq(log_lines, 1);
	ck_assert_int_eq(ban_backend_nftables.ban(&b), -1);
	ck_assert_int_eq(ban_backend_nftables.commit(), 0);
	ck_assert_int_eq(ban_backend_nftables.sync(&b, 1), -1);
	ck_assert_int_eq(ban_backend_nftables.flush(), 0);
	ban_backend_nftables.close();
}
END_TEST

/* Configurations ipset refuses before it opens a libipset session. */
static const struct {
	const char	*set4, *set6;
	size_t		 maxelem, nports;
	uint16_t	 port0;
} bad_ipset[] = {
	{ "", "wireban6", 1024, 3, 25 },
	{ NULL, "wireban6", 1024, 3, 25 },
	{ "wireban4", NULL, 1024, 3, 25 },
	{ "wire ban4", "wireban6", 1024, 3, 25 },
	{ "wireban4", "wire;ban6", 1024, 3, 25 },
	/* 28 characters: no room for the temporary "-new". */
	{ "abcdefghijklmnopqrstuvwxyz01", "wireban6", 1024, 3, 25 },
	{ "wireban", "wireban", 1024, 3, 25 },
	{ "wireban4", "wireban6", 0, 3, 25 },
	{ "wireban4", "wireban6", 1024, 0, 25 },
	{ "wireban4", "wireban6", 1024, 16, 25 },
	{ "wireban4", "wireban6", 1024, 3, 0 },
};

START_TEST(test_ipset_refuses)
{
	struct ban_fw_config c;
	struct ban b = pban("192.0.2.1", S(1));

	ban_fw_config_defaults(&c);
	c.set4 = bad_ipset[_i].set4;
	c.set6 = bad_ipset[_i].set6;
	c.maxelem = bad_ipset[_i].maxelem;
	c.nports = bad_ipset[_i].nports;
	c.ports[0] = bad_ipset[_i].port0;
	ck_assert_int_eq(ban_backend_ipset.open(&c), -1);
	ck_assert_int_eq(log_lines, 1);
	ck_assert_int_eq(ban_backend_ipset.ban(&b), -1);
	ck_assert_int_eq(ban_backend_ipset.commit(), 0);
	ck_assert_int_eq(ban_backend_ipset.sync(&b, 1), -1);
	ban_backend_ipset.close();
}
END_TEST

/* Prefixes every backend refuses; the table sets what a good one gives. */
static const struct {
	const char	*addr;
	int		 bits;		/* -1: leave as parsed */
	int		 ok;
	const char	*net;		/* the network kept */
} prefixes[] = {
	{ "192.0.2.77", -1, 1, "192.0.2.77" },
	{ "192.0.2.77", 24, 1, "192.0.2.0" },
	{ "192.0.2.77", 0, 1, "192.0.2.77" },	/* 0: one address */
	{ "192.0.2.77", 33, 0, NULL },
	{ "2001:db8::77", 64, 1, "2001:db8::" },
	{ "2001:db8::77", 128, 1, "2001:db8::77" },
	{ "2001:db8::77", 129, 0, NULL },
	{ NULL, 32, 0, NULL },			/* no family */
};

START_TEST(test_prefix_check)
{
	struct ban b = mkban("192.0.2.1", "r", T0, S(1), 1, 1);
	struct wb_addr net, want;

	if (prefixes[_i].addr != NULL)
		b.addr = A(prefixes[_i].addr);
	else
		memset(&b.addr, 0, sizeof(b.addr));
	if (prefixes[_i].bits >= 0)
		b.bits = (uint8_t)prefixes[_i].bits;
	ck_assert_int_eq(ban_prefix_check("test", &b, &net),
	    prefixes[_i].ok ? 0 : -1);
	ck_assert_int_eq(log_lines, prefixes[_i].ok ? 0 : 1);
	if (prefixes[_i].ok) {
		want = A(prefixes[_i].net);
		ck_assert(wb_addr_eq(&net, &want));
	}
}
END_TEST

/* ---- staging ----------------------------------------------------------- */

START_TEST(test_stage_coalesce)
{
	struct ban_stage s = { 0 };
	struct ban x = pban("192.0.2.7", S(60)), y = pban("10.0.0.0/8", S(90));
	struct ban z = pban("2001:db8::/64", S(30));
	const struct ban_op *v;

	ck_assert_int_eq(ban_stage_push(&s, "t", true, &z), 0);
	ck_assert_int_eq(ban_stage_push(&s, "t", true, &x), 0);
	ck_assert_int_eq(ban_stage_push(&s, "t", false, &x), 0);
	ck_assert_int_eq(ban_stage_push(&s, "t", false, &y), 0);
	x.expiry = x.start + S(600);
	ck_assert_int_eq(ban_stage_push(&s, "t", true, &x), 0);
	ck_assert_int_eq(ban_stage_push(&s, "t", false, &z), 0);
	ck_assert_uint_eq(s.n, 6);
	ban_stage_coalesce(&s);
	/* The last change of each wins; v4 first, then by bits. */
	ck_assert_uint_eq(s.n, 3);
	v = s.v;
	ck_assert_uint_eq(v[0].bits, 8);
	ck_assert(!v[0].ban);
	ck_assert_uint_eq(v[1].bits, 32);
	ck_assert(v[1].ban);
	ck_assert_int_eq(v[1].duration, S(600));
	ck_assert_uint_eq(v[2].addr.family, AF_INET6);
	ck_assert(!v[2].ban);
	ban_stage_free(&s);
}
END_TEST

START_TEST(test_stage_bounded)
{
	struct ban_stage s = { 0 };
	struct ban b = pban("192.0.2.7", S(60));
	size_t i;

	for (i = 0; i + 1 < BAN_STAGE_MAX; i++)
		ck_assert_int_eq(ban_stage_push(&s, "t", true, &b), 0);
	/* The last that fits says "commit now"; past it, refused. */
	ck_assert_int_eq(ban_stage_push(&s, "t", true, &b), 1);
	ck_assert_int_eq(ban_stage_push(&s, "t", true, &b), -1);
	ck_assert_int_eq(log_lines, 1);
	ck_assert_uint_le(s.max, BAN_STAGE_MAX);
	ban_stage_coalesce(&s);
	ck_assert_uint_eq(s.n, 1);
	ban_stage_free(&s);
}
END_TEST

START_TEST(test_buf_bounded)
{
	struct ban_buf b;

	ban_buf_init(&b, 16);
	ck_assert_int_eq(ban_buf_printf(&b, "%s", "0123456789"), 0);
	ck_assert_int_eq(ban_buf_printf(&b, "%s", "abcdef"), -1);
	ck_assert(b.over);
	/* Cut back to the last whole append, still terminated. */
	ck_assert_str_eq(b.p, "0123456789");
	ck_assert_int_eq(ban_buf_printf(&b, "x"), -1);
	ban_buf_reset(&b);
	ck_assert(!b.over);
	ck_assert_int_eq(ban_buf_printf(&b, "%d", 42), 0);
	ck_assert_str_eq(b.p, "42");
	ban_buf_free(&b);
}
END_TEST

/* ---- nftables text ----------------------------------------------------- */

static const struct {
	wb_usec		 d;
	const char	*want;
} timeouts[] = {
	{ 0, "1s" },
	{ 500000, "1s" },
	{ 1500000, "1s500ms" },
	{ S(3600), "1h" },
	{ S(90061) + 5000, "1d1h1m1s5ms" },
	{ S(86400) * 7, "7d" },
	{ S(3000000), "34d17h20m" },
	{ S(86400) * 365 * 200, "36500d" },	/* clamped at 100 years */
};

START_TEST(test_nft_timeout)
{
	char buf[32];

	ck_assert_str_eq(ban_nft_timeout(timeouts[_i].d, buf, sizeof(buf)),
	    timeouts[_i].want);
}
END_TEST

static struct ban_nft_conf
nconf(void (*tweak)(struct ban_fw_config *))
{
	struct ban_fw_config c;
	struct ban_nft_conf nc;

	ban_fw_config_defaults(&c);
	if (tweak != NULL)
		tweak(&c);
	ck_assert_int_eq(ban_nft_conf(&nc, &c), 0);
	return nc;
}

#define RULE(chain, m) "add rule inet wireban " chain " tcp dport { 25, " \
	"465, 587 } " m " drop\n"

START_TEST(test_nft_ruleset_fresh)
{
	struct ban_nft_conf nc = nconf(NULL);
	struct ban_buf b;

	ban_buf_init(&b, 1 << 16);
	ck_assert_int_eq(ban_nft_ruleset(&b, &nc, true), 0);
	ck_assert_str_eq(b.p,
	    "add table inet wireban\ndelete table inet wireban\n"
	    "add table inet wireban\n"
	    "add set inet wireban ipv4_addr { type ipv4_addr; flags "
	    "timeout; }\n"
	    "add set inet wireban ipv4_net { type ipv4_addr; flags "
	    "interval,timeout; }\n"
	    "add set inet wireban ipv6_addr { type ipv6_addr; flags "
	    "timeout; }\n"
	    "add set inet wireban ipv6_net { type ipv6_addr; flags "
	    "interval,timeout; }\n"
	    "add chain inet wireban input { type filter hook input priority "
	    "filter - 10; policy accept; }\n"
	    RULE("input", "ip saddr @ipv4_addr")
	    RULE("input", "ip saddr @ipv4_net")
	    RULE("input", "ip6 saddr & ffff:ffff:ffff:ffff:: @ipv6_addr")
	    RULE("input", "ip6 saddr @ipv6_net"));
	ban_buf_free(&b);
}
END_TEST

static void
tw_forward(struct ban_fw_config *c)
{
	c->forward = true;
	c->prefix4 = 24;
	c->prefix6 = 128;
	c->table = "wb-test_2";
}

static void
tw_reject_all(struct ban_fw_config *c)
{
	c->target = BAN_TARGET_REJECT;
	c->allports = true;
}

static void
tw_one_port(struct ban_fw_config *c)
{
	c->target = BAN_TARGET_REJECT;
	c->nports = 1;
}

static const struct {
	void		(*tweak)(struct ban_fw_config *);
	bool		 fresh;
	const char	*has[4];
	const char	*hasnt[2];
} rulesets[] = {
	/* Kept: sets are added, never deleted; chains are rewritten. */
	{ NULL, false, {
	    "flush chain inet wireban input\n",
	    "add chain inet wireban forward { type filter hook forward "
	    "priority filter - 10; policy accept; }\nflush chain inet "
	    "wireban forward\ndelete chain inet wireban forward\n",
	    NULL }, { "delete table", "add rule inet wireban forward" } },
	{ tw_forward, true, {
	    "add rule inet wb-test_2 forward tcp dport { 25, 465, 587 } ip "
	    "saddr & 255.255.255.0 @ipv4_addr drop\n",
	    "add rule inet wb-test_2 input tcp dport { 25, 465, 587 } ip6 "
	    "saddr @ipv6_addr drop\n", NULL }, { "delete chain", NULL } },
	{ tw_reject_all, true, {
	    "add rule inet wireban input meta l4proto tcp ip saddr "
	    "@ipv4_addr reject with tcp reset\n"
	    "add rule inet wireban input ip saddr @ipv4_addr drop\n",
	    NULL }, { "dport", NULL } },
	{ tw_one_port, true, {
	    "add rule inet wireban input tcp dport 25 ip saddr @ipv4_net "
	    "reject with tcp reset\n", NULL }, { "drop", NULL } },
};

START_TEST(test_nft_ruleset)
{
	struct ban_nft_conf nc = nconf(rulesets[_i].tweak);
	struct ban_buf b;
	int i;

	ban_buf_init(&b, 1 << 16);
	ck_assert_int_eq(ban_nft_ruleset(&b, &nc, rulesets[_i].fresh), 0);
	for (i = 0; i < 4 && rulesets[_i].has[i] != NULL; i++)
		ck_assert_msg(strstr(b.p, rulesets[_i].has[i]) != NULL,
		    "missing:\n%s\nin:\n%s", rulesets[_i].has[i], b.p);
	for (i = 0; i < 2 && rulesets[_i].hasnt[i] != NULL; i++)
		ck_assert_msg(strstr(b.p, rulesets[_i].hasnt[i]) == NULL,
		    "unexpected %s in:\n%s", rulesets[_i].hasnt[i], b.p);
	ban_buf_free(&b);
}
END_TEST

START_TEST(test_nft_batch)
{
	struct ban_nft_conf nc = nconf(NULL);
	struct ban_stage s = { 0 };
	struct ban a = pban("192.0.2.7", S(3600)), u = pban("192.0.2.8", 0);
	struct ban n = pban("10.0.0.0/8", S(90)), h6 = pban("2001:db8::/64",
	    S(60));
	struct ban_buf b;

	ck_assert_int_eq(ban_stage_push(&s, "t", true, &a), 0);
	ck_assert_int_eq(ban_stage_push(&s, "t", false, &u), 0);
	ck_assert_int_eq(ban_stage_push(&s, "t", true, &n), 0);
	ck_assert_int_eq(ban_stage_push(&s, "t", true, &h6), 0);
	ban_stage_coalesce(&s);
	ban_buf_init(&b, 1 << 16);
	ck_assert_int_eq(ban_nft_batch(&b, &nc, s.v, s.n), 0);
	ck_assert_str_eq(b.p,
	    "add element inet wireban ipv4_addr { 192.0.2.7, 192.0.2.8 }\n"
	    "delete element inet wireban ipv4_addr { 192.0.2.7, 192.0.2.8 }\n"
	    "add element inet wireban ipv4_addr { 192.0.2.7 timeout 1h }\n"
	    "add element inet wireban ipv4_net { 10.0.0.0/8 }\n"
	    "delete element inet wireban ipv4_net { 10.0.0.0/8 }\n"
	    "add element inet wireban ipv4_net { 10.0.0.0/8 timeout 1m30s }\n"
	    "add element inet wireban ipv6_addr { 2001:db8:: }\n"
	    "delete element inet wireban ipv6_addr { 2001:db8:: }\n"
	    "add element inet wireban ipv6_addr { 2001:db8:: timeout 1m }\n");
	/* Only unbans: no third line. */
	ban_stage_clear(&s);
	ck_assert_int_eq(ban_stage_push(&s, "t", false, &u), 0);
	ban_buf_reset(&b);
	ck_assert_int_eq(ban_nft_batch(&b, &nc, s.v, s.n), 0);
	ck_assert_str_eq(b.p,
	    "add element inet wireban ipv4_addr { 192.0.2.8 }\n"
	    "delete element inet wireban ipv4_addr { 192.0.2.8 }\n");
	/* A buffer too small fails whole, it does not cut an element. */
	ban_buf_free(&b);
	ban_buf_init(&b, 40);
	ck_assert_int_eq(ban_nft_batch(&b, &nc, s.v, s.n), -1);
	ck_assert(b.over);
	ban_buf_free(&b);
	ban_stage_free(&s);
}
END_TEST

START_TEST(test_nft_elements)
{
	struct ban_nft_conf nc = nconf(NULL);
	struct ban v[1030];
	struct ban_buf b;
	size_t i, bad = 0, lines = 0;
	const char *p;

	for (i = 0; i < 1027; i++) {
		char a[32];

		(void)snprintf(a, sizeof(a), "100.64.%zu.%zu", i / 256,
		    i % 256);
		v[i] = pban(a, S(10));
	}
	v[1027] = pban("10.0.0.0/8", S(10));
	v[1028] = pban("192.0.2.1", S(10));
	v[1028].bits = 40;			/* skipped and counted */
	v[1029] = pban("2001:db8::/64", S(10));
	ban_buf_init(&b, 1 << 20);
	ck_assert_int_eq(ban_nft_elements(&b, &nc, v, 1030,
	    (1u << BAN_NFT_NSETS) - 1, &bad), 0);
	ck_assert_uint_eq(bad, 1);
	for (p = b.p; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	/* 1027 in ipv4_addr: two lines; one each for ipv4_net, ipv6_addr. */
	ck_assert_uint_eq(lines, 4);
	ck_assert(strncmp(b.p, "add element inet wireban ipv4_addr { "
	    "100.64.0.0 timeout 10s, 100.64.0.1 timeout 10s", 70) == 0);
	ck_assert_ptr_nonnull(strstr(b.p, "add element inet wireban ipv4_net "
	    "{ 10.0.0.0/8 timeout 10s }\n"));
	ck_assert_ptr_nonnull(strstr(b.p, "add element inet wireban ipv6_addr "
	    "{ 2001:db8:: timeout 10s }\n"));
	ck_assert_ptr_null(strstr(b.p, "192.0.2.1"));
	/* Only the hash sets, as sync's second try asks. */
	ban_buf_reset(&b);
	ck_assert_int_eq(ban_nft_elements(&b, &nc, v, 1030,
	    (1u << BAN_NFT_V4_ADDR) | (1u << BAN_NFT_V6_ADDR), &bad), 0);
	ck_assert_ptr_null(strstr(b.p, "ipv4_net"));
	ck_assert_ptr_nonnull(strstr(b.p, "ipv6_addr"));
	ban_buf_free(&b);
}
END_TEST

START_TEST(test_nft_sets)
{
	struct ban_nft_conf nc = nconf(tw_forward);	/* 24 and 128 */

	ck_assert_int_eq(ban_nft_set_of(&nc, AF_INET, 24), BAN_NFT_V4_ADDR);
	ck_assert_int_eq(ban_nft_set_of(&nc, AF_INET, 32), BAN_NFT_V4_NET);
	ck_assert_int_eq(ban_nft_set_of(&nc, AF_INET, 16), BAN_NFT_V4_NET);
	ck_assert_int_eq(ban_nft_set_of(&nc, AF_INET6, 128), BAN_NFT_V6_ADDR);
	ck_assert_int_eq(ban_nft_set_of(&nc, AF_INET6, 64), BAN_NFT_V6_NET);
	ck_assert_str_eq(ban_nft_set_name(BAN_NFT_V6_NET), "ipv6_net");
}
END_TEST

/* ---- exec, dry-run and record with prefixes ---------------------------- */

START_TEST(test_exec_prefix)
{
	struct ban_fw_config c;
	struct ban b = pban("192.0.2.77/24", S(60));
	char cmd[4200];
	const char *out;

	(void)tmp_path("x");
	(void)snprintf(cmd, sizeof(cmd), "cd '%s' && echo \"$1 $3\" >> out",
	    tmpdir);
	ban_fw_config_defaults(&c);
	c.ban_command = cmd;
	c.unban_command = cmd;
	ck_assert_int_eq(ban_backend_exec.open(&c), 0);
	ck_assert_int_eq(ban_backend_exec.ban(&b), 0);
	b = pban("2001:db8::1/64", S(7));
	ck_assert_int_eq(ban_backend_exec.ban(&b), 0);
	b = pban("2001:db8::1", S(8));
	ck_assert_int_eq(ban_backend_exec.unban(&b), 0);
	b.bits = 130;
	ck_assert_int_eq(ban_backend_exec.ban(&b), -1);
	ban_backend_exec.close();
	out = read_file(tmp_path("out"));
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "192.0.2.0/24 60\n2001:db8::/64 7\n"
	    "2001:db8::1 8\n");
}
END_TEST

START_TEST(test_dryrun_prefix)
{
	struct ban_fw_config c;
	struct ban b = pban("10.0.0.0/8", S(3600));

	ban_fw_config_defaults(&c);
	ck_assert_int_eq(ban_backend_dryrun.open(&c), 0);
	ck_assert_int_eq(ban_backend_dryrun.ban(&b), 0);
	ck_assert_str_eq(log_last, "dry-run: would ban 10.0.0.0/8 (r) for "
	    "3600s");
	b = pban("2001:db8::5", S(1));
	ck_assert_int_eq(ban_backend_dryrun.unban(&b), 0);
	ck_assert_str_eq(log_last, "dry-run: would unban 2001:db8::5");
}
END_TEST

START_TEST(test_record_prefix)
{
	struct ban_fw_config c;
	struct ban net = pban("10.0.0.0/8", S(60)), one = pban("10.9.9.9",
	    S(60)), wide = pban("10.9.0.0/16", S(60));
	struct wb_addr in = A("10.200.1.2"), out = A("11.0.0.1");

	ban_fw_config_defaults(&c);
	ck_assert_int_eq(ban_backend_record.open(&c), 0);
	ck_assert_int_eq(ban_backend_record.ban(&net), 0);
	ck_assert_int_eq(ban_backend_record.ban(&one), 0);
	ck_assert(ban_record_has(&in));
	ck_assert(!ban_record_has(&out));
	ck_assert_uint_eq(ban_record_get(1)->ban.bits, 8);
	/* An unban takes off that prefix, not another one holding it. */
	ck_assert_int_eq(ban_backend_record.unban(&wide), 0);
	ck_assert_uint_eq(ban_record_banned(), 2);
	ck_assert_int_eq(ban_backend_record.unban(&net), 0);
	ck_assert(!ban_record_has(&in));
	ck_assert(ban_record_has(&one.addr));
	ban_backend_record.close();
}
END_TEST

/* ---- stats, hints, defaults -------------------------------------------- */

static const struct {
	const struct ban_backend *b;
	const char	*hint;
	wb_usec		 max_timeout;
} hints[] = {
	{ &ban_backend_nftables, "nft list table inet wireban", 0 },
	{ &ban_backend_ipset, "ipset list wireban4; ipset list wireban6",
	    S(2147483) },
	{ &ban_backend_iptables, "iptables-legacy -S wireban; "
	    "ip6tables-legacy -S wireban", 0 },
	{ &ban_backend_dryrun, "", 0 },
	{ &ban_backend_exec, "", 0 },
	{ &ban_backend_record, "", 0 },
};

START_TEST(test_hints)
{
	struct ban_fw_stats st;
	char buf[128], tiny[8];

	memset(&st, 0xff, sizeof(st));
	hints[_i].b->stats(&st);
	ck_assert_uint_eq(st.commits, 0);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(st.set_full, 0);
	ck_assert_uint_eq(st.capacity, 0);
	hints[_i].b->hint(buf, sizeof(buf));
	ck_assert_str_eq(buf, hints[_i].hint);
	/* Cut would mislead: nothing rather than half a command. */
	hints[_i].b->hint(tiny, sizeof(tiny));
	ck_assert_str_eq(tiny, "");
	ck_assert_int_eq(hints[_i].b->max_timeout, hints[_i].max_timeout);
}
END_TEST

START_TEST(test_defaults)
{
	struct ban_fw_config c;

	ban_fw_config_defaults(&c);
	ck_assert_str_eq(c.backend, "nftables");
	ck_assert_ptr_eq(ban_backend_find(c.backend), &ban_backend_nftables);
	ck_assert_int_eq(c.prefix4, 32);
	ck_assert_int_eq(c.prefix6, 64);
	ck_assert_str_eq(c.table, "wireban");
	ck_assert_str_eq(c.set4, "wireban4");
	ck_assert_str_eq(c.set6, "wireban6");
	ck_assert_uint_eq(c.maxelem, 1048576);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

static Suite *
suite(void)
{
	Suite *s = suite_create("fwsets");
	TCase *t;

	t = tc(s, "refusals");
	tcase_add_loop_test(t, test_nft_refuses, 0, N(bad_nft));
	tcase_add_loop_test(t, test_ipset_refuses, 0, N(bad_ipset));
	tcase_add_loop_test(t, test_prefix_check, 0, N(prefixes));

	t = tc(s, "staging");
	tcase_add_test(t, test_stage_coalesce);
	tcase_add_test(t, test_stage_bounded);
	tcase_add_test(t, test_buf_bounded);

	t = tc(s, "nft");
	tcase_add_loop_test(t, test_nft_timeout, 0, N(timeouts));
	tcase_add_test(t, test_nft_ruleset_fresh);
	tcase_add_loop_test(t, test_nft_ruleset, 0, N(rulesets));
	tcase_add_test(t, test_nft_batch);
	tcase_add_test(t, test_nft_elements);
	tcase_add_test(t, test_nft_sets);

	t = tc(s, "prefixes");
	tcase_add_test(t, test_exec_prefix);
	tcase_add_test(t, test_dryrun_prefix);
	tcase_add_test(t, test_record_prefix);
	tcase_add_loop_test(t, test_hints, 0, N(hints));
	tcase_add_test(t, test_defaults);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
