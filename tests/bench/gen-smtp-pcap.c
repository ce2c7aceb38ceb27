/*
 * gen-smtp-pcap.c - writes a classic pcap (Ethernet, IPv4 or IPv6,
 * microsecond timestamps) of synthetic exim SMTP sessions for the
 * benchmarks and the storm test.
 *
 *     gen-smtp-pcap [-s BYTES | -n SESSIONS] [-w WIDTH] [-r RATIO]
 *                   [-6] [-S SEED] [-q] -o FILE
 *     gen-smtp-pcap -c SESSIONS [-I IDLE_SECONDS] [-6] [-S SEED] [-q] -o FILE
 *     gen-smtp-pcap -T [-p PROBERS] [-a ACCEPTED] [-w WIDTH] [-L LIST]
 *                   [-6] [-S SEED] [-q] -o FILE
 *
 * Mode 1 (default, -s 1G): sessions as a busy MX sees them. WIDTH
 * (default 200) sessions are open at once and advance round-robin, one
 * turn (usually one packet) each; a finished session's slot takes the
 * next one until the size (-s, bytes written) or the count (-n) is
 * reached. Each session: three-way handshake, "220 ... ESMTP Exim 4.96"
 * greeting, EHLO and a multi-line 250 (SIZE, PIPELINING, CHUNKING, AUTH),
 * then a pipelined MAIL + 1-5 RCPT + DATA in one segment, replies in one
 * segment, the body (1 KB to 1 MB, mostly small: 1K * 1024^(u^3), median
 * ~2.4 KB, mean ~58 KB) in MSS-sized segments with an ACK from the
 * server every second segment, "250 OK id=...", QUIT/221, FIN both ways.
 * About RATIO (0.30) of the sessions are rejected as exim does: relay
 * (550 relay not permitted to every RCPT, then the pipelining 503 for
 * DATA), unknown users (some or all RCPTs), a two-line DNSBL 550, AUTH
 * LOGIN ending in 535 (1-3 tries), and early talkers answered "554 SMTP
 * synchronization error" instead of the greeting.
 *
 * Mode 2 (-c N): N sessions open at the same time: each gets the
 * handshake and greeting (clients arrive 1 ms apart, WIDTH at a time
 * interleaved), then the capture is idle for IDLE_SECONDS (60), then
 * every session is closed with FIN both ways. The first session lives
 * 2 * N ms + IDLE: keep that under wireban's idle_timeout (10 min).
 *
 * Mode 3 (-T): an attack wave. PROBERS (20000) clients, each from its
 * own address, each make one relay probe, packet for packet as the real
 * exim of pcaps/relay.pcap answers it (its texts: "220 mx.wireban.test
 * ESMTP Exim 4.96", the EHLO keywords, "550 relay not permitted", the
 * 221 with the FIN); ACCEPTED (2000) other clients deliver one small
 * message each as in pcaps/clean.pcap ("250 OK id=..."). WIDTH (1000)
 * sessions are open at once. Probers come from 198.18.0.1 up, good
 * clients from 198.19.255.254 down (RFC 2544's 198.18.0.0/15); LIST
 * gets one line per client, "probe ADDR" or "deliver ADDR", in the
 * order they start. 20000 + 2000 clients make 362,000 packets.
 *
 * -6 writes the same traffic over IPv6: client AA.BB.CC.DD is
 * 2001:db8:AABB:CCDD::1 (each in its own /64), the server 192.0.2.1 is
 * 2001:db8:c000:201::1, MSS 1440. With -n (not -s, which counts bytes)
 * the sessions are the same as without -6: the main random stream only
 * sets sessions up, in the order they start; what a session says comes
 * from its own stream and the clock's jitter from a third, so framing
 * changes nothing else.
 *
 * Every packet has correct IPv4 and TCP checksums, TCP timestamps
 * (RFC 7323), valid sequence and ack numbers, and a timestamp from a
 * clock that advances by each frame's wire time at 200 Mbit/s plus
 * jitter. The same arguments and seed give the same file byte for byte.
 * Counts of what was written (and what a parser should find) go to
 * stderr unless -q.
 *
 * Built from gen-smtp-pcap.c (the modes), gen-script.c (what sessions
 * say, one table of turns per kind), gen-content.c (message text, ids)
 * and gen-wire.c (frames, checksums, the file):
 *     cc -O2 -o gen-smtp-pcap gen-*.c -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"

/* Storm clients: probers from 198.18.0.1 up, good ones from 198.19.255.254
 * down, all in the benchmarking range 198.18.0.0/15 (RFC 2544). */
#define STORM_PROBE_BASE	0xc6120001u
#define STORM_OK_TOP		0xc613fffeu
#define STORM_MAX		(STORM_OK_TOP - STORM_PROBE_BASE + 1)

/* ---- the modes -------------------------------------------------------- */

static void
run_busy(uint64_t max_bytes, uint64_t max_sessions, size_t width,
    double ratio)
{
	struct sess *slots = calloc(width, sizeof(*slots));
	char *hdrs = malloc(width * HDR_MAX);
	uint64_t serial = 0;
	size_t i, active = 0;
	bool more = true;

	if (slots == NULL || hdrs == NULL)
		gen_oom();
	for (i = 0; i < width && more; i++) {
		gen_new_session(&slots[i], hdrs + i * HDR_MAX, ++serial, ratio,
		    slots, width);
		active++;
		more = max_sessions ? serial < max_sessions :
		    gen_st.bytes + gen_pending < max_bytes;
	}
	while (active > 0) {
		for (i = 0; i < width; i++) {
			if (gen_done(&slots[i]))
				continue;
			gen_step(&slots[i]);
			if (!gen_done(&slots[i]))
				continue;
			active--;
			more = max_sessions ? serial < max_sessions :
			    gen_st.bytes + gen_pending < max_bytes;
			if (more) {
				gen_new_session(&slots[i], hdrs + i * HDR_MAX,
				    ++serial, ratio, slots, width);
				active++;
			}
		}
	}
	free(slots);
	free(hdrs);
}

static void
run_concurrent(uint64_t n, size_t width, unsigned idle)
{
	struct sess *ss = calloc(n, sizeof(*ss));
	uint64_t i, b, j;
	unsigned t;

	if (ss == NULL)
		gen_oom();
	for (i = 0; i < n; i++) {
		struct sess *s = &ss[i];
		uint64_t x = i;

		s->cip = 0x0a000000u | (uint32_t)(1 + x / 62500) << 16 |
		    (uint32_t)(1 + (x / 250) % 250) << 8 | (uint32_t)(1 + x % 250);
		s->cport = (uint16_t)(32768 + gen_below(28232));
		s->cseq = (uint32_t)gen_rnd();
		s->sseq = (uint32_t)gen_rnd();
		s->cts = (uint32_t)gen_rnd();
		s->sts = (uint32_t)gen_rnd();
		s->cipid = (uint16_t)gen_rnd();
		s->sipid = (uint16_t)gen_rnd();
		s->kind = K_OK;
		gen_st.sessions++;
		gen_st.kinds[K_OK]++;
	}
	/* open: WIDTH clients at a time, 1 ms apart, turns interleaved */
	for (b = 0; b < n; b += width) {
		uint64_t e = b + width < n ? b + width : n;

		for (t = 0; t < 5; t++)
			for (j = b; j < e; j++) {
				struct sess *s = &ss[j];

				switch (t) {
				case 0:
					gen_now_us += 1000;
					gen_emit(s, true, F_SYN, NULL, 0, false);
					break;
				case 1:
					gen_emit(s, false, F_SYN | F_ACK, NULL, 0,
					    false);
					break;
				case 2:
					gen_emit(s, true, F_ACK, NULL, 0, false);
					break;
				case 3:
					gen_greet(s);
					break;
				case 4:
					gen_emit(s, true, F_ACK, NULL, 0, false);
					break;
				}
			}
	}
	gen_now_us += (uint64_t)idle * 1000000;
	/* close: FIN from the client, FIN+ACK from the server, last ACK */
	for (b = 0; b < n; b += width) {
		uint64_t e = b + width < n ? b + width : n;

		for (t = 0; t < 3; t++)
			for (j = b; j < e; j++) {
				struct sess *s = &ss[j];

				if (t == 0) {
					gen_now_us += 1000;
					gen_emit(s, true, F_FIN | F_ACK, NULL, 0,
					    false);
				} else if (t == 1)
					gen_emit(s, false, F_FIN | F_ACK, NULL, 0,
					    false);
				else
					gen_emit(s, true, F_ACK, NULL, 0, false);
			}
	}
	free(ss);
}

/*
 * Mode 3: probers relay probes and good clients one message each, every
 * client from its own address, WIDTH sessions open at once. Which kind
 * starts next is drawn in proportion to what is left of each, so the
 * good clients are spread over the whole storm.
 */
static void
run_storm(uint64_t nprobe, uint64_t nok, size_t width, const char *list)
{
	struct sess *slots = calloc(width, sizeof(*slots));
	char *hdrs = malloc(width * HDR_MAX), a[ADDR_MAX];
	uint64_t serial = 0, probes = 0, oks = 0;
	size_t i, active = 0;
	FILE *lf = NULL;

	if (slots == NULL || hdrs == NULL)
		gen_oom();
	if (list != NULL && (lf = fopen(list, "w")) == NULL) {
		fprintf(stderr, "gen-smtp-pcap: %s: %s\n", list, strerror(errno));
		exit(1);
	}
	do {
		for (i = 0; i < width; i++) {
			if (!gen_done(&slots[i])) {
				gen_step(&slots[i]);
				if (gen_done(&slots[i]))
					active--;
				continue;
			}
			if (probes + oks == nprobe + nok)
				continue;
			if (gen_below((uint32_t)(nprobe - probes + nok - oks)) <
			    nprobe - probes)
				gen_storm_session(&slots[i], K_PROBE,
				    STORM_PROBE_BASE + (uint32_t)probes++,
				    hdrs + i * HDR_MAX, ++serial);
			else
				gen_storm_session(&slots[i], K_DELIVER,
				    STORM_OK_TOP - (uint32_t)oks++,
				    hdrs + i * HDR_MAX, ++serial);
			active++;
			if (lf != NULL) {
				gen_ipstr(slots[i].cip, a, sizeof(a));
				fprintf(lf, "%s %s\n",
				    gen_kind_name[slots[i].kind], a);
			}
			gen_step(&slots[i]);
		}
	} while (active > 0);
	if (lf != NULL && fclose(lf) != 0) {
		fprintf(stderr, "gen-smtp-pcap: %s: %s\n", list, strerror(errno));
		exit(1);
	}
	free(slots);
	free(hdrs);
}

/* ---- main ------------------------------------------------------------ */

static uint64_t
parse_size(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		goto bad;
	switch (*end) {
	case 'k': case 'K': v *= 1e3; end++; break;
	case 'm': case 'M': v *= 1e6; end++; break;
	case 'g': case 'G': v *= 1e9; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		goto bad;
	return (uint64_t)v;
bad:
	fprintf(stderr, "gen-smtp-pcap: bad number '%s'\n", s);
	exit(2);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gen-smtp-pcap [-s BYTES | -n SESSIONS] [-w WIDTH] "
	    "[-r RATIO] [-S SEED] [-q] -o FILE\n"
	    "       gen-smtp-pcap -c SESSIONS [-I IDLE_SECONDS] [-w WIDTH] "
	    "[-S SEED] [-q] -o FILE\n"
	    "       gen-smtp-pcap -T [-p PROBERS] [-a ACCEPTED] [-w WIDTH] "
	    "[-L LIST] [-S SEED] [-q] -o FILE\n"
	    "  -s  stop starting sessions at this file size (default 1G; "
	    "K/M/G = 10^3/6/9)\n"
	    "  -n  write this many sessions instead\n"
	    "  -c  this many sessions open at once, idle, then closed\n"
	    "  -T  a storm: relay probers and good clients, one address each\n"
	    "  -p  probers (default 20000), -a  good clients (default 2000)\n"
	    "  -L  write each storm client's kind and address to LIST\n"
	    "  -6  IPv6: client AA.BB.CC.DD is 2001:db8:AABB:CCDD::1\n"
	    "  -w  sessions interleaved round-robin (default 200; storm 1000)\n"
	    "  -r  share of rejected sessions (default 0.30)\n"
	    "  -S  seed (default 1)\n"
	    "  -o  output file ('-' for stdout)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t max_bytes = 1000000000ULL, max_sessions = 0, conc = 0;
	uint64_t seed = 1, nprobe = 20000, nok = 2000;
	size_t width = 0;
	double ratio = 0.30;
	unsigned idle = 60, i;
	const char *path = NULL, *list = NULL;
	bool quiet = false, storm = false;
	int ch;

	while ((ch = getopt(argc, argv, "s:n:c:w:r:S:I:o:qhTp:a:6L:")) != -1) {
		switch (ch) {
		case 's': max_bytes = parse_size(optarg); break;
		case 'n': max_sessions = parse_size(optarg); break;
		case 'c': conc = parse_size(optarg); break;
		case 'w': width = (size_t)parse_size(optarg); break;
		case 'r': ratio = strtod(optarg, NULL); break;
		case 'S': seed = parse_size(optarg); break;
		case 'I': idle = (unsigned)parse_size(optarg); break;
		case 'o': path = optarg; break;
		case 'q': quiet = true; break;
		case 'T': storm = true; break;
		case 'p': nprobe = parse_size(optarg); break;
		case 'a': nok = parse_size(optarg); break;
		case '6': gen_set_ipv6(true); break;
		case 'L': list = optarg; break;
		default: usage();
		}
	}
	if (width == 0)
		width = storm ? 1000 : 200;
	if (path == NULL || optind != argc || ratio < 0 || ratio > 1 ||
	    (storm && conc > 0) || (list != NULL && !storm))
		usage();
	if (storm && (nprobe + nok == 0 || nprobe + nok > STORM_MAX)) {
		fprintf(stderr, "gen-smtp-pcap: -p + -a: 1 to %u clients\n",
		    (unsigned)STORM_MAX);
		return 2;
	}
	gen_seed(seed);
	gen_now_us = START_SEC * 1000000ULL;
	gen_open(path);
	gen_content_init();
	if (storm)
		run_storm(nprobe, nok, width, list);
	else if (conc > 0)
		run_concurrent(conc, width, idle);
	else
		run_busy(max_bytes, max_sessions, width, ratio);
	gen_close(path);
	if (!quiet) {
		fprintf(stderr, "gen-smtp-pcap: %s: %" PRIu64 " bytes, %" PRIu64
		    " packets, %" PRIu64 " sessions, %.1f s of traffic\n", path,
		    gen_st.bytes, gen_st.packets, gen_st.sessions,
		    (double)(gen_now_us - START_SEC * 1000000ULL) / 1e6);
		fprintf(stderr, "  sessions:");
		for (i = 0; i < K_MAX; i++)
			fprintf(stderr, " %s %" PRIu64, gen_kind_name[i],
			    gen_st.kinds[i]);
		fprintf(stderr, "\n  replies: RCPT 250 %" PRIu64 ", 550 relay %"
		    PRIu64 ", 550 unknown %" PRIu64 ", 550 rbl %" PRIu64
		    ", DATA 503 %" PRIu64 ", 535 %" PRIu64 ", 554 sync %"
		    PRIu64 "\n  messages %" PRIu64 ", %" PRIu64 " body bytes, "
		    "largest %" PRIu64 "\n", gen_st.rcpt_ok, gen_st.rcpt_relay,
		    gen_st.rcpt_unknown, gen_st.rcpt_rbl, gen_st.data_503,
		    gen_st.auth_535, gen_st.kinds[K_SYNC], gen_st.messages,
		    gen_st.body_bytes, gen_st.max_body);
	}
	/* the counts, machine-readable, for run-bench.sh */
	if (!quiet || getenv("GEN_STATS") != NULL)
		fprintf(stderr, "STATS packets=%" PRIu64 " bytes=%" PRIu64
		    " sessions=%" PRIu64 "\n", gen_st.packets, gen_st.bytes,
		    gen_st.sessions);
	return 0;
}
