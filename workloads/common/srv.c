/* workloads/common/srv.c: the network-server core: plain transport, a connection's round, the
 * workers' epoll loops, timeouts, wake-ups across workers, listeners and stop (see srv.h). */
#include "workloads/common/srv.h"
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_CHUNK    65536 /* room offered to each read */
#define CONN_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLET)
#define MAX_EVENTS  64

struct worker {
	struct srv *s;
	int ep, id;
	pthread_t tid;
	struct srv_conn *conns;
	/* wake-ups (srv_conn_wake): a FIFO of connections, and an eventfd in ep, written when the
	 * list stops being empty */
	int wake_fd;
	pthread_mutex_t wake_lock; /* guards the list and each listed connection's wake_* fields */
	struct srv_conn *wake_head, *wake_tail;
	size_t n_wake;
	char wake_tag; /* address only: epoll tag */
};

struct listen_sock {
	int fd;
	struct srv_listener l;
};

struct srv {
	struct srv_config cfg; /* its listeners and proto pointers unused: copies below */
	struct srv_proto proto;
	struct listen_sock *ls;
	struct worker *ws;
	int started;
	int stop_efd; /* written by srv_stop: in each epoll set, level-triggered, never read */
	atomic_int stopping;
	char stop_tag, ext_stop_tag; /* addresses only: epoll tags */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the plain transport ---- */

static ssize_t plain_read(struct srv_conn *c, void *p, size_t n)
{
	for (;;) {
		ssize_t r = recv(c->fd, p, n, 0);
		/* shorter than asked: the socket is empty now; new bytes raise an edge */
		if (r > 0)
			c->drained = (size_t)r < n && !c->rdhup;
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return SRV_ERR;
		c->drained = true;
		return SRV_AGAIN;
	}
}

static ssize_t plain_writev(struct srv_conn *c, const struct iovec *iov, int n)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
	for (;;) {
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w > 0)
			return w;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->blocked = true;
			return SRV_AGAIN;
		}
		return SRV_ERR;
	}
}

const struct srv_transport srv_plain = { .read = plain_read, .writev = plain_writev };

/* ---- wake-ups ---- */

/* Takes c off w's wake list if it is there. Caller holds w->wake_lock. */
static void wake_unlink(struct worker *w, struct srv_conn *c)
{
	if (!c->wake_queued)
		return;
	if (c->wake_prev)
		c->wake_prev->wake_next = c->wake_next;
	else
		w->wake_head = c->wake_next;
	if (c->wake_next)
		c->wake_next->wake_prev = c->wake_prev;
	else
		w->wake_tail = c->wake_prev;
	c->wake_queued = false;
	w->n_wake--;
}

static void wake_signal(struct worker *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->wake_fd, &one, sizeof(one)); /* EAGAIN: it is readable already */
	(void)r;
}

void srv_conn_wake(struct srv_conn *c)
{
	struct worker *w = &c->srv->ws[c->worker];
	pthread_mutex_lock(&w->wake_lock);
	bool first = w->wake_head == NULL;
	if (!c->wake_queued) {
		c->wake_queued = true;
		c->wake_next = NULL;
		c->wake_prev = w->wake_tail;
		if (w->wake_tail)
			w->wake_tail->wake_next = c;
		else
			w->wake_head = c;
		w->wake_tail = c;
		w->n_wake++;
	}
	pthread_mutex_unlock(&w->wake_lock);
	if (first)
		wake_signal(w);
}

/* ---- a connection ---- */

static void conn_close(struct worker *w, struct srv_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (w->s->proto.close)
		w->s->proto.close(c); /* after it, nothing wakes c any more */
	pthread_mutex_lock(&w->wake_lock);
	wake_unlink(w, c);
	pthread_mutex_unlock(&w->wake_lock);
	buf_free(&c->ibuf);
	buf_free(&c->obuf);
	if (c->tr->close)
		c->tr->close(c);
	close(c->fd); /* also leaves the epoll set: the fd is never duplicated */
	free(c);
}

void srv_conn_upgrade(struct srv_conn *c, srv_secure_fn *secure, void *ctx)
{
	c->upgrade = secure;
	c->upgrade_ctx = ctx;
}

/* Registers c, or adds EPOLLOUT once a send has blocked; 0, or -1. With edge triggering the
 * interest never needs to change back. */
static int conn_arm(struct worker *w, struct srv_conn *c)
{
	uint32_t ev = CONN_EVENTS | (c->blocked || (c->events & EPOLLOUT) ? EPOLLOUT : 0);
	if (ev == c->events)
		return 0;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(w->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) < 0)
		return -1;
	c->events = ev;
	return 0;
}

static bool has_output(const struct srv_conn *c)
{
	return buf_pending(c->out) || c->ext_len;
}

/* Sends the queued bytes and the borrowed tail: 1 all sent, 0 would block, -1 broken. */
static int conn_flush(struct srv_conn *c)
{
	while (has_output(c)) {
		struct iovec iov[2];
		int n = 0;
		size_t head = buf_pending(c->out);
		if (head)
			iov[n++] = (struct iovec){ c->out->p + c->out->off, head };
		if (c->ext_len)
			iov[n++] = (struct iovec){ (void *)c->ext, c->ext_len };
		ssize_t k = c->tr->writev(c, iov, n);
		if (k == SRV_AGAIN)
			return 0;
		if (k < 0)
			return -1;
		size_t h = (size_t)k < head ? (size_t)k : head;
		buf_consume(c->out, h);
		c->ext += (size_t)k - h;
		c->ext_len -= (size_t)k - h;
	}
	int rc = c->tr->flush ? c->tr->flush(c) : 1; /* TLS: the records wait in a buffer */
	c->blocked = rc == 0;
	return rc;
}

/* Reads into c->in: >0, 0 end of stream, SRV_AGAIN, SRV_ERR. */
static ssize_t conn_read(struct srv_conn *c)
{
	if (buf_reserve(c->in, IN_CHUNK))
		return SRV_ERR;
	ssize_t r = c->tr->read(c, c->in->p + c->in->len, c->in->cap - c->in->len);
	if (r > 0)
		c->in->len += (size_t)r;
	return r;
}

/* Gives the protocol the buffered input if it may take it: 1 it made progress, 0 not, -1 close. */
static int conn_input(const struct srv_proto *p, struct srv_conn *c)
{
	if (c->close_after || c->ext_len || buf_pending(c->out) >= p->out_high ||
	    (!buf_pending(c->in) && !c->more))
		return 0;
	size_t in = buf_pending(c->in), out = buf_pending(c->out);
	if (p->input(c) < 0)
		return -1;
	return buf_pending(c->in) != in || buf_pending(c->out) != out || c->ext_len ||
	       c->close_after;
}

/* The protocol's wake, due since srv_conn_wake (the output is all sent): true if it queued
 * output or ended the connection (progress: the timeouts count from now). */
static bool conn_woken(const struct srv_proto *p, struct srv_conn *c)
{
	c->woken = false;
	size_t out = buf_pending(c->out);
	if (p->wake)
		p->wake(c);
	if (buf_pending(c->out) == out && !c->close_after)
		return false;
	c->last_ms = now_ms();
	return true;
}

/* Switches transports (srv_conn_upgrade) now that the output is sent: 0, or -1. */
static int conn_upgrade(struct srv_conn *c)
{
	srv_secure_fn *fn = c->upgrade;
	c->upgrade = NULL;
	if (c->tr->close)
		c->tr->close(c);
	c->tr = &srv_plain;
	c->tr_state = NULL;
	return fn(c, c->upgrade_ctx);
}

/* Sends, gives input to the protocol and reads until the connection waits for an edge: 0 to
 * wait, -1 to close. */
static int conn_work(struct worker *w, struct srv_conn *c)
{
	const struct srv_proto *p = &w->s->proto;
	for (;;) {
		if (c->handshaking) {
			int rc = c->tr->handshake(c);
			if (rc <= 0)
				return rc;
			c->handshaking = false;
			if (p->secured)
				p->secured(c);
		}
		if (has_output(c)) {
			int rc = c->blocked ? 0 : conn_flush(c);
			if (rc <= 0)
				return rc;
		}
		if (c->upgrade) {
			if (conn_upgrade(c))
				return -1;
			continue;
		}
		if (c->close_after)
			return -1;
		if (c->woken && conn_woken(p, c))
			continue;
		int rc = conn_input(p, c);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		if (c->eof)
			return -1; /* everything buffered was served and answered */
		if (c->drained || c->blocked || buf_pending(c->in) >= p->in_max)
			return 0; /* blocked: a TLS read that must write first */
		ssize_t r = conn_read(c);
		if (r == 0)
			c->eof = true;
		else if (r == SRV_ERR)
			return -1;
	}
}

/* Works on c until it waits for an edge: 0 alive, -1 closed. */
static int conn_round(struct worker *w, struct srv_conn *c)
{
	if (conn_work(w, c) < 0 || conn_arm(w, c) < 0) {
		conn_close(w, c);
		return -1;
	}
	return 0;
}

/* One round of work on c after the events ev (0: none, e.g. just accepted); 0 alive, -1 closed. */
static int conn_progress(struct worker *w, struct srv_conn *c, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->drained = false;
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rdhup = true;
	if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->blocked = false;
	c->last_ms = now_ms();
	return conn_round(w, c);
}

/* When c is closed (or told so) unless it makes progress. */
static int64_t conn_deadline(const struct srv_config *cfg, const struct srv_conn *c)
{
	bool pending = buf_pending(c->in) || has_output(c) || c->handshaking || c->timed_out;
	int idle = c->idle_timeout_s > 0 ? c->idle_timeout_s : cfg->idle_timeout_s;
	return c->last_ms + 1000LL * (pending ? cfg->request_timeout_s : idle);
}

/* c's deadline passed: the protocol says goodbye if it can, else c closes. 0 alive, -1 closed. */
static int conn_expire(struct worker *w, struct srv_conn *c)
{
	const struct srv_proto *p = &w->s->proto;
	if (!p->timeout || c->timed_out) {
		conn_close(w, c);
		return -1;
	}
	c->timed_out = true;
	c->more = false;
	p->timeout(c);
	c->close_after = true;
	return conn_progress(w, c, 0);
}

/* Handles the connections past their deadline; returns the earliest deadline of the others
 * (INT64_MAX: none). */
static int64_t sweep(struct worker *w, int64_t now)
{
	int64_t next = INT64_MAX;
	struct srv_conn *c = w->conns;
	while (c) {
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): next is read before c is closed
		struct srv_conn *after = c->next;
		int64_t d = conn_deadline(&w->s->cfg, c);
		if (now > d && conn_expire(w, c) == 0)
			d = conn_deadline(&w->s->cfg, c);
		else if (now > d)
			d = INT64_MAX;
		next = d < next ? d : next;
		c = after;
	}
	return next;
}

/* Accepts one connection (the listener is level-triggered: another pending one reports again) and
 * gives it its first round. Returns it, or NULL when there is none (any more). */
static struct srv_conn *accept_one(struct worker *w, const struct listen_sock *ls)
{
	// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
	int fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* EAGAIN: another worker took it. Out of descriptors or memory: the listener
		 * stays readable, so pause instead of spinning on it. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
		}
		return NULL;
	}
	struct srv_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	*c = (struct srv_conn){ .srv = w->s,
		                .arg = w->s->cfg.arg,
		                .kind = ls->l.kind,
		                .worker = w->id,
		                .fd = fd,
		                .tr = &srv_plain,
		                .drained = !ls->l.client_first };
	c->in = &c->ibuf;
	c->out = &c->obuf;
	if (w->s->proto.open(c)) {
		close(fd);
		free(c);
		return NULL;
	}
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	if (ls->l.secure && ls->l.secure(c, ls->l.secure_ctx)) {
		conn_close(w, c);
		return NULL;
	}
	return conn_progress(w, c, 0) == 0 ? c : NULL;
}

/* The connections woken since the eventfd was last read: each gets a round with its protocol's
 * wake. At most as many as were queued on entry (those woken again meanwhile wait for the next
 * turn of the loop, the eventfd written for them). Returns the earliest deadline among them. */
static int64_t wake_all(struct worker *w)
{
	uint64_t v;
	ssize_t r = read(w->wake_fd, &v, sizeof(v)); /* EAGAIN: a turn before took them */
	(void)r;
	int64_t next = INT64_MAX;
	pthread_mutex_lock(&w->wake_lock);
	for (size_t n = w->n_wake; n > 0 && w->wake_head; n--) {
		struct srv_conn *c = w->wake_head;
		wake_unlink(w, c);
		pthread_mutex_unlock(&w->wake_lock);
		c->woken = true;
		if (conn_round(w, c) == 0) {
			int64_t d = conn_deadline(&w->s->cfg, c);
			next = d < next ? d : next;
		}
		pthread_mutex_lock(&w->wake_lock);
	}
	if (w->wake_head)
		wake_signal(w);
	pthread_mutex_unlock(&w->wake_lock);
	return next;
}

/* epoll_wait's time-out: until the earliest deadline (-1: none), so an idle worker sleeps. */
static int wait_ms(int64_t deadline, int64_t now)
{
	if (deadline == INT64_MAX)
		return -1;
	int64_t ms = deadline - now + 1;
	return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct srv *s = w->s;
	struct epoll_event ev[MAX_EVENTS];
	int64_t deadline = INT64_MAX; /* no connection can expire before it */
	while (!atomic_load(&s->stopping)) {
		int n = epoll_wait(w->ep, ev, MAX_EVENTS, wait_ms(deadline, now_ms()));
		bool woken = false;
		for (int i = 0; i < n; i++) {
			char *p = ev[i].data.ptr;
			struct srv_conn *c = NULL;
			if (p == &s->stop_tag || p == &s->ext_stop_tag)
				atomic_store(&s->stopping, 1);
			else if (p == &w->wake_tag)
				woken = true; /* after the others: a wake may close a connection
				                 below */
			else if (p >= (char *)s->ls && p < (char *)(s->ls + s->cfg.n_listeners))
				c = accept_one(w, (const struct listen_sock *)p);
			else if (conn_progress(w, (struct srv_conn *)p, ev[i].events) == 0)
				c = (struct srv_conn *)p;
			int64_t d = c ? conn_deadline(&s->cfg, c) : INT64_MAX;
			deadline = d < deadline ? d : deadline;
		}
		int64_t d = woken ? wake_all(w) : INT64_MAX;
		deadline = d < deadline ? d : deadline;
		int64_t now = now_ms();
		if (now >= deadline)
			deadline = sweep(w, now);
	}
	while (w->conns)
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): conn_close unlinks the head first
		conn_close(w, w->conns);
	return NULL;
}

/* ---- the server ---- */

/* Adds fd to ep, tagged: 0 or -1. */
static int watch(int ep, int fd, uint32_t events, void *tag)
{
	struct epoll_event e = { .events = events, .data.ptr = tag };
	return fd < 0 ? 0 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int open_listeners(struct srv *s, char *err, size_t len)
{
	const struct srv_config *cfg = &s->cfg;
	s->ls = calloc((size_t)cfg->n_listeners, sizeof(*s->ls));
	if (!s->ls) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	for (int i = 0; i < cfg->n_listeners; i++)
		s->ls[i].fd = -1;
	for (int i = 0; i < cfg->n_listeners; i++) {
		const struct srv_listener *l = &cfg->listeners[i];
		/* accepted sockets inherit both options: each saves a call per connection */
		int defer = l->client_first ? cfg->request_timeout_s : 0;
		const struct net_listen_opts lo = { .backlog = cfg->backlog,
			                            .nodelay = true,
			                            .defer_accept_s = defer };
		s->ls[i].l = *l;
		s->ls[i].fd = net_listen(cfg->addr, l->port, &lo, err, len);
		if (s->ls[i].fd < 0)
			return -1;
	}
	return 0;
}

static int start_worker(struct srv *s, struct worker *w)
{
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->ep < 0 || w->wake_fd < 0 || watch(w->ep, s->stop_efd, EPOLLIN, &s->stop_tag) < 0 ||
	    watch(w->ep, s->cfg.stop_fd, EPOLLIN, &s->ext_stop_tag) < 0 ||
	    watch(w->ep, w->wake_fd, EPOLLIN, &w->wake_tag) < 0)
		return -1;
	for (int i = 0; i < s->cfg.n_listeners; i++)
		if (watch(w->ep, s->ls[i].fd, EPOLLIN | EPOLLEXCLUSIVE, &s->ls[i]) < 0)
			return -1;
	return pthread_create(&w->tid, NULL, worker_main, w) ? -1 : 0;
}

int srv_start(struct srv **out, const struct srv_config *cfg, char *err, size_t len)
{
	struct srv *s = calloc(1, sizeof(*s));
	if (!s || cfg->threads < 1 || cfg->n_listeners < 1) {
		const char *why = !s                 ? "out of memory"
		                  : cfg->threads < 1 ? "no threads"
		                                     : "no port";
		snprintf(err, len, "%s", why);
		free(s);
		return -1;
	}
	s->cfg = *cfg;
	s->proto = *cfg->proto;
	s->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->ws = calloc((size_t)cfg->threads, sizeof(*s->ws));
	if (s->stop_efd < 0 || !s->ws) {
		snprintf(err, len, "out of memory or file descriptors");
		srv_finish(s);
		return -1;
	}
	if (open_listeners(s, err, len)) {
		srv_finish(s);
		return -1;
	}
	for (; s->started < cfg->threads; s->started++) {
		struct worker *w = &s->ws[s->started];
		*w = (struct worker){ .s = s, .id = s->started, .ep = -1, .wake_fd = -1 };
		pthread_mutex_init(&w->wake_lock, NULL);
		if (start_worker(s, w)) {
			snprintf(err, len, "cannot start the worker threads: %s", strerror(errno));
			if (w->ep >= 0)
				close(w->ep);
			if (w->wake_fd >= 0)
				close(w->wake_fd);
			pthread_mutex_destroy(&w->wake_lock);
			srv_finish(s);
			return -1;
		}
	}
	*out = s;
	return 0;
}

int srv_port(const struct srv *s, int i)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	if (i < 0 || i >= s->cfg.n_listeners ||
	    getsockname(s->ls[i].fd, (struct sockaddr *)&sa, &len))
		return -1;
	// NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): getsockname set it
	return ntohs(sa.sin_port);
}

void srv_stop(struct srv *s)
{
	int e = errno; /* called from signal handlers */
	uint64_t one = 1;
	if (s->stop_efd >= 0) {
		ssize_t r = write(s->stop_efd, &one, sizeof(one)); /* EAGAIN: written enough */
		(void)r;
	}
	errno = e;
}

void srv_wait(struct srv *s)
{
	struct pollfd pf[2] = { { .fd = s->stop_efd, .events = POLLIN },
		                { .fd = s->cfg.stop_fd, .events = POLLIN } };
	while (!atomic_load(&s->stopping) && poll(pf, 2, -1) < 1) /* EINTR: a signal, look again */
		;
}

void srv_finish(struct srv *s)
{
	srv_stop(s);
	for (int i = 0; i < s->started; i++) {
		/* started counts workers in ws: 0 (calloc) when ws could not be allocated */
		// NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
		pthread_join(s->ws[i].tid, NULL);
		close(s->ws[i].ep);
		close(s->ws[i].wake_fd);
		pthread_mutex_destroy(&s->ws[i].wake_lock);
	}
	for (int i = 0; s->ls && i < s->cfg.n_listeners; i++)
		if (s->ls[i].fd >= 0)
			close(s->ls[i].fd);
	if (s->stop_efd >= 0)
		close(s->stop_efd);
	free(s->ls);
	free(s->ws);
	free(s);
}
