/* workloads/java/jbb_check.c: the invariants of a vcons-jbb world (see jbb.h and README.md),
 * checked on a quiescent world after a run (--self-check) and by the unit tests. */
#include "workloads/java/jbb.h"

#include <stdarg.h>
#include <stdio.h>

struct checker {
	char *err;
	size_t errlen;
	long checked;
	int bad;
};

/* Counts one check; on failure counts a violation and keeps the first message. */
__attribute__((format(printf, 3, 4))) static int expect(struct checker *k, int ok, const char *fmt,
                                                        ...)
{
	k->checked++;
	if (ok)
		return 1;
	if (k->bad++ == 0 && k->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(k->err, k->errlen, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* One order: its place in the district, its lines, its delivery state, its customer's index. */
static void check_order(struct checker *k, const struct jbb_warehouse *w,
                        const struct jbb_district *d, int di, const struct jbb_order *o,
                        int32_t want_id, const struct jbb_cfg *cfg)
{
	if (!expect(k, o != NULL, "w%d d%d: empty slot in the live orders", w->id, di + 1))
		return;
	// NOLINTNEXTLINE(clang-analyzer-core.NullDereference): expect() returned o != NULL
	expect(k, o->id == want_id, "w%d d%d: order id %d where %d belongs (ids not consecutive)",
	       w->id, di + 1, o->id, want_id);
	expect(k, o->d == di + 1, "w%d d%d: order %d says district %d", w->id, di + 1, o->id, o->d);
	if (!expect(k, o->c >= 1 && o->c <= cfg->customers, "w%d d%d: order %d customer %d", w->id,
	            di + 1, o->id, o->c))
		return;
	if (!expect(k, o->ol_cnt >= JBB_MIN_LINES && o->ol_cnt <= JBB_MAX_LINES && o->lines,
	            "w%d d%d: order %d has %d lines", w->id, di + 1, o->id, o->ol_cnt))
		return;
	int64_t sum = 0;
	for (int i = 0; i < o->ol_cnt; i++) {
		const struct jbb_line *l = &o->lines[i];
		expect(k, l->item >= 1 && l->item <= cfg->items && l->qty >= 1 && l->qty <= 10,
		       "w%d d%d: order %d line %d: item %d qty %d", w->id, di + 1, o->id, i,
		       l->item, l->qty);
		sum += l->amount;
	}
	expect(k, sum == o->total, "w%d d%d: order %d total %lld, lines add up to %lld", w->id,
	       di + 1, o->id, (long long)o->total, (long long)sum);
	expect(k, (o->id < d->next_deliver) == (o->carrier != 0),
	       "w%d d%d: order %d carrier %d but the delivery point is %d", w->id, di + 1, o->id,
	       o->carrier, d->next_deliver);
	expect(k, d->customers[o->c - 1].last_order >= o->id,
	       "w%d d%d: customer %d's last order %d is older than its live order %d", w->id,
	       di + 1, o->c, d->customers[o->c - 1].last_order, o->id);
}

static void check_district(struct checker *k, const struct jbb_warehouse *w, int di,
                           const struct jbb_cfg *cfg)
{
	const struct jbb_district *d = &w->districts[di];
	if (!expect(k,
	            d->count >= 0 && d->count <= cfg->max_orders && d->first >= 0 &&
	                d->first + d->count <= d->cap,
	            "w%d d%d: %d live orders from slot %d (at most %d, %d slots)", w->id, di + 1,
	            d->count, d->first, cfg->max_orders, d->cap))
		return;
	int32_t oldest = d->next_o_id - d->count;
	expect(k, oldest >= 1, "w%d d%d: next order id %d with %d live orders", w->id, di + 1,
	       d->next_o_id, d->count);
	expect(k, d->next_deliver >= oldest && d->next_deliver <= d->next_o_id,
	       "w%d d%d: delivery point %d outside [%d, %d]", w->id, di + 1, d->next_deliver,
	       oldest, d->next_o_id);
	for (int i = 0; i < d->count; i++)
		check_order(k, w, d, di, d->orders[d->first + i], oldest + i, cfg);
	for (int c = 0; c < cfg->customers; c++) {
		int32_t lo = d->customers[c].last_order;
		expect(k,
		       lo == 0 || (lo >= oldest && lo < d->next_o_id &&
		                   d->orders[d->first + (lo - oldest)] &&
		                   d->orders[d->first + (lo - oldest)]->c == c + 1),
		       "w%d d%d: customer %d's last order %d is not a live order of theirs", w->id,
		       di + 1, c + 1, lo);
	}
}

/* Money: warehouse YTD = sum of district YTD = initial + payments; balances follow payments and
 * deliveries. */
static void check_money(struct checker *k, const struct jbb_warehouse *w, const struct jbb_cfg *cfg)
{
	int64_t dytd = 0, balance = 0, paid = 0, npay = 0;
	for (int di = 0; di < cfg->districts; di++) {
		dytd += w->districts[di].ytd;
		for (int c = 0; c < cfg->customers; c++) {
			const struct jbb_customer *cu = &w->districts[di].customers[c];
			balance += cu->balance;
			paid += cu->ytd_payment;
			npay += cu->payment_cnt;
		}
	}
	expect(k, w->ytd == dytd, "w%d: warehouse YTD %lld != sum of district YTD %lld", w->id,
	       (long long)w->ytd, (long long)dytd);
	expect(k, w->ytd == w->initial_ytd + w->payments,
	       "w%d: warehouse YTD %lld != initial %lld + payments %lld", w->id, (long long)w->ytd,
	       (long long)w->initial_ytd, (long long)w->payments);
	expect(k, paid == w->payments, "w%d: customers' YTD payments %lld != payments %lld", w->id,
	       (long long)paid, (long long)w->payments);
	expect(k, balance == w->initial_balance - w->payments + w->delivered,
	       "w%d: sum of balances %lld != initial %lld - payments %lld + delivered %lld", w->id,
	       (long long)balance, (long long)w->initial_balance, (long long)w->payments,
	       (long long)w->delivered);
	expect(k, npay >= w->hcount, "w%d: %lld payments but %d live payment records", w->id,
	       (long long)npay, w->hcount);
}

static void check_stock_history(struct checker *k, const struct jbb_warehouse *w,
                                const struct jbb_cfg *cfg)
{
	int64_t units = 0, lines = 0;
	for (int i = 0; i < cfg->items; i++) {
		const struct jbb_stock *s = &w->stock[i];
		expect(k, s->quantity >= JBB_STOCK_MIN && s->quantity <= JBB_STOCK_MAX,
		       "w%d: stock of item %d is %d, outside [%d, %d]", w->id, i + 1, s->quantity,
		       JBB_STOCK_MIN, JBB_STOCK_MAX);
		units += s->ytd;
		lines += s->order_cnt;
	}
	expect(k, units == w->units && lines == w->lines,
	       "w%d: stock counts %lld units in %lld lines, orders made %lld in %lld", w->id,
	       (long long)units, (long long)lines, (long long)w->units, (long long)w->lines);
	if (!expect(k, w->hcount >= 0 && w->hcount <= cfg->max_history,
	            "w%d: %d live payment records (at most %d)", w->id, w->hcount,
	            cfg->max_history))
		return;
	for (int i = 0; i < w->hcount; i++) {
		const struct jbb_history *h = w->history[(w->hfirst + i) % cfg->max_history];
		expect(k,
		       h && h->d >= 1 && h->d <= cfg->districts && h->c >= 1 &&
		           h->c <= cfg->customers && h->amount > 0,
		       "w%d: payment record %d is damaged", w->id, i);
	}
}

int jbb_check(struct jbb_world *w, char *err, size_t errlen, long *checked)
{
	struct checker k = { .err = err, .errlen = errlen };
	if (errlen)
		err[0] = 0;
	const struct jbb_cfg *cfg = &w->cfg;
	int64_t live = 0;
	for (int i = 0; i < cfg->warehouses; i++) {
		const struct jbb_warehouse *h = &w->wh[i];
		int64_t objs = h->hcount;
		for (int di = 0; di < cfg->districts; di++) {
			check_district(&k, h, di, cfg);
			objs += 2LL * h->districts[di].count;
		}
		check_money(&k, h, cfg);
		check_stock_history(&k, h, cfg);
		expect(&k, atomic_load(&h->live) == objs,
		       "w%d: %lld objects counted live, %lld found", h->id,
		       (long long)atomic_load(&h->live), (long long)objs);
		live += objs;
	}
	expect(&k, live <= jbb_live_bound(cfg), "%lld live objects, more than the bound %lld",
	       (long long)live, (long long)jbb_live_bound(cfg));
	if (checked)
		*checked = k.checked;
	return k.bad;
}
