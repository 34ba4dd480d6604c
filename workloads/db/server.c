/* workloads/db/server.c: the epoll + worker-pool TCP server (see server.h). */
#include "workloads/db/server.h"
#include "workloads/common/handoff.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "workloads/db/frame.h"

#define MAX_CONNS       4096
#define SEND_TIMEOUT_MS 5000
#define WAIT_MS         100 /* workers re-check the stop flag this often */
#define CKPT_MS         100
#define CKPT_MAX_FRAMES 4000 /* 16 MB of 4 KB pages */

struct conn {
	int fd;
	struct frame_buf in;
	struct conn *prev, *next; /* all open connections, under conns_mu */
	struct handoff handoff;   /* between workers: workloads/common/handoff.h */
};

struct worker {
	struct db_server *s;
	pthread_t tid;
	int started;
	struct tpcc_db db;
};

struct db_server {
	int lfd, ep;
	struct conn listener; /* epoll data of the listening socket */
	struct worker *workers;
	int n_workers;
	pthread_mutex_t write_lock; /* shared by the workers' connections, see tpcc.h */
	struct tpcc_db ckpt_db;     /* the checkpointer's own connection */
	pthread_t ckpt_tid;
	int ckpt_started;
	pthread_mutex_t conns_mu;
	struct conn conns; /* list head */
	atomic_int stop;
	atomic_int n_conns;
	atomic_uint_fast64_t requests, errors, rollbacks, connections, bad_frames;
};

static void conn_link(struct db_server *s, struct conn *c)
{
	pthread_mutex_lock(&s->conns_mu);
	c->next = s->conns.next;
	c->prev = &s->conns;
	s->conns.next->prev = c;
	s->conns.next = c;
	pthread_mutex_unlock(&s->conns_mu);
}

static void conn_close(struct db_server *s, struct conn *c)
{
	pthread_mutex_lock(&s->conns_mu);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	pthread_mutex_unlock(&s->conns_mu);
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	frame_buf_free(&c->in);
	free(c);
	atomic_fetch_sub(&s->n_conns, 1);
}

static void rearm(struct db_server *s, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.ptr = c };
	int fd = c->fd;
	handoff_give(&c->handoff); /* c is another worker's from here on */
	epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
}

static void accept_some(struct db_server *s)
{
	for (int i = 0; i < 64; i++) {
		// cppcheck-suppress nullPointer ; NULL addrlen is fine (gnu.cfg)
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		struct conn *c = NULL;
		if (atomic_fetch_add(&s->n_conns, 1) >= MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			atomic_fetch_sub(&s->n_conns, 1);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		atomic_fetch_add(&s->connections, 1);
		conn_link(s, c);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
			                  .data.ptr = c };
		handoff_give(&c->handoff);
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev))
			conn_close(s, c);
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = &s->listener };
	epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd, &ev);
}

static int reply_error(int fd, const char *msg)
{
	json_t *o = json_pack("{s:s, s:s}", "status", "error", "error", msg);
	int rc = o ? frame_send_json(fd, o, SEND_TIMEOUT_MS) : -1;
	json_decref(o);
	return rc;
}

/* Executes one complete request. 0 to keep the connection, -1 to close it. */
static int serve_frame(struct worker *w, struct conn *c, const char *payload, uint32_t len)
{
	struct db_server *s = w->s;
	json_error_t jerr;
	json_t *req = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *resp;
	const char *tx = json_string_value(json_object_get(req, "tx"));
	atomic_fetch_add(&s->requests, 1);
	if (!json_is_object(req)) {
		resp = json_pack("{s:s, s:s}", "status", "error", "error",
		                 "bad request: not a JSON object");
	} else if (tx && strcmp(tx, "shutdown") == 0) {
		resp = json_pack("{s:s}", "status", "ok");
		db_server_stop(s);
	} else {
		resp = tpcc_execute(&w->db, req);
	}
	json_decref(req);
	const char *st = json_string_value(json_object_get(resp, "status"));
	if (st && strcmp(st, "error") == 0)
		atomic_fetch_add(&s->errors, 1);
	if (st && strcmp(st, "rollback") == 0)
		atomic_fetch_add(&s->rollbacks, 1);
	int rc = resp ? frame_send_json(c->fd, resp, SEND_TIMEOUT_MS) : -1;
	json_decref(resp);
	return rc;
}

/* Reads what has arrived and serves every complete frame. 0 to keep the connection, -1 to close. */
static int serve_conn(struct worker *w, struct conn *c)
{
	for (;;) {
		if (frame_buf_reserve(&c->in, 4096) && c->in.have == c->in.cap)
			return -1; /* cannot happen: a full buffer always holds a whole frame */
		ssize_t r = recv(c->fd, c->in.data + c->in.have, c->in.cap - c->in.have, 0);
		if (r == 0)
			return -1; /* closed, possibly mid-frame: nothing to answer */
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		c->in.have += (size_t)r;
		const char *payload;
		uint32_t len;
		enum frame_state fs;
		while ((fs = frame_parse(&c->in, &payload, &len)) == FRAME_READY) {
			if (serve_frame(w, c, payload, len))
				return -1;
			frame_consume(&c->in, len);
		}
		if (fs == FRAME_TOO_BIG || fs == FRAME_EMPTY) {
			atomic_fetch_add(&w->s->bad_frames, 1);
			reply_error(c->fd, fs == FRAME_EMPTY ? "bad frame: zero length"
			                                     : "bad frame: length above 65536");
			return -1;
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct db_server *s = w->s;
	while (!atomic_load(&s->stop)) {
		struct epoll_event ev;
		int n = epoll_wait(s->ep, &ev, 1, WAIT_MS);
		if (n <= 0)
			continue;
		struct conn *c = ev.data.ptr;
		if (c == &s->listener) {
			accept_some(s);
			continue;
		}
		handoff_take(&c->handoff);
		if (serve_conn(w, c) || (ev.events & (EPOLLHUP | EPOLLERR)))
			conn_close(s, c);
		else
			rearm(s, c);
	}
	return NULL;
}

/* Checkpoints the WAL into the database file in its own thread, so transactions do not pay for
 * checkpoints (and their fsync) in their latency; workers have auto-checkpointing turned off. Every
 * CKPT_MS a PASSIVE checkpoint (which never waits for anyone) copies what it can. Under a steady
 * write load it can never reach the WAL's end, and SQLite only rewinds the WAL once a checkpoint
 * has reached it; so when the WAL holds more than CKPT_MAX_FRAMES the checkpointer takes the write
 * lock for one more (short, mostly done) checkpoint, and the next writer starts the WAL from the
 * top. */
static void *checkpointer_main(void *arg)
{
	struct db_server *s = arg;
	while (!atomic_load(&s->stop)) {
		struct timespec ts = { 0, CKPT_MS * 1000000L };
		nanosleep(&ts, NULL);
		int log = 0, done = 0;
		sqlite3 *db = s->ckpt_db.db;
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (log > CKPT_MAX_FRAMES) {
			pthread_mutex_lock(&s->write_lock);
			sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
			pthread_mutex_unlock(&s->write_lock);
		}
	}
	return NULL;
}

static int listen_on(const char *addr, int port, char *err, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, len, "bad address %s", addr);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 512)) {
		snprintf(err, len, "cannot listen on %s:%d: %s", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int db_server_start(struct db_server **out, const struct db_server_config *cfg, char *err,
                    size_t len)
{
	struct db_server *s = calloc(1, sizeof(*s));
	if (!s || cfg->threads < 1) {
		snprintf(err, len, s ? "threads must be at least 1" : "out of memory");
		free(s);
		return -1;
	}
	s->lfd = s->ep = -1;
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->conns_mu, NULL);
	s->conns.next = s->conns.prev = &s->conns;
	s->workers = calloc((size_t)cfg->threads, sizeof(*s->workers));
	if (!s->workers) {
		snprintf(err, len, "out of memory");
		db_server_finish(s, NULL);
		return -1;
	}
	s->n_workers = cfg->threads;
	for (int i = 0; i < s->n_workers; i++) {
		s->workers[i].s = s;
		if (tpcc_open(&s->workers[i].db, cfg->data, cfg->sync, cfg->seed + (uint64_t)i)) {
			snprintf(err, len, "%s", s->workers[i].db.err);
			db_server_finish(s, NULL);
			return -1;
		}
		s->workers[i].db.write_lock = &s->write_lock;
		sqlite3_wal_autocheckpoint(s->workers[i].db.db, 0);
	}
	if (tpcc_open(&s->ckpt_db, cfg->data, cfg->sync, cfg->seed)) {
		snprintf(err, len, "%s", s->ckpt_db.err);
		db_server_finish(s, NULL);
		return -1;
	}
	if (pthread_create(&s->ckpt_tid, NULL, checkpointer_main, s)) {
		snprintf(err, len, "cannot start the checkpointer thread");
		db_server_finish(s, NULL);
		return -1;
	}
	s->ckpt_started = 1;
	s->lfd = listen_on(cfg->addr, cfg->port, err, len);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = &s->listener };
	if (s->lfd < 0 || s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev)) {
		if (s->lfd >= 0)
			snprintf(err, len, "epoll: %s", strerror(errno));
		db_server_finish(s, NULL);
		return -1;
	}
	for (int i = 0; i < s->n_workers; i++) {
		if (pthread_create(&s->workers[i].tid, NULL, worker_main, &s->workers[i])) {
			snprintf(err, len, "cannot start worker threads");
			db_server_finish(s, NULL);
			return -1;
		}
		s->workers[i].started = 1;
	}
	*out = s;
	return 0;
}

int db_server_port(const struct db_server *s)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	if (getsockname(s->lfd, (struct sockaddr *)&sa, &len))
		return -1;
	// NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): getsockname set it
	return ntohs(sa.sin_port);
}

void db_server_stop(struct db_server *s)
{
	atomic_store(&s->stop, 1);
}

int db_server_stopping(struct db_server *s)
{
	return atomic_load(&s->stop);
}

void db_server_finish(struct db_server *s, struct db_server_stats *st)
{
	db_server_stop(s);
	for (int i = 0; i < s->n_workers; i++) {
		if (s->workers[i].started)
			pthread_join(s->workers[i].tid, NULL);
		if (s->workers[i].db.db)
			tpcc_close(&s->workers[i].db);
	}
	if (s->ckpt_started)
		pthread_join(s->ckpt_tid, NULL);
	if (s->ckpt_db.db)
		tpcc_close(&s->ckpt_db);
	/* the workers are gone: close what clients left open */
	while (s->conns.next != &s->conns)
		conn_close(s, s->conns.next);
	pthread_mutex_destroy(&s->conns_mu);
	if (s->ep >= 0)
		close(s->ep);
	if (s->lfd >= 0)
		close(s->lfd);
	if (st) {
		st->requests = atomic_load(&s->requests);
		st->errors = atomic_load(&s->errors);
		st->rollbacks = atomic_load(&s->rollbacks);
		st->connections = atomic_load(&s->connections);
		st->bad_frames = atomic_load(&s->bad_frames);
	}
	free(s->workers);
	pthread_mutex_destroy(&s->write_lock);
	free(s);
}
