/*
 * names.c - the printable names of the parser's enums. The tables are
 * indexed by the enum values; a value out of range prints as "?".
 */
#include "smtp.h"

#define NAME(tab, i) \
	((unsigned)(i) < sizeof(tab) / sizeof(tab[0]) && tab[i] ? tab[i] : "?")

static const char *const cmd_names[SMTP_CMD_COUNT] = {
#define SMTP_CMD(id, verb, rule) [SMTP_CMD_##id] = #id,
#include "commands.def"
};

static const char *const anomaly_names[SMTP_AN_COUNT] = {
	[SMTP_AN_NONE] = "none",
	[SMTP_AN_LINE_TOO_LONG] = "line_too_long",
	[SMTP_AN_INVALID_REPLY] = "invalid_reply",
	[SMTP_AN_UNPAIRED_REPLY] = "unpaired_reply",
	[SMTP_AN_QUEUE_OVERFLOW] = "queue_overflow",
	[SMTP_AN_EARLY_TALKER] = "early_talker",
	[SMTP_AN_NUL_BYTES] = "nul_bytes",
	[SMTP_AN_BAD_BDAT] = "bad_bdat",
	[SMTP_AN_CODE_MISMATCH] = "code_mismatch",
	[SMTP_AN_STARTTLS_INJECTION] = "starttls_injection",
};

static const char *const tls_names[] = {
	[SMTP_TLS_NONE] = "none",
	[SMTP_TLS_STARTTLS] = "starttls",
	[SMTP_TLS_IMPLICIT] = "implicit",
};

const char *
smtp_cmd_name(enum smtp_cmd c)
{
	return NAME(cmd_names, c);
}

const char *
smtp_anomaly_name(enum smtp_anomaly a)
{
	return NAME(anomaly_names, a);
}

const char *
smtp_tls_name(enum smtp_tls t)
{
	return NAME(tls_names, t);
}

#define CASE(x)	case SMTP_S_##x: return #x

/* A switch, not a table: -Wswitch names a state left out here. */
const char *
smtp_state_name(enum smtp_state st)
{
	switch (st) {
	CASE(COMMAND);
	CASE(AUTH);
	CASE(DATA);
	CASE(BDAT);
	CASE(TLS_CLIENT);
	CASE(TLS);
	CASE(END);
	case SMTP_S_COUNT:
		break;
	}
	return "?";
}

#undef CASE
