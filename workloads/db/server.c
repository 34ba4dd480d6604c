/* workloads/db/server.c: vcons-db's protocol on the server core (frames in, transactions run,
 * frames out) and its checkpointer (see server.h). */
#include "workloads/db/server.h"
#include "workloads/common/srv.h"
#include "workloads/db/frame.h"
#include "workloads/db/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* A checkpoint once the WAL holds this many frames (128 MB of 4 KB pages), or CKPT_TIMEOUT_MS
 * after the last one when there has been a commit since: see checkpointer_main. */
#define CKPT_FRAMES     32768
#define CKPT_TIMEOUT_MS 300000
#define OUT_HIGH        (256 * 1024) /* serve pipelined frames while less waits to be sent */

struct db_server {
	struct srv *srv;
	int stop_fd; /* eventfd, readable once stopping: wakes the workers and the checkpointer */
	int ckpt_fd; /* eventfd: a commit found the WAL long (on_commit) */
	struct tpcc_db *dbs; /* per worker: a handle on the one connection (tpcc_share) */
	int n_workers;
	struct tpcc_db engine;   /* the one SQLite connection (tpcc_open_server) */
	pthread_mutex_t tx_lock; /* held for each transaction and checkpoint on it */
	int ckpt_asked;          /* under tx_lock: ckpt_fd written since the last checkpoint */
	char wal_path[4096];
	pthread_t ckpt_tid;
	int ckpt_started;
	atomic_int stop;
	atomic_uint_fast64_t requests, errors, rollbacks, connections, bad_frames;
};

static int db_open(struct srv_conn *c)
{
	struct db_server *s = c->arg;
	atomic_fetch_add(&s->connections, 1);
	return 0;
}

/* Queues o as a response frame: 0, or -1. */
static int queue_json(struct srv_conn *c, const json_t *o)
{
	size_t n;
	char *msg = o ? frame_encode_json(o, &n) : NULL;
	int rc = msg ? buf_put(c->out, msg, n) : -1;
	free(msg);
	return rc;
}

/* Executes one complete request and queues its response: 0, or -1 to close the connection. */
static int serve_frame(struct srv_conn *c, const char *payload, uint32_t len)
{
	struct db_server *s = c->arg;
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
		db_server_stop(s); /* the workers see it after this response is sent */
	} else {
		resp = tpcc_execute(&s->dbs[c->worker], req);
	}
	json_decref(req);
	const char *st = json_string_value(json_object_get(resp, "status"));
	if (st && strcmp(st, "error") == 0)
		atomic_fetch_add(&s->errors, 1);
	if (st && strcmp(st, "rollback") == 0)
		atomic_fetch_add(&s->rollbacks, 1);
	int rc = queue_json(c, resp);
	json_decref(resp);
	return rc;
}

/* Serves every complete frame buffered (while less than OUT_HIGH waits to be sent). A bad frame
 * length gets an error response, then the connection closes (the stream cannot be resynced). */
static int db_input(struct srv_conn *c)
{
	while (buf_pending(c->out) < OUT_HIGH) {
		const struct frame_buf view = { .data = c->in->p + c->in->off,
			                        .have = buf_pending(c->in) };
		const char *payload;
		uint32_t len;
		enum frame_state fs = frame_parse(&view, &payload, &len);
		if (fs == FRAME_MORE)
			return 0;
		if (fs == FRAME_READY) {
			if (serve_frame(c, payload, len))
				return -1;
			buf_consume(c->in, 4 + (size_t)len);
			continue;
		}
		struct db_server *s = c->arg;
		atomic_fetch_add(&s->bad_frames, 1);
		json_t *o = json_pack("{s:s, s:s}", "status", "error", "error",
		                      fs == FRAME_EMPTY ? "bad frame: zero length"
		                                        : "bad frame: length above 65536");
		int rc = queue_json(c, o);
		json_decref(o);
		buf_consume(c->in, buf_pending(c->in));
		c->close_after = true;
		return rc;
	}
	return 0;
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

/* The one connection, its handles for the workers, the WAL hook and the checkpointer. */
static int open_engine(struct db_server *s, const struct db_server_config *cfg, char *err,
                       size_t len)
{
	snprintf(s->wal_path, sizeof(s->wal_path), "%s/%s-wal", cfg->data, TPCC_DB_FILE);
	if (tpcc_open_server(&s->engine, cfg->data, cfg->sync, cfg->seed)) {
		snprintf(err, len, "%s", s->engine.err);
		return -1;
	}
	for (int i = 0; i < s->n_workers; i++)
		tpcc_share(&s->dbs[i], &s->engine, &s->tx_lock, cfg->seed + (uint64_t)i + 1);
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
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->ckpt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&s->tx_lock, NULL);
	s->dbs = calloc((size_t)cfg->threads, sizeof(*s->dbs));
	s->n_workers = s->dbs ? cfg->threads : 0;
	if (!s->dbs || s->stop_fd < 0 || s->ckpt_fd < 0) {
		snprintf(err, len, "out of memory or file descriptors");
		db_server_finish(s, NULL);
		return -1;
	}
	if (open_engine(s, cfg, err, len)) {
		db_server_finish(s, NULL);
		return -1;
	}
	static const struct srv_proto proto = {
		.open = db_open, .input = db_input, .in_max = FRAME_MAX + 4, .out_high = OUT_HIGH
	};
	const struct srv_listener ls = { .port = cfg->port };
	int idle = cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : DB_IDLE_TIMEOUT_S;
	const struct srv_config sc = { .addr = cfg->addr,
		                       .listeners = &ls,
		                       .n_listeners = 1,
		                       .threads = cfg->threads,
		                       .idle_timeout_s = idle,
		                       .request_timeout_s = idle,
		                       .stop_fd = s->stop_fd,
		                       .proto = &proto,
		                       .arg = s };
	if (srv_start(&s->srv, &sc, err, len)) {
		s->srv = NULL;
		db_server_finish(s, NULL);
		return -1;
	}
	*out = s;
	return 0;
}

int db_server_port(const struct db_server *s)
{
	return srv_port(s->srv, 0);
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
	if (s->srv)
		srv_finish(s->srv); /* joins the workers, which close their connections */
	for (int i = 0; i < s->n_workers; i++)
		tpcc_close(&s->dbs[i]);
	if (s->ckpt_started)
		pthread_join(s->ckpt_tid, NULL);
	if (s->engine.db)
		tpcc_close(&s->engine); /* checkpoints the WAL into the database file */
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
	free(s->dbs);
	pthread_mutex_destroy(&s->tx_lock);
	free(s);
}
