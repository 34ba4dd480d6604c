/* workloads/java/jbb.h: the business logic of vcons-jbb, a self-driving workload in the style of
 * SPECjbb2005: a world of warehouses of in-memory objects and the six transactions that run on
 * them, a stop-the-world compaction pass ("collection"), and the invariants a run must keep.
 *
 * Contract:
 * - jbb_world_new() builds every warehouse from cfg (reproducible from cfg.seed): items, stock,
 *   districts, customers. Orders (with their order-line arrays) and history records are malloc'ed
 *   per transaction and freed when they leave the bounded live set: a district keeps its newest
 *   cfg.max_orders orders, a warehouse its newest cfg.max_history payments.
 * - jbb_run_op() runs one transaction on one warehouse; any number of threads may call it at once
 *   (a warehouse's mutex inside the world's collection rwlock, read side). All money is integer
 *   cents. 0, or -1 when out of memory (the world is unchanged then).
 * - jbb_collect() is the collection pass: it takes the rwlock's write side (every transaction
 *   waits), evacuates every live order, order-line array and history record into fresh memory,
 *   re-packs the district order arrays and rebuilds each customer's last-order index. Its pause
 *   (from asking for the lock to releasing it) goes into the world's pause histogram.
 *   jbb_maybe_collect() runs it once cfg.gc_every allocations happened since the last one.
 * - jbb_check() verifies every invariant (listed in README.md and at jbb_check in jbb_check.c)
 *   on a quiescent world; it returns the number of violations, the first described in err. */
#ifndef WORKLOADS_JAVA_JBB_H
#define WORKLOADS_JAVA_JBB_H
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "workloads/common/hdr.h"
#include "workloads/common/rng.h"

enum jbb_op {
	JBB_NEW_ORDER,
	JBB_PAYMENT,
	JBB_ORDER_STATUS,
	JBB_DELIVERY,
	JBB_STOCK_LEVEL,
	JBB_CUSTOMER_REPORT,
	JBB_NOPS
};
/* "new_order", "payment", "order_status", "delivery", "stock_level", "customer_report" */
const char *jbb_op_name(enum jbb_op op);

struct jbb_cfg {
	int warehouses;
	int districts;    /* per warehouse (SPECjbb: 10) */
	int customers;    /* per district (3000) */
	int items;        /* per warehouse (20000) */
	int max_orders;   /* live orders kept per district */
	int max_history;  /* live payment records kept per warehouse */
	int64_t gc_every; /* allocations between collections */
	uint64_t seed;
};
void jbb_cfg_default(struct jbb_cfg *c);

#define JBB_MIN_LINES 5
#define JBB_MAX_LINES 15
#define JBB_STOCK_MIN 10
#define JBB_STOCK_MAX 100

struct jbb_item {
	int32_t price; /* cents, 100..10000 */
	char name[20];
};
struct jbb_stock {
	int32_t quantity; /* JBB_STOCK_MIN..JBB_STOCK_MAX */
	int32_t order_cnt;
	int64_t ytd; /* units ordered */
};
struct jbb_customer {
	int64_t balance;     /* cents; starts at -1000 */
	int64_t ytd_payment; /* cents */
	int32_t payment_cnt, delivery_cnt;
	int32_t last_order; /* id of the newest live order, 0 when none is live */
	int32_t discount;   /* basis points */
	char last[16];
};
struct jbb_line {
	int32_t item, qty;
	int64_t amount; /* cents */
};
struct jbb_order {
	int32_t id, d, c;
	int32_t ol_cnt;
	int32_t carrier; /* 0 until delivered */
	int64_t entry_ns, total;
	struct jbb_line *lines; /* ol_cnt, malloc'ed */
};
struct jbb_history {
	int32_t d, c;
	int64_t amount;
};
struct jbb_district {
	int64_t ytd;
	int32_t tax;          /* basis points */
	int32_t next_o_id;    /* id the next order gets; ids start at 1 */
	int32_t next_deliver; /* oldest undelivered order id */
	/* live orders: orders[first .. first+count-1], ids consecutive; cap = 2 * max_orders */
	struct jbb_order **orders;
	int32_t first, count, cap;
	struct jbb_customer *customers;
};
struct jbb_warehouse {
	pthread_mutex_t mu;
	int id;
	int64_t ytd;
	int32_t tax;
	struct jbb_item *items;
	struct jbb_stock *stock;
	struct jbb_district *districts;
	/* live payments: a ring of max_history records, newest at (hfirst + hcount - 1) % cap */
	struct jbb_history **history;
	int32_t hfirst, hcount;
	/* ledgers the invariants are checked against */
	int64_t initial_ytd, initial_balance;
	int64_t payments, delivered; /* cents paid, cents of delivered orders */
	int64_t lines, units;        /* order lines and units ever ordered */
	int64_t orders_trimmed_undelivered;
	uint64_t digest;   /* folds the read-only transactions' results, so they are computed */
	atomic_llong live; /* live malloc'ed objects: orders, line arrays, history records */
};
struct jbb_world {
	struct jbb_cfg cfg;
	struct jbb_warehouse *wh;
	pthread_rwlock_t gc; /* read: a transaction; write: a collection */
	atomic_llong allocs_since_gc;
	atomic_int collecting;
	pthread_mutex_t pause_mu; /* guards the fields below */
	struct hdr pauses;        /* since jbb_take_pauses */
	uint64_t pause_count;     /* cumulative */
	int64_t pause_total_ns;   /* cumulative */
};

struct jbb_world *jbb_world_new(const struct jbb_cfg *cfg); /* NULL when out of memory */
void jbb_world_free(struct jbb_world *w);

enum jbb_op jbb_pick_op(struct rng *r); /* the SPECjbb2005-like mix 10:10:1:1:1:1 */
int jbb_run_op(struct jbb_world *w, int wh, enum jbb_op op, struct rng *r);

int jbb_collect(struct jbb_world *w); /* 0, or -1 when out of memory (world still valid) */
int jbb_maybe_collect(struct jbb_world *w);
/* Moves the pauses recorded since the last call into into (merged), with the cumulative count and
 * total. */
void jbb_take_pauses(struct jbb_world *w, struct hdr *into, uint64_t *count, int64_t *total_ns);
int64_t jbb_live_objects(struct jbb_world *w);
int64_t jbb_live_bound(const struct jbb_cfg *cfg); /* the most live objects a world may hold */

/* Number of invariant violations (0: all hold); the first one described in err. *checked counts
 * the individual checks made. Call on a quiescent world only. */
int jbb_check(struct jbb_world *w, char *err, size_t errlen, long *checked);

#endif
