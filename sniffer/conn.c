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
 * Invariant, for libnids' own flow timeout (which frees a stream without
 * telling anyone when its client sends a new SYN on the same addresses
 * and ports): a followed stream's ts is the second of our last activity,
 * and reasm.c sets that timeout above ours, so we always expire a
 * connection before libnids could forget it under us.
 */
#include <stdlib.h>

#include <nids.h>

#include "internal.h"

static void	 unlink_cx(struct sniff *, struct sniff_cx *);
static void	 append_cx(struct sniff *, struct sniff_cx *);

static uint64_t	 last_id;	/* ids stay unique across sniffers */

static void
unlink_cx(struct sniff *s, struct sniff_cx *x)
{
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
}

/* Returns the new connection (freed by sniff_cx_end), or NULL. */
struct sniff_cx *
sniff_cx_new(struct sniff *s, struct tcp_stream *ts)
{
	struct sniff_cx *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
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
	s->nconns--;
	if (x->stream != NULL)
		x->stream->user = NULL;
	x->stream = NULL;	/* sniff_kill from on_close: nothing to do */
	if (s->h.on_close != NULL)
		s->h.on_close(s->h.arg, &x->pub, how, ts);
	free(x);
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
