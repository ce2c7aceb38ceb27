/*
 * fw_xtc.c - libiptc and libip6tc behind one table, the xtables lock and
 * the init..commit transaction, for fw_iptables.c and fw_ipset_rule.c.
 *
 * libiptc reads the whole table (init), edits a copy in memory and
 * writes it back in one setsockopt (commit), which the kernel swaps in
 * atomically. Two writers that interleave init..commit silently revert
 * each other, so every init..commit runs under the xtables lock (flock
 * on /run/xtables.lock, the lock iptables itself takes), waited for at
 * most wait_ms.
 *
 * Invariant: the lock is released before any function here returns,
 * except ban_xt_lock(), whose caller releases it in the same call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "bans_int.h"
#include "fw_xtc.h"

#define XT_LOCK_DEFAULT	"/run/xtables.lock"
/* libiptc's commit fails with EAGAIN when the table moved under it. */
#define COMMIT_TRIES	3

static int	 v4_insert(const char *, const void *, unsigned,
		    struct xtc_handle *);
static int	 v4_append(const char *, const void *, struct xtc_handle *);
static int	 v4_delete_num(const char *, unsigned, struct xtc_handle *);
static const void *v4_first(const char *, struct xtc_handle *);
static const void *v4_next(const void *, struct xtc_handle *);
static const char *v4_target(const void *, struct xtc_handle *);
static int	 v6_insert(const char *, const void *, unsigned,
		    struct xtc_handle *);
static int	 v6_append(const char *, const void *, struct xtc_handle *);
static int	 v6_delete_num(const char *, unsigned, struct xtc_handle *);
static const void *v6_first(const char *, struct xtc_handle *);
static const void *v6_next(const void *, struct xtc_handle *);
static const char *v6_target(const void *, struct xtc_handle *);

static int
v4_insert(const char *c, const void *e, unsigned n, struct xtc_handle *h)
{
	return iptc_insert_entry(c, e, n, h);
}

static int
v4_append(const char *c, const void *e, struct xtc_handle *h)
{
	return iptc_append_entry(c, e, h);
}

static int
v4_delete_num(const char *c, unsigned n, struct xtc_handle *h)
{
	return iptc_delete_num_entry(c, n, h);
}

static const void *
v4_first(const char *c, struct xtc_handle *h)
{
	return iptc_first_rule(c, h);
}

static const void *
v4_next(const void *e, struct xtc_handle *h)
{
	return iptc_next_rule(e, h);
}

static const char *
v4_target(const void *e, struct xtc_handle *h)
{
	return iptc_get_target(e, h);
}

static int
v6_insert(const char *c, const void *e, unsigned n, struct xtc_handle *h)
{
	return ip6tc_insert_entry(c, e, n, h);
}

static int
v6_append(const char *c, const void *e, struct xtc_handle *h)
{
	return ip6tc_append_entry(c, e, h);
}

static int
v6_delete_num(const char *c, unsigned n, struct xtc_handle *h)
{
	return ip6tc_delete_num_entry(c, n, h);
}

static const void *
v6_first(const char *c, struct xtc_handle *h)
{
	return ip6tc_first_rule(c, h);
}

static const void *
v6_next(const void *e, struct xtc_handle *h)
{
	return ip6tc_next_rule(e, h);
}

static const char *
v6_target(const void *e, struct xtc_handle *h)
{
	return ip6tc_get_target(e, h);
}

const struct ban_xt_fam ban_xt_fam4 = {
	.af = AF_INET,
	.tool = "iptables",
	.xo = &iptc_ops,
	.delete_chain = iptc_delete_chain,
	.insert = v4_insert,
	.append = v4_append,
	.delete_num = v4_delete_num,
	.first = v4_first,
	.next = v4_next,
	.target = v4_target,
};

const struct ban_xt_fam ban_xt_fam6 = {
	.af = AF_INET6,
	.tool = "ip6tables",
	.xo = &ip6tc_ops,
	.delete_chain = ip6tc_delete_chain,
	.insert = v6_insert,
	.append = v6_append,
	.delete_num = v6_delete_num,
	.first = v6_first,
	.next = v6_next,
	.target = v6_target,
};

/* ---- the xtables lock ------------------------------------------------- */

int
ban_xt_lock_init(struct ban_xt_lock *l, const char *file, int wait_ms,
    const char *who)
{
	if (file == NULL || file[0] == '\0')
		file = getenv("XTABLES_LOCKFILE");
	if (file == NULL || file[0] == '\0')
		file = XT_LOCK_DEFAULT;
	l->wait_ms = wait_ms >= 0 ? wait_ms : 0;
	if (snprintf(l->file, sizeof(l->file), "%s", file) >=
	    (int)sizeof(l->file)) {
		ban_log(BAN_LOG_ERR, "%s: lock file path too long", who);
		return -1;
	}
	return 0;
}

int
ban_xt_lock(const struct ban_xt_lock *l, const char *who)
{
	struct timespec start, now, pause = { 0, 20 * 1000000L };
	long waited;
	int fd;

	fd = open(l->file, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ban_log(BAN_LOG_ERR, "%s: lock %s: %s", who, l->file,
		    strerror(errno));
		return -1;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ban_log(BAN_LOG_ERR, "%s: lock %s: %s", who, l->file,
			    strerror(errno));
			break;
		}
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (long)(now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= l->wait_ms) {
			ban_log(BAN_LOG_ERR, "%s: another program held %s for "
			    "%d ms; change not applied", who, l->file,
			    l->wait_ms);
			break;
		}
		(void)nanosleep(&pause, NULL);
	}
	close(fd);
	return -1;
}

void
ban_xt_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* closing the descriptor drops the flock */
}

/* ---- transactions ----------------------------------------------------- */

int
ban_xt_fail(const struct ban_xt_fam *f, const char *what, const char *detail)
{
	ban_log(BAN_LOG_ERR, "%s: %s%s%s: %s", f->tool, what,
	    detail != NULL ? " " : "", detail != NULL ? detail : "",
	    f->xo->strerror(errno));
	return -1;
}

int
ban_xt_txn(const struct ban_xt_fam *f, ban_xt_fn *fn, void *arg,
    const char *what)
{
	struct xtc_handle *h;
	int try, err;

	for (try = 0; try < COMMIT_TRIES; try++) {
		if ((h = f->xo->init("filter")) == NULL) {
			err = errno;
			ban_log(BAN_LOG_ERR, "%s: %s: cannot read the filter "
			    "table: %s%s", f->tool, what,
			    f->xo->strerror(err), err == EPERM || err ==
			    EACCES ? " (needs root or CAP_NET_ADMIN)" : "");
			return -1;
		}
		if (fn(f, h, arg) != 0) {
			f->xo->free(h);
			return -1;
		}
		if (f->xo->commit(h)) {
			f->xo->free(h);
			return 0;
		}
		err = errno;
		f->xo->free(h);
		if (err != EAGAIN) {
			errno = err;
			return ban_xt_fail(f, what, "commit");
		}
	}
	ban_log(BAN_LOG_ERR, "%s: %s: the table kept changing, gave up",
	    f->tool, what);
	return -1;
}

int
ban_xt_delete_if(const struct ban_xt_fam *f, struct xtc_handle *h,
    const char *chain, bool (*match)(const struct ban_xt_fam *,
    struct xtc_handle *, const void *, void *), void *arg)
{
	for (;;) {
		const void *e;
		unsigned i = 0;

		for (e = f->first(chain, h); e != NULL; e = f->next(e, h), i++)
			if (match(f, h, e, arg))
				break;
		if (e == NULL)
			return 0;
		if (!f->delete_num(chain, i, h))
			return ban_xt_fail(f, "delete rule from", chain);
	}
}
