/*
 * serve.c - the answers of a running watch on its control socket:
 * status, list, ban, unban. Each runs on the daemon's loop and only
 * reads or changes memory; `list` is made a page at a time as the
 * client reads it (control.c), so 100,000 bans are never one buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "watch.h"

/* Lines of `list` per page. */
#define LIST_PAGE	256

static unsigned long long
ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* The upper bound of the bucket holding quantile q, in ms. */
static double
quantile_ms(const struct ban_enforcer_stats *st, double q)
{
	uint64_t want = (uint64_t)((double)st->lat_count * q + 0.5), seen = 0;
	size_t i;

	if (st->lat_count == 0)
		return 0;
	if (want == 0)
		want = 1;
	for (i = 0; i <= BAN_LAT_BUCKETS; i++) {
		seen += st->lat_buckets[i];
		if (seen >= want)
			return i < BAN_LAT_BUCKETS ?
			    ban_latency_bounds[i] * 1000 : -1;
	}
	return -1;
}

/* Rules whose pattern gave up at a PCRE2 limit, when there are any. */
static void
limit_line(struct watch *w, struct control_client *c)
{
	size_t i, n = smtp_rules_count(w->e.rules);
	bool any = false;

	for (i = 0; i < n && i < ENGINE_MAX_RULES; i++) {
		if (w->e.st.limit_hits[i] == 0)
			continue;
		control_printf(c, "%s %s: %llu replies at a PCRE2 limit",
		    any ? "," : "rules:     ", smtp_rules_get(w->e.rules,
		    i)->name, ull(w->e.st.limit_hits[i]));
		any = true;
	}
	if (any)
		control_printf(c, " (not matched by that rule)\n");
}

static void
status(struct watch *w, struct control_client *c)
{
	struct ban_enforcer_stats es;
	struct ban_policy_stats ps;
	struct sniff_stats st;
	char hint[256];
	double p50, p99;
	size_t i;

	sniff_get_stats(w->sn, &st);
	ban_policy_stats(w->j.policy, &ps);
	ban_enforcer_stats(w->j.enf, &es);
	w->j.backend->hint(hint, sizeof(hint));
	control_printf(c, "wireban watch on %s, up %llds\n",
	    w->s->interface ? w->s->interface : "any",
	    (long long)((watch_now() - w->started) / WB_USEC_PER_SEC));
	control_printf(c, "sessions:   %llu open, %llu seen, %llu TLS (not "
	    "inspectable)\n", ull(w->e.nconns), ull(w->e.st.sessions),
	    ull(w->e.st.tls_sessions));
	control_printf(c, "replies:    %llu, %llu 4xx/5xx, %llu offences "
	    "(%llu in sessions this host opened: against nobody)\n",
	    ull(w->e.st.replies), ull(w->e.st.rejects), ull(w->e.st.offences),
	    ull(w->j.outbound));
	limit_line(w, c);
	control_printf(c, "banned:     %llu now, %llu in all, %llu lifted\n",
	    ull(ps.banned), ull(ps.bans_total), ull(ps.unbans_total));
	control_printf(c, "policy:     %llu prefixes tracked (max_tracked "
	    "%zu, reached %llu times), %llu offences from ignored addresses, "
	    "%llu from ranges never banned\n", ull(ps.tracked),
	    w->s->policy.max_tracked, ull(ps.full), ull(ps.ignored),
	    ull(ps.refused));
	control_printf(c, "capture:    %llu packets, %llu dropped by the "
	    "kernel, %llu by the interface\n", ull(st.packets),
	    ull(st.pcap_drop), ull(st.pcap_ifdrop));
	control_printf(c, "streams:    %llu evicted (table full), %llu idle "
	    "timed out\n", ull(st.evictions), ull(st.timeouts));
	control_printf(c, "IPv6:       %llu packets not inspected\n",
	    ull(st.ipv6));
	control_printf(c, "firewall:   %s%s%s%s\n", w->j.backend->name,
	    w->j.nbackends > 1 ? " (and others, below)" : "",
	    hint[0] != '\0' ? "; see the bans with: " : "", hint);
	control_printf(c, "ban queue:  %zu queued now, %zu not yet committed, "
	    "%llu handed over, %llu committed in %llu batches (largest "
	    "%llu)\n", es.depth, es.pending, ull(es.queued), ull(es.applied),
	    ull(es.batches), ull(es.largest));
	control_printf(c, "            %llu found the queue full (%llu "
	    "resyncs), %llu re-armed, %llu commit errors, %llu journal "
	    "errors\n", ull(es.deferred), ull(es.resyncs), ull(es.rearmed),
	    ull(es.commit_errors), ull(es.journal_errors));
	if (es.fw[0].capacity > 0)
		control_printf(c, "sets:       %llu of %zu elements, %llu "
		    "refused (set full)\n", ull(ps.banned), es.fw[0].capacity,
		    ull(es.fw[0].set_full));
	else
		control_printf(c, "sets:       %llu elements, %llu refused "
		    "(set full)\n", ull(ps.banned), ull(es.fw[0].set_full));
	for (i = 1; i < w->j.nbackends; i++)
		control_printf(c, "%-11s %llu delivered, %llu pending, %llu "
		    "errors%s%s\n", w->j.backends[i]->name,
		    ull(es.fw[i].delivered), ull(es.fw[i].pending),
		    ull(es.fw[i].errors), es.fw[i].last_error[0] ?
		    "; last error: " : "", es.fw[i].last_error);
	p50 = quantile_ms(&es, 0.5);
	p99 = quantile_ms(&es, 0.99);
	if (es.lat_count > 0)
		control_printf(c, "latency:    decision to kernel: p50 <= "
		    "%.2f ms, p99 <= %.2f ms (%llu bans)\n", p50, p99,
		    ull(es.lat_count));
	control_printf(c, "state:      %s\n", w->j.state != NULL ?
	    w->s->state_path : "(none)");
	control_printf(c, "control:    %zu clients\n",
	    control_clients(w->ctl));
}

/* `list`: a sorted copy of the banned prefixes, popped a page a time. */
struct lister {
	struct watch	*w;
	struct ban	*v;		/* a min-heap by prefix */
	size_t		 n;
};

static int
pfx_cmp(const struct ban *a, const struct ban *b)
{
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return c != 0 ? c : (int)a->bits - (int)b->bits;
}

static void
sift_down(struct ban *v, size_t n, size_t i)
{
	struct ban t;

	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;

		if (l < n && pfx_cmp(&v[l], &v[m]) < 0)
			m = l;
		if (r < n && pfx_cmp(&v[r], &v[m]) < 0)
			m = r;
		if (m == i)
			return;
		t = v[i];
		v[i] = v[m];
		v[m] = t;
		i = m;
	}
}

static void
gather(void *arg, const struct ban *b)
{
	struct lister *l = arg;

	l->v[l->n++] = *b;
}

static bool
list_page(void *arg, struct control_client *c)
{
	struct lister *l = arg;
	char a[WB_PREFIX_STRLEN];
	wb_usec now = watch_now(), left;
	struct ban b;
	int i;

	for (i = 0; i < LIST_PAGE && l->n > 0; i++) {
		struct ban top = l->v[0];

		l->v[0] = l->v[--l->n];
		sift_down(l->v, l->n, 0);
		/* As it stands now: lifted since, or changed. */
		if (!ban_policy_get(l->w->j.policy, &top.addr, &b) ||
		    pfx_cmp(&b, &top) != 0)
			continue;
		left = b.expiry - now;
		control_printf(c, "%-43s %-14s left %llds, ban #%u\n",
		    wb_prefix_str(&b.addr, b.bits, a), b.rule,
		    (long long)(left > 0 ? left / WB_USEC_PER_SEC : 0),
		    b.count);
	}
	if (l->n > 0)
		return true;
	control_printf(c, "OK\n");
	return false;
}

static void
list_free(void *arg)
{
	struct lister *l = arg;

	free(l->v);
	free(l);
}

static void
list(struct watch *w, struct control_client *c)
{
	struct ban_policy_stats ps;
	struct lister *l;
	size_t i;

	ban_policy_stats(w->j.policy, &ps);
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (ps.banned > 0 && (l->v = malloc(ps.banned *
	    sizeof(*l->v))) == NULL)) {
		free(l);
		control_printf(c, "ERR out of memory\n");
		return;
	}
	l->w = w;
	(void)ban_policy_foreach(w->j.policy, BAN_ACTIVE | BAN_UNSORTED,
	    gather, l);
	for (i = l->n / 2; i-- > 0; )
		sift_down(l->v, l->n, i);
	control_page(c, list_page, l, list_free);
}

/* "ADDR" or "ADDR/BITS" into a, *bits (-1 for a bare address). */
static int
parse_prefix(const char *s, struct wb_addr *a, int *bits)
{
	if (strchr(s, '/') == NULL) {
		*bits = -1;
		return wb_addr_parse(a, s);
	}
	return ban_cidr_parse(s, a, bits);
}

static void
ban_cmd(struct watch *w, struct control_client *c, const char *arg,
    const char *dur_s, const char *flag)
{
	char err[256], a[WB_PREFIX_STRLEN];
	struct wb_addr addr;
	bool force = flag != NULL && strcmp(flag, "force") == 0;
	bool capped;
	wb_usec dur = 0;
	int bits, rc;

	if (dur_s != NULL && flag == NULL && strcmp(dur_s, "force") == 0) {
		force = true;
		dur_s = NULL;
	}
	if (parse_prefix(arg, &addr, &bits) < 0) {
		control_printf(c, "ERR %s: not an IPv4 or IPv6 address or "
		    "prefix\n", arg);
		return;
	}
	if (flag != NULL && !force) {
		control_printf(c, "ERR %s: unknown word\n", flag);
		return;
	}
	if (dur_s != NULL && (config_parse_duration(dur_s, &dur) < 0 ||
	    dur <= 0)) {
		control_printf(c, "ERR %s: not a duration above 0 (30s, 10m, "
		    "1h, 2d, 1w)\n", dur_s);
		return;
	}
	rc = jail_ban(&w->j, &addr, bits, dur, force, watch_now(), &capped,
	    err, sizeof(err));
	if (rc < 0) {
		control_printf(c, "ERR %s: %s\n", arg, err);
		return;
	}
	if (bits < 0)
		bits = wb_addr_bits(&addr);
	wb_addr_mask(&addr, &addr, bits);
	if (capped)
		control_printf(c, "duration capped at policy.bantime_max "
		    "(%llds); add \"force\" to ban for longer\n", (long long)
		    (w->s->policy.bantime_max / WB_USEC_PER_SEC));
	control_printf(c, "%s %s\nOK\n", rc == 1 ? "banned" :
	    "already banned, expiry moved:", wb_prefix_str(&addr, bits, a));
}

static void
unban_cmd(struct watch *w, struct control_client *c, const char *arg)
{
	char a[WB_PREFIX_STRLEN];
	struct wb_addr addr;
	struct ban b;
	int bits;

	if (parse_prefix(arg, &addr, &bits) < 0) {
		control_printf(c, "ERR %s: not an IPv4 or IPv6 address or "
		    "prefix\n", arg);
		return;
	}
	if (jail_unban(&w->j, &addr, bits, watch_now(), &b) == 1)
		control_printf(c, "unbanned %s\nOK\n",
		    wb_prefix_str(&b.addr, b.bits, a));
	else
		control_printf(c, "was not banned: %s\nOK\n", arg);
}

void
watch_serve(void *arg, struct control_client *c, char *line)
{
	struct watch *w = arg;
	char *verb, *a1, *a2, *a3, *save = NULL;

	verb = strtok_r(line, " ", &save);
	a1 = strtok_r(NULL, " ", &save);
	a2 = strtok_r(NULL, " ", &save);
	a3 = strtok_r(NULL, " ", &save);
	if (verb == NULL) {
		control_printf(c, "ERR empty request\n");
	} else if (strcmp(verb, "status") == 0 && a1 == NULL) {
		status(w, c);
		control_printf(c, "OK\n");
	} else if (strcmp(verb, "status") == 0 && strcmp(a1, "prometheus") ==
	    0 && a2 == NULL) {
		/* No "OK": a scraper reads the text as it is. */
		metrics_to_client(w, c);
	} else if (strcmp(verb, "list") == 0 && a1 == NULL) {
		list(w, c);
	} else if (strcmp(verb, "ban") == 0 && a1 != NULL &&
	    strtok_r(NULL, " ", &save) == NULL) {
		ban_cmd(w, c, a1, a2, a3);
	} else if (strcmp(verb, "unban") == 0 && a1 != NULL && a2 == NULL) {
		unban_cmd(w, c, a1);
	} else {
		control_printf(c, "ERR unknown request '%.40s'\n", verb);
	}
}
