/*
 * record.c - one line of the ban state: how a ban, a past ban or the
 * end of a ban is written in the snapshot and the journal, and read
 * back.
 *
 *     ban   192.0.2.7     relay 1732700000.000000 1732703600.000000 1 3
 *     past  2001:db8::/64 auth  1732600000.000000 1732603600.000000 2 3
 *     unban 192.0.2.7     1732700500.000000
 *
 * The prefix is "ADDR" for one address, "ADDR/BITS" otherwise. Times are
 * seconds.microseconds. A rule name is written with '%XX' for a space,
 * '%', a control or a non-ASCII byte, and an empty one as "-", so every
 * record has a fixed number of fields. In the journal each line ends in
 * " #" and the CRC-32 of what precedes it, in 8 hex digits: a record
 * torn by a crash, or damaged on disk, is told from a good one.
 *
 * Invariant: nothing read is trusted. A line is parsed into its fields
 * with every number range-checked; a bad one is reported, never used.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"

static void	 rule_encode(char *, size_t, const char *);
static int	 rule_decode(char *, const char *);
static int	 time_parse(const char *, wb_usec *);
static int	 uint_parse(const char *, long, long, long *);
static int	 prefix_parse(const char *, struct ban *);

/* CRC-32 (IEEE 802.3, reflected, as zlib computes it), bit by bit. */
uint32_t
ban_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void
rule_encode(char *out, size_t outlen, const char *rule)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)rule;

	if (*s == '\0' || (s[0] == '-' && s[1] == '\0')) {
		/* "-" means empty, so a rule really named "-" is escaped. */
		(void)snprintf(out, outlen, "%s", *s == '\0' ? "-" : "%2D");
		return;
	}
	for (; *s != '\0' && o + 4 <= outlen; s++) {
		if (*s <= ' ' || *s >= 0x7f || *s == '%' || *s == '#') {
			out[o++] = '%';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 15];
		} else
			out[o++] = (char)*s;
	}
	out[o] = '\0';
}

static int
rule_decode(char *out, const char *s)
{
	size_t o = 0;

	if (strcmp(s, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	while (*s != '\0') {
		unsigned char c = (unsigned char)*s;

		if (c == '%') {
			char hx[3];
			char *end;
			long v;

			if (!isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]))
				return -1;
			hx[0] = s[1];
			hx[1] = s[2];
			hx[2] = '\0';
			v = strtol(hx, &end, 16);
			if (*end != '\0' || v == 0)
				return -1;
			c = (unsigned char)v;
			s += 3;
		} else
			s++;
		if (o >= BAN_RULE_MAX - 1)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* "SECONDS.UUUUUU", both parts decimal, six fraction digits. */
static int
time_parse(const char *s, wb_usec *out)
{
	const char *dot = strchr(s, '.');
	long long sec, frac;
	char *end;
	int i;

	if (dot == NULL || dot == s || strlen(dot + 1) != 6)
		return -1;
	for (i = 0; s + i < dot; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	for (i = 1; i <= 6; i++)
		if (!isdigit((unsigned char)dot[i]))
			return -1;
	errno = 0;
	sec = strtoll(s, &end, 10);
	if (errno != 0 || end != dot || sec < 0 ||
	    sec > INT64_MAX / WB_USEC_PER_SEC)
		return -1;
	frac = strtoll(dot + 1, &end, 10);
	if (*end != '\0' || (sec == INT64_MAX / WB_USEC_PER_SEC &&
	    frac > INT64_MAX % WB_USEC_PER_SEC))
		return -1;
	*out = (wb_usec)sec * WB_USEC_PER_SEC + (wb_usec)frac;
	return 0;
}

static int
uint_parse(const char *s, long min, long max, long *out)
{
	char *end;
	long v;
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	if (i == 0 || i > 10)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "ADDR" (one address) or "ADDR/BITS" (host bits are cleared). */
static int
prefix_parse(const char *s, struct ban *b)
{
	struct wb_addr net;
	int bits;

	if (ban_cidr_parse(s, &net, &bits) != 0)
		return -1;
	b->addr = net;
	b->bits = (uint8_t)bits;
	return 0;
}

static void
time_put(char *buf, wb_usec t)
{
	if (t < 0)
		t = 0;
	(void)snprintf(buf, 32, "%lld.%06lld", (long long)(t / WB_USEC_PER_SEC),
	    (long long)(t % WB_USEC_PER_SEC));
}

size_t
ban_rec_format(char *buf, size_t len, enum ban_rec_kind k,
    const struct ban *b, wb_usec when, bool crc)
{
	char pfx[WB_PREFIX_STRLEN], rule[BAN_RULE_MAX * 3 + 1];
	char t1[32], t2[32];
	wb_usec start = b->start > 0 ? b->start : 0;
	wb_usec expiry = b->expiry > start ? b->expiry : start;
	int n, bits = b->bits != 0 ? b->bits : wb_addr_bits(&b->addr);

	wb_prefix_str(&b->addr, bits, pfx);
	if (k == BAN_REC_UNBAN_LINE) {
		time_put(t1, when);
		n = snprintf(buf, len, "unban %s %s", pfx, t1);
	} else {
		rule_encode(rule, sizeof(rule), b->rule);
		time_put(t1, start);
		time_put(t2, expiry);
		n = snprintf(buf, len, "%s %s %s %s %s %u %d",
		    k == BAN_REC_BAN_LINE ? "ban" : "past", pfx, rule, t1, t2,
		    b->count, b->score > 0 ? b->score : 0);
	}
	if (n < 0 || (size_t)n >= len)
		return 0;
	if (crc)
		return ban_rec_seal(buf, (size_t)n, len);
	if ((size_t)n + 1 >= len)
		return 0;
	buf[n++] = '\n';
	buf[n] = '\0';
	return (size_t)n;
}

size_t
ban_rec_seal(char *buf, size_t n, size_t len)
{
	int m = snprintf(buf + n, len - n, " #%08x\n",
	    (unsigned)ban_crc32(buf, n));

	if (m < 0 || (size_t)m >= len - n)
		return 0;
	return n + (size_t)m;
}

int
ban_rec_unseal(char *line, const char **why)
{
	unsigned long c;
	char *hash, *end;

	*why = "no checksum (torn or damaged record)";
	if ((hash = strrchr(line, '#')) == NULL || hash == line ||
	    hash[-1] != ' ' || strlen(hash + 1) != 8)
		return -1;
	errno = 0;
	c = strtoul(hash + 1, &end, 16);
	*why = "checksum mismatch (torn or damaged record)";
	if (errno != 0 || *end != '\0' ||
	    (uint32_t)c != ban_crc32(line, (size_t)(hash - 1 - line)))
		return -1;
	hash[-1] = '\0';
	return 0;
}

int
ban_rec_parse(char *line, bool want_crc, enum ban_rec_kind *k,
    struct ban *b, wb_usec *when, const char **why)
{
	char *f[9], *save = NULL, *tok;
	long count, score;
	size_t len = strlen(line);
	int n = 0, want;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (want_crc && len > 0 && line[0] != '#' &&
	    ban_rec_unseal(line, why) != 0)
		return -1;
	for (tok = strtok_r(line, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (n == 9)
			break;
		f[n++] = tok;
	}
	if (n == 0 || f[0][0] == '#')
		return 0;
	memset(b, 0, sizeof(*b));
	*when = 0;
	*why = "unknown record kind";
	if (strcmp(f[0], "ban") == 0)
		*k = BAN_REC_BAN_LINE;
	else if (strcmp(f[0], "past") == 0)
		*k = BAN_REC_PAST_LINE;
	else if (strcmp(f[0], "unban") == 0)
		*k = BAN_REC_UNBAN_LINE;
	else
		return -1;
	want = *k == BAN_REC_UNBAN_LINE ? 3 : 7;
	*why = want == 3 ? "expected 3 fields" : "expected 7 fields";
	if (n != want)
		return -1;
	*why = "bad address or prefix";
	if (prefix_parse(f[1], b) != 0)
		return -1;
	if (*k == BAN_REC_UNBAN_LINE) {
		*why = "bad time";
		return time_parse(f[2], when) == 0 ? 1 : -1;
	}
	*why = "bad rule name";
	if (rule_decode(b->rule, f[2]) != 0)
		return -1;
	*why = "bad time";
	if (time_parse(f[3], &b->start) != 0 ||
	    time_parse(f[4], &b->expiry) != 0)
		return -1;
	*why = "expiry before start";
	if (b->expiry < b->start)
		return -1;
	*why = "bad count";
	if (uint_parse(f[5], 1, INT_MAX, &count) != 0)
		return -1;
	*why = "bad score";
	if (uint_parse(f[6], 0, INT_MAX, &score) != 0)
		return -1;
	b->count = (unsigned)count;
	b->score = (int)score;
	return 1;
}
