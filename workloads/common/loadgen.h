/* workloads/common/loadgen.h: the load-generation engine every vcons generator (and the harness)
 * uses.
 *
 * A generator describes its workload as operation types (lg_add_type) and one callback, `op`, that
 * performs ONE operation for one simulated user, synchronously, on the calling worker thread
 * (blocking I/O on a connection the user keeps in op->state), chooses the operation's type, and
 * returns 0 on success or nonzero for an error (a wrong answer is an error). The engine calls it on
 * schedule and measures it.
 *
 * Open loop (LG_OPEN, wrk2-style): every user has its own schedule of intended start times fixed in
 * advance: next = this op's intended start + gap, where gap is what the op asked for
 * (op->next_gap_ns, e.g. TPC-C keying + think time) or, by default, exponential with mean
 * users/rate (so all users together inject `rate` ops/s as a Poisson process). Responses never
 * shift the schedule. Latency is measured from the INTENDED start, not the actual send, so a
 * stalled server (or a saturated generator) shows up in the high percentiles instead of silently
 * lowering the offered load (coordinated omission correction). Ramp-up: during the first ramp_s
 * seconds every gap is stretched so the rate rises linearly from 5% to 100%.
 *
 * Closed loop (LG_CLOSED): `users` users each issue their next op as soon as the previous one
 * completes (no think time): this finds maximum throughput. Latency is the op's own service time.
 *
 * Threads: a small pool of worker threads; each owns a fixed subset of users (user % threads),
 * keeps them in a heap ordered by intended start, sleeps until the earliest is due and runs it.
 * Why: blocking calls keep each generator's protocol code simple (no state machines), while a pool
 * keeps thread count independent of user count (TPC-C wants many mostly-thinking users). The cost
 * is honest, not hidden: while a worker is busy its other due users wait, and that wait counts in
 * their latency; give at least rate x (expected worst latency) threads to measure the server rather
 * than the pool. Closed loop uses one thread per user. Each interval line reports the workers' own
 * CPU time so a saturated generator is visible.
 *
 * Reports (cfg.out, one JSON object per line, see report.h): every interval_s, one "interval" line
 * per op type plus one for "all": op, t_s, interval_s, ops, errors, ops_per_s,
 * count/mean_us/min_us/p50_us/ p90_us/p95_us/p99_us/p99_9_us/max_us of successful ops, cpu_us and
 * cpu_pct (generator worker CPU), and the interval's histogram ("hist"). At the end one "summary"
 * line per type and "all" with the totals and the full-run histogram ("hist", hdr.h's JSON,
 * mergeable across generators). Latency histograms hold successful ops only.
 *
 * Event-driven workloads (optional): instead of `op`, a workload may give op_start/poll (and
 * worker_open/worker_close). Each worker then keeps MANY users' ops in flight at once on one
 * thread: the engine starts every due op with op_start (which only begins it, e.g. adds a transfer
 * to an event loop), then calls poll(until) to run the workload's I/O until `until` or until
 * something completes; the workload reports each finished op with lg_op_done(op, rc) from inside
 * poll. Scheduling, latency (from the intended start), open/closed loop, ramp and reports are
 * exactly as above; a user has at most one op in flight. Threads: cfg.threads (0: one) whatever the
 * mode, so a closed loop of N users needs no N threads. At the end the worker waits up to 2 s for
 * ops in flight (not starting new ones), then closes its users' states (user_close, on the worker
 * thread) and its context (worker_close).
 *
 * No globals: any number of engines may run in one process. lg_stop() may be called from any thread
 * (not from a signal handler). */
#ifndef WORKLOADS_COMMON_LOADGEN_H
#define WORKLOADS_COMMON_LOADGEN_H
#include <stdint.h>
#include <stdio.h>
#include "workloads/common/hdr.h"
#include "workloads/common/rng.h"

enum lg_mode { LG_OPEN, LG_CLOSED };

struct lg_config {
	const char *role;  /* "role" of report lines, e.g. "db-load" */
	int csu;           /* "csu" of report lines */
	enum lg_mode mode; /* LG_OPEN (rate) or LG_CLOSED (users, no think time) */
	double rate;       /* open loop: total ops/s when ops do not set next_gap_ns */
	int users;         /* simulated users, >= 1 */
	int threads;       /* workers; 0: closed = users, open = min(users, 32). Closed: = users.
	                    * Event-driven workloads: threads (0: 1), at most users */
	double duration_s; /* run length including ramp; 0 = until lg_stop() */
	double ramp_s;     /* open loop ramp-up, 0 = none */
	double interval_s; /* interval report period; 0 = none */
	double start_spread_s; /* users' first starts spread uniformly over this; 0 = users/rate */
	FILE *out;             /* report lines; NULL = no output (collect with lg_totals) */
	uint64_t seed;         /* for the per-worker rng (schedules and op->rng) */
	const char *clock_field; /* NULL = "host_ns" */
};

/* One operation, as the engine hands it to the workload's op callback. */
struct lg_op {
	int user;            /* in: 0 .. users-1 */
	int64_t intended_ns; /* in: intended start, CLOCK_MONOTONIC (closed loop: actual start) */
	struct rng *rng;     /* in: the worker's generator, for the op's own choices */
	void *state;         /* in/out: the user's state (a connection...), NULL at first */
	int type;            /* out: the op type performed (lg_add_type id) */
	int64_t
	    next_gap_ns; /* out, open loop: gap to this user's next intended start; -1 = default */
	void *lg_priv;   /* the engine's (event-driven mode): do not touch */
};

struct lg_workload {
	void *arg;                                  /* passed to both callbacks */
	int (*op)(void *arg, struct lg_op *op);     /* one op: 0 success, nonzero error */
	void (*user_close)(void *arg, void *state); /* optional: frees a user's state at the end */
	/* Event-driven mode (op == NULL): per-worker context, NULL on failure (the run fails). */
	void *(*worker_open)(void *arg, int worker);
	void (*worker_close)(void *arg, void *wctx);
	/* Begins op (fields as for `op`); 0: started, lg_op_done follows; nonzero: failed at once.
	 */
	int (*op_start)(void *arg, void *wctx, struct lg_op *op);
	/* Runs I/O until until_ns (CLOCK_MONOTONIC) or earlier after completing ops; 0, -1 fatal.
	 */
	int (*poll)(void *arg, void *wctx, int64_t until_ns);
};

/* Event-driven mode: op (started by op_start) is finished; rc 0 success, nonzero error. Call from
 * poll on the worker's thread; op->type and op->next_gap_ns as for `op`. */
void lg_op_done(struct lg_op *op, int rc);

/* Totals of one op type (or of all: type = lg_type_count()). */
struct lg_totals {
	uint64_t ops, errors;
	double elapsed_s, ops_per_s;
	const struct hdr *hist; /* full-run latency of successful ops, us; valid until lg_free */
	uint64_t unsent;        /* "all" only, open loop: ops due before the end never started */
};

struct lg;

/* NULL with *err set to a one-line reason when the configuration is invalid or memory is short. */
struct lg *lg_new(const struct lg_config *cfg, const struct lg_workload *w, const char **err);
void lg_free(struct lg *lg);
/* Registers an op type before lg_start; returns its id (0, 1, ...) or -1. */
int lg_add_type(struct lg *lg, const char *name);
int lg_type_count(const struct lg *lg);
const char *lg_type_name(const struct lg *lg, int type);

int lg_start(struct lg *lg); /* starts the workers; 0 or -1 */
void lg_stop(struct lg *lg); /* asks the run to end early; any thread */
/* Runs the reporting loop in the caller until duration_s is over or lg_stop(), then stops and joins
 * the workers and writes the summary lines. 0, or -1 when a report line could not be written. */
int lg_wait(struct lg *lg);
int lg_run(struct lg *lg);                                         /* lg_start + lg_wait */
int lg_totals(const struct lg *lg, int type, struct lg_totals *t); /* after lg_wait; 0 or -1 */

/* Scheduling arithmetic, exposed for tests. Stretches a gap that starts `since_ns` after the run's
 * start so the rate ramps linearly from 5% to 100% over ramp_ns. */
int64_t lg_ramp_gap(int64_t gap_ns, int64_t since_ns, int64_t ramp_ns);
/* Latency of an op in us: from intended start (open loop) or actual start (closed) to end, >= 0. */
int64_t lg_latency_us(int64_t intended_ns, int64_t end_ns);

#endif
