/*
 * smtp_rule_cases.h - reply texts exim 4.9x sends and the category each
 * must get from the built-in pack. Texts are exim's own defaults (from
 * its smtp_in.c, acl.c, verify.c and Debian's default ACLs). Included by
 * check_smtp.c.
 */

static const struct rcase rule_cases[] = {
	/* relay */
	{ 550, SMTP_CMD_RCPT, "relay not permitted", "relay", true },
	/* unknown_user */
	{ 550, SMTP_CMD_RCPT, "Unknown user", "unknown_user", true },
	{ 550, SMTP_CMD_RCPT, "Unrouteable address", "unknown_user", true },
	{ 550, SMTP_CMD_RCPT, "Rejected for too many bad recipients",
	    "unknown_user", true },
	{ 550, SMTP_CMD_VRFY, "Unknown user", "unknown_user", true },
	/* callout: one offence for the whole reply, not one per line, and
	 * it wins over the "Unknown user" inside it */
	{ 550, SMTP_CMD_MAIL, "Verification failed for <x@example.org>\n"
	    "Unknown user\nSender verify failed", "callout", true },
	{ 550, SMTP_CMD_RCPT, "Callout verification failed:\n"
	    "550 5.1.1 <u@remote.test>: User unknown", "callout", true },
	{ 550, SMTP_CMD_MAIL, "Verification failed for <x@remote.test>\n"
	    "Unrouteable address\nSender verify failed", "callout", true },
	/* rbl */
	{ 550, SMTP_CMD_RCPT, "rejected because 192.0.2.9 is in a black "
	    "list at zen.spamhaus.org\nhttps://www.spamhaus.org/query/ip/"
	    "192.0.2.9", "rbl", true },
	{ 550, SMTP_CMD_RCPT, "rejected found in dnsbl bl.example.net",
	    "rbl", true },
	{ 550, SMTP_CMD_RCPT, "Host is listed in bl.spamcop.net", "rbl",
	    true },
	{ 554, SMTP_CMD_NONE, "rejected because 192.0.2.9 is in a black "
	    "list at zen.spamhaus.org", "rbl", true },
	/* auth */
	{ 535, SMTP_CMD_AUTH_DATA, "Incorrect authentication data", "auth",
	    true },
	{ 535, SMTP_CMD_AUTH, "Incorrect authentication data", "auth",
	    true },
	{ 503, SMTP_CMD_AUTH, "AUTH command used when not advertised",
	    "auth", true },
	{ 504, SMTP_CMD_AUTH, "LOGIN authentication mechanism not supported",
	    "auth", true },
	/* sync, in place of the greeting or mid-session */
	{ 554, SMTP_CMD_NONE, "SMTP synchronization error", "sync", true },
	{ 554, SMTP_CMD_RCPT, "SMTP synchronization error", "sync", true },
	{ 554, SMTP_CMD_AUTH, "SMTP synchronization error", "sync", true },
	/* protocol */
	{ 500, SMTP_CMD_UNKNOWN, "Too many unrecognized commands",
	    "protocol", true },
	{ 554, SMTP_CMD_NOOP, "Too many nonmail commands", "protocol", true },
	{ 503, SMTP_CMD_DATA, "valid RCPT command must precede DATA\n"
	    "Too many syntax or protocol errors", "protocol", true },
	{ 501, SMTP_CMD_EHLO, "Syntactically invalid EHLO argument(s)",
	    "protocol", true },
	{ 550, SMTP_CMD_HELO, "HELO argument does not match calling host",
	    "protocol", true },
	{ 501, SMTP_CMD_MAIL, "NUL characters are not allowed in SMTP "
	    "commands", "protocol", true },
	/* content: the reply to the end of a message */
	{ 550, SMTP_CMD_EOM, "rejected by local_scan()", "content", true },
	{ 550, SMTP_CMD_EOM, "This message contains a virus "
	    "(Eicar-Test-Signature)", "content", true },
	{ 550, SMTP_CMD_BDAT, "This message contains a virus", "content",
	    true },
	/* policy: an ACL deny without a message */
	{ 550, SMTP_CMD_RCPT, "Administrative prohibition", "policy", true },
	/* not offences: 2xx/3xx, every 4xx, unknown 5xx */
	{ 250, SMTP_CMD_RCPT, "Accepted", NULL, false },
	{ 354, SMTP_CMD_DATA, "Enter message, ending with \".\" on a line "
	    "by itself", NULL, false },
	{ 221, SMTP_CMD_QUIT, "mx.example.org closing connection", NULL,
	    false },
	{ 451, SMTP_CMD_RCPT, "Temporary local problem - please try later",
	    NULL, false },
	{ 421, SMTP_CMD_NONE, "mx.example.org Too many concurrent SMTP "
	    "connections; please try again later.", NULL, false },
	{ 452, SMTP_CMD_RCPT, "too many recipients", NULL, false },
	{ 451, SMTP_CMD_RCPT, "relay not permitted", NULL, false },
	{ 421, SMTP_CMD_NONE, "mx.example.org: SMTP command timeout - "
	    "closing connection", NULL, false },
	{ 500, SMTP_CMD_UNKNOWN, "unrecognized command", NULL, false },
	{ 503, SMTP_CMD_DATA, "valid RCPT command must precede DATA", NULL,
	    false },
	{ 550, SMTP_CMD_RCPT, "mailbox is full", NULL, false },
	/* the right text answering the wrong command */
	{ 550, SMTP_CMD_MAIL, "relay not permitted", NULL, false },
	{ 535, SMTP_CMD_RCPT, "Incorrect authentication data", NULL, false },
	{ 550, SMTP_CMD_RCPT, "This message contains a virus", NULL, false },
};
