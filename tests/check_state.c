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

/* ---- the state: snapshot, journal, lock -------------------------------- */

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
	b = mkban("2001:db8:1:2::", "relay", T0, S(7200), 1, 3);
	b.bits = 64;
	ck_assert_int_eq(ban_policy_restore(p, &b, true), 0);
	b = mkban("198.51.100.1", "a rule; with%odd\tbytes#", T0, S(60), 3, 1);
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

/* Opens path into p; it must work. */
static struct ban_state *
open_ok(const char *path, struct ban_policy *p, struct ban_state_stats *st)
{
	char err[512] = "";
	struct ban_state *s = ban_state_open(path, p, st, err, sizeof(err));

	ck_assert_msg(s != NULL, "ban_state_open: %s", err);
	return s;
}

/* A fresh policy with what path holds (opened and closed again). */
static struct ban_policy *
load(const char *path, struct ban_state_stats *st)
{
	struct ban_policy *q = policy(0, 0);

	ban_state_close(open_ok(path, q, st));
	return q;
}

static void
append_ban(struct ban_state *s, const struct ban *b)
{
	char rec[BAN_STATE_REC_MAX];
	size_t n = ban_state_fmt_ban(rec, b);

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(ban_state_append(s, rec, n, 1), 0);
}

static void
append_unban(struct ban_state *s, const struct ban *b, wb_usec when)
{
	char rec[BAN_STATE_REC_MAX];
	size_t n = ban_state_fmt_unban(rec, b, when);

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(ban_state_append(s, rec, n, 1), 0);
}

START_TEST(test_state_roundtrip)
{
	struct ban_policy *p = sample_policy(1), *q, *e = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	static struct dump d1, d2;
	struct ban_state *s;
	char first[8192];

	s = open_ok(path, e, &st);
	ck_assert_int_eq(ban_state_save(s, p), 0);
	ban_state_close(s);
	q = load(path, &st);
	ck_assert_uint_eq(st.active, 4 + 20);
	ck_assert_uint_eq(st.history, 2 + 20);
	ck_assert_uint_eq(st.bad, 0);
	dump_policy(p, &d1);
	dump_policy(q, &d2);
	ck_assert_str_eq(d1.buf, d2.buf);
	/* Saved again from what was read, byte for byte the same. */
	(void)snprintf(first, sizeof(first), "%s", read_file(path));
	s = open_ok(path, e, &st);
	ck_assert_int_eq(ban_state_save(s, q), 0);
	ban_state_close(s);
	ck_assert_str_eq(strchr(first, '\n'), strchr(read_file(path), '\n'));
	ck_assert_ptr_nonnull(strstr(first, "wireban-state 2 "));
	ck_assert_ptr_nonnull(strstr(first,
	    "ban 192.0.2.7 relay 1700000000.000000 1700003600.000000 1 3\n"));
	ck_assert_ptr_nonnull(strstr(first, "ban 2001:db8:1:2::/64 relay "));
	ck_assert_ptr_nonnull(strstr(first, "a%20rule;%20with%25odd"
	    "%09bytes%23"));
	/* No temp file is left behind; the journal starts empty. */
	ck_assert_int_ne(access(tmp_path("state.tmp"), F_OK), 0);
	ck_assert_int_ne(access(tmp_path("state.journal.tmp"), F_OK), 0);
	ck_assert_ptr_nonnull(strstr(read_file(tmp_path("state.journal")),
	    "wireban-journal 2 "));
	ck_assert_int_eq(log_lines, 0);
	ban_policy_free(p);
	ban_policy_free(q);
	ban_policy_free(e);
}
END_TEST

/* Records appended to the journal come back, in order, on top. */
START_TEST(test_state_journal)
{
	struct ban_policy *p = policy(0, 0), *q;
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	struct ban_state *s;
	struct wb_addr a = A("192.0.2.1"), b6 = A("2001:db8:5::");
	struct ban b, got;

	s = open_ok(path, p, &st);
	b = mkban("192.0.2.1", "relay", T0, S(3600), 1, 3);
	append_ban(s, &b);
	b = mkban("2001:db8:5::", "auth", T0, S(600), 1, 3);
	b.bits = 48;
	append_ban(s, &b);
	/* Lifted, then banned again for longer (a repeat offender). */
	append_unban(s, &b, T0 + S(10));
	b = mkban("192.0.2.1", "relay", T0, S(3600), 1, 3);
	append_unban(s, &b, T0 + S(20));
	b = mkban("192.0.2.1", "relay", T0 + S(30), S(7200), 2, 3);
	append_ban(s, &b);
	ck_assert_uint_eq(ban_state_records(s), 5);
	ck_assert_int_eq(ban_state_flush(s), 0);
	ban_state_close(s);
	q = load(path, &st);
	ck_assert_uint_eq(st.journal, 5);
	ck_assert_uint_eq(st.bad, 0);
	ck_assert(ban_policy_get(q, &a, &got));
	ck_assert_uint_eq(got.count, 2);
	ck_assert_int_eq(got.expiry, T0 + S(30) + S(7200));
	ck_assert(!ban_policy_get(q, &b6, NULL));
	ck_assert_int_eq(log_lines, 0);
	ban_policy_free(p);
	ban_policy_free(q);
}
END_TEST

START_TEST(test_state_missing_and_unwritable)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_state_stats st;
	struct ban_state *s;
	char err[512] = "";

	/* A first start: nothing there, nothing restored. */
	s = open_ok(tmp_path("nothing"), p, &st);
	ck_assert_uint_eq(st.active + st.history + st.bad + st.journal, 0);
	ban_state_close(s);
	ck_assert_ptr_null(ban_state_open(tmp_path("no/such/dir/state"), p,
	    &st, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no/such/dir/state"));
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
	{ "ban 192.0.2.1/33 relay 1700000000.000000 1700003600.000000 1 3", "prefix" },
	{ "ban 192.0.2.1/x relay 1700000000.000000 1700003600.000000 1 3", "prefix" },
	{ "ban 192.0.2.1 re%2 1700000000.000000 1700003600.000000 1 3", "rule" },
	{ "ban 192.0.2.1 re%00x 1700000000.000000 1700003600.000000 1 3", "rule" },
	{ "ban 192.0.2.1 abcdefghijklmnopqrstuvwxyz0123456789 1700000000.000000 1700003600.000000 1 3", "rule" },
	{ "ban 192.0.2.1 relay 1700000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 1700000000.00000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay -1700000000.000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay +1700000000.000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 0x1700000.000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 1700000000.0000x0 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 99999999999999999999.000000 1700003600.000000 1 3", "time" },
	{ "ban 192.0.2.1 relay 1700003600.000000 1700000000.000000 1 3", "before" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 0 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 -1 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 1x 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 +1 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 99999999999 3", "count" },
	{ "ban 192.0.2.1 relay 1700000000.000000 1700003600.000000 1 -3", "score" },
	{ "unban 192.0.2.1 1700000000.000000", "out of place" },
	{ "\x01\x02\xff\xfe binary junk", "kind" },
	{ "ban", "7 fields" },
};

START_TEST(test_state_garbage)
{
	struct ban_policy *p = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	char text[1024];
	struct wb_addr g1 = A("192.0.2.201"), g2 = A("192.0.2.202");

	(void)snprintf(text, sizeof(text), "wireban-state 2 0\n"
	    "# a comment\n\n"
	    "ban 192.0.2.201 relay 1700000000.000000 1700003600.000000 1 3\n"
	    "%s\n"
	    "past 192.0.2.202 auth 1690000000.000000 1690003600.000000 2 3\n",
	    garbage[_i].line);
	write_file(path, text);
	ban_state_close(open_ok(path, p, &st));
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

/*
 * Whole files: version 1 is read (and converted); what is not a state
 * this wireban reads is moved aside, kept, and never overwritten.
 */
static const struct {
	const char	*text;
	bool		 moved;
	size_t		 active;
} files[] = {
	{ "", true, 0 },
	{ "wireban-state 3 7\nban 192.0.2.1 r 1.000000 2.000000 1 3\n", true,
	    0 },
	{ "wireban-state\n", true, 0 },
	{ "wireban-state 1 x\n", true, 0 },
	{ "wireban-state 2\n", true, 0 },
	{ "iptables-save v1\n", true, 0 },
	{ "ban 192.0.2.1 r 1.000000 2.000000 1 3\n", true, 0 },
	{ "wireban-state 1\n", false, 0 },
	{ "wireban-state 1\nban 192.0.2.1 r 1.000000 2.000000 1 3\n", false,
	    1 },
	{ "wireban-state 1\r\nban 192.0.2.1 r 1.000000 2.000000 1 3\r\n",
	    false, 1 },
	{ "wireban-state 2 4\nban 192.0.2.1 r 1.000000 2.000000 1 3\n",
	    false, 1 },
};

START_TEST(test_state_files)
{
	struct ban_policy *p = policy(0, 0), *q;
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	char moved[PATH_MAX + 32], *after;
	struct stat sb;

	write_file(path, files[_i].text);
	ban_state_close(open_ok(path, p, &st));
	ck_assert_int_eq(st.moved, files[_i].moved);
	ck_assert_uint_eq(st.active, files[_i].active);
	after = read_file(path);
	ck_assert_ptr_nonnull(after);
	ck_assert_msg(strncmp(after, "wireban-state 2 ", 16) == 0 ||
	    !st.moved, "%s", after);
	if (files[_i].moved) {
		/* The unreadable file is kept under a name the log gives. */
		const char *k = strstr(log_last, "kept as ");

		ck_assert_ptr_nonnull(k);
		(void)snprintf(moved, sizeof(moved), "%s", k + 8);
		moved[strcspn(moved, ",")] = '\0';
		ck_assert_int_eq(stat(moved, &sb), 0);
		ck_assert_str_eq(read_file(moved), files[_i].text);
	}
	if (st.converted) {
		/* Rewritten as version 2; read again, the same bans. */
		ck_assert(strncmp(after, "wireban-state 2 ", 16) == 0);
		q = load(path, &st);
		ck_assert_uint_eq(st.active, files[_i].active);
		ban_policy_free(q);
	}
	ban_policy_free(p);
}
END_TEST

/* A NUL byte in a line makes it junk, and only it. */
START_TEST(test_state_nul)
{
	static const char text[] = "wireban-state 2 0\n"
	    "ban 192.0.2.1 r 1.000000 2.000000 1 3\n"
	    "ban 192.0.2.2 r 1.0\0000 2.000000 1 3\n"
	    "\0\n"
	    "ban 192.0.2.3 r 1.000000 2.000000 1 3\n";
	struct ban_policy *p = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	struct wb_addr a1 = A("192.0.2.1"), a2 = A("192.0.2.2"),
	    a3 = A("192.0.2.3");
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, sizeof(text) - 1, f),
	    sizeof(text) - 1);
	fclose(f);
	ban_state_close(open_ok(path, p, &st));
	ck_assert_uint_eq(st.bad, 2);
	ck_assert_uint_eq(st.active, 2);
	ck_assert(ban_policy_get(p, &a1, NULL));
	ck_assert(!ban_policy_get(p, &a2, NULL));
	ck_assert(ban_policy_get(p, &a3, NULL));
	ck_assert_ptr_nonnull(strstr(log_last, ":4: NUL byte"));
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

	n = (size_t)snprintf(text, sizeof(text), "wireban-state 2 0\nban ");
	memset(text + n, 'x', 5000);
	n += 5000;
	(void)snprintf(text + n, sizeof(text) - n,
	    "\nban 192.0.2.1 r 1.000000 2.000000 1 3\n");
	write_file(path, text);
	ban_state_close(open_ok(path, p, &st));
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
	write_file(path, "wireban-state 2 0\n"
	    "ban 192.0.2.1 r 1.000000 2.000000 1 3\n"
	    "ban 198.51.100.1 r 1.000000 2.000000 1 3\n");
	ban_state_close(open_ok(path, p, &st));
	ck_assert_uint_eq(st.refused, 1);
	ck_assert_uint_eq(st.active, 1);
	ban_policy_free(p);
}
END_TEST

/*
 * A crash in the middle of an append leaves a torn last record: it is
 * reported and cut off, and what is appended next is read back whole.
 */
START_TEST(test_state_torn)
{
	struct ban_policy *p = policy(0, 0), *q;
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	struct ban_state *s;
	struct wb_addr a1 = A("192.0.2.1"), a2 = A("192.0.2.2"),
	    a3 = A("192.0.2.3");
	struct ban b;
	char rec[BAN_STATE_REC_MAX], text[2048];
	size_t n;

	s = open_ok(path, p, &st);
	b = mkban("192.0.2.1", "relay", T0, S(3600), 1, 3);
	append_ban(s, &b);
	ban_state_close(s);
	/* Half of a second record, as a kill -9 mid-write leaves it. */
	b = mkban("192.0.2.2", "relay", T0, S(3600), 1, 3);
	n = ban_state_fmt_ban(rec, &b);
	(void)snprintf(text, sizeof(text), "%s%.*s",
	    read_file(tmp_path("state.journal")), (int)(n / 2), rec);
	write_file(tmp_path("state.journal"), text);
	ban_policy_free(p);
	s = open_ok(path, p = policy(0, 0), &st);
	ck_assert(st.torn);
	ck_assert_uint_eq(st.journal, 1);
	ck_assert_int_eq(log_lines, 1);
	ck_assert_ptr_nonnull(strstr(log_last, "torn"));
	b = mkban("192.0.2.3", "relay", T0, S(3600), 1, 3);
	append_ban(s, &b);
	ban_state_close(s);
	q = load(path, &st);
	ck_assert(!st.torn);
	ck_assert_uint_eq(st.bad, 0);
	ck_assert(ban_policy_get(q, &a1, NULL));
	ck_assert(!ban_policy_get(q, &a2, NULL));
	ck_assert(ban_policy_get(q, &a3, NULL));
	ban_policy_free(p);
	ban_policy_free(q);
}
END_TEST

/* A record whose CRC does not match is skipped with path:line. */
START_TEST(test_state_crc)
{
	struct ban_policy *p = policy(0, 0), *q;
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	struct ban_state *s;
	struct ban b;
	char *j, *hit;

	s = open_ok(path, p, &st);
	b = mkban("192.0.2.1", "relay", T0, S(3600), 1, 3);
	append_ban(s, &b);
	b = mkban("192.0.2.2", "relay", T0, S(3600), 1, 3);
	append_ban(s, &b);
	ban_state_close(s);
	j = read_file(tmp_path("state.journal"));
	/* One flipped digit in the first record's address. */
	ck_assert_ptr_nonnull(hit = strstr(j, "192.0.2.1 "));
	hit[8] = '7';
	write_file(tmp_path("state.journal"), j);
	q = load(path, &st);
	ck_assert_uint_eq(st.bad, 1);
	ck_assert_uint_eq(st.journal, 1);
	ck_assert_ptr_nonnull(strstr(log_last, "state.journal:2: checksum"));
	ban_policy_free(p);
	ban_policy_free(q);
}
END_TEST

/*
 * A compaction cut short between its two renames leaves a journal
 * older than the snapshot: its records are in the snapshot already.
 */
START_TEST(test_state_stale_journal)
{
	struct ban_policy *p = policy(0, 0), *q;
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	struct wb_addr a = A("192.0.2.9");

	write_file(path, "wireban-state 2 5\n"
	    "ban 192.0.2.1 r 1.000000 2.000000 1 3\n");
	write_file(tmp_path("state.journal"), "wireban-journal 2 4\n"
	    "ban 192.0.2.9 r 1.000000 2.000000 1 3 #00000000\n");
	q = load(path, &st);
	ck_assert_uint_eq(st.active, 1);
	ck_assert_uint_eq(st.journal, 0);
	ck_assert_uint_eq(st.bad, 0);
	ck_assert(!ban_policy_get(q, &a, NULL));
	ck_assert_ptr_nonnull(strstr(read_file(tmp_path("state.journal")),
	    "wireban-journal 2 6\n"));
	ban_policy_free(p);
	ban_policy_free(q);
}
END_TEST

/* One owner at a time: a second open is refused with the owner's pid. */
START_TEST(test_state_lock)
{
	struct ban_policy *p = policy(0, 0);
	const char *path = tmp_path("state");
	struct ban_state_stats st;
	struct ban_state *s, *t;
	char err[512] = "", pid[32];

	s = open_ok(path, p, &st);
	t = ban_state_open(path, p, &st, err, sizeof(err));
	ck_assert_ptr_null(t);
	(void)snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	ck_assert_msg(strstr(err, "in use by another wireban") != NULL &&
	    strstr(err, pid) != NULL, "%s", err);
	ban_state_close(s);
	/* Released on close. */
	ban_state_close(open_ok(path, p, &st));
	ban_policy_free(p);
}
END_TEST

/* A path that is not a regular file is refused, never replaced. */
START_TEST(test_state_not_regular)
{
	struct ban_policy *p = policy(0, 0);
	struct ban_state_stats st;
	char err[512] = "";
	struct stat sb;

	ck_assert_int_eq(mkfifo(tmp_path("fifo"), 0600), 0);
	ck_assert_ptr_null(ban_state_open(tmp_path("fifo"), p, &st, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a regular file (a FIFO)"));
	ck_assert_int_eq(stat(tmp_path("fifo"), &sb), 0);
	ck_assert(S_ISFIFO(sb.st_mode));
	ck_assert_int_eq(mkdir(tmp_path("dir"), 0700), 0);
	ck_assert_ptr_null(ban_state_open(tmp_path("dir"), p, &st, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "directory"));
	ck_assert_int_eq(symlink("/dev/null", tmp_path("link")), 0);
	ck_assert_ptr_null(ban_state_open(tmp_path("link"), p, &st, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
	ban_policy_free(p);
}
END_TEST

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
	Suite *s = suite_create("state");
	TCase *t;

	t = tc(s, "state");
	tcase_add_test(t, test_state_roundtrip);
	tcase_add_test(t, test_state_journal);
	tcase_add_test(t, test_state_missing_and_unwritable);
	tcase_add_loop_test(t, test_state_garbage, 0, N(garbage));
	tcase_add_loop_test(t, test_state_files, 0, N(files));
	tcase_add_test(t, test_state_long_line);
	tcase_add_test(t, test_state_nul);
	tcase_add_test(t, test_state_refused);
	tcase_add_test(t, test_state_torn);
	tcase_add_test(t, test_state_crc);
	tcase_add_test(t, test_state_stale_journal);
	tcase_add_test(t, test_state_lock);
	tcase_add_test(t, test_state_not_regular);

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
