/*
 * sdnotify.h - tells systemd how the daemon is doing (sd_notify(3)'s
 * datagram protocol), without libsystemd.
 */
#ifndef WIREBAN_SDNOTIFY_H
#define WIREBAN_SDNOTIFY_H

/* The longest message sent; a longer one is refused, not cut. */
#define SDNOTIFY_MAX	1024

/*
 * Sends one datagram to the socket named by $NOTIFY_SOCKET (a path, or
 * "@name" for an abstract socket): the variables in vars (one or more
 * "NAME=VALUE" lines, e.g. "READY=1", or NULL for none), then, when fmt
 * is not NULL, a line "STATUS=" with fmt formatted. Newlines in the
 * formatted status become spaces, so that a status (which may hold an
 * interface name from the command line) cannot set other variables.
 * When vars is exactly "RELOADING=1", MONOTONIC_USEC= is added, which
 * systemd 253 and later want with it.
 *
 * Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset or empty (not run
 * by systemd: nothing to do), -1 on failure with errno set and one line
 * on stderr: a name that is neither "/..." nor "@..." (EAFNOSUPPORT),
 * one too long for sun_path (ENAMETOOLONG), a message longer than
 * SDNOTIFY_MAX (EMSGSIZE), or what socket(2) and sendto(2) say. Never
 * blocks: the datagram is sent with MSG_DONTWAIT.
 */
int	sdnotify(const char *vars, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
