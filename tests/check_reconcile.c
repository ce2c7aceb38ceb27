/*
 * check_reconcile.c - unit tests of the reconcile of a backend with the
 * policy at start-up, and of the daemon's flow in small (offence, ban,
 * expiry, unban), through the record backend.
 */
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "bans.h"
#include "../bans/bans_int.h"
#include "bans_fixture.h"

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
	/* An IPv6 offender is banned as its /64 (the default prefix). */
	struct wb_addr a = A("192.0.2.9"), b6 = A("2001:db8::9"),
	    net6 = A("2001:db8::");
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
	/* The record backend holds the /64: the address is in it. */
	ck_assert(ban_record_has(&a));
	ck_assert(ban_record_has(&b6));
	ck_assert(ban_record_has(&net6));
	ck_assert_uint_eq(ban_policy_expire(p, T0 + S(3600), flow_unban, &f),
	    1);
	ck_assert(!ban_record_has(&a));
	ck_assert(ban_record_has(&net6));
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
	ck_assert(wb_addr_eq(&c->ban.addr, &net6));
	ck_assert_int_eq(c->ban.bits, 64);
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
	Suite *s = suite_create("reconcile");
	TCase *t;

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
