/*
 * sniffer.h - packets in, per-connection byte streams out.
 *
 * The sniffer owns the libpcap handle, decodes link layers, reassembles
 * TCP over IPv4 and IPv6 with libnids and hands the caller ordered stream
 * chunks of the TCP connections on the SMTP ports. It knows nothing of
 * SMTP and nothing of bans. libnids keeps global state, so only one
 * sniffer may be open at a time.
 *
 * IPv6: libnids is IPv4 only; an IPv6 segment reaches it as an IPv4 one
 * with addresses lent from 240.0.0.0/4 (real IPv4 TCP from or to 240/4
 * is dropped, stats.reserved4), so both families get the same handling
 * of segmentation, overlaps and retransmissions. The caller only ever
 * sees the real addresses. Extension headers are walked (at most 8, 512
 * bytes), fragments reassembled (at most 1024 datagrams, 8 MiB, 64
 * fragments each, 60 s; overlaps drop the datagram, RFC 5722). Not
 * inspected (stats.ipv6_uninspected): AH, ESP, a routing header with
 * segments left, a segment too big for an IPv4 packet.
 *
 * Limits the caller should know:
 * - only connections whose three-way handshake was captured are
 *   reassembled; a capture started mid-session shows nothing of it;
 * - a connection is followed only once the client has acknowledged the
 *   server's SYN-ACK (sequence numbers checked). Until then it waits
 *   among at most max_handshakes pending handshakes, each dropped
 *   handshake_timeout after its last SYN or SYN-ACK (stats.hs_timeouts);
 *   when they are full the oldest pending one goes (stats.hs_overflow).
 *   A blind spoofer cannot complete a handshake, so spoofed SYNs, however
 *   many, never touch a followed connection;
 * - at most max_streams connections are followed. To admit one more, the
 *   one idle longest among those not marked busy (sniff_conn_set_busy)
 *   is closed, SNIFF_CLOSE_EVICTED, or, when all are busy, the one idle
 *   longest (stats.evicted_idle, stats.evicted_busy);
 * - what remains to an attacker: one who completes real handshakes from
 *   addresses it can receive on can hold up to max_streams connections
 *   open, and each of its new ones evicts an idle one (a real client's
 *   too, when it idles longer than all of the attacker's). Busy
 *   connections go last: to evict a session waiting for a reply, it
 *   must first make every connection busy, i.e. have commands of its
 *   own unanswered on all of them at once. Every connection costs it a
 *   real handshake and, past idle_timeout without a packet, it is gone.
 */
#ifndef WIREBAN_SNIFFER_H
#define WIREBAN_SNIFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define SNIFF_MAX_PORTS		16
#define SNIFF_MAX_SERVERS	64

enum sniff_checksums {
	SNIFF_CSUM_AUTO = 0,	/* verify until bad sums show offload, then stop */
	SNIFF_CSUM_ON,
	SNIFF_CSUM_OFF,
};

struct sniff_config {
	uint16_t	 ports[SNIFF_MAX_PORTS];	/* default 25, 465, 587 */
	size_t		 nports;			/* 1..SNIFF_MAX_PORTS */
	struct wb_addr	 servers[SNIFF_MAX_SERVERS];	/* empty: any server */
	size_t		 nservers;
	enum sniff_checksums checksums;
	int		 max_streams;		/* default 131072; concurrent
						   connections followed */
	wb_usec		 idle_timeout;		/* default 10 min, packet time;
						   0: no idle timeout */
	int		 max_handshakes;	/* default 65536, 1..4194304;
						   pending handshakes */
	wb_usec		 handshake_timeout;	/* default 10 s, packet time,
						   1 ms..600 s, after the last
						   SYN or SYN-ACK */
	size_t		 buffer;		/* live ring bytes: 64 MiB,
						   1 MiB..1 GiB */
};

/* Which side sent the bytes. */
enum sniff_dir {
	SNIFF_FROM_CLIENT = 0,
	SNIFF_FROM_SERVER = 1,
};

/* How a connection ended. */
enum sniff_close {
	SNIFF_CLOSE_FIN,
	SNIFF_CLOSE_RST,
	SNIFF_CLOSE_TIMEOUT,	/* idle longer than idle_timeout */
	SNIFF_CLOSE_EOF,	/* the capture ended with it open */
	SNIFF_CLOSE_EVICTED,	/* the table was full (see the top) */
	SNIFF_CLOSE_REPLACED,	/* a new handshake on its addresses and
				   ports completed: the hosts ended it */
};

/* One TCP connection; the side that accepted it is the server. */
struct sniff_conn {
	uint64_t	 id;		/* increasing, unique in the process */
	struct wb_addr	 client;
	struct wb_addr	 server;
	uint16_t	 client_port;
	uint16_t	 server_port;
	void		*user;		/* the caller's, set by on_open */
};

/*
 * The caller's handlers (any may be NULL). on_open returns the
 * per-connection pointer kept in conn->user (NULL is allowed). on_data
 * gets every new in-order byte of one direction, in the order libnids
 * delivers them; bytes is valid only during the call. on_close is called
 * once per opened connection, after which conn is freed; the caller
 * frees its user pointer there. Handlers may call sniff_kill(),
 * sniff_conn_set_busy() and sniff_get_stats(); they must not call
 * sniff_dispatch(), sniff_expire() or sniff_close().
 */
struct sniff_handlers {
	void	*(*on_open)(void *arg, struct sniff_conn *c, wb_usec ts);
	void	 (*on_data)(void *arg, struct sniff_conn *c, enum sniff_dir d,
		    const uint8_t *bytes, size_t len, wb_usec ts);
	void	 (*on_close)(void *arg, struct sniff_conn *c,
		    enum sniff_close how, wb_usec ts);
	void	*arg;
};

/*
 * Counters since the sniffer was opened. Every frame read, and every
 * IPv6 datagram reassembled from fragments, lands in exactly one of
 * ipv4, ipv6, ipv6_frags, skipped, ipv6_uninspected, reserved4, other,
 * malformed:
 *   packets + frag6_reassembled == the sum of those eight.
 * truncated counts across them, badsum within ipv4 and ipv6. IPv4
 * fragments count in ipv4 (libnids reassembles them; the datagram is
 * not counted again).
 */
struct sniff_stats {
	uint64_t	 packets;	/* link-layer frames read */
	uint64_t	 bytes;		/* their length on the wire */
	uint64_t	 ipv4;		/* IPv4 TCP to or from a watched port
					   (or server), and IPv4 fragments */
	uint64_t	 ipv6;		/* IPv6 TCP to or from a watched port */
	uint64_t	 ipv6_frags;	/* IPv6 fragments of TCP, reassembled
					   here */
	uint64_t	 skipped;	/* IPv4 or IPv6 that is not TCP to or
					   from a watched port (or server) */
	uint64_t	 ipv6_uninspected; /* AH, ESP, routing header with
					   segments left, TCP too big for
					   IPv4 */
	uint64_t	 reserved4;	/* IPv4 TCP from or to 240.0.0.0/4 */
	uint64_t	 other;		/* neither: ARP, unknown ethertypes, ... */
	uint64_t	 malformed;	/* IP/TCP headers that cannot be right,
					   either family */
	uint64_t	 truncated;	/* cut by the snaplen (caplen < len) */
	uint64_t	 badsum;	/* of ipv4 and ipv6: dropped for a bad
					   checksum (checksums = on) */
	uint64_t	 frag6_reassembled; /* IPv6 datagrams made whole */
	uint64_t	 frag6_overlap;	/* dropped: overlapping fragments */
	uint64_t	 frag6_timeout;	/* dropped: not whole within 60 s */
	uint64_t	 frag6_full;	/* dropped: fragment table full */
	uint64_t	 sessions;	/* connections opened */
	uint64_t	 evictions;	/* evicted_idle + evicted_busy */
	uint64_t	 evicted_idle;	/* closed for room, not busy */
	uint64_t	 evicted_busy;	/* closed for room, all were busy */
	uint64_t	 timeouts;	/* closed by idle_timeout */
	uint64_t	 replaced;	/* SNIFF_CLOSE_REPLACED */
	uint64_t	 hs_overflow;	/* pending handshakes dropped, table
					   full (half-open, never followed) */
	uint64_t	 hs_timeouts;	/* pending handshakes timed out */
	uint64_t	 conns_open;	/* now: connections followed */
	uint64_t	 hs_pending;	/* now: handshakes pending */
	uint64_t	 pcap_recv, pcap_drop, pcap_ifdrop; /* live only */
	bool		 checksums_off;	/* auto switched verification off */
};

struct sniff;

/* Fills c with the defaults. */
void sniff_config_defaults(struct sniff_config *c);

/*
 * Where the sniffer's messages go: libnids' warnings (rate limited),
 * the checksum auto-switch, capture warnings. fn gets one line without
 * a newline; NULL restores the default, "wireban: <msg>" on stderr.
 * Process-wide (libnids is), may be called at any time.
 */
void sniff_set_log(void (*fn)(const char *msg));

/*
 * Opens a capture file (pcap or pcapng; "-" is stdin) or a live
 * interface. On failure returns NULL with a message naming the file or
 * interface in err (also when another sniffer is open or the link type
 * is not supported). Free with sniff_close(). h is copied.
 *
 * A live handle: snaplen 262144, promiscuous, immediate mode,
 * non-blocking, a BPF filter for the ports (plain, VLAN and QinQ tagged,
 * IPv4 and IPv6), IPv4 fragments and IPv6 packets that begin with a
 * fragment, hop-by-hop, routing, destination options or AH header.
 * sniff_open_live also opens the raw sockets (IPv4 and IPv6) sniff_kill()
 * needs, so call it before dropping privileges.
 */
struct sniff *sniff_open_file(const struct sniff_config *c, const char *path,
    const struct sniff_handlers *h, char *err, size_t errlen);
struct sniff *sniff_open_live(const struct sniff_config *c, const char *iface,
    const struct sniff_handlers *h, char *err, size_t errlen);

/*
 * Reads and handles up to max packets (-1: all a file has, or what a
 * live handle has ready, at most 4096 per call). Returns the number
 * handled; 0 at the end of a file (and on every later call) or when a
 * live handle has nothing ready; -1 on a read error, with
 * "<file or interface>: <pcap's message>" in err, after the packets
 * before the error were handled (later calls return -1 again). At the
 * end of a file the open connections are closed with SNIFF_CLOSE_EOF.
 * Idle connections are closed (SNIFF_CLOSE_TIMEOUT) as packet time
 * passes.
 */
int sniff_dispatch(struct sniff *s, int max, char *err, size_t errlen);

/* The descriptor to poll for a live capture, or -1. */
int sniff_fd(const struct sniff *s);

/*
 * Applies the idle timeout as of packet time now (for quiet periods):
 * connections with no packet since now - idle_timeout are closed with
 * SNIFF_CLOSE_TIMEOUT. A now earlier than the latest packet is ignored.
 */
void sniff_expire(struct sniff *s, wb_usec now);

/*
 * Resets connection c on the wire: TCP RSTs, spoofed from each side to
 * the other, through the raw socket of its family opened by
 * sniff_open_live. The
 * connection stays open here until its RST is captured (or it idles
 * out). c must be open: from a handler, or kept between on_open and
 * on_close. Returns 0, or -1 when nothing could be sent (a capture file,
 * no raw socket, called from on_close). A firewall rule that drops the
 * client also drops the RST forged from it: kill first, then ban.
 */
int sniff_kill(struct sniff *s, struct sniff_conn *c);

/*
 * Marks connection c busy (waiting for a reply to something its client
 * sent) or not. A busy connection is evicted only when every followed
 * connection is busy (see the top). The sniffer knows no protocol: the
 * caller says. New connections are not busy. c must be open: from a
 * handler (on_open, on_data; in on_close it does nothing), or kept
 * between on_open and on_close. O(1) when called from a handler of c.
 */
void sniff_conn_set_busy(struct sniff_conn *c, bool busy);

void sniff_get_stats(struct sniff *s, struct sniff_stats *st);

/*
 * "fin", "rst", "timeout", "eof", "evicted", "replaced" (the event
 * stream's words).
 */
const char *sniff_close_str(enum sniff_close how);

/*
 * Closes every open connection (SNIFF_CLOSE_EOF), resets libnids and
 * closes the capture, so another sniffer may be opened. NULL is a no-op.
 */
void sniff_close(struct sniff *s);

#endif
