/*
 * fw_exec.c - the "exec" backend: a user command per ban and per unban,
 * for a sensor on a mirror port whose bans must reach another firewall.
 *
 * The command runs as  /bin/sh -c CMD wireban ADDR RULE SECS : the
 * user's text is the script and what wireban knows of the ban arrives
 * as the positional parameters $1 $2 $3, never pasted into the script.
 * ADDR is the address for a ban of one address, NET/BITS for a prefix
 * ("192.0.2.0/24", "2001:db8::/64").
 * A rule name such as "x;reboot" is one literal argument, not a command.
 * SECS is the ban's duration in seconds (expiry - start). The child gets
 * /dev/null as stdin, no other inherited descriptor, default signals, a
 * fixed PATH and nothing else in its environment.
 *
 * Invariant: every child is reaped before the call returns. It may run
 * for exec_timeout_ms; then its process group (it leads one) is killed
 * with SIGKILL and reaped, so a hung command cannot stall bans forever
 * nor leave a zombie. The daemon must not set SIGCHLD to SIG_IGN.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bans_int.h"

#define EXEC_SHELL	"/bin/sh"

static struct {
	char	*ban_cmd;
	char	*unban_cmd;
	int	 timeout_ms;
} ex;

static int	 run(const char *, const char *, const struct ban *);
static void	 child(char *const [], char *const []);
static int	 wait_for(pid_t, int, int *);
static int64_t	 mono_ms(void);
static int	 exec_open(const struct ban_fw_config *);
static int	 exec_ban(const struct ban *);
static int	 exec_unban(const struct ban *);
static int	 exec_commit(void);
static int	 exec_sync(const struct ban *, size_t);
static int	 exec_flush(void);
static void	 exec_close(void);

static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void
child(char *const argv[], char *const envp[])
{
	struct sigaction sa;
	sigset_t none;
	int fd;

	(void)setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd != 0) {
		(void)dup2(fd, 0);
		(void)close(fd);
	}
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
	{
		for (fd = 3; fd < 4096; fd++)
			(void)close(fd);
	}
	execve(argv[0], argv, envp);
	_exit(127);
}

/*
 * Waits for pid at most timeout_ms; then kills its group. Returns 0 with
 * *status set, or -1 on timeout (the child is killed and reaped) or a
 * wait error.
 */
static int
wait_for(pid_t pid, int timeout_ms, int *status)
{
	int64_t deadline = mono_ms() + timeout_ms;
	int pfd = -1;
	pid_t r;

#ifdef SYS_pidfd_open
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	for (;;) {
		int64_t left;

		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
		left = deadline - mono_ms();
		if (left <= 0)
			break;
		if (pfd >= 0) {
			/* Readable when the child exits: no polling loop. */
			struct pollfd pf = { .fd = pfd, .events = POLLIN };

			(void)poll(&pf, 1, left > 1000 ? 1000 : (int)left);
		} else {
			struct timespec ts = { 0, 5 * 1000000L };

			(void)nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		(void)close(pfd);
	if (r == pid)
		return 0;
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

static int
run(const char *cmd, const char *what, const struct ban *b)
{
	char addr[WB_PREFIX_STRLEN], rule[BAN_RULE_MAX], secs[32];
	char sh[] = EXEC_SHELL, dashc[] = "-c", name[] = "wireban";
	char path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin";
	char *argv[8], *envp[2];
	struct wb_addr net;
	char *script;
	wb_usec d;
	pid_t pid;
	int status;

	if (cmd == NULL)
		return 0;
	if (ban_prefix_check("exec", b, &net) != 0)
		return -1;
	wb_prefix_str(&net, ban_bits(b), addr);
	ban_rule_copy(rule, b->rule);
	d = b->expiry > b->start ? b->expiry - b->start : 0;
	(void)snprintf(secs, sizeof(secs), "%lld",
	    (long long)(d / WB_USEC_PER_SEC));
	if ((script = strdup(cmd)) == NULL) {
		ban_log(BAN_LOG_ERR, "exec: out of memory");
		return -1;
	}
	argv[0] = sh;
	argv[1] = dashc;
	argv[2] = script;
	argv[3] = name;		/* $0 */
	argv[4] = addr;		/* $1 */
	argv[5] = rule;		/* $2 */
	argv[6] = secs;		/* $3 */
	argv[7] = NULL;
	envp[0] = path;
	envp[1] = NULL;
	pid = fork();
	if (pid < 0) {
		ban_log(BAN_LOG_ERR, "exec: %s %s: fork: %s", what, addr,
		    strerror(errno));
		free(script);
		return -1;
	}
	if (pid == 0)
		child(argv, envp);
	free(script);
	/* Also here: the kill of the group must not race the child. */
	(void)setpgid(pid, pid);
	if (wait_for(pid, ex.timeout_ms, &status) != 0) {
		ban_log(BAN_LOG_ERR, "exec: %s %s: command killed after %d ms",
		    what, addr, ex.timeout_ms);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		ban_log(BAN_LOG_ERR, "exec: %s %s: command exited with %d",
		    what, addr, WEXITSTATUS(status));
	else
		ban_log(BAN_LOG_ERR, "exec: %s %s: command killed by signal "
		    "%d", what, addr, WIFSIGNALED(status) ? WTERMSIG(status) :
		    0);
	return -1;
}

static void
exec_close(void)
{
	free(ex.ban_cmd);
	free(ex.unban_cmd);
	memset(&ex, 0, sizeof(ex));
}

static int
exec_open(const struct ban_fw_config *c)
{
	exec_close();
	if (c->ban_command == NULL || c->ban_command[0] == '\0') {
		ban_log(BAN_LOG_ERR, "exec: firewall.ban_command is not set");
		return -1;
	}
	if ((ex.ban_cmd = strdup(c->ban_command)) == NULL)
		goto oom;
	if (c->unban_command != NULL && c->unban_command[0] != '\0' &&
	    (ex.unban_cmd = strdup(c->unban_command)) == NULL)
		goto oom;
	ex.timeout_ms = c->exec_timeout_ms > 0 ? c->exec_timeout_ms : 10000;
	return 0;
oom:
	ban_log(BAN_LOG_ERR, "exec: out of memory");
	exec_close();
	return -1;
}

static int
exec_ban(const struct ban *b)
{
	if (ex.ban_cmd == NULL) {
		ban_log(BAN_LOG_ERR, "exec: not open");
		return -1;
	}
	return run(ex.ban_cmd, "ban", b);
}

static int
exec_unban(const struct ban *b)
{
	/* No unban_command: the remote side expires bans on its own. */
	return run(ex.unban_cmd, "unban", b);
}

static int
exec_commit(void)
{
	return 0;
}

/*
 * The remote set is unknown: re-apply each ban (the commands must be
 * idempotent); nothing wireban does not know of can be removed.
 */
static int
exec_sync(const struct ban *bans, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (exec_ban(&bans[i]) != 0)
			rc = -1;
	return rc;
}

static int
exec_flush(void)
{
	return 0;
}

const struct ban_backend ban_backend_exec = {
	.name = "exec",
	.open = exec_open,
	.ban = exec_ban,
	.unban = exec_unban,
	.commit = exec_commit,
	.sync = exec_sync,
	.flush = exec_flush,
	.close = exec_close,
	.stats = ban_fw_no_stats,
	.hint = ban_fw_no_hint,
	.max_timeout = 0,
};
