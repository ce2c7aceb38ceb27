/*
 * fw_ipset.c - the "ipset" backend: the bans are elements of two kernel
 * sets, hash:net family inet ("wireban4") and inet6 ("wireban6"),
 * created with "timeout 0" so that each element carries its own timeout
 * and the kernel lifts it by itself. One iptables rule per family sends
 * the banned sources to DROP (fw_ipset_rule.c, libiptc).
 *
 * libipset talks netlink to the kernel. Its restore mode (a line number
 * with each command) packs consecutive adds, or dels, to one set into
 * one netlink message per page: one exchange for ~80 changes instead of
 * one each, and the kernel applies them in order and stops at the first
 * it refuses, naming its line. commit() numbers the staged changes
 * (coalesced, each set's adds then its dels), and after a refusal goes
 * on from the change after the refused one: one bad element costs
 * itself. "add -exist" gives a present element its new timeout, "del
 * -exist" ignores a missing one, so neither fails because the kernel
 * timed an element out.
 *
 * A full set ("Hash is full", at maxelem elements) is never silent:
 * each refused ban counts in stats.set_full, commit() logs one line with
 * the count and returns -1.
 *
 * Timeouts: ipset takes at most 2147483 s (about 24.8 days); a longer ban
 * is given that, and the caller re-arms it (max_timeout).
 *
 * sync() fills a temporary set per family, swaps it with ours (one
 * atomic kernel operation: the rule, which names the set by index, sees
 * the old elements or the new ones) and destroys the temporary one.
 *
 * This file never includes libiptc's headers (libipset's clash with
 * <linux/netfilter.h>). Invariant: at most one instance, used from one
 * thread (libipset keeps global state); nothing is staged while closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libipset/data.h>
#include <libipset/ipset.h>
#include <libipset/session.h>
#include <libipset/types.h>

#include "bans_int.h"

#define TIMEOUT_MAX	2147483u	/* seconds: ipset's own limit */
#define TMP_SUFFIX	"-new"
/* Set names: IPSET_MAXNAMELEN less the NUL and the suffix. */
#define NAME_MAX_LEN	(IPSET_MAXNAMELEN - 1 - (int)sizeof(TMP_SUFFIX) + 1)
/* destroy right after the rule went may find the set still busy. */
#define DESTROY_TRIES	20

static struct {
	bool		 open;
	bool		 keep;
	struct ipset_session *s;
	char		 name[2][IPSET_MAXNAMELEN];	/* v4, v6 */
	char		 tmp[2][IPSET_MAXNAMELEN];
	uint32_t	 maxelem;
	struct ban_setrule rule;
	char		 lock_file[256];
	uint16_t	 ports[BAN_PORTS_MAX];
	struct ban_stage st;
	uint32_t	*order;		/* commit's order of st.v */
	size_t		 maxorder;
	struct ban_fw_stats stats;
} ips;

/* What one run of changes did. */
struct result {
	size_t		 failed;	/* refused, all reasons */
	size_t		 full;		/* of those, set full */
	char		 first[160];	/* the first refusal */
};

static int	 quiet(struct ipset_session *, void *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 fam_of(int);
static const char *report(void);
static int	 cmd(enum ipset_cmd, const char *, const char *);
static int	 create(int, const char *, bool);
static void	 destroy(const char *);
static int	 put_op(const char *, const struct ban_op *, uint32_t);
static void	 run_ops(int, bool, const struct ban_op *, const uint32_t *,
		    size_t, struct result *);
static int	 names_ok(const struct ban_fw_config *);
static int	 stage(bool, const struct ban *);
static int	 ips_open(const struct ban_fw_config *);
static int	 ips_ban(const struct ban *);
static int	 ips_unban(const struct ban *);
static int	 ips_commit(void);
static int	 ips_sync(const struct ban *, size_t);
static int	 ips_flush(void);
static void	 ips_close(void);
static void	 ips_stats(struct ban_fw_stats *);
static void	 ips_hint(char *, size_t);

/* libipset's output (list, save): we ask for none. */
static int
quiet(struct ipset_session *s, void *p, const char *fmt, ...)
{
	(void)s;
	(void)p;
	(void)fmt;
	return 0;
}

/* 0 for AF_INET, 1 for AF_INET6: the index of name[] and tmp[]. */
static int
fam_of(int af)
{
	return af == AF_INET6 ? 1 : 0;
}

/* The message libipset left for the last command, reset for the next. */
static const char *
report(void)
{
	const char *m = ipset_session_report_msg(ips.s);

	return m != NULL && *m != '\0' ? m : "unknown error";
}

/*
 * One command on set (and set2 for swap), not batched. Returns 0, or -1
 * with libipset's message left in report().
 */
static int
cmd(enum ipset_cmd c, const char *set, const char *set2)
{
	ipset_session_report_reset(ips.s);
	if (ipset_session_data_set(ips.s, IPSET_SETNAME, set) != 0)
		return -1;
	if (set2 != NULL &&
	    ipset_session_data_set(ips.s, IPSET_OPT_SETNAME2, set2) != 0)
		return -1;
	return ipset_cmd(ips.s, c, 0) == 0 ? 0 : -1;
}

/*
 * create SET hash:net family F timeout 0 maxelem M (-exist). A set of
 * that name, type and family made with other settings (another maxelem)
 * is kept with a warning: sync() swaps in one made as configured.
 */
static int
create(int af, const char *set, bool warn)
{
	uint8_t family = af == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	const uint8_t *have;
	const char *type;
	uint32_t timeout = 0;

	ipset_session_report_reset(ips.s);
	if (ipset_session_data_set(ips.s, IPSET_SETNAME, set) == 0 &&
	    ipset_session_data_set(ips.s, IPSET_OPT_TYPENAME,
	    "hash:net") == 0 &&
	    ipset_session_data_set(ips.s, IPSET_OPT_FAMILY, &family) == 0 &&
	    ipset_type_get(ips.s, IPSET_CMD_CREATE) != NULL &&
	    ipset_session_data_set(ips.s, IPSET_OPT_TIMEOUT, &timeout) == 0 &&
	    ipset_session_data_set(ips.s, IPSET_OPT_MAXELEM,
	    &ips.maxelem) == 0 &&
	    ipset_cmd(ips.s, IPSET_CMD_CREATE, 0) == 0)
		return 0;
	if (strstr(report(), "already exists") != NULL &&
	    cmd(IPSET_CMD_HEADER, set, NULL) == 0) {
		type = ipset_session_data_get(ips.s, IPSET_OPT_TYPENAME);
		have = ipset_session_data_get(ips.s, IPSET_OPT_FAMILY);
		if (type != NULL && strcmp(type, "hash:net") == 0 &&
		    have != NULL && *have == family) {
			if (warn)
				ban_log(BAN_LOG_WARNING, "ipset: set %s "
				    "exists with other settings; kept until "
				    "sync replaces it", set);
			return 0;
		}
		ban_log(BAN_LOG_ERR, "ipset: set %s exists and is not "
		    "hash:net family %s: destroy it or choose another name",
		    set, af == AF_INET6 ? "inet6" : "inet");
		return -1;
	}
	ban_log(BAN_LOG_ERR, "ipset: create %s: %s", set, report());
	return -1;
}

/* destroy SET, if it exists; retried while the kernel says busy. */
static void
destroy(const char *set)
{
	struct timespec pause = { 0, 10 * 1000000L };
	int i;

	for (i = 0; i < DESTROY_TRIES; i++) {
		if (cmd(IPSET_CMD_DESTROY, set, NULL) == 0 ||
		    strstr(report(), "does not exist") != NULL)
			return;
		if (strstr(report(), "in use") == NULL)
			break;
		(void)nanosleep(&pause, NULL);
	}
	ban_log(BAN_LOG_ERR, "ipset: destroy %s: %s", set, report());
}

/* Fills the session's data for change o on set, line lineno. */
static int
put_op(const char *set, const struct ban_op *o, uint32_t lineno)
{
	union nf_inet_addr ip;
	uint8_t cidr = o->bits;
	uint32_t t;

	(void)lineno;
	memset(&ip, 0, sizeof(ip));
	memcpy(&ip, o->addr.a, o->addr.family == AF_INET ? 4 : 16);
	if (ipset_session_data_set(ips.s, IPSET_SETNAME, set) != 0 ||
	    ipset_type_get(ips.s, o->ban ? IPSET_CMD_ADD : IPSET_CMD_DEL) ==
	    NULL || ipset_session_data_set(ips.s, IPSET_OPT_IP, &ip) != 0 ||
	    ipset_session_data_set(ips.s, IPSET_OPT_CIDR, &cidr) != 0)
		return -1;
	if (o->ban) {
		wb_usec secs = (o->duration + WB_USEC_PER_SEC - 1) /
		    WB_USEC_PER_SEC;

		t = secs < 1 ? 1 : secs > TIMEOUT_MAX ? TIMEOUT_MAX :
		    (uint32_t)secs;
		if (ipset_session_data_set(ips.s, IPSET_OPT_TIMEOUT, &t) != 0)
			return -1;
	}
	return 0;
}

/*
 * Applies ops[order[0..n)] to the set of family fi (tmp: the temporary
 * one) in restore mode. A refused change is counted in *r and the run
 * goes on after it; ops before it in its message were applied.
 */
static void
run_ops(int fi, bool tmp, const struct ban_op *ops, const uint32_t *order,
    size_t n, struct result *r)
{
	const char *set = tmp ? ips.tmp[fi] : ips.name[fi];
	char p[WB_PREFIX_STRLEN];
	size_t i = 0, j;
	unsigned long line;
	const char *m;
	char *end;

	while (i < n) {
		ipset_session_report_reset(ips.s);
		for (j = i; j < n; j++) {
			const struct ban_op *o = &ops[order[j]];

			if (put_op(set, o, (uint32_t)(j + 1)) != 0) {
				/* Not the kernel's: send what is packed. */
				r->failed += n - j;
				if (r->first[0] == '\0')
					(void)snprintf(r->first,
					    sizeof(r->first), "%s: %s", set,
					    report());
				if (ipset_commit(ips.s) != 0)
					r->failed += j - i;
				return;
			}
			if (ipset_cmd(ips.s, o->ban ? IPSET_CMD_ADD :
			    IPSET_CMD_DEL, (uint32_t)(j + 1)) != 0)
				break;
		}
		if (j == n && ipset_commit(ips.s) == 0) {
			ips.stats.commits++;
			return;
		}
		/* "Error in line N: why": N is the refused change. */
		m = report();
		line = 0;
		if (strncmp(m, "Error in line ", 14) == 0)
			line = strtoul(m + 14, &end, 10);
		if (line < i + 1 || line > n ||
		    strstr(m, "does not exist") != NULL) {
			/* Not one change's fault: count the rest, stop. */
			r->failed += n - i;
			if (r->first[0] == '\0')
				(void)snprintf(r->first, sizeof(r->first),
				    "%s: %s", set, m);
			return;
		}
		j = line - 1;
		r->failed++;
		if (strstr(m, "is full") != NULL && ops[order[j]].ban)
			r->full++;
		if (r->first[0] == '\0')
			(void)snprintf(r->first, sizeof(r->first), "%s %s: %s",
			    set, wb_prefix_str(&ops[order[j]].addr,
			    ops[order[j]].bits, p), strstr(m, ": ") != NULL ?
			    strstr(m, ": ") + 2 : m);
		i = line;
	}
}

static int
ips_commit(void)
{
	struct result r;
	size_t i, n, k, start;
	int fi, pass;

	if (!ips.open || ips.st.n == 0)
		return 0;
	ban_stage_coalesce(&ips.st);
	n = ips.st.n;
	if (n > ips.maxorder) {
		uint32_t *o = realloc(ips.order, n * sizeof(*o));

		if (o == NULL) {
			ban_log(BAN_LOG_ERR, "ipset: out of memory");
			ban_stage_clear(&ips.st);
			ips.stats.errors++;
			return -1;
		}
		ips.order = o;
		ips.maxorder = n;
	}
	memset(&r, 0, sizeof(r));
	/* Per family its adds, then its dels: long runs of one command. */
	for (fi = 0, k = 0; fi < 2; fi++) {
		start = k;
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < n; i++)
				if (fam_of(ips.st.v[i].addr.family) == fi &&
				    ips.st.v[i].ban == (pass == 0))
					ips.order[k++] = (uint32_t)i;
		if (k > start)
			run_ops(fi, false, ips.st.v, ips.order + start,
			    k - start, &r);
	}
	ban_stage_clear(&ips.st);
	if (r.failed == 0)
		return 0;
	ips.stats.set_full += r.full;
	ips.stats.errors += r.failed - r.full;
	ban_log(BAN_LOG_ERR, "ipset: %zu of %zu changes refused, %zu of them "
	    "because the set is full (maxelem %u configured); first: %s",
	    r.failed, n, r.full, ips.maxelem, r.first);
	return -1;
}

static int
stage(bool ban, const struct ban *b)
{
	int rc;

	if (!ips.open) {
		ban_log(BAN_LOG_ERR, "ipset: not open");
		return -1;
	}
	if ((rc = ban_stage_push(&ips.st, "ipset", ban, b)) < 0)
		return -1;
	if (rc == 1 && ips_commit() != 0)
		return -1;
	return 0;
}

static int
ips_ban(const struct ban *b)
{
	return stage(true, b);
}

static int
ips_unban(const struct ban *b)
{
	return stage(false, b);
}

static int
ips_sync(const struct ban *bans, size_t n)
{
	struct ban_stage all;
	struct result r;
	uint32_t *order;
	size_t i, k, bad = 0;
	int fi, rc = 0;

	if (!ips.open) {
		ban_log(BAN_LOG_ERR, "ipset: not open");
		return -1;
	}
	ban_stage_clear(&ips.st);
	memset(&all, 0, sizeof(all));
	memset(&r, 0, sizeof(r));
	/* Checked and masked like a staged ban, but not size-bounded. */
	all.v = calloc(n > 0 ? n : 1, sizeof(*all.v));
	order = calloc(n > 0 ? n : 1, sizeof(*order));
	if (all.v == NULL || order == NULL) {
		ban_log(BAN_LOG_ERR, "ipset: sync: out of memory");
		free(all.v);
		free(order);
		ips.stats.errors++;
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct ban_op *o = &all.v[all.n];

		if (bans[i].addr.family != AF_INET &&
		    bans[i].addr.family != AF_INET6) {
			bad++;
			continue;
		}
		if (ban_bits(&bans[i]) > wb_addr_bits(&bans[i].addr)) {
			bad++;
			continue;
		}
		wb_addr_mask(&o->addr, &bans[i].addr, ban_bits(&bans[i]));
		o->bits = (uint8_t)ban_bits(&bans[i]);
		o->ban = true;
		o->duration = bans[i].expiry > bans[i].start ?
		    bans[i].expiry - bans[i].start : 0;
		all.n++;
	}
	/* The rule first: it must be there whatever the sets hold. */
	if (ban_setrule_install(&ips.rule) != 0)
		rc = -1;
	for (fi = 0; fi < 2; fi++) {
		int af = fi == 0 ? AF_INET : AF_INET6;

		for (i = 0, k = 0; i < all.n; i++)
			if (fam_of(all.v[i].addr.family) == fi)
				order[k++] = (uint32_t)i;
		destroy(ips.tmp[fi]);
		if (create(af, ips.name[fi], false) != 0 ||
		    create(af, ips.tmp[fi], false) != 0) {
			rc = -1;
			continue;
		}
		if (k > 0)
			run_ops(fi, true, all.v, order, k, &r);
		if (cmd(IPSET_CMD_SWAP, ips.tmp[fi], ips.name[fi]) != 0) {
			ban_log(BAN_LOG_ERR, "ipset: swap %s %s: %s",
			    ips.tmp[fi], ips.name[fi], report());
			rc = -1;
		}
		destroy(ips.tmp[fi]);
	}
	free(all.v);
	free(order);
	if (r.failed > 0) {
		ips.stats.set_full += r.full;
		ips.stats.errors += r.failed - r.full;
		ban_log(BAN_LOG_ERR, "ipset: sync: %zu of %zu bans refused, "
		    "%zu of them because the set is full (maxelem %u "
		    "configured); first: %s", r.failed, n, r.full, ips.maxelem,
		    r.first);
		rc = -1;
	}
	if (bad > 0) {
		ban_log(BAN_LOG_ERR, "ipset: sync: %zu bans without an address "
		    "or with a bad prefix length skipped", bad);
		ips.stats.errors += bad;
		rc = -1;
	}
	if (rc != 0)
		ips.stats.errors++;
	return rc;
}

static int
ips_flush(void)
{
	int fi, rc = 0;

	if (!ips.open)
		return 0;
	ban_stage_clear(&ips.st);
	for (fi = 0; fi < 2; fi++)
		if (cmd(IPSET_CMD_FLUSH, ips.name[fi], NULL) != 0) {
			ban_log(BAN_LOG_ERR, "ipset: flush %s: %s",
			    ips.name[fi], report());
			ips.stats.errors++;
			rc = -1;
		} else
			ips.stats.commits++;
	return rc;
}

static void
ips_close(void)
{
	if (!ips.open)
		return;
	if (!ips.keep) {
		/* The rules go first: the kernel keeps a set in use. */
		(void)ban_setrule_remove(&ips.rule);
		destroy(ips.name[0]);
		destroy(ips.name[1]);
	}
	ipset_session_fini(ips.s);
	ban_stage_free(&ips.st);
	free(ips.order);
	memset(&ips, 0, sizeof(ips));
}

/* Set names ipset takes, with room for the temporary suffix. */
static int
names_ok(const struct ban_fw_config *c)
{
	const char *const names[2] = { c->set4, c->set6 };
	int i;

	for (i = 0; i < 2; i++) {
		size_t n = names[i] != NULL ? strlen(names[i]) : 0;

		if (n == 0 || n > NAME_MAX_LEN || strspn(names[i],
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-") != n) {
			ban_log(BAN_LOG_ERR, "ipset: bad set name \"%.40s\" "
			    "(1-%d of A-Z a-z 0-9 _ . -)", names[i] != NULL ?
			    names[i] : "", NAME_MAX_LEN);
			return -1;
		}
	}
	if (strcmp(c->set4, c->set6) == 0) {
		ban_log(BAN_LOG_ERR, "ipset: set4 and set6 are both %s",
		    c->set4);
		return -1;
	}
	return 0;
}

static int
ips_open(const struct ban_fw_config *c)
{
	static bool types;
	size_t i;
	int fi;

	if (ips.open) {
		ban_log(BAN_LOG_ERR, "ipset: already open");
		return -1;
	}
	if (names_ok(c) != 0)
		return -1;
	if (c->maxelem == 0 || c->maxelem > UINT32_MAX) {
		ban_log(BAN_LOG_ERR, "ipset: maxelem %zu out of 1..%u",
		    c->maxelem, UINT32_MAX);
		return -1;
	}
	if (!c->allports && (c->nports == 0 || c->nports > BAN_PORTS_MAX)) {
		ban_log(BAN_LOG_ERR, "ipset: need 1 to %d ports, or allports",
		    BAN_PORTS_MAX);
		return -1;
	}
	for (i = 0; !c->allports && i < c->nports; i++)
		if (c->ports[i] == 0) {
			ban_log(BAN_LOG_ERR, "ipset: port 0 in ports");
			return -1;
		}
	if (c->lock_file != NULL && strlen(c->lock_file) >=
	    sizeof(ips.lock_file)) {
		ban_log(BAN_LOG_ERR, "ipset: lock file path too long");
		return -1;
	}
	memset(&ips, 0, sizeof(ips));
	(void)snprintf(ips.name[0], sizeof(ips.name[0]), "%s", c->set4);
	(void)snprintf(ips.name[1], sizeof(ips.name[1]), "%s", c->set6);
	for (fi = 0; fi < 2; fi++)
		if (snprintf(ips.tmp[fi], sizeof(ips.tmp[fi]), "%s%s",
		    ips.name[fi], TMP_SUFFIX) >= (int)sizeof(ips.tmp[fi]))
			return -1;	/* names_ok() left room: not reached */
	ips.maxelem = (uint32_t)c->maxelem;
	ips.keep = c->keep_on_close;
	ips.rule.set[0] = ips.name[0];
	ips.rule.set[1] = ips.name[1];
	ips.rule.target = c->target;
	ips.rule.allports = c->allports;
	ips.rule.forward = c->forward;
	ips.rule.nports = c->allports ? 0 : c->nports;
	memcpy(ips.ports, c->ports, ips.rule.nports * sizeof(ips.ports[0]));
	ips.rule.ports = ips.ports;
	if (c->lock_file != NULL) {
		(void)snprintf(ips.lock_file, sizeof(ips.lock_file), "%s",
		    c->lock_file);
		ips.rule.lock_file = ips.lock_file;
	}
	ips.rule.lock_wait_ms = c->lock_wait_ms;
	if (!types) {
		ipset_load_types();
		types = true;
	}
	if ((ips.s = ipset_session_init(quiet, NULL)) == NULL) {
		ban_log(BAN_LOG_ERR, "ipset: cannot start a libipset session");
		return -1;
	}
	/* add refreshes a present element, del ignores a missing one. */
	ipset_envopt_set(ips.s, IPSET_ENV_EXIST);
	if (create(AF_INET, ips.name[0], true) != 0 ||
	    create(AF_INET6, ips.name[1], true) != 0 ||
	    ban_setrule_install(&ips.rule) != 0) {
		ipset_session_fini(ips.s);
		memset(&ips, 0, sizeof(ips));
		return -1;
	}
	ips.open = true;
	return 0;
}

static void
ips_stats(struct ban_fw_stats *st)
{
	*st = ips.stats;
	st->capacity = ips.maxelem;
}

static void
ips_hint(char *buf, size_t len)
{
	if (len > 0 && snprintf(buf, len, "ipset list %s; ipset list %s",
	    ips.open ? ips.name[0] : "wireban4", ips.open ? ips.name[1] :
	    "wireban6") >= (int)len)
		buf[0] = '\0';
}

const struct ban_backend ban_backend_ipset = {
	.name = "ipset",
	.open = ips_open,
	.ban = ips_ban,
	.unban = ips_unban,
	.commit = ips_commit,
	.sync = ips_sync,
	.flush = ips_flush,
	.close = ips_close,
	.stats = ips_stats,
	.hint = ips_hint,
	.max_timeout = (wb_usec)TIMEOUT_MAX * WB_USEC_PER_SEC,
};
