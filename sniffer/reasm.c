/*
 * reasm.c - libnids: its set-up, feeding it, and its callbacks.
 *
 * libnids never opens a device or a file here: it is given a dead
 * DLT_RAW handle and fed whole IPv4 packets through nids_pcap_handler()
 * (opening a device itself it would use a 16384-byte snaplen, and it
 * knows neither SLL2 nor LOOP nor QinQ). Its state is process-wide, hence
 * one open sniffer at a time (cur). What it is fed: segments of followed
 * connections (tcp.c), a pending handshake once it completed (gate.c:
 * the stored SYN and SYN-ACK, then the ACK), and IPv4 fragments, which
 * it reassembles; what it makes of those comes back through an IP hook
 * and goes through tcp.c like any segment (else a fragmented SYN would
 * slip past the gate).
 *
 * Checksums: libnids never checks them (a 0.0.0.0/0 "don't checksum"
 * entry is always registered): capture.c and v6.c do, before a segment
 * gets here (see sniff_csum_bad() for "auto").
 *
 * Invariant: libnids' table has room for max_streams + 2 streams and
 * holds only followed connections (at most max_streams, conn.c evicts
 * before admitting) plus the one being admitted, so it never evicts on
 * its own. A followed stream's user field points at its sniff_cx and
 * vice versa; libnids tells us of every end of a stream it frees except
 * its flow timeout, which conn.c keeps from ever firing first.
 */
#include <arpa/inet.h>
#include <nids.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nidsparams.h"

#define PROTO_NONE	255	/* reserved: libnids' own IP handler skips it */

static void	 tcp_cb(struct tcp_stream *, void **);
static void	 ip_cb(struct ip *, int);
static void	 established(struct sniff *, struct tcp_stream *, void **);
static void	 deliver(struct sniff *, struct sniff_cx *, enum sniff_dir,
		    const struct half_stream *);
static void	 nids_warning(int, int, struct ip *, void *);
static void	 nids_nomem(char *);
static void	 feed(struct sniff *, const uint8_t *, size_t);
static size_t	 build(uint8_t *, uint32_t, uint32_t, const uint8_t *, size_t);

static struct sniff *cur;

/* libnids keeps the pointer, not a copy: this must outlive every use. */
static struct nids_chksum_ctl no_sums[1] = {
	{ .netaddr = 0, .mask = 0, .action = NIDS_DONT_CHKSUM },
};

int
sniff_reasm_init(struct sniff *s, char *err, size_t errlen)
{
	if (cur != NULL) {
		snprintf(err, errlen, "%s: another capture is open", s->name);
		return -1;
	}
	if ((s->dead = pcap_open_dead(DLT_RAW, SNIFF_IP_MAX)) == NULL) {
		snprintf(err, errlen, "%s: pcap_open_dead failed", s->name);
		return -1;
	}
	sniff_nids_params(s->dead, s->cfg.max_streams, s->cfg.idle_timeout,
	    nids_warning, nids_nomem);
	cur = s;
	if (!nids_init()) {
		snprintf(err, errlen, "%s: libnids: %s", s->name, nids_errbuf);
		cur = NULL;
		nids_params.pcap_desc = NULL;
		pcap_close(s->dead);
		s->dead = NULL;
		return -1;
	}
	nids_register_tcp(tcp_cb);
	nids_register_chksum_ctl(no_sums, 1);	/* we check, see above */
	s->nids_up = true;
	return 0;
}

/* Closes what is open, then lets libnids free everything it holds. */
void
sniff_reasm_fini(struct sniff *s)
{
	if (!s->nids_up)
		return;
	sniff_cx_end_all(s, SNIFF_CLOSE_EOF);
	sniff_gate_fini(s);
	sniff_cx_free_table(s);
	nids_unregister_tcp(tcp_cb);	/* nids_exit() leaks the node */
	nids_exit();			/* pcap_desc set: leaves it open */
	nids_register_chksum_ctl(NULL, 0);
	nids_params.pcap_desc = NULL;
	pcap_close(s->dead);
	s->dead = NULL;
	s->nids_up = false;
	cur = NULL;
}

/*
 * A whole segment is only read, and its payload copied into libnids' own
 * buffers, before the handler returns: no copy of ours (x86 and the like
 * read it unaligned). libnids takes a non-const pointer; for a whole
 * segment it does not write through it.
 */
static void
feed(struct sniff *s, const uint8_t *ip, size_t len)
{
	s->nhdr.ts.tv_sec = (time_t)(s->pkt_ts / WB_USEC_PER_SEC);
	s->nhdr.ts.tv_usec = (suseconds_t)(s->pkt_ts % WB_USEC_PER_SEC);
	s->nhdr.caplen = s->nhdr.len = (bpf_u_int32)len;
	s->in_nids = true;
	nids_pcap_handler(NULL, &s->nhdr, (u_char *)(uintptr_t)ip);
	s->in_nids = false;
}

void
sniff_reasm_feed(struct sniff *s, const struct sniff_seg *g)
{
	feed(s, g->ip, g->len);
}

/*
 * An IPv4 fragment (len checked bytes). It is copied: fragment
 * reassembly may keep and change what it is given. A datagram it
 * completes comes back through ip_cb into dgram4 and goes on from here
 * as a whole packet, its TCP sum checked (the fragments' own sums say
 * nothing about the segment).
 */
void
sniff_reasm_frag4(struct sniff *s, const uint8_t *ip, size_t len)
{
	struct sniff_ip4 o;
	struct sniff_seg g;

	memcpy(s->pkt, ip, len);
	s->dgram4_len = 0;
	s->in_frag4 = true;
	/* Only now: a hook on every packet cost 1% of a replay. It goes
	 * first, before libnids' own IP handler. */
	nids_register_ip(ip_cb);
	feed(s, s->pkt, len);
	nids_unregister_ip(ip_cb);
	s->in_frag4 = false;
	if (s->dgram4_len == 0)
		return;
	/* No longer a fragment: MF and offset cleared, DF kept. */
	s->dgram4[6] &= 0x40;
	s->dgram4[7] = 0;
	if (sniff_ip4_parse(&s->cfg, s->dgram4, s->dgram4_len, &o) !=
	    SNIFF_IP_FEED || o.frag)
		return;
	if (sniff_csum_wanted(s) && !sniff_tcp4_ok(s->dgram4, o.len) &&
	    sniff_csum_bad(s, 4, s->dgram4 + 12, s->dgram4 + 16))
		return;
	sniff_seg_fill(&g, s->dgram4, o.len, o.hl, o.thl);
	sniff_tcp_in(s, &g);
}

/*
 * libnids' IP hook: every IP packet it hands on, before its own TCP
 * code. While a fragment is fed, what comes out is a datagram libnids
 * reassembled: kept for sniff_reasm_frag4, and made invisible to
 * libnids' TCP code (its buffer is libnids' own, freed after this).
 */
static void
ip_cb(struct ip *iph, int skblen)
{
	struct sniff *s = cur;
	uint8_t *p = (uint8_t *)iph;
	size_t len;

	(void)skblen;
	if (s == NULL || !s->in_frag4)
		return;
	len = (size_t)(p[2] << 8 | p[3]);	/* checked by libnids */
	if (p[9] == IPPROTO_TCP && len <= SNIFF_IP_MAX) {
		memcpy(s->dgram4, p, len);
		s->dgram4_len = len;
	}
	p[9] = PROTO_NONE;
}

static size_t
build(uint8_t *p, uint32_t src, uint32_t dst, const uint8_t *th,
    size_t thl)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)((20 + thl) >> 8);
	p[3] = (uint8_t)(20 + thl);
	p[6] = 0x40;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	memcpy(p + 20, th, thl);
	return 20 + thl;
}

/*
 * A handshake completed (gate.c): libnids gets the stored SYN, the
 * stored SYN-ACK and the client's ACK, and calls established(). Returns
 * true when the connection is followed; otherwise libnids is made to
 * forget whatever it kept of it.
 */
bool
sniff_reasm_admit(struct sniff *s, const struct sniff_hs *hs,
    const struct sniff_seg *ack)
{
	struct tcp_stream *ts;
	struct tuple4 t;
	size_t n;

	s->admitted = NULL;
	s->admitting = hs;
	n = build(s->hspkt, hs->cip, hs->sip, hs->syn, hs->syn_len);
	feed(s, s->hspkt, n);
	n = build(s->hspkt, hs->sip, hs->cip, hs->synack, hs->synack_len);
	feed(s, s->hspkt, n);
	feed(s, ack->ip, ack->len);
	s->admitting = NULL;
	if (s->admitted != NULL)
		return true;
	t.source = hs->cport;
	t.dest = hs->sport;
	t.saddr = hs->cip;
	t.daddr = hs->sip;
	if ((ts = nids_find_tcp_stream(&t)) != NULL)
		nids_free_tcp_stream(ts);
	return false;
}

static void
tcp_cb(struct tcp_stream *ts, void **param)
{
	struct sniff *s = cur;
	struct sniff_cx *x;
	enum sniff_close how;

	if (s == NULL)
		return;
	if (ts->nids_state == NIDS_JUST_EST) {
		established(s, ts, param);
		return;
	}
	if ((x = *param) == NULL)
		return;
	switch (ts->nids_state) {
	case NIDS_DATA:
		/* libnids notifies one direction per call; take both anyway */
		deliver(s, x, SNIFF_FROM_CLIENT, &ts->server);
		deliver(s, x, SNIFF_FROM_SERVER, &ts->client);
		return;
	case NIDS_CLOSE:
		how = SNIFF_CLOSE_FIN;
		break;
	case NIDS_RESET:
		how = SNIFF_CLOSE_RST;
		break;
	case NIDS_TIMED_OUT:
		/* Its table full: cannot happen (see the top), counted if. */
		how = SNIFF_CLOSE_EVICTED;
		s->st.evictions++;
		if (x->busy)
			s->st.evicted_busy++;
		else
			s->st.evicted_idle++;
		break;
	case NIDS_EXITING:
		how = SNIFF_CLOSE_EOF;
		break;
	default:
		return;
	}
	*param = NULL;
	sniff_cx_end(s, x, how, s->pkt_ts);
}

/* The handshake is complete: follow it if it is the one admitted. */
static void
established(struct sniff *s, struct tcp_stream *ts, void **param)
{
	char a[WB_ADDR_STRLEN], b[WB_ADDR_STRLEN];
	const struct sniff_hs *hs = s->admitting;
	struct sniff_cx *x;

	if (hs == NULL || ts->addr.saddr != hs->cip ||
	    ts->addr.daddr != hs->sip || ts->addr.source != hs->cport ||
	    ts->addr.dest != hs->sport)
		return;		/* no collect: libnids drops the stream */
	if ((x = sniff_cx_new(s, ts, hs->v6)) == NULL) {
		sniff_warn(s, W_NOMEM, "out of memory: not following %s:%u -> "
		    "%s:%u", sniff_addr4_str(s, (const uint8_t *)&hs->cip, a),
		    hs->cport, sniff_addr4_str(s, (const uint8_t *)&hs->sip, b),
		    hs->sport);
		return;
	}
	ts->client.collect++;
	ts->server.collect++;
	*param = x;
	s->admitted = x;
	if (s->h.on_open != NULL)
		x->pub.user = s->h.on_open(s->h.arg, &x->pub, s->pkt_ts);
}

/* libnids' server half holds what the server received: the client's. */
static void
deliver(struct sniff *s, struct sniff_cx *x, enum sniff_dir d,
    const struct half_stream *h)
{
	if (h->count_new <= 0 || s->h.on_data == NULL)
		return;
	s->h.on_data(s->h.arg, &x->pub, d, (const uint8_t *)h->data,
	    (size_t)h->count_new, s->pkt_ts);
}

/*
 * libnids' warning hook (nids_params.syslog). For TCP warnings it has
 * checked the IPv4 header: at least 20 bytes, ip_len bytes readable.
 */
static void
nids_warning(int type, int errnum, struct ip *iph, void *data)
{
	const uint8_t *ip = (const uint8_t *)iph, *th = data;
	char a[WB_ADDR_STRLEN], b[WB_ADDR_STRLEN];
	struct sniff *s = cur;
	const char *what;

	if (s == NULL)
		return;
	if (errnum > 0 && errnum <= NIDS_WARN_TCP_BADFLAGS)
		what = nids_warnings[errnum];
	else
		what = "unknown warning";
	switch (type) {
	case NIDS_WARN_IP:
		if (errnum == NIDS_WARN_IP_HDR)	/* iph may be anything */
			sniff_warn(s, (unsigned)errnum, "libnids: %s", what);
		else
			sniff_warn(s, (unsigned)errnum, "libnids: %s, %s -> %s",
			    what, sniff_addr4_str(s, ip + 12, a),
			    sniff_addr4_str(s, ip + 16, b));
		break;
	case NIDS_WARN_TCP:
		if (errnum == NIDS_WARN_TCP_HDR || th == NULL)
			sniff_warn(s, (unsigned)errnum, "libnids: %s, %s -> %s",
			    what, sniff_addr4_str(s, ip + 12, a),
			    sniff_addr4_str(s, ip + 16, b));
		else
			sniff_warn(s, (unsigned)errnum, "libnids: %s, %s:%u -> "
			    "%s:%u", what, sniff_addr4_str(s, ip + 12, a),
			    (unsigned)(th[0] << 8 | th[1]),
			    sniff_addr4_str(s, ip + 16, b),
			    (unsigned)(th[2] << 8 | th[3]));
		break;
	default:
		sniff_warn(s, W_UNKNOWN, "libnids: warning %d/%d", type, errnum);
		break;
	}
}

/*
 * libnids would go on writing through the NULL it got (its own handler
 * exits): nothing sane is left to do but say why and stop.
 */
static void
nids_nomem(char *where)
{
	sniff_log("libnids: out of memory in %s", where);
	abort();
}
