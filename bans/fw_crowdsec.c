/*
 * fw_crowdsec.c - the "crowdsec" backend: every ban becomes an alert
 * with its decision in a CrowdSec Local API, which the bouncers of
 * every mail host read; a ban lifted early becomes a DELETE of that
 * decision (1.4.6: DELETE /v1/decisions?value=&origin=&type=, with the
 * machine's JWT).
 *
 * The enforcer drives this backend like any other, from its one
 * thread, next to the local firewall ("nftables,crowdsec"), so nothing
 * here may wait for the network there: ban() and unban() stage,
 * commit() appends the staged operations to the spool (one write) and
 * to the table of pending work, wakes the worker and returns. The
 * worker thread does the HTTP: it logs in once and reuses the token
 * (again on a 401, or a minute before it expires), takes the oldest
 * pending work, at most cs_batch alerts per POST (one alert when the
 * sensor is quiet, hundreds under a storm: what piles up during one
 * request goes in the next), and retries with a capped, jittered
 * exponential backoff while the LAPI is down. Each alert is built when
 * it is sent, so its decision lasts exactly the time the ban has left
 * then; a ban whose time ran out while the LAPI was down is not sent.
 *
 * Nothing is lost: what is pending is in the spool (fw_crowdsec_spool.c)
 * and comes back at open(); what was delivered is there too, so the
 * sync() of a restart pushes only bans the LAPI has not seen.
 *
 * Invariant: cs.mu guards the table, the spool and the counters; the
 * worker holds no lock during a request; only the enforcer's thread
 * (or the caller before it starts) calls the backend's functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fw_crowdsec.h"

#define STAGE_MAX	65536		/* then commit() runs by itself */
#define SWEEP_EVERY	(60 * WB_USEC_PER_SEC)
#define DRAIN_WAIT	(2 * WB_USEC_PER_SEC)	/* close(): pending pushed */
#define PASSWORD_MAX	512

struct staged {
	bool		 ban;
	struct ban	 b;
	wb_usec		 when;
};

static struct {
	bool		 open;
	char		 url[512], login[128], password[PASSWORD_MAX];
	char		 scenario[128], origin[128], ca[4096];
	int		 timeout_ms;
	size_t		 batch;
	struct cs_alert_conf ac;
	/* the enforcer's side */
	struct staged	*stage;
	size_t		 nstage, stagecap;
	struct ban_buf	 recs;
	/* shared, under mu */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct cs_table	 t;
	struct cs_spool	 sp;
	bool		 stop;
	wb_usec		 drain_until;
	struct ban_fw_stats st;
	struct cs_worker_stats ws;
	/* the worker's */
	pthread_t	 thr;
	bool		 running;
	_Atomic int	 abort;
	struct cs_http	*http;
	struct cs_token	 tok;
	unsigned	 failures;
	wb_usec		 next_try, next_sweep;
	uint32_t	 rnd;
	char		 logged[128];	/* the error last logged */
	struct cs_entry	**v;
	struct ban	*sent;
	uint32_t	*gens;
	bool		*in;
	struct ban_buf	 body;
} cs = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int	 backoff_base = 1000, backoff_cap = 60000;

static wb_usec
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static wb_usec
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

void
ban_cs_tune(int base_ms, int cap_ms)
{
	backoff_base = base_ms > 0 ? base_ms : 1000;
	backoff_cap = cap_ms >= backoff_base ? cap_ms : backoff_base;
}

void
ban_cs_worker_stats(struct cs_worker_stats *st)
{
	pthread_mutex_lock(&cs.mu);
	*st = cs.ws;
	st->expired = cs.t.expired;
	pthread_mutex_unlock(&cs.mu);
}

/* ---- configuration ---------------------------------------------------- */

static int
copy(char *dst, size_t len, const char *src, const char *key)
{
	if (src == NULL || src[0] == '\0' || strlen(src) >= len) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.%s %s", key,
		    src == NULL || src[0] == '\0' ? "is not set" : "too long");
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/*
 * The password file: read once, here; refused when group or others
 * may read or write it (a password any local user can read is none).
 * One trailing newline is the editor's, not the password's.
 */
static int
read_password(const char *path)
{
	char buf[PASSWORD_MAX + 2];
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.password_file %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.password_file %s: "
		    "not a regular file", path);
		goto fail;
	}
	if ((sb.st_mode & 077) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.password_file %s: "
		    "mode %04o lets group or others read or write it; refused "
		    "(chmod 600 %s)", path, (unsigned)(sb.st_mode & 07777),
		    path);
		goto fail;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	fd = -1;
	if (n < 0 || (size_t)n > PASSWORD_MAX) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.password_file %s: %s",
		    path, n < 0 ? strerror(errno) : "longer than 512 bytes");
		goto fail;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (n == 0 || memchr(buf, '\n', (size_t)n) != NULL ||
	    strlen(buf) != (size_t)n) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.password_file %s: "
		    "expected one line holding the password", path);
		goto fail;
	}
	memcpy(cs.password, buf, (size_t)n + 1);
	memset(buf, 0, sizeof(buf));
	return 0;
fail:
	memset(buf, 0, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
configure(const struct ban_fw_config *c)
{
	size_t n;

	if (copy(cs.url, sizeof(cs.url), c->cs_url, "url") != 0 ||
	    copy(cs.login, sizeof(cs.login), c->cs_login, "login") != 0 ||
	    copy(cs.scenario, sizeof(cs.scenario), c->cs_scenario,
	    "scenario") != 0 ||
	    copy(cs.origin, sizeof(cs.origin), c->cs_origin, "origin") != 0)
		return -1;
	if (strncmp(cs.url, "http://", 7) != 0 &&
	    strncmp(cs.url, "https://", 8) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.url %s: not http:// "
		    "or https://", cs.url);
		return -1;
	}
	for (n = 0; cs.url[n] != '\0'; n++)
		if ((unsigned char)cs.url[n] <= ' ' || cs.url[n] == '?' ||
		    cs.url[n] == '#' || (unsigned char)cs.url[n] >= 0x7f) {
			ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.url: a space, "
			    "control, '?' or '#' in it");
			return -1;
		}
	while (n > 0 && cs.url[n - 1] == '/')
		cs.url[--n] = '\0';
	if ((c->cs_password == NULL) == (c->cs_password_file == NULL)) {
		ban_log(BAN_LOG_ERR, "crowdsec: set one of crowdsec.password "
		    "and crowdsec.password_file");
		return -1;
	}
	if (c->cs_password != NULL ? copy(cs.password, sizeof(cs.password),
	    c->cs_password, "password") != 0 :
	    read_password(c->cs_password_file) != 0)
		return -1;
	cs.ca[0] = '\0';
	if (c->cs_ca_file != NULL && copy(cs.ca, sizeof(cs.ca), c->cs_ca_file,
	    "ca_file") != 0)
		return -1;
	if (c->cs_timeout_ms < 100 || c->cs_batch < 1 ||
	    c->cs_batch > 10000) {
		ban_log(BAN_LOG_ERR, "crowdsec: timeout or batch out of range");
		return -1;
	}
	cs.timeout_ms = c->cs_timeout_ms;
	cs.batch = c->cs_batch;
	cs.ac.scenario = cs.scenario;
	cs.ac.origin = cs.origin;
	return 0;
}

/* ---- the worker --------------------------------------------------------- */

/* xorshift: jitter only, not secrets. */
static uint32_t
rnd(void)
{
	uint32_t x = cs.rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return cs.rnd = x;
}

/* Under mu. A failed request: counted, said once, retried later. */
static void
failed(const char *why)
{
	int ms;

	cs.failures++;
	cs.ws.failures++;
	cs.st.errors++;
	ms = cs_backoff_ms(cs.failures, rnd(), backoff_base, backoff_cap);
	cs.next_try = mono_us() + (wb_usec)ms * 1000;
	(void)snprintf(cs.st.last_error, sizeof(cs.st.last_error), "%s", why);
	if (strcmp(cs.logged, cs.st.last_error) != 0) {
		(void)snprintf(cs.logged, sizeof(cs.logged), "%s",
		    cs.st.last_error);
		ban_log(BAN_LOG_ERR, "crowdsec: %s; %zu pending, retrying "
		    "with backoff (up to %d s)", why, cs.t.posts + cs.t.dels,
		    backoff_cap / 1000);
	}
}

/* Under mu. A request that succeeded. */
static void
succeeded(void)
{
	if (cs.failures > 0 && cs.logged[0] != '\0')
		ban_log(BAN_LOG_INFO, "crowdsec: %s reachable again; %zu "
		    "pending", cs.url, cs.t.posts + cs.t.dels);
	cs.failures = 0;
	cs.next_try = 0;
	cs.logged[0] = '\0';
	cs.st.last_error[0] = '\0';
	cs.st.commits++;
}

static void
lock_failed(const char *why)
{
	pthread_mutex_lock(&cs.mu);
	failed(why);
	pthread_mutex_unlock(&cs.mu);
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
	wb_usec expire;
	bool bad;
	int st;

	ban_buf_reset(&cs.body);
	(void)cs_json_login(&cs.body, cs.login, cs.password, cs.scenario);
	st = cs_http_do(cs.http, "POST", "/v1/watchers/login", cs.body.p,
	    cs.body.len, NULL, CS_RESP_MAX, &r, &bad, err, sizeof(err));
	memset(cs.body.p, 0, cs.body.cap);	/* it held the password */
	if (st == 200 && !bad && r.object && r.has_token && jwt_ok(r.token) &&
	    r.has_expire && cs_rfc3339_parse(r.expire, &expire) == 0) {
		cs_token_set(&cs.tok, r.token, expire, wall_us());
		pthread_mutex_lock(&cs.mu);
		cs.ws.logins++;
		pthread_mutex_unlock(&cs.mu);
		return 0;
	}
	if (st == 401 || st == 403)
		(void)snprintf(err, sizeof(err), "login as %s refused: %d %s "
		    "(check crowdsec.login and its password)", cs.login, st,
		    r.has_message ? r.message : "");
	else if (st > 0 && !bad)
		(void)snprintf(err, sizeof(err), "login as %s: status %d%s%s",
		    cs.login, st, r.has_message ? ": " : "", r.message);
	else if (st > 0)
		(void)snprintf(err, sizeof(err), "login as %s: status %d, no "
		    "token", cs.login, st);
	lock_failed(err);
	return -1;
}

/* value, percent-encoded for a query. */
static void
query_escape(char *out, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
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
		if (!cs_token_fresh(&cs.tok, wall_us()) && login() != 0)
			return -1;
		st = cs_http_do(cs.http, method, path, body, len, cs.tok.jwt,
		    max, r, &bad, err, sizeof(err));
		if (st < 0) {
			lock_failed(err);
			return -1;
		}
		if (st != 401 || again)
			break;
		cs_token_clear(&cs.tok);
		again = true;
	}
	if (bad && cs_verdict(st, r) == CS_V_OK) {
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
	char value[WB_PREFIX_STRLEN], ev[3 * WB_PREFIX_STRLEN + 1];
	char eo[3 * sizeof(cs.origin) + 1], path[1024], err[512];
	char rec[CS_REC_MAX];
	struct cs_reply r;
	struct ban b;
	size_t n;
	int st;

	memset(&b, 0, sizeof(b));
	b.addr = *net;
	b.bits = (uint8_t)bits;
	(void)cs_value(&b, value);
	query_escape(ev, sizeof(ev), value);
	query_escape(eo, sizeof(eo), cs.origin);
	(void)snprintf(path, sizeof(path), "/v1/decisions?type=ban&origin=%s"
	    "&value=%s", eo, ev);
	if ((st = request("DELETE", path, NULL, 0, CS_RESP_MAX, &r)) < 0)
		return;
	pthread_mutex_lock(&cs.mu);
	switch (cs_verdict(st, &r)) {
	case CS_V_OK:
		succeeded();
		cs_table_deleted(&cs.t, e, gen);
		n = cs_rec_format(rec, CS_D_UNBAN, &b, wall_us());
		(void)cs_spool_append(&cs.sp, rec, n, 1);
		cs.st.delivered++;
		cs.ws.deletes++;
		break;
	case CS_V_REFUSED:
		/* Nothing to lift that the LAPI knows of: done with it. */
		status_error(err, sizeof(err), "DELETE /v1/decisions", st, &r);
		ban_log(BAN_LOG_ERR, "crowdsec: %s (value %s); not retried",
		    err, value);
		cs.st.errors++;
		cs_table_deleted(&cs.t, e, gen);
		break;
	default:
		status_error(err, sizeof(err), "DELETE /v1/decisions", st, &r);
		failed(err);
		break;
	}
	pthread_mutex_unlock(&cs.mu);
}

/* POSTs sent[lo..hi); what the LAPI refused for good is dropped. */
static void
deliver_posts(size_t lo, size_t hi)
{
	char rec[CS_REC_MAX], err[512], v[WB_PREFIX_STRLEN];
	size_t i, n = 0, k, max;
	struct cs_reply r;
	enum cs_verdict vd;
	int st, rc;

	ban_buf_reset(&cs.body);
	ban_buf_printf(&cs.body, "[");
	for (i = lo; i < hi; i++) {
		size_t at = cs.body.len;

		if (n > 0)
			ban_buf_printf(&cs.body, ",");
		if ((rc = cs_json_alert(&cs.body, &cs.ac, &cs.sent[i],
		    wall_us())) <= 0) {
			cs.body.len = at;
			cs.body.p[at] = '\0';
		}
		cs.in[i] = rc > 0;
		n += rc > 0;
	}
	ban_buf_printf(&cs.body, "]");
	st = -1;
	max = CS_RESP_MAX + CS_RESP_PER_ALERT * n;
	if (n > 0 && !cs.body.over)
		st = request("POST", "/v1/alerts", cs.body.p, cs.body.len, max,
		    &r);
	else if (cs.body.over)
		lock_failed("alerts do not fit in the request buffer");
	pthread_mutex_lock(&cs.mu);
	vd = n == 0 ? CS_V_OK : st < 0 ? CS_V_RETRY : cs_verdict(st, &r);
	if (vd == CS_V_REFUSED && hi - lo > 1) {
		/* Find which: one at a time, the others still go. */
		for (i = lo; i < hi; i++)
			cs.v[i]->f_expiry = 0;
		pthread_mutex_unlock(&cs.mu);
		for (i = lo; i < hi; i++)
			deliver_posts(i, i + 1);
		return;
	}
	for (i = lo; i < hi; i++) {
		struct cs_entry *e = cs.v[i];

		if (!cs.in[i] || vd == CS_V_REFUSED) {
			/* Expired on the way, or refused for good. */
			cs_table_refused(&cs.t, e, cs.gens[i]);
			k = cs_rec_format(rec, CS_X_BAN, &cs.sent[i], 0);
			(void)cs_spool_append(&cs.sp, rec, k, 1);
			if (!cs.in[i])
				cs.t.expired++;
		} else if (vd == CS_V_OK) {
			cs_table_posted(&cs.t, e, cs.sent[i].expiry,
			    cs.gens[i]);
			k = cs_rec_format(rec, CS_D_BAN, &cs.sent[i], 0);
			(void)cs_spool_append(&cs.sp, rec, k, 1);
		} else
			e->f_expiry = 0;
	}
	if (vd == CS_V_OK && n > 0) {
		succeeded();
		cs.st.delivered += n;
		cs.ws.posts++;
		if (n > cs.ws.largest)
			cs.ws.largest = n;
		for (k = 0; k + 1 < CS_HIST && (n >> (k + 1)) != 0; k++)
			;
		cs.ws.hist[k]++;
	} else if (vd == CS_V_REFUSED) {
		status_error(err, sizeof(err), "POST /v1/alerts", st, &r);
		ban_log(BAN_LOG_ERR, "crowdsec: %s (ban of %s); not retried",
		    err, cs_value(&cs.sent[lo], v) ? v : "?");
		cs.st.errors++;
	} else if (st > 0) {
		status_error(err, sizeof(err), "POST /v1/alerts", st, &r);
		failed(err);
	}
	pthread_mutex_unlock(&cs.mu);
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

	if ((e = cs_table_next_del(&cs.t)) != NULL) {
		net = e->addr;
		bits = e->bits;
		gen = e->gen;
		pthread_mutex_unlock(&cs.mu);
		deliver_delete(e, gen, &net, bits);
	} else {
		n = cs_table_next_posts(&cs.t, cs.v, cs.batch, wall_us());
		for (i = 0; i < n; i++) {
			cs.sent[i] = cs.v[i]->post;
			cs.gens[i] = cs.v[i]->gen;
			cs.v[i]->f_expiry = cs.v[i]->post.expiry;
		}
		pthread_mutex_unlock(&cs.mu);
		if (n > 0)
			deliver_posts(0, n);
	}
	(void)cs_spool_sync(&cs.sp);
	pthread_mutex_lock(&cs.mu);
}

static void
wait_until(wb_usec until_mono)
{
	struct timespec ts;
	wb_usec d = until_mono - mono_us();

	if (d <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += d / WB_USEC_PER_SEC;
	ts.tv_nsec += (d % WB_USEC_PER_SEC) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	(void)pthread_cond_timedwait(&cs.cv, &cs.mu, &ts);
}

static void *
worker(void *arg)
{
	wb_usec m, until;
	bool work;

	(void)arg;
	pthread_mutex_lock(&cs.mu);
	for (;;) {
		m = mono_us();
		work = cs.t.qhead != NULL;
		/* Closing: push what is pending while the LAPI answers. */
		if (cs.stop && (!work || cs.failures > 0 ||
		    m >= cs.drain_until))
			break;
		if (m >= cs.next_sweep) {
			(void)cs_table_sweep(&cs.t, wall_us());
			if (cs_spool_wants_compaction(&cs.sp, &cs.t))
				(void)cs_spool_compact(&cs.sp, &cs.t,
				    wall_us());
			cs.next_sweep = m + SWEEP_EVERY;
		}
		if (work && m >= cs.next_try) {
			round_once();
			continue;
		}
		until = cs.next_sweep;
		if (work && cs.next_try < until)
			until = cs.next_try;
		if (cs.stop && cs.drain_until < until)
			until = cs.drain_until;
		wait_until(until);
	}
	pthread_mutex_unlock(&cs.mu);
	return NULL;
}

/* ---- the backend -------------------------------------------------------- */

static void
rec_out(void *arg, enum cs_rec k, const struct ban *b, wb_usec when)
{
	char rec[CS_REC_MAX];
	size_t n = cs_rec_format(rec, k, b, when);
	size_t *count = arg;

	if (n > 0 && ban_buf_printf(&cs.recs, "%s", rec) == 0)
		(*count)++;
}

static int	 cs_commit(void);

static int
stage(bool ban, const struct ban *b)
{
	struct wb_addr net;

	if (!cs.open) {
		ban_log(BAN_LOG_ERR, "crowdsec: not open");
		return -1;
	}
	if (ban_prefix_check("crowdsec", b, &net) != 0)
		return -1;
	if (cs.nstage == cs.stagecap) {
		size_t cap = cs.stagecap == 0 ? 256 : cs.stagecap * 2;
		struct staged *v;

		if ((v = realloc(cs.stage, cap * sizeof(*v))) == NULL) {
			ban_log(BAN_LOG_ERR, "crowdsec: out of memory");
			return -1;
		}
		cs.stage = v;
		cs.stagecap = cap;
	}
	cs.stage[cs.nstage].ban = ban;
	cs.stage[cs.nstage].b = *b;
	cs.stage[cs.nstage].when = wall_us();
	if (++cs.nstage >= STAGE_MAX)
		return cs_commit();
	return 0;
}

static int
cs_ban(const struct ban *b)
{
	return stage(true, b);
}

static int
cs_unban(const struct ban *b)
{
	return stage(false, b);
}

static int
cs_commit(void)
{
	size_t i, nrec = 0, full = 0;
	wb_usec now = wall_us();
	int rc = 0;

	if (!cs.open || cs.nstage == 0)
		return 0;
	ban_buf_reset(&cs.recs);
	for (i = 0; i < cs.nstage; i++)
		rec_out(&nrec, cs.stage[i].ban ? CS_Q_BAN : CS_Q_UNBAN,
		    &cs.stage[i].b, cs.stage[i].when);
	pthread_mutex_lock(&cs.mu);
	if (cs.recs.over || cs_spool_append(&cs.sp, cs.recs.p, cs.recs.len,
	    nrec) != 0) {
		cs.st.errors++;
		rc = -1;
	}
	for (i = 0; i < cs.nstage; i++) {
		if (!cs.stage[i].ban)
			(void)cs_table_unban(&cs.t, &cs.stage[i].b,
			    cs.stage[i].when);
		else if (cs_table_ban(&cs.t, &cs.stage[i].b, now) < 0)
			full++;
	}
	if (full > 0) {
		cs.st.errors += full;
		rc = -1;
	}
	pthread_cond_signal(&cs.cv);
	pthread_mutex_unlock(&cs.mu);
	if (full > 0)
		ban_log(BAN_LOG_ERR, "crowdsec: %zu bans not queued: %u "
		    "prefixes pending or delivered already", full,
		    CS_TABLE_MAX);
	cs.nstage = 0;
	return rc;
}

static int
cs_sync(const struct ban *bans, size_t n)
{
	size_t nrec = 0, lost;

	if (!cs.open) {
		ban_log(BAN_LOG_ERR, "crowdsec: not open");
		return -1;
	}
	cs.nstage = 0;
	ban_buf_reset(&cs.recs);
	pthread_mutex_lock(&cs.mu);
	/* A record per ban and per entry at most. */
	cs.recs.max = (n + cs.t.n + 16) * CS_REC_MAX;
	lost = cs_table_sync(&cs.t, bans, n, wall_us(), rec_out, &nrec);
	if (cs.recs.over || cs_spool_append(&cs.sp, cs.recs.p, cs.recs.len,
	    nrec) != 0)
		cs.st.errors++;
	cs.st.errors += lost;
	pthread_cond_signal(&cs.cv);
	pthread_mutex_unlock(&cs.mu);
	cs.recs.max = (size_t)STAGE_MAX * CS_REC_MAX;
	if (lost > 0)
		ban_log(BAN_LOG_ERR, "crowdsec: sync: %zu bans not queued "
		    "(table full)", lost);
	return lost > 0 || cs.recs.over ? -1 : 0;
}

static int
cs_flush(void)
{
	return cs.open ? cs_sync(NULL, 0) : 0;
}

static void
cs_close(void)
{
	struct timespec ts;
	wb_usec now;

	if (!cs.open)
		return;
	cs.nstage = 0;
	if (cs.running) {
		pthread_mutex_lock(&cs.mu);
		cs.stop = true;
		cs.drain_until = mono_us() + DRAIN_WAIT;
		pthread_cond_signal(&cs.cv);
		pthread_mutex_unlock(&cs.mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += DRAIN_WAIT / WB_USEC_PER_SEC + 1;
		if (pthread_timedjoin_np(cs.thr, NULL, &ts) != 0) {
			/* A request hangs: cut it. */
			atomic_store(&cs.abort, 1);
			pthread_join(cs.thr, NULL);
		}
	}
	now = wall_us();
	pthread_mutex_lock(&cs.mu);
	if (cs.t.posts + cs.t.dels > 0)
		ban_log(BAN_LOG_WARNING, "crowdsec: %zu deliveries pending, "
		    "kept in %s for the next start", cs.t.posts + cs.t.dels,
		    cs.sp.fd >= 0 ? cs.sp.path : "(no spool: lost)");
	(void)cs_table_sweep(&cs.t, now);
	if (cs_spool_wants_compaction(&cs.sp, &cs.t))
		(void)cs_spool_compact(&cs.sp, &cs.t, now);
	cs_spool_close(&cs.sp);
	cs_table_fini(&cs.t);
	pthread_mutex_unlock(&cs.mu);
	pthread_cond_destroy(&cs.cv);
	cs_http_free(cs.http);
	ban_buf_free(&cs.recs);
	ban_buf_free(&cs.body);
	free(cs.stage);
	free(cs.v);
	free(cs.sent);
	free(cs.gens);
	free(cs.in);
	memset(cs.password, 0, sizeof(cs.password));
	cs_token_clear(&cs.tok);
	cs.stage = NULL;
	cs.v = NULL;
	cs.sent = NULL;
	cs.gens = NULL;
	cs.in = NULL;
	cs.http = NULL;
	cs.nstage = cs.stagecap = 0;
	cs.running = cs.stop = cs.open = false;
	atomic_store(&cs.abort, 0);
}

static int
cs_open(const struct ban_fw_config *c)
{
	struct cs_spool_stats ss;
	struct cs_http_conf hc;
	pthread_condattr_t ca;

	if (cs.open) {
		ban_log(BAN_LOG_ERR, "crowdsec: already open");
		return -1;
	}
	if (configure(c) != 0)
		return -1;
	if (cs_http_global_init() != 0)
		return -1;
	memset(&cs.st, 0, sizeof(cs.st));
	memset(&cs.ws, 0, sizeof(cs.ws));
	cs.failures = 0;
	cs.next_try = cs.next_sweep = 0;
	cs.logged[0] = '\0';
	cs.rnd = (uint32_t)mono_us() ^ (uint32_t)getpid() << 16 ^ 0x9e3779b9u;
	if (cs.rnd == 0)
		cs.rnd = 1;
	cs.sp.fd = -1;
	if (cs_table_init(&cs.t, CS_TABLE_MAX) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: out of memory");
		return -1;
	}
	ban_buf_init(&cs.recs, (size_t)STAGE_MAX * CS_REC_MAX);
	ban_buf_init(&cs.body, cs.batch * 2048 + 4096);
	cs.v = calloc(cs.batch, sizeof(*cs.v));
	cs.sent = calloc(cs.batch, sizeof(*cs.sent));
	cs.gens = calloc(cs.batch, sizeof(*cs.gens));
	cs.in = calloc(cs.batch, sizeof(*cs.in));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cs.cv, &ca);
	pthread_condattr_destroy(&ca);
	cs.open = true;		/* from here on cs_close() undoes it all */
	if (cs.v == NULL || cs.sent == NULL || cs.gens == NULL ||
	    cs.in == NULL) {
		ban_log(BAN_LOG_ERR, "crowdsec: out of memory");
		goto fail;
	}
	if (c->cs_spool == NULL)
		ban_log(BAN_LOG_WARNING, "crowdsec: no spool: deliveries "
		    "pending at exit are lost");
	else if (cs_spool_open(&cs.sp, c->cs_spool, &cs.t, wall_us(),
	    &ss) != 0)
		goto fail;
	hc.url = cs.url;
	hc.ca_file = cs.ca[0] != '\0' ? cs.ca : NULL;
	hc.timeout_ms = cs.timeout_ms;
	hc.abort = &cs.abort;
	if ((cs.http = cs_http_new(&hc)) == NULL)
		goto fail;
	if ((errno = pthread_create(&cs.thr, NULL, worker, NULL)) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: thread: %s", strerror(errno));
		goto fail;
	}
	cs.running = true;
	ban_log(BAN_LOG_INFO, "crowdsec: delivering to %s as %s%s%s; %zu "
	    "pending from the spool", cs.url, cs.login, c->cs_spool ?
	    ", spool " : "", c->cs_spool ? c->cs_spool : "",
	    cs.t.posts + cs.t.dels);
	return 0;
fail:
	cs_close();
	return -1;
}

static void
cs_stats(struct ban_fw_stats *st)
{
	pthread_mutex_lock(&cs.mu);
	*st = cs.st;
	st->pending = cs.t.posts + cs.t.dels;
	st->set_full = 0;
	st->capacity = 0;
	pthread_mutex_unlock(&cs.mu);
}

static void
cs_hint(char *buf, size_t len)
{
	if (len > 0 && snprintf(buf, len, "cscli decisions list -a --origin "
	    "%s", cs.open ? cs.origin : "wireban") >= (int)len)
		buf[0] = '\0';
}

const struct ban_backend ban_backend_crowdsec = {
	.name = "crowdsec",
	.open = cs_open,
	.ban = cs_ban,
	.unban = cs_unban,
	.commit = cs_commit,
	.sync = cs_sync,
	.flush = cs_flush,
	.close = cs_close,
	.stats = cs_stats,
	.hint = cs_hint,
	.max_timeout = 0,
};
