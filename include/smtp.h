/*
 * smtp.h - the SMTP session parser and the rule engine.
 *
 * Pure: bytes in, events out. Nothing here reads a clock, a socket, a
 * file or a global; the caller passes the packet time with every chunk.
 * This header needs only libc and (for the rules) libpcre2-8.
 */
#ifndef WIREBAN_SMTP_H
#define WIREBAN_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Who sent the bytes. */
enum smtp_dir {
	SMTP_FROM_CLIENT = 0,
	SMTP_FROM_SERVER = 1,
};

/*
 * Commands, as queued for pairing with replies. SMTP_CMD_NONE answers
 * nothing (greeting, unsolicited reply). SMTP_CMD_EOM is the pseudo
 * command "end of message" (the final dot of DATA), SMTP_CMD_AUTH_DATA a
 * client response to a 334 challenge, SMTP_CMD_LOST a command whose
 * details were dropped because the pipeline queue was full. The list is
 * smtp/commands.def, the one table the names, the verbs and the rule
 * words are made from too.
 */
enum smtp_cmd {
#define SMTP_CMD(id, verb, rule) SMTP_CMD_##id,
#include "../smtp/commands.def"
	SMTP_CMD_COUNT
};

enum smtp_ev {
	SMTP_EV_COMMAND,	/* cmd, arg */
	SMTP_EV_REPLY,		/* code, text, cmd answered, arg */
	SMTP_EV_TLS,		/* tls: the session is encrypted from here */
	SMTP_EV_DATA_START,	/* message content begins (354, or BDAT) */
	SMTP_EV_DATA_END,	/* content ended; size = bytes of content */
	SMTP_EV_ANOMALY,	/* anomaly, with cmd/arg/text for context */
	SMTP_EV_END,		/* smtp_end(): the session is over */
};

enum smtp_anomaly {
	SMTP_AN_NONE = 0,
	SMTP_AN_LINE_TOO_LONG,	/* a line was cut at the limit */
	SMTP_AN_INVALID_REPLY,	/* a server line that is no reply */
	SMTP_AN_UNPAIRED_REPLY,	/* a reply with nothing pending */
	SMTP_AN_QUEUE_OVERFLOW,	/* too many pipelined commands */
	SMTP_AN_EARLY_TALKER,	/* client spoke before the greeting */
	SMTP_AN_NUL_BYTES,	/* NUL in a command line */
	SMTP_AN_BAD_BDAT,	/* BDAT size missing or malformed */
	SMTP_AN_CODE_MISMATCH,	/* lines of one reply carry other codes */
	SMTP_AN_STARTTLS_INJECTION, /* plaintext pipelined after STARTTLS */
	SMTP_AN_COUNT
};

enum smtp_tls {
	SMTP_TLS_NONE = 0,
	SMTP_TLS_STARTTLS,
	SMTP_TLS_IMPLICIT,
};

/* Reply flags. */
#define SMTP_F_GREETING		0x01	/* the server's first reply */
#define SMTP_F_UNSOLICITED	0x02	/* no command was pending */
#define SMTP_F_TRUNCATED	0x04	/* text or a line was cut */
#define SMTP_F_MULTILINE	0x08	/* more than one line */

/*
 * One event. Pointers are valid only during the callback; copy what you
 * keep. Text of a multi-line reply is every line's text (after "NNN-" or
 * "NNN ") joined by '\n'. arg never holds credentials: AUTH keeps only
 * its mechanism, AUTH_DATA none.
 */
struct smtp_event {
	enum smtp_ev	 type;
	enum smtp_dir	 dir;		/* the side whose bytes caused it */
	wb_usec		 ts;
	enum smtp_cmd	 cmd;
	const char	*arg;
	size_t		 arg_len;
	int		 code;
	const char	*text;
	size_t		 text_len;
	unsigned	 flags;
	enum smtp_anomaly anomaly;
	enum smtp_tls	 tls;
	uint64_t	 size;
};

typedef void smtp_cb(const struct smtp_event *ev, void *arg);

/* Bounds; zero fields take the defaults. */
struct smtp_limits {
	size_t line_max;	/* default 4096 bytes */
};

#define SMTP_LINE_MAX_DEFAULT	4096
#define SMTP_HELO_MAX		128

/* What a session looked like, for the "session" event. */
struct smtp_summary {
	char		 helo[SMTP_HELO_MAX];	/* last HELO/EHLO argument */
	enum smtp_tls	 tls;
	unsigned	 commands;
	unsigned	 replies;
	unsigned	 rejects;	/* 4xx and 5xx replies */
	unsigned	 anomalies;
	unsigned	 messages;	/* contents that ended */
	bool		 greeted;
};

struct smtp_session;

/*
 * Creates a session. limits may be NULL. Returns NULL when out of memory.
 * The caller frees it with smtp_session_free() (NULL is a no-op).
 */
struct smtp_session *smtp_session_new(const struct smtp_limits *limits);
void smtp_session_free(struct smtp_session *s);

/*
 * Feeds len bytes the dir side sent at time ts. Calls cb(ev, arg) for
 * every event, in order, before it returns. Chunking never changes the
 * events: feeding a stream whole or one byte at a time gives the same
 * sequence. Never fails: malformed input yields anomaly events.
 */
void smtp_feed(struct smtp_session *s, enum smtp_dir dir, const void *bytes,
    size_t len, wb_usec ts, smtp_cb *cb, void *arg);

/*
 * Ends the session: a partial last line is handled as if it had ended,
 * then SMTP_EV_END is sent. Feeding after this is ignored.
 */
void smtp_end(struct smtp_session *s, wb_usec ts, smtp_cb *cb, void *arg);

/* The session's summary so far; valid until the session is freed. */
const struct smtp_summary *smtp_summary(const struct smtp_session *s);

/*
 * Commands the client sent that the server has not answered yet (the
 * end of a message included): 0 when the session waits for the client.
 */
size_t smtp_pending(const struct smtp_session *s);

/*
 * The parser's state machine: how it reads the client's next bytes (and,
 * in the TLS states, whether it reads the server's at all). Exposed for
 * tests and for tracing a fuzz input; the events say all a consumer
 * needs. COMMAND is the first state. END is final, TLS leads only to
 * END, and TLS_CLIENT only to TLS or END.
 */
enum smtp_state {
	SMTP_S_COMMAND,		/* command lines */
	SMTP_S_AUTH,		/* the next line answers a 334 challenge */
	SMTP_S_DATA,		/* message content up to CRLF.CRLF */
	SMTP_S_BDAT,		/* exactly the BDAT size of content */
	SMTP_S_TLS_CLIENT,	/* implicit TLS: the client is opaque, the
				 * server read until it answers in TLS */
	SMTP_S_TLS,		/* both directions are opaque */
	SMTP_S_END,		/* smtp_end() was called */
	SMTP_S_COUNT
};

typedef void smtp_trace_cb(enum smtp_state from, enum smtp_state to,
    void *arg);

/* The current state. */
enum smtp_state smtp_session_state(const struct smtp_session *s);

/*
 * Calls cb(from, to, arg) at every change of state from now on, from
 * inside smtp_feed() or smtp_end(); cb NULL stops it. For diagnostics:
 * the parser's events do not depend on it.
 */
void smtp_session_trace(struct smtp_session *s, smtp_trace_cb *cb,
    void *arg);

const char *smtp_cmd_name(enum smtp_cmd c);
const char *smtp_anomaly_name(enum smtp_anomaly a);
const char *smtp_tls_name(enum smtp_tls t);
/* "COMMAND", "DATA", ...; "?" for a value out of range. */
const char *smtp_state_name(enum smtp_state st);

/* ---- rules ------------------------------------------------------------ */

#define SMTP_RULE_NAME_MAX 32

/*
 * A rule, as seen from outside. code is the text of the code condition
 * ("5xx", "550", "535,503,504"), command the command condition ("any",
 * "RCPT", "MAIL,RCPT", "greeting", "EOM"), pattern the PCRE2 source.
 */
struct smtp_rule_info {
	const char	*name;
	const char	*code;
	const char	*command;
	const char	*pattern;
	int		 weight;
	bool		 offence;
	bool		 builtin;
};

struct smtp_rules;

/*
 * An empty rule set (builtin false) or one holding the exim pack. Returns
 * NULL when out of memory; free with smtp_rules_free() (NULL is a no-op).
 */
struct smtp_rules *smtp_rules_new(bool builtin);
void smtp_rules_free(struct smtp_rules *r);

/*
 * Sets key (code, command, pattern, weight, offence) of rule name to
 * value, creating the rule when it does not exist (a new rule starts as
 * code 5xx, command any, empty pattern (matches all), weight 1, offence
 * yes, and is tried before the built-in ones). Returns 0, or -1 with a
 * message in err (errlen bytes) naming the key and what is wrong.
 */
int smtp_rules_set(struct smtp_rules *r, const char *name, const char *key,
    const char *value, char *err, size_t errlen);

/*
 * The first rule that matches a SMTP_EV_REPLY event, or NULL. Rules are
 * tried user rules first, then built-ins, each in order of definition.
 * Only 4xx and 5xx replies are matched. A pattern is matched under
 * PCRE2 limits (backtracking steps, depth, JIT stack): a rule that hits
 * one does not match that reply, the rules after it are still tried,
 * and the hit is counted (smtp_rules_limit_hits).
 */
const struct smtp_rule_info *smtp_rules_match(struct smtp_rules *r,
    const struct smtp_event *reply);

/* The number of rules, and rule i (0 <= i < count) in match order. */
size_t smtp_rules_count(const struct smtp_rules *r);
const struct smtp_rule_info *smtp_rules_get(const struct smtp_rules *r,
    size_t i);

/*
 * How many replies rule i (as in smtp_rules_get) gave up on at a PCRE2
 * limit since it was made; 0 for i out of range. A count above 0 means
 * its pattern is too costly for some reply texts and classified them as
 * not matching.
 */
uint64_t smtp_rules_limit_hits(const struct smtp_rules *r, size_t i);

#endif
