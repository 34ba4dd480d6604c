/* workloads/java/jbb_txn.c: the six vcons-jbb transactions (New-Order, Payment, Order-Status,
 * Delivery, Stock-Level, Customer-Report) on one warehouse, their mix, and the bounded live set
 * (trimming old orders and payments). See jbb.h. */
#include "workloads/java/jbb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const op_names[JBB_NOPS] = { "new_order", "payment",     "order_status",
	                                        "delivery",  "stock_level", "customer_report" };

const char *jbb_op_name(enum jbb_op op)
{
	return op >= 0 && op < JBB_NOPS ? op_names[op] : "?";
}

enum jbb_op jbb_pick_op(struct rng *r)
{
	int64_t k = rng_range(r, 0, 23); /* 10 : 10 : 1 : 1 : 1 : 1 */
	if (k < 10)
		return JBB_NEW_ORDER;
	if (k < 20)
		return JBB_PAYMENT;
	return (enum jbb_op)(JBB_ORDER_STATUS + (k - 20));
}

/* TPC-C's non-uniform random number in [x, y] */
static int nurand(struct rng *r, int64_t a, int64_t x, int64_t y)
{
	return (int)(((rng_range(r, 0, a) | rng_range(r, x, y)) + 42) % (y - x + 1) + x);
}

static struct jbb_order *order_by_id(struct jbb_district *d, int32_t id)
{
	if (d->count == 0)
		return NULL;
	int32_t oldest = d->orders[d->first]->id;
	if (id < oldest || id >= oldest + d->count)
		return NULL;
	return d->orders[d->first + (id - oldest)];
}

static void trim_orders(struct jbb_warehouse *w, struct jbb_district *d, int max)
{
	while (d->count > max) {
		struct jbb_order *o = d->orders[d->first];
		if (o->id >= d->next_deliver) { /* never delivered: cancelled by the trim */
			w->orders_trimmed_undelivered++;
			d->next_deliver = o->id + 1;
		}
		if (d->customers[o->c - 1].last_order == o->id)
			d->customers[o->c - 1].last_order = 0;
		free(o->lines);
		free(o);
		d->orders[d->first++] = NULL;
		d->count--;
		atomic_fetch_sub_explicit(&w->live, 2, memory_order_relaxed);
	}
}

static void append_order(struct jbb_district *d, struct jbb_order *o)
{
	if (d->first + d->count == d->cap) { /* slide the live orders to the front */
		// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
		memmove(d->orders, d->orders + d->first, sizeof(*d->orders) * (size_t)d->count);
		// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
		memset(d->orders + d->count, 0, sizeof(*d->orders) * (size_t)(d->cap - d->count));
		d->first = 0;
	}
	d->orders[d->first + d->count++] = o;
}

static int64_t line_amount(int64_t qty, int64_t price, const struct jbb_warehouse *w,
                           const struct jbb_district *d, const struct jbb_customer *c)
{
	return qty * price * (10000 - c->discount) / 10000 * (10000 + w->tax + d->tax) / 10000;
}

static int new_order(struct jbb_world *wd, struct jbb_warehouse *w, struct rng *r)
{
	const struct jbb_cfg *cfg = &wd->cfg;
	struct jbb_district *d = &w->districts[rng_range(r, 0, cfg->districts - 1)];
	int c = nurand(r, 1023, 1, cfg->customers);
	int n = (int)rng_range(r, JBB_MIN_LINES, JBB_MAX_LINES);
	struct jbb_order *o = malloc(sizeof(*o));
	struct jbb_line *l = malloc(sizeof(*l) * (size_t)n);
	if (!o || !l) {
		free(o);
		free(l);
		return -1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*o = (struct jbb_order){ .id = d->next_o_id++,
		                 .d = (int32_t)(d - w->districts) + 1,
		                 .c = c,
		                 .ol_cnt = n,
		                 .entry_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec,
		                 .lines = l };
	for (int i = 0; i < n; i++) {
		int item = nurand(r, 8191, 1, cfg->items);
		int qty = (int)rng_range(r, 1, 10);
		struct jbb_stock *s = &w->stock[item - 1];
		s->quantity =
		    s->quantity >= qty + JBB_STOCK_MIN ? s->quantity - qty : s->quantity - qty + 91;
		s->ytd += qty;
		s->order_cnt++;
		l[i] = (struct jbb_line){ .item = item,
			                  .qty = qty,
			                  .amount = line_amount(qty, w->items[item - 1].price, w, d,
			                                        &d->customers[c - 1]) };
		o->total += l[i].amount;
		w->units += qty;
	}
	w->lines += n;
	trim_orders(w, d, cfg->max_orders - 1); /* make room first: the live set never overshoots */
	append_order(d, o);
	d->customers[c - 1].last_order = o->id;
	atomic_fetch_add_explicit(&w->live, 2, memory_order_relaxed);
	atomic_fetch_add_explicit(&wd->allocs_since_gc, 2, memory_order_relaxed);
	return 0;
}

static int payment(struct jbb_world *wd, struct jbb_warehouse *w, struct rng *r)
{
	const struct jbb_cfg *cfg = &wd->cfg;
	int di = (int)rng_range(r, 0, cfg->districts - 1);
	struct jbb_district *d = &w->districts[di];
	int c = nurand(r, 1023, 1, cfg->customers);
	int64_t amount = rng_range(r, 100, 500000);
	struct jbb_history *h = malloc(sizeof(*h));
	if (!h)
		return -1;
	*h = (struct jbb_history){ .d = di + 1, .c = c, .amount = amount };
	w->ytd += amount;
	d->ytd += amount;
	struct jbb_customer *cu = &d->customers[c - 1];
	cu->balance -= amount;
	cu->ytd_payment += amount;
	cu->payment_cnt++;
	w->payments += amount;
	if (w->hcount == cfg->max_history) { /* the oldest payment leaves the live set */
		free(w->history[w->hfirst]);
		w->history[w->hfirst] = NULL;
		w->hfirst = (w->hfirst + 1) % cfg->max_history;
		w->hcount--;
		atomic_fetch_sub_explicit(&w->live, 1, memory_order_relaxed);
	}
	w->history[(w->hfirst + w->hcount++) % cfg->max_history] = h;
	atomic_fetch_add_explicit(&w->live, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&wd->allocs_since_gc, 1, memory_order_relaxed);
	return 0;
}

/* The customer's newest order, copied into a result object as a client would receive it. */
static int order_status(struct jbb_world *wd, struct jbb_warehouse *w, struct rng *r)
{
	const struct jbb_cfg *cfg = &wd->cfg;
	struct jbb_district *d = &w->districts[rng_range(r, 0, cfg->districts - 1)];
	struct jbb_customer *cu = &d->customers[nurand(r, 1023, 1, cfg->customers) - 1];
	struct jbb_order *o = cu->last_order ? order_by_id(d, cu->last_order) : NULL;
	if (!o) {
		w->digest += (uint64_t)cu->balance;
		return 0;
	}
	struct jbb_line *copy = malloc(sizeof(*copy) * (size_t)o->ol_cnt);
	if (!copy)
		return -1;
	memcpy(copy, o->lines, sizeof(*copy) * (size_t)o->ol_cnt);
	int64_t sum = 0;
	for (int i = 0; i < o->ol_cnt; i++)
		sum += copy[i].amount * copy[i].qty;
	w->digest += (uint64_t)(sum + cu->balance + o->carrier);
	free(copy);
	return 0;
}

static int delivery(struct jbb_world *wd, struct jbb_warehouse *w, struct rng *r)
{
	const struct jbb_cfg *cfg = &wd->cfg;
	int32_t carrier = (int32_t)rng_range(r, 1, 10);
	int32_t *done = malloc(sizeof(*done) * (size_t)cfg->districts); /* the delivery report */
	if (!done)
		return -1;
	for (int i = 0; i < cfg->districts; i++) {
		struct jbb_district *d = &w->districts[i];
		struct jbb_order *o = NULL;
		if (d->next_deliver < d->next_o_id)
			o = order_by_id(d, d->next_deliver);
		done[i] = o ? o->id : 0;
		if (!o)
			continue;
		o->carrier = carrier;
		struct jbb_customer *cu = &d->customers[o->c - 1];
		cu->balance += o->total;
		cu->delivery_cnt++;
		w->delivered += o->total;
		d->next_deliver++;
	}
	for (int i = 0; i < cfg->districts; i++)
		w->digest += (uint64_t)done[i];
	free(done);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Distinct items of the district's last 20 orders whose stock is below a threshold. */
static int stock_level(struct jbb_world *wd, struct jbb_warehouse *w, struct rng *r)
{
	struct jbb_district *d = &w->districts[rng_range(r, 0, wd->cfg.districts - 1)];
	int32_t threshold = (int32_t)rng_range(r, 10, 20);
	int32_t *items = malloc(sizeof(*items) * 20 * JBB_MAX_LINES);
	if (!items)
		return -1;
	int n = 0;
	for (int i = d->count - 1; i >= 0 && i >= d->count - 20; i--) {
		const struct jbb_order *o = d->orders[d->first + i];
		for (int k = 0; k < o->ol_cnt; k++)
			items[n++] = o->lines[k].item;
	}
	qsort(items, (size_t)n, sizeof(*items), cmp_int);
	int low = 0;
	for (int i = 0; i < n; i++)
		if ((i == 0 || items[i] != items[i - 1]) &&
		    w->stock[items[i] - 1].quantity < threshold)
			low++;
	w->digest += (uint64_t)low;
	free(items);
	return 0;
}

/* Appends to a fixed text buffer, truncating when full. */
__attribute__((format(printf, 4, 5))) static void put(char *text, size_t cap, size_t *len,
                                                      const char *fmt, ...)
{
	if (*len >= cap - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

/* A customer's recent payments (newest 500 payment records searched) and newest order, as text. */
static int customer_report(struct jbb_world *wd, struct jbb_warehouse *w, struct rng *r)
{
	const struct jbb_cfg *cfg = &wd->cfg;
	int di = (int)rng_range(r, 0, cfg->districts - 1);
	struct jbb_district *d = &w->districts[di];
	int c = nurand(r, 1023, 1, cfg->customers);
	struct jbb_customer *cu = &d->customers[c - 1];
	size_t cap = 1024, len = 0;
	char *text = malloc(cap);
	if (!text)
		return -1;
	put(text, cap, &len, "customer %d/%d/%d %s balance %lld\n", w->id, di + 1, c, cu->last,
	    (long long)cu->balance);
	int found = 0;
	for (int i = w->hcount - 1; i >= 0 && i >= w->hcount - 500 && found < 5; i--) {
		const struct jbb_history *h = w->history[(w->hfirst + i) % cfg->max_history];
		if (h->d != di + 1 || h->c != c)
			continue;
		found++;
		put(text, cap, &len, "payment %lld\n", (long long)h->amount);
	}
	const struct jbb_order *o = cu->last_order ? order_by_id(d, cu->last_order) : NULL;
	for (int i = 0; o && i < o->ol_cnt; i++) {
		const struct jbb_line *l = &o->lines[i];
		put(text, cap, &len, "line %s x%d %lld\n", w->items[l->item - 1].name, l->qty,
		    (long long)l->amount);
	}
	w->digest += len;
	free(text);
	return 0;
}

int jbb_run_op(struct jbb_world *w, int wh, enum jbb_op op, struct rng *r)
{
	static int (*const fn[JBB_NOPS])(struct jbb_world *, struct jbb_warehouse *,
	                                 struct rng *) = {
		new_order, payment, order_status, delivery, stock_level, customer_report
	};
	if (op < 0 || op >= JBB_NOPS || wh < 0 || wh >= w->cfg.warehouses)
		return -1;
	struct jbb_warehouse *h = &w->wh[wh];
	pthread_rwlock_rdlock(&w->gc);
	pthread_mutex_lock(&h->mu);
	int rc = fn[op](w, h, r);
	pthread_mutex_unlock(&h->mu);
	pthread_rwlock_unlock(&w->gc);
	return rc;
}
