/*
 * fw_iptables.c - the "iptables" backend: libiptc (IPv4) and libip6tc
 * (IPv6) on the legacy filter tables, as `iptables-legacy -S` lists them.
 *
 * What it keeps in the kernel, per family:
 *     -N wireban
 *     -I INPUT 1 -p tcp -m multiport --dports 25,465,587 -j wireban
 *     (-I FORWARD 1 ... when forward; no port match when allports;
 *      -m tcp --dport P for a single port)
 *     -A wireban -s ADDR/32 -j DROP          one rule per banned address
 *     (-s ADDR/32 -p tcp -j REJECT --reject-with tcp-reset with REJECT)
 *
 * Transactions. libiptc reads the whole table (init), edits a copy in
 * memory and writes it back in one setsockopt (commit), which the kernel
 * swaps in atomically. Two writers that interleave init..commit silently
 * revert each other, so every init..commit runs under the xtables lock
 * (flock on /run/xtables.lock, the lock iptables itself takes), waited
 * for at most lock_wait_ms. ban() and unban() only stage; commit() opens
 * one transaction per family for everything staged: a burst of bans is
 * one table rewrite, not one per address.
 *
 * Reconcile is sync(): inside ONE transaction it re-tops the jumps,
 * empties the chain and appends every ban. The kernel sees the old rule
 * set until the commit and the new one after it, so there is never a
 * moment without the bans, and rules the state does not know are gone.
 * (Listing the chain and patching it would be as safe but is more code
 * for the same commit.) A failed commit changes nothing in the kernel.
 *
 * Invariant: at most one instance (state is file-static); nothing is
 * staged while closed; the lock is never held between calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>

#include "bans_int.h"

#define XT_LOCK_DEFAULT	"/run/xtables.lock"
/* A burst larger than this is committed in several goes. */
#define PENDING_MAX	4096
/* libiptc's commit fails with EAGAIN when the table moved under it. */
#define COMMIT_TRIES	3

struct op {
	bool		 ban;
	struct wb_addr	 addr;
};

/* What differs between libiptc and libip6tc, behind one table. */
struct fam {
	int		 af;
	const char	*tool;
	const struct xtc_ops *xo;
	int		(*delete_chain)(const xt_chainlabel,
			    struct xtc_handle *);
	int		(*insert)(const char *, const void *, unsigned,
			    struct xtc_handle *);
	int		(*append)(const char *, const void *,
			    struct xtc_handle *);
	int		(*delete_num)(const char *, unsigned,
			    struct xtc_handle *);
	const void	*(*first)(const char *, struct xtc_handle *);
	const void	*(*next)(const void *, struct xtc_handle *);
	const char	*(*target)(const void *, struct xtc_handle *);
};

typedef int apply_fn(const struct fam *, struct xtc_handle *, void *);

struct sync_arg {
	const struct ban *bans;
	size_t		 n;
};

static struct {
	bool		 open;
	bool		 v6;		/* ip6tables usable */
	xt_chainlabel	 chain;
	bool		 allports, forward, keep;
	enum ban_target	 target;
	uint16_t	 ports[BAN_PORTS_MAX];
	size_t		 nports;
	int		 lock_wait_ms;
	char		 lock_file[PATH_MAX];
	struct op	*pending;
	size_t		 npending, maxpending;
} ipt;

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
static int	 xt_lock(void);
static void	 xt_unlock(int);
static int	 txn(const struct fam *, apply_fn *, void *, const char *);
static int	 fail(const struct fam *, const char *, const char *);
static int	 drop_jumps(const struct fam *, struct xtc_handle *,
		    const char *);
static int	 drop_source(const struct fam *, struct xtc_handle *,
		    const struct wb_addr *);
static bool	 has_source(const struct fam *, struct xtc_handle *,
		    const struct wb_addr *);
static int	 add_ban(const struct fam *, struct xtc_handle *,
		    const struct wb_addr *);
static apply_fn	 apply_setup, apply_sync, apply_pending, apply_flush,
		    apply_teardown;
static int	 chain_valid(const char *);
static bool	 any_of(int);
static int	 stage(bool, const struct ban *);
static int	 ipt_open(const struct ban_fw_config *);
static int	 ipt_ban(const struct ban *);
static int	 ipt_unban(const struct ban *);
static int	 ipt_commit(void);
static int	 ipt_sync(const struct ban *, size_t);
static int	 ipt_flush(void);
static void	 ipt_close(void);

/* ---- the two libraries behind one table ------------------------------- */

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

static const struct fam fam4 = {
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

static const struct fam fam6 = {
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

/*
 * Takes the lock iptables takes, polling with a bounded wait as
 * `iptables -w` does. Returns the descriptor that holds it, or -1.
 */
static int
xt_lock(void)
{
	struct timespec start, now, pause = { 0, 20 * 1000000L };
	long waited;
	int fd;

	fd = open(ipt.lock_file, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ban_log(BAN_LOG_ERR, "iptables: lock %s: %s", ipt.lock_file,
		    strerror(errno));
		return -1;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ban_log(BAN_LOG_ERR, "iptables: lock %s: %s",
			    ipt.lock_file, strerror(errno));
			break;
		}
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (long)(now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= ipt.lock_wait_ms) {
			ban_log(BAN_LOG_ERR, "iptables: another program held "
			    "%s for %d ms; change not applied",
			    ipt.lock_file, ipt.lock_wait_ms);
			break;
		}
		(void)nanosleep(&pause, NULL);
	}
	close(fd);
	return -1;
}

static void
xt_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* closing the descriptor drops the flock */
}

/* ---- transactions ----------------------------------------------------- */

static int
fail(const struct fam *f, const char *what, const char *detail)
{
	ban_log(BAN_LOG_ERR, "%s: %s%s%s: %s", f->tool, what,
	    detail != NULL ? " " : "", detail != NULL ? detail : "",
	    f->xo->strerror(errno));
	return -1;
}

/*
 * One init..commit of the filter table under the caller's lock, with
 * fn making the changes. Retried when the commit finds the table changed
 * (another writer that ignores the lock). Returns 0 or -1 (logged).
 */
static int
txn(const struct fam *f, apply_fn *fn, void *arg, const char *what)
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
			return fail(f, what, "commit");
		}
	}
	ban_log(BAN_LOG_ERR, "%s: %s: the table kept changing, gave up",
	    f->tool, what);
	return -1;
}

/* Deletes every rule of builtin that jumps to our chain. */
static int
drop_jumps(const struct fam *f, struct xtc_handle *h, const char *builtin)
{
	for (;;) {
		const void *e;
		unsigned i = 0;

		for (e = f->first(builtin, h); e != NULL; e = f->next(e, h),
		    i++) {
			const char *t = f->target(e, h);

			if (t != NULL && strcmp(t, ipt.chain) == 0)
				break;
		}
		if (e == NULL)
			return 0;
		if (!f->delete_num(builtin, i, h))
			return fail(f, "delete jump from", builtin);
	}
}

static bool
has_source(const struct fam *f, struct xtc_handle *h, const struct wb_addr *a)
{
	const void *e;
	struct wb_addr s;

	for (e = f->first(ipt.chain, h); e != NULL; e = f->next(e, h))
		if (ban_rule_source(e, f->af, &s) && wb_addr_eq(&s, a))
			return true;
	return false;
}

/* Deletes every rule of our chain whose source is a. */
static int
drop_source(const struct fam *f, struct xtc_handle *h,
    const struct wb_addr *a)
{
	for (;;) {
		const void *e;
		struct wb_addr s;
		unsigned i = 0;

		for (e = f->first(ipt.chain, h); e != NULL; e = f->next(e, h),
		    i++)
			if (ban_rule_source(e, f->af, &s) && wb_addr_eq(&s, a))
				break;
		if (e == NULL)
			return 0;
		if (!f->delete_num(ipt.chain, i, h))
			return fail(f, "delete rule from", ipt.chain);
	}
}

static int
add_ban(const struct fam *f, struct xtc_handle *h, const struct wb_addr *a)
{
	union ban_rulebuf rb;
	char buf[WB_ADDR_STRLEN];

	if (ban_rule_ban(&rb, a, ipt.target) == 0) {
		ban_log(BAN_LOG_ERR, "%s: cannot build the rule for %s",
		    f->tool, wb_addr_str(a, buf));
		return -1;
	}
	if (!f->append(ipt.chain, rb.bytes, h))
		return fail(f, "append", wb_addr_str(a, buf));
	return 0;
}

/* The chain exists and the jumps to it are first in INPUT (FORWARD). */
static int
apply_setup(const struct fam *f, struct xtc_handle *h, void *arg)
{
	union ban_rulebuf rb;

	(void)arg;
	if (!f->xo->is_chain(ipt.chain, h) &&
	    !f->xo->create_chain(ipt.chain, h))
		return fail(f, "create chain", ipt.chain);
	if (drop_jumps(f, h, "INPUT") != 0 ||
	    drop_jumps(f, h, "FORWARD") != 0)
		return -1;
	if (ban_rule_jump(&rb, f->af, ipt.chain, ipt.allports, ipt.ports,
	    ipt.nports) == 0) {
		ban_log(BAN_LOG_ERR, "%s: cannot build the jump rule",
		    f->tool);
		return -1;
	}
	if (!f->insert("INPUT", rb.bytes, 0, h))
		return fail(f, "insert jump into", "INPUT");
	if (ipt.forward && !f->insert("FORWARD", rb.bytes, 0, h))
		return fail(f, "insert jump into", "FORWARD");
	return 0;
}

static int
apply_sync(const struct fam *f, struct xtc_handle *h, void *arg)
{
	const struct sync_arg *s = arg;
	size_t i;

	if (apply_setup(f, h, NULL) != 0)
		return -1;
	if (!f->xo->flush_entries(ipt.chain, h))
		return fail(f, "flush", ipt.chain);
	/*
	 * The chain is empty now and the policy holds each address once, so
	 * no duplicate check: it made loading 100,000 bans quadratic
	 * (84 s; 0.25 s without, see tests/bench).
	 */
	for (i = 0; i < s->n; i++)
		if (s->bans[i].addr.family == f->af &&
		    add_ban(f, h, &s->bans[i].addr) != 0)
			return -1;
	return 0;
}

static int
apply_pending(const struct fam *f, struct xtc_handle *h, void *arg)
{
	size_t i;

	(void)arg;
	/* Someone removed the chain: put it back before using it. */
	if (!f->xo->is_chain(ipt.chain, h) && apply_setup(f, h, NULL) != 0)
		return -1;
	for (i = 0; i < ipt.npending; i++) {
		const struct op *o = &ipt.pending[i];

		if (o->addr.family != f->af)
			continue;
		if (o->ban) {
			if (!has_source(f, h, &o->addr) &&
			    add_ban(f, h, &o->addr) != 0)
				return -1;
		} else if (drop_source(f, h, &o->addr) != 0)
			return -1;
	}
	return 0;
}

static int
apply_flush(const struct fam *f, struct xtc_handle *h, void *arg)
{
	(void)arg;
	if (f->xo->is_chain(ipt.chain, h) &&
	    !f->xo->flush_entries(ipt.chain, h))
		return fail(f, "flush", ipt.chain);
	return 0;
}

static int
apply_teardown(const struct fam *f, struct xtc_handle *h, void *arg)
{
	(void)arg;
	if (drop_jumps(f, h, "INPUT") != 0 ||
	    drop_jumps(f, h, "FORWARD") != 0)
		return -1;
	if (!f->xo->is_chain(ipt.chain, h))
		return 0;
	if (!f->xo->flush_entries(ipt.chain, h))
		return fail(f, "flush", ipt.chain);
	if (!f->delete_chain(ipt.chain, h))
		return fail(f, "delete chain", ipt.chain);
	return 0;
}

/* ---- the backend ------------------------------------------------------ */

/* A user chain name iptables would accept and we cannot confuse. */
static int
chain_valid(const char *c)
{
	static const char *const reserved[] = {
		"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING",
		"ACCEPT", "DROP", "QUEUE", "RETURN", "REJECT", NULL
	};
	size_t i, n = c != NULL ? strlen(c) : 0;

	if (n == 0 || n >= BAN_CHAIN_MAX || c[0] == '-' || c[0] == '!')
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    ch == '.'))
			return -1;
	}
	for (i = 0; reserved[i] != NULL; i++)
		if (strcmp(c, reserved[i]) == 0)
			return -1;
	return 0;
}

static bool
any_of(int af)
{
	size_t i;

	for (i = 0; i < ipt.npending; i++)
		if (ipt.pending[i].addr.family == af)
			return true;
	return false;
}

static int
ipt_commit(void)
{
	int fd, rc = 0;

	if (!ipt.open || ipt.npending == 0)
		return 0;
	if ((fd = xt_lock()) < 0) {
		rc = -1;
		goto done;
	}
	if (any_of(AF_INET) && txn(&fam4, apply_pending, NULL, "commit") != 0)
		rc = -1;
	if (any_of(AF_INET6)) {
		if (!ipt.v6) {
			ban_log(BAN_LOG_ERR, "ip6tables: unavailable, IPv6 "
			    "bans not applied");
			rc = -1;
		} else if (txn(&fam6, apply_pending, NULL, "commit") != 0)
			rc = -1;
	}
	xt_unlock(fd);
done:
	ipt.npending = 0;
	return rc;
}

static int
stage(bool ban, const struct ban *b)
{
	char buf[WB_ADDR_STRLEN];

	if (!ipt.open) {
		ban_log(BAN_LOG_ERR, "iptables: not open");
		return -1;
	}
	if (b->addr.family != AF_INET && b->addr.family != AF_INET6) {
		ban_log(BAN_LOG_ERR, "iptables: ban without an address");
		return -1;
	}
	if (b->addr.family == AF_INET6 && !ipt.v6) {
		ban_log(BAN_LOG_ERR, "ip6tables: unavailable, cannot %s %s",
		    ban ? "ban" : "unban", wb_addr_str(&b->addr, buf));
		return -1;
	}
	if (ipt.npending == PENDING_MAX && ipt_commit() != 0)
		return -1;
	if (ipt.npending == ipt.maxpending) {
		size_t max = ipt.maxpending == 0 ? 16 : ipt.maxpending * 2;
		struct op *n = realloc(ipt.pending, max * sizeof(*n));

		if (n == NULL) {
			ban_log(BAN_LOG_ERR, "iptables: out of memory");
			return -1;
		}
		ipt.pending = n;
		ipt.maxpending = max;
	}
	ipt.pending[ipt.npending].ban = ban;
	ipt.pending[ipt.npending].addr = b->addr;
	ipt.npending++;
	return 0;
}

static int
ipt_ban(const struct ban *b)
{
	return stage(true, b);
}

static int
ipt_unban(const struct ban *b)
{
	return stage(false, b);
}

static int
ipt_sync(const struct ban *bans, size_t n)
{
	struct sync_arg s = { bans, n };
	size_t i;
	int fd, rc = 0;

	if (!ipt.open) {
		ban_log(BAN_LOG_ERR, "iptables: not open");
		return -1;
	}
	ipt.npending = 0;
	if ((fd = xt_lock()) < 0)
		return -1;
	if (txn(&fam4, apply_sync, &s, "sync") != 0)
		rc = -1;
	if (ipt.v6) {
		if (txn(&fam6, apply_sync, &s, "sync") != 0)
			rc = -1;
	} else {
		for (i = 0; i < n; i++)
			if (bans[i].addr.family == AF_INET6) {
				ban_log(BAN_LOG_ERR, "ip6tables: unavailable, "
				    "IPv6 bans not restored");
				rc = -1;
				break;
			}
	}
	xt_unlock(fd);
	return rc;
}

static int
ipt_flush(void)
{
	int fd, rc = 0;

	if (!ipt.open)
		return 0;
	ipt.npending = 0;
	if ((fd = xt_lock()) < 0)
		return -1;
	if (txn(&fam4, apply_flush, NULL, "flush") != 0)
		rc = -1;
	if (ipt.v6 && txn(&fam6, apply_flush, NULL, "flush") != 0)
		rc = -1;
	xt_unlock(fd);
	return rc;
}

static void
ipt_close(void)
{
	int fd;

	if (!ipt.open)
		return;
	if (ipt.keep)
		(void)ipt_commit();
	else if ((fd = xt_lock()) >= 0) {
		(void)txn(&fam4, apply_teardown, NULL, "close");
		if (ipt.v6)
			(void)txn(&fam6, apply_teardown, NULL, "close");
		xt_unlock(fd);
	}
	free(ipt.pending);
	memset(&ipt, 0, sizeof(ipt));
}

static int
ipt_open(const struct ban_fw_config *c)
{
	const char *lock;
	size_t i;
	int fd;

	if (ipt.open) {
		ban_log(BAN_LOG_ERR, "iptables: already open");
		return -1;
	}
	if (chain_valid(c->chain) != 0) {
		ban_log(BAN_LOG_ERR, "iptables: bad chain name \"%s\" "
		    "(1-28 of A-Z a-z 0-9 _ - .)", c->chain != NULL ?
		    c->chain : "");
		return -1;
	}
	if (!c->allports && (c->nports == 0 || c->nports > BAN_PORTS_MAX)) {
		ban_log(BAN_LOG_ERR, "iptables: need 1 to %d ports, or "
		    "allports", BAN_PORTS_MAX);
		return -1;
	}
	for (i = 0; !c->allports && i < c->nports; i++)
		if (c->ports[i] == 0) {
			ban_log(BAN_LOG_ERR, "iptables: port 0 in ports");
			return -1;
		}
	memset(&ipt, 0, sizeof(ipt));
	memcpy(ipt.chain, c->chain, strlen(c->chain) + 1);
	ipt.allports = c->allports;
	ipt.forward = c->forward;
	ipt.keep = c->keep_on_close;
	ipt.target = c->target;
	ipt.nports = c->allports ? 0 : c->nports;
	memcpy(ipt.ports, c->ports, ipt.nports * sizeof(ipt.ports[0]));
	ipt.lock_wait_ms = c->lock_wait_ms >= 0 ? c->lock_wait_ms : 0;
	lock = c->lock_file;
	if (lock == NULL || lock[0] == '\0')
		lock = getenv("XTABLES_LOCKFILE");
	if (lock == NULL || lock[0] == '\0')
		lock = XT_LOCK_DEFAULT;
	if (snprintf(ipt.lock_file, sizeof(ipt.lock_file), "%s", lock) >=
	    (int)sizeof(ipt.lock_file)) {
		ban_log(BAN_LOG_ERR, "iptables: lock file path too long");
		return -1;
	}
	if ((fd = xt_lock()) < 0)
		return -1;
	if (txn(&fam4, apply_setup, NULL, "open") != 0) {
		xt_unlock(fd);
		return -1;
	}
	ipt.v6 = txn(&fam6, apply_setup, NULL, "open") == 0;
	xt_unlock(fd);
	if (!ipt.v6)
		ban_log(BAN_LOG_WARNING, "ip6tables: unavailable, IPv6 "
		    "addresses will not be banned");
	ipt.open = true;
	return 0;
}

const struct ban_backend ban_backend_iptables = {
	.name = "iptables",
	.open = ipt_open,
	.ban = ipt_ban,
	.unban = ipt_unban,
	.commit = ipt_commit,
	.sync = ipt_sync,
	.flush = ipt_flush,
	.close = ipt_close,
	.stats = ban_fw_no_stats,
	.hint = ban_fw_no_hint,
	.max_timeout = 0,
};
