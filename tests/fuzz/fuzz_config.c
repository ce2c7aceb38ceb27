/*
 * fuzz_config.c - libFuzzer target over the configuration reader.
 *
 * The input is a config file. It goes through config_parse() (the code
 * config_load() runs on a file's bytes); when it loads, every typed
 * getter runs on every key it set and the entries in force are dumped,
 * and each of its lines is also tried as a -o override. Invariants: a
 * failure always has a message, and the message names its place, the
 * file and line ("fuzz.conf:N: ...") or the override ("-o ...").
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/config.h"

#define NAME		"fuzz.conf"
#define OVERRIDES_MAX	64	/* lines tried as -o, per input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

/* err begins with prefix, then (when line) a line number and ": ". */
static void
check_place(const char *err, const char *prefix, bool line)
{
	size_t n = strlen(prefix);
	const char *p = err + n;

	if (strncmp(err, prefix, n) != 0)
		abort();
	if (!line)
		return;
	if (!isdigit((unsigned char)*p))
		abort();
	while (isdigit((unsigned char)*p))
		p++;
	if (p[0] != ':' || p[1] != ' ')
		abort();
}

/* Every getter on section.key, which is set; errors name its place. */
static void
getters(const struct config *c, const char *sec, const char *key)
{
	static const char *const words[] = { "iptables", "dry-run", "exec",
		NULL };
	char err[512];
	const char *s;
	wb_usec d;
	double f;
	long n;
	bool b;
	int i;
	const struct config_entry *e = config_get(c, sec, key);

	if (e == NULL)
		abort();
	err[0] = '\0';
	if (config_duration(c, e->section, e->key, &d, err, sizeof(err)) < 0)
		check_place(err, e->where, false);
	err[0] = '\0';
	if (config_long(c, e->section, e->key, LONG_MIN, LONG_MAX, &n, err,
	    sizeof(err)) < 0)
		check_place(err, e->where, false);
	err[0] = '\0';
	if (config_double(c, e->section, e->key, -1e300, 1e300, &f, err,
	    sizeof(err)) < 0)
		check_place(err, e->where, false);
	err[0] = '\0';
	if (config_bool(c, e->section, e->key, &b, err, sizeof(err)) < 0)
		check_place(err, e->where, false);
	err[0] = '\0';
	if (config_choice(c, e->section, e->key, words, &i, err,
	    sizeof(err)) < 0)
		check_place(err, e->where, false);
	s = NULL;
	(void)config_string(c, e->section, e->key, &s);
	if (s != e->value)
		abort();
}

/* Each line of the input (up to OVERRIDES_MAX) as "-o LINE". */
static void
overrides(struct config *c, const uint8_t *data, size_t size)
{
	char spec[512], err[1024];
	size_t i = 0, n, k;

	for (k = 0; k < OVERRIDES_MAX && i < size; k++) {
		for (n = 0; i + n < size && data[i + n] != '\n'; n++)
			;
		if (n < sizeof(spec) && memchr(data + i, '\0', n) == NULL) {
			memcpy(spec, data + i, n);
			spec[n] = '\0';
			err[0] = '\0';
			if (config_override(c, spec, err, sizeof(err)) < 0)
				check_place(err, "-o", false);
		}
		i += n + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c = { 0 };
	char err[1024] = "";
	size_t i;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if (config_parse(&c, NAME, data, size, err, sizeof(err)) < 0) {
		check_place(err, NAME ":", true);
		if (c.n != 0)
			abort();	/* a bad file sets nothing */
	} else {
		for (i = 0; i < c.n; i++) {
			if (c.v[i].line == 0)
				abort();
			getters(&c, c.v[i].section, c.v[i].key);
		}
		config_dump(&c, devnull);
	}
	overrides(&c, data, size);
	for (i = 0; i < c.n; i++)
		getters(&c, c.v[i].section, c.v[i].key);
	config_free(&c);
	return 0;
}
