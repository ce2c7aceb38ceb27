/*
 * config.c - reads the INI file and -o overrides into a list of entries,
 * and turns entries into typed values on request.
 *
 * Invariant: every entry in the list has a known section and key (checked
 * when it is read), and remembers where it came from, so any later error
 * about its value can name the file and line. A file is taken whole or
 * not at all, and sets each key once.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define LINE_MAX_CONF	4096
#define CONF_SIZE_MAX	(1024 * 1024)	/* a real file is a few KiB */
/* A real file has tens; this bounds the work of the duplicate check. */
#define CONF_ENTRIES_MAX 4096

static const char *const capture_keys[] = { "interface", "ports", "servers",
	"checksums", "max_streams", "idle_timeout", "max_handshakes",
	"handshake_timeout", "buffer", NULL };
static const char *const policy_keys[] = { "maxretry", "findtime",
	"bantime", "bantime_factor", "bantime_max", "ignoreip", "ignoreself",
	"ipv4_prefix", "ipv6_prefix", "max_tracked", NULL };
static const char *const firewall_keys[] = { "backend", "chain",
	"allports", "target", "ban_command", "unban_command", "forward",
	"keep_on_exit", "table", "set4", "set6", "maxelem", NULL };
static const char *const paths_keys[] = { "state", "socket", "events",
	"metrics", "metrics_interval", "log", NULL };
static const char *const crowdsec_keys[] = { "url", "login", "password",
	"password_file", "scenario", "origin", "timeout", "batch", "ca_file",
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
	{ "crowdsec", crowdsec_keys },
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

static void
entry_free(struct config_entry *e)
{
	free(e->section);
	free(e->key);
	free(e->value);
	free(e->where);
}

static int
add(struct config *c, const char *section, const char *key,
    const char *value, const char *where, unsigned line)
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
	e->line = line;
	if (!e->section || !e->key || !e->value || !e->where) {
		entry_free(e);
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

/* "policy.bantime", or "[rule mine] pattern": a key as errors name it. */
static void
key_name(char *buf, size_t len, const char *section, const char *key)
{
	if (strncmp(section, "rule ", 5) == 0)
		snprintf(buf, len, "[%.60s] %.60s", section, key);
	else
		snprintf(buf, len, "%.60s.%.60s", section, key);
}

/*
 * Text that is not ASCII or UTF-8 fails on its first line with a message
 * that says what it is, rather than as a line too long or a key unknown:
 * UTF-16 (from a Windows editor) has a NUL in every other byte, so the
 * lines of a line reader never end. A UTF-8 byte order mark (Notepad
 * writes one) is skipped: it says nothing a UTF-8 reader needs to know.
 * Returns the bytes to skip, or -1 with err set.
 */
static int
check_encoding(const char *name, const unsigned char *b, size_t len,
    char *err, size_t errlen)
{
	static const char save[] = "save the file as UTF-8 or ASCII";
	const char *what = NULL, *how = NULL;
	size_t i, m = len < 64 ? len & ~(size_t)1 : 64;
	bool le = m >= 2, be = m >= 2;

	if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		return 3;
	if (len >= 4 && b[0] == 0xff && b[1] == 0xfe && !b[2] && !b[3]) {
		what = "UTF-32LE";
		how = "byte order mark FF FE 00 00";
	} else if (len >= 4 && !b[0] && !b[1] && b[2] == 0xfe &&
	    b[3] == 0xff) {
		what = "UTF-32BE";
		how = "byte order mark 00 00 FE FF";
	} else if (len >= 2 && b[0] == 0xff && b[1] == 0xfe) {
		what = "UTF-16LE";
		how = "byte order mark FF FE";
	} else if (len >= 2 && b[0] == 0xfe && b[1] == 0xff) {
		what = "UTF-16BE";
		how = "byte order mark FE FF";
	} else {
		for (i = 0; i < m; i += 2) {
			le = le && b[i] != 0 && b[i + 1] == 0;
			be = be && b[i] == 0 && b[i + 1] != 0;
		}
		if (le || be) {
			what = le ? "UTF-16LE" : "UTF-16BE";
			how = "every other byte is NUL";
		}
	}
	if (what == NULL)
		return 0;
	snprintf(err, errlen, "%s:1: %s text (%s): %s", name, what, how, save);
	return -1;
}

/* One file's parse: where it is and what it has set. */
struct reader {
	struct config	*c;
	unsigned	 lineno;
	size_t		 first;		/* c->v[first..] come from this file */
	char		 where[512];
	char		 section[LINE_MAX_CONF];
};

/* "[name]": the section that the next keys are in. */
static int
parse_section(struct reader *r, char *p, char *err, size_t errlen)
{
	char *close = strchr(p, ']');

	if (close == NULL || close[1] != '\0') {
		snprintf(err, errlen, "%s: a section header reads [name]",
		    r->where);
		return -1;
	}
	*close = '\0';
	p = trim(p + 1);
	/* "[rule  x]" -> "rule x" */
	if (strncmp(p, "rule", 4) == 0 && isspace((unsigned char)p[4]))
		snprintf(r->section, sizeof(r->section), "rule %s",
		    trim(p + 5));
	else
		snprintf(r->section, sizeof(r->section), "%s", p);
	if (!known_section(r->section)) {
		snprintf(err, errlen, "%s: unknown section [%.60s] (capture, "
		    "policy, firewall, paths, rule NAME)", r->where,
		    r->section);
		return -1;
	}
	return 0;
}

/*
 * "key = value". A key set twice in one file is an error naming both
 * lines: the first would be silently dead, and which of two values an
 * admin meant is not for the program to guess. A section may come back
 * ("[policy]" twice): its keys merge, under the same rule.
 */
static int
parse_key(struct reader *r, char *p, char *err, size_t errlen)
{
	struct config *c = r->c;
	char why[256], kn[160];
	char *eq, *key, *val;
	size_t i;

	if ((eq = strchr(p, '=')) == NULL) {
		snprintf(err, errlen, "%s: expected 'key = value', got "
		    "'%.60s'", r->where, p);
		return -1;
	}
	*eq = '\0';
	key = trim(p);
	val = trim(eq + 1);
	if (r->section[0] == '\0') {
		snprintf(err, errlen, "%s: key '%.60s' before any [section]",
		    r->where, key);
		return -1;
	}
	if (check_key(r->section, key, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", r->where, why);
		return -1;
	}
	for (i = r->first; i < c->n; i++)
		if (strcmp(c->v[i].key, key) == 0 &&
		    strcmp(c->v[i].section, r->section) == 0) {
			key_name(kn, sizeof(kn), r->section, key);
			snprintf(err, errlen, "%s: %s: already set at line %u",
			    r->where, kn, c->v[i].line);
			return -1;
		}
	if (c->n - r->first >= CONF_ENTRIES_MAX) {
		snprintf(err, errlen, "%s: more than %d settings in one file",
		    r->where, CONF_ENTRIES_MAX);
		return -1;
	}
	if (add(c, r->section, key, val, r->where, r->lineno) < 0) {
		snprintf(err, errlen, "%s: out of memory", r->where);
		return -1;
	}
	return 0;
}

int
config_parse(struct config *c, const char *name, const void *text,
    size_t len, char *err, size_t errlen)
{
	const char *b = text, *end = b + len, *lf = NULL, *nul;
	char line[LINE_MAX_CONF], *p;
	struct reader r = { .c = c, .first = c->n };
	size_t n;
	int skip, rc;

	if ((skip = check_encoding(name, text, len, err, errlen)) < 0)
		return -1;
	b += skip;
	for (; b < end; b = lf != NULL ? lf + 1 : end) {
		r.lineno++;
		snprintf(r.where, sizeof(r.where), "%s:%u", name, r.lineno);
		lf = memchr(b, '\n', (size_t)(end - b));
		n = (size_t)((lf != NULL ? lf : end) - b);
		if ((nul = memchr(b, '\0', n)) != NULL) {
			snprintf(err, errlen, "%s: NUL byte at column %zu (a "
			    "binary file, or text neither ASCII nor UTF-8)",
			    r.where, (size_t)(nul - b) + 1);
			goto fail;
		}
		if (n > LINE_MAX_CONF - 2) {
			snprintf(err, errlen, "%s: line longer than %d bytes",
			    r.where, LINE_MAX_CONF - 2);
			goto fail;
		}
		memcpy(line, b, n);
		line[n] = '\0';
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[')
			rc = parse_section(&r, p, err, errlen);
		else
			rc = parse_key(&r, p, err, errlen);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	/* All of a file or none of it: drop what it had set. */
	while (c->n > r.first)
		entry_free(&c->v[--c->n]);
	return -1;
}

/*
 * Reads fp whole into *bufp (the caller frees it, also on error), at
 * most CONF_SIZE_MAX + 1 bytes: the one byte over the limit tells that
 * the file is too long. Returns -1 on a read error or out of memory.
 */
static int
read_all(FILE *fp, char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 0, ncap, n;
	char *buf = NULL, *nb;
	int rc = 0;

	while (cap < CONF_SIZE_MAX + 1 || len < cap) {
		if (len == cap) {
			ncap = cap ? cap * 2 : 8192;
			if (ncap > CONF_SIZE_MAX + 1)
				ncap = CONF_SIZE_MAX + 1;
			if ((nb = realloc(buf, ncap)) == NULL) {
				rc = -1;	/* errno is ENOMEM */
				break;
			}
			buf = nb;
			cap = ncap;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0) {
			if (ferror(fp))
				rc = -1;
			break;
		}
		len += n;
	}
	*bufp = buf;
	*lenp = len;
	return rc;
}

int
config_load(struct config *c, const char *path, bool must_exist, char *err,
    size_t errlen)
{
	char *buf = NULL, *copy;
	size_t len, i, lines;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((copy = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	free(c->path);
	c->path = copy;
	if (read_all(fp, &buf, &len) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > CONF_SIZE_MAX) {
		for (i = 0, lines = 1; i < CONF_SIZE_MAX; i++)
			lines += buf[i] == '\n';
		snprintf(err, errlen, "%s:%zu: file longer than %d bytes",
		    path, lines, CONF_SIZE_MAX);
		goto out;
	}
	rc = config_parse(c, path, buf, len, err, errlen);
out:
	free(buf);
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
	if (add(c, section, key, eq + 1, where, 0) < 0) {
		snprintf(err, errlen, "%s: out of memory", where);
		return -1;
	}
	return 0;
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		entry_free(&c->v[i]);
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

/*
 * The first len bytes of s are a number in decimal: digits, one '.' at
 * most, at least one digit, and a leading '-' if sign. strtol and strtod
 * also take leading space, '+', hex ("0x10"), exponents ("1e3") and
 * "inf": in a config file each of those is a typo, not a number.
 */
static bool
is_decimal(const char *s, size_t len, bool sign, bool point)
{
	size_t i = 0, digits = 0;
	bool dot = false;

	if (sign && len > 0 && s[0] == '-')
		i++;
	for (; i < len; i++) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (s[i] == '.' && point && !dot)
			dot = true;
		else
			return false;
	}
	return digits > 0;
}

int
config_parse_duration(const char *s, wb_usec *out)
{
	size_t len = strlen(s);
	char *end;
	double n;
	int64_t unit = 1;

	/* A unit letter at most, after a decimal number. */
	if (len > 0 && isalpha((unsigned char)s[len - 1]))
		len--;
	if (!is_decimal(s, len, false, true))
		return -1;
	errno = 0;
	n = strtod(s, &end);
	if ((size_t)(end - s) != len || errno != 0 || !isfinite(n) || n < 0)
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
	if (!is_decimal(e->value, strlen(e->value), true, false) ||
	    end == e->value || *end != '\0' || errno != 0 || n < lo ||
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
	if (!is_decimal(e->value, strlen(e->value), true, true) ||
	    end == e->value || *end != '\0' || errno != 0 || !isfinite(n) ||
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
