/*
 * util.c - the small pieces every file of bans/ uses: the log hook,
 * durations, CIDR parsing, rule name copies.
 *
 * Invariant: the log hook is the module's only global besides the
 * backends' own state; every log line goes through ban_log().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"

static ban_log_fn	*log_fn;
static void		*log_arg;

void
ban_log_set(ban_log_fn *fn, void *arg)
{
	log_fn = fn;
	log_arg = fn != NULL ? arg : NULL;
}

void
ban_log(enum ban_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	/* A cut line is still worth logging: no truncation check here. */
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_fn != NULL)
		log_fn(log_arg, level, line);
	else
		fprintf(stderr, "wireban: %s\n", line);
}

void
ban_rule_copy(char dst[BAN_RULE_MAX], const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = strnlen(src, BAN_RULE_MAX - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
ban_duration_parse(const char *s, wb_usec *out)
{
	long long v, mult;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > INT64_MAX / WB_USEC_PER_SEC / mult)
		return -1;
	*out = (wb_usec)v * mult * WB_USEC_PER_SEC;
	return 0;
}

int
ban_cidr_parse(const char *s, struct wb_addr *net, int *bits)
{
	char buf[WB_ADDR_STRLEN + 8];
	const char *slash;
	struct wb_addr a;
	size_t alen;
	long b;
	int i, max;

	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (wb_addr_parse(&a, buf) != 0)
		return -1;
	max = a.family == AF_INET ? 32 : 128;
	b = max;
	if (slash != NULL) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		errno = 0;
		b = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || b < 0 || b > max)
			return -1;
	}
	/* Clear host bits so the stored net prints as what it matches. */
	for (i = 0; i < 16; i++) {
		int keep = (int)b - i * 8;

		if (keep <= 0)
			a.a[i] = 0;
		else if (keep < 8)
			a.a[i] &= (uint8_t)(0xff << (8 - keep));
	}
	*net = a;
	*bits = (int)b;
	return 0;
}
