/*
 * wireban.h - what the program's commands share: parsed options.
 */
#ifndef WIREBAN_MAIN_H
#define WIREBAN_MAIN_H

#include <stdbool.h>

#include "settings.h"

#define MAX_OVERRIDES 64

struct opts {
	const char	*config;	/* -c */
	bool		 config_given;
	char		*overrides[MAX_OVERRIDES + 1];	/* -o, NULL-ended */
	int		 noverrides;
	const char	*interface;	/* -i */
	bool		 json;		/* --json */
	bool		 apply;		/* --apply */
	const char	*duration;	/* --for */
	bool		 force;		/* --force */
	bool		 prometheus;	/* --prometheus */
	char		**args;		/* what follows the options */
	int		 nargs;
};

int cmd_replay(struct settings *s, struct opts *o);
int cmd_watch(struct settings *s, struct opts *o);

#endif
