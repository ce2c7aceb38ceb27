/*
 * fw_nft.c - the "nftables" backend: a table of its own ("inet wireban")
 * whose sets hold the bans as elements with a timeout, driven through
 * libnftables (nft_run_cmd_from_buffer, output and errors buffered).
 * The commands, the table's layout and why it has two kinds of set are
 * in fw_nft_text.c.
 *
 * Transactions. One nft_run_cmd_from_buffer() call is one nf_tables
 * transaction: the kernel applies all of its commands or none. ban()
 * and unban() only stage; commit() sends what is staged, coalesced, as
 * one call per BATCH_OPS changes (a few MB of text at most), so a batch
 * of thousands of bans costs their own number of elements, not the size
 * of the sets. When a transaction fails, the table is checked (and its
 * missing parts made again, if someone deleted them) and the changes
 * are retried in halves,
 * down to one, so that one bad element (an overlapping interval) costs
 * itself alone; each change that still fails is counted and the commit
 * returns -1 with at most two log lines.
 *
 * Timeouts. The kernel takes element timeouts up to about 292 years (2^63
 * ns; 106751d is accepted here, 365000d refused), so there is no
 * practical cap: max_timeout is 0 and ban_nft_timeout() clamps at 100
 * years. nft's "add element" leaves the timeout of a present element
 * alone, so a ban is staged as add {X}; delete {X}; add {X timeout T}
 * in one transaction (verified on this kernel), and an unban as add
 * {X}; delete {X}, which cannot fail because the kernel already timed X
 * out (nft 1.0.6 has no "destroy").
 *
 * sync() rebuilds the table in one transaction (delete, create, every
 * element): the kernel has the old rule set or the new one, never none.
 * That text is the one exception to the bounded buffer: about 50 bytes
 * per IPv4 ban (1,000,000 bans: ~50 MB, and libnftables needs ~400 MB
 * while it parses them); n is bounded by the policy's max_tracked.
 *
 * Invariant: at most one instance (state is file-static), used from one
 * thread; nothing is staged while closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "bans_int.h"

/* Changes per transaction: at most ~170 bytes each, so < 3 MB. */
#define BATCH_OPS	16384
#define BATCH_BUF_MAX	(4u << 20)
/* Per ban in sync's one transaction, and its fixed part. */
#define SYNC_PER_BAN	96
#define SYNC_BUF_BASE	(64u << 10)
/* A logged nft error is cut to this. */
#define ERR_MAX		160

static struct {
	bool		 open;
	bool		 keep;
	struct nft_ctx	*ctx;
	struct ban_nft_conf nc;
	struct ban_stage st;
	struct ban_buf	 buf;
	struct ban_fw_stats stats;
	char		 err[ERR_MAX];	/* first line of the last error */
} nft;

static int	 run(const char *);
static int	 ensure(bool);
static int	 apply(const struct ban_op *, size_t);
static size_t	 apply_split(const struct ban_op *, size_t, char *, size_t);
static int	 stage(bool, const struct ban *);
static int	 nft_open(const struct ban_fw_config *);
static int	 nft_ban(const struct ban *);
static int	 nft_unban(const struct ban *);
static int	 nft_commit(void);
static int	 nft_sync(const struct ban *, size_t);
static int	 nft_flush(void);
static void	 nft_close(void);
static void	 nft_stats(struct ban_fw_stats *);
static void	 nft_hint(char *, size_t);

/*
 * One transaction. Returns 0, or -1 with the first line of nft's error
 * (the message; the command it quotes may be a megabyte) in nft.err.
 */
static int
run(const char *text)
{
	const char *e;
	size_t n;
	int rc;

	rc = nft_run_cmd_from_buffer(nft.ctx, text);
	(void)nft_ctx_get_output_buffer(nft.ctx);	/* drop it */
	e = nft_ctx_get_error_buffer(nft.ctx);
	if (rc == 0)
		return 0;
	if (e == NULL || *e == '\0')
		e = "nft failed without a message";
	/* "/dev/stdin:1:2-3: Error: ..." or "Error: ...": keep the why. */
	if (strstr(e, "Error: ") != NULL && strstr(e, "Error: ") <
	    e + strcspn(e, "\n"))
		e = strstr(e, "Error: ");
	n = strcspn(e, "\n");
	if (n >= sizeof(nft.err))
		n = sizeof(nft.err) - 1;
	memcpy(nft.err, e, n);
	nft.err[n] = '\0';
	return -1;
}

/*
 * The table as configured, keeping its elements. With rebuild (open,
 * which a sync follows), a table that does not fit (a set of another
 * type) is made anew, empty; without (commit), that is an error.
 */
static int
ensure(bool rebuild)
{
	ban_buf_reset(&nft.buf);
	if (ban_nft_ruleset(&nft.buf, &nft.nc, false) == 0 &&
	    run(nft.buf.p) == 0)
		return 0;
	if (!rebuild) {
		ban_log(BAN_LOG_ERR, "nftables: table inet %s: %s",
		    nft.nc.table, nft.err);
		return -1;
	}
	ban_log(BAN_LOG_WARNING, "nftables: table inet %s does not fit (%s); "
	    "made anew, its bans come back with the next sync",
	    nft.nc.table, nft.err);
	ban_buf_reset(&nft.buf);
	if (ban_nft_ruleset(&nft.buf, &nft.nc, true) == 0 &&
	    run(nft.buf.p) == 0)
		return 0;
	ban_log(BAN_LOG_ERR, "nftables: cannot make table inet %s: %s",
	    nft.nc.table, nft.err);
	return -1;
}

/* ops[0..n) in one transaction. */
static int
apply(const struct ban_op *ops, size_t n)
{
	ban_buf_reset(&nft.buf);
	if (ban_nft_batch(&nft.buf, &nft.nc, ops, n) != 0) {
		(void)snprintf(nft.err, sizeof(nft.err), "%zu changes do not "
		    "fit in %u bytes", n, BATCH_BUF_MAX);
		return -1;
	}
	if (run(nft.buf.p) != 0)
		return -1;
	nft.stats.commits++;
	return 0;
}

/*
 * After ops[0..n) failed as one: halves, down to single changes. Returns
 * how many changes failed; the first is described in first.
 */
static size_t
apply_split(const struct ban_op *ops, size_t n, char *first, size_t len)
{
	char p[WB_PREFIX_STRLEN];
	size_t half;

	if (n == 1) {
		if (first[0] == '\0')
			(void)snprintf(first, len, "%s %s: %s", ops[0].ban ?
			    "ban" : "unban", wb_prefix_str(&ops[0].addr,
			    ops[0].bits, p), nft.err);
		return 1;
	}
	half = n / 2;
	return (apply(ops, half) == 0 ? 0 : apply_split(ops, half, first,
	    len)) + (apply(ops + half, n - half) == 0 ? 0 :
	    apply_split(ops + half, n - half, first, len));
}

static int
nft_commit(void)
{
	char first[ERR_MAX + WB_PREFIX_STRLEN + 16] = "";
	size_t i, k, failed = 0, n;
	bool logged = false;

	if (!nft.open || nft.st.n == 0)
		return 0;
	ban_stage_coalesce(&nft.st);
	n = nft.st.n;
	for (i = 0; i < n; i += k) {
		const struct ban_op *ops = &nft.st.v[i];

		k = n - i < BATCH_OPS ? n - i : BATCH_OPS;
		if (apply(ops, k) == 0)
			continue;
		if (!logged) {
			ban_log(BAN_LOG_ERR, "nftables: commit of %zu changes "
			    "failed: %s; retrying in parts", n, nft.err);
			logged = true;
		}
		if (ensure(false) != 0) {
			failed += k;
			continue;
		}
		if (apply(ops, k) != 0)
			failed += apply_split(ops, k, first, sizeof(first));
	}
	ban_stage_clear(&nft.st);
	if (failed == 0)
		return 0;
	nft.stats.errors += failed;
	ban_log(BAN_LOG_ERR, "nftables: %zu of %zu changes not applied%s%s%s",
	    failed, n, first[0] != '\0' ? " (first: " : "", first,
	    first[0] != '\0' ? ")" : "");
	return -1;
}

static int
stage(bool ban, const struct ban *b)
{
	int rc;

	if (!nft.open) {
		ban_log(BAN_LOG_ERR, "nftables: not open");
		return -1;
	}
	if ((rc = ban_stage_push(&nft.st, "nftables", ban, b)) < 0)
		return -1;
	/* The stage is full: send it now, its memory stays bounded. */
	if (rc == 1 && nft_commit() != 0)
		return -1;
	return 0;
}

static int
nft_ban(const struct ban *b)
{
	return stage(true, b);
}

static int
nft_unban(const struct ban *b)
{
	return stage(false, b);
}

static int
nft_sync(const struct ban *bans, size_t n)
{
	struct ban_buf sb;
	size_t i, bad = 0;
	int rc = 0;
	unsigned all = (1u << BAN_NFT_NSETS) - 1, hashed;

	if (!nft.open) {
		ban_log(BAN_LOG_ERR, "nftables: not open");
		return -1;
	}
	ban_stage_clear(&nft.st);
	hashed = (1u << BAN_NFT_V4_ADDR) | (1u << BAN_NFT_V6_ADDR);
	ban_buf_init(&sb, SYNC_BUF_BASE + n * SYNC_PER_BAN);
	if (ban_nft_ruleset(&sb, &nft.nc, true) != 0 ||
	    ban_nft_elements(&sb, &nft.nc, bans, n, all, &bad) != 0) {
		ban_log(BAN_LOG_ERR, "nftables: sync: %zu bans do not fit in "
		    "%zu bytes", n, sb.max);
		ban_buf_free(&sb);
		nft.stats.errors++;
		return -1;
	}
	if (run(sb.p) == 0) {
		nft.stats.commits++;
		ban_buf_free(&sb);
		goto done;
	}
	/*
	 * Most likely two prefix bans overlap in an interval set. Load the
	 * hash sets in one transaction all the same, then the others
	 * through commit, which isolates what nft refuses.
	 */
	ban_log(BAN_LOG_ERR, "nftables: sync of %zu bans failed: %s; "
	    "retrying with the prefix bans apart", n, nft.err);
	ban_buf_reset(&sb);
	if (ban_nft_ruleset(&sb, &nft.nc, true) != 0 ||
	    ban_nft_elements(&sb, &nft.nc, bans, n, hashed, &bad) != 0 ||
	    run(sb.p) != 0) {
		ban_log(BAN_LOG_ERR, "nftables: sync failed again: %s",
		    nft.err);
		ban_buf_free(&sb);
		nft.stats.errors++;
		return -1;
	}
	nft.stats.commits++;
	ban_buf_free(&sb);
	for (i = 0; i < n; i++) {
		const struct ban *b = &bans[i];

		if (b->addr.family != AF_INET && b->addr.family != AF_INET6)
			continue;
		if (ban_bits(b) > wb_addr_bits(&b->addr) ||
		    (hashed & (1u << ban_nft_set_of(&nft.nc, b->addr.family,
		    ban_bits(b)))) != 0)
			continue;
		if (stage(true, b) != 0)
			rc = -1;
	}
	if (nft_commit() != 0)
		rc = -1;
done:
	if (bad > 0) {
		ban_log(BAN_LOG_ERR, "nftables: sync: %zu bans without an "
		    "address or with a bad prefix length skipped", bad);
		nft.stats.errors += bad;
		rc = -1;
	}
	return rc;
}

static int
nft_flush(void)
{
	int s;

	if (!nft.open)
		return 0;
	ban_stage_clear(&nft.st);
	ban_buf_reset(&nft.buf);
	(void)ban_nft_ruleset(&nft.buf, &nft.nc, false);
	for (s = 0; s < BAN_NFT_NSETS; s++)
		ban_buf_printf(&nft.buf, "flush set inet %s %s\n",
		    nft.nc.table, ban_nft_set_name((enum ban_nft_set)s));
	if (!nft.buf.over && run(nft.buf.p) == 0) {
		nft.stats.commits++;
		return 0;
	}
	ban_log(BAN_LOG_ERR, "nftables: flush: %s", nft.err);
	nft.stats.errors++;
	return -1;
}

static void
nft_close(void)
{
	if (!nft.open)
		return;
	if (!nft.keep) {
		ban_buf_reset(&nft.buf);
		ban_buf_printf(&nft.buf, "add table inet %s\ndelete table inet "
		    "%s\n", nft.nc.table, nft.nc.table);
		if (run(nft.buf.p) != 0)
			ban_log(BAN_LOG_ERR, "nftables: close: %s", nft.err);
	}
	nft_ctx_free(nft.ctx);
	ban_stage_free(&nft.st);
	ban_buf_free(&nft.buf);
	memset(&nft, 0, sizeof(nft));
}

static int
nft_open(const struct ban_fw_config *c)
{
	struct ban_nft_conf nc;

	if (nft.open) {
		ban_log(BAN_LOG_ERR, "nftables: already open");
		return -1;
	}
	if (ban_nft_conf(&nc, c) != 0)
		return -1;
	memset(&nft, 0, sizeof(nft));
	nft.nc = nc;
	nft.keep = c->keep_on_close;
	ban_buf_init(&nft.buf, BATCH_BUF_MAX);
	if ((nft.ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		ban_log(BAN_LOG_ERR, "nftables: cannot make a libnftables "
		    "context");
		return -1;
	}
	if (nft_ctx_buffer_output(nft.ctx) != 0 ||
	    nft_ctx_buffer_error(nft.ctx) != 0) {
		ban_log(BAN_LOG_ERR, "nftables: cannot buffer libnftables "
		    "output");
		goto fail;
	}
	if (ensure(true) != 0)
		goto fail;
	nft.stats.commits++;
	nft.open = true;
	return 0;
fail:
	nft_ctx_free(nft.ctx);
	ban_buf_free(&nft.buf);
	memset(&nft, 0, sizeof(nft));
	return -1;
}

static void
nft_stats(struct ban_fw_stats *st)
{
	*st = nft.stats;
	st->set_full = 0;	/* nft sets here have no size: never full */
	st->capacity = 0;
}

static void
nft_hint(char *buf, size_t len)
{
	if (len == 0)
		return;
	if (snprintf(buf, len, "nft list table inet %s", nft.open ?
	    nft.nc.table : "wireban") >= (int)len)
		buf[0] = '\0';
}

const struct ban_backend ban_backend_nftables = {
	.name = "nftables",
	.open = nft_open,
	.ban = nft_ban,
	.unban = nft_unban,
	.commit = nft_commit,
	.sync = nft_sync,
	.flush = nft_flush,
	.close = nft_close,
	.stats = nft_stats,
	.hint = nft_hint,
	.max_timeout = 0,
};
