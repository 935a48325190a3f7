/*
 * `ahc-spawn --watch-addresses [PID]`: the daemon's subscription to the kernel's address changes
 * (docs/design.md, "Address checks: one kernel subscription").
 *
 * It binds one NETLINK_ROUTE socket to the IPv4 and IPv6 address groups and prints every
 * RTM_NEWADDR / RTM_DELADDR as one line in the format of `ip -o monitor address`, which is what
 * packages/supervisor/src/address-lines.ts parses:
 *
 *     3: veth0    inet 10.1.0.1/32 scope global veth0:1
 *     Deleted 1: lo    inet6 2001:db8::1/128 scope global tentative
 *
 * That is all it does: the daemon takes the full dump itself (`ip -o address show`) once the
 * subscription shows in /proc/net/netlink, so no change falls between the two. It replaces a
 * long-lived `ip -o monitor address` because it is a third of that one's size in memory
 * (statically linked, it maps no shared library), and because it knows when it lost events.
 *
 * Its comm is ahc-addr-watch. LIFE. It exits 0 when stdout is closed (EPIPE) or at SIGTERM, and dies with the daemon
 * (PR_SET_PDEATHSIG; PID as argv[2] closes the race with a daemon that died first). It exits 3
 * with a message on stderr when the kernel dropped events (ENOBUFS: its receive buffer
 * overflowed), and 1 on any other error: the daemon then polls, and starts it again.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "watch-addresses.h"

static const char *scope_name(unsigned char scope, char *spare, size_t size)
{
	switch (scope) {
	case RT_SCOPE_UNIVERSE:
		return "global";
	case RT_SCOPE_SITE:
		return "site";
	case RT_SCOPE_LINK:
		return "link";
	case RT_SCOPE_HOST:
		return "host";
	case RT_SCOPE_NOWHERE:
		return "nowhere";
	default:
		snprintf(spare, size, "%u", scope);
		return spare;
	}
}

/* The flag words iproute2 prints, in its order; the parser knows each of them (FLAG_WORDS). */
static void put_flags(FILE *out, int family, unsigned int flags)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} words[] = {
		{ IFA_F_NODAD, "nodad" },
		{ IFA_F_OPTIMISTIC, "optimistic" },
		{ IFA_F_DADFAILED, "dadfailed" },
		{ IFA_F_HOMEADDRESS, "home" },
		{ IFA_F_DEPRECATED, "deprecated" },
		{ IFA_F_TENTATIVE, "tentative" },
		{ IFA_F_MANAGETEMPADDR, "mngtmpaddr" },
		{ IFA_F_NOPREFIXROUTE, "noprefixroute" },
		{ IFA_F_MCAUTOJOIN, "autojoin" },
		{ IFA_F_STABLE_PRIVACY, "stable-privacy" },
	};
	if (flags & IFA_F_SECONDARY)
		fputs(family == AF_INET6 ? " temporary" : " secondary", out);
	if (!(flags & IFA_F_PERMANENT))
		fputs(" dynamic", out);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (flags & words[i].bit)
			fprintf(out, " %s", words[i].name);
}

static void print_address(FILE *out, const struct nlmsghdr *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *ifa))
		return;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	const void *local = NULL, *address = NULL;
	const char *label = NULL;
	unsigned int flags = ifa->ifa_flags;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *ifa));
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
		switch (a->rta_type) {
		case IFA_LOCAL:
			if (RTA_PAYLOAD(a) >= want)
				local = RTA_DATA(a);
			break;
		case IFA_ADDRESS:
			if (RTA_PAYLOAD(a) >= want)
				address = RTA_DATA(a);
			break;
		case IFA_LABEL:
			/* NUL-terminated by the kernel; checked anyway. */
			if (RTA_PAYLOAD(a) > 0 && memchr(RTA_DATA(a), '\0', RTA_PAYLOAD(a)) != NULL)
				label = RTA_DATA(a);
			break;
		case IFA_FLAGS:
			if (RTA_PAYLOAD(a) >= sizeof(unsigned int))
				memcpy(&flags, RTA_DATA(a), sizeof flags);
			break;
		}
	}
	/* The address the interface answers to: IFA_LOCAL when there is one (IPv4 peers), as ip does. */
	const void *shown = local != NULL ? local : address;
	if (shown == NULL)
		return;
	char text[INET6_ADDRSTRLEN], device[IF_NAMESIZE], spare[8];
	if (inet_ntop(ifa->ifa_family, shown, text, sizeof text) == NULL)
		return;
	/* An interface already gone has no name any more: ip prints ifN then too. */
	if (if_indextoname(ifa->ifa_index, device) == NULL)
		snprintf(device, sizeof device, "if%u", ifa->ifa_index);
	fprintf(out, "%s%u: %s    %s %s/%u scope %s", h->nlmsg_type == RTM_DELADDR ? "Deleted " : "", ifa->ifa_index, device,
		ifa->ifa_family == AF_INET ? "inet" : "inet6", text, ifa->ifa_prefixlen,
		scope_name(ifa->ifa_scope, spare, sizeof spare));
	put_flags(out, ifa->ifa_family, flags);
	if (ifa->ifa_family == AF_INET && label != NULL && label[0] != '\0')
		fprintf(out, " %s", label);
	fputc('\n', out);
}

int watch_addresses_main(int argc, char **argv)
{
	/* Told apart from the check spawner in top and ps -e (its comm), not only by its argv. */
	prctl(PR_SET_NAME, "ahc-addr-watch");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc > 2 && getppid() != (pid_t)strtol(argv[2], NULL, 10))
		return 0;
	signal(SIGPIPE, SIG_IGN);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		die(1, "--watch-addresses: socket(AF_NETLINK): %s", strerror(errno));
	/* Room for a burst (an interface with thousands of addresses going down); FORCE needs
	 * CAP_NET_ADMIN and is only tried. An overflow is reported, never silent (ENOBUFS below). */
	int size = 4 << 20;
	/* Tests: AHC_WATCH_RCVBUF sets a small buffer, to make the kernel drop events. */
	const char *forced = getenv("AHC_WATCH_RCVBUF");
	if (forced != NULL && atoi(forced) > 0) {
		size = atoi(forced);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	} else if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	}
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die(1, "--watch-addresses: bind(RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR): %s", strerror(errno));
	static char out_buffer[1 << 16];
	setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
	static char buf[1 << 16] __attribute__((aligned(NLMSG_ALIGNTO)));
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				die(3, "--watch-addresses: the kernel dropped address events (receive buffer full)");
			die(1, "--watch-addresses: recv: %s", strerror(errno));
		}
		int left = (int)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR)
				print_address(stdout, h);
		}
		/* One flush per batch the kernel handed over; a closed reader ends the watch. */
		if (fflush(stdout) != 0)
			return errno == EPIPE ? 0 : 1;
	}
}
