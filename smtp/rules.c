/*
 * rules.c - the rule engine: which abuse category a 4xx/5xx reply is.
 *
 * A rule matches a reply by code (exact codes or classes such as "5xx"),
 * by the command the reply answers, and by a PCRE2 pattern over the
 * reply's whole text (lines joined by '\n'; caseless). The first rule
 * that matches wins: user rules first, then the built-in exim pack, so a
 * user can carve an exception out of a built-in category. Patterns are
 * JIT-compiled and matched under a match and depth limit, so a rule can
 * never make the reply text of an attacker cost unbounded time. A rule
 * that hits a limit on a reply does not match it (the rules after it are
 * still tried), and the hit is counted for that rule, so that a pattern
 * which gives up on real replies can be reported instead of silently
 * classifying nothing.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

#define MAX_CODE_SPECS	8
#define MATCH_LIMIT	100000	/* backtracking steps per match */
#define DEPTH_LIMIT	1000
#define WEIGHT_MAX	1000

/* A rule's command condition: bit (1 << cmd) for each command answered. */
typedef uint32_t cmd_mask;
_Static_assert(SMTP_CMD_COUNT <= sizeof(cmd_mask) * CHAR_BIT,
    "cmd_mask needs one bit per command of commands.def");

struct code_range {
	uint16_t	 lo, hi;
};

struct rule {
	struct smtp_rule_info info;	/* points into the strings below */
	char		 name[SMTP_RULE_NAME_MAX];
	char		*code_s, *cmd_s, *pattern_s;
	struct code_range codes[MAX_CODE_SPECS];
	size_t		 ncodes;
	cmd_mask	 cmds;
	pcre2_code	*re;		/* NULL: the pattern is empty */
	uint64_t	 limit_hits;	/* matches PCRE2 gave up on */
};

struct smtp_rules {
	struct rule	*v;
	size_t		 n, cap;
	size_t		 nuser;		/* v[0..nuser) are the user's */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

/*
 * The built-in exim pack. Texts are exim 4.9x's own (smtp_in.c, acl.c,
 * verify.c) and those of Debian's default ACLs. Order matters: the
 * sender-verify reply holds "Unknown user" too, so callout comes before
 * unknown_user; a sync error may answer any command, so it comes first.
 * Weights: with maxretry 3, weight 3 bans at once, weight 1 at the third.
 */
static const struct {
	const char *name, *code, *cmd, *pattern;
	int weight;
} builtin[] = {
	{ "sync", "5xx", "any", "synchronization error", 3 },
	{ "relay", "5xx", "RCPT",
	    "relay(ing)? (not permitted|denied|not allowed)", 3 },
	{ "rbl", "5xx", "any",
	    "black ?list|block ?list|dnsbl|\\brbl\\b|is listed (in|at|on)\\b",
	    3 },
	{ "callout", "5xx", "MAIL,RCPT",
	    "callout verification failed|verification failed for|"
	    "(sender|recipient) verify failed", 1 },
	{ "unknown_user", "5xx", "RCPT,VRFY",
	    "unknown user|unrouteable address|unknown local[- ]part|"
	    "too many bad recipients", 1 },
	{ "protocol", "5xx", "any",
	    "too many (unrecogni[sz]ed|nonmail) commands|"
	    "too many syntax or protocol errors|"
	    "syntactically invalid (ehlo|helo) argument|"
	    "helo argument does not match calling host|"
	    "nul characters are not allowed", 1 },
	{ "auth", "535,503,504", "AUTH", "", 1 },
	{ "content", "5xx", "EOM,BDAT", "local_scan|virus|malware", 1 },
	{ "policy", "5xx", "any", "administrative prohibition", 1 },
};

/* The words of a rule's command key; AUTH_DATA shares AUTH's. */
static const char *const cmd_words[SMTP_CMD_COUNT] = {
#define SMTP_CMD(id, verb, rule) [SMTP_CMD_##id] = rule,
#include "commands.def"
};

static void
rule_clear(struct rule *r)
{
	free(r->code_s);
	free(r->cmd_s);
	free(r->pattern_s);
	pcre2_code_free(r->re);
	memset(r, 0, sizeof(*r));
}

static void
rule_sync_info(struct rule *r)
{
	r->info.name = r->name;
	r->info.code = r->code_s;
	r->info.command = r->cmd_s;
	r->info.pattern = r->pattern_s;
}

static int
set_string(char **dst, const char *v, char *err, size_t errlen)
{
	char *c;

	if ((c = strdup(v)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = c;
	return 0;
}

/* "5xx", "550", "55x", "535,503,504", "any". */
static int
parse_codes(struct rule *r, const char *v, char *err, size_t errlen)
{
	struct code_range c[MAX_CODE_SPECS];
	size_t n = 0, i;
	const char *p = v;

	if (strcasecmp(v, "any") == 0) {
		c[0].lo = 200;
		c[0].hi = 599;
		n = 1;
		goto done;
	}
	while (*p != '\0') {
		uint16_t lo = 0, hi = 0;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (n == MAX_CODE_SPECS) {
			snprintf(err, errlen, "code: more than %d codes",
			    MAX_CODE_SPECS);
			return -1;
		}
		for (i = 0; i < 3; i++, p++) {
			if (isdigit((unsigned char)*p) && (i > 0 ||
			    (*p >= '2' && *p <= '5'))) {
				lo = (uint16_t)(lo * 10 + (*p - '0'));
				hi = (uint16_t)(hi * 10 + (*p - '0'));
			} else if ((*p == 'x' || *p == 'X') && i > 0) {
				lo = (uint16_t)(lo * 10);
				hi = (uint16_t)(hi * 10 + 9);
			} else {
				snprintf(err, errlen, "code: '%s' is not a "
				    "reply code such as 550, 5xx or 55x", v);
				return -1;
			}
		}
		if (*p != '\0' && *p != ',' && *p != ' ') {
			snprintf(err, errlen, "code: '%s' is not a reply "
			    "code such as 550, 5xx or 55x", v);
			return -1;
		}
		c[n].lo = lo;
		c[n].hi = hi;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "code: empty");
		return -1;
	}
done:
	if (set_string(&r->code_s, v, err, errlen) < 0)
		return -1;
	memcpy(r->codes, c, n * sizeof(c[0]));
	r->ncodes = n;
	return 0;
}

/* The commands whose word is p[0..len), or 0 when there are none. */
static cmd_mask
cmd_word_mask(const char *p, size_t len)
{
	cmd_mask mask = 0;
	size_t i;

	for (i = 0; i < SMTP_CMD_COUNT; i++)
		if (cmd_words[i] != NULL && strlen(cmd_words[i]) == len &&
		    strncasecmp(cmd_words[i], p, len) == 0)
			mask |= (cmd_mask)1 << i;
	return mask;
}

/* "any", or words from cmd_words separated by commas. */
static int
parse_cmds(struct rule *r, const char *v, char *err, size_t errlen)
{
	cmd_mask mask = 0, m;
	const char *p = v;
	size_t len;

	if (strcasecmp(v, "any") == 0) {
		mask = ~(cmd_mask)0;
		goto done;
	}
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", ");
		if ((m = cmd_word_mask(p, len)) == 0) {
			snprintf(err, errlen, "command: unknown command "
			    "'%.*s' (any, greeting, HELO, EHLO, MAIL, RCPT, "
			    "DATA, BDAT, EOM, AUTH, STARTTLS, ...)",
			    (int)(len > 32 ? 32 : len), p);
			return -1;
		}
		mask |= m;
		p += len;
	}
	if (mask == 0) {
		snprintf(err, errlen, "command: empty");
		return -1;
	}
done:
	if (set_string(&r->cmd_s, v, err, errlen) < 0)
		return -1;
	r->cmds = mask;
	return 0;
}

static int
parse_pattern(struct rule *r, const char *v, char *err, size_t errlen)
{
	pcre2_code *re = NULL;
	PCRE2_UCHAR msg[128];
	PCRE2_SIZE off;
	int ec;

	if (*v != '\0') {
		re = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED,
		    PCRE2_CASELESS, &ec, &off, NULL);
		if (re == NULL) {
			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errlen, "pattern: %s at offset %zu",
			    (const char *)msg, (size_t)off);
			return -1;
		}
		/* JIT is an optimisation: without it, match interpreted. */
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	}
	if (set_string(&r->pattern_s, v, err, errlen) < 0) {
		pcre2_code_free(re);
		return -1;
	}
	pcre2_code_free(r->re);
	r->re = re;
	return 0;
}

/* Decimal digits only: strtol alone would take " 3", "+3" and "-0". */
static int
parse_int(const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

static int
parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
	    !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

static struct rule *
find(struct smtp_rules *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].name, name) == 0)
			return &rs->v[i];
	return NULL;
}

/* Inserts an empty rule at index at; NULL when out of memory. */
static struct rule *
insert(struct smtp_rules *rs, size_t at)
{
	size_t i;

	if (rs->n == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 16;
		struct rule *nv = realloc(rs->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		rs->v = nv;
		rs->cap = ncap;
	}
	memmove(&rs->v[at + 1], &rs->v[at], (rs->n - at) * sizeof(*rs->v));
	rs->n++;
	memset(&rs->v[at], 0, sizeof(*rs->v));
	/* The strings moved with their structs: re-point the infos. */
	for (i = 0; i < rs->n; i++)
		if (i != at)
			rule_sync_info(&rs->v[i]);
	return &rs->v[at];
}

static bool
valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= SMTP_RULE_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-' && name[i] != '.')
			return false;
	return true;
}

/* A new rule with the defaults of smtp_rules_set(). */
static struct rule *
new_rule(struct smtp_rules *rs, const char *name, bool user, char *err,
    size_t errlen)
{
	struct rule *r;

	if (!valid_name(name)) {
		snprintf(err, errlen, "rule name '%.40s': use 1-%d letters, "
		    "digits, '_', '-' or '.'", name, SMTP_RULE_NAME_MAX - 1);
		return NULL;
	}
	if ((r = insert(rs, user ? rs->nuser : rs->n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (user)
		rs->nuser++;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->info.weight = 1;
	r->info.offence = true;
	r->info.builtin = !user;
	if (parse_codes(r, "5xx", err, errlen) < 0 ||
	    parse_cmds(r, "any", err, errlen) < 0 ||
	    parse_pattern(r, "", err, errlen) < 0)
		return NULL;
	rule_sync_info(r);
	return r;
}

static int
set_key(struct rule *r, const char *key, const char *value, char *err,
    size_t errlen)
{
	long n;
	int rc = 0;

	if (strcmp(key, "code") == 0) {
		rc = parse_codes(r, value, err, errlen);
	} else if (strcmp(key, "command") == 0) {
		rc = parse_cmds(r, value, err, errlen);
	} else if (strcmp(key, "pattern") == 0) {
		rc = parse_pattern(r, value, err, errlen);
	} else if (strcmp(key, "weight") == 0) {
		if (parse_int(value, 0, WEIGHT_MAX, &n) < 0) {
			snprintf(err, errlen, "weight: '%.40s' is not a whole "
			    "number from 0 to %d", value, WEIGHT_MAX);
			return -1;
		}
		r->info.weight = (int)n;
	} else if (strcmp(key, "offence") == 0) {
		if (parse_bool(value, &r->info.offence) < 0) {
			snprintf(err, errlen, "offence: '%.40s' is not yes or "
			    "no", value);
			return -1;
		}
	} else {
		snprintf(err, errlen, "unknown key '%.40s' (code, command, "
		    "pattern, weight, offence)", key);
		return -1;
	}
	rule_sync_info(r);
	return rc;
}

struct smtp_rules *
smtp_rules_new(bool with_builtin)
{
	struct smtp_rules *rs;
	struct rule *r;
	char err[256];
	size_t i;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	if ((rs->md = pcre2_match_data_create(4, NULL)) == NULL ||
	    (rs->mctx = pcre2_match_context_create(NULL)) == NULL)
		goto fail;
	pcre2_set_match_limit(rs->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, DEPTH_LIMIT);
	for (i = 0; with_builtin && i < sizeof(builtin) / sizeof(builtin[0]);
	    i++) {
		if ((r = new_rule(rs, builtin[i].name, false, err,
		    sizeof(err))) == NULL ||
		    parse_codes(r, builtin[i].code, err, sizeof(err)) < 0 ||
		    parse_cmds(r, builtin[i].cmd, err, sizeof(err)) < 0 ||
		    parse_pattern(r, builtin[i].pattern, err, sizeof(err)) < 0)
			goto fail;	/* only out of memory can get here */
		r->info.weight = builtin[i].weight;
		rule_sync_info(r);
	}
	return rs;
fail:
	smtp_rules_free(rs);
	return NULL;
}

void
smtp_rules_free(struct smtp_rules *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_clear(&rs->v[i]);
	free(rs->v);
	pcre2_match_data_free(rs->md);
	pcre2_match_context_free(rs->mctx);
	free(rs);
}

int
smtp_rules_set(struct smtp_rules *rs, const char *name, const char *key,
    const char *value, char *err, size_t errlen)
{
	struct rule *r;

	if ((r = find(rs, name)) == NULL &&
	    (r = new_rule(rs, name, true, err, errlen)) == NULL)
		return -1;
	return set_key(r, key, value, err, errlen);
}

/* Why PCRE2 gives up on a match, rather than finding none. */
static bool
is_limit(int rc)
{
	return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

static bool
rule_matches(struct smtp_rules *rs, struct rule *r,
    const struct smtp_event *ev)
{
	size_t i;
	int rc;

	for (i = 0; i < r->ncodes; i++)
		if (ev->code >= r->codes[i].lo && ev->code <= r->codes[i].hi)
			break;
	if (i == r->ncodes)
		return false;
	if ((unsigned)ev->cmd >= SMTP_CMD_COUNT ||
	    !(r->cmds & ((cmd_mask)1 << ev->cmd)))
		return false;
	if (r->re == NULL)
		return true;
	rc = pcre2_match(r->re, (PCRE2_SPTR)(ev->text ? ev->text : ""),
	    ev->text_len, 0, 0, rs->md, rs->mctx);
	/*
	 * A limit hit is no match for this rule; later rules are tried. The
	 * JIT has no depth limit but a stack of its own (32 KiB, PCRE2's
	 * default), whose exhaustion counts the same way.
	 */
	if (is_limit(rc) && r->limit_hits < UINT64_MAX)
		r->limit_hits++;
	return rc >= 0;
}

const struct smtp_rule_info *
smtp_rules_match(struct smtp_rules *rs, const struct smtp_event *ev)
{
	size_t i;

	if (ev->type != SMTP_EV_REPLY || ev->code < 400 || ev->code > 599)
		return NULL;
	for (i = 0; i < rs->n; i++)
		if (rule_matches(rs, &rs->v[i], ev))
			return &rs->v[i].info;
	return NULL;
}

size_t
smtp_rules_count(const struct smtp_rules *rs)
{
	return rs->n;
}

const struct smtp_rule_info *
smtp_rules_get(const struct smtp_rules *rs, size_t i)
{
	return i < rs->n ? &rs->v[i].info : NULL;
}

uint64_t
smtp_rules_limit_hits(const struct smtp_rules *rs, size_t i)
{
	return i < rs->n ? rs->v[i].limit_hits : 0;
}
