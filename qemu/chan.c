/* qemu/chan.c: the host side of vcons-qemu's virtio-serial channels: one listening Unix socket per
 * port in a private directory; QEMU connects to each as a client at start-up. */
#include "qemu/vq.h"

#include "lib/clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int vq_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	// NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.strcpy): length checked above
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int vq_accept_all(const int *lfd, int *cfd, int n, pid_t qemu, double timeout_s)
{
	int64_t end = now_ns() + (int64_t)(timeout_s * 1e9);
	int left = n;
	for (int i = 0; i < n; i++)
		cfd[i] = -1;
	while (left > 0) {
		if (now_ns() > end || kill(qemu, 0) < 0)
			return -1;
		int st;
		if (waitpid(qemu, &st, WNOHANG) == qemu)
			return -2; /* QEMU ended: the caller learns its status from `st` again via
			              its log */
		struct pollfd p[8];
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = cfd[i] < 0 ? lfd[i] : -1, .events = POLLIN };
		if (poll(p, (nfds_t)n, 100) < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n; i++) {
			if (cfd[i] < 0 && (p[i].revents & POLLIN)) {
				// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
				cfd[i] = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC);
				if (cfd[i] >= 0)
					left--;
			}
		}
	}
	return 0;
}

int vq_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
