/*
 * config.c - the sniffer's defaults and the words for how a connection
 * closed.
 */
#include <string.h>

#include "sniffer.h"

void
sniff_config_defaults(struct sniff_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ports[0] = 25;
	c->ports[1] = 465;
	c->ports[2] = 587;
	c->nports = 3;
	c->checksums = SNIFF_CSUM_AUTO;
	/* A busy MX, not libnids' 1040 (which is a hash size, not this):
	 * 100,000 open sessions fit; the tables cost about 30 MB. */
	c->max_streams = 131072;
	/* Longer than any SMTP server waits for a command (exim: 5 min). */
	c->idle_timeout = 10 * 60 * WB_USEC_PER_SEC;
	/*
	 * A handshake is pending for one round trip; at half that number,
	 * a real one lasting 0.5 s survives a flood of 65,000 spoofed SYNs
	 * a second. About 200 bytes each, made as used (13 MB when full).
	 */
	c->max_handshakes = 65536;
	/* The ACK follows the SYN-ACK by one round trip, and every SYN-ACK
	 * the server repeats renews the entry: 10 s is many round trips. */
	c->handshake_timeout = 10 * WB_USEC_PER_SEC;
	c->buffer = 64u << 20;
}

const char *
sniff_close_str(enum sniff_close how)
{
	switch (how) {
	case SNIFF_CLOSE_FIN:
		return "fin";
	case SNIFF_CLOSE_RST:
		return "rst";
	case SNIFF_CLOSE_TIMEOUT:
		return "timeout";
	case SNIFF_CLOSE_EOF:
		return "eof";
	case SNIFF_CLOSE_EVICTED:
		return "evicted";
	case SNIFF_CLOSE_REPLACED:
		return "replaced";
	}
	return "?";
}
