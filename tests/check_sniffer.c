/*
 * check_sniffer.c - the sniffer, from packets to stream chunks.
 *
 * Every test writes a tiny capture of its own (pcap or pcapng, any link
 * type, written here byte by byte so odd link-type numbers and broken
 * files are as easy as good ones), runs the sniffer over it with
 * recording handlers, and checks the exact bytes per direction, the
 * order of the directions, how each connection closed and the counters.
 * One TCase per concern; tables where the cases are data.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sniffer.h"

#define T0		(1700000000LL * WB_USEC_PER_SEC)
#define MINUTE		(60 * WB_USEC_PER_SEC)
#define MAXCONN		64
#define MAXLOG		32
#define FRAME_MAX	70000

/* ---------------------------------------------------------------- */
/* Capture files, written by hand.                                   */

struct cap {
	FILE	*f;
	char	 path[64];
	bool	 ng;		/* pcapng, else pcap */
};


/* The defaults with a small stream table: the default one (131072
 * streams) costs each forked test a tenth of a second to set up. */
static void
small_defaults(struct sniff_config *c)
{
	sniff_config_defaults(c);
	c->max_streams = 1024;
}

static void
put_le(FILE *f, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fputc((int)((v >> (8 * i)) & 0xff), f);
}

static void
cap_open(struct cap *c, int linktype, bool ng)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "/tmp/check_sniffer_XXXXXX");
	fd = mkstemp(c->path);
	ck_assert_int_ge(fd, 0);
	c->f = fdopen(fd, "wb");
	ck_assert_ptr_nonnull(c->f);
	c->ng = ng;
	if (!ng) {
		put_le(c->f, 0xa1b2c3d4, 4);
		put_le(c->f, 2, 2);
		put_le(c->f, 4, 2);
		put_le(c->f, 0, 4);
		put_le(c->f, 0, 4);
		put_le(c->f, 262144, 4);
		put_le(c->f, (uint64_t)linktype, 4);
		return;
	}
	put_le(c->f, 0x0a0d0d0a, 4);	/* section header */
	put_le(c->f, 28, 4);
	put_le(c->f, 0x1a2b3c4d, 4);
	put_le(c->f, 1, 2);
	put_le(c->f, 0, 2);
	put_le(c->f, UINT64_MAX, 8);
	put_le(c->f, 28, 4);
	put_le(c->f, 1, 4);		/* interface: microseconds */
	put_le(c->f, 20, 4);
	put_le(c->f, (uint64_t)linktype, 2);
	put_le(c->f, 0, 2);
	put_le(c->f, 262144, 4);
	put_le(c->f, 20, 4);
}

static void
cap_write(struct cap *c, wb_usec ts, const uint8_t *d, size_t caplen,
    size_t len)
{
	size_t pad = (4 - caplen % 4) % 4;

	if (!c->ng) {
		put_le(c->f, (uint64_t)(ts / WB_USEC_PER_SEC), 4);
		put_le(c->f, (uint64_t)(ts % WB_USEC_PER_SEC), 4);
		put_le(c->f, caplen, 4);
		put_le(c->f, len, 4);
		fwrite(d, 1, caplen, c->f);
		return;
	}
	put_le(c->f, 6, 4);		/* enhanced packet block */
	put_le(c->f, 32 + caplen + pad, 4);
	put_le(c->f, 0, 4);
	put_le(c->f, (uint64_t)ts >> 32, 4);
	put_le(c->f, (uint64_t)ts & 0xffffffff, 4);
	put_le(c->f, caplen, 4);
	put_le(c->f, len, 4);
	fwrite(d, 1, caplen, c->f);
	put_le(c->f, 0, (int)pad);
	put_le(c->f, 32 + caplen + pad, 4);
}

static void
cap_close(struct cap *c)
{
	ck_assert_int_eq(fclose(c->f), 0);
	c->f = NULL;
}

/* ---------------------------------------------------------------- */
/* Packets.                                                          */

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

/* An IPv4 TCP packet with right checksums; returns its length. */
static size_t
ip4_tcp(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint16_t sport,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const void *data, size_t len)
{
	size_t tot = 40 + len;
	uint32_t ps;

	memset(p, 0, 40);
	p[0] = 0x45;
	put16(p + 2, (uint32_t)tot);
	put16(p + 4, 0x1234);
	put16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = 6;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	put16(p + 10, fold(sum16(p, 20, 0)));
	put16(p + 20, sport);
	put16(p + 22, dport);
	put32(p + 24, seq);
	put32(p + 28, ack);
	p[32] = 5 << 4;
	p[33] = flags;
	put16(p + 34, 65535);
	if (len > 0)
		memcpy(p + 40, data, len);
	ps = sum16(p + 12, 8, 0) + 6 + (uint32_t)(tot - 20);
	put16(p + 36, fold(sum16(p + 20, tot - 20, ps)));
	return tot;
}

/* An IPv6 TCP SYN, optionally behind one extension header. */
static size_t
ip6_tcp(uint8_t *p, uint16_t dport, int ext)
{
	size_t off = 40;

	memset(p, 0, 88);
	p[0] = 0x60;
	p[6] = 6;
	p[7] = 64;
	p[23] = 1;
	p[39] = 2;
	if (ext == 0 || ext == 60) {		/* hop-by-hop, dest opts */
		p[6] = (uint8_t)ext;
		p[off] = 6;
		p[off + 1] = 0;			/* 8 bytes */
		off += 8;
	} else if (ext == 44) {			/* a later fragment */
		p[6] = 44;
		p[off] = 6;
		put16(p + off + 2, 0x0100);
		off += 8;
	} else if (ext == 17) {			/* UDP, not TCP */
		p[6] = 17;
	}
	put16(p + off, 40000);
	put16(p + off + 2, dport);
	p[off + 12] = 5 << 4;
	p[off + 13] = F_SYN;
	put16(p + 4, (uint32_t)(off + 20 - 40));
	return off + 20;
}

/* Link layers. */
enum lk {
	LK_ETH, LK_VLAN, LK_QINQ, LK_Q9100, LK_SLL, LK_SLLVLAN, LK_SLL2,
	LK_NULL_LE, LK_NULL_BE, LK_LOOP_BE, LK_LOOP_LE, LK_RAW101, LK_RAW12,
	LK_RAW14, LK_IPV4, LK_N
};

static const struct {
	const char	*name;
	int		 linktype;
} links[LK_N] = {
	[LK_ETH] = { "ethernet", 1 },
	[LK_VLAN] = { "802.1Q", 1 },
	[LK_QINQ] = { "802.1ad QinQ", 1 },
	[LK_Q9100] = { "0x9100 QinQ", 1 },
	[LK_SLL] = { "SLL", 113 },
	[LK_SLLVLAN] = { "SLL+802.1Q", 113 },
	[LK_SLL2] = { "SLL2", 276 },
	[LK_NULL_LE] = { "NULL little-endian", 0 },
	[LK_NULL_BE] = { "NULL big-endian", 0 },
	[LK_LOOP_BE] = { "LOOP", 108 },
	[LK_LOOP_LE] = { "LOOP little-endian", 108 },
	[LK_RAW101] = { "RAW 101", 101 },
	[LK_RAW12] = { "RAW 12", 12 },
	[LK_RAW14] = { "RAW 14", 14 },
	[LK_IPV4] = { "IPV4", 228 },
};

/* Wraps ip in link layer k; af is 4 or 6. Returns the frame length. */
static size_t
wrap(enum lk k, int af, const uint8_t *ip, size_t len, uint8_t *out)
{
	uint16_t et = af == 4 ? 0x0800 : 0x86dd;
	uint32_t bsd = af == 4 ? 2 : 24;
	size_t h = 0;

	switch (k) {
	case LK_ETH:
	case LK_VLAN:
	case LK_QINQ:
	case LK_Q9100:
		memset(out, 0x02, 12);
		out[11] = 0x01;
		h = 12;
		if (k == LK_QINQ || k == LK_Q9100) {
			put16(out + h, k == LK_QINQ ? 0x88a8 : 0x9100);
			put16(out + h + 2, 100);
			h += 4;
		}
		if (k != LK_ETH) {
			put16(out + h, 0x8100);
			put16(out + h + 2, 200);
			h += 4;
		}
		put16(out + h, et);
		h += 2;
		break;
	case LK_SLL:
	case LK_SLLVLAN:
		memset(out, 0, 16);
		put16(out + 2, 1);
		put16(out + 4, 6);
		memset(out + 6, 0x02, 6);
		h = 14;
		if (k == LK_SLLVLAN) {
			put16(out + h, 0x8100);
			put16(out + h + 2, 7);
			h += 4;
		}
		put16(out + h, et);
		h += 2;
		break;
	case LK_SLL2:
		memset(out, 0, 20);
		put16(out, et);
		put32(out + 4, 3);
		put16(out + 8, 1);
		out[11] = 6;
		h = 20;
		break;
	case LK_NULL_LE:
	case LK_LOOP_LE:
		out[0] = (uint8_t)bsd;
		out[1] = out[2] = out[3] = 0;
		h = 4;
		break;
	case LK_NULL_BE:
	case LK_LOOP_BE:
		put32(out, bsd);
		h = 4;
		break;
	default:
		break;
	}
	memcpy(out + h, ip, len);
	return h + len;
}

/* A TCP conversation being written. */
struct conv {
	struct cap	 cap;
	enum lk		 link;
	uint8_t		 cip[4], sip[4];
	uint16_t	 cport, sport;
	uint32_t	 cseq, sseq;
	wb_usec		 t;
	bool		 badsum[2];	/* corrupt TCP sums: [0] client */
	bool		 ipsum0[2];	/* zero IPv4 header sums */
	size_t		 cut;		/* next packet: caplen */
	size_t		 npkts;
};

static void
conv_init(struct conv *v, enum lk link, bool ng)
{
	memset(v, 0, sizeof(*v));
	v->link = link;
	memcpy(v->cip, "\x0a\x00\x00\x01", 4);
	memcpy(v->sip, "\x0a\x00\x00\x02", 4);
	v->cport = 40000;
	v->sport = 25;
	v->cseq = 1000;
	v->sseq = 5000;
	v->t = T0;
	cap_open(&v->cap, links[link].linktype, ng);
}

/* Writes one frame of ip (len bytes), honouring v->cut. */
static void
conv_frame(struct conv *v, const uint8_t *ip, size_t len, int af)
{
	static uint8_t f[FRAME_MAX];
	size_t n = wrap(v->link, af, ip, len, f);

	cap_write(&v->cap, v->t, f, v->cut > 0 && v->cut < n ? v->cut : n, n);
	v->cut = 0;
	v->t += 1000;
	v->npkts++;
}

/* One segment from one side, at seq (the side's next unless given). */
static void
seg_at(struct conv *v, bool from_client, uint8_t flags, uint32_t seq,
    const void *data, size_t len)
{
	static uint8_t ip[FRAME_MAX];
	int side = from_client ? 0 : 1;
	size_t n;

	if (from_client)
		n = ip4_tcp(ip, v->cip, v->sip, v->cport, v->sport, seq,
		    (flags & F_ACK) ? v->sseq : 0, flags, data, len);
	else
		n = ip4_tcp(ip, v->sip, v->cip, v->sport, v->cport, seq,
		    v->cseq, flags, data, len);
	if (v->badsum[side])
		ip[36] ^= 0x5a;
	if (v->ipsum0[side])
		ip[10] = ip[11] = 0;
	conv_frame(v, ip, n, 4);
}

static void
seg(struct conv *v, bool from_client, uint8_t flags, const char *text)
{
	uint32_t *seq = from_client ? &v->cseq : &v->sseq;
	size_t len = text != NULL ? strlen(text) : 0;

	seg_at(v, from_client, flags, *seq, text, len);
	*seq += (uint32_t)len + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
}

static void
say(struct conv *v, bool from_client, const char *text)
{
	seg(v, from_client, F_ACK | F_PSH, text);
}

static void
handshake(struct conv *v)
{
	seg(v, true, F_SYN, NULL);
	seg(v, false, F_SYN | F_ACK, NULL);
	seg(v, true, F_ACK, NULL);
}

static void
fin_close(struct conv *v)
{
	seg(v, false, F_FIN | F_ACK, NULL);
	seg(v, true, F_ACK, NULL);
	seg(v, true, F_FIN | F_ACK, NULL);
	seg(v, false, F_ACK, NULL);
}

/* The conversation most tests use, and what must come out of it. */
static const char *const script[][2] = {
	{ "S", "220 mx.example ESMTP\r\n" },
	{ "C", "EHLO client.example\r\n" },
	{ "S", "250-mx.example\r\n250 PIPELINING\r\n" },
	{ "C", "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
	    "DATA\r\n" },
	{ "S", "250 OK\r\n550 relay not permitted\r\n503 no valid "
	    "recipients\r\n" },
	{ "C", "QUIT\r\n" },
	{ "S", "221 bye\r\n" },
};
#define NSCRIPT	(sizeof(script) / sizeof(script[0]))

static void
dialog(struct conv *v)
{
	size_t i;

	for (i = 0; i < NSCRIPT; i++)
		say(v, script[i][0][0] == 'C', script[i][1]);
}

static const char *
transcript(void)
{
	static char buf[1024];
	size_t i, off = 0;

	for (i = 0; i < NSCRIPT; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s>%s",
		    script[i][0], script[i][1]);
	return buf;
}

static const char *
side_bytes(char who)
{
	static char buf[2][512];
	int k = who == 'C' ? 0 : 1;
	size_t i, off = 0;

	buf[k][0] = '\0';
	for (i = 0; i < NSCRIPT; i++)
		if (script[i][0][0] == who)
			off += (size_t)snprintf(buf[k] + off, sizeof(buf[k]) - off,
			    "%s", script[i][1]);
	return buf[k];
}

/* ---------------------------------------------------------------- */
/* Recording handlers.                                               */

struct rconn {
	uint64_t	 id;
	char		 client[WB_ADDR_STRLEN], server[WB_ADDR_STRLEN];
	uint16_t	 cport, sport;
	char		 bytes[2][16384];
	size_t		 len[2];
	char		 tr[32768];	/* "S>...C>..." at each turn */
	size_t		 trlen;
	int		 lastdir;
	bool		 closed;
	enum sniff_close how;
	wb_usec		 open_ts, close_ts;
};

static struct rec {
	struct rconn	 c[MAXCONN];
	int		 n;
	int		 nclosed;
	char		 log[MAXLOG][512];
	int		 nlog;
	struct sniff	*s;
} R;

/* Outside R: they survive rec_reset(). */
static bool	 kill_on_data;	/* on_data calls sniff_kill */
static int	 kill_rc;

static void *
rec_open(void *arg, struct sniff_conn *c, wb_usec ts)
{
	struct rconn *r;

	(void)arg;
	ck_assert_int_lt(R.n, MAXCONN);
	r = &R.c[R.n++];
	r->id = c->id;
	wb_addr_str(&c->client, r->client);
	wb_addr_str(&c->server, r->server);
	r->cport = c->client_port;
	r->sport = c->server_port;
	r->open_ts = ts;
	r->lastdir = -1;
	return r;
}

static void
rec_data(void *arg, struct sniff_conn *c, enum sniff_dir d,
    const uint8_t *b, size_t len, wb_usec ts)
{
	struct rconn *r = c->user;

	(void)arg;
	(void)ts;
	ck_assert_ptr_nonnull(r);
	ck_assert(!r->closed);
	ck_assert_uint_gt(len, 0);
	if (r->len[d] + len < sizeof(r->bytes[d])) {
		memcpy(r->bytes[d] + r->len[d], b, len);
		r->len[d] += len;
	}
	if (r->lastdir != (int)d && r->trlen + 2 < sizeof(r->tr)) {
		memcpy(r->tr + r->trlen, d == SNIFF_FROM_CLIENT ? "C>" : "S>", 2);
		r->trlen += 2;
		r->lastdir = (int)d;
	}
	if (r->trlen + len < sizeof(r->tr)) {
		memcpy(r->tr + r->trlen, b, len);
		r->trlen += len;
	}
	if (kill_on_data)
		kill_rc = sniff_kill(R.s, c);
}

static void
rec_close(void *arg, struct sniff_conn *c, enum sniff_close how, wb_usec ts)
{
	struct rconn *r = c->user;

	(void)arg;
	ck_assert_ptr_nonnull(r);
	ck_assert(!r->closed);
	r->closed = true;
	r->how = how;
	r->close_ts = ts;
	R.nclosed++;
}

static void
rec_log(const char *msg)
{
	if (R.nlog < MAXLOG)
		snprintf(R.log[R.nlog], sizeof(R.log[0]), "%s", msg);
	R.nlog++;
}

static const struct sniff_handlers H = { rec_open, rec_data, rec_close, NULL };

static void
rec_reset(void)
{
	memset(&R, 0, sizeof(R));
	sniff_set_log(rec_log);
}

static bool
logged(const char *needle)
{
	int i;

	for (i = 0; i < R.nlog && i < MAXLOG; i++)
		if (strstr(R.log[i], needle) != NULL)
			return true;
	return false;
}

/*
 * Runs the sniffer over path. Returns what the last dispatch returned
 * (0 or -1), or -2 when the open failed; err holds the message.
 */
static int
run(const char *path, const struct sniff_config *cfg, struct sniff_stats *st,
    char *err, size_t errlen)
{
	struct sniff *s;
	int n;

	rec_reset();
	if ((s = sniff_open_file(cfg, path, &H, err, errlen)) == NULL)
		return -2;
	R.s = s;
	while ((n = sniff_dispatch(s, -1, err, errlen)) > 0)
		;
	sniff_get_stats(s, st);
	sniff_close(s);
	R.s = NULL;
	return n;
}

static int
run_default(const char *path, struct sniff_stats *st)
{
	struct sniff_config cfg;
	char err[512];
	int r;

	small_defaults(&cfg);
	r = run(path, &cfg, st, err, sizeof(err));
	ck_assert_msg(r == 0, "run: %d %s", r, err);
	return r;
}

/* The standard conversation over link k, pcap or pcapng. */
static void
write_standard(struct conv *v, enum lk k, bool ng)
{
	conv_init(v, k, ng);
	handshake(v);
	dialog(v);
	fin_close(v);
	cap_close(&v->cap);
}

static void
assert_standard(const struct sniff_stats *st, size_t npkts)
{
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0].client, "10.0.0.1");
	ck_assert_str_eq(R.c[0].server, "10.0.0.2");
	ck_assert_uint_eq(R.c[0].cport, 40000);
	ck_assert_uint_eq(R.c[0].sport, 25);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], side_bytes('C'));
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_SERVER], side_bytes('S'));
	ck_assert_str_eq(R.c[0].tr, transcript());
	ck_assert(R.c[0].closed);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_FIN);
	ck_assert_uint_eq(st->packets, npkts);
	ck_assert_uint_eq(st->ipv4, npkts);
	ck_assert_uint_eq(st->sessions, 1);
	ck_assert_uint_eq(st->ipv6 + st->other + st->malformed + st->truncated +
	    st->skipped, 0);
}

/* ---------------------------------------------------------------- */
/* Link layers: the same conversation through every one, pcap and    */
/* pcapng.                                                            */

START_TEST(test_links)
{
	enum lk k = (enum lk)(_i / 2);
	bool ng = _i % 2 == 1;
	struct sniff_stats st;
	struct conv v;

	write_standard(&v, k, ng);
	run_default(v.cap.path, &st);
	ck_assert_msg(R.n == 1, "%s %s: %d connections", links[k].name,
	    ng ? "pcapng" : "pcap", R.n);
	assert_standard(&st, v.npkts);
	ck_assert_uint_eq(R.c[0].open_ts, T0 + 2000);
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Frames sorted into the counters: one frame per case.               */

enum bucket { B_IPV4, B_SKIP, B_IPV6, B_IPV6SMTP, B_OTHER, B_BAD };

struct frame_case {
	const char	*name;
	int		 linktype;
	int		 kind;		/* how the frame is made, below */
	enum bucket	 want;
	bool		 truncated;
};

enum {
	K_SHORT_ETH, K_ARP, K_3TAGS, K_TAG_CUT, K_8023, K_V6, K_V6_UDP,
	K_V6_HBH, K_V6_DST, K_V6_FRAG, K_V6_SHORT, K_NULL24, K_NULL28,
	K_NULL30, K_NULL7, K_NULL3, K_SLL_SHORT, K_SLL2_V4, K_RAW_V5,
	K_IPV4DLT_V6, K_IHL4, K_TOT_LT_IHL, K_TOT_GT_CAP, K_TOT_GT_CAP_CUT,
	K_THOFF4, K_THOFF_BIG, K_UDP, K_PORT80, K_FRAG, K_PADDED, K_SPORT25,
	K_V4_SHORT_HDR, K_RAW_EMPTY, K_SLL2_SHORT, K_V6_CUT_EXT
};

static const struct frame_case frames[] = {
	{ "ethernet, 10 bytes", 1, K_SHORT_ETH, B_OTHER, false },
	{ "ARP", 1, K_ARP, B_OTHER, false },
	{ "three VLAN tags", 1, K_3TAGS, B_OTHER, false },
	{ "VLAN tag cut short", 1, K_TAG_CUT, B_OTHER, false },
	{ "802.3 length field", 1, K_8023, B_OTHER, false },
	{ "IPv6 TCP 25", 1, K_V6, B_IPV6SMTP, false },
	{ "IPv6 UDP", 1, K_V6_UDP, B_IPV6, false },
	{ "IPv6 hop-by-hop, TCP 25", 1, K_V6_HBH, B_IPV6SMTP, false },
	{ "IPv6 dest opts, TCP 25", 1, K_V6_DST, B_IPV6SMTP, false },
	{ "IPv6 later fragment", 1, K_V6_FRAG, B_IPV6, false },
	{ "IPv6, 20 bytes", 1, K_V6_SHORT, B_BAD, false },
	{ "NULL AF 24", 0, K_NULL24, B_IPV6SMTP, false },
	{ "NULL AF 28", 0, K_NULL28, B_IPV6SMTP, false },
	{ "NULL AF 30 (LOOP)", 108, K_NULL30, B_IPV6SMTP, false },
	{ "NULL AF 7", 0, K_NULL7, B_OTHER, false },
	{ "NULL, 3 bytes", 0, K_NULL3, B_OTHER, false },
	{ "SLL, 10 bytes", 113, K_SLL_SHORT, B_OTHER, false },
	{ "SLL2 IPv4 to 25", 276, K_SLL2_V4, B_IPV4, false },
	{ "SLL2, 12 bytes", 276, K_SLL2_SHORT, B_OTHER, false },
	{ "raw, version 5", 101, K_RAW_V5, B_OTHER, false },
	{ "raw, empty", 101, K_RAW_EMPTY, B_OTHER, false },
	{ "DLT_IPV4 holding IPv6", 228, K_IPV4DLT_V6, B_OTHER, false },
	{ "IPv4 ihl 4", 1, K_IHL4, B_BAD, false },
	{ "IPv4 total length < header", 1, K_TOT_LT_IHL, B_BAD, false },
	{ "IPv4 longer than the frame", 1, K_TOT_GT_CAP, B_BAD, false },
	{ "IPv4 cut by the snaplen", 1, K_TOT_GT_CAP_CUT, B_SKIP, true },
	{ "IPv4, 12 bytes", 1, K_V4_SHORT_HDR, B_BAD, false },
	{ "TCP data offset 4", 1, K_THOFF4, B_BAD, false },
	{ "TCP data offset past the packet", 1, K_THOFF_BIG, B_BAD, false },
	{ "IPv4 UDP", 1, K_UDP, B_SKIP, false },
	{ "TCP port 80", 1, K_PORT80, B_SKIP, false },
	{ "IPv4 fragment", 1, K_FRAG, B_IPV4, false },
	{ "ethernet padding", 1, K_PADDED, B_IPV4, false },
	{ "TCP from port 25", 1, K_SPORT25, B_IPV4, false },
	{ "IPv6 ext header cut", 1, K_V6_CUT_EXT, B_BAD, false },
};
#define NFRAMES	(int)(sizeof(frames) / sizeof(frames[0]))

/* Builds case kind into f; *cap may be set below the length. */
static size_t
make_frame(int kind, uint8_t *f, size_t *cap)
{
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	uint8_t ip[256];
	size_t n, i;

	n = ip4_tcp(ip, a, b, 40000, 25, 1, 0, F_SYN, NULL, 0);
	*cap = 0;
	switch (kind) {
	case K_SHORT_ETH:
		memset(f, 0, 10);
		return 10;
	case K_ARP:
		n = wrap(LK_ETH, 4, ip, n, f);
		put16(f + 12, 0x0806);
		return n;
	case K_3TAGS:
		n = wrap(LK_QINQ, 4, ip, n, f);
		memmove(f + 16, f + 12, n - 12);
		put16(f + 12, 0x8100);
		put16(f + 14, 5);
		return n + 4;
	case K_TAG_CUT:
		memset(f, 0, 16);
		put16(f + 12, 0x8100);
		return 16;
	case K_8023:
		n = wrap(LK_ETH, 4, ip, n, f);
		put16(f + 12, 0x0040);
		return n;
	case K_V6:
		return wrap(LK_ETH, 6, ip, ip6_tcp(ip, 25, -1), f);
	case K_V6_UDP:
		return wrap(LK_ETH, 6, ip, ip6_tcp(ip, 25, 17), f);
	case K_V6_HBH:
		return wrap(LK_ETH, 6, ip, ip6_tcp(ip, 25, 0), f);
	case K_V6_DST:
		return wrap(LK_ETH, 6, ip, ip6_tcp(ip, 25, 60), f);
	case K_V6_FRAG:
		return wrap(LK_ETH, 6, ip, ip6_tcp(ip, 25, 44), f);
	case K_V6_SHORT:
		ip6_tcp(ip, 25, -1);
		return wrap(LK_ETH, 6, ip, 20, f);
	case K_V6_CUT_EXT:
		ip6_tcp(ip, 25, 0);
		return wrap(LK_ETH, 6, ip, 44, f);
	case K_NULL24:
	case K_NULL28:
	case K_NULL30:
		n = wrap(LK_NULL_LE, 6, ip, ip6_tcp(ip, 25, -1), f);
		f[0] = kind == K_NULL24 ? 24 : kind == K_NULL28 ? 28 : 0;
		if (kind == K_NULL30)	/* LOOP: network order */
			f[3] = 30;
		return n;
	case K_NULL7:
		n = wrap(LK_NULL_LE, 4, ip, n, f);
		f[0] = 7;
		return n;
	case K_NULL3:
		memset(f, 0, 3);
		f[0] = 2;
		return 3;
	case K_SLL_SHORT:
		memset(f, 0, 10);
		return 10;
	case K_SLL2_V4:
		return wrap(LK_SLL2, 4, ip, n, f);
	case K_SLL2_SHORT:
		memset(f, 0, 12);
		put16(f, 0x0800);
		return 12;
	case K_RAW_V5:
		ip[0] = 0x55;
		return wrap(LK_RAW101, 4, ip, n, f);
	case K_RAW_EMPTY:
		return 0;
	case K_IPV4DLT_V6:
		return wrap(LK_IPV4, 6, ip, ip6_tcp(ip, 25, -1), f);
	case K_IHL4:
		ip[0] = 0x44;
		return wrap(LK_ETH, 4, ip, n, f);
	case K_TOT_LT_IHL:
		put16(ip + 2, 16);
		return wrap(LK_ETH, 4, ip, n, f);
	case K_TOT_GT_CAP:
		put16(ip + 2, 1500);
		return wrap(LK_ETH, 4, ip, n, f);
	case K_TOT_GT_CAP_CUT:
		n = wrap(LK_ETH, 4, ip, n, f);
		*cap = n - 10;
		return n;
	case K_V4_SHORT_HDR:
		return wrap(LK_ETH, 4, ip, 12, f);
	case K_THOFF4:
		ip[32] = 4 << 4;
		return wrap(LK_ETH, 4, ip, n, f);
	case K_THOFF_BIG:
		ip[32] = 15 << 4;
		return wrap(LK_ETH, 4, ip, n, f);
	case K_UDP:
		ip[9] = 17;
		return wrap(LK_ETH, 4, ip, n, f);
	case K_PORT80:
		n = ip4_tcp(ip, a, b, 40000, 80, 1, 0, F_SYN, NULL, 0);
		return wrap(LK_ETH, 4, ip, n, f);
	case K_FRAG:
		put16(ip + 6, 0x2000);		/* first fragment, MF */
		return wrap(LK_ETH, 4, ip, n, f);
	case K_PADDED:
		n = wrap(LK_ETH, 4, ip, n, f);
		for (i = 0; i < 18; i++)
			f[n + i] = 0xee;
		return n + 18;
	case K_SPORT25:
		n = ip4_tcp(ip, b, a, 25, 40000, 1, 2, F_SYN | F_ACK, NULL, 0);
		return wrap(LK_ETH, 4, ip, n, f);
	}
	ck_abort_msg("unknown kind %d", kind);
	return 0;
}

START_TEST(test_frames)
{
	const struct frame_case *fc = &frames[_i];
	uint64_t want[6] = { 0 };
	struct sniff_stats st;
	uint8_t f[512];
	struct cap c;
	size_t n, caplen;

	n = make_frame(fc->kind, f, &caplen);
	cap_open(&c, fc->linktype, false);
	cap_write(&c, T0, f, caplen > 0 ? caplen : n, n);
	cap_close(&c);
	run_default(c.path, &st);
	want[fc->want] = 1;
	if (fc->want == B_IPV6SMTP)
		want[B_IPV6] = 1;
	ck_assert_msg(st.ipv4 == want[B_IPV4] && st.skipped == want[B_SKIP] &&
	    st.ipv6 == want[B_IPV6] && st.ipv6_smtp == want[B_IPV6SMTP] &&
	    st.other == want[B_OTHER] && st.malformed == want[B_BAD],
	    "%s: ipv4 %llu skipped %llu ipv6 %llu/%llu other %llu bad %llu",
	    fc->name, (unsigned long long)st.ipv4,
	    (unsigned long long)st.skipped, (unsigned long long)st.ipv6,
	    (unsigned long long)st.ipv6_smtp, (unsigned long long)st.other,
	    (unsigned long long)st.malformed);
	ck_assert_uint_eq(st.truncated, fc->truncated ? 1 : 0);
	ck_assert_uint_eq(st.packets, 1);
	ck_assert_uint_eq(st.bytes, n);
	ck_assert_int_eq(R.n, 0);
	unlink(c.path);
}
END_TEST

/* IPv6 is counted, never followed, even a whole conversation. */
START_TEST(test_ipv6_counted)
{
	struct sniff_stats st;
	uint8_t ip[128], f[256];
	struct cap c;
	size_t n;
	int i;

	cap_open(&c, 1, false);
	for (i = 0; i < 5; i++) {
		n = wrap(LK_ETH, 6, ip, ip6_tcp(ip, 587, -1), f);
		cap_write(&c, T0 + i, f, n, n);
	}
	n = wrap(LK_ETH, 6, ip, ip6_tcp(ip, 993, -1), f);
	cap_write(&c, T0 + 9, f, n, n);
	cap_close(&c);
	run_default(c.path, &st);
	ck_assert_uint_eq(st.ipv6, 6);
	ck_assert_uint_eq(st.ipv6_smtp, 5);
	ck_assert_uint_eq(st.ipv4, 0);
	ck_assert_int_eq(R.n, 0);
	unlink(c.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Truncated frames.                                                  */

/* A cut reply: the bytes before it arrive, the stream stops there. */
START_TEST(test_truncated_segment)
{
	struct sniff_stats st;
	struct conv v;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	say(&v, true, "EHLO x\r\n");
	v.cut = 60;		/* headers and 6 bytes of the reply */
	say(&v, false, "250 this line is cut by the snaplen\r\n");
	say(&v, true, "QUIT\r\n");
	say(&v, false, "221 bye\r\n");
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_uint_eq(st.truncated, 1);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], "EHLO x\r\nQUIT\r\n");
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_SERVER], "220 hello\r\n");
	/* the server's FIN waits behind the gap */
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_EOF);
	unlink(v.cap.path);
}
END_TEST

/* The same frame cut at every length, each link type: no crash. */
START_TEST(test_truncated_every_length)
{
	enum lk k = (enum lk)_i;
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	struct sniff_stats st;
	uint8_t ip[256], f[300];
	struct cap c;
	size_t n, cut;

	n = ip4_tcp(ip, a, b, 40000, 25, 1, 1, F_ACK | F_PSH, "HELO x\r\n", 8);
	n = wrap(k, 4, ip, n, f);
	cap_open(&c, links[k].linktype, false);
	for (cut = 0; cut <= n; cut++)
		cap_write(&c, T0 + (wb_usec)cut, f, cut, n);
	cap_close(&c);
	run_default(c.path, &st);
	ck_assert_uint_eq(st.packets, n + 1);
	ck_assert_uint_eq(st.truncated, n);
	ck_assert_uint_eq(st.ipv4 + st.skipped + st.other + st.malformed +
	    st.ipv6, n + 1);
	ck_assert_uint_eq(st.ipv4, 1);
	ck_assert_uint_eq(st.malformed, 0);
	unlink(c.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Garbage: random frames, and random TCP that reaches libnids.       */

static uint32_t
xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

START_TEST(test_garbage)
{
	static const int lts[] = { 1, 113, 276, 0, 108, 101, 12, 14, 228, 229 };
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	int lt = lts[_i];
	uint32_t x = 0x9e3779b9u + (uint32_t)_i;
	struct sniff_stats st;
	uint8_t f[512], ip[256];
	struct cap c;
	size_t n, j, total = 0;
	int i;

	cap_open(&c, lt, _i % 2 == 1);
	for (i = 0; i < 3000; i++) {
		n = xorshift(&x) % 200;
		for (j = 0; j < n; j++)
			f[j] = (uint8_t)xorshift(&x);
		if (i % 3 == 0 && lt == 1) {	/* plausible headers, */
			put16(f + 12, i % 2 ? 0x0800 : 0x8100);
			put16(f + 16, 0x0800);
			f[14] = 0x45;
		}
		if (i % 3 == 1) {	/* or a TCP segment with random fields */
			size_t dl = xorshift(&x) % 40;
			n = ip4_tcp(ip, (i & 4) ? a : b, (i & 4) ? b : a,
			    (i & 4) ? 40000 : 25, (i & 4) ? 25 : 40000,
			    xorshift(&x) % 64, xorshift(&x) % 64,
			    (uint8_t)xorshift(&x), f, dl);
			if (i % 5 == 0)
				ip[32] = (uint8_t)xorshift(&x);
			n = wrap(lt == 1 ? LK_ETH : lt == 113 ? LK_SLL :
			    lt == 276 ? LK_SLL2 : lt == 0 ? LK_NULL_LE :
			    lt == 108 ? LK_LOOP_BE : LK_RAW101, 4, ip, n, f);
		}
		cap_write(&c, T0 + i * 1000, f, n, n + (i % 7 == 0 ? 5 : 0));
		total++;
	}
	cap_close(&c);
	run_default(c.path, &st);
	ck_assert_uint_eq(st.packets, total);
	ck_assert_uint_eq(st.ipv4 + st.skipped + st.ipv6 + st.other +
	    st.malformed, total);
	ck_assert_int_eq(R.n, R.nclosed);
	unlink(c.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Checksums: auto, on, off.                                          */

enum csum_bad { BAD_NONE, BAD_SERVER_TCP, BAD_CLIENT_IP0, BAD_ONE_RETX,
	BAD_ONE_CLIENT };

struct csum_case {
	const char		*name;
	enum sniff_checksums	 mode;
	enum csum_bad		 bad;
	bool			 whole;		/* the transcript arrives */
	int			 sessions;
	bool			 off;		/* checksums_off */
	bool			 badsum;	/* some dropped */
	bool			 said;		/* the switch was logged */
};

static const struct csum_case csums[] = {
	{ "auto, all good", SNIFF_CSUM_AUTO, BAD_NONE, true, 1, false, false,
	    false },
	{ "auto, server offloaded", SNIFF_CSUM_AUTO, BAD_SERVER_TCP, true, 1,
	    true, false, true },
	{ "auto, client IPv4 sums 0", SNIFF_CSUM_AUTO, BAD_CLIENT_IP0, true,
	    1, true, false, true },
	{ "auto, one bad client segment", SNIFF_CSUM_AUTO, BAD_ONE_CLIENT,
	    true, 1, true, false, true },
	{ "on, server offloaded", SNIFF_CSUM_ON, BAD_SERVER_TCP, false, 0,
	    false, true, false },
	{ "on, client IPv4 sums 0", SNIFF_CSUM_ON, BAD_CLIENT_IP0, false, 0,
	    false, true, false },
	{ "on, one bad segment resent", SNIFF_CSUM_ON, BAD_ONE_RETX, true, 1,
	    false, true, false },
	{ "off, server offloaded", SNIFF_CSUM_OFF, BAD_SERVER_TCP, true, 1,
	    false, false, false },
	{ "off, client IPv4 sums 0", SNIFF_CSUM_OFF, BAD_CLIENT_IP0, true, 1,
	    false, false, false },
};
#define NCSUMS	(int)(sizeof(csums) / sizeof(csums[0]))

START_TEST(test_checksums)
{
	const struct csum_case *cc = &csums[_i];
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];
	size_t i;

	conv_init(&v, LK_ETH, false);
	if (cc->bad == BAD_SERVER_TCP)
		v.badsum[1] = true;
	if (cc->bad == BAD_CLIENT_IP0)
		v.ipsum0[0] = true;
	handshake(&v);
	for (i = 0; i < NSCRIPT; i++) {
		bool c = script[i][0][0] == 'C';

		if (i == 1 && (cc->bad == BAD_ONE_RETX ||
		    cc->bad == BAD_ONE_CLIENT)) {
			v.badsum[0] = true;
			seg_at(&v, true, F_ACK | F_PSH, v.cseq, script[i][1],
			    strlen(script[i][1]));
			v.badsum[0] = false;
			if (cc->bad == BAD_ONE_CLIENT) {
				v.cseq += (uint32_t)strlen(script[i][1]);
				continue;
			}
		}
		say(&v, c, script[i][1]);
	}
	fin_close(&v);
	cap_close(&v.cap);

	small_defaults(&cfg);
	cfg.checksums = cc->mode;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_msg(R.n == cc->sessions, "%s: %d sessions", cc->name, R.n);
	ck_assert_uint_eq(st.sessions, (unsigned)cc->sessions);
	if (cc->whole)
		ck_assert_str_eq(R.c[0].tr, transcript());
	ck_assert_msg(st.checksums_off == cc->off, "%s: checksums_off %d",
	    cc->name, st.checksums_off);
	ck_assert_msg((st.badsum > 0) == cc->badsum, "%s: badsum %llu",
	    cc->name, (unsigned long long)st.badsum);
	ck_assert_msg(logged("checksums are wrong") == cc->said,
	    "%s: %d log lines, first: %s", cc->name, R.nlog, R.log[0]);
	if (cc->said)
		ck_assert_int_eq(R.nlog, 1);	/* once */
	if (cc->badsum)		/* every drop counted, one line said */
		ck_assert_int_eq(R.nlog, 1);
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Ports, servers, who is the server.                                 */

struct port_case {
	const char	*name;
	uint16_t	 cport, sport;	/* of the conversation */
	uint16_t	 ports[3];	/* config; 0-terminated, none: defaults */
	const char	*server;	/* config servers, or NULL */
	int		 conns;
};

static const struct port_case portcases[] = {
	{ "25, defaults", 40000, 25, { 0 }, NULL, 1 },
	{ "465, defaults", 40000, 465, { 0 }, NULL, 1 },
	{ "587, defaults", 40000, 587, { 0 }, NULL, 1 },
	{ "8025, defaults", 40000, 8025, { 0 }, NULL, 0 },
	{ "8025, ports 8025", 40000, 8025, { 8025 }, NULL, 1 },
	{ "25, ports 8025 2525", 40000, 25, { 8025, 2525 }, NULL, 0 },
	{ "client port 25 to server port 40000", 25, 40000, { 0 }, NULL, 0 },
	{ "server listed", 40000, 25, { 0 }, "10.0.0.2", 1 },
	{ "server not listed", 40000, 25, { 0 }, "10.0.0.9", 0 },
	{ "client listed as server", 40000, 25, { 0 }, "10.0.0.1", 0 },
};
#define NPORTCASES	(int)(sizeof(portcases) / sizeof(portcases[0]))

START_TEST(test_ports)
{
	const struct port_case *pc = &portcases[_i];
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];
	size_t i;

	conv_init(&v, LK_ETH, false);
	v.cport = pc->cport;
	v.sport = pc->sport;
	handshake(&v);
	dialog(&v);
	fin_close(&v);
	cap_close(&v.cap);

	small_defaults(&cfg);
	if (pc->ports[0] != 0) {
		for (i = 0; i < 3 && pc->ports[i] != 0; i++)
			cfg.ports[i] = pc->ports[i];
		cfg.nports = i;
	}
	if (pc->server != NULL) {
		ck_assert_int_eq(wb_addr_parse(&cfg.servers[0], pc->server), 0);
		cfg.nservers = 1;
	}
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_msg(R.n == pc->conns, "%s: %d connections", pc->name, R.n);
	if (pc->conns == 1) {
		ck_assert_str_eq(R.c[0].client, "10.0.0.1");
		ck_assert_uint_eq(R.c[0].sport, pc->sport);
		ck_assert_uint_eq(R.c[0].cport, pc->cport);
		ck_assert_str_eq(R.c[0].tr, transcript());
	}
	if (pc->conns == 0 && pc->cport != 25 && pc->server == NULL)
		ck_assert_uint_eq(st.skipped, v.npkts);	/* not even libnids */
	unlink(v.cap.path);
}
END_TEST

/* The SYN's destination is the server, even when it speaks first. */
START_TEST(test_orientation)
{
	struct sniff_stats st;
	struct conv v;

	conv_init(&v, LK_ETH, false);
	memcpy(v.cip, "\xc0\x00\x02\x07", 4);
	memcpy(v.sip, "\xc6\x33\x64\x01", 4);
	v.cport = 587;		/* a client port that is also watched */
	v.sport = 25;
	handshake(&v);
	dialog(&v);
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0].client, "192.0.2.7");
	ck_assert_str_eq(R.c[0].server, "198.51.100.1");
	ck_assert_uint_eq(R.c[0].cport, 587);
	ck_assert_uint_eq(R.c[0].sport, 25);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_SERVER], side_bytes('S'));
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Idle timeout, in packet time.                                      */

START_TEST(test_timeout_11min)
{
	struct sniff_stats st;
	struct conv v;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	say(&v, true, "EHLO x\r\n");
	v.t += 11 * MINUTE;
	say(&v, true, "QUIT\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_TIMEOUT);
	ck_assert_int_eq(R.c[0].close_ts, v.t - 1000);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], "EHLO x\r\n");
	ck_assert_uint_eq(st.timeouts, 1);
	unlink(v.cap.path);
}
END_TEST

START_TEST(test_timeout_9min)
{
	struct sniff_stats st;
	struct conv v;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO x\r\n");
	v.t += 9 * MINUTE;
	say(&v, true, "QUIT\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_EOF);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], "EHLO x\r\nQUIT\r\n");
	ck_assert_uint_eq(st.timeouts, 0);
	unlink(v.cap.path);
}
END_TEST

/* Pure ACKs are activity: 4 x 5 minutes of them keep it open. */
START_TEST(test_timeout_acks_keep_alive)
{
	struct sniff_stats st;
	struct conv v;
	int i;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO x\r\n");
	for (i = 0; i < 4; i++) {
		v.t += 5 * MINUTE;
		seg(&v, false, F_ACK, NULL);
	}
	say(&v, true, "QUIT\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_EOF);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], "EHLO x\r\nQUIT\r\n");
	unlink(v.cap.path);
}
END_TEST

/* After a timeout libnids has forgotten the stream: the same addresses
 * and ports make a new connection. */
START_TEST(test_timeout_then_reuse)
{
	struct sniff_stats st;
	struct conv v;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO one\r\n");
	v.t += 11 * MINUTE;
	v.cseq += 77777;
	v.sseq += 99999;
	handshake(&v);
	say(&v, true, "EHLO two\r\n");
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 2);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_TIMEOUT);
	ck_assert_int_eq(R.c[1].how, SNIFF_CLOSE_FIN);
	ck_assert_uint_gt(R.c[1].id, R.c[0].id);
	ck_assert_str_eq(R.c[1].bytes[SNIFF_FROM_CLIENT], "EHLO two\r\n");
	unlink(v.cap.path);
}
END_TEST

/*
 * A long idle_timeout: libnids' own flow timeout (which frees a stream
 * silently when its client sends a SYN again) must never fire first.
 * A SYN on the same ports 2 hours in is ignored (and is activity); 3
 * hours after it ours has closed the first connection and a SYN opens
 * a second.
 */
START_TEST(test_timeout_long_reuse)
{
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO one\r\n");
	v.t += 120 * MINUTE;
	v.cseq += 77777;
	seg(&v, true, F_SYN, NULL);
	v.t += 181 * MINUTE;
	v.cseq += 77777;
	v.sseq += 99999;
	handshake(&v);
	say(&v, true, "EHLO two\r\n");
	cap_close(&v.cap);
	small_defaults(&cfg);
	cfg.idle_timeout = 180 * MINUTE;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(R.n, 2);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_TIMEOUT);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], "EHLO one\r\n");
	ck_assert_int_eq(R.c[1].how, SNIFF_CLOSE_EOF);
	ck_assert_str_eq(R.c[1].bytes[SNIFF_FROM_CLIENT], "EHLO two\r\n");
	unlink(v.cap.path);
}
END_TEST

/* sniff_expire() when no packets come; an idle_timeout of 0 never. */
START_TEST(test_timeout_expire_call)
{
	struct sniff_config cfg;
	struct sniff *s;
	struct conv v;
	char err[512];

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO x\r\n");
	cap_close(&v.cap);

	small_defaults(&cfg);
	rec_reset();
	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sniff_dispatch(s, 4, err, sizeof(err)), 4);
	ck_assert_int_eq(R.n, 1);
	sniff_expire(s, v.t + 9 * MINUTE);
	ck_assert_int_eq(R.nclosed, 0);
	sniff_expire(s, v.t + 10 * MINUTE);
	ck_assert_int_eq(R.nclosed, 1);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_TIMEOUT);
	ck_assert_int_eq(sniff_dispatch(s, -1, err, sizeof(err)), 0);
	sniff_close(s);

	cfg.idle_timeout = 0;
	rec_reset();
	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sniff_dispatch(s, 4, err, sizeof(err)), 4);
	sniff_expire(s, v.t + 1000 * MINUTE);
	ck_assert_int_eq(R.nclosed, 0);
	sniff_close(s);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_EOF);
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* How connections end; ids; a second capture.                        */

START_TEST(test_close_rst)
{
	struct sniff_stats st;
	struct conv v;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	say(&v, true, "EHLO x\r\n");
	seg(&v, false, F_RST | F_ACK, NULL);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_RST);
	ck_assert_str_eq(R.c[0].tr, "S>220 hello\r\nC>EHLO x\r\n");
	unlink(v.cap.path);
}
END_TEST

START_TEST(test_close_eof_ids_second_file)
{
	struct sniff_stats st;
	struct conv v;
	uint64_t last;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, true, "EHLO one\r\n");
	v.cport++;
	handshake(&v);
	say(&v, true, "EHLO two\r\n");
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 2);
	ck_assert_uint_gt(R.c[1].id, R.c[0].id);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_EOF);
	ck_assert_int_eq(R.c[1].how, SNIFF_CLOSE_EOF);
	ck_assert_int_eq(R.c[1].close_ts, v.t - 1000);
	last = R.c[1].id;
	/* libnids was reset: the same capture again gives the same result */
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 2);
	ck_assert_uint_gt(R.c[0].id, last);
	ck_assert_str_eq(R.c[1].bytes[SNIFF_FROM_CLIENT], "EHLO two\r\n");
	unlink(v.cap.path);
}
END_TEST

/* A full table evicts the oldest: told, counted, nothing leaks. */
START_TEST(test_close_evicted)
{
	struct sniff_config cfg;
	struct sniff_stats st;
	struct conv v;
	char err[512];
	int i, evicted = 0;

	conv_init(&v, LK_ETH, false);
	for (i = 0; i < 12; i++) {
		v.cport = (uint16_t)(40000 + i);
		handshake(&v);
		say(&v, true, "EHLO x\r\n");
	}
	cap_close(&v.cap);
	small_defaults(&cfg);
	cfg.max_streams = 4;
	ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(R.n, 12);
	for (i = 0; i < R.n; i++)
		if (R.c[i].how == SNIFF_CLOSE_EVICTED) {
			ck_assert_int_eq(i, evicted);	/* the oldest first */
			evicted++;
		}
	ck_assert_int_ge(evicted, 7);
	ck_assert_uint_eq(st.evictions, (unsigned)evicted);
	ck_assert_int_eq(R.nclosed, 12);
	ck_assert(logged("stream table full"));
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Reassembly: out of order, duplicated, overlapping.                 */

START_TEST(test_reorder)
{
	static const char cmd[] = "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@x>\r\n";
	struct sniff_stats st;
	struct conv v;
	uint32_t s0;

	conv_init(&v, LK_VLAN, true);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	s0 = v.cseq;
	seg_at(&v, true, F_ACK | F_PSH, s0 + 20, cmd + 20, strlen(cmd) - 20);
	seg_at(&v, true, F_ACK | F_PSH, s0 + 10, cmd + 10, 15);
	seg_at(&v, true, F_ACK | F_PSH, s0 + 10, cmd + 10, 15);	/* dup */
	seg_at(&v, true, F_ACK | F_PSH, s0, cmd, 12);
	seg_at(&v, true, F_ACK | F_PSH, s0, cmd, 3);		/* old */
	v.cseq = s0 + (uint32_t)strlen(cmd);
	say(&v, false, "250 ok\r\n250 ok\r\n");
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], cmd);
	ck_assert_str_eq(R.c[0].tr,
	    "S>220 hello\r\nC>MAIL FROM:<a@example.org>\r\nRCPT TO:<b@x>\r\n"
	    "S>250 ok\r\n250 ok\r\n");
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_FIN);
	unlink(v.cap.path);
}
END_TEST

/* A big reply in many segments, and 1-byte segments. */
START_TEST(test_many_segments)
{
	static char big[12000];
	struct sniff_stats st;
	struct conv v;
	size_t i;
	char one[2] = { 0, 0 };

	for (i = 0; i + 1 < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	conv_init(&v, LK_SLL2, false);
	handshake(&v);
	for (i = 0; i + 1 < sizeof(big); i += 1400) {
		char part[1401];
		size_t n = sizeof(big) - 1 - i < 1400 ? sizeof(big) - 1 - i :
		    1400;

		memcpy(part, big + i, n);
		part[n] = '\0';
		say(&v, false, part);
	}
	for (i = 0; i < 6; i++) {
		one[0] = "QUIT\r\n"[i];
		say(&v, true, one);
	}
	fin_close(&v);
	cap_close(&v.cap);
	run_default(v.cap.path, &st);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_SERVER], big);
	ck_assert_str_eq(R.c[0].bytes[SNIFF_FROM_CLIENT], "QUIT\r\n");
	unlink(v.cap.path);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Errors: files that cannot be read, config, one sniffer at a time.  */

START_TEST(test_error_missing)
{
	struct sniff_config cfg;
	char err[512] = "";

	small_defaults(&cfg);
	rec_reset();
	ck_assert_ptr_null(sniff_open_file(&cfg, "/nonexistent/x.pcap", &H,
	    err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.pcap"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

static void
write_bytes(struct cap *c, const void *d, size_t n)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "/tmp/check_sniffer_XXXXXX");
	fd = mkstemp(c->path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, d, n), (ssize_t)n);
	close(fd);
}

START_TEST(test_error_not_pcap)
{
	static const char junk[] = "From: not a capture\r\n\r\nhello\r\n";
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	struct sniff_config cfg;
	char err[512];
	struct cap c;

	small_defaults(&cfg);
	rec_reset();
	write_bytes(&c, junk, sizeof(junk));
	ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, c.path));
	unlink(c.path);
	write_bytes(&c, gz, sizeof(gz));
	ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, c.path));
	ck_assert_ptr_nonnull(strstr(err, "gzip"));
	unlink(c.path);
	write_bytes(&c, "", 0);
	ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, c.path));
	unlink(c.path);
}
END_TEST

/* Cut in the middle of a record: what came before is handled, then -1. */
START_TEST(test_error_corrupt)
{
	struct sniff_config cfg;
	struct sniff *s;
	struct conv v;
	char err[512];
	long cutat;
	int n;

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	say(&v, false, "220 hello\r\n");
	say(&v, true, "EHLO x\r\n");
	fflush(v.cap.f);
	cutat = ftell(v.cap.f);
	say(&v, false, "250 this reply is cut in the file\r\n");
	cap_close(&v.cap);
	ck_assert_int_eq(truncate(v.cap.path, cutat + 30), 0);

	small_defaults(&cfg);
	rec_reset();
	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	n = sniff_dispatch(s, -1, err, sizeof(err));
	ck_assert_int_eq(n, -1);
	ck_assert_msg(strncmp(err, v.cap.path, strlen(v.cap.path)) == 0 &&
	    strstr(err, "truncated") != NULL, "err: %s", err);
	ck_assert_int_eq(R.n, 1);
	ck_assert_str_eq(R.c[0].tr, "S>220 hello\r\nC>EHLO x\r\n");
	err[0] = '\0';
	ck_assert_int_eq(sniff_dispatch(s, -1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, v.cap.path));
	sniff_close(s);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_EOF);
	unlink(v.cap.path);
}
END_TEST

/* A record claiming 4 GB. */
START_TEST(test_error_huge_record)
{
	struct sniff_stats st;
	struct conv v;
	char err[512];
	uint8_t rec[16] = { 0 };

	conv_init(&v, LK_ETH, false);
	handshake(&v);
	memset(rec + 8, 0xff, 8);
	fwrite(rec, 1, sizeof(rec), v.cap.f);
	cap_close(&v.cap);
	{
		struct sniff_config cfg;

		small_defaults(&cfg);
		ck_assert_int_eq(run(v.cap.path, &cfg, &st, err, sizeof(err)),
		    -1);
	}
	ck_assert_ptr_nonnull(strstr(err, v.cap.path));
	ck_assert_uint_eq(st.packets, 3);
	unlink(v.cap.path);
}
END_TEST

START_TEST(test_error_config_and_busy)
{
	struct sniff_config cfg, bad;
	struct sniff *s;
	struct conv v;
	char err[512];

	write_standard(&v, LK_ETH, false);
	small_defaults(&cfg);
	rec_reset();

	bad = cfg;
	bad.nports = 0;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "ports"));
	bad = cfg;
	bad.max_streams = 0;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));
	bad = cfg;
	bad.idle_timeout = -1;
	ck_assert_ptr_null(sniff_open_file(&bad, v.cap.path, &H, err,
	    sizeof(err)));

	s = sniff_open_file(&cfg, v.cap.path, &H, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(sniff_open_file(&cfg, v.cap.path, &H, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "another capture"));
	ck_assert_int_eq(sniff_fd(s), -1);
	sniff_close(s);
	sniff_close(NULL);
	unlink(v.cap.path);

	/* 802.11 */
	{
		struct cap c;

		cap_open(&c, 105, false);
		cap_close(&c);
		ck_assert_ptr_null(sniff_open_file(&cfg, c.path, &H, err,
		    sizeof(err)));
		ck_assert_ptr_nonnull(strstr(err, "not supported"));
		ck_assert_ptr_nonnull(strstr(err, c.path));
		unlink(c.path);
	}
	/* an empty file */
	s = sniff_open_file(&cfg, "/dev/null", &H, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "/dev/null"));
}
END_TEST

/* In a capture file there is nothing to reset: -1, nothing sent. */
START_TEST(test_kill_file)
{
	struct sniff_stats st;
	struct conv v;

	write_standard(&v, LK_ETH, false);
	kill_on_data = true;
	kill_rc = 0;
	run_default(v.cap.path, &st);
	kill_on_data = false;
	ck_assert_int_eq(kill_rc, -1);
	ck_assert_str_eq(R.c[0].tr, transcript());
	unlink(v.cap.path);
}
END_TEST

START_TEST(test_close_str_and_log)
{
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_FIN), "fin");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_RST), "rst");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_TIMEOUT), "timeout");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_EOF), "eof");
	ck_assert_str_eq(sniff_close_str(SNIFF_CLOSE_EVICTED), "evicted");
	sniff_set_log(NULL);	/* back to stderr: must not crash */
}
END_TEST

/* ---------------------------------------------------------------- */
/* Live, on the loopback: root only. A real connection, then reset.   */

/* A listening socket on 127.0.0.1, any port. */
static int
listener(uint16_t *port, struct sockaddr_in *a)
{
	socklen_t al = sizeof(*a);
	int l;

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)a, sizeof(*a)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)a, &al), 0);
	*port = ntohs(a->sin_port);
	return l;
}

static void
pump(struct sniff *s, int ms, bool (*done)(void))
{
	struct pollfd p = { .fd = sniff_fd(s), .events = POLLIN };
	char err[512];
	int i;

	for (i = 0; i < ms / 10 && !done(); i++) {
		(void)poll(&p, 1, 10);
		ck_assert_int_ge(sniff_dispatch(s, -1, err, sizeof(err)), 0);
	}
}

static bool
got_dialog(void)
{
	return R.n == 1 && R.c[0].len[0] == 8 && R.c[0].len[1] == 16;
}

static bool
got_close(void)
{
	return R.n == 1 && R.c[0].closed;
}

/*
 * The filter needs the port, so: listen, open the sniffer, connect.
 * Then a kill from inside on_data: the server's socket must be reset
 * and the sniffer must see its own RST. On "lo" (Ethernet, with the
 * VLAN filter) and on "any" (Linux cooked, without it).
 */
START_TEST(test_live_loopback_kill)
{
	static const char *const ifaces[] = { "lo", "any" };
	const char *iface = ifaces[_i];
	struct sniff_config cfg;
	struct sockaddr_in a;
	struct timeval tv = { 2, 0 };
	struct sniff *s;
	char err[512], buf[64];
	int l, cli, srv;
	uint16_t port;
	ssize_t r;

	kill_on_data = false;
	l = listener(&port, &a);
	small_defaults(&cfg);
	cfg.ports[0] = port;
	cfg.nports = 1;
	rec_reset();
	if ((s = sniff_open_live(&cfg, iface, &H, err, sizeof(err))) == NULL) {
		fprintf(stderr, "check_sniffer: live test skipped: %s\n", err);
		close(l);
		return;
	}
	R.s = s;
	ck_assert_int_ge(sniff_fd(s), 0);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(cli, (struct sockaddr *)&a, sizeof(a)), 0);
	srv = accept(l, NULL, NULL);
	ck_assert_int_ge(srv, 0);
	close(l);

	ck_assert_int_eq(write(srv, "220 hi\r\n", 8), 8);
	ck_assert_int_eq(read(cli, buf, 8), 8);
	ck_assert_int_eq(write(cli, "EHLO x\r\n", 8), 8);
	ck_assert_int_eq(read(srv, buf, 8), 8);
	ck_assert_int_eq(write(srv, "250 ok\r\n", 8), 8);
	ck_assert_int_eq(read(cli, buf, 8), 8);
	pump(s, 3000, got_dialog);
	ck_assert_msg(R.n == 1, "live %s: %d connections", iface, R.n);
	ck_assert_str_eq(R.c[0].tr, "S>220 hi\r\nC>EHLO x\r\nS>250 ok\r\n");
	ck_assert_str_eq(R.c[0].client, "127.0.0.1");
	ck_assert_str_eq(R.c[0].server, "127.0.0.1");
	ck_assert_uint_eq(R.c[0].sport, port);

	kill_on_data = true;
	kill_rc = 1;
	ck_assert_int_eq(write(cli, "NOOP\r\n", 6), 6);
	pump(s, 3000, got_close);
	ck_assert_int_eq(kill_rc, 0);
	ck_assert(R.c[0].closed);
	ck_assert_int_eq(R.c[0].how, SNIFF_CLOSE_RST);
	(void)setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = read(srv, buf, sizeof(buf));
	if (r == 6)		/* the NOOP itself, then the reset */
		r = read(srv, buf, sizeof(buf));
	ck_assert_msg(r == -1 && errno == ECONNRESET,
	    "server socket: read %zd, %s", r, strerror(errno));
	sniff_close(s);
	close(cli);
	close(srv);
}
END_TEST

/* ---------------------------------------------------------------- */

static Suite *
sniffer_suite(void)
{
	Suite *s = suite_create("sniffer");
	TCase *tc;

	tc = tcase_create("links");
	tcase_add_loop_test(tc, test_links, 0, 2 * LK_N);
	suite_add_tcase(s, tc);

	tc = tcase_create("frames");
	tcase_add_loop_test(tc, test_frames, 0, NFRAMES);
	tcase_add_test(tc, test_ipv6_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncated");
	tcase_add_test(tc, test_truncated_segment);
	tcase_add_loop_test(tc, test_truncated_every_length, 0, LK_N);
	suite_add_tcase(s, tc);

	tc = tcase_create("garbage");
	tcase_add_loop_test(tc, test_garbage, 0, 10);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("checksums");
	tcase_add_loop_test(tc, test_checksums, 0, NCSUMS);
	suite_add_tcase(s, tc);

	tc = tcase_create("ports");
	tcase_add_loop_test(tc, test_ports, 0, NPORTCASES);
	tcase_add_test(tc, test_orientation);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_add_test(tc, test_timeout_11min);
	tcase_add_test(tc, test_timeout_9min);
	tcase_add_test(tc, test_timeout_acks_keep_alive);
	tcase_add_test(tc, test_timeout_then_reuse);
	tcase_add_test(tc, test_timeout_long_reuse);
	tcase_add_test(tc, test_timeout_expire_call);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_test(tc, test_close_rst);
	tcase_add_test(tc, test_close_eof_ids_second_file);
	tcase_add_test(tc, test_close_evicted);
	tcase_add_test(tc, test_close_str_and_log);
	suite_add_tcase(s, tc);

	tc = tcase_create("reassembly");
	tcase_add_test(tc, test_reorder);
	tcase_add_test(tc, test_many_segments);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_error_missing);
	tcase_add_test(tc, test_error_not_pcap);
	tcase_add_test(tc, test_error_corrupt);
	tcase_add_test(tc, test_error_huge_record);
	tcase_add_test(tc, test_error_config_and_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("kill");
	tcase_add_test(tc, test_kill_file);
	tcase_add_loop_test(tc, test_live_loopback_kill, 0, 2);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sniffer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
