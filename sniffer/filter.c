/*
 * filter.c - the BPF filter of a live capture: only what the sniffer can
 * use leaves the kernel.
 *
 * "P or (vlan and (P or (vlan and P)))" with P the ports (TCP over v4
 * or v6), any IPv4 fragment, which libnids reassembles, and any IPv6
 * packet whose first header is an extension header we walk: a fragment
 * (a later one has no TCP header to match), and TCP behind hop-by-hop,
 * routing, destination options (libpcap's "tcp" looks at the first next
 * header only) or AH (counted). ESP is not: its ports are hidden, and an
 * IPsec tunnel's traffic would all come up for nothing. Each "vlan"
 * moves the offsets of everything after it by one tag, hence the nesting
 * rather than three alternatives side by side. libpcap knows "vlan" on
 * Ethernet only; elsewhere (cooked "any", loopback, raw) P alone.
 */
#include <stdio.h>

#include "internal.h"

#define PORTS_MAX	512

static int	 port_list(const struct sniff_config *, char *, size_t);

static int
port_list(const struct sniff_config *c, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	for (i = 0; i < c->nports; i++) {
		n = snprintf(buf + off, len - off, "tcp port %u or ",
		    (unsigned)c->ports[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	n = snprintf(buf + off, len - off, "(ip and ip[6:2] & 0x3fff != 0) or "
	    "(ip6 and (ip6[6] == 0 or ip6[6] == 43 or ip6[6] == 44 or "
	    "ip6[6] == 60 or ip6[6] == 51))");
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	return 0;
}

/* The expression, with the VLAN nesting or P alone. 0, or -1: too long. */
int
sniff_filter_expr(const struct sniff_config *c, bool vlan, char *buf,
    size_t len)
{
	char p[PORTS_MAX];
	int n;

	if (port_list(c, p, sizeof(p)) == -1)
		return -1;
	if (vlan)
		n = snprintf(buf, len, "(%s) or (vlan and ((%s) or (vlan and "
		    "(%s))))", p, p, p);
	else
		n = snprintf(buf, len, "%s", p);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
sniff_live_filter(struct sniff *s, char *err, size_t errlen)
{
	char expr[4 * PORTS_MAX];
	struct bpf_program prog;

	if (sniff_filter_expr(&s->cfg, true, expr, sizeof(expr)) == -1) {
		snprintf(err, errlen, "%s: filter too long", s->name);
		return -1;
	}
	if (pcap_compile(s->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1 &&
	    (sniff_filter_expr(&s->cfg, false, expr, sizeof(expr)) == -1 ||
	    pcap_compile(s->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1)) {
		snprintf(err, errlen, "%s: filter: %s", s->name,
		    pcap_geterr(s->pcap));
		return -1;
	}
	if (pcap_setfilter(s->pcap, &prog) == -1) {
		snprintf(err, errlen, "%s: filter: %s", s->name,
		    pcap_geterr(s->pcap));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}
