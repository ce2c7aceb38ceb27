/*
 * log.h - where the daemon's log lines go: stderr ("wireban: LINE") or
 * syslog (facility daemon, ident wireban, with the pid), by paths.log.
 * Thread-safe (the enforcer thread logs too).
 */
#ifndef WIREBAN_LOG_H
#define WIREBAN_LOG_H

#include <syslog.h>

/* "auto" (syslog when stderr is not a terminal), "syslog" or "stderr".
 * Until it is called, lines go to stderr. */
void	 log_setup(const char *mode);
/* One line; prio is syslog's (LOG_ERR, LOG_WARNING, LOG_NOTICE, ...). */
void	 logmsg(int prio, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* True when lines go to syslog. */
int	 log_to_syslog(void);

#endif
