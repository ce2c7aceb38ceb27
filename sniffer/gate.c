/*
 * gate.c - handshakes wait here until the client answers the SYN-ACK.
 *
 * libnids keeps a stream from its SYN on, never times out a half-open
 * one, and, with its table full, frees the oldest stream, established
 * or not. Anyone could send max_streams spoofed SYNs and push a session
 * out before the reply that mattered. So a handshake is kept here, apart
 * from the followed connections, until the client's ACK acknowledges the
 * server's SYN-ACK (ack = server ISN + 1, seq from the client ISN + 1
 * on): a blind spoofer never sees the SYN-ACK and cannot send it. Only then does
 * libnids see the stream: the stored SYN, the stored SYN-ACK and that
 * ACK, in a row, options intact (reasm.c).
 *
 * Bounds: at most max_handshakes pending, each dropped handshake_timeout
 * after its last SYN or SYN-ACK (packet time: the ACK comes one round
 * trip after the SYN-ACK, and a server that misses it sends its SYN-ACK
 * again, which renews the entry); when full, the least recently renewed
 * goes (hs_overflow). Established connections are never touched by a
 * flood of handshakes. Keys are the attacker's: the hash is keyed
 * (hash.c).
 *
 * A retransmitted SYN or SYN-ACK replaces the stored one (the latest
 * timestamps are what libnids' PAWS check must see); a SYN with another
 * ISN starts the handshake over. A handshake on the addresses and ports
 * of a followed connection waits here too; when it completes, the old
 * connection is over on both hosts (a server that still had it would
 * have answered the SYN with an ACK, not a SYN-ACK: RFC 793, 5961), so
 * it is closed as SNIFF_CLOSE_REPLACED and the new one admitted.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define HS_CHUNK	1024
#define SEQ_AHEAD	(1u << 30)	/* how far after the ISN data may be */

static struct sniff_hs *find(struct sniff *, uint32_t, uint32_t, uint16_t,
		    uint16_t);
static void	 unlink_hs(struct sniff *, struct sniff_hs *);
static void	 append_hs(struct sniff *, struct sniff_hs *);
static void	 drop(struct sniff *, struct sniff_hs *, bool);
static struct sniff_hs *alloc_hs(struct sniff *);
static uint32_t	 hs_hash(const struct sniff *, uint32_t, uint32_t, uint16_t,
		    uint16_t);
static void	 renew(struct sniff *, struct sniff_hs *);
static void	 store(uint8_t *, uint8_t *, const struct sniff_seg *);

/* The same both ways, like conn.c's, but keyed. */
static uint32_t
hs_hash(const struct sniff *s, uint32_t a, uint32_t b, uint16_t pa,
    uint16_t pb)
{
	return sniff_hash2(&s->key, a ^ b, (uint32_t)(pa ^ pb));
}

static struct sniff_hs *
find(struct sniff *s, uint32_t c, uint32_t sv, uint16_t cp, uint16_t sp)
{
	struct sniff_gate *gt = &s->gate;
	struct sniff_hs *h;
	uint32_t hv;

	if (gt->htab == NULL || gt->n == 0)
		return NULL;
	hv = hs_hash(s, c, sv, cp, sp);
	for (h = gt->htab[hv & gt->hmask]; h != NULL; h = h->hnext)
		if (h->hash == hv && h->cip == c && h->sip == sv &&
		    h->cport == cp && h->sport == sp)
			return h;
	return NULL;
}

static void
unlink_hs(struct sniff *s, struct sniff_hs *h)
{
	struct sniff_gate *gt = &s->gate;

	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		gt->head = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	else
		gt->tail = h->prev;
	h->prev = h->next = NULL;
}

static void
append_hs(struct sniff *s, struct sniff_hs *h)
{
	struct sniff_gate *gt = &s->gate;

	h->prev = gt->tail;
	h->next = NULL;
	if (gt->tail != NULL)
		gt->tail->next = h;
	else
		gt->head = h;
	gt->tail = h;
}

/* Renewed: the latest SYN or SYN-ACK came now. */
static void
renew(struct sniff *s, struct sniff_hs *h)
{
	h->last = s->now;
	if (h != s->gate.tail) {
		unlink_hs(s, h);
		append_hs(s, h);
	}
}

/*
 * Takes h out and frees its slot; unref: give its IPv6 addresses back
 * (not when a connection took them over).
 */
static void
drop(struct sniff *s, struct sniff_hs *h, bool unref)
{
	struct sniff_gate *gt = &s->gate;
	struct sniff_hs **pp;
	struct sniff_cx *x;

	unlink_hs(s, h);
	for (pp = &gt->htab[h->hash & gt->hmask]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == h) {
			*pp = h->hnext;
			break;
		}
	gt->n--;
	if (s->nconns > 0 && (x = sniff_cx_find(s, h->cip, h->sip, h->cport,
	    h->sport)) != NULL)
		x->hs_pending = false;
	if (unref && h->v6) {
		sniff_map6_unref(&s->map6, h->cip);
		sniff_map6_unref(&s->map6, h->sip);
	}
	h->next = gt->free;
	gt->free = h;
}

/* A free slot, the table made on first use; NULL when out of memory. */
static struct sniff_hs *
alloc_hs(struct sniff *s)
{
	struct sniff_gate *gt = &s->gate;
	struct sniff_hs *h, *chunk, **nc;
	size_t nb = 1024, i;

	if (gt->htab == NULL) {
		while (nb < (size_t)s->cfg.max_handshakes)
			nb <<= 1;
		if ((gt->htab = calloc(nb, sizeof(*gt->htab))) == NULL)
			return NULL;
		gt->hmask = nb - 1;
	}
	if (gt->free == NULL) {
		if ((chunk = calloc(HS_CHUNK, sizeof(*chunk))) == NULL ||
		    (nc = realloc(gt->chunks, (gt->nchunks + 1) *
		    sizeof(*nc))) == NULL) {
			free(chunk);
			return NULL;
		}
		gt->chunks = nc;
		gt->chunks[gt->nchunks++] = chunk;
		for (i = 0; i < HS_CHUNK; i++) {
			chunk[i].next = gt->free;
			gt->free = &chunk[i];
		}
	}
	h = gt->free;
	gt->free = h->next;
	return h;
}

static void
store(uint8_t *dst, uint8_t *dlen, const struct sniff_seg *g)
{
	memcpy(dst, g->th, g->thl);	/* thl <= 60: checked by ip.c, ip6.c */
	*dlen = (uint8_t)g->thl;
}

/* A SYN from the client; old: a followed connection on its ports. */
void
sniff_gate_syn(struct sniff *s, const struct sniff_seg *g,
    struct sniff_cx *old)
{
	struct sniff_gate *gt = &s->gate;
	struct wb_addr server;
	struct sniff_hs *h;

	if (g->v6)
		wb_addr_v6(&server, g->dst6);
	else
		wb_addr_v4(&server, &g->dst);
	if (!sniff_watched(&s->cfg, g->dport, &server))
		return;
	if ((h = find(s, g->src, g->dst, g->sport, g->dport)) != NULL) {
		if (h->syn_seq != SEG_SEQ(g))
			h->synack_len = 0;	/* another ISN: start over */
		h->syn_seq = SEG_SEQ(g);
		store(h->syn, &h->syn_len, g);
		renew(s, h);
		if (old != NULL)
			old->hs_pending = true;
		return;
	}
	if (gt->n >= (size_t)s->cfg.max_handshakes) {
		s->st.hs_overflow++;
		sniff_warn(s, W_HSFULL, "handshake table full "
		    "(max_handshakes %d): dropping the oldest pending one",
		    s->cfg.max_handshakes);
		drop(s, gt->head, true);
	}
	if ((h = alloc_hs(s)) == NULL) {
		sniff_warn(s, W_NOMEM, "out of memory: handshake not followed");
		return;
	}
	memset(h, 0, sizeof(*h));
	h->cip = g->src;
	h->sip = g->dst;
	h->cport = g->sport;
	h->sport = g->dport;
	h->syn_seq = SEG_SEQ(g);
	store(h->syn, &h->syn_len, g);
	h->v6 = g->v6;
	if (h->v6) {
		sniff_map6_hold(&s->map6, h->cip);
		sniff_map6_hold(&s->map6, h->sip);
	}
	h->hash = hs_hash(s, h->cip, h->sip, h->cport, h->sport);
	h->hnext = gt->htab[h->hash & gt->hmask];
	gt->htab[h->hash & gt->hmask] = h;
	gt->n++;
	h->last = s->now;
	append_hs(s, h);
	if (old != NULL)
		old->hs_pending = true;
}

/* A SYN-ACK from the server: kept when it acknowledges the SYN. */
void
sniff_gate_synack(struct sniff *s, const struct sniff_seg *g)
{
	struct sniff_hs *h;

	if ((h = find(s, g->dst, g->src, g->dport, g->sport)) == NULL ||
	    SEG_ACK(g) != h->syn_seq + 1)
		return;
	h->synack_seq = SEG_SEQ(g);
	store(h->synack, &h->synack_len, g);
	renew(s, h);
}

/*
 * A segment with ACK from the client's side. When it completes a pending
 * handshake, the connection is admitted (old, a followed connection on
 * the same ports, replaced) and true returned: the segment was handled.
 * Completing: it acknowledges the SYN-ACK (what a blind spoofer cannot
 * know), and its sequence number is the client's ISN + 1 or after it
 * (the pure ACK and the first data may have been lost; libnids checks
 * the ack alone).
 */
bool
sniff_gate_ack(struct sniff *s, const struct sniff_seg *g,
    struct sniff_cx *old)
{
	struct sniff_hs *h, copy;

	if ((h = find(s, g->src, g->dst, g->sport, g->dport)) == NULL ||
	    h->synack_len == 0 || SEG_ACK(g) != h->synack_seq + 1 ||
	    SEG_SEQ(g) - (h->syn_seq + 1) >= SEQ_AHEAD)
		return false;
	copy = *h;
	drop(s, h, false);
	if (old != NULL) {
		s->st.replaced++;
		sniff_cx_drop(s, old, SNIFF_CLOSE_REPLACED);
	}
	sniff_cx_make_room(s);
	if (!sniff_reasm_admit(s, &copy, g) && copy.v6) {
		sniff_map6_unref(&s->map6, copy.cip);
		sniff_map6_unref(&s->map6, copy.sip);
	}
	return true;
}

/*
 * A reset ends a pending handshake when it fits it: the server's
 * acknowledges the SYN (a closed port), the client's follows its SYN.
 */
void
sniff_gate_rst(struct sniff *s, const struct sniff_seg *g)
{
	struct sniff_hs *h;

	if ((h = find(s, g->dst, g->src, g->dport, g->sport)) != NULL) {
		if (((g->flags & TH_ACK_) && SEG_ACK(g) == h->syn_seq + 1) ||
		    (h->synack_len > 0 && SEG_SEQ(g) == h->synack_seq + 1))
			drop(s, h, true);
		return;
	}
	if ((h = find(s, g->src, g->dst, g->sport, g->dport)) != NULL &&
	    SEG_SEQ(g) == h->syn_seq + 1)
		drop(s, h, true);
}

void
sniff_gate_expire(struct sniff *s, wb_usec now)
{
	struct sniff_hs *h;

	while ((h = s->gate.head) != NULL &&
	    now - h->last >= s->cfg.handshake_timeout) {
		s->st.hs_timeouts++;
		drop(s, h, true);
	}
}

void
sniff_gate_fini(struct sniff *s)
{
	struct sniff_gate *gt = &s->gate;
	size_t i;

	while (gt->head != NULL)
		drop(s, gt->head, true);
	for (i = 0; i < gt->nchunks; i++)
		free(gt->chunks[i]);
	free(gt->chunks);
	free(gt->htab);
	memset(gt, 0, sizeof(*gt));
}
