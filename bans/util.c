/*
 * util.c - the small pieces every file of bans/ uses: the log hook,
 * CIDR parsing, the addresses never banned, rule name copies.
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

/*
 * The ranges no ban may touch: "this network" 0.0.0.0/8 (0.0.0.0 is the
 * unspecified address), loopback 127.0.0.0/8, multicast 224.0.0.0/4,
 * limited broadcast 255.255.255.255; ::, ::1 and ff00::/8. Banning any
 * of them blocks this host's own traffic or nobody in particular.
 */
static const struct {
	const char	*name;
	struct wb_addr	 net;
	int		 bits;
} specials[] = {
	{ "0.0.0.0/8", { AF_INET, { 0 } }, 8 },
	{ "127.0.0.0/8", { AF_INET, { 127 } }, 8 },
	{ "224.0.0.0/4", { AF_INET, { 224 } }, 4 },
	{ "255.255.255.255", { AF_INET, { 255, 255, 255, 255 } }, 32 },
	{ "::", { AF_INET6, { 0 } }, 128 },
	{ "::1", { AF_INET6, { [15] = 1 } }, 128 },
	{ "ff00::/8", { AF_INET6, { 0xff } }, 8 },
};

/* True when net/bits and o/obits share an address. */
static bool
overlap(const struct wb_addr *net, int bits, const struct wb_addr *o,
    int obits)
{
	if (net->family != o->family)
		return false;
	return bits <= obits ? wb_addr_in(o, net, bits) :
	    wb_addr_in(net, o, obits);
}

const char *
ban_addr_special(const struct wb_addr *net, int bits)
{
	size_t i;

	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (overlap(net, bits, &specials[i].net, specials[i].bits))
			return specials[i].name;
	return NULL;
}

bool
ban_prefix_overlap(const struct wb_addr *net, int bits, const struct wb_addr *o,
    int obits)
{
	return overlap(net, bits, o, obits);
}
