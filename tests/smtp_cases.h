/*
 * smtp_cases.h - the parser's table: conversations and their events.
 * Included by check_smtp.c, which defines CL/SV (a client/server step),
 * CLN/SVN (the same for bytes with NULs), GREET and GREET_R.
 */

static const struct pcase parser_cases[] = {
{ "basic_session_crlf", {
	GREET,
	CL("EHLO client.test\r\n"),
	SV("250-mx.example.org Hello client.test\r\n250-PIPELINING\r\n"
	   "250 HELP\r\n"),
	CL("MAIL FROM:<a@b.test>\r\n"), SV("250 OK\r\n"),
	CL("RCPT TO:<x@remote.test>\r\n"), SV("550 relay not permitted\r\n"),
	CL("QUIT\r\n"), SV("221 mx.example.org closing connection\r\n") },
	GREET_R
	"C EHLO client.test\n"
	"R 250 EHLO client.test +multi | mx.example.org Hello client.test\\n"
	"PIPELINING\\nHELP\n"
	"C MAIL <a@b.test>\n"
	"R 250 MAIL <a@b.test> | OK\n"
	"C RCPT <x@remote.test>\n"
	"R 550 RCPT <x@remote.test> | relay not permitted\n"
	"C QUIT\n"
	"R 221 QUIT | mx.example.org closing connection\n"
	"END\n" },

/* Bare LF and CR CR LF end lines too; the CRs are not part of them. */
{ "line_endings_lf_crcrlf", {
	GREET,
	CL("EHLO a\n"), SV("250 ok\r\r\n"),
	CL("NOOP\r\r\n"), SV("250 fine\n") },
	GREET_R
	"C EHLO a\n"
	"R 250 EHLO a | ok\n"
	"C NOOP\n"
	"R 250 NOOP | fine\n"
	"END\n" },

/* RFC 2920: one write, replies in order, each paired with its command. */
{ "pipelining_mixed_rcpts", {
	GREET,
	CL("EHLO c\r\n"), SV("250-mx\r\n250 PIPELINING\r\n"),
	CL("MAIL FROM:<s@c.test>\r\nRCPT TO:<ok@example.org>\r\n"
	   "RCPT TO:<nobody@example.org>\r\nRCPT TO:<x@remote.test>\r\n"
	   "DATA\r\n"),
	SV("250 OK\r\n250 Accepted\r\n550 Unknown user\r\n"
	   "550 relay not permitted\r\n"
	   "354 Enter message, ending with \".\" on a line by itself\r\n"),
	CL("Subject: hi\r\n\r\nbody\r\n.\r\n"),
	SV("250 OK id=1abc\r\n"),
	CL("QUIT\r\n"), SV("221 bye\r\n") },
	GREET_R
	"C EHLO c\n"
	"R 250 EHLO c +multi | mx\\nPIPELINING\n"
	"C MAIL <s@c.test>\n"
	"C RCPT <ok@example.org>\n"
	"C RCPT <nobody@example.org>\n"
	"C RCPT <x@remote.test>\n"
	"C DATA\n"
	"R 250 MAIL <s@c.test> | OK\n"
	"R 250 RCPT <ok@example.org> | Accepted\n"
	"R 550 RCPT <nobody@example.org> | Unknown user\n"
	"R 550 RCPT <x@remote.test> | relay not permitted\n"
	"R 354 DATA | Enter message, ending with \".\" on a line by itself\n"
	"DS\n"
	"DE EOM 21\n"		/* "Subject: hi\r\n" 13 + "\r\n" 2 + "body\r\n" 6 */
	"R 250 EOM | OK id=1abc\n"
	"C QUIT\n"
	"R 221 QUIT | bye\n"
	"END\n" },

/* Unknown verbs are queued like any line (exim answers each one). */
{ "pipelining_unknown_verbs_queued", {
	GREET,
	CL("EHLO c\r\nFOO bar\r\nNOOP\r\n"),
	SV("250 ok\r\n500 unrecognized command\r\n250 OK\r\n") },
	GREET_R
	"C EHLO c\n"
	"C UNKNOWN FOO bar\n"
	"C NOOP\n"
	"R 250 EHLO c | ok\n"
	"R 500 UNKNOWN FOO bar | unrecognized command\n"
	"R 250 NOOP | OK\n"
	"END\n" },

{ "multiline_220_greeting", {
	SV("220-mx.example.org ESMTP\r\n220-We do not authorize UBE\r\n"
	   "220 Spam disliked here\r\n"),
	CL("EHLO c\r\n"), SV("250 mx\r\n") },
	"R 220 NONE +greeting +multi | mx.example.org ESMTP\\n"
	"We do not authorize UBE\\nSpam disliked here\n"
	"C EHLO c\n"
	"R 250 EHLO c | mx\n"
	"END\n" },

/* exim's sender verification: three lines, one reply, one pairing. */
{ "multiline_550_sender_verify", {
	GREET,
	CL("MAIL FROM:<bad@example.org>\r\n"),
	SV("550-Verification failed for <bad@example.org>\r\n"
	   "550-Unknown user\r\n550 Sender verify failed\r\n"),
	CL("QUIT\r\n"), SV("221 bye\r\n") },
	GREET_R
	"C MAIL <bad@example.org>\n"
	"R 550 MAIL <bad@example.org> +multi | Verification failed for "
	"<bad@example.org>\\nUnknown user\\nSender verify failed\n"
	"C QUIT\n"
	"R 221 QUIT | bye\n"
	"END\n" },

{ "multiline_550_rbl", {
	GREET,
	CL("RCPT TO:<u@example.org>\r\n"),
	SV("550-rejected because 192.0.2.9 is in a black list at "
	   "zen.spamhaus.org\r\n550 https://www.spamhaus.org/query/ip/"
	   "192.0.2.9\r\n") },
	GREET_R
	"C RCPT <u@example.org>\n"
	"R 550 RCPT <u@example.org> +multi | rejected because 192.0.2.9 is "
	"in a black list at zen.spamhaus.org\\nhttps://www.spamhaus.org/"
	"query/ip/192.0.2.9\n"
	"END\n" },

/* A reply with nothing pending after the greeting: reported, flagged. */
{ "unsolicited_421_timeout", {
	GREET,
	CL("EHLO c\r\n"), SV("250 ok\r\n"),
	SV("421 mx.example.org: SMTP command timeout - closing "
	   "connection\r\n") },
	GREET_R
	"C EHLO c\n"
	"R 250 EHLO c | ok\n"
	"A unpaired_reply\n"
	"R 421 NONE +unsolicited | mx.example.org: SMTP command timeout - "
	"closing connection\n"
	"END\n" },

/* PIPE_CONNECT: EHLO before the 220. The 220 is still the greeting. */
{ "pipe_connect_ehlo_before_greeting", {
	CL("EHLO c\r\n"),
	GREET,
	SV("250-mx\r\n250 PIPE_CONNECT\r\n"),
	CL("QUIT\r\n"), SV("221 bye\r\n") },
	"A early_talker\n"
	"C EHLO c\n"
	GREET_R
	"R 250 EHLO c +multi | mx\\nPIPE_CONNECT\n"
	"C QUIT\n"
	"R 221 QUIT | bye\n"
	"END\n" },

/* exim refuses an early talker in place of its greeting. */
{ "early_talker_sync_error", {
	CL("EHLO early\r\n"),
	SV("554 SMTP synchronization error\r\n") },
	"A early_talker\n"
	"C EHLO early\n"
	"R 554 NONE +greeting | SMTP synchronization error\n"
	"END\n" },

/* No greeting in the capture: the first reply answers the EHLO. Verbs
 * in any case; bare "250" (code only) is a valid reply. */
{ "no_greeting_bare_codes_mixed_case", {
	CL("EHLO c\r\n"), SV("250\r\n"),
	CL("rset\r\nstaRttLs\r\n"), SV("250\r\n220\r\n"),
	CLN("\x16\x03\x01\x00\x05hello"), SV("\x16\x03\x03junk\n") },
	"A early_talker\n"
	"C EHLO c\n"
	"R 250 EHLO c | \n"
	"C RSET\n"
	"C STARTTLS\n"
	"R 250 RSET | \n"
	"R 220 STARTTLS | \n"
	"TLS starttls\n"
	"END\n" },

/* DATA refused: what the client sends next are commands, and exim says
 * "500 unrecognized command" to each, the empty line and "." too. */
{ "data_refused_body_is_commands", {
	GREET,
	CL("MAIL FROM:<a@b>\r\n"), SV("250 OK\r\n"),
	CL("DATA\r\n"),
	SV("503 valid RCPT command must precede DATA\r\n"),
	CL("Subject: x\r\n\r\nhello\r\n.\r\n"),
	SV("500 unrecognized command\r\n500 unrecognized command\r\n"
	   "500 unrecognized command\r\n500 unrecognized command\r\n") },
	GREET_R
	"C MAIL <a@b>\n"
	"R 250 MAIL <a@b> | OK\n"
	"C DATA\n"
	"R 503 DATA | valid RCPT command must precede DATA\n"
	"C UNKNOWN Subject: x\n"
	"C UNKNOWN\n"
	"C UNKNOWN hello\n"
	"C UNKNOWN .\n"
	"R 500 UNKNOWN Subject: x | unrecognized command\n"
	"R 500 UNKNOWN | unrecognized command\n"
	"R 500 UNKNOWN hello | unrecognized command\n"
	"R 500 UNKNOWN . | unrecognized command\n"
	"END\n" },

/* DATA refused with 554 in a pipelined group, as Sendmail does. */
{ "data_554_pipelined", {
	GREET,
	CL("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
	SV("250 OK\r\n550 Unknown user\r\n554 no valid recipients\r\n"),
	CL("RSET\r\n"), SV("250 Reset OK\r\n") },
	GREET_R
	"C MAIL <a@b>\n"
	"C RCPT <c@d>\n"
	"C DATA\n"
	"R 250 MAIL <a@b> | OK\n"
	"R 550 RCPT <c@d> | Unknown user\n"
	"R 554 DATA | no valid recipients\n"
	"C RSET\n"
	"R 250 RSET | Reset OK\n"
	"END\n" },

/* A client that sends the message before the 354: once the 354 comes,
 * those lines were content, the "." ends it, and QUIT stays a command.
 * Size: "Subject: x" + "" + "body", each counted with CRLF: 12+2+6. */
{ "data_body_before_354", {
	GREET,
	CL("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n"
	   "\r\nbody\r\n.\r\nQUIT\r\n"),
	SV("250 OK\r\n250 Accepted\r\n354 Enter message\r\n"
	   "250 OK id=1\r\n221 bye\r\n") },
	GREET_R
	"C MAIL <a@b>\n"
	"C RCPT <c@d>\n"
	"C DATA\n"
	"C UNKNOWN Subject: x\n"
	"C UNKNOWN\n"
	"C UNKNOWN body\n"
	"C UNKNOWN .\n"
	"C QUIT\n"
	"R 250 MAIL <a@b> | OK\n"
	"R 250 RCPT <c@d> | Accepted\n"
	"R 354 DATA | Enter message\n"
	"DS\n"
	"DE EOM 20\n"
	"R 250 EOM | OK id=1\n"
	"R 221 QUIT | bye\n"
	"END\n" },

/* The reply to the final dot pairs with EOM: a content rejection.
 * Size: "X-Test: virus\r\n" 15 + "\r\n" 2 + "..leading dot\r\n" 15
 * (dot-stuffed line, the stuffing counted as content). */
{ "data_content_reject_after_dot", {
	GREET,
	CL("MAIL FROM:<a@b>\r\n"), SV("250 OK\r\n"),
	CL("RCPT TO:<c@example.org>\r\n"), SV("250 Accepted\r\n"),
	CL("DATA\r\n"),
	SV("354 Enter message, ending with \".\" on a line by itself\r\n"),
	CL("X-Test: virus\r\n\r\n..leading dot\r\n.\r\n"),
	SV("550 This message contains a virus\r\n"),
	CL("QUIT\r\n"), SV("221 bye\r\n") },
	GREET_R
	"C MAIL <a@b>\n"
	"R 250 MAIL <a@b> | OK\n"
	"C RCPT <c@example.org>\n"
	"R 250 RCPT <c@example.org> | Accepted\n"
	"C DATA\n"
	"R 354 DATA | Enter message, ending with \".\" on a line by itself\n"
	"DS\n"
	"DE EOM 32\n"
	"R 550 EOM | This message contains a virus\n"
	"C QUIT\n"
	"R 221 QUIT | bye\n"
	"END\n" },

/* Content lines that look like commands are content; ".x" is content;
 * bare LF and ".\r\r\n" end it. Size: ".x\r\n" 4 + "RCPT TO:<e@x>\r\n"
 * 15 + "line\n" 5 = 24. */
{ "data_commands_inside_and_end_variants", {
	GREET,
	CL("DATA\r\n"), SV("354 go\r\n"),
	CL(".x\r\nRCPT TO:<e@x>\r\nline\n.\r\r\n"),
	SV("250 OK\r\n") },
	GREET_R
	"C DATA\n"
	"R 354 DATA | go\n"
	"DS\n"
	"DE EOM 24\n"
	"R 250 EOM | OK\n"
	"END\n" },

/* BDAT: exactly n bytes of content, commands inside them are content;
 * chunks add up to one message ended by LAST (13 + 5 bytes). */
{ "bdat_chunks", {
	GREET,
	CL("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 13\r\nHello\r\n"
	   "QUIT\r\nBDAT 5 LAST\r\nWorld"),
	SV("250 OK\r\n250 Accepted\r\n250 13 byte chunk received\r\n"
	   "250 OK id=1\r\n"),
	CL("QUIT\r\n"), SV("221 bye\r\n") },
	GREET_R
	"C MAIL <a@b>\n"
	"C RCPT <c@d>\n"
	"C BDAT 13\n"
	"DS\n"
	"C BDAT 5 LAST\n"
	"DE BDAT 18\n"
	"R 250 MAIL <a@b> | OK\n"
	"R 250 RCPT <c@d> | Accepted\n"
	"R 250 BDAT 13 | 13 byte chunk received\n"
	"R 250 BDAT 5 LAST | OK id=1\n"
	"C QUIT\n"
	"R 221 QUIT | bye\n"
	"END\n" },

{ "bdat_zero_last", {
	GREET, CL("BDAT 0 LAST\r\n"), SV("250 OK\r\n") },
	GREET_R
	"C BDAT 0 LAST\n"
	"DS\n"
	"DE BDAT 0\n"
	"R 250 BDAT 0 LAST | OK\n"
	"END\n" },

/* Malformed sizes: flagged, no content mode, no allocation. */
{ "bdat_malformed_sizes", {
	GREET,
	CL("BDAT 5 X\r\nBDAT -1\r\nBDAT 99999999999999999999999\r\nBDAT\r\n"
	   "NOOP\r\n"),
	SV("501 5.5.4 Syntax: BDAT count [LAST]\r\n"
	   "501 5.5.4 Syntax: BDAT count [LAST]\r\n"
	   "501 5.5.4 Syntax: BDAT count [LAST]\r\n"
	   "501 5.5.4 Syntax: BDAT count [LAST]\r\n250 OK\r\n") },
	GREET_R
	"C BDAT 5 X\n"
	"A bad_bdat\n"
	"C BDAT -1\n"
	"A bad_bdat\n"
	"C BDAT 99999999999999999999999\n"
	"A bad_bdat\n"
	"C BDAT\n"
	"A bad_bdat\n"
	"C NOOP\n"
	"R 501 BDAT 5 X | 5.5.4 Syntax: BDAT count [LAST]\n"
	"R 501 BDAT -1 | 5.5.4 Syntax: BDAT count [LAST]\n"
	"R 501 BDAT 99999999999999999999999 | 5.5.4 Syntax: BDAT count "
	"[LAST]\n"
	"R 501 BDAT | 5.5.4 Syntax: BDAT count [LAST]\n"
	"R 250 NOOP | OK\n"
	"END\n" },

/* STARTTLS + 220: nothing after it is parsed, either way. */
{ "starttls_accepted_stops_parsing", {
	GREET,
	CL("EHLO c\r\n"), SV("250-mx\r\n250 STARTTLS\r\n"),
	CL("STARTTLS\r\n"), SV("220 TLS go ahead\r\n"),
	CLN("\x16\x03\x01\x02\x00" "binary\r\nRCPT TO:<x@y>\r\n"),
	SV("\x16\x03\x03 550 relay not permitted\r\n") },
	GREET_R
	"C EHLO c\n"
	"R 250 EHLO c +multi | mx\\nSTARTTLS\n"
	"C STARTTLS\n"
	"R 220 STARTTLS | TLS go ahead\n"
	"TLS starttls\n"
	"END\n" },

{ "starttls_refused_stays_plain", {
	GREET,
	CL("STARTTLS\r\n"), SV("454 TLS currently unavailable\r\n"),
	CL("MAIL FROM:<a@b>\r\n"), SV("250 OK\r\n") },
	GREET_R
	"C STARTTLS\n"
	"R 454 STARTTLS | TLS currently unavailable\n"
	"C MAIL <a@b>\n"
	"R 250 MAIL <a@b> | OK\n"
	"END\n" },

/* Plaintext pipelined behind STARTTLS (CVE-2011-0411 style). */
{ "starttls_injection_flagged", {
	GREET,
	CL("STARTTLS\r\nRCPT TO:<x@y>\r\n"), SV("220 go\r\n") },
	GREET_R
	"C STARTTLS\n"
	"C RCPT <x@y>\n"
	"R 220 STARTTLS | go\n"
	"A starttls_injection\n"
	"TLS starttls\n"
	"END\n" },

/* Port 465: a ClientHello first, the server answers in TLS. */
{ "implicit_tls_clienthello", {
	CLN("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03 random \r\n"
	    "QUIT\r\n"),
	SVN("\x16\x03\x03\x00\x5a\x02 more\r\n250 fake\r\n") },
	"TLS implicit\n"
	"END\n" },

/* A ClientHello to a plaintext server: its replies are still read. */
{ "clienthello_to_plaintext_server", {
	SV("220 mx ESMTP\r\n"),
	CLN("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03\r\nxx\r\n"),
	SV("402 4.5.2 Error: command not recognized\r\n") },
	"R 220 NONE +greeting | mx ESMTP\n"
	"TLS implicit\n"
	"A unpaired_reply\n"
	"R 402 NONE +unsolicited | 4.5.2 Error: command not recognized\n"
	"END\n" },

/* 0x16 0x03 then a space is no TLS record: an ordinary (junk) line. */
{ "tls_probe_not_tls", {
	GREET, CL("\x16\x03 x\r\n"), SV("500 unrecognized command\r\n") },
	GREET_R
	"C UNKNOWN \\x16\\x03 x\n"
	"R 500 UNKNOWN \\x16\\x03 x | unrecognized command\n"
	"END\n" },

{ "tls_probe_flushed_at_end", {
	GREET, CL("\x16\x03") },
	GREET_R
	"C UNKNOWN \\x16\\x03\n"
	"END\n" },

/* AUTH LOGIN: the answers to 334 are credentials, never commands, even
 * when they read "DATA" and "QUIT"; nothing of them is kept. */
{ "auth_login_responses_not_commands", {
	GREET,
	CL("EHLO c\r\n"), SV("250-mx\r\n250 AUTH LOGIN PLAIN\r\n"),
	CL("AUTH LOGIN\r\n"), SV("334 VXNlcm5hbWU6\r\n"),
	CL("DATA\r\n"), SV("334 UGFzc3dvcmQ6\r\n"),
	CL("QUIT\r\n"), SV("535 Incorrect authentication data\r\n"),
	CL("QUIT\r\n"), SV("221 bye\r\n") },
	GREET_R
	"C EHLO c\n"
	"R 250 EHLO c +multi | mx\\nAUTH LOGIN PLAIN\n"
	"C AUTH LOGIN\n"
	"R 334 AUTH LOGIN | VXNlcm5hbWU6\n"
	"C AUTH_DATA\n"
	"R 334 AUTH_DATA | UGFzc3dvcmQ6\n"
	"C AUTH_DATA\n"
	"R 535 AUTH_DATA | Incorrect authentication data\n"
	"C QUIT\n"
	"R 221 QUIT | bye\n"
	"END\n" },

/* AUTH PLAIN with an initial response: only the mechanism is kept. */
{ "auth_plain_initial_response_dropped", {
	GREET,
	CL("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
	SV("535 Incorrect authentication data\r\n") },
	GREET_R
	"C AUTH PLAIN\n"
	"R 535 AUTH PLAIN | Incorrect authentication data\n"
	"END\n" },

/* Refused AUTH: the next line is a command again. */
{ "auth_not_advertised", {
	GREET,
	CL("AUTH LOGIN\r\n"),
	SV("503 AUTH command used when not advertised\r\n"),
	CL("MAIL FROM:<a@b>\r\n"), SV("250 OK\r\n") },
	GREET_R
	"C AUTH LOGIN\n"
	"R 503 AUTH LOGIN | AUTH command used when not advertised\n"
	"C MAIL <a@b>\n"
	"R 250 MAIL <a@b> | OK\n"
	"END\n" },

{ "nul_bytes_in_command", {
	GREET,
	CLN("MAIL FROM:<a\x00@b>\r\n"),
	SV("501 NUL characters are not allowed in SMTP commands\r\n") },
	GREET_R
	"A nul_bytes\n"
	"C MAIL <a\\x00@b>\n"
	"R 501 MAIL <a\\x00@b> | NUL characters are not allowed in SMTP "
	"commands\n"
	"END\n" },

/* Lines that are no reply: too short, bad separator, bad first digit,
 * no code at all (a real Yahoo reply); junk inside a multi-line reply
 * stays in its text; lines of one reply with other codes are flagged. */
{ "invalid_replies", {
	GREET,
	CL("NOOP\r\nNOOP\r\nNOOP\r\n"),
	SV("25\r\n250x ok\r\n650 no\r\n4.7.0 [IPTS04] deferred\r\n250 ok\r\n"
	   "550-first\r\njunk\r\n550 last\r\n250-a\r\n251 b\r\n") },
	GREET_R
	"C NOOP\n"
	"C NOOP\n"
	"C NOOP\n"
	"A invalid_reply\n"
	"A invalid_reply\n"
	"A invalid_reply\n"
	"A invalid_reply\n"
	"R 250 NOOP | ok\n"
	"A invalid_reply\n"
	"R 550 NOOP +multi | first\\njunk\\nlast\n"
	"A code_mismatch\n"
	"R 250 NOOP +multi | a\\nb\n"
	"END\n" },

/* A last reply line without its CRLF still counts at the end. */
{ "partial_last_reply_at_end", {
	GREET,
	CL("NOOP\r\n"),
	SV("250 OK\r\n421 mx.example.org lost input connection") },
	GREET_R
	"C NOOP\n"
	"R 250 NOOP | OK\n"
	"A unpaired_reply\n"
	"R 421 NONE +unsolicited | mx.example.org lost input connection\n"
	"END\n" },

/* A multi-line reply whose last line never came: reported, cut. */
{ "unfinished_multiline_at_end", {
	GREET, CL("NOOP\r\n"), SV("550-first\r\n550-second\r\n") },
	GREET_R
	"C NOOP\n"
	"R 550 NOOP +cut +multi | first\\nsecond\n"
	"END\n" },
};
