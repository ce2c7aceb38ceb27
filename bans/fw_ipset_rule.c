/*
 * fw_ipset_rule.c - the iptables side of the "ipset" backend: one rule
 * per family, first in INPUT (and FORWARD when forward),
 *
 *     -A INPUT -p tcp -m multiport --dports 25,465,587
 *         -m set --match-set wireban4 src -j DROP
 *
 * written through libiptc under the xtables lock like fw_iptables.c. A
 * rule names its set by the kernel's index, which the SO_IP_SET socket
 * option maps from the name (what iptables's set match does too).
 *
 * This file never includes libipset's headers (they clash with
 * <linux/netfilter.h>); fw_ipset.c never includes libiptc's.
 *
 * Invariant: after install the one rule of ours is first in each chain
 * it belongs to, whatever was there before; remove leaves no rule that
 * matches our sets (the kernel refuses to destroy a set still in use).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter/ipset/ip_set.h>

#include "bans_int.h"
#include "fw_xtc.h"

struct rule_arg {
	const struct ban_setrule *r;
	uint16_t	 index;
};

static int	 set_index(const char *, uint16_t *);
static bool	 is_ours(const struct ban_xt_fam *, struct xtc_handle *,
		    const void *, void *);
static int	 apply_install(const struct ban_xt_fam *, struct xtc_handle *,
		    void *);
static int	 apply_remove(const struct ban_xt_fam *, struct xtc_handle *,
		    void *);
static int	 each(const struct ban_setrule *, ban_xt_fn *, bool,
		    const char *);

/*
 * The kernel index of set name: 0 and *index, 1 when there is no such
 * set, -1 with a log line when the kernel cannot be asked.
 */
static int
set_index(const char *name, uint16_t *index)
{
	struct ip_set_req_version v;
	struct ip_set_req_get_set g;
	socklen_t len;
	int fd, rc = -1;

	if (strlen(name) >= IPSET_MAXNAMELEN) {
		ban_log(BAN_LOG_ERR, "ipset: set name %s too long", name);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) < 0) {
		ban_log(BAN_LOG_ERR, "ipset: socket for SO_IP_SET: %s",
		    strerror(errno));
		return -1;
	}
	memset(&v, 0, sizeof(v));
	v.op = IP_SET_OP_VERSION;
	len = sizeof(v);
	if (getsockopt(fd, SOL_IP, SO_IP_SET, &v, &len) != 0) {
		ban_log(BAN_LOG_ERR, "ipset: kernel protocol version: %s",
		    strerror(errno));
		goto done;
	}
	memset(&g, 0, sizeof(g));
	g.op = IP_SET_OP_GET_BYNAME;
	g.version = v.version;
	memcpy(g.set.name, name, strlen(name));
	len = sizeof(g);
	if (getsockopt(fd, SOL_IP, SO_IP_SET, &g, &len) != 0) {
		ban_log(BAN_LOG_ERR, "ipset: index of set %s: %s", name,
		    strerror(errno));
		goto done;
	}
	if (g.set.index == IPSET_INVALID_ID)
		rc = 1;
	else {
		*index = g.set.index;
		rc = 0;
	}
done:
	close(fd);
	return rc;
}

static bool
is_ours(const struct ban_xt_fam *f, struct xtc_handle *h, const void *e,
    void *arg)
{
	const struct rule_arg *a = arg;

	(void)h;
	return ban_rule_has_set(e, f->af, a->index);
}

static int
apply_install(const struct ban_xt_fam *f, struct xtc_handle *h, void *arg)
{
	struct rule_arg *a = arg;
	union ban_rulebuf rb;

	if (ban_xt_delete_if(f, h, "INPUT", is_ours, a) != 0 ||
	    ban_xt_delete_if(f, h, "FORWARD", is_ours, a) != 0)
		return -1;
	if (ban_rule_setmatch(&rb, f->af, a->index, a->r->target,
	    a->r->allports, a->r->ports, a->r->nports) == 0) {
		ban_log(BAN_LOG_ERR, "%s: cannot build the set rule", f->tool);
		return -1;
	}
	if (!f->insert("INPUT", rb.bytes, 0, h))
		return ban_xt_fail(f, "insert set rule into", "INPUT");
	if (a->r->forward && !f->insert("FORWARD", rb.bytes, 0, h))
		return ban_xt_fail(f, "insert set rule into", "FORWARD");
	return 0;
}

static int
apply_remove(const struct ban_xt_fam *f, struct xtc_handle *h, void *arg)
{
	if (ban_xt_delete_if(f, h, "INPUT", is_ours, arg) != 0 ||
	    ban_xt_delete_if(f, h, "FORWARD", is_ours, arg) != 0)
		return -1;
	return 0;
}

/* fn for each family whose set is named, under one hold of the lock. */
static int
each(const struct ban_setrule *r, ban_xt_fn *fn, bool need_set,
    const char *what)
{
	static const struct ban_xt_fam *const fams[2] = {
		&ban_xt_fam4, &ban_xt_fam6
	};
	struct ban_xt_lock lock;
	struct rule_arg a;
	int i, fd, rc = 0, found;

	if (ban_xt_lock_init(&lock, r->lock_file, r->lock_wait_ms,
	    "ipset") != 0 || (fd = ban_xt_lock(&lock, "ipset")) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (r->set[i] == NULL)
			continue;
		a.r = r;
		if ((found = set_index(r->set[i], &a.index)) < 0) {
			rc = -1;
			continue;
		}
		if (found == 1) {
			/* No set: no rule can match it. */
			if (need_set) {
				ban_log(BAN_LOG_ERR, "ipset: no set %s for the "
				    "%s rule", r->set[i], fams[i]->tool);
				rc = -1;
			}
			continue;
		}
		if (ban_xt_txn(fams[i], fn, &a, what) != 0)
			rc = -1;
	}
	ban_xt_unlock(fd);
	return rc;
}

int
ban_setrule_install(const struct ban_setrule *r)
{
	return each(r, apply_install, true, "install set rule");
}

int
ban_setrule_remove(const struct ban_setrule *r)
{
	return each(r, apply_remove, false, "remove set rule");
}
