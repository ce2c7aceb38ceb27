/*
 * watch.c - `wireban watch`: the daemon. Live capture in, bans out; the
 * control socket; expiry on time when no packet comes; SIGTERM stops,
 * SIGHUP reloads.
 *
 * Least privilege: everything that needs root is opened first (the
 * capture, libnids' raw socket for resets, the firewall, the state file,
 * the control socket); then the process gives up every capability but
 * CAP_NET_ADMIN (each libiptc commit needs it) and CAP_NET_RAW (resets
 * of banned clients' sessions), and sets no_new_privs, before it parses
 * a single attacker byte. A bug in the parsers then cannot read other
 * users' files, load modules, trace processes or change owners.
 *
 * Time: bans start at the packet time of the reply; expiry and manual
 * bans use the wall clock, which a live capture's packet times follow.
 */
#include <errno.h>
#include <ifaddrs.h>
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

#include "banner.h"
#include "control.h"
#include "engine.h"
#include "wireban.h"

#define TICK_MS 1000

static volatile sig_atomic_t got_term, got_hup;

struct watch {
	struct settings	*s;
	struct engine	 e;
	struct banner	 b;
	struct sniff	*sn;
	int		 ctl;
	FILE		*events;
	wb_usec		 started;
	struct settings	*owned;		/* from a reload, freed here */
};

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static wb_usec
wall_now(void)
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
	fprintf(stderr, "wireban: watch needs root, or the capabilities "
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
	for (cap = 0; cap <= 63; cap++)
		if (cap != CAP_NET_ADMIN && cap != CAP_NET_RAW)
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	if (syscall(SYS_capset, &h, d) < 0)
		fprintf(stderr, "wireban: could not drop capabilities: %s\n",
		    strerror(errno));
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* ignoreself: this host's addresses (loopback's whole prefix). */
static void
add_own_addresses(struct banner *b)
{
	struct ifaddrs *ifa, *i;
	struct wb_addr a;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin =
			    (const void *)i->ifa_addr;

			wb_addr_v4(&a, &sin->sin_addr);
			banner_add_self(b, &a, a.a[0] == 127 ? 8 : 32);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 =
			    (const void *)i->ifa_addr;

			wb_addr_v6(&a, &sin6->sin6_addr);
			banner_add_self(b, &a, 128);
		}
	}
	freeifaddrs(ifa);
}

static void
kill_conn(void *arg, struct sniff_conn *c)
{
	struct watch *w = arg;

	(void)sniff_kill(w->sn, c);
}

/* The banner's kill hook: reset every session the client holds. */
static void
kill_client(void *arg, const struct wb_addr *a)
{
	struct watch *w = arg;

	if (w->sn != NULL)
		(void)engine_foreach_client(&w->e, a, kill_conn, w);
}

static void
send_ban_line(void *arg, const struct ban *b)
{
	FILE *fp = arg;
	char a[WB_ADDR_STRLEN];
	wb_usec left = b->expiry - wall_now();

	fprintf(fp, "%-39s %-14s left %llds, ban #%u\n",
	    wb_addr_str(&b->addr, a), b->rule,
	    (long long)(left > 0 ? left / WB_USEC_PER_SEC : 0), b->count);
}

static void
status(struct watch *w, FILE *fp)
{
	struct ban_policy_stats ps;
	struct sniff_stats st;

	sniff_get_stats(w->sn, &st);
	ban_policy_stats(w->b.policy, &ps);
	fprintf(fp, "wireban watch on %s, up %llds\n",
	    w->s->interface ? w->s->interface : "any",
	    (long long)((wall_now() - w->started) / WB_USEC_PER_SEC));
	fprintf(fp, "sessions:   %llu open, %llu seen, %llu TLS (not "
	    "inspectable)\n", (unsigned long long)w->e.nconns,
	    (unsigned long long)w->e.st.sessions,
	    (unsigned long long)w->e.st.tls_sessions);
	fprintf(fp, "replies:    %llu, %llu 4xx/5xx, %llu offences\n",
	    (unsigned long long)w->e.st.replies,
	    (unsigned long long)w->e.st.rejects,
	    (unsigned long long)w->e.st.offences);
	fprintf(fp, "banned:     %llu now, %llu in all, %llu lifted\n",
	    (unsigned long long)ps.banned, (unsigned long long)ps.bans_total,
	    (unsigned long long)ps.unbans_total);
	fprintf(fp, "capture:    %llu packets, %llu dropped by the kernel, "
	    "%llu by the interface\n", (unsigned long long)st.packets,
	    (unsigned long long)st.pcap_drop,
	    (unsigned long long)st.pcap_ifdrop);
	fprintf(fp, "libnids:    %llu streams evicted (table full), %llu "
	    "idle timed out\n", (unsigned long long)st.evictions,
	    (unsigned long long)st.timeouts);
	fprintf(fp, "IPv6:       %llu packets inspected, %llu not (AH, ESP, "
	    "too big)\n", (unsigned long long)st.ipv6,
	    (unsigned long long)st.ipv6_uninspected);
	fprintf(fp, "firewall:   %s", w->b.backend->name);
	if (strcmp(w->b.backend->name, "iptables") == 0)
		fprintf(fp, ", chain %s: see `iptables-legacy -S %s` (libiptc "
		    "writes the legacy tables, not nf_tables)", w->s->fw.chain,
		    w->s->fw.chain);
	fprintf(fp, "\n");
}

static void
handle_request(struct watch *w, int fd, char *line)
{
	char *verb, *arg, *arg2, *save = NULL, err[256];
	struct wb_addr a;
	wb_usec dur = 0;
	FILE *fp;
	int rc;

	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	verb = strtok_r(line, " ", &save);
	arg = strtok_r(NULL, " ", &save);
	arg2 = strtok_r(NULL, " ", &save);
	if (verb == NULL) {
		fprintf(fp, "ERR empty request\n");
	} else if (strcmp(verb, "status") == 0) {
		status(w, fp);
		fprintf(fp, "OK\n");
	} else if (strcmp(verb, "list") == 0) {
		(void)ban_policy_foreach(w->b.policy, BAN_ACTIVE,
		    send_ban_line, fp);
		fprintf(fp, "OK\n");
	} else if ((strcmp(verb, "ban") == 0 || strcmp(verb, "unban") == 0)
	    && (arg == NULL || wb_addr_parse(&a, arg) < 0)) {
		fprintf(fp, "ERR %s: not an IPv4 or IPv6 address\n",
		    arg ? arg : "(none)");
	} else if (strcmp(verb, "ban") == 0) {
		if (arg2 != NULL && config_parse_duration(arg2, &dur) < 0) {
			fprintf(fp, "ERR %s: not a duration\n", arg2);
		} else if ((rc = banner_ban(&w->b, &a, dur, wall_now(), err,
		    sizeof(err))) < 0) {
			fprintf(fp, "ERR %s: %s\n", arg, err);
		} else {
			fprintf(fp, "%s %s\nOK\n", rc == 1 ? "banned" :
			    "already banned:", arg);
		}
	} else if (strcmp(verb, "unban") == 0) {
		rc = banner_unban(&w->b, &a, wall_now());
		fprintf(fp, "%s %s\nOK\n", rc == 1 ? "unbanned" :
		    "was not banned:", arg);
	} else {
		fprintf(fp, "ERR unknown request '%.40s'\n", verb);
	}
	fclose(fp);
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

	if ((next = calloc(1, sizeof(*next))) == NULL)
		return;
	if (settings_load(next, o->config, o->config_given, o->overrides,
	    err, sizeof(err)) < 0 ||
	    banner_reload(&w->b, next, err, sizeof(err)) < 0) {
		fprintf(stderr, "wireban: reload refused, keeping the old "
		    "configuration: %s\n", err);
		settings_free(next);
		free(next);
		return;
	}
	if (next->ignoreself)
		add_own_addresses(&w->b);
	w->e.rules = next->rules;
	next->capture = w->s->capture;
	next->fw = w->s->fw;
	next->interface = w->s->interface;
	if (w->owned != NULL) {
		settings_free(w->owned);
		free(w->owned);
	}
	w->owned = next;
	w->s = next;
	fprintf(stderr, "wireban: configuration reloaded (capture and "
	    "firewall settings need a restart)\n");
}

/* The state file's folder, made private when missing. */
static int
make_state_dir(const char *path)
{
	char dir[4096], *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "wireban: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
cmd_watch(struct settings *s, struct opts *o)
{
	struct watch w = { .s = s, .ctl = -1 };
	struct sniff_handlers h;
	struct sigaction sa;
	struct pollfd pfd[2];
	char err[1024], line[CONTROL_LINE_MAX];
	const char *iface;
	int rc = 1, n, fd, timeout;
	wb_usec now, next;

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
	signal(SIGPIPE, SIG_IGN);

	w.started = wall_now();
	if (s->events_path != NULL &&
	    (w.events = fopen(s->events_path, "a")) == NULL) {
		fprintf(stderr, "wireban: %s: %s\n", s->events_path,
		    strerror(errno));
		return 1;
	}
	if (w.events != NULL)
		setvbuf(w.events, NULL, _IOLBF, 0);
	if (make_state_dir(s->state_path) < 0)
		goto out;
	if (banner_init(&w.b, s, NULL, s->state_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "wireban: %s\n", err);
		goto out;
	}
	w.b.log = true;
	w.b.events = w.events;
	/* dry-run decides and reports, and touches nothing: no resets. */
	if (strcmp(w.b.backend->name, "dry-run") != 0) {
		w.b.kill = kill_client;
		w.b.kill_arg = &w;
	}
	if (s->ignoreself)
		add_own_addresses(&w.b);
	w.e.tick = NULL;	/* expiry runs on the wall clock below */
	if (banner_restore(&w.b, wall_now()) < 0)
		fprintf(stderr, "wireban: %s: state not restored; starting "
		    "with no bans\n", s->state_path);

	w.e.rules = s->rules;
	w.e.json = w.events;
	w.e.on_offence = banner_offence;
	w.e.offence_arg = &w.b;
	engine_handlers(&w.e, &h);
	if ((w.sn = sniff_open_live(&s->capture, iface, &h, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "wireban: %s\n", err);
		goto out;
	}
	if ((w.ctl = control_listen(s->socket_path, err, sizeof(err))) < 0) {
		fprintf(stderr, "wireban: %s\n", err);
		goto out;
	}
	drop_privileges();
	fprintf(stderr, "wireban: watching %s (ports", iface);
	for (size_t i = 0; i < s->capture.nports; i++)
		fprintf(stderr, "%s%u", i ? "," : " ", s->capture.ports[i]);
	fprintf(stderr, "), firewall %s, control %s\n", w.b.backend->name,
	    s->socket_path);

	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload(&w, o);
		}
		now = wall_now();
		timeout = TICK_MS;
		if (ban_policy_next_expiry(w.b.policy, &next)) {
			wb_usec ms = (next - now) / 1000 + 1;

			if (ms < timeout)
				timeout = ms < 0 ? 0 : (int)ms;
		}
		pfd[0].fd = sniff_fd(w.sn);
		pfd[0].events = POLLIN;
		pfd[1].fd = w.ctl;
		pfd[1].events = POLLIN;
		n = poll(pfd, 2, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "wireban: poll: %s\n",
			    strerror(errno));
			break;
		}
		if (n > 0 && (pfd[0].revents & (POLLIN | POLLERR))) {
			if (sniff_dispatch(w.sn, -1, err, sizeof(err)) < 0) {
				fprintf(stderr, "wireban: %s\n", err);
				break;
			}
		}
		if (n > 0 && (pfd[1].revents & POLLIN) &&
		    (fd = control_accept(w.ctl, line, sizeof(line))) >= 0)
			handle_request(&w, fd, line);
		/* On time, packets or not. */
		now = wall_now();
		banner_expire(&w.b, now);
		sniff_expire(w.sn, now);
	}
	if (got_term) {
		fprintf(stderr, "wireban: stopping; bans kept in %s%s\n",
		    s->state_path, s->fw.keep_on_close ? " and in the "
		    "firewall" : ", restored at the next start");
		rc = 0;
	}
out:
	if (w.sn != NULL)
		sniff_close(w.sn);
	w.sn = NULL;
	if (w.b.policy != NULL && w.b.state_path != NULL)
		(void)ban_state_save(w.b.policy, w.b.state_path);
	banner_fini(&w.b);
	if (w.ctl >= 0) {
		close(w.ctl);
		unlink(s->socket_path);
	}
	if (w.events != NULL)
		fclose(w.events);
	if (w.owned != NULL) {
		settings_free(w.owned);
		free(w.owned);
	}
	return rc;
}
