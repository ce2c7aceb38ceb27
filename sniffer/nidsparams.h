/*
 * nidsparams.h - libnids' parameters as wireban sets them.
 *
 * sniffer/reasm.c and the bench's bare libnids program
 * (tests/bench/bare-nids.c) both call sniff_nids_params(), so the
 * baseline that `make bench` compares wireban with is fed exactly as
 * wireban is. It needs libnids and libpcap only, no other wireban
 * header, so that the bench can compile it alone.
 */
#ifndef WIREBAN_NIDSPARAMS_H
#define WIREBAN_NIDSPARAMS_H

#include <sys/types.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <nids.h>

/* n_tcp_streams for room for max_streams open streams. */
int	 sniff_nids_table(int max_streams);

/*
 * Every nids_params field wireban relies on: packets come from the
 * caller through nids_pcap_handler() with dead (a DLT_RAW handle) as
 * pcap_desc; no port-scan detection, no promiscuous mode, no
 * tcp_workarounds; libnids' flow timeout above idle_usec (wireban's
 * capture.idle_timeout, 0: none). warn and nomem are libnids' syslog
 * and no_mem hooks.
 */
void	 sniff_nids_params(pcap_t *dead, int max_streams, int64_t idle_usec,
	    void (*warn)(int, int, struct ip *, void *),
	    void (*nomem)(char *));

#endif
