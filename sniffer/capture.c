/*
 * capture.c - the libpcap handle: opening a file or an interface,
 * reading frames, sorting each into the counters, checksums, closing.
 *
 * Invariant: every frame read (and every IPv6 datagram reassembled from
 * fragments, v6.c) is counted in exactly one of ipv4, ipv6, ipv6_frags,
 * skipped, ipv6_uninspected, reserved4, other, malformed (truncated
 * counts across them), and is handled before the next is read. Packet
 * time only moves forward (s->now); idle connections, pending
 * handshakes and fragments are expired before each frame.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SNAPLEN		262144
/*
 * The live ring: TPACKET_V3 (libpcap's default without immediate mode)
 * hands over blocks of packets, waking the capture thread when a block
 * is full or after LIVE_TIMEOUT_MS. Immediate mode (TPACKET_V2) woke it
 * almost per packet: at 200,000 packets/s 583,399 polls and 214,626
 * context switches against V3's 10,768 and 7,482, and drops at every
 * rate from 100,000 packets/s up (tests/bench, bench-net.sh). The price
 * is at most 10 ms more from a reply to its ban. The ring
 * (capture.buffer, 64 MiB by default) holds 200 ms at 320 MB/s.
 */
#define LIVE_TIMEOUT_MS	10
#define LIVE_BATCH	4096	/* packets per dispatch: stay responsive */
/*
 * stdio's default 4 KiB buffer costs one read(2) per 4 KiB, which on a
 * VM dominated a replay's profile; 1 MiB makes reading a large capture
 * twice as fast (see tests/bench).
 */
#define FILE_BUFFER	(1024 * 1024)
#define MAX_STREAMS_MAX	(1 << 24)
#define MAX_HS_MAX	(1 << 22)
#define HS_TIMEOUT_MAX	(600 * WB_USEC_PER_SEC)
#define IDLE_MAX	(366LL * 24 * 3600 * WB_USEC_PER_SEC)
/* 2^63 us is 292,000 years: clamp what a hostile pcapng may claim. */
#define SEC_MAX		(INT64_MAX / WB_USEC_PER_SEC - 1)

static int	 check_config(const struct sniff_config *, char *, size_t);
static struct sniff *sniff_new(const struct sniff_config *, const char *,
		    const struct sniff_handlers *, char *, size_t);
static int	 start(struct sniff *, pcap_t *, char *, size_t);
static wb_usec	 usec(const struct timeval *);
static void	 at_eof(struct sniff *);
static void	 expire(struct sniff *, wb_usec);
static void	 frame4(struct sniff *, const uint8_t *, size_t, bool);

static int
check_config(const struct sniff_config *c, char *err, size_t errlen)
{
	size_t i;

	if (c->nports == 0 || c->nports > SNIFF_MAX_PORTS) {
		snprintf(err, errlen, "ports: 1 to %d needed", SNIFF_MAX_PORTS);
		return -1;
	}
	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == 0) {
			snprintf(err, errlen, "ports: 0 is not a port");
			return -1;
		}
	if (c->nservers > SNIFF_MAX_SERVERS) {
		snprintf(err, errlen, "servers: at most %d", SNIFF_MAX_SERVERS);
		return -1;
	}
	if (c->max_streams < 1 || c->max_streams > MAX_STREAMS_MAX) {
		snprintf(err, errlen, "max_streams: 1 to %d", MAX_STREAMS_MAX);
		return -1;
	}
	if (c->max_handshakes < 1 || c->max_handshakes > MAX_HS_MAX) {
		snprintf(err, errlen, "max_handshakes: 1 to %d", MAX_HS_MAX);
		return -1;
	}
	if (c->handshake_timeout < WB_USEC_PER_SEC / 1000 ||
	    c->handshake_timeout > HS_TIMEOUT_MAX) {
		snprintf(err, errlen, "handshake_timeout: 1 ms to 600 s");
		return -1;
	}
	if (c->buffer < (1u << 20) || c->buffer > (1u << 30)) {
		snprintf(err, errlen, "buffer: 1 MiB to 1 GiB");
		return -1;
	}
	if (c->idle_timeout < 0 || c->idle_timeout > IDLE_MAX) {
		snprintf(err, errlen, "idle_timeout: 0 to 366 days");
		return -1;
	}
	if (c->checksums != SNIFF_CSUM_AUTO && c->checksums != SNIFF_CSUM_ON &&
	    c->checksums != SNIFF_CSUM_OFF) {
		snprintf(err, errlen, "checksums: auto, on or off");
		return -1;
	}
	return 0;
}

/* Returns a sniffer with nothing open yet (sniff_close frees it). */
static struct sniff *
sniff_new(const struct sniff_config *c, const char *name,
    const struct sniff_handlers *h, char *err, size_t errlen)
{
	struct sniff *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->name = strdup(name)) == NULL ||
	    (s->pkt = malloc(SNIFF_IP_MAX)) == NULL ||
	    (s->pkt6 = malloc(SNIFF_IP_MAX)) == NULL ||
	    (s->dgram4 = malloc(SNIFF_IP_MAX)) == NULL ||
	    (s->dgram6 = malloc(SNIFF_IP6_DGRAM_MAX)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		if (s != NULL) {
			free(s->name);
			free(s->pkt);
			free(s->pkt6);
			free(s->dgram4);
			free(s);
		}
		return NULL;
	}
	s->cfg = *c;
	if (h != NULL)
		s->h = *h;
	s->rawfd = s->rawfd6 = -1;
	sniff_hkey_init(&s->key);
	/* Each pending handshake and connection holds two addresses. */
	sniff_map6_init(&s->map6, (uint32_t)(2 * ((uint64_t)c->max_streams +
	    (uint64_t)c->max_handshakes + 2)), &s->key);
	sniff_frag6_init(&s->frag6, SNIFF_FRAG6_DGRAMS, SNIFF_FRAG6_BYTES,
	    SNIFF_FRAG6_TIMEOUT, &s->key);
	return s;
}

/* Takes p (closed by sniff_close, also on failure). */
static int
start(struct sniff *s, pcap_t *p, char *err, size_t errlen)
{
	s->pcap = p;
	s->dlt = pcap_datalink(p);
	if (!sniff_link_supported(s->dlt)) {
		snprintf(err, errlen, "%s: link type %d (%s) not supported",
		    s->name, s->dlt, pcap_datalink_val_to_name(s->dlt) != NULL ?
		    pcap_datalink_val_to_name(s->dlt) : "unknown");
		return -1;
	}
	return sniff_reasm_init(s, err, errlen);
}

struct sniff *
sniff_open_file(const struct sniff_config *c, const char *path,
    const struct sniff_handlers *h, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE], *fbuf;
	unsigned char magic[2];
	struct sniff *s;
	pcap_t *p;
	FILE *fp;

	if (check_config(c, err, errlen) == -1)
		return NULL;
	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* glibc ignores the size when it is to allocate the buffer itself. */
	fbuf = NULL;
	if (fp != stdin && (fbuf = malloc(FILE_BUFFER)) != NULL &&
	    setvbuf(fp, fbuf, _IOFBF, FILE_BUFFER) != 0) {
		free(fbuf);
		fbuf = NULL;
	}
	ebuf[0] = '\0';
	if ((p = pcap_fopen_offline(fp, ebuf)) == NULL) {
		/* libpcap would say "unknown file format" of a .gz */
		if (fp != stdin && fseek(fp, 0, SEEK_SET) == 0 &&
		    fread(magic, 1, 2, fp) == 2 &&
		    magic[0] == 0x1f && magic[1] == 0x8b)
			snprintf(err, errlen, "%s: gzip-compressed: gunzip it "
			    "first", path);
		else
			snprintf(err, errlen, "%s: %s", path, ebuf);
		if (fp != stdin)
			fclose(fp);
		free(fbuf);
		return NULL;
	}
	if ((s = sniff_new(c, path, h, err, errlen)) == NULL) {
		pcap_close(p);
		free(fbuf);
		return NULL;
	}
	s->fbuf = fbuf;		/* freed after pcap_close closes fp */
	if (start(s, p, err, errlen) == -1) {
		sniff_close(s);
		return NULL;
	}
	return s;
}

struct sniff *
sniff_open_live(const struct sniff_config *c, const char *iface,
    const struct sniff_handlers *h, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct sniff *s;
	pcap_t *p;
	int r;

	if (check_config(c, err, errlen) == -1)
		return NULL;
	ebuf[0] = '\0';
	if ((p = pcap_create(iface, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		return NULL;
	}
	if ((s = sniff_new(c, iface, h, err, errlen)) == NULL) {
		pcap_close(p);
		return NULL;
	}
	s->live = true;
	s->pcap = p;
	if (pcap_set_snaplen(p, SNAPLEN) != 0 ||
	    pcap_set_promisc(p, 1) != 0 ||
	    pcap_set_immediate_mode(p, 0) != 0 ||
	    pcap_set_timeout(p, LIVE_TIMEOUT_MS) != 0 ||
	    pcap_set_buffer_size(p, (int)c->buffer) != 0) {
		snprintf(err, errlen, "%s: cannot set capture options", iface);
		goto fail;
	}
	if ((r = pcap_activate(p)) < 0) {
		snprintf(err, errlen, "%s: %s", iface, pcap_geterr(p)[0] != '\0' ?
		    pcap_geterr(p) : pcap_statustostr(r));
		goto fail;
	}
	if (r > 0)
		sniff_log("%s: %s", iface, pcap_geterr(p));
	if (sniff_live_filter(s, err, errlen) == -1)
		goto fail;
	if (pcap_setnonblock(p, 1, ebuf) == -1) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		goto fail;
	}
	if (start(s, p, err, errlen) == -1)
		goto fail;
	(void)sniff_kill_open(s);
	return s;
fail:
	sniff_close(s);		/* closes p too */
	return NULL;
}

static wb_usec
usec(const struct timeval *tv)
{
	int64_t sec = (int64_t)tv->tv_sec, us = (int64_t)tv->tv_usec;

	if (sec < 0)
		sec = 0;
	if (sec > SEC_MAX)
		sec = SEC_MAX;
	if (us < 0 || us >= WB_USEC_PER_SEC)
		us = 0;
	return sec * WB_USEC_PER_SEC + us;
}

/* What packet time ends, as of now. Not from inside libnids. */
static inline void
expire(struct sniff *s, wb_usec now)
{
	if (s->nconns > 0)
		sniff_cx_tick(s, now);
	/* Per frame: the heads are looked at here, the calls are rare. */
	if (s->gate.head != NULL &&
	    now - s->gate.head->last >= s->cfg.handshake_timeout)
		sniff_gate_expire(s, now);
	if (s->frag6.head != NULL)
		sniff_frag6_expire(&s->frag6, now);
}

/* Checksums are to be verified: not off, not switched off by auto. */
bool
sniff_csum_wanted(const struct sniff *s)
{
	return s->cfg.checksums != SNIFF_CSUM_OFF && !s->st.checksums_off;
}

/*
 * A packet of family af (4 or 6) with these addresses has a wrong sum.
 * Returns true when it is to be dropped (checksums = on, counted in
 * badsum). "auto": a capture taken on a host whose NIC computes
 * checksums (offload) holds that host's outgoing packets before the NIC
 * filled them in: wrong TCP sums from Linux, 0x0000 IPv4 header sums
 * from Windows and macOS, both in synthetic captures. Dropping them
 * would make whole sessions vanish silently. So auto verifies until a
 * packet of either family has a wrong sum, then stops verifying for the
 * rest of the capture and says so once; the packet goes on all the
 * same. The price: from then on a forged packet with a wrong sum, which
 * the real endpoints discard, is believed. Only an attacker on the path
 * can mount that, and "checksums = on" (a sensor on a mirror port, which
 * sees no offload) closes it.
 */
bool
sniff_csum_bad(struct sniff *s, int af, const uint8_t *src,
    const uint8_t *dst)
{
	char a[WB_ADDR_STRLEN], b[WB_ADDR_STRLEN];
	int fam = af == 6 ? AF_INET6 : AF_INET;

	if (inet_ntop(fam, src, a, sizeof(a)) == NULL)
		a[0] = '\0';
	if (inet_ntop(fam, dst, b, sizeof(b)) == NULL)
		b[0] = '\0';
	if (s->cfg.checksums == SNIFF_CSUM_AUTO) {
		s->st.checksums_off = true;
		sniff_log("%s: checksums are wrong (%s -> %s first): offloaded "
		    "on the capturing host? not verifying them in this "
		    "capture (checksums = on keeps verifying)", s->name, a, b);
		return false;
	}
	s->st.badsum++;
	sniff_warn(s, W_BADSUM, "bad checksum, %s -> %s: dropped "
	    "(checksums = on)", a, b);
	return true;
}

/* An IPv4 address as libnids has it: synthetic ones as their IPv6. */
const char *
sniff_addr4_str(const struct sniff *s, const uint8_t *a4, char *buf)
{
	const uint8_t *a6;
	uint32_t v;

	memcpy(&v, a4, 4);
	if (sniff_synthetic(a4) && (a6 = sniff_map6_addr(&s->map6, v)) !=
	    NULL) {
		if (inet_ntop(AF_INET6, a6, buf, WB_ADDR_STRLEN) == NULL)
			buf[0] = '\0';
	} else if (inet_ntop(AF_INET, a4, buf, WB_ADDR_STRLEN) == NULL)
		buf[0] = '\0';
	return buf;
}

static void
frame4(struct sniff *s, const uint8_t *p, size_t caplen, bool cut)
{
	struct sniff_ip4 o;
	struct sniff_seg g;

	switch (sniff_ip4_parse(&s->cfg, p, caplen, &o)) {
	case SNIFF_IP_FEED:
		s->st.ipv4++;
		if (o.frag) {
			sniff_reasm_frag4(s, p, o.len);
			return;
		}
		if (sniff_csum_wanted(s) && !sniff_sums_ok(p, o.len) &&
		    sniff_csum_bad(s, 4, p + 12, p + 16))
			return;
		sniff_seg_fill(&g, p, o.len, o.hl, o.thl);
		sniff_tcp_in(s, &g);
		return;
	case SNIFF_IP_SKIP:
		s->st.skipped++;
		return;
	case SNIFF_IP_RESERVED:
		s->st.reserved4++;
		return;
	case SNIFF_IP_TRUNC:
		if (cut)
			s->st.skipped++;
		else
			s->st.malformed++;
		return;
	default:
		s->st.malformed++;
		return;
	}
}

static void
sniff_frame(struct sniff *s, const struct pcap_pkthdr *hdr,
    const uint8_t *data)
{
	struct sniff_l3 l3;
	size_t caplen = hdr->caplen;
	bool cut = hdr->caplen < hdr->len;

	s->st.packets++;
	s->st.bytes += hdr->len;
	if (cut)
		s->st.truncated++;
	s->pkt_ts = usec(&hdr->ts);
	if (s->pkt_ts > s->now)
		s->now = s->pkt_ts;
	expire(s, s->now);

	sniff_link_decode(s->dlt, data, caplen, &l3);
	switch (l3.family) {
	case 4:
		frame4(s, data + l3.off, caplen - l3.off, cut);
		break;
	case 6:
		sniff_v6_in(s, data + l3.off, caplen - l3.off, cut, false);
		break;
	default:
		s->st.other++;
		break;
	}
}

/* The capture is over: close what is open and reset libnids. */
static void
at_eof(struct sniff *s)
{
	s->eof = true;
	sniff_reasm_fini(s);
}

int
sniff_dispatch(struct sniff *s, int max, char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int n, r, limit;

	if (s->in_nids) {
		snprintf(err, errlen, "%s: sniff_dispatch from a handler",
		    s->name);
		return -1;
	}
	if (s->failed) {
		snprintf(err, errlen, "%s", s->errmsg);
		return -1;
	}
	if (s->eof || !s->nids_up)
		return 0;
	if (max < 0)
		limit = s->live ? LIVE_BATCH : INT_MAX;
	else
		limit = max;
	for (n = 0; n < limit; n++) {
		r = pcap_next_ex(s->pcap, &hdr, &data);
		if (r == 1) {
			sniff_frame(s, hdr, data);
			continue;
		}
		if (r == 0)		/* live: nothing more ready */
			break;
		if (r == PCAP_ERROR_BREAK) {
			if (!s->live)
				at_eof(s);
			break;
		}
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s", s->name,
		    pcap_geterr(s->pcap));
		s->failed = true;
		snprintf(err, errlen, "%s", s->errmsg);
		return -1;
	}
	return n;
}

int
sniff_fd(const struct sniff *s)
{
	if (!s->live || s->pcap == NULL)
		return -1;
	return pcap_get_selectable_fd(s->pcap);
}

void
sniff_expire(struct sniff *s, wb_usec now)
{
	if (s->in_nids || !s->nids_up)
		return;
	if (now > s->now)
		s->now = now;
	expire(s, s->now);
}

void
sniff_get_stats(struct sniff *s, struct sniff_stats *st)
{
	struct pcap_stat ps;

	if (s->live && s->pcap != NULL && pcap_stats(s->pcap, &ps) == 0) {
		s->st.pcap_recv = ps.ps_recv;
		s->st.pcap_drop = ps.ps_drop;
		s->st.pcap_ifdrop = ps.ps_ifdrop;
	}
	s->st.frag6_reassembled = s->frag6.reassembled;
	s->st.frag6_overlap = s->frag6.overlap;
	s->st.frag6_timeout = s->frag6.timeouts;
	s->st.frag6_full = s->frag6.full;
	s->st.conns_open = s->nconns;
	s->st.hs_pending = s->gate.n;
	*st = s->st;
}

void
sniff_close(struct sniff *s)
{
	if (s == NULL)
		return;
	sniff_reasm_fini(s);
	sniff_kill_close(s);
	sniff_frag6_fini(&s->frag6);
	sniff_map6_fini(&s->map6);
	if (s->pcap != NULL)
		pcap_close(s->pcap);
	free(s->fbuf);
	free(s->pkt);
	free(s->pkt6);
	free(s->dgram4);
	free(s->dgram6);
	free(s->name);
	free(s);
}
