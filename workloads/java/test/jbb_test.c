/* workloads/java/test/jbb_test.c: unit tests of the vcons-jbb business logic: each transaction's
 * effect, the live-set bound, the collection pass keeping every object intact, and the invariant
 * checker (which must also catch each kind of damage). */
#include "tools/unit.h"
#include "workloads/java/jbb.h"

#include <stdlib.h>
#include <string.h>

static struct jbb_world *small_world(void)
{
	struct jbb_cfg c;
	jbb_cfg_default(&c);
	c.warehouses = 2;
	c.districts = 3;
	c.customers = 50;
	c.items = 200;
	c.max_orders = 20;
	c.max_history = 30;
	c.gc_every = 100;
	c.seed = 7;
	struct jbb_world *w = jbb_world_new(&c);
	assert_non_null(w);
	return w;
}

static void assert_ok(struct jbb_world *w)
{
	char err[512];
	long checked = 0;
	int bad = jbb_check(w, err, sizeof(err), &checked);
	if (bad)
		fail_msg("%d violations, first: %s", bad, err);
	assert_true(checked > 0);
}

static void assert_broken(struct jbb_world *w, const char *want)
{
	char err[512];
	int bad = jbb_check(w, err, sizeof(err), NULL);
	assert_true(bad > 0);
	if (!strstr(err, want))
		fail_msg("expected a violation about '%s', got: %s", want, err);
}

static void run_mix(struct jbb_world *w, int n, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed);
	for (int i = 0; i < n; i++) {
		assert_int_equal(jbb_run_op(w, i % w->cfg.warehouses, jbb_pick_op(&r), &r), 0);
		assert_int_equal(jbb_maybe_collect(w), 0);
	}
}

static int64_t orders_made(struct jbb_world *w)
{
	int64_t n = 0;
	for (int d = 0; d < w->cfg.districts; d++)
		n += w->wh[0].districts[d].next_o_id - 1;
	return n;
}

static void fresh_world_holds(void **state)
{
	struct jbb_world *w = small_world();
	assert_ok(w);
	assert_int_equal(jbb_live_objects(w), 0);
	jbb_world_free(w);
}

static void new_order_adds_an_order(void **state)
{
	struct jbb_world *w = small_world();
	struct rng r;
	rng_seed(&r, 1);
	int64_t live = jbb_live_objects(w), units = w->wh[0].units;
	assert_int_equal(jbb_run_op(w, 0, JBB_NEW_ORDER, &r), 0);
	assert_int_equal(orders_made(w), 1);
	assert_int_equal(jbb_live_objects(w), live + 2);
	assert_true(w->wh[0].units > units);
	struct jbb_district *d = NULL;
	for (int i = 0; i < w->cfg.districts; i++)
		if (w->wh[0].districts[i].count)
			d = &w->wh[0].districts[i];
	assert_non_null(d);
	// NOLINTNEXTLINE(clang-analyzer-core.NullDereference): assert_non_null(d) above
	struct jbb_order *o = d->orders[d->first];
	assert_int_equal(o->id, 1);
	assert_true(o->ol_cnt >= JBB_MIN_LINES && o->ol_cnt <= JBB_MAX_LINES);
	assert_int_equal(d->customers[o->c - 1].last_order, 1);
	assert_int_equal(o->carrier, 0);
	assert_ok(w);
	jbb_world_free(w);
}

static void payment_moves_money(void **state)
{
	struct jbb_world *w = small_world();
	struct rng r;
	rng_seed(&r, 2);
	int64_t ytd = w->wh[1].ytd;
	assert_int_equal(jbb_run_op(w, 1, JBB_PAYMENT, &r), 0);
	assert_true(w->wh[1].ytd > ytd);
	assert_int_equal(w->wh[1].ytd - ytd, w->wh[1].payments);
	assert_int_equal(w->wh[1].hcount, 1);
	assert_int_equal(w->wh[0].payments, 0);
	assert_ok(w);
	jbb_world_free(w);
}

static void delivery_delivers_oldest(void **state)
{
	struct jbb_world *w = small_world();
	struct rng r;
	rng_seed(&r, 3);
	for (int i = 0; i < 30; i++)
		assert_int_equal(jbb_run_op(w, 0, JBB_NEW_ORDER, &r), 0);
	assert_int_equal(w->wh[0].delivered, 0);
	assert_int_equal(jbb_run_op(w, 0, JBB_DELIVERY, &r), 0);
	assert_true(w->wh[0].delivered > 0);
	for (int i = 0; i < w->cfg.districts; i++) {
		struct jbb_district *d = &w->wh[0].districts[i];
		if (d->count)
			assert_int_equal(d->next_deliver, d->orders[d->first]->id + 1);
	}
	assert_ok(w);
	jbb_world_free(w);
}

static void read_only_ops_change_no_state(void **state)
{
	struct jbb_world *w = small_world();
	run_mix(w, 500, 4);
	struct rng r;
	rng_seed(&r, 5);
	int64_t ytd = w->wh[0].ytd, live = jbb_live_objects(w), units = w->wh[0].units;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(jbb_run_op(w, 0, JBB_ORDER_STATUS, &r), 0);
		assert_int_equal(jbb_run_op(w, 0, JBB_STOCK_LEVEL, &r), 0);
		assert_int_equal(jbb_run_op(w, 0, JBB_CUSTOMER_REPORT, &r), 0);
	}
	assert_int_equal(w->wh[0].ytd, ytd);
	assert_int_equal(jbb_live_objects(w), live);
	assert_int_equal(w->wh[0].units, units);
	assert_ok(w);
	jbb_world_free(w);
}

static void mix_keeps_invariants_and_bound(void **state)
{
	struct jbb_world *w = small_world();
	run_mix(w, 20000, 6);
	assert_ok(w);
	assert_true(jbb_live_objects(w) <= jbb_live_bound(&w->cfg));
	assert_true(w->pause_count > 0); /* gc_every 100: collections ran */
	assert_int_equal(w->wh[0].hcount, w->cfg.max_history);
	jbb_world_free(w);
}

static void mix_op_counts(void **state)
{
	struct rng r;
	rng_seed(&r, 9);
	int n[JBB_NOPS] = { 0 };
	for (int i = 0; i < 24000; i++)
		n[jbb_pick_op(&r)]++;
	assert_in_range(n[JBB_NEW_ORDER], 9000, 11000);
	assert_in_range(n[JBB_PAYMENT], 9000, 11000);
	for (int op = JBB_ORDER_STATUS; op < JBB_NOPS; op++)
		assert_in_range(n[op], 800, 1200);
	assert_string_equal(jbb_op_name(JBB_CUSTOMER_REPORT), "customer_report");
}

/* The collection moves every object; contents and every ledger stay as they were. */
static void collection_preserves_objects(void **state)
{
	struct jbb_world *w = small_world();
	w->cfg.gc_every = 1000000000;
	run_mix(w, 3000, 10);
	struct jbb_district *d = &w->wh[1].districts[2];
	assert_true(d->count > 0);
	int32_t first_id = d->orders[d->first]->id, count = d->count;
	int64_t total = 0;
	for (int i = 0; i < d->count; i++)
		total += d->orders[d->first + i]->total * d->orders[d->first + i]->ol_cnt;
	int64_t live = jbb_live_objects(w);
	assert_int_equal(jbb_collect(w), 0);
	assert_int_equal(d->first, 0);
	assert_int_equal(d->count, count);
	assert_int_equal(d->orders[0]->id, first_id);
	int64_t after = 0;
	for (int i = 0; i < d->count; i++)
		after += d->orders[i]->total * d->orders[i]->ol_cnt;
	assert_int_equal(after, total);
	assert_int_equal(jbb_live_objects(w), live);
	assert_ok(w);
	struct hdr h;
	assert_int_equal(hdr_init(&h), 0);
	uint64_t n;
	int64_t ns;
	jbb_take_pauses(w, &h, &n, &ns);
	assert_int_equal(n, 1);
	assert_int_equal(hdr_count(&h), 1);
	assert_true(ns > 0);
	jbb_take_pauses(w, &h, &n, &ns); /* taken: nothing new */
	assert_int_equal(hdr_count(&h), 1);
	hdr_fini(&h);
	run_mix(w, 1000, 11);
	assert_ok(w);
	jbb_world_free(w);
}

/* Each kind of damage is caught, so the self-check can fail. */
static struct jbb_world *busy_world(void)
{
	struct jbb_world *w = small_world();
	run_mix(w, 3000, 12);
	assert_ok(w);
	return w;
}

static void check_catches_district_ytd(void **state)
{
	struct jbb_world *w = busy_world();
	w->wh[0].districts[1].ytd += 1;
	assert_broken(w, "sum of district YTD");
	jbb_world_free(w);
}

static void check_catches_stock_out_of_bounds(void **state)
{
	struct jbb_world *w = busy_world();
	w->wh[1].stock[5].quantity = JBB_STOCK_MAX + 1;
	assert_broken(w, "stock of item 6");
	jbb_world_free(w);
}

static void check_catches_order_id_gap(void **state)
{
	struct jbb_world *w = busy_world();
	struct jbb_district *d = &w->wh[0].districts[0];
	assert_true(d->count > 2);
	d->orders[d->first + 1]->id += 1;
	assert_broken(w, "not consecutive");
	jbb_world_free(w);
}

static void check_catches_line_count_and_total(void **state)
{
	struct jbb_world *w = busy_world();
	struct jbb_district *d = &w->wh[0].districts[2];
	d->orders[d->first]->ol_cnt -= 1;
	assert_true(jbb_check(w, NULL, 0, NULL) > 0);
	d->orders[d->first]->ol_cnt += 1;
	assert_ok(w);
	d->orders[d->first]->lines[0].amount += 1;
	assert_broken(w, "lines add up");
	jbb_world_free(w);
}

static void check_catches_balance(void **state)
{
	struct jbb_world *w = busy_world();
	w->wh[1].districts[0].customers[3].balance -= 5;
	assert_broken(w, "sum of balances");
	jbb_world_free(w);
}

static void check_catches_delivery_state(void **state)
{
	struct jbb_world *w = busy_world();
	struct jbb_district *d = &w->wh[0].districts[1];
	struct jbb_order *o = d->orders[d->first + d->count - 1]; /* newest: undelivered */
	assert_int_equal(o->carrier, 0);
	o->carrier = 3;
	assert_broken(w, "delivery point");
	jbb_world_free(w);
}

static void check_catches_live_count(void **state)
{
	struct jbb_world *w = busy_world();
	atomic_fetch_add(&w->wh[0].live, 1);
	assert_broken(w, "objects counted live");
	jbb_world_free(w);
}

UNIT_MAIN(cmocka_unit_test(fresh_world_holds), cmocka_unit_test(new_order_adds_an_order),
          cmocka_unit_test(payment_moves_money), cmocka_unit_test(delivery_delivers_oldest),
          cmocka_unit_test(read_only_ops_change_no_state),
          cmocka_unit_test(mix_keeps_invariants_and_bound), cmocka_unit_test(mix_op_counts),
          cmocka_unit_test(collection_preserves_objects),
          cmocka_unit_test(check_catches_district_ytd),
          cmocka_unit_test(check_catches_stock_out_of_bounds),
          cmocka_unit_test(check_catches_order_id_gap),
          cmocka_unit_test(check_catches_line_count_and_total),
          cmocka_unit_test(check_catches_balance), cmocka_unit_test(check_catches_delivery_state),
          cmocka_unit_test(check_catches_live_count))
