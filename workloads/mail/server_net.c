/* workloads/mail/server_net.c: sockets and threads of vcons-mail. One epoll instance is shared by
 * --threads worker threads; connections are registered EPOLLONESHOT so exactly one worker owns a
 * connection at a time (reads what is there, lets its session consume it, sends what it can,
 * re-arms). The main thread closes connections idle for --idle-timeout and stops the workers when
 * asked to. */
#include "workloads/mail/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_HIGH (1u << 20) /* stop reading while this much input waits to be consumed */

struct listener {
	int fd;
	enum conn_kind kind;
};

struct server {
	const struct server_cfg *cfg;
	struct mstore *st;
	int epfd;
	struct listener ls[2];
	const atomic_int *stop;
	pthread_mutex_t lock; /* guards the connection list */
	struct conn *conns;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int listen_on(const char *addr, int port, int *out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 512)) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static void conn_free(struct conn *c)
{
	struct server *s = c->srv;
	pthread_mutex_lock(&s->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->lock);
	conn_end(c);
	close(c->fd);
	free(c);
}

static void accept_all(struct server *s, struct listener *l)
{
	for (;;) {
		// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* EAGAIN: another worker took it or none is left. Out of descriptors: the
			 * listener stays readable, so pause instead of spinning on it. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timespec ts = { 0, 10000000 };
				nanosleep(&ts, NULL);
			}
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->kind = l->kind;
		c->srv = s;
		c->st = s->st;
		c->cfg = s->cfg;
		c->last_ns = now_ns();
		int rc = l->kind == CONN_SMTP ? smtp_open(c) : imap_open(c);
		if (rc) {
			close(fd);
			free(c);
			continue;
		}
		pthread_mutex_lock(&s->lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->lock);
		/* the greeting goes out when the socket reports writable */
		struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLONESHOT,
			                  .data.ptr = c };
		handoff_give(&c->handoff);
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev))
			conn_free(c);
	}
}

/* Reads what the socket has (bounded by IN_HIGH); sets c->eof when the peer has closed. */
static void conn_read(struct conn *c)
{
	while (!c->eof && buf_pending(&c->in) < IN_HIGH) {
		char tmp[65536];
		ssize_t r = recv(c->fd, tmp, sizeof(tmp), 0);
		if (r > 0) {
			if (buf_put(&c->in, tmp, (size_t)r)) {
				c->eof = true;
				c->close_after_flush = true;
			}
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			c->eof = true;
		if (r < 0 && errno == EINTR)
			continue;
		return;
	}
}

/* Sends what it can; false on a socket error. */
static bool conn_flush(struct conn *c)
{
	while (buf_pending(&c->out)) {
		ssize_t w = send(c->fd, c->out.p + c->out.off, buf_pending(&c->out), MSG_NOSIGNAL);
		if (w > 0) {
			buf_consume(&c->out, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		return w < 0 && errno == EAGAIN;
	}
	return true;
}

static void conn_event(struct server *s, struct conn *c, uint32_t events)
{
	handoff_take(&c->handoff);
	c->last_ns = now_ns();
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c);
	for (;;) {
		size_t before = buf_pending(&c->in);
		if (!c->close_after_flush && buf_pending(&c->out) < CONN_OUT_HIGH) {
			if (c->kind == CONN_SMTP)
				smtp_input(c);
			else
				imap_input(c);
		}
		if (!conn_flush(c)) {
			conn_free(c);
			return;
		}
		/* the session stopped for output room and there is room again: go on */
		if (buf_pending(&c->out) || c->close_after_flush ||
		    (buf_pending(&c->in) == before && !c->more))
			break;
	}
	if (c->timed_out && !c->close_after_flush) {
		if (c->kind == CONN_SMTP)
			smtp_timeout(c);
		else
			imap_timeout(c);
		c->close_after_flush = true;
		if (!conn_flush(c)) {
			conn_free(c);
			return;
		}
	}
	if ((c->close_after_flush || c->eof) && !buf_pending(&c->out)) {
		conn_free(c);
		return;
	}
	if (c->eof && buf_pending(&c->out) && (events & (EPOLLHUP | EPOLLERR))) {
		conn_free(c); /* nobody left to read the replies */
		return;
	}
	uint32_t want = EPOLLONESHOT;
	if (buf_pending(&c->out))
		want |= EPOLLOUT;
	if (!c->eof && buf_pending(&c->in) < IN_HIGH && !c->close_after_flush)
		want |= EPOLLIN;
	struct epoll_event ev = { .events = want, .data.ptr = c };
	int fd = c->fd;
	handoff_give(&c->handoff); /* c is another worker's from here on, unless arming fails */
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev))
		conn_free(c);
}

static void *worker(void *arg)
{
	struct server *s = arg;
	struct epoll_event evs[32];
	while (!atomic_load_explicit(s->stop, memory_order_relaxed)) {
		int n = epoll_wait(s->epfd, evs, 32, 200);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->ls[0] || p == &s->ls[1])
				accept_all(s, p);
			else
				conn_event(s, p, evs[i].events);
		}
	}
	return NULL;
}

/* Connections quiet for longer than the idle timeout: shutting down their reading side wakes their
 * worker, which says goodbye (RFC 5321 4.5.3.2 421, RFC 3501 BYE) and closes. A peer that does not
 * even read that is cut off after a second timeout. */
static void sweep_idle(struct server *s)
{
	int64_t t = (int64_t)s->cfg->idle_timeout_s * 1000000000, now = now_ns();
	pthread_mutex_lock(&s->lock);
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->last_ns >= now - t)
			continue;
		if (!c->timed_out) {
			c->timed_out = true;
			shutdown(c->fd, SHUT_RD);
		} else if (c->last_ns < now - 2 * t) {
			shutdown(c->fd, SHUT_RDWR);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

int server_run(const struct server_cfg *cfg, struct mstore *st, const atomic_int *stop)
{
	struct server s = { .cfg = cfg, .st = st, .stop = stop, .epfd = -1 };
	pthread_mutex_init(&s.lock, NULL);
	s.ls[0] = (struct listener){ .fd = -1, .kind = CONN_SMTP };
	s.ls[1] = (struct listener){ .fd = -1, .kind = CONN_IMAP };
	int rc = listen_on(cfg->addr, cfg->smtp_port, &s.ls[0].fd);
	if (rc) {
		fprintf(stderr, "vcons-mail: cannot listen on %s:%d: %s\n", cfg->addr,
		        cfg->smtp_port, strerror(-rc));
		return 1;
	}
	rc = listen_on(cfg->addr, cfg->imap_port, &s.ls[1].fd);
	if (rc) {
		fprintf(stderr, "vcons-mail: cannot listen on %s:%d: %s\n", cfg->addr,
		        cfg->imap_port, strerror(-rc));
		close(s.ls[0].fd);
		return 1;
	}
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s.ls[i] };
		if (s.epfd < 0 || epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.ls[i].fd, &ev)) {
			fprintf(stderr, "vcons-mail: epoll: %s\n", strerror(errno));
			return 1;
		}
	}
	pthread_t *th = calloc(cfg->threads, sizeof(*th));
	unsigned started = 0;
	for (; th && started < cfg->threads; started++)
		if (pthread_create(&th[started], NULL, worker, &s))
			break;
	if (started == 0) {
		fprintf(stderr, "vcons-mail: cannot start worker threads\n");
		return 1;
	}
	printf("ready\n");
	(void)fflush(stdout);
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		struct timespec ts = { 0, 250000000 };
		nanosleep(&ts, NULL);
		sweep_idle(&s);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	while (s.conns)
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): conn_free unlinks the head first
		conn_free(s.conns);
	close(s.ls[0].fd);
	close(s.ls[1].fd);
	close(s.epfd);
	pthread_mutex_destroy(&s.lock);
	return 0;
}
