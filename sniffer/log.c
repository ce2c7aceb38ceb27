/*
 * log.c - where the sniffer's messages go.
 *
 * One process-wide sink (libnids' warning hook is process-wide too),
 * stderr by default. Warnings that packets can provoke go through
 * sniff_warn(), which lets one line per kind through per minute of
 * packet time and counts the rest: hostile traffic must not be able to
 * flood the log.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#define WARN_EVERY	(60 * WB_USEC_PER_SEC)

static void	 to_stderr(const char *);

static void	(*sink)(const char *) = to_stderr;

static void
to_stderr(const char *msg)
{
	fprintf(stderr, "wireban: %s\n", msg);
}

void
sniff_set_log(void (*fn)(const char *msg))
{
	sink = fn != NULL ? fn : to_stderr;
}

void
sniff_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	/* A cut message is still worth printing. */
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sink(buf);
}

void
sniff_warn(struct sniff *s, unsigned kind, const char *fmt, ...)
{
	struct sniff_ratelimit *r = &s->warn[kind % SNIFF_NWARN];
	char buf[512];
	va_list ap;

	if (r->seen && s->now - r->last < WARN_EVERY) {
		r->suppressed++;
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->suppressed > 0)
		sniff_log("%s (and %llu more like it)", buf,
		    (unsigned long long)r->suppressed);
	else
		sniff_log("%s", buf);
	r->seen = true;
	r->last = s->now;
	r->suppressed = 0;
}
