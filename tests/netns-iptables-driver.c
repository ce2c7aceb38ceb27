/*
 * netns-iptables-driver.c - drives the iptables backend of bans/ for
 * tests/netns-iptables.sh, one command word after another:
 *
 *     driver -n NETNS [-t DROP|REJECT] [-a] [-f] [-k] [-p 25,465]
 *            [-l LOCKFILE] [-w MS] COMMAND...
 *
 *     open | commit | flush | close
 *     ban ADDR | unban ADDR
 *     reconcile STATEFILE NOW      (NOW in seconds of packet time)
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
#include <unistd.h>

#include "bans.h"

static void	 usage(void);
static int	 in_netns(const char *);
static int	 parse_ports(const char *, struct ban_fw_config *);
static int	 parse_long(const char *, long, long, long *);
static int	 addr_ban(const char *, struct ban *);

static void
usage(void)
{
	fprintf(stderr, "usage: netns-iptables-driver -n NETNS [-t DROP|"
	    "REJECT] [-a] [-f] [-k] [-p PORTS] [-l LOCK] [-w MS] CMD...\n");
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

static int
addr_ban(const char *s, struct ban *b)
{
	memset(b, 0, sizeof(*b));
	if (wb_addr_parse(&b->addr, s) != 0) {
		fprintf(stderr, "driver: bad address %s\n", s);
		return -1;
	}
	(void)snprintf(b->rule, sizeof(b->rule), "netns-test");
	b->count = 1;
	b->expiry = 3600 * WB_USEC_PER_SEC;
	return 0;
}

int
main(int argc, char **argv)
{
	const struct ban_backend *be = &ban_backend_iptables;
	struct ban_fw_config c;
	const char *netns = NULL;
	struct ban b;
	int ch, i, rc = 0;
	long v;

	ban_fw_config_defaults(&c);
	while ((ch = getopt(argc, argv, "n:t:afkp:l:w:")) != -1) {
		switch (ch) {
		case 'n':
			netns = optarg;
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
	for (i = optind; i < argc && rc == 0; i++) {
		const char *cmd = argv[i];

		if (strcmp(cmd, "open") == 0)
			rc = be->open(&c);
		else if (strcmp(cmd, "commit") == 0)
			rc = be->commit();
		else if (strcmp(cmd, "flush") == 0)
			rc = be->flush();
		else if (strcmp(cmd, "close") == 0)
			be->close();
		else if ((strcmp(cmd, "ban") == 0 ||
		    strcmp(cmd, "unban") == 0) && i + 1 < argc) {
			if ((rc = addr_ban(argv[++i], &b)) == 0)
				rc = cmd[0] == 'b' ? be->ban(&b) :
				    be->unban(&b);
		} else if (strcmp(cmd, "reconcile") == 0 && i + 2 < argc) {
			struct ban_policy_config pc;
			struct ban_policy *p;
			char err[128];

			if (parse_long(argv[i + 2], 0, LONG_MAX /
			    WB_USEC_PER_SEC, &v) != 0)
				usage();
			ban_policy_defaults(&pc);
			p = ban_policy_new(&pc, err, sizeof(err));
			if (p == NULL) {
				fprintf(stderr, "driver: %s\n", err);
				return 1;
			}
			rc = ban_state_load(p, argv[i + 1], NULL);
			if (rc == 0)
				rc = ban_reconcile(p, be,
				    (wb_usec)v * WB_USEC_PER_SEC, NULL, NULL);
			ban_policy_free(p);
			i += 2;
		} else
			usage();
	}
	/* Staged bans at exit are committed, as a daemon would. */
	if (rc == 0)
		rc = be->commit();
	return rc == 0 ? 0 : 1;
}
