/*
 * replay.c - `wireban replay`: captures in, events or a report out, the
 * way fail2ban-regex shows what a filter would do with a log.
 *
 * Time is the packets' own, so a replay decides the same every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "events.h"
#include "host.h"
#include "jail.h"
#include "wireban.h"

/*
 * Offenders for the report, per address and rule. Bounded: past
 * OFFENDERS_MAX pairs the rest are counted, not listed.
 */
#define OFFENDERS_MAX 100000

struct offender {
	struct wb_addr	 addr;
	const char	*rule;
	unsigned	 count;
	int		 score;
};

/*
 * Offenders in order of first offence (v), found through an open-
 * addressing index (idx, slots of v's index + 1, 0 empty) so that a
 * capture with many offenders costs linear time, not quadratic.
 */
struct tally {
	struct offender	*v;
	size_t		 n, cap;
	uint32_t	*idx;
	size_t		 nidx;		/* a power of two, > 2 * n */
	uint64_t	 unlisted;
};

struct replay {
	struct tally	 tally;
	struct jail	 jail;
	struct events	 ev;
};

static size_t
slot_of(const struct tally *t, const struct wb_addr *a, const char *rule)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < sizeof(a->a); i++)
		h = (h ^ a->a[i]) * 1099511628211ULL;
	h ^= (uint64_t)(uintptr_t)rule;
	h *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 20) & (t->nidx - 1);
}

/* Grows v and rebuilds idx; false when out of memory. */
static bool
tally_grow(struct tally *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64, i, j;
	struct offender *nv;
	uint32_t *nidx;

	if ((nv = realloc(t->v, ncap * sizeof(*nv))) == NULL)
		return false;
	t->v = nv;
	if ((nidx = calloc(ncap * 4, sizeof(*nidx))) == NULL)
		return false;
	free(t->idx);
	t->idx = nidx;
	t->nidx = ncap * 4;
	t->cap = ncap;
	for (i = 0; i < t->n; i++) {
		j = slot_of(t, &t->v[i].addr, t->v[i].rule);
		while (t->idx[j] != 0)
			j = (j + 1) & (t->nidx - 1);
		t->idx[j] = (uint32_t)i + 1;
	}
	return true;
}

static void
tally_offence(void *arg, const struct engine_offence *o)
{
	struct replay *r = arg;
	struct tally *t = &r->tally;
	struct offender *f;
	size_t j;

	jail_offence(&r->jail, o);
	if (t->nidx > 0) {
		for (j = slot_of(t, &o->client, o->rule); t->idx[j] != 0;
		    j = (j + 1) & (t->nidx - 1)) {
			f = &t->v[t->idx[j] - 1];
			if (f->rule == o->rule &&
			    wb_addr_eq(&f->addr, &o->client)) {
				f->count++;
				f->score += o->weight;
				return;
			}
		}
	}
	if (t->n == OFFENDERS_MAX ||
	    (t->n == t->cap && !tally_grow(t))) {
		t->unlisted++;
		return;
	}
	j = slot_of(t, &o->client, o->rule);
	while (t->idx[j] != 0)
		j = (j + 1) & (t->nidx - 1);
	f = &t->v[t->n];
	f->addr = o->client;
	f->rule = o->rule;
	f->count = 1;
	f->score = o->weight;
	t->idx[j] = (uint32_t)++t->n;
}

static void
add_stats(struct sniff_stats *sum, const struct sniff_stats *st)
{
	sum->packets += st->packets;
	sum->bytes += st->bytes;
	sum->ipv4 += st->ipv4;
	sum->skipped += st->skipped;
	sum->ipv6 += st->ipv6;
	sum->ipv6_smtp += st->ipv6_smtp;
	sum->other += st->other;
	sum->malformed += st->malformed;
	sum->badsum += st->badsum;
	sum->truncated += st->truncated;
	sum->sessions += st->sessions;
	sum->evictions += st->evictions;
	sum->timeouts += st->timeouts;
	sum->checksums_off |= st->checksums_off;
}

/* A report lists this many offenders per rule and bans, then counts. */
#define LIST_MAX 20

static void
print_ban(void *arg, const struct ban *b)
{
	size_t *shown = arg;
	char a[WB_PREFIX_STRLEN];

	if ((*shown)++ >= LIST_MAX)
		return;
	printf("  %-15s %-14s ban #%u, %llds\n",
	    wb_prefix_str(&b->addr, b->bits, a),
	    b->rule, b->count,
	    (long long)((b->expiry - b->start) / WB_USEC_PER_SEC));
}

static void
report_packets(const struct sniff_stats *st, int nfiles, int nbad)
{
	printf("Captures: %d read", nfiles - nbad);
	if (nbad > 0)
		printf(", %d with errors", nbad);
	printf("\nPackets:  %llu read\n"
	    "          %llu IPv4 on the SMTP ports, inspected; %llu other IPv4\n"
	    "          %llu IPv6 not inspected (%llu on the SMTP ports): "
	    "libnids is IPv4 only\n"
	    "          %llu other, %llu malformed, %llu cut by the snaplen\n",
	    (unsigned long long)st->packets,
	    (unsigned long long)st->ipv4, (unsigned long long)st->skipped,
	    (unsigned long long)st->ipv6, (unsigned long long)st->ipv6_smtp,
	    (unsigned long long)st->other, (unsigned long long)st->malformed,
	    (unsigned long long)st->truncated);
	if (st->badsum > 0)
		printf("          %llu dropped for bad checksums\n",
		    (unsigned long long)st->badsum);
	if (st->checksums_off)
		printf("          bad TCP checksums seen (offload): "
		    "checksums not verified\n");
}

/* Each rule's hits, then its offenders (the first LIST_MAX). */
static void
report_rules(const struct engine *e, const struct tally *t)
{
	char a[WB_ADDR_STRLEN];
	size_t i, j, shown, n = smtp_rules_count(e->rules);

	printf("Rules:\n");
	for (i = 0; i < n && i < ENGINE_MAX_RULES; i++) {
		const struct smtp_rule_info *r = smtp_rules_get(e->rules, i);

		printf("  %-14s %6llu%s", r->name,
		    (unsigned long long)e->st.hits[i],
		    r->offence && r->weight > 0 ? "" : "  (not an offence)");
		if (e->st.limit_hits[i] > 0)
			printf("  (%llu replies at a PCRE2 limit: not "
			    "matched)", (unsigned long long)e->st.limit_hits[i]);
		printf("\n");
	}
	printf("  %-14s %6llu  (4xx/5xx no rule matched)\n\n", "(none)",
	    (unsigned long long)e->st.unmatched);
	printf("Offenders: %llu offences\n", (unsigned long long)
	    e->st.offences);
	for (i = 0; i < n; i++) {
		const struct smtp_rule_info *r = smtp_rules_get(e->rules, i);

		for (j = shown = 0; j < t->n; j++) {
			if (t->v[j].rule != r->name)
				continue;
			if (shown == 0)
				printf("  %-14s", r->name);
			else if (shown % 4 == 0 && shown < LIST_MAX)
				printf("\n  %-14s", "");
			if (shown++ < LIST_MAX)
				printf(" %s (%u)", wb_addr_str(&t->v[j].addr, a),
				    t->v[j].count);
		}
		if (shown > LIST_MAX)
			printf("\n  %-14s and %zu more", "", shown - LIST_MAX);
		if (shown)
			printf("\n");
	}
	if (t->unlisted > 0)
		printf("  and %llu more offences not listed\n",
		    (unsigned long long)t->unlisted);
}

static void
report(const struct engine *e, const struct sniff_stats *st, int nfiles,
    int nbad, const struct tally *t, const struct jail *bn, bool apply)
{
	struct ban_policy_stats ps;
	size_t shown = 0;

	report_packets(st, nfiles, nbad);
	printf("Sessions: %llu SMTP (%llu TLS, not inspectable)\n",
	    (unsigned long long)e->st.sessions,
	    (unsigned long long)e->st.tls_sessions);
	if (st->evictions > 0 || st->timeouts > 0)
		printf("          %llu evicted (table full), %llu idle timed "
		    "out\n", (unsigned long long)st->evictions,
		    (unsigned long long)st->timeouts);
	printf("Replies:  %llu, of which %llu 4xx/5xx\n\n",
	    (unsigned long long)e->st.replies,
	    (unsigned long long)e->st.rejects);
	report_rules(e, t);
	ban_policy_stats(bn->policy, &ps);
	printf("\n%s: %llu bans (%llu offences from ignored addresses",
	    apply ? "Banned" : "Would ban", (unsigned long long)ps.bans_total,
	    (unsigned long long)ps.ignored);
	if (bn->outbound > 0)
		printf(", %llu in sessions opened by capture.servers",
		    (unsigned long long)bn->outbound);
	if (ps.refused > 0)
		printf(", %llu from ranges never banned",
		    (unsigned long long)ps.refused);
	printf(")\n");
	(void)ban_policy_foreach(bn->policy, BAN_ACTIVE | BAN_HISTORY,
	    print_ban, &shown);
	if (shown > LIST_MAX)
		printf("  and %zu more addresses\n", shown - LIST_MAX);
}

/* The dry-run backend's "would ban" lines duplicate the report. */
static void
quiet_log(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	if (level != BAN_LOG_INFO)
		fprintf(stderr, "wireban: %s\n", line);
}

/*
 * A progress line on a terminal, for a capture that takes more than a
 * second: how far into the file, packets per second, sessions and
 * offences so far; rewritten in place four times a second and cleared
 * at the end. Never with --json, never when stderr is not a terminal.
 */
struct progress {
	const char	*name;
	long long	 size;		/* bytes, 0: unknown (stdin) */
	wb_usec		 t0, last;
	bool		 on, shown;
};

static wb_usec
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
progress_start(struct progress *pg, const char *name, bool json)
{
	struct stat sb;

	memset(pg, 0, sizeof(*pg));
	pg->name = name;
	pg->on = !json && isatty(STDERR_FILENO);
	if (pg->on && strcmp(name, "-") != 0 && stat(name, &sb) == 0)
		pg->size = (long long)sb.st_size;
	pg->t0 = pg->last = mono_now();
}

static void
progress(struct progress *pg, struct sniff *sn, const struct engine *e)
{
	struct sniff_stats st;
	wb_usec now;
	double secs;
	long long at;

	if (!pg->on)
		return;
	now = mono_now();
	if (now - pg->t0 < WB_USEC_PER_SEC || now - pg->last < 250000)
		return;
	pg->last = now;
	sniff_get_stats(sn, &st);
	secs = (double)(now - pg->t0) / 1e6;
	/* A pcap record is the frame plus a 16-byte header: near enough. */
	at = (long long)(st.bytes + 16 * st.packets);
	if (pg->size > 0 && at > pg->size)
		at = pg->size;
	if (pg->size > 0)
		fprintf(stderr, "\r%s: %3lld%% of %.1f MB, %.0f packets/s, "
		    "%llu sessions, %llu offences\033[K", pg->name,
		    at * 100 / pg->size, (double)pg->size / 1e6,
		    (double)st.packets / secs,
		    (unsigned long long)e->st.sessions,
		    (unsigned long long)e->st.offences);
	else
		fprintf(stderr, "\r%s: %.1f MB, %.0f packets/s, %llu sessions, "
		    "%llu offences\033[K", pg->name, (double)at / 1e6,
		    (double)st.packets / secs,
		    (unsigned long long)e->st.sessions,
		    (unsigned long long)e->st.offences);
	pg->shown = true;
}

static void
progress_end(struct progress *pg)
{
	if (pg->shown)
		fprintf(stderr, "\r\033[K");
	pg->shown = false;
}

static wb_usec
wall_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (wb_usec)tv.tv_sec * WB_USEC_PER_SEC + tv.tv_usec;
}

/*
 * Self for a replay: capture.servers, and with --apply (the bans land
 * on this host) this host's own addresses too. A capture does not say
 * which host took it, so nothing else is: an address is never self
 * because of what a peer did (it accepted a connection).
 */
static void
replay_self(struct replay *r, const struct settings *s, bool apply)
{
	struct host_addrs h;

	if (!s->ignoreself || !apply)
		return;
	if (host_addresses(&h) == 0) {
		(void)jail_set_host(&r->jail, h.addr, h.bits, h.n);
		host_addresses_free(&h);
	}
}

int
cmd_replay(struct settings *s, struct opts *o)
{
	struct engine e = { 0 };
	struct sniff_stats sum = { 0 }, st;
	struct sniff_handlers h;
	struct replay r = { 0 };
	struct progress pg;
	struct sniff *sn;
	char err[512];
	int i, rc, nbad = 0;
	long applied = 0;

	if (o->nargs == 0) {
		fprintf(stderr, "wireban: replay: no capture file given\n");
		return 2;
	}
	ban_log_set(quiet_log, NULL);
	/* Applied bans outlive the replay; a later watch expires them. */
	s->fw.keep_on_close = true;
	if (events_open(&r.ev, o->json ? stdout : NULL) < 0 ||
	    jail_init(&r.jail, s, o->apply ? NULL : "dry-run",
	    o->apply ? s->state_path : NULL, wall_now(), err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "wireban: %s\n", err);
		jail_fini(&r.jail);
		events_close(&r.ev);
		return 1;
	}
	replay_self(&r, s, o->apply);
	r.jail.ev = &r.ev;
	r.jail.hold = o->apply;
	e.rules = s->rules;
	e.ev = &r.ev;
	e.json_all = false;
	e.on_offence = tally_offence;
	e.offence_arg = &r;
	e.tick = jail_tick;
	e.tick_arg = &r.jail;
	engine_handlers(&e, &h);

	for (i = 0; i < o->nargs; i++) {
		sn = sniff_open_file(&s->capture, o->args[i], &h, err,
		    sizeof(err));
		if (sn == NULL) {
			fprintf(stderr, "wireban: %s\n", err);
			nbad++;
			continue;
		}
		progress_start(&pg, o->args[i], o->json);
		while ((rc = sniff_dispatch(sn, 4096, err, sizeof(err))) > 0)
			progress(&pg, sn, &e);
		progress_end(&pg);
		if (rc < 0) {
			fprintf(stderr, "wireban: %s\n", err);
			nbad++;
		}
		sniff_get_stats(sn, &st);
		sniff_close(sn);
		add_stats(&sum, &st);
	}
	events_flush(&r.ev);
	if (o->apply && (applied = jail_apply_held(&r.jail, r.jail.now,
	    wall_now())) < 0)
		r.jail.errors++;
	if (!o->json)
		report(&e, &sum, o->nargs, nbad, &r.tally, &r.jail, o->apply);
	else if (sum.ipv6 > 0)
		fprintf(stderr, "wireban: %llu IPv6 packets not inspected\n",
		    (unsigned long long)sum.ipv6);
	if (o->apply)
		fprintf(stderr, "wireban: %ld bans applied from now through "
		    "%s and kept in %s\n", applied, r.jail.backend->name,
		    s->state_path);
	fflush(stdout);
	free(r.tally.v);
	free(r.tally.idx);
	rc = nbad > 0 || r.jail.errors > 0 ? 1 : 0;
	jail_fini(&r.jail);
	events_close(&r.ev);
	return rc;
}
