/*
 * fuzz_state.c - libFuzzer target over the ban state's readers: one
 * line at a time (ban_rec_parse, with and without a CRC), and whole
 * files through ban_state_open(): the input is split at its first NUL
 * byte (or in half) into a snapshot and a journal, written to a private
 * directory, and opened into a policy. Invariants: no crash, no leak;
 * every line that parses formats back to a line that parses the same;
 * a state that opened reads back the same after a compaction.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bans.h"
#include "../../bans/bans_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[128], jpath[160];

static void
quiet(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

static struct ban_policy *
policy(void)
{
	struct ban_policy_config c;
	char err[128];

	ban_policy_defaults(&c);
	c.seed = 7;
	c.max_tracked = 4096;
	return ban_policy_new(&c, err, sizeof(err));
}

static void
put(const char *p, const uint8_t *d, size_t n)
{
	FILE *f = fopen(p, "wb");

	if (f == NULL)
		abort();
	if (n > 0 && fwrite(d, 1, n, f) != n)
		abort();
	fclose(f);
}

/* Leaves only our two files (a moved-aside one is removed). */
static void
clean(void)
{
	struct dirent *de;
	char p[512];
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		(void)unlink(p);
	}
	closedir(d);
}

static void
lines(const uint8_t *data, size_t size)
{
	char line[600], again[600], out[BAN_STATE_REC_MAX];
	enum ban_rec_kind k, k2;
	struct ban b, b2;
	const char *why;
	wb_usec when, when2;
	size_t i = 0, j, n;
	int crc;

	while (i < size) {
		for (j = i; j < size && data[j] != '\n' && j - i < 500; j++)
			;
		n = j - i;
		for (crc = 0; crc < 2; crc++) {
			memcpy(line, data + i, n);
			line[n] = '\0';
			if (ban_rec_parse(line, crc, &k, &b, &when, &why) != 1)
				continue;
			if (k == BAN_REC_PAST_LINE)
				continue;
			n = k == BAN_REC_BAN_LINE ? ban_state_fmt_ban(out, &b) :
			    ban_state_fmt_unban(out, &b, when);
			if (n == 0)
				abort();
			memcpy(again, out, n + 1);
			if (ban_rec_parse(again, true, &k2, &b2, &when2,
			    &why) != 1 || k2 != k || b2.bits != b.bits ||
			    !wb_addr_eq(&b2.addr, &b.addr) ||
			    (k == BAN_REC_BAN_LINE && (b2.start != b.start ||
			    b2.expiry != b.expiry || b2.count != b.count ||
			    strcmp(b2.rule, b.rule) != 0)) ||
			    (k == BAN_REC_UNBAN_LINE && when2 != when))
				abort();
			n = j - i;
		}
		i = j + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ban_policy *p, *q;
	struct ban_state_stats st;
	struct ban_policy_stats a, b;
	struct ban_state *s;
	const uint8_t *nul;
	size_t cut;
	char err[512];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_state.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/state", dir);
		snprintf(jpath, sizeof(jpath), "%s/state.journal", dir);
		ban_log_set(quiet, NULL);
	}
	if (size > 1 << 16)
		return 0;
	lines(data, size);
	nul = memchr(data, '\0', size);
	cut = nul != NULL ? (size_t)(nul - data) : size / 2;
	clean();
	put(path, data, cut);
	put(jpath, data + cut + (nul != NULL), size - cut - (nul != NULL));
	if ((p = policy()) == NULL)
		abort();
	if ((s = ban_state_open(path, p, &st, err, sizeof(err))) != NULL) {
		/* What was read survives a compaction unchanged. */
		if (ban_state_save(s, p) != 0)
			abort();
		ban_state_close(s);
		q = policy();
		if ((s = ban_state_open(path, q, &st, err, sizeof(err))) ==
		    NULL)
			abort();
		ban_state_close(s);
		ban_policy_stats(p, &a);
		ban_policy_stats(q, &b);
		if (a.banned != b.banned)
			abort();
		ban_policy_free(q);
	} else if (err[0] == '\0')
		abort();
	ban_policy_free(p);
	return 0;
}
