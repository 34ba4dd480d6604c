/* workloads/db/server.h: vcons-db's TCP server, its protocol on the server core
 * (workloads/common/srv.h): N worker threads, one per vCPU, each with its own epoll set; a
 * connection stays with the worker that accepted it. A worker reads what has arrived, and for each
 * complete frame executes the transaction and queues the response; the responses to one read leave
 * in one write. A slow or half-sent request occupies no worker, and the workers parse and answer in
 * parallel. They share the process's one SQLite connection (tpcc_open_server: the database's only
 * user, its pages cached once), taking turns for each transaction; a checkpointer thread copies
 * the WAL into the database file now and then (server.c). Nothing polls: an idle server makes no
 * system calls. A connection quiet for idle_timeout_s is closed (half a request or an unread
 * response included).
 *
 * Malformed input: a bad frame length (0 or > FRAME_MAX) gets an error response and the connection
 * is closed (the stream cannot be resynchronised); a well-framed request that is not valid JSON or
 * not a valid request gets an error response and the connection stays open; a peer that disconnects
 * mid-frame is just closed. None of it affects other connections.
 *
 * Stop: db_server_stop() from any thread or a signal handler, or the in-band request
 * {"tx":"shutdown"}.
 *
 * Should writing the WAL fail, the process exits at once with DB_EXIT_STORAGE (server.c:
 * on_commit); a restart recovers every acknowledged transaction. */
#ifndef WORKLOADS_DB_SERVER_H
#define WORKLOADS_DB_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include "workloads/db/tpcc.h"

struct db_server_config {
	const char *addr; /* IPv4 dotted quad */
	int port;
	const char *data; /* directory holding vcons-db.sqlite */
	int threads;
	enum tpcc_sync sync;
	uint64_t seed;
	int idle_timeout_s; /* 0: DB_IDLE_TIMEOUT_S */
};
#define DB_IDLE_TIMEOUT_S 300

struct db_server_stats {
	uint64_t requests, errors, rollbacks, connections, bad_frames;
};

struct db_server;

#define DB_EXIT_STORAGE 3 /* vcons-db's exit status when the WAL could not be written */

/* Opens the database, binds and listens, starts the workers and the checkpointer. 0, or -1 with
 * err filled. */
int db_server_start(struct db_server **out, const struct db_server_config *cfg, char *err,
                    size_t len);
int db_server_port(const struct db_server *s); /* the bound port (useful with port 0) */
void db_server_stop(struct db_server *s);      /* async-signal-safe */
int db_server_stopping(struct db_server *s);
void db_server_wait(struct db_server *s); /* returns once the server is stopping */
/* Joins the workers, closes everything, fills stats (if not NULL) and frees s. */
void db_server_finish(struct db_server *s, struct db_server_stats *stats);

#endif
