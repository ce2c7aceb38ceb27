/*
 * check_state.c - unit tests of the ban state of bans/: the snapshot,
 * the journal and the lock (round trip, garbage, torn and corrupt
 * records, refused files). The kill -9 test is check_state_crash.c,
 * the reconcile with a backend check_reconcile.c.
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

/* A fresh policy with what path holds (opened and closed again). */
static struct ban_policy *
load(const char *path, struct ban_state_stats *st)
{
	struct ban_policy *q = policy(0, 0);

	ban_state_close(open_ok(path, q, st));
	return q;
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
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
