/* workloads/mail/server_net.c: sockets and threads of vcons-mail. Each of the --threads workers has
 * its own epoll instance; a connection belongs to the worker that accepted it for its whole life,
 * registered once, level-triggered, for EPOLLIN (EPOLLOUT only while replies wait for room), so a
 * command costs epoll_wait, one recv and one send. The listeners are in every worker's epoll
 * (EPOLLEXCLUSIVE with several workers). The main thread closes connections idle for
 * --idle-timeout and stops the workers when asked to. */
#include "workloads/mail/server.h"
#include "lib/clock.h"
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
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

struct worker {
	struct server *s;
	int epfd;
	pthread_t th;
};

struct server {
	const struct server_cfg *cfg;
	struct mstore *st;
	struct worker *w;
	unsigned nw;
	struct listener ls[2];
	const atomic_int *stop;
	pthread_mutex_t lock; /* guards the connection list */
	struct conn *conns;
};

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
	close(c->fd); /* also takes it out of its worker's epoll set */
	free(c);
}

/* Registers c for want (ADD the first time, MOD when it changed); false if epoll refused. */
static bool conn_arm(struct conn *c, uint32_t want)
{
	if (c->armed == want)
		return true;
	struct epoll_event ev = { .events = want, .data.ptr = c };
	int op = c->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(c->w->epfd, op, c->fd, &ev))
		return false;
	c->armed = want;
	return true;
}

/* Reads what the socket has (bounded by IN_HIGH); sets c->eof when the peer has closed. A read
 * that does not fill the buffer took everything there was: the registration is level-triggered,
 * so anything arriving later is reported again, and no read is spent on finding EAGAIN. */
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
			if ((size_t)r < sizeof(tmp))
				return;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno != EAGAIN)
			c->eof = true;
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

/* Lets the session consume c->in and sends its replies, as long as it makes progress and the
 * socket takes them; false on a socket error. */
static bool conn_run(struct conn *c)
{
	for (;;) {
		size_t before = buf_pending(&c->in);
		if (!c->close_after_flush && buf_pending(&c->out) < CONN_OUT_HIGH) {
			if (c->kind == CONN_SMTP)
				smtp_input(c);
			else
				imap_input(c);
		}
		if (!conn_flush(c))
			return false;
		/* the session stopped for output room and there is room again: go on */
		if (buf_pending(&c->out) || c->close_after_flush ||
		    (buf_pending(&c->in) == before && !c->more))
			return true;
	}
}

/* Serves c after events (0: just accepted, the greeting is queued): reads, runs the session, sends,
 * then closes c or registers it for what it waits for. */
static void conn_event(struct conn *c, uint32_t events)
{
	c->last_ns = now_ns();
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c);
	if (!conn_run(c)) {
		conn_free(c);
		return;
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
	uint32_t want = 0;
	if (buf_pending(&c->out))
		want |= EPOLLOUT;
	if (!c->eof && buf_pending(&c->in) < IN_HIGH && !c->close_after_flush)
		want |= EPOLLIN;
	if (!conn_arm(c, want))
		conn_free(c);
}

/* Accepts one connection (the listener is level-triggered: if more wait, the next epoll_wait says
 * so, and no accept is spent on finding EAGAIN), sends its greeting and keeps it in w's epoll. */
static void accept_one(struct worker *w, struct listener *l)
{
	struct server *s = w->s;
	// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
	int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* EAGAIN: another worker took it. Out of descriptors: the listener stays
		 * readable, so pause instead of spinning on it. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
		}
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->kind = l->kind;
	c->srv = s;
	c->w = w;
	c->st = s->st;
	c->cfg = s->cfg;
	int rc = l->kind == CONN_SMTP ? smtp_open(c) : imap_open(c);
	if (rc) {
		close(fd);
		free(c);
		return;
	}
	pthread_mutex_lock(&s->lock);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	pthread_mutex_unlock(&s->lock);
	conn_event(c, 0); /* a new socket has room: the greeting goes out now */
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct server *s = w->s;
	struct epoll_event evs[32];
	while (!atomic_load_explicit(s->stop, memory_order_relaxed)) {
		int n = epoll_wait(w->epfd, evs, 32, 200);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->ls[0] || p == &s->ls[1])
				accept_one(w, p);
			else
				conn_event(p, evs[i].events);
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

/* One epoll instance per worker, each watching both listeners. */
static int workers_init(struct server *s)
{
	s->w = calloc(s->cfg->threads, sizeof(*s->w));
	if (!s->w)
		return -ENOMEM;
	/* with several workers, a new connection wakes one of them, not all */
	uint32_t lev = EPOLLIN | (s->cfg->threads > 1 ? EPOLLEXCLUSIVE : 0);
	for (; s->nw < s->cfg->threads; s->nw++) {
		struct worker *w = &s->w[s->nw];
		w->s = s;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (w->epfd < 0)
			return -errno;
		for (int i = 0; i < 2; i++) {
			struct epoll_event ev = { .events = lev, .data.ptr = &s->ls[i] };
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->ls[i].fd, &ev)) {
				int rc = -errno;
				close(w->epfd);
				return rc;
			}
		}
	}
	return 0;
}

static void workers_free(struct server *s)
{
	for (unsigned i = 0; i < s->nw; i++)
		close(s->w[i].epfd);
	free(s->w);
}

/* Starts the workers with SIGTERM/SIGINT blocked, so the main thread takes them and its sleep
 * ends at once. Returns how many started. */
static unsigned workers_start(struct server *s)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	unsigned started = 0;
	for (; started < s->nw; started++)
		if (pthread_create(&s->w[started].th, NULL, worker, &s->w[started]))
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

int server_run(const struct server_cfg *cfg, struct mstore *st, const atomic_int *stop)
{
	struct server s = { .cfg = cfg, .st = st, .stop = stop };
	pthread_mutex_init(&s.lock, NULL);
	s.ls[0] = (struct listener){ .fd = -1, .kind = CONN_SMTP };
	s.ls[1] = (struct listener){ .fd = -1, .kind = CONN_IMAP };
	/* TCP_NODELAY on the listeners: accepted sockets inherit it (Linux), no call per connection
	 */
	const struct net_listen_opts lo = { .nodelay = true };
	char err[160];
	if ((s.ls[0].fd = net_listen(cfg->addr, cfg->smtp_port, &lo, err, sizeof(err))) < 0) {
		fprintf(stderr, "vcons-mail: %s\n", err);
		return 1;
	}
	if ((s.ls[1].fd = net_listen(cfg->addr, cfg->imap_port, &lo, err, sizeof(err))) < 0) {
		fprintf(stderr, "vcons-mail: %s\n", err);
		close(s.ls[0].fd);
		return 1;
	}
	int rc = workers_init(&s);
	if (rc) {
		fprintf(stderr, "vcons-mail: epoll: %s\n", strerror(-rc));
		return 1;
	}
	unsigned started = workers_start(&s);
	if (started == 0) {
		fprintf(stderr, "vcons-mail: cannot start worker threads\n");
		return 1;
	}
	printf("ready\n");
	(void)fflush(stdout);
	/* the idle timeout is counted in seconds: a sweep a second is enough */
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
		sweep_idle(&s);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(s.w[i].th, NULL);
	while (s.conns)
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): conn_free unlinks the head first
		conn_free(s.conns);
	workers_free(&s);
	close(s.ls[0].fd);
	close(s.ls[1].fd);
	pthread_mutex_destroy(&s.lock);
	return 0;
}
