/*
 * internal.h - what the sniffer's files share and nobody else sees.
 *
 * One struct sniff per open capture (libnids allows one at a time). The
 * path of a frame: capture.c reads it, link.c finds the IP header, ip.c
 * checks every length against what was captured and decides whether
 * libnids gets it, reasm.c hands it to libnids and turns libnids'
 * callbacks into the caller's handlers, conn.c keeps the connections
 * (idle timeout, end of file), kill.c forges RSTs, log.c talks.
 */
#ifndef WIREBAN_SNIFFER_INTERNAL_H
#define WIREBAN_SNIFFER_INTERNAL_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sniffer.h"

struct tcp_stream;

/* Largest IPv4 packet: the size of the buffer libnids is fed from. */
#define SNIFF_IP_MAX	65535

/* One followed connection. pub is what the handlers see. */
struct sniff_cx {
	struct sniff_conn	 pub;
	struct tcp_stream	*stream;	/* libnids', while open */
	wb_usec			 last;		/* latest packet, packet time */
	struct sniff_cx		*prev, *next;	/* by last activity */
	struct sniff_cx		*hnext;		/* s->htab chain */
	uint32_t		 cip, sip;	/* client, server (net order) */
	uint32_t		 hash;
};

/* Rate limit of one kind of libnids warning (packet time). */
struct sniff_ratelimit {
	wb_usec		 last;
	uint64_t	 suppressed;
	bool		 seen;
};

#define SNIFF_NWARN	16

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
	int			 rawfd;		/* for sniff_kill, or -1 */
	char			*fbuf;		/* stdio buffer of a capture file */
	char			*name;		/* file or interface, for messages */
	char			 errmsg[512];
	struct sniff_stats	 st;
	wb_usec			 now;		/* latest packet time seen */
	wb_usec			 pkt_ts;	/* the current packet's own time */
	/*
	 * libnids keeps pointers to the last header and packet it was given
	 * (nids_last_pcap_header), so both live as long as the sniffer.
	 */
	struct pcap_pkthdr	 nhdr;
	uint8_t			*pkt;		/* SNIFF_IP_MAX bytes, aligned */
	struct sniff_cx		**htab;		/* by addresses and ports */
	size_t			 hmask;		/* buckets - 1 */
	struct sniff_cx		*lru_head;	/* least recently active */
	struct sniff_cx		*rel;		/* first not yet released */
	struct sniff_cx		*lru_tail;
	size_t			 nconns;
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

/* ip.c: header checks, the port filter, checksums. */
enum sniff_ipv {
	SNIFF_IP_FEED,		/* a whole TCP segment (or fragment) to follow */
	SNIFF_IP_SKIP,		/* fine, but not for us */
	SNIFF_IP_TRUNC,		/* cut by the snaplen: cannot be followed */
	SNIFF_IP_BAD,		/* lengths that cannot be right */
};
struct sniff_ip4 {
	size_t		 len;		/* IP total length, <= captured */
	bool		 frag;		/* a fragment: no ports to look at */
	uint8_t		 src[4], dst[4];
	uint16_t	 sport, dport;
};
enum sniff_ipv sniff_ip4_parse(const struct sniff_config *c, const uint8_t *p,
	    size_t caplen, struct sniff_ip4 *out);
enum sniff_ipv sniff_ip6_parse(const struct sniff_config *c, const uint8_t *p,
	    size_t caplen);
bool	 sniff_watched(const struct sniff_config *c, uint16_t port,
	    const struct wb_addr *a);
uint16_t sniff_ip_sum(const uint8_t *ip);
uint16_t sniff_tcp_sum(const uint8_t *ip, size_t len);
bool	 sniff_sums_ok(const uint8_t *ip, size_t len);

/* reasm.c: libnids. */
int	 sniff_reasm_init(struct sniff *s, char *err, size_t errlen);
void	 sniff_reasm_feed(struct sniff *s, const uint8_t *ip,
	    const struct sniff_ip4 *p);
void	 sniff_reasm_fini(struct sniff *s);

/* conn.c: the connection list. */
struct sniff_cx *sniff_cx_new(struct sniff *s, struct tcp_stream *ts);
struct sniff_cx *sniff_cx_find(struct sniff *s, const uint8_t *src,
	    const uint8_t *dst, uint16_t sport, uint16_t dport);
void	 sniff_cx_free_table(struct sniff *s);
void	 sniff_cx_touch(struct sniff *s, struct sniff_cx *x);
void	 sniff_cx_end(struct sniff *s, struct sniff_cx *x,
	    enum sniff_close how, wb_usec ts);
void	 sniff_cx_expire(struct sniff *s, wb_usec now);
void	 sniff_cx_release(struct sniff *s, wb_usec now);
void	 sniff_cx_end_all(struct sniff *s, enum sniff_close how);

/* kill.c: RSTs. */
int	 sniff_kill_open(struct sniff *s);
void	 sniff_kill_close(struct sniff *s);

/* log.c */
void	 sniff_log(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 sniff_warn(struct sniff *s, unsigned kind, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* capture.c: one frame, as read (also the fuzzers' entry). */
void	 sniff_frame(struct sniff *s, const struct pcap_pkthdr *hdr,
	    const uint8_t *data);

#endif
