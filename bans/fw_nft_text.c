/*
 * fw_nft_text.c - the nft commands of the nftables backend, as text for
 * libnftables (nft_run_cmd_from_buffer), built apart from the library
 * so that tests can read them without a kernel.
 *
 * The table (names as in the default configuration):
 *
 *   table inet wireban {
 *     set ipv4_addr { type ipv4_addr; flags timeout; }            hash
 *     set ipv4_net  { type ipv4_addr; flags interval,timeout; }   rbtree
 *     set ipv6_addr { type ipv6_addr; flags timeout; }
 *     set ipv6_net  { type ipv6_addr; flags interval,timeout; }
 *     chain input {
 *       type filter hook input priority filter - 10; policy accept;
 *       tcp dport { 25, 465, 587 } ip saddr @ipv4_addr drop
 *       tcp dport { 25, 465, 587 } ip saddr @ipv4_net drop
 *       tcp dport { 25, 465, 587 } ip6 saddr & ffff:ffff:ffff:ffff::
 *           @ipv6_addr drop
 *       tcp dport { 25, 465, 587 } ip6 saddr @ipv6_net drop
 *     }
 *     chain forward { ... the same, when forward ... }
 *   }
 *
 * The _addr sets hold networks masked to prefix4 / prefix6 and the rule
 * masks the source the same way, so the common ban (the policy's prefix
 * length) is one hash lookup. A ban of any other length goes to the
 * _net set, an interval set. Interval sets are kept for those few
 * because nft makes every change to one cost the size of the set (it
 * fetches the set to check overlaps): measured here, one element added
 * to a hash set of 100k elements costs 0.06-0.08 ms through libnftables,
 * to an interval set of 20k elements 44 ms. Intervals may not overlap:
 * a prefix inside or around one already in the _net set is refused by
 * nft (the commit counts it).
 *
 * Priority filter - 10: a drop in any base chain is final, so the
 * priority only decides who sees a banned packet first; ours runs just
 * before the usual filter chains (Debian's inet filter at priority
 * filter), so a banned client never reaches their counters, logs or
 * accept rules, and after conntrack (-200) and raw, which we leave as
 * they are.
 *
 * With REJECT the TCP rules answer with a reset ("reject with tcp
 * reset"); with allports and REJECT other protocols are dropped.
 *
 * Invariant: every name written comes from ban_nft_conf(), which only
 * lets through [A-Za-z][A-Za-z0-9_-]*: nft 1.0.6 takes no quoted table
 * names, so nothing in the text can be read as another command.
 */
#include <stdio.h>
#include <string.h>

#include "bans_int.h"

/* Elements per "add element" line: nft's parser is happy with any. */
#define ELEMS_PER_LINE	1024

static const char *const set_names[BAN_NFT_NSETS] = {
	"ipv4_addr", "ipv4_net", "ipv6_addr", "ipv6_net",
};

static int	 table_name_ok(const char *);
static void	 mask_str(int, int, char *);
static int	 put_rules(struct ban_buf *, const struct ban_nft_conf *,
		    const char *);
static int	 put_elem(struct ban_buf *, const struct ban_nft_conf *,
		    enum ban_nft_set, const struct wb_addr *, int,
		    const wb_usec *);
static bool	 ban_ok(const struct ban *);

static int
table_name_ok(const char *t)
{
	size_t i, n = t != NULL ? strlen(t) : 0;

	if (n == 0 || n >= BAN_NFT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
		    ch <= 'Z');

		if (!alpha && (i == 0 || !((ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '-')))
			return 0;
	}
	return 1;
}

int
ban_nft_conf(struct ban_nft_conf *nc, const struct ban_fw_config *c)
{
	size_t i;

	if (!table_name_ok(c->table)) {
		ban_log(BAN_LOG_ERR, "nftables: bad table name \"%.40s\" "
		    "(1-%d of A-Z a-z 0-9 _ -, a letter first)",
		    c->table != NULL ? c->table : "", BAN_NFT_NAME_MAX - 1);
		return -1;
	}
	if (c->prefix4 < 1 || c->prefix4 > 32 || c->prefix6 < 1 ||
	    c->prefix6 > 128) {
		ban_log(BAN_LOG_ERR, "nftables: prefix lengths %d and %d: "
		    "need 1..32 and 1..128", c->prefix4, c->prefix6);
		return -1;
	}
	if (!c->allports && (c->nports == 0 || c->nports > BAN_PORTS_MAX)) {
		ban_log(BAN_LOG_ERR, "nftables: need 1 to %d ports, or "
		    "allports", BAN_PORTS_MAX);
		return -1;
	}
	for (i = 0; !c->allports && i < c->nports; i++)
		if (c->ports[i] == 0) {
			ban_log(BAN_LOG_ERR, "nftables: port 0 in ports");
			return -1;
		}
	if (c->target != BAN_TARGET_DROP && c->target != BAN_TARGET_REJECT) {
		ban_log(BAN_LOG_ERR, "nftables: unknown target %d",
		    (int)c->target);
		return -1;
	}
	memset(nc, 0, sizeof(*nc));
	memcpy(nc->table, c->table, strlen(c->table) + 1);
	nc->prefix4 = c->prefix4;
	nc->prefix6 = c->prefix6;
	nc->allports = c->allports;
	nc->forward = c->forward;
	nc->target = c->target;
	nc->nports = c->allports ? 0 : c->nports;
	memcpy(nc->ports, c->ports, nc->nports * sizeof(nc->ports[0]));
	return 0;
}

enum ban_nft_set
ban_nft_set_of(const struct ban_nft_conf *nc, int af, int bits)
{
	if (af == AF_INET6)
		return bits == nc->prefix6 ? BAN_NFT_V6_ADDR : BAN_NFT_V6_NET;
	return bits == nc->prefix4 ? BAN_NFT_V4_ADDR : BAN_NFT_V4_NET;
}

const char *
ban_nft_set_name(enum ban_nft_set s)
{
	return (unsigned)s < BAN_NFT_NSETS ? set_names[s] : "";
}

const char *
ban_nft_timeout(wb_usec d, char *buf, size_t len)
{
	static const struct {
		long long	 ms;
		const char	*unit;
	} units[] = {
		{ 86400000LL, "d" }, { 3600000LL, "h" }, { 60000LL, "m" },
		{ 1000LL, "s" }, { 1LL, "ms" },
	};
	long long ms = d / 1000;
	size_t i, off = 0;

	if (ms < 1000)
		ms = 1000;
	if (ms > BAN_NFT_TIMEOUT_MAX_MS)
		ms = BAN_NFT_TIMEOUT_MAX_MS;
	buf[0] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		long long v = ms / units[i].ms;
		int n;

		if (v == 0)
			continue;
		ms -= v * units[i].ms;
		n = snprintf(buf + off, len - off, "%lld%s", v, units[i].unit);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
	return buf;
}

/* The mask of prefix bits for family af, as nft writes an address. */
static void
mask_str(int af, int bits, char *buf)
{
	struct wb_addr m;

	memset(&m, 0, sizeof(m));
	m.family = (uint8_t)af;
	memset(m.a, 0xff, af == AF_INET ? 4 : 16);
	wb_addr_mask(&m, &m, bits);
	wb_addr_str(&m, buf);
}

/* The rules of one chain (input or forward), for both families. */
static int
put_rules(struct ban_buf *out, const struct ban_nft_conf *nc,
    const char *chain)
{
	char ports[BAN_PORTS_MAX * 8 + 32], mask[WB_ADDR_STRLEN];
	char match[WB_ADDR_STRLEN + 64];
	size_t i, off;
	int s;

	ports[0] = '\0';
	if (!nc->allports && nc->nports == 1)
		(void)snprintf(ports, sizeof(ports), "tcp dport %u ",
		    nc->ports[0]);
	else if (!nc->allports) {
		off = (size_t)snprintf(ports, sizeof(ports), "tcp dport { ");
		for (i = 0; i < nc->nports; i++)
			off += (size_t)snprintf(ports + off, sizeof(ports) - off,
			    "%u%s", nc->ports[i], i + 1 < nc->nports ? ", " :
			    " } ");
	}
	for (s = 0; s < BAN_NFT_NSETS; s++) {
		bool v6 = s == BAN_NFT_V6_ADDR || s == BAN_NFT_V6_NET;
		int pfx = v6 ? nc->prefix6 : nc->prefix4;
		const char *ip = v6 ? "ip6" : "ip";

		if ((s == BAN_NFT_V4_ADDR || s == BAN_NFT_V6_ADDR) &&
		    pfx < (v6 ? 128 : 32)) {
			mask_str(v6 ? AF_INET6 : AF_INET, pfx, mask);
			(void)snprintf(match, sizeof(match), "%s saddr & %s "
			    "@%s", ip, mask, set_names[s]);
		} else
			(void)snprintf(match, sizeof(match), "%s saddr @%s", ip,
			    set_names[s]);
		if (nc->target == BAN_TARGET_REJECT) {
			ban_buf_printf(out, "add rule inet %s %s %s%s reject "
			    "with tcp reset\n", nc->table, chain, nc->allports ?
			    "meta l4proto tcp " : ports, match);
			if (nc->allports)
				ban_buf_printf(out, "add rule inet %s %s %s "
				    "drop\n", nc->table, chain, match);
		} else
			ban_buf_printf(out, "add rule inet %s %s %s%s drop\n",
			    nc->table, chain, ports, match);
	}
	return out->over ? -1 : 0;
}

int
ban_nft_ruleset(struct ban_buf *out, const struct ban_nft_conf *nc,
    bool fresh)
{
	static const char *const chains[] = { "input", "forward" };
	const char *t = nc->table;
	int s, i;

	/* "add" first: a delete of a missing table would fail the lot. */
	if (fresh)
		ban_buf_printf(out, "add table inet %s\ndelete table inet %s\n",
		    t, t);
	ban_buf_printf(out, "add table inet %s\n", t);
	for (s = 0; s < BAN_NFT_NSETS; s++)
		ban_buf_printf(out, "add set inet %s %s { type %s; flags "
		    "%stimeout; }\n", t, set_names[s], s < BAN_NFT_V6_ADDR ?
		    "ipv4_addr" : "ipv6_addr", s == BAN_NFT_V4_NET ||
		    s == BAN_NFT_V6_NET ? "interval," : "");
	for (i = 0; i < 2; i++) {
		if (i == 1 && !nc->forward && fresh)
			break;
		ban_buf_printf(out, "add chain inet %s %s { type filter hook "
		    "%s priority filter - 10; policy accept; }\n", t,
		    chains[i], chains[i]);
		if (!fresh)
			ban_buf_printf(out, "flush chain inet %s %s\n", t,
			    chains[i]);
		if (i == 0 || nc->forward)
			put_rules(out, nc, chains[i]);
		else
			ban_buf_printf(out, "delete chain inet %s %s\n", t,
			    chains[i]);
	}
	return out->over ? -1 : 0;
}

/* ", " is the caller's; d NULL: no timeout. */
static int
put_elem(struct ban_buf *out, const struct ban_nft_conf *nc,
    enum ban_nft_set s, const struct wb_addr *net, int bits,
    const wb_usec *d)
{
	char p[WB_PREFIX_STRLEN], t[32];

	(void)nc;
	if (s == BAN_NFT_V4_ADDR || s == BAN_NFT_V6_ADDR)
		wb_addr_str(net, p);
	else
		wb_prefix_str(net, bits, p);
	if (d != NULL)
		return ban_buf_printf(out, "%s timeout %s", p,
		    ban_nft_timeout(*d, t, sizeof(t)));
	return ban_buf_printf(out, "%s", p);
}

int
ban_nft_batch(struct ban_buf *out, const struct ban_nft_conf *nc,
    const struct ban_op *ops, size_t n)
{
	static const char *const verbs[] = { "add", "delete", "add" };
	size_t i, start, k, nbans;
	int s, pass;

	for (s = 0; s < BAN_NFT_NSETS; s++) {
		/* Lines of at most ELEMS_PER_LINE elements of set s. */
		for (start = 0; start < n; start = i) {
			for (i = start, k = 0, nbans = 0; i < n &&
			    k < ELEMS_PER_LINE; i++)
				if (ban_nft_set_of(nc, ops[i].addr.family,
				    ops[i].bits) == (enum ban_nft_set)s) {
					k++;
					nbans += ops[i].ban;
				}
			if (k == 0)
				continue;
			for (pass = 0; pass < 3; pass++) {
				bool first = true;
				size_t j;

				if (pass == 2 && nbans == 0)
					break;
				ban_buf_printf(out, "%s element inet %s %s { ",
				    verbs[pass], nc->table, set_names[s]);
				for (j = start; j < i; j++) {
					const struct ban_op *o = &ops[j];

					if (ban_nft_set_of(nc, o->addr.family,
					    o->bits) != (enum ban_nft_set)s ||
					    (pass == 2 && !o->ban))
						continue;
					if (!first)
						ban_buf_printf(out, ", ");
					first = false;
					put_elem(out, nc, (enum ban_nft_set)s,
					    &o->addr, o->bits, pass == 2 ?
					    &o->duration : NULL);
				}
				ban_buf_printf(out, " }\n");
			}
		}
	}
	return out->over ? -1 : 0;
}

/* A ban sync can take: a family and a prefix length in range. */
static bool
ban_ok(const struct ban *b)
{
	return (b->addr.family == AF_INET || b->addr.family == AF_INET6) &&
	    ban_bits(b) <= wb_addr_bits(&b->addr);
}

int
ban_nft_elements(struct ban_buf *out, const struct ban_nft_conf *nc,
    const struct ban *bans, size_t n, unsigned sets, size_t *bad)
{
	size_t i, k;
	int s;

	*bad = 0;
	for (i = 0; i < n; i++)
		if (!ban_ok(&bans[i]))
			(*bad)++;
	for (s = 0; s < BAN_NFT_NSETS; s++) {
		if (!(sets & (1u << s)))
			continue;
		for (i = 0, k = 0; i < n; i++) {
			const struct ban *b = &bans[i];
			struct wb_addr net;
			wb_usec d;

			if (!ban_ok(b) || ban_nft_set_of(nc, b->addr.family,
			    ban_bits(b)) != (enum ban_nft_set)s)
				continue;
			if (k == 0)
				ban_buf_printf(out, "add element inet %s %s { ",
				    nc->table, set_names[s]);
			else
				ban_buf_printf(out, ", ");
			wb_addr_mask(&net, &b->addr, ban_bits(b));
			d = b->expiry > b->start ? b->expiry - b->start : 0;
			put_elem(out, nc, (enum ban_nft_set)s, &net, ban_bits(b),
			    &d);
			if (++k == ELEMS_PER_LINE) {
				ban_buf_printf(out, " }\n");
				k = 0;
			}
		}
		if (k > 0)
			ban_buf_printf(out, " }\n");
	}
	return out->over ? -1 : 0;
}
