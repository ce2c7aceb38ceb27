/*
 * events.h - the event stream: one JSON object per line for each
 * rejected reply, anomaly, closed session, ban and unban. The schema is
 * README.md's "Events" section; this is its only writer.
 */
#ifndef WIREBAN_EVENTS_H
#define WIREBAN_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bans.h"
#include "smtp.h"
#include "sniffer.h"

/* A connection's addresses and ports, as an event writes them. */
#define EVENTS_CACHE	64
struct events_peers {
	uint64_t	 id;		/* sniff_conn.id; 0: empty */
	size_t		 len;
	char		 s[160];
};

struct events {
	FILE		*fp;		/* NULL: events are not written */
	struct events_peers cache[EVENTS_CACHE];
	char		*buf;
	size_t		 len, cap;
	uint64_t	 written;	/* events */
	uint64_t	 errors;	/* failed writes, cut events */
};

/* Writes to fp (NULL: nowhere). Returns 0, or -1 out of memory. */
int	 events_open(struct events *ev, FILE *fp);
/* Writes out what is buffered (whole lines only). */
void	 events_flush(struct events *ev);
/* Flushes, then writes to fp from now on (log rotation). */
void	 events_reopen(struct events *ev, FILE *fp);
/* Flushes and frees the buffer; fp stays the caller's. */
void	 events_close(struct events *ev);

/*
 * A 4xx/5xx reply: cmd is the command it answers as the stream names it
 * (NULL: a greeting or unsolicited reply), rule the rule that matched
 * (NULL: none), offence whether it counts against the client.
 */
void	 events_reject(struct events *ev, const struct sniff_conn *sc,
	    const struct smtp_event *e, const char *cmd, const char *rule,
	    bool offence);
void	 events_anomaly(struct events *ev, const struct sniff_conn *sc,
	    const struct smtp_event *e);
void	 events_session(struct events *ev, const struct sniff_conn *sc,
	    const struct smtp_summary *sum, enum sniff_close how, wb_usec t);
/* "client" is the banned prefix: an address, or ADDR/BITS. */
void	 events_ban(struct events *ev, const struct ban *b, wb_usec t);
void	 events_unban(struct events *ev, const struct ban *b, wb_usec t);

#endif
