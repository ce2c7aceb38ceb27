/*
 * check_config.c - the configuration file and -o: good files give the
 * values, bad ones an error naming FILE:LINE (or the -o) and the key.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/config.h"

static char path[64];

/* Writes len bytes of text to a new file, at path. */
static void
write_conf_len(const char *text, size_t len)
{
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/wireban-conf-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	fclose(fp);
}

static void
write_conf(const char *text)
{
	write_conf_len(text, strlen(text));
}

/* err holds expect, where "@" in expect stands for the file's path. */
static void
assert_err(const char *err, const char *expect)
{
	char want[256];
	const char *at;

	if ((at = strchr(expect, '@')) != NULL)
		snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - expect),
		    expect, path, at + 1);
	else
		snprintf(want, sizeof(want), "%s", expect);
	ck_assert_msg(strstr(err, want) != NULL, "got '%s', want '%s'", err,
	    want);
}

struct bad {
	const char *text;	/* the file */
	const char *override;	/* NULL: none */
	const char *sec, *key;	/* a getter to call, or NULL */
	const char *expect;	/* in the message; "@" stands for the path */
};

static const struct bad bad_cases[] = {
	{ "[policy]\nbantime = 1h\n[nosuch]\n", NULL, NULL, NULL,
	    "@:3: unknown section [nosuch]" },
	{ "[policy]\nbantimes = 1h\n", NULL, NULL, NULL,
	    "@:2: unknown key 'bantimes' in [policy]" },
	{ "maxretry = 3\n", NULL, NULL, NULL,
	    "@:1: key 'maxretry' before any [section]" },
	{ "[policy]\n\nmaxretry 3\n", NULL, NULL, NULL,
	    "@:3: expected 'key = value'" },
	{ "[policy\n", NULL, NULL, NULL, "@:1: a section header reads" },
	{ "[rule mine]\ncolour = red\n", NULL, NULL, NULL,
	    "@:2: unknown key 'colour' in [rule mine]" },
	{ "# comment\n[policy]\nbantime = soon\n", NULL, "policy", "bantime",
	    "@:3: policy.bantime: 'soon' is not a duration" },
	{ "[policy]\nbantime = 5x\n", NULL, "policy", "bantime",
	    "@:2: policy.bantime: '5x' is not a duration" },
	{ "[policy]\nbantime = -5m\n", NULL, "policy", "bantime",
	    "@:2: policy.bantime: '-5m'" },
	{ "[policy]\nbantime = 1h\n", "policy.bantime=oops", "policy",
	    "bantime", "-o policy.bantime=oops: policy.bantime: 'oops'" },
	{ "", "policy.nokey=1", NULL, NULL,
	    "-o policy.nokey=1: unknown key 'nokey' in [policy]" },
	{ "", "bantime=1", NULL, NULL,
	    "-o bantime=1: expected section.key=value" },
	{ "", "policy.bantime", NULL, NULL,
	    "-o policy.bantime: expected section.key=value" },

	/* Durations are decimal: strtod took hex, exponents and signs. */
	{ "[policy]\nbantime = 0x10m\n", NULL, "policy", "bantime",
	    "@:2: policy.bantime: '0x10m' is not a duration" },
	{ "[policy]\nbantime = 1e3s\n", NULL, "policy", "bantime",
	    "@:2: policy.bantime: '1e3s' is not a duration" },
	{ "[policy]\nbantime = +5m\n", NULL, "policy", "bantime",
	    "@:2: policy.bantime: '+5m' is not a duration" },
	{ "", "policy.bantime= 5m", "policy", "bantime",
	    "-o policy.bantime= 5m: policy.bantime: ' 5m' is not a duration" },

	/* A key twice in a file names both lines, across repeated sections
	 * too (-o still overrides: test_values_and_override_order). */
	{ "[policy]\nbantime = 1h\nmaxretry = 3\nbantime = 2h\n", NULL,
	    NULL, NULL, "@:4: policy.bantime: already set at line 2" },
	{ "[policy]\nbantime = 1h\n[firewall]\nchain = x\n[policy]\n"
	    "bantime = 1h\n", NULL, NULL, NULL,
	    "@:6: policy.bantime: already set at line 2" },
	{ "[rule a]\ncode = 550\n\n[rule  a ]\ncode = 551\n", NULL, NULL,
	    NULL, "@:5: [rule a] code: already set at line 2" },
};

START_TEST(test_bad)
{
	const struct bad *b = &bad_cases[_i];
	struct config c = { 0 };
	char err[512] = "";
	wb_usec d = 0;
	int rc;

	write_conf(b->text);
	rc = config_load(&c, path, true, err, sizeof(err));
	if (rc < 0)
		ck_assert_uint_eq(c.n, 0);	/* a bad file sets nothing */
	if (rc == 0 && b->override != NULL)
		rc = config_override(&c, b->override, err, sizeof(err));
	if (rc == 0 && b->sec != NULL)
		rc = config_duration(&c, b->sec, b->key, &d, err,
		    sizeof(err));
	ck_assert_msg(rc == -1, "accepted");
	assert_err(err, b->expect);
	config_free(&c);
	unlink(path);
}
END_TEST

/* Whole numbers and numbers are decimal too: no sign but '-', no space. */
struct badnum {
	const char *text, *override;
	const char *key;	/* in [policy] */
	bool whole;		/* config_long, else config_double; 1-1000 */
	const char *expect;
};

static const struct badnum bad_numbers[] = {
	{ "[policy]\nmaxretry = +3\n", NULL, "maxretry", true,
	    "@:2: policy.maxretry: '+3' is not a whole number from 1 to 1000" },
	{ "[policy]\nmaxretry = 0x3\n", NULL, "maxretry", true,
	    "@:2: policy.maxretry: '0x3' is not a whole number" },
	{ "", "policy.maxretry= 3", "maxretry", true,
	    "-o policy.maxretry= 3: policy.maxretry: ' 3' is not a whole" },
	{ "[policy]\nbantime_factor = 1e1\n", NULL, "bantime_factor", false,
	    "@:2: policy.bantime_factor: '1e1' is not a number from 1 to "
	    "1000" },
	{ "[policy]\nbantime_factor = 0x2\n", NULL, "bantime_factor", false,
	    "@:2: policy.bantime_factor: '0x2' is not a number" },
	{ "", "policy.bantime_factor=+2", "bantime_factor", false,
	    "-o policy.bantime_factor=+2: policy.bantime_factor: '+2' is not" },
	{ "", "policy.bantime_factor= 2", "bantime_factor", false,
	    "-o policy.bantime_factor= 2: policy.bantime_factor: ' 2' is not" },
};

START_TEST(test_bad_number)
{
	const struct badnum *b = &bad_numbers[_i];
	struct config c = { 0 };
	char err[512] = "";
	double f = 0;
	long n = 0;
	int rc;

	write_conf(b->text);
	rc = config_load(&c, path, true, err, sizeof(err));
	ck_assert_int_eq(rc, 0);
	if (b->override != NULL)
		ck_assert_int_eq(config_override(&c, b->override, err,
		    sizeof(err)), 0);
	if (b->whole)
		rc = config_long(&c, "policy", b->key, 1, 1000, &n, err,
		    sizeof(err));
	else
		rc = config_double(&c, "policy", b->key, 1, 1000, &f, err,
		    sizeof(err));
	ck_assert_msg(rc == -1, "accepted");
	assert_err(err, b->expect);
	config_free(&c);
	unlink(path);
}
END_TEST

/*
 * Files that are not ASCII or UTF-8 text: each says what it is, on the
 * line where it shows, not "line longer than 4094 bytes".
 */
struct badenc {
	const char *bytes;
	size_t len;
	const char *expect;
};

#define ENC(s, expect) { s, sizeof(s) - 1, expect }

static const struct badenc bad_encodings[] = {
	ENC("[policy]\nbantime = 1h\0\n", "@:2: NUL byte at column 13"),
	ENC("# a\0b\n[policy]\n", "@:1: NUL byte at column 4"),
	ENC("[policy]\n\n\0\0\0\0", "@:3: NUL byte at column 1"),
	ENC("\xff\xfe[\0p\0o\0l\0i\0c\0y\0]\0\n\0",
	    "@:1: UTF-16LE text (byte order mark FF FE): save the file as "
	    "UTF-8 or ASCII"),
	ENC("\xfe\xff\0[\0p\0o\0l\0i\0c\0y\0]\0\n",
	    "@:1: UTF-16BE text (byte order mark FE FF)"),
	ENC("[\0p\0o\0l\0i\0c\0y\0]\0\r\0\n\0",
	    "@:1: UTF-16LE text (every other byte is NUL)"),
	ENC("\0[\0p\0o\0l\0i\0c\0y\0]\0\n",
	    "@:1: UTF-16BE text (every other byte is NUL)"),
	ENC("\xff\xfe\0\0[\0\0\0", "@:1: UTF-32LE text"),
	ENC("\0\0\xfe\xff\0\0\0[", "@:1: UTF-32BE text"),
};

START_TEST(test_bad_encoding)
{
	const struct badenc *b = &bad_encodings[_i];
	struct config c = { 0 };
	char err[512] = "";

	write_conf_len(b->bytes, b->len);
	ck_assert_int_eq(config_load(&c, path, true, err, sizeof(err)), -1);
	assert_err(err, b->expect);
	ck_assert_uint_eq(c.n, 0);
	config_free(&c);
	unlink(path);
}
END_TEST

/* Files that load, and one value each must give. */
struct good {
	const char *text;
	size_t len;
	const char *sec, *key, *value;
};

#define GOOD(s, sec, key, value) { s, sizeof(s) - 1, sec, key, value }

static const struct good good_cases[] = {
	/* A UTF-8 byte order mark is skipped. */
	GOOD("\xef\xbb\xbf[policy]\nbantime = 2h\n", "policy", "bantime",
	    "2h"),
	/* A section given twice merges: both halves are in force. */
	GOOD("[policy]\nbantime = 1h\n[firewall]\nchain = x\n[policy]\n"
	    "maxretry = 3\n", "policy", "bantime", "1h"),
	GOOD("[policy]\nbantime = 1h\n[firewall]\nchain = x\n[policy]\n"
	    "maxretry = 3\n", "policy", "maxretry", "3"),
	/* One key in two rules, or two sections, is no repeat. */
	GOOD("[rule a]\ncode = 550\n[rule b]\ncode = 551\n", "rule b",
	    "code", "551"),
	GOOD("[rule a]\ncode = 550\n[rule b]\ncode = 551\n", "rule a",
	    "code", "550"),
	/* CRLF lines, and a last line without LF. */
	GOOD("[policy]\r\nbantime = 1h\r\n", "policy", "bantime", "1h"),
	GOOD("[policy]\nbantime = 1h", "policy", "bantime", "1h"),
};

START_TEST(test_good)
{
	const struct good *g = &good_cases[_i];
	const struct config_entry *e;
	struct config c = { 0 };
	char err[512] = "";

	write_conf_len(g->text, g->len);
	ck_assert_msg(config_load(&c, path, true, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_ptr_nonnull(e = config_get(&c, g->sec, g->key));
	ck_assert_str_eq(e->value, g->value);
	config_free(&c);
	unlink(path);
}
END_TEST

/* The line limit still says so, at 4094 bytes before the LF. */
START_TEST(test_long_line)
{
	static char text[8192];
	struct config c = { 0 };
	char err[512] = "";

	memset(text, '#', 4094);
	memcpy(text + 4094, "\n[policy]\n", 11);
	write_conf(text);
	ck_assert_int_eq(config_load(&c, path, true, err, sizeof(err)), 0);
	config_free(&c);
	unlink(path);
	memcpy(text, "[policy]\n", 9);
	memset(text + 9, '#', 4095);
	memcpy(text + 9 + 4095, "\n", 2);
	write_conf(text);
	ck_assert_int_eq(config_load(&c, path, true, err, sizeof(err)), -1);
	assert_err(err, "@:2: line longer than 4094 bytes");
	config_free(&c);
	unlink(path);
}
END_TEST

/* Past 1 MiB a file is refused, naming the line the limit falls in. */
START_TEST(test_file_too_long)
{
	static char text[1024 * 1024 + 2];
	struct config c = { 0 };
	char err[512] = "", want[64];
	size_t i;

	for (i = 0; i < sizeof(text) - 1; i++)
		text[i] = i % 10 == 9 ? '\n' : '#';
	write_conf(text);
	ck_assert_int_eq(config_load(&c, path, true, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "@:%d: file longer than 1048576 bytes",
	    1024 * 1024 / 10 + 1);
	assert_err(err, want);
	config_free(&c);
	unlink(path);
	text[1024 * 1024] = '\0';	/* exactly 1 MiB is fine */
	write_conf(text);
	ck_assert_int_eq(config_load(&c, path, true, err, sizeof(err)), 0);
	config_free(&c);
	unlink(path);
}
END_TEST

/* The buffer entry (the fuzz target's) names its text as a file. */
START_TEST(test_parse_buffer)
{
	static const char text[] = "[policy]\nbantime = 1h\nbantime = 2h";
	struct config c = { 0 };
	char err[512] = "";

	ck_assert_int_eq(config_parse(&c, "mem", text, 22, err, sizeof(err)),
	    0);
	ck_assert_str_eq(config_get(&c, "policy", "bantime")->where, "mem:2");
	config_free(&c);
	ck_assert_int_eq(config_parse(&c, "mem", text, sizeof(text) - 1, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "mem:3: policy.bantime: already set at line 2");
	config_free(&c);
}
END_TEST

START_TEST(test_values_and_override_order)
{
	struct config c = { 0 };
	char err[256];
	wb_usec d = 0;
	long n = 0;
	bool yes = false;
	double f = 0;
	const char *str = NULL;
	int choice = -1;
	static const char *const be[] = { "iptables", "dry-run", "exec",
		NULL };

	write_conf("; a comment\n[policy]\n  maxretry = 5  \nbantime=2h\n"
	    "ignoreself = no\nbantime_factor = 1.5\n[firewall]\n"
	    "backend = exec\n[rule  mine ]\npattern = a = b\n");
	ck_assert_int_eq(config_load(&c, path, true, err, sizeof(err)), 0);
	ck_assert_int_eq(config_long(&c, "policy", "maxretry", 1, 100, &n,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(config_duration(&c, "policy", "bantime", &d, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(d, 2LL * 3600 * WB_USEC_PER_SEC);
	ck_assert_int_eq(config_bool(&c, "policy", "ignoreself", &yes, err,
	    sizeof(err)), 0);
	ck_assert(!yes);
	ck_assert_int_eq(config_double(&c, "policy", "bantime_factor", 1,
	    100, &f, err, sizeof(err)), 0);
	ck_assert(f == 1.5);
	ck_assert_int_eq(config_choice(&c, "firewall", "backend", be,
	    &choice, err, sizeof(err)), 0);
	ck_assert_int_eq(choice, 2);
	config_string(&c, "rule mine", "pattern", &str);
	ck_assert_str_eq(str, "a = b");
	/* -o wins over the file; the last one wins. */
	ck_assert_int_eq(config_override(&c, "policy.bantime=3s", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_override(&c, "rule.mine.weight=2", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_duration(&c, "policy", "bantime", &d, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(d, 3 * WB_USEC_PER_SEC);
	ck_assert_str_eq(config_get(&c, "rule mine", "weight")->value, "2");
	/* An unset key leaves the default alone. */
	d = 42;
	ck_assert_int_eq(config_duration(&c, "policy", "findtime", &d, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(d, 42);
	/* Out of range numbers. */
	ck_assert_int_eq(config_long(&c, "policy", "maxretry", 1, 4, &n,
	    err, sizeof(err)), -1);
	ck_assert(strstr(err, "policy.maxretry: '5' is not a whole number "
	    "from 1 to 4") != NULL);
	config_free(&c);
	unlink(path);
}
END_TEST

struct dur {
	const char *text;
	wb_usec usec;	/* -1: invalid */
};

static const struct dur durations[] = {
	{ "30", 30 * WB_USEC_PER_SEC }, { "30s", 30 * WB_USEC_PER_SEC },
	{ "10m", 600 * WB_USEC_PER_SEC }, { "1h", 3600 * WB_USEC_PER_SEC },
	{ "2d", 2 * 86400 * WB_USEC_PER_SEC },
	{ "1w", 7 * 86400 * WB_USEC_PER_SEC },
	{ "0.5s", WB_USEC_PER_SEC / 2 }, { "", -1 }, { "m", -1 },
	{ "1y", -1 }, { "1hh", -1 }, { "-1s", -1 }, { "nan", -1 },
	{ "1000w", -1 }, { "1e400", -1 },
	/* decimal, and nothing else */
	{ "1.5h", 5400 * WB_USEC_PER_SEC }, { ".5m", 30 * WB_USEC_PER_SEC },
	{ "5.m", 300 * WB_USEC_PER_SEC }, { "007m", 420 * WB_USEC_PER_SEC },
	{ "0x10m", -1 }, { "0x10", -1 }, { "1e3s", -1 }, { "1e3", -1 },
	{ "+5m", -1 }, { " 5m", -1 }, { "5m ", -1 }, { "5 m", -1 },
	{ "0x1p4", -1 }, { "inf", -1 }, { "infs", -1 }, { "1.2.3s", -1 },
	{ "1,5m", -1 }, { ".m", -1 }, { "-0", -1 }, { "1e", -1 },
};

START_TEST(test_duration)
{
	const struct dur *d = &durations[_i];
	wb_usec got = -7;
	int rc = config_parse_duration(d->text, &got);

	if (d->usec < 0)
		ck_assert_msg(rc == -1, "'%s' accepted", d->text);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(got, d->usec);
	}
}
END_TEST

START_TEST(test_missing_file)
{
	struct config c = { 0 };
	char err[256] = "";

	ck_assert_int_eq(config_load(&c, "/nonexistent/wireban.conf", false,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(config_load(&c, "/nonexistent/wireban.conf", true,
	    err, sizeof(err)), -1);
	ck_assert(strstr(err, "/nonexistent/wireban.conf: No such file") !=
	    NULL);
	config_free(&c);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_bad, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_loop_test(tc, test_good, 0,
	    sizeof(good_cases) / sizeof(good_cases[0]));
	tcase_add_test(tc, test_values_and_override_order);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_file_too_long);
	tcase_add_test(tc, test_parse_buffer);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(su, tc);

	tc = tcase_create("numbers");
	tcase_add_loop_test(tc, test_bad_number, 0,
	    sizeof(bad_numbers) / sizeof(bad_numbers[0]));
	tcase_add_loop_test(tc, test_duration, 0,
	    sizeof(durations) / sizeof(durations[0]));
	suite_add_tcase(su, tc);

	tc = tcase_create("encoding");
	tcase_add_loop_test(tc, test_bad_encoding, 0,
	    sizeof(bad_encodings) / sizeof(bad_encodings[0]));
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
