/*
 * kill.c - resetting a followed connection with forged RSTs.
 *
 * libnids has nids_killtcp(), but it writes through a libnet handle that
 * only libnids' own device opening sets up (raw_init(), not in nids.h);
 * fed as wireban feeds it, nids_killtcp() silently sends nothing. So the
 * same thing is done here through a raw socket, opened with the live
 * capture, i.e. before privileges are dropped.
 *
 * Which sequence number: Linux takes an RST only at exactly the sequence
 * number it expects next (RFC 5961; anything else in the window draws a
 * challenge ACK, which is harmless). The receiver expects either what it
 * last acknowledged or, when we have seen bytes it has not acknowledged
 * yet, the sequence after the last byte we saw from the sender: one RST
 * for each when they differ, to each side.
 */
#include <netinet/in.h>
#include <nids.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define RST_LEN	40	/* IPv4 + TCP, no options */

static int	 send_rst(int, uint32_t, uint32_t, uint16_t, uint16_t,
		    uint32_t);
static void	 put16(uint8_t *, uint16_t);
static void	 put32(uint8_t *, uint32_t);

int
sniff_kill_open(struct sniff *s)
{
	/* IPPROTO_RAW implies IP_HDRINCL: we write the IP header. */
	s->rawfd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	return s->rawfd == -1 ? -1 : 0;
}

void
sniff_kill_close(struct sniff *s)
{
	if (s->rawfd != -1)
		close(s->rawfd);
	s->rawfd = -1;
}

int
sniff_kill(struct sniff *s, struct sniff_conn *c)
{
	/* pub is the first member of the connection that holds it */
	struct sniff_cx *x = (struct sniff_cx *)c;
	const struct tcp_stream *ts = x->stream;
	uint32_t to_srv[2], to_cli[2];
	int i, sent = 0;

	if (s->rawfd == -1 || ts == NULL)
		return -1;
	/* half_stream "server" is what the server received: the client's */
	to_srv[0] = ts->server.ack_seq;
	to_srv[1] = ts->client.first_data_seq + (uint32_t)ts->server.count +
	    (uint32_t)ts->server.urg_count;
	to_cli[0] = ts->client.ack_seq;
	to_cli[1] = ts->server.first_data_seq + (uint32_t)ts->client.count +
	    (uint32_t)ts->client.urg_count;
	for (i = 0; i < 2; i++) {
		if (i == 1 && to_srv[1] == to_srv[0] && to_cli[1] == to_cli[0])
			break;
		if (send_rst(s->rawfd, ts->addr.saddr, ts->addr.daddr,
		    ts->addr.source, ts->addr.dest, to_srv[i]) == 0)
			sent++;
		if (send_rst(s->rawfd, ts->addr.daddr, ts->addr.saddr,
		    ts->addr.dest, ts->addr.source, to_cli[i]) == 0)
			sent++;
	}
	return sent > 0 ? 0 : -1;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Addresses in network order (libnids' tuple), the rest in host order. */
static int
send_rst(int fd, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
    uint32_t seq)
{
	struct sockaddr_in to;
	uint8_t p[RST_LEN];

	memset(p, 0, sizeof(p));
	p[0] = 0x45;
	put16(p + 2, RST_LEN);
	put16(p + 6, 0x4000);		/* DF; the kernel fills id and sum */
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	put16(p + 20, sport);
	put16(p + 22, dport);
	put32(p + 24, seq);
	p[32] = 5 << 4;
	p[33] = 0x04;			/* RST */
	put16(p + 36, sniff_tcp_sum(p, RST_LEN));

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = dst;
	if (sendto(fd, p, sizeof(p), 0, (const struct sockaddr *)&to,
	    sizeof(to)) != (ssize_t)sizeof(p))
		return -1;
	return 0;
}
