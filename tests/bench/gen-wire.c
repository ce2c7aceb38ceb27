/*
 * gen-wire.c - the wire under gen-smtp-pcap: a seeded random stream,
 * the output buffer and the pcap file, and one TCP segment of a session
 * as a frame (Ethernet, IPv4 or IPv6, TCP with timestamps) with correct
 * checksums.
 *
 * Invariant: the same seed and the same calls give the same bytes, on
 * any compiler: every random draw is its own statement, in a fixed
 * order, and nothing here reads a clock or the environment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define LINK_BPS	200000000ULL	/* nominal link rate for timestamps */
#define OBUF_SIZE	(8u << 20)

struct gen_stats gen_st;
uint64_t	 gen_now_us;

static uint64_t	 rng, jit, *cur = &rng;
static bool	 ipv6;
static FILE	*out;
static unsigned char *obuf;
static size_t	 olen;

/* ---- random numbers (splitmix64) ------------------------------------ */

static uint64_t
mix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * The streams: the main one (which sessions start, and how they are
 * set up, in the order they start), each session's own (what it says,
 * see gen_step()), and the clock's jitter. So a session says the same
 * whatever the framing around it, IPv4 or IPv6.
 */
void
gen_seed(uint64_t seed)
{
	rng = seed * 0x2545f4914f6cdd1dULL + 12345;
	jit = rng ^ 0x6a09e667f3bcc909ULL;
	cur = &rng;
}

/* Draws from stream (NULL: the main one) until the next call. */
void
gen_use(uint64_t *stream)
{
	cur = stream != NULL ? stream : &rng;
}

uint64_t
gen_rnd(void)
{
	return mix(cur);
}

static uint64_t
jitter(void)
{
	return mix(&jit);
}

uint32_t
gen_below(uint32_t n)
{
	return (uint32_t)(((gen_rnd() >> 32) * (uint64_t)n) >> 32);
}

double
gen_unit(void)
{
	return (double)(gen_rnd() >> 11) * 0x1.0p-53;
}

void
gen_oom(void)
{
	perror("gen-smtp-pcap");
	exit(1);
}

/* ---- output ---------------------------------------------------------- */

static void
oflush(void)
{
	if (olen > 0 && fwrite(obuf, 1, olen, out) != olen) {
		fprintf(stderr, "gen-smtp-pcap: write: %s\n", strerror(errno));
		exit(1);
	}
	olen = 0;
}

static unsigned char *
oreserve(size_t n)
{
	if (olen + n > OBUF_SIZE)
		oflush();
	return obuf + olen;
}

static void
put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Opens path ('-': stdout) and writes the pcap file header. */
void
gen_open(const char *path)
{
	/* magic, version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET,
	 * in this host's byte order as the format allows. */
	uint32_t h[6] = { 0xa1b2c3d4u, 2 | (4u << 16), 0, 0, 262144, 1 };

	if (strcmp(path, "-") == 0)
		out = stdout;
	else if ((out = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "gen-smtp-pcap: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((obuf = malloc(OBUF_SIZE)) == NULL)
		gen_oom();
	memcpy(oreserve(sizeof(h)), h, sizeof(h));
	olen += sizeof(h);
	gen_st.bytes += sizeof(h);
}

void
gen_close(const char *path)
{
	oflush();
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "gen-smtp-pcap: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	free(obuf);
	obuf = NULL;
}

/*
 * RFC 1071 sum in the machine's byte order (the sum does not depend on
 * it): 32-bit loads into a 64-bit accumulator, folded by the caller.
 */
static uint64_t
sum_bytes(const unsigned char *p, size_t n, uint64_t acc)
{
	uint32_t w;
	uint16_t h;

	while (n >= 16) {
		uint32_t a, b, c, d;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		acc += (uint64_t)a + b + c + d;
		p += 16;
		n -= 16;
	}
	while (n >= 4) {
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		n -= 2;
	}
	if (n == 1) {
		h = 0;
		memcpy(&h, p, 1);
		acc += h;
	}
	return acc;
}

static uint16_t
fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* 2001:db8:AABB:CCDD::1 for AA.BB.CC.DD: each IPv4 client its own /64. */
void
gen_addr6(uint32_t v4, uint8_t a6[16])
{
	memset(a6, 0, 16);
	a6[0] = 0x20;
	a6[1] = 0x01;
	a6[2] = 0x0d;
	a6[3] = 0xb8;
	put32(a6 + 4, v4);
	a6[15] = 1;
}

/* The client's address as exim prints it ("[...]" in the EHLO reply). */
void
gen_ipstr(uint32_t ip, char *buf, size_t len)
{
	uint8_t a6[16];

	if (ipv6) {
		gen_addr6(ip, a6);
		if (inet_ntop(AF_INET6, a6, buf, (socklen_t)len) == NULL)
			(void)snprintf(buf, len, "?");
		return;
	}
	(void)snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
	    (ip >> 8) & 255, ip & 255);
}

void
gen_set_ipv6(bool on)
{
	ipv6 = on;
}

bool
gen_ipv6(void)
{
	return ipv6;
}

/* Payload bytes per full segment: the MSS less the timestamp option. */
uint32_t
gen_mss(void)
{
	return (ipv6 ? 1440 : 1460) - 12;
}

/* The network header: IPv4 (20 bytes) or IPv6 (40); returns its length. */
static size_t
put_ip(unsigned char *ip, bool from_client, uint32_t src, uint32_t dst,
    uint16_t ipid, size_t tcplen)
{
	uint16_t sum;

	if (ipv6) {
		ip[0] = 0x60;
		ip[1] = ip[2] = ip[3] = 0;	/* traffic class, flow label */
		put16(ip + 4, (uint32_t)tcplen);
		ip[6] = 6;
		ip[7] = from_client ? 52 : 64;
		gen_addr6(src, ip + 8);
		gen_addr6(dst, ip + 24);
		return 40;
	}
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint32_t)(20 + tcplen));
	put16(ip + 4, ipid);
	put16(ip + 6, 0x4000);
	ip[8] = from_client ? 52 : 64;
	ip[9] = 6;
	ip[10] = ip[11] = 0;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	sum = fold(sum_bytes(ip, 20, 0));
	memcpy(ip + 10, &sum, 2);
	return 20;
}

/* The TCP checksum over the pseudo-header of the family and the segment. */
static void
tcp_sum(const unsigned char *ip, unsigned char *th, size_t tcplen)
{
	unsigned char ph[40];
	uint64_t acc;
	uint16_t sum;

	if (ipv6) {
		memcpy(ph, ip + 8, 32);
		put32(ph + 32, (uint32_t)tcplen);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 6;
		acc = sum_bytes(ph, 40, 0);
	} else {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		put16(ph + 10, (uint32_t)tcplen);
		acc = sum_bytes(ph, 12, 0);
	}
	acc = sum_bytes(th, tcplen, acc);
	sum = fold(acc);
	memcpy(th + 16, &sum, 2);
}

/*
 * One segment of session s: payload (len bytes) or, with body set, the
 * next len bytes of the message. Advances the clock, the sender's
 * sequence number (data, SYN and FIN count), IP id and TS clock.
 */
void
gen_emit(struct sess *s, bool from_client, unsigned flags,
    const char *payload, uint32_t len, bool body)
{
	bool syn = (flags & F_SYN) != 0;
	size_t iplen = ipv6 ? 40 : 20, thl = syn ? 40 : 32;
	size_t frame = 14 + iplen + thl + len;
	unsigned char *r = oreserve(16 + frame), *e = r + 16, *ip = e + 14,
	    *th = ip + iplen, *opt = th + 20, *pl = th + thl;
	uint32_t src, dst, seq, ack, tsval, tsecr, ts_us;
	uint16_t sport, dport, ipid, win;

	/* The jitter has its own stream: content does not depend on framing. */
	gen_now_us += 1 + (frame + 24) * 8 * 1000000ULL / LINK_BPS +
	    (uint32_t)(((jitter() >> 32) * 16) >> 32);
	ts_us = (uint32_t)(gen_now_us % 1000000);
	if (from_client) {
		src = s->cip;
		dst = SERVER_IP;
		sport = s->cport;
		dport = SERVER_PORT;
		seq = s->cseq;
		ack = s->sseq;
		ipid = s->cipid++;
		tsval = (uint32_t)(gen_now_us / 1000) + s->cts;
		tsecr = s->slast;
		s->clast = tsval;
		win = 502;
	} else {
		src = SERVER_IP;
		dst = s->cip;
		sport = SERVER_PORT;
		dport = s->cport;
		seq = s->sseq;
		ack = s->cseq;
		ipid = s->sipid++;
		tsval = (uint32_t)(gen_now_us / 1000) + s->sts;
		tsecr = s->clast;
		s->slast = tsval;
		win = 509;
	}
	if (syn && !(flags & F_ACK))
		tsecr = 0;

	/* record header, this host's byte order */
	{
		uint32_t rh[4] = { (uint32_t)(gen_now_us / 1000000), ts_us,
		    (uint32_t)frame, (uint32_t)frame };

		memcpy(r, rh, 16);
	}
	/* Ethernet: the server's NIC and the upstream router */
	memcpy(e, from_client ? "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\xfe"
	    : "\x02\x00\x00\x00\x00\xfe\x02\x00\x00\x00\x00\x01", 12);
	e[12] = ipv6 ? 0x86 : 0x08;
	e[13] = ipv6 ? 0xdd : 0x00;
	(void)put_ip(ip, from_client, src, dst, ipid, thl + len);
	/* TCP */
	put16(th, sport);
	put16(th + 2, dport);
	put32(th + 4, seq);
	put32(th + 8, (flags & F_ACK) ? ack : 0);
	th[12] = (unsigned char)((thl / 4) << 4);
	th[13] = (unsigned char)flags;
	put16(th + 14, syn ? 64240 : win);
	th[16] = th[17] = th[18] = th[19] = 0;
	if (syn) {
		/* MSS, SACK permitted, timestamps, NOP, window scale 7 */
		opt[0] = 2; opt[1] = 4; put16(opt + 2, gen_mss() + 12);
		opt[4] = 4; opt[5] = 2;
		opt[6] = 8; opt[7] = 10; put32(opt + 8, tsval);
		put32(opt + 12, tsecr);
		opt[16] = 1; opt[17] = 3; opt[18] = 3; opt[19] = 7;
	} else {
		opt[0] = 1; opt[1] = 1; opt[2] = 8; opt[3] = 10;
		put32(opt + 4, tsval);
		put32(opt + 8, tsecr);
	}
	if (body)
		gen_body_copy(s, pl, s->body_sent, len);
	else if (len > 0)
		memcpy(pl, payload, len);
	tcp_sum(ip, th, thl + len);

	olen += 16 + frame;
	gen_st.packets++;
	gen_st.bytes += 16 + frame;
	gen_st.payload += len;
	if (from_client)
		s->cseq += len + (syn ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
	else
		s->sseq += len + (syn ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
}

void
gen_say(struct sess *s, bool from_client, const char *text, size_t len)
{
	gen_emit(s, from_client, F_PSH | F_ACK, text, (uint32_t)len, false);
}
