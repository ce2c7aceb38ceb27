/*
 * gen-script.c - what the generated sessions say.
 *
 * Each kind of session plays a script: a table of turns, one packet a
 * turn (a turn that sends a message body stays until the body is out).
 * A turn's function does its packet and says where the script goes on:
 * the next turn, the same one again, or a jump to the first turn with
 * the op the table names (a refused envelope skips the body, a failed
 * AUTH tries again). So a conversation is read off its table, and a new
 * kind of session is a new table, not new branches.
 *
 * Invariant: random draws happen in the turn functions and the session
 * set-up only, in the order the tables give, so a seed fixes the file.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"

#define HOSTNAME	"mx.example.net"
/* The exim of pcaps/ (make-pcaps.sh): its name and its EHLO keywords. */
#define EXIM_HOST	"mx.wireban.test"
#define EXIM_EHLO	"250-SIZE 52428800\r\n250-8BITMIME\r\n" \
			"250-PIPELINING\r\n250-PIPECONNECT\r\n" \
			"250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n" \
			"250-STARTTLS\r\n250-SMTPUTF8\r\n250 HELP\r\n"

const char *const gen_kind_name[K_MAX] = {
	"accepted", "relay", "unknown_user", "rbl", "auth", "sync",
	"probe", "deliver",
};

uint64_t	 gen_pending;

enum op {
	O_SYN, O_SYNACK, O_ACK, O_GREET, O_EHLO, O_EHLO_R, O_ENVELOPE,
	O_ENVELOPE_R, O_BODY, O_EOM_R, O_QUIT, O_QUIT_R, O_SFIN, O_CFIN,
	O_LASTACK, O_EARLY, O_SYNC_R, O_AUTH, O_AUTH_R1, O_AUTH_U,
	O_AUTH_R2, O_AUTH_P, O_AUTH_R3,
	/* the storm's, one command a segment as swaks sends them */
	O_SACK, O_MAIL, O_MAIL_R, O_RCPT, O_RCPT_R, O_DATA, O_DATA_R,
	O_QUIT_RF, O_END,
};

/* What a turn says about the next one. */
enum next { N_NEXT, N_AGAIN, N_JUMP };

struct turn {
	uint8_t		 op;
	uint8_t		 jump;	/* N_JUMP: to the first turn with this op */
};

typedef enum next turn_fn(struct sess *);

/* ---- the scripts ----------------------------------------------------- */

/* A message: the envelope pipelined; refused whole, no body. */
static const struct turn script_mail[] = {
	{ O_SYN, 0 }, { O_SYNACK, 0 }, { O_ACK, 0 }, { O_GREET, 0 },
	{ O_EHLO, 0 }, { O_EHLO_R, 0 }, { O_ENVELOPE, 0 },
	{ O_ENVELOPE_R, O_QUIT }, { O_BODY, 0 }, { O_EOM_R, 0 },
	{ O_QUIT, 0 }, { O_QUIT_R, 0 }, { O_SFIN, 0 }, { O_CFIN, 0 },
	{ O_LASTACK, 0 }, { O_END, 0 },
};

/* AUTH LOGIN guessed 1-3 times, each answered 535. */
static const struct turn script_auth[] = {
	{ O_SYN, 0 }, { O_SYNACK, 0 }, { O_ACK, 0 }, { O_GREET, 0 },
	{ O_EHLO, 0 }, { O_EHLO_R, 0 }, { O_AUTH, 0 }, { O_AUTH_R1, 0 },
	{ O_AUTH_U, 0 }, { O_AUTH_R2, 0 }, { O_AUTH_P, 0 },
	{ O_AUTH_R3, O_AUTH }, { O_QUIT, 0 }, { O_QUIT_R, 0 }, { O_SFIN, 0 },
	{ O_CFIN, 0 }, { O_LASTACK, 0 }, { O_END, 0 },
};

/* An early talker: EHLO before the banner, 554 instead of it. */
static const struct turn script_sync[] = {
	{ O_SYN, 0 }, { O_SYNACK, 0 }, { O_ACK, 0 }, { O_EARLY, 0 },
	{ O_SYNC_R, 0 }, { O_SFIN, 0 }, { O_CFIN, 0 }, { O_LASTACK, 0 },
	{ O_END, 0 },
};

/*
 * The storm's relay probe, packet for packet as pcaps/relay.pcap has
 * it: the client ACKs the banner, the server ACKs QUIT, and its 221
 * carries its FIN.
 */
static const struct turn script_probe[] = {
	{ O_SYN, 0 }, { O_SYNACK, 0 }, { O_ACK, 0 }, { O_GREET, 0 },
	{ O_ACK, 0 }, { O_EHLO, 0 }, { O_EHLO_R, 0 }, { O_MAIL, 0 },
	{ O_MAIL_R, 0 }, { O_RCPT, 0 }, { O_RCPT_R, 0 }, { O_QUIT, 0 },
	{ O_SACK, 0 }, { O_QUIT_RF, 0 }, { O_CFIN, 0 }, { O_LASTACK, 0 },
	{ O_END, 0 },
};

/* The storm's good client, as pcaps/clean.pcap: one small message. */
static const struct turn script_deliver[] = {
	{ O_SYN, 0 }, { O_SYNACK, 0 }, { O_ACK, 0 }, { O_GREET, 0 },
	{ O_ACK, 0 }, { O_EHLO, 0 }, { O_EHLO_R, 0 }, { O_MAIL, 0 },
	{ O_MAIL_R, 0 }, { O_RCPT, 0 }, { O_RCPT_R, 0 }, { O_DATA, 0 },
	{ O_SACK, 0 }, { O_DATA_R, 0 }, { O_BODY, 0 }, { O_EOM_R, 0 },
	{ O_QUIT, 0 }, { O_SACK, 0 }, { O_QUIT_RF, 0 }, { O_CFIN, 0 },
	{ O_LASTACK, 0 }, { O_END, 0 },
};

static const struct turn *const scripts[K_MAX] = {
	[K_OK] = script_mail, [K_RELAY] = script_mail,
	[K_UNKNOWN] = script_mail, [K_RBL] = script_mail,
	[K_AUTH] = script_auth, [K_SYNC] = script_sync,
	[K_PROBE] = script_probe, [K_DELIVER] = script_deliver,
};

/* The storm's sessions speak as the exim of pcaps/ does. */
static bool
storm(const struct sess *s)
{
	return s->kind == K_PROBE || s->kind == K_DELIVER;
}

void
gen_new_session(struct sess *s, char *hdrbuf, uint64_t serial, double ratio,
    const struct sess *slots, size_t nslots)
{
	double u;
	size_t i;
	bool clash;

	memset(s, 0, sizeof(*s));
	s->hdr = hdrbuf;
	s->serial = serial;
	u = gen_unit();
	if (u >= ratio)
		s->kind = K_OK;
	else {
		u /= ratio;
		s->kind = u < 0.25 ? K_RELAY : u < 0.50 ? K_UNKNOWN :
		    u < 0.75 ? K_RBL : u < 0.90 ? K_AUTH : K_SYNC;
	}
	do {
		if (s->kind != K_OK && gen_below(2) == 0)
			s->cip = gen_bad_client();
		else
			s->cip = gen_fresh_client();
		s->cport = (uint16_t)(32768 + gen_below(28232));
		clash = false;
		for (i = 0; i < nslots; i++)
			if (!gen_done(&slots[i]) && &slots[i] != s &&
			    slots[i].cip == s->cip && slots[i].cport == s->cport)
				clash = true;
	} while (clash);
	s->cseq = (uint32_t)gen_rnd();
	s->sseq = (uint32_t)gen_rnd();
	s->cts = (uint32_t)gen_rnd();
	s->sts = (uint32_t)gen_rnd();
	s->cipid = (uint16_t)gen_rnd();
	s->sipid = (uint16_t)gen_rnd();
	s->nrcpt = (uint8_t)(1 + (gen_below(3) == 0 ? gen_below(5) : 0));
	s->nbad = s->kind == K_UNKNOWN ? (uint8_t)(1 + gen_below(s->nrcpt)) :
	    (s->kind == K_RELAY || s->kind == K_RBL) ? s->nrcpt : 0;
	s->tries = (uint8_t)(1 + gen_below(3));
	s->want = gen_body_size();
	s->rng = gen_rnd();
	if (s->nbad < s->nrcpt && s->kind != K_AUTH && s->kind != K_SYNC)
		gen_pending += s->want;
	s->script = scripts[s->kind];
	s->pc = 0;
	gen_st.sessions++;
	gen_st.kinds[s->kind]++;
}

/*
 * A storm session: kind K_PROBE or K_DELIVER from cip (unique in the
 * storm, so no clash check), a small message for a good client.
 */
void
gen_storm_session(struct sess *s, enum kind k, uint32_t cip, char *hdrbuf,
    uint64_t serial)
{
	memset(s, 0, sizeof(*s));
	s->hdr = hdrbuf;
	s->serial = serial;
	s->kind = (uint8_t)k;
	s->cip = cip;
	s->cport = (uint16_t)(32768 + gen_below(28232));
	s->cseq = (uint32_t)gen_rnd();
	s->sseq = (uint32_t)gen_rnd();
	s->cts = (uint32_t)gen_rnd();
	s->sts = (uint32_t)gen_rnd();
	s->cipid = (uint16_t)gen_rnd();
	s->sipid = (uint16_t)gen_rnd();
	s->want = 700 + gen_below(600);	/* one segment */
	s->rng = gen_rnd();
	if (k == K_DELIVER)
		gen_pending += s->want;
	s->script = scripts[k];
	s->pc = 0;
	gen_st.sessions++;
	gen_st.kinds[k]++;
}

/* ---- the turns -------------------------------------------------------- */

static enum next
t_syn(struct sess *s)
{
	gen_emit(s, true, F_SYN, NULL, 0, false);
	return N_NEXT;
}

static enum next
t_synack(struct sess *s)
{
	gen_emit(s, false, F_SYN | F_ACK, NULL, 0, false);
	return N_NEXT;
}

static enum next
t_ack(struct sess *s)
{
	gen_emit(s, true, F_ACK, NULL, 0, false);
	return N_NEXT;
}

static enum next
t_greet(struct sess *s)
{
	char buf[512], date[64];
	size_t n;

	gen_date(date, sizeof(date));
	n = (size_t)snprintf(buf, sizeof(buf), "220 %s ESMTP Exim 4.96 %s\r\n",
	    storm(s) ? EXIM_HOST : HOSTNAME, date);
	gen_say(s, false, buf, n);
	return N_NEXT;
}

static enum next
t_ehlo(struct sess *s)
{
	char buf[512];
	size_t n;

	if (storm(s)) {
		n = (size_t)snprintf(buf, sizeof(buf), "EHLO %s%" PRIu64
		    ".example\r\n", s->kind == K_PROBE ? "probe" : "mail",
		    s->serial);
		gen_say(s, true, buf, n);
		return N_NEXT;
	}
	n = (size_t)snprintf(buf, sizeof(buf), "EHLO host-%u-%u.client%u"
	    ".example\r\n", (s->cip >> 8) & 255, s->cip & 255,
	    (s->cip >> 16) & 255);
	gen_say(s, true, buf, n);
	return N_NEXT;
}

static enum next
t_ehlo_r(struct sess *s)
{
	char buf[512], cip[ADDR_MAX];
	size_t n;

	gen_ipstr(s->cip, cip, sizeof(cip));
	if (storm(s)) {
		n = (size_t)snprintf(buf, sizeof(buf), "250-" EXIM_HOST " Hello "
		    "%s%" PRIu64 ".example [%s]\r\n" EXIM_EHLO,
		    s->kind == K_PROBE ? "probe" : "mail", s->serial, cip);
		gen_say(s, false, buf, n);
		return N_NEXT;
	}
	n = (size_t)snprintf(buf, sizeof(buf),
	    "250-" HOSTNAME " Hello host-%u-%u.client%u.example [%s]\r\n"
	    "250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
	    "250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-PRDR\r\n"
	    "250 HELP\r\n", (s->cip >> 8) & 255, s->cip & 255,
	    (s->cip >> 16) & 255, cip);
	gen_say(s, false, buf, n);
	return N_NEXT;
}

/* MAIL, RCPTs and DATA in one write (PIPELINING). */
static enum next
t_envelope(struct sess *s)
{
	char buf[1024];
	size_t n;
	unsigned i;

	n = (size_t)snprintf(buf, sizeof(buf),
	    "MAIL FROM:<user%" PRIu64 "@sender%u.example> SIZE=%u\r\n",
	    s->serial, (unsigned)(s->cip & 0xffff), 1024 + gen_below(1 << 20));
	for (i = 0; i < s->nrcpt; i++) {
		if (s->kind == K_RELAY) {
			uint32_t who = gen_below(100000), dom = gen_below(100);

			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "RCPT TO:<victim%u@elsewhere%u.example>\r\n",
			    who, dom);
		} else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "RCPT TO:<%s%u@example.net>\r\n",
			    i < s->nbad ? "nobody" : "user", gen_below(100000));
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "DATA\r\n");
	gen_say(s, true, buf, n);
	return N_NEXT;
}

/* The replies to the pipelined group, in one write; no 354: no body. */
static enum next
t_envelope_r(struct sess *s)
{
	char buf[2048], cip[ADDR_MAX];
	const char *first = NULL;
	size_t n;
	unsigned i, ok = 0;

	gen_ipstr(s->cip, cip, sizeof(cip));
	n = (size_t)snprintf(buf, sizeof(buf), "250 OK\r\n");
	for (i = 0; i < s->nrcpt; i++) {
		if (i >= s->nbad) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "250 Accepted\r\n");
			ok++;
			gen_st.rcpt_ok++;
		} else if (s->kind == K_RELAY) {
			first = "relay not permitted";
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "550 relay not permitted\r\n");
			gen_st.rcpt_relay++;
		} else if (s->kind == K_RBL) {
			first = "rbl";
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "550-rejected because %s is in a black list at "
			    "zen.spamhaus.org\r\n550 Listed by ZEN, see "
			    "https://www.spamhaus.org/query/ip/%s\r\n", cip, cip);
			gen_st.rcpt_rbl++;
		} else {
			first = "Unknown user";
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "550 Unknown user\r\n");
			gen_st.rcpt_unknown++;
		}
	}
	if (ok > 0)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "354 Enter message, ending with \".\" on a line by "
		    "itself\r\n");
	else {
		if (strcmp(first, "rbl") == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "503-All RCPT commands were rejected with this "
			    "error:\r\n503-rejected because %s is in a black "
			    "list at zen.spamhaus.org\r\n503-Listed by ZEN, see "
			    "https://www.spamhaus.org/query/ip/%s\r\n503 Valid "
			    "RCPT command must precede DATA\r\n", cip, cip);
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "503-All RCPT commands were rejected with this "
			    "error:\r\n503-%s\r\n503 Valid RCPT command must "
			    "precede DATA\r\n", first);
		gen_st.data_503++;
	}
	gen_say(s, false, buf, n);
	if (ok == 0)
		return N_JUMP;
	gen_make_message(s);
	return N_NEXT;
}

/* The message in MSS segments, the server ACKing every second one. */
static enum next
t_body(struct sess *s)
{
	uint32_t k;

	if (s->unacked == 2) {
		gen_emit(s, false, F_ACK, NULL, 0, false);
		s->unacked = 0;
		return N_AGAIN;
	}
	k = s->body_len - s->body_sent;
	if (k > gen_mss())
		k = gen_mss();
	gen_emit(s, true, (s->body_sent + k == s->body_len ? F_PSH : 0) |
	    F_ACK, NULL, k, true);
	s->body_sent += k;
	gen_pending -= k;
	if (s->body_sent == s->body_len)
		return N_NEXT;
	s->unacked++;
	return N_AGAIN;
}

static enum next
t_eom_r(struct sess *s)
{
	char buf[64], id[17];
	size_t n;

	gen_exim_id(id);
	n = (size_t)snprintf(buf, sizeof(buf), "250 OK id=%s\r\n", id);
	gen_say(s, false, buf, n);
	return N_NEXT;
}

static enum next
t_quit_r(struct sess *s)
{
	static const char bye[] = "221 " HOSTNAME " closing connection\r\n";

	gen_say(s, false, bye, sizeof(bye) - 1);
	return N_NEXT;
}

/* exim's 221 and its FIN in one segment (pcaps/relay.pcap). */
static enum next
t_quit_rf(struct sess *s)
{
	static const char bye[] = "221 " EXIM_HOST " closing connection\r\n";

	gen_emit(s, false, F_PSH | F_ACK | F_FIN, bye, sizeof(bye) - 1, false);
	return N_NEXT;
}

/* The server's bare ACK of what the client sent. */
static enum next
t_sack(struct sess *s)
{
	gen_emit(s, false, F_ACK, NULL, 0, false);
	return N_NEXT;
}

static enum next
t_mail(struct sess *s)
{
	char buf[128];
	size_t n;

	if (s->kind == K_PROBE)
		n = (size_t)snprintf(buf, sizeof(buf), "MAIL FROM:<spammer%"
		    PRIu64 "@example.com>\r\n", s->serial);
	else
		n = (size_t)snprintf(buf, sizeof(buf), "MAIL FROM:<user%"
		    PRIu64 "@sender.example>\r\n", s->serial);
	gen_say(s, true, buf, n);
	return N_NEXT;
}

/* A probe asks for a foreign domain; a good client for a local user. */
static enum next
t_rcpt(struct sess *s)
{
	char buf[128];
	size_t n;
	uint32_t who = gen_below(100000), dom = gen_below(100);

	if (s->kind == K_PROBE)
		n = (size_t)snprintf(buf, sizeof(buf), "RCPT TO:<victim%u@"
		    "elsewhere%u.example>\r\n", who, dom);
	else
		n = (size_t)snprintf(buf, sizeof(buf), "RCPT TO:<user%u@"
		    "wireban.test>\r\n", who);
	gen_say(s, true, buf, n);
	return N_NEXT;
}

static enum next
t_rcpt_r(struct sess *s)
{
	if (s->kind == K_PROBE) {
		gen_say(s, false, "550 relay not permitted\r\n", 25);
		gen_st.rcpt_relay++;
	} else {
		gen_say(s, false, "250 Accepted\r\n", 14);
		gen_st.rcpt_ok++;
	}
	return N_NEXT;
}

static enum next
t_data_r(struct sess *s)
{
	static const char go[] =
	    "354 Enter message, ending with \".\" on a line by itself\r\n";

	gen_say(s, false, go, sizeof(go) - 1);
	gen_make_message(s);
	return N_NEXT;
}

static enum next
t_sfin(struct sess *s)
{
	gen_emit(s, false, F_FIN | F_ACK, NULL, 0, false);
	return N_NEXT;
}

static enum next
t_cfin(struct sess *s)
{
	gen_emit(s, true, F_FIN | F_ACK, NULL, 0, false);
	return N_NEXT;
}

static enum next
t_lastack(struct sess *s)
{
	gen_emit(s, false, F_ACK, NULL, 0, false);
	return N_NEXT;
}

/* Talks before the banner. */
static enum next
t_early(struct sess *s)
{
	char buf[64];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "EHLO early%u.example\r\n",
	    gen_below(1000));
	gen_say(s, true, buf, n);
	return N_NEXT;
}

static enum next
t_auth_u(struct sess *s)
{
	char buf[32];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "YWRtaW4%c\r\n",
	    "wxyz"[gen_below(4)]);
	gen_say(s, true, buf, n);
	return N_NEXT;
}

static enum next
t_auth_p(struct sess *s)
{
	char buf[32];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "cGFzc3dvcmQx%08x\r\n",
	    (unsigned)gen_rnd());
	gen_say(s, true, buf, n);
	return N_NEXT;
}

/* 535, then another try while the session has some left. */
static enum next
t_auth_r3(struct sess *s)
{
	gen_say(s, false, "535 Incorrect authentication data\r\n", 35);
	gen_st.auth_535++;
	return --s->tries > 0 ? N_JUMP : N_NEXT;
}

static turn_fn *const turns[O_END] = {
	[O_SYN] = t_syn, [O_SYNACK] = t_synack, [O_ACK] = t_ack,
	[O_GREET] = t_greet, [O_EHLO] = t_ehlo, [O_EHLO_R] = t_ehlo_r,
	[O_ENVELOPE] = t_envelope, [O_ENVELOPE_R] = t_envelope_r,
	[O_BODY] = t_body, [O_EOM_R] = t_eom_r, [O_QUIT_R] = t_quit_r,
	[O_SFIN] = t_sfin, [O_CFIN] = t_cfin, [O_LASTACK] = t_lastack,
	[O_EARLY] = t_early, [O_AUTH_U] = t_auth_u, [O_AUTH_P] = t_auth_p,
	[O_AUTH_R3] = t_auth_r3, [O_SACK] = t_sack, [O_MAIL] = t_mail,
	[O_RCPT] = t_rcpt, [O_RCPT_R] = t_rcpt_r, [O_DATA_R] = t_data_r,
	[O_QUIT_RF] = t_quit_rf,
};

/* The turns that only say a fixed line (client or server). */
static const struct {
	bool		 client;
	const char	*line;
} fixed[O_END] = {
	[O_QUIT] = { true, "QUIT\r\n" },
	[O_MAIL_R] = { false, "250 OK\r\n" },
	[O_DATA] = { true, "DATA\r\n" },
	[O_SYNC_R] = { false, "554 SMTP synchronization error\r\n" },
	[O_AUTH] = { true, "AUTH LOGIN\r\n" },
	[O_AUTH_R1] = { false, "334 VXNlcm5hbWU6\r\n" },
	[O_AUTH_R2] = { false, "334 UGFzc3dvcmQ6\r\n" },
};

bool
gen_done(const struct sess *s)
{
	return s->script == NULL || s->script[s->pc].op == O_END;
}

/* One turn of session s: usually one packet. */
void
gen_step(struct sess *s)
{
	const struct turn *t;
	enum next next;
	uint16_t i;

	if (gen_done(s))
		return;
	t = &s->script[s->pc];
	gen_use(&s->rng);
	if (turns[t->op] != NULL)
		next = turns[t->op](s);
	else {
		gen_say(s, fixed[t->op].client, fixed[t->op].line,
		    strlen(fixed[t->op].line));
		next = N_NEXT;
	}
	gen_use(NULL);
	switch (next) {
	case N_NEXT:
		s->pc++;
		break;
	case N_AGAIN:
		break;
	case N_JUMP:
		for (i = 0; s->script[i].op != t->jump; i++)
			if (s->script[i].op == O_END) {
				fprintf(stderr, "gen-smtp-pcap: a script jumps "
				    "to an op it does not have\n");
				exit(1);
			}
		s->pc = i;
		break;
	}
}

/* The greeting alone (the concurrent mode's sessions stop there). */
void
gen_greet(struct sess *s)
{
	(void)t_greet(s);
}
