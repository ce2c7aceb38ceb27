/*
 * metrics.c - the running watch's counters in Prometheus' text format
 * (exposition format 0.0.4): for node_exporter's textfile collector
 * (paths.metrics, rewritten atomically every paths.metrics_interval)
 * and for `wireban status --prometheus`.
 *
 * Names follow Prometheus' conventions: a unit suffix, counters end in
 * _total, one HELP and one TYPE line per family, labels for what would
 * otherwise be several names (where, class, rule, family, backend).
 * The same counters `wireban status` prints in words, no others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "watch.h"

#ifndef WIREBAN_VERSION
#define WIREBAN_VERSION "0.2"
#endif

typedef void out_fn(void *arg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
family(out_fn *out, void *arg, const char *name, const char *type,
    const char *help)
{
	out(arg, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(out_fn *out, void *arg, const char *name, const char *type,
    const char *help, unsigned long long v)
{
	family(out, arg, name, type, help);
	out(arg, "%s %llu\n", name, v);
}

/* A family with one sample per backend: the counter at off in its stats. */
static void
per_backend(out_fn *out, void *arg, const struct watch *w,
    const struct ban_enforcer_stats *es, const char *name, const char *type,
    const char *help, size_t off)
{
	size_t i;

	family(out, arg, name, type, help);
	for (i = 0; i < w->j.nbackends; i++) {
		uint64_t v;

		memcpy(&v, (const char *)&es->fw[i] + off, sizeof(v));
		out(arg, "%s{backend=\"%s\"} %llu\n", name,
		    w->j.backends[i]->name, (unsigned long long)v);
	}
}

/* A label value: backslash, quote and newline escaped. */
static const char *
label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[o++] = '\\';
			buf[o++] = *s == '\n' ? 'n' : *s;
		} else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void
render(struct watch *w, out_fn *out, void *arg)
{
	static const char *const classes[] = { "2xx", "3xx", "4xx", "5xx" };
	struct ban_enforcer_stats es;
	struct ban_policy_stats ps;
	struct sniff_stats st;
	char l[128];
	size_t i, n;
	uint64_t cum;

	sniff_get_stats(w->sn, &st);
	ban_policy_stats(w->j.policy, &ps);
	ban_enforcer_stats(w->j.enf, &es);

	family(out, arg, "wireban_build_info", "gauge",
	    "wireban's version, as a label");
	out(arg, "wireban_build_info{version=\"%s\"} 1\n", WIREBAN_VERSION);
	one(out, arg, "wireban_start_time_seconds", "gauge",
	    "When this watch started, seconds since the epoch",
	    (unsigned long long)(w->started / WB_USEC_PER_SEC));
	one(out, arg, "wireban_packets_total", "counter",
	    "Link-layer frames read from the capture",
	    (unsigned long long)st.packets);
	family(out, arg, "wireban_capture_drops_total", "counter",
	    "Packets the capture lost: in the kernel's ring, at the interface");
	out(arg, "wireban_capture_drops_total{where=\"kernel\"} %llu\n",
	    (unsigned long long)st.pcap_drop);
	out(arg, "wireban_capture_drops_total{where=\"interface\"} %llu\n",
	    (unsigned long long)st.pcap_ifdrop);
	one(out, arg, "wireban_sessions_total", "counter",
	    "SMTP sessions followed", (unsigned long long)w->e.st.sessions);
	one(out, arg, "wireban_sessions_open", "gauge",
	    "SMTP sessions followed now", (unsigned long long)w->e.nconns);
	one(out, arg, "wireban_tls_sessions_total", "counter",
	    "Sessions that went TLS (not inspectable)",
	    (unsigned long long)w->e.st.tls_sessions);
	family(out, arg, "wireban_replies_total", "counter",
	    "Server replies read, by class");
	for (i = 0; i < 4; i++)
		out(arg, "wireban_replies_total{class=\"%s\"} %llu\n",
		    classes[i], (unsigned long long)w->e.st.by_class[i]);
	family(out, arg, "wireban_offences_total", "counter",
	    "Replies that counted against their client, by rule");
	n = smtp_rules_count(w->e.rules);
	for (i = 0; i < n && i < ENGINE_MAX_RULES; i++) {
		const struct smtp_rule_info *r = smtp_rules_get(w->e.rules, i);

		if (!r->offence || r->weight <= 0)
			continue;
		out(arg, "wireban_offences_total{rule=\"%s\"} %llu\n",
		    label(r->name, l, sizeof(l)),
		    (unsigned long long)w->e.st.offences_by_rule[i]);
	}
	family(out, arg, "wireban_rule_limit_hits_total", "counter",
	    "Replies a rule's pattern gave up on at a PCRE2 limit");
	for (i = 0; i < n && i < ENGINE_MAX_RULES; i++)
		out(arg, "wireban_rule_limit_hits_total{rule=\"%s\"} %llu\n",
		    label(smtp_rules_get(w->e.rules, i)->name, l, sizeof(l)),
		    (unsigned long long)w->e.st.limit_hits[i]);
	family(out, arg, "wireban_bans_active", "gauge",
	    "Prefixes banned now, by address family");
	out(arg, "wireban_bans_active{family=\"ipv4\"} %llu\n",
	    (unsigned long long)(ps.banned - ps.banned6));
	out(arg, "wireban_bans_active{family=\"ipv6\"} %llu\n",
	    (unsigned long long)ps.banned6);
	one(out, arg, "wireban_bans_total", "counter", "Bans started",
	    (unsigned long long)ps.bans_total);
	one(out, arg, "wireban_unbans_total", "counter",
	    "Bans ended (expired or lifted)",
	    (unsigned long long)ps.unbans_total);
	one(out, arg, "wireban_tracked_prefixes", "gauge",
	    "Prefixes the policy remembers (offenders, bans, history)",
	    (unsigned long long)ps.tracked);
	one(out, arg, "wireban_tracked_full_total", "counter",
	    "Times policy.max_tracked was reached",
	    (unsigned long long)ps.full);
	one(out, arg, "wireban_ban_queue_depth", "gauge",
	    "Operations queued for the enforcer now", (unsigned long long)
	    es.depth);
	one(out, arg, "wireban_ban_pending", "gauge",
	    "Operations handed over and not yet committed",
	    (unsigned long long)es.pending);
	one(out, arg, "wireban_ban_batches_total", "counter",
	    "Firewall commits of the enforcer", (unsigned long long)
	    es.batches);
	one(out, arg, "wireban_ban_deferred_total", "counter",
	    "Operations that found the queue full (applied by a resync)",
	    (unsigned long long)es.deferred);
	one(out, arg, "wireban_journal_errors_total", "counter",
	    "Failed writes or fsyncs of the ban journal",
	    (unsigned long long)es.journal_errors);
	one(out, arg, "wireban_commit_errors_total", "counter",
	    "Failed firewall commits", (unsigned long long)es.commit_errors);
	family(out, arg, "wireban_ban_latency_seconds", "histogram",
	    "From a decision to its commit in the firewall");
	for (i = cum = 0; i <= BAN_LAT_BUCKETS; i++) {
		cum += es.lat_buckets[i];
		if (i < BAN_LAT_BUCKETS)
			out(arg, "wireban_ban_latency_seconds_bucket{le=\"%g\"} "
			    "%llu\n", ban_latency_bounds[i],
			    (unsigned long long)cum);
		else
			out(arg, "wireban_ban_latency_seconds_bucket{le=\"+Inf\"}"
			    " %llu\n", (unsigned long long)cum);
	}
	out(arg, "wireban_ban_latency_seconds_sum %.6f\n", es.lat_sum);
	out(arg, "wireban_ban_latency_seconds_count %llu\n",
	    (unsigned long long)es.lat_count);
	per_backend(out, arg, w, &es, "wireban_set_full_total", "counter",
	    "Bans a backend's set refused because it was full",
	    offsetof(struct ban_fw_stats, set_full));
	per_backend(out, arg, w, &es, "wireban_backend_errors_total",
	    "counter", "Failed backend operations",
	    offsetof(struct ban_fw_stats, errors));
	per_backend(out, arg, w, &es, "wireban_backend_pending", "gauge",
	    "Deliveries a remote backend has yet to make",
	    offsetof(struct ban_fw_stats, pending));
	family(out, arg, "wireban_evictions_total", "counter",
	    "Connections or handshakes dropped for room, by kind");
	out(arg, "wireban_evictions_total{kind=\"half_open\"} %llu\n",
	    (unsigned long long)st.hs_overflow);
	out(arg, "wireban_evictions_total{kind=\"idle\"} %llu\n",
	    (unsigned long long)st.evicted_idle);
	out(arg, "wireban_evictions_total{kind=\"busy\"} %llu\n",
	    (unsigned long long)st.evicted_busy);
	one(out, arg, "wireban_handshake_timeouts_total", "counter",
	    "Pending handshakes never completed in time",
	    (unsigned long long)st.hs_timeouts);
	one(out, arg, "wireban_handshakes_pending", "gauge",
	    "Handshakes waiting for the client's ACK",
	    (unsigned long long)st.hs_pending);
	one(out, arg, "wireban_idle_timeouts_total", "counter",
	    "Followed connections closed for idling",
	    (unsigned long long)st.timeouts);
	family(out, arg, "wireban_ip_packets_total", "counter",
	    "TCP packets to or from a watched port, by family and fate");
	out(arg, "wireban_ip_packets_total{family=\"ipv4\",inspected=\"yes\"} "
	    "%llu\n", (unsigned long long)st.ipv4);
	out(arg, "wireban_ip_packets_total{family=\"ipv6\",inspected=\"yes\"} "
	    "%llu\n", (unsigned long long)st.ipv6);
	out(arg, "wireban_ip_packets_total{family=\"ipv6\",inspected=\"no\"} "
	    "%llu\n", (unsigned long long)st.ipv6_uninspected);
	one(out, arg, "wireban_malformed_packets_total", "counter",
	    "Packets whose headers cannot be right",
	    (unsigned long long)st.malformed);
	one(out, arg, "wireban_outbound_offences_total", "counter",
	    "Rejections in sessions this host opened (against nobody)",
	    (unsigned long long)w->j.outbound);
}

static void	 to_client(void *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 to_file(void *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
to_client(void *arg, const char *fmt, ...)
{
	struct control_client *c = arg;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	control_printf(c, "%s", buf);
}

static void
to_file(void *arg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vfprintf(arg, fmt, ap);
	va_end(ap);
}

void
metrics_to_client(struct watch *w, struct control_client *c)
{
	render(w, to_client, c);
}

int
metrics_write(struct watch *w, const char *path)
{
	char tmp[4096];
	FILE *fp;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	/* For node_exporter's user to read, whatever the umask (the
	 * unit's is 0077): the figures are no secret. */
	if (fd < 0 || fchmod(fd, 0644) != 0 ||
	    (fp = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		(void)unlink(tmp);
		return -1;
	}
	render(w, to_file, fp);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}
