/*
 * backend.c - the table of firewall backends, the [firewall] defaults,
 * and the two backends that touch nothing: "dry-run" and "record".
 *
 * dry-run decides and reports (one INFO log line per call) and changes
 * nothing, the default for `wireban replay`. record keeps every call and
 * the set of prefixes it would have banned in fixed arrays, for tests.
 *
 * Invariant: ban_backends[] is NULL-terminated and names are unique;
 * the record backend never holds more than BAN_RECORD_MAX calls or
 * banned prefixes (past that a call fails, it does not grow).
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "bans_int.h"

static int	 dry_open(const struct ban_fw_config *);
static int	 dry_ban(const struct ban *);
static int	 dry_unban(const struct ban *);
static int	 dry_commit(void);
static int	 dry_sync(const struct ban *, size_t);
static int	 dry_flush(void);
static void	 dry_close(void);
static int	 rec_add(enum ban_rec_op, const struct ban *, size_t);
static ssize_t	 rec_find(const struct wb_addr *, int);
static int	 rec_set_add(const struct wb_addr *, int);
static void	 rec_set_del(const struct wb_addr *, int);
static int	 rec_open(const struct ban_fw_config *);
static int	 rec_ban(const struct ban *);
static int	 rec_unban(const struct ban *);
static int	 rec_commit(void);
static int	 rec_sync(const struct ban *, size_t);
static int	 rec_flush(void);
static void	 rec_close(void);

/* nftables first: Debian 12's firewall framework, and the default. */
const struct ban_backend *const ban_backends[] = {
	&ban_backend_nftables,
	&ban_backend_ipset,
	&ban_backend_iptables,
	&ban_backend_dryrun,
	&ban_backend_exec,
	&ban_backend_record,
	NULL
};

const struct ban_backend *
ban_backend_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; ban_backends[i] != NULL; i++)
		if (strcmp(ban_backends[i]->name, name) == 0)
			return ban_backends[i];
	return NULL;
}

void
ban_fw_config_defaults(struct ban_fw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = "nftables";
	c->chain = "wireban";
	c->allports = false;
	c->target = BAN_TARGET_DROP;
	c->ports[0] = 25;
	c->ports[1] = 465;
	c->ports[2] = 587;
	c->nports = 3;
	c->forward = false;
	c->keep_on_close = false;
	c->ban_command = NULL;
	c->unban_command = NULL;
	c->exec_timeout_ms = 10000;
	c->lock_wait_ms = 10000;
	c->lock_file = NULL;
	c->prefix4 = 32;
	c->prefix6 = 64;
	c->table = "wireban";
	c->set4 = "wireban4";
	c->set6 = "wireban6";
	c->maxelem = 1048576;
	c->cs_url = "http://127.0.0.1:8080";
	c->cs_scenario = "wireban/smtp-abuse";
	c->cs_origin = "wireban";
	c->cs_timeout_ms = 5000;
	c->cs_batch = 500;
}

void
ban_fw_no_stats(struct ban_fw_stats *st)
{
	memset(st, 0, sizeof(*st));
}

void
ban_fw_no_hint(char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
}

/* ---- dry-run ---------------------------------------------------------- */

static int
dry_open(const struct ban_fw_config *c)
{
	(void)c;
	return 0;
}

static int
dry_ban(const struct ban *b)
{
	char p[WB_PREFIX_STRLEN];

	ban_log(BAN_LOG_INFO, "dry-run: would ban %s (%s) for %llds",
	    wb_prefix_str(&b->addr, ban_bits(b), p), b->rule,
	    (long long)((b->expiry - b->start) / WB_USEC_PER_SEC));
	return 0;
}

static int
dry_unban(const struct ban *b)
{
	char p[WB_PREFIX_STRLEN];

	ban_log(BAN_LOG_INFO, "dry-run: would unban %s",
	    wb_prefix_str(&b->addr, ban_bits(b), p));
	return 0;
}

static int
dry_commit(void)
{
	return 0;
}

static int
dry_sync(const struct ban *bans, size_t n)
{
	(void)bans;
	ban_log(BAN_LOG_INFO, "dry-run: would hold %zu bans", n);
	return 0;
}

static int
dry_flush(void)
{
	return 0;
}

static void
dry_close(void)
{
}

const struct ban_backend ban_backend_dryrun = {
	.name = "dry-run",
	.open = dry_open,
	.ban = dry_ban,
	.unban = dry_unban,
	.commit = dry_commit,
	.sync = dry_sync,
	.flush = dry_flush,
	.close = dry_close,
	.stats = ban_fw_no_stats,
	.hint = ban_fw_no_hint,
	.max_timeout = 0,
};

/* ---- record ----------------------------------------------------------- */

static struct ban_rec_call	 rec_calls[BAN_RECORD_MAX];
static size_t			 rec_ncalls;
static struct wb_addr		 rec_set[BAN_RECORD_MAX];
static uint8_t			 rec_bits[BAN_RECORD_MAX];
static size_t			 rec_nset;
static bool			 rec_failing;

static int
rec_add(enum ban_rec_op op, const struct ban *b, size_t n)
{
	if (rec_failing) {
		ban_log(BAN_LOG_ERR, "record: failing as asked");
		return -1;
	}
	if (rec_ncalls == BAN_RECORD_MAX) {
		ban_log(BAN_LOG_ERR, "record: more than %d calls",
		    BAN_RECORD_MAX);
		return -1;
	}
	memset(&rec_calls[rec_ncalls], 0, sizeof(rec_calls[0]));
	rec_calls[rec_ncalls].op = op;
	if (b != NULL)
		rec_calls[rec_ncalls].ban = *b;
	rec_calls[rec_ncalls].n = n;
	rec_ncalls++;
	return 0;
}

/* The prefix a/bits exactly (bits < 0: any prefix that holds a). */
static ssize_t
rec_find(const struct wb_addr *a, int bits)
{
	size_t i;

	for (i = 0; i < rec_nset; i++)
		if (bits < 0 ? wb_addr_in(a, &rec_set[i], rec_bits[i]) :
		    wb_addr_eq(&rec_set[i], a) && rec_bits[i] == bits)
			return (ssize_t)i;
	return -1;
}

static int
rec_set_add(const struct wb_addr *a, int bits)
{
	if (rec_find(a, bits) >= 0)
		return 0;
	if (rec_nset == BAN_RECORD_MAX) {
		ban_log(BAN_LOG_ERR, "record: more than %d bans",
		    BAN_RECORD_MAX);
		return -1;
	}
	rec_set[rec_nset] = *a;
	rec_bits[rec_nset++] = (uint8_t)bits;
	return 0;
}

static void
rec_set_del(const struct wb_addr *a, int bits)
{
	ssize_t i = rec_find(a, bits);

	if (i >= 0) {
		rec_nset--;
		rec_set[i] = rec_set[rec_nset];
		rec_bits[i] = rec_bits[rec_nset];
	}
}

static int
rec_open(const struct ban_fw_config *c)
{
	(void)c;
	return rec_add(BAN_REC_OPEN, NULL, 0);
}

static int
rec_ban(const struct ban *b)
{
	if (rec_add(BAN_REC_BAN, b, 0) != 0)
		return -1;
	return rec_set_add(&b->addr, ban_bits(b));
}

static int
rec_unban(const struct ban *b)
{
	if (rec_add(BAN_REC_UNBAN, b, 0) != 0)
		return -1;
	rec_set_del(&b->addr, ban_bits(b));
	return 0;
}

static int
rec_commit(void)
{
	return rec_add(BAN_REC_COMMIT, NULL, 0);
}

static int
rec_sync(const struct ban *bans, size_t n)
{
	size_t i;

	if (n == 0 && rec_add(BAN_REC_SYNC, NULL, 0) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (rec_add(BAN_REC_SYNC, &bans[i], n) != 0)
			return -1;
	rec_nset = 0;
	for (i = 0; i < n; i++)
		if (rec_set_add(&bans[i].addr, ban_bits(&bans[i])) != 0)
			return -1;
	return 0;
}

static int
rec_flush(void)
{
	if (rec_add(BAN_REC_FLUSH, NULL, 0) != 0)
		return -1;
	rec_nset = 0;
	return 0;
}

static void
rec_close(void)
{
	bool failing = rec_failing;

	rec_failing = false;
	(void)rec_add(BAN_REC_CLOSE, NULL, 0);
	rec_failing = failing;
}

const struct ban_backend ban_backend_record = {
	.name = "record",
	.open = rec_open,
	.ban = rec_ban,
	.unban = rec_unban,
	.commit = rec_commit,
	.sync = rec_sync,
	.flush = rec_flush,
	.close = rec_close,
	.stats = ban_fw_no_stats,
	.hint = ban_fw_no_hint,
	.max_timeout = 0,
};

size_t
ban_record_count(void)
{
	return rec_ncalls;
}

const struct ban_rec_call *
ban_record_get(size_t i)
{
	return i < rec_ncalls ? &rec_calls[i] : NULL;
}

/* True when a prefix in the banned set holds a. */
bool
ban_record_has(const struct wb_addr *a)
{
	return rec_find(a, -1) >= 0;
}

size_t
ban_record_banned(void)
{
	return rec_nset;
}

void
ban_record_reset(void)
{
	rec_ncalls = 0;
	rec_nset = 0;
	rec_failing = false;
}

void
ban_record_fail(bool fail)
{
	rec_failing = fail;
}
