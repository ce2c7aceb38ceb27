/*
 * reasm.c - libnids: its set-up, feeding it, and its callbacks.
 *
 * libnids never opens a device or a file here: it is given a dead
 * DLT_RAW handle and fed whole IPv4 packets through nids_pcap_handler()
 * (opening a device itself it would use a 16384-byte snaplen, and it
 * knows neither SLL2 nor LOOP nor QinQ). Its state is process-wide, hence
 * one open sniffer at a time (cur).
 *
 * Checksums: libnids never checks them (a 0.0.0.0/0 "don't checksum"
 * entry is always registered): we do, before feeding it, with a faster
 * sum. "auto": a capture taken on a host whose NIC computes checksums
 * (offload) holds that host's outgoing packets before the NIC filled
 * them in: wrong TCP sums from Linux, 0x0000 IPv4 header sums from
 * Windows and macOS, both in synthetic captures. Dropping them would
 * make whole sessions vanish silently. So auto verifies until a packet
 * has a wrong sum, then stops verifying for the rest of the capture and
 * says so once; the packet is fed all the same. The price: from then on
 * a forged packet with a wrong sum, which the real endpoints discard, is
 * believed. Only an attacker on the path can mount that, and "checksums
 * = on" (a sensor on a mirror port, which sees no offload) closes it:
 * packets with a wrong sum are counted and dropped. IP fragments are not
 * checked (their sum covers the reassembled segment; SMTP is not
 * fragmented in practice).
 *
 * Invariant: a followed stream's user field points at its sniff_cx and
 * vice versa; libnids tells us of every end of a stream it frees except
 * its flow timeout, which conn.c keeps from ever firing first.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <nids.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Kinds for sniff_warn()'s rate limit: libnids' errnums are 1..9. */
#define W_BADSUM	10
#define W_NOMEM		11
#define W_UNKNOWN	12

/* Fragment reassembly table (libnids' default 256). */
#define NIDS_HOSTS	1024

static void	 tcp_cb(struct tcp_stream *, void **);
static void	 established(struct sniff *, struct tcp_stream *, void **);
static void	 deliver(struct sniff *, struct sniff_cx *, enum sniff_dir,
		    const struct half_stream *);
static void	 nids_warning(int, int, struct ip *, void *);
static void	 nids_nomem(char *);
static void	 stop_checksums(struct sniff *, const uint8_t *);
static void	 touch(struct sniff *, const struct sniff_ip4 *);
static int	 table_size(int);
static int	 flow_timeout(wb_usec);
static const char *ip4str(const uint8_t *, char *);

static struct sniff *cur;

/* libnids keeps the pointer, not a copy: this must outlive every use. */
static struct nids_chksum_ctl no_sums[1] = {
	{ .netaddr = 0, .mask = 0, .action = NIDS_DONT_CHKSUM },
};

/* libnids follows 3/4 of n_tcp_streams (its hash size) at most. */
static int
table_size(int max_streams)
{
	return (int)(((long long)max_streams * 4 + 2) / 3);
}

/*
 * libnids' own flow timeout (a client SYN on a stream idle that long
 * replaces it, silently) stays above ours; 0 turns it off with ours.
 */
static int
flow_timeout(wb_usec idle)
{
	wb_usec sec;

	if (idle <= 0)
		return 0;
	sec = idle / WB_USEC_PER_SEC + 2;
	return sec > INT_MAX ? INT_MAX : (int)sec;
}

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
	nids_params.device = NULL;
	nids_params.filename = NULL;
	nids_params.pcap_filter = NULL;
	nids_params.pcap_desc = s->dead;
	nids_params.n_tcp_streams = table_size(s->cfg.max_streams);
	nids_params.n_hosts = NIDS_HOSTS;
	nids_params.dev_addon = -1;
	nids_params.syslog = nids_warning;
	nids_params.no_mem = nids_nomem;
	nids_params.scan_num_hosts = 0;
	nids_params.promisc = 0;
	nids_params.one_loop_less = 0;
	nids_params.multiproc = 0;
	/* Its 10 s closing timeout would also say NIDS_TIMED_OUT, which
	 * must keep meaning "evicted". */
	nids_params.tcp_workarounds = 0;
	nids_params.tcp_flow_timeout = flow_timeout(s->cfg.idle_timeout);
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
 * ip holds p->len bytes of a checked IPv4 packet. It is copied: libnids
 * wants a mutable, aligned buffer, and keeps pointing at it afterwards.
 */
void
sniff_reasm_feed(struct sniff *s, const uint8_t *ip, const struct sniff_ip4 *p)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (!p->frag && s->cfg.checksums != SNIFF_CSUM_OFF &&
	    !s->st.checksums_off && !sniff_sums_ok(ip, p->len)) {
		if (s->cfg.checksums == SNIFF_CSUM_AUTO) {
			stop_checksums(s, ip);
		} else {
			s->st.badsum++;
			sniff_warn(s, W_BADSUM, "bad checksum, %s -> %s: "
			    "dropped (checksums = on)", ip4str(ip + 12, a),
			    ip4str(ip + 16, b));
			return;
		}
	}
	s->nhdr.ts.tv_sec = (time_t)(s->pkt_ts / WB_USEC_PER_SEC);
	s->nhdr.ts.tv_usec = (suseconds_t)(s->pkt_ts % WB_USEC_PER_SEC);
	s->nhdr.caplen = s->nhdr.len = (bpf_u_int32)p->len;
	if (s->nconns > 0 && !p->frag)
		touch(s, p);
	s->st.ipv4++;
	s->in_nids = true;
	if (p->frag) {
		/* Fragment reassembly may keep and change what it is given. */
		memcpy(s->pkt, ip, p->len);
		nids_pcap_handler(NULL, &s->nhdr, s->pkt);
	} else {
		/*
		 * A whole segment is only read, and its payload copied into
		 * libnids' own buffers, before the handler returns: no copy
		 * of ours (x86 and the like read it unaligned). libnids
		 * takes a non-const pointer; it does not write through it.
		 */
		nids_pcap_handler(NULL, &s->nhdr, (u_char *)(uintptr_t)ip);
	}
	s->in_nids = false;
}

/* Any packet of a followed connection is activity, pure ACKs too. */
static void
touch(struct sniff *s, const struct sniff_ip4 *p)
{
	struct sniff_cx *x;

	if ((x = sniff_cx_find(s, p->src, p->dst, p->sport, p->dport)) != NULL)
		sniff_cx_touch(s, x);
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
		/* With tcp_workarounds off, only a full table says this. */
		how = SNIFF_CLOSE_EVICTED;
		s->st.evictions++;
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

/* The handshake is complete: follow it if its server is watched. */
static void
established(struct sniff *s, struct tcp_stream *ts, void **param)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct wb_addr server;
	struct sniff_cx *x;

	wb_addr_v4(&server, &ts->addr.daddr);
	if (!sniff_watched(&s->cfg, ts->addr.dest, &server))
		return;		/* no collect: libnids drops the stream */
	if ((x = sniff_cx_new(s, ts)) == NULL) {
		sniff_warn(s, W_NOMEM, "out of memory: not following %s:%u -> "
		    "%s:%u", ip4str((const uint8_t *)&ts->addr.saddr, a),
		    ts->addr.source, ip4str((const uint8_t *)&ts->addr.daddr,
		    b), ts->addr.dest);
		return;
	}
	ts->client.collect++;
	ts->server.collect++;
	*param = x;
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

static const char *
ip4str(const uint8_t *a, char *buf)
{
	if (inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN) == NULL)
		buf[0] = '\0';
	return buf;
}

/*
 * libnids' warning hook (nids_params.syslog). For TCP warnings it has
 * checked the IPv4 header: at least 20 bytes, ip_len bytes readable.
 */
static void
nids_warning(int type, int errnum, struct ip *iph, void *data)
{
	const uint8_t *ip = (const uint8_t *)iph, *th = data;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
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
			    what, ip4str(ip + 12, a), ip4str(ip + 16, b));
		break;
	case NIDS_WARN_TCP:
		if (errnum == NIDS_WARN_TCP_TOOMUCH)
			sniff_warn(s, (unsigned)errnum, "libnids: stream table "
			    "full (max_streams %d): evicting the oldest",
			    s->cfg.max_streams);
		else if (errnum == NIDS_WARN_TCP_HDR || th == NULL)
			sniff_warn(s, (unsigned)errnum, "libnids: %s, %s -> %s",
			    what, ip4str(ip + 12, a), ip4str(ip + 16, b));
		else
			sniff_warn(s, (unsigned)errnum, "libnids: %s, %s:%u -> "
			    "%s:%u", what, ip4str(ip + 12, a),
			    (unsigned)(th[0] << 8 | th[1]), ip4str(ip + 16, b),
			    (unsigned)(th[2] << 8 | th[3]));
		break;
	default:
		sniff_warn(s, W_UNKNOWN, "libnids: warning %d/%d", type, errnum);
		break;
	}
}

static void
stop_checksums(struct sniff *s, const uint8_t *ip)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	s->st.checksums_off = true;
	sniff_log("%s: checksums are wrong (%s -> %s first): offloaded on "
	    "the capturing host? not verifying them in this capture "
	    "(checksums = on keeps verifying)", s->name,
	    ip4str(ip + 12, a), ip4str(ip + 16, b));
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
