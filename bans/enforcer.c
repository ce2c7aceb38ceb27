/*
 * enforcer.c - the thread between the policy's decisions and the kernel.
 *
 * The capture thread must drain the capture ring at line rate; a
 * firewall commit (a netlink transaction, or worse a libiptc table
 * rewrite) and a journal write with its fsync must never run on it. So
 * the capture thread only hands each decision over, and this thread
 * does the slow part:
 *
 *     capture thread                      enforcer thread
 *     ban_enforcer_ban()   --ring-->      take everything queued (at most
 *     ban_enforcer_unban()                batch), append its journal
 *                                         records with one write(), stage
 *                                         it in the backend, one commit;
 *                                         fdatasync at most every
 *                                         fsync_delay (grouped)
 *
 * The ring is single-producer single-consumer, lock-free: a hand-over
 * is a copy and a release store, and the consumer is woken through an
 * eventfd only when it sleeps. Under a storm the consumer finds
 * thousands of operations per wake-up and commits them as one batch;
 * alone, one ban is on its way to the kernel within microseconds.
 *
 * When the ring is full the capture thread still does not wait: the
 * operation is not queued (counted as deferred) and the enforcer is
 * owed a resync; at the next ban_enforcer_poll() with room in the ring
 * the capture thread copies the policy's bans (no sorting, no I/O) into
 * a snapshot operation, after which the enforcer writes the state anew
 * and makes the kernel hold exactly those bans. Nothing decided is lost,
 * it is only applied late. The same snapshot operation serves the
 * journal's compaction, on the enforcer's request.
 *
 * Kernel timeouts have a ceiling (backend max_timeout: ipset's is about
 * 24.8 days). A longer ban goes in with the ceiling and into a table of
 * long bans looked at every minute: one whose kernel timeout would end
 * within the margin is staged again, so it is never silently shortened.
 *
 * Several backends (a firewall, then CrowdSec) get every operation in
 * the same order, one commit per batch each; a remote one delivers on
 * its own thread.
 *
 * Durability (the rule README states): a ban's journal record is
 * written before the ban is committed to the kernel, so a kill -9 never
 * leaves a kernel ban the state does not know, nor loses one it knew;
 * the fdatasync that guards against a crash of the machine follows
 * within fsync_delay.
 *
 * Invariant: after ban_enforcer_start() only this thread touches the
 * backend and the state; the capture thread touches the policy; they
 * share the ring, a few atomics and the stats (under a mutex).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bans_int.h"

#define REARM_EVERY	(60 * WB_USEC_PER_SEC)	/* default: long bans looked at */
#define REARM_MARGIN	(86400 * WB_USEC_PER_SEC) /* re-staged this early */
/* A remote backend delivering on its own: its counters looked at. */
#define STATS_EVERY	WB_USEC_PER_SEC

enum op_kind { OP_BAN, OP_UNBAN, OP_SNAPSHOT };

struct op {
	enum op_kind	 kind;
	struct ban	 b;
	wb_usec		 when;		/* unban: when it ended */
	uint64_t	 t0;		/* hand-over, monotonic ns */
	/* OP_SNAPSHOT: v[0..nact) active, then npast history; freed here */
	struct ban	*v;
	size_t		 nact, npast;
	bool		 sync;		/* also make the kernel hold exactly */
};

struct ban_enforcer {
	struct ban_enforcer_config c;
	wb_usec		 cap;		/* smallest backend max_timeout > 0 */
	struct op	*ring;
	size_t		 mask;
	_Atomic size_t	 head;		/* next to take (consumer) */
	_Atomic size_t	 tail;		/* next free (producer) */
	_Atomic int	 sleeping;
	_Atomic int	 stop;
	_Atomic int	 want_snapshot;	/* set by the consumer */
	_Atomic uint64_t done;		/* operations finished */
	uint64_t	 handed;	/* producer: operations queued */
	bool		 owed_sync;	/* producer: the ring overflowed */
	bool		 snap_queued;	/* producer: a snapshot is on its way */
	_Atomic int	 snap_busy;	/* consumer: clear when it is done */
	int		 efd;
	pthread_t	 thread;
	bool		 running;
	/* consumer only */
	char		*jbuf;
	size_t		 jcap;
	wb_usec		 last_fsync, last_rearm, rearm_now, last_stats;
	bool		 dirty;
	bool		 remote_busy;	/* a backend has deliveries pending */
	struct ban_longs longs;		/* bans past the kernel's ceiling */
	struct ban	*tmp;		/* batch copies, capped for the kernel */
	uint64_t	*t0s;		/* their hand-over times */
	/* shared, under mu */
	pthread_mutex_t	 mu;
	struct ban_enforcer_stats st;
};

const double ban_latency_bounds[BAN_LAT_BUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static wb_usec
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/*
 * The ban as the kernel gets it: from now (never earlier than its
 * start), capped at the backend's ceiling; a capped one is remembered.
 */
static void
kernel_copy(struct ban_enforcer *e, const struct ban *b, struct ban *out,
    wb_usec now)
{
	wb_usec max = e->cap;

	/* The kernel's timeout is the time left from now. */
	*out = *b;
	if (out->start < now)
		out->start = now;
	if (out->expiry < out->start)
		out->expiry = out->start;
	if (max <= 0 || out->expiry - out->start <= max) {
		if (e->longs.n > 0)
			ban_longs_forget(&e->longs, b);
		return;
	}
	out->expiry = out->start + max;
	if (ban_longs_set(&e->longs, b, out->expiry) != 0)
		ban_log(BAN_LOG_ERR, "enforcer: out of memory: a ban past the "
		    "kernel's timeout will not be re-armed");
}

/* ---- the consumer ----------------------------------------------------- */

static void
note_latency(struct ban_enforcer *e, uint64_t t0, uint64_t now)
{
	double s = (double)(now - t0) / 1e9;
	size_t i;

	for (i = 0; i < BAN_LAT_BUCKETS && s > ban_latency_bounds[i]; i++)
		;
	e->st.lat_buckets[i]++;
	e->st.lat_sum += s;
	e->st.lat_count++;
}

/*
 * Commits what is staged: nops operations of the ring (0 for a re-arm),
 * of which nt0 with their hand-over times, for the latency histogram.
 */
/* Under mu: every backend's counters into the stats. */
static void
fetch_stats(struct ban_enforcer *e)
{
	struct ban_fw_stats fw;
	size_t i;

	e->remote_busy = false;
	for (i = 0; i < e->c.nbackends; i++) {
		e->c.backends[i]->stats(&fw);
		e->st.fw[i] = fw;
		if (fw.pending > 0)
			e->remote_busy = true;
	}
	e->last_stats = wall_us();
}

/*
 * A remote backend delivers after its commit returned: while it has
 * deliveries pending, `wireban status` must see them progress (and
 * its last error) without waiting for the next ban.
 */
static void
refresh_stats(struct ban_enforcer *e, wb_usec now)
{
	if (!e->remote_busy || now - e->last_stats < STATS_EVERY)
		return;
	pthread_mutex_lock(&e->mu);
	fetch_stats(e);
	pthread_mutex_unlock(&e->mu);
}

static void
commit(struct ban_enforcer *e, size_t nops, const uint64_t *t0s, size_t nt0)
{
	uint64_t now;
	size_t i;
	int rc;

	for (i = rc = 0; i < e->c.nbackends; i++)
		if (e->c.backends[i]->commit() != 0)
			rc = -1;
	now = mono_ns();
	pthread_mutex_lock(&e->mu);
	fetch_stats(e);
	e->st.batches++;
	if (nt0 > e->st.largest)
		e->st.largest = nt0;
	e->st.applied += nops;
	if (rc != 0)
		e->st.commit_errors++;
	for (i = 0; i < nt0; i++)
		note_latency(e, t0s[i], now);
	pthread_mutex_unlock(&e->mu);
}

static void
journal_error(struct ban_enforcer *e)
{
	pthread_mutex_lock(&e->mu);
	e->st.journal_errors++;
	pthread_mutex_unlock(&e->mu);
}

/* OP_SNAPSHOT: compaction, and with sync the kernel made to match. */
static void
snapshot(struct ban_enforcer *e, struct op *o, wb_usec now)
{
	size_t i;

	if (e->c.state != NULL) {
		if (ban_state_compact(e->c.state, o->v, o->nact, o->v + o->nact,
		    o->npast) != 0)
			journal_error(e);
		else {
			pthread_mutex_lock(&e->mu);
			e->st.compactions++;
			pthread_mutex_unlock(&e->mu);
		}
		e->dirty = false;
		e->last_fsync = now;
	}
	if (o->sync) {
		ban_longs_clear(&e->longs);
		for (i = 0; i < o->nact; i++)
			kernel_copy(e, &o->v[i], &o->v[i], now);
		for (i = 0; i < e->c.nbackends; i++)
			if (e->c.backends[i]->sync(o->v, o->nact) != 0) {
				pthread_mutex_lock(&e->mu);
				e->st.commit_errors++;
				pthread_mutex_unlock(&e->mu);
			}
		pthread_mutex_lock(&e->mu);
		e->st.resyncs++;
		fetch_stats(e);
		pthread_mutex_unlock(&e->mu);
	}
	free(o->v);
	o->v = NULL;
	atomic_store_explicit(&e->want_snapshot, 0, memory_order_relaxed);
	atomic_store_explicit(&e->snap_busy, 0, memory_order_release);
}

/*
 * Takes at most batch operations from the ring and applies them: the
 * journal first (one write), then the backend (one commit). A snapshot
 * operation ends the batch. Returns how many were taken.
 */
static size_t
run_batch(struct ban_enforcer *e)
{
	size_t head = atomic_load_explicit(&e->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&e->tail, memory_order_acquire);
	size_t n = 0, jlen = 0, jrec = 0, i, k, nb = 0;
	wb_usec now = wall_us();
	uint64_t *t0s = e->t0s;
	struct op *o;

	if (head == tail)
		return 0;
	/* The records, in order, up to the first snapshot. */
	for (i = head; i != tail && n < e->c.batch; i++, n++) {
		o = &e->ring[i & e->mask];
		if (o->kind == OP_SNAPSHOT)
			break;
		if (e->c.state == NULL)
			continue;
		jlen += o->kind == OP_BAN ?
		    ban_state_fmt_ban(e->jbuf + jlen, &o->b) :
		    ban_state_fmt_unban(e->jbuf + jlen, &o->b, o->when);
		jrec++;
	}
	if (jlen > 0) {
		if (ban_state_append(e->c.state, e->jbuf, jlen, jrec) != 0)
			journal_error(e);
		e->dirty = true;
	}
	for (i = 0; i < n; i++) {
		o = &e->ring[(head + i) & e->mask];
		if (o->kind == OP_BAN) {
			kernel_copy(e, &o->b, &e->tmp[nb], now);
			for (k = 0; k < e->c.nbackends; k++)
				(void)e->c.backends[k]->ban(&e->tmp[nb]);
		} else {
			if (e->longs.n > 0)
				ban_longs_forget(&e->longs, &o->b);
			for (k = 0; k < e->c.nbackends; k++)
				(void)e->c.backends[k]->unban(&o->b);
		}
		t0s[nb++] = o->t0;
	}
	if (n > 0)
		commit(e, n, t0s, nb);
	if (n < e->c.batch && head + n != tail &&
	    e->ring[(head + n) & e->mask].kind == OP_SNAPSHOT) {
		snapshot(e, &e->ring[(head + n) & e->mask], now);
		n++;
	}
	atomic_store_explicit(&e->head, head + n, memory_order_release);
	atomic_fetch_add_explicit(&e->done, n, memory_order_release);
	if (e->c.state != NULL && ban_state_wants_compaction(e->c.state))
		atomic_store_explicit(&e->want_snapshot, 1,
		    memory_order_relaxed);
	return n;
}

/* Stages again every long ban whose kernel timeout ends soon. */
static void
rearm_one(void *arg, const struct ban *b)
{
	struct ban_enforcer *e = arg;
	struct ban k;
	size_t j;

	/* kernel_copy updates or forgets its entry */
	kernel_copy(e, b, &k, e->rearm_now);
	/* Only where the kernel has a ceiling. */
	for (j = 0; j < e->c.nbackends; j++)
		if (e->c.backends[j]->max_timeout > 0)
			(void)e->c.backends[j]->ban(&k);
}

static void
rearm(struct ban_enforcer *e, wb_usec now)
{
	wb_usec max = e->cap;
	wb_usec margin = max / 4 < REARM_MARGIN ? max / 4 : REARM_MARGIN;
	size_t count;

	e->last_rearm = e->rearm_now = now;
	count = ban_longs_due(&e->longs, now + margin, rearm_one, e);
	if (count > 0) {
		commit(e, 0, NULL, 0);
		pthread_mutex_lock(&e->mu);
		e->st.rearmed += count;
		pthread_mutex_unlock(&e->mu);
	}
}

static void
maybe_fsync(struct ban_enforcer *e, wb_usec now, bool force)
{
	if (!e->dirty || e->c.state == NULL)
		return;
	if (!force && now - e->last_fsync < e->c.fsync_delay)
		return;
	if (ban_state_flush(e->c.state) != 0)
		journal_error(e);
	e->dirty = false;
	e->last_fsync = now;
}

/* How long the consumer may sleep, in ms (-1: until woken). */
static int
sleep_ms(struct ban_enforcer *e, wb_usec now)
{
	wb_usec until = -1, t;

	if (e->dirty)
		until = e->last_fsync + e->c.fsync_delay;
	if (e->longs.n > 0) {
		t = e->last_rearm + e->c.rearm_every;
		if (until < 0 || t < until)
			until = t;
	}
	if (e->remote_busy) {
		t = e->last_stats + STATS_EVERY;
		if (until < 0 || t < until)
			until = t;
	}
	if (until < 0)
		return -1;
	t = (until - now) / 1000 + 1;
	return t < 0 ? 0 : t > 60000 ? 60000 : (int)t;
}

static void *
consumer(void *arg)
{
	struct ban_enforcer *e = arg;
	struct pollfd pfd = { .fd = e->efd, .events = POLLIN };
	uint64_t v;
	wb_usec now;

	e->last_rearm = e->last_fsync = wall_us();
	for (;;) {
		while (run_batch(e) > 0)
			maybe_fsync(e, wall_us(), false);
		now = wall_us();
		maybe_fsync(e, now, false);
		refresh_stats(e, now);
		if (e->longs.n > 0 && now - e->last_rearm >= e->c.rearm_every)
			rearm(e, now);
		if (atomic_load(&e->stop)) {
			if (atomic_load_explicit(&e->head, memory_order_relaxed)
			    != atomic_load(&e->tail))
				continue;
			break;
		}
		atomic_store(&e->sleeping, 1);
		/* A hand-over between the last look and the flag is seen. */
		if (atomic_load(&e->tail) !=
		    atomic_load_explicit(&e->head, memory_order_relaxed) ||
		    atomic_load(&e->stop)) {
			atomic_store(&e->sleeping, 0);
			continue;
		}
		(void)poll(&pfd, 1, sleep_ms(e, now));
		atomic_store(&e->sleeping, 0);
		if (pfd.revents & POLLIN)
			(void)!read(e->efd, &v, sizeof(v));
	}
	maybe_fsync(e, wall_us(), true);
	return NULL;
}

/* ---- the producer ----------------------------------------------------- */

static void
wake(struct ban_enforcer *e)
{
	uint64_t one = 1;

	if (atomic_load(&e->sleeping))
		(void)!write(e->efd, &one, sizeof(one));
}

/* Queues o; false when the ring is full. */
static bool
push(struct ban_enforcer *e, const struct op *o)
{
	size_t tail = atomic_load_explicit(&e->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&e->head, memory_order_acquire);

	if (tail - head > e->mask)
		return false;
	e->ring[tail & e->mask] = *o;
	atomic_store_explicit(&e->tail, tail + 1, memory_order_release);
	e->handed++;
	wake(e);
	return true;
}

static int
hand_over(struct ban_enforcer *e, enum op_kind k, const struct ban *b,
    wb_usec when)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = k;
	o.b = *b;
	o.when = when;
	o.t0 = mono_ns();
	if (!e->owed_sync && push(e, &o))
		return 0;
	/* Full: the policy holds it; a resync will bring it in. */
	e->owed_sync = true;
	pthread_mutex_lock(&e->mu);
	e->st.deferred++;
	pthread_mutex_unlock(&e->mu);
	return 1;
}

int
ban_enforcer_ban(struct ban_enforcer *e, const struct ban *b)
{
	return hand_over(e, OP_BAN, b, 0);
}

int
ban_enforcer_unban(struct ban_enforcer *e, const struct ban *b, wb_usec when)
{
	return hand_over(e, OP_UNBAN, b, when);
}

struct gather {
	struct ban	*v;
	size_t		 n, max;
};

static void
gather_one(void *arg, const struct ban *b)
{
	struct gather *g = arg;

	if (g->n < g->max)
		g->v[g->n++] = *b;
}

/* A snapshot of p as one operation; false when it cannot be queued yet. */
static bool
push_snapshot(struct ban_enforcer *e, const struct ban_policy *p, bool sync)
{
	struct ban_policy_stats ps;
	struct gather g = { NULL, 0, 0 };
	struct op o;

	if (atomic_load_explicit(&e->snap_busy, memory_order_acquire))
		return false;
	ban_policy_stats(p, &ps);
	g.max = (size_t)ps.tracked;
	if (g.max > 0 && (g.v = malloc(g.max * sizeof(*g.v))) == NULL) {
		ban_log(BAN_LOG_ERR, "enforcer: out of memory for a snapshot");
		return false;
	}
	(void)ban_policy_foreach(p, BAN_ACTIVE | BAN_UNSORTED, gather_one, &g);
	memset(&o, 0, sizeof(o));
	o.kind = OP_SNAPSHOT;
	o.v = g.v;
	o.nact = g.n;
	(void)ban_policy_foreach(p, BAN_HISTORY | BAN_UNSORTED, gather_one, &g);
	o.npast = g.n - o.nact;
	o.sync = sync;
	o.t0 = mono_ns();
	atomic_store_explicit(&e->snap_busy, 1, memory_order_relaxed);
	if (!push(e, &o)) {
		atomic_store_explicit(&e->snap_busy, 0, memory_order_relaxed);
		free(g.v);
		return false;
	}
	return true;
}

void
ban_enforcer_poll(struct ban_enforcer *e, const struct ban_policy *p)
{
	size_t tail = atomic_load_explicit(&e->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&e->head, memory_order_acquire);

	/* A resync waits for half the ring: it is cheap, not urgent. */
	if (e->owed_sync) {
		if (tail - head <= e->mask / 2 && push_snapshot(e, p, true))
			e->owed_sync = false;
		return;
	}
	if (atomic_load_explicit(&e->want_snapshot, memory_order_relaxed))
		(void)push_snapshot(e, p, false);
}

int
ban_enforcer_drain(struct ban_enforcer *e, const struct ban_policy *p,
    int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	struct timespec nap = { 0, 1000000 };

	for (;;) {
		if (e->owed_sync)
			ban_enforcer_poll(e, p);
		if (!e->owed_sync && atomic_load_explicit(&e->done,
		    memory_order_acquire) == e->handed)
			return 0;
		if (mono_ns() >= deadline)
			return -1;
		wake(e);
		nanosleep(&nap, NULL);
	}
}

void
ban_enforcer_stats(struct ban_enforcer *e, struct ban_enforcer_stats *st)
{
	size_t tail = atomic_load_explicit(&e->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&e->head, memory_order_acquire);

	pthread_mutex_lock(&e->mu);
	*st = e->st;
	pthread_mutex_unlock(&e->mu);
	st->queued = e->handed;
	st->depth = tail - head;
	st->pending = (size_t)(e->handed - atomic_load_explicit(&e->done,
	    memory_order_acquire)) + (e->owed_sync ? 1 : 0);
}

struct ban_enforcer *
ban_enforcer_start(const struct ban_enforcer_config *c, char *err,
    size_t errlen)
{
	struct ban_enforcer *e;
	size_t cap = 64;

	size_t i;

	if (c->nbackends < 1 || c->nbackends > BAN_BACKENDS_MAX ||
	    c->queue < 1 || c->queue > (1u << 24) || c->batch < 1 ||
	    c->batch > c->queue || c->fsync_delay < 0) {
		snprintf(err, errlen, "enforcer: bad configuration");
		return NULL;
	}
	while (cap < c->queue)
		cap <<= 1;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto nomem;
	e->c = *c;
	for (i = 0; i < c->nbackends; i++)
		if (c->backends[i]->max_timeout > 0 && (e->cap == 0 ||
		    c->backends[i]->max_timeout < e->cap))
			e->cap = c->backends[i]->max_timeout;
	if (e->c.rearm_every <= 0)
		e->c.rearm_every = REARM_EVERY;
	e->mask = cap - 1;
	e->efd = -1;
	/* What a backend brought from before (a spool) is shown soon. */
	e->remote_busy = true;
	pthread_mutex_init(&e->mu, NULL);
	e->jcap = c->batch * BAN_STATE_REC_MAX;
	if ((e->ring = calloc(cap, sizeof(*e->ring))) == NULL ||
	    (e->jbuf = malloc(e->jcap)) == NULL ||
	    (e->tmp = calloc(c->batch, sizeof(*e->tmp))) == NULL ||
	    (e->t0s = calloc(c->batch, sizeof(*e->t0s))) == NULL)
		goto nomem;
	if ((e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "enforcer: eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((errno = pthread_create(&e->thread, NULL, consumer, e)) != 0) {
		snprintf(err, errlen, "enforcer: thread: %s", strerror(errno));
		goto fail;
	}
	e->running = true;
	return e;
nomem:
	snprintf(err, errlen, "enforcer: out of memory");
fail:
	ban_enforcer_stop(e, NULL);
	return NULL;
}

void
ban_enforcer_stop(struct ban_enforcer *e, const struct ban_policy *p)
{
	size_t i;

	if (e == NULL)
		return;
	if (e->running) {
		if (p != NULL)
			(void)ban_enforcer_drain(e, p, 10000);
		atomic_store(&e->stop, 1);
		atomic_store(&e->sleeping, 1);
		wake(e);
		pthread_join(e->thread, NULL);
	}
	/* Snapshots never taken own their copies. */
	for (i = atomic_load(&e->head); i != atomic_load(&e->tail); i++)
		free(e->ring[i & e->mask].v);
	ban_longs_clear(&e->longs);
	if (e->efd >= 0)
		close(e->efd);
	pthread_mutex_destroy(&e->mu);
	free(e->ring);
	free(e->jbuf);
	free(e->tmp);
	free(e->t0s);
	free(e);
}
