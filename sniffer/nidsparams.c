/*
 * nidsparams.c - libnids' parameters as wireban sets them (see
 * nidsparams.h: shared with the bench's bare libnids program).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* libpcap's and libnids' headers want u_int */
#endif
#include <limits.h>

#include "nidsparams.h"

/* Fragment reassembly table (libnids' default 256). */
#define NIDS_HOSTS	1024

/*
 * libnids follows 3/4 of n_tcp_streams (its hash size) at most, and
 * evicts when a new stream finds that many: room for max_streams and
 * the one being admitted, plus one to spare.
 */
int
sniff_nids_table(int max_streams)
{
	return (int)(((long long)max_streams + 2) * 4 / 3 + 2);
}

/*
 * libnids' own flow timeout (a client SYN on a stream idle that long
 * replaces it, silently) stays above ours; 0 turns it off with ours.
 */
static int
flow_timeout(int64_t idle_usec)
{
	int64_t sec;

	if (idle_usec <= 0)
		return 0;
	sec = idle_usec / 1000000 + 2;
	return sec > INT_MAX ? INT_MAX : (int)sec;
}

void
sniff_nids_params(pcap_t *dead, int max_streams, int64_t idle_usec,
    void (*warn)(int, int, struct ip *, void *), void (*nomem)(char *))
{
	nids_params.device = NULL;
	nids_params.filename = NULL;
	nids_params.pcap_filter = NULL;
	nids_params.pcap_desc = dead;
	nids_params.n_tcp_streams = sniff_nids_table(max_streams);
	nids_params.n_hosts = NIDS_HOSTS;
	nids_params.dev_addon = -1;
	nids_params.syslog = warn;
	nids_params.no_mem = nomem;
	nids_params.scan_num_hosts = 0;
	nids_params.promisc = 0;
	nids_params.one_loop_less = 0;
	nids_params.multiproc = 0;
	/* Its 10 s closing timeout would also say NIDS_TIMED_OUT, which
	 * wireban keeps meaning "evicted". */
	nids_params.tcp_workarounds = 0;
	nids_params.tcp_flow_timeout = flow_timeout(idle_usec);
}
