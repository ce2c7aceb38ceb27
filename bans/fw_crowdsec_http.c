/*
 * fw_crowdsec_http.c - the crowdsec backend's side of HTTP: one
 * libcurl easy handle per LAPI (the connection is kept alive between
 * requests), the JWT and when to renew it, the backoff between failed
 * attempts, and what a reply means.
 *
 * TLS is always verified (peer and host name): there is no switch to
 * turn that off; ca_file names the CAs of a private LAPI. Only
 * http and https are allowed and redirects are not followed: a LAPI
 * that redirects is misconfigured, and the password must not follow.
 * A reply is read into a fixed buffer; past its bound the transfer is
 * aborted and the request has failed. The transfer is also aborted when
 * the backend closes (the abort flag), so close() never waits a whole
 * timeout for a dead LAPI.
 *
 * Invariant: only this file includes <curl/curl.h>; a cs_http is used
 * by one thread (the worker).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "fw_crowdsec.h"

/* "name/version": 1.4.6 refuses a login whose User-Agent is not. */
#define USER_AGENT	"wireban/1"

struct cs_http {
	CURL		*c;
	struct cs_http_conf conf;
	char		*buf;		/* the reply, NUL-terminated */
	size_t		 len, max, cap;
	bool		 over;
	char		 curl_err[CURL_ERROR_SIZE];
};

/* ---- token, backoff, verdicts ----------------------------------------- */

void
ban_cs_token_set(struct cs_token *t, const char *jwt, wb_usec expire,
    wb_usec now)
{
	wb_usec renew = expire - CS_TOKEN_MARGIN;

	if (renew < now + CS_TOKEN_MARGIN)
		renew = now + CS_TOKEN_MARGIN;
	if (renew > now + 86400 * WB_USEC_PER_SEC)
		renew = now + 86400 * WB_USEC_PER_SEC;
	(void)snprintf(t->jwt, sizeof(t->jwt), "%s", jwt);
	t->renew = renew;
}

bool
ban_cs_token_fresh(const struct cs_token *t, wb_usec now)
{
	return t->jwt[0] != '\0' && now < t->renew;
}

void
ban_cs_token_clear(struct cs_token *t)
{
	memset(t, 0, sizeof(*t));
}

int
ban_cs_backoff_ms(unsigned n, uint32_t rnd, int base, int cap)
{
	long long d = base;

	if (n == 0)
		return 0;
	while (--n > 0 && d < cap)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Jitter: senders that failed together do not retry together. */
	return (int)(d / 2 + (d - d / 2) * (long long)(rnd % 1024) / 1023);
}

enum cs_verdict
ban_cs_verdict(int status, const struct cs_reply *r)
{
	if (status >= 200 && status <= 299)
		return CS_V_OK;
	if (status == 401)
		return CS_V_AUTH;
	/* 403: not allowed now (an admin may fix it); 408, 429: later. */
	if (status == 403 || status == 408 || status == 429)
		return CS_V_RETRY;
	if (status >= 400 && status <= 499)
		return CS_V_REFUSED;
	/*
	 * 1.4.6 answers a body that fails its model's validation with a
	 * 500 whose message says so: retrying it would never succeed.
	 */
	if (status == 500 && r != NULL && r->has_message &&
	    strncmp(r->message, "validation failure", 18) == 0)
		return CS_V_REFUSED;
	return CS_V_RETRY;
}

/* ---- the LAPI's times ------------------------------------------------- */

/* n digits at s into *v; -1 unless all are digits. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
ban_cs_rfc3339_parse(const char *s, wb_usec *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	struct tm tm;
	const char *p;
	time_t t;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec > 59 ? 59 : sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	t -= sign * (oh * 3600 + om * 60);
	*out = (wb_usec)t * WB_USEC_PER_SEC;
	return 0;
}

/* s, percent-encoded for a query (out: len bytes, cut to fit). */
static void
query_escape(char *out, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

void
ban_cs_delete_path(char *buf, size_t len, const char *origin,
    const struct ban *b)
{
	char value[WB_PREFIX_STRLEN], ev[3 * WB_PREFIX_STRLEN + 1];
	char eo[3 * 128 + 1];

	(void)ban_cs_value(b, value);
	query_escape(ev, sizeof(ev), value);
	query_escape(eo, sizeof(eo), origin);
	if (snprintf(buf, len, "/v1/decisions?type=ban&origin=%s&value=%s",
	    eo, ev) >= (int)len && len > 0)
		buf[0] = '\0';
}

/* ---- libcurl ------------------------------------------------------------ */

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct cs_http *h = arg;
	size_t k = size * n;

	if (h->len + k > h->max) {
		h->over = true;
		return 0;		/* aborts the transfer */
	}
	if (h->len + k + 1 > h->cap) {
		size_t cap = h->cap == 0 ? 4096 : h->cap;
		char *nb;

		while (cap < h->len + k + 1)
			cap *= 2;
		if ((nb = realloc(h->buf, cap)) == NULL) {
			h->over = true;
			return 0;
		}
		h->buf = nb;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, p, k);
	h->len += k;
	h->buf[h->len] = '\0';
	return k;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct cs_http *h = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(h->conf.abort) != 0;
}

int
ban_cs_http_global_init(void)
{
	static bool ready;

	if (!ready && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		ban_log(BAN_LOG_ERR, "crowdsec: libcurl cannot start");
		return -1;
	}
	ready = true;
	return 0;
}

struct cs_http *
ban_cs_http_new(const struct cs_http_conf *c)
{
	struct cs_http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->c = curl_easy_init()) == NULL) {
		ban_log(BAN_LOG_ERR, "crowdsec: cannot make a libcurl handle");
		free(h);
		return NULL;
	}
	h->conf = *c;
	if (curl_easy_setopt(h->c, CURLOPT_PROTOCOLS_STR, "http,https") != 0 ||
	    (c->ca_file != NULL &&
	    curl_easy_setopt(h->c, CURLOPT_CAINFO, c->ca_file) != 0)) {
		ban_log(BAN_LOG_ERR, "crowdsec: libcurl refuses the protocol "
		    "or CA options");
		ban_cs_http_free(h);
		return NULL;
	}
	(void)curl_easy_setopt(h->c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(h->c, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(h->c, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(h->c, CURLOPT_SSL_VERIFYHOST, 2L);
	(void)curl_easy_setopt(h->c, CURLOPT_USERAGENT, USER_AGENT);
	(void)curl_easy_setopt(h->c, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	(void)curl_easy_setopt(h->c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->timeout_ms);
	(void)curl_easy_setopt(h->c, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(h->c, CURLOPT_WRITEDATA, h);
	(void)curl_easy_setopt(h->c, CURLOPT_NOPROGRESS, 0L);
	(void)curl_easy_setopt(h->c, CURLOPT_XFERINFOFUNCTION, on_progress);
	(void)curl_easy_setopt(h->c, CURLOPT_XFERINFODATA, h);
	(void)curl_easy_setopt(h->c, CURLOPT_ERRORBUFFER, h->curl_err);
	return h;
}

void
ban_cs_http_free(struct cs_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->c);
	free(h->buf);
	free(h);
}

int
ban_cs_http_do(struct cs_http *h, const char *method, const char *path,
    const char *body, size_t len, const char *bearer, size_t max,
    struct cs_reply *r, bool *bad, char *err, size_t errlen)
{
	struct curl_slist *hdr = NULL, *n;
	char url[1024], auth[CS_TOKEN_MAX + 32];
	const char *why = NULL;
	long status = 0;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	*bad = false;
	h->len = 0;
	h->over = false;
	h->curl_err[0] = '\0';
	if (h->buf != NULL)
		h->buf[0] = '\0';
	h->max = max;
	if (snprintf(url, sizeof(url), "%s%s", h->conf.url, path) >=
	    (int)sizeof(url)) {
		(void)snprintf(err, errlen, "URL too long");
		return -1;
	}
	/* "Expect:" off: no 100-continue round trip before a big POST. */
	n = curl_slist_append(hdr, "Expect:");
	hdr = n != NULL ? n : hdr;
	if (body != NULL && (n = curl_slist_append(hdr, "Content-Type: "
	    "application/json")) != NULL)
		hdr = n;
	if (bearer != NULL) {
		(void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    bearer);
		if ((n = curl_slist_append(hdr, auth)) != NULL)
			hdr = n;
		memset(auth, 0, sizeof(auth));
	}
	if (hdr == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	(void)curl_easy_setopt(h->c, CURLOPT_URL, url);
	(void)curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, hdr);
	if (strcmp(method, "POST") == 0) {
		(void)curl_easy_setopt(h->c, CURLOPT_CUSTOMREQUEST, NULL);
		(void)curl_easy_setopt(h->c, CURLOPT_POST, 1L);
		(void)curl_easy_setopt(h->c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		(void)curl_easy_setopt(h->c, CURLOPT_POSTFIELDS, body);
	} else {
		(void)curl_easy_setopt(h->c, CURLOPT_HTTPGET, 1L);
		(void)curl_easy_setopt(h->c, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(h->c);
	(void)curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(h->c, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdr);
	(void)curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &status);
	if (h->over) {
		(void)snprintf(err, errlen, "%s %s: reply larger than %zu "
		    "bytes", method, path, max);
		return -1;
	}
	if (rc != CURLE_OK) {
		(void)snprintf(err, errlen, "%s %s: %s", method, path,
		    rc == CURLE_ABORTED_BY_CALLBACK ? "aborted (closing)" :
		    h->curl_err[0] != '\0' ? h->curl_err :
		    curl_easy_strerror(rc));
		return -1;
	}
	if (status < 100 || status > 599) {
		(void)snprintf(err, errlen, "%s %s: no HTTP status", method,
		    path);
		return -1;
	}
	if (h->len > 0 && ban_cs_json_parse(h->buf, h->len, r, &why) != 0) {
		*bad = true;
		(void)snprintf(err, errlen, "%s %s: %ld, reply is not JSON as "
		    "expected: %s", method, path, status, why);
	}
	return (int)status;
}
