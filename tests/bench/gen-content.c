/*
 * gen-content.c - the bytes the generated sessions carry: the body text
 * pool, the repeat offenders' addresses, message headers, exim's
 * message ids, and the size of each message.
 *
 * Invariant: every random draw is its own statement, in a fixed order
 * (see gen-wire.c): a seed fixes the text.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"

#define POOL_LINES	40000		/* ~3 MB of body text */
#define LINE_LEN	78		/* 76 + CRLF */
#define BAD_POOL	2000		/* repeat offenders */

static char	*pool;
static uint32_t	*bad_ips;

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

	if ((pool = malloc((size_t)POOL_LINES * LINE_LEN)) == NULL)
		gen_oom();
	for (i = 0; i < POOL_LINES; i++) {
		l = pool + i * LINE_LEN;
		if ((i / 64) % 3 == 2) {	/* base64 attachment stretches */
			for (j = 0; j < 76; j++)
				l[j] = b64[gen_below(64)];
		} else {			/* text */
			j = 0;
			while (j < 76) {
				const char *w = words[gen_below((uint32_t)nw)];

				while (*w != '\0' && j < 76)
					l[j++] = *w++;
				if (j < 76)
					l[j++] = ' ';
			}
			l[0] = (char)('A' + gen_below(26));
		}
		l[76] = '\r';
		l[77] = '\n';
	}
}

/* The body text and the repeat offenders; draws from the seed. */
void
gen_content_init(void)
{
	unsigned i;

	make_pool();
	if ((bad_ips = malloc(BAD_POOL * sizeof(*bad_ips))) == NULL)
		gen_oom();
	for (i = 0; i < BAD_POOL; i++) {
		uint32_t y = gen_below(256), z = 1 + gen_below(254);

		bad_ips[i] = 0x0a420000u | y << 8 | z;
	}
}

/* Sends part of the session's message content: header, pool, ".\r\n". */
void
gen_body_copy(const struct sess *s, unsigned char *dst, uint32_t off,
    uint32_t n)
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

uint32_t
gen_fresh_client(void)
{
	/* 10.x.y.z, z in 1..254; one draw per statement, so that every
	 * compiler draws in the same order */
	uint32_t x = gen_below(256), y = gen_below(256), z = 1 + gen_below(254);

	return 0x0a000000u | x << 16 | y << 8 | z;
}

/* Body length: 1 KB * 1024^(u^3), rounded to whole lines. */
uint32_t
gen_body_size(void)
{
	double u = gen_unit();
	/* 1024^(u^3) = 2^(10 u^3) */
	double b = 1024.0 * __builtin_exp2(10.0 * u * u * u);

	if (b > 1048576.0)
		b = 1048576.0;
	return (uint32_t)b;
}

void
gen_exim_id(char *buf)
{
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	int i;

	for (i = 0; i < 6; i++)
		buf[i] = b62[gen_below(62)];
	buf[6] = '-';
	for (i = 7; i < 13; i++)
		buf[i] = b62[gen_below(62)];
	buf[13] = '-';
	buf[14] = b62[gen_below(62)];
	buf[15] = b62[gen_below(62)];
	buf[16] = '\0';
}

/* The message: a header written now, then pool lines, then ".\r\n". */
void
gen_make_message(struct sess *s)
{
	char date[64], id[17];
	time_t t = (time_t)(gen_now_us / 1000000);
	struct tm tm;
	uint32_t want = s->want, lines;
	int n;

	uint32_t subj = gen_below(10000), w1 = gen_below(10), w2 = gen_below(10);

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	gen_exim_id(id);
	n = snprintf(s->hdr, HDR_MAX,
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
	s->pool_off = gen_below(POOL_LINES - lines) * LINE_LEN;
	s->body_len = (uint32_t)n + lines * LINE_LEN + 3;
	/* what is pending from now on is the real length */
	gen_pending = gen_pending - s->want + s->body_len;
	s->body_sent = 0;
	s->unacked = 0;
	gen_st.messages++;
	gen_st.body_bytes += s->body_len;
	if (s->body_len > gen_st.max_body)
		gen_st.max_body = s->body_len;
}

/* One of the repeat offenders' addresses. */
uint32_t
gen_bad_client(void)
{
	return bad_ips[gen_below(BAD_POOL)];
}

/* The date as exim writes it in its banner, at the capture's clock. */
void
gen_date(char *buf, size_t len)
{
	time_t t = (time_t)(gen_now_us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}
