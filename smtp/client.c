/*
 * client.c - one client line in command mode: what command it is, what
 * of it may be kept, and what it does to the session (BDAT content,
 * AUTH responses, lines sent after an unanswered DATA).
 *
 * Invariant: every client line queues exactly one pending entry, known
 * verb or not, so that each reply pairs with the line it answers.
 * Credentials never leave this file: AUTH keeps its mechanism only, and
 * a response to a 334 challenge keeps nothing.
 */
#include <ctype.h>
#include <string.h>

#include "smtp_int.h"

struct verb {
	const char	*name;
	size_t		 len;
	enum smtp_cmd	 cmd;
};

/* The entries of commands.def a client sends as words (VERB 1). */
#define VERB_0(id)
#define VERB_1(id)	{ #id, sizeof(#id) - 1, SMTP_CMD_##id },
#define SMTP_CMD(id, verb, rule) VERB_##verb(id)
static const struct verb verbs[] = {
#include "commands.def"
};
#undef VERB_0
#undef VERB_1

/* Length and first letter first: most lines fail there, cheaply. */
static enum smtp_cmd
lookup_verb(const char *v, size_t n)
{
	size_t i;
	int c;

	if (n == 0)
		return SMTP_CMD_UNKNOWN;
	c = toupper((unsigned char)v[0]);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].len == n && verbs[i].name[0] == c &&
		    strncasecmp(verbs[i].name, v, n) == 0)
			return verbs[i].cmd;
	return SMTP_CMD_UNKNOWN;
}

static size_t
skip_spaces(const char *p, size_t i, size_t len)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

/* Strips "FROM:" / "TO:" (any case, spaces around the colon allowed). */
static size_t
skip_keyword(const char *p, size_t i, size_t len, const char *kw)
{
	size_t n = strlen(kw), j;

	if (len - i < n || strncasecmp(p + i, kw, n) != 0)
		return i;
	j = skip_spaces(p, i + n, len);
	if (j < len && p[j] == ':')
		return skip_spaces(p, j + 1, len);
	return i;
}

/*
 * "BDAT n [LAST]": n is 1-18 digits (so it fits without overflow; no
 * real chunk comes near) and the only word allowed after it is LAST.
 * Returns false for anything else.
 */
static bool
parse_bdat(const char *a, size_t len, uint64_t *n, bool *last)
{
	size_t i = 0, digits = 0;

	*n = 0;
	while (i < len && isdigit((unsigned char)a[i])) {
		if (++digits > 18)
			return false;
		*n = *n * 10 + (uint64_t)(a[i] - '0');
		i++;
	}
	if (digits == 0)
		return false;
	i = skip_spaces(a, i, len);
	*last = false;
	if (i == len)
		return true;
	if (len - i == 4 && strncasecmp(a + i, "LAST", 4) == 0) {
		*last = true;
		return true;
	}
	return false;
}

/* A line after an unanswered DATA may yet turn out to be content. */
static unsigned
pending_flags(const struct smtp_session *s, const char *line, size_t len)
{
	unsigned f = 0;

	if (s->data_pending > 0) {
		f |= PEND_TENTATIVE;
		if (len == 1 && line[0] == '.')
			f |= PEND_DOT;
	}
	return f;
}

static void
push(struct smtp_session *s, enum smtp_cmd cmd, unsigned flags,
    const char *arg, size_t arg_len)
{
	bool ovf;

	if (!smtp_q_push(&s->q, cmd, flags, arg, arg_len, &ovf) && ovf)
		smtp_anomaly(s, SMTP_FROM_CLIENT, SMTP_AN_QUEUE_OVERFLOW,
		    NULL, 0);
	if (cmd == SMTP_CMD_DATA)
		s->data_pending++;
}

static void
emit_command(struct smtp_session *s, enum smtp_cmd cmd, const char *arg,
    size_t arg_len, bool cut)
{
	struct smtp_event ev = {
		.type = SMTP_EV_COMMAND,
		.dir = SMTP_FROM_CLIENT,
		.cmd = cmd,
		.arg = arg,
		.arg_len = arg_len > ARG_MAX ? ARG_MAX : arg_len,
		.flags = cut ? SMTP_F_TRUNCATED : 0,
	};

	smtp_emit(s, &ev);
}

void
smtp_client_line(struct smtp_session *s, const char *line, size_t len,
    bool cut)
{
	enum smtp_cmd cmd;
	size_t v, a;
	uint64_t n;
	bool last;

	if (cut)
		smtp_anomaly(s, SMTP_FROM_CLIENT, SMTP_AN_LINE_TOO_LONG,
		    line, len > 64 ? 64 : len);
	while (len > 0 && line[len - 1] == '\r')
		len--;
	if (!s->sum.greeted && !s->early_reported) {
		s->early_reported = true;
		smtp_anomaly(s, SMTP_FROM_CLIENT, SMTP_AN_EARLY_TALKER,
		    NULL, 0);
	}
	if (memchr(line, '\0', len) != NULL)
		smtp_anomaly(s, SMTP_FROM_CLIENT, SMTP_AN_NUL_BYTES, NULL, 0);

	if (s->state == SMTP_S_AUTH) {
		/* Base64 credentials, or "*": keep nothing of it. */
		smtp_enter_state(s, SMTP_S_COMMAND);
		emit_command(s, SMTP_CMD_AUTH_DATA, "", 0, false);
		push(s, SMTP_CMD_AUTH_DATA, 0, "", 0);
		return;
	}

	s->sum.commands++;
	for (v = 0; v < len && line[v] != ' ' && line[v] != '\t'; v++)
		;
	cmd = lookup_verb(line, v);
	a = skip_spaces(line, v, len);
	switch (cmd) {
	case SMTP_CMD_MAIL:
		a = skip_keyword(line, a, len, "FROM");
		break;
	case SMTP_CMD_RCPT:
		a = skip_keyword(line, a, len, "TO");
		break;
	case SMTP_CMD_AUTH: {
		/* The mechanism only; an initial response is a secret. */
		size_t e = a;

		while (e < len && line[e] != ' ' && line[e] != '\t')
			e++;
		len = e;
		break;
	}
	case SMTP_CMD_UNKNOWN:
		a = 0;		/* the whole line says what was sent */
		break;
	default:
		break;
	}
	if (cmd == SMTP_CMD_HELO || cmd == SMTP_CMD_EHLO ||
	    cmd == SMTP_CMD_LHLO) {
		size_t h = len - a < SMTP_HELO_MAX - 1 ? len - a :
		    SMTP_HELO_MAX - 1;

		memcpy(s->sum.helo, line + a, h);
		s->sum.helo[h] = '\0';
	}

	emit_command(s, cmd, line + a, len - a, cut);
	push(s, cmd, pending_flags(s, line, len), line + a, len - a);

	if (cmd == SMTP_CMD_BDAT) {
		if (parse_bdat(line + a, len - a, &n, &last))
			smtp_start_bdat(s, n, last);
		else
			smtp_anomaly(s, SMTP_FROM_CLIENT, SMTP_AN_BAD_BDAT,
			    line + a, len - a > 64 ? 64 : len - a);
	} else if (cmd == SMTP_CMD_RSET) {
		s->in_bdat = false;
	}
}
