/*
 * check_crowdsec.c - unit tests of the crowdsec backend's pure parts
 * (bans/fw_crowdsec*.c): the request bodies against golden JSON, the
 * strict reader on hostile replies, RFC 3339 times, the token's renewal
 * under a fake clock, the backoff schedule and the verdicts, the table
 * of pending work. The spool and the backend against a fake LAPI are
 * check_crowdsec_lapi.c's; the real LAPI is tests/t-crowdsec.sh's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bans.h"
#include "../bans/fw_crowdsec.h"
#include "bans_fixture.h"
#include "cs_fixture.h"

/* ---- JSON out ----------------------------------------------------------- */

static const struct {
	const char	*addr;
	int		 bits;
	const char	*rule;
	int		 score;
	unsigned	 count;
	wb_usec		 len, at;	/* ban length; posted at T0 + at */
	const char	*json;		/* NULL: not sent (expired) */
} alerts[] = {
	{ "192.0.2.7", 32, "relay", 3, 1, S(3600), 10500000,
	  "{\"scenario\":\"wireban/smtp-abuse\",\"scenario_hash\":\"\","
	  "\"scenario_version\":\"\",\"message\":\"wireban: 192.0.2.7 banned "
	  "for SMTP abuse (rule relay, score 3, ban #1)\",\"events_count\":3,"
	  "\"start_at\":\"2023-11-14T22:13:20Z\",\"stop_at\":"
	  "\"2023-11-14T22:13:30Z\",\"capacity\":0,\"leakspeed\":\"0\","
	  "\"simulated\":false,\"events\":[{\"timestamp\":"
	  "\"2023-11-14T22:13:20Z\",\"meta\":[{\"key\":\"service\",\"value\":"
	  "\"smtp\"},{\"key\":\"rule\",\"value\":\"relay\"}]}],\"source\":"
	  "{\"scope\":\"Ip\",\"value\":\"192.0.2.7\",\"ip\":\"192.0.2.7\"},"
	  "\"decisions\":[{\"type\":\"ban\",\"scope\":\"Ip\",\"value\":"
	  "\"192.0.2.7\",\"duration\":\"3590000ms\",\"origin\":\"wireban\","
	  "\"scenario\":\"wireban/smtp-abuse\"}]}" },
	/* A /64: scope Range, host bits cleared. */
	{ "2001:db8:1:2::99", 64, "unknown_user", 0, 2, S(3600), 0,
	  "{\"scenario\":\"wireban/smtp-abuse\",\"scenario_hash\":\"\","
	  "\"scenario_version\":\"\",\"message\":\"wireban: 2001:db8:1:2::/64 "
	  "banned for SMTP abuse (rule unknown_user, score 0, ban #2)\","
	  "\"events_count\":1,\"start_at\":\"2023-11-14T22:13:20Z\","
	  "\"stop_at\":\"2023-11-14T22:13:20Z\",\"capacity\":0,\"leakspeed\":"
	  "\"0\",\"simulated\":false,\"events\":[{\"timestamp\":"
	  "\"2023-11-14T22:13:20Z\",\"meta\":[{\"key\":\"service\",\"value\":"
	  "\"smtp\"},{\"key\":\"rule\",\"value\":\"unknown_user\"}]}],"
	  "\"source\":{\"scope\":\"Range\",\"value\":\"2001:db8:1:2::/64\","
	  "\"range\":\"2001:db8:1:2::/64\"},\"decisions\":[{\"type\":\"ban\","
	  "\"scope\":\"Range\",\"value\":\"2001:db8:1:2::/64\",\"duration\":"
	  "\"3600000ms\",\"origin\":\"wireban\",\"scenario\":"
	  "\"wireban/smtp-abuse\"}]}" },
	/* Less than a second left once stop_at is cut: not sent. */
	{ "192.0.2.8", 32, "relay", 1, 1, 9500000, 9200000, NULL },
	{ "192.0.2.9", 32, "relay", 1, 1, S(10), S(20), NULL },
};

START_TEST(test_json_alert)
{
	struct cs_alert_conf c = { "wireban/smtp-abuse", "wireban" };
	struct ban b = mkban(alerts[_i].addr, alerts[_i].rule, T0,
	    alerts[_i].len, alerts[_i].count, alerts[_i].score);
	struct ban_buf o;
	struct cs_reply r;
	const char *why;
	int rc;

	b.bits = (uint8_t)alerts[_i].bits;
	ban_buf_init(&o, 1 << 16);
	rc = ban_cs_json_alert(&o, &c, &b, T0 + alerts[_i].at);
	if (alerts[_i].json == NULL) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(o.len, 0);
	} else {
		ck_assert_int_eq(rc, 1);
		ck_assert_str_eq(o.p, alerts[_i].json);
		ck_assert_int_eq(ban_cs_json_parse(o.p, o.len, &r, &why), 0);
	}
	ban_buf_free(&o);
}
END_TEST

/* What a rule name holds never breaks the JSON. */
START_TEST(test_json_escape)
{
	static const struct { const char *in, *out; } t[] = {
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "tab\there\nnl\x01", "\"tab\\there\\nnl\\u0001\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },
		{ "bad\xff\xc0\xaf\xed\xa0\x80!", "\"bad\\ufffd\\ufffd\\ufffd"
		    "\\ufffd\\ufffd\\ufffd!\"" },
		{ "cut\xe2\x82", "\"cut\\ufffd\\ufffd\"" },
		{ "", "\"\"" },
	};
	struct ban_buf o;
	struct cs_reply r;
	const char *why;
	char arr[256];
	size_t i;

	for (i = 0; i < N(t); i++) {
		ban_buf_init(&o, 4096);
		ban_cs_json_str(&o, t[i].in);
		ck_assert_str_eq(o.p, t[i].out);
		snprintf(arr, sizeof(arr), "[%s]", o.p);
		ck_assert_msg(ban_cs_json_parse(arr, strlen(arr), &r, &why) ==
		    0, "%s: %s", arr, why);
		ban_buf_free(&o);
	}
}
END_TEST

START_TEST(test_json_login_delete)
{
	struct ban b = pfx("2001:db8:1:2::", 64, T0, S(60));
	struct ban v4 = pfx("192.0.2.7", 32, T0, S(60));
	struct ban_buf o;
	char path[512];

	ban_buf_init(&o, 4096);
	ban_cs_json_login(&o, "wireban-mx1", "p\"w\\\n", "wireban/smtp-abuse");
	ck_assert_str_eq(o.p, "{\"machine_id\":\"wireban-mx1\",\"password\":"
	    "\"p\\\"w\\\\\\n\",\"scenarios\":[\"wireban/smtp-abuse\"]}");
	ban_buf_free(&o);
	/* The unban: no body, a DELETE by value and origin. */
	ban_cs_delete_path(path, sizeof(path), "wireban", &v4);
	ck_assert_str_eq(path, "/v1/decisions?type=ban&origin=wireban&value="
	    "192.0.2.7");
	ban_cs_delete_path(path, sizeof(path), "my origin&x", &b);
	ck_assert_str_eq(path, "/v1/decisions?type=ban&origin=my%20origin%26x"
	    "&value=2001%3Adb8%3A1%3A2%3A%3A%2F64");
}
END_TEST

/* ---- JSON in: hostile replies ----------------------------------------- */

static const struct {
	const char	*in;
	size_t		 len;		/* 0: strlen */
	int		 ok;
	const char	*token, *message;
	long		 code;		/* -1: none */
	size_t		 items;
} replies[] = {
	{ "{\"code\":200,\"expire\":\"2026-12-01T10:40:10Z\",\"token\":"
	  "\"a.b.c\"}", 0, 1, "a.b.c", NULL, 200, 0 },
	{ "{\"code\":401,\"message\":\"incorrect Username or Password\"}", 0,
	  1, NULL, "incorrect Username or Password", 401, 0 },
	{ " [\"1\",\"2\"]\r\n", 0, 1, NULL, NULL, -1, 2 },
	{ "{\"nbDeleted\":\"1\"}", 0, 1, NULL, NULL, -1, 0 },
	{ "{}", 0, 1, NULL, NULL, -1, 0 },
	{ "[]", 0, 1, NULL, NULL, -1, 0 },
	{ "{\"x\":{\"y\":[1,-2.5e+3,true,false,null,\"z\"]},\"code\":0}", 0,
	  1, NULL, NULL, 0, 0 },
	{ "{\"message\":\"\\ud83d\\ude00 \\u00e9\\/\"}", 0, 1, NULL,
	  "\?\?\?\? \?\?/", -1, 0 },
	{ "{\"x\":1e99999}", 0, 1, NULL, NULL, -1, 0 },
	/* truncated */
	{ "{\"code\":200,\"tok", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"code\":200", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"token\":\"abc", 0, 0, NULL, NULL, -1, 0 },
	{ "[\"1\",", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"a\":tru", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"a\":\"\\u12", 0, 0, NULL, NULL, -1, 0 },
	{ "", 0, 0, NULL, NULL, -1, 0 },
	{ "   ", 0, 0, NULL, NULL, -1, 0 },
	/* numbers */
	{ "{\"code\":1e400}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"code\":99999999999999999999}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"code\":1000}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"code\":-1}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"code\":200.0}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"code\":0200}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"x\":-}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"x\":1.}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"x\":.5}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"x\":+1}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"x\":NaN}", 0, 0, NULL, NULL, -1, 0 },
	/* wrong types */
	{ "{\"code\":\"200\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"token\":123}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"expire\":null}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":[\"x\"]}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"token\":{\"a\":1}}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"nbDeleted\":1}", 0, 0, NULL, NULL, -1, 0 },
	/* duplicate keys */
	{ "{\"token\":\"a\",\"token\":\"b\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"x\":1,\"y\":2,\"x\":3}", 0, 0, NULL, NULL, -1, 0 },
	/* NUL, raw or escaped */
	{ "{\"message\":\"a\0b\"}", 17, 0, NULL, NULL, -1, 0 },
	{ "{}\0", 3, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"a\\u0000b\"}", 0, 0, NULL, NULL, -1, 0 },
	/* invalid UTF-8 */
	{ "{\"message\":\"\xff\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"\xc0\xaf\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"\xed\xa0\x80\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"\xe2\x82\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"\xf4\x90\x80\x80\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "\xef\xbb\xbf{}", 0, 0, NULL, NULL, -1, 0 },
	/* escapes, controls */
	{ "{\"message\":\"\\x\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"\\ud800\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"\\udc00\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"\\ud800\\u0041\"}", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"message\":\"a\nb\"}", 0, 0, NULL, NULL, -1, 0 },
	/* shape */
	{ "{} x", 0, 0, NULL, NULL, -1, 0 },
	{ "{},", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"a\":1,}", 0, 0, NULL, NULL, -1, 0 },
	{ "[1,]", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"a\" 1}", 0, 0, NULL, NULL, -1, 0 },
	{ "{a:1}", 0, 0, NULL, NULL, -1, 0 },
	{ "{'a':1}", 0, 0, NULL, NULL, -1, 0 },
	{ "\"str\"", 0, 0, NULL, NULL, -1, 0 },
	{ "123", 0, 0, NULL, NULL, -1, 0 },
	{ "null", 0, 0, NULL, NULL, -1, 0 },
	{ "[True]", 0, 0, NULL, NULL, -1, 0 },
	{ "[nul]", 0, 0, NULL, NULL, -1, 0 },
	{ "{\"a\":1}{\"b\":2}", 0, 0, NULL, NULL, -1, 0 },
};

START_TEST(test_reader)
{
	size_t len = replies[_i].len ? replies[_i].len :
	    strlen(replies[_i].in), k;
	struct cs_reply r;
	const char *why = NULL;
	int rc;

	rc = ban_cs_json_parse(replies[_i].in, len, &r, &why);
	ck_assert_msg((rc == 0) == replies[_i].ok, "%s: %s", replies[_i].in,
	    rc == 0 ? "accepted" : why);
	if (rc != 0) {
		ck_assert_ptr_nonnull(why);
		ck_assert(!r.has_token && !r.has_code && !r.has_message);
		return;
	}
	ck_assert_int_eq(r.has_token, replies[_i].token != NULL);
	if (replies[_i].token != NULL)
		ck_assert_str_eq(r.token, replies[_i].token);
	if (replies[_i].message != NULL)
		ck_assert_str_eq(r.message, replies[_i].message);
	ck_assert_int_eq(r.has_code, replies[_i].code >= 0);
	if (replies[_i].code >= 0)
		ck_assert_int_eq(r.code, replies[_i].code);
	ck_assert_uint_eq(r.items, replies[_i].items);
	/* Every cut of a good reply short of its end is refused. */
	for (k = 1; k < len; k++) {
		if (strspn(replies[_i].in + k, " \r\n") == len - k)
			break;
		ck_assert_msg(ban_cs_json_parse(replies[_i].in, k, &r,
		    &why) != 0, "%s cut at %zu accepted", replies[_i].in, k);
	}
}
END_TEST

/* Big and deep: bounded, and no crash. */
START_TEST(test_reader_big)
{
	size_t n = 1 << 20, i;
	char *b = malloc(n + 64);
	struct cs_reply r;
	const char *why;

	/* 1 MB of nesting: refused at the depth bound. */
	memset(b, '[', n);
	ck_assert_int_ne(ban_cs_json_parse(b, n, &r, &why), 0);
	ck_assert_str_eq(why, "nested too deep");
	/* Exactly the bound is fine, one more is not. */
	for (i = 0; i < CS_JSON_DEPTH; i++)
		b[i] = '[', b[2 * CS_JSON_DEPTH - 1 - i] = ']';
	ck_assert_int_eq(ban_cs_json_parse(b, 2 * CS_JSON_DEPTH, &r, &why), 0);
	memmove(b + 1, b, 2 * CS_JSON_DEPTH);
	b[0] = '[';
	b[2 * CS_JSON_DEPTH + 1] = ']';
	ck_assert_int_ne(ban_cs_json_parse(b, 2 * CS_JSON_DEPTH + 2, &r, &why),
	    0);
	/* A 1 MB message is read and cut to what is kept. */
	i = (size_t)sprintf(b, "{\"message\":\"");
	memset(b + i, 'm', n - i - 2);
	memcpy(b + n - 2, "\"}", 2);
	ck_assert_int_eq(ban_cs_json_parse(b, n, &r, &why), 0);
	ck_assert_uint_eq(strlen(r.message), CS_MSG_MAX);
	/* A 1 MB token is not. */
	i = (size_t)sprintf(b, "{\"token\":\"");
	memset(b + i, 't', n - i - 2);
	ck_assert_int_ne(ban_cs_json_parse(b, n, &r, &why), 0);
	/* Too many top-level members. */
	for (i = 0, b[0] = '{', n = 1; i <= CS_JSON_MEMBERS; i++)
		n += (size_t)sprintf(b + n, "%s\"k%zu\":1", i ? "," : "", i);
	b[n++] = '}';
	ck_assert_int_ne(ban_cs_json_parse(b, n, &r, &why), 0);
	free(b);
}
END_TEST

/* ---- times, token, backoff, verdicts ---------------------------------- */

static const struct {
	const char	*s;
	long long	 t;		/* -1: refused */
} times[] = {
	{ "2026-12-01T10:40:10Z", 1796121610 },
	{ "2026-12-01t10:40:10z", 1796121610 },
	{ "2026-12-01T10:40:10.123456789Z", 1796121610 },
	{ "2026-12-01T11:40:10+01:00", 1796121610 },
	{ "2026-12-01T09:10:10-01:30", 1796121610 },
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2026-13-01T10:40:10Z", -1 },
	{ "2026-02-30T10:40:10Z", -1 },
	{ "2026-12-01T24:00:00Z", -1 },
	{ "2026-12-01T10:40:10", -1 },
	{ "2026-12-01 10:40:10Z", -1 },
	{ "2026-12-01T10:40:10Zjunk", -1 },
	{ "2026-12-01T10:40:10.Z", -1 },
	{ "2026-12-01T10:40:10+0100", -1 },
	{ "1969-12-31T23:59:59Z", -1 },
	{ "", -1 },
};

START_TEST(test_rfc3339)
{
	wb_usec t = 0;
	char buf[32];
	int rc = ban_cs_rfc3339_parse(times[_i].s, &t);

	ck_assert_msg((rc == 0) == (times[_i].t >= 0), "%s", times[_i].s);
	if (rc == 0) {
		ck_assert_int_eq(t, S(times[_i].t));
		/* What we write reads back the same. */
		ban_cs_rfc3339(t + 999999, buf);
		ck_assert_int_eq(ban_cs_rfc3339_parse(buf, &t), 0);
		ck_assert_int_eq(t, S(times[_i].t));
	}
}
END_TEST

/* The renewal, with a clock the test moves. */
START_TEST(test_token)
{
	struct cs_token t;

	memset(&t, 0, sizeof(t));
	ck_assert(!ban_cs_token_fresh(&t, T0));
	/* 1 h token: used until a minute before it expires. */
	ban_cs_token_set(&t, "a.b.c", T0 + S(3600), T0);
	ck_assert(ban_cs_token_fresh(&t, T0));
	ck_assert(ban_cs_token_fresh(&t, T0 + S(3540) - 1));
	ck_assert(!ban_cs_token_fresh(&t, T0 + S(3540)));
	/* An expire in the past (the LAPI's clock behind): a minute, not 0. */
	ban_cs_token_set(&t, "a.b.c", T0 - S(7200), T0);
	ck_assert(ban_cs_token_fresh(&t, T0 + S(59)));
	ck_assert(!ban_cs_token_fresh(&t, T0 + S(60)));
	/* A year: renewed daily all the same. */
	ban_cs_token_set(&t, "a.b.c", T0 + S(86400 * 365), T0);
	ck_assert(ban_cs_token_fresh(&t, T0 + S(86399)));
	ck_assert(!ban_cs_token_fresh(&t, T0 + S(86400)));
	ban_cs_token_clear(&t);
	ck_assert(!ban_cs_token_fresh(&t, T0));
	ban_cs_token_set(&t, "", T0 + S(3600), T0);
	ck_assert(!ban_cs_token_fresh(&t, T0));
}
END_TEST

START_TEST(test_backoff)
{
	static const struct { unsigned n; int lo, hi; } t[] = {
		{ 1, 500, 1000 }, { 2, 1000, 2000 }, { 3, 2000, 4000 },
		{ 4, 4000, 8000 }, { 5, 8000, 16000 }, { 6, 16000, 32000 },
		{ 7, 30000, 60000 }, { 8, 30000, 60000 }, { 100, 30000, 60000 },
		{ 4000000000u, 30000, 60000 },
	};
	uint32_t r;
	size_t i;
	int d;

	ck_assert_int_eq(ban_cs_backoff_ms(0, 12345, 1000, 60000), 0);
	for (i = 0; i < N(t); i++) {
		ck_assert_int_eq(ban_cs_backoff_ms(t[i].n, 0, 1000, 60000),
		    t[i].lo);
		ck_assert_int_eq(ban_cs_backoff_ms(t[i].n, 1023, 1000, 60000),
		    t[i].hi);
		for (r = 1; r < 100000; r = r * 7 + 1) {
			d = ban_cs_backoff_ms(t[i].n, r, 1000, 60000);
			ck_assert(d >= t[i].lo && d <= t[i].hi);
		}
	}
}
END_TEST

START_TEST(test_verdict)
{
	static const struct { int st; const char *msg; enum cs_verdict v; } t[] = {
		{ 200, NULL, CS_V_OK }, { 201, NULL, CS_V_OK },
		{ 401, NULL, CS_V_AUTH }, { 403, NULL, CS_V_RETRY },
		{ 408, NULL, CS_V_RETRY }, { 429, NULL, CS_V_RETRY },
		{ 400, "unexpected EOF", CS_V_REFUSED },
		{ 404, NULL, CS_V_REFUSED }, { 500, NULL, CS_V_RETRY },
		{ 500, "database is locked", CS_V_RETRY },
		{ 500, "validation failure list:\n0.capacity", CS_V_REFUSED },
		{ 502, NULL, CS_V_RETRY }, { 503, NULL, CS_V_RETRY },
		{ -1, NULL, CS_V_RETRY }, { 302, NULL, CS_V_RETRY },
	};
	struct cs_reply r;
	size_t i;

	for (i = 0; i < N(t); i++) {
		memset(&r, 0, sizeof(r));
		if (t[i].msg != NULL) {
			r.has_message = true;
			snprintf(r.message, sizeof(r.message), "%s", t[i].msg);
		}
		ck_assert_msg(ban_cs_verdict(t[i].st, &r) == t[i].v, "%d",
		    t[i].st);
	}
}
END_TEST

/* ---- the table ---------------------------------------------------------- */

/* As the worker would: every pending POST delivered. */
static void
deliver_all(struct cs_table *t, wb_usec now)
{
	struct cs_entry *v[64];
	size_t n, i;

	while ((n = ban_cs_table_next_posts(t, v, N(v), now)) > 0)
		for (i = 0; i < n; i++)
			ban_cs_table_posted(t, v[i], v[i]->post.expiry,
			    v[i]->gen);
}

START_TEST(test_table)
{
	struct cs_table t;
	struct ban a = pfx("192.0.2.7", 32, T0, S(3600));
	struct ban r = pfx("2001:db8::42", 64, T0, S(3600)), b2;
	struct cs_entry *e, *v[8];

	ck_assert_int_eq(ban_cs_table_init(&t, 5), 0);
	/* Banned and lifted before delivery: nothing to do at all. */
	ck_assert_int_eq(ban_cs_table_ban(&t, &a, T0), 1);
	ck_assert_uint_eq(t.posts, 1);
	ck_assert_int_eq(ban_cs_table_unban(&t, &a, T0 + S(5)), 0);
	ck_assert_uint_eq(t.posts + t.dels, 0);
	ck_assert_ptr_null(t.qhead);
	/* Three changes of one prefix are one push: the last. */
	b2 = a;
	ban_cs_table_ban(&t, &a, T0);
	b2.expiry = T0 + S(7200);
	ban_cs_table_ban(&t, &b2, T0);
	ban_cs_table_ban(&t, &r, T0);
	ck_assert_uint_eq(ban_cs_table_next_posts(&t, v, N(v), T0), 2);
	ck_assert_int_eq(v[0]->post.expiry, T0 + S(7200));
	ck_assert_int_eq(v[1]->bits, 64);
	ck_assert_int_eq(v[1]->post.addr.a[15], 0);	/* the network */
	deliver_all(&t, T0);
	ck_assert_uint_eq(t.posts, 0);
	/* Delivered: a ban it holds is not pushed again... */
	ck_assert_int_eq(ban_cs_table_ban(&t, &b2, T0 + S(1)), 0);
	ck_assert_uint_eq(t.posts, 0);
	/* ...a longer one is, without a DELETE... */
	b2.expiry = T0 + S(9000);
	ck_assert_int_eq(ban_cs_table_ban(&t, &b2, T0 + S(1)), 1);
	ck_assert_uint_eq(t.dels, 0);
	deliver_all(&t, T0 + S(1));
	/* ...a shorter one lifts the longer first. */
	b2.expiry = T0 + S(600);
	ck_assert_int_eq(ban_cs_table_ban(&t, &b2, T0 + S(2)), 1);
	e = entry(&t, "192.0.2.7", 32);
	ck_assert(e->want_del && e->want_post);
	ck_assert_ptr_eq(ban_cs_table_next_del(&t), e);
	ck_assert_uint_eq(ban_cs_table_next_posts(&t, v, N(v), T0), 0);
	ban_cs_table_deleted(&t, e, e->gen);
	ck_assert(!e->delivered && e->want_post);
	deliver_all(&t, T0 + S(2));
	/* Lifted early: a DELETE; ran out: nothing (the LAPI's ends too). */
	ck_assert_int_eq(ban_cs_table_unban(&t, &b2, T0 + S(60)), 1);
	ck_assert_int_eq(ban_cs_table_unban(&t, &r, T0 + S(3600)), 0);
	ck_assert_uint_eq(t.dels, 1);
	/* A push whose ban has run out by delivery time is dropped. */
	r = pfx("2001:db8:1::", 64, T0, S(3600));
	ban_cs_table_ban(&t, &r, T0);
	ck_assert_uint_eq(ban_cs_table_next_posts(&t, v, N(v), T0 + S(3599)),
	    0);
	ck_assert_uint_eq(t.expired, 1);
	ck_assert_uint_eq(t.posts, 0);
	/* Full: refused, counted. */
	ban_cs_table_ban(&t, &(struct ban){ .addr = A("192.0.2.9"),
	    .expiry = T0 + S(60) }, T0);
	ban_cs_table_ban(&t, &(struct ban){ .addr = A("192.0.2.10"),
	    .expiry = T0 + S(60) }, T0);
	ck_assert_int_eq(ban_cs_table_ban(&t, &(struct ban){ .addr =
	    A("192.0.2.11"), .expiry = T0 + S(60) }, T0), -1);
	ck_assert_uint_eq(t.full, 1);
	/* Sweep: only what has nothing left to do goes. */
	ck_assert_uint_eq(ban_cs_table_sweep(&t, T0 + S(4000)), 2);
	ck_assert_ptr_null(entry(&t, "2001:db8::", 64));
	ck_assert_ptr_nonnull(entry(&t, "192.0.2.7", 32));
	ban_cs_table_fini(&t);
}
END_TEST

static void
count_rec(void *arg, enum cs_rec k, const struct ban *b, wb_usec when)
{
	int *n = arg;

	(void)b, (void)when;
	n[k]++;
}

START_TEST(test_table_sync)
{
	struct cs_table t;
	struct ban bans[3] = { pfx("192.0.2.1", 32, T0, S(3600)),
	    pfx("192.0.2.2", 32, T0, S(3600)), pfx("192.0.2.3", 32, T0,
	    S(3600)) };
	int rec[5] = { 0 };

	ban_cs_table_init(&t, 100);
	ban_cs_table_sync(&t, bans, 2, T0, count_rec, rec);
	ck_assert_int_eq(rec[CS_Q_BAN], 2);
	deliver_all(&t, T0);
	/* A restart with the same bans: nothing to push, nothing said. */
	memset(rec, 0, sizeof(rec));
	ban_cs_table_sync(&t, bans, 2, T0 + S(5), count_rec, rec);
	ck_assert_int_eq(rec[CS_Q_BAN] + rec[CS_Q_UNBAN], 0);
	ck_assert_uint_eq(t.posts + t.dels, 0);
	/* One more, one less: one push, one lift. */
	ban_cs_table_sync(&t, bans + 1, 2, T0 + S(6), count_rec, rec);
	ck_assert_int_eq(rec[CS_Q_BAN], 1);
	ck_assert_int_eq(rec[CS_Q_UNBAN], 1);
	ck_assert(entry(&t, "192.0.2.1", 32)->want_del);
	ck_assert(entry(&t, "192.0.2.3", 32)->want_post);
	/* flush: everything live lifted, pending pushes dropped. */
	ban_cs_table_sync(&t, NULL, 0, T0 + S(7), count_rec, rec);
	ck_assert_uint_eq(t.posts, 0);
	ck_assert_uint_eq(t.dels, 2);
	ban_cs_table_fini(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crowdsec");
	TCase *t;

	t = cs_tc(s, "json_out", 4);
	tcase_add_loop_test(t, test_json_alert, 0, N(alerts));
	tcase_add_test(t, test_json_escape);
	tcase_add_test(t, test_json_login_delete);
	t = cs_tc(s, "json_in", 10);
	tcase_add_loop_test(t, test_reader, 0, N(replies));
	tcase_add_test(t, test_reader_big);
	t = cs_tc(s, "time", 4);
	tcase_add_loop_test(t, test_rfc3339, 0, N(times));
	tcase_add_test(t, test_token);
	tcase_add_test(t, test_backoff);
	tcase_add_test(t, test_verdict);
	t = cs_tc(s, "table", 4);
	tcase_add_test(t, test_table);
	tcase_add_test(t, test_table_sync);
	return run_suite(s);
}
