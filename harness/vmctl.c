/* harness/vmctl.c: a VMM control socket's client (see vmctl.h). */
#include "harness/vmctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int vmctl__connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

int vmctl__send(int fd, const char *line)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	for (int off = 0; off < n;) {
		ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 100);
			continue;
		}
		if (w <= 0)
			return -1;
		off += (int)w;
	}
	return 0;
}

int vmctl__read(int fd, struct vmctl_reader *rd, json_t **reply)
{
	for (;;) {
		char *nl = memchr(rd->buf, '\n', rd->len);
		if (nl) {
			*nl = 0;
			*reply = json_loads(rd->buf, 0, NULL);
			if (*reply && !json_is_object(*reply)) {
				json_decref(*reply);
				*reply = NULL;
			}
			return 1;
		}
		if (rd->len == sizeof(rd->buf) - 1)
			return -1; /* no answer is this long */
		ssize_t n = read(fd, rd->buf + rd->len, sizeof(rd->buf) - 1 - rd->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		rd->len += (size_t)n;
	}
}

json_t *vmctl__call(const char *path, const char *line, int timeout_ms, char *err, size_t errlen)
{
	int fd = vmctl__connect(path);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct vmctl_reader rd = { .len = 0 };
	json_t *reply = NULL;
	int rc = vmctl__send(fd, line) < 0 ? -1 : 0;
	for (int waited = 0; rc == 0 && waited < timeout_ms; waited += 20) {
		rc = vmctl__read(fd, &rd, &reply);
		if (rc == 0)
			poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 20);
	}
	close(fd);
	if (rc == 1 && reply)
		return reply;
	snprintf(err, errlen, "%s: %s", path,
	         rc == 1  ? "an answer that is not a JSON object"
	         : rc < 0 ? "the connection ended without an answer"
	                  : "no answer in time");
	return NULL;
}
