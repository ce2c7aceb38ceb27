/*
 * sniffrec.c - conversations, recording handlers and runs for the
 * sniffer suites (see sniffrec.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sniffrec.h"

struct rec R;

/* ---------------------------------------------------------------- */
/* Capture files.                                                    */

void
cap_open(struct cap *c, int linktype, bool ng)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "/tmp/check_sniffer_XXXXXX");
	fd = mkstemp(c->path);
	ck_assert_int_ge(fd, 0);
	c->f = fdopen(fd, "wb");
	ck_assert_ptr_nonnull(c->f);
	ck_assert_int_eq(pcapw_open(&c->w, c->f, linktype, ng), 0);
}

void
cap_write(struct cap *c, wb_usec ts, const uint8_t *d, size_t caplen,
    size_t len)
{
	ck_assert_int_eq(pcapw_write(&c->w, ts, d, caplen, len), 0);
}

void
cap_close(struct cap *c)
{
	ck_assert_int_eq(fclose(c->f), 0);
	c->f = NULL;
}

/* ---------------------------------------------------------------- */
/* Conversations.                                                    */

static void
conv_common(struct conv *v, enum pcapw_link link, bool ng, int af)
{
	memset(v, 0, sizeof(*v));
	v->link = link;
	v->af = af;
	v->cport = 40000;
	v->sport = 25;
	v->cseq = 1000;
	v->sseq = 5000;
	v->t = T0;
	cap_open(&v->cap, pcapw_linktype(link), ng);
}

void
conv_init(struct conv *v, enum pcapw_link link, bool ng)
{
	conv_common(v, link, ng, 4);
	memcpy(v->cip, "\x0a\x00\x00\x01", 4);
	memcpy(v->sip, "\x0a\x00\x00\x02", 4);
}

void
conv_init6(struct conv *v, enum pcapw_link link, bool ng)
{
	static const uint8_t c6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	conv_common(v, link, ng, 6);
	memcpy(v->cip, c6, 16);
	memcpy(v->sip, s6, 16);
}

void
conv_join(struct conv *v, const struct conv *host)
{
	ck_assert_int_eq(fclose(v->cap.f), 0);
	unlink(v->cap.path);
	v->cap = host->cap;
}

size_t
conv_packet(struct conv *v, uint8_t *ip, bool from_client, uint8_t flags,
    uint32_t seq, uint32_t ack, const void *data, size_t len)
{
	struct pcapw_tcp t = {
		.sport = from_client ? v->cport : v->sport,
		.dport = from_client ? v->sport : v->cport,
		.seq = seq, .ack = ack, .flags = flags,
		.data = data, .len = len,
	};
	int side = from_client ? 0 : 1;
	const uint8_t *src = from_client ? v->cip : v->sip;
	const uint8_t *dst = from_client ? v->sip : v->cip;
	size_t n;

	if ((flags & F_SYN) || v->opts_all) {
		t.opts = v->opts[side];
		t.optlen = v->optlen[side];
	}
	t.win = v->win[side];
	if (v->af == 4) {
		n = pcapw_ip4_tcp(ip, src, dst, &t);
		if (v->badsum[side])
			ip[36] ^= 0x5a;
		if (v->ipsum0[side])
			ip[10] = ip[11] = 0;
	} else {
		n = pcapw_ip6_tcp(ip, src, dst, &t);
		if (v->badsum[side])
			ip[56] ^= 0x5a;
	}
	return n;
}

/* Writes one frame of ip (len bytes), honouring v->cut. */
void
conv_frame(struct conv *v, const uint8_t *ip, size_t len)
{
	static uint8_t f[FRAME_MAX];
	size_t n = pcapw_wrap(v->link, v->af, ip, len, f);

	cap_write(&v->cap, v->t, f, v->cut > 0 && v->cut < n ? v->cut : n, n);
	v->cut = 0;
	v->t += v->step > 0 ? v->step : 1000;
	v->npkts++;
}

/* One segment from one side, at seq (the side's next unless given). */
void
seg_at(struct conv *v, bool from_client, uint8_t flags, uint32_t seq,
    const void *data, size_t len)
{
	static uint8_t ip[FRAME_MAX];
	uint32_t ack = from_client ? ((flags & F_ACK) ? v->sseq : 0) : v->cseq;
	size_t n;

	n = conv_packet(v, ip, from_client, flags, seq, ack, data, len);
	conv_frame(v, ip, n);
}

void
seg(struct conv *v, bool from_client, uint8_t flags, const char *text)
{
	uint32_t *seq = from_client ? &v->cseq : &v->sseq;
	size_t len = text != NULL ? strlen(text) : 0;

	seg_at(v, from_client, flags, *seq, text, len);
	*seq += (uint32_t)len + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
}

void
say(struct conv *v, bool from_client, const char *text)
{
	seg(v, from_client, F_ACK | F_PSH, text);
}

void
handshake(struct conv *v)
{
	seg(v, true, F_SYN, NULL);
	seg(v, false, F_SYN | F_ACK, NULL);
	seg(v, true, F_ACK, NULL);
}

void
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

void
dialog(struct conv *v)
{
	size_t i;

	for (i = 0; i < NSCRIPT; i++)
		say(v, script[i][0][0] == 'C', script[i][1]);
}

const char *
transcript(void)
{
	static char buf[1024];
	size_t i, off = 0;

	for (i = 0; i < NSCRIPT; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s>%s",
		    script[i][0], script[i][1]);
	return buf;
}

const char *
side_bytes(char who)
{
	static char buf[2][512];
	int k = who == 'C' ? 0 : 1;
	size_t i, off = 0;

	buf[k][0] = '\0';
	for (i = 0; i < NSCRIPT; i++)
		if (script[i][0][0] == who)
			off += (size_t)snprintf(buf[k] + off,
			    sizeof(buf[k]) - off, "%s", script[i][1]);
	return buf[k];
}

void
write_standard(struct conv *v, enum pcapw_link k, bool ng)
{
	conv_init(v, k, ng);
	handshake(v);
	dialog(v);
	fin_close(v);
	cap_close(&v->cap);
}

void
write_standard6(struct conv *v, enum pcapw_link k, bool ng)
{
	conv_init6(v, k, ng);
	handshake(v);
	dialog(v);
	fin_close(v);
	cap_close(&v->cap);
}

/* ---------------------------------------------------------------- */
/* Recording handlers.                                               */

static void
append(char **buf, size_t *len, const void *b, size_t n)
{
	char *nb;

	ck_assert_ptr_nonnull(nb = realloc(*buf, *len + n + 1));
	memcpy(nb + *len, b, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
}

static void *
rec_open(void *arg, struct sniff_conn *c, wb_usec ts)
{
	struct rconn *r, **nc;

	(void)arg;
	if (R.n == R.cap) {
		R.cap = R.cap ? R.cap * 2 : 64;
		ck_assert_ptr_nonnull(nc = realloc(R.c, (size_t)R.cap *
		    sizeof(*nc)));
		R.c = nc;
	}
	ck_assert_ptr_nonnull(r = calloc(1, sizeof(*r)));
	R.c[R.n++] = r;
	r->id = c->id;
	wb_addr_str(&c->client, r->client);
	wb_addr_str(&c->server, r->server);
	r->cport = c->client_port;
	r->sport = c->server_port;
	r->open_ts = ts;
	r->lastdir = -1;
	r->sc = c;
	append(&r->bytes[0], &r->len[0], "", 0);
	append(&r->bytes[1], &r->len[1], "", 0);
	append(&r->tr, &r->trlen, "", 0);
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
	append(&r->bytes[d], &r->len[d], b, len);
	if (r->lastdir != (int)d) {
		append(&r->tr, &r->trlen, d == SNIFF_FROM_CLIENT ? "C>" : "S>",
		    2);
		r->lastdir = (int)d;
	}
	append(&r->tr, &r->trlen, b, len);
	if (R.hook != NULL)
		R.hook(c, r, d, b, len);
	if (R.kill_on_data)
		R.kill_rc = sniff_kill(R.s, c);
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
	r->sc = NULL;
	R.nclosed++;
	if ((unsigned)how < sizeof(R.closes) / sizeof(R.closes[0]))
		R.closes[how]++;
}

static void
rec_log(const char *msg)
{
	if (R.nlog < MAXLOG)
		snprintf(R.log[R.nlog], sizeof(R.log[0]), "%s", msg);
	R.nlog++;
}

const struct sniff_handlers H = { rec_open, rec_data, rec_close, NULL };

/* Keeps hook and kill_on_data: a test sets them before its runs. */
void
rec_reset(void)
{
	void (*hook)(struct sniff_conn *, struct rconn *, enum sniff_dir,
	    const uint8_t *, size_t) = R.hook;
	bool kill = R.kill_on_data;
	int i;

	for (i = 0; i < R.n; i++) {
		free(R.c[i]->bytes[0]);
		free(R.c[i]->bytes[1]);
		free(R.c[i]->tr);
		free(R.c[i]);
	}
	free(R.c);
	memset(&R, 0, sizeof(R));
	R.hook = hook;
	R.kill_on_data = kill;
	sniff_set_log(rec_log);
}

bool
logged(const char *needle)
{
	int i;

	for (i = 0; i < R.nlog && i < MAXLOG; i++)
		if (strstr(R.log[i], needle) != NULL)
			return true;
	return false;
}

struct rconn *
rec_by_cport(uint16_t cport)
{
	int i;

	for (i = 0; i < R.n; i++)
		if (R.c[i]->cport == cport)
			return R.c[i];
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Runs.                                                             */

/* The default stream table (131072) costs each forked test a tenth of
 * a second to set up. */
void
small_defaults(struct sniff_config *c)
{
	sniff_config_defaults(c);
	c->max_streams = 1024;
	c->max_handshakes = 1024;
}

int
run(const char *path, const struct sniff_config *cfg, struct sniff_stats *st,
    char *err, size_t errlen)
{
	struct sniff *s;
	int n;

	rec_reset();
	if ((s = sniff_open_file(cfg, path, &H, err, errlen)) == NULL)
		return -2;
	R.s = s;
	while ((n = sniff_dispatch(s, 1, err, errlen)) > 0)
		sniff_get_stats(s, &R.last);
	sniff_get_stats(s, st);
	sniff_close(s);
	R.s = NULL;
	assert_buckets(st);
	return n;
}

void
run_default(const char *path, struct sniff_stats *st)
{
	struct sniff_config cfg;
	char err[512];
	int r;

	small_defaults(&cfg);
	r = run(path, &cfg, st, err, sizeof(err));
	ck_assert_msg(r == 0, "run: %d %s", r, err);
}

void
assert_buckets(const struct sniff_stats *st)
{
	uint64_t sum = st->ipv4 + st->ipv6 + st->ipv6_frags + st->skipped +
	    st->ipv6_uninspected + st->reserved4 + st->other + st->malformed;

	ck_assert_msg(st->packets + st->frag6_reassembled == sum,
	    "buckets: %llu packets + %llu reassembled != %llu",
	    (unsigned long long)st->packets,
	    (unsigned long long)st->frag6_reassembled,
	    (unsigned long long)sum);
	ck_assert_uint_le(st->badsum, st->ipv4 + st->ipv6);
}
