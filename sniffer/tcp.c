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

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ip holds len checked bytes: an IPv4 header of hl, TCP header of thl. */
void
sniff_seg_fill(struct sniff_seg *g, const uint8_t *ip, size_t len, size_t hl,
    size_t thl)
{
	const uint8_t *th = ip + hl;

	g->ip = ip;
	g->len = len;
	g->th = th;
	g->thl = thl;
	memcpy(&g->src, ip + 12, 4);
	memcpy(&g->dst, ip + 16, 4);
	g->sport = (uint16_t)(th[0] << 8 | th[1]);
	g->dport = (uint16_t)(th[2] << 8 | th[3]);
	g->seq = rd32(th + 4);
	g->ack = rd32(th + 8);
	g->flags = th[13];
	g->v6 = false;
	g->src6 = g->dst6 = NULL;
}

void
sniff_tcp_in(struct sniff *s, struct sniff_seg *g)
{
	struct sniff_cx *x = NULL;
	uint8_t f = g->flags;
	bool from_client;

	if (s->nconns > 0)
		x = sniff_cx_find(s, g->src, g->dst, g->sport, g->dport);
	if (x != NULL) {
		from_client = g->src == x->cip && g->sport == x->pub.client_port;
		if (f & TH_SYN_) {
			if (f & TH_RST_)
				return;
			if (!(f & TH_ACK_) && from_client)
				sniff_gate_syn(s, g, x);
			else if ((f & TH_ACK_) && !from_client)
				sniff_gate_synack(s, g);
			return;
		}
		if (x->hs_pending && from_client && (f & TH_ACK_) &&
		    !(f & TH_RST_) && sniff_gate_ack(s, g, x))
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
