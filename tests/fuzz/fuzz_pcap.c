/*
 * fuzz_pcap.c - libFuzzer target over the whole packet path: frames of
 * any link type -> IPv4/IPv6 (headers, fragments) -> the handshake gate
 * -> libnids -> the SMTP parser -> the rules -> the policy, which hands
 * its bans to the record backend through the enforcer, as a replay
 * does.
 *
 * Input: one byte choosing the link type, then frames, each a 2-byte
 * big-endian length and that many bytes (a short last one is cut). It
 * is written as a pcap file and replayed through sniff_open_file(), so
 * libpcap's reader is in the path too. Small tables (max_streams 64,
 * max_handshakes 64) make evictions and overflows reachable.
 * Invariants: no crash, no leak, no undefined behaviour; the sniffer's
 * counters add up (every frame in exactly one bucket).
 *
 * Seeds: tests/fuzz/seeds-pcap/, made from pcaps/ by mkseeds-pcap.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "events.h"
#include "jail.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t dlts[] = { 1, 113, 276, 0, 108, 101, 228, 229, 12 };

static struct settings s;
static char path[64];
static FILE *devnull;

static void
quiet(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

static void
quiet_sniff(const char *line)
{
	(void)line;
}

static void
setup(void)
{
	char *ov[] = { "capture.max_streams=64", "capture.max_handshakes=64",
	    "policy.max_tracked=1000", "policy.maxretry=1", NULL };
	char err[512];
	int fd;

	if (settings_load(&s, "/nonexistent/wireban.conf", false, ov, err,
	    sizeof(err)) < 0)
		abort();
	snprintf(path, sizeof(path), "/tmp/fuzz_pcap.XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		abort();
	close(fd);
	devnull = fopen("/dev/null", "w");
	ban_log_set(quiet, NULL);
	sniff_set_log(quiet_sniff);
}

static void
put32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine e;
	struct events ev;
	struct jail j;
	struct sniff_handlers h;
	struct sniff_stats st;
	struct sniff *sn;
	char err[512];
	size_t i = 1;
	uint32_t ts = 1732700000;
	FILE *f;

	if (devnull == NULL)
		setup();
	if (size < 1 || size > 1 << 17)
		return 0;
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	put32(f, 0xa1b2c3d4);
	put32(f, 0x00040002);
	put32(f, 0);
	put32(f, 0);
	put32(f, 262144);
	put32(f, dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))]);
	while (i + 2 <= size) {
		size_t n = (size_t)data[i] << 8 | data[i + 1];

		i += 2;
		if (n > size - i)
			n = size - i;
		put32(f, ts++);
		put32(f, 0);
		put32(f, (uint32_t)n);
		put32(f, (uint32_t)n);
		fwrite(data + i, 1, n, f);
		i += n;
	}
	fclose(f);

	memset(&e, 0, sizeof(e));
	if (events_open(&ev, devnull) < 0 ||
	    jail_init(&j, &s, "record", NULL, 0, err, sizeof(err)) < 0 ||
	    jail_start(&j, err, sizeof(err)) < 0)
		abort();
	j.ev = &ev;
	e.rules = s.rules;
	e.ev = &ev;
	e.json_all = true;
	e.on_offence = jail_offence;
	e.offence_arg = &j;
	e.tick = jail_tick;
	e.tick_arg = &j;
	engine_handlers(&e, &h);
	if ((sn = sniff_open_file(&s.capture, path, &h, err, sizeof(err))) !=
	    NULL) {
		while (sniff_dispatch(sn, 4096, err, sizeof(err)) > 0)
			;
		sniff_get_stats(sn, &st);
		if (st.packets + st.frag6_reassembled != st.ipv4 + st.ipv6 +
		    st.ipv6_frags + st.skipped + st.ipv6_uninspected +
		    st.reserved4 + st.other + st.malformed)
			abort();
		sniff_close(sn);
	}
	events_close(&ev);
	jail_fini(&j);
	ban_record_reset();
	return 0;
}
