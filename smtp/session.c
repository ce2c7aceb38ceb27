/*
 * session.c - smtp_feed(): cuts each direction's bytes into lines (or
 * message content, or opaque TLS) and hands lines to client.c and
 * server.c. Owns the session's life cycle and its state machine.
 *
 * Invariant: the events depend only on the bytes of each direction and
 * on the order of the feed calls, never on how a direction's bytes are
 * chunked. Every decision is therefore taken at a byte position of the
 * stream (an LF, the line limit, the n-th byte of a BDAT chunk), never
 * at a chunk boundary.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

static size_t feed_lines(struct smtp_session *, enum smtp_dir,
    const char *, size_t);
static size_t feed_data(struct smtp_session *, const char *, size_t);
static size_t feed_bdat(struct smtp_session *, const char *, size_t);
static size_t feed_probe(struct smtp_session *, const char *, size_t);
static bool client_opaque(const struct smtp_session *);

/* Bytes held back by the TLS probe (never an LF) rejoin the line. */
static void
feed_held(struct smtp_session *s, const uint8_t *held, size_t n)
{
	(void)feed_lines(s, SMTP_FROM_CLIENT, (const char *)held, n);
}

struct smtp_session *
smtp_session_new(const struct smtp_limits *limits)
{
	struct smtp_session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->state = SMTP_S_COMMAND;	/* the first state: no transition */
	s->line_max = SMTP_LINE_MAX_DEFAULT;
	if (limits != NULL && limits->line_max >= 16)
		s->line_max = limits->line_max;
	return s;
}

void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	free(s->lb[0].buf);
	free(s->lb[1].buf);
	free(s->text);
	smtp_q_free(&s->q);
	free(s);
}

const struct smtp_summary *
smtp_summary(const struct smtp_session *s)
{
	return &s->sum;
}

size_t
smtp_pending(const struct smtp_session *s)
{
	return (size_t)s->q.len + s->q.vlen + s->q.lost;
}

enum smtp_state
smtp_session_state(const struct smtp_session *s)
{
	return s->state;
}

void
smtp_session_trace(struct smtp_session *s, smtp_trace_cb *cb, void *arg)
{
	s->trace = cb;
	s->trace_arg = arg;
}

void
smtp_emit(struct smtp_session *s, struct smtp_event *ev)
{
	ev->ts = s->ts;
	if (s->cb != NULL)
		s->cb(ev, s->cbarg);
}

void
smtp_anomaly(struct smtp_session *s, enum smtp_dir dir, enum smtp_anomaly a,
    const char *text, size_t len)
{
	struct smtp_event ev = {
		.type = SMTP_EV_ANOMALY,
		.dir = dir,
		.anomaly = a,
		.text = text != NULL ? text : "",
		.text_len = text != NULL ? len : 0,
	};

	s->sum.anomalies++;
	smtp_emit(s, &ev);
}

/*
 * The one place the state changes. A session that ended or went TLS
 * never comes back: END is final, TLS only ends, and TLS_CLIENT (the
 * client opened in TLS) only ends or becomes TLS (the server answered
 * in TLS). Any other change is asked for by the bytes and allowed.
 */
void
smtp_enter_state(struct smtp_session *s, enum smtp_state st)
{
	enum smtp_state from = s->state;

	switch (from) {
	case SMTP_S_END:
		return;
	case SMTP_S_TLS:
		if (st != SMTP_S_END)
			return;
		break;
	case SMTP_S_TLS_CLIENT:
		if (st != SMTP_S_TLS && st != SMTP_S_END)
			return;
		break;
	default:
		break;
	}
	if (st == from)
		return;
	s->state = st;
	if (s->trace != NULL)
		s->trace(from, st, s->trace_arg);
}

/* The client's bytes are TLS records: none of them is read. */
static bool
client_opaque(const struct smtp_session *s)
{
	return s->state == SMTP_S_TLS_CLIENT || s->state == SMTP_S_TLS;
}

/*
 * The client's bytes are content from here. A partial client line
 * already buffered belongs to it: the scanner goes on mid-line.
 */
void
smtp_enter_data(struct smtp_session *s)
{
	struct linebuf *lb = &s->lb[SMTP_FROM_CLIENT];

	s->msg_size += lb->len;
	s->dot = lb->len > 0 || lb->skipping ? DOT_MID : DOT_LINE_START;
	s->dot_len = 0;
	lb->len = 0;
	lb->skipping = false;
	smtp_enter_state(s, SMTP_S_DATA);
}

void
smtp_end_content(struct smtp_session *s, enum smtp_cmd cmd)
{
	struct smtp_event ev = {
		.type = SMTP_EV_DATA_END,
		.dir = SMTP_FROM_CLIENT,
		.cmd = cmd,
		.size = s->msg_size,
	};

	s->sum.messages++;
	smtp_emit(s, &ev);
}

void
smtp_feed(struct smtp_session *s, enum smtp_dir dir, const void *bytes,
    size_t len, wb_usec ts, smtp_cb *cb, void *arg)
{
	const char *p = bytes;
	size_t used;

	if (s->state == SMTP_S_END || len == 0)
		return;
	s->cb = cb;
	s->cbarg = arg;
	s->ts = ts;

	if (dir == SMTP_FROM_SERVER) {
		/* Implicit TLS: a server answering in TLS is opaque too. */
		if (!s->server_started && s->state == SMTP_S_TLS_CLIENT &&
		    (unsigned char)p[0] == 0x16)
			smtp_enter_state(s, SMTP_S_TLS);
		s->server_started = true;
		if (s->state != SMTP_S_TLS)
			(void)feed_lines(s, dir, p, len);
		return;
	}

	while (len > 0 && !client_opaque(s)) {
		if (!s->client_started)
			used = feed_probe(s, p, len);
		else if (s->state == SMTP_S_DATA)
			used = feed_data(s, p, len);
		else if (s->state == SMTP_S_BDAT)
			used = feed_bdat(s, p, len);
		else
			used = feed_lines(s, dir, p, len);
		p += used;
		len -= used;
	}
}

/*
 * The first client bytes decide implicit TLS: a TLS handshake record
 * starts 0x16 0x03 0x00..0x04. Only a leading 0x16 is held back (at most
 * three bytes) so an ordinary first line is never delayed.
 */
static size_t
feed_probe(struct smtp_session *s, const char *p, size_t len)
{
	static const uint8_t lo[3] = { 0x16, 0x03, 0x00 };
	static const uint8_t hi[3] = { 0x16, 0x03, 0x04 };
	size_t used = 0;
	uint8_t held[3];
	size_t nheld;

	while (used < len && s->probe_len < 3) {
		uint8_t c = (uint8_t)p[used];

		if (c < lo[s->probe_len] || c > hi[s->probe_len])
			break;
		s->probe[s->probe_len++] = c;
		used++;
	}
	if (s->probe_len == 3) {
		struct smtp_event ev = {
			.type = SMTP_EV_TLS,
			.dir = SMTP_FROM_CLIENT,
			.tls = SMTP_TLS_IMPLICIT,
		};

		s->client_started = true;
		s->sum.tls = SMTP_TLS_IMPLICIT;
		smtp_enter_state(s, SMTP_S_TLS_CLIENT);
		smtp_emit(s, &ev);
		return len;
	}
	if (used == len)
		return used;	/* still undecided: wait for more */
	/* Not TLS: the held bytes start an ordinary line. */
	s->client_started = true;
	nheld = s->probe_len;
	memcpy(held, s->probe, nheld);
	s->probe_len = 0;
	if (nheld > 0)
		feed_held(s, held, nheld);
	return used;
}

/* Appends to a line buffer; the caller has checked the limit. */
static bool
lb_append(struct linebuf *lb, const char *p, size_t n, size_t max)
{
	if (lb->len + n > lb->cap) {
		size_t ncap = lb->cap ? lb->cap : 128;
		char *nb;

		while (ncap < lb->len + n)
			ncap *= 2;
		if (ncap > max)
			ncap = max;
		if ((nb = realloc(lb->buf, ncap)) == NULL)
			return false;
		lb->buf = nb;
		lb->cap = ncap;
	}
	memcpy(lb->buf + lb->len, p, n);
	lb->len += n;
	return true;
}

static void
dispatch_line(struct smtp_session *s, enum smtp_dir dir, const char *line,
    size_t len, bool cut)
{
	if (dir == SMTP_FROM_SERVER)
		smtp_server_line(s, line, len, cut);
	else
		smtp_client_line(s, line, len, cut);
}

static bool
line_mode(const struct smtp_session *s, enum smtp_dir dir)
{
	if (dir == SMTP_FROM_SERVER)
		return s->state != SMTP_S_TLS;
	return !client_opaque(s) && s->state != SMTP_S_DATA &&
	    s->state != SMTP_S_BDAT;
}

/*
 * Cuts bytes into lines at LF and returns how many it used. A line longer
 * than line_max is handed on cut (flagged) at that byte and the rest of
 * it, up to the LF, dropped: Suricata's rule, and the only one that keeps
 * memory bounded. It stops early when a client line switches the stream
 * to message content; smtp_feed's loop takes the rest from there.
 */
static size_t
feed_lines(struct smtp_session *s, enum smtp_dir dir, const char *p,
    size_t len)
{
	struct linebuf *lb = &s->lb[dir];
	const char *start = p;
	const char *lf, *line;
	size_t take, n;
	bool cut;

	while (len > 0 && line_mode(s, dir)) {
		lf = memchr(p, '\n', len);
		if (lb->skipping) {
			if (lf == NULL)
				return (size_t)(p - start) + len;
			lb->skipping = false;
			len -= (size_t)(lf - p) + 1;
			p = lf + 1;
			continue;
		}
		take = lf != NULL ? (size_t)(lf - p) : len;
		cut = lb->len + take > s->line_max;
		if (cut)
			take = s->line_max - lb->len;
		else if (lf == NULL) {
			/* A partial line: keep it for the next chunk. */
			if (!lb_append(lb, p, len, s->line_max)) {
				lb->len = 0;
				lb->skipping = true;	/* out of memory */
			}
			return (size_t)(p - start) + len;
		}
		if (lb->len == 0) {
			line = p;		/* whole in this chunk: no copy */
			n = take;
		} else if (lb_append(lb, p, take, s->line_max)) {
			line = lb->buf;
			n = lb->len;
		} else {
			line = NULL;		/* out of memory: drop it */
			n = 0;
		}
		lb->len = 0;
		if (cut && (lf == NULL || (size_t)(lf - p) > take)) {
			/* Drop the rest of the cut line, up to its LF. */
			lb->skipping = true;
			len -= take;
			p += take;
		} else {
			len -= take + 1;
			p += take + 1;
		}
		if (line != NULL)
			dispatch_line(s, dir, line, n, cut);
	}
	return (size_t)(p - start);
}

/*
 * DATA content: counts bytes and watches for a line that is "." alone
 * (CRs before the LF allowed, bare LF tolerated). Returns bytes used.
 */
static size_t
feed_data(struct smtp_session *s, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		char c = p[i];

		switch (s->dot) {
		case DOT_MID: {
			/*
			 * Only a "." right after an LF can end the content, so
			 * look for dots, not for line ends: a base64 body has
			 * none at all, and text far fewer than lines.
			 */
			const char *q = p + i, *d;

			for (;;) {
				d = memchr(q, '.', (size_t)(p + len - q));
				if (d == NULL) {
					s->msg_size += len - i;
					if (p[len - 1] == '\n')
						s->dot = DOT_LINE_START;
					return len;
				}
				/* d == p + i is mid-line: MID means the byte
				 * before i was no LF. */
				if (d > p + i && d[-1] == '\n')
					break;
				q = d + 1;
			}
			s->msg_size += (size_t)(d - (p + i));
			i = (size_t)(d - p);
			s->dot = DOT_LINE_START;
			continue;
		}
		case DOT_LINE_START:
			if (c == '.') {
				s->dot = DOT_SEEN;
				s->dot_len = 1;
			} else {
				s->dot = c == '\n' ? DOT_LINE_START : DOT_MID;
				s->msg_size++;
			}
			break;
		case DOT_SEEN:
		case DOT_CR:
			if (c == '\r') {
				s->dot = DOT_CR;
				s->dot_len++;
			} else if (c == '\n') {
				bool ovf;

				s->dot = DOT_LINE_START;
				s->dot_len = 0;
				smtp_enter_state(s, SMTP_S_COMMAND);
				smtp_end_content(s, SMTP_CMD_EOM);
				if (!smtp_q_push(&s->q, SMTP_CMD_EOM, 0, "", 0,
				    &ovf) && ovf)
					smtp_anomaly(s, SMTP_FROM_CLIENT,
					    SMTP_AN_QUEUE_OVERFLOW, NULL, 0);
				return i + 1;
			} else {
				/* ".x": a content line after all. */
				s->msg_size += s->dot_len + 1;
				s->dot_len = 0;
				s->dot = DOT_MID;
			}
			break;
		}
		i++;
	}
	return len;
}

/* BDAT content: exactly bdat_left bytes, whatever they are. */
static size_t
feed_bdat(struct smtp_session *s, const char *p, size_t len)
{
	size_t n = len;

	(void)p;
	if ((uint64_t)n > s->bdat_left)
		n = (size_t)s->bdat_left;
	s->bdat_left -= n;
	s->msg_size += n;
	if (s->bdat_left == 0) {
		smtp_enter_state(s, SMTP_S_COMMAND);
		if (s->bdat_last) {
			s->in_bdat = false;
			smtp_end_content(s, SMTP_CMD_BDAT);
		}
	}
	return n;
}

/*
 * Called by client.c for "BDAT n [LAST]" with a valid size: n bytes of
 * content follow the line at once, without waiting for a reply.
 */
void
smtp_start_bdat(struct smtp_session *s, uint64_t n, bool last)
{
	if (!s->in_bdat) {
		struct smtp_event ev = {
			.type = SMTP_EV_DATA_START,
			.dir = SMTP_FROM_CLIENT,
			.cmd = SMTP_CMD_BDAT,
		};

		s->in_bdat = true;
		s->msg_size = 0;
		smtp_emit(s, &ev);
	}
	s->bdat_left = n;
	s->bdat_last = last;
	if (n > 0) {
		smtp_enter_state(s, SMTP_S_BDAT);
	} else if (last) {
		s->in_bdat = false;
		smtp_end_content(s, SMTP_CMD_BDAT);
	}
}

void
smtp_end(struct smtp_session *s, wb_usec ts, smtp_cb *cb, void *arg)
{
	struct smtp_event ev = { .type = SMTP_EV_END };
	struct linebuf *lb;

	if (s->state == SMTP_S_END)
		return;
	s->cb = cb;
	s->cbarg = arg;
	s->ts = ts;

	/* A first client "line" of 1-2 bytes that looked like TLS. */
	if (!s->client_started && s->probe_len > 0) {
		uint8_t held[3];
		size_t nheld = s->probe_len;

		memcpy(held, s->probe, nheld);
		s->probe_len = 0;
		s->client_started = true;
		feed_held(s, held, nheld);
	}
	/* Partial last lines count as if their LF had come. */
	lb = &s->lb[SMTP_FROM_CLIENT];
	if (line_mode(s, SMTP_FROM_CLIENT) && lb->len > 0 && !lb->skipping) {
		size_t n = lb->len;

		lb->len = 0;
		smtp_client_line(s, lb->buf, n, false);
	}
	lb = &s->lb[SMTP_FROM_SERVER];
	if (line_mode(s, SMTP_FROM_SERVER) && lb->len > 0 && !lb->skipping) {
		size_t n = lb->len;

		lb->len = 0;
		smtp_server_line(s, lb->buf, n, false);
	}
	if (line_mode(s, SMTP_FROM_SERVER))
		smtp_server_flush(s);
	smtp_enter_state(s, SMTP_S_END);
	smtp_emit(s, &ev);
}
