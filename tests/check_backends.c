/*
 * check_backends.c - unit tests of the firewall backends of bans/ that
 * touch no kernel: the table, dry-run, record, exec, the refusals of
 * iptables, and the libiptc rule layout (the iptables backend's rules
 * with prefixes, the ipset backend's set-match rule). The set backends'
 * own tests are in check_fwsets.c. The kernel side of each
 * backend is tested inside a private network namespace by
 * tests/t-netns-iptables.sh.
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

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include "bans.h"
#include "../bans/bans_int.h"
#include "bans_fixture.h"

/* ---- the backend table ------------------------------------------------ */

static const char *const backend_names[] = {
	"nftables", "ipset", "iptables", "dry-run", "exec", "record",
};

START_TEST(test_backend_table)
{
	const struct ban_backend *b = ban_backend_find(backend_names[_i]);
	size_t i, n = 0;

	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->name, backend_names[_i]);
	ck_assert(b->open && b->ban && b->unban && b->commit && b->sync &&
	    b->flush && b->close && b->stats && b->hint);
	for (i = 0; ban_backends[i] != NULL; i++)
		if (strcmp(ban_backends[i]->name, backend_names[_i]) == 0)
			n++;
	ck_assert_uint_eq(n, 1);
	/* The table lists them in this order, nftables (the default) first. */
	ck_assert_ptr_eq(ban_backends[_i], b);
	ck_assert_uint_eq(i, N(backend_names));
	ck_assert_ptr_null(ban_backend_find("nft"));
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
	b.bits = 128;
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
	int bits;

	n = ban_rule_ban(&rb, &a, 32, BAN_TARGET_DROP);
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
	ck_assert(ban_rule_source(e, AF_INET, &got, &bits));
	ck_assert(wb_addr_eq(&got, &a));
	ck_assert_int_eq(bits, 32);
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
	int bits;

	n = ban_rule_ban(&rb, &a, 32, BAN_TARGET_REJECT);
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
	n = ban_rule_ban(&rb, &a6, 128, BAN_TARGET_REJECT);
	{
		const struct ip6t_entry *e =
		    (const struct ip6t_entry *)rb.bytes;

		ck_assert_uint_eq(e->target_offset, sizeof(*e));
		ck_assert_uint_eq(e->ipv6.proto, IPPROTO_TCP);
		ck_assert(e->ipv6.flags & IP6T_F_PROTO);
		ck_assert(ban_rule_source(e, AF_INET6, &got, &bits));
		ck_assert(wb_addr_eq(&got, &a6));
		ck_assert_int_eq(bits, 128);
		ck_assert(!ban_rule_source(e, AF_INET, &got, &bits) ||
		    !wb_addr_eq(&got, &a6));
		ck_assert_uint_eq(n, e->next_offset);
	}
	memset(&a, 0, sizeof(a));
	ck_assert_uint_eq(ban_rule_ban(&rb, &a, 32, BAN_TARGET_DROP), 0);
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

/* ---- iptables rules with prefixes -------------------------------------- */

START_TEST(test_rule_prefix)
{
	union ban_rulebuf rb;
	struct wb_addr a = A("192.0.2.77"), a6 = A("2001:db8:1:2::9"), got;
	struct wb_addr net = A("192.0.2.0"), net6 = A("2001:db8:1::");
	int bits;

	ck_assert_uint_gt(ban_rule_ban(&rb, &a, 24, BAN_TARGET_DROP), 0);
	{
		const struct ipt_entry *e = (const struct ipt_entry *)rb.bytes;

		ck_assert_uint_eq(ntohl(e->ip.smsk.s_addr), 0xffffff00u);
		ck_assert(ban_rule_source(e, AF_INET, &got, &bits));
		ck_assert(wb_addr_eq(&got, &net));	/* host bits cleared */
		ck_assert_int_eq(bits, 24);
	}
	ck_assert_uint_gt(ban_rule_ban(&rb, &a6, 48, BAN_TARGET_REJECT), 0);
	{
		const struct ip6t_entry *e =
		    (const struct ip6t_entry *)rb.bytes;

		ck_assert(ban_rule_source(e, AF_INET6, &got, &bits));
		ck_assert(wb_addr_eq(&got, &net6));
		ck_assert_int_eq(bits, 48);
	}
	ck_assert_uint_eq(ban_rule_ban(&rb, &a, 0, BAN_TARGET_DROP), 0);
	ck_assert_uint_eq(ban_rule_ban(&rb, &a, 33, BAN_TARGET_DROP), 0);
	ck_assert_uint_eq(ban_rule_ban(&rb, &a6, 129, BAN_TARGET_DROP), 0);
	/* A mask with a hole is not ours: not read as a prefix. */
	ck_assert_uint_gt(ban_rule_ban(&rb, &a, 32, BAN_TARGET_DROP), 0);
	{
		struct ipt_entry *e = (struct ipt_entry *)rb.bytes;

		e->ip.smsk.s_addr = htonl(0xff00ff00u);
		ck_assert(!ban_rule_source(e, AF_INET, &got, &bits));
		e->ip.smsk.s_addr = 0;	/* -s 0.0.0.0/0: not a ban */
		ck_assert(!ban_rule_source(e, AF_INET, &got, &bits));
	}
}
END_TEST

static const struct {
	int		 af;
	enum ban_target	 target;
	bool		 allports;
	size_t		 nports;
	const char	*ports;		/* first match, NULL: none */
	const char	*tname;
} setrules[] = {
	{ AF_INET, BAN_TARGET_DROP, false, 3, "multiport", "DROP" },
	{ AF_INET, BAN_TARGET_REJECT, false, 1, "tcp", "REJECT" },
	{ AF_INET, BAN_TARGET_DROP, true, 0, NULL, "DROP" },
	{ AF_INET6, BAN_TARGET_REJECT, false, 3, "multiport", "REJECT" },
};

START_TEST(test_rule_setmatch)
{
	static const uint16_t ports[3] = { 25, 465, 587 };
	union ban_rulebuf rb;
	const struct xt_entry_match *m;
	const struct xt_set_info_match_v4 *sm;
	const struct xt_entry_target *t;
	size_t n, hdr, toff, next;
	int af = setrules[_i].af;

	n = ban_rule_setmatch(&rb, af, 7, setrules[_i].target,
	    setrules[_i].allports, ports, setrules[_i].nports);
	ck_assert_uint_gt(n, 0);
	if (af == AF_INET) {
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
		ck_assert(e->ipv6.flags & IP6T_F_PROTO);
	}
	ck_assert_uint_eq(next, n);
	m = (const struct xt_entry_match *)(rb.bytes + hdr);
	if (setrules[_i].ports != NULL) {
		ck_assert_str_eq(m->u.user.name, setrules[_i].ports);
		m = (const struct xt_entry_match *)((const unsigned char *)m +
		    m->u.match_size);
	}
	/* What iptables 1.8.9 writes for --match-set SET src. */
	ck_assert_str_eq(m->u.user.name, "set");
	ck_assert_uint_eq(m->u.user.revision, 4);
	ck_assert_uint_eq(m->u.match_size, XT_ALIGN(sizeof(*m)) +
	    XT_ALIGN(sizeof(*sm)));
	sm = (const struct xt_set_info_match_v4 *)m->data;
	ck_assert_uint_eq(sm->match_set.index, 7);
	ck_assert_uint_eq(sm->match_set.dim, 1);
	ck_assert_uint_eq(sm->match_set.flags, 0x02);
	ck_assert_uint_eq(sm->flags, 0);
	ck_assert_uint_eq((const unsigned char *)m + m->u.match_size -
	    rb.bytes, toff);
	t = (const struct xt_entry_target *)(rb.bytes + toff);
	ck_assert_str_eq(t->u.user.name, setrules[_i].tname);
	ck_assert_uint_eq(toff + t->u.user.target_size, next);
	ck_assert(ban_rule_has_set(rb.bytes, af, 7));
	ck_assert(!ban_rule_has_set(rb.bytes, af, 8));
	/* Bad arguments build nothing. */
	ck_assert_uint_eq(ban_rule_setmatch(&rb, af, 0xffff,
	    BAN_TARGET_DROP, true, ports, 0), 0);
	ck_assert_uint_eq(ban_rule_setmatch(&rb, af, 7, BAN_TARGET_DROP,
	    false, ports, 0), 0);
	ck_assert_uint_eq(ban_rule_setmatch(&rb, af, 7, BAN_TARGET_DROP,
	    false, ports, 16), 0);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

static Suite *
suite(void)
{
	Suite *s = suite_create("backends");
	TCase *t;

	t = tc(s, "backends");
	tcase_add_loop_test(t, test_backend_table, 0, N(backend_names));
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
	tcase_add_test(t, test_rule_prefix);
	tcase_add_loop_test(t, test_rule_setmatch, 0, N(setrules));
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
