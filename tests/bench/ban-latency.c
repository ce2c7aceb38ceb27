/*
 * ban-latency.c - how long a ban takes to reach the kernel, with N bans
 * already in place. Linked against the objects of bans/; run by run-bench.sh inside
 * a private network namespace (ip netns exec), never on the host.
 *
 *     ban-latency -n NETNS -N PRELOAD -K CYCLES [-l LOCKFILE] [-s STATE]
 *
 * Opens the iptables (libiptc) backend, puts PRELOAD bans in the policy
 * (ban_policy_restore) and in the kernel (backend->sync, as the start of
 * the daemon does through ban_reconcile), then measures CYCLES times the
 * path wireban takes for a rejecting reply: ban_policy_offence() with a
 * weight that bans at once -> the policy's hook -> backend->ban() +
 * backend->commit() (what src/banner.c's on_ban does first). The clock
 * (CLOCK_MONOTONIC) starts before ban_policy_offence and stops in the
 * hook when commit returns: the rule is in the kernel. With -s, the hook
 * then also writes the state file as on_ban does (write, fsync, rename),
 * timed separately.
 *
 * Prints one line:
 *   N=... K=... sync_ms=... p50_ms=... p99_ms=... max_ms=...
 *       save_p50_ms=... save_p99_ms=... rules=...
 * p50/p99 are nearest-rank over the CYCLES samples.
 *
 * Invariant: it refuses to run unless its network namespace is
 * /run/netns/NETNS (same nsfs inode), so it cannot touch the host's
 * firewall. Exit status: 0, 1 on a failure, 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"

struct run {
	const struct ban_backend *be;
	struct ban_policy	*p;
	const char		*state;
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

/* What src/banner.c's on_ban does first: stage, commit, then save. */
static void
hook(void *arg, const struct ban *b)
{
	struct run *r = arg;

	if (r->be->ban(b) < 0 || r->be->commit() < 0)
		r->errors++;
	clock_gettime(CLOCK_MONOTONIC, &r->t_commit);
	if (r->state != NULL && ban_state_save(r->p, r->state) < 0)
		r->errors++;
	clock_gettime(CLOCK_MONOTONIC, &r->t_saved);
	r->hooked++;
}

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
pct(const double *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void
usage(void)
{
	fprintf(stderr, "usage: ban-latency -n NETNS -N PRELOAD -K CYCLES "
	    "[-l LOCKFILE] [-s STATEFILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct ban_policy_config pc;
	struct ban_fw_config fc;
	struct timespec t0, t1;
	const char *netns = NULL;
	struct ban *pre = NULL;
	double *lat, *save, sync_ms;
	char err[256];
	long npre = 0, k = 50, i;
	wb_usec now = 1732700000LL * WB_USEC_PER_SEC;
	int ch, rc;

	ban_fw_config_defaults(&fc);
	while ((ch = getopt(argc, argv, "n:N:K:l:s:")) != -1) {
		switch (ch) {
		case 'n': netns = optarg; break;
		case 'N': npre = strtol(optarg, NULL, 10); break;
		case 'K': k = strtol(optarg, NULL, 10); break;
		case 'l': fc.lock_file = optarg; break;
		case 's': R.state = optarg; break;
		default: usage();
		}
	}
	if (netns == NULL || optind != argc || npre < 0 || npre > 1000000 ||
	    k < 1 || k > 100000)
		usage();
	if (!in_netns(netns)) {
		fprintf(stderr, "ban-latency: not inside network namespace %s: "
		    "refusing to touch this firewall\n", netns);
		return 2;
	}
	if ((lat = calloc((size_t)k, sizeof(*lat))) == NULL ||
	    (save = calloc((size_t)k, sizeof(*save))) == NULL ||
	    (npre > 0 && (pre = calloc((size_t)npre, sizeof(*pre))) == NULL)) {
		perror("ban-latency");
		return 1;
	}

	ban_policy_defaults(&pc);
	pc.max_tracked = (size_t)(npre + k + 1000);
	pc.seed = 42;
	if ((R.p = ban_policy_new(&pc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ban-latency: %s\n", err);
		return 1;
	}
	R.be = &ban_backend_iptables;
	if (R.be->open(&fc) < 0) {
		fprintf(stderr, "ban-latency: the iptables backend did not "
		    "open (see above)\n");
		return 1;
	}
	/* N bans already active: in the policy and in the kernel */
	for (i = 0; i < npre; i++) {
		addr_of(&pre[i].addr, 100, (unsigned)i);
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
	rc = R.be->sync(pre, (size_t)npre);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sync_ms = ms_between(&t0, &t1);
	if (rc < 0) {
		fprintf(stderr, "ban-latency: sync of %ld bans failed\n", npre);
		R.be->close();
		return 1;
	}
	ban_policy_set_hook(R.p, hook, &R);

	/* K rejecting replies from new addresses, each banning at once */
	for (i = 0; i < k; i++) {
		struct wb_addr a;

		addr_of(&a, 250, (unsigned)i);
		now += WB_USEC_PER_SEC;
		R.hooked = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = ban_policy_offence(R.p, &a, "relay", 3, now, NULL);
		if (rc != 1 || R.hooked != 1) {
			fprintf(stderr, "ban-latency: offence %ld did not ban "
			    "(%d)\n", i, rc);
			R.be->close();
			return 1;
		}
		lat[i] = ms_between(&t0, &R.t_commit);
		save[i] = ms_between(&R.t_commit, &R.t_saved);
	}
	qsort(lat, (size_t)k, sizeof(*lat), cmp_double);
	qsort(save, (size_t)k, sizeof(*save), cmp_double);
	printf("N=%ld K=%ld sync_ms=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
	    "save_p50_ms=%.3f save_p99_ms=%.3f errors=%d\n", npre, k, sync_ms,
	    pct(lat, (size_t)k, 0.50), pct(lat, (size_t)k, 0.99),
	    lat[k - 1], R.state ? pct(save, (size_t)k, 0.50) : 0.0,
	    R.state ? pct(save, (size_t)k, 0.99) : 0.0, R.errors);
	fflush(stdout);
	if (getenv("BAN_LATENCY_KEEP") == NULL)
		R.be->close();
	ban_policy_free(R.p);
	free(pre);
	free(lat);
	free(save);
	return R.errors ? 1 : 0;
}
