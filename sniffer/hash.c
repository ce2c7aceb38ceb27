/*
 * hash.c - a keyed hash for the tables whose keys an attacker chooses.
 *
 * The handshake gate (any spoofed address and port), the IPv6 address
 * map and the IPv6 fragment table are indexed by what arrives on the
 * wire. With a fixed hash, one can send keys that all land in one chain
 * and make every lookup a walk of the whole table. Under a key drawn
 * from the kernel when the sniffer opens, a sender has no way to know
 * where a key lands:
 * - SipHash-1-3 (the variant hash tables use) for the fragment table,
 *   touched once per fragment;
 * - for the address map, looked up twice for every IPv6 packet (where
 *   SipHash cost a tenth of a replay), and the handshake gate, three
 *   times per connection (5% of a replay of short sessions): NH, the
 *   hash of UMAC (RFC 4418), over 32-bit words, whose collisions under
 *   a secret key are 2^-32-rare whatever the inputs, then a fixed mixer
 *   that brings its high bits down to the bucket bits.
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void	 sipround(uint64_t *);
static uint32_t	 mix(uint64_t);

void
sniff_hkey_init(struct sniff_hkey *k)
{
	uint64_t buf[2];
	struct timespec ts;

	if (getrandom(buf, sizeof(buf), GRND_NONBLOCK) != (ssize_t)sizeof(buf)) {
		/* Early boot, no entropy yet: worse than random, better than
		 * a constant. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		buf[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)getpid();
		buf[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^
		    (uint64_t)(uintptr_t)k;
	}
	sniff_hkey_set(k, buf[0], buf[1]);
}

/* A given key (the tests'); NH's words come from SipHash under it. */
void
sniff_hkey_set(struct sniff_hkey *k, uint64_t k0, uint64_t k1)
{
	uint64_t a, b;
	uint8_t c = 1;

	k->k0 = k0;
	k->k1 = k1;
	a = sniff_siphash(k, &c, 1);
	c = 2;
	b = sniff_siphash(k, &c, 1);
	k->nh[0] = (uint32_t)a;
	k->nh[1] = (uint32_t)(a >> 32);
	k->nh[2] = (uint32_t)b;
	k->nh[3] = (uint32_t)(b >> 32);
}

static uint32_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* NH over 16 bytes (two products of word + key, summed mod 2^64). */
uint32_t
sniff_hash16(const struct sniff_hkey *k, const uint8_t *p)
{
	uint32_t w[4];

	memcpy(w, p, 16);
	return mix((uint64_t)(uint32_t)(w[0] + k->nh[0]) *
	    (uint32_t)(w[1] + k->nh[1]) +
	    (uint64_t)(uint32_t)(w[2] + k->nh[2]) * (uint32_t)(w[3] + k->nh[3]));
}

/* NH over two words. */
uint32_t
sniff_hash2(const struct sniff_hkey *k, uint32_t a, uint32_t b)
{
	return mix((uint64_t)(uint32_t)(a + k->nh[2]) * (uint32_t)(b +
	    k->nh[3]));
}

static void
sipround(uint64_t *v)
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

/*
 * SipHash with one compression and three finalisation rounds. Whole
 * words are read in host order: the value differs between byte orders,
 * which does not matter to a hash table.
 */
uint64_t
sniff_siphash(const struct sniff_hkey *k, const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t v[4], m, b = (uint64_t)n << 56;
	size_t i;

	v[0] = k->k0 ^ 0x736f6d6570736575ULL;
	v[1] = k->k1 ^ 0x646f72616e646f6dULL;
	v[2] = k->k0 ^ 0x6c7967656e657261ULL;
	v[3] = k->k1 ^ 0x7465646279746573ULL;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&m, p, 8);
		v[3] ^= m;
		sipround(v);
		v[0] ^= m;
	}
	for (i = 0; i < n; i++)		/* n < 8: below the length byte */
		b |= (uint64_t)p[i] << (8 * i);
	v[3] ^= b;
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
