/*
 * engine.h - the wiring: sniffer connections -> SMTP sessions -> rules ->
 * events and offences. The program's only place that knows both the
 * sniffer and the SMTP parser.
 */
#ifndef WIREBAN_ENGINE_H
#define WIREBAN_ENGINE_H

#include <stdbool.h>
#include <stdio.h>

#include "addr.h"
#include "smtp.h"
#include "sniffer.h"

#define ENGINE_MAX_RULES 128

/* One offence: a reply a rule with offence=yes matched. */
struct offence {
	struct wb_addr	 client;
	const char	*rule;
	int		 weight;
	wb_usec		 ts;
	struct sniff_conn *conn;	/* still open; valid during the call */
};

struct engine_stats {
	uint64_t	 sessions, tls_sessions, replies, rejects;
	uint64_t	 unmatched;	/* 4xx/5xx no rule matched */
	uint64_t	 offences;
	uint64_t	 anomalies;
	uint64_t	 hits[ENGINE_MAX_RULES];	/* by rule index */
};

struct engine {
	struct smtp_rules *rules;
	struct smtp_limits limits;
	FILE		*json;		/* event stream, or NULL */
	bool		 json_all;	/* also commands' anomalies */
	struct engine_stats st;
	/* Called for every offence (may be NULL). */
	void		(*on_offence)(void *arg, const struct offence *o);
	void		*offence_arg;
	/* Called with the packet time before each chunk (may be NULL). */
	void		(*tick)(void *arg, wb_usec now);
	void		*tick_arg;
	struct conn	*conns;		/* open connections, for kill */
	size_t		 nconns;
};

/*
 * Calls fn(arg, conn) for every open connection of client a: how a ban
 * cuts the sessions its address holds. Returns how many.
 */
size_t engine_foreach_client(struct engine *e, const struct wb_addr *a,
    void (*fn)(void *arg, struct sniff_conn *c), void *arg);

/* The handlers to give the sniffer; arg is the engine. */
void engine_handlers(struct engine *e, struct sniff_handlers *h);

/* Index of rule r in the engine's rule set (for st.hits). */
size_t engine_rule_index(const struct engine *e,
    const struct smtp_rule_info *r);

#endif
