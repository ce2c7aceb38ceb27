/*
 * jail.h - from offences to bans in the kernel: the policy decides, the
 * enforcer journals and commits, and the jail says it (events, log
 * lines). fail2ban calls the same bundle of filter, actions and state
 * a jail.
 */
#ifndef WIREBAN_JAIL_H
#define WIREBAN_JAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "bans.h"
#include "engine.h"
#include "settings.h"

struct events;

struct jail {
	struct ban_policy	*policy;
	/* firewall.backend, in order: the local firewall first */
	const struct ban_backend *backends[BAN_BACKENDS_MAX];
	size_t			 nbackends, nopen;
	const struct ban_backend *backend;	/* backends[0] */
	struct ban_state	*state;		/* NULL: nothing persisted */
	struct ban_enforcer	*enf;
	struct events		*ev;		/* ban/unban events, or NULL */
	bool			 log;		/* a log line per ban/unban */
	/*
	 * replay --apply: decisions stay in the policy until
	 * jail_apply_held() hands the bans still standing over.
	 */
	bool			 hold;
	/* Resets the open sessions of a banned prefix (watch). */
	void			(*kill)(void *arg, const struct ban *b);
	void			*kill_arg;
	bool			 ignoreself;
	/* capture.servers (with ignoreself), and the host's own */
	struct wb_addr		*self;
	int			*self_bits;
	size_t			 nself, nconf;
	uint64_t		 errors;
	uint64_t		 outbound;	/* offences in our own sessions */
	wb_usec			 now;		/* time of the current call */
	wb_usec			 bantime_max;	/* manual bans' cap */
	int			 prefix4, prefix6; /* fixed until a restart */
	wb_usec			 restore_ms;	/* restore at start took */
};

/*
 * Sets up the policy from s, opens the backends (backend, or
 * s->fw.backend when NULL: one name or several, "nftables,crowdsec"),
 * and with a state_path opens the state (its lock, the bans in it),
 * brings the kernel in line with it (at wall time now) and starts the
 * enforcer. Returns 0, or -1 with err; jail_fini() undoes either way.
 */
int	 jail_init(struct jail *j, const struct settings *s,
	    const char *backend, const char *state_path, wb_usec now,
	    char *err, size_t errlen);
void	 jail_fini(struct jail *j);

/*
 * A new policy from s (rules' weights, maxretry, windows, ignoreip),
 * keeping every ban and the history. The prefix lengths and the
 * firewall stay (they need a restart; *restart says when s differs).
 * Returns 0, or -1 with err (the old policy stays).
 */
int	 jail_reload(struct jail *j, const struct settings *s, bool *restart,
	    char *err, size_t errlen);

/* The engine's offence hook; arg is the jail. */
void	 jail_offence(void *arg, const struct engine_offence *o);

/*
 * This host's own addresses (ignoreself), next to capture.servers;
 * replaces what an earlier call gave. Returns 0, or -1.
 */
int	 jail_set_host(struct jail *j, const struct wb_addr *a,
	    const int *bits, size_t n);

/* Ends the bans whose time is up at now; the engine's tick hook. */
void	 jail_expire(struct jail *j, wb_usec now);
void	 jail_tick(void *arg, wb_usec now);

/* Every turn of the capture loop: what the enforcer is owed. */
void	 jail_poll(struct jail *j);

/*
 * Manual ban of addr/bits (bits < 0: the address) for dur (0: the
 * policy's increment), capped at policy.bantime_max unless force (then
 * *capped says so). 1 done, 0 already banned (its expiry moved), -1
 * error (err says).
 */
int	 jail_ban(struct jail *j, const struct wb_addr *a, int bits,
	    wb_usec dur, bool force, wb_usec now, bool *capped, char *err,
	    size_t errlen);
/* 1 lifted (*out: which), 0 nothing to lift. */
int	 jail_unban(struct jail *j, const struct wb_addr *a, int bits,
	    wb_usec now, struct ban *out);

/*
 * replay --apply: every ban standing at the capture's end (packet time
 * end) is handed over from now for the time it had left, then waits
 * until they are committed. Returns how many, or -1.
 */
long	 jail_apply_held(struct jail *j, wb_usec end, wb_usec now);

#endif
