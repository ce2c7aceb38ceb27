/*
 * state-dump.c - prints the bans a wireban state holds, as wireban itself
 * reads them at start: the snapshot PATH, then PATH.journal, through
 * ban_state_open() into a policy with the default prefixes.
 *
 *     state-dump [-h] PATH
 *
 * One active ban a line, "ADDR" for one address, "ADDR/BITS" for a
 * prefix, sorted by address; with -h the history ("past") follows, each
 * line prefixed "past ". The count goes to stderr. For tests/t-storm.sh,
 * which compares it with what the kernel holds after a kill -9.
 *
 * ban_state_open() takes the state's lock and may repair what it reads
 * (a torn last record is cut, an unreadable file moved aside, an old
 * format converted): run it on a copy, never on the state of a running
 * or about to be restarted wireban. Built against bans/ alone:
 *
 *     cc -Iinclude -D_GNU_SOURCE -o state-dump tests/tools/state-dump.c \
 *         bans/state.c bans/record.c bans/policy.c bans/table.c \
 *         bans/util.c bans/ignore.c bans/fsutil.c
 *
 * Exit status: 0, 1 when the state cannot be read, 2 on usage.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bans.h"

static size_t	 count;

static void
print_ban(void *arg, const struct ban *b)
{
	const char *prefix = arg;
	char a[WB_PREFIX_STRLEN];

	printf("%s%s\n", prefix, wb_prefix_str(&b->addr, b->bits, a));
	count++;
}

int
main(int argc, char **argv)
{
	struct ban_policy_config pc;
	struct ban_state_stats st;
	struct ban_policy *p;
	struct ban_state *s;
	char err[512];
	bool history = false;
	int ch;

	while ((ch = getopt(argc, argv, "h")) != -1) {
		if (ch != 'h') {
			fprintf(stderr, "usage: state-dump [-h] PATH\n");
			return 2;
		}
		history = true;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: state-dump [-h] PATH\n");
		return 2;
	}
	ban_policy_defaults(&pc);
	pc.seed = 1;
	if ((p = ban_policy_new(&pc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "state-dump: %s\n", err);
		return 1;
	}
	if ((s = ban_state_open(argv[optind], p, &st, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "state-dump: %s\n", err);
		ban_policy_free(p);
		return 1;
	}
	if (ban_policy_foreach(p, BAN_ACTIVE, print_ban, "") < 0 ||
	    (history && ban_policy_foreach(p, BAN_HISTORY, print_ban,
	    "past ") < 0)) {
		fprintf(stderr, "state-dump: out of memory\n");
		return 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("state-dump: stdout");
		return 1;
	}
	fprintf(stderr, "state-dump: %s: %zu lines; snapshot %zu bans, %zu "
	    "history, %zu journal records, %zu bad, torn %s\n", argv[optind],
	    count, st.active, st.history, st.journal, st.bad,
	    st.torn ? "yes" : "no");
	ban_state_close(s);
	ban_policy_free(p);
	return 0;
}
