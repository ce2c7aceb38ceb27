/*
 * fw_xtc.h - what the two libiptc users of bans/ share (fw_iptables.c,
 * fw_ipset_rule.c): libiptc and libip6tc behind one table, the xtables
 * lock, and one init..commit transaction. Kept out of bans_int.h
 * because fw_ipset.c must not see the libiptc headers (libipset's clash
 * with <linux/netfilter.h>).
 *
 * Invariant: every transaction runs under the xtables lock; the lock is
 * never held between two calls of a backend.
 */
#ifndef WIREBAN_FW_XTC_H
#define WIREBAN_FW_XTC_H

#include <limits.h>
#include <stdbool.h>

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>

/* What differs between libiptc and libip6tc. */
struct ban_xt_fam {
	int		 af;
	const char	*tool;		/* "iptables", "ip6tables" */
	const struct xtc_ops *xo;
	int		(*delete_chain)(const xt_chainlabel,
			    struct xtc_handle *);
	int		(*insert)(const char *, const void *, unsigned,
			    struct xtc_handle *);
	int		(*append)(const char *, const void *,
			    struct xtc_handle *);
	int		(*delete_num)(const char *, unsigned,
			    struct xtc_handle *);
	const void	*(*first)(const char *, struct xtc_handle *);
	const void	*(*next)(const void *, struct xtc_handle *);
	const char	*(*target)(const void *, struct xtc_handle *);
};

extern const struct ban_xt_fam ban_xt_fam4, ban_xt_fam6;

/* The xtables lock: a file and how long to wait for it. */
struct ban_xt_lock {
	char		 file[PATH_MAX];
	int		 wait_ms;
};

/*
 * Fills l: file, else $XTABLES_LOCKFILE, else /run/xtables.lock; wait_ms
 * below 0 reads as 0. Returns 0, or -1 with a log line (path too long).
 */
int ban_xt_lock_init(struct ban_xt_lock *l, const char *file, int wait_ms,
    const char *who);

/*
 * Takes the lock iptables takes, polling with a bounded wait as
 * `iptables -w` does. Returns the descriptor that holds it (give it to
 * ban_xt_unlock), or -1 with a log line.
 */
int ban_xt_lock(const struct ban_xt_lock *l, const char *who);
void ban_xt_unlock(int fd);

typedef int ban_xt_fn(const struct ban_xt_fam *, struct xtc_handle *,
    void *);

/*
 * One init..commit of the filter table under the caller's lock, fn
 * making the changes. Retried when the commit finds the table changed.
 * Returns 0, or -1 with a log line.
 */
int ban_xt_txn(const struct ban_xt_fam *f, ban_xt_fn *fn, void *arg,
    const char *what);

/* Logs "TOOL: what detail: libiptc's error" and returns -1. */
int ban_xt_fail(const struct ban_xt_fam *f, const char *what,
    const char *detail);

/*
 * Deletes every rule of chain for which match(f, h, rule, arg) is true.
 * Returns 0, or -1 with a log line.
 */
int ban_xt_delete_if(const struct ban_xt_fam *f, struct xtc_handle *h,
    const char *chain, bool (*match)(const struct ban_xt_fam *,
    struct xtc_handle *, const void *, void *), void *arg);

#endif
