/*
 * table.c - where the policy keeps its addresses: the hash table (keyed
 * SipHash), the offenders and history lists in order of last touch, and
 * the heap of active bans ordered by expiry. policy.c decides; this file
 * only stores, finds and evicts.
 *
 * An entry's key is a prefix, ban.addr/ban.bits.
 *
 * Invariant: tracked <= max_tracked; the oldest never-banned entry is
 * evicted first, then the oldest past offender; an active ban never.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"
#include "policy_int.h"

static uint64_t	 siphash(uint64_t, uint64_t, const uint8_t *, size_t);
static struct entry **bucket(const struct ban_policy *,
		    const struct wb_addr *, int);
static bool	 heap_less(const struct entry *, const struct entry *);
static void	 heap_set(struct ban_policy *, size_t, struct entry *);
static void	 heap_up(struct ban_policy *, size_t);
static void	 heap_down(struct ban_policy *, size_t);

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/* SipHash-2-4 (Aumasson and Bernstein), written from the paper. */
static uint64_t
siphash(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, j, full = len - len % 8;

	for (i = 0; i < full; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (j = 0; j < 4; j++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

int
ban_addr_cmp(const struct wb_addr *x, const struct wb_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->a, y->a, 16);
}

static struct entry **
bucket(const struct ban_policy *p, const struct wb_addr *a, int bits)
{
	uint8_t key[18];

	key[0] = a->family;
	memcpy(key + 1, a->a, 16);
	key[17] = (uint8_t)bits;
	return &p->buckets[siphash(p->k0, p->k1, key, sizeof(key)) &
	    (p->nbuckets - 1)];
}

/* The entry of exactly the prefix a/bits (a normalized), or NULL. */
struct entry *
ban_tab_find(const struct ban_policy *p, const struct wb_addr *a, int bits)
{
	struct entry *e;

	for (e = *bucket(p, a, bits); e != NULL; e = e->hnext)
		if (e->ban.bits == bits && wb_addr_eq(&e->ban.addr, a))
			return e;
	return NULL;
}

void
ban_tab_unlist(struct ban_policy *p, struct entry *e)
{
	struct list *l;

	if (e->list == L_NONE)
		return;
	l = &p->lists[e->list];
	TAILQ_REMOVE(&l->q, e, link);
	e->list = L_NONE;
	l->n--;
}

/* Puts a non-banned entry at the young end of the list it belongs on. */
void
ban_tab_list(struct ban_policy *p, struct entry *e)
{
	struct list *l;

	ban_tab_unlist(p, e);
	e->list = e->ban.count > 0 ? L_HISTORY : L_OFFENDERS;
	l = &p->lists[e->list];
	TAILQ_INSERT_TAIL(&l->q, e, link);
	l->n++;
}

/*
 * A new entry for a (normalized), evicting when the table is full.
 * Returns NULL with errno ENOSPC (every entry is an active ban) or
 * ENOMEM.
 */
struct entry *
ban_tab_new(struct ban_policy *p, const struct wb_addr *a, int bits)
{
	struct entry *e, **b;

	if (p->st.tracked >= p->c.max_tracked) {
		struct entry *victim = TAILQ_FIRST(&p->lists[L_OFFENDERS].q);

		if (p->st.full++ == 0)
			ban_log(BAN_LOG_WARNING, "policy: max_tracked (%zu) "
			    "reached: the oldest offenders, then the oldest "
			    "ban history, are forgotten to make room; active "
			    "bans never are (said once)", p->c.max_tracked);
		if (victim == NULL)
			victim = TAILQ_FIRST(&p->lists[L_HISTORY].q);
		if (victim == NULL) {
			errno = ENOSPC;
			return NULL;
		}
		ban_tab_free(p, victim);
		p->st.evicted++;
	}
	e = calloc(1, sizeof(*e) +
	    (size_t)p->c.maxretry * sizeof(struct offence));
	if (e == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	e->ban.addr = *a;
	e->ban.bits = (uint8_t)bits;
	b = bucket(p, a, bits);
	e->hnext = *b;
	*b = e;
	p->st.tracked++;
	ban_tab_list(p, e);
	return e;
}

/* Unlinks and frees a non-banned entry. */
void
ban_tab_free(struct ban_policy *p, struct entry *e)
{
	struct entry **pp;

	for (pp = bucket(p, &e->ban.addr, e->ban.bits); *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	ban_tab_unlist(p, e);
	p->st.tracked--;
	free(e);
}

static bool
heap_less(const struct entry *x, const struct entry *y)
{
	int c;

	if (x->ban.expiry != y->ban.expiry)
		return x->ban.expiry < y->ban.expiry;
	if ((c = ban_addr_cmp(&x->ban.addr, &y->ban.addr)) != 0)
		return c < 0;
	return x->ban.bits < y->ban.bits;
}

static void
heap_set(struct ban_policy *p, size_t i, struct entry *e)
{
	p->heap[i] = e;
	e->hidx = i;
}

static void
heap_up(struct ban_policy *p, size_t i)
{
	struct entry *e = p->heap[i];

	while (i > 0 && heap_less(e, p->heap[(i - 1) / 2])) {
		heap_set(p, i, p->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(p, i, e);
}

static void
heap_down(struct ban_policy *p, size_t i)
{
	struct entry *e = p->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= p->nheap)
			break;
		if (c + 1 < p->nheap && heap_less(p->heap[c + 1], p->heap[c]))
			c++;
		if (!heap_less(p->heap[c], e))
			break;
		heap_set(p, i, p->heap[c]);
		i = c;
	}
	heap_set(p, i, e);
}

/* Room for one more ban, so that starting a ban cannot fail halfway. */
int
ban_heap_reserve(struct ban_policy *p)
{
	struct entry **n;
	size_t cap;

	if (p->nheap < p->heapcap)
		return 0;
	cap = p->heapcap == 0 ? 64 : p->heapcap * 2;
	n = realloc(p->heap, cap * sizeof(*n));
	if (n == NULL)
		return -1;
	p->heap = n;
	p->heapcap = cap;
	return 0;
}

void
ban_heap_push(struct ban_policy *p, struct entry *e)
{
	heap_set(p, p->nheap++, e);
	heap_up(p, e->hidx);
}

void
ban_heap_del(struct ban_policy *p, struct entry *e)
{
	size_t i = e->hidx;
	struct entry *last = p->heap[--p->nheap];

	if (i < p->nheap) {
		heap_set(p, i, last);
		heap_up(p, i);
		heap_down(p, last->hidx);
	}
}

/* e's expiry changed: put it back in order. */
void
ban_heap_fix(struct ban_policy *p, struct entry *e)
{
	heap_up(p, e->hidx);
	heap_down(p, e->hidx);
}
