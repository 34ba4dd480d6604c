/* workloads/web/server.c: connections and the per-thread epoll loop (see server.h).
 *
 * A connection alternates between three things in one "progress" loop until it would block:
 * send what is queued; parse the next buffered request (only once the previous answer is fully
 * sent, so pipelined answers stay in order and memory stays bounded); read more bytes. TLS
 * connections do the same through SSL_read/SSL_write after a non-blocking handshake.
 *
 * System calls are the cost under the hypervisor (one exit each), so a request costs one recv and
 * one sendmsg plus its share of epoll_wait, and nothing else:
 * - connections are edge-triggered (EPOLLET), registered once after their first progress (with
 *   EPOLLOUT added the first time an answer does not fit the socket buffer), never modified or
 *   deleted (close drops them from the set);
 * - a plain read shorter than the buffer drained the socket: the next read waits for an EPOLLIN
 *   edge instead of asking recv for an EAGAIN (unless the peer's FIN was already reported:
 *   EPOLLRDHUP, then it reads on to the end);
 * - the listeners carry TCP_NODELAY (inherited by accepted sockets) and TCP_DEFER_ACCEPT (a
 *   connection is accepted with its first request already readable); each listener sits in every
 *   worker's set with EPOLLEXCLUSIVE (one worker woken per connection) and a wake-up accepts one
 *   connection (level-triggered: another pending one reports again), so no accept ends in EAGAIN.
 */
#include "workloads/web/server.h"
#include "workloads/web/tls.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IN_INITIAL  16384
#define CONN_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLET)

struct conn {
	int fd;
	SSL *ssl;
	int handshaking;
	char *in;
	size_t in_len, in_cap, in_max;
	struct app_resp out;
	size_t out_off;  /* bytes of head+body already sent */
	int busy;        /* an answer is queued */
	int drained;     /* the socket had nothing more to read: wait for an EPOLLIN edge */
	int rdhup;       /* the peer's FIN was reported: read until end of stream */
	int blocked;     /* the socket buffer is full: wait for an EPOLLOUT edge */
	int short_read;  /* TLS: the last socket read returned less than asked (tls_conn_new) */
	uint32_t events; /* registered interest; 0 = not in the epoll set yet */
	int64_t last_ms; /* last progress, CLOCK_MONOTONIC */
	struct conn *prev, *next; /* the worker's connections, for time-outs and shutdown */
};

struct worker {
	const struct server_config *cfg;
	struct conn *conns;
	int ep;
	pthread_t tid;
	int id;
};

static int listener_plain, listener_tls; /* addresses only: epoll tags for the listeners */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(struct worker *w, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->ssl) {
		if (!c->handshaking && SSL_shutdown(c->ssl) >= 0)
			tls_flush(c->ssl); /* best effort close_notify; never waits */
		SSL_free(c->ssl);
	}
	close(c->fd); /* also leaves the epoll set: the fd is never duplicated */
	app_resp_free(&c->out);
	free(c->in);
	free(c);
}

/* Registers the connection, or adds EPOLLOUT once a send has blocked; 0, or -1 on failure. With
 * edge triggering the interest never needs to change back. */
static int conn_arm(struct worker *w, struct conn *c)
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

/* Sends queued bytes: 1 all sent, 0 would block (c->blocked set), -1 connection broken. */
static int conn_flush(struct conn *c)
{
	struct app_resp *r = &c->out;
	size_t total = r->head.len + r->body_len;
	while (c->out_off < total) {
		ssize_t n;
		if (c->ssl) {
			const void *p = c->out_off < r->head.len
			                    ? (const void *)(r->head.p + c->out_off)
			                    : (const void *)(r->body + (c->out_off - r->head.len));
			size_t len = c->out_off < r->head.len ? r->head.len - c->out_off
			                                      : total - c->out_off;
			int k = SSL_write(c->ssl, p, (int)(len > (1 << 30) ? 1 << 30 : len));
			if (k <= 0) {
				int e = SSL_get_error(c->ssl, k);
				if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
					return -1;
				c->blocked = 1;
				return 0;
			}
			n = k;
		} else {
			struct iovec iov[2];
			int cnt = 0;
			if (c->out_off < r->head.len) {
				iov[cnt++] = (struct iovec){ r->head.p + c->out_off,
					                     r->head.len - c->out_off };
				if (r->body_len)
					iov[cnt++] = (struct iovec){ (void *)r->body, r->body_len };
			} else {
				size_t off = c->out_off - r->head.len;
				iov[cnt++] =
				    (struct iovec){ (void *)(r->body + off), r->body_len - off };
			}
			struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					return -1;
				c->blocked = 1;
				return 0;
			}
		}
		c->out_off += (size_t)n;
	}
	if (c->ssl) { /* the records wait in the write buffer */
		int rc = tls_flush(c->ssl);
		c->blocked = rc == 0;
		return rc;
	}
	return 1;
}

/* Grows the input buffer when full: 0, or -1. */
static int conn_room(struct conn *c)
{
	if (c->in_len < c->in_cap)
		return 0;
	if (c->in_cap >= c->in_max)
		return -1; /* cannot happen: the parser rejects before the buffer fills */
	size_t cap = c->in_cap * 2 > c->in_max ? c->in_max : c->in_cap * 2;
	// NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): cap >= IN_INITIAL > 0
	char *p = realloc(c->in, cap);
	if (!p)
		return -1;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/* Reads into the input buffer: >0 bytes read, 0 nothing more for now (c->drained set), -1 EOF or
 * error. */
static int conn_read(struct conn *c)
{
	if (conn_room(c) != 0)
		return -1;
	size_t room = c->in_cap - c->in_len;
	if (c->ssl) {
		/* drained when OpenSSL's last socket read was short and it holds no bytes */
		int k = SSL_read(c->ssl, c->in + c->in_len, (int)room);
		if (k > 0) {
			c->in_len += (size_t)k;
			c->drained = c->short_read && !SSL_has_pending(c->ssl) && !c->rdhup;
			return k;
		}
		int e = SSL_get_error(c->ssl, k);
		if (e == SSL_ERROR_WANT_WRITE) {
			c->blocked = 1;
			return 0;
		}
		c->drained = e == SSL_ERROR_WANT_READ;
		return c->drained ? 0 : -1;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			/* shorter than asked: the socket is empty now; new bytes raise an edge */
			c->drained = (size_t)n < room && !c->rdhup;
			return (int)n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->drained = 1;
			return 0;
		}
		return -1;
	}
}

/* Parses and answers the request at the start of the buffer, if complete: 1 answered, 0 needs
 * more bytes. */
static int conn_next_request(struct worker *w, struct conn *c)
{
	struct app *a = w->cfg->app;
	struct http_req q;
	long n = http_parse(c->in, c->in_len, &a->limits, &q);
	if (n == 0)
		return 0;
	memset(&c->out, 0, sizeof(c->out));
	c->out_off = 0;
	c->busy = 1;
	if (n < 0) {
		app_error(a, (int)-n, &c->out);
		c->in_len = 0; /* the rest of the stream cannot be framed: discard it */
		return 1;
	}
	app_handle(a, &q, &c->out);
	memmove(c->in, c->in + n, c->in_len - (size_t)n);
	c->in_len -= (size_t)n;
	return 1;
}

/* 1 done, 0 waiting (for an edge of what it wants), -1 failed. */
static int conn_handshake(struct worker *w, struct conn *c)
{
	int k = SSL_do_handshake(c->ssl);
	if (k == 1) {
		c->handshaking = 0;
		atomic_fetch_add(&w->cfg->app->stats.tls_handshakes, 1);
		if (SSL_session_reused(c->ssl))
			atomic_fetch_add(&w->cfg->app->stats.tls_resumed, 1);
		return 1;
	}
	int e = SSL_get_error(c->ssl, k);
	if (e == SSL_ERROR_WANT_READ)
		c->drained = 1;
	else if (e == SSL_ERROR_WANT_WRITE)
		c->blocked = 1;
	else
		return -1;
	return 0;
}

/* Sends, answers and reads until the connection waits for an edge: 0 to wait, -1 to close. */
static int conn_work(struct worker *w, struct conn *c)
{
	if (c->handshaking) {
		int rc = conn_handshake(w, c);
		if (rc <= 0)
			return rc;
	}
	for (;;) {
		if (c->busy) {
			int rc = c->blocked ? 0 : conn_flush(c);
			if (rc <= 0)
				return rc;
			int close_after = c->out.close;
			app_resp_free(&c->out);
			c->busy = 0;
			if (close_after)
				return -1;
		}
		if (c->in_len && conn_next_request(w, c))
			continue;
		if (c->drained || c->blocked) /* blocked: a TLS read that must write first */
			return 0;
		if (conn_read(c) < 0)
			return -1; /* EOF: a partial request just ends with the connection */
	}
}

/* One round of work on c after the events ev (0: just accepted); 0 alive, -1 closed. */
static int conn_progress(struct worker *w, struct conn *c, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->drained = 0;
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rdhup = 1;
	if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->blocked = 0;
	c->last_ms = now_ms();
	if (conn_work(w, c) < 0 || conn_arm(w, c) < 0) {
		conn_close(w, c);
		return -1;
	}
	return 0;
}

/* Accepts one connection (the listener is level-triggered: another pending one reports again)
 * and serves its first request, which TCP_DEFER_ACCEPT has already made readable. Returns the
 * connection, or NULL when there is none (any more). */
static struct conn *accept_one(struct worker *w, int lfd, int tls)
{
	const struct server_config *cfg = w->cfg;
	// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return NULL; /* EAGAIN (another thread took it), or a transient error */
	struct conn *c = calloc(1, sizeof(*c));
	if (c)
		c->in = malloc(IN_INITIAL);
	if (c && tls)
		c->ssl = tls_conn_new(cfg->ctx, fd, &c->short_read);
	if (!c || !c->in || (tls && !c->ssl)) {
		if (c) {
			SSL_free(c->ssl);
			free(c->in);
		}
		free(c);
		close(fd);
		return NULL;
	}
	atomic_fetch_add(&cfg->app->stats.connections, 1);
	c->fd = fd;
	c->in_cap = IN_INITIAL;
	c->in_max = cfg->app->limits.max_header_bytes + cfg->app->limits.max_body_bytes + 64;
	c->handshaking = tls;
	if (tls)
		SSL_set_accept_state(c->ssl);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	return conn_progress(w, c, 0) == 0 ? c : NULL;
}

/* When c is closed unless it makes progress: a partial request, a TLS handshake or an answer
 * the client does not read may stall request_timeout_s; an idle keep-alive connection
 * idle_timeout_s. */
static int64_t conn_deadline(const struct server_config *cfg, const struct conn *c)
{
	int pending = c->in_len > 0 || c->handshaking || c->busy;
	return c->last_ms + 1000LL * (pending ? cfg->request_timeout_s : cfg->idle_timeout_s);
}

/* Closes the connections past their deadline; returns the earliest deadline of the others
 * (INT64_MAX: none). */
static int64_t sweep(struct worker *w, int64_t now)
{
	int64_t next = INT64_MAX;
	struct conn *c = w->conns;
	while (c) {
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): next is read before c is closed
		struct conn *after = c->next;
		int64_t d = conn_deadline(w->cfg, c);
		if (now > d)
			conn_close(w, c);
		else if (d < next)
			next = d;
		c = after;
	}
	return next;
}

/* An eventfd written to stop every worker: in each epoll set, level-triggered, never read. */
static atomic_int stop_fd = -1;
static int stop_tag; /* address only: its epoll tag */

void server_stop(void)
{
	int e = errno; /* called from signal handlers */
	uint64_t one = 1;
	int fd = atomic_load(&stop_fd);
	if (fd >= 0) {
		ssize_t r = write(fd, &one, sizeof(one)); /* EAGAIN: already written enough */
		(void)r;
	}
	errno = e;
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
	const struct server_config *cfg = w->cfg;
	struct epoll_event ev[64];
	int64_t deadline = INT64_MAX; /* no connection can expire before it */
	while (!atomic_load(&cfg->app->stop) &&
	       !atomic_load_explicit(cfg->signalled, memory_order_relaxed)) {
		int n = epoll_wait(w->ep, ev, 64, wait_ms(deadline, now_ms()));
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			struct conn *c = NULL;
			if (p == &listener_plain)
				c = accept_one(w, cfg->plain_fd, 0);
			else if (p == &listener_tls)
				c = accept_one(w, cfg->tls_fd, 1);
			else if (p != &stop_tag && conn_progress(w, p, ev[i].events) == 0)
				c = p;
			int64_t d = c ? conn_deadline(cfg, c) : INT64_MAX;
			deadline = d < deadline ? d : deadline;
		}
		int64_t now = now_ms();
		if (now >= deadline)
			deadline = sweep(w, now);
	}
	server_stop(); /* /admin/stop in this worker: wake the others */
	while (w->conns)
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): conn_close unlinks the head first
		conn_close(w, w->conns);
	return NULL;
}

/* Adds fd to ep, tagged: 0 or -1. */
static int watch(int ep, int fd, uint32_t events, void *tag)
{
	struct epoll_event e = { .events = events, .data.ptr = tag };
	return fd < 0 ? 0 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

int server_run(const struct server_config *cfg)
{
	struct worker *ws = calloc((size_t)cfg->threads, sizeof(*ws));
	if (!ws)
		return -1;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	atomic_store(&stop_fd, efd);
	int started = 0, rc = efd < 0 ? -1 : 0;
	for (int i = 0; i < cfg->threads && rc == 0; i++) {
		ws[i] = (struct worker){ .cfg = cfg, .id = i, .ep = epoll_create1(EPOLL_CLOEXEC) };
		if (ws[i].ep < 0 || watch(ws[i].ep, efd, EPOLLIN, &stop_tag) < 0 ||
		    watch(ws[i].ep, cfg->plain_fd, EPOLLIN | EPOLLEXCLUSIVE, &listener_plain) < 0 ||
		    watch(ws[i].ep, cfg->tls_fd, EPOLLIN | EPOLLEXCLUSIVE, &listener_tls) < 0 ||
		    pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			if (ws[i].ep >= 0)
				close(ws[i].ep);
			rc = -1;
			break;
		}
		started++;
	}
	if (rc != 0) {
		atomic_store(&cfg->app->stop, 1);
		server_stop();
	}
	for (int i = 0; i < started; i++) {
		pthread_join(ws[i].tid, NULL);
		close(ws[i].ep);
	}
	free(ws);
	atomic_store(&stop_fd, -1);
	if (efd >= 0)
		close(efd);
	return rc;
}
