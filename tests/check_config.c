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

static void
write_conf(const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/wireban-conf-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
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
};

START_TEST(test_bad)
{
	const struct bad *b = &bad_cases[_i];
	struct config c = { 0 };
	char err[512] = "", expect[256];
	const char *at;
	wb_usec d = 0;
	int rc;

	write_conf(b->text);
	rc = config_load(&c, path, true, err, sizeof(err));
	if (rc == 0 && b->override != NULL)
		rc = config_override(&c, b->override, err, sizeof(err));
	if (rc == 0 && b->sec != NULL)
		rc = config_duration(&c, b->sec, b->key, &d, err,
		    sizeof(err));
	ck_assert_int_eq(rc, -1);
	if ((at = strchr(b->expect, '@')) != NULL)
		snprintf(expect, sizeof(expect), "%.*s%s%s",
		    (int)(at - b->expect), b->expect, path, at + 1);
	else
		snprintf(expect, sizeof(expect), "%s", b->expect);
	ck_assert_msg(strstr(err, expect) != NULL, "got '%s', want '%s'",
	    err, expect);
	config_free(&c);
	unlink(path);
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
	tcase_add_test(tc, test_values_and_override_order);
	tcase_add_loop_test(tc, test_duration, 0,
	    sizeof(durations) / sizeof(durations[0]));
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
