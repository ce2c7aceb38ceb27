/*
 * cs_fixture.h - the helpers of tests/check_crowdsec.c and
 * tests/check_crowdsec_lapi.c (cs_fixture.c).
 */
#ifndef WIREBAN_CS_FIXTURE_H
#define WIREBAN_CS_FIXTURE_H

#include <check.h>
#include <pthread.h>
#include <stdbool.h>

#include "bans.h"
#include "../bans/fw_crowdsec.h"

/* Every log line since cs_setup(), under lmu. */
extern pthread_mutex_t	 lmu;
extern char		 lbuf[16384];
/* True when a line logged since cs_setup() holds needle. */
bool		 logged(const char *needle);
/* The fixture: bans_fixture's setup, this log, a quick backoff. */
void		 cs_setup(void);
/* A test case with that fixture and a timeout, added to s. */
TCase		*cs_tc(Suite *s, const char *name, int timeout);
/* A ban of addr/bits, rule relay, from start for len. */
struct ban	 pfx(const char *addr, int bits, wb_usec start, wb_usec len);
/* The entry of addr/bits in t, or NULL. */
struct cs_entry	*entry(struct cs_table *t, const char *addr, int bits);

#endif
