/*
 * bans.h - who gets banned, for how long, and how the ban reaches the
 * kernel firewall.
 *
 * Three parts, one contract:
 *   - the policy: offences (rule, weight, packet time) per client address
 *     add up inside a window; at maxretry the address is banned, repeat
 *     offenders for longer (fail2ban's bantime.increment). It takes the
 *     time as an argument and never reads a clock, so a replayed capture
 *     gives the same decisions every run.
 *   - the backends: one small table of function pointers per firewall
 *     ("iptables" through libiptc, "dry-run", "exec", "record").
 *   - the state: active bans and ban history in a text file written
 *     atomically, and the reconcile that brings a backend in line with it.
 *
 * This module knows no packets: it never includes pcap, nids, sniffer.h
 * or smtp.h. What crosses the boundary is struct wb_addr, wb_usec, rule
 * names and weights in, struct ban out.
 *
 * Errors: functions that can fail at run time return -1 and emit one log
 * line through the hook set by ban_log_set(); nothing here exits.
 */
#ifndef WIREBAN_BANS_H
#define WIREBAN_BANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* ---- common ----------------------------------------------------------- */

/* A rule name with its NUL; the same bound as SMTP_RULE_NAME_MAX. */
#define BAN_RULE_MAX	32

/*
 * One ban: a decision of the policy, a call to a backend, a record of
 * the state and a row of `wireban list`. What is banned is the prefix
 * addr/bits: addr is the network (host bits zero), bits 32 or 128 for
 * one address (policy.ipv4_prefix, ipv6_prefix group offenders by a
 * shorter one). The duration is expiry - start; a backend whose kernel
 * entries carry a timeout gives them expiry - start, so a caller that
 * hands over a ban later than it began moves start to now. score is the
 * weight sum that triggered it (0 for a manual ban); count is which ban
 * of this prefix it is (1 for the first), the n of the bantime *
 * factor^(n-1) increment. rule is always NUL-terminated.
 */
struct ban {
	struct wb_addr	 addr;
	uint8_t		 bits;
	char		 rule[BAN_RULE_MAX];
	int		 score;
	unsigned	 count;
	wb_usec		 start;
	wb_usec		 expiry;
};

/* Called with one ban; b is valid only during the call. */
typedef void ban_cb(void *arg, const struct ban *b);

enum ban_log_level {
	BAN_LOG_ERR = 0,	/* an operation failed (the -1 returns) */
	BAN_LOG_WARNING,	/* degraded: e.g. IPv6 tables unavailable */
	BAN_LOG_INFO,		/* dry-run decisions, reconcile summary */
};

typedef void ban_log_fn(void *arg, enum ban_log_level level,
    const char *line);

/*
 * Sets where the module's log lines go: fn(arg, level, line) with one
 * line without its newline, valid during the call. fn NULL restores the
 * default, which writes "wireban: LINE" to stderr. The hook is global to
 * the module (one daemon, one log); set it before opening anything.
 */
void ban_log_set(ban_log_fn *fn, void *arg);

/*
 * Parses "ADDR" or "ADDR/BITS", v4 or v6, as used by ignoreip. A bare
 * address gets 32 or 128 bits. Host bits beyond the prefix are cleared.
 * Returns 0, or -1 when s is malformed or BITS is out of range.
 */
int ban_cidr_parse(const char *s, struct wb_addr *net, int *bits);

/*
 * When net/bits overlaps a range that is never banned (unspecified,
 * loopback, multicast, broadcast: 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4,
 * 255.255.255.255, ::, ::1, ff00::/8), returns that range's name, else
 * NULL. The policy refuses such bans, by hand and from offences.
 */
const char *ban_addr_special(const struct wb_addr *net, int bits);

/* True when the prefixes net/bits and o/obits share an address. */
bool ban_prefix_overlap(const struct wb_addr *net, int bits,
    const struct wb_addr *o, int obits);

/* ---- policy ----------------------------------------------------------- */

/*
 * Policy settings; ban_policy_defaults() fills the documented defaults.
 * Durations are microseconds of packet time.
 */
struct ban_policy_config {
	int		 maxretry;	/* 3: the sum that bans (1..1000) */
	wb_usec		 findtime;	/* 10 min: the window */
	wb_usec		 bantime;	/* 1 h: the first ban */
	double		 bantime_factor; /* 2: per repeat (>= 1) */
	wb_usec		 bantime_max;	/* 1 w: the cap (>= bantime) */
	/*
	 * Offenders are grouped, and banned, by these prefixes: every
	 * address of one IPv6 /64 is one offender (attackers rotate
	 * addresses inside the /64 they own).
	 */
	int		 prefix4;	/* 32: 8..32 */
	int		 prefix6;	/* 64: 32..128 */
	size_t		 max_tracked;	/* 1048576 prefixes remembered */
	uint64_t	 seed;		/* hash key; 0: random */
};

/* Policy counters, for `wireban status`. */
struct ban_policy_stats {
	uint64_t	 offences;	/* offences reported */
	uint64_t	 ignored;	/* of those, from ignoreip/self */
	uint64_t	 refused;	/* of those, from ranges never banned */
	uint64_t	 while_banned;	/* of those, from banned ones */
	uint64_t	 untracked;	/* dropped: table full of bans */
	uint64_t	 evicted;	/* entries evicted to make room */
	uint64_t	 banned;	/* currently banned */
	uint64_t	 banned6;	/* of which IPv6 prefixes */
	uint64_t	 bans_total;	/* bans started since ban_policy_new */
	uint64_t	 unbans_total;	/* bans ended (expired or manual) */
	uint64_t	 tracked;	/* prefixes in the table now */
	uint64_t	 full;		/* times max_tracked was reached */
};

struct ban_policy;

/*
 * Fills c with the defaults: 3, 10m, 1h, 2, 1w, /32, /64, 1048576,
 * random seed.
 */
void ban_policy_defaults(struct ban_policy_config *c);

/*
 * Creates a policy from c (copied). Returns NULL when a setting is out of
 * range (a message naming the key goes to err, errlen bytes) or memory
 * runs out. The caller frees it with ban_policy_free(); NULL is a no-op.
 * Memory is bounded by max_tracked entries of a size set by maxretry
 * (about 200 bytes each with maxretry 3: 1048576 take about 210 MB when
 * all are in use).
 */
struct ban_policy *ban_policy_new(const struct ban_policy_config *c,
    char *err, size_t errlen);
void ban_policy_free(struct ban_policy *p);

/*
 * Adds one ignoreip item, "ADDR" or "ADDR/BITS" (v4 or v6), to the list
 * of addresses that are never banned. Returns 0, or -1 (with a log line)
 * when spec is malformed or memory runs out.
 */
int ban_policy_ignore(struct ban_policy *p, const char *spec);

/*
 * Adds net/bits to the ignoreip list. Returns 0, or -1 on a bad prefix
 * or out of memory.
 */
int ban_policy_ignore_net(struct ban_policy *p, const struct wb_addr *net,
    int bits);

/*
 * Replaces the list of this host's own prefixes, never banned either
 * (ignoreself: the configured servers and, for watch, the addresses of
 * this host's interfaces, refreshed when they change). Copied. Returns
 * 0, or -1 (the old list kept) on a bad prefix or out of memory.
 */
int ban_policy_set_self(struct ban_policy *p, const struct wb_addr *nets,
    const int *bits, size_t n);

/* True when a is one of this host's own (the list above). */
bool ban_policy_is_self(const struct ban_policy *p, const struct wb_addr *a);

/* True when a is covered by ignoreip or the self list. */
bool ban_policy_is_ignored(const struct ban_policy *p,
    const struct wb_addr *a);

/*
 * Sets the hook called with every ban that starts, from an offence or a
 * manual ban, before the starting call returns: the main wires in the
 * reset of the client's open SMTP connections here. fn NULL removes it.
 */
void ban_policy_set_hook(struct ban_policy *p, ban_cb *fn, void *arg);

/*
 * Records an offence of rule (NULL reads as "") with weight at packet
 * time now against addr's prefix (addr masked to prefix4 or prefix6;
 * the address alone when that prefix would cover an ignored address).
 * The weights of its offences less than findtime old add up; when the
 * sum reaches maxretry a ban of the prefix starts: *out (may be NULL) is
 * filled, the hook runs, the offences are forgotten, and 1 is returned.
 * Returns 0 when no ban starts: the sum is short, weight <= 0, addr is
 * ignored, in a range never banned (ban_addr_special) or already
 * covered by a ban, or the table is full of bans. Returns -1 (with a
 * log line) when addr has no family or memory runs out. An IPv4-mapped
 * IPv6 address counts as its IPv4 address.
 */
int ban_policy_offence(struct ban_policy *p, const struct wb_addr *addr,
    const char *rule, int weight, wb_usec now, struct ban *out);

/*
 * Bans addr/bits by hand (`wireban ban ADDR[/BITS] --for DURATION`;
 * bits < 0: the one address) from now for duration, or for the policy's
 * increment duration when duration <= 0. Returns 1 and fills *out (may
 * be NULL) when a ban starts (the hook runs); 0 when that prefix was
 * banned already, in which case a duration > 0 moves its expiry to now
 * + duration and *out shows the ban as it now stands; -1 (with a log
 * line) when the prefix is malformed, overlaps an ignored address or a
 * range never banned, or no room can be made.
 */
int ban_policy_ban(struct ban_policy *p, const struct wb_addr *addr,
    int bits, const char *rule, wb_usec duration, wb_usec now,
    struct ban *out);

/*
 * Lifts a ban by hand: the ban of exactly addr/bits, or with bits < 0
 * the ban covering addr (its own, its prefix's, or a manual prefix
 * ban). Returns 1 and fills *out (may be NULL) with the ban that ended,
 * 0 when there was none. The prefix keeps its ban count (a later ban is
 * still a repeat) and loses its offences.
 */
int ban_policy_unban(struct ban_policy *p, const struct wb_addr *addr,
    int bits, wb_usec now, struct ban *out);

/*
 * Ends every ban whose expiry is <= now, calling cb(arg, ban) for each
 * in expiry order (cb may be NULL), and forgets never-banned prefixes
 * whose last offence left the window. Returns the number of bans ended.
 * Call it on a timer: expiry must happen when no packet arrives.
 */
size_t ban_policy_expire(struct ban_policy *p, wb_usec now, ban_cb *cb,
    void *arg);

/*
 * Stores in *when the earliest expiry of an active ban and returns true,
 * or returns false when nothing is banned: the caller's poll timeout.
 */
bool ban_policy_next_expiry(const struct ban_policy *p, wb_usec *when);

/*
 * True when a ban covers addr, with that ban in *out (may be NULL).
 * Expiry is not checked here: a ban lasts until ban_policy_expire()
 * ends it.
 */
bool ban_policy_get(const struct ban_policy *p, const struct wb_addr *addr,
    struct ban *out);

/* What ban_policy_foreach() visits. */
#define BAN_ACTIVE	0x01	/* current bans */
#define BAN_HISTORY	0x02	/* last ban of addresses banned before */
#define BAN_UNSORTED	0x04	/* in no particular order: no sort */

/*
 * Calls cb(arg, ban) for the active bans and/or the past bans kept for
 * the increment (what: BAN_ACTIVE, BAN_HISTORY or both; active first),
 * each group sorted by address so output is stable (unless
 * BAN_UNSORTED: then in table order, with no allocation). For `wireban list`
 * time left is ban.expiry - now. The policy must not be changed from cb.
 * Returns the number visited, or -1 when memory for sorting runs out.
 */
int ban_policy_foreach(const struct ban_policy *p, unsigned what,
    ban_cb *cb, void *arg);

/*
 * Puts back a ban read from the state: active true restores it as a
 * current ban (even when its expiry has passed, so ban_policy_expire()
 * and reconcile report and lift it), false as history only (its count
 * feeds the increment). b->bits 0 reads as one address. A restored ban
 * does not run the hook. When the prefix is known already the record
 * restored last replaces it: a state is replayed oldest first, and its
 * newest record is the truth (also when the policy forgot the prefix
 * in between and counted its bans anew). Returns 0, or -1 (with a log line)
 * when the prefix is ignored, never banned or has no family, the ban is
 * malformed, or no room can be made.
 */
int ban_policy_restore(struct ban_policy *p, const struct ban *b,
    bool active);

/*
 * The length of the count-th ban of an address: bantime *
 * factor^(count-1), capped at bantime_max (count 0 reads as 1).
 */
wb_usec ban_policy_duration(const struct ban_policy *p, unsigned count);

/* Fills *st with the counters. */
void ban_policy_stats(const struct ban_policy *p, struct ban_policy_stats *st);

/* ---- firewall backends ------------------------------------------------ */

/* multiport takes at most 15 ports. */
#define BAN_PORTS_MAX	15
/* A chain name with its NUL: iptables allows 28 characters. */
#define BAN_CHAIN_MAX	29

enum ban_target {
	BAN_TARGET_DROP = 0,
	BAN_TARGET_REJECT,	/* -p tcp -j REJECT --reject-with tcp-reset */
};

/*
 * The [firewall] section. Strings are the caller's and are copied by
 * open(). ban_fw_config_defaults() fills the defaults noted here.
 */
struct ban_fw_config {
	const char	*backend;	/* "iptables": for ban_backend_find() */
	const char	*chain;		/* "wireban" */
	bool		 allports;	/* no: jump only for the ports below */
	enum ban_target	 target;	/* DROP */
	uint16_t	 ports[BAN_PORTS_MAX]; /* 25, 465, 587 */
	size_t		 nports;
	bool		 forward;	/* no: jump from INPUT only */
	bool		 keep_on_close;	/* no: close() removes chain, jumps */
	/* exec: run as  sh -c CMD wireban ADDR RULE SECS  */
	const char	*ban_command;
	const char	*unban_command;	/* NULL: nothing on unban */
	int		 exec_timeout_ms; /* 10000: then killed */
	int		 lock_wait_ms;	/* 10000: for the xtables lock */
	/* NULL: $XTABLES_LOCKFILE, else /run/xtables.lock */
	const char	*lock_file;
	/*
	 * The policy's prefix lengths (32 and 64 by default): the set
	 * backends key their fast sets on addresses masked to these, and
	 * keep bans of any other length in a slower interval set.
	 */
	int		 prefix4, prefix6;
	/* nftables: the table "inet <table>" holds sets and chains. */
	const char	*table;		/* "wireban" */
	/* ipset: the sets' names, v4 and v6 ("wireban4", "wireban6"). */
	const char	*set4, *set6;
	size_t		 maxelem;	/* 1048576 elements per set */
	/*
	 * crowdsec: a CrowdSec Local API that bouncers on every host read
	 * (the [crowdsec] section). password or password_file (read once
	 * by the backend: not readable by group or others).
	 */
	const char	*cs_url;	/* "http://127.0.0.1:8080" */
	const char	*cs_login;	/* machine id; NULL: not set */
	const char	*cs_password;
	const char	*cs_password_file;
	const char	*cs_scenario;	/* "wireban/smtp-abuse" */
	const char	*cs_origin;	/* "wireban" */
	const char	*cs_ca_file;	/* NULL: the system's CAs */
	int		 cs_timeout_ms;	/* 5000 per request */
	size_t		 cs_batch;	/* 500 alerts per POST at most */
	/* Where pending deliveries are kept across restarts. */
	const char	*cs_spool;	/* NULL: paths.state + ".crowdsec" */
};

/* What a backend counts, for `wireban status` and the metrics. */
struct ban_fw_stats {
	uint64_t	 commits;	/* transactions applied */
	uint64_t	 errors;	/* failed calls (each logged) */
	uint64_t	 set_full;	/* bans the kernel refused: set full */
	size_t		 capacity;	/* elements per set, 0: unbounded */
	/* A remote backend (crowdsec): what it has yet to deliver. */
	uint64_t	 delivered;	/* bans and unbans delivered */
	uint64_t	 pending;	/* not delivered yet (retrying) */
	char		 last_error[128];	/* "" when none */
};

/* Fills c with the defaults above. */
void ban_fw_config_defaults(struct ban_fw_config *c);

/*
 * A firewall backend. At most one instance of each is open at a time
 * (its state is the backend's own), and it is used from one thread at a
 * time. Every function member is non-NULL.
 *
 *   open    validates c and prepares the firewall (iptables: creates the
 *           chain if missing and puts the jumps at the top of INPUT, and
 *           FORWARD when asked, in one commit; existing rules in the
 *           chain are left for ban_reconcile()). 0 or -1.
 *   ban     bans b->addr/b->bits. Backends that batch (all but exec)
 *           only stage it: it takes effect at the next commit. Banning
 *           a prefix already in the firewall is not an error. 0 or -1.
 *   unban   lifts that ban, staged like ban. A prefix that is not in
 *           the firewall is not an error. 0 or -1.
 *   commit  applies what is staged as one kernel transaction per
 *           family (thousands of bans in one). On -1 the backend has
 *           logged and counted why; what could not be applied is
 *           dropped, and sync() brings the firewall back in line.
 *   sync    makes the banned set exactly bans[0..n) (iptables: empties
 *           and refills the chain and re-tops the jumps inside one
 *           commit; exec: runs the ban command for each). Drops anything
 *           staged. 0 or -1.
 *   flush   lifts every ban, leaving the backend open. 0 or -1.
 *   close   drops what is staged, removes the chain and jumps unless
 *           keep_on_close, and releases everything. Safe when not open.
 *   stats   fills the counters above.
 *   hint    writes into buf (len bytes) the command an admin runs to
 *           see the bans ("nft list table inet wireban"), "" for none.
 *
 * ban, unban and sync take prefixes (b->addr/b->bits). Set backends
 * give each element the timeout expiry - start, capped at max_timeout
 * (0: entries carry no timeout, or any timeout fits); the caller re-arms
 * a longer ban before that cap runs out by calling ban() again, which
 * then sets the element's timeout anew. ban() of an element already in
 * the set updates its timeout. unban() of an element the kernel already
 * dropped (its timeout ran out) is no error.
 */
struct ban_backend {
	const char	*name;
	int		(*open)(const struct ban_fw_config *c);
	int		(*ban)(const struct ban *b);
	int		(*unban)(const struct ban *b);
	int		(*commit)(void);
	int		(*sync)(const struct ban *bans, size_t n);
	int		(*flush)(void);
	void		(*close)(void);
	void		(*stats)(struct ban_fw_stats *st);
	void		(*hint)(char *buf, size_t len);
	wb_usec		 max_timeout;
};

extern const struct ban_backend ban_backend_nftables;
extern const struct ban_backend ban_backend_ipset;
extern const struct ban_backend ban_backend_iptables;
extern const struct ban_backend ban_backend_dryrun;	/* "dry-run" */
extern const struct ban_backend ban_backend_exec;
extern const struct ban_backend ban_backend_record;

/* Every backend, NULL-terminated. */
extern const struct ban_backend *const ban_backends[];

/* The backend called name, or NULL. */
const struct ban_backend *ban_backend_find(const char *name);

/*
 * The record backend keeps every call in memory for tests (at most
 * BAN_RECORD_MAX; past that a call fails with -1) and the set of
 * addresses it would have banned.
 */
#define BAN_RECORD_MAX	1024

enum ban_rec_op {
	BAN_REC_OPEN, BAN_REC_BAN, BAN_REC_UNBAN, BAN_REC_COMMIT,
	BAN_REC_SYNC, BAN_REC_FLUSH, BAN_REC_CLOSE,
};

/*
 * sync(bans, n) is recorded as n SYNC calls, one per ban (one with no
 * ban when n is 0), each carrying n.
 */
struct ban_rec_call {
	enum ban_rec_op	 op;
	struct ban	 ban;	/* BAN, UNBAN, SYNC */
	size_t		 n;	/* SYNC: how many bans in the set */
};

/* The number of calls recorded, and call i (NULL when out of range). */
size_t ban_record_count(void);
const struct ban_rec_call *ban_record_get(size_t i);
/* True when a is in the record backend's banned set. */
bool ban_record_has(const struct wb_addr *a);
/* Size of the banned set. */
size_t ban_record_banned(void);
/* Forgets calls and the banned set. */
void ban_record_reset(void);
/* While fail is true every call but close fails with -1 (error paths). */
void ban_record_fail(bool fail);

/* ---- state ------------------------------------------------------------ */

/*
 * The ban state on disk: PATH (a snapshot of every active ban and the
 * ban history), PATH.journal (a record appended per ban, unban or
 * manual change since that snapshot) and PATH.lock (held by the one
 * process that owns the state). See bans/state.c for the formats and
 * the crash rules. The old single-file format (version 1) is read and
 * converted.
 */
struct ban_state;

/* What ban_state_open() found. */
struct ban_state_stats {
	size_t		 active;	/* "ban" records of the snapshot */
	size_t		 history;	/* "past" records of the snapshot */
	size_t		 journal;	/* journal records replayed */
	size_t		 bad;		/* lines reported and skipped */
	size_t		 refused;	/* well-formed, refused (ignoreip) */
	bool		 torn;		/* the journal's last record was torn */
	bool		 converted;	/* a version 1 file was converted */
	bool		 moved;		/* an unreadable file was moved aside */
};

/*
 * Opens the state at path and reads it into p (through
 * ban_policy_restore(), then the journal's records in order): takes the
 * lock (refused, with the other owner's pid in err, when another
 * process holds it), refuses a path that exists and is not a regular
 * file, moves an unreadable snapshot or journal aside to
 * PATH.bad-TIMESTAMP (logged; never overwritten), skips and logs bad
 * lines (path:line), cuts a torn last journal record (logged). Missing
 * files are a first start. Returns the open state (close it with
 * ban_state_close(), which releases the lock), or NULL with err.
 */
struct ban_state *ban_state_open(const char *path, struct ban_policy *p,
    struct ban_state_stats *st, char *err, size_t errlen);

/*
 * Appends len bytes of records (ban_state_fmt_*) to the journal with
 * one write, counting them as nrecords. No fsync: see
 * ban_state_flush(). Returns 0, or -1 with a log line.
 */
int ban_state_append(struct ban_state *s, const char *buf, size_t len,
    size_t nrecords);

/* Makes what was appended durable (fdatasync). 0, or -1 with a log line. */
int ban_state_flush(struct ban_state *s);

/*
 * Writes a new snapshot of the bans act[0..nact) and the history
 * past[0..npast), then starts an empty journal (each file through a
 * temp file, fsync and rename). Returns 0, or -1 with a log line (the
 * old snapshot and journal are then still whole and in use).
 */
int ban_state_compact(struct ban_state *s, const struct ban *act,
    size_t nact, const struct ban *past, size_t npast);

/* The same with everything p holds (at start, and for tests). */
int ban_state_save(struct ban_state *s, const struct ban_policy *p);

/* True once the journal holds more records than its bound. */
bool ban_state_wants_compaction(const struct ban_state *s);

/* Journal records since the snapshot. */
size_t ban_state_records(const struct ban_state *s);

/* Flushes, closes and unlocks; NULL is a no-op. */
void ban_state_close(struct ban_state *s);

/*
 * Formats the journal record of a ban that started or changed, or of
 * one that ended at when, into buf (BAN_STATE_REC_MAX bytes). Returns
 * its length.
 */
#define BAN_STATE_REC_MAX 256
size_t ban_state_fmt_ban(char *buf, const struct ban *b);
size_t ban_state_fmt_unban(char *buf, const struct ban *b, wb_usec when);

/* ---- enforcer --------------------------------------------------------- */

/*
 * The thread that applies decisions: the capture thread hands each ban
 * and unban over without waiting, the enforcer journals and commits
 * them in batches. See bans/enforcer.c for the design and the
 * durability rule.
 */
struct ban_enforcer;

#define BAN_BACKENDS_MAX 4

struct ban_enforcer_config {
	/*
	 * Open; the enforcer's from now on. Every operation goes to each,
	 * in this order (local firewall first, then a remote one).
	 */
	const struct ban_backend *backends[BAN_BACKENDS_MAX];
	size_t			 nbackends;
	struct ban_state	*state;		/* NULL: nothing persisted */
	size_t			 queue;		/* ring, operations: 65536 */
	size_t			 batch;		/* per commit at most: 8192 */
	wb_usec			 fsync_delay;	/* 50 ms: fsyncs grouped */
	wb_usec			 rearm_every;	/* 0: 60 s; long bans looked at */
};

#define BAN_LAT_BUCKETS	15
/* Upper bounds (seconds) of the latency histogram; a 16th is +Inf. */
extern const double ban_latency_bounds[BAN_LAT_BUCKETS];

struct ban_enforcer_stats {
	uint64_t	 queued;	/* operations handed over */
	uint64_t	 applied;	/* of those, committed */
	uint64_t	 batches;	/* commits */
	uint64_t	 largest;	/* most operations in one commit */
	uint64_t	 deferred;	/* found the queue full (resync owed) */
	uint64_t	 resyncs;	/* full resyncs done */
	uint64_t	 rearmed;	/* long bans given a new kernel timeout */
	uint64_t	 compactions;	/* snapshots written */
	uint64_t	 commit_errors;
	uint64_t	 journal_errors;
	size_t		 depth;		/* in the queue now */
	size_t		 pending;	/* handed over, not yet committed */
	/* each backend's, after the last commit, in config order */
	struct ban_fw_stats fw[BAN_BACKENDS_MAX];
	/* hand-over to commit: counts per bucket (last: +Inf) */
	uint64_t	 lat_buckets[BAN_LAT_BUCKETS + 1];
	double		 lat_sum;	/* seconds */
	uint64_t	 lat_count;
};

/*
 * Starts the thread. From then on only it may use c->backend and
 * c->state until ban_enforcer_stop(). Returns NULL with err.
 */
struct ban_enforcer *ban_enforcer_start(const struct ban_enforcer_config *c,
    char *err, size_t errlen);

/*
 * Hands a ban (that started or changed) or an unban (that ended at
 * when) over. Never blocks: returns 0 when queued, 1 when the queue was
 * full; then the enforcer is owed a resync, which ban_enforcer_poll()
 * sends from the policy once there is room (the decision is applied
 * late, not lost).
 */
int ban_enforcer_ban(struct ban_enforcer *e, const struct ban *b);
int ban_enforcer_unban(struct ban_enforcer *e, const struct ban *b,
    wb_usec when);

/*
 * Call on every turn of the capture loop: sends an owed resync, or the
 * snapshot the journal's compaction asks for, both copied from p.
 */
void ban_enforcer_poll(struct ban_enforcer *e, const struct ban_policy *p);

/*
 * Waits until everything handed over is committed (an owed resync
 * included, taken from p). Returns 0, or -1 after timeout_ms.
 */
int ban_enforcer_drain(struct ban_enforcer *e, const struct ban_policy *p,
    int timeout_ms);

void ban_enforcer_stats(struct ban_enforcer *e, struct ban_enforcer_stats *st);

/*
 * Drains (when p is not NULL: at most 10 s), fsyncs the journal, stops
 * the thread and frees e. The backend and the state stay open, the
 * caller's again. NULL is a no-op.
 */
void ban_enforcer_stop(struct ban_enforcer *e, const struct ban_policy *p);

/*
 * Brings backend b (open) in line with p at time now, for the start of
 * the daemon after ban_state_load(): bans whose time is up are ended
 * (b->unban and on_unban(arg, ban) for each, on_unban may be NULL) and
 * committed, then b->sync() gets the remaining bans, each with start
 * moved to now when earlier so the duration a backend sees is the time
 * left. The iptables sync rebuilds the chain inside one commit, so the
 * kernel never runs without the bans and rules unknown to the state go.
 * Returns 0, or -1 when the backend failed (it logged why).
 */
int ban_reconcile(struct ban_policy *p, const struct ban_backend *b,
    wb_usec now, ban_cb *on_unban, void *arg);

#endif
