/*
 * check_sdnotify.c - the sd_notify datagrams: what goes out for each
 * call, to a path or an abstract socket, and what is refused (a name of
 * the wrong kind or too long, a message too long) without sending part
 * of it. A receiving socket stands in for systemd.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../src/sdnotify.h"

enum where { W_UNSET, W_EMPTY, W_PATH, W_ABSTRACT, W_GIVEN };

struct sdcase {
	const char	*name;
	enum where	 where;
	const char	*env;		/* W_GIVEN: $NOTIFY_SOCKET itself */
	const char	*vars;
	const char	*status;	/* passed as "%s" */
	size_t		 status_len;	/* > 0: a status of this many 'x' */
	int		 rc;		/* sdnotify's return */
	int		 err;		/* errno when rc is -1 */
	const char	*want;		/* the datagram, NULL: none arrives */
};

/* A message of exactly SDNOTIFY_MAX bytes: "READY=1\nSTATUS=" + x... */
#define FITS	(SDNOTIFY_MAX - sizeof("READY=1\nSTATUS=") + 1)

static const struct sdcase cases[] = {
	{ "unset: nothing to do", W_UNSET, NULL, "READY=1", "up", 0, 0, 0,
	    NULL },
	{ "empty: nothing to do", W_EMPTY, NULL, "READY=1", "up", 0, 0, 0,
	    NULL },
	{ "ready with a status, to a path", W_PATH, NULL, "READY=1",
	    "watching lo", 0, 1, 0, "READY=1\nSTATUS=watching lo" },
	{ "ready, to an abstract socket", W_ABSTRACT, NULL, "READY=1",
	    "watching any", 0, 1, 0, "READY=1\nSTATUS=watching any" },
	{ "stopping", W_PATH, NULL, "STOPPING=1", "stopping", 0, 1, 0,
	    "STOPPING=1\nSTATUS=stopping" },
	{ "two variables", W_PATH, NULL, "READY=1\nMAINPID=1", "x", 0, 1, 0,
	    "READY=1\nMAINPID=1\nSTATUS=x" },
	{ "vars NULL: the status alone", W_PATH, NULL, NULL, "busy", 0, 1, 0,
	    "STATUS=busy" },
	{ "a newline in the status sets no variable", W_PATH, NULL,
	    "STATUS_ONLY=1", "eth0\nREADY=1", 0, 1, 0,
	    "STATUS_ONLY=1\nSTATUS=eth0 READY=1" },
	{ "a message of SDNOTIFY_MAX bytes goes", W_PATH, NULL, "READY=1",
	    NULL, FITS, 1, 0, "" },
	{ "one byte more is refused, nothing sent", W_PATH, NULL, "READY=1",
	    NULL, FITS + 1, -1, EMSGSIZE, NULL },
	{ "a relative name is refused", W_GIVEN, "notify.sock", "READY=1",
	    "x", 0, -1, EAFNOSUPPORT, NULL },
	{ "a vsock-style name is refused", W_GIVEN, "vsock:2:1", "READY=1",
	    "x", 0, -1, EAFNOSUPPORT, NULL },
	{ "a bare @ is refused", W_GIVEN, "@", "READY=1", "x", 0, -1, EINVAL,
	    NULL },
	{ "a path longer than sun_path is refused", W_GIVEN, "/tmp/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "READY=1", "x",
	    0, -1, ENAMETOOLONG, NULL },
	{ "no socket there", W_GIVEN, "/nonexistent/wireban-notify",
	    "READY=1", "x", 0, -1, ENOENT, NULL },
};

/* The receiving end: a datagram socket at a path or an abstract name. */
static int
listener(enum where w, char *env, size_t envlen)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (w == W_PATH) {
		snprintf(env, envlen, "/tmp/wireban-sdnotify-%ld.sock",
		    (long)getpid());
		(void)unlink(env);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", env);
		len = sizeof(sun);
	} else {
		snprintf(env, envlen, "@wireban-sdnotify-%ld", (long)getpid());
		memcpy(sun.sun_path + 1, env + 1, strlen(env) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(env));
	}
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static int
count_fds(void)
{
	char p[64];
	int fd, n = 0;

	for (fd = 0; fd < 256; fd++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n += access(p, F_OK) == 0;
	}
	return n;
}

START_TEST(test_datagram)
{
	const struct sdcase *c = &cases[_i];
	char env[128], got[SDNOTIFY_MAX * 2], *status = NULL, *want = NULL;
	ssize_t n;
	int fd = -1, rc, fds;

	unsetenv("NOTIFY_SOCKET");
	if (c->where == W_PATH || c->where == W_ABSTRACT) {
		fd = listener(c->where, env, sizeof(env));
		setenv("NOTIFY_SOCKET", env, 1);
	} else if (c->where == W_EMPTY)
		setenv("NOTIFY_SOCKET", "", 1);
	else if (c->where == W_GIVEN)
		setenv("NOTIFY_SOCKET", c->env, 1);
	if (c->status_len > 0) {
		status = malloc(c->status_len + 1);
		ck_assert_ptr_nonnull(status);
		memset(status, 'x', c->status_len);
		status[c->status_len] = '\0';
		want = malloc(c->status_len + 64);
		ck_assert_ptr_nonnull(want);
		snprintf(want, c->status_len + 64, "READY=1\nSTATUS=%s",
		    status);
	}
	fds = count_fds();
	errno = 0;
	rc = sdnotify(c->vars, "%s", status != NULL ? status : c->status);
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->name, rc, c->rc);
	if (c->rc < 0)
		ck_assert_msg(errno == c->err, "%s: errno %s, want %s", c->name,
		    strerror(errno), strerror(c->err));
	ck_assert_msg(count_fds() == fds, "%s: a descriptor left open",
	    c->name);
	if (fd < 0)
		return;
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	if (c->want == NULL) {
		ck_assert_msg(n < 0 && errno == EAGAIN, "%s: %zd bytes sent",
		    c->name, n);
	} else {
		ck_assert_msg(n >= 0, "%s: nothing arrived", c->name);
		got[n] = '\0';
		ck_assert_str_eq(got, want != NULL ? want : c->want);
		if (c->status_len > 0)
			ck_assert_int_eq(n, SDNOTIFY_MAX);
		/* One datagram per call. */
		ck_assert_int_lt(recv(fd, got, sizeof(got), MSG_DONTWAIT), 0);
	}
	close(fd);
	if (c->where == W_PATH)
		(void)unlink(env);
	free(status);
	free(want);
}
END_TEST

/* RELOADING=1 carries MONOTONIC_USEC, the clock's value at the call. */
START_TEST(test_reloading)
{
	char env[128], got[SDNOTIFY_MAX + 1], *p, *end;
	unsigned long long usec, before, after;
	struct timespec t;
	ssize_t n;
	int fd;

	fd = listener(W_ABSTRACT, env, sizeof(env));
	setenv("NOTIFY_SOCKET", env, 1);
	clock_gettime(CLOCK_MONOTONIC, &t);
	before = (unsigned long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
	ck_assert_int_eq(sdnotify("RELOADING=1", "reloading %s", "conf"), 1);
	clock_gettime(CLOCK_MONOTONIC, &t);
	after = (unsigned long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	got[n] = '\0';
	ck_assert_msg(strncmp(got, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
	    "got '%s'", got);
	p = got + 27;
	usec = strtoull(p, &end, 10);
	ck_assert_msg(end > p && usec >= before && usec <= after,
	    "MONOTONIC_USEC %llu not in [%llu, %llu]", usec, before, after);
	ck_assert_str_eq(end, "\nSTATUS=reloading conf");
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("sdnotify");
	TCase *tc = tcase_create("datagrams");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_datagram, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_reloading);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
