/*
 * fw_stage.c - what the set backends (nftables, ipset) share: the check
 * of a prefix, the list of changes staged between two commits, and a
 * bounded text buffer.
 *
 * A commit applies the staged changes coalesced: the last change of a
 * prefix wins (ban, unban, ban of one prefix in one batch is one ban),
 * and the changes come sorted by family, bits and address, so that each
 * set's changes are contiguous and go to the kernel as one command per
 * set, not one per change.
 *
 * Invariant: a stage never holds more than BAN_STAGE_MAX changes, a
 * buffer never more than its max bytes (and is always NUL-terminated
 * once it holds anything).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"

static int	 op_cmp(const void *, const void *);

int
ban_prefix_check(const char *who, const struct ban *b, struct wb_addr *net)
{
	char buf[WB_ADDR_STRLEN];

	if (b->addr.family != AF_INET && b->addr.family != AF_INET6) {
		ban_log(BAN_LOG_ERR, "%s: ban without an address", who);
		return -1;
	}
	if (ban_bits(b) > wb_addr_bits(&b->addr)) {
		ban_log(BAN_LOG_ERR, "%s: %s/%d: prefix length out of 1..%d",
		    who, wb_addr_str(&b->addr, buf), ban_bits(b),
		    wb_addr_bits(&b->addr));
		return -1;
	}
	wb_addr_mask(net, &b->addr, ban_bits(b));
	return 0;
}

int
ban_stage_push(struct ban_stage *s, const char *who, bool ban,
    const struct ban *b)
{
	struct ban_op *o;
	struct wb_addr net;

	if (ban_prefix_check(who, b, &net) != 0)
		return -1;
	if (s->n >= BAN_STAGE_MAX) {
		ban_log(BAN_LOG_ERR, "%s: more than %d changes staged", who,
		    BAN_STAGE_MAX);
		return -1;
	}
	if (s->n == s->max) {
		size_t max = s->max == 0 ? 64 : s->max * 2;
		struct ban_op *v;

		if (max > BAN_STAGE_MAX)
			max = BAN_STAGE_MAX;
		if ((v = realloc(s->v, max * sizeof(*v))) == NULL) {
			ban_log(BAN_LOG_ERR, "%s: out of memory", who);
			return -1;
		}
		s->v = v;
		s->max = max;
	}
	o = &s->v[s->n++];
	memset(o, 0, sizeof(*o));
	o->addr = net;
	o->bits = (uint8_t)ban_bits(b);
	o->ban = ban;
	o->duration = ban && b->expiry > b->start ? b->expiry - b->start : 0;
	o->seq = s->seq++;
	return s->n >= BAN_STAGE_MAX ? 1 : 0;
}

static int
op_cmp(const void *x, const void *y)
{
	const struct ban_op *a = x, *b = y;
	int c;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	if (a->bits != b->bits)
		return a->bits < b->bits ? -1 : 1;
	if ((c = memcmp(a->addr.a, b->addr.a, sizeof(a->addr.a))) != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void
ban_stage_coalesce(struct ban_stage *s)
{
	size_t i, n = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), op_cmp);
	for (i = 0; i < s->n; i++) {
		const struct ban_op *o = &s->v[i];

		/* Of a run of one prefix, keep the last (highest seq). */
		if (i + 1 < s->n && o->addr.family == o[1].addr.family &&
		    o->bits == o[1].bits && memcmp(o->addr.a, o[1].addr.a,
		    sizeof(o->addr.a)) == 0)
			continue;
		s->v[n++] = *o;
	}
	s->n = n;
}

void
ban_stage_clear(struct ban_stage *s)
{
	s->n = 0;
	s->seq = 0;
}

void
ban_stage_free(struct ban_stage *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- buffer ------------------------------------------------------------ */

void
ban_buf_init(struct ban_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
ban_buf_reset(struct ban_buf *b)
{
	b->len = 0;
	b->over = false;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
ban_buf_free(struct ban_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->over = false;
}

int
ban_buf_printf(struct ban_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (b->over)
		return -1;
	for (;;) {
		room = b->cap - b->len;
		va_start(ap, fmt);
		n = b->p != NULL ? vsnprintf(b->p + b->len, room, fmt, ap) :
		    vsnprintf(NULL, 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			break;
		if (b->p != NULL && (size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		if (b->len + (size_t)n + 1 > b->max)
			break;
		{
			size_t cap = b->cap == 0 ? 4096 : b->cap;
			char *p;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			if (cap > b->max)
				cap = b->max;
			if ((p = realloc(b->p, cap)) == NULL)
				break;
			b->p = p;
			b->cap = cap;
			if (b->len == 0)
				b->p[0] = '\0';
		}
	}
	/* Cut back to the last whole append: the text stays well-formed. */
	if (b->p != NULL)
		b->p[b->len] = '\0';
	b->over = true;
	return -1;
}
