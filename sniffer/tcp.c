/*
 * tcp.c - where each TCP segment goes, IPv4 or translated IPv6.
 *
 * A segment of a followed connection is activity and goes to libnids.
 * Anything else goes no further than the handshake gate (gate.c): a
 * SYN, a SYN-ACK, or an ACK that may complete a pending handshake. So
 * libnids never sees a stream before its client has answered the
 * server's SYN-ACK, and a spoofed SYN, which nobody can answer, never
 * takes a slot in its table.
 *
 * Invariant: libnids gets no SYN of a followed connection (it would
 * ignore it, or, past its flow timeout, replace the stream without a
 * word); a new handshake on a followed connection's addresses and ports
 * goes to the gate like any other, and replaces the connection only
 * once it completes.
 */
#include <string.h>

#include "internal.h"

static bool	 from_client(const struct sniff_cx *, const struct sniff_seg *);

static bool
from_client(const struct sniff_cx *x, const struct sniff_seg *g)
{
	return g->src == x->cip && g->sport == x->pub.client_port;
}

void
sniff_tcp_in(struct sniff *s, struct sniff_seg *g)
{
	struct sniff_cx *x = NULL;
	uint8_t f = g->flags;

	if (s->nconns > 0)
		x = sniff_cx_find(s, g->src, g->dst, g->sport, g->dport);
	if (x != NULL) {
		/* The common case first: a segment, no SYN, nothing pending. */
		if (!(f & TH_SYN_) && !x->hs_pending) {
			sniff_cx_touch(s, x);
			sniff_reasm_feed(s, g);
			return;
		}
		if (f & TH_SYN_) {
			if (f & TH_RST_)
				return;
			if (!(f & TH_ACK_) && from_client(x, g))
				sniff_gate_syn(s, g, x);
			else if ((f & TH_ACK_) && !from_client(x, g))
				sniff_gate_synack(s, g);
			return;
		}
		if (from_client(x, g) && (f & TH_ACK_) && !(f & TH_RST_) &&
		    sniff_gate_ack(s, g, x))
			return;
		sniff_cx_touch(s, x);
		sniff_reasm_feed(s, g);
		return;
	}
	if (f & TH_RST_) {
		if (s->gate.n > 0)
			sniff_gate_rst(s, g);
		return;
	}
	if (f & TH_SYN_) {
		if (f & TH_ACK_)
			sniff_gate_synack(s, g);
		else
			sniff_gate_syn(s, g, NULL);
		return;
	}
	if ((f & TH_ACK_) && s->gate.n > 0)
		(void)sniff_gate_ack(s, g, NULL);
}
