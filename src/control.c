/*
 * control.c - both ends of the control socket.
 *
 * The server side runs inside the daemon's capture loop, so no client,
 * however slow or hostile (a local root process, but a buggy script is
 * enough), may hold that loop: see control.h for the rules. Each
 * client is a small state machine: reading its request (until its
 * deadline), then writing its answer (a queued buffer, refilled a page
 * at a time by a pager), then closed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

/* Queued answer bytes past which a pager is not asked for more. */
#define OUT_LOW		(16 * 1024)

struct control_client {
	int		 fd;
	char		 in[CONTROL_LINE_MAX];
	size_t		 inlen;
	bool		 answered;	/* the request was read and handled */
	int64_t		 deadline;	/* ms: the request must be in by then */
	int64_t		 progress;	/* ms: last byte read or written */
	char		*out;
	size_t		 outlen, outoff, outcap;
	bool		 failed;	/* out of memory: drop it */
	control_pager	*pager;
	void		*pstate;
	void		(*pfree)(void *);
};

struct control {
	int		 lfd;
	control_handler	*h;
	void		*arg;
	struct control_client *c[CONTROL_CLIENTS_MAX];
	size_t		 n;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

struct control *
control_listen(const char *path, control_handler *h, void *arg, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct control *ctl;
	mode_t old;
	int fd;

	if (fill_addr(&sun, path, err, errlen) < 0)
		return NULL;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	/* A stale socket of a dead watch; a live one would answer. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		snprintf(err, errlen, "%s: another wireban watch is running",
		    path);
		close(fd);
		return NULL;
	}
	(void)unlink(path);
	old = umask(0077);	/* born 0600: no window where others can */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	ctl->lfd = fd;
	ctl->h = h;
	ctl->arg = arg;
	return ctl;
}

static void
drop(struct control *ctl, size_t i)
{
	struct control_client *c = ctl->c[i];

	if (c->pfree != NULL)
		c->pfree(c->pstate);
	close(c->fd);
	free(c->out);
	free(c);
	ctl->c[i] = ctl->c[--ctl->n];
}

void
control_close(struct control *ctl, const char *path)
{
	if (ctl == NULL)
		return;
	while (ctl->n > 0)
		drop(ctl, 0);
	close(ctl->lfd);
	if (path != NULL)
		(void)unlink(path);
	free(ctl);
}

size_t
control_clients(const struct control *ctl)
{
	return ctl->n;
}

void
control_printf(struct control_client *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = c->outcap - c->outlen;
		char *nb;

		va_start(ap, fmt);
		n = vsnprintf(c->out + c->outlen, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			c->failed = true;
			return;
		}
		if ((size_t)n < room) {
			c->outlen += (size_t)n;
			return;
		}
		if ((nb = realloc(c->out, c->outcap + (size_t)n + 4096)) ==
		    NULL) {
			c->failed = true;
			return;
		}
		c->out = nb;
		c->outcap += (size_t)n + 4096;
	}
}

void
control_page(struct control_client *c, control_pager *pager, void *state,
    void (*free_state)(void *))
{
	c->pager = pager;
	c->pstate = state;
	c->pfree = free_state;
}

/* MSG_NOSIGNAL: a peer that closed first must not kill us by SIGPIPE. */
static void
say_now(int fd, const char *s)
{
	(void)!send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Past the limit, the client idle longest makes room. */
static void
make_room(struct control *ctl)
{
	size_t i, oldest = 0;

	for (i = 1; i < ctl->n; i++)
		if (ctl->c[i]->progress < ctl->c[oldest]->progress)
			oldest = i;
	say_now(ctl->c[oldest]->fd, "ERR too many clients: dropped\n");
	drop(ctl, oldest);
}

static void
accept_one(struct control *ctl)
{
	struct control_client *c;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd;

	if ((fd = accept4(ctl->lfd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    cred.uid != 0) {
		say_now(fd, "ERR permission denied: only root may control "
		    "wireban\n");
		close(fd);
		return;
	}
	if (ctl->n == CONTROL_CLIENTS_MAX)
		make_room(ctl);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		say_now(fd, "ERR out of memory\n");
		close(fd);
		return;
	}
	c->fd = fd;
	c->progress = now_ms();
	c->deadline = c->progress + CONTROL_REQUEST_MS;
	ctl->c[ctl->n++] = c;
}

/* Reads what is there; handles the request once its line is complete. */
static bool
read_request(struct control *ctl, struct control_client *c)
{
	char *nl;
	ssize_t n;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen,
	    MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return false;
	if (n < 0)
		return true;
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	c->progress = now_ms();
	if ((nl = memchr(c->in, '\n', c->inlen)) == NULL) {
		if (c->inlen + 1 < sizeof(c->in))
			return true;
		say_now(c->fd, "ERR request too long\n");
		return false;
	}
	*nl = '\0';
	if (nl > c->in && nl[-1] == '\r')
		nl[-1] = '\0';
	c->answered = true;
	ctl->h(ctl->arg, c, c->in);
	return !c->failed;
}

/* Sends what is queued; asks the pager for more. false: drop it. */
static bool
write_answer(struct control_client *c)
{
	ssize_t n;

	for (;;) {
		if (c->outlen - c->outoff < OUT_LOW && c->pager != NULL) {
			if (c->outoff > 0) {
				memmove(c->out, c->out + c->outoff,
				    c->outlen - c->outoff);
				c->outlen -= c->outoff;
				c->outoff = 0;
			}
			if (!c->pager(c->pstate, c)) {
				if (c->pfree != NULL)
					c->pfree(c->pstate);
				c->pager = NULL;
				c->pfree = NULL;
			}
			if (c->failed)
				return false;
		}
		if (c->outoff == c->outlen)
			return c->pager != NULL;	/* done when no pager */
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->outoff += (size_t)n;
		c->progress = now_ms();
	}
}

size_t
control_pollfds(struct control *ctl, struct pollfd *pfd, int *timeout_ms)
{
	int64_t now = now_ms(), t;
	size_t i, n = 0;

	pfd[n].fd = ctl->lfd;
	pfd[n].events = POLLIN;
	pfd[n++].revents = 0;
	for (i = 0; i < ctl->n; i++) {
		struct control_client *c = ctl->c[i];

		pfd[n].fd = c->fd;
		pfd[n].events = c->answered ? POLLOUT : POLLIN;
		pfd[n++].revents = 0;
		t = (c->answered ? c->progress + CONTROL_STALL_MS :
		    c->deadline) - now;
		if (t < 0)
			t = 0;
		if (*timeout_ms < 0 || t < *timeout_ms)
			*timeout_ms = (int)t;
	}
	return n;
}

void
control_serve(struct control *ctl, const struct pollfd *pfd, size_t n)
{
	int64_t now;
	size_t i, j;
	bool keep;

	/* Clients first (the accept below may reorder the array). */
	for (i = 0; i < ctl->n; ) {
		struct control_client *c = ctl->c[i];
		short rev = 0;

		for (j = 1; j < n; j++)
			if (pfd[j].fd == c->fd) {
				rev = pfd[j].revents;
				break;
			}
		keep = true;
		if (!c->answered && (rev & (POLLIN | POLLHUP | POLLERR)))
			keep = read_request(ctl, c);
		if (keep && c->answered)
			keep = write_answer(c);
		now = now_ms();
		if (keep && !c->answered && now >= c->deadline) {
			say_now(c->fd, "ERR request not complete in time\n");
			keep = false;
		}
		if (keep && c->answered && now - c->progress >=
		    CONTROL_STALL_MS)
			keep = false;	/* it stopped reading its answer */
		if (keep)
			i++;
		else
			drop(ctl, i);
	}
	if (n > 0 && (pfd[0].revents & POLLIN))
		accept_one(ctl);
}

int
control_request(const char *path, const char *line, int flags)
{
	struct sockaddr_un sun;
	char buf[4096], err[256], lastline[64] = "";
	size_t tail = 0, total = 0;
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
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL);
	(void)!send(fd, "\n", 1, MSG_NOSIGNAL);
	/* Copy the answer through; remember how its last line starts. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		total += (size_t)n;
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
	if (flags & CONTROL_RAW)
		return total > 0 && strncmp(lastline, "ERR", 3) != 0 ? 0 : 1;
	return strncmp(lastline, "OK", 2) == 0 ? 0 : 1;
}
