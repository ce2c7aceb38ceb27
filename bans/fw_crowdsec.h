/*
 * fw_crowdsec.h - what the files of the "crowdsec" backend share, and
 * the white-box hooks tests/check_crowdsec.c uses. Nothing outside
 * bans/ and those tests includes it.
 *
 *   fw_crowdsec.c        the backend: configuration, staging, commit, sync
 *   fw_crowdsec_table.c  what is pending and what was delivered, per prefix
 *   fw_crowdsec_spool.c  the same on disk (CRC per record, compaction)
 *   fw_crowdsec_worker.c the worker thread: login, POST, DELETE
 *   fw_crowdsec_http.c   libcurl, the token, times, backoff, verdicts
 *   fw_crowdsec_json.c   the JSON we write, and a strict reader of replies
 *
 * Invariant: only fw_crowdsec_http.c includes <curl/curl.h>.
 */
#ifndef WIREBAN_FW_CROWDSEC_H
#define WIREBAN_FW_CROWDSEC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bans_int.h"

/* A reply body larger than this (plus CS_RESP_PER_ALERT per alert sent:
 * the LAPI answers a POST with one id per alert) is an error. */
#define CS_RESP_MAX		(64u << 10)
#define CS_RESP_PER_ALERT	24u
/* A JWT longer than this is refused (1.4.6's are ~200 bytes). */
#define CS_TOKEN_MAX		2048
/* What is kept of a message from the LAPI, for the log. */
#define CS_MSG_MAX		160
/* Nesting the strict reader accepts: replies are one or two levels. */
#define CS_JSON_DEPTH		16
/* Members of the top-level object it keeps apart (duplicates found). */
#define CS_JSON_MEMBERS		64
/* Prefixes pending or delivered that are remembered (~150 B each). */
#define CS_TABLE_MAX		(1u << 20)
/*
 * Two expiries this close are one decision: the LAPI holds the one we
 * would send. Also what a ban must still have left to be worth a lift
 * (DELETE) or a push.
 */
#define CS_SLACK		(2 * WB_USEC_PER_SEC)
/* Durations are capped like nftables' timeouts: 100 years. */
#define CS_DURATION_MAX		(36500LL * 86400 * WB_USEC_PER_SEC)
/* Token: renewed this long before it expires, never more often. */
#define CS_TOKEN_MARGIN		(60 * WB_USEC_PER_SEC)

/* ---- JSON out (fw_crowdsec_json.c) ------------------------------------ */

/* What an alert says besides the ban. */
struct cs_alert_conf {
	const char	*scenario;	/* "wireban/smtp-abuse" */
	const char	*origin;	/* "wireban" */
};

/*
 * Appends s as a JSON string (quotes included) to out: '"', '\\' and
 * controls escaped, valid UTF-8 kept, an invalid byte written as
 * U+FFFD. Returns 0 or -1 (out->over).
 */
int	 ban_cs_json_str(struct ban_buf *out, const char *s);

/* {"machine_id":..,"password":..,"scenarios":[scenario]}. 0 or -1. */
int	 ban_cs_json_login(struct ban_buf *out, const char *login,
	    const char *password, const char *scenario);

/*
 * The decision's value of b: "ADDR" (scope "Ip") for one address,
 * "NET/BITS" (scope "Range") otherwise. buf has WB_PREFIX_STRLEN
 * bytes. Returns the scope.
 */
const char *ban_cs_value(const struct ban *b, char *buf);

/*
 * Appends one alert object for b posted at now: start_at b->start,
 * stop_at now cut to the second, and a decision whose duration is the
 * time from that stop_at to b->expiry in milliseconds (the LAPI stores
 * until = stop_at + duration, so the decision ends at b->expiry).
 * Returns 1 when appended, 0 when b has less than a second left (not
 * sent), -1 when out is full.
 */
int	 ban_cs_json_alert(struct ban_buf *out, const struct cs_alert_conf *c,
	    const struct ban *b, wb_usec now);

/* t (microseconds since the epoch) as "2006-01-02T15:04:05Z" (UTC). */
void	 ban_cs_rfc3339(wb_usec t, char buf[32]);

/* ---- JSON in (fw_crowdsec_json.c) ------------------------------------- */

/*
 * The fields of a LAPI reply wireban reads: {"code","token","expire",
 * "message","nbDeleted"} of an object, or the number of elements (and
 * of string elements) of an array. Every string is NUL-free valid
 * UTF-8; message is cut at CS_MSG_MAX and made printable ASCII.
 */
struct cs_reply {
	bool	 object;		/* the top level is an object */
	bool	 has_code, has_token, has_expire, has_message;
	long	 code;			/* an integer 0..999 */
	char	 token[CS_TOKEN_MAX];
	char	 expire[64];
	char	 message[CS_MSG_MAX + 1];
	size_t	 items, strings;	/* top-level array */
};

/*
 * Reads buf[0..len) strictly (RFC 8259: one value, no trailing bytes,
 * no NUL, valid UTF-8, escapes checked, at most CS_JSON_DEPTH deep)
 * into *r. A known key of the wrong type, a known key twice (or any
 * key twice at the top level), a code out of 0..999 or a string longer
 * than its field is an error. Returns 0, or -1 with *why.
 */
int	 ban_cs_json_parse(const char *buf, size_t len, struct cs_reply *r,
	    const char **why);

/* ---- token and backoff (fw_crowdsec_http.c) --------------------------- */

/*
 * Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". Returns 0 and
 * *out (microseconds since the epoch), or -1.
 */
int	 ban_cs_rfc3339_parse(const char *s, wb_usec *out);

struct cs_token {
	char	 jwt[CS_TOKEN_MAX];	/* "" when none */
	wb_usec	 renew;			/* log in again from then on */
};

/*
 * Keeps jwt, valid until expire (the LAPI's word), got at now: renewed
 * CS_TOKEN_MARGIN before expire, but not before now + CS_TOKEN_MARGIN
 * (an expire that looks past, a clock skew, does not make us log in on
 * every request: a 401 does) nor later than now + 1 day.
 */
void	 ban_cs_token_set(struct cs_token *t, const char *jwt, wb_usec expire,
	    wb_usec now);
/* True when t holds a token that needs no renewal at now. */
bool	 ban_cs_token_fresh(const struct cs_token *t, wb_usec now);
void	 ban_cs_token_clear(struct cs_token *t);

/*
 * The wait after the n-th failure in a row (n >= 1): base * 2^(n-1)
 * capped at cap, then jittered into [d/2, d] by rnd (any 32 bits).
 */
int	 ban_cs_backoff_ms(unsigned n, uint32_t rnd, int base, int cap);

/*
 * The DELETE that lifts b's decision early (1.4.6: watchers only):
 * "/v1/decisions?type=ban&origin=ORIGIN&value=VALUE", both escaped;
 * "" when it does not fit len.
 */
void	 ban_cs_delete_path(char *buf, size_t len, const char *origin,
	    const struct ban *b);

/* What to do after a reply (status -1: no reply at all). */
enum cs_verdict {
	CS_V_OK,		/* 2xx */
	CS_V_RETRY,		/* later, with backoff: down, 5xx, 429 */
	CS_V_AUTH,		/* 401: log in again, then retry */
	CS_V_REFUSED,		/* never: 4xx, or 500 "validation failure" */
};
enum cs_verdict ban_cs_verdict(int status, const struct cs_reply *r);

/* A LAPI session: one libcurl handle, kept alive between requests. */
struct cs_http;

struct cs_http_conf {
	const char	*url;		/* "http://host:8080", no trailing / */
	const char	*ca_file;	/* NULL: the system's CAs */
	int		 timeout_ms;
	const _Atomic int *abort;	/* non-zero: stop the transfer */
};

/*
 * libcurl's global set-up, once, before any thread runs (it is not
 * thread-safe in every libcurl). 0, or -1 with a log line.
 */
int	 ban_cs_http_global_init(void);

/* NULL with a log line. The strings of c must outlive the session. */
struct cs_http *ban_cs_http_new(const struct cs_http_conf *c);
void	 ban_cs_http_free(struct cs_http *h);

/*
 * One request: method "POST" or "DELETE" on url + path, with body
 * (NULL: none) and, when bearer is not NULL, that token. Reads at most
 * max bytes of reply. Returns the HTTP status, or -1 with err (no
 * reply, a reply too large, an abort). The reply parsed is in *r
 * (r->object false and no fields when it was not JSON; *bad set then).
 */
int	 ban_cs_http_do(struct cs_http *h, const char *method, const char *path,
	    const char *body, size_t len, const char *bearer, size_t max,
	    struct cs_reply *r, bool *bad, char *err, size_t errlen);

/* ---- the table (fw_crowdsec_table.c) ---------------------------------- */

/*
 * Records: "q" a ban or unban handed over, "d" one delivered, "x" a
 * push the LAPI refused; each a state record line (record.c) behind
 * its letter, ending in " #CRC32".
 */
enum cs_rec { CS_Q_BAN, CS_Q_UNBAN, CS_D_BAN, CS_D_UNBAN, CS_X_BAN };

/*
 * One prefix: what is to be delivered (a POST of post, a DELETE of
 * what the LAPI holds) and what was (a decision until d_expiry). On
 * the work queue while want_post or want_del. Freed only by
 * ban_cs_table_sweep() and ban_cs_table_fini(), so the worker may hold
 * pointers across a request.
 */
struct cs_entry {
	struct cs_entry	*hnext;
	struct cs_entry	*qprev, *qnext;
	struct wb_addr	 addr;		/* the network */
	uint8_t		 bits;
	bool		 want_post, want_del, queued, delivered;
	bool		 mark;		/* ban_cs_table_sync() */
	struct ban	 post;		/* want_post: the ban to push */
	wb_usec		 d_expiry;	/* delivered: the LAPI's until */
	wb_usec		 f_expiry;	/* a POST in flight ends then; 0 */
	uint32_t	 gen;		/* bumped by every new want */
};

struct cs_table {
	struct cs_entry	**b;
	size_t		 mask, n, max;
	struct cs_entry	*qhead, *qtail;
	size_t		 posts, dels;	/* entries that want them */
	uint64_t	 expired;	/* pushes dropped: ban over first */
	uint64_t	 full;		/* prefixes refused: table full */
};

int	 ban_cs_table_init(struct cs_table *t, size_t max);
void	 ban_cs_table_fini(struct cs_table *t);
struct cs_entry *ban_cs_table_find(const struct cs_table *t,
	    const struct wb_addr *net, int bits);

/*
 * A ban of b's prefix (network of b->addr/ban_bits(b)) to deliver: not
 * when the LAPI holds that decision already (an expiry within
 * CS_SLACK); a DELETE first when it holds a longer one. Returns 1 when
 * something is to be done, 0 when nothing, -1 when the table is full
 * or memory runs out (counted in full).
 */
int	 ban_cs_table_ban(struct cs_table *t, const struct ban *b, wb_usec now);

/*
 * That ban ended at when: a pending push is dropped; a DELETE is
 * wanted when the LAPI may hold a decision lasting past when +
 * CS_SLACK (lifted early: a ban that ran out ends at the LAPI too).
 * Returns 1 when a DELETE is wanted, else 0.
 */
int	 ban_cs_table_unban(struct cs_table *t, const struct ban *b,
	    wb_usec when);

/* A POST of a decision until expiry succeeded; want_post cleared when
 * e->gen is still gen (gen 0: when e->post ends at expiry). */
void	 ban_cs_table_posted(struct cs_table *t, struct cs_entry *e,
	    wb_usec expiry, uint32_t gen);
/* A DELETE succeeded: the LAPI holds nothing of e. */
void	 ban_cs_table_deleted(struct cs_table *t, struct cs_entry *e,
	    uint32_t gen);
/* The LAPI refused e's push for good: it is not retried. */
void	 ban_cs_table_refused(struct cs_table *t, struct cs_entry *e,
	    uint32_t gen);

/* The first entry that wants a DELETE, or NULL. */
struct cs_entry *ban_cs_table_next_del(const struct cs_table *t);
/*
 * At most max entries that want a POST (and no DELETE first), in
 * queue order, into v; pushes whose ban has less than a second left at
 * now are dropped on the way (counted in expired). Returns how many.
 */
size_t	 ban_cs_table_next_posts(struct cs_table *t, struct cs_entry **v,
	    size_t max, wb_usec now);
/* Where ban_cs_table_sync() says what it changed, as spool records. */
typedef void cs_rec_fn(void *arg, enum cs_rec k, const struct ban *b,
    wb_usec when);

/*
 * Makes what the LAPI is to hold exactly bans[0..n) at now: each ban
 * the LAPI does not hold yet is to be pushed (one it holds is left
 * alone: a restart does not push it again), every other live decision
 * lifted, every other pending push dropped. rec(arg, ...) gets each
 * change. Returns how many bans could not be taken (table full).
 */
size_t	 ban_cs_table_sync(struct cs_table *t, const struct ban *bans, size_t n,
	    wb_usec now, cs_rec_fn *rec, void *arg);
/* Frees entries with nothing to do and no live decision at now. */
size_t	 ban_cs_table_sweep(struct cs_table *t, wb_usec now);
/* Calls fn for every entry (compaction). */
void	 ban_cs_table_foreach(const struct cs_table *t,
	    void (*fn)(void *, const struct cs_entry *), void *arg);

/* ---- the spool (fw_crowdsec_spool.c) ---------------------------------- */

#define CS_REC_MAX	(BAN_STATE_REC_MAX + 16)

/* One record into buf (CS_REC_MAX bytes); its length, 0 if it failed. */
size_t	 ban_cs_rec_format(char *buf, enum cs_rec k, const struct ban *b,
	    wb_usec when);

struct cs_spool {
	int		 fd;		/* -1: no spool (memory only) */
	char		 path[4096];
	size_t		 records;	/* in the file */
};

struct cs_spool_stats {
	size_t		 records, bad;
	bool		 torn;		/* a torn last record was cut */
};

/*
 * Opens (creates, mode 0600) and locks the spool at path, and replays
 * it into t at time now. A torn last record is cut off; a bad record
 * elsewhere is logged (path:line) and skipped. Returns 0, or -1 with a
 * log line (not a regular file, locked by another process, I/O).
 */
int	 ban_cs_spool_open(struct cs_spool *s, const char *path,
	    struct cs_table *t, wb_usec now, struct cs_spool_stats *st);
/* Appends len bytes holding n records. 0, or -1 with a log line. */
int	 ban_cs_spool_append(struct cs_spool *s, const char *buf, size_t len,
	    size_t n);
int	 ban_cs_spool_sync(struct cs_spool *s);
/* True when the file holds far more records than t needs. */
bool	 ban_cs_spool_wants_compaction(const struct cs_spool *s,
	    const struct cs_table *t);
/*
 * Rewrites the spool as the records of t (temp file, fsync, rename):
 * what is delivered and still live, what is pending. 0 or -1 (the old
 * file stays).
 */
int	 ban_cs_spool_compact(struct cs_spool *s, const struct cs_table *t,
	    wb_usec now);
void	 ban_cs_spool_close(struct cs_spool *s);

/* ---- the backend (fw_crowdsec.c) and its worker (fw_crowdsec_worker.c) */

#define CS_PASSWORD_MAX	512
#define CS_SWEEP_EVERY	(60 * WB_USEC_PER_SEC)

/* What the worker did, beyond struct ban_fw_stats. */
#define CS_HIST	16
struct cs_worker_stats {
	uint64_t	 posts;		/* POST /v1/alerts that succeeded */
	uint64_t	 deletes;	/* DELETE /v1/decisions that did */
	uint64_t	 logins;	/* logins that did */
	uint64_t	 failures;	/* requests that did not */
	uint64_t	 largest;	/* most alerts in one POST */
	uint64_t	 hist[CS_HIST];	/* POSTs of 2^i..2^(i+1)-1 alerts */
	uint64_t	 expired;	/* pushes dropped: ban over first */
};
/* An operation staged by ban() or unban(), until commit(). */
struct cs_staged {
	bool		 ban;
	struct ban	 b;
	wb_usec		 when;
};

/*
 * The backend's one instance. mu guards the table, the spool, the
 * counters, stop and drain_until; the worker's fields are its own.
 */
struct cs_state {
	bool		 open;
	char		 url[512], login[128], password[CS_PASSWORD_MAX];
	char		 scenario[128], origin[128], ca[4096];
	int		 timeout_ms;
	size_t		 batch;
	struct cs_alert_conf ac;
	/* the enforcer's side */
	struct cs_staged *stage;
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
	int		 backoff_base, backoff_cap;	/* ms */
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
	struct ban_buf	 dbuf;		/* a POST's "d" records */
};
extern struct cs_state ban_cs;

wb_usec	 ban_cs_wall(void);	/* CLOCK_REALTIME, us */
wb_usec	 ban_cs_mono(void);	/* CLOCK_MONOTONIC, us */
/* The worker thread's body: delivers until stop (see fw_crowdsec.c). */
void	*ban_cs_worker(void *arg);

/* ---- test hooks ---------------------------------------------------------- */

/* "crowdsec"; declared here until bans.h lists it with the others. */
extern const struct ban_backend ban_backend_crowdsec;

void	 ban_cs_worker_stats(struct cs_worker_stats *st);
/* Backoff of the worker (default 1000 .. 60000 ms). */
void	 ban_cs_tune(int base_ms, int cap_ms);

#endif
