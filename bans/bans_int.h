/*
 * bans_int.h - what the files of bans/ share and nothing outside needs:
 * the log function behind ban_log_set(), and the libiptc rule layout
 * (built in fw_rules.c, used by fw_iptables.c and white-box tests).
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
 * Builds the rule that bans a: "-s a/32 -j DROP" (or /128), or with
 * REJECT "-s a/32 -p tcp -j REJECT --reject-with tcp-reset". Returns the
 * rule's size (its next_offset), 0 when a has no family.
 */
size_t ban_rule_ban(union ban_rulebuf *buf, const struct wb_addr *a,
    enum ban_target target);

/*
 * Builds the jump "-p tcp [-m tcp --dport P | -m multiport --dports
 * P,...] -j chain" for family af (AF_INET or AF_INET6); with allports no
 * port match. Returns the rule's size, 0 when the arguments do not fit
 * (no ports without allports, more than BAN_PORTS_MAX, a long chain).
 */
size_t ban_rule_jump(union ban_rulebuf *buf, int af, const char *chain,
    bool allports, const uint16_t *ports, size_t nports);

/*
 * Reads the source of rule e (family af) into *a when it is a single
 * host (/32 or /128, not inverted). Returns true then, false otherwise.
 */
bool ban_rule_source(const void *e, int af, struct wb_addr *a);

#endif
