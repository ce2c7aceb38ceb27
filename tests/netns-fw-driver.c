/*
 * netns-fw-driver.c - drives one kernel backend of bans/ (nftables,
 * ipset, iptables) for tests/t-netns-*.sh, one command word after
 * another:
 *
 *     driver -n NETNS [-b BACKEND] [-t DROP|REJECT] [-a] [-f] [-k]
 *            [-p 25,465] [-l LOCKFILE] [-w MS] [-m MAXELEM]
 *            [-4 PREFIX4] [-6 PREFIX6] COMMAND...
 *
 *     open | commit | flush | close | stats
 *     ban PREFIX [SECS] | unban PREFIX   PREFIX: ADDR or ADDR/BITS,
 *                                        SECS 3600 when left out
 *     sync N SECS          N bans 100.64.0.0 + i (/32), one sync call
 *     reconcile STATEFILE NOW            NOW in seconds of packet time
 *     bench N...           per N: sync N bans, then the latency of a
 *                          commit of one ban (median of 21)
 *     batch N              N bans of 198.19.0.0 + i staged, one commit
 *                          (time printed)
 *
 * stats prints "stats commits=C errors=E set_full=F capacity=N"; sync
 * prints "sync N bans: S s". A command that fails does not stop the
 * ones after it (so stats can show what a failed commit counted).
 * Staged changes at exit are committed, as a daemon would, unless the
 * last command was close.
 *
 * Invariant: it never touches the host's firewall. -n names the network
 * namespace the script made; the driver refuses to run unless its own
 * namespace is that one (same nsfs inode as /run/netns/NETNS), so a
 * slip in the script cannot reach the host's tables.
 * Exit status: 0 when every command succeeded, 1 otherwise, 2 on usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"

#define BENCH_RUNS	21

static void	 usage(void);
static int	 in_netns(const char *);
static int	 parse_ports(const char *, struct ban_fw_config *);
static int	 parse_long(const char *, long, long, long *);
static wb_usec	 now_usec(void);
static double	 mono(void);
static int	 mkban(const char *, long, struct ban *);
static struct ban *gen(size_t, long);
static int	 do_sync(const struct ban_backend *, size_t, long);
static int	 bench(const struct ban_backend *, size_t);
static int	 cmp_double(const void *, const void *);

static void
usage(void)
{
	fprintf(stderr, "usage: netns-fw-driver -n NETNS [-b BACKEND] [-t "
	    "DROP|REJECT] [-a] [-f] [-k] [-p PORTS] [-l LOCK] [-w MS] "
	    "[-m MAXELEM] [-4 P4] [-6 P6] CMD...\n");
	exit(2);
}

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

static int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_ports(const char *s, struct ban_fw_config *c)
{
	char buf[256], *tok, *save = NULL;
	long v;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	c->nports = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (c->nports == BAN_PORTS_MAX ||
		    parse_long(tok, 1, 65535, &v) != 0)
			return -1;
		c->ports[c->nports++] = (uint16_t)v;
	}
	return 0;
}

static wb_usec
now_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static double
mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A ban of s ("ADDR" or "ADDR/BITS") from now for secs. */
static int
mkban(const char *s, long secs, struct ban *b)
{
	int bits;

	memset(b, 0, sizeof(*b));
	if (ban_cidr_parse(s, &b->addr, &bits) != 0) {
		fprintf(stderr, "driver: bad prefix %s\n", s);
		return -1;
	}
	b->bits = (uint8_t)bits;
	(void)snprintf(b->rule, sizeof(b->rule), "netns-test");
	b->count = 1;
	b->start = now_usec();
	b->expiry = b->start + (wb_usec)secs * WB_USEC_PER_SEC;
	return 0;
}

/* n bans of 100.64.0.0 + i, one address each; the caller frees. */
static struct ban *
gen(size_t n, long secs)
{
	struct ban *v = calloc(n > 0 ? n : 1, sizeof(*v));
	wb_usec start = now_usec();
	size_t i;

	if (v == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		uint32_t a = htonl(0x64400000u + (uint32_t)i);

		wb_addr_v4(&v[i].addr, &a);
		v[i].bits = 32;
		v[i].count = 1;
		v[i].start = start;
		/* Spread the timeouts, as real bans have. */
		v[i].expiry = start + (secs + (long)(i % 1000)) *
		    WB_USEC_PER_SEC;
	}
	return v;
}

static int
do_sync(const struct ban_backend *be, size_t n, long secs)
{
	struct ban *v = gen(n, secs);
	double t0;
	int rc;

	if (v == NULL)
		return -1;
	t0 = mono();
	rc = be->sync(v, n);
	printf("sync %zu bans: %.3f s\n", n, mono() - t0);
	free(v);
	return rc;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static int
bench(const struct ban_backend *be, size_t n)
{
	double t[BENCH_RUNS], t0;
	struct ban b;
	char p[32];
	int i;

	if (do_sync(be, n, 3600) != 0)
		return -1;
	for (i = 0; i < BENCH_RUNS; i++) {
		(void)snprintf(p, sizeof(p), "198.18.%d.%d", i / 250, i % 250 +
		    1);
		if (mkban(p, 3600, &b) != 0)
			return -1;
		t0 = mono();
		if (be->ban(&b) != 0 || be->commit() != 0)
			return -1;
		t[i] = mono() - t0;
	}
	qsort(t, BENCH_RUNS, sizeof(t[0]), cmp_double);
	printf("bench %s: %zu present: commit of 1 ban %.3f ms (median of %d,"
	    " min %.3f, max %.3f)\n", be->name, n, t[BENCH_RUNS / 2] * 1e3,
	    BENCH_RUNS, t[0] * 1e3, t[BENCH_RUNS - 1] * 1e3);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct ban_backend *be = &ban_backend_iptables;
	struct ban_fw_config c;
	struct ban_fw_stats st;
	const char *netns = NULL;
	struct ban b;
	int ch, i, rc = 0, failed = 0;
	bool closed = false;
	long v, secs;

	ban_fw_config_defaults(&c);
	while ((ch = getopt(argc, argv, "n:b:t:afkp:l:w:m:4:6:")) != -1) {
		switch (ch) {
		case 'n':
			netns = optarg;
			break;
		case 'b':
			if ((be = ban_backend_find(optarg)) == NULL)
				usage();
			break;
		case 't':
			if (strcmp(optarg, "DROP") == 0)
				c.target = BAN_TARGET_DROP;
			else if (strcmp(optarg, "REJECT") == 0)
				c.target = BAN_TARGET_REJECT;
			else
				usage();
			break;
		case 'a':
			c.allports = true;
			break;
		case 'f':
			c.forward = true;
			break;
		case 'k':
			c.keep_on_close = true;
			break;
		case 'p':
			if (parse_ports(optarg, &c) != 0)
				usage();
			break;
		case 'l':
			c.lock_file = optarg;
			break;
		case 'w':
			if (parse_long(optarg, 0, 600000, &v) != 0)
				usage();
			c.lock_wait_ms = (int)v;
			break;
		case 'm':
			if (parse_long(optarg, 1, LONG_MAX, &v) != 0)
				usage();
			c.maxelem = (size_t)v;
			break;
		case '4':
		case '6':
			if (parse_long(optarg, 0, 128, &v) != 0)
				usage();
			if (ch == '4')
				c.prefix4 = (int)v;
			else
				c.prefix6 = (int)v;
			break;
		default:
			usage();
		}
	}
	if (netns == NULL || optind >= argc)
		usage();
	if (!in_netns(netns)) {
		fprintf(stderr, "driver: not inside network namespace %s: "
		    "refusing to touch this firewall\n", netns);
		return 2;
	}
	for (i = optind; i < argc; i++) {
		const char *cmd = argv[i];

		if (rc != 0)
			failed = 1;
		rc = 0;
		closed = false;
		if (strcmp(cmd, "open") == 0)
			rc = be->open(&c);
		else if (strcmp(cmd, "commit") == 0)
			rc = be->commit();
		else if (strcmp(cmd, "flush") == 0)
			rc = be->flush();
		else if (strcmp(cmd, "close") == 0) {
			be->close();
			closed = true;
		} else if (strcmp(cmd, "stats") == 0) {
			be->stats(&st);
			printf("stats commits=%llu errors=%llu set_full=%llu "
			    "capacity=%zu\n", (unsigned long long)st.commits,
			    (unsigned long long)st.errors,
			    (unsigned long long)st.set_full, st.capacity);
		} else if (strcmp(cmd, "ban") == 0 && i + 1 < argc) {
			const char *pfx = argv[++i];

			secs = 3600;
			if (i + 1 < argc && parse_long(argv[i + 1], 0,
			    100L * 365 * 86400, &secs) == 0)
				i++;
			if ((rc = mkban(pfx, secs, &b)) == 0)
				rc = be->ban(&b);
		} else if (strcmp(cmd, "unban") == 0 && i + 1 < argc) {
			if ((rc = mkban(argv[++i], 0, &b)) == 0)
				rc = be->unban(&b);
		} else if (strcmp(cmd, "sync") == 0 && i + 2 < argc) {
			if (parse_long(argv[i + 1], 0, 4000000, &v) != 0 ||
			    parse_long(argv[i + 2], 1, 86400 * 365, &secs) != 0)
				usage();
			rc = do_sync(be, (size_t)v, secs);
			i += 2;
		} else if (strcmp(cmd, "batch") == 0 && i + 1 < argc) {
			double t0;
			long k;

			if (parse_long(argv[++i], 1, 65000, &v) != 0)
				usage();
			t0 = mono();
			for (k = 0; k < v && rc == 0; k++) {
				char a[32];

				(void)snprintf(a, sizeof(a), "198.19.%ld.%ld",
				    k / 256, k % 256);
				if ((rc = mkban(a, 3600, &b)) == 0)
					rc = be->ban(&b);
			}
			if (rc == 0)
				rc = be->commit();
			printf("batch of %ld bans, one commit: %.3f ms\n", v,
			    (mono() - t0) * 1e3);
		} else if (strcmp(cmd, "bench") == 0) {
			for (; i + 1 < argc && parse_long(argv[i + 1], 0,
			    4000000, &v) == 0; i++)
				if (bench(be, (size_t)v) != 0)
					rc = -1;
		} else if (strcmp(cmd, "reconcile") == 0 && i + 2 < argc) {
			struct ban_policy_config pc;
			struct ban_policy *p;
			char err[512];

			if (parse_long(argv[i + 2], 0, LONG_MAX /
			    WB_USEC_PER_SEC, &v) != 0)
				usage();
			ban_policy_defaults(&pc);
			p = ban_policy_new(&pc, err, sizeof(err));
			if (p == NULL) {
				fprintf(stderr, "driver: %s\n", err);
				return 1;
			}
			{
				struct ban_state *sf = ban_state_open(argv[i + 1],
				    p, NULL, err, sizeof(err));

				rc = sf != NULL ? 0 : -1;
				if (sf == NULL)
					fprintf(stderr, "driver: %s\n", err);
				else
					rc = ban_reconcile(p, be, (wb_usec)v *
					    WB_USEC_PER_SEC, NULL, NULL);
				ban_state_close(sf);
			}
			ban_policy_free(p);
			i += 2;
		} else
			usage();
	}
	if (rc != 0)
		failed = 1;
	if (!closed && be->commit() != 0)
		failed = 1;
	return failed;
}
