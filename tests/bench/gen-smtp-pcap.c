/*
 * gen-smtp-pcap.c - writes a classic pcap (Ethernet, IPv4, microsecond
 * timestamps) of synthetic exim SMTP sessions for the benchmarks.
 *
 *     gen-smtp-pcap [-s BYTES | -n SESSIONS] [-w WIDTH] [-r RATIO]
 *                   [-S SEED] [-q] -o FILE
 *     gen-smtp-pcap -c SESSIONS [-I IDLE_SECONDS] [-S SEED] [-q] -o FILE
 *
 * Mode 1 (default, -s 1G): sessions as a busy MX sees them. WIDTH
 * (default 200) sessions are open at once and advance round-robin, one
 * turn (usually one packet) each; a finished session's slot takes the
 * next one until the size (-s, bytes written) or the count (-n) is
 * reached. Each session: three-way handshake, "220 ... ESMTP Exim 4.96"
 * greeting, EHLO and a multi-line 250 (SIZE, PIPELINING, CHUNKING, AUTH),
 * then a pipelined MAIL + 1-5 RCPT + DATA in one segment, replies in one
 * segment, the body (1 KB to 1 MB, mostly small: 1K * 1024^(u^3), median
 * ~2.4 KB, mean ~58 KB) in 1448-byte segments with an ACK from the server
 * every second segment, "250 OK id=...", QUIT/221, FIN both ways. About
 * RATIO (0.30) of the sessions are rejected as exim does: relay (550
 * relay not permitted to every RCPT, then the pipelining 503 for DATA),
 * unknown users (some or all RCPTs), a two-line DNSBL 550, AUTH LOGIN
 * ending in 535 (1-3 tries), and early talkers answered "554 SMTP
 * synchronization error" instead of the greeting.
 *
 * Mode 2 (-c N): N sessions open at the same time: each gets the
 * handshake and greeting (clients arrive 1 ms apart, WIDTH at a time
 * interleaved), then the capture is idle for IDLE_SECONDS (60), then
 * every session is closed with FIN both ways. The first session lives
 * 2 * N ms + IDLE: keep that under wireban's idle_timeout (10 min).
 *
 * Every packet has correct IPv4 and TCP checksums, TCP timestamps
 * (RFC 7323; MSS 1448 = 1460 - 12), valid sequence and ack numbers, and
 * a timestamp from a clock that advances by each frame's wire time at
 * 200 Mbit/s plus jitter. The same arguments and seed give the same
 * file byte for byte. Counts of what was written (and what a parser
 * should find) go to stderr unless -q.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SERVER_IP	0xc0000201u	/* 192.0.2.1 */
#define SERVER_PORT	25
#define MSS		1448
#define HDR_LEN		(14 + 20 + 32)	/* Ethernet + IPv4 + TCP with TS */
#define SYN_HDR_LEN	(14 + 20 + 40)
#define START_SEC	1732700000ULL	/* 2024-11-27 */
#define LINK_BPS	200000000ULL	/* nominal link rate for timestamps */
#define OBUF_SIZE	(8u << 20)
#define POOL_LINES	40000		/* ~3 MB of body text */
#define LINE_LEN	78		/* 76 + CRLF */
#define BAD_POOL	2000		/* repeat offenders */
#define HOSTNAME	"mx.example.net"

enum kind { K_OK, K_RELAY, K_UNKNOWN, K_RBL, K_AUTH, K_SYNC, K_MAX };
static const char *const kind_name[K_MAX] = {
	"accepted", "relay", "unknown_user", "rbl", "auth", "sync",
};

/* Turns of a session's script (see step()). */
enum {
	S_SYN, S_SYNACK, S_ACK, S_GREET, S_EHLO, S_EHLO_R, S_MAIL, S_MAIL_R,
	S_BODY, S_BODY_ACK, S_EOM_R, S_QUIT, S_QUIT_R, S_SFIN, S_CFIN,
	S_LASTACK, S_EARLY, S_SYNC_R, S_AUTH, S_AUTH_R1, S_AUTH_U,
	S_AUTH_R2, S_AUTH_P, S_AUTH_R3, S_DONE,
};

struct sess {
	uint32_t	 cip;		/* host order */
	uint16_t	 cport;
	uint16_t	 cipid, sipid;
	uint8_t		 kind, step, nrcpt, nbad, tries, unacked;
	uint32_t	 cseq, sseq;	/* next sequence number to send */
	uint32_t	 cts, sts;	/* TS clock offsets */
	uint32_t	 clast, slast;	/* last TSval sent */
	uint32_t	 want;		/* body size drawn at the start */
	uint32_t	 body_len, body_sent, pool_off;
	uint16_t	 hdr_len;
	char		*hdr;		/* message header (per slot) */
	uint64_t	 serial;
};

static uint64_t	 rng;
static uint64_t	 now_us;
static FILE	*out;
static unsigned char *obuf;
static size_t	 olen;
static char	*pool;
static uint32_t	*bad_ips;
/* body bytes the open sessions have still to send: -s stops starting
 * sessions when what is written plus this reaches the size */
static uint64_t	 pending;

static struct {
	uint64_t packets, bytes, sessions, payload;
	uint64_t kinds[K_MAX];
	uint64_t rcpt_ok, rcpt_relay, rcpt_unknown, rcpt_rbl, auth_535;
	uint64_t data_503, messages, body_bytes, max_body;
} st;

/* ---- random numbers (splitmix64) ------------------------------------ */

static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t
below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

static double
unit(void)
{
	return (double)(rnd() >> 11) * 0x1.0p-53;
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

static void
write_file_header(void)
{
	uint32_t h[6] = { 0xa1b2c3d4u, 2 | (4u << 16), 0, 0, 262144, 1 };

	/* magic, version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET,
	 * in this host's byte order as the format allows. */
	memcpy(oreserve(sizeof(h)), h, sizeof(h));
	olen += sizeof(h);
	st.bytes += sizeof(h);
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

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

/* Sends part of the session's message content: header, pool, ".\r\n". */
static void
copy_body(struct sess *s, unsigned char *dst, uint32_t off, uint32_t n)
{
	uint32_t lines_len = s->body_len - s->hdr_len - 3, k;

	while (n > 0) {
		if (off < s->hdr_len) {
			k = s->hdr_len - off;
			if (k > n)
				k = n;
			memcpy(dst, s->hdr + off, k);
		} else if (off < s->hdr_len + lines_len) {
			k = s->hdr_len + lines_len - off;
			if (k > n)
				k = n;
			memcpy(dst, pool + s->pool_off + (off - s->hdr_len), k);
		} else {
			k = s->body_len - off;
			if (k > n)
				k = n;
			memcpy(dst, &".\r\n"[off - s->hdr_len - lines_len], k);
		}
		dst += k;
		off += k;
		n -= k;
	}
}

/*
 * One segment of session s. payload (len bytes) or, with body set, the
 * next len bytes of the message. Advances the clock, the sender's
 * sequence number (data, SYN and FIN count), IP id and TS clock.
 */
static void
emit(struct sess *s, bool from_client, unsigned flags, const char *payload,
    uint32_t len, bool body)
{
	bool syn = (flags & F_SYN) != 0;
	size_t hl = syn ? SYN_HDR_LEN : HDR_LEN, frame = hl + len;
	unsigned char *r = oreserve(16 + frame), *e = r + 16, *ip = e + 14,
	    *th = ip + 20, *opt = th + 20, *pl = e + hl;
	uint32_t src, dst, seq, ack, tsval, tsecr, ts_us;
	uint16_t sport, dport, ipid, win, sum;
	uint64_t acc;
	unsigned char ph[12];

	now_us += 1 + (frame + 24) * 8 * 1000000ULL / LINK_BPS + below(16);
	ts_us = (uint32_t)(now_us % 1000000);
	if (from_client) {
		src = s->cip;
		dst = SERVER_IP;
		sport = s->cport;
		dport = SERVER_PORT;
		seq = s->cseq;
		ack = s->sseq;
		ipid = s->cipid++;
		tsval = (uint32_t)(now_us / 1000) + s->cts;
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
		tsval = (uint32_t)(now_us / 1000) + s->sts;
		tsecr = s->clast;
		s->slast = tsval;
		win = 509;
	}
	if (syn && !(flags & F_ACK))
		tsecr = 0;

	/* record header, this host's byte order */
	{
		uint32_t rh[4] = { (uint32_t)(now_us / 1000000), ts_us,
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
		copy_body(s, pl, s->body_sent, len);
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
	st.packets++;
	st.bytes += 16 + frame;
	st.payload += len;
	if (from_client)
		s->cseq += len + (syn ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
	else
		s->sseq += len + (syn ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
}

static void
say(struct sess *s, bool from_client, const char *text, size_t len)
{
	emit(s, from_client, F_PSH | F_ACK, text, (uint32_t)len, false);
}

/* ---- session content ------------------------------------------------- */

static const char *const words[] = {
	"the", "meeting", "invoice", "attached", "please", "find", "report",
	"quarterly", "regards", "thanks", "schedule", "project", "update",
	"review", "budget", "delivery", "order", "customer", "support",
	"ticket", "server", "backup", "monday", "friday", "office", "team",
	"we", "will", "be", "have", "that", "with", "for", "this", "from",
	"and", "your", "our", "account", "password", "change", "notice",
};

static void
make_pool(void)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, j, nw = sizeof(words) / sizeof(words[0]);
	char *l;

	if ((pool = malloc((size_t)POOL_LINES * LINE_LEN)) == NULL) {
		perror("gen-smtp-pcap");
		exit(1);
	}
	for (i = 0; i < POOL_LINES; i++) {
		l = pool + i * LINE_LEN;
		if ((i / 64) % 3 == 2) {	/* base64 attachment stretches */
			for (j = 0; j < 76; j++)
				l[j] = b64[below(64)];
		} else {			/* text */
			j = 0;
			while (j < 76) {
				const char *w = words[below((uint32_t)nw)];

				while (*w != '\0' && j < 76)
					l[j++] = *w++;
				if (j < 76)
					l[j++] = ' ';
			}
			l[0] = (char)('A' + below(26));
		}
		l[76] = '\r';
		l[77] = '\n';
	}
}

static uint32_t
fresh_client(void)
{
	/* 10.x.y.z, z in 1..254; one draw per statement, so that every
	 * compiler draws in the same order */
	uint32_t x = below(256), y = below(256), z = 1 + below(254);

	return 0x0a000000u | x << 16 | y << 8 | z;
}

static void
ipstr(uint32_t ip, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
	    (ip >> 8) & 255, ip & 255);
}

/* Body length: 1 KB * 1024^(u^3), rounded to whole lines. */
static uint32_t
body_size(void)
{
	double u = unit();
	/* 1024^(u^3) = 2^(10 u^3) */
	double b = 1024.0 * __builtin_exp2(10.0 * u * u * u);
	if (b > 1048576.0)
		b = 1048576.0;
	return (uint32_t)b;
}

static void
exim_id(char *buf)
{
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	int i;

	for (i = 0; i < 6; i++)
		buf[i] = b62[below(62)];
	buf[6] = '-';
	for (i = 7; i < 13; i++)
		buf[i] = b62[below(62)];
	buf[13] = '-';
	buf[14] = b62[below(62)];
	buf[15] = b62[below(62)];
	buf[16] = '\0';
}

static void
new_session(struct sess *s, char *hdrbuf, uint64_t serial, double ratio,
    const struct sess *slots, size_t nslots)
{
	double u;
	size_t i;
	bool clash;

	memset(s, 0, sizeof(*s));
	s->hdr = hdrbuf;
	s->serial = serial;
	u = unit();
	if (u >= ratio)
		s->kind = K_OK;
	else {
		u /= ratio;
		s->kind = u < 0.25 ? K_RELAY : u < 0.50 ? K_UNKNOWN :
		    u < 0.75 ? K_RBL : u < 0.90 ? K_AUTH : K_SYNC;
	}
	do {
		if (s->kind != K_OK && below(2) == 0)
			s->cip = bad_ips[below(BAD_POOL)];
		else
			s->cip = fresh_client();
		s->cport = (uint16_t)(32768 + below(28232));
		clash = false;
		for (i = 0; i < nslots; i++)
			if (slots[i].step != S_DONE && &slots[i] != s &&
			    slots[i].cip == s->cip && slots[i].cport == s->cport)
				clash = true;
	} while (clash);
	s->cseq = (uint32_t)rnd();
	s->sseq = (uint32_t)rnd();
	s->cts = (uint32_t)rnd();
	s->sts = (uint32_t)rnd();
	s->cipid = (uint16_t)rnd();
	s->sipid = (uint16_t)rnd();
	s->nrcpt = (uint8_t)(1 + (below(3) == 0 ? below(5) : 0));
	s->nbad = s->kind == K_UNKNOWN ? (uint8_t)(1 + below(s->nrcpt)) :
	    (s->kind == K_RELAY || s->kind == K_RBL) ? s->nrcpt : 0;
	s->tries = (uint8_t)(1 + below(3));
	s->want = body_size();
	if (s->nbad < s->nrcpt && s->kind != K_AUTH && s->kind != K_SYNC)
		pending += s->want;
	s->step = S_SYN;
	st.sessions++;
	st.kinds[s->kind]++;
}

/* The message: a header written now, then pool lines, then ".\r\n". */
static void
make_message(struct sess *s)
{
	char date[64], id[17];
	time_t t = (time_t)(now_us / 1000000);
	struct tm tm;
	uint32_t want = s->want, lines;
	int n;

	uint32_t subj = below(10000), w1 = below(10), w2 = below(10);

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	exim_id(id);
	n = snprintf(s->hdr, 600,
	    "From: \"Sender %" PRIu64 "\" <user%" PRIu64 "@sender%u.example>\r\n"
	    "To: <user%u@example.net>\r\n"
	    "Subject: %s %s %" PRIu64 "\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s@sender%u.example>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n",
	    s->serial, s->serial, (unsigned)(s->cip & 0xffff),
	    subj, words[w1], words[w2], s->serial,
	    date, id, (unsigned)(s->cip & 0xffff));
	s->hdr_len = (uint16_t)n;
	lines = want > (uint32_t)n + LINE_LEN ? (want - (uint32_t)n) / LINE_LEN :
	    1;
	if (lines > POOL_LINES / 2)
		lines = POOL_LINES / 2;
	s->pool_off = below(POOL_LINES - lines) * LINE_LEN;
	s->body_len = (uint32_t)n + lines * LINE_LEN + 3;
	/* what is pending from now on is the real length */
	pending = pending - s->want + s->body_len;
	s->body_sent = 0;
	s->unacked = 0;
	st.messages++;
	st.body_bytes += s->body_len;
	if (s->body_len > st.max_body)
		st.max_body = s->body_len;
}

/* MAIL, RCPTs and DATA in one write (PIPELINING). */
static void
send_envelope(struct sess *s)
{
	char buf[1024];
	size_t n;
	unsigned i;

	n = (size_t)snprintf(buf, sizeof(buf),
	    "MAIL FROM:<user%" PRIu64 "@sender%u.example> SIZE=%u\r\n",
	    s->serial, (unsigned)(s->cip & 0xffff), 1024 + below(1 << 20));
	for (i = 0; i < s->nrcpt; i++) {
		if (s->kind == K_RELAY) {
			uint32_t who = below(100000), dom = below(100);

			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "RCPT TO:<victim%u@elsewhere%u.example>\r\n",
			    who, dom);
		} else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "RCPT TO:<%s%u@example.net>\r\n",
			    i < s->nbad ? "nobody" : "user", below(100000));
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "DATA\r\n");
	say(s, true, buf, n);
}

/* The replies to the pipelined group, in one write. Returns true when
 * DATA got its 354. */
static bool
reply_envelope(struct sess *s)
{
	char buf[2048], cip[16];
	const char *first = NULL;
	size_t n;
	unsigned i, ok = 0;

	ipstr(s->cip, cip);
	n = (size_t)snprintf(buf, sizeof(buf), "250 OK\r\n");
	for (i = 0; i < s->nrcpt; i++) {
		if (i >= s->nbad) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "250 Accepted\r\n");
			ok++;
			st.rcpt_ok++;
		} else if (s->kind == K_RELAY) {
			first = "relay not permitted";
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "550 relay not permitted\r\n");
			st.rcpt_relay++;
		} else if (s->kind == K_RBL) {
			first = "rbl";
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "550-rejected because %s is in a black list at "
			    "zen.spamhaus.org\r\n550 Listed by ZEN, see "
			    "https://www.spamhaus.org/query/ip/%s\r\n", cip, cip);
			st.rcpt_rbl++;
		} else {
			first = "Unknown user";
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "550 Unknown user\r\n");
			st.rcpt_unknown++;
		}
	}
	if (ok > 0)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "354 Enter message, ending with \".\" on a line by "
		    "itself\r\n");
	else {
		if (strcmp(first, "rbl") == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "503-All RCPT commands were rejected with this "
			    "error:\r\n503-rejected because %s is in a black "
			    "list at zen.spamhaus.org\r\n503-Listed by ZEN, see "
			    "https://www.spamhaus.org/query/ip/%s\r\n503 Valid "
			    "RCPT command must precede DATA\r\n", cip, cip);
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "503-All RCPT commands were rejected with this "
			    "error:\r\n503-%s\r\n503 Valid RCPT command must "
			    "precede DATA\r\n", first);
		st.data_503++;
	}
	say(s, false, buf, n);
	return ok > 0;
}

/* One turn of session s: usually one packet. */
static void
step(struct sess *s)
{
	char buf[512], cip[16], date[64], id[17];
	time_t t;
	struct tm tm;
	size_t n;
	uint32_t k;

	switch (s->step) {
	case S_SYN:
		emit(s, true, F_SYN, NULL, 0, false);
		s->step = S_SYNACK;
		break;
	case S_SYNACK:
		emit(s, false, F_SYN | F_ACK, NULL, 0, false);
		s->step = S_ACK;
		break;
	case S_ACK:
		emit(s, true, F_ACK, NULL, 0, false);
		s->step = s->kind == K_SYNC ? S_EARLY : S_GREET;
		break;
	case S_GREET:
		t = (time_t)(now_us / 1000000);
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		n = (size_t)snprintf(buf, sizeof(buf), "220 " HOSTNAME
		    " ESMTP Exim 4.96 %s\r\n", date);
		say(s, false, buf, n);
		s->step = S_EHLO;
		break;
	case S_EHLO:
		ipstr(s->cip, cip);
		n = (size_t)snprintf(buf, sizeof(buf), "EHLO host-%u-%u.client%u"
		    ".example\r\n", (s->cip >> 8) & 255, s->cip & 255,
		    (s->cip >> 16) & 255);
		say(s, true, buf, n);
		s->step = S_EHLO_R;
		break;
	case S_EHLO_R:
		ipstr(s->cip, cip);
		n = (size_t)snprintf(buf, sizeof(buf),
		    "250-" HOSTNAME " Hello host-%u-%u.client%u.example [%s]\r\n"
		    "250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
		    "250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-PRDR\r\n"
		    "250 HELP\r\n", (s->cip >> 8) & 255, s->cip & 255,
		    (s->cip >> 16) & 255, cip);
		say(s, false, buf, n);
		s->step = s->kind == K_AUTH ? S_AUTH : S_MAIL;
		break;
	case S_MAIL:
		send_envelope(s);
		s->step = S_MAIL_R;
		break;
	case S_MAIL_R:
		if (reply_envelope(s)) {
			make_message(s);
			s->step = S_BODY;
		} else
			s->step = S_QUIT;
		break;
	case S_BODY:
		k = s->body_len - s->body_sent;
		if (k > MSS)
			k = MSS;
		emit(s, true, (s->body_sent + k == s->body_len ? F_PSH : 0) |
		    F_ACK, NULL, k, true);
		s->body_sent += k;
		pending -= k;
		if (s->body_sent == s->body_len)
			s->step = S_EOM_R;
		else if (++s->unacked == 2)
			s->step = S_BODY_ACK;
		break;
	case S_BODY_ACK:
		emit(s, false, F_ACK, NULL, 0, false);
		s->unacked = 0;
		s->step = S_BODY;
		break;
	case S_EOM_R:
		exim_id(id);
		n = (size_t)snprintf(buf, sizeof(buf), "250 OK id=%s\r\n", id);
		say(s, false, buf, n);
		s->step = S_QUIT;
		break;
	case S_QUIT:
		say(s, true, "QUIT\r\n", 6);
		s->step = S_QUIT_R;
		break;
	case S_QUIT_R:
		n = (size_t)snprintf(buf, sizeof(buf), "221 " HOSTNAME
		    " closing connection\r\n");
		say(s, false, buf, n);
		s->step = S_SFIN;
		break;
	case S_SFIN:
		emit(s, false, F_FIN | F_ACK, NULL, 0, false);
		s->step = S_CFIN;
		break;
	case S_CFIN:
		emit(s, true, F_FIN | F_ACK, NULL, 0, false);
		s->step = S_LASTACK;
		break;
	case S_LASTACK:
		emit(s, false, F_ACK, NULL, 0, false);
		s->step = S_DONE;
		break;
	case S_EARLY:
		/* talks before the banner */
		n = (size_t)snprintf(buf, sizeof(buf), "EHLO early%u.example\r\n",
		    below(1000));
		say(s, true, buf, n);
		s->step = S_SYNC_R;
		break;
	case S_SYNC_R:
		say(s, false, "554 SMTP synchronization error\r\n", 32);
		s->step = S_SFIN;
		break;
	case S_AUTH:
		say(s, true, "AUTH LOGIN\r\n", 12);
		s->step = S_AUTH_R1;
		break;
	case S_AUTH_R1:
		say(s, false, "334 VXNlcm5hbWU6\r\n", 18);
		s->step = S_AUTH_U;
		break;
	case S_AUTH_U:
		n = (size_t)snprintf(buf, sizeof(buf), "YWRtaW4%c\r\n",
		    "wxyz"[below(4)]);
		say(s, true, buf, n);
		s->step = S_AUTH_R2;
		break;
	case S_AUTH_R2:
		say(s, false, "334 UGFzc3dvcmQ6\r\n", 18);
		s->step = S_AUTH_P;
		break;
	case S_AUTH_P:
		n = (size_t)snprintf(buf, sizeof(buf), "cGFzc3dvcmQx%08x\r\n",
		    (unsigned)rnd());
		say(s, true, buf, n);
		s->step = S_AUTH_R3;
		break;
	case S_AUTH_R3:
		say(s, false, "535 Incorrect authentication data\r\n", 35);
		st.auth_535++;
		s->step = --s->tries > 0 ? S_AUTH : S_QUIT;
		break;
	default:
		break;
	}
}

/* ---- the two modes --------------------------------------------------- */

static void
run_busy(uint64_t max_bytes, uint64_t max_sessions, size_t width,
    double ratio)
{
	struct sess *slots = calloc(width, sizeof(*slots));
	char *hdrs = malloc(width * 600);
	uint64_t serial = 0;
	size_t i, active = 0;
	bool more = true;

	if (slots == NULL || hdrs == NULL) {
		perror("gen-smtp-pcap");
		exit(1);
	}
	for (i = 0; i < width; i++)
		slots[i].step = S_DONE;
	for (i = 0; i < width && more; i++) {
		new_session(&slots[i], hdrs + i * 600, ++serial, ratio, slots,
		    width);
		active++;
		more = max_sessions ? serial < max_sessions :
		    st.bytes + pending < max_bytes;
	}
	while (active > 0) {
		for (i = 0; i < width; i++) {
			if (slots[i].step == S_DONE)
				continue;
			step(&slots[i]);
			if (slots[i].step != S_DONE)
				continue;
			active--;
			more = max_sessions ? serial < max_sessions :
			    st.bytes + pending < max_bytes;
			if (more) {
				new_session(&slots[i], hdrs + i * 600, ++serial,
				    ratio, slots, width);
				active++;
			}
		}
	}
	free(slots);
	free(hdrs);
}

static void
run_concurrent(uint64_t n, size_t width, unsigned idle)
{
	struct sess *ss = calloc(n, sizeof(*ss));
	uint64_t i, b, j;
	unsigned t;

	if (ss == NULL) {
		perror("gen-smtp-pcap");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		struct sess *s = &ss[i];
		uint64_t x = i;

		s->cip = 0x0a000000u | (uint32_t)(1 + x / 62500) << 16 |
		    (uint32_t)(1 + (x / 250) % 250) << 8 | (uint32_t)(1 + x % 250);
		s->cport = (uint16_t)(32768 + below(28232));
		s->cseq = (uint32_t)rnd();
		s->sseq = (uint32_t)rnd();
		s->cts = (uint32_t)rnd();
		s->sts = (uint32_t)rnd();
		s->cipid = (uint16_t)rnd();
		s->sipid = (uint16_t)rnd();
		s->kind = K_OK;
		st.sessions++;
		st.kinds[K_OK]++;
	}
	/* open: WIDTH clients at a time, 1 ms apart, turns interleaved */
	for (b = 0; b < n; b += width) {
		uint64_t e = b + width < n ? b + width : n;

		for (t = 0; t < 5; t++)
			for (j = b; j < e; j++) {
				struct sess *s = &ss[j];

				switch (t) {
				case 0:
					now_us += 1000;
					emit(s, true, F_SYN, NULL, 0, false);
					break;
				case 1:
					emit(s, false, F_SYN | F_ACK, NULL, 0,
					    false);
					break;
				case 2:
					emit(s, true, F_ACK, NULL, 0, false);
					break;
				case 3:
					s->step = S_GREET;
					step(s);
					break;
				case 4:
					emit(s, true, F_ACK, NULL, 0, false);
					break;
				}
			}
	}
	now_us += (uint64_t)idle * 1000000;
	/* close: FIN from the client, FIN+ACK from the server, last ACK */
	for (b = 0; b < n; b += width) {
		uint64_t e = b + width < n ? b + width : n;

		for (t = 0; t < 3; t++)
			for (j = b; j < e; j++) {
				struct sess *s = &ss[j];

				if (t == 0) {
					now_us += 1000;
					emit(s, true, F_FIN | F_ACK, NULL, 0,
					    false);
				} else if (t == 1)
					emit(s, false, F_FIN | F_ACK, NULL, 0,
					    false);
				else
					emit(s, true, F_ACK, NULL, 0, false);
			}
	}
	free(ss);
}

/* ---- main ------------------------------------------------------------ */

static uint64_t
parse_size(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		goto bad;
	switch (*end) {
	case 'k': case 'K': v *= 1e3; end++; break;
	case 'm': case 'M': v *= 1e6; end++; break;
	case 'g': case 'G': v *= 1e9; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		goto bad;
	return (uint64_t)v;
bad:
	fprintf(stderr, "gen-smtp-pcap: bad number '%s'\n", s);
	exit(2);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gen-smtp-pcap [-s BYTES | -n SESSIONS] [-w WIDTH] "
	    "[-r RATIO] [-S SEED] [-q] -o FILE\n"
	    "       gen-smtp-pcap -c SESSIONS [-I IDLE_SECONDS] [-w WIDTH] "
	    "[-S SEED] [-q] -o FILE\n"
	    "  -s  stop starting sessions at this file size (default 1G; "
	    "K/M/G = 10^3/6/9)\n"
	    "  -n  write this many sessions instead\n"
	    "  -c  this many sessions open at once, idle, then closed\n"
	    "  -w  sessions interleaved round-robin (default 200)\n"
	    "  -r  share of rejected sessions (default 0.30)\n"
	    "  -S  seed (default 1)\n"
	    "  -o  output file ('-' for stdout)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t max_bytes = 1000000000ULL, max_sessions = 0, conc = 0;
	uint64_t seed = 1;
	size_t width = 200;
	double ratio = 0.30;
	unsigned idle = 60, i;
	const char *path = NULL;
	bool quiet = false;
	int ch;

	while ((ch = getopt(argc, argv, "s:n:c:w:r:S:I:o:qh")) != -1) {
		switch (ch) {
		case 's': max_bytes = parse_size(optarg); break;
		case 'n': max_sessions = parse_size(optarg); break;
		case 'c': conc = parse_size(optarg); break;
		case 'w': width = (size_t)parse_size(optarg); break;
		case 'r': ratio = strtod(optarg, NULL); break;
		case 'S': seed = parse_size(optarg); break;
		case 'I': idle = (unsigned)parse_size(optarg); break;
		case 'o': path = optarg; break;
		case 'q': quiet = true; break;
		default: usage();
		}
	}
	if (path == NULL || optind != argc || width == 0 || ratio < 0 ||
	    ratio > 1)
		usage();
	if (strcmp(path, "-") == 0)
		out = stdout;
	else if ((out = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "gen-smtp-pcap: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if ((obuf = malloc(OBUF_SIZE)) == NULL ||
	    (bad_ips = malloc(BAD_POOL * sizeof(*bad_ips))) == NULL) {
		perror("gen-smtp-pcap");
		return 1;
	}
	rng = seed * 0x2545f4914f6cdd1dULL + 12345;
	now_us = START_SEC * 1000000ULL;
	make_pool();
	for (i = 0; i < BAD_POOL; i++) {
		uint32_t y = below(256), z = 1 + below(254);

		bad_ips[i] = 0x0a420000u | y << 8 | z;
	}
	write_file_header();
	if (conc > 0)
		run_concurrent(conc, width, idle);
	else
		run_busy(max_bytes, max_sessions, width, ratio);
	oflush();
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "gen-smtp-pcap: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!quiet) {
		fprintf(stderr, "gen-smtp-pcap: %s: %" PRIu64 " bytes, %" PRIu64
		    " packets, %" PRIu64 " sessions, %.1f s of traffic\n", path,
		    st.bytes, st.packets, st.sessions,
		    (double)(now_us - START_SEC * 1000000ULL) / 1e6);
		fprintf(stderr, "  sessions:");
		for (i = 0; i < K_MAX; i++)
			fprintf(stderr, " %s %" PRIu64, kind_name[i], st.kinds[i]);
		fprintf(stderr, "\n  replies: RCPT 250 %" PRIu64 ", 550 relay %"
		    PRIu64 ", 550 unknown %" PRIu64 ", 550 rbl %" PRIu64
		    ", DATA 503 %" PRIu64 ", 535 %" PRIu64 ", 554 sync %"
		    PRIu64 "\n  messages %" PRIu64 ", %" PRIu64 " body bytes, "
		    "largest %" PRIu64 "\n", st.rcpt_ok, st.rcpt_relay,
		    st.rcpt_unknown, st.rcpt_rbl, st.data_503, st.auth_535,
		    st.kinds[K_SYNC], st.messages, st.body_bytes, st.max_body);
	}
	/* the counts, machine-readable, for run-bench.sh */
	if (!quiet || getenv("GEN_STATS") != NULL)
		fprintf(stderr, "STATS packets=%" PRIu64 " bytes=%" PRIu64
		    " sessions=%" PRIu64 "\n", st.packets, st.bytes, st.sessions);
	return 0;
}
