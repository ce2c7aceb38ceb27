/*
 * fw_crowdsec_json.c - the JSON the crowdsec backend writes (a login,
 * an alert per ban) and a strict reader for the little it reads back
 * (token, expire, code, message).
 *
 * Writing: a few fixed shapes, so a tiny escaping writer on struct
 * ban_buf is enough; every string goes through ban_cs_json_str(), which
 * escapes what JSON needs and replaces bytes that are not UTF-8, so
 * whatever a rule name holds the body stays valid JSON.
 *
 * Reading: the LAPI is a peer on the network, so its replies are
 * parsed as untrusted input: RFC 8259 exactly (no trailing commas, no
 * NaN, no leading zeros, no raw controls), valid UTF-8 only, no NUL
 * (raw or \u0000), nesting bounded by CS_JSON_DEPTH (recursion depth is
 * the only stack it takes), the body's size bounded by the caller.
 * Known keys with the wrong type or twice are errors rather than
 * guesses: a reply we do not understand is a failed request.
 *
 * Invariant: the reader never reads past buf + len and never writes
 * past a field's size; the writer never emits a byte that is not
 * valid JSON text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fw_crowdsec.h"

/* ---- writing ---------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF. */
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return k;
}

int
ban_cs_json_str(struct ban_buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, run, k;

	ban_buf_printf(out, "\"");
	while (i < n) {
		/* Copy a run of bytes that need nothing in one go. */
		for (run = 0; i + run < n; run += k) {
			unsigned char c = s[i + run];

			if (c < 0x20 || c == '"' || c == '\\' ||
			    (k = utf8_len(s + i + run, n - i - run)) == 0)
				break;
		}
		if (run > 0) {
			ban_buf_printf(out, "%.*s", (int)run, str + i);
			i += run;
			continue;
		}
		if (s[i] == '"' || s[i] == '\\')
			ban_buf_printf(out, "\\%c", s[i]);
		else if (s[i] == '\n')
			ban_buf_printf(out, "\\n");
		else if (s[i] == '\t')
			ban_buf_printf(out, "\\t");
		else if (s[i] < 0x20)
			ban_buf_printf(out, "\\u%04x", s[i]);
		else
			ban_buf_printf(out, "\\ufffd");
		i++;
	}
	return ban_buf_printf(out, "\"");
}

int
ban_cs_json_login(struct ban_buf *out, const char *login, const char *password,
    const char *scenario)
{
	ban_buf_printf(out, "{\"machine_id\":");
	ban_cs_json_str(out, login);
	ban_buf_printf(out, ",\"password\":");
	ban_cs_json_str(out, password);
	ban_buf_printf(out, ",\"scenarios\":[");
	ban_cs_json_str(out, scenario);
	return ban_buf_printf(out, "]}");
}

void
ban_cs_rfc3339(wb_usec t, char buf[32])
{
	time_t s = (time_t)(t / WB_USEC_PER_SEC);
	struct tm tm;

	if (t < 0 || gmtime_r(&s, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, 32, "1970-01-01T00:00:00Z");
}

const char *
ban_cs_value(const struct ban *b, char *buf)
{
	struct wb_addr net;
	int bits = ban_bits(b);

	wb_addr_mask(&net, &b->addr, bits);
	wb_prefix_str(&net, bits, buf);
	return bits >= wb_addr_bits(&b->addr) ? "Ip" : "Range";
}

int
ban_cs_json_alert(struct ban_buf *out, const struct cs_alert_conf *c,
    const struct ban *b, wb_usec now)
{
	char value[WB_PREFIX_STRLEN], t0[32], t1[32], msg[160];
	const char *scope = ban_cs_value(b, value);
	wb_usec stop = now - now % WB_USEC_PER_SEC, left = b->expiry - stop;
	bool range = strcmp(scope, "Range") == 0;

	if (left < WB_USEC_PER_SEC)
		return 0;
	if (left > CS_DURATION_MAX)
		left = CS_DURATION_MAX;
	ban_cs_rfc3339(b->start < stop ? b->start : stop, t0);
	ban_cs_rfc3339(stop, t1);
	(void)snprintf(msg, sizeof(msg), "wireban: %s banned for SMTP abuse "
	    "(rule %s, score %d, ban #%u)", value, b->rule[0] ? b->rule : "-",
	    b->score, b->count);
	ban_buf_printf(out, "{\"scenario\":");
	ban_cs_json_str(out, c->scenario);
	ban_buf_printf(out, ",\"scenario_hash\":\"\",\"scenario_version\":"
	    "\"\",\"message\":");
	ban_cs_json_str(out, msg);
	ban_buf_printf(out, ",\"events_count\":%d,\"start_at\":\"%s\","
	    "\"stop_at\":\"%s\",\"capacity\":0,\"leakspeed\":\"0\","
	    "\"simulated\":false,\"events\":[{\"timestamp\":\"%s\","
	    "\"meta\":[{\"key\":\"service\",\"value\":\"smtp\"},"
	    "{\"key\":\"rule\",\"value\":", b->score > 0 ? b->score : 1, t0,
	    t1, t0);
	ban_cs_json_str(out, b->rule);
	ban_buf_printf(out, "}]}],\"source\":{\"scope\":\"%s\","
	    "\"value\":\"%s\",\"%s\":\"%s\"},\"decisions\":[{\"type\":"
	    "\"ban\",\"scope\":\"%s\","
	    "\"value\":\"%s\",\"duration\":\"%lldms\",\"origin\":", scope,
	    value, range ? "range" : "ip", value, scope, value,
	    (long long)(left / 1000));
	ban_cs_json_str(out, c->origin);
	ban_buf_printf(out, ",\"scenario\":");
	ban_cs_json_str(out, c->scenario);
	return ban_buf_printf(out, "}]}") == 0 ? 1 : -1;
}

/* ---- reading ---------------------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
	const char	*why;
	int		 depth;
};

static int	 value(struct rd *, char *, size_t, bool, int *);

static void
ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
fail(struct rd *r, const char *why)
{
	if (r->why == NULL)
		r->why = why;
	return -1;
}

static int
hex4(struct rd *r, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (r->end - r->p < 4)
		return fail(r, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		unsigned char c = r->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(r, "bad \\u escape");
	}
	r->p += 4;
	*out = v;
	return 0;
}

/*
 * Appends code point c as UTF-8 to out (cap bytes with the NUL); past
 * cap an error, or with cut the rest is dropped.
 */
static int
put_cp(struct rd *r, uint32_t c, char *out, size_t cap, size_t *n, bool cut)
{
	unsigned char u[4];
	size_t k;

	if (c < 0x80)
		u[0] = (unsigned char)c, k = 1;
	else if (c < 0x800)
		u[0] = 0xc0 | c >> 6, u[1] = 0x80 | (c & 0x3f), k = 2;
	else if (c < 0x10000)
		u[0] = 0xe0 | c >> 12, u[1] = 0x80 | (c >> 6 & 0x3f),
		u[2] = 0x80 | (c & 0x3f), k = 3;
	else
		u[0] = 0xf0 | c >> 18, u[1] = 0x80 | (c >> 12 & 0x3f),
		u[2] = 0x80 | (c >> 6 & 0x3f), u[3] = 0x80 | (c & 0x3f), k = 4;
	if (out == NULL)
		return 0;
	if (*n + k >= cap)
		return cut ? 0 : fail(r, "string longer than its field");
	memcpy(out + *n, u, k);
	*n += k;
	return 0;
}

/*
 * A string at r->p (its opening quote). Decoded into out (cap bytes,
 * NUL-terminated) unless out is NULL; longer than cap is an error, or
 * with cut what does not fit is checked and dropped.
 */
static int
string(struct rd *r, char *out, size_t cap, size_t *len, bool cut)
{
	size_t n = 0, k;
	uint32_t c, lo;

	r->p++;
	for (;;) {
		if (r->p >= r->end)
			return fail(r, "truncated string");
		if (*r->p == '"')
			break;
		if (*r->p == '\\') {
			if (++r->p >= r->end)
				return fail(r, "truncated escape");
			switch (*r->p++) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (hex4(r, &c) != 0)
					return -1;
				if (c >= 0xdc00 && c <= 0xdfff)
					return fail(r, "lone low surrogate");
				if (c >= 0xd800 && c <= 0xdbff) {
					if (r->end - r->p < 2 || r->p[0] !=
					    '\\' || r->p[1] != 'u')
						return fail(r, "lone high "
						    "surrogate");
					r->p += 2;
					if (hex4(r, &lo) != 0)
						return -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return fail(r, "bad surrogate "
						    "pair");
					c = 0x10000 + ((c - 0xd800) << 10) +
					    (lo - 0xdc00);
				}
				if (c == 0)
					return fail(r, "NUL in a string");
				break;
			default:
				return fail(r, "bad escape");
			}
			if (put_cp(r, c, out, cap, &n, cut) != 0)
				return -1;
			continue;
		}
		if (*r->p == 0)
			return fail(r, "NUL byte");
		if (*r->p < 0x20)
			return fail(r, "control character in a string");
		if ((k = utf8_len(r->p, (size_t)(r->end - r->p))) == 0)
			return fail(r, "invalid UTF-8");
		if (out != NULL && n + k < cap) {
			memcpy(out + n, r->p, k);
			n += k;
		} else if (out != NULL && !cut)
			return fail(r, "string longer than its field");
		r->p += k;
	}
	r->p++;
	if (out != NULL)
		out[n] = '\0';
	if (len != NULL)
		*len = n;
	return 0;
}

/*
 * A number. When iv is not NULL it must be an integer of at most 9
 * digits (no fraction, no exponent), stored there.
 */
static int
number(struct rd *r, long *iv)
{
	const unsigned char *s = r->p;
	bool integer = true;
	size_t digits = 0;
	long v = 0;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return fail(r, "bad number");
	if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' &&
	    r->p[1] <= '9')
		return fail(r, "leading zero");
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		if (++digits <= 9)
			v = v * 10 + (*r->p - '0');
		r->p++;
	}
	if (r->p < r->end && *r->p == '.') {
		integer = false;
		if (++r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad fraction");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		integer = false;
		if (++r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad exponent");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (iv != NULL) {
		if (!integer || digits > 9)
			return fail(r, "code is not a small integer");
		*iv = *s == '-' ? -v : v;
	}
	return 0;
}

static int
literal(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r, "bad literal");
	r->p += n;
	return 0;
}

enum jtype { J_STRING = 1, J_NUMBER, J_OTHER };

/* An array or object, skipped (values read but not kept). */
static int
container(struct rd *r, bool object)
{
	char close = object ? '}' : ']';
	int t;

	if (++r->depth > CS_JSON_DEPTH)
		return fail(r, "nested too deep");
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		r->depth--;
		return 0;
	}
	for (;;) {
		ws(r);
		if (object) {
			if (r->p >= r->end || *r->p != '"')
				return fail(r, "expected a key");
			if (string(r, NULL, 0, NULL, false) != 0)
				return -1;
			ws(r);
			if (r->p >= r->end || *r->p++ != ':')
				return fail(r, "expected ':'");
			ws(r);
		}
		if (value(r, NULL, 0, false, &t) != 0)
			return -1;
		ws(r);
		if (r->p >= r->end)
			return fail(r, "truncated");
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p++ != close)
			return fail(r, object ? "expected ',' or '}'" :
			    "expected ',' or ']'");
		break;
	}
	r->depth--;
	return 0;
}

/*
 * Any value; a string is decoded into out (cap bytes, cut as string()
 * says) unless out is NULL, a number is read into *(long *)out when
 * cap is 0 and out is not NULL. *type says what it was.
 */
static int
value(struct rd *r, char *out, size_t cap, bool cut, int *type)
{
	if (r->p >= r->end)
		return fail(r, "truncated");
	*type = J_OTHER;
	switch (*r->p) {
	case '"':
		*type = J_STRING;
		return string(r, cap > 0 ? out : NULL, cap, NULL, cut);
	case '{':
		return container(r, true);
	case '[':
		return container(r, false);
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	default:
		*type = J_NUMBER;
		return number(r, cap == 0 && out != NULL ? (long *)(void *)out :
		    NULL);
	}
}

/* Message text for a log line: printable ASCII, cut. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* The top-level object: the known keys into r, every key once. */
static int
top_object(struct rd *r, struct cs_reply *out)
{
	char seen[CS_JSON_MEMBERS][64];
	size_t nseen = 0, i;
	char key[64], skip[16];
	int t;

	r->depth = 1;
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		ws(r);
		if (r->p >= r->end || *r->p != '"')
			return fail(r, "expected a key");
		/* A key longer than any we know is skipped, still checked. */
		if (string(r, key, sizeof(key), NULL, false) != 0)
			return -1;
		if (nseen == CS_JSON_MEMBERS)
			return fail(r, "too many members");
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], key) == 0)
				return fail(r, "duplicate key");
		memcpy(seen[nseen++], key, sizeof(key));
		ws(r);
		if (r->p >= r->end || *r->p++ != ':')
			return fail(r, "expected ':'");
		ws(r);
		if (strcmp(key, "code") == 0) {
			if (value(r, (char *)&out->code, 0, false, &t) != 0)
				return -1;
			if (t != J_NUMBER)
				return fail(r, "code is not a number");
			if (out->code < 0 || out->code > 999)
				return fail(r, "code out of range");
			out->has_code = true;
		} else if (strcmp(key, "token") == 0) {
			if (value(r, out->token, sizeof(out->token), false,
			    &t) != 0)
				return -1;
			if (t != J_STRING)
				return fail(r, "token is not a string");
			out->has_token = true;
		} else if (strcmp(key, "expire") == 0) {
			if (value(r, out->expire, sizeof(out->expire), false,
			    &t) != 0)
				return -1;
			if (t != J_STRING)
				return fail(r, "expire is not a string");
			out->has_expire = true;
		} else if (strcmp(key, "message") == 0) {
			/* Longer than we keep: cut, not refused. */
			if (value(r, out->message, sizeof(out->message), true,
			    &t) != 0)
				return -1;
			if (t != J_STRING)
				return fail(r, "message is not a string");
			printable(out->message);
			out->has_message = true;
		} else if (strcmp(key, "nbDeleted") == 0) {
			if (value(r, skip, sizeof(skip), false, &t) != 0)
				return -1;
			if (t != J_STRING)
				return fail(r, "nbDeleted is not a string");
		} else if (value(r, NULL, 0, false, &t) != 0)
			return -1;
		ws(r);
		if (r->p >= r->end)
			return fail(r, "truncated");
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p++ != '}')
			return fail(r, "expected ',' or '}'");
		return 0;
	}
}

/* The top-level array: elements counted, strings among them too. */
static int
top_array(struct rd *r, struct cs_reply *out)
{
	int t;

	r->depth = 1;
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		ws(r);
		if (value(r, NULL, 0, false, &t) != 0)
			return -1;
		out->items++;
		if (t == J_STRING)
			out->strings++;
		ws(r);
		if (r->p >= r->end)
			return fail(r, "truncated");
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p++ != ']')
			return fail(r, "expected ',' or ']'");
		return 0;
	}
}

int
ban_cs_json_parse(const char *buf, size_t len, struct cs_reply *out,
    const char **why)
{
	struct rd r = { (const unsigned char *)buf,
	    (const unsigned char *)buf + len, NULL, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (memchr(buf, '\0', len) != NULL) {
		*why = "NUL byte";
		return -1;
	}
	ws(&r);
	if (r.p >= r.end)
		rc = fail(&r, "empty");
	else if (*r.p == '{') {
		out->object = true;
		rc = top_object(&r, out);
	} else if (*r.p == '[')
		rc = top_array(&r, out);
	else
		rc = fail(&r, "not an object or array");
	if (rc == 0) {
		ws(&r);
		if (r.p != r.end)
			rc = fail(&r, "bytes after the value");
	}
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		*why = r.why;
	}
	return rc;
}
