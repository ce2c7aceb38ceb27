/*
 * pcapw.h - writing pcap and pcapng files, and the IPv4, IPv6 and TCP
 * packets in them, byte by byte (so odd link types and broken packets
 * are as easy to make as good ones).
 *
 * For tests and capture generators: plain C, no test framework, no
 * sniffer. The one copy of the Internet checksum the tests use.
 */
#ifndef WIREBAN_TESTS_PCAPW_H
#define WIREBAN_TESTS_PCAPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A capture being written to f (the caller opens and closes f). */
struct pcapw {
	FILE	*f;
	bool	 ng;		/* pcapng, else classic pcap (microseconds) */
};

/* Writes the file header(s). Returns 0, or -1 on a write error. */
int	 pcapw_open(struct pcapw *w, FILE *f, int linktype, bool ng);
/* One record: ts in microseconds, caplen bytes of d, len on the wire. */
int	 pcapw_write(struct pcapw *w, int64_t ts, const uint8_t *d,
	    size_t caplen, size_t len);

void	 pcapw_put16(uint8_t *p, uint32_t v);
void	 pcapw_put32(uint8_t *p, uint32_t v);

/* The Internet checksum: add n bytes to sum, then fold and complement. */
uint32_t pcapw_sum(const uint8_t *p, size_t n, uint32_t sum);
uint16_t pcapw_fold(uint32_t sum);

#define PCAPW_FIN	0x01
#define PCAPW_SYN	0x02
#define PCAPW_RST	0x04
#define PCAPW_PSH	0x08
#define PCAPW_ACK	0x10

/* A TCP segment to build. opts: optlen bytes (a multiple of 4, <= 40). */
struct pcapw_tcp {
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	uint8_t		 flags;
	uint16_t	 win;		/* 0: 65535 */
	const uint8_t	*opts;
	size_t		 optlen;
	const void	*data;
	size_t		 len;
};

/* IPv4 + TCP, both sums right. Returns the packet's length. */
size_t	 pcapw_ip4_tcp(uint8_t *p, const uint8_t *src, const uint8_t *dst,
	    const struct pcapw_tcp *t);
/* A TCP segment alone, its sum over the IPv6 pseudo-header of src, dst. */
size_t	 pcapw_tcp6(uint8_t *seg, const uint8_t *src, const uint8_t *dst,
	    const struct pcapw_tcp *t);
/* An IPv6 header (next header nh) followed by plen bytes of payload. */
size_t	 pcapw_ip6(uint8_t *p, const uint8_t *src, const uint8_t *dst,
	    uint8_t nh, const uint8_t *payload, size_t plen);
/* IPv6 + TCP, no extension header, sum right. */
size_t	 pcapw_ip6_tcp(uint8_t *p, const uint8_t *src, const uint8_t *dst,
	    const struct pcapw_tcp *t);
/*
 * An IPv6 fragment of a fragmentable part (len bytes at data, the first
 * header of which is nh): the bytes off..off+n, M set when more.
 */
size_t	 pcapw_ip6_frag(uint8_t *p, const uint8_t *src, const uint8_t *dst,
	    uint8_t nh, uint32_t id, const uint8_t *data, size_t off, size_t n,
	    bool more);

/* Link layers, each wrapping an IPv4 or IPv6 packet. */
enum pcapw_link {
	PCAPW_ETH, PCAPW_VLAN, PCAPW_QINQ, PCAPW_Q9100, PCAPW_SLL,
	PCAPW_SLLVLAN, PCAPW_SLL2, PCAPW_NULL_LE, PCAPW_NULL_BE,
	PCAPW_NULL28, PCAPW_LOOP_BE, PCAPW_LOOP_LE, PCAPW_LOOP30,
	PCAPW_RAW101, PCAPW_RAW12, PCAPW_RAW14, PCAPW_IPV4, PCAPW_IPV6,
	PCAPW_NLINKS
};
int	 pcapw_linktype(enum pcapw_link k);
const char *pcapw_link_name(enum pcapw_link k);
/* True when k can carry family af (4 or 6): DLT_IPV4/IPV6 only one. */
bool	 pcapw_link_carries(enum pcapw_link k, int af);
/* The frame of ip (len bytes, family af) on link k. Returns its length. */
size_t	 pcapw_wrap(enum pcapw_link k, int af, const uint8_t *ip, size_t len,
	    uint8_t *out);

#endif
