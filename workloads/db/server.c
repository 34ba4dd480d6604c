/* workloads/db/server.c: the epoll + worker-pool TCP server and its checkpointer (see server.h). */
#include "workloads/db/server.h"
#include "lib/net.h"
#include "workloads/common/handoff.h"
#include "workloads/db/vfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "workloads/db/frame.h"

#define MAX_CONNS       4096
#define SEND_TIMEOUT_MS 5000
/* A checkpoint once the WAL holds this many frames (128 MB of 4 KB pages), or CKPT_TIMEOUT_MS
 * after the last one when there has been a commit since: see checkpointer_main. */
#define CKPT_FRAMES     32768
#define CKPT_TIMEOUT_MS 300000

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
	struct tpcc_db db; /* a handle on the server's one connection (tpcc_share) */
};

struct db_server {
	int lfd, ep;
	struct conn listener; /* epoll data of the listening socket */
	struct conn stopper;  /* epoll data of stop_fd */
	int stop_fd;          /* eventfd, readable once stopping: wakes every thread */
	int ckpt_fd;          /* eventfd: a commit found the WAL long (on_commit) */
	struct worker *workers;
	int n_workers;
	struct tpcc_db engine;   /* the one SQLite connection (tpcc_open_server) */
	pthread_mutex_t tx_lock; /* held for each transaction and checkpoint on it */
	int ckpt_asked;          /* under tx_lock: ckpt_fd written since the last checkpoint */
	char wal_path[4096];
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

/* Reads what has arrived and serves every complete frame. 0 to keep the connection, -1 to close.
 * A read that leaves room in the buffer took all there was: the connection is re-armed level-
 * triggered, so anything arriving later is reported again, and no read is spent on EAGAIN. */
static int serve_conn(struct worker *w, struct conn *c)
{
	for (;;) {
		if (frame_buf_reserve(&c->in, 4096) && c->in.have == c->in.cap)
			return -1; /* cannot happen: a full buffer always holds a whole frame */
		size_t room = c->in.cap - c->in.have;
		ssize_t r = recv(c->fd, c->in.data + c->in.have, room, 0);
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
		if ((size_t)r < room)
			return 0;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct db_server *s = w->s;
	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(s->ep, &ev, 1, -1);
		if (n <= 0)
			continue;
		struct conn *c = ev.data.ptr;
		if (c == &s->stopper)
			return NULL;
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
}

/* SQLite's WAL hook: runs after every commit, before the COMMIT statement returns, holding
 * tx_lock. The commit's WAL frames, gathered by the VFS, are written here: from now on the
 * transaction survives kill -9, and only then is it acknowledged. A failed WAL write leaves
 * SQLite's view of the log ahead of the file, so the server stops at once; the next start
 * recovers every acknowledged transaction from the WAL (vfs.h). */
static int on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)name;
	struct db_server *s = arg;
	int rc = dbvfs_flush(db);
	if (rc != SQLITE_OK) {
		fprintf(stderr,
		        "vcons-db: cannot write the WAL (%s): stopping to keep the data safe\n",
		        sqlite3_errstr(rc));
		_exit(DB_EXIT_STORAGE);
	}
	uint64_t one = 1;
	if (frames >= CKPT_FRAMES && !s->ckpt_asked)
		s->ckpt_asked = write(s->ckpt_fd, &one, sizeof(one)) == sizeof(one);
	return SQLITE_OK;
}

/* The checkpoint's first step, syncing the WAL, done before it while transactions go on: on a
 * long WAL it is most of a checkpoint's time (measured natively: 100-130 ms of 140 for 128 MB),
 * which would otherwise be spent holding tx_lock. Through a descriptor of its own: the WAL file
 * holds no locks that closing it could drop (the WAL index is in heap memory). */
static void presync_wal(const struct db_server *s)
{
	int fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* no WAL yet: nothing to sync */
	(void)fdatasync(fd);
	close(fd);
}

/* Copies the WAL's pages into the database file, in its own thread so that no transaction's
 * response waits for it: when a commit found the WAL at CKPT_FRAMES, or CKPT_TIMEOUT_MS after the
 * last wake-up. A long WAL makes checkpoints rare and cheap per transaction: each copies every
 * page changed since the last once, however often it changed, and TPC-C changes the same few
 * thousand pages over and over. On the one connection a checkpoint holds tx_lock, so
 * transactions wait for it: the copy (write-combined) and the database file's sync, ~40 ms
 * natively for 128 MB of WAL. The connection's close at the end checkpoints what is left. */
static void *checkpointer_main(void *arg)
{
	struct db_server *s = arg;
	struct pollfd pf[2] = { { .fd = s->stop_fd, .events = POLLIN },
		                { .fd = s->ckpt_fd, .events = POLLIN } };
	while (poll(pf, 2, CKPT_TIMEOUT_MS) >= 0 && !(pf[0].revents & POLLIN)) {
		uint64_t n;
		if ((pf[1].revents & POLLIN) && read(s->ckpt_fd, &n, sizeof(n)) < 0)
			continue;
		presync_wal(s);
		pthread_mutex_lock(&s->tx_lock);
		sqlite3_wal_checkpoint_v2(s->engine.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
		                          NULL);
		s->ckpt_asked = 0;
		pthread_mutex_unlock(&s->tx_lock);
	}
	return NULL;
}

static int add_to_epoll(int ep, int fd, uint32_t events, void *data)
{
	struct epoll_event ev = { .events = events, .data.ptr = data };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The one connection, its handles for the workers, the WAL hook and the checkpointer. */
static int open_engine(struct db_server *s, const struct db_server_config *cfg, char *err,
                       size_t len)
{
	snprintf(s->wal_path, sizeof(s->wal_path), "%s/%s-wal", cfg->data, TPCC_DB_FILE);
	if (tpcc_open_server(&s->engine, cfg->data, cfg->sync, cfg->seed)) {
		snprintf(err, len, "%s", s->engine.err);
		return -1;
	}
	for (int i = 0; i < s->n_workers; i++) {
		s->workers[i].s = s;
		tpcc_share(&s->workers[i].db, &s->engine, &s->tx_lock, cfg->seed + (uint64_t)i + 1);
	}
	sqlite3_wal_hook(s->engine.db, on_commit, s);
	if (pthread_create(&s->ckpt_tid, NULL, checkpointer_main, s)) {
		snprintf(err, len, "cannot start the checkpointer thread");
		return -1;
	}
	s->ckpt_started = 1;
	return 0;
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
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->ckpt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&s->tx_lock, NULL);
	pthread_mutex_init(&s->conns_mu, NULL);
	s->conns.next = s->conns.prev = &s->conns;
	s->workers = calloc((size_t)cfg->threads, sizeof(*s->workers));
	s->n_workers = s->workers ? cfg->threads : 0;
	if (!s->workers || s->stop_fd < 0 || s->ckpt_fd < 0) {
		snprintf(err, len, "out of memory or file descriptors");
		db_server_finish(s, NULL);
		return -1;
	}
	if (open_engine(s, cfg, err, len)) {
		db_server_finish(s, NULL);
		return -1;
	}
	s->lfd = net_listen(cfg->addr, cfg->port, NULL, err, len);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->lfd < 0 || s->ep < 0 ||
	    add_to_epoll(s->ep, s->lfd, EPOLLIN | EPOLLONESHOT, &s->listener) ||
	    add_to_epoll(s->ep, s->stop_fd, EPOLLIN, &s->stopper)) {
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
	uint64_t one = 1;
	atomic_store(&s->stop, 1);
	if (s->stop_fd >= 0 && write(s->stop_fd, &one, sizeof(one)) < 0)
		return; /* the eventfd is readable already */
}

int db_server_stopping(struct db_server *s)
{
	return atomic_load(&s->stop);
}

void db_server_wait(struct db_server *s)
{
	struct pollfd pf = { .fd = s->stop_fd, .events = POLLIN };
	while (!atomic_load(&s->stop) && !(poll(&pf, 1, -1) == 1 && (pf.revents & POLLIN)))
		;
}

void db_server_finish(struct db_server *s, struct db_server_stats *st)
{
	db_server_stop(s);
	for (int i = 0; i < s->n_workers; i++) {
		if (s->workers[i].started)
			pthread_join(s->workers[i].tid, NULL);
		tpcc_close(&s->workers[i].db);
	}
	if (s->ckpt_started)
		pthread_join(s->ckpt_tid, NULL);
	if (s->engine.db)
		tpcc_close(&s->engine); /* checkpoints the WAL into the database file */
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
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->ckpt_fd >= 0)
		close(s->ckpt_fd);
	free(s->workers);
	pthread_mutex_destroy(&s->tx_lock);
	free(s);
}
