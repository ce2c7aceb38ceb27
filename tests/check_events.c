/*
 * check_events.c - unit tests of the event writer (src/events.c): each
 * event's line, and strings made valid JSON and valid UTF-8 whatever
 * bytes an attacker put in a reply.
 *
 * The expected strings are worked out by hand from RFC 8259 (what must
 * be escaped) and RFC 3629 (what is valid UTF-8): quote, backslash and
 * the C0 controls are escaped (\n, \r, \t by name, the rest \u00XX),
 * DEL too; valid UTF-8 passes through; each byte of invalid UTF-8
 * (a lone continuation byte, an overlong form, a surrogate, a value past
 * U+10FFFF, a truncated sequence) becomes \u00XX, the code point of the
 * same value, so the output stays valid.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

#define N(a)	((int)(sizeof(a) / sizeof((a)[0])))

static char	*buf;
static size_t	 len;

/* The line an event wrote, through a memory stream. */
static const char *
run(void (*emit)(struct events *, const void *), const void *arg)
{
	struct events ev;
	FILE *fp;

	free(buf);
	buf = NULL;
	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(events_open(&ev, fp), 0);
	emit(&ev, arg);
	events_close(&ev);
	fclose(fp);
	return buf;
}

static struct sniff_conn
conn(void)
{
	struct sniff_conn c;

	memset(&c, 0, sizeof(c));
	(void)wb_addr_parse(&c.client, "192.0.2.7");
	(void)wb_addr_parse(&c.server, "2001:db8::1");
	c.client_port = 40312;
	c.server_port = 25;
	return c;
}

static const struct {
	const char	*in;
	size_t		 n;
	const char	*out;
} strs[] = {
	{ "relay not permitted", 19, "\"relay not permitted\"" },
	{ "", 0, "\"\"" },
	{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
	{ "l1\nl2\r\tx", 8, "\"l1\\nl2\\r\\tx\"" },
	{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
	{ "nul\0here", 8, "\"nul\\u0000here\"" },
	{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },		/* é */
	{ "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"" },		/* € */
	{ "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },	/* U+1F600 */
	{ "\x80x", 2, "\"\\u0080x\"" },			/* lone continuation */
	{ "\xc0\xaf", 2, "\"\\u00c0\\u00af\"" },		/* overlong '/' */
	{ "\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\"" },	/* overlong */
	{ "\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"" },	/* surrogate */
	{ "\xf4\x90\x80\x80", 4,
	    "\"\\u00f4\\u0090\\u0080\\u0080\"" },		/* > U+10FFFF */
	{ "\xe2\x82", 2, "\"\\u00e2\\u0082\"" },		/* truncated */
	{ "\xff\xfe", 2, "\"\\u00ff\\u00fe\"" },
};

static void
emit_text(struct events *ev, const void *arg)
{
	const int *i = arg;
	struct sniff_conn c = conn();
	struct smtp_event e;

	memset(&e, 0, sizeof(e));
	e.type = SMTP_EV_REPLY;
	e.code = 550;
	e.ts = 1732700000123456LL;
	e.text = strs[*i].in;
	e.text_len = strs[*i].n;
	e.arg = "";
	events_reject(ev, &c, &e, "RCPT", "relay", true);
}

START_TEST(test_strings)
{
	char want[256];
	const char *got = run(emit_text, &_i);

	(void)snprintf(want, sizeof(want), ",\"text\":%s,", strs[_i].out);
	ck_assert_msg(strstr(got, want) != NULL, "case %d: %s", _i, got);
}
END_TEST

static void
emit_reject(struct events *ev, const void *arg)
{
	struct sniff_conn c = conn();
	struct smtp_event e;

	(void)arg;
	memset(&e, 0, sizeof(e));
	e.type = SMTP_EV_REPLY;
	e.code = 554;
	e.ts = -1;	/* before the epoch: still six decimals */
	e.text = "SMTP synchronization error";
	e.text_len = strlen(e.text);
	e.arg = "";
	e.flags = SMTP_F_GREETING;
	events_reject(ev, &c, &e, NULL, NULL, false);
}

static void
emit_ban(struct events *ev, const void *arg)
{
	struct ban b;

	(void)arg;
	memset(&b, 0, sizeof(b));
	(void)wb_addr_parse(&b.addr, "2001:db8:1:2::");
	b.bits = 64;
	snprintf(b.rule, sizeof(b.rule), "relay");
	b.score = 3;
	b.count = 2;
	b.start = 1732700000000000LL;
	b.expiry = b.start + 7200 * WB_USEC_PER_SEC;
	events_ban(ev, &b, b.start);
}

static void
emit_session(struct events *ev, const void *arg)
{
	struct sniff_conn c = conn();
	struct smtp_summary sum;

	(void)arg;
	memset(&sum, 0, sizeof(sum));
	snprintf(sum.helo, sizeof(sum.helo), "probe.example");
	sum.commands = 7;
	sum.replies = 9;
	sum.rejects = 2;
	events_session(ev, &c, &sum, SNIFF_CLOSE_REPLACED, 1732700001000001LL);
}

START_TEST(test_lines)
{
	ck_assert_str_eq(run(emit_reject, NULL),
	    "{\"event\":\"reject\",\"ts\":-1.999999,\"client\":\"192.0.2.7\","
	    "\"client_port\":40312,\"server\":\"2001:db8::1\","
	    "\"server_port\":25,\"command\":null,\"arg\":\"\",\"code\":554,"
	    "\"text\":\"SMTP synchronization error\",\"rule\":null,"
	    "\"offence\":false,\"greeting\":true}\n");
	ck_assert_str_eq(run(emit_ban, NULL),
	    "{\"event\":\"ban\",\"ts\":1732700000.000000,"
	    "\"client\":\"2001:db8:1:2::/64\",\"rule\":\"relay\",\"score\":3,"
	    "\"duration\":7200,\"count\":2}\n");
	ck_assert_str_eq(run(emit_session, NULL),
	    "{\"event\":\"session\",\"ts\":1732700001.000001,"
	    "\"client\":\"192.0.2.7\",\"client_port\":40312,"
	    "\"server\":\"2001:db8::1\",\"server_port\":25,"
	    "\"helo\":\"probe.example\",\"tls\":\"none\",\"commands\":7,"
	    "\"replies\":9,\"rejects\":2,\"closed\":\"replaced\"}\n");
}
END_TEST

/* A long reply (past the buffer's flush mark) still comes out whole. */
static void
emit_long(struct events *ev, const void *arg)
{
	static char text[300000];
	struct sniff_conn c = conn();
	struct smtp_event e;

	(void)arg;
	memset(text, '"', sizeof(text));
	memset(&e, 0, sizeof(e));
	e.code = 550;
	e.text = text;
	e.text_len = sizeof(text);
	e.arg = "";
	events_reject(ev, &c, &e, "RCPT", "relay", true);
	events_reject(ev, &c, &e, "RCPT", "relay", true);
}

START_TEST(test_long)
{
	const char *got = run(emit_long, NULL);
	const char *nl = strchr(got, '\n');

	ck_assert_ptr_nonnull(nl);
	/* each '"' is 2 bytes escaped */
	ck_assert_uint_gt((size_t)(nl - got), 600000);
	ck_assert_ptr_nonnull(strchr(nl + 1, '\n'));
	ck_assert_uint_eq(strlen(got), 2 * (size_t)(nl + 1 - got));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("events");
	TCase *t = tcase_create("events");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(t, test_strings, 0, N(strs));
	tcase_add_test(t, test_lines);
	tcase_add_test(t, test_long);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(buf);
	return failed == 0 ? 0 : 1;
}
