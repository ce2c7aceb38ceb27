/*
 * reconcile.c - the kernel made to hold exactly the policy's bans, at
 * the start of the daemon: bans found expired are ended (and said), the
 * rest go to the backend's sync() with the time they have left.
 */
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"

struct reconcile {
	const struct ban_backend *b;
	ban_cb		*on_unban;
	void		*arg;
	struct ban	*v;
	size_t		 n, max;
	wb_usec		 now;
	int		 err;
};

static void
reconcile_unban(void *arg, const struct ban *b)
{
	struct reconcile *r = arg;

	if (r->b->unban(b) != 0)
		r->err = -1;
	if (r->on_unban != NULL)
		r->on_unban(r->arg, b);
}

static void
reconcile_collect(void *arg, const struct ban *b)
{
	struct reconcile *r = arg;

	if (r->n < r->max) {
		r->v[r->n] = *b;
		if (r->v[r->n].start < r->now)
			r->v[r->n].start = r->now;
		r->n++;
	}
}

int
ban_reconcile(struct ban_policy *p, const struct ban_backend *b,
    wb_usec now, ban_cb *on_unban, void *arg)
{
	struct reconcile r;
	struct ban_policy_stats st;
	size_t expired;

	memset(&r, 0, sizeof(r));
	r.b = b;
	r.on_unban = on_unban;
	r.arg = arg;
	r.now = now;
	expired = ban_policy_expire(p, now, reconcile_unban, &r);
	if (expired > 0 && b->commit() != 0)
		r.err = -1;
	ban_policy_stats(p, &st);
	r.max = (size_t)st.banned;
	if (r.max > 0 && (r.v = calloc(r.max, sizeof(*r.v))) == NULL) {
		ban_log(BAN_LOG_ERR, "reconcile: out of memory");
		return -1;
	}
	if (ban_policy_foreach(p, BAN_ACTIVE, reconcile_collect, &r) < 0)
		r.err = -1;
	else if (b->sync(r.v, r.n) != 0)
		r.err = -1;
	free(r.v);
	ban_log(BAN_LOG_INFO, "reconcile: %zu bans restored, %zu expired, "
	    "backend %s%s", r.n, expired, b->name,
	    r.err != 0 ? " reported errors" : "");
	return r.err;
}
