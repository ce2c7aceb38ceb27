/*
 * state.c - the ban state file, and the reconcile of a backend with it.
 *
 * The file is text, one record a line, after a versioned header:
 *
 *     wireban-state 1
 *     # kind address rule start expiry count score
 *     ban  192.0.2.7   relay  1732700000.000000 1732703600.000000 1 3
 *     past 2001:db8::1 auth   1732600000.000000 1732603600.000000 2 3
 *
 * "ban" is a ban that was active when the file was written, "past" the
 * last ban of an address banned before (its count feeds the increment).
 * Times are seconds.microseconds of packet time. A rule name is written
 * with '%XX' for a space, '%', a control or a non-ASCII byte, and an
 * empty one as "-", so every record is exactly seven fields.
 *
 * Invariant: path always holds a complete file, old or new. Saving
 * writes path.tmp, fsyncs it, renames it over path and fsyncs the
 * directory; a crash (kill -9, power loss) at any moment leaves either
 * the old file or the new one, never a mix and never an empty one.
 * Loading never trusts the file: a bad line is reported as path:line
 * and skipped, never a crash.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bans_int.h"

#define STATE_MAGIC	"wireban-state"
#define STATE_VERSION	1
/* Longest valid record is about 150 bytes; longer lines are junk. */
#define LINE_MAX_STATE	512
#define TMP_SUFFIX	".tmp"

struct writer {
	FILE		*f;
	const char	*kind;
	int		 err;
};

static void	 rule_encode(char *, size_t, const char *);
static int	 rule_decode(char *, const char *);
static void	 write_one(void *, const struct ban *);
static int	 time_parse(const char *, wb_usec *);
static int	 uint_parse(const char *, long, long, long *);
static int	 dir_of(const char *, char *, size_t);
static int	 fsync_dir(const char *);
static int	 parse_line(char *, struct ban *, bool *, const char **);
static void	 reconcile_unban(void *, const struct ban *);
static void	 reconcile_collect(void *, const struct ban *);

/* ---- writing ---------------------------------------------------------- */

static void
rule_encode(char *out, size_t outlen, const char *rule)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)rule;

	if (*s == '\0' || (s[0] == '-' && s[1] == '\0')) {
		/* "-" means empty, so a rule really named "-" is escaped. */
		(void)snprintf(out, outlen, "%s", *s == '\0' ? "-" : "%2D");
		return;
	}
	for (; *s != '\0' && o + 4 <= outlen; s++) {
		if (*s <= ' ' || *s >= 0x7f || *s == '%') {
			out[o++] = '%';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 15];
		} else
			out[o++] = (char)*s;
	}
	out[o] = '\0';
}

static void
write_one(void *arg, const struct ban *b)
{
	struct writer *w = arg;
	char addr[WB_ADDR_STRLEN], rule[BAN_RULE_MAX * 3 + 1];

	/* Packet time before 1970 is junk; the file holds no signs. */
	wb_usec start = b->start > 0 ? b->start : 0;
	wb_usec expiry = b->expiry > start ? b->expiry : start;

	rule_encode(rule, sizeof(rule), b->rule);
	if (fprintf(w->f, "%s %s %s %lld.%06lld %lld.%06lld %u %d\n",
	    w->kind, wb_addr_str(&b->addr, addr), rule,
	    (long long)(start / WB_USEC_PER_SEC),
	    (long long)(start % WB_USEC_PER_SEC),
	    (long long)(expiry / WB_USEC_PER_SEC),
	    (long long)(expiry % WB_USEC_PER_SEC),
	    b->count, b->score > 0 ? b->score : 0) < 0 && w->err == 0)
		w->err = errno != 0 ? errno : EIO;
}

/* The directory part of path ("." for a bare name). */
static int
dir_of(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return snprintf(dir, dirlen, ".") >= (int)dirlen ? -1 : 0;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirlen)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* The rename is only durable once the directory entry is on disk. */
static int
fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd, rc;

	if (dir_of(path, dir, sizeof(dir)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int state_write(const struct ban_policy *, const char *, bool);

int
ban_state_save(const struct ban_policy *p, const char *path)
{
	return state_write(p, path, true);
}

int
ban_state_save_nosync(const struct ban_policy *p, const char *path)
{
	return state_write(p, path, false);
}

int
ban_state_sync(const char *path)
{
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fsync(fd) != 0 || fsync_dir(path) != 0) {
		ban_log(BAN_LOG_ERR, "state: %s: fsync: %s", path,
		    strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Writes the temp file and renames it; with durable, fsyncs as it goes. */
static int
state_write(const struct ban_policy *p, const char *path, bool durable)
{
	char tmp[PATH_MAX];
	struct writer w = { NULL, NULL, 0 };
	const char *step = "write";
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s%s", path, TMP_SUFFIX) >=
	    (int)sizeof(tmp)) {
		ban_log(BAN_LOG_ERR, "state: %s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		ban_log(BAN_LOG_ERR, "state: %s: %s", tmp, strerror(errno));
		return -1;
	}
	if ((w.f = fdopen(fd, "w")) == NULL) {
		ban_log(BAN_LOG_ERR, "state: %s: %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	errno = 0;
	if (fprintf(w.f, "%s %d\n# kind address rule start expiry count "
	    "score\n", STATE_MAGIC, STATE_VERSION) < 0)
		w.err = errno != 0 ? errno : EIO;
	w.kind = "ban";
	if (ban_policy_foreach(p, BAN_ACTIVE, write_one, &w) < 0)
		w.err = ENOMEM;
	w.kind = "past";
	if (ban_policy_foreach(p, BAN_HISTORY, write_one, &w) < 0)
		w.err = ENOMEM;
	if (w.err == 0 && fflush(w.f) != 0)
		w.err = errno;
	if (w.err == 0 && durable && fsync(fileno(w.f)) != 0) {
		w.err = errno;
		step = "fsync";
	}
	if (fclose(w.f) != 0 && w.err == 0)
		w.err = errno;
	if (w.err != 0) {
		ban_log(BAN_LOG_ERR, "state: %s: %s: %s", tmp, step,
		    strerror(w.err));
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		ban_log(BAN_LOG_ERR, "state: rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	if (durable && fsync_dir(path) != 0) {
		/* The new file is in place; only its durability is in doubt. */
		ban_log(BAN_LOG_ERR, "state: %s: fsync of directory: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	(void)unlink(tmp);
	return -1;
}

/* ---- reading ---------------------------------------------------------- */

static int
rule_decode(char *out, const char *s)
{
	size_t o = 0;

	if (strcmp(s, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	while (*s != '\0') {
		unsigned char c = (unsigned char)*s;

		if (c == '%') {
			char hx[3];
			char *end;
			long v;

			if (!isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]))
				return -1;
			hx[0] = s[1];
			hx[1] = s[2];
			hx[2] = '\0';
			v = strtol(hx, &end, 16);
			if (*end != '\0' || v == 0)
				return -1;
			c = (unsigned char)v;
			s += 3;
		} else
			s++;
		if (o >= BAN_RULE_MAX - 1)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* "SECONDS.UUUUUU", both parts decimal, six fraction digits. */
static int
time_parse(const char *s, wb_usec *out)
{
	const char *dot = strchr(s, '.');
	long long sec, frac;
	char *end;
	int i;

	if (dot == NULL || dot == s || strlen(dot + 1) != 6 || *s == '-' ||
	    *s == '+')
		return -1;
	for (i = 1; i <= 6; i++)
		if (!isdigit((unsigned char)dot[i]))
			return -1;
	errno = 0;
	sec = strtoll(s, &end, 10);
	if (errno != 0 || end != dot || sec < 0 ||
	    sec > INT64_MAX / WB_USEC_PER_SEC)
		return -1;
	frac = strtoll(dot + 1, &end, 10);
	if (*end != '\0' || (sec == INT64_MAX / WB_USEC_PER_SEC &&
	    frac > INT64_MAX % WB_USEC_PER_SEC))
		return -1;
	*out = (wb_usec)sec * WB_USEC_PER_SEC + (wb_usec)frac;
	return 0;
}

static int
uint_parse(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parses one record into *b and *active. Returns 1 for a record, 0 for a
 * blank or comment line, -1 with *why set for a malformed one.
 */
static int
parse_line(char *line, struct ban *b, bool *active, const char **why)
{
	char *f[8], *save = NULL, *tok;
	long count, score;
	int n = 0;

	for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 8)
			break;
		f[n++] = tok;
	}
	if (n == 0 || f[0][0] == '#')
		return 0;
	*why = "expected 7 fields";
	if (n != 7)
		return -1;
	memset(b, 0, sizeof(*b));
	*why = "unknown record kind";
	if (strcmp(f[0], "ban") == 0)
		*active = true;
	else if (strcmp(f[0], "past") == 0)
		*active = false;
	else
		return -1;
	*why = "bad address";
	if (wb_addr_parse(&b->addr, f[1]) != 0)
		return -1;
	*why = "bad rule name";
	if (rule_decode(b->rule, f[2]) != 0)
		return -1;
	*why = "bad time";
	if (time_parse(f[3], &b->start) != 0 ||
	    time_parse(f[4], &b->expiry) != 0)
		return -1;
	*why = "expiry before start";
	if (b->expiry < b->start)
		return -1;
	*why = "bad count";
	if (uint_parse(f[5], 1, INT_MAX, &count) != 0)
		return -1;
	*why = "bad score";
	if (uint_parse(f[6], 0, INT_MAX, &score) != 0)
		return -1;
	b->count = (unsigned)count;
	b->score = (int)score;
	return 1;
}

int
ban_state_load(struct ban_policy *p, const char *path,
    struct ban_state_stats *st)
{
	struct ban_state_stats dummy;
	char line[LINE_MAX_STATE];
	unsigned long lineno = 0;
	bool header = false;
	FILE *f;

	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		ban_log(BAN_LOG_ERR, "state: %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		const char *why = NULL;
		struct ban b;
		bool active = false;
		int rc;

		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			int c;

			/* Too long to be ours: skip to the end of the line. */
			while ((c = getc(f)) != EOF && c != '\n')
				;
			ban_log(BAN_LOG_ERR, "%s:%lu: line too long, skipped",
			    path, lineno);
			st->bad++;
			continue;
		}
		if (!header) {
			char magic[32];
			int version, used = 0;

			if (sscanf(line, "%31s %d %n", magic, &version,
			    &used) != 2 || strcmp(magic, STATE_MAGIC) != 0 ||
			    line[used] != '\0') {
				ban_log(BAN_LOG_ERR, "%s:%lu: not a wireban "
				    "state file", path, lineno);
				fclose(f);
				return -1;
			}
			if (version != STATE_VERSION) {
				ban_log(BAN_LOG_ERR, "%s:%lu: state version "
				    "%d, this wireban reads %d", path, lineno,
				    version, STATE_VERSION);
				fclose(f);
				return -1;
			}
			header = true;
			continue;
		}
		rc = parse_line(line, &b, &active, &why);
		if (rc == 0)
			continue;
		if (rc < 0) {
			ban_log(BAN_LOG_ERR, "%s:%lu: %s, skipped", path,
			    lineno, why);
			st->bad++;
			continue;
		}
		if (ban_policy_restore(p, &b, active) != 0) {
			ban_log(BAN_LOG_ERR, "%s:%lu: not restored", path,
			    lineno);
			st->refused++;
			continue;
		}
		if (active)
			st->active++;
		else
			st->history++;
	}
	if (ferror(f)) {
		ban_log(BAN_LOG_ERR, "state: %s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (!header) {
		ban_log(BAN_LOG_ERR, "%s: empty, not a wireban state file",
		    path);
		return -1;
	}
	return 0;
}

/* ---- reconcile -------------------------------------------------------- */

struct reconcile {
	const struct ban_backend *b;
	ban_cb		*on_unban;
	void		*arg;
	struct ban	*v;
	size_t		 n, max;
	wb_usec		 now;
	int		 err;
};

static void
reconcile_unban(void *arg, const struct ban *b)
{
	struct reconcile *r = arg;

	if (r->b->unban(b) != 0)
		r->err = -1;
	if (r->on_unban != NULL)
		r->on_unban(r->arg, b);
}

static void
reconcile_collect(void *arg, const struct ban *b)
{
	struct reconcile *r = arg;

	if (r->n < r->max) {
		r->v[r->n] = *b;
		if (r->v[r->n].start < r->now)
			r->v[r->n].start = r->now;
		r->n++;
	}
}

int
ban_reconcile(struct ban_policy *p, const struct ban_backend *b,
    wb_usec now, ban_cb *on_unban, void *arg)
{
	struct reconcile r;
	struct ban_policy_stats st;
	size_t expired;

	memset(&r, 0, sizeof(r));
	r.b = b;
	r.on_unban = on_unban;
	r.arg = arg;
	r.now = now;
	expired = ban_policy_expire(p, now, reconcile_unban, &r);
	if (expired > 0 && b->commit() != 0)
		r.err = -1;
	ban_policy_stats(p, &st);
	r.max = (size_t)st.banned;
	if (r.max > 0 && (r.v = calloc(r.max, sizeof(*r.v))) == NULL) {
		ban_log(BAN_LOG_ERR, "reconcile: out of memory");
		return -1;
	}
	if (ban_policy_foreach(p, BAN_ACTIVE, reconcile_collect, &r) < 0)
		r.err = -1;
	else if (b->sync(r.v, r.n) != 0)
		r.err = -1;
	free(r.v);
	ban_log(BAN_LOG_INFO, "reconcile: %zu bans restored, %zu expired, "
	    "backend %s%s", r.n, expired, b->name,
	    r.err != 0 ? " reported errors" : "");
	return r.err;
}
