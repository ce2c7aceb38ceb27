/*
 * fw_crowdsec_spool.c - the crowdsec backend's deliveries on disk, so
 * that neither a dead LAPI nor a restart loses a decision, and a
 * restart does not push again what was delivered.
 *
 *     q ban 192.0.2.7 relay 1732700000.000000 1732703600.000000 1 3 #CRC
 *     d ban 192.0.2.7 relay 1732700000.000000 1732703600.000000 1 3 #CRC
 *     q unban 192.0.2.7 1732700500.000000 #CRC
 *     d unban 192.0.2.7 1732700501.000000 #CRC
 *     x ban ...                       (refused by the LAPI: not retried)
 *
 * "q" is appended by commit() (on the enforcer's thread, one write per
 * batch) when a decision is handed over, "d" and "x" by the worker
 * when the LAPI answered. After "q" the letter is a state record
 * (record.c) and the line ends in " #" and the CRC-32 of what precedes
 * it, as in the state journal: a record torn by a crash is told from a
 * good one and cut off. Replaying the file in order through the same
 * table functions the live code uses rebuilds what is pending and what
 * the LAPI holds.
 *
 * Compaction rewrites the file as the table holds it (temp file, fsync,
 * rename, fsync of the directory) once it has many more records than
 * live entries: delivered decisions that have not ended yet, and what
 * is pending.
 *
 * Invariant: the file is only ever appended whole records, or replaced
 * whole; the caller holds the backend's lock around every call.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw_crowdsec.h"

/* A record line longer than this is damaged. */
#define LINE_MAX_LEN	(CS_REC_MAX + 64)
/* Compaction: at least this many records, and 4 per live entry. */
#define COMPACT_MIN	20000

static const char *const tags[] = {
	[CS_Q_BAN] = "q", [CS_Q_UNBAN] = "q", [CS_D_BAN] = "d",
	[CS_D_UNBAN] = "d", [CS_X_BAN] = "x",
};

size_t
ban_cs_rec_format(char *buf, enum cs_rec k, const struct ban *b, wb_usec when)
{
	enum ban_rec_kind rk = k == CS_Q_UNBAN || k == CS_D_UNBAN ?
	    BAN_REC_UNBAN_LINE : BAN_REC_BAN_LINE;
	size_t n;

	buf[0] = tags[k][0];
	buf[1] = ' ';
	if ((n = ban_rec_format(buf + 2, CS_REC_MAX - 2, rk, b, when,
	    false)) == 0)
		return 0;
	n += 1;		/* without its newline */
	return ban_rec_seal(buf, n, CS_REC_MAX);
}

static void
ban_cs_rec_apply(struct cs_table *t, enum cs_rec k, const struct ban *b,
    wb_usec when, wb_usec now)
{
	struct wb_addr net;
	struct cs_entry *e;

	switch (k) {
	case CS_Q_BAN:
		(void)ban_cs_table_ban(t, b, now);
		return;
	case CS_Q_UNBAN:
		(void)ban_cs_table_unban(t, b, when);
		return;
	default:
		break;
	}
	wb_addr_mask(&net, &b->addr, ban_bits(b));
	if ((e = ban_cs_table_find(t, &net, ban_bits(b))) == NULL) {
		/*
		 * Delivered, and its "q" compacted away: the entry is made
		 * as by a ban, which posted() then marks delivered.
		 */
		if (k != CS_D_BAN || b->expiry <= now ||
		    ban_cs_table_ban(t, b, now) < 0 ||
		    (e = ban_cs_table_find(t, &net, ban_bits(b))) == NULL)
			return;
	}
	if (k == CS_D_BAN)
		ban_cs_table_posted(t, e, b->expiry, 0);
	else if (k == CS_D_UNBAN)
		ban_cs_table_deleted(t, e, 0);
	else if (e->want_post && e->post.expiry == b->expiry)
		ban_cs_table_refused(t, e, 0);
}

/* One line; 1 applied, 0 blank, -1 bad (*why). */
static int
replay_line(struct cs_table *t, char *line, wb_usec now, const char **why)
{
	enum ban_rec_kind rk;
	enum cs_rec k;
	struct ban b;
	wb_usec when;
	int rc;

	line[strcspn(line, "\n")] = '\0';
	if (line[0] == '\0')
		return 0;
	if (ban_rec_unseal(line, why) != 0)
		return -1;
	*why = "unknown record kind";
	if ((line[0] != 'q' && line[0] != 'd' && line[0] != 'x') ||
	    line[1] != ' ')
		return -1;
	if ((rc = ban_rec_parse(line + 2, false, &rk, &b, &when, why)) <= 0)
		return -1;
	if (rk == BAN_REC_PAST_LINE || (line[0] == 'x' &&
	    rk != BAN_REC_BAN_LINE)) {
		*why = "unknown record kind";
		return -1;
	}
	if (line[0] == 'q')
		k = rk == BAN_REC_BAN_LINE ? CS_Q_BAN : CS_Q_UNBAN;
	else if (line[0] == 'd')
		k = rk == BAN_REC_BAN_LINE ? CS_D_BAN : CS_D_UNBAN;
	else
		k = CS_X_BAN;
	ban_cs_rec_apply(t, k, &b, when, now);
	return 1;
}

static int
replay(struct cs_spool *s, struct cs_table *t, wb_usec now,
    struct cs_spool_stats *st)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	off_t good = 0, at = 0;
	const char *why;
	ssize_t n;
	FILE *fp;
	int fd;

	if ((fd = dup(s->fd)) < 0 || (fp = fdopen(fd, "r")) == NULL) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: %s", s->path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewind(fp);
	while ((n = getline(&line, &cap, fp)) > 0) {
		bool last;
		int rc, ch;

		lineno++;
		at += n;
		/* A bad last record is torn: cut, not skipped. */
		if (!(last = (ch = fgetc(fp)) == EOF))
			(void)ungetc(ch, fp);
		if ((size_t)n > LINE_MAX_LEN || line[n - 1] != '\n' ||
		    memchr(line, '\0', (size_t)n) != NULL) {
			rc = -1;
			why = line[n - 1] != '\n' ? "no end of line" :
			    "too long, or a NUL byte";
		} else
			rc = replay_line(t, line, now, &why);
		if (rc > 0) {
			st->records++;
			good = at;
			continue;
		}
		if (rc == 0) {
			good = at;
			continue;
		}
		if (last) {
			st->torn = true;
			ban_log(BAN_LOG_WARNING, "crowdsec: spool %s:%zu: %s: "
			    "the last record is cut off", s->path, lineno, why);
			break;
		}
		st->bad++;
		good = at;
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s:%zu: %s; skipped",
		    s->path, lineno, why);
	}
	free(line);
	fclose(fp);
	if (st->torn && ftruncate(s->fd, good) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: cannot cut the torn "
		    "record: %s", s->path, strerror(errno));
		return -1;
	}
	s->records = st->records;
	return 0;
}

int
ban_cs_spool_open(struct cs_spool *s, const char *path, struct cs_table *t,
    wb_usec now, struct cs_spool_stats *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	s->fd = -1;
	s->records = 0;
	if (snprintf(s->path, sizeof(s->path), "%s", path) >=
	    (int)sizeof(s->path)) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool path too long");
		return -1;
	}
	if ((s->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(s->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: not a regular file",
		    path);
		goto fail;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: %s", path,
		    errno == EWOULDBLOCK ? "in use by another process" :
		    strerror(errno));
		goto fail;
	}
	if (replay(s, t, now, st) != 0)
		goto fail;
	return 0;
fail:
	close(s->fd);
	s->fd = -1;
	return -1;
}

int
ban_cs_spool_append(struct cs_spool *s, const char *buf, size_t len, size_t n)
{
	ssize_t w;

	if (s->fd < 0 || len == 0)
		return 0;
	/* O_APPEND: a short write leaves a torn record, cut at start. */
	while ((w = write(s->fd, buf, len)) < 0 && errno == EINTR)
		;
	if (w != (ssize_t)len) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: write: %s", s->path,
		    w < 0 ? strerror(errno) : "short write");
		return -1;
	}
	s->records += n;
	return 0;
}

int
ban_cs_spool_sync(struct cs_spool *s)
{
	if (s->fd >= 0 && fdatasync(s->fd) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: fdatasync: %s",
		    s->path, strerror(errno));
		return -1;
	}
	return 0;
}

bool
ban_cs_spool_wants_compaction(const struct cs_spool *s,
    const struct cs_table *t)
{
	return s->fd >= 0 && s->records >= COMPACT_MIN &&
	    s->records > 4 * t->n;
}

struct compact {
	FILE		*fp;
	wb_usec		 now;
	size_t		 n;
	bool		 err;
};

static void
put(struct compact *c, enum cs_rec k, const struct ban *b, wb_usec when)
{
	char rec[CS_REC_MAX];
	size_t n = ban_cs_rec_format(rec, k, b, when);

	if (n == 0 || fwrite(rec, 1, n, c->fp) != n)
		c->err = true;
	c->n++;
}

static void
compact_one(void *arg, const struct cs_entry *e)
{
	struct compact *c = arg;
	struct ban d;

	if (e->delivered && e->d_expiry > c->now) {
		memset(&d, 0, sizeof(d));
		d.addr = e->addr;
		d.bits = e->bits;
		d.count = 1;
		d.start = d.expiry = e->d_expiry;
		put(c, CS_D_BAN, &d, 0);
	}
	if (e->want_del) {
		memset(&d, 0, sizeof(d));
		d.addr = e->addr;
		d.bits = e->bits;
		put(c, CS_Q_UNBAN, &d, c->now);
	}
	if (e->want_post)
		put(c, CS_Q_BAN, &e->post, 0);
}

int
ban_cs_spool_compact(struct cs_spool *s, const struct cs_table *t, wb_usec now)
{
	char tmp[4096 + 8], dir[4096];
	struct compact c = { NULL, now, 0, false };
	int fd, dfd;

	if (s->fd < 0)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", s->path) >=
	    (int)sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 || (c.fp = fdopen(fd, "w")) == NULL) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: %s", tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ban_cs_table_foreach(t, compact_one, &c);
	if (fflush(c.fp) != 0 || fsync(fd) != 0)
		c.err = true;
	if (c.err || fclose(c.fp) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: cannot write the "
		    "compacted spool", tmp);
		(void)unlink(tmp);
		return -1;
	}
	/* The lock moves to the new file before it takes the name. */
	if ((fd = open(tmp, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    flock(fd, LOCK_EX | LOCK_NB) != 0 || rename(tmp, s->path) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: spool %s: %s", s->path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		(void)unlink(tmp);
		return -1;
	}
	(void)snprintf(dir, sizeof(dir), "%s", s->path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	close(s->fd);
	s->fd = fd;
	s->records = c.n;
	return 0;
}

void
ban_cs_spool_close(struct cs_spool *s)
{
	if (s->fd < 0)
		return;
	(void)ban_cs_spool_sync(s);
	close(s->fd);
	s->fd = -1;
}
