/*
 * engine.h - the wiring: sniffer connections -> SMTP sessions -> rules ->
 * events and offences. The program's only place that knows both the
 * sniffer and the SMTP parser.
 */
#ifndef WIREBAN_ENGINE_H
#define WIREBAN_ENGINE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/queue.h>

#include "addr.h"
#include "smtp.h"
#include "sniffer.h"

struct events;

#define ENGINE_MAX_RULES 128
#define ENGINE_CLIENT_BUCKETS 4096

/* One offence: a reply a rule with offence=yes matched. A plain value. */
struct engine_offence {
	struct wb_addr	 client;
	struct wb_addr	 server;
	const char	*rule;
	int		 weight;
	wb_usec		 ts;
};

struct engine_stats {
	uint64_t	 sessions, tls_sessions, replies, rejects;
	uint64_t	 unmatched;	/* 4xx/5xx no rule matched */
	uint64_t	 offences;
	uint64_t	 anomalies;
	uint64_t	 hits[ENGINE_MAX_RULES];	/* by rule index */
	uint64_t	 limit_hits[ENGINE_MAX_RULES];	/* at a PCRE2 limit */
	uint64_t	 offences_by_rule[ENGINE_MAX_RULES];
	uint64_t	 by_class[4];	/* replies 2xx, 3xx, 4xx, 5xx */
};

struct engine {
	struct smtp_rules *rules;
	struct smtp_limits limits;
	struct events	*ev;		/* event stream, or NULL */
	bool		 json_all;	/* also commands' anomalies */
	struct engine_stats st;
	/* Called for every offence (may be NULL). */
	void		(*on_offence)(void *arg, const struct engine_offence *o);
	void		*offence_arg;
	/* Called with the packet time before each chunk (may be NULL). */
	void		(*tick)(void *arg, wb_usec now);
	void		*tick_arg;
	LIST_HEAD(, conn) conns;	/* open connections, for kill */
	/* the same by client (address, IPv6 /64): a ban's sessions */
	LIST_HEAD(, conn) by_client[ENGINE_CLIENT_BUCKETS];
	size_t		 nconns;
};

/*
 * Calls fn(arg, conn) for every open connection whose client is in
 * net/bits: how a ban cuts the sessions its prefix holds. Returns how
 * many.
 */
size_t engine_foreach_client(struct engine *e, const struct wb_addr *net,
    int bits, void (*fn)(void *arg, struct sniff_conn *c), void *arg);

/* The handlers to give the sniffer; arg is the engine. */
void engine_handlers(struct engine *e, struct sniff_handlers *h);


#endif
