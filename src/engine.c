/*
 * engine.c - per connection, an SMTP session; per reply, the rules; per
 * 4xx/5xx reply a "reject" event, per closed connection a "session"
 * event, per offence a call to the policy hook.
 *
 * Invariant: the connection state here lives exactly as long as the
 * sniffer's connection (created in on_open, freed in on_close), so a
 * connection table full of attackers costs what the sniffer bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "json.h"

struct conn {
	struct engine		*e;
	struct sniff_conn	*sc;
	struct smtp_session	*smtp;
	struct conn		*prev, *next;	/* e->conns */
};

size_t
engine_rule_index(const struct engine *e, const struct smtp_rule_info *r)
{
	size_t i, n = smtp_rules_count(e->rules);

	for (i = 0; i < n && i < ENGINE_MAX_RULES; i++)
		if (smtp_rules_get(e->rules, i) == r)
			return i;
	return ENGINE_MAX_RULES - 1;
}

/* "client":..,"client_port":..,"server":..,"server_port":.. */
static void
json_peers(FILE *fp, const struct sniff_conn *sc)
{
	char a[WB_ADDR_STRLEN], b[WB_ADDR_STRLEN];

	fprintf(fp, "\"client\":\"%s\",\"client_port\":%u,"
	    "\"server\":\"%s\",\"server_port\":%u",
	    wb_addr_str(&sc->client, a), sc->client_port,
	    wb_addr_str(&sc->server, b), sc->server_port);
}

static const char *
json_cmd(enum smtp_cmd c)
{
	/* An answer to an AUTH response is an answer to the AUTH. */
	return c == SMTP_CMD_AUTH_DATA ? "AUTH" : smtp_cmd_name(c);
}

static void
on_reply(struct conn *c, const struct smtp_event *ev)
{
	struct engine *e = c->e;
	const struct smtp_rule_info *r;
	bool offence;

	e->st.replies++;
	if (ev->code < 400)
		return;
	e->st.rejects++;
	r = smtp_rules_match(e->rules, ev);
	offence = r != NULL && r->offence && r->weight > 0;
	if (r != NULL)
		e->st.hits[engine_rule_index(e, r)]++;
	else
		e->st.unmatched++;
	if (e->json != NULL) {
		fputs("{\"event\":\"reject\",\"ts\":", e->json);
		json_ts(e->json, ev->ts);
		fputc(',', e->json);
		json_peers(e->json, c->sc);
		fputs(",\"command\":", e->json);
		if (ev->cmd == SMTP_CMD_NONE)
			fputs("null", e->json);
		else
			json_str(e->json, json_cmd(ev->cmd),
			    strlen(json_cmd(ev->cmd)));
		fputs(",\"arg\":", e->json);
		json_str(e->json, ev->arg, ev->arg_len);
		fprintf(e->json, ",\"code\":%d,\"text\":", ev->code);
		json_str(e->json, ev->text, ev->text_len);
		fputs(",\"rule\":", e->json);
		if (r != NULL)
			json_str(e->json, r->name, strlen(r->name));
		else
			fputs("null", e->json);
		fprintf(e->json, ",\"offence\":%s%s%s}\n",
		    offence ? "true" : "false",
		    ev->flags & SMTP_F_GREETING ? ",\"greeting\":true" : "",
		    ev->flags & SMTP_F_UNSOLICITED ?
		    ",\"unsolicited\":true" : "");
	}
	if (offence) {
		struct offence o = {
			.client = c->sc->client,
			.rule = r->name,
			.weight = r->weight,
			.ts = ev->ts,
			.conn = c->sc,
		};

		e->st.offences++;
		if (e->on_offence != NULL)
			e->on_offence(e->offence_arg, &o);
	}
}

/*
 * Busy, for the sniffer's eviction order: the client sent a command (or
 * ended a message) and the server has not replied since. Pipelined
 * commands answered in separate segments look idle between replies;
 * an attacker cannot look busy for longer than the server takes to
 * reply to it.
 */
static void
on_smtp(const struct smtp_event *ev, void *arg)
{
	struct conn *c = arg;
	struct engine *e = c->e;

	switch (ev->type) {
	case SMTP_EV_COMMAND:
		sniff_conn_set_busy(c->sc, true);
		break;
	case SMTP_EV_DATA_END:
		if (ev->cmd == SMTP_CMD_EOM)
			sniff_conn_set_busy(c->sc, true);
		break;
	case SMTP_EV_REPLY:
		sniff_conn_set_busy(c->sc, false);
		on_reply(c, ev);
		break;
	case SMTP_EV_TLS:
		sniff_conn_set_busy(c->sc, false);
		e->st.tls_sessions++;
		break;
	case SMTP_EV_ANOMALY:
		e->st.anomalies++;
		if (e->json != NULL && e->json_all) {
			fputs("{\"event\":\"anomaly\",\"ts\":", e->json);
			json_ts(e->json, ev->ts);
			fputc(',', e->json);
			json_peers(e->json, c->sc);
			fprintf(e->json, ",\"anomaly\":\"%s\",\"from\":\"%s\"}"
			    "\n", smtp_anomaly_name(ev->anomaly),
			    ev->dir == SMTP_FROM_SERVER ? "server" : "client");
		}
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
	c->next = e->conns;
	if (e->conns != NULL)
		e->conns->prev = c;
	e->conns = c;
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
	if (e->json != NULL) {
		fputs("{\"event\":\"session\",\"ts\":", e->json);
		json_ts(e->json, ts);
		fputc(',', e->json);
		json_peers(e->json, sc);
		fputs(",\"helo\":", e->json);
		json_str(e->json, sum->helo, strlen(sum->helo));
		fprintf(e->json, ",\"tls\":\"%s\",\"commands\":%u,"
		    "\"replies\":%u,\"rejects\":%u,\"closed\":\"%s\"}\n",
		    smtp_tls_name(sum->tls), sum->commands, sum->replies,
		    sum->rejects, sniff_close_str(how));
	}
	smtp_session_free(c->smtp);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	e->nconns--;
	free(c);
	sc->user = NULL;
}

size_t
engine_foreach_client(struct engine *e, const struct wb_addr *a,
    void (*fn)(void *arg, struct sniff_conn *c), void *arg)
{
	struct conn *c, *next;
	size_t n = 0;

	for (c = e->conns; c != NULL; c = next) {
		next = c->next;		/* fn may close c */
		if (wb_addr_eq(&c->sc->client, a)) {
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
