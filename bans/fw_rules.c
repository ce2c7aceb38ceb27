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
#include <linux/netfilter/xt_set.h>
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
static int	 put_ports(struct layout *, bool, const uint16_t *, size_t);
static int	 put_reject(struct layout *, int);
static int	 mask_bits(const uint8_t *, size_t);

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

/* "-j REJECT --reject-with tcp-reset"; the rule must say -p tcp. */
static int
put_reject(struct layout *l, int af)
{
	if (af == AF_INET) {
		struct ipt_reject_info ri = { .with = IPT_TCP_RESET };

		return put_target(l, "REJECT", 0, &ri, sizeof(ri));
	} else {
		struct ip6t_reject_info ri = { .with = IP6T_TCP_RESET };

		return put_target(l, "REJECT", 0, &ri, sizeof(ri));
	}
}

size_t
ban_rule_ban(union ban_rulebuf *buf, const struct wb_addr *a, int bits,
    enum ban_target target)
{
	struct wb_addr net, mask;
	struct layout l;
	size_t toff;
	int af;

	if (a == NULL || (a->family != AF_INET && a->family != AF_INET6) ||
	    bits < 1 || bits > wb_addr_bits(a))
		return 0;
	af = a->family;
	wb_addr_mask(&net, a, bits);
	mask = *a;
	memset(mask.a, 0xff, sizeof(mask.a));
	wb_addr_mask(&mask, &mask, bits);
	toff = entry_begin(buf, af, &l);
	if (af == AF_INET) {
		struct ipt_entry *e = (struct ipt_entry *)buf->bytes;

		memcpy(&e->ip.src, net.a, 4);
		memcpy(&e->ip.smsk, mask.a, 4);
	} else {
		struct ip6t_entry *e = (struct ip6t_entry *)buf->bytes;

		memcpy(&e->ipv6.src, net.a, 16);
		memcpy(&e->ipv6.smsk, mask.a, 16);
	}
	if (target == BAN_TARGET_REJECT) {
		/* tcp-reset is only valid with -p tcp (the kernel checks). */
		entry_tcp(buf, af);
		if (put_reject(&l, af) != 0)
			return 0;
	} else if (put_standard(&l, "DROP") != 0)
		return 0;
	return entry_end(buf, af, toff, l.off);
}

/* "-m tcp --dport P" or "-m multiport --dports P,..."; none with all. */
static int
put_ports(struct layout *l, bool allports, const uint16_t *ports,
    size_t nports)
{
	size_t i;

	if (allports)
		return 0;
	if (nports == 1) {
		/* One port: "-m tcp --dport P", what iptables itself does. */
		struct xt_tcp t;

		memset(&t, 0, sizeof(t));
		t.spts[0] = 0;
		t.spts[1] = 0xffff;
		t.dpts[0] = t.dpts[1] = ports[0];
		return put_match(l, "tcp", 0, &t, sizeof(t));
	} else {
		/* Revision 1, as iptables -m multiport writes it today. */
		struct xt_multiport_v1 mp;

		memset(&mp, 0, sizeof(mp));
		mp.flags = XT_MULTIPORT_DESTINATION;
		mp.count = (uint8_t)nports;
		for (i = 0; i < nports; i++)
			mp.ports[i] = ports[i];
		return put_match(l, "multiport", 1, &mp, sizeof(mp));
	}
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
	if (put_ports(&l, allports, ports, nports) != 0)
		return 0;
	i = l.off;
	if (put_standard(&l, chain) != 0)
		return 0;
	return entry_end(buf, af, i, l.off);
}

/* The length of a contiguous mask of n bytes, or -1 when it has holes. */
static int
mask_bits(const uint8_t *m, size_t n)
{
	size_t i;
	int bits = 0;

	for (i = 0; i < n && m[i] == 0xff; i++)
		bits += 8;
	if (i < n) {
		uint8_t b = m[i++];

		while (b & 0x80) {
			bits++;
			b = (uint8_t)(b << 1);
		}
		if (b != 0)
			return -1;
	}
	for (; i < n; i++)
		if (m[i] != 0)
			return -1;
	return bits;
}

bool
ban_rule_source(const void *entry, int af, struct wb_addr *a, int *bits)
{
	int n;

	if (af == AF_INET) {
		const struct ipt_entry *e = entry;

		n = mask_bits((const uint8_t *)&e->ip.smsk, 4);
		if (n < 1 || (e->ip.invflags & IPT_INV_SRCIP))
			return false;
		wb_addr_v4(a, &e->ip.src);
	} else if (af == AF_INET6) {
		const struct ip6t_entry *e = entry;

		n = mask_bits((const uint8_t *)&e->ipv6.smsk, 16);
		if (n < 1 || (e->ipv6.invflags & IP6T_INV_SRCIP))
			return false;
		wb_addr_v6(a, &e->ipv6.src);
	} else
		return false;
	*bits = n;
	return true;
}

size_t
ban_rule_setmatch(union ban_rulebuf *buf, int af, uint16_t index,
    enum ban_target target, bool allports, const uint16_t *ports,
    size_t nports)
{
	struct xt_set_info_match_v4 sm;
	struct layout l;
	size_t toff;

	if ((af != AF_INET && af != AF_INET6) || index == IPSET_INVALID_ID)
		return 0;
	if (!allports && (nports == 0 || nports > BAN_PORTS_MAX))
		return 0;
	entry_begin(buf, af, &l);
	entry_tcp(buf, af);
	if (put_ports(&l, allports, ports, nports) != 0)
		return 0;
	/*
	 * "--match-set SET src": one dimension, taken from the source (bit
	 * 1 of flags; bit 0 would invert the match). Revision 4, byte for
	 * byte what iptables 1.8.9 writes: iptables-legacy -S prints older
	 * revisions as "[unsupported revision]" although the kernel takes
	 * them. No counter conditions.
	 */
	memset(&sm, 0, sizeof(sm));
	sm.match_set.index = index;
	sm.match_set.dim = IPSET_DIM_ONE;
	sm.match_set.flags = IPSET_DIM_ONE_SRC;
	sm.packets.op = IPSET_COUNTER_NONE;
	sm.bytes.op = IPSET_COUNTER_NONE;
	if (put_match(&l, "set", 4, &sm, sizeof(sm)) != 0)
		return 0;
	toff = l.off;
	if (target == BAN_TARGET_REJECT) {
		if (put_reject(&l, af) != 0)
			return 0;
	} else if (put_standard(&l, "DROP") != 0)
		return 0;
	return entry_end(buf, af, toff, l.off);
}

bool
ban_rule_has_set(const void *entry, int af, uint16_t index)
{
	const unsigned char *base = entry;
	size_t off, end;

	if (af == AF_INET) {
		const struct ipt_entry *e = entry;

		off = sizeof(*e);
		end = e->target_offset;
	} else if (af == AF_INET6) {
		const struct ip6t_entry *e = entry;

		off = sizeof(*e);
		end = e->target_offset;
	} else
		return false;
	while (off + sizeof(struct xt_entry_match) <= end) {
		const struct xt_entry_match *m =
		    (const struct xt_entry_match *)(base + off);
		size_t size = m->u.match_size;

		if (size < sizeof(*m) || size > end - off)
			return false;
		/* Every revision of the set match starts with the index. */
		if (strcmp(m->u.user.name, "set") == 0 && size >=
		    sizeof(*m) + sizeof(ip_set_id_t)) {
			ip_set_id_t id;

			memcpy(&id, m->data, sizeof(id));
			if (id == index)
				return true;
		}
		off += size;
	}
	return false;
}
