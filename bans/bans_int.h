/*
 * bans_int.h - what the files of bans/ share and nothing outside needs:
 * the log function behind ban_log_set(), the staging of the set
 * backends (fw_stage.c), the nftables text (fw_nft_text.c), the libiptc
 * rule layout (fw_rules.c) and the iptables side of the ipset backend
 * (fw_ipset_rule.c), each usable by white-box tests.
 *
 * No library header is included here: fw_ipset.c includes libipset,
 * whose headers clash with the <linux/netfilter.h> libiptc pulls in, so
 * what crosses between the two is plain C types only.
 *
 * Invariant: nothing here is part of the public contract in bans.h; the
 * rest of wireban never includes this file.
 */
#ifndef WIREBAN_BANS_INT_H
#define WIREBAN_BANS_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "bans.h"

/* One log line through the hook (default stderr). */
void ban_log(enum ban_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The stats and hint of a backend that counts nothing and shows nothing. */
void ban_fw_no_stats(struct ban_fw_stats *st);
void ban_fw_no_hint(char *buf, size_t len);

/* ---- state records (record.c) ---------------------------------------- */

enum ban_rec_kind {
	BAN_REC_BAN_LINE,	/* "ban": an active ban (started or changed) */
	BAN_REC_PAST_LINE,	/* "past": ban history, snapshot only */
	BAN_REC_UNBAN_LINE,	/* "unban": a ban ended, journal only */
};

/*
 * Writes one record line (with its newline, NUL-terminated) for ban b
 * (for unban: b's prefix and the time when) into buf; with crc the line
 * ends in " #CRC32". Returns its length, 0 when it does not fit.
 */
size_t	 ban_rec_format(char *buf, size_t len, enum ban_rec_kind k,
	    const struct ban *b, wb_usec when, bool crc);

/*
 * Parses one line (changed in place). With want_crc the line must end in
 * a CRC that matches. Returns 1 for a record (*k, *b, and *when for an
 * unban), 0 for a blank or comment line, -1 with *why for a bad one.
 */
int	 ban_rec_parse(char *line, bool want_crc, enum ban_rec_kind *k,
	    struct ban *b, wb_usec *when, const char **why);

/* CRC-32 of len bytes, as zlib's crc32() would give it. */
uint32_t ban_crc32(const void *data, size_t len);

/* fsutil.c: path + suffix (malloc'ed; NULL out of memory). */
char	*ban_path_suffixed(const char *path, const char *suffix);
/* All len bytes to fd; -1 with errno. */
int	 ban_write_all(int fd, const char *buf, size_t len);
/*
 * path replaced by buf through path.tmp: write, fsync, rename, fsync of
 * the directory. 0, or -1 with a log line (path then untouched).
 */
int	 ban_replace_file(const char *path, const char *buf, size_t len);

/* longbans.c: bans past a kernel's timeout ceiling, to re-arm. */
#define BAN_LONG_BUCKETS	1024
struct ban_long;
struct ban_longs {
	struct ban_long	*b[BAN_LONG_BUCKETS];
	size_t		 n;
};
/* Remembers b (its real expiry) as armed in the kernel until armed. */
int	 ban_longs_set(struct ban_longs *l, const struct ban *b, wb_usec armed);
void	 ban_longs_forget(struct ban_longs *l, const struct ban *b);
/* fn(arg, copy) for each one armed until before or earlier; how many. */
size_t	 ban_longs_due(struct ban_longs *l, wb_usec before,
	    void (*fn)(void *, const struct ban *), void *arg);
void	 ban_longs_clear(struct ban_longs *l);

/* A journal shorter than this is never compacted. */
#define BAN_JOURNAL_MIN	100000

/* Copies src into a BAN_RULE_MAX buffer, cut and always terminated. */
void ban_rule_copy(char dst[BAN_RULE_MAX], const char *src);

/*
 * An iptables rule (struct ipt_entry or ip6t_entry with its matches and
 * target) is built in one of these: big enough for the largest rule we
 * make (an ip6t_entry, a multiport match, a REJECT target) and aligned
 * for the 64-bit counters inside the entry.
 */
#define BAN_RULE_BUF	512
union ban_rulebuf {
	uint64_t	 align;
	unsigned char	 bytes[BAN_RULE_BUF];
};

/*
 * Builds the rule that bans a/bits: "-s a/bits -j DROP", or with REJECT
 * "-s a/bits -p tcp -j REJECT --reject-with tcp-reset". Host bits of a
 * are cleared. Returns the rule's size (its next_offset), 0 when a has
 * no family or bits is out of 1..32 (1..128).
 */
size_t ban_rule_ban(union ban_rulebuf *buf, const struct wb_addr *a,
    int bits, enum ban_target target);

/*
 * Builds the jump "-p tcp [-m tcp --dport P | -m multiport --dports
 * P,...] -j chain" for family af (AF_INET or AF_INET6); with allports no
 * port match. Returns the rule's size, 0 when the arguments do not fit
 * (no ports without allports, more than BAN_PORTS_MAX, a long chain).
 */
size_t ban_rule_jump(union ban_rulebuf *buf, int af, const char *chain,
    bool allports, const uint16_t *ports, size_t nports);

/*
 * Reads the source of rule e (family af) into *a and *bits when it is a
 * prefix (a contiguous mask of 1..32 or 1..128 bits, not inverted), as
 * ban_rule_ban() writes it. Returns true then, false otherwise.
 */
bool ban_rule_source(const void *e, int af, struct wb_addr *a, int *bits);

/*
 * Builds the ipset backend's rule "-p tcp [-m tcp --dport P | -m
 * multiport --dports P,...] -m set --match-set SET src -j DROP" (REJECT
 * --reject-with tcp-reset) for family af, SET given by its kernel index.
 * Revision 4 of the set match, as iptables 1.8.9 writes it (it prints
 * no older one). Returns the rule's size, 0 when the arguments do not
 * fit.
 */
size_t ban_rule_setmatch(union ban_rulebuf *buf, int af, uint16_t index,
    enum ban_target target, bool allports, const uint16_t *ports,
    size_t nports);

/* True when rule e has a set match on the set with kernel index index. */
bool ban_rule_has_set(const void *e, int af, uint16_t index);

/* ---- staging of the set backends (fw_stage.c) ------------------------- */

/*
 * The prefix length of b: b->bits, or the whole address when it is 0
 * (a caller that predates prefixes; a /0 ban would ban everyone).
 */
static inline int
ban_bits(const struct ban *b)
{
	return b->bits != 0 ? b->bits : wb_addr_bits(&b->addr);
}

/*
 * Checks b for a backend: a family, ban_bits() in 1..32 (1..128).
 * Stores the network (host bits cleared) in *net. Returns 0, or -1 with
 * a log line naming who.
 */
int ban_prefix_check(const char *who, const struct ban *b,
    struct wb_addr *net);

/* One staged change: ban (with its duration) or unban of addr/bits. */
struct ban_op {
	struct wb_addr	 addr;		/* the network, host bits clear */
	uint8_t		 bits;
	bool		 ban;
	wb_usec		 duration;	/* ban: expiry - start, >= 0 */
	uint32_t	 seq;		/* staging order: the last one wins */
};

/*
 * What ban() and unban() staged since the last commit. At BAN_STAGE_MAX
 * changes the backend commits by itself: staging memory is bounded (2.5
 * MB) whatever the caller does.
 */
#define BAN_STAGE_MAX	65536
struct ban_stage {
	struct ban_op	*v;
	size_t		 n, max;
	uint32_t	 seq;
};

/*
 * Appends the change of b (checked as by ban_prefix_check) to s.
 * Returns 0, 1 when s holds BAN_STAGE_MAX changes afterwards (commit
 * now), or -1 with a log line (bad prefix, out of memory).
 */
int ban_stage_push(struct ban_stage *s, const char *who, bool ban,
    const struct ban *b);

/*
 * Keeps the last change of each prefix and sorts them by family, bits
 * and address, so that the changes of one set are contiguous.
 */
void ban_stage_coalesce(struct ban_stage *s);
void ban_stage_clear(struct ban_stage *s);
void ban_stage_free(struct ban_stage *s);

/* ---- a bounded text buffer (fw_stage.c) ------------------------------- */

/*
 * Text built for a library that takes commands as text (libnftables).
 * It grows up to max bytes; past that every append fails and over is
 * set, so a caller checks once at the end.
 */
struct ban_buf {
	char		*p;		/* NUL-terminated, owned */
	size_t		 len, cap, max;
	bool		 over;		/* max reached, or out of memory */
};

void ban_buf_init(struct ban_buf *b, size_t max);
void ban_buf_reset(struct ban_buf *b);
void ban_buf_free(struct ban_buf *b);
int ban_buf_printf(struct ban_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- nftables text (fw_nft_text.c) ------------------------------------ */

/* The longest table name we accept, with its NUL. */
#define BAN_NFT_NAME_MAX	32

/* The sets of the nftables table, in the order of the rules. */
enum ban_nft_set {
	BAN_NFT_V4_ADDR = 0,	/* ipv4_addr: hash, masked to prefix4 */
	BAN_NFT_V4_NET,		/* ipv4_net: interval, other prefixes */
	BAN_NFT_V6_ADDR,	/* ipv6_addr */
	BAN_NFT_V6_NET,		/* ipv6_net */
	BAN_NFT_NSETS
};

/* What the nftables backend keeps of its configuration. */
struct ban_nft_conf {
	char		 table[BAN_NFT_NAME_MAX];
	int		 prefix4, prefix6;
	bool		 allports, forward;
	enum ban_target	 target;
	uint16_t	 ports[BAN_PORTS_MAX];
	size_t		 nports;
};

/*
 * Checks c for the nftables backend and fills *nc. Returns 0, or -1
 * with one log line (bad table name, prefix length, ports).
 */
int ban_nft_conf(struct ban_nft_conf *nc, const struct ban_fw_config *c);

/* The set a prefix of family af and length bits goes to. */
enum ban_nft_set ban_nft_set_of(const struct ban_nft_conf *nc, int af,
    int bits);
/* The set's name ("ipv4_addr", ...). */
const char *ban_nft_set_name(enum ban_nft_set s);

/*
 * An element's timeout for a ban of duration d: d in milliseconds, at
 * least 1 s, at most BAN_NFT_TIMEOUT_MAX_MS, written as nft reads it
 * ("1d2h3m4s5ms": nft 1.0.6 refuses a long plain number of ms). buf
 * holds at least 32 bytes.
 */
#define BAN_NFT_TIMEOUT_MAX_MS	(36500LL * 86400 * 1000)
const char *ban_nft_timeout(wb_usec d, char *buf, size_t len);

/*
 * Appends to out the commands that make the table: with fresh, delete
 * it (if present) and create it anew, empty; without, create what is
 * missing, keep the sets' elements and rewrite both chains' rules.
 * Either way the result is the whole rule set of nc. Returns 0 or -1
 * (out->over).
 */
int ban_nft_ruleset(struct ban_buf *out, const struct ban_nft_conf *nc,
    bool fresh);

/*
 * Appends the commands for ops[0..n) (coalesced, ban_stage_coalesce):
 * per set  add {all}; delete {all}; add {bans with timeouts}  so that a
 * ban of a present element gets its new timeout and an unban of an
 * element the kernel dropped is no error. Returns 0 or -1 (out->over).
 */
int ban_nft_batch(struct ban_buf *out, const struct ban_nft_conf *nc,
    const struct ban_op *ops, size_t n);

/*
 * Appends "add element" commands for the valid bans of bans[0..n) (at
 * most 1024 elements a line), for the sets selected by the mask sets
 * (1 << enum ban_nft_set). *bad counts the bans skipped (no family, bad
 * prefix). Returns 0 or -1 (out->over).
 */
int ban_nft_elements(struct ban_buf *out, const struct ban_nft_conf *nc,
    const struct ban *bans, size_t n, unsigned sets, size_t *bad);

/* ---- the iptables side of the ipset backend (fw_ipset_rule.c) --------- */

struct ban_setrule {
	const char	*set[2];	/* v4, v6 set names; NULL: skip */
	enum ban_target	 target;
	bool		 allports, forward;
	const uint16_t	*ports;
	size_t		 nports;
	const char	*lock_file;	/* NULL: $XTABLES_LOCKFILE or default */
	int		 lock_wait_ms;
};

/*
 * Puts the one rule per family that matches the set at the top of INPUT
 * (and FORWARD when forward), replacing any rule of ours there: one
 * libiptc commit per family under the xtables lock. The sets must
 * exist. Returns 0, or -1 with a log line.
 */
int ban_setrule_install(const struct ban_setrule *r);

/* Removes every rule that matches our sets from INPUT and FORWARD. */
int ban_setrule_remove(const struct ban_setrule *r);

#endif
