/* workloads/web/server.c: connections and the per-thread epoll loop (see server.h).
 *
 * A connection alternates between three things in one "progress" loop until it would block:
 * send what is queued; parse the next buffered request (only once the previous answer is fully
 * sent, so pipelined answers stay in order and memory stays bounded); read more bytes. The epoll
 * interest (in or out) follows what it is waiting for. TLS connections do the same through
 * SSL_read/SSL_write after a non-blocking handshake. */
#include "workloads/web/server.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define IN_INITIAL 16384

struct conn {
	int fd;
	SSL *ssl;
	int handshaking;
	char *in;
	size_t in_len, in_cap, in_max;
	struct app_resp out;
	size_t out_off; /* bytes of head+body already sent */
	int busy;       /* an answer is queued */
	uint32_t events;
	int64_t last_ms;          /* last progress, CLOCK_MONOTONIC */
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

int server_listen(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

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
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl) {
		if (!c->handshaking)
			SSL_shutdown(c->ssl); /* best effort close_notify; never waits */
		SSL_free(c->ssl);
	}
	close(c->fd);
	app_resp_free(&c->out);
	free(c->in);
	free(c);
}

static void set_events(struct worker *w, struct conn *c, uint32_t ev)
{
	if (ev == c->events)
		return;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

/* Sends queued bytes: 1 all sent, 0 would block, -1 connection broken. */
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
				return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0
				                                                             : -1;
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
				return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
			}
		}
		c->out_off += (size_t)n;
	}
	return 1;
}

/* Reads into the input buffer: >0 bytes read, 0 would block, -1 EOF or error. */
static int conn_read(struct conn *c)
{
	if (c->in_len == c->in_cap) {
		if (c->in_cap >= c->in_max)
			return -1; /* cannot happen: the parser rejects before the buffer fills */
		size_t cap = c->in_cap * 2 > c->in_max ? c->in_max : c->in_cap * 2;
		// NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): cap >= IN_INITIAL > 0
		char *p = realloc(c->in, cap);
		if (!p)
			return -1;
		c->in = p;
		c->in_cap = cap;
	}
	size_t room = c->in_cap - c->in_len;
	if (c->ssl) {
		int k = SSL_read(c->ssl, c->in + c->in_len, (int)room);
		if (k > 0) {
			c->in_len += (size_t)k;
			return k;
		}
		int e = SSL_get_error(c->ssl, k);
		return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			return (int)n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
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
		set_events(w, c, EPOLLIN);
	else if (e == SSL_ERROR_WANT_WRITE)
		set_events(w, c, EPOLLOUT);
	else
		return -1;
	return 0;
}

static void conn_progress(struct worker *w, struct conn *c)
{
	c->last_ms = now_ms();
	if (c->handshaking) {
		int rc = conn_handshake(w, c);
		if (rc < 0) {
			conn_close(w, c);
			return;
		}
		if (rc == 0)
			return;
	}
	for (;;) {
		if (c->busy) {
			int rc = conn_flush(c);
			if (rc < 0) {
				conn_close(w, c);
				return;
			}
			if (rc == 0) {
				set_events(w, c, EPOLLOUT);
				return;
			}
			int close_after = c->out.close;
			app_resp_free(&c->out);
			c->busy = 0;
			if (close_after) {
				conn_close(w, c);
				return;
			}
		}
		if (c->in_len && conn_next_request(w, c))
			continue;
		int rc = conn_read(c);
		if (rc < 0) {
			conn_close(w, c); /* EOF: a partial request just ends with the connection */
			return;
		}
		if (rc == 0) {
			set_events(w, c, EPOLLIN);
			return;
		}
	}
}

static void accept_all(struct worker *w, int lfd, int tls)
{
	const struct server_config *cfg = w->cfg;
	for (int i = 0; i < 64; i++) {
		// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN (another thread took it), or a transient error */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(IN_INITIAL);
		if (c && tls && (c->ssl = SSL_new(cfg->ctx)) != NULL)
			SSL_set_fd(c->ssl, fd);
		if (!c || !c->in || (tls && !c->ssl)) {
			if (c) {
				SSL_free(c->ssl);
				free(c->in);
			}
			free(c);
			close(fd);
			continue;
		}
		atomic_fetch_add(&cfg->app->stats.connections, 1);
		c->fd = fd;
		c->in_cap = IN_INITIAL;
		c->in_max =
		    cfg->app->limits.max_header_bytes + cfg->app->limits.max_body_bytes + 64;
		c->handshaking = tls;
		if (tls)
			SSL_set_accept_state(c->ssl);
		c->events = EPOLLIN;
		c->last_ms = now_ms();
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			conn_close(w, c);
			continue;
		}
		conn_progress(w, c);
	}
}

/* Closes connections that stalled: a partial request, a TLS handshake or an answer the client
 * does not read for request_timeout_s; an idle keep-alive connection after idle_timeout_s. */
static void sweep(struct worker *w, int64_t now)
{
	const struct server_config *cfg = w->cfg;
	struct conn *c = w->conns;
	while (c) {
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): next is read before c is closed
		struct conn *next = c->next;
		int pending = c->in_len > 0 || c->handshaking || c->busy;
		int64_t limit = 1000LL * (pending ? cfg->request_timeout_s : cfg->idle_timeout_s);
		if (now - c->last_ms > limit)
			conn_close(w, c);
		c = next;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct server_config *cfg = w->cfg;
	struct epoll_event ev[64];
	int64_t last_sweep = now_ms();
	while (!atomic_load(&cfg->app->stop) &&
	       !atomic_load_explicit(cfg->signalled, memory_order_relaxed)) {
		int n = epoll_wait(w->ep, ev, 64, 200);
		int64_t now = now_ms();
		if (now - last_sweep >= 250) {
			sweep(w, now);
			last_sweep = now;
		}
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			if (p == &listener_plain)
				accept_all(w, cfg->plain_fd, 0);
			else if (p == &listener_tls)
				accept_all(w, cfg->tls_fd, 1);
			else
				conn_progress(w, p);
		}
	}
	while (w->conns)
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): conn_close unlinks the head first
		conn_close(w, w->conns);
	return NULL;
}

int server_run(const struct server_config *cfg)
{
	struct worker *ws = calloc((size_t)cfg->threads, sizeof(*ws));
	if (!ws)
		return -1;
	int started = 0, rc = 0;
	for (int i = 0; i < cfg->threads; i++) {
		ws[i] = (struct worker){ .cfg = cfg, .id = i, .ep = epoll_create1(EPOLL_CLOEXEC) };
		if (ws[i].ep < 0) {
			rc = -1;
			break;
		}
		struct epoll_event e = { .events = EPOLLIN };
		e.data.ptr = &listener_plain;
		if (cfg->plain_fd >= 0)
			epoll_ctl(ws[i].ep, EPOLL_CTL_ADD, cfg->plain_fd, &e);
		e.data.ptr = &listener_tls;
		if (cfg->tls_fd >= 0)
			epoll_ctl(ws[i].ep, EPOLL_CTL_ADD, cfg->tls_fd, &e);
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			close(ws[i].ep);
			rc = -1;
			break;
		}
		started++;
	}
	if (rc != 0)
		atomic_store(&cfg->app->stop, 1);
	for (int i = 0; i < started; i++) {
		pthread_join(ws[i].tid, NULL);
		close(ws[i].ep);
	}
	free(ws);
	return rc;
}
