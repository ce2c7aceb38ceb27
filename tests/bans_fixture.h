/*
 * bans_fixture.h - what the unit tests of bans/ share: a quiet log hook
 * that counts lines, a temporary directory per test, a policy with a
 * fixed hash key, small file helpers and a text dump of a policy.
 *
 * Time is always a number the test passes: no test sleeps.
 */
#ifndef WIREBAN_BANS_FIXTURE_H
#define WIREBAN_BANS_FIXTURE_H

#include <check.h>
#include <stddef.h>

#include "bans.h"

#define S(x)	((wb_usec)(x) * WB_USEC_PER_SEC)
#define T0	S(1700000000)
#define N(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* The address s, which must parse. */
struct wb_addr	 A(const char *s);

/* Lines logged through the bans/ hook since setup, and the last one. */
extern int	 log_lines;
extern char	 log_last[512];
void		 log_hook(void *arg, enum ban_log_level level, const char *line);

/* Check fixtures: the hook on, the record backend reset; tmp removed. */
void		 setup(void);
void		 teardown(void);

/* A policy with seed 42; 0 keeps a default. */
struct ban_policy *policy(int maxretry, size_t max_tracked);

/* A ban of addr (one address) from start for len. */
struct ban	 mkban(const char *addr, const char *rule, wb_usec start,
		    wb_usec len, unsigned count, int score);

/* This test's temporary directory ("" before tmp_path made it). */
extern char	 tmpdir[];

/*
 * name inside this test's temporary directory (made on first use); the
 * last 16 results stay valid.
 */
const char	*tmp_path(const char *name);
void		 write_file(const char *path, const char *text);
/* The file's first 8 KiB (static buffer), or NULL. */
char		*read_file(const char *path);

/* A policy's bans and history as text, for comparisons. */
struct dump {
	char	 buf[16384];
	size_t	 len;
};
void		 dump_policy(const struct ban_policy *p, struct dump *d);

/* Bans handed to a callback, kept (at most 16). */
struct collect {
	struct ban	 v[16];
	size_t		 n;
};
void		 collect(void *arg, const struct ban *b);

/* The state at path opened into p (it must work). */
struct ban_state *open_ok(const char *path, struct ban_policy *p,
		    struct ban_state_stats *st);
/* A ban's, an unban's journal record appended to s (it must work). */
void		 append_ban(struct ban_state *s, const struct ban *b);
void		 append_unban(struct ban_state *s, const struct ban *b,
		    wb_usec when);

/* A test case with the fixtures above, added to s. */
TCase		*tc(Suite *s, const char *name);
/* Runs s; the exit status of a check program. */
int		 run_suite(Suite *s);

#endif
