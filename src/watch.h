/*
 * watch.h - what the daemon's files share: the running watch.
 */
#ifndef WIREBAN_WATCH_H
#define WIREBAN_WATCH_H

#include "control.h"
#include "engine.h"
#include "events.h"
#include "jail.h"
#include "wireban.h"

struct watch {
	struct settings	*s;
	struct engine	 e;
	struct jail	 j;
	struct events	 ev;
	struct sniff	*sn;
	struct control	*ctl;
	int		 hostfd;	/* netlink: addresses changed */
	FILE		*events;
	wb_usec		 started;
	struct settings	*owned;		/* from a reload, freed here */
	bool		 metrics_failed;	/* said once */
};

/* Wall-clock time, microseconds. */
wb_usec	 watch_now(void);

/* The control socket's request handler (serve.c); arg is the watch. */
void	 watch_serve(void *arg, struct control_client *c, char *line);

#endif
