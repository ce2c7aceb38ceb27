/*
 * banner.h - from offences to bans: the policy, the backend, the state
 * file and the ban/unban events, held together for replay and watch.
 */
#ifndef WIREBAN_BANNER_H
#define WIREBAN_BANNER_H

#include <stdio.h>

#include "bans.h"
#include "engine.h"
#include "settings.h"

struct banner {
	struct ban_policy	*policy;
	const struct ban_backend *backend;
	bool			 open;		/* backend opened */
	const char		*state_path;	/* NULL: nothing persisted */
	FILE			*events;	/* ban/unban JSON, or NULL */
	bool			 log;		/* a log line per ban/unban */
	/* Resets the client's open connections (watch wires sniff_kill). */
	void			(*kill)(void *arg, const struct wb_addr *a);
	void			*kill_arg;
	bool			 ignoreself;
	uint64_t		 errors;
	wb_usec			 now;		/* time of the current call */
};

/*
 * Sets up the policy from s and opens backend (s->fw.backend when NULL);
 * state_path NULL keeps nothing. Returns 0, or -1 with err.
 */
int banner_init(struct banner *b, const struct settings *s,
    const char *backend, const char *state_path, char *err, size_t errlen);
void banner_fini(struct banner *b);

/*
 * Replaces the policy with one made from s (rules' weights, maxretry,
 * windows, ignoreip), keeping every ban and the history through the
 * state file. Returns 0, or -1 with err (the old policy stays).
 */
int banner_reload(struct banner *b, const struct settings *s, char *err,
    size_t errlen);

/* Restores the state file and reconciles the backend with it. */
int banner_restore(struct banner *b, wb_usec now);

/* The engine's offence hook; arg is the banner. */
void banner_offence(void *arg, const struct offence *o);

/* Never ban a server seen in traffic (with ignoreself). */
void banner_add_self(struct banner *b, const struct wb_addr *a, int bits);

/* Ends the bans whose time is up at now. */
void banner_expire(struct banner *b, wb_usec now);

/* The engine's tick hook: banner_expire when a ban's time has come. */
void banner_tick(void *arg, wb_usec now);

/* Manual ban/unban: 1 done, 0 nothing to do, -1 error (err says). */
int banner_ban(struct banner *b, const struct wb_addr *a, wb_usec dur,
    wb_usec now, char *err, size_t errlen);
int banner_unban(struct banner *b, const struct wb_addr *a, wb_usec now);

#endif
