/*
 * fuzz_control.c - libFuzzer target over the control socket: the
 * daemon's server (src/control.c) and its request handler
 * (src/serve.c), behind a real Unix socket.
 *
 * The input is what a client sends (at most 1 KiB, then the client
 * shuts its side down). The server runs as in watch, over a jail with
 * the dry-run backend and a sniffer on an empty capture, and is turned
 * until it has closed the client. Invariants: no crash, no leak, no
 * undefined behaviour; every answer ends in a line "OK" or starts an
 * "ERR" line (or is Prometheus text); the server never keeps a client
 * past its answer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct watch w;
static struct settings s;
static char sock[80], cap[80];

static void
quiet(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

static void
setup(void)
{
	static const unsigned char hdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 4, 0, 1, 0, 0, 0,
	};
	char *ov[] = { "policy.max_tracked=1000", NULL };
	struct sniff_handlers h;
	char err[512], dir[] = "/tmp/fuzz_control.XXXXXX";
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(cap, sizeof(cap), "%s/empty.pcap", dir);
	if ((f = fopen(cap, "wb")) == NULL || fwrite(hdr, 1, 24, f) != 24)
		abort();
	fclose(f);
	ban_log_set(quiet, NULL);
	if (settings_load(&s, "/nonexistent/wireban.conf", false, ov, err,
	    sizeof(err)) < 0)
		abort();
	w.s = &s;
	w.started = watch_now();
	w.hostfd = -1;
	if (jail_init(&w.j, &s, "dry-run", NULL, watch_now(), err,
	    sizeof(err)) < 0 || jail_start(&w.j, err, sizeof(err)) < 0)
		abort();
	w.e.rules = s.rules;
	engine_handlers(&w.e, &h);
	if ((w.sn = sniff_open_file(&s.capture, cap, &h, err,
	    sizeof(err))) == NULL)
		abort();
	if ((w.ctl = control_listen(sock, watch_serve, &w, err,
	    sizeof(err))) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pollfd pfd[1 + CONTROL_CLIENTS_MAX];
	struct sockaddr_un sun;
	char buf[65536], *last;
	size_t got = 0, n;
	int fd, i, timeout;
	ssize_t r;

	if (w.ctl == NULL)
		setup();
	if (size > 1024)
		size = 1024;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		abort();
	if (size > 0 && send(fd, data, size, MSG_NOSIGNAL) != (ssize_t)size)
		abort();
	(void)shutdown(fd, SHUT_WR);
	/* Turn the server until it has answered and closed the client. */
	for (i = 0; i < 10000; i++) {
		timeout = 0;
		n = control_pollfds(w.ctl, pfd, &timeout);
		(void)poll(pfd, n, 0);
		control_serve(w.ctl, pfd, n);
		while ((r = recv(fd, buf + got, sizeof(buf) - 1 - got,
		    MSG_DONTWAIT)) > 0 && got + 1 < sizeof(buf))
			got += (size_t)r;
		if (r == 0 && control_clients(w.ctl) == 0)
			break;
	}
	close(fd);
	if (i == 10000)
		abort();	/* the server kept a client that had its answer */
	buf[got] = '\0';
	/* A request without its newline gets no answer at EOF: fine. */
	if (got > 0 && strncmp(buf, "# HELP", 6) != 0) {
		last = got > 1 ? buf + got - 2 : buf;
		while (last > buf && last[-1] != '\n')
			last--;
		if (strncmp(last, "OK", 2) != 0 && strstr(buf, "ERR ") == NULL)
			abort();
	}
	/* What manual bans did is lifted by the dry-run policy's expiry. */
	jail_expire(&w.j, watch_now() + 3600LL * 24 * 366 * WB_USEC_PER_SEC);
	jail_poll(&w.j);
	return 0;
}
