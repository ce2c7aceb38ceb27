/*
 * crowdsec-storm.c - a storm of bans through the enforcer into the
 * crowdsec backend and a real LAPI (tests/bench/crowdsec-storm.sh
 * starts one): N bans handed over as fast as the capture thread would,
 * then the time until the LAPI has them all, the POSTs it took and
 * their sizes, and what the enforcer's commits cost meanwhile.
 *
 *     crowdsec-storm URL LOGIN PASSWORD_FILE SPOOL N [BATCH]
 *
 * Prints "key value" lines for the script. Exit 1 when not all were
 * delivered within 5 minutes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"
#include "../../bans/fw_crowdsec.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
quiet(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	if (level == BAN_LOG_ERR)
		fprintf(stderr, "wireban: %s\n", line);
}

int
main(int argc, char **argv)
{
	struct ban_enforcer_config ec;
	struct ban_enforcer_stats es;
	struct cs_worker_stats ws;
	struct ban_fw_config c;
	struct ban_enforcer *e;
	struct ban_fw_stats st;
	char err[256];
	double t0, t1, t2, first = 0;
	long n, i;
	size_t k;
	struct ban b;

	if (argc < 6) {
		fprintf(stderr, "usage: crowdsec-storm URL LOGIN PWFILE SPOOL "
		    "N [BATCH]\n");
		return 2;
	}
	n = strtol(argv[5], NULL, 10);
	ban_log_set(quiet, NULL);
	ban_fw_config_defaults(&c);
	c.cs_url = argv[1];
	c.cs_login = argv[2];
	c.cs_password_file = argv[3];
	c.cs_spool = argv[4];
	if (argc > 6)
		c.cs_batch = (size_t)strtol(argv[6], NULL, 10);
	if (ban_backend_crowdsec.open(&c) != 0)
		return 1;
	memset(&ec, 0, sizeof(ec));
	ec.backends[0] = &ban_backend_crowdsec;
	ec.nbackends = 1;
	ec.queue = 65536;
	ec.batch = 8192;
	ec.fsync_delay = 50000;
	if ((e = ban_enforcer_start(&ec, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		memset(&b, 0, sizeof(b));
		b.addr.family = AF_INET;
		b.addr.a[0] = 10;
		b.addr.a[1] = (uint8_t)(i >> 16);
		b.addr.a[2] = (uint8_t)(i >> 8);
		b.addr.a[3] = (uint8_t)i;
		b.bits = 32;
		snprintf(b.rule, sizeof(b.rule), "relay");
		b.score = 3;
		b.count = 1;
		b.start = ban_cs_wall();
		b.expiry = b.start + 3600 * WB_USEC_PER_SEC;
		/* The ring (65536) holds the storm: none is deferred. */
		if (ban_enforcer_ban(e, &b) != 0) {
			fprintf(stderr, "the enforcer's queue is full\n");
			return 1;
		}
	}
	t1 = now_s();
	for (;;) {
		ban_backend_crowdsec.stats(&st);
		if (first == 0 && st.delivered > 0)
			first = now_s();
		if (st.delivered >= (uint64_t)n || now_s() - t0 > 300)
			break;
		usleep(2000);
	}
	t2 = now_s();
	ban_enforcer_stats(e, &es);
	ban_cs_worker_stats(&ws);
	printf("bans %ld\n", n);
	printf("handover_s %.4f\n", t1 - t0);
	printf("first_delivered_s %.4f\n", first - t0);
	printf("all_delivered_s %.3f\n", t2 - t0);
	printf("delivered %llu\n", (unsigned long long)st.delivered);
	printf("pushes_per_s %.0f\n", (double)st.delivered / (t2 - t0));
	printf("posts %llu\n", (unsigned long long)ws.posts);
	printf("logins %llu\n", (unsigned long long)ws.logins);
	printf("failures %llu\n", (unsigned long long)ws.failures);
	printf("largest %llu\n", (unsigned long long)ws.largest);
	printf("mean_batch %.1f\n", ws.posts ? (double)st.delivered /
	    (double)ws.posts : 0.0);
	printf("hist");
	for (k = 0; k < CS_HIST; k++)
		if (ws.hist[k] > 0)
			printf(" %zu-%zu:%llu", (size_t)1 << k,
			    ((size_t)2 << k) - 1, (unsigned long long)ws.hist[k]);
	printf("\n");
	printf("enforcer_commits %llu\n", (unsigned long long)es.batches);
	printf("enforcer_largest %llu\n", (unsigned long long)es.largest);
	printf("enforcer_lat_mean_ms %.3f\n", es.lat_count ?
	    es.lat_sum / (double)es.lat_count * 1000 : 0.0);
	ban_enforcer_stop(e, NULL);
	ban_backend_crowdsec.close();
	return st.delivered >= (uint64_t)n ? 0 : 1;
}
