/*
 * fw_iptables.c - the "iptables" backend: libiptc (IPv4) and libip6tc
 * (IPv6) on the legacy filter tables, as `iptables-legacy -S` lists them.
 *
 * What it keeps in the kernel, per family:
 *     -N wireban
 *     -I INPUT 1 -p tcp -m multiport --dports 25,465,587 -j wireban
 *     (-I FORWARD 1 ... when forward; no port match when allports;
 *      -m tcp --dport P for a single port)
 *     -A wireban -s NET/BITS -j DROP         one rule per banned prefix
 *     (-s NET/BITS -p tcp -j REJECT --reject-with tcp-reset with REJECT)
 *
 * A compatibility backend: each commit rewrites the whole table (libiptc
 * reads it, edits a copy and writes it back, see fw_xtc.c), 23 ms at 10k
 * bans and 263 ms at 100k, where the set backends (nftables, ipset) cost
 * what the batch holds. Every init..commit runs under the xtables lock.
 * ban() and unban() only stage; commit() opens one transaction per
 * family for everything staged: a burst of bans is one table rewrite,
 * not one per address.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"
#include "fw_xtc.h"

/* A burst larger than this is committed in several goes. */
#define PENDING_MAX	4096

struct op {
	bool		 ban;
	struct wb_addr	 addr;
	int		 bits;
};

/* A prefix, for the rule matchers. */
struct pfx {
	const struct wb_addr *addr;
	int		 bits;
};

#define fam ban_xt_fam
typedef ban_xt_fn apply_fn;

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
	struct ban_xt_lock lock;
	struct op	*pending;
	size_t		 npending, maxpending;
	struct ban_fw_stats stats;
} ipt;

static int	 txn(const struct fam *, apply_fn *, void *, const char *);
static int	 fail(const struct fam *, const char *, const char *);
static bool	 is_jump(const struct fam *, struct xtc_handle *, const void *,
		    void *);
static bool	 is_source(const struct fam *, struct xtc_handle *,
		    const void *, void *);
static int	 drop_jumps(const struct fam *, struct xtc_handle *,
		    const char *);
static bool	 has_source(const struct fam *, struct xtc_handle *,
		    const struct wb_addr *, int);
static int	 add_ban(const struct fam *, struct xtc_handle *,
		    const struct wb_addr *, int);
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
static void	 ipt_stats(struct ban_fw_stats *);
static void	 ipt_hint(char *, size_t);

/* ---- transactions ----------------------------------------------------- */

static int
fail(const struct fam *f, const char *what, const char *detail)
{
	return ban_xt_fail(f, what, detail);
}

/* One transaction, counted. */
static int
txn(const struct fam *f, apply_fn *fn, void *arg, const char *what)
{
	if (ban_xt_txn(f, fn, arg, what) != 0) {
		ipt.stats.errors++;
		return -1;
	}
	ipt.stats.commits++;
	return 0;
}

static bool
is_jump(const struct fam *f, struct xtc_handle *h, const void *e, void *arg)
{
	const char *t = f->target(e, h);

	(void)arg;
	return t != NULL && strcmp(t, ipt.chain) == 0;
}

static bool
is_source(const struct fam *f, struct xtc_handle *h, const void *e,
    void *arg)
{
	const struct pfx *p = arg;
	struct wb_addr s;
	int bits;

	(void)h;
	return ban_rule_source(e, f->af, &s, &bits) && bits == p->bits &&
	    wb_addr_eq(&s, p->addr);
}

/* Deletes every rule of builtin that jumps to our chain. */
static int
drop_jumps(const struct fam *f, struct xtc_handle *h, const char *builtin)
{
	return ban_xt_delete_if(f, h, builtin, is_jump, NULL);
}

static bool
has_source(const struct fam *f, struct xtc_handle *h, const struct wb_addr *a,
    int bits)
{
	struct pfx p = { a, bits };
	const void *e;

	for (e = f->first(ipt.chain, h); e != NULL; e = f->next(e, h))
		if (is_source(f, h, e, &p))
			return true;
	return false;
}

static int
add_ban(const struct fam *f, struct xtc_handle *h, const struct wb_addr *a,
    int bits)
{
	union ban_rulebuf rb;
	char buf[WB_PREFIX_STRLEN];

	if (ban_rule_ban(&rb, a, bits, ipt.target) == 0) {
		ban_log(BAN_LOG_ERR, "%s: cannot build the rule for %s",
		    f->tool, wb_prefix_str(a, bits, buf));
		return -1;
	}
	if (!f->append(ipt.chain, rb.bytes, h))
		return fail(f, "append", wb_prefix_str(a, bits, buf));
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
	for (i = 0; i < s->n; i++) {
		const struct ban *b = &s->bans[i];

		if (b->addr.family == f->af && ban_bits(b) <=
		    wb_addr_bits(&b->addr) && add_ban(f, h, &b->addr,
		    ban_bits(b)) != 0)
			return -1;
	}
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
			if (!has_source(f, h, &o->addr, o->bits) &&
			    add_ban(f, h, &o->addr, o->bits) != 0)
				return -1;
		} else {
			struct pfx p = { &o->addr, o->bits };

			if (ban_xt_delete_if(f, h, ipt.chain, is_source,
			    &p) != 0)
				return -1;
		}
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
	if ((fd = ban_xt_lock(&ipt.lock, "iptables")) < 0) {
		ipt.stats.errors++;
		rc = -1;
		goto done;
	}
	if (any_of(AF_INET) &&
	    txn(&ban_xt_fam4, apply_pending, NULL, "commit") != 0)
		rc = -1;
	if (any_of(AF_INET6)) {
		if (!ipt.v6) {
			ban_log(BAN_LOG_ERR, "ip6tables: unavailable, IPv6 "
			    "bans not applied");
			ipt.stats.errors++;
			rc = -1;
		} else if (txn(&ban_xt_fam6, apply_pending, NULL, "commit") != 0)
			rc = -1;
	}
	ban_xt_unlock(fd);
done:
	ipt.npending = 0;
	return rc;
}

static int
stage(bool ban, const struct ban *b)
{
	char buf[WB_ADDR_STRLEN];
	struct wb_addr net;

	if (!ipt.open) {
		ban_log(BAN_LOG_ERR, "iptables: not open");
		return -1;
	}
	if (ban_prefix_check("iptables", b, &net) != 0)
		return -1;
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
	ipt.pending[ipt.npending].addr = net;
	ipt.pending[ipt.npending].bits = ban_bits(b);
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
	if ((fd = ban_xt_lock(&ipt.lock, "iptables")) < 0) {
		ipt.stats.errors++;
		return -1;
	}
	if (txn(&ban_xt_fam4, apply_sync, &s, "sync") != 0)
		rc = -1;
	if (ipt.v6) {
		if (txn(&ban_xt_fam6, apply_sync, &s, "sync") != 0)
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
	ban_xt_unlock(fd);
	return rc;
}

static int
ipt_flush(void)
{
	int fd, rc = 0;

	if (!ipt.open)
		return 0;
	ipt.npending = 0;
	if ((fd = ban_xt_lock(&ipt.lock, "iptables")) < 0) {
		ipt.stats.errors++;
		return -1;
	}
	if (txn(&ban_xt_fam4, apply_flush, NULL, "flush") != 0)
		rc = -1;
	if (ipt.v6 && txn(&ban_xt_fam6, apply_flush, NULL, "flush") != 0)
		rc = -1;
	ban_xt_unlock(fd);
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
	else if ((fd = ban_xt_lock(&ipt.lock, "iptables")) >= 0) {
		(void)txn(&ban_xt_fam4, apply_teardown, NULL, "close");
		if (ipt.v6)
			(void)txn(&ban_xt_fam6, apply_teardown, NULL, "close");
		ban_xt_unlock(fd);
	}
	free(ipt.pending);
	memset(&ipt, 0, sizeof(ipt));
}

static int
ipt_open(const struct ban_fw_config *c)
{
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
	if (ban_xt_lock_init(&ipt.lock, c->lock_file, c->lock_wait_ms,
	    "iptables") != 0)
		return -1;
	if ((fd = ban_xt_lock(&ipt.lock, "iptables")) < 0)
		return -1;
	if (txn(&ban_xt_fam4, apply_setup, NULL, "open") != 0) {
		ban_xt_unlock(fd);
		return -1;
	}
	ipt.v6 = txn(&ban_xt_fam6, apply_setup, NULL, "open") == 0;
	ban_xt_unlock(fd);
	if (!ipt.v6)
		ban_log(BAN_LOG_WARNING, "ip6tables: unavailable, IPv6 "
		    "addresses will not be banned");
	ipt.open = true;
	return 0;
}

static void
ipt_stats(struct ban_fw_stats *st)
{
	*st = ipt.stats;
	st->set_full = 0;
	st->capacity = 0;	/* a chain has no size limit */
}

static void
ipt_hint(char *buf, size_t len)
{
	const char *c = ipt.open ? ipt.chain : "wireban";

	if (len > 0 && snprintf(buf, len, "iptables-legacy -S %s; "
	    "ip6tables-legacy -S %s", c, c) >= (int)len)
		buf[0] = '\0';
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
	.stats = ipt_stats,
	.hint = ipt_hint,
	.max_timeout = 0,
};
