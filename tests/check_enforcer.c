/*
 * check_enforcer.c - unit tests of the enforcer thread of bans/: bans
 * and unbans reach the backend in batches, the journal has each record
 * before the backend's commit sees it, a full queue never blocks and is
 * made good by a resync, long bans are re-armed before the kernel's
 * ceiling lifts them, and compaction is asked for and done.
 *
 * The backend here is a probe of the test's own: it records what it is
 * given and, at every commit, reads the journal file to check that
 * every ban it is about to apply is already written there.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"
#include "../bans/bans_int.h"
#include "bans_fixture.h"

#define PROBE_MAX	70000

static struct ban	 staged[PROBE_MAX];
static size_t		 nstaged;
static size_t		 nbans, nunbans, ncommits, maxbatch, nsynced;
static size_t		 journal_misses;
static const char	*journal_path;
static struct ban	 last_ban;
static int		 commit_sleep_ms;
static _Atomic int	 gate;		/* commits wait while it is 1 */
static wb_usec		 probe_max_timeout;

static int
p_open(const struct ban_fw_config *c)
{
	(void)c;
	return 0;
}

static int
p_ban(const struct ban *b)
{
	if (nstaged < PROBE_MAX)
		staged[nstaged++] = *b;
	nbans++;
	last_ban = *b;
	return 0;
}

static int
p_unban(const struct ban *b)
{
	(void)b;
	nunbans++;
	return 0;
}

/* Every staged ban must already be in the journal, by its prefix. */
static int
p_commit(void)
{
	char *j = NULL, a[WB_PREFIX_STRLEN + 8], pfx[WB_PREFIX_STRLEN];
	size_t i, len = 0;
	FILE *f;

	while (atomic_load(&gate))
		usleep(1000);
	if (commit_sleep_ms > 0)
		usleep((useconds_t)commit_sleep_ms * 1000);
	if (journal_path != NULL && (f = fopen(journal_path, "r")) != NULL) {
		j = calloc(1, 16 << 20);
		len = fread(j, 1, (16 << 20) - 1, f);
		fclose(f);
		for (i = 0; i < nstaged; i++) {
			(void)snprintf(a, sizeof(a), "ban %s ",
			    wb_prefix_str(&staged[i].addr, staged[i].bits,
			    pfx));
			if (strstr(j, a) == NULL)
				journal_misses++;
		}
		free(j);
	}
	(void)len;
	if (nstaged > maxbatch)
		maxbatch = nstaged;
	nstaged = 0;
	ncommits++;
	return 0;
}

static int
p_sync(const struct ban *bans, size_t n)
{
	(void)bans;
	nsynced = n;
	nstaged = 0;
	return 0;
}

static int
p_flush(void)
{
	return 0;
}

static void
p_close(void)
{
}

static void
p_stats(struct ban_fw_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->commits = ncommits;
}

static struct ban_backend probe = {
	.name = "probe",
	.open = p_open,
	.ban = p_ban,
	.unban = p_unban,
	.commit = p_commit,
	.sync = p_sync,
	.flush = p_flush,
	.close = p_close,
	.stats = p_stats,
	.hint = ban_fw_no_hint,
	.max_timeout = 0,
};

static void
reset(void)
{
	nstaged = nbans = nunbans = ncommits = maxbatch = nsynced = 0;
	journal_misses = 0;
	journal_path = NULL;
	commit_sleep_ms = 0;
	atomic_store(&gate, 0);
	probe.max_timeout = probe_max_timeout = 0;
}

static struct ban_enforcer *
start(struct ban_state *st, size_t queue, wb_usec rearm_every)
{
	struct ban_enforcer_config c;
	struct ban_enforcer *e;
	char err[256];

	memset(&c, 0, sizeof(c));
	c.backends[0] = &probe;
	c.nbackends = 1;
	c.state = st;
	c.queue = queue;
	c.batch = queue < 8192 ? queue : 8192;
	c.fsync_delay = 50 * 1000;
	c.rearm_every = rearm_every;
	e = ban_enforcer_start(&c, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	return e;
}

static struct ban
nth_ban(unsigned i, wb_usec now, wb_usec len)
{
	char a[32];

	(void)snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 255,
	    (i >> 8) & 255, i & 255);
	return mkban(a, "relay", now, len, 1, 3);
}

static wb_usec
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* 20,000 bans handed over at once arrive in batches, journal first. */
START_TEST(test_enforcer_batches)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_state_stats sst;
	struct ban_enforcer_stats st;
	struct ban_enforcer *e;
	struct ban_state *s;
	char err[256];
	wb_usec now = wall();
	unsigned i;

	reset();
	s = ban_state_open(tmp_path("state"), p, &sst, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	journal_path = tmp_path("state.journal");
	e = start(s, 65536, 0);
	/* Held at the first commit, so the hand-overs pile up. */
	atomic_store(&gate, 1);
	for (i = 0; i < 20000; i++) {
		struct ban b = nth_ban(i, now, S(3600));

		ck_assert_int_eq(ban_enforcer_ban(e, &b), 0);
	}
	atomic_store(&gate, 0);
	ck_assert_int_eq(ban_enforcer_drain(e, p, 20000), 0);
	ban_enforcer_stats(e, &st);
	ck_assert_uint_eq(nbans, 20000);
	ck_assert_uint_eq(st.applied, 20000);
	ck_assert_uint_eq(st.queued, 20000);
	ck_assert_uint_eq(st.depth, 0);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.deferred, 0);
	/* Thousands per commit, not one each. */
	ck_assert_uint_lt(st.batches, 20);
	ck_assert_uint_ge(st.largest, 1000);
	ck_assert_uint_eq(journal_misses, 0);
	ck_assert_uint_eq(st.lat_count, 20000);
	ban_enforcer_stop(e, p);
	ck_assert_uint_eq(ban_state_records(s), 20000);
	ban_state_close(s);
	ban_policy_free(p);
}
END_TEST

/* Alone, one ban is committed at once and unbans follow it. */
START_TEST(test_enforcer_single)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_enforcer_stats st;
	struct ban_enforcer *e;
	wb_usec now = wall();
	struct ban b = nth_ban(7, now, S(60));

	reset();
	e = start(NULL, 1024, 0);
	ck_assert_int_eq(ban_enforcer_ban(e, &b), 0);
	ck_assert_int_eq(ban_enforcer_drain(e, p, 5000), 0);
	ck_assert_uint_eq(nbans, 1);
	ck_assert_uint_eq(ncommits, 1);
	ck_assert_int_eq(ban_enforcer_unban(e, &b, now + S(1)), 0);
	ck_assert_int_eq(ban_enforcer_drain(e, p, 5000), 0);
	ck_assert_uint_eq(nunbans, 1);
	ban_enforcer_stats(e, &st);
	ck_assert_uint_eq(st.batches, 2);
	ck_assert_uint_eq(st.largest, 1);
	/* The kernel gets the time left, from the enforcer's now. */
	ck_assert_int_le(last_ban.expiry - last_ban.start, S(60));
	ck_assert_int_gt(last_ban.expiry - last_ban.start, S(59));
	ban_enforcer_stop(e, p);
	ban_policy_free(p);
}
END_TEST

/*
 * A full queue: the producer is never blocked (each hand-over returns
 * at once), the overflow is counted, and a resync from the policy
 * brings the backend to exactly the policy's bans.
 */
START_TEST(test_enforcer_overflow)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_enforcer_stats st;
	struct ban_enforcer *e;
	wb_usec now = wall();
	unsigned i, deferred = 0;

	reset();
	e = start(NULL, 64, 0);
	atomic_store(&gate, 1);
	for (i = 0; i < 500; i++) {
		struct ban b = nth_ban(i, now, S(3600));
		struct wb_addr a = b.addr;

		ck_assert_int_eq(ban_policy_ban(p, &a, -1, "relay", S(3600),
		    now, &b), 1);
		deferred += ban_enforcer_ban(e, &b) == 1;
	}
	ck_assert_uint_gt(deferred, 0);
	atomic_store(&gate, 0);
	ck_assert_int_eq(ban_enforcer_drain(e, p, 20000), 0);
	ban_enforcer_stats(e, &st);
	ck_assert_uint_eq(st.deferred, deferred);
	ck_assert_uint_eq(st.resyncs, 1);
	ck_assert_uint_eq(nsynced, 500);
	ban_enforcer_stop(e, p);
	ban_policy_free(p);
}
END_TEST

/*
 * A ban longer than the kernel's ceiling goes in with the ceiling and
 * is staged again before it runs out, until the time it really has.
 */
START_TEST(test_enforcer_rearm)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_enforcer_stats st;
	struct ban_enforcer *e;
	wb_usec now = wall();
	struct ban b = nth_ban(1, now, S(3600)), s = nth_ban(2, now, S(1));
	int i;

	reset();
	probe.max_timeout = S(2);
	e = start(NULL, 1024, 100 * 1000);
	ck_assert_int_eq(ban_enforcer_ban(e, &b), 0);
	ck_assert_int_eq(ban_enforcer_drain(e, p, 5000), 0);
	ck_assert_uint_eq(nbans, 1);
	ck_assert_int_le(last_ban.expiry - last_ban.start, S(2));
	/* A short one is not re-armed. */
	ck_assert_int_eq(ban_enforcer_ban(e, &s), 0);
	ck_assert_int_eq(ban_enforcer_drain(e, p, 5000), 0);
	ck_assert_uint_eq(nbans, 2);
	/* Within the ceiling less its margin (1/4), staged again. */
	for (i = 0; i < 40 && nbans < 3; i++)
		usleep(100 * 1000);
	ck_assert_uint_ge(nbans, 3);
	ck_assert(wb_addr_eq(&last_ban.addr, &b.addr));
	ck_assert_int_gt(last_ban.start, now + S(1));
	ban_enforcer_stats(e, &st);
	ck_assert_uint_ge(st.rearmed, 1);
	/* Lifted: no longer re-armed. */
	ck_assert_int_eq(ban_enforcer_unban(e, &b, wall()), 0);
	ck_assert_int_eq(ban_enforcer_drain(e, p, 5000), 0);
	i = (int)nbans;
	usleep(2500 * 1000);
	ck_assert_int_eq((int)nbans, i);
	ban_enforcer_stop(e, p);
	ban_policy_free(p);
}
END_TEST

/* Past its bound the journal asks for a snapshot, and gets one. */
START_TEST(test_enforcer_compaction)
{
	struct ban_policy *p = policy(0, 200000), *q = policy(0, 200000);
	struct ban_state_stats sst;
	struct ban_enforcer_stats st;
	struct ban_enforcer *e;
	struct ban_state *s;
	char err[256];
	wb_usec now = wall();
	unsigned i;

	reset();
	s = ban_state_open(tmp_path("state"), p, &sst, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	e = start(s, 65536, 0);
	for (i = 0; i < BAN_JOURNAL_MIN + 10; i++) {
		struct ban b = nth_ban(i, now, S(3600));
		struct wb_addr a = b.addr;

		ck_assert_int_eq(ban_policy_ban(p, &a, -1, "relay", S(3600),
		    now, &b), 1);
		while (ban_enforcer_ban(e, &b) != 0)
			ck_abort_msg("queue full");
		if (i % 1000 == 0)
			ban_enforcer_poll(e, p);
		if (i % 30000 == 29999)
			ck_assert_int_eq(ban_enforcer_drain(e, p, 20000), 0);
	}
	ck_assert_int_eq(ban_enforcer_drain(e, p, 20000), 0);
	for (i = 0; i < 100; i++) {
		ban_enforcer_poll(e, p);
		ck_assert_int_eq(ban_enforcer_drain(e, p, 20000), 0);
		ban_enforcer_stats(e, &st);
		if (st.compactions > 0)
			break;
	}
	ck_assert_uint_eq(st.compactions, 1);
	ck_assert_uint_lt(ban_state_records(s), 1000);
	ban_enforcer_stop(e, p);
	ban_state_close(s);
	/* Read back: every ban, from the snapshot. */
	s = ban_state_open(tmp_path("state"), q, &sst, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_uint_eq(sst.active + sst.journal, BAN_JOURNAL_MIN + 10);
	ck_assert_uint_ge(sst.active, BAN_JOURNAL_MIN);
	ban_state_close(s);
	ban_policy_free(p);
	ban_policy_free(q);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("enforcer");
	TCase *t;

	t = tc(s, "enforcer");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_enforcer_batches);
	tcase_add_test(t, test_enforcer_single);
	tcase_add_test(t, test_enforcer_overflow);
	tcase_add_test(t, test_enforcer_rearm);
	tcase_add_test(t, test_enforcer_compaction);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
