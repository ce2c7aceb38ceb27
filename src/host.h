/*
 * host.h - this host's own addresses, for ignoreself.
 */
#ifndef WIREBAN_HOST_H
#define WIREBAN_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct host_addrs {
	struct wb_addr	*addr;		/* networks, host bits clear */
	int		*bits;
	size_t		 n;
};

/* Every interface address now. Returns 0, or -1 with errno. */
int	 host_addresses(struct host_addrs *h);
void	 host_addresses_free(struct host_addrs *h);

/*
 * A non-blocking netlink socket told of every address added or removed
 * (open it before privileges drop; -1 when there is none), and a drain
 * of it: true when something changed since the last call.
 */
int	 host_watch_open(void);
bool	 host_watch_changed(int fd);

#endif
