/* workloads/db/schema.c: the TPC-C schema, opening a connection with vcons-db's settings, and
 * population (--load). Population follows TPC-C 4.3.3.1 with cardinalities divided by the scale
 * (tpcc.h); it is written into a temporary file that is renamed into place only when complete, so a
 * crash during --load never leaves a half-populated database behind. */
#include "workloads/db/tpcc.h"
#include "workloads/db/vfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#define C_LAST_LOAD 157 /* NURand C for last names at load; the run uses C_LAST_RUN (2.1.6.1) */

static const char *const schema_sql =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE warehouse(w_id INTEGER PRIMARY KEY, w_name TEXT, w_street_1 TEXT,"
    " w_street_2 TEXT, w_city TEXT, w_state TEXT, w_zip TEXT, w_tax REAL, w_ytd INTEGER);"
    "CREATE TABLE district(d_w_id INTEGER, d_id INTEGER, d_name TEXT, d_street_1 TEXT,"
    " d_street_2 TEXT, d_city TEXT, d_state TEXT, d_zip TEXT, d_tax REAL, d_ytd INTEGER,"
    " d_next_o_id INTEGER, PRIMARY KEY(d_w_id, d_id)) WITHOUT ROWID;"
    "CREATE TABLE customer(c_w_id INTEGER, c_d_id INTEGER, c_id INTEGER, c_first TEXT,"
    " c_middle TEXT, c_last TEXT, c_street_1 TEXT, c_street_2 TEXT, c_city TEXT, c_state TEXT,"
    " c_zip TEXT, c_phone TEXT, c_since INTEGER, c_credit TEXT, c_credit_lim INTEGER,"
    " c_discount REAL, c_balance INTEGER, c_ytd_payment INTEGER, c_payment_cnt INTEGER,"
    " c_delivery_cnt INTEGER, c_data TEXT, PRIMARY KEY(c_w_id, c_d_id, c_id)) WITHOUT ROWID;"
    "CREATE INDEX customer_last ON customer(c_w_id, c_d_id, c_last, c_first);"
    "CREATE TABLE history(h_c_id INTEGER, h_c_d_id INTEGER, h_c_w_id INTEGER, h_d_id INTEGER,"
    " h_w_id INTEGER, h_date INTEGER, h_amount INTEGER, h_data TEXT);"
    "CREATE TABLE orders(o_w_id INTEGER, o_d_id INTEGER, o_id INTEGER, o_c_id INTEGER,"
    " o_entry_d INTEGER, o_carrier_id INTEGER, o_ol_cnt INTEGER, o_all_local INTEGER,"
    " PRIMARY KEY(o_w_id, o_d_id, o_id)) WITHOUT ROWID;"
    "CREATE INDEX orders_customer ON orders(o_w_id, o_d_id, o_c_id, o_id);"
    "CREATE TABLE new_order(no_w_id INTEGER, no_d_id INTEGER, no_o_id INTEGER,"
    " PRIMARY KEY(no_w_id, no_d_id, no_o_id)) WITHOUT ROWID;"
    "CREATE TABLE order_line(ol_w_id INTEGER, ol_d_id INTEGER, ol_o_id INTEGER,"
    " ol_number INTEGER, ol_i_id INTEGER, ol_supply_w_id INTEGER, ol_delivery_d INTEGER,"
    " ol_quantity INTEGER, ol_amount INTEGER, ol_dist_info TEXT,"
    " PRIMARY KEY(ol_w_id, ol_d_id, ol_o_id, ol_number)) WITHOUT ROWID;"
    "CREATE TABLE item(i_id INTEGER PRIMARY KEY, i_im_id INTEGER, i_name TEXT, i_price INTEGER,"
    " i_data TEXT);"
    "CREATE TABLE stock(s_w_id INTEGER, s_i_id INTEGER, s_quantity INTEGER, s_dist_01 TEXT,"
    " s_dist_02 TEXT, s_dist_03 TEXT, s_dist_04 TEXT, s_dist_05 TEXT, s_dist_06 TEXT,"
    " s_dist_07 TEXT, s_dist_08 TEXT, s_dist_09 TEXT, s_dist_10 TEXT, s_ytd INTEGER,"
    " s_order_cnt INTEGER, s_remote_cnt INTEGER, s_data TEXT,"
    " PRIMARY KEY(s_w_id, s_i_id)) WITHOUT ROWID;";

void tpcc_sizes_for(struct tpcc_sizes *sz, int warehouses, int scale)
{
	sz->warehouses = warehouses;
	sz->scale = scale;
	sz->items = 100000 / scale;
	sz->customers = 3000 / scale;
	sz->orders = 3000 / scale;
	sz->new_orders = 900 / scale;
}

/* "file:PATH?vcons_combine=1" with PATH percent-encoded (RFC 3986 unreserved bytes and '/' kept).
 */
static int combining_uri(char *out, size_t len, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t at = (size_t)snprintf(out, len, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p && at + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p)) {
			out[at++] = (char)*p;
		} else {
			out[at++] = '%';
			out[at++] = hex[*p >> 4];
			out[at++] = hex[*p & 15];
		}
	}
	static const char query[] = "?" DBVFS_COMBINE "=1";
	out[at] = 0;
	if (at + sizeof(query) > len)
		return -1;
	memcpy(out + at, query, sizeof(query));
	return 0;
}

/* The WAL hook of a connection whose writes the VFS gathers: a commit's frames reach the file
 * before COMMIT returns (vfs.h). The server puts its own in place (server.c: on_commit). */
static int flush_after_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)arg, (void)name, (void)frames;
	return dbvfs_flush(db);
}

/* combine: the server's connection, whose writes the VFS gathers (vfs.h). */
static int open_conn(sqlite3 **out, const char *path, int create, int combine, char *err,
                     size_t len)
{
	char uri[3 * 4096 + 64];
	if (dbvfs_install()) {
		snprintf(err, len, "cannot set up the SQLite VFS");
		return -1;
	}
	if (combine && combining_uri(uri, sizeof(uri), path)) {
		snprintf(err, len, "%s: path too long", path);
		return -1;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	            (create ? SQLITE_OPEN_CREATE : 0) | (combine ? SQLITE_OPEN_URI : 0);
	if (sqlite3_open_v2(combine ? uri : path, out, flags, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s: %s", path, *out ? sqlite3_errmsg(*out) : "cannot open");
		sqlite3_close(*out);
		*out = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(*out, 1);
	if (combine)
		sqlite3_wal_hook(*out, flush_after_commit, NULL);
	return 0;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t len)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, len, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void astring(struct rng *r, char *buf, int lo, int hi)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	int n = (int)rng_range(r, lo, hi);
	for (int i = 0; i < n; i++)
		buf[i] = chars[rng_next(r) % (sizeof(chars) - 1)];
	buf[n] = 0;
}

static void nstring(struct rng *r, char *buf, int n)
{
	for (int i = 0; i < n; i++)
		buf[i] = (char)('0' + rng_range(r, 0, 9));
	buf[n] = 0;
}

/* i_data / s_data: 26..50 chars, 10% contain "ORIGINAL" (4.3.3.1) */
static void data_string(struct rng *r, char *buf)
{
	astring(r, buf, 26, 50);
	if (rng_range(r, 1, 10) == 1) {
		size_t n = strlen(buf);
		size_t at = (size_t)rng_range(r, 0, (int64_t)n - 8);
		memcpy(buf + at, "ORIGINAL", 8);
	}
}

void tpcc_last_name(int num, char *buf, size_t len)
{
	static const char *const syl[] = { "BAR", "OUGHT", "ABLE",  "PRI",   "PRES",
		                           "ESE", "ANTI",  "CALLY", "ATION", "EING" };
	snprintf(buf, len, "%s%s%s", syl[(num / 100) % 10], syl[(num / 10) % 10], syl[num % 10]);
}

int64_t tpcc_nurand(struct rng *r, int64_t a, int64_t c, int64_t x, int64_t y)
{
	return (((rng_range(r, 0, a) | rng_range(r, x, y)) + c) % (y - x + 1)) + x;
}

struct loader {
	sqlite3 *db;
	struct rng rng;
	struct tpcc_sizes sz;
	char *err;
	size_t errlen;
};

static int prep(struct loader *l, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(l->db, sql, -1, st, NULL) != SQLITE_OK) {
		snprintf(l->err, l->errlen, "prepare: %s", sqlite3_errmsg(l->db));
		return -1;
	}
	return 0;
}

static int step_done(struct loader *l, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		snprintf(l->err, l->errlen, "insert: %s", sqlite3_errmsg(l->db));
		return -1;
	}
	return 0;
}

static int load_items(struct loader *l)
{
	sqlite3_stmt *st;
	char name[32], data[64];
	if (prep(l, &st, "INSERT INTO item VALUES(?,?,?,?,?)"))
		return -1;
	int rc = 0;
	for (int i = 1; i <= l->sz.items && !rc; i++) {
		astring(&l->rng, name, 14, 24);
		data_string(&l->rng, data);
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_int(st, 2, (int)rng_range(&l->rng, 1, 10000));
		sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 4, (int)rng_range(&l->rng, 100, 10000)); /* 1.00 .. 100.00 */
		sqlite3_bind_text(st, 5, data, -1, SQLITE_TRANSIENT);
		rc = step_done(l, st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int load_stock(struct loader *l, int w)
{
	sqlite3_stmt *st;
	char dist[25], data[64];
	if (prep(l, &st, "INSERT INTO stock VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,0,?)"))
		return -1;
	int rc = 0;
	for (int i = 1; i <= l->sz.items && !rc; i++) {
		sqlite3_bind_int(st, 1, w);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_int(st, 3, (int)rng_range(&l->rng, 10, 100));
		for (int d = 0; d < 10; d++) {
			astring(&l->rng, dist, 24, 24);
			sqlite3_bind_text(st, 4 + d, dist, -1, SQLITE_TRANSIENT);
		}
		data_string(&l->rng, data);
		sqlite3_bind_text(st, 14, data, -1, SQLITE_TRANSIENT);
		rc = step_done(l, st);
	}
	sqlite3_finalize(st);
	return rc;
}

static void bind_address(struct loader *l, sqlite3_stmt *st, int first)
{
	char s[32];
	for (int k = 0; k < 3; k++) { /* street_1, street_2, city */
		astring(&l->rng, s, 10, 20);
		sqlite3_bind_text(st, first + k, s, -1, SQLITE_TRANSIENT);
	}
	astring(&l->rng, s, 2, 2);
	sqlite3_bind_text(st, first + 3, s, -1, SQLITE_TRANSIENT);
	nstring(&l->rng, s, 4);
	// NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.strcpy): 4 digits + 5 fit s
	strcat(s, "11111");
	sqlite3_bind_text(st, first + 4, s, -1, SQLITE_TRANSIENT);
}

static int load_warehouse(struct loader *l, int w)
{
	sqlite3_stmt *st;
	char name[16];
	if (prep(l, &st, "INSERT INTO warehouse VALUES(?,?,?,?,?,?,?,?,30000000)"))
		return -1;
	sqlite3_bind_int(st, 1, w);
	astring(&l->rng, name, 6, 10);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	bind_address(l, st, 3);
	sqlite3_bind_double(st, 8, (double)rng_range(&l->rng, 0, 2000) / 10000.0);
	int rc = step_done(l, st);
	sqlite3_finalize(st);
	if (rc || prep(l, &st, "INSERT INTO district VALUES(?,?,?,?,?,?,?,?,?,3000000,?)"))
		return -1;
	for (int d = 1; d <= TPCC_DISTRICTS && !rc; d++) {
		sqlite3_bind_int(st, 1, w);
		sqlite3_bind_int(st, 2, d);
		astring(&l->rng, name, 6, 10);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
		bind_address(l, st, 4);
		sqlite3_bind_double(st, 9, (double)rng_range(&l->rng, 0, 2000) / 10000.0);
		sqlite3_bind_int(st, 10, l->sz.orders + 1);
		rc = step_done(l, st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int load_customers(struct loader *l, int w, int d, int64_t now)
{
	sqlite3_stmt *c, *h;
	char first[20], last[20], phone[20], data[512];
	if (prep(l, &c,
	         "INSERT INTO customer "
	         "VALUES(?,?,?,?,'OE',?,?,?,?,?,?,?,?,?,5000000,?,-1000,1000,1,0,?)"))
		return -1;
	if (prep(l, &h, "INSERT INTO history VALUES(?,?,?,?,?,?,1000,?)")) {
		sqlite3_finalize(c);
		return -1;
	}
	int rc = 0;
	for (int id = 1; id <= l->sz.customers && !rc; id++) {
		sqlite3_bind_int(c, 1, w);
		sqlite3_bind_int(c, 2, d);
		sqlite3_bind_int(c, 3, id);
		astring(&l->rng, first, 8, 16);
		sqlite3_bind_text(c, 4, first, -1, SQLITE_TRANSIENT);
		int num = id <= 1000 ? id - 1 : (int)tpcc_nurand(&l->rng, 255, C_LAST_LOAD, 0, 999);
		tpcc_last_name(num, last, sizeof(last));
		sqlite3_bind_text(c, 5, last, -1, SQLITE_TRANSIENT);
		bind_address(l, c, 6);
		nstring(&l->rng, phone, 16);
		sqlite3_bind_text(c, 11, phone, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(c, 12, now);
		sqlite3_bind_text(c, 13, rng_range(&l->rng, 1, 10) == 1 ? "BC" : "GC", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_double(c, 14, (double)rng_range(&l->rng, 0, 5000) / 10000.0);
		astring(&l->rng, data, 300, 500);
		sqlite3_bind_text(c, 15, data, -1, SQLITE_TRANSIENT);
		rc = step_done(l, c);
		if (rc)
			break;
		int v[] = { id, d, w, d, w };
		for (int k = 0; k < 5; k++)
			sqlite3_bind_int(h, k + 1, v[k]);
		sqlite3_bind_int64(h, 6, now);
		astring(&l->rng, data, 12, 24);
		sqlite3_bind_text(h, 7, data, -1, SQLITE_TRANSIENT);
		rc = step_done(l, h);
	}
	sqlite3_finalize(c);
	sqlite3_finalize(h);
	return rc;
}

static int load_orders(struct loader *l, int w, int d, int64_t now)
{
	sqlite3_stmt *o, *ol, *no;
	char dist[25];
	int n = l->sz.orders;
	int *perm = malloc((size_t)n * sizeof(*perm));
	if (!perm) {
		snprintf(l->err, l->errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++)
		perm[i] = i + 1;
	for (int i = n - 1; i > 0; i--) { /* o_c_id: a random permutation of the customers */
		int j = (int)rng_range(&l->rng, 0, i);
		int t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	int rc = prep(l, &o, "INSERT INTO orders VALUES(?,?,?,?,?,?,?,1)");
	if (rc) {
		free(perm);
		return -1;
	}
	if (prep(l, &ol, "INSERT INTO order_line VALUES(?,?,?,?,?,?,?,5,?,?)")) {
		sqlite3_finalize(o);
		free(perm);
		return -1;
	}
	if (prep(l, &no, "INSERT INTO new_order VALUES(?,?,?)")) {
		sqlite3_finalize(o);
		sqlite3_finalize(ol);
		free(perm);
		return -1;
	}
	int first_new = n - l->sz.new_orders + 1;
	for (int id = 1; id <= n && !rc; id++) {
		int delivered = id < first_new;
		int cnt = (int)rng_range(&l->rng, 5, 15);
		sqlite3_bind_int(o, 1, w);
		sqlite3_bind_int(o, 2, d);
		sqlite3_bind_int(o, 3, id);
		sqlite3_bind_int(o, 4, perm[id - 1]);
		sqlite3_bind_int64(o, 5, now);
		if (delivered)
			sqlite3_bind_int(o, 6, (int)rng_range(&l->rng, 1, 10));
		else
			sqlite3_bind_null(o, 6);
		sqlite3_bind_int(o, 7, cnt);
		rc = step_done(l, o);
		for (int k = 1; k <= cnt && !rc; k++) {
			int v[] = { w, d, id, k, (int)rng_range(&l->rng, 1, l->sz.items), w };
			for (int j = 0; j < 6; j++)
				sqlite3_bind_int(ol, j + 1, v[j]);
			if (delivered) {
				sqlite3_bind_int64(ol, 7, now);
				sqlite3_bind_int(ol, 8, 0);
			} else {
				sqlite3_bind_null(ol, 7);
				sqlite3_bind_int(ol, 8, (int)rng_range(&l->rng, 1, 999999));
			}
			astring(&l->rng, dist, 24, 24);
			sqlite3_bind_text(ol, 9, dist, -1, SQLITE_TRANSIENT);
			rc = step_done(l, ol);
		}
		if (!delivered && !rc) {
			sqlite3_bind_int(no, 1, w);
			sqlite3_bind_int(no, 2, d);
			sqlite3_bind_int(no, 3, id);
			rc = step_done(l, no);
		}
	}
	sqlite3_finalize(o);
	sqlite3_finalize(ol);
	sqlite3_finalize(no);
	free(perm);
	return rc;
}

static int load_all(struct loader *l)
{
	char sql[256];
	int64_t now = (int64_t)time(NULL);
	if (exec(l->db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN", l->err,
	         l->errlen) ||
	    exec(l->db, schema_sql, l->err, l->errlen))
		return -1;
	snprintf(sql, sizeof(sql),
	         "INSERT INTO meta VALUES('warehouses',%d),('scale',%d),('format',1)",
	         l->sz.warehouses, l->sz.scale);
	if (exec(l->db, sql, l->err, l->errlen) || load_items(l))
		return -1;
	for (int w = 1; w <= l->sz.warehouses; w++) {
		if (load_warehouse(l, w) || load_stock(l, w))
			return -1;
		for (int d = 1; d <= TPCC_DISTRICTS; d++)
			if (load_customers(l, w, d, now) || load_orders(l, w, d, now))
				return -1;
	}
	/* WAL is recorded in the file, so every later connection opens in WAL mode */
	return exec(l->db, "COMMIT; PRAGMA journal_mode=WAL; PRAGMA wal_checkpoint(TRUNCATE)",
	            l->err, l->errlen);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int tpcc_load(const char *dir, int warehouses, int scale, uint64_t seed, char *err, size_t errlen)
{
	char path[4096], tmp[4200], side[4300];
	if (warehouses < 1 || scale < 1 || scale > 300) {
		snprintf(err, errlen, "warehouses must be >= 1 and scale 1..300");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, TPCC_DB_FILE);
	snprintf(tmp, sizeof(tmp), "%s.loading", path);
	const char *suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (int i = 0; i < 4; i++) {
		snprintf(side, sizeof(side), "%s%s", tmp, suffixes[i]);
		unlink(side);
	}
	struct loader l = { .err = err, .errlen = errlen };
	rng_seed(&l.rng, seed);
	tpcc_sizes_for(&l.sz, warehouses, scale);
	if (open_conn(&l.db, tmp, 1, 0, err, errlen))
		return -1;
	int rc = load_all(&l);
	if (sqlite3_close(l.db) != SQLITE_OK && !rc) {
		snprintf(err, errlen, "close failed");
		rc = -1;
	}
	if (!rc && fsync_path(tmp)) {
		snprintf(err, errlen, "%s: fsync failed", tmp);
		rc = -1;
	}
	if (rc) {
		unlink(tmp);
		return -1;
	}
	for (int i = 1; i < 4; i++) { /* stale side files of an older database */
		snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
		unlink(side);
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "rename %s: failed", tmp);
		return -1;
	}
	if (fsync_path(dir)) {
		snprintf(err, errlen, "%s: fsync failed", dir);
		return -1;
	}
	return 0;
}

/* SQLite busy handler: called with the number of earlier calls for this lock; nonzero = try again.
 * Sleeps 0.1 ms, doubling to 5 ms, for at most 5 s in all (SQLite's default handler sleeps up to
 * 100 ms at a time, long after the lock is free). */
static int busy_wait(void *arg, int n)
{
	(void)arg;
	long us = n < 6 ? 100L << n : 5000L;
	long waited = n < 6 ? 100L * ((1L << n) - 1) : 6300L + 5000L * (n - 6);
	if (waited >= 5000000L)
		return 0;
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
	return 1;
}

static int meta(sqlite3 *db, const char *key, int *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	if (!rc)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/* Opens DIR's database. exclusive: the server's settings (tpcc.h: tpcc_open_server). */
static int open_db(struct tpcc_db *t, const char *dir, enum tpcc_sync sync, uint64_t seed,
                   int exclusive)
{
	char path[4096], pragmas[512];
	memset(t, 0, sizeof(*t));
	rng_seed(&t->rng, seed);
	snprintf(path, sizeof(path), "%s/%s", dir, TPCC_DB_FILE);
	if (access(path, F_OK)) {
		snprintf(t->err, sizeof(t->err), "%s does not exist: run vcons-db --load first",
		         path);
		return -1;
	}
	if (open_conn(&t->db, path, 0, exclusive, t->err, sizeof(t->err)))
		return -1;
	int w, s;
	sqlite3_busy_handler(t->db, busy_wait, NULL);
	/* locking_mode before the first access, so that the WAL index is never shared memory */
	snprintf(pragmas, sizeof(pragmas),
	         "%sPRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY;"
	         "PRAGMA journal_size_limit=%d",
	         exclusive ? "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-" TPCC_CACHE_KIB ";"
	                   : "",
	         sync == TPCC_SYNC_FULL ? "FULL" : "NORMAL", TPCC_WAL_LIMIT_BYTES);
	if (exec(t->db, pragmas, t->err, sizeof(t->err)) || meta(t->db, "warehouses", &w) ||
	    meta(t->db, "scale", &s) || w < 1 || s < 1) {
		if (!t->err[0])
			snprintf(t->err, sizeof(t->err), "%s: not a vcons-db database", path);
		tpcc_close(t);
		return -1;
	}
	tpcc_sizes_for(&t->sz, w, s);
	return 0;
}

int tpcc_open(struct tpcc_db *t, const char *dir, enum tpcc_sync sync, uint64_t seed)
{
	return open_db(t, dir, sync, seed, 0);
}

int tpcc_open_server(struct tpcc_db *t, const char *dir, enum tpcc_sync sync, uint64_t seed)
{
	return open_db(t, dir, sync, seed, 1);
}

void tpcc_share(struct tpcc_db *t, const struct tpcc_db *owner, pthread_mutex_t *tx_lock,
                uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->db = owner->db;
	t->sz = owner->sz;
	t->shared = 1;
	t->tx_lock = tx_lock;
	rng_seed(&t->rng, seed);
}

void tpcc_close(struct tpcc_db *t)
{
	for (size_t i = 0; i < sizeof(t->stmts) / sizeof(t->stmts[0]); i++) {
		sqlite3_finalize(t->stmts[i]);
		t->stmts[i] = NULL;
	}
	if (!t->shared)
		sqlite3_close(t->db);
	t->db = NULL;
}
