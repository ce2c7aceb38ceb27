/*
 * bare-nids.c - the architecture's limit: libpcap reads a capture and
 * libnids reassembles every TCP stream in it, both directions, and the
 * data is thrown away. Nothing else: no SMTP, no rules, no connection
 * list. wireban replay on the same file cannot be faster than this.
 *
 *     bare-nids [-k] [-f] [-a] [-t] [-b BYTES] [-m MAX_STREAMS] [-i SECONDS]
 *         FILE
 *
 * libnids is fed the way sniffer/reasm.c feeds it: a dead DLT_RAW pcap
 * handle as nids_params.pcap_desc, and each IPv4 packet, copied out of
 * the Ethernet frame into one aligned buffer (libnids keeps pointing at
 * it), handed to nids_pcap_handler(). The parameters are wireban's own:
 * both set them with sniff_nids_params() (sniffer/nidsparams.c), from
 * max_streams (-m, default 131072 as wireban's) and the idle timeout
 * (-i SECONDS, default 600 as wireban's).
 *
 *   -k  verify IPv4/TCP checksums (libnids' default; wireban's
 *       checksums=auto keeps verifying while the sums are right).
 *       Without -k a 0.0.0.0/0 NIDS_DONT_CHKSUM entry turns them off.
 *   -f  free each half-stream's buffer after its data callback (libnids
 *       keeps a 4096-byte buffer per half-stream that ever got data).
 *   -a  touch every byte delivered (sum them), as a parser would,
 *       instead of one byte per callback.
 *   -t  also look each packet's stream up with nids_find_tcp_stream(),
 *       client to server first, then reversed, as sniffer/reasm.c's
 *       touch() does for its idle timeout: the price of that lookup.
 *   -b  read the file through a stdio buffer of BYTES (pcap_fopen_offline
 *       after setvbuf) instead of libpcap's default (a 4096-byte buffer:
 *       one read(2) per 4 KB).
 *   -m  max_streams (as wireban's capture.max_streams).
 *   -i  the idle timeout (as wireban's capture.idle_timeout).
 *
 * Prints one line: packets, bytes, streams, seconds, packets/s, MB/s.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <nids.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nidsparams.h"

#define IP_MAX	65535

static struct nids_chksum_ctl no_sums[1] = {
	{ .netaddr = 0, .mask = 0, .action = NIDS_DONT_CHKSUM },
};

static bool	 free_bufs, touch_all, lookup;
static uint64_t	 sink, streams, data_bytes, callbacks, warnings;

static int
usage(void)
{
	fprintf(stderr, "usage: bare-nids [-k] [-f] [-a] [-t] [-b BYTES] "
	    "[-m MAX_STREAMS] [-i SECONDS] FILE\n");
	return 2;
}

static void
quiet(int type, int err, struct ip *iph, void *data)
{
	(void)type;
	(void)err;
	(void)iph;
	(void)data;
	warnings++;
}

static void
nomem(char *where)
{
	fprintf(stderr, "bare-nids: out of memory in %s\n", where);
	abort();
}

static void
take(struct half_stream *h)
{
	int i;

	if (h->count_new <= 0)
		return;
	callbacks++;
	data_bytes += (uint64_t)h->count_new;
	if (touch_all)
		for (i = 0; i < h->count_new; i++)
			sink += (unsigned char)h->data[i];
	else
		sink += (unsigned char)h->data[0] + (uint64_t)h->count_new;
	if (free_bufs) {
		/*
		 * notify() moves the unread rest (none: all is read) to the
		 * front after we return, and add2buf() mallocs again when
		 * data is NULL: a zero-length memmove is all that follows.
		 */
		free(h->data);
		h->data = NULL;
		h->bufsize = 0;
	}
}

static void
tcp_cb(struct tcp_stream *ts, void **param)
{
	(void)param;
	switch (ts->nids_state) {
	case NIDS_JUST_EST:
		ts->client.collect++;
		ts->server.collect++;
		streams++;
		break;
	case NIDS_DATA:
		take(&ts->server);
		take(&ts->client);
		break;
	default:
		break;
	}
}

/* sniffer/reasm.c's touch(): find the packet's stream, either way. */
static void
find(const u_char *ip)
{
	struct tuple4 t;
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	if (ip[9] != 6 || (ip[6] & 0x3f) != 0 || ip[7] != 0)
		return;
	t.source = (u_short)(ip[hl] << 8 | ip[hl + 1]);
	t.dest = (u_short)(ip[hl + 2] << 8 | ip[hl + 3]);
	memcpy(&t.saddr, ip + 12, 4);
	memcpy(&t.daddr, ip + 16, 4);
	if (nids_find_tcp_stream(&t) != NULL) {
		sink++;
		return;
	}
	t.source = (u_short)(ip[hl + 2] << 8 | ip[hl + 3]);
	t.dest = (u_short)(ip[hl] << 8 | ip[hl + 1]);
	memcpy(&t.saddr, ip + 16, 4);
	memcpy(&t.daddr, ip + 12, 4);
	if (nids_find_tcp_stream(&t) != NULL)
		sink++;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr, nhdr;
	const u_char *data;
	uint64_t packets = 0, bytes = 0, fed = 0;
	long max_streams = 131072, bufsize = 0, idle = 600;
	FILE *fp;
	bool sums = false;
	unsigned char *pkt;
	pcap_t *p, *dead;
	double t0, t1;
	int ch, r, dlt;

	while ((ch = getopt(argc, argv, "kfatb:m:i:")) != -1) {
		switch (ch) {
		case 'k': sums = true; break;
		case 't': lookup = true; break;
		case 'b': bufsize = strtol(optarg, NULL, 10); break;
		case 'f': free_bufs = true; break;
		case 'a': touch_all = true; break;
		case 'm': max_streams = strtol(optarg, NULL, 10); break;
		case 'i': idle = strtol(optarg, NULL, 10); break;
		default:
			return usage();
		}
	}
	if (optind + 1 != argc || max_streams < 1 || max_streams > INT_MAX / 2 ||
	    idle < 0)
		return usage();
	t0 = now();
	if (bufsize > 0) {
		/* glibc ignores the size unless it is given the buffer */
		char *iobuf = malloc((size_t)bufsize);

		if (iobuf == NULL || (fp = fopen(argv[optind], "rb")) == NULL ||
		    setvbuf(fp, iobuf, _IOFBF, (size_t)bufsize) != 0) {
			perror(argv[optind]);
			return 1;
		}
		p = pcap_fopen_offline(fp, ebuf);
	} else
		p = pcap_open_offline(argv[optind], ebuf);
	if (p == NULL) {
		fprintf(stderr, "bare-nids: %s\n", ebuf);
		return 1;
	}
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB && dlt != DLT_RAW) {
		fprintf(stderr, "bare-nids: link type %d: Ethernet or raw only\n",
		    dlt);
		return 1;
	}
	if ((dead = pcap_open_dead(DLT_RAW, IP_MAX)) == NULL ||
	    (pkt = aligned_alloc(64, IP_MAX + 64)) == NULL) {
		fprintf(stderr, "bare-nids: set-up failed\n");
		return 1;
	}
	sniff_nids_params(dead, (int)max_streams, idle * 1000000LL, quiet,
	    nomem);
	if (!nids_init()) {
		fprintf(stderr, "bare-nids: libnids: %s\n", nids_errbuf);
		return 1;
	}
	nids_register_tcp(tcp_cb);
	nids_register_chksum_ctl(sums ? NULL : no_sums, sums ? 0 : 1);

	while ((r = pcap_next_ex(p, &hdr, &data)) == 1) {
		const u_char *ip = data;
		size_t len = hdr->caplen, iplen;

		packets++;
		bytes += hdr->len;
		if (dlt == DLT_EN10MB) {
			if (len < 14 + 20 || data[12] != 0x08 || data[13] != 0x00)
				continue;
			ip = data + 14;
			len -= 14;
		}
		if (len < 20 || (ip[0] >> 4) != 4)
			continue;
		iplen = (size_t)(ip[2] << 8 | ip[3]);
		if (iplen > len || iplen < 20)
			continue;
		memcpy(pkt, ip, iplen);
		nhdr.ts = hdr->ts;
		nhdr.caplen = nhdr.len = (bpf_u_int32)iplen;
		if (lookup)
			find(pkt);
		nids_pcap_handler(NULL, &nhdr, pkt);
		fed++;
	}
	if (r == -1) {
		fprintf(stderr, "bare-nids: %s\n", pcap_geterr(p));
		return 1;
	}
	nids_unregister_tcp(tcp_cb);
	nids_exit();
	pcap_close(p);
	t1 = now();
	printf("bare-nids: %" PRIu64 " packets (%" PRIu64 " fed), %" PRIu64
	    " bytes, %" PRIu64 " streams, %" PRIu64 " data bytes in %" PRIu64
	    " callbacks, %" PRIu64 " warnings, %.3f s, %.0f packets/s, "
	    "%.1f MB/s, checksum %" PRIu64 "\n", packets, fed, bytes, streams,
	    data_bytes, callbacks, warnings, t1 - t0,
	    (double)packets / (t1 - t0), (double)bytes / 1e6 / (t1 - t0),
	    sink);
	return 0;
}
