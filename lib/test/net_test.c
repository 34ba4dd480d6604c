/* Unit tests for lib/net.c: a listener on the loopback that accepts, is non-blocking and
 * close-on-exec; the message for a bad address and for a port in use. */
#include "tools/unit.h"
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	// NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set, or the assert ended the test
	return ntohs(sa.sin_port);
}

static void listens_and_accepts(void **state)
{
	char err[128] = "";
	struct net_listen_opts o = { .nodelay = true, .defer_accept_s = 1, .backlog = 8 };
	int fd = net_listen("127.0.0.1", 0, &o, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port_of(fd)) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(c);
	close(fd);
}

static void errors(void **state)
{
	char err[128];
	assert_int_equal(net_listen("10.1.2", 80, NULL, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "cannot listen on 10.1.2:80: not an IPv4 address");
	int fd = net_listen("127.0.0.1", 0, NULL, err, sizeof(err));
	assert_true(fd >= 0);
	int port = port_of(fd);
	assert_int_equal(net_listen("127.0.0.1", port, NULL, err, sizeof(err)), -1);
	char want[128];
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: %s", port,
	         strerror(EADDRINUSE));
	assert_string_equal(err, want);
	close(fd);
}

UNIT_MAIN(cmocka_unit_test(listens_and_accepts), cmocka_unit_test(errors))
