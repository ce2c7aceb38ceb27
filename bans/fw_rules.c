/*
 * fw_rules.c - the bytes of the iptables rules wireban installs, built
 * by hand for libiptc (which takes a finished struct ipt_entry or
 * ip6t_entry, not a command line).
 *
 * A rule is one contiguous blob:
 *
 *     ipt_entry | match 0 | match 1 ... | target
 *                 ^ sizeof(entry)        ^ target_offset    ^ next_offset
 *
 * and each match and the target is an xt_entry_match / xt_entry_target
 * header followed by its module's data, each part padded to XT_ALIGN
 * (8 bytes) with its size field counting the padding. The kernel checks
 * these offsets and sizes exactly, so the layout lives in one place.
 * Standard targets (DROP, a jump to our chain) are given by name with
 * the size of xt_standard_target: libiptc turns the name into a verdict
 * and refuses any other size.
 *
 * Invariant: every byte of the buffer that is not set is zero (the
 * kernel and libiptc compare rules with memcmp), and nothing is written
 * past BAN_RULE_BUF.
 */
#include <string.h>

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

#include "bans_int.h"

_Static_assert(sizeof(struct ipt_entry) % 8 == 0 &&
    sizeof(struct ip6t_entry) % 8 == 0, "entries are XT_ALIGNed");

struct layout {
	unsigned char	*base;
	size_t		 off;
};

static void	*part(struct layout *, size_t);
static int	 name_copy(char *, size_t, const char *);
static int	 put_match(struct layout *, const char *, uint8_t,
		    const void *, size_t);
static int	 put_target(struct layout *, const char *, uint8_t,
		    const void *, size_t);
static int	 put_standard(struct layout *, const char *);
static size_t	 entry_begin(union ban_rulebuf *, int, struct layout *);
static size_t	 entry_end(union ban_rulebuf *, int, size_t, size_t);
static void	 entry_tcp(union ban_rulebuf *, int);

/* The next size bytes (already XT_ALIGNed), or NULL when full. */
static void *
part(struct layout *l, size_t size)
{
	void *p;

	if (size > BAN_RULE_BUF || l->off > BAN_RULE_BUF - size)
		return NULL;
	p = l->base + l->off;
	l->off += size;
	return p;
}

/* Copies an extension or chain name; n is the field's size. */
static int
name_copy(char *dst, size_t n, const char *name)
{
	size_t len = strlen(name);

	if (len >= n)
		return -1;
	memcpy(dst, name, len);
	return 0;
}

static int
put_match(struct layout *l, const char *name, uint8_t revision,
    const void *data, size_t len)
{
	size_t size = XT_ALIGN(sizeof(struct xt_entry_match)) + XT_ALIGN(len);
	struct xt_entry_match *m = part(l, size);

	if (m == NULL)
		return -1;
	m->u.user.match_size = (uint16_t)size;
	m->u.user.revision = revision;
	if (name_copy(m->u.user.name, sizeof(m->u.user.name), name) != 0)
		return -1;
	memcpy(m->data, data, len);
	return 0;
}

static int
put_target(struct layout *l, const char *name, uint8_t revision,
    const void *data, size_t len)
{
	size_t size = XT_ALIGN(sizeof(struct xt_entry_target)) + XT_ALIGN(len);
	struct xt_entry_target *t = part(l, size);

	if (t == NULL)
		return -1;
	t->u.user.target_size = (uint16_t)size;
	t->u.user.revision = revision;
	if (name_copy(t->u.user.name, sizeof(t->u.user.name), name) != 0)
		return -1;
	memcpy(t->data, data, len);
	return 0;
}

/* DROP, ACCEPT or a chain name: libiptc maps it to a verdict or jump. */
static int
put_standard(struct layout *l, const char *name)
{
	size_t size = XT_ALIGN(sizeof(struct xt_standard_target));
	struct xt_standard_target *t = part(l, size);

	if (t == NULL)
		return -1;
	t->target.u.user.target_size = (uint16_t)size;
	return name_copy(t->target.u.user.name,
	    sizeof(t->target.u.user.name), name);
}

/* Zeroes the buffer and starts the layout after the entry header. */
static size_t
entry_begin(union ban_rulebuf *buf, int af, struct layout *l)
{
	memset(buf, 0, sizeof(*buf));
	l->base = buf->bytes;
	l->off = af == AF_INET ? sizeof(struct ipt_entry) :
	    sizeof(struct ip6t_entry);
	return l->off;
}

static size_t
entry_end(union ban_rulebuf *buf, int af, size_t target_offset,
    size_t next_offset)
{
	if (af == AF_INET) {
		struct ipt_entry *e = (struct ipt_entry *)buf->bytes;

		e->target_offset = (uint16_t)target_offset;
		e->next_offset = (uint16_t)next_offset;
	} else {
		struct ip6t_entry *e = (struct ip6t_entry *)buf->bytes;

		e->target_offset = (uint16_t)target_offset;
		e->next_offset = (uint16_t)next_offset;
	}
	return next_offset;
}

/* "-p tcp": v6 also needs the flag that says the protocol matters. */
static void
entry_tcp(union ban_rulebuf *buf, int af)
{
	if (af == AF_INET) {
		struct ipt_entry *e = (struct ipt_entry *)buf->bytes;

		e->ip.proto = IPPROTO_TCP;
	} else {
		struct ip6t_entry *e = (struct ip6t_entry *)buf->bytes;

		e->ipv6.proto = IPPROTO_TCP;
		e->ipv6.flags |= IP6T_F_PROTO;
	}
}

size_t
ban_rule_ban(union ban_rulebuf *buf, const struct wb_addr *a,
    enum ban_target target)
{
	struct layout l;
	size_t toff;
	int af;

	if (a == NULL || (a->family != AF_INET && a->family != AF_INET6))
		return 0;
	af = a->family;
	toff = entry_begin(buf, af, &l);
	if (af == AF_INET) {
		struct ipt_entry *e = (struct ipt_entry *)buf->bytes;

		memcpy(&e->ip.src, a->a, 4);
		memset(&e->ip.smsk, 0xff, 4);
	} else {
		struct ip6t_entry *e = (struct ip6t_entry *)buf->bytes;

		memcpy(&e->ipv6.src, a->a, 16);
		memset(&e->ipv6.smsk, 0xff, 16);
	}
	if (target == BAN_TARGET_REJECT) {
		/* tcp-reset is only valid with -p tcp (the kernel checks). */
		entry_tcp(buf, af);
		if (af == AF_INET) {
			struct ipt_reject_info ri = { .with = IPT_TCP_RESET };

			if (put_target(&l, "REJECT", 0, &ri, sizeof(ri)) != 0)
				return 0;
		} else {
			struct ip6t_reject_info ri = { .with = IP6T_TCP_RESET };

			if (put_target(&l, "REJECT", 0, &ri, sizeof(ri)) != 0)
				return 0;
		}
	} else if (put_standard(&l, "DROP") != 0)
		return 0;
	return entry_end(buf, af, toff, l.off);
}

size_t
ban_rule_jump(union ban_rulebuf *buf, int af, const char *chain,
    bool allports, const uint16_t *ports, size_t nports)
{
	struct layout l;
	size_t i;

	if ((af != AF_INET && af != AF_INET6) || chain == NULL ||
	    chain[0] == '\0' || strlen(chain) >= BAN_CHAIN_MAX)
		return 0;
	if (!allports && (nports == 0 || nports > BAN_PORTS_MAX))
		return 0;
	entry_begin(buf, af, &l);
	entry_tcp(buf, af);
	if (!allports && nports == 1) {
		/* One port: "-m tcp --dport P", what iptables itself does. */
		struct xt_tcp t;

		memset(&t, 0, sizeof(t));
		t.spts[0] = 0;
		t.spts[1] = 0xffff;
		t.dpts[0] = t.dpts[1] = ports[0];
		if (put_match(&l, "tcp", 0, &t, sizeof(t)) != 0)
			return 0;
	} else if (!allports) {
		/* Revision 1, as iptables -m multiport writes it today. */
		struct xt_multiport_v1 mp;

		memset(&mp, 0, sizeof(mp));
		mp.flags = XT_MULTIPORT_DESTINATION;
		mp.count = (uint8_t)nports;
		for (i = 0; i < nports; i++)
			mp.ports[i] = ports[i];
		if (put_match(&l, "multiport", 1, &mp, sizeof(mp)) != 0)
			return 0;
	}
	i = l.off;
	if (put_standard(&l, chain) != 0)
		return 0;
	return entry_end(buf, af, i, l.off);
}

bool
ban_rule_source(const void *entry, int af, struct wb_addr *a)
{
	static const uint8_t ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};

	if (af == AF_INET) {
		const struct ipt_entry *e = entry;

		if (memcmp(&e->ip.smsk, ones, 4) != 0 ||
		    (e->ip.invflags & IPT_INV_SRCIP))
			return false;
		wb_addr_v4(a, &e->ip.src);
		return true;
	}
	if (af == AF_INET6) {
		const struct ip6t_entry *e = entry;

		if (memcmp(&e->ipv6.smsk, ones, 16) != 0 ||
		    (e->ipv6.invflags & IP6T_INV_SRCIP))
			return false;
		wb_addr_v6(a, &e->ipv6.src);
		return true;
	}
	return false;
}
