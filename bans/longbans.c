/*
 * longbans.c - the bans longer than a kernel's ceiling on element
 * timeouts (ipset: about 24.8 days), which the enforcer gives that
 * ceiling and stages again before it runs out.
 *
 * A small chained hash keyed on the prefix: entries come and go with
 * bans (set on every staging of a long ban, forgotten on its unban or
 * when what is left fits under the ceiling), and the periodic look for
 * the ones due walks them all, which is fine for what is rare: bans
 * longer than weeks.
 */
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"

struct ban_long {
	struct ban_long	*next;
	struct ban	 b;		/* with its real expiry */
	wb_usec		 armed;		/* when the kernel would lift it */
};

static size_t
slot(const struct ban *b)
{
	uint32_t h = ban_crc32(b->addr.a, 16) ^ b->bits ^
	    (uint32_t)b->addr.family << 8;

	return h % BAN_LONG_BUCKETS;
}

static struct ban_long **
find(struct ban_longs *l, const struct ban *b)
{
	struct ban_long **pp;

	for (pp = &l->b[slot(b)]; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->b.bits == b->bits &&
		    wb_addr_eq(&(*pp)->b.addr, &b->addr))
			return pp;
	return pp;
}

int
ban_longs_set(struct ban_longs *l, const struct ban *b, wb_usec armed)
{
	struct ban_long **pp = find(l, b), *e = *pp;

	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return -1;
		*pp = e;
		l->n++;
	}
	e->b = *b;
	e->armed = armed;
	return 0;
}

void
ban_longs_forget(struct ban_longs *l, const struct ban *b)
{
	struct ban_long **pp = find(l, b), *e = *pp;

	if (e != NULL) {
		*pp = e->next;
		free(e);
		l->n--;
	}
}

size_t
ban_longs_due(struct ban_longs *l, wb_usec before,
    void (*fn)(void *, const struct ban *), void *arg)
{
	struct ban_long *e, *next;
	size_t i, n = 0;
	struct ban b;

	for (i = 0; i < BAN_LONG_BUCKETS; i++)
		for (e = l->b[i]; e != NULL; e = next) {
			next = e->next;
			if (e->armed > before)
				continue;
			/* fn may set or forget e: it gets a copy */
			b = e->b;
			fn(arg, &b);
			n++;
		}
	return n;
}

void
ban_longs_clear(struct ban_longs *l)
{
	struct ban_long *e, *next;
	size_t i;

	for (i = 0; i < BAN_LONG_BUCKETS; i++) {
		for (e = l->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		l->b[i] = NULL;
	}
	l->n = 0;
}
