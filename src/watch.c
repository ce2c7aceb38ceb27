/*
 * watch.c - `wireban watch`: the daemon. Live capture in, bans out; the
 * control socket; expiry on time when no packet comes; SIGTERM stops,
 * SIGHUP reloads.
 *
 * The loop never waits for the firewall or the disk: a ban is decided
 * here and handed to the enforcer thread (src/jail.c, bans/enforcer.c),
 * the control socket is served without blocking (src/control.c), and
 * events are written from a buffer once per turn.
 *
 * Least privilege: everything that needs root is opened first (the
 * capture, the raw sockets for resets, the firewall, the state and its
 * lock, the control socket, the netlink socket for address changes);
 * then the process gives up every capability but CAP_NET_ADMIN (each
 * firewall commit needs it) and CAP_NET_RAW (resets of banned clients'
 * sessions), and sets no_new_privs, before it parses a single attacker
 * byte. A bug in the parsers then cannot read other users' files, load
 * modules, trace processes or change owners.
 *
 * Time: bans start at the packet time of the reply; expiry and manual
 * bans use the wall clock, which a live capture's packet times follow.
 */
#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "host.h"
#include "log.h"
#include "metrics.h"
#include "sdnotify.h"
#include "watch.h"

#define TICK_MS 1000

static volatile sig_atomic_t got_term, got_hup, got_usr1;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

/*
 * Log rotation (SIGUSR1, and SIGHUP with its reload): the events file
 * is reopened under its name. Whole events only ever reach the old
 * file: the buffer is flushed into it first (events.c never splits a
 * line), so none is lost or cut.
 */
static void
reopen(struct watch *w)
{
	FILE *fp;

	if (w->s->events_path == NULL || w->events == NULL)
		return;
	if ((fp = fopen(w->s->events_path, "a")) == NULL) {
		logmsg(LOG_ERR, "%s: cannot reopen: %s (still writing to the "
		    "old file)", w->s->events_path, strerror(errno));
		return;
	}
	events_reopen(&w->ev, fp);
	fclose(w->events);
	w->events = fp;
	logmsg(LOG_INFO, "%s reopened", w->s->events_path);
}

wb_usec
watch_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (wb_usec)tv.tv_sec * WB_USEC_PER_SEC + tv.tv_usec;
}

static int
capget_sets(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return (int)syscall(SYS_capget, &h, d);
}

static bool
has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return (d[cap / 32].effective & (1u << (cap % 32))) != 0;
}

/* Says what is missing, before anything is opened. */
static int
check_privileges(void)
{
	struct __user_cap_data_struct d[2];
	bool raw, admin;

	if (capget_sets(d) < 0)
		return 0;	/* cannot tell: let the opens say */
	raw = has_cap(d, CAP_NET_RAW);
	admin = has_cap(d, CAP_NET_ADMIN);
	if (raw && admin)
		return 0;
	logmsg(LOG_ERR, "watch needs root, or the capabilities "
	    "CAP_NET_RAW (capture, resets) and CAP_NET_ADMIN (firewall); "
	    "missing:%s%s\n", raw ? "" : " CAP_NET_RAW",
	    admin ? "" : " CAP_NET_ADMIN");
	return -1;
}

/* Keeps CAP_NET_ADMIN and CAP_NET_RAW only, for good. */
static void
drop_privileges(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int cap;

	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (1u << CAP_NET_ADMIN) |
	    (1u << CAP_NET_RAW);
	/* Past the last capability, or already out of it: nothing to do
	 * (and a service without CAP_SETPCAP could not). */
	for (cap = 0; cap <= 63; cap++)
		if (cap != CAP_NET_ADMIN && cap != CAP_NET_RAW &&
		    prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	if (syscall(SYS_capset, &h, d) < 0)
		logmsg(LOG_ERR, "could not drop capabilities: %s",
		    strerror(errno));
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* ignoreself: this host's addresses, now. */
static void
own_addresses(struct watch *w)
{
	struct host_addrs h;

	if (host_addresses(&h) < 0) {
		logmsg(LOG_WARNING, "cannot list this host's addresses: "
		    "%s", strerror(errno));
		return;
	}
	if (jail_set_host(&w->j, h.addr, h.bits, h.n) < 0)
		logmsg(LOG_ERR, "ignoreself: out of memory");
	host_addresses_free(&h);
}

static void
kill_conn(void *arg, struct sniff_conn *c)
{
	struct watch *w = arg;

	(void)sniff_kill(w->sn, c);
}

/* The jail's kill hook: reset every session the banned prefix holds. */
static void
kill_prefix(void *arg, const struct ban *b)
{
	struct watch *w = arg;

	if (w->sn != NULL)
		(void)engine_foreach_client(&w->e, &b->addr, b->bits, kill_conn,
		    w);
}

/*
 * SIGHUP: new rules, policy and ignore lists; bans carry over. Capture
 * and firewall settings stay as they were (they need a restart). A bad
 * file is refused whole and the old configuration kept.
 */
static void
reload(struct watch *w, struct opts *o)
{
	struct settings *next;
	char err[1024];
	bool restart;

	if ((next = calloc(1, sizeof(*next))) == NULL)
		return;
	if (settings_load(next, o->config, o->config_given, o->overrides,
	    err, sizeof(err)) < 0 ||
	    jail_reload(&w->j, next, &restart, err, sizeof(err)) < 0) {
		logmsg(LOG_ERR, "reload refused, keeping the old "
		    "configuration: %s", err);
		settings_free(next);
		free(next);
		return;
	}
	if (next->ignoreself)
		own_addresses(w);
	w->e.rules = next->rules;
	next->capture = w->s->capture;
	next->fw = w->s->fw;
	next->interface = w->s->interface;
	next->policy.prefix4 = w->s->policy.prefix4;
	next->policy.prefix6 = w->s->policy.prefix6;
	if (w->owned != NULL) {
		settings_free(w->owned);
		free(w->owned);
	}
	w->owned = next;
	w->s = next;
	logmsg(LOG_NOTICE, "configuration reloaded (capture and "
	    "firewall settings%s need a restart)", restart ?
	    ", and the prefix lengths you changed," : "");
}

/* The folder of the state or the socket, made private when missing. */
static int
make_dir_of(const char *path)
{
	char dir[4096], *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		logmsg(LOG_ERR, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ban_log's hook: the enforcer thread logs too (logmsg is safe). */
static void
log_line(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	logmsg(level == BAN_LOG_ERR ? LOG_ERR : level == BAN_LOG_WARNING ?
	    LOG_WARNING : LOG_INFO, "%s", line);
}

/* The sniffer's messages. */
static void
sniff_line(const char *line)
{
	logmsg(LOG_WARNING, "%s", line);
}

static void
say_started(struct watch *w, const char *iface)
{
	struct ban_policy_stats ps;
	char hint[256], ports[128];
	size_t i, o = 0;

	ban_policy_stats(w->j.policy, &ps);
	w->j.backend->hint(hint, sizeof(hint));
	ports[0] = '\0';
	for (i = 0; i < w->s->capture.nports && o + 8 < sizeof(ports); i++)
		o += (size_t)snprintf(ports + o, sizeof(ports) - o, "%s%u",
		    i ? "," : "", w->s->capture.ports[i]);
	logmsg(LOG_NOTICE, "watching %s (ports %s), firewall %s%s%s%s, "
	    "control %s; %llu bans in force, restored in %lld ms", iface,
	    ports, w->s->fw.backend, hint[0] ? " (see the bans: " : "", hint,
	    hint[0] ? ")" : "", w->s->socket_path,
	    (unsigned long long)ps.banned, (long long)w->j.restore_ms);
}

static int
setup(struct watch *w, struct opts *o, const char *iface)
{
	struct settings *s = w->s;
	struct sniff_handlers h;
	char err[1024];

	(void)o;
	if (s->events_path != NULL &&
	    (w->events = fopen(s->events_path, "a")) == NULL) {
		logmsg(LOG_ERR, "%s: %s", s->events_path,
		    strerror(errno));
		return -1;
	}
	if (events_open(&w->ev, w->events) < 0) {
		logmsg(LOG_ERR, "out of memory");
		return -1;
	}
	if (make_dir_of(s->state_path) < 0 || make_dir_of(s->socket_path) < 0)
		return -1;
	if (jail_init(&w->j, s, NULL, s->state_path, watch_now(), err,
	    sizeof(err)) < 0) {
		logmsg(LOG_ERR, "%s", err);
		return -1;
	}
	w->j.ev = &w->ev;
	w->j.log = true;
	/* dry-run decides and reports, and touches nothing: no resets. */
	if (strcmp(w->j.backend->name, "dry-run") != 0) {
		w->j.kill = kill_prefix;
		w->j.kill_arg = w;
	}
	if (s->ignoreself) {
		own_addresses(w);
		if ((w->hostfd = host_watch_open()) < 0)
			logmsg(LOG_WARNING, "no netlink socket (%s): "
			    "address changes are seen at SIGHUP only",
			    strerror(errno));
	}
	w->e.rules = s->rules;
	w->e.ev = &w->ev;
	w->e.on_offence = jail_offence;
	w->e.offence_arg = &w->j;
	w->e.tick = NULL;	/* expiry runs on the wall clock below */
	engine_handlers(&w->e, &h);
	if ((w->sn = sniff_open_live(&s->capture, iface, &h, err,
	    sizeof(err))) == NULL) {
		logmsg(LOG_ERR, "%s", err);
		return -1;
	}
	if ((w->ctl = control_listen(s->socket_path, watch_serve, w, err,
	    sizeof(err))) == NULL) {
		logmsg(LOG_ERR, "%s", err);
		return -1;
	}
	return 0;
}

static void
loop(struct watch *w, struct opts *o)
{
	struct pollfd pfd[3 + CONTROL_CLIENTS_MAX];
	char err[1024];
	int n, timeout;
	size_t nc, base;
	wb_usec now, next;

	wb_usec next_metrics = watch_now();

	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			(void)sdnotify("RELOADING=1", "reloading the "
			    "configuration");
			reload(w, o);
			reopen(w);
			(void)sdnotify("READY=1", "watching %s, firewall %s",
			    w->s->interface, w->s->fw.backend);
		}
		if (got_usr1) {
			got_usr1 = 0;
			reopen(w);
		}
		now = watch_now();
		if (w->s->metrics_path != NULL && now >= next_metrics) {
			if (metrics_write(w, w->s->metrics_path) == 0)
				w->metrics_failed = false;
			else if (!w->metrics_failed) {
				logmsg(LOG_ERR, "%s: cannot write the metrics: %s "
				    "(said once until it works again)",
				    w->s->metrics_path, strerror(errno));
				w->metrics_failed = true;
			}
			next_metrics = now + w->s->metrics_interval;
		}
		timeout = TICK_MS;
		if (w->s->metrics_path != NULL &&
		    (next_metrics - now) / 1000 + 1 < timeout)
			timeout = (int)((next_metrics - now) / 1000 + 1);
		if (ban_policy_next_expiry(w->j.policy, &next)) {
			wb_usec ms = (next - now) / 1000 + 1;

			if (ms < timeout)
				timeout = ms < 0 ? 0 : (int)ms;
		}
		pfd[0].fd = sniff_fd(w->sn);
		pfd[0].events = POLLIN;
		pfd[1].fd = w->hostfd;
		pfd[1].events = POLLIN;
		base = 2;
		nc = control_pollfds(w->ctl, pfd + base, &timeout);
		n = poll(pfd, base + nc, timeout);
		if (n < 0 && errno != EINTR) {
			logmsg(LOG_ERR, "poll: %s",
			    strerror(errno));
			break;
		}
		if (n > 0 && (pfd[0].revents & (POLLIN | POLLERR)) &&
		    sniff_dispatch(w->sn, -1, err, sizeof(err)) < 0) {
			logmsg(LOG_ERR, "%s", err);
			break;
		}
		if (n > 0 && (pfd[1].revents & POLLIN) &&
		    host_watch_changed(w->hostfd))
			own_addresses(w);
		/* Also on a timeout: a client's deadline may have come. */
		if (n >= 0)
			control_serve(w->ctl, pfd + base, nc);
		/* On time, packets or not. */
		now = watch_now();
		jail_expire(&w->j, now);
		sniff_expire(w->sn, now);
		jail_poll(&w->j);
		events_flush(&w->ev);
	}
}

int
cmd_watch(struct settings *s, struct opts *o)
{
	struct watch w = { .s = s, .hostfd = -1 };
	struct sigaction sa;
	const char *iface;
	int rc = 1;

	iface = o->interface ? o->interface :
	    (s->interface ? s->interface : "any");
	s->interface = iface;
	if (check_privileges() < 0)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_setup(s->log);
	ban_log_set(log_line, NULL);
	sniff_set_log(sniff_line);

	w.started = watch_now();
	if (setup(&w, o, iface) == 0) {
		char err[256];

		drop_privileges();
		if (jail_start(&w.j, err, sizeof(err)) < 0) {
			logmsg(LOG_ERR, "%s", err);
			goto out;
		}
		say_started(&w, iface);
		(void)sdnotify("READY=1", "watching %s, firewall %s", iface,
		    s->fw.backend);
		loop(&w, o);
		(void)sdnotify("STOPPING=1", "stopping");
		if (got_term) {
			logmsg(LOG_NOTICE, "stopping; bans kept in %s%s",
			    s->state_path, s->fw.keep_on_close ? " and in the "
			    "firewall" : ", restored at the next start");
			rc = 0;
		}
	}
out:
	if (w.sn != NULL)
		sniff_close(w.sn);
	w.sn = NULL;
	jail_fini(&w.j);
	control_close(w.ctl, s->socket_path);
	if (w.hostfd >= 0)
		close(w.hostfd);
	events_close(&w.ev);
	if (w.events != NULL)
		fclose(w.events);
	if (w.owned != NULL) {
		settings_free(w.owned);
		free(w.owned);
	}
	return rc;
}
