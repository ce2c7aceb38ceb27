/*
 * json.h - just enough JSON writing for the event stream: strings made
 * safe whatever bytes an attacker put in them.
 */
#ifndef WIREBAN_JSON_H
#define WIREBAN_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "addr.h"

/*
 * Writes s (n bytes) as a JSON string with its quotes. Valid UTF-8 passes
 * through; control bytes, quotes and backslashes are escaped; each byte
 * of invalid UTF-8 is written as the code point of the same value (as if
 * Latin-1), so the output is always valid JSON and valid UTF-8.
 */
void json_str(FILE *fp, const char *s, size_t n);

/* "ts":1732700000.123456 without the key: seconds with 6 decimals. */
void json_ts(FILE *fp, wb_usec ts);

#endif
