/*
 * fuzz_smtp.c - libFuzzer target over smtp_feed and the rule engine.
 *
 * The input is a series of records: one control byte (bit 0: which side
 * sends, bits 1-7: how many bytes, 0 meaning "the rest"), then the bytes.
 * So the fuzzer explores both directions, their interleaving and every
 * chunking. Each reply also goes through the built-in rules. The target
 * also checks an invariant: a reply's text is never longer than the
 * line limit.
 *
 * Triage: with FUZZ_TRACE set in the environment, every record and state
 * change goes to stderr ("tests/fuzz/fuzz_smtp crash-FILE").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct smtp_rules *rules;
static int tracing = -1;		/* -1: FUZZ_TRACE not looked at yet */

static void
on_state(enum smtp_state from, enum smtp_state to, void *arg)
{
	(void)arg;
	fprintf(stderr, "  state %s -> %s\n", smtp_state_name(from),
	    smtp_state_name(to));
}

static void
on_event(const struct smtp_event *ev, void *arg)
{
	(void)arg;
	if (ev->text_len > SMTP_LINE_MAX_DEFAULT || ev->arg_len > 256)
		abort();
	if (ev->type == SMTP_EV_REPLY)
		(void)smtp_rules_match(rules, ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_session *s;
	size_t i = 0, n;
	enum smtp_dir dir;

	if (rules == NULL && (rules = smtp_rules_new(true)) == NULL)
		abort();
	if (tracing < 0)
		tracing = getenv("FUZZ_TRACE") != NULL;
	if ((s = smtp_session_new(NULL)) == NULL)
		abort();
	if (tracing)
		smtp_session_trace(s, on_state, NULL);
	while (i < size) {
		dir = (data[i] & 1) ? SMTP_FROM_SERVER : SMTP_FROM_CLIENT;
		n = data[i] >> 1;
		i++;
		if (n == 0 || n > size - i)
			n = size - i;
		if (tracing)
			fprintf(stderr, "%s %zu bytes at %zu\n", dir ==
			    SMTP_FROM_SERVER ? "server" : "client", n, i);
		smtp_feed(s, dir, data + i, n, (wb_usec)i, on_event, NULL);
		i += n;
	}
	smtp_end(s, (wb_usec)size, on_event, NULL);
	smtp_session_free(s);
	return 0;
}
