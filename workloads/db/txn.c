/* workloads/db/txn.c: the five TPC-C transactions (2.4-2.8), executed server-side on one SQLite
 * connection, and the request dispatcher with SQLite busy handling.
 *
 * Busy handling, in three layers:
 *  1. writers (New-Order, Payment, Delivery) start with BEGIN IMMEDIATE, so they take SQLite's
 * write lock before reading anything and can never deadlock on a lock upgrade; readers
 * (Order-Status, Stock-Level) use a deferred BEGIN and read a WAL snapshot without blocking or
 * being blocked;
 *  2. threads sharing the server's connection (tpcc_share) take turns on db->tx_lock for each
 *     whole transaction (a mutex wakes the next one at once; SQLite's own busy wait polls with
 *     sleeps of up to 100 ms, which showed as a 70 ms p99);
 *  3. for other processes holding the lock (a checkpoint, the sqlite3 CLI) each connection has a
 *     busy handler (schema.c: sleeps 0.1 ms doubling to 5 ms, for at most 5 s); should a statement
 *     still fail with SQLITE_BUSY/LOCKED the whole transaction is rolled back and retried up to
 *     TX_RETRIES times with jittered exponential backoff (1 ms doubling to 64 ms), then reported
 *     as an error. */
#include "workloads/db/tpcc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TX_RETRIES  8
#define RC_ROLLBACK (-1) /* New-Order met the invalid item: rolled back by design */
#define RC_BAD      (-2) /* the request names rows that cannot exist */

enum {
	S_W_TAX,
	S_D_NEXT,
	U_D_NEXT,
	S_C_NO,
	I_ORDER,
	I_NO,
	S_ITEM,
	S_STOCK,
	U_STOCK,
	I_OL,
	U_W_YTD,
	S_W_NAME,
	U_D_YTD,
	S_D_NAME,
	S_C_BY_LAST,
	S_C_PAY,
	U_C_PAY,
	U_C_DATA,
	I_HIST,
	S_C_OS,
	S_O_LAST,
	S_OL_OS,
	S_NO_MIN,
	D_NO,
	S_O_C,
	U_O_CARRIER,
	U_OL_DELIV,
	S_OL_SUM,
	U_C_DELIV,
	S_SL,
	N_STMTS
};

static const char *const sql[N_STMTS] = {
	[S_W_TAX] = "SELECT w_tax FROM warehouse WHERE w_id=?",
	[S_D_NEXT] = "SELECT d_tax, d_next_o_id FROM district WHERE d_w_id=? AND d_id=?",
	[U_D_NEXT] = "UPDATE district SET d_next_o_id=d_next_o_id+1 WHERE d_w_id=? AND d_id=?",
	[S_C_NO] = "SELECT c_discount, c_last, c_credit FROM customer"
	           " WHERE c_w_id=? AND c_d_id=? AND c_id=?",
	[I_ORDER] = "INSERT INTO orders VALUES(?,?,?,?,?,NULL,?,?)",
	[I_NO] = "INSERT INTO new_order VALUES(?,?,?)",
	[S_ITEM] = "SELECT i_price, i_name, i_data FROM item WHERE i_id=?",
	[S_STOCK] = "SELECT s_quantity, s_data, s_dist_01, s_dist_02, s_dist_03, s_dist_04,"
	            " s_dist_05, s_dist_06, s_dist_07, s_dist_08, s_dist_09, s_dist_10"
	            " FROM stock WHERE s_w_id=? AND s_i_id=?",
	[U_STOCK] = "UPDATE stock SET s_quantity=?, s_ytd=s_ytd+?, s_order_cnt=s_order_cnt+1,"
	            " s_remote_cnt=s_remote_cnt+? WHERE s_w_id=? AND s_i_id=?",
	[I_OL] = "INSERT INTO order_line VALUES(?,?,?,?,?,?,NULL,?,?,?)",
	[U_W_YTD] = "UPDATE warehouse SET w_ytd=w_ytd+? WHERE w_id=?",
	[S_W_NAME] = "SELECT w_name FROM warehouse WHERE w_id=?",
	[U_D_YTD] = "UPDATE district SET d_ytd=d_ytd+? WHERE d_w_id=? AND d_id=?",
	[S_D_NAME] = "SELECT d_name FROM district WHERE d_w_id=? AND d_id=?",
	[S_C_BY_LAST] = "SELECT c_id FROM customer WHERE c_w_id=? AND c_d_id=? AND c_last=?"
	                " ORDER BY c_first",
	[S_C_PAY] =
	    "SELECT c_balance, c_credit FROM customer WHERE c_w_id=? AND c_d_id=? AND c_id=?",
	[U_C_PAY] = "UPDATE customer SET c_balance=c_balance-?, c_ytd_payment=c_ytd_payment+?,"
	            " c_payment_cnt=c_payment_cnt+1 WHERE c_w_id=? AND c_d_id=? AND c_id=?",
	[U_C_DATA] = "UPDATE customer SET c_data=substr(?||c_data, 1, 500)"
	             " WHERE c_w_id=? AND c_d_id=? AND c_id=?",
	[I_HIST] = "INSERT INTO history VALUES(?,?,?,?,?,?,?,?)",
	[S_C_OS] = "SELECT c_balance, c_first, c_last FROM customer"
	           " WHERE c_w_id=? AND c_d_id=? AND c_id=?",
	[S_O_LAST] = "SELECT o_id, o_carrier_id, o_ol_cnt FROM orders"
	             " WHERE o_w_id=? AND o_d_id=? AND o_c_id=? ORDER BY o_id DESC LIMIT 1",
	[S_OL_OS] = "SELECT ol_i_id, ol_supply_w_id, ol_quantity, ol_amount, ol_delivery_d"
	            " FROM order_line WHERE ol_w_id=? AND ol_d_id=? AND ol_o_id=?",
	[S_NO_MIN] = "SELECT no_o_id FROM new_order WHERE no_w_id=? AND no_d_id=?"
	             " ORDER BY no_o_id LIMIT 1",
	[D_NO] = "DELETE FROM new_order WHERE no_w_id=? AND no_d_id=? AND no_o_id=?",
	[S_O_C] = "SELECT o_c_id FROM orders WHERE o_w_id=? AND o_d_id=? AND o_id=?",
	[U_O_CARRIER] = "UPDATE orders SET o_carrier_id=? WHERE o_w_id=? AND o_d_id=? AND o_id=?",
	[U_OL_DELIV] = "UPDATE order_line SET ol_delivery_d=?"
	               " WHERE ol_w_id=? AND ol_d_id=? AND ol_o_id=?",
	[S_OL_SUM] =
	    "SELECT sum(ol_amount) FROM order_line WHERE ol_w_id=? AND ol_d_id=? AND ol_o_id=?",
	[U_C_DELIV] = "UPDATE customer SET c_balance=c_balance+?, c_delivery_cnt=c_delivery_cnt+1"
	              " WHERE c_w_id=? AND c_d_id=? AND c_id=?",
	[S_SL] = "SELECT count(DISTINCT s_i_id) FROM order_line JOIN stock"
	         " ON s_w_id=ol_w_id AND s_i_id=ol_i_id WHERE ol_w_id=? AND ol_d_id=?"
	         " AND ol_o_id<? AND ol_o_id>=? AND s_quantity<?",
};

_Static_assert(N_STMTS <= sizeof(((struct tpcc_db *)0)->stmts) / sizeof(sqlite3_stmt *),
               "statement cache too small");

/* Resets and binds statement id ('i' int, 'I' int64_t, 'd' double, 's' string), steps it once.
 * Returns SQLITE_ROW (columns readable via col()) or SQLITE_DONE, or an SQLite error code. */
static int run(struct tpcc_db *t, int id, const char *fmt, ...)
{
	sqlite3_stmt *st = t->stmts[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(t->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		                            &t->stmts[id], NULL);
		if (rc != SQLITE_OK)
			return rc;
		st = t->stmts[id];
	}
	sqlite3_reset(st);
	va_list ap;
	va_start(ap, fmt);
	for (int i = 1; *fmt; fmt++, i++) {
		switch (*fmt) {
		case 'i': sqlite3_bind_int(st, i, va_arg(ap, int)); break;
		case 'I': sqlite3_bind_int64(st, i, va_arg(ap, int64_t)); break;
		case 'd': sqlite3_bind_double(st, i, va_arg(ap, double)); break;
		case 's':
			sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
			break;
		}
	}
	va_end(ap);
	return sqlite3_step(st);
}

static sqlite3_stmt *col(struct tpcc_db *t, int id)
{
	return t->stmts[id];
}

static void reset_all(struct tpcc_db *t)
{
	for (int i = 0; i < N_STMTS; i++)
		if (t->stmts[i])
			sqlite3_reset(t->stmts[i]);
}

/* Expects a write to succeed. */
#define WRITE(call)                                                                                \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ != SQLITE_DONE)                                                            \
			return rc_ == SQLITE_ROW ? SQLITE_ERROR : rc_;                             \
	} while (0)
/* Expects a row; a missing row means the request named something that does not exist. */
#define ROW(call)                                                                                  \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ == SQLITE_DONE)                                                            \
			return RC_BAD;                                                             \
		if (rc_ != SQLITE_ROW)                                                             \
			return rc_;                                                                \
	} while (0)

static int set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v);
}

/* Payment and Order-Status select the customer by id or by last name (the middle one of those
 * sorted by first name, 2.5.2.2). */
static int find_customer(struct tpcc_db *t, const json_t *req, int w, int d, int *c_id)
{
	json_t *last = json_object_get(req, "c_last");
	if (!last) {
		*c_id = (int)json_integer_value(json_object_get(req, "c_id"));
		return 0;
	}
	int ids[64], n = 0, rc;
	for (rc = run(t, S_C_BY_LAST, "iis", w, d, json_string_value(last)); rc == SQLITE_ROW;
	     rc = sqlite3_step(col(t, S_C_BY_LAST)))
		if (n < 64)
			ids[n++] = sqlite3_column_int(col(t, S_C_BY_LAST), 0);
	if (rc != SQLITE_DONE)
		return rc;
	if (n == 0)
		return RC_BAD;
	*c_id = ids[(n - 1) / 2];
	return 0;
}

static int tx_new_order(struct tpcc_db *t, const json_t *req, json_t *resp)
{
	int w = (int)json_integer_value(json_object_get(req, "w_id"));
	int d = (int)json_integer_value(json_object_get(req, "d_id"));
	int c = (int)json_integer_value(json_object_get(req, "c_id"));
	json_t *items = json_object_get(req, "items");
	int n = (int)json_array_size(items), all_local = 1;
	for (int k = 0; k < n; k++)
		if (json_integer_value(json_array_get(json_array_get(items, k), 1)) != w)
			all_local = 0;
	ROW(run(t, S_W_TAX, "i", w));
	double w_tax = sqlite3_column_double(col(t, S_W_TAX), 0);
	ROW(run(t, S_D_NEXT, "ii", w, d));
	double d_tax = sqlite3_column_double(col(t, S_D_NEXT), 0);
	int o_id = sqlite3_column_int(col(t, S_D_NEXT), 1);
	WRITE(run(t, U_D_NEXT, "ii", w, d));
	ROW(run(t, S_C_NO, "iii", w, d, c));
	double discount = sqlite3_column_double(col(t, S_C_NO), 0);
	set(resp, "c_last", json_string((const char *)sqlite3_column_text(col(t, S_C_NO), 1)));
	set(resp, "c_credit", json_string((const char *)sqlite3_column_text(col(t, S_C_NO), 2)));
	WRITE(run(t, I_ORDER, "iiiiIii", w, d, o_id, c, (int64_t)time(NULL), n, all_local));
	WRITE(run(t, I_NO, "iii", w, d, o_id));
	json_t *lines = json_array();
	set(resp, "lines", lines);
	int64_t total = 0;
	for (int k = 0; k < n; k++) {
		json_t *it = json_array_get(items, k);
		int i_id = (int)json_integer_value(json_array_get(it, 0));
		int supply = (int)json_integer_value(json_array_get(it, 1));
		int qty = (int)json_integer_value(json_array_get(it, 2));
		int rc = run(t, S_ITEM, "i", i_id);
		if (rc == SQLITE_DONE)
			return RC_ROLLBACK; /* "Item number is not valid" (2.4.2.3) */
		if (rc != SQLITE_ROW)
			return rc;
		int64_t price = sqlite3_column_int64(col(t, S_ITEM), 0);
		ROW(run(t, S_STOCK, "ii", supply, i_id));
		int s_qty = sqlite3_column_int(col(t, S_STOCK), 0);
		char dist[32];
		snprintf(dist, sizeof(dist), "%s",
		         (const char *)sqlite3_column_text(col(t, S_STOCK), 1 + d));
		s_qty = s_qty - qty >= 10 ? s_qty - qty : s_qty - qty + 91;
		WRITE(run(t, U_STOCK, "iiiii", s_qty, qty, supply != w, supply, i_id));
		int64_t amount = qty * price;
		total += amount;
		WRITE(
		    run(t, I_OL, "iiiiiiiIs", w, d, o_id, k + 1, i_id, supply, qty, amount, dist));
		json_array_append_new(lines, json_pack("[iiI]", i_id, s_qty, (json_int_t)amount));
	}
	total = (int64_t)((double)total * (1.0 - discount) * (1.0 + w_tax + d_tax) + 0.5);
	set(resp, "o_id", json_integer(o_id));
	set(resp, "ol_cnt", json_integer(n));
	set(resp, "total_cents", json_integer(total));
	return 0;
}

static int tx_payment(struct tpcc_db *t, const json_t *req, json_t *resp)
{
	int w = (int)json_integer_value(json_object_get(req, "w_id"));
	int d = (int)json_integer_value(json_object_get(req, "d_id"));
	int cw = (int)json_integer_value(json_object_get(req, "c_w_id"));
	int cd = (int)json_integer_value(json_object_get(req, "c_d_id"));
	int64_t amount = json_integer_value(json_object_get(req, "amount_cents"));
	int c, rc;
	WRITE(run(t, U_W_YTD, "Ii", amount, w));
	ROW(run(t, S_W_NAME, "i", w));
	char w_name[16], d_name[16], h_data[40];
	snprintf(w_name, sizeof(w_name), "%s",
	         (const char *)sqlite3_column_text(col(t, S_W_NAME), 0));
	WRITE(run(t, U_D_YTD, "Iii", amount, w, d));
	ROW(run(t, S_D_NAME, "ii", w, d));
	snprintf(d_name, sizeof(d_name), "%s",
	         (const char *)sqlite3_column_text(col(t, S_D_NAME), 0));
	if ((rc = find_customer(t, req, cw, cd, &c)))
		return rc;
	WRITE(run(t, U_C_PAY, "IIiii", amount, amount, cw, cd, c));
	ROW(run(t, S_C_PAY, "iii", cw, cd, c));
	int64_t balance = sqlite3_column_int64(col(t, S_C_PAY), 0);
	int bad_credit = strcmp((const char *)sqlite3_column_text(col(t, S_C_PAY), 1), "BC") == 0;
	if (bad_credit) {
		char data[128];
		snprintf(data, sizeof(data), "%d %d %d %d %d %lld | ", c, cd, cw, d, w,
		         (long long)amount);
		WRITE(run(t, U_C_DATA, "siii", data, cw, cd, c));
	}
	snprintf(h_data, sizeof(h_data), "%.10s    %.10s", w_name, d_name);
	WRITE(run(t, I_HIST, "iiiiiIIs", c, cd, cw, d, w, (int64_t)time(NULL), amount, h_data));
	set(resp, "c_id", json_integer(c));
	set(resp, "c_balance_cents", json_integer(balance));
	set(resp, "c_credit", json_string(bad_credit ? "BC" : "GC"));
	return 0;
}

static int tx_order_status(struct tpcc_db *t, const json_t *req, json_t *resp)
{
	int w = (int)json_integer_value(json_object_get(req, "w_id"));
	int d = (int)json_integer_value(json_object_get(req, "d_id"));
	int c, rc;
	if ((rc = find_customer(t, req, w, d, &c)))
		return rc;
	// NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): set when find_customer gives 0
	ROW(run(t, S_C_OS, "iii", w, d, c));
	set(resp, "c_id", json_integer(c));
	set(resp, "c_balance_cents", json_integer(sqlite3_column_int64(col(t, S_C_OS), 0)));
	ROW(run(t, S_O_LAST, "iii", w, d, c));
	sqlite3_stmt *o = col(t, S_O_LAST);
	int o_id = sqlite3_column_int(o, 0);
	set(resp, "o_id", json_integer(o_id));
	set(resp, "o_carrier_id",
	    sqlite3_column_type(o, 1) == SQLITE_NULL ? json_null()
	                                             : json_integer(sqlite3_column_int(o, 1)));
	set(resp, "ol_cnt", json_integer(sqlite3_column_int(o, 2)));
	json_t *lines = json_array();
	set(resp, "lines", lines);
	for (rc = run(t, S_OL_OS, "iii", w, d, o_id); rc == SQLITE_ROW;
	     rc = sqlite3_step(col(t, S_OL_OS))) {
		sqlite3_stmt *l = col(t, S_OL_OS);
		json_array_append_new(lines,
		                      json_pack("[iiiI]", sqlite3_column_int(l, 0),
		                                sqlite3_column_int(l, 1), sqlite3_column_int(l, 2),
		                                (json_int_t)sqlite3_column_int64(l, 3)));
	}
	return rc == SQLITE_DONE ? 0 : rc;
}

static int tx_delivery(struct tpcc_db *t, const json_t *req, json_t *resp)
{
	int w = (int)json_integer_value(json_object_get(req, "w_id"));
	int carrier = (int)json_integer_value(json_object_get(req, "carrier_id"));
	int64_t now = (int64_t)time(NULL);
	json_t *orders = json_array();
	set(resp, "orders", orders);
	int delivered = 0;
	for (int d = 1; d <= TPCC_DISTRICTS; d++) {
		int rc = run(t, S_NO_MIN, "ii", w, d);
		if (rc ==
		    SQLITE_DONE) { /* nothing to deliver in this district: skipped (2.7.4.2) */
			json_array_append_new(orders, json_integer(0));
			continue;
		}
		if (rc != SQLITE_ROW)
			return rc;
		int o_id = sqlite3_column_int(col(t, S_NO_MIN), 0);
		WRITE(run(t, D_NO, "iii", w, d, o_id));
		ROW(run(t, S_O_C, "iii", w, d, o_id));
		int c = sqlite3_column_int(col(t, S_O_C), 0);
		WRITE(run(t, U_O_CARRIER, "iiii", carrier, w, d, o_id));
		WRITE(run(t, U_OL_DELIV, "Iiii", now, w, d, o_id));
		ROW(run(t, S_OL_SUM, "iii", w, d, o_id));
		int64_t sum = sqlite3_column_int64(col(t, S_OL_SUM), 0);
		WRITE(run(t, U_C_DELIV, "Iiii", sum, w, d, c));
		json_array_append_new(orders, json_integer(o_id));
		delivered++;
	}
	set(resp, "delivered", json_integer(delivered));
	return 0;
}

static int tx_stock_level(struct tpcc_db *t, const json_t *req, json_t *resp)
{
	int w = (int)json_integer_value(json_object_get(req, "w_id"));
	int d = (int)json_integer_value(json_object_get(req, "d_id"));
	int threshold = (int)json_integer_value(json_object_get(req, "threshold"));
	ROW(run(t, S_D_NEXT, "ii", w, d));
	int next = sqlite3_column_int(col(t, S_D_NEXT), 1);
	ROW(run(t, S_SL, "iiiii", w, d, next, next - 20, threshold));
	set(resp, "low_stock", json_integer(sqlite3_column_int(col(t, S_SL), 0)));
	return 0;
}

/* ---- request checking: every id must lie in the loaded ranges ---- */

static int int_in(const json_t *req, const char *k, int64_t lo, int64_t hi)
{
	json_t *v = json_object_get(req, k);
	return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static int customer_ok(const json_t *req, const struct tpcc_sizes *sz)
{
	json_t *last = json_object_get(req, "c_last");
	if (last)
		return json_is_string(last) && json_string_length(last) < 32;
	return int_in(req, "c_id", 1, sz->customers);
}

static const char *check_req(enum tpcc_tx tx, const json_t *req, const struct tpcc_sizes *sz)
{
	int W = sz->warehouses;
	if (!int_in(req, "w_id", 1, W))
		return "w_id out of range";
	if (tx != TX_DELIVERY && !int_in(req, "d_id", 1, TPCC_DISTRICTS))
		return "d_id out of range";
	switch (tx) {
	case TX_NEW_ORDER: {
		json_t *items = json_object_get(req, "items");
		if (!int_in(req, "c_id", 1, sz->customers))
			return "c_id out of range";
		if (!json_is_array(items) || json_array_size(items) < 1 ||
		    json_array_size(items) > 15)
			return "items must be an array of 1..15 [i_id, supply_w_id, quantity]";
		size_t k;
		json_t *it;
		json_array_foreach(items, k, it)
		{
			json_t *i = json_array_get(it, 0), *s = json_array_get(it, 1),
			       *q = json_array_get(it, 2);
			if (!json_is_array(it) || json_array_size(it) != 3 || !json_is_integer(i) ||
			    !json_is_integer(s) || !json_is_integer(q) ||
			    json_integer_value(i) < 1 || json_integer_value(i) > INT32_MAX ||
			    json_integer_value(s) < 1 || json_integer_value(s) > W ||
			    json_integer_value(q) < 1 || json_integer_value(q) > 10)
				return "bad item: want [i_id >= 1, supply_w_id, quantity 1..10]";
		}
		return NULL;
	}
	case TX_PAYMENT:
		if (!int_in(req, "c_w_id", 1, W) || !int_in(req, "c_d_id", 1, TPCC_DISTRICTS))
			return "c_w_id/c_d_id out of range";
		if (!int_in(req, "amount_cents", 100, 500000))
			return "amount_cents must be 100..500000";
		return customer_ok(req, sz) ? NULL : "need c_id in range or c_last";
	case TX_ORDER_STATUS: return customer_ok(req, sz) ? NULL : "need c_id in range or c_last";
	case TX_DELIVERY:
		return int_in(req, "carrier_id", 1, 10) ? NULL : "carrier_id must be 1..10";
	case TX_STOCK_LEVEL:
		return int_in(req, "threshold", 10, 20) ? NULL : "threshold must be 10..20";
	default: return "unknown transaction";
	}
}

static json_t *status(const char *s, const char *error)
{
	json_t *o = json_pack("{s:s}", "status", s);
	if (o && error)
		json_object_set_new(o, "error", json_string(error));
	return o;
}

static json_t *info(struct tpcc_db *t)
{
	json_t *o = status("ok", NULL);
	json_object_update_missing_new(
	    o, json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "warehouses", t->sz.warehouses,
	                 "districts", TPCC_DISTRICTS, "scale", t->sz.scale, "items", t->sz.items,
	                 "customers", t->sz.customers, "orders", t->sz.orders, "new_orders",
	                 t->sz.new_orders));
	return o;
}

static int (*const tx_fns[TX_COUNT])(struct tpcc_db *, const json_t *, json_t *) = {
	tx_new_order, tx_payment, tx_order_status, tx_delivery, tx_stock_level,
};

static void backoff(struct tpcc_db *t, int attempt)
{
	int64_t max_us = 1000LL << (attempt < 6 ? attempt : 6);
	int64_t us = max_us / 2 + rng_range(&t->rng, 0, max_us / 2);
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static int busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

json_t *tpcc_execute(struct tpcc_db *t, const json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "tx"));
	if (!json_is_object(req) || !name)
		return status("error", "bad request: want an object with \"tx\"");
	if (strcmp(name, "info") == 0)
		return info(t);
	int tx = 0;
	while (tx < TX_COUNT && strcmp(name, tpcc_tx_names[tx]))
		tx++;
	if (tx == TX_COUNT)
		return status("error", "bad request: unknown tx");
	const char *bad = check_req((enum tpcc_tx)tx, req, &t->sz);
	if (bad) {
		char msg[128];
		snprintf(msg, sizeof(msg), "bad request: %s", bad);
		return status("error", msg);
	}
	int writer = tx == TX_NEW_ORDER || tx == TX_PAYMENT || tx == TX_DELIVERY;
	for (int attempt = 0;; attempt++) {
		json_t *resp = status("ok", NULL);
		int locked = t->tx_lock && !pthread_mutex_lock(t->tx_lock);
		int rc =
		    sqlite3_exec(t->db, writer ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			rc = tx_fns[tx](t, req, resp);
			reset_all(t);
			if (rc == 0)
				rc = sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);
			if (rc != 0)
				sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
		}
		if (locked)
			pthread_mutex_unlock(t->tx_lock);
		if (rc == 0)
			return resp;
		json_decref(resp);
		if (rc == RC_ROLLBACK)
			return status("rollback", "item number is not valid");
		if (rc == RC_BAD)
			return status("error", "bad request: no such row");
		if (busy(rc) && attempt < TX_RETRIES) {
			backoff(t, attempt);
			continue;
		}
		snprintf(t->err, sizeof(t->err), "%s: %s", name, sqlite3_errstr(rc));
		return status("error", t->err);
	}
}
