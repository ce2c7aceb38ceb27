/*
 * metrics.h - the watch's counters in Prometheus' text format.
 */
#ifndef WIREBAN_METRICS_H
#define WIREBAN_METRICS_H

struct watch;
struct control_client;

/* Writes them to path through path.tmp and a rename. 0, or -1. */
int	 metrics_write(struct watch *w, const char *path);
/* The same as an answer on the control socket. */
void	 metrics_to_client(struct watch *w, struct control_client *c);

#endif
