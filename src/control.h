/*
 * control.h - the control socket of a running watch: a Unix socket
 * that only root can use (mode 0600, and the peer's uid is checked).
 *
 * Protocol: the client sends one line ("status", "status prometheus",
 * "list", "ban PREFIX [SECONDS] [force]", "unban PREFIX"); the daemon
 * answers with lines of text and a last line "OK" or "ERR why", then
 * closes.
 *
 * The daemon serves its clients from its own poll loop and never waits
 * for one: sockets are non-blocking, a request must be complete within
 * CONTROL_REQUEST_MS of the connection (a real deadline, not one that
 * restarts with every byte), answers are queued and written as the
 * client reads them (long ones, `list`, made a page at a time), a
 * client that stops reading for CONTROL_STALL_MS is dropped, and past
 * CONTROL_CLIENTS_MAX clients the one idle longest is dropped.
 */
#ifndef WIREBAN_CONTROL_H
#define WIREBAN_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

#define CONTROL_LINE_MAX	256
#define CONTROL_REQUEST_MS	2000
#define CONTROL_STALL_MS	30000
#define CONTROL_CLIENTS_MAX	32

struct control;
struct control_client;

/*
 * Answers one request line: write the answer with control_printf(); for
 * a long one set a pager with control_page(). Called from
 * control_serve(), on the daemon's loop.
 */
typedef void control_handler(void *arg, struct control_client *c,
    char *line);

/*
 * Makes another page of an answer (control_printf() into c); returns
 * false when the answer is complete. free releases its state.
 */
typedef bool control_pager(void *state, struct control_client *c);

/* Creates, binds and listens; returns the server, or NULL with err. */
struct control *control_listen(const char *path, control_handler *h,
    void *arg, char *err, size_t errlen);
void	 control_close(struct control *ctl, const char *path);

/*
 * The descriptors to poll (at most 1 + CONTROL_CLIENTS_MAX), written
 * into pfd; returns how many. The smallest timeout the server needs
 * (a deadline) lowers *timeout_ms.
 */
size_t	 control_pollfds(struct control *ctl, struct pollfd *pfd,
	    int *timeout_ms);

/*
 * After poll: accepts, reads, answers, writes, drops, each without
 * blocking. pfd/n are what control_pollfds() filled, with revents.
 */
void	 control_serve(struct control *ctl, const struct pollfd *pfd,
	    size_t n);

/* Appends to c's answer (it is sent as the client reads). */
void	 control_printf(struct control_client *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 control_page(struct control_client *c, control_pager *pager,
	    void *state, void (*free_state)(void *));

/* How many clients are connected now. */
size_t	 control_clients(const struct control *ctl);

/*
 * The client side: sends line to the daemon at path and copies its
 * answer to stdout. Returns the exit status: 0 on OK, 1 otherwise (with
 * CONTROL_RAW: 0 when an answer came that is not an ERR line).
 */
#define CONTROL_RAW	0x01
int	 control_request(const char *path, const char *line, int flags);

#endif
