/*
 * addr.h - the small plain types every module shares: an IPv4/IPv6
 * address and packet time.
 *
 * Everything here is header-only (static inline) so that each module can
 * use it without linking another module: smtp/ never sees an address at
 * all, sniffer/ produces them, bans/ keys its tables on them.
 */
#ifndef WIREBAN_ADDR_H
#define WIREBAN_ADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* Packet time: microseconds since the epoch, taken from the capture. */
typedef int64_t wb_usec;

#define WB_USEC_PER_SEC 1000000LL

/* Enough for any v4 or v6 address in text form, with its NUL. */
#define WB_ADDR_STRLEN INET6_ADDRSTRLEN
/* The same with "/128" after it. */
#define WB_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

/*
 * One v4 or v6 address. family is AF_INET or AF_INET6 (0 when unset); a
 * v4 address lives in the first 4 bytes of a[] and the rest is zero, so
 * memcmp of two whole structs compares addresses.
 */
struct wb_addr {
	uint8_t family;
	uint8_t a[16];
};

static inline void
wb_addr_v4(struct wb_addr *x, const void *four_bytes)
{
	memset(x, 0, sizeof(*x));
	x->family = AF_INET;
	memcpy(x->a, four_bytes, 4);
}

static inline void
wb_addr_v6(struct wb_addr *x, const void *sixteen_bytes)
{
	memset(x, 0, sizeof(*x));
	x->family = AF_INET6;
	memcpy(x->a, sixteen_bytes, 16);
}

/* Parses dotted v4 or textual v6. Returns 0, or -1 when s is neither. */
static inline int
wb_addr_parse(struct wb_addr *x, const char *s)
{
	uint8_t buf[16];

	if (inet_pton(AF_INET, s, buf) == 1) {
		wb_addr_v4(x, buf);
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		wb_addr_v6(x, buf);
		return 0;
	}
	return -1;
}

/* Formats x into buf (WB_ADDR_STRLEN bytes) and returns buf. */
static inline const char *
wb_addr_str(const struct wb_addr *x, char *buf)
{
	if (inet_ntop(x->family == AF_INET6 ? AF_INET6 : AF_INET, x->a, buf,
	    WB_ADDR_STRLEN) == NULL)
		buf[0] = '\0';
	return buf;
}

static inline bool
wb_addr_eq(const struct wb_addr *x, const struct wb_addr *y)
{
	return x->family == y->family && memcmp(x->a, y->a, 16) == 0;
}

/* True when x lies in net/bits (same family; bits 0..32 or 0..128). */
static inline bool
wb_addr_in(const struct wb_addr *x, const struct wb_addr *net, int bits)
{
	int i;

	if (x->family != net->family)
		return false;
	for (i = 0; bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((x->a[i] & mask) != (net->a[i] & mask))
			return false;
	}
	return true;
}

/* 32 for AF_INET, 128 for AF_INET6: the prefix length of one address. */
static inline int
wb_addr_bits(const struct wb_addr *x)
{
	return x->family == AF_INET6 ? 128 : 32;
}

/*
 * Stores in *out the network of x at prefix length bits (clamped to
 * 0..wb_addr_bits(x)): the host bits cleared. out may be x.
 */
static inline void
wb_addr_mask(struct wb_addr *out, const struct wb_addr *x, int bits)
{
	struct wb_addr m = *x;
	int i, max = wb_addr_bits(x);

	if (bits < 0)
		bits = 0;
	if (bits > max)
		bits = max;
	for (i = 0; i < 16; i++, bits -= 8) {
		if (bits >= 8)
			continue;
		m.a[i] &= bits > 0 ? (uint8_t)(0xff << (8 - bits)) : 0;
	}
	*out = m;
}

/*
 * Formats x as "ADDR" when bits is its whole length, else "ADDR/BITS",
 * into buf (WB_PREFIX_STRLEN bytes); returns buf. inet_ntop writes the
 * RFC 5952 form of an IPv6 address.
 */
static inline const char *
wb_prefix_str(const struct wb_addr *x, int bits, char *buf)
{
	size_t n;

	wb_addr_str(x, buf);
	if (bits >= 0 && bits < wb_addr_bits(x)) {
		n = strlen(buf);
		buf[n++] = '/';
		if (bits >= 100)
			buf[n++] = (char)('0' + bits / 100);
		if (bits >= 10)
			buf[n++] = (char)('0' + bits / 10 % 10);
		buf[n++] = (char)('0' + bits % 10);
		buf[n] = '\0';
	}
	return buf;
}

#endif
