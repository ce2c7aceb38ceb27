/*
 * engine.c - per connection, an SMTP session; per reply, the rules; per
 * 4xx/5xx reply a "reject" event, per closed connection a "session"
 * event, per offence a call to the policy hook.
 *
 * Invariant: the connection state here lives exactly as long as the
 * sniffer's connection (created in on_open, freed in on_close), so a
 * connection table full of attackers costs what the sniffer bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "events.h"
#include "log.h"

struct conn {
	struct engine		*e;
	struct sniff_conn	*sc;
	struct smtp_session	*smtp;
	LIST_ENTRY(conn)	 link;		/* e->conns */
	LIST_ENTRY(conn)	 blink;		/* e->by_client[bucket] */
};

/*
 * The bucket of a client: its address, or its /64 for IPv6, hashed
 * (FNV-1a: not keyed, but a chain only costs the kill of a ban, and an
 * attacker's sessions are bounded by max_streams).
 */
static size_t
client_bucket(const struct wb_addr *a)
{
	uint32_t h = 2166136261u;
	size_t i, n = a->family == AF_INET6 ? 8 : 4;

	for (i = 0; i < n; i++)
		h = (h ^ a->a[i]) * 16777619u;
	return h % ENGINE_CLIENT_BUCKETS;
}

static size_t
engine_rule_index(const struct engine *e, const struct smtp_rule_info *r)
{
	size_t i, n = smtp_rules_count(e->rules);

	for (i = 0; i < n && i < ENGINE_MAX_RULES; i++)
		if (smtp_rules_get(e->rules, i) == r)
			return i;
	return ENGINE_MAX_RULES - 1;
}

/* The command a reply answers, as the event stream names it. */
static const char *
event_cmd(enum smtp_cmd c)
{
	if (c == SMTP_CMD_NONE)
		return NULL;
	/* An answer to an AUTH response is an answer to the AUTH. */
	return c == SMTP_CMD_AUTH_DATA ? "AUTH" : smtp_cmd_name(c);
}

/*
 * A rule whose pattern gave up at a PCRE2 limit did not match that
 * reply: said once per rule, counted always (status, replay report).
 */
static void
limits(struct engine *e)
{
	size_t i, n = smtp_rules_count(e->rules);

	for (i = 0; i < n && i < ENGINE_MAX_RULES; i++) {
		uint64_t h = smtp_rules_limit_hits(e->rules, i);

		if (h == e->st.limit_hits[i])
			continue;
		if (e->st.limit_hits[i] == 0)
			logmsg(LOG_WARNING, "rule %s: its pattern hit a "
			    "PCRE2 limit on a reply, which it then does not "
			    "match (counted; said once)",
			    smtp_rules_get(e->rules, i)->name);
		e->st.limit_hits[i] = h;
	}
}

static void
on_reply(struct conn *c, const struct smtp_event *ev)
{
	struct engine *e = c->e;
	const struct smtp_rule_info *r;
	bool offence;

	e->st.replies++;
	if (ev->code >= 200 && ev->code < 600)
		e->st.by_class[ev->code / 100 - 2]++;
	if (ev->code < 400)
		return;
	e->st.rejects++;
	r = smtp_rules_match(e->rules, ev);
	limits(e);
	offence = r != NULL && r->offence && r->weight > 0;
	if (r != NULL)
		e->st.hits[engine_rule_index(e, r)]++;
	else
		e->st.unmatched++;
	if (e->ev != NULL)
		events_reject(e->ev, c->sc, ev, event_cmd(ev->cmd),
		    r != NULL ? r->name : NULL, offence);
	if (offence) {
		struct engine_offence o = {
			.client = c->sc->client,
			.server = c->sc->server,
			.rule = r->name,
			.weight = r->weight,
			.ts = ev->ts,
		};

		e->st.offences++;
		e->st.offences_by_rule[engine_rule_index(e, r)]++;
		if (e->on_offence != NULL)
			e->on_offence(e->offence_arg, &o);
	}
}

static void
on_smtp(const struct smtp_event *ev, void *arg)
{
	struct conn *c = arg;
	struct engine *e = c->e;

	switch (ev->type) {
	case SMTP_EV_REPLY:
		on_reply(c, ev);
		break;
	case SMTP_EV_TLS:
		e->st.tls_sessions++;
		break;
	case SMTP_EV_ANOMALY:
		e->st.anomalies++;
		if (e->ev != NULL && e->json_all)
			events_anomaly(e->ev, c->sc, ev);
		break;
	default:
		break;
	}
}

static void *
on_open(void *arg, struct sniff_conn *sc, wb_usec ts)
{
	struct engine *e = arg;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->smtp = smtp_session_new(&e->limits)) == NULL) {
		free(c);
		return NULL;
	}
	c->e = e;
	c->sc = sc;
	LIST_INSERT_HEAD(&e->conns, c, link);
	LIST_INSERT_HEAD(&e->by_client[client_bucket(&sc->client)], c, blink);
	e->nconns++;
	e->st.sessions++;
	if (e->tick != NULL)
		e->tick(e->tick_arg, ts);
	return c;
}

static void
on_data(void *arg, struct sniff_conn *sc, enum sniff_dir d,
    const uint8_t *bytes, size_t len, wb_usec ts)
{
	struct conn *c = sc->user;

	struct engine *e = arg;

	if (e->tick != NULL)
		e->tick(e->tick_arg, ts);
	if (c == NULL)
		return;		/* out of memory at open: not inspected */
	c->sc = sc;
	smtp_feed(c->smtp, d == SNIFF_FROM_CLIENT ? SMTP_FROM_CLIENT :
	    SMTP_FROM_SERVER, bytes, len, ts, on_smtp, c);
	/*
	 * Busy, for the sniffer's eviction order: a command (or the end of
	 * a message) waits for its reply. An attacker cannot look busy for
	 * longer than the server takes to answer it.
	 */
	sniff_conn_set_busy(sc, smtp_pending(c->smtp) > 0);
}

static void
on_close(void *arg, struct sniff_conn *sc, enum sniff_close how, wb_usec ts)
{
	struct engine *e = arg;
	struct conn *c = sc->user;
	const struct smtp_summary *sum;

	if (c == NULL)
		return;
	c->sc = sc;
	smtp_end(c->smtp, ts, on_smtp, c);
	sum = smtp_summary(c->smtp);
	if (e->ev != NULL)
		events_session(e->ev, sc, sum, how, ts);
	smtp_session_free(c->smtp);
	LIST_REMOVE(c, link);
	LIST_REMOVE(c, blink);
	e->nconns--;
	free(c);
	sc->user = NULL;
}

size_t
engine_foreach_client(struct engine *e, const struct wb_addr *net, int bits,
    void (*fn)(void *arg, struct sniff_conn *c), void *arg)
{
	struct conn *c, *next;
	size_t n = 0;

	/*
	 * A ban as long as the buckets' prefix (an IPv4 address, an IPv6
	 * /64 or longer) has all its sessions in one bucket: a wave of bans
	 * costs each its own sessions, not a scan of every open one.
	 */
	if (bits >= (net->family == AF_INET6 ? 64 : 32)) {
		for (c = LIST_FIRST(&e->by_client[client_bucket(net)]);
		    c != NULL; c = next) {
			next = LIST_NEXT(c, blink);	/* fn may close c */
			if (wb_addr_in(&c->sc->client, net, bits)) {
				fn(arg, c->sc);
				n++;
			}
		}
		return n;
	}
	for (c = LIST_FIRST(&e->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);	/* fn may close c */
		if (wb_addr_in(&c->sc->client, net, bits)) {
			fn(arg, c->sc);
			n++;
		}
	}
	return n;
}

void
engine_handlers(struct engine *e, struct sniff_handlers *h)
{
	memset(h, 0, sizeof(*h));
	h->on_open = on_open;
	h->on_data = on_data;
	h->on_close = on_close;
	h->arg = e;
}
