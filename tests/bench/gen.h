/*
 * gen.h - what the three parts of gen-smtp-pcap share:
 *
 *   gen-wire.c        random numbers, the output buffer, the pcap file,
 *                     one TCP segment as Ethernet + IPv4/IPv6 + TCP
 *   gen-script.c      what the sessions say: the scripts, one table of
 *                     turns per kind of session
 *   gen-content.c     message text, ids, addresses of repeat offenders
 *   gen-smtp-pcap.c   the modes (busy, concurrent, storm) and main
 *
 * One process writes one capture: the state is global, the names carry
 * the prefix gen_ (or are the session's own fields).
 */
#ifndef GEN_H
#define GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVER_IP	0xc0000201u	/* 192.0.2.1 */
#define SERVER_PORT	25
#define START_SEC	1732700000ULL	/* 2024-11-27 */
#define HDR_MAX		600		/* a message header (per slot) */
#define ADDR_MAX	48		/* an address as text, with its NUL */

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

enum kind {
	K_OK, K_RELAY, K_UNKNOWN, K_RBL, K_AUTH, K_SYNC,
	K_PROBE,		/* storm: one relay probe, as exim answers it */
	K_DELIVER,		/* storm: one small message, delivered */
	K_MAX
};

struct turn;

struct sess {
	uint32_t	 cip;		/* host order; IPv6: gen_addr6(cip) */
	uint16_t	 cport;
	uint16_t	 cipid, sipid;
	uint8_t		 kind, nrcpt, nbad, tries, unacked;
	uint16_t	 pc;		/* the turn of script to play next */
	const struct turn *script;	/* NULL: the slot is free */
	uint32_t	 cseq, sseq;	/* next sequence number to send */
	uint32_t	 cts, sts;	/* TS clock offsets */
	uint32_t	 clast, slast;	/* last TSval sent */
	uint32_t	 want;		/* body size drawn at the start */
	uint32_t	 body_len, body_sent, pool_off;
	uint16_t	 hdr_len;
	char		*hdr;		/* message header (per slot) */
	uint64_t	 serial;
	uint64_t	 rng;		/* its own random stream */
};

/* What was written, for the summary on stderr. */
struct gen_stats {
	uint64_t packets, bytes, sessions, payload;
	uint64_t kinds[K_MAX];
	uint64_t rcpt_ok, rcpt_relay, rcpt_unknown, rcpt_rbl, auth_535;
	uint64_t data_503, messages, body_bytes, max_body;
};

extern struct gen_stats gen_st;
extern const char *const gen_kind_name[K_MAX];
extern uint64_t	 gen_now_us;	/* the capture's clock */
/* Body bytes the open sessions have still to send (see run_busy()). */
extern uint64_t	 gen_pending;

/* gen-wire.c */
void	 gen_seed(uint64_t seed);
void	 gen_use(uint64_t *stream);
uint64_t gen_rnd(void);
uint32_t gen_below(uint32_t n);
double	 gen_unit(void);
void	 gen_open(const char *path);	/* exits on failure */
void	 gen_close(const char *path);
void	 gen_set_ipv6(bool on);
bool	 gen_ipv6(void);
uint32_t gen_mss(void);
void	 gen_addr6(uint32_t v4, uint8_t out[16]);
void	 gen_ipstr(uint32_t ip, char *buf, size_t len);
void	 gen_emit(struct sess *s, bool from_client, unsigned flags,
	    const char *payload, uint32_t len, bool body);
void	 gen_say(struct sess *s, bool from_client, const char *text,
	    size_t len);
void	 gen_oom(void);

/* gen-content.c */
void	 gen_content_init(void);
void	 gen_body_copy(const struct sess *s, unsigned char *dst, uint32_t off,
	    uint32_t n);
uint32_t gen_fresh_client(void);
uint32_t gen_bad_client(void);
uint32_t gen_body_size(void);
void	 gen_exim_id(char *buf);
void	 gen_make_message(struct sess *s);
void	 gen_date(char *buf, size_t len);

/* gen-script.c */
void	 gen_new_session(struct sess *s, char *hdrbuf, uint64_t serial,
	    double ratio, const struct sess *slots, size_t nslots);
void	 gen_storm_session(struct sess *s, enum kind k, uint32_t cip,
	    char *hdrbuf, uint64_t serial);
void	 gen_step(struct sess *s);
bool	 gen_done(const struct sess *s);
void	 gen_greet(struct sess *s);

#endif
