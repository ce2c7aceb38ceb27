/*
 * sniffrec.h - what the sniffer suites share: TCP conversations written
 * into capture files (IPv4 or IPv6, any link layer), handlers that record
 * what the sniffer makes of them, and running a sniffer over a file.
 *
 * Uses Check: a helper that cannot do its job fails the test.
 */
#ifndef WIREBAN_TESTS_SNIFFREC_H
#define WIREBAN_TESTS_SNIFFREC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pcapw.h"
#include "sniffer.h"

#define T0		(1700000000LL * WB_USEC_PER_SEC)
#define MINUTE		(60 * WB_USEC_PER_SEC)
#define MAXLOG		32
#define FRAME_MAX	70000

#define F_FIN	PCAPW_FIN
#define F_SYN	PCAPW_SYN
#define F_RST	PCAPW_RST
#define F_PSH	PCAPW_PSH
#define F_ACK	PCAPW_ACK

/* A capture file being written. */
struct cap {
	FILE		*f;
	struct pcapw	 w;
	char		 path[64];
};

void	 cap_open(struct cap *c, int linktype, bool ng);
void	 cap_write(struct cap *c, wb_usec ts, const uint8_t *d, size_t caplen,
	    size_t len);
void	 cap_close(struct cap *c);

/* A TCP conversation being written. */
struct conv {
	struct cap	 cap;
	enum pcapw_link	 link;
	int		 af;		/* 4 or 6 */
	uint8_t		 cip[16], sip[16];
	uint16_t	 cport, sport;
	uint32_t	 cseq, sseq;
	wb_usec		 t;
	bool		 badsum[2];	/* corrupt TCP sums: [0] client */
	bool		 ipsum0[2];	/* zero IPv4 header sums */
	const uint8_t	*opts[2];	/* TCP options: [0] client's */
	size_t		 optlen[2];
	bool		 opts_all;	/* on every segment, not SYNs only */
	uint16_t	 win[2];	/* advertised windows; 0: 65535 */
	wb_usec		 step;		/* time between frames; 0: 1 ms */
	size_t		 cut;		/* next packet: caplen */
	size_t		 npkts;
};

/* 10.0.0.1:40000 -> 10.0.0.2:25 (af 4), 2001:db8::1 -> 2001:db8::2. */
void	 conv_init(struct conv *v, enum pcapw_link link, bool ng);
void	 conv_init6(struct conv *v, enum pcapw_link link, bool ng);
/* v writes into host's capture file from now on (its own is removed). */
void	 conv_join(struct conv *v, const struct conv *host);
/* The IP packet of one segment, with v's sums applied; its length. */
size_t	 conv_packet(struct conv *v, uint8_t *ip, bool from_client,
	    uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
	    size_t len);
void	 conv_frame(struct conv *v, const uint8_t *ip, size_t len);
void	 seg_at(struct conv *v, bool from_client, uint8_t flags, uint32_t seq,
	    const void *data, size_t len);
void	 seg(struct conv *v, bool from_client, uint8_t flags,
	    const char *text);
void	 say(struct conv *v, bool from_client, const char *text);
void	 handshake(struct conv *v);
void	 fin_close(struct conv *v);
void	 dialog(struct conv *v);	/* the standard script */
const char *transcript(void);		/* "S>...C>..." of the script */
const char *side_bytes(char who);	/* 'C' or 'S': one side's bytes */

/* What the recording handlers saw of one connection. */
struct rconn {
	uint64_t	 id;
	char		 client[WB_ADDR_STRLEN], server[WB_ADDR_STRLEN];
	uint16_t	 cport, sport;
	char		*bytes[2];	/* NUL-terminated, per direction */
	size_t		 len[2];
	char		*tr;		/* "S>...C>..." at each turn */
	size_t		 trlen;
	int		 lastdir;
	bool		 closed;
	enum sniff_close how;
	wb_usec		 open_ts, close_ts;
	struct sniff_conn *sc;		/* while open */
};

struct rec {
	struct rconn	**c;
	int		 n, cap;
	int		 nclosed;
	int		 closes[8];	/* by enum sniff_close */
	char		 log[MAXLOG][512];
	int		 nlog;
	struct sniff	*s;
	/* Called from on_data after recording, when set. */
	void		(*hook)(struct sniff_conn *, struct rconn *,
			    enum sniff_dir, const uint8_t *, size_t);
	bool		 kill_on_data;
	int		 kill_rc;
	struct sniff_stats last;	/* after the last packet, before EOF */
};
extern struct rec R;
extern const struct sniff_handlers H;

void	 rec_reset(void);
bool	 logged(const char *needle);
/* The first recorded connection whose client port is cport, or NULL. */
struct rconn *rec_by_cport(uint16_t cport);

/* The defaults with a small stream table (fast to set up). */
void	 small_defaults(struct sniff_config *c);
/*
 * Runs the sniffer over path. Returns what the last dispatch returned
 * (0 or -1), or -2 when the open failed; err holds the message. st: the
 * counters at the end; R.last: after the last packet, before the end of
 * the file closed everything (gauges still up).
 */
int	 run(const char *path, const struct sniff_config *cfg,
	    struct sniff_stats *st, char *err, size_t errlen);
void	 run_default(const char *path, struct sniff_stats *st);
/* Every frame (and reassembled datagram) in exactly one bucket. */
void	 assert_buckets(const struct sniff_stats *st);

/* The standard conversation over link k, pcap or pcapng. */
void	 write_standard(struct conv *v, enum pcapw_link k, bool ng);
void	 write_standard6(struct conv *v, enum pcapw_link k, bool ng);

#endif
