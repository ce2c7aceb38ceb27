/*
 * check_state.c - unit tests of the ban state of bans/: the state
 * file (round trip, garbage, crashes) and the reconcile of a backend
 * with it, through the record backend.
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

/* ---- state file -------------------------------------------------------- */

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

/* ---- suite ------------------------------------------------------------- */

static Suite *
suite(void)
{
	Suite *s = suite_create("state");
	TCase *t;

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
	tcase_add_test(t, test_record_flow);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
