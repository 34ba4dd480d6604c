/* lib/net.c: the servers' TCP listener (see net.h). */
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_options(int fd, const struct net_listen_opts *o)
{
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o && o->nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o && o->defer_accept_s > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &o->defer_accept_s,
		           sizeof(o->defer_accept_s));
}

int net_listen(const char *addr, int port, const struct net_listen_opts *o, char *err,
               size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (port < 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, port,
		         port < 0 || port > 65535 ? "not a TCP port" : "not an IPv4 address");
		errno = EINVAL;
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		set_options(fd, o);
		int backlog = o && o->backlog > 0 ? o->backlog : 512;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, backlog) == 0)
			return fd;
	}
	int e = errno;
	snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, port, strerror(e));
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

void net_ignore_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}
