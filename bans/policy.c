/*
 * policy.c - per-address offence windows, bans and the increment.
 *
 * Every prefix the policy knows is one entry in a hash table keyed on
 * its network and length. An offender is its address masked to the
 * family's prefix (prefix4, prefix6: by default the IPv4 address itself
 * and the IPv6 /64), because whoever holds one address of a /64 holds
 * them all and rotates through them. When that prefix would cover an
 * ignored address (ignoreip, self), the offender is its address alone:
 * a ban must never reach what the admin protected. Manual bans may be
 * of any length. The hash is SipHash-2-4 under a per-policy key: an
 * attacker who picks source addresses cannot pile them into one
 * bucket. An entry is on exactly one of:
 *   - the ban heap (banned; ordered by expiry, then address),
 *   - the offenders list (never banned),
 *   - the history list (banned before, not now),
 * each list in order of last touch, oldest first.
 *
 * Invariant: tracked <= max_tracked. When a new address needs room the
 * oldest never-banned entry is evicted, then the oldest past offender
 * (losing its ban count); an active ban is never evicted. If every entry
 * is banned, the new address is not tracked and `untracked` counts it:
 * memory stays bounded even when an attacker owns a whole prefix.
 *
 * Offences: each entry keeps only its last maxretry offences in a ring.
 * Weights are >= 1, so maxretry offences inside the window already
 * reach maxretry: an older one can never tip a ban, and the ring is the
 * per-address cap with no loss of precision.
 *
 * Time is always the caller's `now` (packet time); nothing here reads a
 * clock, so a replayed capture gives the same decisions every run.
 *
 * This file decides; table.c stores (hash table, lists, ban heap);
 * ignore.c keeps the prefixes never banned (ignoreip, self).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bans_int.h"
#include "policy_int.h"

#define MAXRETRY_MAX	1000
#define TRACKED_MAX	(1u << 24)

static bool	 in_window(wb_usec, wb_usec, wb_usec);
static wb_usec	 sat_add(wb_usec, wb_usec);
static void	 ring_add(const struct ban_policy *, struct entry *, wb_usec,
		    int);
static int64_t	 ring_sum(const struct ban_policy *, const struct entry *,
		    wb_usec);
static void	 ban_start(struct ban_policy *, struct entry *, const char *,
		    int, wb_usec, wb_usec, struct ban *);
static void	 ban_end(struct ban_policy *, struct entry *, struct ban *);
static int	 entry_cmp(const void *, const void *);
static int	 family_prefix(const struct ban_policy *, const struct wb_addr *);
static struct entry *covering(const struct ban_policy *,
		    const struct wb_addr *);
static void	 set_banned(struct ban_policy *, struct entry *, bool);

/* ---- helpers ---------------------------------------------------------- */

/*
 * An offence at t still counts at now when it is less than findtime
 * old; one from the future (out-of-order packets) counts. Unsigned
 * arithmetic: no overflow whatever the times.
 */
static bool
in_window(wb_usec t, wb_usec now, wb_usec findtime)
{
	if (t >= now)
		return true;
	return (uint64_t)now - (uint64_t)t < (uint64_t)findtime;
}

static wb_usec
sat_add(wb_usec a, wb_usec b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

/* The family's grouping prefix for a (normalized). */
static int
family_prefix(const struct ban_policy *p, const struct wb_addr *a)
{
	return a->family == AF_INET6 ? p->c.prefix6 : p->c.prefix4;
}

/*
 * Joins or leaves the ban heap, keeping the counters and the table of
 * odd lengths right. Joining needs heap room reserved by the caller.
 */
static void
set_banned(struct ban_policy *p, struct entry *e, bool on)
{
	int fam = e->ban.addr.family == AF_INET6;
	bool odd = e->ban.bits != wb_addr_bits(&e->ban.addr) &&
	    e->ban.bits != family_prefix(p, &e->ban.addr);

	if (on == e->banned)
		return;
	e->banned = on;
	if (on) {
		ban_heap_push(p, e);
		p->st.banned++;
		p->st.banned6 += fam;
	} else {
		ban_heap_del(p, e);
		p->st.banned--;
		p->st.banned6 -= fam;
	}
	if (odd) {
		p->odd[fam][e->ban.bits] += on ? 1 : (uint32_t)-1;
		p->nodd += on ? 1 : (size_t)-1;
	}
}

/*
 * The active ban covering a (normalized), or NULL: its own, its
 * prefix's, or one of another length (at most one lookup per length
 * that has such bans, and none while there are none).
 */
static struct entry *
covering(const struct ban_policy *p, const struct wb_addr *a)
{
	int host = wb_addr_bits(a), pfx = family_prefix(p, a), fam, b;
	struct wb_addr n;
	struct entry *e;

	if ((e = ban_tab_find(p, a, host)) != NULL && e->banned)
		return e;
	if (pfx != host) {
		wb_addr_mask(&n, a, pfx);
		if ((e = ban_tab_find(p, &n, pfx)) != NULL && e->banned)
			return e;
	}
	if (p->nodd == 0)
		return NULL;
	fam = a->family == AF_INET6;
	for (b = 0; b <= host; b++) {
		if (p->odd[fam][b] == 0)
			continue;
		wb_addr_mask(&n, a, b);
		if ((e = ban_tab_find(p, &n, b)) != NULL && e->banned)
			return e;
	}
	return NULL;
}

/* ---- offences and bans ------------------------------------------------ */

static void
ring_add(const struct ban_policy *p, struct entry *e, wb_usec t, int weight)
{
	unsigned cap = (unsigned)p->c.maxretry;
	struct offence *o;

	if (e->noff < cap) {
		o = &e->off[(e->off0 + e->noff) % cap];
		e->noff++;
	} else {
		o = &e->off[e->off0];
		e->off0 = (uint16_t)((e->off0 + 1) % cap);
	}
	o->t = t;
	o->weight = weight;
}

static int64_t
ring_sum(const struct ban_policy *p, const struct entry *e, wb_usec now)
{
	int64_t sum = 0;
	unsigned i;

	for (i = 0; i < e->noff; i++) {
		const struct offence *o =
		    &e->off[(e->off0 + i) % (unsigned)p->c.maxretry];

		if (in_window(o->t, now, p->c.findtime))
			sum += o->weight;
	}
	return sum;
}

/* Starts a ban on e. The caller has reserved heap room. */
static void
ban_start(struct ban_policy *p, struct entry *e, const char *rule, int score,
    wb_usec duration, wb_usec now, struct ban *out)
{
	struct ban copy;

	if (e->ban.count < UINT_MAX)
		e->ban.count++;
	ban_rule_copy(e->ban.rule, rule);
	e->ban.score = score;
	e->ban.start = now;
	e->ban.expiry = sat_add(now, duration);
	e->noff = e->off0 = 0;
	ban_tab_unlist(p, e);
	set_banned(p, e, true);
	p->st.bans_total++;
	copy = e->ban;
	if (out != NULL)
		*out = copy;
	if (p->hook != NULL)
		p->hook(p->hook_arg, &copy);
}

/* Ends e's ban; it joins the history list with its count. */
static void
ban_end(struct ban_policy *p, struct entry *e, struct ban *out)
{
	set_banned(p, e, false);
	e->noff = e->off0 = 0;
	ban_tab_list(p, e);
	p->st.unbans_total++;
	if (out != NULL)
		*out = e->ban;
}

/* ---- the public functions --------------------------------------------- */

void
ban_policy_defaults(struct ban_policy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->maxretry = 3;
	c->findtime = 10 * 60 * WB_USEC_PER_SEC;
	c->bantime = 3600 * WB_USEC_PER_SEC;
	c->bantime_factor = 2.0;
	c->bantime_max = 7 * 86400 * WB_USEC_PER_SEC;
	c->prefix4 = 32;
	c->prefix6 = 64;
	c->max_tracked = 1048576;
	c->seed = 0;
}

struct ban_policy *
ban_policy_new(const struct ban_policy_config *c, char *err, size_t errlen)
{
	struct ban_policy *p = NULL;
	const char *why = NULL;
	uint64_t key[2];

	if (c->maxretry < 1 || c->maxretry > MAXRETRY_MAX)
		why = "policy.maxretry must be 1..1000";
	else if (c->findtime <= 0)
		why = "policy.findtime must be more than 0";
	else if (c->bantime <= 0)
		why = "policy.bantime must be more than 0";
	else if (!(c->bantime_factor >= 1.0 && c->bantime_factor <= 1000.0))
		why = "policy.bantime_factor must be 1..1000";
	else if (c->bantime_max < c->bantime)
		why = "policy.bantime_max must be at least policy.bantime";
	else if (c->prefix4 < 8 || c->prefix4 > 32)
		why = "policy.ipv4_prefix must be 8..32";
	else if (c->prefix6 < 32 || c->prefix6 > 128)
		why = "policy.ipv6_prefix must be 32..128";
	else if (c->max_tracked < 1 || c->max_tracked > TRACKED_MAX)
		why = "policy.max_tracked must be 1..16777216";
	if (why != NULL) {
		if (err != NULL && errlen > 0)
			(void)snprintf(err, errlen, "%s", why);
		errno = EINVAL;
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto fail;
	TAILQ_INIT(&p->lists[L_OFFENDERS].q);
	TAILQ_INIT(&p->lists[L_HISTORY].q);
	p->c = *c;
	/* Half a bucket per entry at most: chains stay short when full. */
	p->nbuckets = 16;
	while (p->nbuckets < c->max_tracked / 2)
		p->nbuckets *= 2;
	if ((p->buckets = calloc(p->nbuckets, sizeof(*p->buckets))) == NULL)
		goto fail;
	if (c->seed != 0) {
		key[0] = c->seed;
		key[1] = c->seed * 0x9e3779b97f4a7c15ULL + 1;
	} else if (getrandom(key, sizeof(key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(key)) {
		/* Degraded, not broken: chains may grow under attack. */
		ban_log(BAN_LOG_WARNING, "policy: no random hash key: %s",
		    strerror(errno));
		key[0] = (uint64_t)(uintptr_t)p;
		key[1] = (uint64_t)(uintptr_t)p->buckets;
	}
	p->k0 = key[0];
	p->k1 = key[1];
	return p;
fail:
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "policy: out of memory");
	ban_policy_free(p);
	errno = ENOMEM;
	return NULL;
}

void
ban_policy_free(struct ban_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->buckets != NULL)
		for (i = 0; i < p->nbuckets; i++) {
			struct entry *e = p->buckets[i], *n;

			for (; e != NULL; e = n) {
				n = e->hnext;
				free(e);
			}
		}
	free(p->buckets);
	free(p->heap);
	free(p->ign);
	free(p->self);
	free(p);
}

void
ban_policy_set_hook(struct ban_policy *p, ban_cb *fn, void *arg)
{
	p->hook = fn;
	p->hook_arg = fn != NULL ? arg : NULL;
}

int
ban_policy_offence(struct ban_policy *p, const struct wb_addr *addr,
    const char *rule, int weight, wb_usec now, struct ban *out)
{
	struct wb_addr a, key;
	struct entry *e;
	int64_t sum;
	int bits;

	if (!ban_valid_family(addr)) {
		ban_log(BAN_LOG_ERR, "policy: offence without an address");
		return -1;
	}
	p->st.offences++;
	ban_addr_norm(&a, addr);
	if (ban_policy_is_ignored(p, &a)) {
		p->st.ignored++;
		return 0;
	}
	if (ban_addr_special(&a, wb_addr_bits(&a)) != NULL) {
		p->st.refused++;
		return 0;
	}
	if (weight <= 0)
		return 0;
	if (covering(p, &a) != NULL) {
		p->st.while_banned++;
		return 0;
	}
	bits = family_prefix(p, &a);
	wb_addr_mask(&key, &a, bits);
	if (bits != wb_addr_bits(&a) && ban_covers_ignored(p, &key, bits)) {
		key = a;
		bits = wb_addr_bits(&a);
	}
	if ((e = ban_tab_find(p, &key, bits)) == NULL &&
	    (e = ban_tab_new(p, &key, bits)) == NULL) {
		if (errno == ENOSPC) {
			p->st.untracked++;
			return 0;
		}
		ban_log(BAN_LOG_ERR, "policy: out of memory");
		return -1;
	}
	ring_add(p, e, now, weight);
	e->last = now;
	ban_tab_list(p, e);
	sum = ring_sum(p, e, now);
	if (sum < p->c.maxretry)
		return 0;
	if (ban_heap_reserve(p) != 0) {
		ban_log(BAN_LOG_ERR, "policy: out of memory");
		return -1;
	}
	ban_start(p, e, rule, sum > INT_MAX ? INT_MAX : (int)sum,
	    ban_policy_duration(p, e->ban.count + 1), now, out);
	return 1;
}

int
ban_policy_ban(struct ban_policy *p, const struct wb_addr *addr, int bits,
    const char *rule, wb_usec duration, wb_usec now, struct ban *out)
{
	char buf[WB_PREFIX_STRLEN];
	const char *special;
	struct wb_addr a;
	struct entry *e;

	if (!ban_valid_family(addr) || bits > wb_addr_bits(addr)) {
		ban_log(BAN_LOG_ERR, "policy: ban without an address");
		return -1;
	}
	ban_addr_norm(&a, addr);
	if (bits < 0 || addr->family != a.family)
		bits = wb_addr_bits(&a);
	wb_addr_mask(&a, &a, bits);
	wb_prefix_str(&a, bits, buf);
	if ((special = ban_addr_special(&a, bits)) != NULL) {
		ban_log(BAN_LOG_ERR, "policy: %s overlaps %s, which is never "
		    "banned", buf, special);
		return -1;
	}
	if (ban_policy_is_ignored(p, &a) || ban_covers_ignored(p, &a, bits)) {
		ban_log(BAN_LOG_ERR, "policy: %s is or holds an address of "
		    "ignoreip or self, not banned", buf);
		return -1;
	}
	if ((e = ban_tab_find(p, &a, bits)) != NULL && e->banned) {
		if (duration > 0) {
			e->ban.expiry = sat_add(now, duration);
			ban_heap_fix(p, e);
		}
		if (out != NULL)
			*out = e->ban;
		return 0;
	}
	if (e == NULL && (e = ban_tab_new(p, &a, bits)) == NULL) {
		ban_log(BAN_LOG_ERR, "policy: cannot track %s: %s", buf,
		    errno == ENOSPC ? "every tracked prefix is banned" :
		    "out of memory");
		return -1;
	}
	if (ban_heap_reserve(p) != 0) {
		ban_log(BAN_LOG_ERR, "policy: out of memory");
		return -1;
	}
	if (duration <= 0)
		duration = ban_policy_duration(p, e->ban.count + 1);
	ban_start(p, e, rule != NULL ? rule : "manual", 0, duration, now, out);
	return 1;
}

int
ban_policy_unban(struct ban_policy *p, const struct wb_addr *addr, int bits,
    wb_usec now, struct ban *out)
{
	struct wb_addr a;
	struct entry *e;

	if (!ban_valid_family(addr) || bits > wb_addr_bits(addr))
		return 0;
	ban_addr_norm(&a, addr);
	if (bits >= 0 && addr->family == a.family) {
		wb_addr_mask(&a, &a, bits);
		e = ban_tab_find(p, &a, bits);
	} else
		e = covering(p, &a);
	if (e == NULL || !e->banned)
		return 0;
	/* History shows when the ban really ended. */
	if (now < e->ban.expiry)
		e->ban.expiry = now > e->ban.start ? now : e->ban.start;
	ban_end(p, e, out);
	return 1;
}

size_t
ban_policy_expire(struct ban_policy *p, wb_usec now, ban_cb *cb, void *arg)
{
	struct entry *e;
	struct ban b;
	size_t n = 0;

	while (p->nheap > 0 && p->heap[0]->ban.expiry <= now) {
		ban_end(p, p->heap[0], &b);
		n++;
		if (cb != NULL)
			cb(arg, &b);
	}
	/*
	 * Forget never-banned addresses whose offences all left the window.
	 * The list is in touch order, so the scan stops at the first one
	 * still in it: the work is bounded by what is freed.
	 */
	while ((e = TAILQ_FIRST(&p->lists[L_OFFENDERS].q)) != NULL &&
	    !in_window(e->last, now, p->c.findtime))
		ban_tab_free(p, e);
	return n;
}

bool
ban_policy_next_expiry(const struct ban_policy *p, wb_usec *when)
{
	if (p->nheap == 0)
		return false;
	*when = p->heap[0]->ban.expiry;
	return true;
}

bool
ban_policy_get(const struct ban_policy *p, const struct wb_addr *addr,
    struct ban *out)
{
	struct wb_addr a;
	struct entry *e;

	if (!ban_valid_family(addr))
		return false;
	ban_addr_norm(&a, addr);
	if ((e = covering(p, &a)) == NULL)
		return false;
	if (out != NULL)
		*out = e->ban;
	return true;
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct entry *const *a = x, *const *b = y;
	int c = ban_addr_cmp(&(*a)->ban.addr, &(*b)->ban.addr);

	if (c != 0)
		return c;
	return (int)(*a)->ban.bits - (int)(*b)->ban.bits;
}

int
ban_policy_foreach(const struct ban_policy *p, unsigned what, ban_cb *cb,
    void *arg)
{
	const struct entry **v;
	const struct entry *e;
	size_t n = 0, i, max;
	struct ban b;

	if (what & BAN_UNSORTED) {
		if (what & BAN_ACTIVE)
			for (i = 0; i < p->nheap; i++, n++) {
				b = p->heap[i]->ban;
				cb(arg, &b);
			}
		if (what & BAN_HISTORY)
			TAILQ_FOREACH(e, &p->lists[L_HISTORY].q, link) {
				n++;
				b = e->ban;
				cb(arg, &b);
			}
		return (int)(n > INT_MAX ? INT_MAX : n);
	}
	max = ((what & BAN_ACTIVE) ? p->nheap : 0) +
	    ((what & BAN_HISTORY) ? p->lists[L_HISTORY].n : 0);
	if (max == 0)
		return 0;
	if ((v = calloc(max, sizeof(*v))) == NULL) {
		ban_log(BAN_LOG_ERR, "policy: out of memory");
		return -1;
	}
	if (what & BAN_ACTIVE) {
		for (i = 0; i < p->nheap; i++)
			v[n++] = p->heap[i];
		qsort(v, n, sizeof(*v), entry_cmp);
	}
	if (what & BAN_HISTORY) {
		size_t first = n;

		TAILQ_FOREACH(e, &p->lists[L_HISTORY].q, link)
			v[n++] = e;
		qsort(v + first, n - first, sizeof(*v), entry_cmp);
	}
	for (i = 0; i < n; i++) {
		b = v[i]->ban;
		cb(arg, &b);
	}
	free(v);
	return (int)(n > INT_MAX ? INT_MAX : n);
}

int
ban_policy_restore(struct ban_policy *p, const struct ban *b, bool active)
{
	char buf[WB_PREFIX_STRLEN];
	struct wb_addr a;
	struct entry *e;
	int bits;

	if (!ban_valid_family(&b->addr) || b->count < 1 ||
	    b->expiry < b->start || b->bits > wb_addr_bits(&b->addr)) {
		ban_log(BAN_LOG_ERR, "policy: restore: malformed ban");
		return -1;
	}
	ban_addr_norm(&a, &b->addr);
	bits = b->bits == 0 || a.family != b->addr.family ? wb_addr_bits(&a) :
	    b->bits;
	wb_addr_mask(&a, &a, bits);
	wb_prefix_str(&a, bits, buf);
	if (ban_policy_is_ignored(p, &a) || ban_covers_ignored(p, &a, bits) ||
	    ban_addr_special(&a, bits) != NULL) {
		ban_log(BAN_LOG_ERR, "policy: %s is or holds an address of "
		    "ignoreip or self, or is never banned: not restored", buf);
		return -1;
	}
	if ((e = ban_tab_find(p, &a, bits)) != NULL) {
		set_banned(p, e, false);
	} else if ((e = ban_tab_new(p, &a, bits)) == NULL) {
		ban_log(BAN_LOG_ERR, "policy: cannot restore %s: %s", buf,
		    errno == ENOSPC ? "every tracked prefix is banned" :
		    "out of memory");
		return -1;
	}
	if (active && ban_heap_reserve(p) != 0) {
		ban_log(BAN_LOG_ERR, "policy: out of memory");
		return -1;
	}
	e->ban = *b;
	e->ban.addr = a;
	e->ban.bits = (uint8_t)bits;
	e->ban.rule[BAN_RULE_MAX - 1] = '\0';
	e->noff = e->off0 = 0;
	if (active) {
		ban_tab_unlist(p, e);
		set_banned(p, e, true);
	} else {
		ban_tab_list(p, e);
	}
	return 0;
}

wb_usec
ban_policy_duration(const struct ban_policy *p, unsigned count)
{
	double d = (double)p->c.bantime, f = p->c.bantime_factor;
	unsigned n = count > 1 ? count - 1 : 0;

	/* factor^n by squaring; past the cap the exact value is moot. */
	while (n > 0 && d < (double)p->c.bantime_max) {
		if (n & 1)
			d *= f;
		f *= f;
		n >>= 1;
	}
	if (!(d < (double)p->c.bantime_max))
		return p->c.bantime_max;
	return (wb_usec)d;
}

void
ban_policy_stats(const struct ban_policy *p, struct ban_policy_stats *st)
{
	*st = p->st;
}
