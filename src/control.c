/*
 * control.c - both ends of the control socket.
 *
 * Invariant: the daemon never blocks on a client for long: a request
 * line is read within CLIENT_MS and CONTROL_LINE_MAX bytes, or dropped,
 * so a stuck or hostile local client cannot stop the capture loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

#define CLIENT_MS 500

static int
fill_addr(struct sockaddr_un *sun, const char *path, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path) >=
	    (int)sizeof(sun->sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	return 0;
}

int
control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (fill_addr(&sun, path, err, errlen) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* A stale socket of a dead watch; a live one would answer. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		snprintf(err, errlen, "%s: another wireban watch is running",
		    path);
		close(fd);
		return -1;
	}
	(void)unlink(path);
	old = umask(0077);	/* born 0600: no window where others can */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* MSG_NOSIGNAL: a peer that closed first must not kill us by SIGPIPE. */
static void
say(int fd, const char *s)
{
	(void)!send(fd, s, strlen(s), MSG_NOSIGNAL);
}

int
control_accept(int lfd, char *buf, size_t len)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct pollfd pfd;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    cred.uid != 0) {
		say(fd, "ERR permission denied: only root may control "
		    "wireban\n");
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got + 1 < len) {
		if (poll(&pfd, 1, CLIENT_MS) <= 0)
			break;
		if ((n = read(fd, buf + got, len - 1 - got)) <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	buf[got] = '\0';
	if (strchr(buf, '\n') == NULL) {
		say(fd, "ERR request too long or too slow\n");
		close(fd);
		return -1;
	}
	*strchr(buf, '\n') = '\0';
	return fd;
}

int
control_request(const char *path, const char *line)
{
	struct sockaddr_un sun;
	char buf[4096], err[256], lastline[64] = "";
	size_t tail = 0;
	ssize_t n, i;
	int fd;

	if (fill_addr(&sun, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "wireban: %s\n", err);
		return 1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "wireban: %s: %s (is 'wireban watch' "
		    "running? only root may use it)\n", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	say(fd, line);
	say(fd, "\n");
	/* Copy the answer through; remember how its last line starts. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				tail = 0;
				continue;
			}
			if (tail == 0)
				lastline[0] = '\0';
			if (tail + 1 < sizeof(lastline)) {
				lastline[tail] = buf[i];
				lastline[tail + 1] = '\0';
			}
			tail++;
		}
	}
	close(fd);
	fflush(stdout);
	return strncmp(lastline, "OK", 2) == 0 ? 0 : 1;
}
