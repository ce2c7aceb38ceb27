/*
 * map6.c - IPv6 addresses lent an IPv4 address from 240.0.0.0/4.
 *
 * libnids reassembles IPv4 only, so an IPv6 segment reaches it as an
 * IPv4 one whose addresses stand for the real ones. No real traffic uses
 * 240/4 (reserved, RFC 1112; ip.c drops real IPv4 packets that do), so a
 * synthetic address can never meet a real one inside libnids.
 *
 * Entry i stands for 240.0.0.0 + i + 1: the address is the index, so
 * the way back (a callback's addresses to the real ones) needs no table.
 * Each entry counts its references: one per end of every pending
 * handshake and followed connection holding it. Only those let libnids
 * see the address, so at 0 libnids has let go of every stream on it and
 * the entry goes to the back of a free queue, to be reused as late as
 * possible. References come only from the gate (bounded by
 * max_handshakes) and from connections (bounded by max_streams): cap is
 * set to twice their sum, and the table never holds more.
 *
 * IPv6 addresses are the attacker's to choose: the lookup hash is keyed
 * (hash.c: NH, twice per IPv6 packet). Entries live in chunks made on
 * first use, so a sniffer that never sees IPv6 costs nothing here.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define M6_CHUNK	4096
#define M6_BASE		0xf0000000u	/* 240.0.0.0 */
#define M6_MAX		0x0ffffffeu	/* 240.0.0.1 .. 255.255.255.254 */

struct sniff_m6e {
	uint8_t		 a[16];
	uint32_t	 refs;
	uint32_t	 hnext;		/* index + 1 */
	uint32_t	 fnext;		/* index + 1, on the free queue */
	uint32_t	 hash;
};

static struct sniff_m6e *entry(const struct sniff_map6 *, uint32_t);
static int	 grow(struct sniff_map6 *);
static void	 unchain(struct sniff_map6 *, uint32_t);
static uint32_t	 hash6(const struct sniff_map6 *, const uint8_t *);
static uint32_t	 index_of(const struct sniff_map6 *, uint32_t);

void
sniff_map6_init(struct sniff_map6 *m, uint32_t cap,
    const struct sniff_hkey *key)
{
	memset(m, 0, sizeof(*m));
	m->cap = cap > M6_MAX ? M6_MAX : cap;
	m->key = *key;
}

void
sniff_map6_fini(struct sniff_map6 *m)
{
	uint32_t i;

	if (m->chunks != NULL)
		for (i = 0; i < (m->cap + M6_CHUNK - 1) / M6_CHUNK; i++)
			free(m->chunks[i]);
	free(m->chunks);
	free(m->heads);
	m->chunks = NULL;
	m->heads = NULL;
	m->n = m->used = m->fhead = m->ftail = 0;
}

static struct sniff_m6e *
entry(const struct sniff_map6 *m, uint32_t i)
{
	return &m->chunks[i / M6_CHUNK][i % M6_CHUNK];
}

static uint32_t
hash6(const struct sniff_map6 *m, const uint8_t *a6)
{
	return sniff_hash16(&m->key, a6);
}

/* Buckets: half the cap (a chain of two at worst), at least 1024. */
static int
grow(struct sniff_map6 *m)
{
	size_t nb = 1024, nchunks = (m->cap + M6_CHUNK - 1) / M6_CHUNK;

	if (m->heads == NULL) {
		while (nb < m->cap / 2)
			nb <<= 1;
		if ((m->heads = calloc(nb, sizeof(*m->heads))) == NULL ||
		    (m->chunks = calloc(nchunks, sizeof(*m->chunks))) == NULL) {
			free(m->heads);
			m->heads = NULL;
			return -1;
		}
		m->hmask = (uint32_t)(nb - 1);
	}
	if (m->n % M6_CHUNK == 0 && m->chunks[m->n / M6_CHUNK] == NULL &&
	    (m->chunks[m->n / M6_CHUNK] = calloc(M6_CHUNK,
	    sizeof(struct sniff_m6e))) == NULL)
		return -1;
	return 0;
}

/* The synthetic address of a6 (network order), or 0 when it has none. */
uint32_t
sniff_map6_find(const struct sniff_map6 *m, const uint8_t *a6)
{
	const struct sniff_m6e *e;
	uint32_t h, i;

	if (m->heads == NULL)
		return 0;
	h = hash6(m, a6);
	for (i = m->heads[h & m->hmask]; i != 0; i = e->hnext) {
		e = entry(m, i - 1);
		if (e->hash == h && memcmp(e->a, a6, 16) == 0)
			return htonl(M6_BASE + i);
	}
	return 0;
}

/*
 * Takes a reference on a6's synthetic address, lending one when it has
 * none. Returns it (network order), or 0 when the table is full or out
 * of memory.
 */
uint32_t
sniff_map6_ref(struct sniff_map6 *m, const uint8_t *a6)
{
	struct sniff_m6e *e;
	uint32_t a4, h, i;

	if ((a4 = sniff_map6_find(m, a6)) != 0) {
		sniff_map6_hold(m, a4);
		return a4;
	}
	if (m->fhead != 0) {
		/* The longest released, so reuse comes as late as it can. */
		i = m->fhead - 1;
		e = entry(m, i);
		m->fhead = e->fnext;
		if (m->fhead == 0)
			m->ftail = 0;
	} else {
		if (m->n >= m->cap || grow(m) == -1)
			return 0;
		i = m->n++;
		e = entry(m, i);
	}
	h = hash6(m, a6);
	memcpy(e->a, a6, 16);
	e->refs = 1;
	e->hash = h;
	e->fnext = 0;
	e->hnext = m->heads[h & m->hmask];
	m->heads[h & m->hmask] = i + 1;
	m->used++;
	return htonl(M6_BASE + i + 1);
}

static uint32_t
index_of(const struct sniff_map6 *m, uint32_t a4)
{
	uint32_t v = ntohl(a4);

	if (v <= M6_BASE || v - M6_BASE > m->n)
		return UINT32_MAX;
	return v - M6_BASE - 1;
}

void
sniff_map6_hold(struct sniff_map6 *m, uint32_t a4)
{
	uint32_t i = index_of(m, a4);

	if (i != UINT32_MAX && entry(m, i)->refs > 0)
		entry(m, i)->refs++;
}

static void
unchain(struct sniff_map6 *m, uint32_t i)
{
	struct sniff_m6e *e = entry(m, i);
	uint32_t *pp;

	for (pp = &m->heads[e->hash & m->hmask]; *pp != 0;
	    pp = &entry(m, *pp - 1)->hnext)
		if (*pp == i + 1) {
			*pp = e->hnext;
			return;
		}
}

void
sniff_map6_unref(struct sniff_map6 *m, uint32_t a4)
{
	struct sniff_m6e *e;
	uint32_t i = index_of(m, a4);

	if (i == UINT32_MAX || (e = entry(m, i))->refs == 0)
		return;
	if (--e->refs > 0)
		return;
	unchain(m, i);
	e->hnext = 0;
	e->fnext = 0;
	if (m->ftail != 0)
		entry(m, m->ftail - 1)->fnext = i + 1;
	else
		m->fhead = i + 1;
	m->ftail = i + 1;
	m->used--;
}

/* The IPv6 address a synthetic a4 stands for, or NULL. */
const uint8_t *
sniff_map6_addr(const struct sniff_map6 *m, uint32_t a4)
{
	uint32_t i = index_of(m, a4);

	if (i == UINT32_MAX || entry(m, i)->refs == 0)
		return NULL;
	return entry(m, i)->a;
}
