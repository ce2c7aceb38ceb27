/*
 * smtp_int.h - the session's insides, shared by the files of smtp/ only.
 *
 * Invariant: nothing in a session grows with its input. The line buffers
 * stop at line_max, the reply text at line_max, the pipeline queue at
 * QUEUE_MAX entries (then only a count of lost commands), and every one
 * of them is allocated only when first needed, so an idle session costs
 * sizeof(struct smtp_session) and nothing more.
 */
#ifndef WIREBAN_SMTP_INT_H
#define WIREBAN_SMTP_INT_H

#include "smtp.h"

/*
 * Commands remembered in full for pairing. Real clients pipeline one
 * envelope (MAIL, some RCPTs, DATA); 128 covers a spammer's 100-RCPT
 * burst. Past it, the next LOST_MAX commands keep only their verb (one
 * byte each, so a relay probe pipelined deep is still seen as RCPT), and
 * past that a command is only counted (SMTP_CMD_LOST): the replies that
 * follow still pair with the right place in the queue.
 */
#define QUEUE_MIN	4
#define QUEUE_MAX	128
#define LOST_MAX	4096
#define ARG_MAX		123	/* command argument kept for the event */

#define PEND_TENTATIVE	0x01	/* sent after an unanswered DATA */
#define PEND_DOT	0x02	/* the line was "." */

struct pending {
	uint8_t		 cmd;
	uint8_t		 flags;
	uint8_t		 arg_len;
	char		 arg[ARG_MAX + 2];
};

struct queue {
	struct pending	*v;		/* ring, cap entries; NULL until used */
	uint16_t	 head, len, cap;
	uint8_t		*verbs;		/* ring of LOST_MAX verbs, after v */
	uint16_t	 vhead, vlen;
	uint32_t	 lost;		/* counted only, after verbs */
};

/* One direction's partial line. */
struct linebuf {
	char		*buf;		/* NULL until a line spans chunks */
	size_t		 len, cap;
	bool		 skipping;	/* cut at the limit: drop up to LF */
};

/* Where the DATA scanner stands within a content line. */
enum dot_state {
	DOT_LINE_START,
	DOT_SEEN,		/* "." at the start of a line */
	DOT_CR,			/* ".\r", more CRs allowed */
	DOT_MID,		/* anywhere else in a line */
};

struct smtp_session {
	enum smtp_state	 state;		/* set by smtp_enter_state() only */
	size_t		 line_max;
	struct linebuf	 lb[2];
	struct queue	 q;

	/* server side: the reply being assembled */
	char		*text;		/* NULL until a reply spans lines */
	size_t		 text_len, text_cap;
	int		 reply_code;
	bool		 reply_open;	/* a "NNN-" line was seen */
	bool		 reply_cut;
	unsigned	 reply_lines;

	/* client side */
	uint8_t		 probe[3];	/* first client bytes, TLS test */
	uint8_t		 probe_len;
	bool		 client_started;/* first bytes classified */
	bool		 server_started;
	bool		 early_reported;
	unsigned	 data_pending;	/* DATA commands not yet answered */
	enum dot_state	 dot;
	size_t		 dot_len;	/* bytes of a possible ".\r\n" */
	uint64_t	 msg_size;
	uint64_t	 bdat_left;
	bool		 bdat_last;
	bool		 in_bdat;	/* a BDAT message is under way */

	struct smtp_summary sum;

	smtp_trace_cb	*trace;		/* smtp_session_trace() */
	void		*trace_arg;

	/* the current smtp_feed() call */
	smtp_cb		*cb;
	void		*cbarg;
	wb_usec		 ts;
};

/* queue.c */
bool smtp_q_push(struct queue *q, enum smtp_cmd cmd, unsigned flags,
    const char *arg, size_t arg_len, bool *overflowed);
bool smtp_q_pop(struct queue *q, struct pending *out);
struct pending *smtp_q_at(struct queue *q, size_t i);
void smtp_q_drop_head(struct queue *q);
void smtp_q_clear(struct queue *q);
void smtp_q_free(struct queue *q);

/* server.c */
void smtp_server_line(struct smtp_session *s, const char *line, size_t len,
    bool cut);
void smtp_server_flush(struct smtp_session *s);

/* client.c */
void smtp_client_line(struct smtp_session *s, const char *line, size_t len,
    bool cut);

/* session.c */
void smtp_emit(struct smtp_session *s, struct smtp_event *ev);
void smtp_anomaly(struct smtp_session *s, enum smtp_dir dir,
    enum smtp_anomaly a, const char *text, size_t len);
void smtp_enter_state(struct smtp_session *s, enum smtp_state st);
void smtp_enter_data(struct smtp_session *s);
void smtp_end_content(struct smtp_session *s, enum smtp_cmd cmd);
void smtp_start_bdat(struct smtp_session *s, uint64_t n, bool last);

#endif
