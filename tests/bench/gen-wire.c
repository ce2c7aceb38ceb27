/*
 * gen-wire.c - the wire under gen-smtp-pcap: a seeded random stream,
 * the output buffer and the pcap file, and one TCP segment of a session
 * as a frame with correct checksums.
 *
 * Invariant: the same seed and the same calls give the same bytes, on
 * any compiler: every random draw is its own statement, in a fixed
 * order, and nothing here reads a clock or the environment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define MSS		1448
#define HDR_LEN		(14 + 20 + 32)	/* Ethernet + IPv4 + TCP with TS */
#define SYN_HDR_LEN	(14 + 20 + 40)
#define LINK_BPS	200000000ULL	/* nominal link rate for timestamps */
#define OBUF_SIZE	(8u << 20)

struct gen_stats gen_st;
uint64_t	 gen_now_us;

static uint64_t	 rng;
static FILE	*out;
static unsigned char *obuf;
static size_t	 olen;

/* ---- random numbers (splitmix64) ------------------------------------ */

void
gen_seed(uint64_t seed)
{
	rng = seed * 0x2545f4914f6cdd1dULL + 12345;
}

uint64_t
gen_rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
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

void
gen_ipstr(uint32_t ip, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
	    (ip >> 8) & 255, ip & 255);
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
	size_t hl = syn ? SYN_HDR_LEN : HDR_LEN, frame = hl + len;
	unsigned char *r = oreserve(16 + frame), *e = r + 16, *ip = e + 14,
	    *th = ip + 20, *opt = th + 20, *pl = e + hl;
	uint32_t src, dst, seq, ack, tsval, tsecr, ts_us;
	uint16_t sport, dport, ipid, win, sum;
	uint64_t acc;
	unsigned char ph[12];

	gen_now_us += 1 + (frame + 24) * 8 * 1000000ULL / LINK_BPS +
	    gen_below(16);
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
	e[12] = 0x08;
	e[13] = 0x00;
	/* IPv4 */
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint32_t)(frame - 14));
	put16(ip + 4, ipid);
	put16(ip + 6, 0x4000);
	ip[8] = from_client ? 52 : 64;
	ip[9] = 6;
	ip[10] = ip[11] = 0;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	sum = fold(sum_bytes(ip, 20, 0));
	memcpy(ip + 10, &sum, 2);
	/* TCP */
	put16(th, sport);
	put16(th + 2, dport);
	put32(th + 4, seq);
	put32(th + 8, (flags & F_ACK) ? ack : 0);
	th[12] = (unsigned char)(((hl - 34) / 4) << 4);
	th[13] = (unsigned char)flags;
	put16(th + 14, syn ? 64240 : win);
	th[16] = th[17] = th[18] = th[19] = 0;
	if (syn) {
		/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7 */
		opt[0] = 2; opt[1] = 4; put16(opt + 2, 1460);
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
	/* pseudo-header + segment */
	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint32_t)(hl - 34 + len));
	acc = sum_bytes(ph, 12, 0);
	acc = sum_bytes(th, hl - 34 + len, acc);
	sum = fold(acc);
	memcpy(th + 16, &sum, 2);

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

uint32_t
gen_mss(void)
{
	return MSS;
}
