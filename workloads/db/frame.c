/* workloads/db/frame.c: length-prefixed JSON frames (see frame.h). */
#include "workloads/db/frame.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int send_all(int fd, const char *p, size_t n, int timeout_ms)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			if (poll(&pf, 1, timeout_ms) == 1)
				continue;
		}
		return -1;
	}
	return 0;
}

char *frame_encode_json(const json_t *o, size_t *n)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (!s)
		return NULL;
	size_t len = strlen(s);
	char *msg = len <= FRAME_MAX ? malloc(len + 4) : NULL;
	if (msg) {
		msg[0] = (char)(len >> 24);
		msg[1] = (char)(len >> 16);
		msg[2] = (char)(len >> 8);
		msg[3] = (char)len;
		memcpy(msg + 4, s, len);
		*n = len + 4;
	}
	free(s);
	return msg;
}

int frame_send_json(int fd, const json_t *o, int timeout_ms)
{
	size_t n;
	char *msg = frame_encode_json(o, &n);
	int rc = msg ? send_all(fd, msg, n, timeout_ms) : -1; /* one send: header and body */
	free(msg);
	return rc;
}

static int recv_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r == 0 || errno != EINTR) {
			return r == 0 ? 1 : -1;
		}
	}
	return 0;
}

json_t *frame_recv_json(int fd, const char **why)
{
	unsigned char hdr[4];
	int rc = recv_all(fd, (char *)hdr, 4);
	if (rc) {
		*why = rc > 0 ? "connection closed by peer" : "receive failed or timed out";
		return NULL;
	}
	uint32_t len =
	    (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > FRAME_MAX) {
		*why = "bad frame length";
		return NULL;
	}
	char *buf = malloc(len);
	if (!buf) {
		*why = "out of memory";
		return NULL;
	}
	if (recv_all(fd, buf, len)) {
		free(buf);
		*why = "truncated frame";
		return NULL;
	}
	json_error_t err;
	json_t *o = json_loadb(buf, len, 0, &err);
	free(buf);
	if (!json_is_object(o)) {
		json_decref(o);
		*why = "frame is not a JSON object";
		return NULL;
	}
	return o;
}

int frame_buf_reserve(struct frame_buf *b, size_t want)
{
	size_t max = FRAME_MAX + 4;
	if (b->have + want <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->have + want && cap < max)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap <= b->have)
		return -1;
	char *d = realloc(b->data, cap);
	if (!d)
		return -1;
	b->data = d;
	b->cap = cap;
	return 0;
}

enum frame_state frame_parse(const struct frame_buf *b, const char **payload, uint32_t *len)
{
	if (b->have < 4)
		return FRAME_MORE;
	const unsigned char *h = (const unsigned char *)b->data;
	uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	if (n == 0)
		return FRAME_EMPTY;
	if (n > FRAME_MAX)
		return FRAME_TOO_BIG;
	if (b->have < 4 + (size_t)n)
		return FRAME_MORE;
	*payload = b->data + 4;
	*len = n;
	return FRAME_READY;
}

void frame_consume(struct frame_buf *b, uint32_t len)
{
	size_t used = 4 + (size_t)len;
	memmove(b->data, b->data + used, b->have - used);
	b->have -= used;
}

void frame_buf_free(struct frame_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
