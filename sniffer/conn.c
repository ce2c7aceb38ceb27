/*
 * conn.c - the connections wireban follows, and their idle timeout.
 *
 * libnids has no idle timeout (a silent client's stream would live until
 * evicted) and evicts the oldest stream, not the idlest. So each
 * followed connection also lives here, in a list ordered by its last
 * packet (packet time), least recent first: expiring is looking at the
 * head. A connection leaves the list exactly once, through
 * sniff_cx_end(), which calls on_close and frees it.
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
 * connection before libnids could forget it under us.
 */
#include <stdlib.h>
#include <string.h>

#include <nids.h>

#include "internal.h"

static void	 unlink_cx(struct sniff *, struct sniff_cx *);
static void	 append_cx(struct sniff *, struct sniff_cx *);

static uint64_t	 last_id;	/* ids stay unique across sniffers */

/* Idle time after which a connection's reassembly buffers are freed. */
#define RELEASE_IDLE	(WB_USEC_PER_SEC / 2)

/*
 * Symmetric in the two ends (xor), so one lookup serves both ways; the
 * multiplications spread it. Not keyed: a chain an attacker lengthens
 * costs only the packets of connections that completed a handshake,
 * and there are at most max_streams of those.
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
sniff_cx_find(struct sniff *s, const uint8_t *src, const uint8_t *dst,
    uint16_t sport, uint16_t dport)
{
	struct sniff_cx *x;
	uint32_t a, b, h;

	if (s->htab == NULL)
		return NULL;
	memcpy(&a, src, 4);
	memcpy(&b, dst, 4);
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
	if (s->rel == x)
		s->rel = x->next;
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		s->lru_head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		s->lru_tail = x->prev;
	x->prev = x->next = NULL;
}

static void
append_cx(struct sniff *s, struct sniff_cx *x)
{
	x->prev = s->lru_tail;
	x->next = NULL;
	if (s->lru_tail != NULL)
		s->lru_tail->next = x;
	else
		s->lru_head = x;
	s->lru_tail = x;
	if (s->rel == NULL)
		s->rel = x;	/* active again: its buffers may fill */
}

/* Returns the new connection (freed by sniff_cx_end), or NULL. */
struct sniff_cx *
sniff_cx_new(struct sniff *s, struct tcp_stream *ts)
{
	struct sniff_cx *x;

	if ((s->htab == NULL && table_init(s) < 0) ||
	    (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->pub.id = ++last_id;
	/* libnids' tuple: the SYN's source is the client; addresses are
	 * in network order, ports in host order. */
	wb_addr_v4(&x->pub.client, &ts->addr.saddr);
	wb_addr_v4(&x->pub.server, &ts->addr.daddr);
	x->pub.client_port = ts->addr.source;
	x->pub.server_port = ts->addr.dest;
	x->stream = ts;
	ts->user = x;
	memcpy(&x->cip, &ts->addr.saddr, 4);
	memcpy(&x->sip, &ts->addr.daddr, 4);
	x->hash = cx_hash(x->cip, x->sip, ts->addr.source, ts->addr.dest);
	x->hnext = s->htab[x->hash & s->hmask];
	s->htab[x->hash & s->hmask] = x;
	s->nconns++;
	s->st.sessions++;
	append_cx(s, x);
	sniff_cx_touch(s, x);
	return x;
}

void
sniff_cx_touch(struct sniff *s, struct sniff_cx *x)
{
	x->last = s->now;
	x->stream->ts = (long)(s->now / WB_USEC_PER_SEC);
	if (x != s->lru_tail) {
		unlink_cx(s, x);
		append_cx(s, x);
	} else if (s->rel == NULL) {
		s->rel = x;	/* the tail, released, active again */
	}
}

/*
 * Takes x off the list, tells the caller and frees x. The libnids stream
 * is left alone: libnids frees it after a close callback, the callers
 * below free it themselves.
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
	free(x);
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
 * data comes: add2buf tests data == NULL). s->rel walks the activity
 * list: everything before it was released since its last activity, so
 * each packet costs a look at one connection. Freeing after every
 * delivery instead cost a malloc and a free per segment (9% of a
 * replay). Not from inside libnids.
 */
void
sniff_cx_release(struct sniff *s, wb_usec now)
{
	struct sniff_cx *x;

	while ((x = s->rel) != NULL && now - x->last >= RELEASE_IDLE) {
		if (x->stream != NULL) {
			release_half(&x->stream->client);
			release_half(&x->stream->server);
		}
		s->rel = x->next;
	}
}

/* Not from inside libnids: it frees streams libnids may be using. */
void
sniff_cx_expire(struct sniff *s, wb_usec now)
{
	struct tcp_stream *ts;
	struct sniff_cx *x;

	if (s->cfg.idle_timeout <= 0 || s->in_nids)
		return;
	while ((x = s->lru_head) != NULL &&
	    now - x->last >= s->cfg.idle_timeout) {
		ts = x->stream;
		s->st.timeouts++;
		sniff_cx_end(s, x, SNIFF_CLOSE_TIMEOUT, now);
		/* Exported by libnids 1.26: forget it, or its next packet
		 * (or a SYN reusing its ports) would meet a stale stream. */
		nids_free_tcp_stream(ts);
	}
}

/* Least recently active first: the same capture closes the same way. */
void
sniff_cx_end_all(struct sniff *s, enum sniff_close how)
{
	struct tcp_stream *ts;
	struct sniff_cx *x;

	while ((x = s->lru_head) != NULL) {
		ts = x->stream;
		sniff_cx_end(s, x, how, s->now);
		nids_free_tcp_stream(ts);
	}
}
