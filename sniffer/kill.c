/*
 * kill.c - resetting a followed connection with forged RSTs.
 *
 * libnids has nids_killtcp(), but it writes through a libnet handle that
 * only libnids' own device opening sets up (raw_init(), not in nids.h);
 * fed as wireban feeds it, nids_killtcp() silently sends nothing. So the
 * same thing is done here through raw sockets, opened with the live
 * capture, i.e. before privileges are dropped: one per family, each
 * writing its own IP header. For IPv4, IPPROTO_RAW implies IP_HDRINCL.
 * For IPv6, Linux takes the header from the caller on an IPPROTO_RAW
 * socket too (and IPV6_HDRINCL, Linux 4.5, says so explicitly); it then
 * computes no checksum, so the TCP sum over the IPv6 pseudo-header is
 * ours, and the destination's port field must be 0.
 *
 * Which sequence number: Linux takes an RST only at exactly the sequence
 * number it expects next (RFC 5961; anything else in the window draws a
 * challenge ACK, which is harmless). The receiver expects either what it
 * last acknowledged or, when we have seen bytes it has not acknowledged
 * yet, the sequence after the last byte we saw from the sender: one RST
 * for each when they differ, to each side.
 */
#include <errno.h>
#include <netinet/in.h>
#include <nids.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define RST_LEN		40	/* IPv4 + TCP, no options */
#define RST6_LEN	60	/* IPv6 + TCP, no options */

static int	 send_rst(int, const struct wb_addr *, const struct wb_addr *,
		    uint16_t, uint16_t, uint32_t);
static void	 put16(uint8_t *, uint16_t);
static void	 put32(uint8_t *, uint32_t);

/* Returns 0 when at least one family can be reset; says what cannot. */
int
sniff_kill_open(struct sniff *s)
{
	int on = 1;

	s->rawfd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (s->rawfd == -1)
		sniff_log("%s: no raw IPv4 socket (%s): IPv4 connections "
		    "cannot be reset", s->name, strerror(errno));
	s->rawfd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (s->rawfd6 == -1)
		sniff_log("%s: no raw IPv6 socket (%s): IPv6 connections "
		    "cannot be reset", s->name, strerror(errno));
	else if (setsockopt(s->rawfd6, IPPROTO_IPV6, IPV6_HDRINCL, &on,
	    sizeof(on)) == -1 && errno != ENOPROTOOPT)
		sniff_log("%s: IPV6_HDRINCL: %s", s->name, strerror(errno));
	return s->rawfd == -1 && s->rawfd6 == -1 ? -1 : 0;
}

void
sniff_kill_close(struct sniff *s)
{
	if (s->rawfd != -1)
		close(s->rawfd);
	if (s->rawfd6 != -1)
		close(s->rawfd6);
	s->rawfd = s->rawfd6 = -1;
}

int
sniff_kill(struct sniff *s, struct sniff_conn *c)
{
	/* pub is the first member of the connection that holds it */
	struct sniff_cx *x = (struct sniff_cx *)c;
	const struct tcp_stream *ts = x->stream;
	uint32_t to_srv[2], to_cli[2];
	int i, sent = 0, fd = x->v6 ? s->rawfd6 : s->rawfd;

	if (fd == -1 || ts == NULL)
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
		if (send_rst(fd, &c->client, &c->server, c->client_port,
		    c->server_port, to_srv[i]) == 0)
			sent++;
		if (send_rst(fd, &c->server, &c->client, c->server_port,
		    c->client_port, to_cli[i]) == 0)
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

/* A bare RST with seq, no ACK: IPv4 or IPv6 as the addresses are. */
static int
send_rst(int fd, const struct wb_addr *src, const struct wb_addr *dst,
    uint16_t sport, uint16_t dport, uint32_t seq)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *to = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *to6 = (struct sockaddr_in6 *)&ss;
	uint8_t p[RST6_LEN], *t;
	size_t len;
	socklen_t sl;

	memset(p, 0, sizeof(p));
	memset(&ss, 0, sizeof(ss));
	if (src->family == AF_INET6) {
		len = RST6_LEN;
		p[0] = 0x60;
		put16(p + 4, RST6_LEN - 40);
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		memcpy(p + 8, src->a, 16);
		memcpy(p + 24, dst->a, 16);
		t = p + 40;
		to6->sin6_family = AF_INET6;
		memcpy(&to6->sin6_addr, dst->a, 16);	/* port 0: see top */
		sl = sizeof(*to6);
	} else {
		len = RST_LEN;
		p[0] = 0x45;
		put16(p + 2, RST_LEN);
		put16(p + 6, 0x4000);	/* DF; the kernel fills id and sum */
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, src->a, 4);
		memcpy(p + 16, dst->a, 4);
		t = p + 20;
		to->sin_family = AF_INET;
		memcpy(&to->sin_addr, dst->a, 4);
		sl = sizeof(*to);
	}
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	t[12] = 5 << 4;
	t[13] = 0x04;			/* RST */
	if (src->family == AF_INET6)
		put16(t + 16, sniff_tcp6_sum(p, t, 20));
	else
		put16(t + 16, sniff_tcp_sum(p, RST_LEN));
	if (sendto(fd, p, len, 0, (const struct sockaddr *)&ss, sl) !=
	    (ssize_t)len)
		return -1;
	return 0;
}
