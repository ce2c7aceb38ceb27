/*
 * cs_fake_lapi.h - a CrowdSec Local API stand-in for tests/check_crowdsec.c:
 * an HTTP/1.1 server on 127.0.0.1 (a port of its own) in a thread,
 * keep-alive like the real one, answering each request as the test's
 * script says, and remembering what it was asked.
 */
#ifndef WIREBAN_CS_FAKE_LAPI_H
#define WIREBAN_CS_FAKE_LAPI_H

#include <stddef.h>

#define FAKE_REQ_MAX	64
#define FAKE_BODY_KEEP	65536

struct fake_req {
	char	 method[8];
	char	 path[512];
	char	 auth[512];	/* the Authorization header, "" when none */
	char	 agent[128];
	char	 body[FAKE_BODY_KEEP];	/* cut, NUL-terminated */
	size_t	 len;		/* the whole body's length */
	int	 alerts;	/* "decisions" keys in the body */
};

/* The answer to one request. body NULL: the default for its path. */
struct fake_answer {
	int		 status;
	const char	*body;
	size_t		 body_len;	/* 0: strlen(body) */
	int		 delay_ms;	/* before answering */
	int		 close;		/* drop the connection, no answer */
};

/*
 * Decides the answer to request n (0-based) r. The default answers a
 * login 200 with a token, a POST of alerts 201 with their ids, a
 * DELETE 200 {"nbDeleted":"1"}.
 */
typedef void fake_script(int n, const struct fake_req *r,
    struct fake_answer *a);

/* Starts the server; its URL ("http://127.0.0.1:PORT") is in url. */
int	 fake_start(fake_script *fn, char *url, size_t len);
/* Stops it (joins the thread). */
void	 fake_stop(void);
/* Requests seen so far, and request i (copied, under the lock). */
int	 fake_count(void);
int	 fake_get(int i, struct fake_req *out);
/* Waits until n requests were answered; -1 after ms. */
int	 fake_wait(int n, int ms);
/* The default answer for r. */
void	 fake_default(const struct fake_req *r, struct fake_answer *a);

#endif
