/*
 * conn.c - the connections wireban follows: their table, their idle
 * timeout, and who goes when the table is full.
 *
 * libnids has no idle timeout (a silent client's stream would live until
 * evicted) and, when full, evicts the oldest stream, whatever it is
 * doing. Neither happens here: libnids' table is sized above max_streams
 * (reasm.c) and only ever holds the connections listed here, so we
 * choose. Each connection sits on one of two lists ordered by its last
 * packet (packet time), least recent first: lru[1] holds the busy ones
 * (the caller marked them waiting for a reply, sniff_conn_set_busy),
 * lru[0] the rest. Expiring is looking at two heads; making room evicts
 * the head of lru[0], or of lru[1] when every connection is busy: O(1).
 * A connection leaves its list exactly once, through sniff_cx_end(),
 * which calls on_close and frees it.
 *
 * Every packet of a followed connection counts as activity, pure ACKs
 * too, so each packet looks its connection up: in a table of our own,
 * keyed on addresses and ports with a hash that is the same both ways,
 * because libnids' lookup (a keyed permutation per byte, twice for the
 * two orientations) cost 15% of a replay.
 *
 * Invariant, for libnids' own flow timeout (which frees a stream without
 * telling anyone when its client sends a new SYN on the same addresses
 * and ports): a followed stream's ts is the second of our last activity,
 * and reasm.c sets that timeout above ours, so we always expire a
 * connection before libnids could forget it under us (and tcp.c never
 * gives libnids a SYN of a followed connection anyway).
 */
#include <stdlib.h>
#include <string.h>

#include <nids.h>

#include "internal.h"

static void	 unlink_cx(struct sniff *, struct sniff_cx *);
static void	 append_cx(struct sniff *, struct sniff_cx *);
static void	 insert_cx(struct sniff *, struct sniff_cx *);
static void	 release_list(struct sniff_lru *, wb_usec);
static struct sniff_cx *oldest(struct sniff *);

static uint64_t	 last_id;	/* ids stay unique across sniffers */

/* Idle time after which a connection's reassembly buffers are freed. */
#define RELEASE_IDLE	(WB_USEC_PER_SEC / 2)

/*
 * Symmetric in the two ends (xor), so one lookup serves both ways; the
 * multiplications spread it. Not keyed: a chain an attacker lengthens
 * costs only the packets of connections that completed a handshake
 * (gate.c), there are at most max_streams of those, and IPv6 ones have
 * addresses we chose (map6.c).
 */
static uint32_t
cx_hash(uint32_t a, uint32_t b, uint16_t pa, uint16_t pb)
{
	uint64_t h = (uint64_t)(a ^ b) * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)(pa ^ pb) * 0xc2b2ae3d27d4eb4fULL;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static int
table_init(struct sniff *s)
{
	size_t n = 1024;

	while (n < (size_t)s->cfg.max_streams && n < ((size_t)1 << 24))
		n <<= 1;
	if ((s->htab = calloc(n, sizeof(*s->htab))) == NULL)
		return -1;
	s->hmask = n - 1;
	return 0;
}

void
sniff_cx_free_table(struct sniff *s)
{
	free(s->htab);
	s->htab = NULL;
	s->hmask = 0;
}

static void
table_remove(struct sniff *s, struct sniff_cx *x)
{
	struct sniff_cx **pp;

	if (s->htab == NULL)
		return;
	for (pp = &s->htab[x->hash & s->hmask]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == x) {
			*pp = x->hnext;
			return;
		}
}

/* The connection a packet (either way) belongs to, or NULL. */
struct sniff_cx *
sniff_cx_find(struct sniff *s, uint32_t a, uint32_t b, uint16_t sport,
    uint16_t dport)
{
	struct sniff_cx *x;
	uint32_t h;

	if (s->htab == NULL)
		return NULL;
	h = cx_hash(a, b, sport, dport);
	for (x = s->htab[h & s->hmask]; x != NULL; x = x->hnext) {
		if (x->hash != h)
			continue;
		if ((x->cip == a && x->sip == b &&
		    x->pub.client_port == sport &&
		    x->pub.server_port == dport) ||
		    (x->cip == b && x->sip == a &&
		    x->pub.client_port == dport &&
		    x->pub.server_port == sport))
			return x;
	}
	return NULL;
}

static void
unlink_cx(struct sniff *s, struct sniff_cx *x)
{
	struct sniff_lru *l = &s->lru[x->busy];

	if (l->rel == x)
		l->rel = x->next;
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		l->head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = NULL;
}

static void
append_cx(struct sniff *s, struct sniff_cx *x)
{
	struct sniff_lru *l = &s->lru[x->busy];

	x->prev = l->tail;
	x->next = NULL;
	if (l->tail != NULL)
		l->tail->next = x;
	else
		l->head = x;
	l->tail = x;
	if (l->rel == NULL)
		l->rel = x;	/* active again: its buffers may fill */
}

/*
 * Into its list at its place by x->last: from the tail back, so O(1)
 * when x was just active (as it is when a handler marks it busy).
 */
static void
insert_cx(struct sniff *s, struct sniff_cx *x)
{
	struct sniff_lru *l = &s->lru[x->busy];
	struct sniff_cx *p;

	for (p = l->tail; p != NULL && p->last > x->last; p = p->prev)
		;
	if (p == l->tail) {
		append_cx(s, x);
		return;
	}
	x->prev = p;
	x->next = p != NULL ? p->next : l->head;
	x->next->prev = x;
	if (p != NULL)
		p->next = x;
	else
		l->head = x;
	/* Everything before rel was released; x may not be. What follows x
	 * is more recent than x: rel lies after x exactly when it is. */
	if (l->rel == NULL || l->rel->last > x->last)
		l->rel = x;
}

/* Returns the new connection (freed by sniff_cx_end), or NULL. */
struct sniff_cx *
sniff_cx_new(struct sniff *s, struct tcp_stream *ts, bool v6)
{
	struct sniff_cx *x;
	const uint8_t *c6, *s6;

	if ((s->htab == NULL && table_init(s) < 0) ||
	    (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->pub.id = ++last_id;
	x->s = s;
	/* libnids' tuple: the SYN's source is the client; addresses are
	 * in network order, ports in host order. */
	if (v6 && (c6 = sniff_map6_addr(&s->map6, ts->addr.saddr)) != NULL &&
	    (s6 = sniff_map6_addr(&s->map6, ts->addr.daddr)) != NULL) {
		wb_addr_v6(&x->pub.client, c6);
		wb_addr_v6(&x->pub.server, s6);
		x->v6 = true;
	} else {
		wb_addr_v4(&x->pub.client, &ts->addr.saddr);
		wb_addr_v4(&x->pub.server, &ts->addr.daddr);
	}
	x->pub.client_port = ts->addr.source;
	x->pub.server_port = ts->addr.dest;
	x->stream = ts;
	ts->user = x;
	x->cip = ts->addr.saddr;
	x->sip = ts->addr.daddr;
	x->hash = cx_hash(x->cip, x->sip, ts->addr.source, ts->addr.dest);
	x->hnext = s->htab[x->hash & s->hmask];
	s->htab[x->hash & s->hmask] = x;
	s->nconns++;
	s->st.sessions++;
	x->last = s->now;
	append_cx(s, x);
	sniff_cx_touch(s, x);
	return x;
}

/* Every packet: to the tail of its list, without the general cases. */
void
sniff_cx_touch(struct sniff *s, struct sniff_cx *x)
{
	struct sniff_lru *l = &s->lru[x->busy];

	x->last = s->now;
	x->stream->ts = (long)(s->now / WB_USEC_PER_SEC);
	if (x == l->tail) {
		if (l->rel == NULL)
			l->rel = x;	/* the tail, released, active again */
		return;
	}
	/* Not the tail: x->next exists. */
	if (l->rel == x)
		l->rel = x->next;
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		l->head = x->next;
	x->next->prev = x->prev;
	x->prev = l->tail;
	x->next = NULL;
	l->tail->next = x;
	l->tail = x;
	if (l->rel == NULL)
		l->rel = x;
}

void
sniff_conn_set_busy(struct sniff_conn *c, bool busy)
{
	/* pub is the first member of the connection that holds it */
	struct sniff_cx *x = (struct sniff_cx *)c;

	if (x->busy == busy || x->stream == NULL)
		return;
	unlink_cx(x->s, x);
	x->busy = busy;
	insert_cx(x->s, x);
}

/*
 * Takes x off its list, tells the caller and frees x. The libnids stream
 * is left alone: libnids frees it after a close callback, the callers
 * below free it themselves. An IPv6 connection gives its addresses back
 * to map6.c: libnids has let go of the stream, or is about to (a close
 * callback), and no packet is translated before it has.
 */
void
sniff_cx_end(struct sniff *s, struct sniff_cx *x, enum sniff_close how,
    wb_usec ts)
{
	unlink_cx(s, x);
	table_remove(s, x);
	s->nconns--;
	if (x->stream != NULL)
		x->stream->user = NULL;
	x->stream = NULL;	/* sniff_kill from on_close: nothing to do */
	if (s->h.on_close != NULL)
		s->h.on_close(s->h.arg, &x->pub, how, ts);
	if (x->v6) {
		sniff_map6_unref(&s->map6, x->cip);
		sniff_map6_unref(&s->map6, x->sip);
	}
	free(x);
}

/* Ends x and frees its libnids stream. Not from inside libnids. */
void
sniff_cx_drop(struct sniff *s, struct sniff_cx *x, enum sniff_close how)
{
	struct tcp_stream *ts = x->stream;

	sniff_cx_end(s, x, how, s->now);
	/* Exported by libnids 1.26: forget it, or its next packet (or a
	 * SYN reusing its ports) would meet a stale stream. */
	if (ts != NULL)
		nids_free_tcp_stream(ts);
}

/*
 * A connection is about to be admitted and max_streams are open: the
 * longest idle that is not busy goes, or, when all are, the longest
 * idle busy one. Not from inside libnids.
 */
void
sniff_cx_make_room(struct sniff *s)
{
	struct sniff_cx *x;

	while (s->nconns >= (size_t)s->cfg.max_streams) {
		if ((x = s->lru[0].head) != NULL)
			s->st.evicted_idle++;
		else if ((x = s->lru[1].head) != NULL)
			s->st.evicted_busy++;
		else
			return;
		s->st.evictions++;
		sniff_warn(s, W_EVICT, "stream table full (max_streams %d): "
		    "evicting the longest idle%s", s->cfg.max_streams,
		    x->busy ? " (all are busy)" : " not busy");
		sniff_cx_drop(s, x, SNIFF_CLOSE_EVICTED);
	}
}

static void
release_half(struct half_stream *h)
{
	/* Everything was delivered (no nids_discard): nothing is lost. */
	if (h->data != NULL && h->count == h->offset) {
		free(h->data);
		h->data = NULL;
		h->bufsize = 0;
	}
}

/*
 * libnids keeps a 4 KiB buffer per half-stream once data has flowed,
 * for good: 100,000 idle sessions held 500 MB. A connection idle for
 * RELEASE_IDLE gets its buffers freed (libnids allocates new ones when
 * data comes: add2buf tests data == NULL). Each list's rel walks it:
 * everything before it was released since its last activity, so each
 * packet costs a look at one connection per list. Freeing after every
 * delivery instead cost a malloc and a free per segment (9% of a
 * replay). Not from inside libnids.
 */
static void
release_list(struct sniff_lru *l, wb_usec now)
{
	struct sniff_cx *x;

	while ((x = l->rel) != NULL && now - x->last >= RELEASE_IDLE) {
		if (x->stream != NULL) {
			release_half(&x->stream->client);
			release_half(&x->stream->server);
		}
		l->rel = x->next;
	}
}

/* The least recently active of the two heads. */
static struct sniff_cx *
oldest(struct sniff *s)
{
	struct sniff_cx *a = s->lru[0].head, *b = s->lru[1].head;

	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	return b->last < a->last ? b : a;
}

/*
 * Packet time is now: idle connections close (idle_timeout), idle
 * buffers go (RELEASE_IDLE). Once per frame, hence the few loads when
 * nothing is due. Not from inside libnids: it frees streams libnids may
 * be using.
 */
void
sniff_cx_tick(struct sniff *s, wb_usec now)
{
	struct sniff_cx *x;

	if (s->cfg.idle_timeout > 0)
		while ((x = oldest(s)) != NULL &&
		    now - x->last >= s->cfg.idle_timeout) {
			s->st.timeouts++;
			sniff_cx_drop(s, x, SNIFF_CLOSE_TIMEOUT);
		}
	if (s->lru[0].rel != NULL)
		release_list(&s->lru[0], now);
	if (s->lru[1].rel != NULL)
		release_list(&s->lru[1], now);
}

/* Least recently active first: the same capture closes the same way. */
void
sniff_cx_end_all(struct sniff *s, enum sniff_close how)
{
	struct sniff_cx *x;

	while ((x = oldest(s)) != NULL)
		sniff_cx_drop(s, x, how);
}
