/*
 * ignore.c - what the policy never bans: ignoreip (the admin's list)
 * and "self" (this host's own prefixes, replaced whole as they change),
 * and the key form of an address both the lists and the table use.
 *
 * Invariant: both lists hold networks with their host bits clear, in
 * the key form (an IPv4-mapped IPv6 address is its IPv4 address).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bans_int.h"
#include "policy_int.h"

int
ban_valid_family(const struct wb_addr *a)
{
	return a != NULL && (a->family == AF_INET || a->family == AF_INET6);
}

/*
 * The key form of an address: an IPv4-mapped IPv6 address becomes its
 * IPv4 address (one host, one entry, one rule), and bytes past a v4
 * address are zero whatever the caller left there.
 */
void
ban_addr_norm(struct wb_addr *out, const struct wb_addr *a)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (a->family == AF_INET6 && memcmp(a->a, mapped, 12) == 0)
		wb_addr_v4(out, a->a + 12);
	else if (a->family == AF_INET)
		wb_addr_v4(out, a->a);
	else
		wb_addr_v6(out, a->a);
}

/* True when the prefix net/bits holds an ignored address. */
bool
ban_covers_ignored(const struct ban_policy *p, const struct wb_addr *net,
    int bits)
{
	size_t i;

	for (i = 0; i < p->nign; i++)
		if (ban_prefix_overlap(net, bits, &p->ign[i].net,
		    p->ign[i].bits))
			return true;
	for (i = 0; i < p->nself; i++)
		if (ban_prefix_overlap(net, bits, &p->self[i].net,
		    p->self[i].bits))
			return true;
	return false;
}

int
ban_policy_ignore_net(struct ban_policy *p, const struct wb_addr *net,
    int bits)
{
	struct ignore *n;

	if (!ban_valid_family(net) || bits < 0 ||
	    bits > (net->family == AF_INET ? 32 : 128)) {
		ban_log(BAN_LOG_ERR, "policy: bad ignore prefix");
		return -1;
	}
	if (p->nign == p->ignmax) {
		size_t max = p->ignmax == 0 ? 8 : p->ignmax * 2;

		if ((n = realloc(p->ign, max * sizeof(*n))) == NULL) {
			ban_log(BAN_LOG_ERR, "policy: out of memory");
			return -1;
		}
		p->ign = n;
		p->ignmax = max;
	}
	p->ign[p->nign].net = *net;
	p->ign[p->nign].bits = bits;
	p->nign++;
	return 0;
}

int
ban_policy_ignore(struct ban_policy *p, const char *spec)
{
	struct wb_addr net;
	int bits;

	if (ban_cidr_parse(spec, &net, &bits) != 0) {
		ban_log(BAN_LOG_ERR, "policy: ignoreip: bad address or CIDR "
		    "\"%s\"", spec != NULL ? spec : "");
		return -1;
	}
	return ban_policy_ignore_net(p, &net, bits);
}

int
ban_policy_set_self(struct ban_policy *p, const struct wb_addr *nets,
    const int *bits, size_t n)
{
	struct ignore *v = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (!ban_valid_family(&nets[i]) || bits[i] < 0 ||
		    bits[i] > wb_addr_bits(&nets[i])) {
			ban_log(BAN_LOG_ERR, "policy: bad self prefix");
			return -1;
		}
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL) {
		ban_log(BAN_LOG_ERR, "policy: out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		ban_addr_norm(&v[i].net, &nets[i]);
		v[i].bits = v[i].net.family != nets[i].family ?
		    bits[i] - 96 : bits[i];
		if (v[i].bits < 0)
			v[i].bits = 0;
		wb_addr_mask(&v[i].net, &v[i].net, v[i].bits);
	}
	free(p->self);
	p->self = v;
	p->nself = n;
	return 0;
}

bool
ban_policy_is_self(const struct ban_policy *p, const struct wb_addr *a)
{
	struct wb_addr n;
	size_t i;

	if (!ban_valid_family(a))
		return false;
	ban_addr_norm(&n, a);
	for (i = 0; i < p->nself; i++)
		if (wb_addr_in(&n, &p->self[i].net, p->self[i].bits))
			return true;
	return false;
}

bool
ban_policy_is_ignored(const struct ban_policy *p, const struct wb_addr *a)
{
	struct wb_addr n;
	size_t i;

	if (!ban_valid_family(a))
		return false;
	ban_addr_norm(&n, a);
	for (i = 0; i < p->nign; i++)
		if (wb_addr_in(&n, &p->ign[i].net, p->ign[i].bits))
			return true;
	return ban_policy_is_self(p, &n);
}

