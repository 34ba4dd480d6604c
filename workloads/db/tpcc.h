/* workloads/db/tpcc.h: the TPC-C-style database of the db VM: schema, population, the five
 * transactions executed server-side, and the consistency checks. Used by vcons-db (server, --load,
 * --check) and, for its request builder and response validation, by vcons-db-load.
 *
 * Contract: one struct tpcc_db per thread: its own SQLite connection (tpcc_open: WAL mode, busy
 * handler set), or one it shares with the other threads of a server (tpcc_open_server, then
 * tpcc_share per thread; every transaction then holds tx_lock, so threads take turns).
 * tpcc_execute() takes a request object and ALWAYS returns a response object ({"status":"ok"|
 * "rollback"|"error", ...}); it never leaves a transaction open. Writers use BEGIN IMMEDIATE and
 * the whole transaction is retried with bounded, jittered backoff on SQLITE_BUSY/LOCKED. Money is
 * stored as integer cents so the consistency sums are exact.
 *
 * Cardinalities are TPC-C's divided by `scale` (stored in the database): items 100000/scale, stock
 * per warehouse = items, 10 districts per warehouse, customers and initial orders per district
 * 3000/scale, undelivered new orders per district 900/scale. scale 1 is full TPC-C. */
#ifndef WORKLOADS_DB_TPCC_H
#define WORKLOADS_DB_TPCC_H
#include <pthread.h>
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>

#include "workloads/common/rng.h"

#define TPCC_DB_FILE       "vcons-db.sqlite"
#define TPCC_DISTRICTS     10
#define TPCC_DEFAULT_SCALE 10
/* The server's page cache: more than the database at the sizes vcons runs (2 warehouses at scale
 * 10 are ~15 MB and grow ~4 MB a minute at 40 tx/s), so a page is read from the file once. */
#define TPCC_CACHE_KIB "262144"
/* The WAL is truncated to this much when a checkpoint has emptied it */
#define TPCC_WAL_LIMIT_BYTES (128 << 20)

enum tpcc_sync { TPCC_SYNC_NORMAL, TPCC_SYNC_FULL };

struct tpcc_sizes {
	int warehouses, scale;
	int items, customers, orders, new_orders; /* customers/orders/new_orders: per district */
};

struct tpcc_db {
	sqlite3 *db;
	struct tpcc_sizes sz;
	struct rng rng;
	sqlite3_stmt *stmts[64]; /* this thread's prepared statements */
	int shared;              /* db belongs to another tpcc_db (tpcc_share) */
	/* Set by tpcc_share: held for the whole of every transaction on the shared connection. */
	pthread_mutex_t *tx_lock;
	char err[4400]; /* the last failure, for the message at the edge */
};

/* Creates DIR/vcons-db.sqlite from scratch (written to a temporary file, renamed when complete).
 * 0, or -1 with err filled. */
int tpcc_load(const char *dir, int warehouses, int scale, uint64_t seed, char *err, size_t errlen);
/* Opens an existing database for transactions. 0, or -1 with db->err filled. */
int tpcc_open(struct tpcc_db *db, const char *dir, enum tpcc_sync sync, uint64_t seed);
/* Opens it as the server's one connection: the only process using the database while it runs
 * (locking_mode EXCLUSIVE: no file lock calls per transaction, the WAL index in heap memory), a
 * page cache of TPCC_CACHE_KIB, its writes gathered by the VFS (vfs.h) and written by a WAL hook
 * after each commit. Other processes get SQLITE_BUSY until it is closed. */
int tpcc_open_server(struct tpcc_db *db, const char *dir, enum tpcc_sync sync, uint64_t seed);
/* A thread's handle on owner's connection (owner outlives it); every transaction holds tx_lock. */
void tpcc_share(struct tpcc_db *db, const struct tpcc_db *owner, pthread_mutex_t *tx_lock,
                uint64_t seed);
/* Finalizes the handle's statements; closes the connection unless it is shared. */
void tpcc_close(struct tpcc_db *db);

/* Executes one request; see README.md for the request and response fields. New reference. */
json_t *tpcc_execute(struct tpcc_db *db, const json_t *req);

/* TPC-C 3.3.2 consistency conditions 1-6 (see check.c). 0 when all hold; otherwise -1 and `failed`
 * names the first failing condition and where. */
int tpcc_check(struct tpcc_db *db, char *failed, size_t len);

/* Client side: random TPC-C inputs (NURand, mix) and response validation. */
enum tpcc_tx { TX_NEW_ORDER, TX_PAYMENT, TX_ORDER_STATUS, TX_DELIVERY, TX_STOCK_LEVEL, TX_COUNT };
extern const char *const tpcc_tx_names[TX_COUNT];

struct tpcc_req {
	enum tpcc_tx tx;
	json_t *json;        /* the request to send */
	int expect_rollback; /* New-Order with the invalid item (1%) */
	int ol_cnt;          /* New-Order: lines requested */
	int w_id, d_id;
};

enum tpcc_tx tpcc_pick_tx(struct rng *r); /* 45/43/4/4/4 */
/* Builds a request of type tx for a terminal of warehouse w_id, district d_id. 0 or -1 (memory). */
int tpcc_make_req(struct tpcc_req *q, enum tpcc_tx tx, struct rng *r, const struct tpcc_sizes *sz,
                  int w_id, int d_id);
/* Checks a response against its request: 0 when it is a correct answer, else -1 with why filled. */
int tpcc_validate(const struct tpcc_req *q, const json_t *resp, const struct tpcc_sizes *sz,
                  char *why, size_t len);
/* TPC-C keying time + mean think time (seconds) of each transaction type (5.2.5.7). */
void tpcc_think_s(enum tpcc_tx tx, double *keying_s, double *think_mean_s);
int64_t tpcc_nurand(struct rng *r, int64_t a, int64_t c, int64_t x, int64_t y);
void tpcc_last_name(int num, char *buf, size_t len); /* BAR|OUGHT|... syllables, num 0..999 */
/* Fills sz from an "info" response; 0 or -1. */
int tpcc_sizes_from_json(struct tpcc_sizes *sz, const json_t *info);
void tpcc_sizes_for(struct tpcc_sizes *sz, int warehouses, int scale);

#endif
