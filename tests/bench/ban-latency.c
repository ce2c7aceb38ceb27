/*
 * ban-latency.c - how long a ban takes to reach the kernel with N bans
 * already in place, and how long a restart takes to put N bans back.
 * Linked against the objects of bans/; run by run-bench.sh inside a
 * private network namespace (ip netns exec), never on the host.
 *
 *     ban-latency -n NETNS -b BACKEND -N PRELOAD -K CYCLES -d DIR
 *                 [-l LOCKFILE] [-O]
 *     ban-latency -q BACKEND      exit 0 when this build has it, else 1
 *
 * In order, on one backend (nftables, ipset, iptables, ...):
 *
 *   preload  PRELOAD bans in the policy (ban_policy_restore) and in the
 *            kernel (backend->sync, as a start does), timed;
 *   direct   CYCLES times: ban_policy_offence() with a weight that bans
 *            at once -> the policy's hook -> backend->ban() + commit()
 *            on the same thread: the kernel's own cost per ban. With -O
 *            the hook then also rewrites the whole state (snapshot,
 *            fsync, rename): what the daemon did per ban before the
 *            journal, timed apart;
 *   enforcer CYCLES times the daemon's path: the hook hands the ban to
 *            ban_enforcer_ban() (as src/jail.c's on_ban does), the
 *            enforcer thread appends its journal record and commits;
 *            the clock stops when the enforcer counts it applied, i.e.
 *            when the kernel's commit returned. The state is DIR/state,
 *            its snapshot holding the PRELOAD bans;
 *   restore  what a restart does, twice: with every ban in the snapshot
 *            (DIR/state after a compaction), and with every ban a
 *            journal record (DIR/jstate, an empty snapshot): the kernel
 *            is flushed, then ban_state_open() reads the state into a
 *            new policy and ban_reconcile() syncs the kernel; both timed.
 *
 * Prints one line of NAME=VALUE fields:
 *   backend N K preload_ms p50_ms p99_ms max_ms save_p50_ms enf_p50_ms
 *   enf_p99_ms enf_max_ms snap_read_ms snap_sync_ms jrnl_read_ms
 *   jrnl_sync_ms errors
 * p50/p99 are nearest-rank over the CYCLES samples; times are
 * CLOCK_MONOTONIC.
 *
 * Invariant: it refuses to run unless its network namespace is
 * /run/netns/NETNS (same nsfs inode), so it cannot touch the host's
 * firewall. Exit status: 0, 1 on a failure, 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"

#define T0	(1732700000LL * WB_USEC_PER_SEC)

struct run {
	const struct ban_backend *be;
	struct ban_policy	*p;
	struct ban_state	*old;		/* -O: rewritten per ban */
	struct ban_enforcer	*enf;		/* enforcer mode */
	struct timespec		 t_commit, t_saved;
	int			 errors;
	int			 hooked;
};

static struct run R;

static int
in_netns(const char *name)
{
	char path[PATH_MAX];
	struct stat want, have;

	if (strchr(name, '/') != NULL ||
	    snprintf(path, sizeof(path), "/run/netns/%s", name) >=
	    (int)sizeof(path))
		return 0;
	if (stat(path, &want) != 0 || stat("/proc/self/ns/net", &have) != 0)
		return 0;
	return want.st_dev == have.st_dev && want.st_ino == have.st_ino;
}

static double
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static double
ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return ms_between(a, &b);
}

/* direct: stage, commit, then (-O) the old per-ban state rewrite. */
static void
hook_direct(void *arg, const struct ban *b)
{
	struct run *r = arg;

	if (r->be->ban(b) < 0 || r->be->commit() < 0)
		r->errors++;
	clock_gettime(CLOCK_MONOTONIC, &r->t_commit);
	if (r->old != NULL && ban_state_save(r->old, r->p) < 0)
		r->errors++;
	clock_gettime(CLOCK_MONOTONIC, &r->t_saved);
	r->hooked++;
}

/* enforcer: what src/jail.c's on_ban does with a ban. */
static void
hook_enforcer(void *arg, const struct ban *b)
{
	struct run *r = arg;

	if (ban_enforcer_ban(r->enf, b) != 0)
		r->errors++;
	r->hooked++;
}

/* 10.net.x.y: preloaded bans from net 100, measured ones from 250. */
static void
addr_of(struct wb_addr *a, unsigned net, unsigned i)
{
	uint8_t b[4] = { 10, (uint8_t)(net + (i >> 16)), (uint8_t)(i >> 8),
	    (uint8_t)i };

	wb_addr_v4(a, b);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least q of them <= it. */
static double
pct(double *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	qsort(v, n, sizeof(*v), cmp_double);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void
usage(void)
{
	fprintf(stderr, "usage: ban-latency -n NETNS -b BACKEND -N PRELOAD "
	    "-K CYCLES -d DIR [-l LOCKFILE] [-O]\n");
	exit(2);
}

static struct ban_policy *
new_policy(long n)
{
	struct ban_policy_config pc;
	struct ban_policy *p;
	char err[256];

	ban_policy_defaults(&pc);
	pc.max_tracked = (size_t)(n + 1000);
	if (pc.max_tracked < 1048576)
		pc.max_tracked = 1048576;
	pc.seed = 42;
	if ((p = ban_policy_new(&pc, err, sizeof(err))) == NULL)
		fprintf(stderr, "ban-latency: %s\n", err);
	return p;
}

static struct ban_state *
open_state(const char *path, struct ban_policy *p)
{
	struct ban_state *s;
	char err[512];

	if ((s = ban_state_open(path, p, NULL, err, sizeof(err))) == NULL)
		fprintf(stderr, "ban-latency: %s\n", err);
	return s;
}

/* Offences from 10.250.x.y, each banning at once; the samples in ms. */
static int
cycles(long k, wb_usec *now, double *lat, double *save)
{
	struct ban_enforcer_stats es;
	struct timespec t0;
	struct wb_addr a;
	uint64_t before;
	long i;
	int rc;

	for (i = 0; i < k; i++) {
		addr_of(&a, R.enf != NULL ? 200 : 250, (unsigned)i);
		*now += WB_USEC_PER_SEC;
		R.hooked = 0;
		before = 0;
		if (R.enf != NULL) {
			ban_enforcer_stats(R.enf, &es);
			before = es.applied;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = ban_policy_offence(R.p, &a, "relay", 3, *now, NULL);
		if (rc != 1 || R.hooked != 1) {
			fprintf(stderr, "ban-latency: offence %ld did not ban "
			    "(%d)\n", i, rc);
			return -1;
		}
		if (R.enf == NULL) {
			lat[i] = ms_between(&t0, &R.t_commit);
			save[i] = ms_between(&R.t_commit, &R.t_saved);
			continue;
		}
		/* Spin until the enforcer has committed it (10 s at most). */
		do {
			sched_yield();
			ban_enforcer_stats(R.enf, &es);
		} while (es.applied == before && ms_since(&t0) < 10000);
		if (es.applied == before) {
			fprintf(stderr, "ban-latency: the enforcer did not "
			    "commit in 10 s\n");
			return -1;
		}
		lat[i] = ms_since(&t0);
	}
	return 0;
}

/* Flush the kernel, read the state at path anew, sync: *read, *sync ms. */
static int
restore(const char *path, wb_usec now, double *read_ms, double *sync_ms)
{
	struct ban_policy *p;
	struct ban_state *s;
	struct timespec t0, t1;

	if (R.be->flush() < 0 || (p = new_policy(0)) == NULL)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((s = open_state(path, p)) == NULL) {
		ban_policy_free(p);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*read_ms = ms_between(&t0, &t1);
	if (ban_reconcile(p, R.be, now, NULL, NULL) < 0)
		R.errors++;
	*sync_ms = ms_since(&t1);
	ban_state_close(s);
	ban_policy_free(p);
	return 0;
}

/* DIR/jstate: an empty snapshot and n journal records, one per ban. */
static int
write_journal(const char *path, const struct ban *v, size_t n)
{
	struct ban_policy *p;
	struct ban_state *s;
	char *buf;
	size_t i, len = 0, recs = 0;
	int rc = 0;

	if ((p = new_policy(0)) == NULL || (s = open_state(path, p)) == NULL ||
	    (buf = malloc(1024 * BAN_STATE_REC_MAX)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		len += ban_state_fmt_ban(buf + len, &v[i]);
		if (++recs == 1024 || i + 1 == n) {
			rc = ban_state_append(s, buf, len, recs);
			len = recs = 0;
		}
	}
	if (rc == 0)
		rc = ban_state_flush(s);
	free(buf);
	ban_state_close(s);
	ban_policy_free(p);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ban_enforcer_config ec;
	struct ban_fw_config fc;
	struct ban_state *st;
	struct timespec t0;
	const char *netns = NULL, *dir = NULL, *bname = "iptables";
	char path[PATH_MAX], jpath[PATH_MAX], opath[PATH_MAX], err[256];
	struct ban *pre = NULL;
	double *lat, *save, *elat, preload_ms, sr = 0, ss = 0, jr = 0, js = 0;
	long npre = 0, k = 50, i;
	wb_usec now = T0;
	bool old = false;
	int ch;

	ban_fw_config_defaults(&fc);
	while ((ch = getopt(argc, argv, "n:b:N:K:d:l:Oq:")) != -1) {
		switch (ch) {
		case 'q': return ban_backend_find(optarg) != NULL ? 0 : 1;
		case 'n': netns = optarg; break;
		case 'b': bname = optarg; break;
		case 'N': npre = strtol(optarg, NULL, 10); break;
		case 'K': k = strtol(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'l': fc.lock_file = optarg; break;
		case 'O': old = true; break;
		default: usage();
		}
	}
	if (netns == NULL || dir == NULL || optind != argc || npre < 0 ||
	    npre > 4000000 || k < 1 || k > 100000)
		usage();
	if (!in_netns(netns)) {
		fprintf(stderr, "ban-latency: not inside network namespace %s: "
		    "refusing to touch this firewall\n", netns);
		return 2;
	}
	if ((R.be = ban_backend_find(bname)) == NULL) {
		fprintf(stderr, "ban-latency: no backend %s in this build\n",
		    bname);
		return 1;
	}
	if (snprintf(path, sizeof(path), "%s/state", dir) >= (int)sizeof(path) ||
	    snprintf(jpath, sizeof(jpath), "%s/jstate", dir) >=
	    (int)sizeof(jpath) ||
	    snprintf(opath, sizeof(opath), "%s/ostate", dir) >=
	    (int)sizeof(opath))
		usage();
	if ((lat = calloc((size_t)k, sizeof(*lat))) == NULL ||
	    (save = calloc((size_t)k, sizeof(*save))) == NULL ||
	    (elat = calloc((size_t)k, sizeof(*elat))) == NULL ||
	    (npre > 0 && (pre = calloc((size_t)npre, sizeof(*pre))) == NULL)) {
		perror("ban-latency");
		return 1;
	}
	if ((R.p = new_policy(npre + 2 * k)) == NULL)
		return 1;
	fc.backend = bname;
	if (R.be->open(&fc) < 0) {
		fprintf(stderr, "ban-latency: the %s backend did not open (see "
		    "above)\n", bname);
		return 1;
	}

	/* preload: N bans active, in the policy and in the kernel */
	for (i = 0; i < npre; i++) {
		addr_of(&pre[i].addr, 100, (unsigned)i);
		pre[i].bits = 32;
		snprintf(pre[i].rule, sizeof(pre[i].rule), "relay");
		pre[i].score = 3;
		pre[i].count = 1;
		pre[i].start = now;
		pre[i].expiry = now + 3600 * WB_USEC_PER_SEC;
		if (ban_policy_restore(R.p, &pre[i], true) < 0) {
			fprintf(stderr, "ban-latency: restore failed\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (R.be->sync(pre, (size_t)npre) < 0) {
		fprintf(stderr, "ban-latency: sync of %ld bans failed\n", npre);
		R.be->close();
		return 1;
	}
	preload_ms = ms_since(&t0);

	/* direct */
	if (old && (R.old = open_state(opath, R.p)) == NULL)
		return 1;
	ban_policy_set_hook(R.p, hook_direct, &R);
	if (cycles(k, &now, lat, save) < 0)
		goto fail;
	ban_state_close(R.old);
	R.old = NULL;

	/* enforcer: its state's snapshot holds the preloaded bans */
	if ((st = open_state(path, R.p)) == NULL || ban_state_save(st, R.p) < 0)
		goto fail;
	memset(&ec, 0, sizeof(ec));
	ec.backends[0] = R.be;
	ec.nbackends = 1;
	ec.state = st;
	ec.queue = 65536;	/* src/jail.c's */
	ec.batch = 8192;
	ec.fsync_delay = 50 * 1000;
	if ((R.enf = ban_enforcer_start(&ec, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ban-latency: %s\n", err);
		goto fail;
	}
	ban_policy_set_hook(R.p, hook_enforcer, &R);
	if (cycles(k, &now, elat, NULL) < 0)
		goto fail;
	ban_enforcer_stop(R.enf, R.p);
	R.enf = NULL;

	/* restore: from a snapshot of everything, then from a journal */
	if (ban_state_save(st, R.p) < 0)
		goto fail;
	ban_state_close(st);
	if (restore(path, now, &sr, &ss) < 0 ||
	    write_journal(jpath, pre, (size_t)npre) < 0 ||
	    restore(jpath, now, &jr, &js) < 0)
		goto fail;

	printf("backend=%s N=%ld K=%ld preload_ms=%.1f p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f save_p50_ms=%.3f enf_p50_ms=%.3f "
	    "enf_p99_ms=%.3f enf_max_ms=%.3f snap_read_ms=%.1f "
	    "snap_sync_ms=%.1f jrnl_read_ms=%.1f jrnl_sync_ms=%.1f "
	    "errors=%d\n", bname, npre, k, preload_ms,
	    pct(lat, (size_t)k, 0.50), pct(lat, (size_t)k, 0.99),
	    pct(lat, (size_t)k, 1.0), old ? pct(save, (size_t)k, 0.50) : 0.0,
	    pct(elat, (size_t)k, 0.50), pct(elat, (size_t)k, 0.99),
	    pct(elat, (size_t)k, 1.0), sr, ss, jr, js, R.errors);
	fflush(stdout);
	R.be->close();
	ban_policy_free(R.p);
	free(pre);
	free(lat);
	free(save);
	free(elat);
	return R.errors ? 1 : 0;
fail:
	ban_enforcer_stop(R.enf, NULL);
	R.be->close();
	return 1;
}
