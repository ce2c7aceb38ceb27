/*
 * control.h - the control socket of a running watch: a Unix socket
 * that only root can use (mode 0600, and the peer's uid is checked).
 *
 * Protocol: the client sends one line ("status", "list", "ban ADDR
 * SECONDS", "unban ADDR"); the daemon answers with lines of text and a
 * last line "OK" or "ERR why", then closes.
 */
#ifndef WIREBAN_CONTROL_H
#define WIREBAN_CONTROL_H

#include <stddef.h>

#define CONTROL_LINE_MAX 256

/* Creates, binds and listens; returns the fd, or -1 with err. */
int control_listen(const char *path, char *err, size_t errlen);

/*
 * Accepts one client on fd and reads its request line (bounded in size
 * and time). Returns the client fd with the line in buf, or -1 when the
 * client is refused or gave up (it was answered or dropped).
 */
int control_accept(int fd, char *buf, size_t len);

/* Sends a request to the daemon at path and copies its answer to
 * stdout. Returns the exit status: 0 on OK, 1 otherwise. */
int control_request(const char *path, const char *line);

#endif
