/*
 * cs_fixture.c - what the crowdsec suites share: a log the worker
 * thread may write to (locked), the fixtures, a prefix ban, a table
 * entry by its address. The fake LAPI is cs_fake_lapi.c.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bans.h"
#include "../bans/fw_crowdsec.h"
#include "bans_fixture.h"
#include "cs_fixture.h"

/* ---- a log that the worker thread may write to ------------------------- */

pthread_mutex_t		 lmu = PTHREAD_MUTEX_INITIALIZER;
char			 lbuf[16384];
static size_t		 llen;

static void
cs_log(void *arg, enum ban_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	pthread_mutex_lock(&lmu);
	llen += (size_t)snprintf(lbuf + llen, sizeof(lbuf) - llen, "%s\n",
	    line);
	if (llen >= sizeof(lbuf))
		llen = sizeof(lbuf) - 1;
	pthread_mutex_unlock(&lmu);
}

bool
logged(const char *needle)
{
	bool f;

	pthread_mutex_lock(&lmu);
	f = strstr(lbuf, needle) != NULL;
	pthread_mutex_unlock(&lmu);
	return f;
}

void
cs_setup(void)
{
	setup();
	llen = 0;
	lbuf[0] = '\0';
	ban_log_set(cs_log, NULL);
	ban_cs_tune(20, 200);
}

TCase *
cs_tc(Suite *s, const char *name, int timeout)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, cs_setup, teardown);
	tcase_set_timeout(t, timeout);
	suite_add_tcase(s, t);
	return t;
}

struct ban
pfx(const char *addr, int bits, wb_usec start, wb_usec len)
{
	struct ban b = mkban(addr, "relay", start, len, 1, 3);

	b.bits = (uint8_t)bits;
	return b;
}

struct cs_entry *
entry(struct cs_table *t, const char *addr, int bits)
{
	struct wb_addr a = A(addr), net;

	wb_addr_mask(&net, &a, bits);
	return ban_cs_table_find(t, &net, bits);
}
