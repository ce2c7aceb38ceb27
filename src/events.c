/*
 * events.c - the event stream (JSON Lines): one function per event, one
 * writer, one schema, documented in README.md ("Events").
 *
 * Speed: a replay with --json writes an event per rejected reply and
 * per session; going through stdio character by character (with its
 * lock per call) cost more than the parsing. So every event is built in
 * a buffer of our own, strings are escaped by spans (a run of bytes
 * that need no escape is one copy), and the buffer goes out with one
 * write when it is nearly full or when the caller flushes (watch: every
 * turn of its loop; replay: at the end).
 *
 * Invariant: the output is valid JSON and valid UTF-8 whatever bytes an
 * attacker put in a reply, a HELO or an argument: quotes, backslashes
 * and control bytes are escaped, invalid UTF-8 is written byte by byte
 * as the code point of the same value (as if Latin-1). A line is never
 * split between two writes of the buffer, so a rotation (reopen) never
 * cuts one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"

/*
 * The buffer goes out once it holds more than EV_FLUSH bytes. It grows
 * (doubling) when one event does not fit, which an event's bounded
 * fields (the parser cuts lines, arguments and HELO) make rare and
 * bounded.
 */
#define EV_BUF		(256 * 1024)
#define EV_FLUSH	(192 * 1024)

static void	 put(struct events *, const void *, size_t);
static void	 puts_(struct events *, const char *);
static void	 str(struct events *, const char *, size_t);
static void	 ts(struct events *, wb_usec);
static void	 uint_(struct events *, uint64_t);
static void	 peers(struct events *, const struct sniff_conn *);
static void	 end_line(struct events *);

int
events_open(struct events *ev, FILE *fp)
{
	memset(ev, 0, sizeof(*ev));
	ev->fp = fp;
	if (fp == NULL)
		return 0;
	if ((ev->buf = malloc(EV_BUF)) == NULL)
		return -1;
	ev->cap = EV_BUF;
	return 0;
}

void
events_flush(struct events *ev)
{
	if (ev->fp == NULL || ev->len == 0)
		return;
	if (fwrite(ev->buf, 1, ev->len, ev->fp) != ev->len)
		ev->errors++;
	if (fflush(ev->fp) != 0)
		ev->errors++;
	ev->len = 0;
}

void
events_close(struct events *ev)
{
	events_flush(ev);
	free(ev->buf);
	ev->buf = NULL;
	ev->fp = NULL;
}

void
events_reopen(struct events *ev, FILE *fp)
{
	events_flush(ev);
	ev->fp = fp;
}

/* ---- the buffer --------------------------------------------------------- */

/* Room for n more bytes; false (counted) when memory ran out. */
static bool
grow(struct events *ev, size_t n)
{
	char *nb;
	size_t cap;

	for (cap = ev->cap * 2; cap < ev->len + n; cap *= 2)
		;
	if ((nb = realloc(ev->buf, cap)) == NULL) {
		ev->errors++;
		return false;	/* the event is cut: counted */
	}
	ev->buf = nb;
	ev->cap = cap;
	return true;
}

static inline void
put(struct events *ev, const void *p, size_t n)
{
	if (ev->len + n > ev->cap && !grow(ev, n))
		return;
	memcpy(ev->buf + ev->len, p, n);
	ev->len += n;
}

/* A string literal, its length known at compile time. */
#define PUTL(ev, lit)	put((ev), (lit), sizeof(lit) - 1)

static void
puts_(struct events *ev, const char *s)
{
	put(ev, s, strlen(s));
}

static void
end_line(struct events *ev)
{
	put(ev, "}\n", 2);
	ev->written++;
	if (ev->len > EV_FLUSH)
		events_flush(ev);
}

static void
uint_(struct events *ev, uint64_t v)
{
	char b[24];
	int i = (int)sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(ev, b + i, sizeof(b) - (size_t)i);
}

static void
int_(struct events *ev, int64_t v)
{
	if (v < 0) {
		put(ev, "-", 1);
		uint_(ev, (uint64_t)0 - (uint64_t)v);
	} else
		uint_(ev, (uint64_t)v);
}

/* Seconds with 6 decimals. */
static void
ts(struct events *ev, wb_usec t)
{
	int64_t sec = t / WB_USEC_PER_SEC, us = t % WB_USEC_PER_SEC;
	char frac[8];
	int i;

	if (us < 0) {
		sec--;
		us += WB_USEC_PER_SEC;
	}
	int_(ev, sec);
	frac[0] = '.';
	for (i = 6; i >= 1; i--) {
		frac[i] = (char)('0' + us % 10);
		us /= 10;
	}
	put(ev, frac, 7);
}

/* Length of the valid UTF-8 sequence at p (2-4), or 0 when invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Bytes that go out as they are: printable ASCII but " and \. */
static inline bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* s (n bytes) as a JSON string with its quotes. */
static void
str(struct events *ev, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, j, len;
	char esc[6];

	put(ev, "\"", 1);
	while (i < n) {
		for (j = i; j < n && plain(p[j]); j++)
			;
		put(ev, p + i, j - i);
		if ((i = j) == n)
			break;
		switch (p[i]) {
		case '"':
			put(ev, "\\\"", 2);
			break;
		case '\\':
			put(ev, "\\\\", 2);
			break;
		case '\n':
			put(ev, "\\n", 2);
			break;
		case '\r':
			put(ev, "\\r", 2);
			break;
		case '\t':
			put(ev, "\\t", 2);
			break;
		default:
			if (p[i] >= 0x80 && (len = utf8_len(p + i, n - i)) > 0) {
				put(ev, p + i, len);
				i += len;
				continue;
			}
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			put(ev, esc, 6);
			break;
		}
		i++;
	}
	put(ev, "\"", 1);
}

/*
 * An IPv4 address in dotted decimal into b (16 bytes): what inet_ntop
 * writes, without its sprintf (a fifth of a --json replay's time).
 */
static size_t
ip4(const uint8_t *a, char *b)
{
	size_t o = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			b[o++] = (char)('0' + v / 100);
		if (v >= 10)
			b[o++] = (char)('0' + v / 10 % 10);
		b[o++] = (char)('0' + v % 10);
		if (i < 3)
			b[o++] = '.';
	}
	b[o] = '\0';
	return o;
}

static void
addr(struct events *ev, const struct wb_addr *a, int bits)
{
	char buf[WB_PREFIX_STRLEN];

	put(ev, "\"", 1);
	if (a->family == AF_INET && (bits < 0 || bits == 32))
		put(ev, buf, ip4(a->a, buf));
	else
		puts_(ev, wb_prefix_str(a, bits, buf));
	put(ev, "\"", 1);
}

/*
 * "client":..,"client_port":..,"server":..,"server_port":.. of a
 * connection, rendered once and kept (a connection's events come in a
 * row: its rejects, then its end).
 */
static void
peers(struct events *ev, const struct sniff_conn *sc)
{
	struct events_peers *c = &ev->cache[sc->id % EVENTS_CACHE];
	size_t start;

	if (c->id == sc->id && c->len > 0) {
		put(ev, c->s, c->len);
		return;
	}
	start = ev->len;
	PUTL(ev, "\"client\":");
	addr(ev, &sc->client, -1);
	PUTL(ev, ",\"client_port\":");
	uint_(ev, sc->client_port);
	PUTL(ev, ",\"server\":");
	addr(ev, &sc->server, -1);
	PUTL(ev, ",\"server_port\":");
	uint_(ev, sc->server_port);
	if (ev->len - start < sizeof(c->s)) {
		c->id = sc->id;
		c->len = ev->len - start;
		memcpy(c->s, ev->buf + start, c->len);
	}
}

static void
head(struct events *ev, const char *what, wb_usec t)
{
	PUTL(ev, "{\"event\":\"");
	puts_(ev, what);
	PUTL(ev, "\",\"ts\":");
	ts(ev, t);
	put(ev, ",", 1);
}

/* ---- the events ------------------------------------------------------- */

void
events_reject(struct events *ev, const struct sniff_conn *sc,
    const struct smtp_event *e, const char *cmd, const char *rule,
    bool offence)
{
	if (ev->fp == NULL)
		return;
	head(ev, "reject", e->ts);
	peers(ev, sc);
	PUTL(ev, ",\"command\":");
	if (cmd == NULL)
		PUTL(ev, "null");
	else
		str(ev, cmd, strlen(cmd));
	PUTL(ev, ",\"arg\":");
	str(ev, e->arg, e->arg_len);
	PUTL(ev, ",\"code\":");
	int_(ev, e->code);
	PUTL(ev, ",\"text\":");
	str(ev, e->text, e->text_len);
	PUTL(ev, ",\"rule\":");
	if (rule != NULL)
		str(ev, rule, strlen(rule));
	else
		PUTL(ev, "null");
	puts_(ev, offence ? ",\"offence\":true" : ",\"offence\":false");
	if (e->flags & SMTP_F_GREETING)
		PUTL(ev, ",\"greeting\":true");
	if (e->flags & SMTP_F_UNSOLICITED)
		PUTL(ev, ",\"unsolicited\":true");
	end_line(ev);
}

void
events_anomaly(struct events *ev, const struct sniff_conn *sc,
    const struct smtp_event *e)
{
	if (ev->fp == NULL)
		return;
	head(ev, "anomaly", e->ts);
	peers(ev, sc);
	PUTL(ev, ",\"anomaly\":\"");
	puts_(ev, smtp_anomaly_name(e->anomaly));
	puts_(ev, e->dir == SMTP_FROM_SERVER ? "\",\"from\":\"server\"" :
	    "\",\"from\":\"client\"");
	end_line(ev);
}

void
events_session(struct events *ev, const struct sniff_conn *sc,
    const struct smtp_summary *sum, enum sniff_close how, wb_usec t)
{
	if (ev->fp == NULL)
		return;
	head(ev, "session", t);
	peers(ev, sc);
	PUTL(ev, ",\"helo\":");
	str(ev, sum->helo, strlen(sum->helo));
	PUTL(ev, ",\"tls\":\"");
	puts_(ev, smtp_tls_name(sum->tls));
	PUTL(ev, "\",\"commands\":");
	uint_(ev, sum->commands);
	PUTL(ev, ",\"replies\":");
	uint_(ev, sum->replies);
	PUTL(ev, ",\"rejects\":");
	uint_(ev, sum->rejects);
	PUTL(ev, ",\"closed\":\"");
	puts_(ev, sniff_close_str(how));
	put(ev, "\"", 1);
	end_line(ev);
}

void
events_ban(struct events *ev, const struct ban *b, wb_usec t)
{
	if (ev->fp == NULL)
		return;
	head(ev, "ban", t);
	PUTL(ev, "\"client\":");
	addr(ev, &b->addr, b->bits);
	PUTL(ev, ",\"rule\":");
	str(ev, b->rule, strlen(b->rule));
	PUTL(ev, ",\"score\":");
	int_(ev, b->score);
	PUTL(ev, ",\"duration\":");
	int_(ev, (b->expiry - b->start) / WB_USEC_PER_SEC);
	PUTL(ev, ",\"count\":");
	uint_(ev, b->count);
	end_line(ev);
}

void
events_unban(struct events *ev, const struct ban *b, wb_usec t)
{
	if (ev->fp == NULL)
		return;
	head(ev, "unban", t);
	PUTL(ev, "\"client\":");
	addr(ev, &b->addr, b->bits);
	end_line(ev);
}
