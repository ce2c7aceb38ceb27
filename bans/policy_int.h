/*
 * policy_int.h - the policy's data, shared by policy.c (the decisions)
 * and table.c (the storage). Private to bans/.
 */
#ifndef WIREBAN_POLICY_INT_H
#define WIREBAN_POLICY_INT_H

#include <sys/queue.h>

#include "bans.h"

enum { L_NONE = 0, L_OFFENDERS, L_HISTORY };

struct offence {
	wb_usec		 t;
	int		 weight;
};

struct entry {
	struct entry	*hnext;		/* hash chain */
	TAILQ_ENTRY(entry) link;	/* offenders or history list */
	size_t		 hidx;		/* heap index while banned */
	struct ban	 ban;		/* current or last; addr/bits the key */
	wb_usec		 last;		/* newest offence */
	uint8_t		 list;
	bool		 banned;
	uint16_t	 noff, off0;	/* ring: count, index of the oldest */
	struct offence	 off[];		/* maxretry slots */
};

/* A list in order of last touch, oldest first, with its length. */
TAILQ_HEAD(entry_q, entry);
struct list {
	struct entry_q	 q;
	size_t		 n;
};

struct ignore {
	struct wb_addr	 net;
	int		 bits;
};

struct ban_policy {
	struct ban_policy_config c;
	uint64_t	 k0, k1;
	struct entry	**buckets;
	size_t		 nbuckets;	/* a power of two */
	struct list	 lists[3];	/* indexed by L_* (L_NONE unused) */
	struct entry	**heap;
	size_t		 nheap, heapcap;
	struct ignore	*ign;		/* ignoreip */
	size_t		 nign, ignmax;
	struct ignore	*self;		/* this host's own (ignoreself) */
	size_t		 nself;
	ban_cb		*hook;
	void		*hook_arg;
	struct ban_policy_stats st;
	/*
	 * Active bans whose length is neither one address nor the family's
	 * prefix (manual prefix bans), by family (0 v4, 1 v6) and length:
	 * which other lengths a lookup of "is this address banned" tries.
	 */
	uint32_t	 odd[2][129];
	size_t		 nodd;
};

/* ignore.c */
int		 ban_valid_family(const struct wb_addr *);
void		 ban_addr_norm(struct wb_addr *, const struct wb_addr *);
bool		 ban_covers_ignored(const struct ban_policy *,
		    const struct wb_addr *, int);

/* table.c */
int		 ban_addr_cmp(const struct wb_addr *, const struct wb_addr *);
struct entry	*ban_tab_find(const struct ban_policy *, const struct wb_addr *,
		    int);
struct entry	*ban_tab_new(struct ban_policy *, const struct wb_addr *, int);
void		 ban_tab_free(struct ban_policy *, struct entry *);
void		 ban_tab_unlist(struct ban_policy *, struct entry *);
void		 ban_tab_list(struct ban_policy *, struct entry *);
int		 ban_heap_reserve(struct ban_policy *);
void		 ban_heap_push(struct ban_policy *, struct entry *);
void		 ban_heap_del(struct ban_policy *, struct entry *);
void		 ban_heap_fix(struct ban_policy *, struct entry *);

#endif
