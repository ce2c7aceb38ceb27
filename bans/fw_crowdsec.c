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
 * Invariant: cs->mu guards the table, the spool and the counters; the
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
#define DRAIN_WAIT	(2 * WB_USEC_PER_SEC)	/* close(): pending pushed */


struct cs_state ban_cs = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.backoff_base = 1000,
	.backoff_cap = 60000,
};
static struct cs_state *const cs = &ban_cs;

wb_usec
ban_cs_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

wb_usec
ban_cs_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (wb_usec)ts.tv_sec * WB_USEC_PER_SEC + ts.tv_nsec / 1000;
}

void
ban_cs_tune(int base_ms, int cap_ms)
{
	cs->backoff_base = base_ms > 0 ? base_ms : 1000;
	cs->backoff_cap = cap_ms >= cs->backoff_base ? cap_ms :
	    cs->backoff_base;
}

void
ban_cs_worker_stats(struct cs_worker_stats *st)
{
	pthread_mutex_lock(&cs->mu);
	*st = cs->ws;
	st->expired = cs->t.expired;
	pthread_mutex_unlock(&cs->mu);
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
	char buf[CS_PASSWORD_MAX + 2];
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
	if (n < 0 || (size_t)n > CS_PASSWORD_MAX) {
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
	memcpy(cs->password, buf, (size_t)n + 1);
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

	if (copy(cs->url, sizeof(cs->url), c->cs_url, "url") != 0 ||
	    copy(cs->login, sizeof(cs->login), c->cs_login, "login") != 0 ||
	    copy(cs->scenario, sizeof(cs->scenario), c->cs_scenario,
	    "scenario") != 0 ||
	    copy(cs->origin, sizeof(cs->origin), c->cs_origin, "origin") != 0)
		return -1;
	if (strncmp(cs->url, "http://", 7) != 0 &&
	    strncmp(cs->url, "https://", 8) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.url %s: not http:// "
		    "or https://", cs->url);
		return -1;
	}
	for (n = 0; cs->url[n] != '\0'; n++)
		if ((unsigned char)cs->url[n] <= ' ' || cs->url[n] == '?' ||
		    cs->url[n] == '#' || (unsigned char)cs->url[n] >= 0x7f) {
			ban_log(BAN_LOG_ERR, "crowdsec: crowdsec.url: a space, "
			    "control, '?' or '#' in it");
			return -1;
		}
	while (n > 0 && cs->url[n - 1] == '/')
		cs->url[--n] = '\0';
	if ((c->cs_password == NULL) == (c->cs_password_file == NULL)) {
		ban_log(BAN_LOG_ERR, "crowdsec: set one of crowdsec.password "
		    "and crowdsec.password_file");
		return -1;
	}
	if (c->cs_password != NULL ? copy(cs->password, sizeof(cs->password),
	    c->cs_password, "password") != 0 :
	    read_password(c->cs_password_file) != 0)
		return -1;
	cs->ca[0] = '\0';
	if (c->cs_ca_file != NULL && copy(cs->ca, sizeof(cs->ca), c->cs_ca_file,
	    "ca_file") != 0)
		return -1;
	if (c->cs_timeout_ms < 100 || c->cs_batch < 1 ||
	    c->cs_batch > 10000) {
		ban_log(BAN_LOG_ERR, "crowdsec: timeout or batch out of range");
		return -1;
	}
	cs->timeout_ms = c->cs_timeout_ms;
	cs->batch = c->cs_batch;
	cs->ac.scenario = cs->scenario;
	cs->ac.origin = cs->origin;
	return 0;
}

/* ---- the backend -------------------------------------------------------- */

static void
rec_out(void *arg, enum cs_rec k, const struct ban *b, wb_usec when)
{
	char rec[CS_REC_MAX];
	size_t n = ban_cs_rec_format(rec, k, b, when);
	size_t *count = arg;

	if (n > 0 && ban_buf_printf(&cs->recs, "%s", rec) == 0)
		(*count)++;
}

static int	 cs_commit(void);

static int
stage(bool ban, const struct ban *b)
{
	struct wb_addr net;

	if (!cs->open) {
		ban_log(BAN_LOG_ERR, "crowdsec: not open");
		return -1;
	}
	if (ban_prefix_check("crowdsec", b, &net) != 0)
		return -1;
	if (cs->nstage == cs->stagecap) {
		size_t cap = cs->stagecap == 0 ? 256 : cs->stagecap * 2;
		struct cs_staged *v;

		if ((v = realloc(cs->stage, cap * sizeof(*v))) == NULL) {
			ban_log(BAN_LOG_ERR, "crowdsec: out of memory");
			return -1;
		}
		cs->stage = v;
		cs->stagecap = cap;
	}
	cs->stage[cs->nstage].ban = ban;
	cs->stage[cs->nstage].b = *b;
	cs->stage[cs->nstage].when = ban_cs_wall();
	if (++cs->nstage >= STAGE_MAX)
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
	wb_usec now = ban_cs_wall();
	int rc = 0;

	if (!cs->open || cs->nstage == 0)
		return 0;
	ban_buf_reset(&cs->recs);
	for (i = 0; i < cs->nstage; i++)
		rec_out(&nrec, cs->stage[i].ban ? CS_Q_BAN : CS_Q_UNBAN,
		    &cs->stage[i].b, cs->stage[i].when);
	pthread_mutex_lock(&cs->mu);
	if (cs->recs.over || ban_cs_spool_append(&cs->sp, cs->recs.p,
	    cs->recs.len, nrec) != 0) {
		cs->st.errors++;
		rc = -1;
	}
	for (i = 0; i < cs->nstage; i++) {
		if (!cs->stage[i].ban)
			(void)ban_cs_table_unban(&cs->t, &cs->stage[i].b,
			    cs->stage[i].when);
		else if (ban_cs_table_ban(&cs->t, &cs->stage[i].b, now) < 0)
			full++;
	}
	if (full > 0) {
		cs->st.errors += full;
		rc = -1;
	}
	pthread_cond_signal(&cs->cv);
	pthread_mutex_unlock(&cs->mu);
	if (full > 0)
		ban_log(BAN_LOG_ERR, "crowdsec: %zu bans not queued: %u "
		    "prefixes pending or delivered already", full,
		    CS_TABLE_MAX);
	cs->nstage = 0;
	return rc;
}

static int
cs_sync(const struct ban *bans, size_t n)
{
	size_t nrec = 0, lost;

	if (!cs->open) {
		ban_log(BAN_LOG_ERR, "crowdsec: not open");
		return -1;
	}
	cs->nstage = 0;
	ban_buf_reset(&cs->recs);
	pthread_mutex_lock(&cs->mu);
	/* A record per ban and per entry at most. */
	cs->recs.max = (n + cs->t.n + 16) * CS_REC_MAX;
	lost = ban_cs_table_sync(&cs->t, bans, n, ban_cs_wall(), rec_out,
	    &nrec);
	if (cs->recs.over || ban_cs_spool_append(&cs->sp, cs->recs.p,
	    cs->recs.len, nrec) != 0)
		cs->st.errors++;
	cs->st.errors += lost;
	pthread_cond_signal(&cs->cv);
	pthread_mutex_unlock(&cs->mu);
	cs->recs.max = (size_t)STAGE_MAX * CS_REC_MAX;
	if (lost > 0)
		ban_log(BAN_LOG_ERR, "crowdsec: sync: %zu bans not queued "
		    "(table full)", lost);
	return lost > 0 || cs->recs.over ? -1 : 0;
}

static int
cs_flush(void)
{
	return cs->open ? cs_sync(NULL, 0) : 0;
}

static void
cs_close(void)
{
	struct timespec ts;
	wb_usec now;

	if (!cs->open)
		return;
	cs->nstage = 0;
	if (cs->running) {
		pthread_mutex_lock(&cs->mu);
		cs->stop = true;
		cs->drain_until = ban_cs_mono() + DRAIN_WAIT;
		pthread_cond_signal(&cs->cv);
		pthread_mutex_unlock(&cs->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += DRAIN_WAIT / WB_USEC_PER_SEC + 1;
		if (pthread_timedjoin_np(cs->thr, NULL, &ts) != 0) {
			/* A request hangs: cut it. */
			atomic_store(&cs->abort, 1);
			pthread_join(cs->thr, NULL);
		}
	}
	now = ban_cs_wall();
	pthread_mutex_lock(&cs->mu);
	if (cs->t.posts + cs->t.dels > 0)
		ban_log(BAN_LOG_WARNING, "crowdsec: %zu deliveries pending, "
		    "kept in %s for the next start", cs->t.posts + cs->t.dels,
		    cs->sp.fd >= 0 ? cs->sp.path : "(no spool: lost)");
	(void)ban_cs_table_sweep(&cs->t, now);
	if (ban_cs_spool_wants_compaction(&cs->sp, &cs->t))
		(void)ban_cs_spool_compact(&cs->sp, &cs->t, now);
	ban_cs_spool_close(&cs->sp);
	ban_cs_table_fini(&cs->t);
	pthread_mutex_unlock(&cs->mu);
	pthread_cond_destroy(&cs->cv);
	ban_cs_http_free(cs->http);
	ban_buf_free(&cs->recs);
	ban_buf_free(&cs->body);
	ban_buf_free(&cs->dbuf);
	free(cs->stage);
	free(cs->v);
	free(cs->sent);
	free(cs->gens);
	free(cs->in);
	memset(cs->password, 0, sizeof(cs->password));
	ban_cs_token_clear(&cs->tok);
	cs->stage = NULL;
	cs->v = NULL;
	cs->sent = NULL;
	cs->gens = NULL;
	cs->in = NULL;
	cs->http = NULL;
	cs->nstage = cs->stagecap = 0;
	cs->running = cs->stop = cs->open = false;
	atomic_store(&cs->abort, 0);
}

static int
cs_open(const struct ban_fw_config *c)
{
	struct cs_spool_stats ss;
	struct cs_http_conf hc;
	pthread_condattr_t ca;

	if (cs->open) {
		ban_log(BAN_LOG_ERR, "crowdsec: already open");
		return -1;
	}
	if (configure(c) != 0)
		return -1;
	if (ban_cs_http_global_init() != 0)
		return -1;
	memset(&cs->st, 0, sizeof(cs->st));
	memset(&cs->ws, 0, sizeof(cs->ws));
	cs->failures = 0;
	cs->next_try = cs->next_sweep = 0;
	cs->logged[0] = '\0';
	cs->rnd = (uint32_t)ban_cs_mono() ^ (uint32_t)getpid() << 16 ^
	    0x9e3779b9u;
	if (cs->rnd == 0)
		cs->rnd = 1;
	cs->sp.fd = -1;
	if (ban_cs_table_init(&cs->t, CS_TABLE_MAX) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: out of memory");
		return -1;
	}
	ban_buf_init(&cs->recs, (size_t)STAGE_MAX * CS_REC_MAX);
	ban_buf_init(&cs->body, cs->batch * 2048 + 4096);
	ban_buf_init(&cs->dbuf, cs->batch * CS_REC_MAX + 1);
	cs->v = calloc(cs->batch, sizeof(*cs->v));
	cs->sent = calloc(cs->batch, sizeof(*cs->sent));
	cs->gens = calloc(cs->batch, sizeof(*cs->gens));
	cs->in = calloc(cs->batch, sizeof(*cs->in));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cs->cv, &ca);
	pthread_condattr_destroy(&ca);
	cs->open = true;	/* from here on cs_close() undoes it all */
	if (cs->v == NULL || cs->sent == NULL || cs->gens == NULL ||
	    cs->in == NULL) {
		ban_log(BAN_LOG_ERR, "crowdsec: out of memory");
		goto fail;
	}
	if (c->cs_spool == NULL)
		ban_log(BAN_LOG_WARNING, "crowdsec: no spool: deliveries "
		    "pending at exit are lost");
	else if (ban_cs_spool_open(&cs->sp, c->cs_spool, &cs->t, ban_cs_wall(),
	    &ss) != 0)
		goto fail;
	hc.url = cs->url;
	hc.ca_file = cs->ca[0] != '\0' ? cs->ca : NULL;
	hc.timeout_ms = cs->timeout_ms;
	hc.abort = &cs->abort;
	if ((cs->http = ban_cs_http_new(&hc)) == NULL)
		goto fail;
	if ((errno = pthread_create(&cs->thr, NULL, ban_cs_worker,
	    NULL)) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: thread: %s", strerror(errno));
		goto fail;
	}
	cs->running = true;
	ban_log(BAN_LOG_INFO, "crowdsec: delivering to %s as %s%s%s; %zu "
	    "pending from the spool", cs->url, cs->login, c->cs_spool ?
	    ", spool " : "", c->cs_spool ? c->cs_spool : "",
	    cs->t.posts + cs->t.dels);
	return 0;
fail:
	cs_close();
	return -1;
}

static void
cs_stats(struct ban_fw_stats *st)
{
	pthread_mutex_lock(&cs->mu);
	*st = cs->st;
	st->pending = cs->t.posts + cs->t.dels;
	st->set_full = 0;
	st->capacity = 0;
	pthread_mutex_unlock(&cs->mu);
}

static void
cs_hint(char *buf, size_t len)
{
	if (len > 0 && snprintf(buf, len, "cscli decisions list -a --origin "
	    "%s", cs->open ? cs->origin : "wireban") >= (int)len)
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
