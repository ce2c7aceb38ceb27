/*
 * cs_fake_lapi.c - see cs_fake_lapi.h. One connection at a time (the
 * backend has one), requests read with their Content-Length, the
 * script's answer written back. Only for tests: plain blocking I/O,
 * short timeouts so a broken test ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cs_fake_lapi.h"

static struct {
	int		 lfd;
	pthread_t	 thr;
	fake_script	*fn;
	_Atomic int	 stop;
	pthread_mutex_t	 mu;
	struct fake_req	 req[FAKE_REQ_MAX];
	int		 n, answered;
	char		*buf;
	size_t		 cap;
} fk = { .lfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

void
fake_default(const struct fake_req *r, struct fake_answer *a)
{
	static char ids[256 * 1024];
	size_t o = 0;
	int i;

	a->status = 200;
	if (strcmp(r->path, "/v1/watchers/login") == 0)
		a->body = "{\"code\":200,\"expire\":\"2099-01-01T00:00:00Z\","
		    "\"token\":\"aaa.bbb.ccc\"}";
	else if (strcmp(r->method, "POST") == 0) {
		a->status = 201;
		ids[o++] = '[';
		for (i = 0; i < r->alerts && o + 16 < sizeof(ids); i++)
			o += (size_t)snprintf(ids + o, sizeof(ids) - o,
			    "%s\"%d\"", i ? "," : "", i + 1);
		ids[o++] = ']';
		ids[o] = '\0';
		a->body = ids;
	} else
		a->body = "{\"nbDeleted\":\"1\"}";
}

static int
count_alerts(const char *s, size_t n)
{
	const char *k = "\"decisions\"";
	size_t kl = strlen(k), i;
	int c = 0;

	for (i = 0; i + kl <= n; i++)
		if (memcmp(s + i, k, kl) == 0)
			c++;
	return c;
}

/* Reads until the headers end and the body is in; -1 on close. */
static int
read_request(int fd, struct fake_req *r)
{
	size_t len = 0, hend = 0, clen = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char *h, *line, *save = NULL;
	ssize_t k;

	for (;;) {
		char *e;

		if (hend == 0 && (e = memmem(fk.buf, len, "\r\n\r\n", 4))) {
			hend = (size_t)(e - fk.buf) + 4;
			fk.buf[hend - 2] = '\0';
			if ((h = strcasestr(fk.buf, "\r\nContent-Length:")))
				clen = strtoul(h + 17, NULL, 10);
		}
		if (hend > 0 && len >= hend + clen)
			break;
		if (len + 65536 > fk.cap) {
			char *nb = realloc(fk.buf, fk.cap * 2);

			if (nb == NULL)
				return -1;
			fk.buf = nb;
			fk.cap *= 2;
		}
		if (poll(&p, 1, 200) <= 0) {
			if (fk.stop)
				return -1;
			continue;
		}
		if ((k = read(fd, fk.buf + len, fk.cap - len - 1)) <= 0)
			return -1;
		len += (size_t)k;
	}
	memset(r, 0, sizeof(*r));
	r->len = clen;
	memcpy(r->body, fk.buf + hend, clen < FAKE_BODY_KEEP - 1 ? clen :
	    FAKE_BODY_KEEP - 1);
	r->alerts = count_alerts(fk.buf + hend, clen);
	line = strtok_r(fk.buf, "\r\n", &save);
	if (line == NULL || sscanf(line, "%7s %511s", r->method, r->path) != 2)
		return -1;
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		if (strncasecmp(line, "Authorization: ", 15) == 0)
			snprintf(r->auth, sizeof(r->auth), "%s", line + 15);
		else if (strncasecmp(line, "User-Agent: ", 12) == 0)
			snprintf(r->agent, sizeof(r->agent), "%s", line + 12);
	}
	return 0;
}

static void
answer(int fd, const struct fake_answer *a)
{
	char head[256];
	size_t bl = a->body_len ? a->body_len : strlen(a->body), o = 0;
	int n;
	ssize_t w;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n", a->status, bl);
	if (write(fd, head, (size_t)n) != n)
		return;
	while (o < bl && (w = write(fd, a->body + o, bl - o)) > 0)
		o += (size_t)w;
}

static void *
serve(void *arg)
{
	struct pollfd p = { .fd = fk.lfd, .events = POLLIN };
	struct fake_req *r = malloc(sizeof(*r));
	struct fake_answer a;
	int fd, n;

	(void)arg;
	while (!fk.stop) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((fd = accept(fk.lfd, NULL, NULL)) < 0)
			continue;
		while (!fk.stop && read_request(fd, r) == 0) {
			pthread_mutex_lock(&fk.mu);
			n = fk.n;
			if (fk.n < FAKE_REQ_MAX)
				fk.req[fk.n++] = *r;
			pthread_mutex_unlock(&fk.mu);
			memset(&a, 0, sizeof(a));
			fake_default(r, &a);
			if (fk.fn != NULL) {
				a.body = NULL;
				fk.fn(n, r, &a);
				if (a.body == NULL) {
					int st = a.status;

					fake_default(r, &a);
					a.status = st;
				}
			}
			if (a.delay_ms > 0) {
				struct timespec ts = { a.delay_ms / 1000,
				    (long)(a.delay_ms % 1000) * 1000000 };

				nanosleep(&ts, NULL);
			}
			if (!a.close)
				answer(fd, &a);
			pthread_mutex_lock(&fk.mu);
			fk.answered++;
			pthread_mutex_unlock(&fk.mu);
			if (a.close)
				break;
		}
		close(fd);
	}
	free(r);
	return NULL;
}

int
fake_start(fake_script *fn, char *url, size_t len)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int one = 1;

	fk.fn = fn;
	fk.stop = 0;
	fk.cap = 262144;
	if ((fk.buf = malloc(fk.cap)) == NULL)
		return -1;
	fk.n = fk.answered = 0;
	if ((fk.lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	(void)setsockopt(fk.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fk.lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fk.lfd, 4) != 0 ||
	    getsockname(fk.lfd, (struct sockaddr *)&sin, &sl) != 0)
		return -1;
	snprintf(url, len, "http://127.0.0.1:%u", ntohs(sin.sin_port));
	return pthread_create(&fk.thr, NULL, serve, NULL) == 0 ? 0 : -1;
}

void
fake_stop(void)
{
	if (fk.lfd < 0)
		return;
	fk.stop = 1;
	pthread_join(fk.thr, NULL);
	close(fk.lfd);
	fk.lfd = -1;
	free(fk.buf);
	fk.buf = NULL;
	fk.cap = 0;
}

int
fake_count(void)
{
	int n;

	pthread_mutex_lock(&fk.mu);
	n = fk.n;
	pthread_mutex_unlock(&fk.mu);
	return n;
}

int
fake_get(int i, struct fake_req *out)
{
	int rc = -1;

	pthread_mutex_lock(&fk.mu);
	if (i >= 0 && i < fk.n) {
		*out = fk.req[i];
		rc = 0;
	}
	pthread_mutex_unlock(&fk.mu);
	return rc;
}

int
fake_wait(int n, int ms)
{
	struct timespec nap = { 0, 5000000 };
	int i, done;

	for (i = 0; i <= ms / 5; i++) {
		pthread_mutex_lock(&fk.mu);
		done = fk.answered;
		pthread_mutex_unlock(&fk.mu);
		if (done >= n)
			return 0;
		nanosleep(&nap, NULL);
	}
	return -1;
}
