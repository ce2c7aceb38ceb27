/*
 * host.c - this host's own addresses (ignoreself), and a netlink socket
 * that says when they change, so "self" follows the interfaces without
 * a restart.
 *
 * Every address of every interface is self: IPv4 ones as themselves
 * (loopback's whole 127.0.0.0/8), IPv6 ones (::1, link-local, global)
 * each as itself. Never is an address self because of what a peer did.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host.h"

int
host_addresses(struct host_addrs *h)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0, cap = 0;

	memset(h, 0, sizeof(*h));
	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct wb_addr a;
		int bits;

		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin =
			    (const void *)i->ifa_addr;

			wb_addr_v4(&a, &sin->sin_addr);
			bits = a.a[0] == 127 ? 8 : 32;
			wb_addr_mask(&a, &a, bits);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 =
			    (const void *)i->ifa_addr;

			wb_addr_v6(&a, &sin6->sin6_addr);
			bits = 128;
		} else
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct wb_addr *na;
			int *nb;

			if ((na = realloc(h->addr, ncap * sizeof(*na))) == NULL)
				goto fail;
			h->addr = na;
			if ((nb = realloc(h->bits, ncap * sizeof(*nb))) == NULL)
				goto fail;
			h->bits = nb;
			cap = ncap;
		}
		h->addr[n] = a;
		h->bits[n] = bits;
		n++;
	}
	freeifaddrs(ifa);
	h->n = n;
	return 0;
fail:
	freeifaddrs(ifa);
	host_addresses_free(h);
	errno = ENOMEM;
	return -1;
}

void
host_addresses_free(struct host_addrs *h)
{
	free(h->addr);
	free(h->bits);
	memset(h, 0, sizeof(*h));
}

int
host_watch_open(void)
{
	struct sockaddr_nl sa;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool
host_watch_changed(int fd)
{
	char buf[8192];
	bool changed = false;
	ssize_t n;

	/* What changed does not matter: the whole list is read again. */
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 ||
	    (n < 0 && errno == ENOBUFS))
		changed = true;
	return changed;
}
