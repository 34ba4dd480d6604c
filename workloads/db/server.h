/* workloads/db/server.h: vcons-db's TCP server. N symmetric worker threads share one epoll set in
 * one-shot mode: a worker that gets a readable connection reads what has arrived, and for each
 * complete frame executes the transaction on ITS OWN SQLite connection and writes the response,
 * then re-arms the connection. So a connection is served by at most one worker at a time, a slow or
 * half-sent request occupies no worker, and concurrency equals the worker count (the VM's vCPUs).
 *
 * Malformed input: a bad frame length (0 or > FRAME_MAX) gets an error response and the connection
 * is closed (the stream cannot be resynchronised); a well-framed request that is not valid JSON or
 * not a valid request gets an error response and the connection stays open; a peer that disconnects
 * mid-frame is just closed. None of it affects other connections.
 *
 * Stop: db_server_stop() from any thread, or the in-band request {"tx":"shutdown"}. */
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
};

struct db_server_stats {
	uint64_t requests, errors, rollbacks, connections, bad_frames;
};

struct db_server;

/* Opens one database connection per worker, binds and listens, starts the workers. 0, or -1 with
 * err filled. */
int db_server_start(struct db_server **out, const struct db_server_config *cfg, char *err,
                    size_t len);
int db_server_port(const struct db_server *s); /* the bound port (useful with port 0) */
void db_server_stop(struct db_server *s);
int db_server_stopping(struct db_server *s);
/* Joins the workers, closes everything, fills stats (if not NULL) and frees s. */
void db_server_finish(struct db_server *s, struct db_server_stats *stats);

#endif
