/* workloads/db/client.c: the terminal side of TPC-C: the transaction mix, input generation (2.4.1 -
 * 2.8.1, NURand skew), keying and think times, and validation of every response, so a load
 * generator counts a wrong answer as an error. */
#include "workloads/db/tpcc.h"

#include <stdio.h>
#include <string.h>

#define C_LAST_RUN 223 /* differs from the load's 157 by 66, inside 2.1.6.1's allowed delta */
#define C_ID       259
#define C_OL_I_ID  7911

const char *const tpcc_tx_names[TX_COUNT] = { "new_order", "payment", "order_status", "delivery",
	                                      "stock_level" };

enum tpcc_tx tpcc_pick_tx(struct rng *r)
{
	int64_t x = rng_range(r, 1, 100);
	if (x <= 45)
		return TX_NEW_ORDER;
	if (x <= 88)
		return TX_PAYMENT;
	if (x <= 92)
		return TX_ORDER_STATUS;
	if (x <= 96)
		return TX_DELIVERY;
	return TX_STOCK_LEVEL;
}

void tpcc_think_s(enum tpcc_tx tx, double *keying_s, double *think_mean_s)
{
	static const double keying[TX_COUNT] = { 18, 3, 2, 2, 2 };
	static const double think[TX_COUNT] = { 12, 12, 10, 5, 5 };
	*keying_s = keying[tx];
	*think_mean_s = think[tx];
}

static int customer_id(struct rng *r, const struct tpcc_sizes *sz)
{
	return (int)tpcc_nurand(r, 1023, C_ID, 1, sz->customers);
}

static void add_customer(json_t *o, struct rng *r, const struct tpcc_sizes *sz)
{
	if (rng_range(r, 1, 100) <= 60) { /* 60% by last name (2.5.1.2) */
		char last[32];
		int hi = sz->customers < 1000 ? sz->customers - 1 : 999;
		tpcc_last_name((int)tpcc_nurand(r, 255, C_LAST_RUN, 0, hi), last, sizeof(last));
		json_object_set_new(o, "c_last", json_string(last));
	} else {
		json_object_set_new(o, "c_id", json_integer(customer_id(r, sz)));
	}
}

static json_t *new_order(struct tpcc_req *q, struct rng *r, const struct tpcc_sizes *sz)
{
	int n = (int)rng_range(r, 5, 15);
	json_t *items = json_array();
	q->expect_rollback = rng_range(r, 1, 100) == 1;
	q->ol_cnt = n;
	for (int k = 0; k < n; k++) {
		int i_id = (int)tpcc_nurand(r, 8191, C_OL_I_ID, 1, sz->items);
		if (q->expect_rollback && k == n - 1)
			i_id = sz->items + 1; /* unused item number (2.4.1.4) */
		int supply = q->w_id;
		if (sz->warehouses > 1 && rng_range(r, 1, 100) == 1)
			while ((supply = (int)rng_range(r, 1, sz->warehouses)) == q->w_id)
				;
		json_array_append_new(items, json_pack("[iiI]", i_id, supply, rng_range(r, 1, 10)));
	}
	return json_pack("{s:s, s:i, s:i, s:i, s:o}", "tx", "new_order", "w_id", q->w_id, "d_id",
	                 q->d_id, "c_id", customer_id(r, sz), "items", items);
}

int tpcc_make_req(struct tpcc_req *q, enum tpcc_tx tx, struct rng *r, const struct tpcc_sizes *sz,
                  int w_id, int d_id)
{
	memset(q, 0, sizeof(*q));
	q->tx = tx;
	q->w_id = w_id;
	q->d_id = d_id;
	json_t *o = NULL;
	switch (tx) {
	case TX_NEW_ORDER: o = new_order(q, r, sz); break;
	case TX_PAYMENT: {
		int cw = w_id, cd = (int)rng_range(r, 1, TPCC_DISTRICTS);
		if (sz->warehouses > 1 && rng_range(r, 1, 100) <= 15) /* remote customer */
			while ((cw = (int)rng_range(r, 1, sz->warehouses)) == w_id)
				;
		o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:I}", "tx", "payment", "w_id", w_id,
		              "d_id", d_id, "c_w_id", cw, "c_d_id", cd, "amount_cents",
		              rng_range(r, 100, 500000));
		if (o)
			add_customer(o, r, sz);
		break;
	}
	case TX_ORDER_STATUS:
		o = json_pack("{s:s, s:i, s:i}", "tx", "order_status", "w_id", w_id, "d_id", d_id);
		if (o)
			add_customer(o, r, sz);
		break;
	case TX_DELIVERY:
		o = json_pack("{s:s, s:i, s:I}", "tx", "delivery", "w_id", w_id, "carrier_id",
		              rng_range(r, 1, 10));
		break;
	case TX_STOCK_LEVEL:
		o = json_pack("{s:s, s:i, s:i, s:I}", "tx", "stock_level", "w_id", w_id, "d_id",
		              d_id, "threshold", rng_range(r, 10, 20));
		break;
	default: break;
	}
	q->json = o;
	return o ? 0 : -1;
}

static int get_int(const json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	if (out)
		*out = json_integer_value(v);
	return 0;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(why, len, __VA_ARGS__);                                                   \
		return -1;                                                                         \
	} while (0)

static int check_new_order(const struct tpcc_req *q, const json_t *resp,
                           const struct tpcc_sizes *sz, char *why, size_t len)
{
	int64_t o_id, n, total;
	json_t *lines = json_object_get(resp, "lines");
	json_t *items = json_object_get(q->json, "items");
	if (get_int(resp, "o_id", sz->orders + 1, INT32_MAX, &o_id))
		BAD("new_order: o_id missing or not above the initial orders");
	if (get_int(resp, "ol_cnt", q->ol_cnt, q->ol_cnt, &n) ||
	    json_array_size(lines) != (size_t)n)
		BAD("new_order: %d lines requested, answer has a different count", q->ol_cnt);
	if (get_int(resp, "total_cents", 1, INT64_MAX, &total))
		BAD("new_order: total_cents missing or not positive");
	for (size_t k = 0; k < (size_t)n; k++) {
		json_t *l = json_array_get(lines, k), *it = json_array_get(items, k);
		int64_t qty = json_integer_value(json_array_get(it, 2));
		int64_t amount = json_integer_value(json_array_get(l, 2));
		int64_t s_qty = json_integer_value(json_array_get(l, 1));
		if (json_integer_value(json_array_get(l, 0)) !=
		    json_integer_value(json_array_get(it, 0)))
			BAD("new_order: line %zu is for another item", k + 1);
		/* amount = quantity x price, price 1.00..100.00; stock stays within 0..100 */
		if (amount < 100 * qty || amount > 10000 * qty || amount % qty || s_qty < 0 ||
		    s_qty > 100)
			BAD("new_order: line %zu amount/stock out of range", k + 1);
	}
	return 0;
}

static int check_customer(const struct tpcc_req *q, const json_t *resp, const struct tpcc_sizes *sz,
                          char *why, size_t len)
{
	int64_t c_id;
	json_t *want = json_object_get(q->json, "c_id");
	if (get_int(resp, "c_id", 1, sz->customers, &c_id))
		BAD("%s: c_id missing or out of range", tpcc_tx_names[q->tx]);
	if (want && json_integer_value(want) != c_id)
		BAD("%s: answered for another customer", tpcc_tx_names[q->tx]);
	if (!json_is_integer(json_object_get(resp, "c_balance_cents")))
		BAD("%s: c_balance_cents missing", tpcc_tx_names[q->tx]);
	return 0;
}

int tpcc_validate(const struct tpcc_req *q, const json_t *resp, const struct tpcc_sizes *sz,
                  char *why, size_t len)
{
	const char *st = json_string_value(json_object_get(resp, "status"));
	if (!st)
		BAD("%s: answer has no status", tpcc_tx_names[q->tx]);
	if (q->expect_rollback) {
		if (strcmp(st, "rollback"))
			BAD("new_order with an invalid item answered \"%s\", not rollback", st);
		return 0;
	}
	if (strcmp(st, "ok")) {
		const char *e = json_string_value(json_object_get(resp, "error"));
		BAD("%s: status %s: %s", tpcc_tx_names[q->tx], st, e ? e : "");
	}
	int64_t v;
	switch (q->tx) {
	case TX_NEW_ORDER: return check_new_order(q, resp, sz, why, len);
	case TX_PAYMENT:
		if (check_customer(q, resp, sz, why, len))
			return -1;
		const char *credit = json_string_value(json_object_get(resp, "c_credit"));
		if (!credit || (strcmp(credit, "GC") && strcmp(credit, "BC")))
			BAD("payment: c_credit is neither GC nor BC");
		return 0;
	case TX_ORDER_STATUS: {
		int64_t n;
		if (check_customer(q, resp, sz, why, len))
			return -1;
		if (get_int(resp, "o_id", 1, INT32_MAX, NULL) ||
		    get_int(resp, "ol_cnt", 1, 15, &n) ||
		    json_array_size(json_object_get(resp, "lines")) != (size_t)n)
			BAD("order_status: order lines do not match o_ol_cnt");
		return 0;
	}
	case TX_DELIVERY:
		if (get_int(resp, "delivered", 0, TPCC_DISTRICTS, &v) ||
		    json_array_size(json_object_get(resp, "orders")) != TPCC_DISTRICTS)
			BAD("delivery: delivered/orders missing or out of range");
		return 0;
	case TX_STOCK_LEVEL:
		if (get_int(resp, "low_stock", 0, 20 * 15, &v))
			BAD("stock_level: low_stock missing or out of range");
		return 0;
	default: BAD("unknown transaction");
	}
}

int tpcc_sizes_from_json(struct tpcc_sizes *sz, const json_t *info)
{
	int w, s;
	if (json_unpack((json_t *)info, "{s:i, s:i}", "warehouses", &w, "scale", &s) || w < 1 ||
	    s < 1 || s > 300)
		return -1;
	tpcc_sizes_for(sz, w, s);
	return 0;
}
