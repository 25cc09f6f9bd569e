/*
 * The jail's network namespace, set up from inside by its (namespace)
 * root before the target exists (DESIGN.md section 3, steps 2 and 3):
 *
 *   1. lo up;
 *   2. default routes over lo for IPv4 (src 127.0.0.1) and IPv6 (src ::1),
 *      so that a connect() to any address leaves through lo;
 *   3. an nftables table (libnftables, no nft binary): DNS (UDP and TCP
 *      port 53) to our DNS sockets, every other TCP connection not
 *      addressed to loopback to the proxy listener, and anything not
 *      addressed to loopback dropped;
 *   4. the proxy listeners and DNS sockets, bound in this netns, which
 *      nsjail.c hands to boundary (it stays in the host netns).
 *
 * Nothing here touches the host: the table, the routes and the sockets'
 * bindings vanish with the namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <nftables/libnftables.h>

#include "jail_int.h"

static int
lo_up(struct jail *j)
{
	struct ifreq ifr;
	int fd, ret = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		jail_err(j, "lo: socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
		jail_err(j, "lo: SIOCGIFFLAGS: %s", strerror(errno));
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1) {
		jail_err(j, "lo: cannot bring it up: %s", strerror(errno));
		goto fail;
	}
	ret = 0;
 fail:
	close(fd);
	return ret;
}

/* RTM_NEWROUTE default dev lo src <src> in the main table. */
static int
add_default_route(struct jail *j, struct mnl_socket *nl, int family,
    const void *src, size_t srclen)
{
	char buf[8192];		/* MNL_SOCKET_BUFFER_SIZE is not a constant */
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	unsigned int seq = (unsigned int)time(NULL) + (unsigned int)family;
	unsigned int ifindex = if_nametoindex("lo");
	int n;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_src_len = 0;
	rtm->rtm_tos = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	mnl_attr_put(nlh, RTA_PREFSRC, srclen, src);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1)
		goto fail;
	n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n == -1)
		goto fail;
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL,
	    NULL) == -1)
		goto fail;
	return 0;
 fail:
	jail_err(j, "route: default dev lo (%s): %s",
	    family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
	return -1;
}

static int
routes(struct jail *j)
{
	struct mnl_socket *nl;
	struct in_addr v4;
	struct in6_addr v6;
	int ret = -1;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL) {
		jail_err(j, "route: netlink: %s", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		jail_err(j, "route: netlink bind: %s", strerror(errno));
		goto fail;
	}
	inet_pton(AF_INET, JAIL_PROXY_V4, &v4);
	if (add_default_route(j, nl, AF_INET, &v4, sizeof(v4)) == -1)
		goto fail;
	inet_pton(AF_INET6, JAIL_PROXY_V6, &v6);
	if (add_default_route(j, nl, AF_INET6, &v6, sizeof(v6)) == -1) {
		/* a kernel without IPv6 (or with it disabled) has no ::1 */
		if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT &&
		    errno != EOPNOTSUPP)
			goto fail;
		j->err[0] = '\0';
	}
	ret = 0;
 fail:
	mnl_socket_close(nl);
	return ret;
}

/*
 * The ruleset.  Order in nat output: DNS first (a resolver on
 * 127.0.0.53 is the jail's own loopback and gets our DNS), then
 * loopback stays loopback (the proxy listener itself, the target's own
 * local servers), then every other TCP connection goes to the proxy.
 * The filter chain then drops whatever still is not addressed to
 * loopback: UDP, ICMP, raw IP, other protocols.
 */
static int
nft_table(struct jail *j)
{
	char rules[1024];
	struct nft_ctx *nft;
	const char *msg;
	int ret = -1;

	snprintf(rules, sizeof(rules),
	    "table inet boundary {\n"
	    "	chain nat_out {\n"
	    "		type nat hook output priority -100; policy accept;\n"
	    "		meta l4proto { tcp, udp } th dport 53 redirect to :%d\n"
	    "		ip daddr 127.0.0.0/8 return\n"
	    "		ip6 daddr ::1 return\n"
	    "		meta l4proto tcp redirect to :%u\n"
	    "	}\n"
	    "	chain filter_out {\n"
	    "		type filter hook output priority 0; policy drop;\n"
	    "		ip daddr 127.0.0.0/8 accept\n"
	    "		ip6 daddr ::1 accept\n"
	    "	}\n"
	    "}\n", JAIL_DNS_PORT, (unsigned)j->proxy_port);
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (nft == NULL) {
		jail_err(j, "nftables: cannot create a context");
		return -1;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (nft_run_cmd_from_buffer(nft, rules) != 0) {
		msg = nft_ctx_get_error_buffer(nft);
		jail_err(j, "nftables: cannot install the jail's table: %s",
		    msg != NULL && msg[0] != '\0' ? msg : strerror(errno));
		goto fail;
	}
	ret = 0;
 fail:
	nft_ctx_free(nft);
	return ret;
}

int
netns_child(struct jail *j)
{
	if (lo_up(j) == -1 || routes(j) == -1 || nft_table(j) == -1)
		return -1;
	return 0;
}

/* A socket of <type> bound to <addr>:<port>; -1 with errno. */
static int
bound_socket(int family, int type, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, saved;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, SOMAXCONN) == -1)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
netns_sockets(struct jail *j)
{
	static const struct {
		int family;
		const char *addr;
	} where[] = {
		{ AF_INET, JAIL_PROXY_V4 },
		{ AF_INET6, JAIL_PROXY_V6 },
	};
	size_t i;
	int fd;

	j->nlisten = j->ndns = 0;
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		fd = bound_socket(where[i].family, SOCK_STREAM, where[i].addr,
		    j->proxy_port);
		if (fd == -1) {
			if (where[i].family == AF_INET6 &&
			    (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
				continue;	/* no IPv6 in this kernel */
			jail_err(j, "proxy listener %s port %u: %s",
			    where[i].addr, (unsigned)j->proxy_port,
			    strerror(errno));
			return -1;
		}
		j->listen_fds[j->nlisten++] = fd;
		fd = bound_socket(where[i].family, SOCK_DGRAM, where[i].addr,
		    JAIL_DNS_PORT);
		if (fd == -1) {
			jail_err(j, "DNS socket %s port %d: %s",
			    where[i].addr, JAIL_DNS_PORT, strerror(errno));
			return -1;
		}
		j->dns_fds[j->ndns++] = fd;
		fd = bound_socket(where[i].family, SOCK_STREAM, where[i].addr,
		    JAIL_DNS_PORT);
		if (fd == -1) {
			jail_err(j, "DNS listener %s port %d: %s",
			    where[i].addr, JAIL_DNS_PORT, strerror(errno));
			return -1;
		}
		j->dns_fds[j->ndns++] = fd;
	}
	return 0;
}
