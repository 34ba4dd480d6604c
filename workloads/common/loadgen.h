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
 * Threads: a small pool of worker threads; each owns a fixed subset of users (user % threads).
 * Why: blocking calls keep each generator's protocol code simple (no state machines), while a pool
 * keeps thread count independent of user count (TPC-C wants many mostly-thinking users). The cost
 * is honest, not hidden: while a worker is busy its other due users wait, and that wait counts in
 * their latency; give at least rate x (expected worst latency) threads to measure the server rather
 * than the pool. Closed loop uses one thread per user. Each interval line reports the workers' own
 * CPU time so a saturated generator is visible.
 *
 * One scheduler, two ways to run an op. Every worker runs the same loop over its users' schedule
 * (sched.h: a heap of idle users by next start, ties first come first served): start every op
 * that is due, then wait until the next one is due. The modes differ only in those two steps. A
 * blocking workload's op runs to completion inside "start" (the user is back in the schedule
 * before the next one starts) and "wait" is a sleep. An event-driven workload's op only begins in
 * "start" and "wait" is the worker's event loop, which the engine owns (one epoll set and one
 * timer per worker) and which runs until the next start is due, delivering the workload's socket
 * events and timer; the workload reports each finished op with lg_op_done, which puts the user
 * back in the schedule. At its end a worker closes its users' states (user_close) on its own
 * thread, in both modes.
 *
 * Reports (cfg.out, one JSON object per line, see report.h): every interval_s, one "interval" line
 * per op type plus one for "all": op, t_s, interval_s, ops, errors, ops_per_s,
 * count/mean_us/min_us/p50_us/ p90_us/p95_us/p99_us/p99_9_us/max_us of successful ops, cpu_us and
 * cpu_pct (generator worker CPU), and the interval's histogram ("hist"). At the end one "summary"
 * line per type and "all" with the totals and the full-run histogram ("hist", hdr.h's JSON,
 * mergeable across generators). Latency histograms hold successful ops only.
 *
 * Event-driven workloads (optional): instead of `op`, a workload gives op_start (and, as it needs,
 * worker_open/worker_close and timer). Each worker then keeps MANY users' ops in flight at once on
 * one thread: the engine starts every due op with op_start, which only begins it (e.g. sends a
 * request on a non-blocking socket, or hands a transfer to a library); the workload watches its
 * sockets with lg_io_watch and sets its timer with lg_timer_set on the worker's loop (given to
 * worker_open); the engine calls their callbacks from its wait; the workload reports each
 * finished op with lg_op_done(op, rc). Scheduling, latency (from the intended start), open/closed
 * loop, ramp and reports are exactly as above; a user has at most one op in flight. Threads:
 * cfg.threads (0: one) whatever the mode, so a closed loop of N users needs no N threads. At the
 * end the worker stops starting ops, runs its loop up to 2 s more for ops in flight, abandons the
 * rest, then closes its users' states and, last, its context (worker_close).
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
	void *lg_priv;   /* the engine's: do not touch */
};

struct lg_loop; /* a worker's event loop (event-driven mode) */

struct lg_workload {
	void *arg;                                  /* passed to every callback */
	int (*op)(void *arg, struct lg_op *op);     /* one op: 0 success, nonzero error */
	void (*user_close)(void *arg, void *state); /* optional: frees a user's state at the end */
	/* Event-driven mode (op == NULL). Begins op (fields as for `op`); 0: started, lg_op_done
	 * follows; nonzero: failed at once (counted as an error, no lg_op_done). */
	int (*op_start)(void *arg, void *wctx, struct lg_op *op);
	/* Optional: the worker's context, made on its thread with its loop; NULL: the run fails. */
	void *(*worker_open)(void *arg, int worker, struct lg_loop *loop);
	void (*worker_close)(void *arg, void *wctx);
	/* Optional: the worker's timer (lg_timer_set) is due. */
	void (*timer)(void *arg, void *wctx);
};

/* Event-driven mode: op (started by op_start) is finished; rc 0 success, nonzero error. Call on the
 * worker's thread (from op_start's callbacks: socket events, the timer); op->type and
 * op->next_gap_ns as for `op`. */
void lg_op_done(struct lg_op *op, int rc);

/* Event-driven mode: a socket the workload watches, in the workload's memory (stable while
 * watched). The engine calls ready(arg, fd, revents) from its wait, on the worker's thread;
 * revents as epoll reports them (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
struct lg_io {
	int fd;
	uint32_t watched; /* the engine's: the events in the worker's epoll set, 0 = not in it */
	void *arg;
	void (*ready)(void *arg, int fd, uint32_t revents);
};
/* Watches io->fd for events (EPOLLIN | EPOLLOUT); 0 removes it from the set. No system call when
 * nothing changes. 0, or -1 with errno. */
int lg_io_watch(struct lg_loop *loop, struct lg_io *io, uint32_t events);
/* io->fd was closed (its only descriptor: the kernel dropped it from the set): forget it. */
void lg_io_closed(struct lg_io *io);
/* Sets the worker's one timer: workload.timer runs once the clock reaches due_ns
 * (CLOCK_MONOTONIC); -1 cancels it. */
void lg_timer_set(struct lg_loop *loop, int64_t due_ns);
/* The clock when the worker's last wait ended (CLOCK_MONOTONIC): "now" for event callbacks,
 * without reading the clock. */
int64_t lg_loop_now(const struct lg_loop *loop);

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
