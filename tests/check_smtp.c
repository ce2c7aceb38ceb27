/*
 * check_smtp.c - the SMTP parser, as tables (the rule engine's tests are
 * check_rules.c).
 *
 * Each parser case is a conversation (steps: who sends which bytes, in
 * order) and the events it must give, one per line in a small text form:
 *
 *   C VERB arg                     a command
 *   R code VERB arg [flags] | text a reply and the command it answers
 *   A name                         an anomaly
 *   TLS mode, DS, DE VERB size, END
 *
 * Every case runs three ways: each step whole, each step one byte at a
 * time, and each step in pseudo-random chunks (fixed seeds). The events
 * must be the same every way: chunking never changes what the parser
 * says. Expected events are written from RFC 5321 and exim's behaviour,
 * one reason per case in its name and comments.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

#define C2S SMTP_FROM_CLIENT
#define S2C SMTP_FROM_SERVER

struct step {
	enum smtp_dir	 dir;
	const char	*bytes;
	size_t		 len;		/* 0: strlen(bytes) */
};

struct pcase {
	const char	*name;
	struct step	 steps[24];
	const char	*expect;	/* events, '\n'-separated */
};

/* ---- rendering events as text ----------------------------------------- */

struct out {
	char	*buf;
	size_t	 len, cap;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = realloc(o->buf, o->cap);
		ck_assert_ptr_nonnull(o->buf);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* Printable: \n for newlines, \xNN for other control bytes. */
static void
out_esc(struct out *o, const char *s, size_t n)
{
	char b[8];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			out_str(o, "\\n");
		else if (c < 0x20 || c >= 0x7f) {
			snprintf(b, sizeof(b), "\\x%02x", c);
			out_str(o, b);
		} else
			out_add(o, (const char *)&c, 1);
	}
}

static void
render(const struct smtp_event *ev, void *arg)
{
	struct out *o = arg;
	char b[64];

	switch (ev->type) {
	case SMTP_EV_COMMAND:
		out_str(o, "C ");
		out_str(o, smtp_cmd_name(ev->cmd));
		if (ev->arg_len > 0) {
			out_str(o, " ");
			out_esc(o, ev->arg, ev->arg_len);
		}
		if (ev->flags & SMTP_F_TRUNCATED)
			out_str(o, " +cut");
		break;
	case SMTP_EV_REPLY:
		snprintf(b, sizeof(b), "R %d %s", ev->code,
		    smtp_cmd_name(ev->cmd));
		out_str(o, b);
		if (ev->arg_len > 0) {
			out_str(o, " ");
			out_esc(o, ev->arg, ev->arg_len);
		}
		if (ev->flags & SMTP_F_GREETING)
			out_str(o, " +greeting");
		if (ev->flags & SMTP_F_UNSOLICITED)
			out_str(o, " +unsolicited");
		if (ev->flags & SMTP_F_TRUNCATED)
			out_str(o, " +cut");
		if (ev->flags & SMTP_F_MULTILINE)
			out_str(o, " +multi");
		out_str(o, " | ");
		out_esc(o, ev->text, ev->text_len);
		break;
	case SMTP_EV_ANOMALY:
		out_str(o, "A ");
		out_str(o, smtp_anomaly_name(ev->anomaly));
		break;
	case SMTP_EV_TLS:
		out_str(o, "TLS ");
		out_str(o, smtp_tls_name(ev->tls));
		break;
	case SMTP_EV_DATA_START:
		out_str(o, "DS");
		break;
	case SMTP_EV_DATA_END:
		snprintf(b, sizeof(b), "DE %s %llu", smtp_cmd_name(ev->cmd),
		    (unsigned long long)ev->size);
		out_str(o, b);
		break;
	case SMTP_EV_END:
		out_str(o, "END");
		break;
	}
	out_str(o, "\n");
}

/* ---- running a case three ways ---------------------------------------- */

enum chunking { WHOLE, BYTES, RANDOM };

/* A state change, as "FROM>TO". */
static void
render_state(enum smtp_state from, enum smtp_state to, void *arg)
{
	struct out *o = arg;

	out_str(o, smtp_state_name(from));
	out_str(o, ">");
	out_str(o, smtp_state_name(to));
	out_str(o, "\n");
}

static void
ignore(const struct smtp_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static uint32_t
next_rand(uint32_t *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 16) & 0x7fff;
}

/* The events, or with states set only the state changes, as text. */
static char *
run_case(const struct pcase *c, enum chunking how, uint32_t seed,
    bool states)
{
	struct smtp_session *s = smtp_session_new(NULL);
	smtp_cb *render_cb = states ? ignore : render;
	struct out o = { 0 };
	const struct step *st;
	size_t i, off, n, len;

	ck_assert_ptr_nonnull(s);
	out_str(&o, "");
	if (states)
		smtp_session_trace(s, render_state, &o);
	for (i = 0; i < 24 && c->steps[i].bytes != NULL; i++) {
		st = &c->steps[i];
		len = st->len ? st->len : strlen(st->bytes);
		for (off = 0; off < len; off += n) {
			if (how == WHOLE)
				n = len;
			else if (how == BYTES)
				n = 1;
			else
				n = 1 + next_rand(&seed) % 7;
			if (n > len - off)
				n = len - off;
			smtp_feed(s, st->dir, st->bytes + off, n,
			    (wb_usec)i, render_cb, &o);
		}
	}
	smtp_end(s, 99, render_cb, &o);
	/* After the end nothing changes, nor is reported. */
	smtp_feed(s, C2S, "NOOP\r\n", 6, 100, render_cb, &o);
	smtp_end(s, 101, render_cb, &o);
	ck_assert_int_eq(smtp_session_state(s), SMTP_S_END);
	smtp_session_free(s);
	return o.buf;
}

static void
check_run(const struct pcase *c, bool states)
{
	static const uint32_t seeds[] = { 1, 7, 42, 1234, 99991 };
	char *got;
	size_t i;

	got = run_case(c, WHOLE, 0, states);
	ck_assert_msg(strcmp(got, c->expect) == 0,
	    "case %s (whole):\n--- expected\n%s--- got\n%s", c->name,
	    c->expect, got);
	free(got);
	got = run_case(c, BYTES, 0, states);
	ck_assert_msg(strcmp(got, c->expect) == 0,
	    "case %s (byte by byte):\n--- expected\n%s--- got\n%s", c->name,
	    c->expect, got);
	free(got);
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		got = run_case(c, RANDOM, seeds[i], states);
		ck_assert_msg(strcmp(got, c->expect) == 0,
		    "case %s (random chunks, seed %u):\n--- expected\n%s"
		    "--- got\n%s", c->name, seeds[i], c->expect, got);
		free(got);
	}
}

static void
check_case(const struct pcase *c)
{
	check_run(c, false);
}

#define CL(s) { C2S, s, 0 }
#define SV(s) { S2C, s, 0 }
#define CLN(s) { C2S, s, sizeof(s) - 1 }	/* bytes with NULs */
#define SVN(s) { S2C, s, sizeof(s) - 1 }

#define GREET	SV("220 mx.example.org ESMTP Exim 4.96 Fri, 27 Nov 2026\r\n")
#define GREET_R	"R 220 NONE +greeting | mx.example.org ESMTP Exim 4.96 " \
		"Fri, 27 Nov 2026\n"

#include "smtp_cases.h"

START_TEST(test_parser_case)
{
	check_case(&parser_cases[_i]);
}
END_TEST

/*
 * Over-long lines, built at run time (too big for the table), run the
 * same three ways. A 5000-byte client line is cut at 4096 and handed on
 * once, flagged; its rest up to the LF is dropped; the next line is
 * whole. The event keeps ARG_MAX (123) bytes of the argument. A server
 * line over the limit is cut too and its reply still pairs.
 */
START_TEST(test_long_lines_cut)
{
	static char cl[5000 + 64], sv[5000 + 64], exp[8192];
	struct pcase c = { .name = "long_lines_cut" };
	size_t n;

	memset(cl, 'A', 5000);
	memcpy(cl + 5000, "\r\nNOOP\r\n", 9);
	memcpy(sv, "250 ok\r\n550 ", 12);
	memset(sv + 12, 'x', 5000);
	memcpy(sv + 5012, "\r\n", 3);
	c.steps[0] = (struct step)GREET;
	c.steps[1] = (struct step){ C2S, cl, 0 };
	c.steps[2] = (struct step){ S2C, sv, 0 };
	n = (size_t)snprintf(exp, sizeof(exp), "%sA line_too_long\nC UNKNOWN ",
	    GREET_R);
	memset(exp + n, 'A', 123);
	n += 123;
	n += (size_t)snprintf(exp + n, sizeof(exp) - n, " +cut\nC NOOP\n"
	    "R 250 UNKNOWN %.123s | ok\nA line_too_long\nR 550 NOOP +cut | ",
	    cl);
	memset(exp + n, 'x', 4092);	/* 4096 bytes cut, less "550 " */
	n += 4092;
	snprintf(exp + n, sizeof(exp) - n, "\nEND\n");
	c.expect = exp;
	check_case(&c);
}
END_TEST

/* The summary the "session" event is made of. */

START_TEST(test_summary)
{
	struct smtp_session *s = smtp_session_new(NULL);
	const struct smtp_summary *sum;
	static const char cl[] = "EHLO mail.client.test\r\n"
	    "AUTH LOGIN\r\ndXNlcg==\r\nMAIL FROM:<a@b>\r\n"
	    "RCPT TO:<c@d>\r\nDATA\r\nhi\r\n.\r\nSTARTTLS\r\n";
	static const char sv[] = "220 hi\r\n250 ok\r\n334 UGFzcw==\r\n"
	    "535 Incorrect authentication data\r\n250 ok\r\n"
	    "550 Unknown user\r\n";

	smtp_feed(s, S2C, sv, 6 + 2, 0, ignore, NULL);
	smtp_feed(s, C2S, cl, 23, 0, ignore, NULL);	/* EHLO */
	smtp_feed(s, S2C, sv + 8, 8, 0, ignore, NULL);
	smtp_feed(s, C2S, cl + 23, 12, 0, ignore, NULL);	/* AUTH */
	smtp_feed(s, S2C, sv + 16, 14, 0, ignore, NULL);	/* 334 */
	smtp_feed(s, C2S, cl + 35, 10, 0, ignore, NULL);	/* secret */
	smtp_feed(s, S2C, sv + 30, sizeof(sv) - 31, 0, ignore, NULL);
	smtp_feed(s, C2S, cl + 45, sizeof(cl) - 46, 0, ignore, NULL);
	smtp_end(s, 1, ignore, NULL);
	sum = smtp_summary(s);
	ck_assert_str_eq(sum->helo, "mail.client.test");
	ck_assert_int_eq(sum->tls, SMTP_TLS_NONE);
	/* EHLO AUTH MAIL RCPT DATA hi . STARTTLS: the AUTH response is not
	 * a command; DATA got no 354, so "hi" and "." are commands. */
	ck_assert_uint_eq(sum->commands, 8);
	ck_assert_uint_eq(sum->replies, 6);
	ck_assert_uint_eq(sum->rejects, 2);
	ck_assert(sum->greeted);
	smtp_feed(s, C2S, "NOOP\r\n", 6, 2, ignore, NULL); /* ignored */
	ck_assert_uint_eq(smtp_summary(s)->commands, 8);
	smtp_session_free(s);
}
END_TEST

/* ---- the state machine ------------------------------------------------ */

/* Every state has a name of its own; a value out of range prints "?". */
START_TEST(test_state_names)
{
	const char *name = smtp_state_name((enum smtp_state)_i);
	int j;

	ck_assert_str_ne(name, "?");
	for (j = 0; j < _i; j++)
		ck_assert_str_ne(smtp_state_name((enum smtp_state)j), name);
	ck_assert_str_eq(smtp_state_name(SMTP_S_COUNT), "?");
}
END_TEST

/*
 * Conversations and the state changes they make, "FROM>TO" per line,
 * run the same three ways as the parser cases: chunking never moves a
 * change. Every session ends with a change to END.
 */
static const struct pcase state_cases[] = {
{ "no_change_before_end", {
	GREET, CL("EHLO c\r\n"), SV("250 ok\r\n") },
	"COMMAND>END\n" },
{ "auth_login_two_challenges", {
	GREET, CL("AUTH LOGIN\r\n"), SV("334 VXNlcm5hbWU6\r\n"),
	CL("dXNlcg==\r\n"), SV("334 UGFzc3dvcmQ6\r\n"), CL("cGFzcw==\r\n"),
	SV("235 ok\r\n"), CL("QUIT\r\n") },
	"COMMAND>AUTH\nAUTH>COMMAND\nCOMMAND>AUTH\nAUTH>COMMAND\n"
	"COMMAND>END\n" },
{ "data_then_command", {
	GREET, CL("DATA\r\n"), SV("354 go\r\n"), CL("hi\r\n.\r\nQUIT\r\n"),
	SV("250 ok\r\n221 bye\r\n") },
	"COMMAND>DATA\nDATA>COMMAND\nCOMMAND>END\n" },
{ "data_cut_off_ends_in_data", {
	GREET, CL("DATA\r\n"), SV("354 go\r\n"), CL("hi\r\n") },
	"COMMAND>DATA\nDATA>END\n" },
{ "bdat_chunks", {
	GREET, CL("BDAT 3\r\nabcBDAT 0 LAST\r\nBDAT 2 LAST\r\nxy") },
	"COMMAND>BDAT\nBDAT>COMMAND\nCOMMAND>BDAT\nBDAT>COMMAND\n"
	"COMMAND>END\n" },
{ "starttls", {
	GREET, CL("STARTTLS\r\n"), SV("220 go\r\n"), CLN("\x16\x03\x01 hi\r\n"),
	SV("250 fake\r\n") },
	"COMMAND>TLS\nTLS>END\n" },
{ "starttls_refused", {
	GREET, CL("STARTTLS\r\n"), SV("454 no\r\n") },
	"COMMAND>END\n" },
{ "implicit_tls_answered_in_tls", {
	CLN("\x16\x03\x01\x00\xc8\x01\r\n"), SVN("\x16\x03\x03\x00\x5a\r\n") },
	"COMMAND>TLS_CLIENT\nTLS_CLIENT>TLS\nTLS>END\n" },
{ "implicit_tls_to_plaintext_server", {
	SV("220 mx\r\n"), CLN("\x16\x03\x01\x00\xc8\x01\r\n"),
	SV("500 what\r\n") },
	"COMMAND>TLS_CLIENT\nTLS_CLIENT>END\n" },
};

START_TEST(test_state_case)
{
	check_run(&state_cases[_i], true);
}
END_TEST

/* ---- bounds: nothing grows with input --------------------------------- */

static void
count_events(const struct smtp_event *ev, void *arg)
{
	size_t *n = arg;

	if (ev->type == SMTP_EV_ANOMALY &&
	    ev->anomaly == SMTP_AN_LINE_TOO_LONG)
		n[0]++;
	if (ev->type == SMTP_EV_COMMAND)
		n[1]++;
	if (ev->type == SMTP_EV_REPLY)
		n[2]++;
	if (ev->type == SMTP_EV_COMMAND && ev->arg_len > n[3])
		n[3] = ev->arg_len;
}

/* A 1 MB line without LF: cut once at the limit, then all dropped. */
START_TEST(test_huge_line_bounded)
{
	struct smtp_session *s = smtp_session_new(NULL);
	static char junk[65536];
	size_t n[4] = { 0 };
	int i;

	memset(junk, 'A', sizeof(junk));
	smtp_feed(s, S2C, "220 hi\r\n", 8, 0, count_events, n);
	for (i = 0; i < 16; i++)
		smtp_feed(s, C2S, junk, sizeof(junk), 0, count_events, n);
	ck_assert_uint_eq(n[0], 1);	/* flagged once */
	ck_assert_uint_eq(n[1], 1);	/* handed on once, cut */
	smtp_feed(s, C2S, "\r\nQUIT\r\n", 8, 0, count_events, n);
	ck_assert_uint_eq(n[1], 2);	/* QUIT after the LF is a command */
	smtp_feed(s, S2C, "500 line too long\r\n221 bye\r\n", 28, 0,
	    count_events, n);
	ck_assert_uint_eq(n[2], 3);
	smtp_session_free(s);
}
END_TEST

/* The limit is configurable; at 16 bytes a 20-byte command is cut. */
START_TEST(test_line_limit_configurable)
{
	struct smtp_limits lim = { .line_max = 16 };
	struct smtp_session *s = smtp_session_new(&lim);
	size_t n[4] = { 0 };

	smtp_feed(s, S2C, "220 hi\r\n", 8, 0, count_events, n);
	smtp_feed(s, C2S, "MAIL FROM:<abcdefgh@x>\r\n", 24, 0,
	    count_events, n);
	ck_assert_uint_eq(n[0], 1);
	ck_assert_uint_eq(n[1], 1);
	ck_assert_uint_le(n[3], 16);
	smtp_session_free(s);
}
END_TEST

/* Pipelined RCPTs past the queue's cap: pairing holds, verbs are kept
 * for the first few thousand, and past that commands are counted only. */
struct last {
	enum smtp_cmd	 cmd;
	size_t		 replies, overflows;
};

static void
last_reply(const struct smtp_event *ev, void *arg)
{
	struct last *l = arg;

	if (ev->type == SMTP_EV_REPLY) {
		l->cmd = ev->cmd;
		l->replies++;
	}
	if (ev->type == SMTP_EV_ANOMALY &&
	    ev->anomaly == SMTP_AN_QUEUE_OVERFLOW)
		l->overflows++;
}

static void
pipeline_rcpts(int nrcpt, enum smtp_cmd last_rcpt, enum smtp_cmd quit)
{
	struct smtp_session *s = smtp_session_new(NULL);
	struct last l = { 0 };
	int i;

	smtp_feed(s, S2C, "220 hi\r\n", 8, 0, last_reply, &l);
	smtp_feed(s, C2S, "MAIL FROM:<a@b>\r\n", 17, 0, last_reply, &l);
	for (i = 0; i < nrcpt; i++)
		smtp_feed(s, C2S, "RCPT TO:<x@y>\r\n", 15, 0, last_reply,
		    &l);
	smtp_feed(s, C2S, "QUIT\r\n", 6, 0, last_reply, &l);
	ck_assert_uint_eq(l.overflows, 1);	/* flagged once */
	smtp_feed(s, S2C, "250 ok\r\n", 8, 0, last_reply, &l);
	ck_assert_int_eq(l.cmd, SMTP_CMD_MAIL);
	for (i = 0; i < nrcpt; i++)
		smtp_feed(s, S2C, "550 relay not permitted\r\n", 25, 0,
		    last_reply, &l);
	ck_assert_int_eq(l.cmd, last_rcpt);
	smtp_feed(s, S2C, "221 bye\r\n", 9, 0, last_reply, &l);
	ck_assert_int_eq(l.cmd, quit);
	smtp_feed(s, S2C, "421 extra\r\n", 11, 0, last_reply, &l);
	ck_assert_int_eq(l.cmd, SMTP_CMD_NONE);	/* nothing left pending */
	ck_assert_uint_eq(l.replies, (size_t)nrcpt + 4);
	smtp_session_free(s);
}

START_TEST(test_queue_cap_keeps_verbs)
{
	pipeline_rcpts(2000, SMTP_CMD_RCPT, SMTP_CMD_QUIT);
}
END_TEST

START_TEST(test_queue_cap_keeps_count)
{
	pipeline_rcpts(10000, SMTP_CMD_LOST, SMTP_CMD_LOST);
}
END_TEST

/* ---- the command table (smtp/commands.def) ---------------------------- */

/* The table itself, so each row is checked against the parser. */
static const struct {
	enum smtp_cmd	 cmd;
	const char	*name;
	bool		 verb;
} cmd_table[] = {
#define SMTP_CMD(id, verb, rule) { SMTP_CMD_##id, #id, verb },
#include "../smtp/commands.def"
};

static void
first_command(const struct smtp_event *ev, void *arg)
{
	enum smtp_cmd *c = arg;

	if (ev->type == SMTP_EV_COMMAND && *c == SMTP_CMD_COUNT)
		*c = ev->cmd;
}

/* Every row: its name prints, its verb (in any case) parses to it. */
START_TEST(test_cmd_table_verbs)
{
	enum smtp_cmd got = SMTP_CMD_COUNT;
	struct smtp_session *s = smtp_session_new(NULL);
	char line[64];
	size_t i;

	ck_assert_uint_eq(sizeof(cmd_table) / sizeof(cmd_table[0]),
	    SMTP_CMD_COUNT);
	ck_assert_int_eq(cmd_table[_i].cmd, _i);
	ck_assert_str_eq(smtp_cmd_name(cmd_table[_i].cmd), cmd_table[_i].name);
	snprintf(line, sizeof(line), "%s x\r\n", cmd_table[_i].name);
	for (i = 1; i < strlen(cmd_table[_i].name); i += 2)	/* mIxEd */
		line[i] = (char)(line[i] - 'A' + 'a');
	smtp_feed(s, S2C, "220 hi\r\n", 8, 0, ignore, NULL);
	smtp_feed(s, C2S, line, strlen(line), 0, first_command, &got);
	ck_assert_msg(got == (cmd_table[_i].verb ? cmd_table[_i].cmd :
	    SMTP_CMD_UNKNOWN), "'%s' parsed as %s", line, smtp_cmd_name(got));
	smtp_session_free(s);
}
END_TEST
static Suite *
smtp_suite(void)
{
	Suite *su = suite_create("smtp");
	TCase *tc;

	tc = tcase_create("parser");
	tcase_add_loop_test(tc, test_parser_case, 0,
	    sizeof(parser_cases) / sizeof(parser_cases[0]));
	suite_add_tcase(su, tc);

	tc = tcase_create("states");
	tcase_add_loop_test(tc, test_state_names, 0, SMTP_S_COUNT);
	tcase_add_loop_test(tc, test_state_case, 0,
	    sizeof(state_cases) / sizeof(state_cases[0]));
	suite_add_tcase(su, tc);

	tc = tcase_create("bounds");
	tcase_add_test(tc, test_long_lines_cut);
	tcase_add_test(tc, test_huge_line_bounded);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_line_limit_configurable);
	tcase_add_test(tc, test_queue_cap_keeps_verbs);
	tcase_add_test(tc, test_queue_cap_keeps_count);
	suite_add_tcase(su, tc);

	tc = tcase_create("commands");
	tcase_add_loop_test(tc, test_cmd_table_verbs, 0, SMTP_CMD_COUNT);
	suite_add_tcase(su, tc);

	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(smtp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
