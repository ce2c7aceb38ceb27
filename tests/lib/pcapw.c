/*
 * pcapw.c - capture files and packets, written by hand (see pcapw.h).
 *
 * Little-endian files, microsecond timestamps; pcapng with one section
 * and one interface. Every builder writes right checksums: a test that
 * wants a wrong one breaks it afterwards.
 */
#include <string.h>

#include "pcapw.h"

#define SNAPLEN	262144

static int
put_le(FILE *f, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fputc((int)((v >> (8 * i)) & 0xff), f) == EOF)
			return -1;
	return 0;
}

int
pcapw_open(struct pcapw *w, FILE *f, int linktype, bool ng)
{
	int r = 0;

	w->f = f;
	w->ng = ng;
	if (!ng) {
		r |= put_le(f, 0xa1b2c3d4, 4);
		r |= put_le(f, 2, 2);
		r |= put_le(f, 4, 2);
		r |= put_le(f, 0, 4);
		r |= put_le(f, 0, 4);
		r |= put_le(f, SNAPLEN, 4);
		r |= put_le(f, (uint64_t)linktype, 4);
		return r;
	}
	r |= put_le(f, 0x0a0d0d0a, 4);	/* section header */
	r |= put_le(f, 28, 4);
	r |= put_le(f, 0x1a2b3c4d, 4);
	r |= put_le(f, 1, 2);
	r |= put_le(f, 0, 2);
	r |= put_le(f, UINT64_MAX, 8);
	r |= put_le(f, 28, 4);
	r |= put_le(f, 1, 4);		/* interface: microseconds */
	r |= put_le(f, 20, 4);
	r |= put_le(f, (uint64_t)linktype, 2);
	r |= put_le(f, 0, 2);
	r |= put_le(f, SNAPLEN, 4);
	r |= put_le(f, 20, 4);
	return r;
}

int
pcapw_write(struct pcapw *w, int64_t ts, const uint8_t *d, size_t caplen,
    size_t len)
{
	size_t pad = (4 - caplen % 4) % 4;
	int r = 0;

	if (!w->ng) {
		r |= put_le(w->f, (uint64_t)(ts / 1000000), 4);
		r |= put_le(w->f, (uint64_t)(ts % 1000000), 4);
		r |= put_le(w->f, caplen, 4);
		r |= put_le(w->f, len, 4);
		if (caplen > 0 && fwrite(d, 1, caplen, w->f) != caplen)
			return -1;
		return r;
	}
	r |= put_le(w->f, 6, 4);		/* enhanced packet block */
	r |= put_le(w->f, 32 + caplen + pad, 4);
	r |= put_le(w->f, 0, 4);
	r |= put_le(w->f, (uint64_t)ts >> 32, 4);
	r |= put_le(w->f, (uint64_t)ts & 0xffffffff, 4);
	r |= put_le(w->f, caplen, 4);
	r |= put_le(w->f, len, 4);
	if (caplen > 0 && fwrite(d, 1, caplen, w->f) != caplen)
		return -1;
	r |= put_le(w->f, 0, (int)pad);
	r |= put_le(w->f, 32 + caplen + pad, 4);
	return r;
}

void
pcapw_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
pcapw_put32(uint8_t *p, uint32_t v)
{
	pcapw_put16(p, v >> 16);
	pcapw_put16(p + 2, v & 0xffff);
}

uint32_t
pcapw_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)	/* no overflow however long the data */
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t
pcapw_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP header and data at seg; its sum left 0. Returns the length. */
static size_t
tcp_bytes(uint8_t *seg, const struct pcapw_tcp *t)
{
	size_t hl = 20 + t->optlen;

	memset(seg, 0, 20);
	pcapw_put16(seg, t->sport);
	pcapw_put16(seg + 2, t->dport);
	pcapw_put32(seg + 4, t->seq);
	pcapw_put32(seg + 8, t->ack);
	seg[12] = (uint8_t)((hl / 4) << 4);
	seg[13] = t->flags;
	pcapw_put16(seg + 14, t->win != 0 ? t->win : 65535);
	if (t->optlen > 0)
		memcpy(seg + 20, t->opts, t->optlen);
	if (t->len > 0)
		memcpy(seg + hl, t->data, t->len);
	return hl + t->len;
}

size_t
pcapw_ip4_tcp(uint8_t *p, const uint8_t *src, const uint8_t *dst,
    const struct pcapw_tcp *t)
{
	size_t n = tcp_bytes(p + 20, t), tot = 20 + n;
	uint32_t ps;

	memset(p, 0, 20);
	p[0] = 0x45;
	pcapw_put16(p + 2, (uint32_t)tot);
	pcapw_put16(p + 4, 0x1234);
	pcapw_put16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = 6;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	pcapw_put16(p + 10, pcapw_fold(pcapw_sum(p, 20, 0)));
	ps = pcapw_sum(p + 12, 8, 0) + 6 + (uint32_t)n;
	pcapw_put16(p + 36, pcapw_fold(pcapw_sum(p + 20, n, ps)));
	return tot;
}

size_t
pcapw_tcp6(uint8_t *seg, const uint8_t *src, const uint8_t *dst,
    const struct pcapw_tcp *t)
{
	size_t n = tcp_bytes(seg, t);
	uint32_t ps;

	ps = pcapw_sum(src, 16, 0);
	ps = pcapw_sum(dst, 16, ps) + (uint32_t)(n >> 16) +
	    (uint32_t)(n & 0xffff) + 6;
	pcapw_put16(seg + 16, pcapw_fold(pcapw_sum(seg, n, ps)));
	return n;
}

size_t
pcapw_ip6(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t nh,
    const uint8_t *payload, size_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	pcapw_put16(p + 4, (uint32_t)plen);
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	if (plen > 0 && payload != p + 40)
		memmove(p + 40, payload, plen);
	return 40 + plen;
}

size_t
pcapw_ip6_tcp(uint8_t *p, const uint8_t *src, const uint8_t *dst,
    const struct pcapw_tcp *t)
{
	size_t n = pcapw_tcp6(p + 40, src, dst, t);

	return pcapw_ip6(p, src, dst, 6, p + 40, n);
}

size_t
pcapw_ip6_frag(uint8_t *p, const uint8_t *src, const uint8_t *dst,
    uint8_t nh, uint32_t id, const uint8_t *data, size_t off, size_t n,
    bool more)
{
	uint8_t *fh = p + 40;

	fh[0] = nh;
	fh[1] = 0;
	pcapw_put16(fh + 2, (uint32_t)((off & 0xfff8) | (more ? 1 : 0)));
	pcapw_put32(fh + 4, id);
	memmove(fh + 8, data + off, n);
	return pcapw_ip6(p, src, dst, 44, fh, 8 + n);
}

static const struct {
	const char	*name;
	int		 linktype;
} links[PCAPW_NLINKS] = {
	[PCAPW_ETH] = { "ethernet", 1 },
	[PCAPW_VLAN] = { "802.1Q", 1 },
	[PCAPW_QINQ] = { "802.1ad QinQ", 1 },
	[PCAPW_Q9100] = { "0x9100 QinQ", 1 },
	[PCAPW_SLL] = { "SLL", 113 },
	[PCAPW_SLLVLAN] = { "SLL+802.1Q", 113 },
	[PCAPW_SLL2] = { "SLL2", 276 },
	[PCAPW_NULL_LE] = { "NULL little-endian (AF 24)", 0 },
	[PCAPW_NULL_BE] = { "NULL big-endian (AF 24)", 0 },
	[PCAPW_NULL28] = { "NULL AF 28", 0 },
	[PCAPW_LOOP_BE] = { "LOOP (AF 24)", 108 },
	[PCAPW_LOOP_LE] = { "LOOP little-endian (AF 24)", 108 },
	[PCAPW_LOOP30] = { "LOOP AF 30", 108 },
	[PCAPW_RAW101] = { "RAW 101", 101 },
	[PCAPW_RAW12] = { "RAW 12", 12 },
	[PCAPW_RAW14] = { "RAW 14", 14 },
	[PCAPW_IPV4] = { "IPV4", 228 },
	[PCAPW_IPV6] = { "IPV6", 229 },
};

int
pcapw_linktype(enum pcapw_link k)
{
	return links[k].linktype;
}

const char *
pcapw_link_name(enum pcapw_link k)
{
	return links[k].name;
}

bool
pcapw_link_carries(enum pcapw_link k, int af)
{
	if (k == PCAPW_IPV4)
		return af == 4;
	if (k == PCAPW_IPV6)
		return af == 6;
	return true;
}

size_t
pcapw_wrap(enum pcapw_link k, int af, const uint8_t *ip, size_t len,
    uint8_t *out)
{
	uint16_t et = af == 4 ? 0x0800 : 0x86dd;
	uint32_t bsd = af == 4 ? 2 : k == PCAPW_NULL28 ? 28 :
	    k == PCAPW_LOOP30 ? 30 : 24;
	size_t h = 0;

	switch (k) {
	case PCAPW_ETH:
	case PCAPW_VLAN:
	case PCAPW_QINQ:
	case PCAPW_Q9100:
		memset(out, 0x02, 12);
		out[11] = 0x01;
		h = 12;
		if (k == PCAPW_QINQ || k == PCAPW_Q9100) {
			pcapw_put16(out + h, k == PCAPW_QINQ ? 0x88a8 : 0x9100);
			pcapw_put16(out + h + 2, 100);
			h += 4;
		}
		if (k != PCAPW_ETH) {
			pcapw_put16(out + h, 0x8100);
			pcapw_put16(out + h + 2, 200);
			h += 4;
		}
		pcapw_put16(out + h, et);
		h += 2;
		break;
	case PCAPW_SLL:
	case PCAPW_SLLVLAN:
		memset(out, 0, 16);
		pcapw_put16(out + 2, 1);
		pcapw_put16(out + 4, 6);
		memset(out + 6, 0x02, 6);
		h = 14;
		if (k == PCAPW_SLLVLAN) {
			pcapw_put16(out + h, 0x8100);
			pcapw_put16(out + h + 2, 7);
			h += 4;
		}
		pcapw_put16(out + h, et);
		h += 2;
		break;
	case PCAPW_SLL2:
		memset(out, 0, 20);
		pcapw_put16(out, et);
		pcapw_put32(out + 4, 3);
		pcapw_put16(out + 8, 1);
		out[11] = 6;
		h = 20;
		break;
	case PCAPW_NULL_LE:
	case PCAPW_NULL28:
	case PCAPW_LOOP_LE:
		out[0] = (uint8_t)bsd;
		out[1] = out[2] = out[3] = 0;
		h = 4;
		break;
	case PCAPW_NULL_BE:
	case PCAPW_LOOP_BE:
	case PCAPW_LOOP30:
		pcapw_put32(out, bsd);
		h = 4;
		break;
	default:
		break;
	}
	memmove(out + h, ip, len);
	return h + len;
}
