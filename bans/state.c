/*
 * state.c - the ban state on disk: a snapshot, a journal, a lock.
 *
 *     PATH          wireban-state 2 GEN, then "ban" and "past" records:
 *                   every active ban and ban history at one moment
 *     PATH.journal  wireban-journal 2 GEN, then "ban" and "unban"
 *                   records (each with its CRC) appended as they happen
 *     PATH.lock     flock()ed by the one process that owns the state;
 *                   holds its pid, for the message a second one gets
 *
 * A ban costs one appended line, not a rewrite of every ban (the old
 * format, version 1, was one file rewritten and fsynced per ban). When
 * the journal has grown past its bound, the owner writes a new snapshot
 * (compaction): the snapshot with generation GEN+1 is written to a temp
 * file, fsynced and renamed over PATH, then an empty journal of GEN+1
 * likewise. A journal whose generation is not the snapshot's is left
 * over from a compaction cut short and is already in the snapshot: it
 * is ignored. So a crash at any moment leaves a state that reads back
 * as everything appended before it (fsync aside: the caller fsyncs
 * the journal in groups, see ban_state_flush()).
 *
 * Invariant: a file this code cannot read is never overwritten: it is
 * renamed aside (PATH.bad-TIME) and named in the log. A path that is
 * not a regular file is refused, never replaced. A torn last journal
 * record (a crash in the middle of a write) is reported and cut off, so
 * the next append starts on a line of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bans_int.h"

#define STATE_MAGIC	"wireban-state"
#define JOURNAL_MAGIC	"wireban-journal"
#define STATE_VERSION	2
/* The longest valid record is about 170 bytes; longer lines are junk. */
#define LINE_MAX_STATE	512

struct ban_state {
	char		*path;		/* the snapshot */
	char		*jpath;		/* PATH.journal */
	int		 lockfd;
	int		 jfd;		/* the journal, O_APPEND */
	unsigned long	 gen;
	size_t		 records;	/* journal records since the snapshot */
	size_t		 snap_records;	/* records in the snapshot */
	bool		 dirty;		/* appended since the last fsync */
};

static int	 check_regular(const char *, char *, size_t);
static int	 take_lock(struct ban_state *, char *, size_t);
static int	 move_aside(const char *);
static int	 read_file(struct ban_state *, struct ban_policy *, bool,
		    unsigned long, struct ban_state_stats *, bool *,
		    unsigned long *);
static int	 write_snapshot(struct ban_state *, unsigned long,
		    const struct ban *, size_t, const struct ban *, size_t);
static int	 new_journal(struct ban_state *, unsigned long);

/* 0 when path is missing or a regular file; -1 (err says) otherwise. */
static int
check_regular(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (a %s): "
		    "refusing to use or replace it", path,
		    S_ISLNK(sb.st_mode) ? "symbolic link" :
		    S_ISDIR(sb.st_mode) ? "directory" :
		    S_ISFIFO(sb.st_mode) ? "FIFO" :
		    S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "device" :
		    S_ISSOCK(sb.st_mode) ? "socket" : "special file");
		return -1;
	}
	return 0;
}

static int
take_lock(struct ban_state *s, char *err, size_t errlen)
{
	char *lpath = ban_path_suffixed(s->path, ".lock");
	char pid[32] = "";
	ssize_t n;
	int fd;

	if (lpath == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->path);
		return -1;
	}
	if (check_regular(lpath, err, errlen) != 0) {
		free(lpath);
		return -1;
	}
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", lpath, strerror(errno));
		free(lpath);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		if ((n = pread(fd, pid, sizeof(pid) - 1, 0)) > 0)
			pid[n] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			snprintf(err, errlen, "%s: the state is in use by "
			    "another wireban (pid %s): only one process may "
			    "own it (stop the running watch, or give this one "
			    "another paths.state)", s->path,
			    pid[0] != '\0' ? pid : "unknown");
		else
			snprintf(err, errlen, "%s: lock: %s", lpath,
			    strerror(e));
		close(fd);
		free(lpath);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* Only the message of a second owner is poorer. */
	}
	free(lpath);
	s->lockfd = fd;
	return 0;
}

/* Renames path to path.bad-YYYYmmddTHHMMSS, keeping it for the admin. */
static int
move_aside(const char *path)
{
	char to[PATH_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm) == 0)
		(void)snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	if (snprintf(to, sizeof(to), "%s.bad-%s", path, stamp) >=
	    (int)sizeof(to) || rename(path, to) != 0) {
		ban_log(BAN_LOG_ERR, "state: %s cannot be read and cannot be "
		    "moved aside (%s): refusing to start over it", path,
		    strerror(errno));
		return -1;
	}
	ban_log(BAN_LOG_ERR, "state: %s cannot be read: kept as %s, "
	    "starting without it", path, to);
	return 0;
}

/*
 * Reads the snapshot (journal false) or the journal into p. *bad_header
 * is set when the file exists but is not one of ours (the caller moves
 * it aside); *gen gets its generation (0 for a version 1 file, which
 * has none). A journal older than the snapshot (generation below
 * snap_gen) is left over from a compaction cut short, already in the
 * snapshot: its records are not read. Returns 1 when read, 0 when
 * missing, -1 on a read error.
 */
static int
read_file(struct ban_state *s, struct ban_policy *p, bool journal,
    unsigned long snap_gen, struct ban_state_stats *st, bool *bad_header,
    unsigned long *gen)
{
	const char *path = journal ? s->jpath : s->path;
	const char *magic = journal ? JOURNAL_MAGIC : STATE_MAGIC;
	char line[LINE_MAX_STATE], word[32];
	unsigned long lineno = 0;
	off_t good = 0, pos = 0;
	bool header = false;
	FILE *f;

	*bad_header = false;
	*gen = 0;
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		off_t prev = pos;
		enum ban_rec_kind k;
		const char *why = "";
		struct ban b;
		wb_usec when;
		int rc, version, used = 0;

		lineno++;
		pos = ftello(f);
		if ((off_t)len != pos - prev) {
			size_t got = (size_t)(pos - prev);
			int c;

			/* A NUL byte in the line: not text of ours. Skip the
			 * rest of it unless fgets stopped at its newline. */
			if (got == 0 || got >= sizeof(line) ||
			    line[got - 1] != '\n')
				while ((c = getc(f)) != EOF && c != '\n')
					;
			pos = ftello(f);
			if (!header)
				break;
			ban_log(BAN_LOG_ERR, "%s:%lu: NUL byte, skipped", path,
			    lineno);
			st->bad++;
			good = pos;
			continue;
		}
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			int c;

			/* Too long to be ours: skip to the end of the line. */
			while ((c = getc(f)) != EOF && c != '\n')
				;
			pos = ftello(f);
			if (!header)
				break;
			ban_log(BAN_LOG_ERR, "%s:%lu: line too long, skipped",
			    path, lineno);
			st->bad++;
			good = pos;
			continue;
		}
		if (!header) {
			if (sscanf(line, "%31s %d %n", word, &version,
			    &used) != 2 || strcmp(word, magic) != 0)
				break;
			if (version == 1 && !journal && line[used] == '\0') {
				st->converted = true;
			} else if (version != STATE_VERSION ||
			    sscanf(line + used, "%lu", gen) != 1) {
				ban_log(BAN_LOG_ERR, "%s:%lu: version %d, this "
				    "wireban reads %d", path, lineno, version,
				    STATE_VERSION);
				break;
			}
			header = true;
			good = pos;
			if (journal && *gen < snap_gen)
				break;
			if (journal && *gen > snap_gen)
				ban_log(BAN_LOG_ERR, "%s: generation %lu, but "
				    "the snapshot is %lu (lost or replaced?): "
				    "replaying the journal on top of it", path,
				    *gen, snap_gen);
			continue;
		}
		if (line[len - 1] != '\n') {
			/* The last write of a crashed process. */
			ban_log(BAN_LOG_ERR, "%s:%lu: torn last record (a crash "
			    "while it was written), skipped", path, lineno);
			st->torn = true;
			break;
		}
		good = pos;
		rc = ban_rec_parse(line, journal, &k, &b, &when, &why);
		if (rc == 0)
			continue;
		if (rc < 0 || (journal && k == BAN_REC_PAST_LINE) ||
		    (!journal && k == BAN_REC_UNBAN_LINE)) {
			ban_log(BAN_LOG_ERR, "%s:%lu: %s, skipped", path,
			    lineno, rc < 0 ? why : "record out of place");
			st->bad++;
			continue;
		}
		if (k == BAN_REC_UNBAN_LINE) {
			(void)ban_policy_unban(p, &b.addr, b.bits, when, NULL);
			st->journal++;
			continue;
		}
		if (ban_policy_restore(p, &b, k == BAN_REC_BAN_LINE) != 0) {
			ban_log(BAN_LOG_ERR, "%s:%lu: not restored", path,
			    lineno);
			st->refused++;
			continue;
		}
		if (journal)
			st->journal++;
		else if (k == BAN_REC_BAN_LINE)
			st->active++;
		else
			st->history++;
		if (!journal)
			s->snap_records++;
	}
	if (ferror(f)) {
		ban_log(BAN_LOG_ERR, "state: %s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (!header) {
		*bad_header = true;
		return 1;
	}
	if (journal && st->torn && truncate(path, good) != 0) {
		ban_log(BAN_LOG_ERR, "state: %s: cannot cut the torn record: "
		    "%s", path, strerror(errno));
		return -1;
	}
	return 1;
}

/* A growing text buffer for a snapshot. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	bool	 failed;
};

static void
sbuf_reserve(struct sbuf *b, size_t more)
{
	char *n;
	size_t cap;

	if (b->failed || b->len + more <= b->cap)
		return;
	cap = b->cap == 0 ? 65536 : b->cap;
	while (cap < b->len + more)
		cap *= 2;
	if ((n = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return;
	}
	b->p = n;
	b->cap = cap;
}

static void
sbuf_rec(struct sbuf *b, enum ban_rec_kind k, const struct ban *ban)
{
	size_t n;

	sbuf_reserve(b, LINE_MAX_STATE);
	if (b->failed)
		return;
	n = ban_rec_format(b->p + b->len, b->cap - b->len, k, ban, 0, false);
	b->len += n;
}

static int
write_snapshot(struct ban_state *s, unsigned long gen, const struct ban *act,
    size_t nact, const struct ban *past, size_t npast)
{
	struct sbuf b = { NULL, 0, 0, false };
	size_t i;
	int rc;

	sbuf_reserve(&b, 128);
	if (!b.failed)
		b.len = (size_t)snprintf(b.p, b.cap, "%s %d %lu\n# kind prefix "
		    "rule start expiry count score\n", STATE_MAGIC,
		    STATE_VERSION, gen);
	for (i = 0; i < nact; i++)
		sbuf_rec(&b, BAN_REC_BAN_LINE, &act[i]);
	for (i = 0; i < npast; i++)
		sbuf_rec(&b, BAN_REC_PAST_LINE, &past[i]);
	if (b.failed) {
		ban_log(BAN_LOG_ERR, "state: %s: out of memory", s->path);
		free(b.p);
		return -1;
	}
	rc = ban_replace_file(s->path, b.p, b.len);
	free(b.p);
	if (rc == 0)
		s->snap_records = nact + npast;
	return rc;
}

/* Starts an empty journal of generation gen, open for appending. */
static int
new_journal(struct ban_state *s, unsigned long gen)
{
	char head[64];
	int n, fd;

	n = snprintf(head, sizeof(head), "%s %d %lu\n", JOURNAL_MAGIC,
	    STATE_VERSION, gen);
	if (ban_replace_file(s->jpath, head, (size_t)n) != 0)
		return -1;
	fd = open(s->jpath, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ban_log(BAN_LOG_ERR, "state: %s: %s", s->jpath,
		    strerror(errno));
		return -1;
	}
	if (s->jfd >= 0)
		close(s->jfd);
	s->jfd = fd;
	s->gen = gen;
	s->records = 0;
	s->dirty = false;
	return 0;
}

struct ban_state *
ban_state_open(const char *path, struct ban_policy *p,
    struct ban_state_stats *st, char *err, size_t errlen)
{
	struct ban_state_stats dummy;
	struct ban_state *s;
	unsigned long sgen, jgen = 0;
	bool bad, compact = false, snap_found;
	int rc;

	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL ||
	    (s->jpath = ban_path_suffixed(path, ".journal")) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	s->lockfd = s->jfd = -1;
	if (check_regular(path, err, errlen) != 0 ||
	    check_regular(s->jpath, err, errlen) != 0 ||
	    take_lock(s, err, errlen) != 0)
		goto fail;
	if ((rc = read_file(s, p, false, 0, st, &bad, &sgen)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	snap_found = rc == 1 && !bad;
	if (bad) {
		if (move_aside(path) != 0)
			goto unreadable;
		st->moved = true;
		compact = true;
	}
	if (st->converted) {
		ban_log(BAN_LOG_INFO, "state: %s: version 1, converted to a "
		    "snapshot and a journal", path);
		compact = true;
	}
	if ((rc = read_file(s, p, true, sgen, st, &bad, &jgen)) < 0) {
		snprintf(err, errlen, "%s: %s", s->jpath, strerror(errno));
		goto fail;
	}
	if (rc == 1 && bad) {
		if (move_aside(s->jpath) != 0)
			goto unreadable;
		st->moved = true;
		compact = true;
	} else if (rc == 1 && jgen != sgen) {
		if (jgen < sgen)
			ban_log(BAN_LOG_INFO, "state: %s: generation %lu, "
			    "older than the snapshot's %lu: a compaction was "
			    "cut short, its records are in the snapshot",
			    s->jpath, jgen, sgen);
		compact = true;
	}
	s->gen = sgen > jgen ? sgen : jgen;
	s->records = st->journal;
	/* No snapshot yet (a first start): one is written, empty or not. */
	if (!snap_found)
		compact = true;
	if (rc == 0 || compact) {
		if (compact && ban_state_save(s, p) != 0) {
			snprintf(err, errlen, "%s: cannot write the state (see "
			    "the line above)", path);
			goto fail;
		}
		if (!compact && new_journal(s, s->gen) != 0) {
			snprintf(err, errlen, "%s: cannot start the journal",
			    s->jpath);
			goto fail;
		}
		return s;
	}
	s->jfd = open(s->jpath, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (s->jfd < 0) {
		snprintf(err, errlen, "%s: %s", s->jpath, strerror(errno));
		goto fail;
	}
	return s;
unreadable:
	snprintf(err, errlen, "%s: unreadable state that could not be moved "
	    "aside: not started, nothing overwritten", path);
fail:
	ban_state_close(s);
	return NULL;
}

int
ban_state_append(struct ban_state *s, const char *buf, size_t len,
    size_t records)
{
	if (s->jfd < 0 || ban_write_all(s->jfd, buf, len) != 0) {
		ban_log(BAN_LOG_ERR, "state: %s: append: %s", s->jpath,
		    s->jfd < 0 ? "not open" : strerror(errno));
		return -1;
	}
	s->records += records;
	s->dirty = true;
	return 0;
}

int
ban_state_flush(struct ban_state *s)
{
	if (!s->dirty)
		return 0;
	if (fdatasync(s->jfd) != 0) {
		ban_log(BAN_LOG_ERR, "state: %s: fsync: %s", s->jpath,
		    strerror(errno));
		return -1;
	}
	s->dirty = false;
	return 0;
}

int
ban_state_compact(struct ban_state *s, const struct ban *act, size_t nact,
    const struct ban *past, size_t npast)
{
	/* The snapshot first: until its rename the old pair stays whole. */
	if (write_snapshot(s, s->gen + 1, act, nact, past, npast) != 0)
		return -1;
	return new_journal(s, s->gen + 1);
}

bool
ban_state_wants_compaction(const struct ban_state *s)
{
	size_t bound = s->snap_records > BAN_JOURNAL_MIN ? s->snap_records :
	    BAN_JOURNAL_MIN;

	return s->records > bound;
}

size_t
ban_state_records(const struct ban_state *s)
{
	return s->records;
}

/* Collects a policy's bans for ban_state_save(). */
struct collect_all {
	struct ban	*v;
	size_t		 n, max;
};

static void
collect_one(void *arg, const struct ban *b)
{
	struct collect_all *c = arg;

	if (c->n < c->max)
		c->v[c->n++] = *b;
}

int
ban_state_save(struct ban_state *s, const struct ban_policy *p)
{
	struct ban_policy_stats ps;
	struct collect_all c = { NULL, 0, 0 };
	size_t nact;
	int rc;

	ban_policy_stats(p, &ps);
	c.max = (size_t)ps.tracked;
	if (c.max > 0 && (c.v = calloc(c.max, sizeof(*c.v))) == NULL) {
		ban_log(BAN_LOG_ERR, "state: out of memory");
		return -1;
	}
	if (ban_policy_foreach(p, BAN_ACTIVE, collect_one, &c) < 0) {
		free(c.v);
		return -1;
	}
	nact = c.n;
	if (ban_policy_foreach(p, BAN_HISTORY, collect_one, &c) < 0) {
		free(c.v);
		return -1;
	}
	rc = ban_state_compact(s, c.v, nact, c.v != NULL ? c.v + nact : NULL,
	    c.n - nact);
	free(c.v);
	return rc;
}

void
ban_state_close(struct ban_state *s)
{
	if (s == NULL)
		return;
	if (s->jfd >= 0) {
		(void)ban_state_flush(s);
		close(s->jfd);
	}
	if (s->lockfd >= 0)
		close(s->lockfd);	/* and the lock with it */
	free(s->path);
	free(s->jpath);
	free(s);
}

size_t
ban_state_fmt_ban(char *buf, const struct ban *b)
{
	return ban_rec_format(buf, BAN_STATE_REC_MAX, BAN_REC_BAN_LINE, b, 0,
	    true);
}

size_t
ban_state_fmt_unban(char *buf, const struct ban *b, wb_usec when)
{
	return ban_rec_format(buf, BAN_STATE_REC_MAX, BAN_REC_UNBAN_LINE, b,
	    when, true);
}
