/*
 * config.c - reads the INI file and -o overrides into a list of entries,
 * and turns entries into typed values on request.
 *
 * Invariant: every entry in the list has a known section and key (checked
 * when it is read), and remembers where it came from, so any later error
 * about its value can name the file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define LINE_MAX_CONF 4096

static const char *const capture_keys[] = { "interface", "ports", "servers",
	"checksums", "max_streams", "idle_timeout", NULL };
static const char *const policy_keys[] = { "maxretry", "findtime",
	"bantime", "bantime_factor", "bantime_max", "ignoreip", "ignoreself",
	"ipv4_prefix", "ipv6_prefix", "max_tracked", NULL };
static const char *const firewall_keys[] = { "backend", "chain",
	"allports", "target", "ban_command", "unban_command", "forward",
	"keep_on_exit", "table", "set4", "set6", "maxelem", NULL };
static const char *const paths_keys[] = { "state", "socket", "events",
	NULL };
static const char *const rule_keys[] = { "code", "command", "pattern",
	"weight", "offence", NULL };

static const struct {
	const char *name;
	const char *const *keys;
} sections[] = {
	{ "capture", capture_keys },
	{ "policy", policy_keys },
	{ "firewall", firewall_keys },
	{ "paths", paths_keys },
};

static bool
in_list(const char *const *list, const char *w)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, w) == 0)
			return true;
	return false;
}

static bool
known_section(const char *section)
{
	size_t i;

	if (strncmp(section, "rule ", 5) == 0)
		return section[5] != '\0';
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(sections[i].name, section) == 0)
			return true;
	return false;
}

/* Checks section and key; err says what is wrong without the place. */
static int
check_key(const char *section, const char *key, char *err, size_t errlen)
{
	size_t i;

	if (strncmp(section, "rule ", 5) == 0) {
		if (!in_list(rule_keys, key)) {
			snprintf(err, errlen, "unknown key '%s' in [%s] "
			    "(code, command, pattern, weight, offence)", key,
			    section);
			return -1;
		}
		return 0;
	}
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (strcmp(sections[i].name, section) != 0)
			continue;
		if (!in_list(sections[i].keys, key)) {
			snprintf(err, errlen, "unknown key '%s' in [%s]", key,
			    section);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown section [%s] (capture, policy, "
	    "firewall, paths, rule NAME)", section);
	return -1;
}

static int
add(struct config *c, const char *section, const char *key,
    const char *value, const char *where)
{
	struct config_entry *nv, *e;

	if ((nv = realloc(c->v, (c->n + 1) * sizeof(*nv))) == NULL)
		return -1;
	c->v = nv;
	e = &c->v[c->n];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	e->where = strdup(where);
	if (!e->section || !e->key || !e->value || !e->where) {
		free(e->section);
		free(e->key);
		free(e->value);
		free(e->where);
		return -1;
	}
	c->n++;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(struct config *c, const char *path, bool must_exist, char *err,
    size_t errlen)
{
	char line[LINE_MAX_CONF], section[LINE_MAX_CONF] = "", where[512];
	char why[256];
	char *p, *eq, *key, *val;
	unsigned lineno = 0;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	free(c->path);
	c->path = strdup(path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s: line longer than %d bytes",
			    where, LINE_MAX_CONF - 2);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *close = strchr(p, ']');

			if (close == NULL || close[1] != '\0') {
				snprintf(err, errlen, "%s: a section header "
				    "reads [name]", where);
				goto out;
			}
			*close = '\0';
			p = trim(p + 1);
			/* "[rule  x]" -> "rule x" */
			if (strncmp(p, "rule", 4) == 0 &&
			    isspace((unsigned char)p[4]))
				snprintf(section, sizeof(section), "rule %s",
				    trim(p + 5));
			else
				snprintf(section, sizeof(section), "%s", p);
			if (!known_section(section)) {
				snprintf(err, errlen, "%s: unknown section "
				    "[%.60s] (capture, policy, firewall, paths, "
				    "rule NAME)", where, section);
				goto out;
			}
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s: expected 'key = value', "
			    "got '%.60s'", where, p);
			goto out;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if (section[0] == '\0') {
			snprintf(err, errlen, "%s: key '%s' before any "
			    "[section]", where, key);
			goto out;
		}
		if (check_key(section, key, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", where, why);
			goto out;
		}
		if (add(c, section, key, val, where) < 0) {
			snprintf(err, errlen, "%s: out of memory", where);
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	fclose(fp);
	return rc;
}

int
config_override(struct config *c, const char *spec, char *err, size_t errlen)
{
	char buf[LINE_MAX_CONF], section[LINE_MAX_CONF], where[600];
	char why[256];
	char *eq, *dot, *key;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "-o: option too long");
		return -1;
	}
	snprintf(where, sizeof(where), "-o %.500s", spec);
	if ((eq = strchr(buf, '=')) == NULL) {
		snprintf(err, errlen, "%s: expected section.key=value", where);
		return -1;
	}
	*eq = '\0';
	if ((dot = strrchr(buf, '.')) == NULL || dot == buf) {
		snprintf(err, errlen, "%s: expected section.key=value", where);
		return -1;
	}
	*dot = '\0';
	key = dot + 1;
	if (strncmp(buf, "rule.", 5) == 0)
		snprintf(section, sizeof(section), "rule %s", buf + 5);
	else
		snprintf(section, sizeof(section), "%s", buf);
	if (check_key(section, key, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", where, why);
		return -1;
	}
	if (add(c, section, key, eq + 1, where) < 0) {
		snprintf(err, errlen, "%s: out of memory", where);
		return -1;
	}
	return 0;
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].section);
		free(c->v[i].key);
		free(c->v[i].value);
		free(c->v[i].where);
	}
	free(c->v);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

const struct config_entry *
config_get(const struct config *c, const char *section, const char *key)
{
	size_t i;

	for (i = c->n; i > 0; i--)
		if (strcmp(c->v[i - 1].section, section) == 0 &&
		    strcmp(c->v[i - 1].key, key) == 0)
			return &c->v[i - 1];
	return NULL;
}

int
config_parse_duration(const char *s, wb_usec *out)
{
	char *end;
	double n;
	int64_t unit = 1;

	errno = 0;
	n = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(n) || n < 0)
		return -1;
	switch (*end) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	/* Ten years is plenty, and keeps every sum of times far from
	 * overflowing int64 microseconds. */
	if (n * (double)unit > 10.0 * 366 * 86400)
		return -1;
	*out = (wb_usec)(n * (double)unit * WB_USEC_PER_SEC + 0.5);
	return 0;
}

static void
bad(const struct config_entry *e, char *err, size_t errlen, const char *what)
{
	const char *sec = e->section;

	if (strncmp(sec, "rule ", 5) == 0)
		snprintf(err, errlen, "%s: [%s] %s: '%.60s' is not %s",
		    e->where, sec, e->key, e->value, what);
	else
		snprintf(err, errlen, "%s: %s.%s: '%.60s' is not %s",
		    e->where, sec, e->key, e->value, what);
}

int
config_duration(const struct config *c, const char *sec, const char *key,
    wb_usec *out, char *err, size_t errlen)
{
	const struct config_entry *e = config_get(c, sec, key);

	if (e == NULL)
		return 0;
	if (config_parse_duration(e->value, out) < 0) {
		bad(e, err, errlen, "a duration (such as 30s, 10m, 1h, 2d, "
		    "1w; at most 10 years)");
		return -1;
	}
	return 0;
}

int
config_long(const struct config *c, const char *sec, const char *key,
    long lo, long hi, long *out, char *err, size_t errlen)
{
	const struct config_entry *e = config_get(c, sec, key);
	char what[96];
	char *end;
	long n;

	if (e == NULL)
		return 0;
	errno = 0;
	n = strtol(e->value, &end, 10);
	if (end == e->value || *end != '\0' || errno != 0 || n < lo ||
	    n > hi) {
		snprintf(what, sizeof(what), "a whole number from %ld to %ld",
		    lo, hi);
		bad(e, err, errlen, what);
		return -1;
	}
	*out = n;
	return 0;
}

int
config_double(const struct config *c, const char *sec, const char *key,
    double lo, double hi, double *out, char *err, size_t errlen)
{
	const struct config_entry *e = config_get(c, sec, key);
	char what[96];
	char *end;
	double n;

	if (e == NULL)
		return 0;
	errno = 0;
	n = strtod(e->value, &end);
	if (end == e->value || *end != '\0' || errno != 0 || !isfinite(n) ||
	    n < lo || n > hi) {
		snprintf(what, sizeof(what), "a number from %g to %g", lo, hi);
		bad(e, err, errlen, what);
		return -1;
	}
	*out = n;
	return 0;
}

int
config_bool(const struct config *c, const char *sec, const char *key,
    bool *out, char *err, size_t errlen)
{
	const struct config_entry *e = config_get(c, sec, key);
	const char *v;

	if (e == NULL)
		return 0;
	v = e->value;
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
	    !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else {
		bad(e, err, errlen, "yes or no");
		return -1;
	}
	return 0;
}

int
config_string(const struct config *c, const char *sec, const char *key,
    const char **out)
{
	const struct config_entry *e = config_get(c, sec, key);

	if (e != NULL)
		*out = e->value;
	return 0;
}

int
config_choice(const struct config *c, const char *sec, const char *key,
    const char *const *choices, int *out, char *err, size_t errlen)
{
	const struct config_entry *e = config_get(c, sec, key);
	char what[160];
	size_t n = 0;
	int i;

	if (e == NULL)
		return 0;
	for (i = 0; choices[i] != NULL; i++)
		if (strcasecmp(choices[i], e->value) == 0) {
			*out = i;
			return 0;
		}
	n = (size_t)snprintf(what, sizeof(what), "one of");
	for (i = 0; choices[i] != NULL && n < sizeof(what); i++)
		n += (size_t)snprintf(what + n, sizeof(what) - n, "%s %s",
		    i ? "," : "", choices[i]);
	bad(e, err, errlen, what);
	return -1;
}

void
config_dump(const struct config *c, void *fparg)
{
	FILE *fp = fparg;
	const char *last = "";
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct config_entry *e = &c->v[i];

		/* Shadowed entries are not in force. */
		if (config_get(c, e->section, e->key) != e)
			continue;
		if (strcmp(last, e->section) != 0) {
			fprintf(fp, "%s[%s]\n", i ? "\n" : "", e->section);
			last = e->section;
		}
		fprintf(fp, "%s = %s\t# %s\n", e->key, e->value, e->where);
	}
}
