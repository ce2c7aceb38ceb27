/*
 * fw_crowdsec_worker.c - the crowdsec backend's worker thread: it logs
 * in, delivers the oldest pending work (a DELETE first, else up to
 * cs_batch alerts in one POST), writes what was delivered to the spool,
 * and backs off while the LAPI fails. See fw_crowdsec.c for the design.
 *
 * Invariant: mu is held except around a request; an entry the worker
 * holds a pointer to is not freed meanwhile (only this thread sweeps).
 */
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fw_crowdsec.h"

static struct cs_state *const cs = &ban_cs;

/* xorshift: jitter only, not secrets. */
static uint32_t
rnd(void)
{
	uint32_t x = cs->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return cs->rnd = x;
}

/* Under mu. A failed request: counted, said once, retried later. */
static void
failed(const char *why)
{
	int ms;

	cs->failures++;
	cs->ws.failures++;
	cs->st.errors++;
	ms = ban_cs_backoff_ms(cs->failures, rnd(), cs->backoff_base,
	    cs->backoff_cap);
	cs->next_try = ban_cs_mono() + (wb_usec)ms * 1000;
	(void)snprintf(cs->st.last_error, sizeof(cs->st.last_error), "%s", why);
	if (strcmp(cs->logged, cs->st.last_error) != 0) {
		(void)snprintf(cs->logged, sizeof(cs->logged), "%s",
		    cs->st.last_error);
		ban_log(BAN_LOG_ERR, "crowdsec: %s; %zu pending, retrying "
		    "with backoff (up to %d s)", why, cs->t.posts + cs->t.dels,
		    cs->backoff_cap / 1000);
	}
}

/* Under mu. A request that succeeded. */
static void
succeeded(void)
{
	if (cs->failures > 0 && cs->logged[0] != '\0')
		ban_log(BAN_LOG_INFO, "crowdsec: %s reachable again; %zu "
		    "pending", cs->url, cs->t.posts + cs->t.dels);
	cs->failures = 0;
	cs->next_try = 0;
	cs->logged[0] = '\0';
	cs->st.last_error[0] = '\0';
	cs->st.commits++;
}

static void
lock_failed(const char *why)
{
	pthread_mutex_lock(&cs->mu);
	failed(why);
	pthread_mutex_unlock(&cs->mu);
}

/* JWT characters: base64url and the dots. */
static bool
jwt_ok(const char *s)
{
	return s[0] != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789-_.") == strlen(s);
}

/* Logs in. 0, or -1 after failed(). */
static int
login(void)
{
	char err[512];
	struct cs_reply r;
	struct ban_buf lb;
	wb_usec expire;
	bool bad;
	int st;

	/* Its own buffer: a request body may be waiting in cs->body. */
	ban_buf_init(&lb, 4096);
	(void)ban_cs_json_login(&lb, cs->login, cs->password, cs->scenario);
	st = lb.over ? -1 : ban_cs_http_do(cs->http, "POST",
	    "/v1/watchers/login", lb.p, lb.len, NULL, CS_RESP_MAX, &r, &bad,
	    err, sizeof(err));
	if (lb.p != NULL)
		memset(lb.p, 0, lb.cap);	/* it held the password */
	ban_buf_free(&lb);
	if (st == 200 && !bad && r.object && r.has_token && jwt_ok(r.token) &&
	    r.has_expire && ban_cs_rfc3339_parse(r.expire, &expire) == 0) {
		ban_cs_token_set(&cs->tok, r.token, expire, ban_cs_wall());
		pthread_mutex_lock(&cs->mu);
		cs->ws.logins++;
		pthread_mutex_unlock(&cs->mu);
		return 0;
	}
	if (st == 401 || st == 403)
		(void)snprintf(err, sizeof(err), "login as %s refused: %d %s "
		    "(check crowdsec.login and its password)", cs->login, st,
		    r.has_message ? r.message : "");
	else if (st > 0 && !bad && st != 200)
		(void)snprintf(err, sizeof(err), "login as %s: status %d%s%s",
		    cs->login, st, r.has_message ? ": " : "", r.message);
	else if (st > 0 && !bad)
		(void)snprintf(err, sizeof(err), "login as %s: status 200 "
		    "without a usable token", cs->login);
	else if (lb.over)
		(void)snprintf(err, sizeof(err), "login: request too large");
	lock_failed(err);
	return -1;
}

/*
 * One request with the token, logging in first when it needs renewal
 * and once more on a 401. The status, or -1 after failed().
 */
static int
request(const char *method, const char *path, const char *body,
    size_t len, size_t max, struct cs_reply *r)
{
	char err[512];
	bool bad, again = false;
	int st;

	for (;;) {
		if (!ban_cs_token_fresh(&cs->tok, ban_cs_wall()) &&
		    login() != 0)
			return -1;
		st = ban_cs_http_do(cs->http, method, path, body, len,
		    cs->tok.jwt, max, r, &bad, err, sizeof(err));
		if (st < 0) {
			lock_failed(err);
			return -1;
		}
		if (st != 401 || again)
			break;
		ban_cs_token_clear(&cs->tok);
		again = true;
	}
	if (bad && ban_cs_verdict(st, r) == CS_V_OK) {
		/* Done, whatever the body: the status is the LAPI's word. */
		ban_log(BAN_LOG_WARNING, "crowdsec: %s", err);
	}
	return st;
}

static void
status_error(char *err, size_t len, const char *what, int st,
    const struct cs_reply *r)
{
	(void)snprintf(err, len, "%s: status %d%s%s", what, st,
	    r->has_message ? ": " : "", r->has_message ? r->message : "");
}

/* One DELETE. Under no lock. */
static void
deliver_delete(struct cs_entry *e, uint32_t gen, const struct wb_addr *net,
    int bits)
{
	char value[WB_PREFIX_STRLEN], path[1024], err[512];
	char rec[CS_REC_MAX];
	struct cs_reply r;
	struct ban b;
	size_t n;
	int st;

	memset(&b, 0, sizeof(b));
	b.addr = *net;
	b.bits = (uint8_t)bits;
	(void)ban_cs_value(&b, value);
	ban_cs_delete_path(path, sizeof(path), cs->origin, &b);
	if ((st = request("DELETE", path, NULL, 0, CS_RESP_MAX, &r)) < 0)
		return;
	pthread_mutex_lock(&cs->mu);
	switch (ban_cs_verdict(st, &r)) {
	case CS_V_OK:
		succeeded();
		ban_cs_table_deleted(&cs->t, e, gen);
		n = ban_cs_rec_format(rec, CS_D_UNBAN, &b, ban_cs_wall());
		(void)ban_cs_spool_append(&cs->sp, rec, n, 1);
		cs->st.delivered++;
		cs->ws.deletes++;
		break;
	case CS_V_REFUSED:
		/* Nothing to lift that the LAPI knows of: done with it. */
		status_error(err, sizeof(err), "DELETE /v1/decisions", st, &r);
		ban_log(BAN_LOG_ERR, "crowdsec: %s (value %s); not retried",
		    err, value);
		cs->st.errors++;
		ban_cs_table_deleted(&cs->t, e, gen);
		break;
	default:
		status_error(err, sizeof(err), "DELETE /v1/decisions", st, &r);
		failed(err);
		break;
	}
	pthread_mutex_unlock(&cs->mu);
}

/* POSTs sent[lo..hi); what the LAPI refused for good is dropped. */
static void
deliver_posts(size_t lo, size_t hi)
{
	char rec[CS_REC_MAX], err[512], v[WB_PREFIX_STRLEN];
	size_t i, n = 0, k, max, nrec;
	struct cs_reply r;
	enum cs_verdict vd;
	int st, rc;

	ban_buf_reset(&cs->body);
	ban_buf_printf(&cs->body, "[");
	for (i = lo; i < hi; i++) {
		size_t at = cs->body.len;

		if (n > 0)
			ban_buf_printf(&cs->body, ",");
		if ((rc = ban_cs_json_alert(&cs->body, &cs->ac, &cs->sent[i],
		    ban_cs_wall())) <= 0) {
			cs->body.len = at;
			cs->body.p[at] = '\0';
		}
		cs->in[i] = rc > 0;
		n += rc > 0;
	}
	ban_buf_printf(&cs->body, "]");
	st = -1;
	max = CS_RESP_MAX + CS_RESP_PER_ALERT * n;
	if (n > 0 && !cs->body.over)
		st = request("POST", "/v1/alerts", cs->body.p, cs->body.len,
		    max, &r);
	else if (cs->body.over)
		lock_failed("alerts do not fit in the request buffer");
	vd = n == 0 ? CS_V_OK : st < 0 ? CS_V_RETRY : ban_cs_verdict(st, &r);
	if (vd == CS_V_REFUSED && hi - lo > 1) {
		/* Find which: one at a time, the others still go. */
		pthread_mutex_lock(&cs->mu);
		for (i = lo; i < hi; i++)
			cs->v[i]->f_expiry = 0;
		pthread_mutex_unlock(&cs->mu);
		for (i = lo; i < hi; i++)
			deliver_posts(i, i + 1);
		return;
	}
	/* The spool's records out of the lock, written in one go under it. */
	ban_buf_reset(&cs->dbuf);
	for (i = lo, nrec = 0; i < hi; i++) {
		if (vd == CS_V_RETRY || vd == CS_V_AUTH)
			break;
		k = ban_cs_rec_format(rec, !cs->in[i] || vd == CS_V_REFUSED ?
		    CS_X_BAN : CS_D_BAN, &cs->sent[i], 0);
		if (k > 0 && ban_buf_printf(&cs->dbuf, "%s", rec) == 0)
			nrec++;
	}
	pthread_mutex_lock(&cs->mu);
	for (i = lo; i < hi; i++) {
		struct cs_entry *e = cs->v[i];

		if (!cs->in[i] || vd == CS_V_REFUSED) {
			/* Expired on the way, or refused for good. */
			ban_cs_table_refused(&cs->t, e, cs->gens[i]);
			if (!cs->in[i])
				cs->t.expired++;
		} else if (vd == CS_V_OK)
			ban_cs_table_posted(&cs->t, e, cs->sent[i].expiry,
			    cs->gens[i]);
		else
			e->f_expiry = 0;
	}
	if (nrec > 0)
		(void)ban_cs_spool_append(&cs->sp, cs->dbuf.p, cs->dbuf.len,
		    nrec);
	if (vd == CS_V_OK && n > 0) {
		succeeded();
		cs->st.delivered += n;
		cs->ws.posts++;
		if (n > cs->ws.largest)
			cs->ws.largest = n;
		for (k = 0; k + 1 < CS_HIST && (n >> (k + 1)) != 0; k++)
			;
		cs->ws.hist[k]++;
	} else if (vd == CS_V_REFUSED) {
		status_error(err, sizeof(err), "POST /v1/alerts", st, &r);
		ban_log(BAN_LOG_ERR, "crowdsec: %s (ban of %s); not retried",
		    err, ban_cs_value(&cs->sent[lo], v) ? v : "?");
		cs->st.errors++;
	} else if (st > 0) {
		status_error(err, sizeof(err), "POST /v1/alerts", st, &r);
		failed(err);
	}
	pthread_mutex_unlock(&cs->mu);
}

/* One unit of work; entered and left with mu held. */
static void
round_once(void)
{
	struct cs_entry *e;
	struct wb_addr net;
	uint32_t gen;
	size_t i, n;
	int bits;

	if ((e = ban_cs_table_next_del(&cs->t)) != NULL) {
		net = e->addr;
		bits = e->bits;
		gen = e->gen;
		pthread_mutex_unlock(&cs->mu);
		deliver_delete(e, gen, &net, bits);
	} else {
		n = ban_cs_table_next_posts(&cs->t, cs->v, cs->batch,
		    ban_cs_wall());
		for (i = 0; i < n; i++) {
			cs->sent[i] = cs->v[i]->post;
			cs->gens[i] = cs->v[i]->gen;
			cs->v[i]->f_expiry = cs->v[i]->post.expiry;
		}
		pthread_mutex_unlock(&cs->mu);
		if (n > 0)
			deliver_posts(0, n);
	}
	(void)ban_cs_spool_sync(&cs->sp);
	pthread_mutex_lock(&cs->mu);
}

static void
wait_until(wb_usec until_mono)
{
	struct timespec ts;
	wb_usec d = until_mono - ban_cs_mono();

	if (d <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += d / WB_USEC_PER_SEC;
	ts.tv_nsec += (d % WB_USEC_PER_SEC) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	(void)pthread_cond_timedwait(&cs->cv, &cs->mu, &ts);
}

/*
 * This thread reads what a peer on the network sends and needs no
 * privilege at all: it talks HTTP and appends to a file it was handed
 * open. Capabilities, the bounding set and no_new_privs are per thread
 * on Linux, and the daemon drops its own only after its threads are
 * started, so this one drops everything itself, first.
 */
static void
drop_all(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int cap;

	memset(d, 0, sizeof(d));
	for (cap = 0; cap <= 63; cap++)
		(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	if (syscall(SYS_capset, &h, d) != 0)
		ban_log(BAN_LOG_WARNING, "crowdsec: the worker could not drop "
		    "its capabilities");
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

void *
ban_cs_worker(void *arg)
{
	wb_usec m, until;
	bool work;

	(void)arg;
	drop_all();
	pthread_mutex_lock(&cs->mu);
	for (;;) {
		m = ban_cs_mono();
		work = cs->t.qhead != NULL;
		/* Closing: push what is pending while the LAPI answers. */
		if (cs->stop && (!work || cs->failures > 0 ||
		    m >= cs->drain_until))
			break;
		if (m >= cs->next_sweep) {
			(void)ban_cs_table_sweep(&cs->t, ban_cs_wall());
			if (ban_cs_spool_wants_compaction(&cs->sp, &cs->t))
				(void)ban_cs_spool_compact(&cs->sp, &cs->t,
				    ban_cs_wall());
			cs->next_sweep = m + CS_SWEEP_EVERY;
		}
		if (work && m >= cs->next_try) {
			round_once();
			continue;
		}
		until = cs->next_sweep;
		if (work && cs->next_try < until)
			until = cs->next_try;
		if (cs->stop && cs->drain_until < until)
			until = cs->drain_until;
		wait_until(until);
	}
	pthread_mutex_unlock(&cs->mu);
	return NULL;
}
