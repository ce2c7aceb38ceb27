/*
 * check_rules.c - the rule engine of smtp/, as tables: every exim text of
 * the built-in pack and the category it must get, user rules and their
 * errors, the words of the command key (from smtp/commands.def), and the
 * PCRE2 limits with their per-rule count.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

#define C2S SMTP_FROM_CLIENT
#define S2C SMTP_FROM_SERVER

/* A reply of code to cmd with text, through the rules. */
static const struct smtp_rule_info *
match_text(struct smtp_rules *rs, int code, enum smtp_cmd cmd,
    const char *text)
{
	struct smtp_event ev = {
		.type = SMTP_EV_REPLY, .code = code, .cmd = cmd,
		.text = text, .text_len = strlen(text),
	};

	return smtp_rules_match(rs, &ev);
}

/* The command table, so each row's rule word is checked. */
static const struct {
	enum smtp_cmd	 cmd;
	const char	*name;
	const char	*rule;
} cmd_table[] = {
#define SMTP_CMD(id, verb, rule) { SMTP_CMD_##id, #id, rule },
#include "../smtp/commands.def"
};

/* Every row: its rule word selects it; a row without one, only "any". */
START_TEST(test_cmd_table_rule_words)
{
	struct smtp_rules *rs = smtp_rules_new(false);
	const char *word = cmd_table[_i].rule;
	char err[256] = "";
	size_t i;

	if (word == NULL) {
		ck_assert_int_eq(smtp_rules_set(rs, "r", "command",
		    cmd_table[_i].name, err, sizeof(err)), -1);
		ck_assert_int_eq(smtp_rules_set(rs, "r", "command", "any",
		    err, sizeof(err)), 0);
	} else
		ck_assert_int_eq(smtp_rules_set(rs, "r", "command", word,
		    err, sizeof(err)), 0);
	for (i = 0; i < SMTP_CMD_COUNT; i++) {
		bool want = word == NULL || (cmd_table[i].rule != NULL &&
		    strcmp(cmd_table[i].rule, word) == 0);

		ck_assert_msg((match_text(rs, 550, cmd_table[i].cmd, "x") !=
		    NULL) == want, "command = %s, reply to %s",
		    word ? word : "any", cmd_table[i].name);
	}
	smtp_rules_free(rs);
}
END_TEST

/* ---- rules: every exim text of the pack -------------------------------- */

struct rcase {
	int		 code;
	enum smtp_cmd	 cmd;
	const char	*text;
	const char	*rule;		/* NULL: no rule */
	bool		 offence;
};

#include "smtp_rule_cases.h"

START_TEST(test_rule_case)
{
	const struct rcase *c = &rule_cases[_i];
	struct smtp_rules *rs = smtp_rules_new(true);
	struct smtp_event ev = {
		.type = SMTP_EV_REPLY,
		.code = c->code,
		.cmd = c->cmd,
		.text = c->text,
		.text_len = strlen(c->text),
	};
	const struct smtp_rule_info *r;

	ck_assert_ptr_nonnull(rs);
	r = smtp_rules_match(rs, &ev);
	if (c->rule == NULL)
		ck_assert_msg(r == NULL, "%d %s '%s': expected no rule, got "
		    "%s", c->code, smtp_cmd_name(c->cmd), c->text,
		    r ? r->name : "");
	else {
		ck_assert_msg(r != NULL, "%d %s '%s': expected %s, got none",
		    c->code, smtp_cmd_name(c->cmd), c->text, c->rule);
		ck_assert_str_eq(r->name, c->rule);
		ck_assert_int_eq(r->offence && r->weight > 0, c->offence);
	}
	smtp_rules_free(rs);
}
END_TEST

/*
 * The built-in weights (README.md, wireban.conf(5)): with maxretry 3,
 * these ban at once.
 */
START_TEST(test_rule_weights)
{
	static const struct {
		const char *name;
		int weight;
	} w[] = {
		{ "relay", 3 }, { "rbl", 3 }, { "sync", 3 },
		{ "unknown_user", 1 }, { "auth", 1 },
	};
	struct smtp_rules *rs = smtp_rules_new(true);
	size_t i, j, found;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		found = 0;
		for (j = 0; j < smtp_rules_count(rs); j++)
			if (strcmp(smtp_rules_get(rs, j)->name,
			    w[i].name) == 0) {
				ck_assert_int_eq(smtp_rules_get(rs, j)->weight,
				    w[i].weight);
				found++;
			}
		ck_assert_uint_eq(found, 1);
	}
	smtp_rules_free(rs);
}
END_TEST

/* A user rule comes before the built-ins and can override one. */
START_TEST(test_rule_user_override)
{
	struct smtp_rules *rs = smtp_rules_new(true);
	const struct smtp_rule_info *r;
	char err[256];

	ck_assert_int_eq(smtp_rules_set(rs, "trusted", "pattern",
	    "relay not permitted.*partner", err, sizeof(err)), 0);
	ck_assert_int_eq(smtp_rules_set(rs, "trusted", "offence", "no",
	    err, sizeof(err)), 0);
	r = match_text(rs, 550, SMTP_CMD_RCPT, "relay not permitted partner");
	ck_assert_str_eq(r->name, "trusted");
	ck_assert(!r->offence);
	r = match_text(rs, 550, SMTP_CMD_RCPT, "relay not permitted");
	ck_assert_str_eq(r->name, "relay");
	/* Overriding a built-in keeps its place and changes its key. */
	ck_assert_int_eq(smtp_rules_set(rs, "relay", "weight", "1", err,
	    sizeof(err)), 0);
	r = match_text(rs, 550, SMTP_CMD_RCPT, "relay not permitted");
	ck_assert_int_eq(r->weight, 1);
	/* A 4xx rule of the user's own. */
	ck_assert_int_eq(smtp_rules_set(rs, "greylist", "code", "451",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(smtp_rules_set(rs, "greylist", "command", "RCPT",
	    err, sizeof(err)), 0);
	r = match_text(rs, 451, SMTP_CMD_RCPT, "greylisted");
	ck_assert_str_eq(r->name, "greylist");
	ck_assert_ptr_null(match_text(rs, 451, SMTP_CMD_MAIL, "greylisted"));
	smtp_rules_free(rs);
}
END_TEST

struct badset {
	const char *key, *value, *msg;
};

static const struct badset bad_sets[] = {
	{ "code", "650", "code: '650'" },
	{ "code", "5x", "code: '5x'" },
	{ "code", "x50", "code: 'x50'" },
	{ "code", "", "code: empty" },
	{ "command", "FOO", "command: unknown command 'FOO'" },
	{ "pattern", "(unclosed", "pattern: missing closing parenthesis" },
	{ "weight", "-1", "weight: '-1'" },
	{ "weight", "3x", "weight: '3x'" },
	{ "weight", "+3", "weight: '+3'" },
	{ "weight", " 3", "weight: ' 3'" },
	{ "weight", "0x3", "weight: '0x3'" },
	{ "weight", "99999", "weight: '99999'" },
	{ "offence", "maybe", "offence: 'maybe'" },
	{ "colour", "red", "unknown key 'colour'" },
};

START_TEST(test_rule_bad_value)
{
	const struct badset *b = &bad_sets[_i];
	struct smtp_rules *rs = smtp_rules_new(true);
	char err[256] = "";

	ck_assert_int_eq(smtp_rules_set(rs, "mine", b->key, b->value, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, b->msg) != NULL, "'%s' lacks '%s'", err,
	    b->msg);
	smtp_rules_free(rs);
}
END_TEST

START_TEST(test_rule_bad_name)
{
	struct smtp_rules *rs = smtp_rules_new(false);
	char err[256] = "";

	ck_assert_int_eq(smtp_rules_set(rs, "a b", "weight", "1", err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "rule name") != NULL);
	ck_assert_uint_eq(smtp_rules_count(rs), 0);
	smtp_rules_free(rs);
}
END_TEST

/*
 * Patterns that PCRE2 gives up on under the rules' limits. The first two
 * would match without those limits (within PCRE2's defaults: 10 million
 * steps and as deep): so they fail if a limit is dropped. The third is
 * the JIT's own stack (or the depth limit where there is no JIT), the
 * last never ends without a limit. Each hit is counted for the rule that
 * gave up, and the rule after it still matches the reply.
 */
static const struct limit_case {
	const char	*pattern;
	const char	*unit;		/* the text: unit repeated... */
	size_t		 reps;
	const char	*tail;		/* ...then tail */
} limit_cases[] = {
	{ "^(a+)+$|^a+b$", "a", 19, "b" },	/* match limit: 2^19 steps */
	{ "(*NO_JIT)^(?:a|b)*$", "ab", 750, "" }, /* depth limit: 1500 */
	{ "^(?:a|b)*$", "ab", 750, "" },	/* JIT stack */
	{ "^(a+)+$", "a", 3999, "b" },		/* exponential */
};

START_TEST(test_rule_limit_counted)
{
	const struct limit_case *c = &limit_cases[_i];
	struct smtp_rules *rs = smtp_rules_new(false);
	const struct smtp_rule_info *r;
	static char text[8192];
	size_t i, n = 0, u = strlen(c->unit);
	char err[256];

	for (i = 0; i < c->reps; i++, n += u)
		memcpy(text + n, c->unit, u);
	snprintf(text + n, sizeof(text) - n, "%s", c->tail);
	ck_assert_int_eq(smtp_rules_set(rs, "slow", "pattern", c->pattern,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(smtp_rules_set(rs, "next", "weight", "2", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(smtp_rules_limit_hits(rs, 0), 0);
	r = match_text(rs, 550, SMTP_CMD_RCPT, text);
	ck_assert_msg(r != NULL && strcmp(r->name, "next") == 0,
	    "'%s' on %zu bytes: matched by %s", c->pattern, strlen(text),
	    r ? r->name : "none");
	ck_assert_uint_eq(smtp_rules_limit_hits(rs, 0), 1);
	ck_assert_uint_eq(smtp_rules_limit_hits(rs, 1), 0);
	(void)match_text(rs, 550, SMTP_CMD_RCPT, text);
	ck_assert_uint_eq(smtp_rules_limit_hits(rs, 0), 2);
	/* A reply the pattern settles quickly is no hit. */
	(void)match_text(rs, 550, SMTP_CMD_RCPT, "b");
	ck_assert_uint_eq(smtp_rules_limit_hits(rs, 0), 2);
	ck_assert_uint_eq(smtp_rules_limit_hits(rs, 2), 0);
	smtp_rules_free(rs);
}
END_TEST

/* A whole exim session through parser and rules: one offence per reply. */
struct tally {
	struct smtp_rules *rs;
	char got[512];
};

static void
classify(const struct smtp_event *ev, void *arg)
{
	struct tally *t = arg;
	const struct smtp_rule_info *r;
	size_t n = strlen(t->got);

	if (ev->type != SMTP_EV_REPLY || ev->code < 400)
		return;
	r = smtp_rules_match(t->rs, ev);
	snprintf(t->got + n, sizeof(t->got) - n, "%d %s %s;", ev->code,
	    smtp_cmd_name(ev->cmd), r ? r->name : "-");
}

START_TEST(test_session_classified)
{
	struct tally t = { .rs = smtp_rules_new(true) };
	struct smtp_session *s = smtp_session_new(NULL);
	static const char cl[] = "EHLO x\r\nMAIL FROM:<bad@example.org>\r\n"
	    "RCPT TO:<a@example.org>\r\nRCPT TO:<b@remote.test>\r\n"
	    "QUIT\r\n";
	static const char sv[] = "220 hi\r\n250 ok\r\n"
	    "550-Verification failed for <bad@example.org>\r\n"
	    "550-Unknown user\r\n550 Sender verify failed\r\n"
	    "503 sender not yet given\r\n"
	    "503 sender not yet given\r\n221 bye\r\n";

	smtp_feed(s, C2S, cl, sizeof(cl) - 1, 0, classify, &t);
	smtp_feed(s, S2C, sv, sizeof(sv) - 1, 0, classify, &t);
	ck_assert_str_eq(t.got, "550 MAIL callout;503 RCPT -;503 RCPT -;");
	smtp_session_free(s);
	smtp_rules_free(t.rs);
}
END_TEST
static Suite *
rules_suite(void)
{
	Suite *su = suite_create("rules");
	TCase *tc;

	tc = tcase_create("commands");
	tcase_add_loop_test(tc, test_cmd_table_rule_words, 0, SMTP_CMD_COUNT);
	suite_add_tcase(su, tc);

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_rule_case, 0,
	    sizeof(rule_cases) / sizeof(rule_cases[0]));
	tcase_add_test(tc, test_rule_weights);
	tcase_add_test(tc, test_rule_user_override);
	tcase_add_loop_test(tc, test_rule_bad_value, 0,
	    sizeof(bad_sets) / sizeof(bad_sets[0]));
	tcase_add_test(tc, test_rule_bad_name);
	suite_add_tcase(su, tc);

	tc = tcase_create("limits");
	tcase_add_loop_test(tc, test_rule_limit_counted, 0,
	    sizeof(limit_cases) / sizeof(limit_cases[0]));
	suite_add_tcase(su, tc);

	tc = tcase_create("session");
	tcase_add_test(tc, test_session_classified);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner *sr = srunner_create(rules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
