/*
 * log.c - see log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int use_syslog;

void
log_setup(const char *mode)
{
	use_syslog = strcmp(mode, "syslog") == 0 ||
	    (strcmp(mode, "auto") == 0 && !isatty(STDERR_FILENO));
	if (use_syslog)
		openlog("wireban", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_to_syslog(void)
{
	return use_syslog;
}

void
logmsg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (use_syslog)
		syslog(prio, "%s", line);
	else
		fprintf(stderr, "wireban: %s\n", line);
}
