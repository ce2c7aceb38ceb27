/*
 * sdnotify.c - the service manager's readiness protocol, spoken
 * directly: one AF_UNIX datagram of "NAME=VALUE" lines to the socket
 * that $NOTIFY_SOCKET names (systemd's sd_notify(3) and the protocol
 * described with it). Why not libsystemd: the protocol is one sendto(),
 * and a daemon that parses attacker bytes is better off without a
 * library it does not need at every start.
 *
 * Invariant: a message goes out whole or not at all (datagrams do not
 * split, and one that does not fit the buffer is refused rather than
 * cut), its status line cannot carry a newline, and nothing here waits.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"

static int	fill_addr(const char *, struct sockaddr_un *, socklen_t *);
static int	compose(char *, size_t, const char *, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

/* "/path" or "@abstract" into sun; sets the address length. */
static int
fill_addr(const char *name, struct sockaddr_un *sun, socklen_t *lenp)
{
	size_t n = strlen(name);

	if (name[0] != '/' && name[0] != '@') {
		errno = EAFNOSUPPORT;
		return -1;
	}
	/* A path needs its NUL; an abstract name's '@' becomes one. */
	if (n >= sizeof(sun->sun_path) || (name[0] == '@' && n < 2)) {
		errno = n < 2 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, n);
	if (name[0] == '@') {
		/* The kernel takes the name as exactly len bytes. */
		sun->sun_path[0] = '\0';
		*lenp = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		*lenp = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		    1);
	return 0;
}

/* The message into buf; returns its length, or -1 (EMSGSIZE). */
static int
compose(char *buf, size_t size, const char *vars, const char *fmt,
    va_list ap)
{
	struct timespec mono;
	size_t n = 0, start;
	int r;

	if (vars != NULL) {
		r = snprintf(buf, size, "%s", vars);
		if (r < 0 || (size_t)r >= size)
			goto big;
		n = (size_t)r;
		if (strcmp(vars, "RELOADING=1") == 0) {
			(void)clock_gettime(CLOCK_MONOTONIC, &mono);
			r = snprintf(buf + n, size - n, "\nMONOTONIC_USEC=%llu",
			    (unsigned long long)mono.tv_sec * 1000000ULL +
			    (unsigned long long)mono.tv_nsec / 1000);
			if (r < 0 || (size_t)r >= size - n)
				goto big;
			n += (size_t)r;
		}
	}
	if (fmt == NULL)
		return (int)n;
	r = snprintf(buf + n, size - n, "%sSTATUS=", n > 0 ? "\n" : "");
	if (r < 0 || (size_t)r >= size - n)
		goto big;
	n += (size_t)r;
	start = n;
	r = vsnprintf(buf + n, size - n, fmt, ap);
	if (r < 0 || (size_t)r >= size - n)
		goto big;
	n += (size_t)r;
	for (; start < n; start++)
		if (buf[start] == '\n')
			buf[start] = ' ';
	return (int)n;
big:
	errno = EMSGSIZE;
	return -1;
}

int
sdnotify(const char *vars, const char *fmt, ...)
{
	/* SDNOTIFY_MAX bytes and the NUL of snprintf. */
	char msg[SDNOTIFY_MAX + 1];
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t alen;
	va_list ap;
	ssize_t sent;
	int fd, len, saved;

	if (name == NULL || name[0] == '\0')
		return 0;
	if (fill_addr(name, &sun, &alen) < 0)
		goto fail;
	va_start(ap, fmt);
	len = compose(msg, sizeof(msg), vars, fmt, ap);
	va_end(ap);
	if (len < 0)
		goto fail;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	sent = sendto(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sun, alen);
	saved = errno;
	close(fd);
	errno = saved;
	if (sent < 0)
		goto fail;
	return 1;
fail:
	saved = errno;
	fprintf(stderr, "wireban: sd_notify to %.120s: %s\n", name,
	    strerror(saved));
	errno = saved;
	return -1;
}
