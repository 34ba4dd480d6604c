/* workloads/java/jbb_world.c: building and freeing a vcons-jbb world, and the stop-the-world
 * collection pass (see jbb.h). */
#include "workloads/java/jbb.h"
#include "lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void jbb_cfg_default(struct jbb_cfg *c)
{
	*c = (struct jbb_cfg){ .warehouses = 2,
		               .districts = 10,
		               .customers = 3000,
		               .items = 20000,
		               .max_orders = 300,
		               .max_history = 3000,
		               .gc_every = 200000,
		               .seed = 1 };
}

int64_t jbb_live_bound(const struct jbb_cfg *c)
{
	return (int64_t)c->warehouses * (2LL * c->districts * c->max_orders + c->max_history);
}

static const char *const syllables[] = { "BAR", "OUGHT", "ABLE",  "PRI",   "PRES",
	                                 "ESE", "ANTI",  "CALLY", "ATION", "EING" };

static void build_customers(struct jbb_customer *cs, int n, struct rng *r)
{
	for (int i = 0; i < n; i++) {
		struct jbb_customer *c = &cs[i];
		int k = (int)rng_range(r, 0, 999);
		snprintf(c->last, sizeof(c->last), "%s%s%s", syllables[k / 100],
		         syllables[k / 10 % 10], syllables[k % 10]);
		c->balance = -1000;
		c->discount = (int32_t)rng_range(r, 0, 5000);
	}
}

static int build_warehouse(struct jbb_warehouse *w, const struct jbb_cfg *cfg, int id)
{
	struct rng r;
	rng_seed(&r, cfg->seed * 1000003 + (uint64_t)id);
	w->id = id;
	w->tax = (int32_t)rng_range(&r, 0, 2000);
	w->items = calloc((size_t)cfg->items, sizeof(*w->items));
	w->stock = calloc((size_t)cfg->items, sizeof(*w->stock));
	w->districts = calloc((size_t)cfg->districts, sizeof(*w->districts));
	// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
	w->history = calloc((size_t)cfg->max_history, sizeof(*w->history));
	if (!w->items || !w->stock || !w->districts || !w->history)
		return -1;
	for (int i = 0; i < cfg->items; i++) {
		w->items[i].price = (int32_t)rng_range(&r, 100, 10000);
		snprintf(w->items[i].name, sizeof(w->items[i].name), "item-%d", i + 1);
		w->stock[i].quantity = (int32_t)rng_range(&r, JBB_STOCK_MIN, JBB_STOCK_MAX);
	}
	for (int d = 0; d < cfg->districts; d++) {
		struct jbb_district *dd = &w->districts[d];
		dd->ytd = 3000000;
		dd->tax = (int32_t)rng_range(&r, 0, 2000);
		dd->next_o_id = dd->next_deliver = 1;
		dd->cap = 2 * cfg->max_orders;
		// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
		dd->orders = calloc((size_t)dd->cap, sizeof(*dd->orders));
		dd->customers = calloc((size_t)cfg->customers, sizeof(*dd->customers));
		if (!dd->orders || !dd->customers)
			return -1;
		build_customers(dd->customers, cfg->customers, &r);
		w->initial_ytd += dd->ytd;
		w->initial_balance += -1000LL * cfg->customers;
	}
	w->ytd = w->initial_ytd;
	atomic_init(&w->live, 0);
	return pthread_mutex_init(&w->mu, NULL) ? -1 : 0;
}

struct jbb_world *jbb_world_new(const struct jbb_cfg *cfg)
{
	struct jbb_world *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->cfg = *cfg;
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	/* a collection must not starve behind a stream of transactions */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&w->gc, &a);
	pthread_rwlockattr_destroy(&a);
	pthread_mutex_init(&w->pause_mu, NULL);
	atomic_init(&w->allocs_since_gc, 0);
	atomic_init(&w->collecting, 0);
	w->wh = calloc((size_t)cfg->warehouses, sizeof(*w->wh));
	if (!w->wh || hdr_init(&w->pauses)) {
		jbb_world_free(w);
		return NULL;
	}
	for (int i = 0; i < cfg->warehouses; i++) {
		if (build_warehouse(&w->wh[i], cfg, i + 1)) {
			jbb_world_free(w);
			return NULL;
		}
	}
	return w;
}

static void free_warehouse(struct jbb_warehouse *w, const struct jbb_cfg *cfg)
{
	for (int d = 0; w->districts && d < cfg->districts; d++) {
		struct jbb_district *dd = &w->districts[d];
		for (int i = 0; dd->orders && i < dd->count; i++) {
			free(dd->orders[dd->first + i]->lines);
			free(dd->orders[dd->first + i]);
		}
		free(dd->orders);
		free(dd->customers);
	}
	for (int i = 0; w->history && i < w->hcount; i++)
		free(w->history[(w->hfirst + i) % cfg->max_history]);
	free(w->history);
	free(w->districts);
	free(w->stock);
	free(w->items);
	pthread_mutex_destroy(&w->mu);
}

void jbb_world_free(struct jbb_world *w)
{
	if (!w)
		return;
	for (int i = 0; w->wh && i < w->cfg.warehouses; i++)
		free_warehouse(&w->wh[i], &w->cfg);
	free(w->wh);
	hdr_fini(&w->pauses);
	pthread_rwlock_destroy(&w->gc);
	pthread_mutex_destroy(&w->pause_mu);
	free(w);
}

/* Copies an order and its lines into fresh memory; the old ones are freed. */
static struct jbb_order *evacuate_order(struct jbb_order *o)
{
	struct jbb_order *n = malloc(sizeof(*n));
	struct jbb_line *l = malloc(sizeof(*l) * (size_t)o->ol_cnt);
	if (!n || !l) {
		free(n);
		free(l);
		return NULL;
	}
	*n = *o;
	memcpy(l, o->lines, sizeof(*l) * (size_t)o->ol_cnt);
	n->lines = l;
	free(o->lines);
	free(o);
	return n;
}

/* Re-packs a district's live orders at the start of a fresh array and rebuilds the customers'
 * last-order index. */
static int collect_district(struct jbb_district *d, const struct jbb_cfg *cfg)
{
	// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
	struct jbb_order **fresh = calloc((size_t)d->cap, sizeof(*fresh));
	if (!fresh)
		return -1;
	for (int i = 0; i < d->count; i++) {
		struct jbb_order *o = d->orders[d->first + i];
		struct jbb_order *n = evacuate_order(o);
		fresh[i] = n ? n : o;
	}
	free(d->orders);
	d->orders = fresh;
	d->first = 0;
	for (int c = 0; c < cfg->customers; c++)
		d->customers[c].last_order = 0;
	for (int i = 0; i < d->count; i++)
		d->customers[fresh[i]->c - 1].last_order = fresh[i]->id;
	return 0;
}

static int collect_warehouse(struct jbb_warehouse *w, const struct jbb_cfg *cfg)
{
	int rc = 0;
	for (int d = 0; d < cfg->districts; d++)
		rc |= collect_district(&w->districts[d], cfg);
	for (int i = 0; i < w->hcount; i++) {
		struct jbb_history **slot = &w->history[(w->hfirst + i) % cfg->max_history];
		struct jbb_history *h = malloc(sizeof(*h));
		if (!h) {
			rc = -1;
			continue;
		}
		*h = **slot;
		free(*slot);
		*slot = h;
	}
	return rc;
}

int jbb_collect(struct jbb_world *w)
{
	int64_t t0 = now_ns();
	pthread_rwlock_wrlock(&w->gc);
	int rc = 0;
	for (int i = 0; i < w->cfg.warehouses; i++)
		rc |= collect_warehouse(&w->wh[i], &w->cfg);
	atomic_store(&w->allocs_since_gc, 0);
	pthread_rwlock_unlock(&w->gc);
	int64_t pause = now_ns() - t0;
	pthread_mutex_lock(&w->pause_mu);
	hdr_record_ns(&w->pauses, pause);
	w->pause_count++;
	w->pause_total_ns += pause;
	pthread_mutex_unlock(&w->pause_mu);
	return rc;
}

int jbb_maybe_collect(struct jbb_world *w)
{
	if (atomic_load_explicit(&w->allocs_since_gc, memory_order_relaxed) < w->cfg.gc_every)
		return 0;
	int expect = 0;
	if (!atomic_compare_exchange_strong(&w->collecting, &expect, 1))
		return 0; /* another thread is collecting */
	int rc = 0;
	if (atomic_load(&w->allocs_since_gc) >= w->cfg.gc_every)
		rc = jbb_collect(w);
	atomic_store(&w->collecting, 0);
	return rc;
}

void jbb_take_pauses(struct jbb_world *w, struct hdr *into, uint64_t *count, int64_t *total_ns)
{
	pthread_mutex_lock(&w->pause_mu);
	hdr_merge(into, &w->pauses);
	hdr_reset(&w->pauses);
	*count = w->pause_count;
	*total_ns = w->pause_total_ns;
	pthread_mutex_unlock(&w->pause_mu);
}

int64_t jbb_live_objects(struct jbb_world *w)
{
	int64_t n = 0;
	for (int i = 0; i < w->cfg.warehouses; i++)
		n += atomic_load_explicit(&w->wh[i].live, memory_order_relaxed);
	return n;
}
