/*
 * fw_crowdsec_table.c - per prefix, what the crowdsec backend has yet
 * to deliver and what the LAPI already holds.
 *
 * An entry wants a POST (a ban to push), a DELETE (a decision to lift
 * before its time), or both (a DELETE first: a ban shortened by hand
 * replaces a longer decision). It also remembers a delivered decision
 * and its end, so that a restart's sync() does not push again what the
 * LAPI has (a thousand bans restored must not be a thousand duplicate
 * alerts), and so that an unban knows whether there is anything to
 * lift: a ban that ran out has ended at the LAPI too, since its
 * decision was given exactly the time the ban had left.
 *
 * Entries with work are on a FIFO queue, oldest first, so a storm is
 * delivered in the order it happened. Many changes to one prefix while
 * the LAPI is down are one entry: pending work is coalesced, and the
 * queue is bounded by the number of prefixes (CS_TABLE_MAX).
 *
 * Invariant: the caller holds the backend's lock; an entry is freed
 * only by ban_cs_table_sweep() or ban_cs_table_fini(), never while it has work
 * or a POST in flight.
 */
#include <stdlib.h>
#include <string.h>

#include "fw_crowdsec.h"

static size_t
slot(const struct cs_table *t, const struct wb_addr *a, int bits)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ a->a[i]) * 16777619u;
	h = (h ^ (uint32_t)bits ^ (uint32_t)a->family << 8) * 16777619u;
	return h & t->mask;
}

int
ban_cs_table_init(struct cs_table *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	t->mask = 1023;
	if ((t->b = calloc(t->mask + 1, sizeof(*t->b))) == NULL)
		return -1;
	return 0;
}

void
ban_cs_table_fini(struct cs_table *t)
{
	struct cs_entry *e, *n;
	size_t i;

	for (i = 0; t->b != NULL && i <= t->mask; i++)
		for (e = t->b[i]; e != NULL; e = n) {
			n = e->hnext;
			free(e);
		}
	free(t->b);
	memset(t, 0, sizeof(*t));
}

struct cs_entry *
ban_cs_table_find(const struct cs_table *t, const struct wb_addr *net, int bits)
{
	struct cs_entry *e;

	for (e = t->b[slot(t, net, bits)]; e != NULL; e = e->hnext)
		if (e->bits == bits && wb_addr_eq(&e->addr, net))
			return e;
	return NULL;
}

/* Doubles the buckets; on no memory the table just stays denser. */
static void
grow(struct cs_table *t)
{
	size_t nmask = t->mask * 2 + 1, i;
	struct cs_entry **nb, *e, *n;
	struct cs_table tmp = *t;

	if ((nb = calloc(nmask + 1, sizeof(*nb))) == NULL)
		return;
	tmp.b = nb;
	tmp.mask = nmask;
	for (i = 0; i <= t->mask; i++)
		for (e = t->b[i]; e != NULL; e = n) {
			size_t s = slot(&tmp, &e->addr, e->bits);

			n = e->hnext;
			e->hnext = nb[s];
			nb[s] = e;
		}
	free(t->b);
	t->b = nb;
	t->mask = nmask;
}

static struct cs_entry *
get(struct cs_table *t, const struct wb_addr *net, int bits)
{
	struct cs_entry *e = ban_cs_table_find(t, net, bits);
	size_t s;

	if (e != NULL)
		return e;
	if (t->n >= t->max || (e = calloc(1, sizeof(*e))) == NULL) {
		t->full++;
		return NULL;
	}
	if (t->n > t->mask)
		grow(t);
	e->addr = *net;
	e->bits = (uint8_t)bits;
	s = slot(t, net, bits);
	e->hnext = t->b[s];
	t->b[s] = e;
	t->n++;
	return e;
}

/* Puts e on the queue or takes it off, as its wants say. */
static void
requeue(struct cs_table *t, struct cs_entry *e)
{
	bool work = e->want_post || e->want_del;

	if (work && !e->queued) {
		e->qnext = NULL;
		e->qprev = t->qtail;
		if (t->qtail != NULL)
			t->qtail->qnext = e;
		else
			t->qhead = e;
		t->qtail = e;
		e->queued = true;
	} else if (!work && e->queued) {
		if (e->qprev != NULL)
			e->qprev->qnext = e->qnext;
		else
			t->qhead = e->qnext;
		if (e->qnext != NULL)
			e->qnext->qprev = e->qprev;
		else
			t->qtail = e->qprev;
		e->qprev = e->qnext = NULL;
		e->queued = false;
	}
}

static void
set_post(struct cs_table *t, struct cs_entry *e, bool on)
{
	if (e->want_post != on)
		t->posts += on ? 1 : (size_t)-1;
	e->want_post = on;
}

static void
set_del(struct cs_table *t, struct cs_entry *e, bool on)
{
	if (e->want_del != on)
		t->dels += on ? 1 : (size_t)-1;
	e->want_del = on;
}

/* When the longest decision the LAPI may hold for e ends; 0: none. */
static wb_usec
live_until(const struct cs_entry *e)
{
	wb_usec u = e->delivered ? e->d_expiry : 0;

	return e->f_expiry > u ? e->f_expiry : u;
}

static bool
near(wb_usec a, wb_usec b)
{
	return a - b <= CS_SLACK && b - a <= CS_SLACK;
}

int
ban_cs_table_ban(struct cs_table *t, const struct ban *b, wb_usec now)
{
	struct wb_addr net;
	struct cs_entry *e;
	wb_usec live;

	wb_addr_mask(&net, &b->addr, ban_bits(b));
	if ((e = get(t, &net, ban_bits(b))) == NULL)
		return -1;
	live = live_until(e);
	if (e->delivered && !e->want_del && near(e->d_expiry, b->expiry)) {
		/* The LAPI holds this very decision. */
		set_post(t, e, false);
		requeue(t, e);
		return 0;
	}
	if (live > now + CS_SLACK && b->expiry + CS_SLACK < live)
		set_del(t, e, true);
	e->post = *b;
	e->post.addr = net;
	e->post.bits = (uint8_t)ban_bits(b);
	set_post(t, e, true);
	e->gen++;
	requeue(t, e);
	return 1;
}

int
ban_cs_table_unban(struct cs_table *t, const struct ban *b, wb_usec when)
{
	struct wb_addr net;
	struct cs_entry *e;

	wb_addr_mask(&net, &b->addr, ban_bits(b));
	if ((e = ban_cs_table_find(t, &net, ban_bits(b))) == NULL)
		return 0;
	set_post(t, e, false);
	if (live_until(e) > when + CS_SLACK)
		set_del(t, e, true);
	e->gen++;
	requeue(t, e);
	return e->want_del ? 1 : 0;
}

void
ban_cs_table_posted(struct cs_table *t, struct cs_entry *e, wb_usec expiry,
    uint32_t gen)
{
	if (!e->delivered || e->d_expiry < expiry)
		e->d_expiry = expiry;
	e->delivered = true;
	e->f_expiry = 0;
	if (e->want_post && (gen != 0 ? e->gen == gen :
	    !e->want_del && e->post.expiry == expiry))
		set_post(t, e, false);
	requeue(t, e);
}

void
ban_cs_table_deleted(struct cs_table *t, struct cs_entry *e, uint32_t gen)
{
	e->delivered = false;
	e->d_expiry = 0;
	if (gen == 0 || e->gen == gen)
		set_del(t, e, false);
	requeue(t, e);
}

void
ban_cs_table_refused(struct cs_table *t, struct cs_entry *e, uint32_t gen)
{
	e->f_expiry = 0;
	if (gen == 0 || e->gen == gen)
		set_post(t, e, false);
	requeue(t, e);
}

struct cs_entry *
ban_cs_table_next_del(const struct cs_table *t)
{
	struct cs_entry *e;

	for (e = t->qhead; e != NULL; e = e->qnext)
		if (e->want_del)
			return e;
	return NULL;
}

size_t
ban_cs_table_next_posts(struct cs_table *t, struct cs_entry **v, size_t max,
    wb_usec now)
{
	struct cs_entry *e, *n;
	size_t k = 0;

	for (e = t->qhead; e != NULL && k < max; e = n) {
		n = e->qnext;
		if (!e->want_post || e->want_del)
			continue;
		/* Its time is (nearly) up: the LAPI would get nothing. */
		if (e->post.expiry - now < WB_USEC_PER_SEC + WB_USEC_PER_SEC) {
			set_post(t, e, false);
			requeue(t, e);
			t->expired++;
			continue;
		}
		v[k++] = e;
	}
	return k;
}

size_t
ban_cs_table_sync(struct cs_table *t, const struct ban *bans, size_t n,
    wb_usec now, cs_rec_fn *rec, void *arg)
{
	struct cs_entry *e;
	struct wb_addr net;
	struct ban u;
	size_t i, lost = 0;

	for (i = 0; i <= t->mask; i++)
		for (e = t->b[i]; e != NULL; e = e->hnext)
			e->mark = false;
	for (i = 0; i < n; i++) {
		const struct ban *b = &bans[i];

		if (b->addr.family != AF_INET && b->addr.family != AF_INET6)
			continue;
		wb_addr_mask(&net, &b->addr, ban_bits(b));
		e = ban_cs_table_find(t, &net, ban_bits(b));
		/* Held already and nothing pending: the common restart. */
		if (e == NULL || e->want_post || e->want_del ||
		    !e->delivered || !near(e->d_expiry, b->expiry)) {
			if (ban_cs_table_ban(t, b, now) < 0) {
				lost++;
				continue;
			}
			rec(arg, CS_Q_BAN, b, 0);
			e = ban_cs_table_find(t, &net, ban_bits(b));
		}
		e->mark = true;
	}
	for (i = 0; i <= t->mask; i++)
		for (e = t->b[i]; e != NULL; e = e->hnext) {
			if (e->mark || (!e->want_post &&
			    live_until(e) <= now + CS_SLACK))
				continue;
			memset(&u, 0, sizeof(u));
			u.addr = e->addr;
			u.bits = e->bits;
			(void)ban_cs_table_unban(t, &u, now);
			rec(arg, CS_Q_UNBAN, &u, now);
		}
	return lost;
}

size_t
ban_cs_table_sweep(struct cs_table *t, wb_usec now)
{
	struct cs_entry **pp, *e;
	size_t i, freed = 0;

	for (i = 0; i <= t->mask; i++)
		for (pp = &t->b[i]; (e = *pp) != NULL; ) {
			if (e->queued || e->f_expiry != 0 ||
			    (e->delivered && e->d_expiry > now)) {
				pp = &e->hnext;
				continue;
			}
			*pp = e->hnext;
			free(e);
			t->n--;
			freed++;
		}
	return freed;
}

void
ban_cs_table_foreach(const struct cs_table *t,
    void (*fn)(void *, const struct cs_entry *), void *arg)
{
	struct cs_entry *e;
	size_t i;

	for (i = 0; i <= t->mask; i++)
		for (e = t->b[i]; e != NULL; e = e->hnext)
			fn(arg, e);
}
