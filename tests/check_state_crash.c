/*
 * check_state_crash.c - the ban state of bans/ under kill -9: a child
 * writing the journal is killed at arbitrary moments, and what is
 * reopened must be exactly what it had acknowledged (or one more).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"
#include "../bans/bans_int.h"
#include "bans_fixture.h"

/*
 * Crash safety: a child applies a fixed sequence of operations (bans,
 * unbans, and every 7th a compaction) to the state, acknowledging each
 * through a pipe once it is appended, and is killed with SIGKILL at an
 * arbitrary moment. Reopened, the state must read cleanly (a torn last
 * record is allowed) and hold exactly the outcome of the acknowledged
 * operations, or of one more (the one in flight).
 */
#define CRASH_KEYS	23

static void
crash_op(unsigned i, struct ban *b, bool *unban)
{
	char a[32];

	(void)snprintf(a, sizeof(a), "10.9.%u.1", (i * 7) % CRASH_KEYS);
	*b = mkban(a, i % 3 ? "relay" : "auth", T0 + S(i), S(3600 + i),
	    1 + i / CRASH_KEYS, 3);
	*unban = i % 5 == 4;
}

static void
crash_apply(struct ban_policy *p, unsigned i)
{
	struct ban b;
	bool unban;

	crash_op(i, &b, &unban);
	if (unban)
		(void)ban_policy_unban(p, &b.addr, b.bits, b.start, NULL);
	else
		ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
}

START_TEST(test_state_crash)
{
	const char *path = tmp_path("state"), *jpath = tmp_path("state.journal");
	static struct dump dg, d0, d1;
	unsigned seed = 12345, round, total = 0;

	for (round = 0; round < 100; round++) {
		volatile unsigned sink = 0;
		unsigned spin, k, i, acked = 0;
		int fds[2], status;
		pid_t pid;
		char c;

		(void)unlink(path);
		(void)unlink(jpath);
		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct ban_policy *mine = policy(0, 0);
			struct ban_state_stats cst;
			char err[256];
			struct ban_state *s;

			close(fds[0]);
			if ((s = ban_state_open(path, policy(0, 0), &cst, err,
			    sizeof(err))) == NULL)
				_exit(1);
			for (i = 0;; i++) {
				struct ban b;
				bool unban;

				crash_op(i, &b, &unban);
				crash_apply(mine, i);
				if (i % 7 == 6) {
					if (ban_state_save(s, mine) != 0)
						_exit(2);
				} else if (unban) {
					append_unban(s, &b, b.start);
				} else {
					append_ban(s, &b);
				}
				if (write(fds[1], "x", 1) != 1)
					_exit(3);
			}
		}
		close(fds[1]);
		/*
		 * Half the rounds aim at a compaction (its fsyncs take
		 * milliseconds): the acknowledgement of the operation just
		 * before one, then up to 4 ms; the others anywhere.
		 */
		if (round % 2 == 0) {
			k = 7 * (unsigned)(rand_r(&seed) % 20) + 6;
			spin = 0;
		} else {
			k = 1 + (unsigned)rand_r(&seed) % 200;
			spin = (unsigned)rand_r(&seed) % 200000;
		}
		for (i = 0; i < k; i++)
			ck_assert_int_eq(read(fds[0], &c, 1), 1);
		if (round % 2 == 0) {
			struct timespec nap = { 0,
			    (long)(rand_r(&seed) % 4000) * 1000 };

			nanosleep(&nap, NULL);
		}
		for (i = 0; i < spin; i++)
			sink++;
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		acked = k;
		while (read(fds[0], &c, 1) == 1)
			acked++;
		close(fds[0]);
		total += acked;
		{
			struct ban_policy *q = policy(0, 0), *e0 = policy(0, 0),
			    *e1 = policy(0, 0);
			struct ban_state_stats st;

			ban_state_close(open_ok(path, q, &st));
			ck_assert_uint_eq(st.bad, 0);
			for (i = 0; i < acked; i++) {
				crash_apply(e0, i);
				crash_apply(e1, i);
			}
			crash_apply(e1, acked);
			dump_policy(q, &dg);
			dump_policy(e0, &d0);
			dump_policy(e1, &d1);
			ck_assert_msg(strcmp(dg.buf, d0.buf) == 0 ||
			    strcmp(dg.buf, d1.buf) == 0, "round %u, %u acked: "
			    "got\n%s\nwanted\n%s", round, acked, dg.buf,
			    d0.buf);
			ban_policy_free(q);
			ban_policy_free(e0);
			ban_policy_free(e1);
		}
	}
	ck_assert_uint_gt(total, 60);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

static Suite *
suite(void)
{
	Suite *s = suite_create("state_crash");
	TCase *t;

	t = tc(s, "crash");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_state_crash);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
