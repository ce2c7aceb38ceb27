/*
 * server.c - server lines: validates each as a reply line, assembles
 * multi-line replies, pairs each complete reply with the command it
 * answers and applies what the reply means for the session (354 starts
 * content, 220 to STARTTLS starts TLS, 334 asks for an AUTH response).
 *
 * Invariant: a reply takes one pending command, once, at its last line
 * ("move the index only once for all the lines of the reply").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

/* OpenSMTPD's test: three digits [2-5][0-9][0-9], then ' ', '-' or end. */
static int
reply_code(const char *l, size_t len, char *sep)
{
	if (len < 3 || l[0] < '2' || l[0] > '5' ||
	    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2]))
		return -1;
	if (len == 3) {
		*sep = ' ';
	} else if (l[3] == ' ' || l[3] == '-') {
		*sep = l[3];
	} else {
		return -1;
	}
	return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
}

/* Appends one line's text to the reply, '\n' between lines. */
static void
text_append(struct smtp_session *s, const char *t, size_t n)
{
	size_t need = n + (s->reply_lines > 0 ? 1 : 0);

	if (need == 0)
		return;		/* an empty first line: nothing to keep */
	if (s->text_len + need > s->line_max) {
		s->reply_cut = true;
		if (s->text_len + (s->reply_lines > 0) >= s->line_max)
			return;
		n = s->line_max - s->text_len - (s->reply_lines > 0);
		need = n + (s->reply_lines > 0);
	}
	if (s->text_len + need > s->text_cap) {
		size_t ncap = s->text_cap ? s->text_cap : 256;
		char *nt;

		while (ncap < s->text_len + need)
			ncap *= 2;
		if (ncap > s->line_max)
			ncap = s->line_max;
		if ((nt = realloc(s->text, ncap)) == NULL) {
			s->reply_cut = true;
			return;
		}
		s->text = nt;
		s->text_cap = ncap;
	}
	if (s->reply_lines > 0)
		s->text[s->text_len++] = '\n';
	memcpy(s->text + s->text_len, t, n);
	s->text_len += n;
}

/*
 * 354 to DATA. Lines the client sent after the DATA, before this reply,
 * were queued as tentative commands; they were content after all. Drop
 * them up to a "." line, which ended the message and becomes EOM. Their
 * size is counted as their (possibly cut) text plus CRLF.
 */
static void
data_accepted(struct smtp_session *s)
{
	struct smtp_event ev = {
		.type = SMTP_EV_DATA_START,
		.dir = SMTP_FROM_SERVER,
		.cmd = SMTP_CMD_DATA,
	};
	struct pending *p;
	size_t i;

	s->msg_size = 0;
	smtp_emit(s, &ev);
	while ((p = smtp_q_at(&s->q, 0)) != NULL &&
	    (p->flags & PEND_TENTATIVE)) {
		if (p->flags & PEND_DOT) {
			p->cmd = SMTP_CMD_EOM;
			p->arg_len = 0;
			p->arg[0] = '\0';
			for (i = 0; (p = smtp_q_at(&s->q, i)) != NULL; i++)
				p->flags &= (uint8_t)~(PEND_TENTATIVE |
				    PEND_DOT);
			smtp_end_content(s, SMTP_CMD_EOM);
			return;
		}
		s->msg_size += p->arg_len + 2u;
		smtp_q_drop_head(&s->q);
	}
	smtp_enter_data(s);
}

/* What a complete reply does to the session, given what it answers. */
static void
apply_reply(struct smtp_session *s, enum smtp_cmd cmd, int code)
{
	struct pending *p;
	size_t i;

	switch (cmd) {
	case SMTP_CMD_DATA:
		if (s->data_pending > 0)
			s->data_pending--;
		if (code == 354) {
			data_accepted(s);
		} else if (s->data_pending == 0) {
			/* Refused: what followed were commands after all. */
			for (i = 0; (p = smtp_q_at(&s->q, i)) != NULL; i++)
				p->flags &= (uint8_t)~(PEND_TENTATIVE |
				    PEND_DOT);
		}
		break;
	case SMTP_CMD_STARTTLS:
		if (code == 220) {
			struct smtp_event ev = {
				.type = SMTP_EV_TLS,
				.dir = SMTP_FROM_SERVER,
				.tls = SMTP_TLS_STARTTLS,
			};

			/* Plaintext pipelined behind STARTTLS is an attack. */
			if (s->q.len > 0 || s->q.vlen > 0 || s->q.lost > 0)
				smtp_anomaly(s, SMTP_FROM_CLIENT,
				    SMTP_AN_STARTTLS_INJECTION, NULL, 0);
			smtp_q_clear(&s->q);
			s->sum.tls = SMTP_TLS_STARTTLS;
			smtp_enter_state(s, SMTP_S_TLS);
			smtp_emit(s, &ev);
		}
		break;
	case SMTP_CMD_AUTH:
	case SMTP_CMD_AUTH_DATA:
		if (code == 334)
			smtp_enter_state(s, SMTP_S_AUTH);
		else if (s->state == SMTP_S_AUTH)
			smtp_enter_state(s, SMTP_S_COMMAND);
		break;
	default:
		break;
	}
}

/*
 * The first reply is the greeting unless a command is pending and the
 * code is not one a greeting has (220; 554 or 421 refusing the session):
 * then the capture began after the greeting and the reply answers the
 * command. PIPE_CONNECT clients send EHLO before the greeting; it stays
 * queued for the reply after.
 */
static bool
is_greeting(const struct smtp_session *s, int code)
{
	if (s->sum.greeted)
		return false;
	if (s->q.len == 0 && s->q.vlen == 0 && s->q.lost == 0)
		return true;
	return code == 220 || code == 554 || code == 421;
}

static void
complete_reply(struct smtp_session *s, const char *text, size_t len)
{
	struct smtp_event ev = {
		.type = SMTP_EV_REPLY,
		.dir = SMTP_FROM_SERVER,
		.code = s->reply_code,
		.text = text,
		.text_len = len,
	};
	struct pending p;

	if (s->reply_cut)
		ev.flags |= SMTP_F_TRUNCATED;
	if (s->reply_lines > 1)
		ev.flags |= SMTP_F_MULTILINE;
	s->sum.replies++;
	if (s->reply_code >= 400)
		s->sum.rejects++;

	if (is_greeting(s, s->reply_code)) {
		s->sum.greeted = true;
		ev.flags |= SMTP_F_GREETING;
		ev.cmd = SMTP_CMD_NONE;
	} else if (smtp_q_pop(&s->q, &p)) {
		s->sum.greeted = true;
		ev.cmd = p.cmd;
		ev.arg = p.arg;
		ev.arg_len = p.arg_len;
	} else {
		ev.flags |= SMTP_F_UNSOLICITED;
		ev.cmd = SMTP_CMD_NONE;
		smtp_anomaly(s, SMTP_FROM_SERVER, SMTP_AN_UNPAIRED_REPLY,
		    text, len > 64 ? 64 : len);
	}
	if (ev.arg == NULL)
		ev.arg = "";

	s->reply_open = false;
	s->reply_cut = false;
	s->reply_lines = 0;
	s->text_len = 0;
	/* The event first: a 220 to STARTTLS is reported before TLS. */
	smtp_emit(s, &ev);
	apply_reply(s, ev.cmd, ev.code);
}

void
smtp_server_line(struct smtp_session *s, const char *line, size_t len,
    bool cut)
{
	const char *t;
	size_t tlen;
	char sep = ' ';
	int code;

	if (cut)
		smtp_anomaly(s, SMTP_FROM_SERVER, SMTP_AN_LINE_TOO_LONG,
		    line, len > 64 ? 64 : len);
	while (len > 0 && line[len - 1] == '\r')
		len--;
	code = reply_code(line, len, &sep);
	if (code < 0) {
		smtp_anomaly(s, SMTP_FROM_SERVER, SMTP_AN_INVALID_REPLY,
		    line, len > 64 ? 64 : len);
		/* Junk inside a multi-line reply stays part of its text. */
		if (s->reply_open) {
			text_append(s, line, len);
			s->reply_lines++;
		}
		return;
	}
	t = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	if (!s->reply_open) {
		s->reply_code = code;
		s->reply_cut = cut;
	} else {
		if (code != s->reply_code)
			smtp_anomaly(s, SMTP_FROM_SERVER,
			    SMTP_AN_CODE_MISMATCH, line, len > 64 ? 64 : len);
		if (cut)
			s->reply_cut = true;
	}
	if (sep == '-') {
		text_append(s, t, tlen);
		s->reply_lines++;
		s->reply_open = true;
		return;
	}
	if (!s->reply_open) {
		/* One line: its text straight from the line, no copy. */
		s->reply_lines = 1;
		complete_reply(s, t, tlen);
		return;
	}
	text_append(s, t, tlen);
	s->reply_lines++;
	complete_reply(s, s->text != NULL ? s->text : "", s->text_len);
}

/* At the end: a multi-line reply whose last line never came. */
void
smtp_server_flush(struct smtp_session *s)
{
	if (!s->reply_open)
		return;
	s->reply_cut = true;
	complete_reply(s, s->text != NULL ? s->text : "", s->text_len);
}
