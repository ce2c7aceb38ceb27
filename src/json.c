/*
 * json.c - JSON string output that stays valid for hostile bytes.
 */
#include <inttypes.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void
json_str(FILE *fp, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	putc('"', fp);
	while (i < n) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			putc('\\', fp);
			putc(c, fp);
			i++;
		} else if (c == '\n') {
			fputs("\\n", fp);
			i++;
		} else if (c == '\r') {
			fputs("\\r", fp);
			i++;
		} else if (c == '\t') {
			fputs("\\t", fp);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04x", c);
			i++;
		} else if ((len = utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, len, fp);
			i += len;
		} else {
			fprintf(fp, "\\u%04x", c);
			i++;
		}
	}
	putc('"', fp);
}

void
json_ts(FILE *fp, wb_usec ts)
{
	int64_t sec = ts / WB_USEC_PER_SEC, us = ts % WB_USEC_PER_SEC;

	if (us < 0) {
		sec--;
		us += WB_USEC_PER_SEC;
	}
	fprintf(fp, "%" PRId64 ".%06" PRId64, sec, us);
}
