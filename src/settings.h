/*
 * settings.h - the configuration turned into each module's settings.
 */
#ifndef WIREBAN_SETTINGS_H
#define WIREBAN_SETTINGS_H

#include <stdio.h>

#include "bans.h"
#include "config.h"
#include "smtp.h"
#include "sniffer.h"

#define DEFAULT_STATE	"/var/lib/wireban/state"
#define DEFAULT_SOCKET	"/run/wireban/control.sock"
#define MAX_IGNORE	256

/* Everything the program runs with, from defaults, file and -o. */
struct settings {
	struct config		 conf;
	const char		*conf_path;
	struct sniff_config	 capture;
	const char		*interface;
	struct smtp_rules	*rules;
	struct ban_policy_config policy;
	const char		*ignoreip[MAX_IGNORE];	/* checked specs */
	size_t			 nignore;
	bool			 ignoreself;
	struct ban_fw_config	 fw;
	const char		*state_path;
	const char		*socket_path;
	const char		*events_path;		/* NULL: none */
	const char		*metrics_path;		/* NULL: none */
	wb_usec			 metrics_interval;	/* 15 s */
	const char		*log;		/* auto: syslog off a tty */
	char			 ignore_buf[4096];	/* ignoreip's copy */
	char			 spool_buf[4096];	/* fw.cs_spool */
};

/*
 * Loads the config file (must exist when explicit), applies the -o
 * overrides (NULL-terminated), and builds every module's settings.
 * Returns 0, or -1 with a message naming file:line and key in err.
 */
int settings_load(struct settings *s, const char *path, bool explicit_path,
    char *const *overrides, char *err, size_t errlen);
void settings_free(struct settings *s);

/*
 * Writes every key with the value in force, as a configuration file,
 * each line saying where its value came from (FILE:LINE, -o, default).
 */
void settings_dump(const struct settings *s, FILE *fp);


#endif
