/*
 * frag6.c - IPv6 fragment reassembly.
 *
 * libnids reassembles IPv4 fragments only; IPv6 ones come together
 * here, and the datagram goes on as if it had come whole. The rules:
 * - a datagram is (source, destination, identification) (RFC 8200 4.5);
 * - one that is not whole 60 s (packet time) after its first fragment
 *   came is dropped (RFC 8200);
 * - fragments that overlap drop the whole datagram, and every fragment
 *   of it that comes later until its time is up (RFC 5722). A fragment
 *   that repeats another's exact range is a duplicate: ignored, the
 *   first copy kept (RFC 5722 erratum 3089; what Linux does, so the
 *   server and we reassemble the same bytes);
 * - the unfragmentable part (the headers before the fragment header) is
 *   the first fragment's.
 *
 * Bounded: at most max_dgrams datagrams and max_bytes of their data, at
 * most SNIFF_FRAG6_FRAGS fragments each (tiny fragments cost us a range
 * each); past a bound the oldest datagram goes first ("full"). Keys are
 * a sender's to choose: the hash is keyed. Pure: no clock, no sniffer;
 * the caller passes packet time and the output buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define IP6_HLEN	40
#define BUF_MIN		2048

struct sniff_dg6 {
	struct sniff_dg6	*prev, *next;	/* by first fragment, or free */
	struct sniff_dg6	*hnext;
	uint8_t			 src[16], dst[16];
	uint32_t		 id;
	uint32_t		 hash;
	wb_usec			 first;
	uint8_t			*buf;		/* the fragmentable part */
	size_t			 cap;
	uint8_t			 unfrag[IP6_HLEN + SNIFF_IP6_EXT_BYTES];
	size_t			 ulen;		/* 0: first fragment not yet */
	size_t			 unhoff;	/* the byte that said 44 */
	uint8_t			 nh;		/* the first fragment's */
	size_t			 total;		/* 0: last fragment not yet */
	size_t			 received;
	bool			 dead;		/* overlapped: dropping its rest */
	uint16_t		 nfr;
	struct {
		uint16_t	 off, len;
	}			 fr[SNIFF_FRAG6_FRAGS];
};

static struct sniff_dg6 *lookup(struct sniff_frag6 *, const uint8_t *,
		    uint32_t, uint32_t);
static struct sniff_dg6 *make(struct sniff_frag6 *, const uint8_t *,
		    uint32_t, uint32_t, wb_usec);
static void	 release(struct sniff_frag6 *, struct sniff_dg6 *);
static void	 kill_dg(struct sniff_frag6 *, struct sniff_dg6 *);
static int	 room(struct sniff_frag6 *, struct sniff_dg6 *, size_t);
static int	 setup(struct sniff_frag6 *);
static uint32_t	 key_hash(const struct sniff_frag6 *, const uint8_t *,
		    uint32_t);

void
sniff_frag6_init(struct sniff_frag6 *f, size_t max_dgrams, size_t max_bytes,
    wb_usec timeout, const struct sniff_hkey *key)
{
	memset(f, 0, sizeof(*f));
	f->max_dgrams = max_dgrams > 0 ? max_dgrams : 1;
	f->max_bytes = max_bytes;
	f->timeout = timeout;
	f->key = *key;
}

void
sniff_frag6_fini(struct sniff_frag6 *f)
{
	while (f->head != NULL)
		release(f, f->head);
	free(f->pool);
	free(f->htab);
	f->pool = f->free = NULL;
	f->htab = NULL;
}

/* Made on the first fragment: IPv4-only captures never pay for it. */
static int
setup(struct sniff_frag6 *f)
{
	size_t i, nb = 64;

	while (nb < f->max_dgrams)
		nb <<= 1;
	if ((f->pool = calloc(f->max_dgrams, sizeof(*f->pool))) == NULL ||
	    (f->htab = calloc(nb, sizeof(*f->htab))) == NULL) {
		free(f->pool);
		f->pool = NULL;
		return -1;
	}
	f->hmask = nb - 1;
	for (i = 0; i < f->max_dgrams; i++) {
		f->pool[i].next = f->free;
		f->free = &f->pool[i];
	}
	return 0;
}

static uint32_t
key_hash(const struct sniff_frag6 *f, const uint8_t *ip, uint32_t id)
{
	uint8_t k[36];

	memcpy(k, ip + 8, 32);
	memcpy(k + 32, &id, 4);
	return (uint32_t)sniff_siphash(&f->key, k, sizeof(k));
}

static struct sniff_dg6 *
lookup(struct sniff_frag6 *f, const uint8_t *ip, uint32_t id, uint32_t h)
{
	struct sniff_dg6 *d;

	for (d = f->htab[h & f->hmask]; d != NULL; d = d->hnext)
		if (d->hash == h && d->id == id &&
		    memcmp(d->src, ip + 8, 16) == 0 &&
		    memcmp(d->dst, ip + 24, 16) == 0)
			return d;
	return NULL;
}

/* Off the lists and the table, buffer freed, back to the pool. */
static void
release(struct sniff_frag6 *f, struct sniff_dg6 *d)
{
	struct sniff_dg6 **pp;

	for (pp = &f->htab[d->hash & f->hmask]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		f->head = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	else
		f->tail = d->prev;
	f->bytes -= d->cap;
	free(d->buf);
	d->buf = NULL;
	d->cap = 0;
	d->prev = NULL;
	d->next = f->free;
	f->free = d;
	f->ndgrams--;
}

/* Dropped, but kept until its time is up so later fragments die too. */
static void
kill_dg(struct sniff_frag6 *f, struct sniff_dg6 *d)
{
	d->dead = true;
	f->bytes -= d->cap;
	free(d->buf);
	d->buf = NULL;
	d->cap = 0;
}

static struct sniff_dg6 *
make(struct sniff_frag6 *f, const uint8_t *ip, uint32_t id, uint32_t h,
    wb_usec now)
{
	struct sniff_dg6 *d;

	if (f->free == NULL) {		/* full: the oldest goes */
		f->full++;
		release(f, f->head);
	}
	d = f->free;
	f->free = d->next;
	memset(d, 0, sizeof(*d));
	memcpy(d->src, ip + 8, 16);
	memcpy(d->dst, ip + 24, 16);
	d->id = id;
	d->hash = h;
	d->first = now;
	d->hnext = f->htab[h & f->hmask];
	f->htab[h & f->hmask] = d;
	d->prev = f->tail;
	if (f->tail != NULL)
		f->tail->next = d;
	else
		f->head = d;
	f->tail = d;
	f->ndgrams++;
	return d;
}

/*
 * Room in d's buffer for end bytes, within max_bytes: older datagrams
 * make way. Returns 0, or -1 (d cannot grow: out of memory, or alone
 * over the bound).
 */
static int
room(struct sniff_frag6 *f, struct sniff_dg6 *d, size_t end)
{
	size_t ncap = d->cap > 0 ? d->cap : BUF_MIN;
	uint8_t *nb;

	if (end <= d->cap)
		return 0;
	while (ncap < end)
		ncap *= 2;
	if (ncap > 65535)
		ncap = 65535;
	while (f->bytes - d->cap + ncap > f->max_bytes && f->head != d) {
		f->full++;
		release(f, f->head);
	}
	if (f->bytes - d->cap + ncap > f->max_bytes ||
	    (nb = realloc(d->buf, ncap)) == NULL)
		return -1;
	f->bytes += ncap - d->cap;
	d->buf = nb;
	d->cap = ncap;
	return 0;
}

/*
 * Takes the fragment in ip (len bytes: whole, checked by ip6.c; its
 * fragment header at fhoff, named by the byte at nhoff). When it
 * completes its datagram, the datagram (unfragmentable part, fragment
 * header gone, payload length fixed) is written to out (at least
 * SNIFF_IP6_DGRAM_MAX bytes) and *outlen set.
 */
enum sniff_f6
sniff_frag6_add(struct sniff_frag6 *f, const uint8_t *ip, size_t len,
    size_t nhoff, size_t fhoff, wb_usec now, uint8_t *out, size_t *outlen)
{
	const uint8_t *fh = ip + fhoff;
	size_t off = (size_t)(fh[2] << 8 | fh[3]) & 0xfff8, flen = len -
	    fhoff - 8, end = off + flen, plen, i;
	bool more = (fh[3] & 1) != 0;
	uint32_t id, h;
	struct sniff_dg6 *d;

	if (fhoff > sizeof(d->unfrag) || flen == 0 || end > 65535)
		return SNIFF_F6_BAD;
	if (f->pool == NULL && setup(f) == -1)
		return SNIFF_F6_DROPPED;
	sniff_frag6_expire(f, now);
	memcpy(&id, fh + 4, 4);
	h = key_hash(f, ip, id);
	if ((d = lookup(f, ip, id, h)) == NULL)
		d = make(f, ip, id, h, now);
	if (d->dead)
		return SNIFF_F6_DROPPED;
	for (i = 0; i < d->nfr; i++) {
		if (d->fr[i].off == off && d->fr[i].len == flen)
			return SNIFF_F6_HELD;		/* a duplicate */
		if (off < (size_t)d->fr[i].off + d->fr[i].len &&
		    d->fr[i].off < end)
			goto overlap;
	}
	/* The last fragment fixes the end; nothing may lie past it. */
	if (!more) {
		if (d->total != 0 && d->total != end)
			goto overlap;
		for (i = 0; i < d->nfr; i++)
			if ((size_t)d->fr[i].off + d->fr[i].len > end)
				goto overlap;
		d->total = end;
	} else if (d->total != 0 && end > d->total)
		goto overlap;
	if (d->nfr == SNIFF_FRAG6_FRAGS || room(f, d, end) == -1) {
		f->full++;
		kill_dg(f, d);
		return SNIFF_F6_DROPPED;
	}
	memcpy(d->buf + off, fh + 8, flen);
	d->fr[d->nfr].off = (uint16_t)off;
	d->fr[d->nfr].len = (uint16_t)flen;
	d->nfr++;
	d->received += flen;
	if (off == 0) {
		memcpy(d->unfrag, ip, fhoff);
		d->ulen = fhoff;
		d->unhoff = nhoff;
		d->nh = fh[0];
	}
	if (d->ulen == 0 || d->total == 0 || d->received != d->total)
		return SNIFF_F6_HELD;

	/* Whole: no overlaps, so the ranges cover 0..total exactly. */
	plen = d->ulen - IP6_HLEN + d->total;
	if (plen > 65535) {
		kill_dg(f, d);
		return SNIFF_F6_BAD;
	}
	memcpy(out, d->unfrag, d->ulen);
	memcpy(out + d->ulen, d->buf, d->total);
	out[d->unhoff] = d->nh;
	out[4] = (uint8_t)(plen >> 8);
	out[5] = (uint8_t)plen;
	*outlen = d->ulen + d->total;
	f->reassembled++;
	release(f, d);
	return SNIFF_F6_DONE;
overlap:
	f->overlap++;
	kill_dg(f, d);
	return SNIFF_F6_DROPPED;
}

/* Drops what is not whole timeout after its first fragment. */
void
sniff_frag6_expire(struct sniff_frag6 *f, wb_usec now)
{
	while (f->head != NULL && now - f->head->first >= f->timeout) {
		if (!f->head->dead)
			f->timeouts++;
		release(f, f->head);
	}
}
