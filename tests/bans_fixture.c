/*
 * bans_fixture.c - see bans_fixture.h.
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../bans/bans_int.h"
#include "bans_fixture.h"

struct wb_addr
A(const char *s)
{
	struct wb_addr a;

	ck_assert_msg(wb_addr_parse(&a, s) == 0, "bad test address %s", s);
	return a;
}

/* Log lines go here, so tests can count them and output stays quiet. */
int	 log_lines;
char	 log_last[512];

void
log_hook(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	log_lines++;
	(void)snprintf(log_last, sizeof(log_last), "%s", line);
}

void
setup(void)
{
	log_lines = 0;
	log_last[0] = '\0';
	ban_log_set(log_hook, NULL);
	ban_record_reset();
}

char tmpdir[PATH_MAX];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
teardown(void)
{
	ban_log_set(NULL, NULL);
	if (tmpdir[0] != '\0')
		(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

struct ban_policy *
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

const char *
tmp_path(const char *name)
{
	/* Several at once stay valid: the last 16 results. */
	static char paths[16][PATH_MAX + 64];
	static unsigned next;
	char *path = paths[next++ % 16];

	if (tmpdir[0] == '\0') {
		const char *base = getenv("TMPDIR");

		(void)snprintf(tmpdir, sizeof(tmpdir), "%s/check_bans.XXXXXX",
		    base != NULL && base[0] != '\0' ? base : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	}
	(void)snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return path;
}

void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

char *
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

void
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


TCase *
tc(Suite *s, const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, setup, teardown);
	suite_add_tcase(s, t);
	return t;
}

int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/* A ban of addr (one address) from start for len. */
struct ban
mkban(const char *addr, const char *rule, wb_usec start, wb_usec len,
    unsigned count, int score)
{
	struct ban b;

	memset(&b, 0, sizeof(b));
	b.addr = A(addr);
	b.bits = (uint8_t)wb_addr_bits(&b.addr);
	(void)snprintf(b.rule, sizeof(b.rule), "%s", rule);
	b.start = start;
	b.expiry = start + len;
	b.count = count;
	b.score = score;
	return b;
}

void
collect(void *arg, const struct ban *b)
{
	struct collect *c = arg;

	ck_assert_uint_lt(c->n, 16);
	c->v[c->n++] = *b;
}

/* Opens path into p; it must work. */
struct ban_state *
open_ok(const char *path, struct ban_policy *p, struct ban_state_stats *st)
{
	char err[512] = "";
	struct ban_state *s = ban_state_open(path, p, st, err, sizeof(err));

	ck_assert_msg(s != NULL, "ban_state_open: %s", err);
	return s;
}

void
append_ban(struct ban_state *s, const struct ban *b)
{
	char rec[BAN_STATE_REC_MAX];
	size_t n = ban_state_fmt_ban(rec, b);

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(ban_state_append(s, rec, n, 1), 0);
}

void
append_unban(struct ban_state *s, const struct ban *b, wb_usec when)
{
	char rec[BAN_STATE_REC_MAX];
	size_t n = ban_state_fmt_unban(rec, b, when);

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(ban_state_append(s, rec, n, 1), 0);
}
