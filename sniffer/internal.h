/*
 * internal.h - what the sniffer's files share and nobody else sees.
 *
 * One struct sniff per open capture (libnids allows one at a time). The
 * path of a frame: capture.c reads it and counts it, link.c finds the IP
 * header, ip.c checks an IPv4 header, ip6.c walks an IPv6 one (frag6.c
 * reassembles IPv6 fragments, v6.c verifies the sum and turns the
 * segment into an IPv4 one whose addresses map6.c lends from 240/4),
 * tcp.c sends each TCP segment where it belongs: to its followed
 * connection, to the handshake gate (gate.c), or nowhere. reasm.c feeds
 * libnids and turns its callbacks into the caller's handlers, conn.c
 * keeps the connections (idle and busy lists, eviction, idle timeout),
 * kill.c forges RSTs, log.c talks, hash.c keys the tables an attacker
 * fills.
 */
#ifndef WIREBAN_SNIFFER_INTERNAL_H
#define WIREBAN_SNIFFER_INTERNAL_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sniffer.h"

struct tcp_stream;

/* Largest IPv4 packet: the size of the buffers libnids is fed from. */
#define SNIFF_IP_MAX	65535
/* IPv6 extension headers: at most this many, this many bytes in all. */
#define SNIFF_IP6_MAX_EXT	8
#define SNIFF_IP6_EXT_BYTES	512
/* Largest reassembled IPv6 datagram: header, extensions, payload. */
#define SNIFF_IP6_DGRAM_MAX	(40 + SNIFF_IP6_EXT_BYTES + 65535)

#define TH_FIN_	0x01
#define TH_SYN_	0x02
#define TH_RST_	0x04
#define TH_ACK_	0x10

/* hash.c: keyed hashes under a key drawn when the sniffer opens. */
struct sniff_hkey {
	uint64_t	 k0, k1;
	uint32_t	 nh[4];		/* NH's, derived from k0, k1 */
};
void	 sniff_hkey_init(struct sniff_hkey *k);
void	 sniff_hkey_set(struct sniff_hkey *k, uint64_t k0, uint64_t k1);
uint64_t sniff_siphash(const struct sniff_hkey *k, const void *p, size_t n);
uint32_t sniff_hash16(const struct sniff_hkey *k, const uint8_t *p);
uint32_t sniff_hash2(const struct sniff_hkey *k, uint32_t a, uint32_t b);

/* map6.c: IPv6 address <-> synthetic IPv4 address in 240.0.0.0/4. */
struct sniff_m6e;
struct sniff_map6 {
	struct sniff_m6e	**chunks;	/* SNIFF_M6_CHUNK entries each */
	uint32_t		*heads;		/* buckets: index + 1, 0 none */
	uint32_t		 hmask;
	uint32_t		 cap;		/* entries at most */
	uint32_t		 n;		/* entries made (used or free) */
	uint32_t		 used;		/* entries with references */
	uint32_t		 fhead, ftail;	/* released ones: index + 1 */
	struct sniff_hkey	 key;
};
void	 sniff_map6_init(struct sniff_map6 *m, uint32_t cap,
	    const struct sniff_hkey *key);
void	 sniff_map6_fini(struct sniff_map6 *m);
uint32_t sniff_map6_find(const struct sniff_map6 *m, const uint8_t *a6);
uint32_t sniff_map6_ref(struct sniff_map6 *m, const uint8_t *a6);
void	 sniff_map6_hold(struct sniff_map6 *m, uint32_t a4);
void	 sniff_map6_unref(struct sniff_map6 *m, uint32_t a4);
const uint8_t *sniff_map6_addr(const struct sniff_map6 *m, uint32_t a4);

/* An address in 240.0.0.0/4: lent to IPv6, or a real one to drop. */
static inline bool
sniff_synthetic(const uint8_t *a4)
{
	return (a4[0] & 0xf0) == 0xf0;
}

/* frag6.c: IPv6 fragment reassembly (RFC 8200, RFC 5722). */
struct sniff_dg6;
struct sniff_frag6 {
	struct sniff_dg6	*pool;		/* max_dgrams, made on first use */
	struct sniff_dg6	*free;
	struct sniff_dg6	**htab;
	size_t			 hmask;
	struct sniff_dg6	*head, *tail;	/* by first fragment's time */
	size_t			 max_dgrams, ndgrams;
	size_t			 max_bytes, bytes;
	wb_usec			 timeout;
	struct sniff_hkey	 key;
	uint64_t		 reassembled, overlap, timeouts, full;
};
enum sniff_f6 {
	SNIFF_F6_HELD,		/* kept (or an ignored duplicate) */
	SNIFF_F6_DONE,		/* the datagram is whole: in out */
	SNIFF_F6_DROPPED,	/* its datagram was (or is now) dropped */
	SNIFF_F6_BAD,		/* a fragment that cannot be right */
};
#define SNIFF_FRAG6_DGRAMS	1024
#define SNIFF_FRAG6_BYTES	(8 * 1024 * 1024)
#define SNIFF_FRAG6_FRAGS	64	/* fragments per datagram */
#define SNIFF_FRAG6_TIMEOUT	(60 * WB_USEC_PER_SEC)	/* RFC 8200 */
void	 sniff_frag6_init(struct sniff_frag6 *f, size_t max_dgrams,
	    size_t max_bytes, wb_usec timeout, const struct sniff_hkey *key);
void	 sniff_frag6_fini(struct sniff_frag6 *f);
enum sniff_f6 sniff_frag6_add(struct sniff_frag6 *f, const uint8_t *ip,
	    size_t len, size_t nhoff, size_t fhoff, wb_usec now, uint8_t *out,
	    size_t *outlen);
void	 sniff_frag6_expire(struct sniff_frag6 *f, wb_usec now);

/* One followed connection. pub is what the handlers see. */
struct sniff_cx {
	struct sniff_conn	 pub;
	struct sniff		*s;
	struct tcp_stream	*stream;	/* libnids', while open */
	wb_usec			 last;		/* latest packet, packet time */
	struct sniff_cx		*prev, *next;	/* its list, by last activity */
	struct sniff_cx		*hnext;		/* s->htab chain */
	uint32_t		 cip, sip;	/* as libnids sees them */
	uint32_t		 hash;
	bool			 busy;		/* in s->lru[1] */
	bool			 v6;		/* cip, sip are map6 references */
	bool			 hs_pending;	/* a new handshake on its ports */
};

/* A list of connections by last activity, least recent first. */
struct sniff_lru {
	struct sniff_cx		*head, *tail;
	struct sniff_cx		*rel;		/* first not yet released */
};

/* One pending handshake (gate.c). */
struct sniff_hs {
	struct sniff_hs		*prev, *next;	/* by last SYN or SYN-ACK */
	struct sniff_hs		*hnext;
	wb_usec			 last;
	uint32_t		 cip, sip;	/* network order, maybe synthetic */
	uint16_t		 cport, sport;
	uint32_t		 hash;
	uint32_t		 syn_seq, synack_seq;
	uint8_t			 syn[60], synack[60];	/* TCP headers */
	uint8_t			 syn_len, synack_len;	/* 0: none yet */
	bool			 v6;
};

struct sniff_gate {
	struct sniff_hs		**chunks;
	size_t			 nchunks;
	struct sniff_hs		*free;
	struct sniff_hs		**htab;
	size_t			 hmask;
	struct sniff_hs		*head, *tail;
	size_t			 n;
};

/* Rate limit of one kind of warning (packet time). */
struct sniff_ratelimit {
	wb_usec		 last;
	uint64_t	 suppressed;
	bool		 seen;
};

#define SNIFF_NWARN	20

/* One TCP segment on its way (tcp.c), as an IPv4 packet. */
struct sniff_seg {
	const uint8_t	*ip;		/* what libnids gets */
	size_t		 len;		/* its total length */
	const uint8_t	*th;		/* its TCP header */
	size_t		 thl;		/* TCP header length */
	uint32_t	 src, dst;	/* as in ip: network order */
	uint16_t	 sport, dport;	/* host order */
	uint8_t		 flags;
	bool		 v6;		/* src, dst are synthetic */
	const uint8_t	*src6, *dst6;	/* the real ones, when v6 */
};
/* Sequence and acknowledgment numbers: only the gate needs them. */
#define SEG_SEQ(g)	sniff_rd32((g)->th + 4)
#define SEG_ACK(g)	sniff_rd32((g)->th + 8)

struct sniff {
	struct sniff_config	 cfg;
	struct sniff_handlers	 h;
	pcap_t			*pcap;
	pcap_t			*dead;		/* DLT_RAW handle libnids "reads" */
	int			 dlt;
	bool			 live;
	bool			 eof;
	bool			 failed;
	bool			 nids_up;
	bool			 in_nids;	/* inside nids_pcap_handler */
	int			 rawfd, rawfd6;	/* for sniff_kill, or -1 */
	char			*fbuf;		/* stdio buffer of a capture file */
	char			*name;		/* file or interface, for messages */
	char			 errmsg[512];
	struct sniff_stats	 st;
	wb_usec			 now;		/* latest packet time seen */
	wb_usec			 pkt_ts;	/* the current packet's own time */
	/*
	 * libnids keeps pointers to the last header and packet it was given
	 * (nids_last_pcap_header), so all of these live as long as the
	 * sniffer.
	 */
	struct pcap_pkthdr	 nhdr;
	uint8_t			*pkt;		/* SNIFF_IP_MAX: IPv4 fragments */
	uint8_t			*pkt6;		/* SNIFF_IP_MAX: translated IPv6 */
	uint8_t			*dgram4;	/* SNIFF_IP_MAX: defragmented v4 */
	size_t			 dgram4_len;	/* 0: none came out */
	bool			 in_frag4;
	uint8_t			*dgram6;	/* SNIFF_IP6_DGRAM_MAX */
	uint8_t			 hspkt[80];	/* a stored SYN or SYN-ACK */
	struct sniff_cx		**htab;		/* by addresses and ports */
	size_t			 hmask;		/* buckets - 1 */
	struct sniff_lru	 lru[2];	/* [0] not busy, [1] busy */
	size_t			 nconns;
	const struct sniff_hs	*admitting;	/* being fed to libnids */
	struct sniff_cx		*admitted;	/* set by the JUST_EST callback */
	struct sniff_gate	 gate;
	struct sniff_map6	 map6;
	struct sniff_frag6	 frag6;
	struct sniff_hkey	 key;
	struct sniff_ratelimit	 warn[SNIFF_NWARN];
};

/* link.c: where the network layer starts in a frame. */
struct sniff_l3 {
	size_t	 off;		/* of the IP header in the frame */
	int	 family;	/* 4, 6, or 0: neither */
};
bool	 sniff_link_supported(int dlt);
void	 sniff_link_decode(int dlt, const uint8_t *f, size_t caplen,
	    struct sniff_l3 *l3);

/* ip.c and ip6.c: header checks, the port filter, checksums. */
enum sniff_ipv {
	SNIFF_IP_FEED,		/* a whole TCP segment (or v4 fragment) to follow */
	SNIFF_IP_FRAG,		/* an IPv6 fragment to reassemble */
	SNIFF_IP_SKIP,		/* fine, but not for us */
	SNIFF_IP_UNINSPECTED,	/* IPv6 we cannot follow: AH, ESP, ... */
	SNIFF_IP_RESERVED,	/* IPv4 TCP from or to 240.0.0.0/4 */
	SNIFF_IP_TRUNC,		/* cut by the snaplen: cannot be followed */
	SNIFF_IP_BAD,		/* lengths that cannot be right */
};
struct sniff_ip4 {
	size_t		 len;		/* IP total length, <= captured */
	size_t		 hl;		/* IP header length */
	size_t		 thl;		/* TCP header length (not a fragment) */
	bool		 frag;		/* a fragment: no ports to look at */
	uint8_t		 src[4], dst[4];
	uint16_t	 sport, dport;
};
struct sniff_ip6 {
	size_t		 len;		/* 40 + payload length, <= captured */
	size_t		 thoff;		/* FEED: the TCP header */
	size_t		 thl;		/* FEED: its length */
	size_t		 nhoff;		/* FRAG: the byte that says 44 */
	size_t		 fhoff;		/* FRAG: the fragment header */
	uint16_t	 sport, dport;
	const char	*why;		/* BAD, UNINSPECTED: what it was */
};
enum sniff_ipv sniff_ip4_parse(const struct sniff_config *c, const uint8_t *p,
	    size_t caplen, struct sniff_ip4 *out);
enum sniff_ipv sniff_ip6_parse(const struct sniff_config *c, const uint8_t *p,
	    size_t caplen, bool reassembled, struct sniff_ip6 *out);
bool	 sniff_watched(const struct sniff_config *c, uint16_t port,
	    const struct wb_addr *a);
uint16_t sniff_tcp_sum(const uint8_t *ip, size_t len);
uint16_t sniff_tcp6_sum(const uint8_t *ip6, const uint8_t *th, size_t tlen);
bool	 sniff_sums_ok(const uint8_t *ip, size_t len);
bool	 sniff_tcp4_ok(const uint8_t *ip, size_t len);

/* capture.c: checksums, for both families. */
bool	 sniff_csum_wanted(const struct sniff *s);
bool	 sniff_csum_bad(struct sniff *s, int af, const uint8_t *src,
	    const uint8_t *dst);
const char *sniff_addr4_str(const struct sniff *s, const uint8_t *a4,
	    char *buf);

/* v6.c: an IPv6 packet (a frame's, or reassembled). */
void	 sniff_v6_in(struct sniff *s, const uint8_t *p, size_t caplen,
	    bool cut, bool reassembled);

/* tcp.c: where a segment goes. */
void	 sniff_tcp_in(struct sniff *s, struct sniff_seg *g);

static inline uint32_t
sniff_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ip holds len checked bytes: an IPv4 header of hl, TCP header of thl. */
static inline void
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
	g->flags = th[13];
	g->v6 = false;
	g->src6 = g->dst6 = NULL;
}

/* gate.c: handshakes until the client's ACK. */
void	 sniff_gate_syn(struct sniff *s, const struct sniff_seg *g,
	    struct sniff_cx *old);
void	 sniff_gate_synack(struct sniff *s, const struct sniff_seg *g);
bool	 sniff_gate_ack(struct sniff *s, const struct sniff_seg *g,
	    struct sniff_cx *old);
void	 sniff_gate_rst(struct sniff *s, const struct sniff_seg *g);
void	 sniff_gate_expire(struct sniff *s, wb_usec now);
void	 sniff_gate_fini(struct sniff *s);

/* reasm.c: libnids. */
int	 sniff_reasm_init(struct sniff *s, char *err, size_t errlen);
void	 sniff_reasm_feed(struct sniff *s, const struct sniff_seg *g);
void	 sniff_reasm_frag4(struct sniff *s, const uint8_t *ip, size_t len);
bool	 sniff_reasm_admit(struct sniff *s, const struct sniff_hs *hs,
	    const struct sniff_seg *ack);
void	 sniff_reasm_fini(struct sniff *s);

/* conn.c: the connection lists. */
struct sniff_cx *sniff_cx_new(struct sniff *s, struct tcp_stream *ts,
	    bool v6);
struct sniff_cx *sniff_cx_find(struct sniff *s, uint32_t src, uint32_t dst,
	    uint16_t sport, uint16_t dport);
void	 sniff_cx_free_table(struct sniff *s);
void	 sniff_cx_touch(struct sniff *s, struct sniff_cx *x);
void	 sniff_cx_end(struct sniff *s, struct sniff_cx *x,
	    enum sniff_close how, wb_usec ts);
void	 sniff_cx_drop(struct sniff *s, struct sniff_cx *x,
	    enum sniff_close how);
void	 sniff_cx_make_room(struct sniff *s);
void	 sniff_cx_tick(struct sniff *s, wb_usec now);
void	 sniff_cx_end_all(struct sniff *s, enum sniff_close how);

/* filter.c: the live capture's BPF filter. */
int	 sniff_filter_expr(const struct sniff_config *c, bool vlan, char *buf,
	    size_t len);
int	 sniff_live_filter(struct sniff *s, char *err, size_t errlen);

/* kill.c: RSTs. */
int	 sniff_kill_open(struct sniff *s);
void	 sniff_kill_close(struct sniff *s);

/* log.c */
void	 sniff_log(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 sniff_warn(struct sniff *s, unsigned kind, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Kinds for sniff_warn()'s rate limit: libnids' errnums are 1..9. */
#define W_BADSUM	10
#define W_NOMEM		11
#define W_UNKNOWN	12
#define W_EVICT		13
#define W_HSFULL	14
#define W_MAP6		15
#define W_FRAG6		16


#endif
