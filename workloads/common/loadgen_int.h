/* workloads/common/loadgen_int.h: the engine's insides, shared by its two files and by nothing
 * else: loadgen.c (configuration, counters, the reporting loop, the run's end) and
 * loadgen_worker.c (the worker threads: one scheduler loop, the two ways to run an op, the
 * event loop of event-driven workloads). */
#ifndef WORKLOADS_COMMON_LOADGEN_INT_H
#define WORKLOADS_COMMON_LOADGEN_INT_H
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "workloads/common/loadgen.h"
#include "workloads/common/sched.h"

#define LG_MAX_TYPES   32
#define LG_MAX_THREADS 1024
#define LG_NAP_NS      20000000LL   /* longest wait before re-checking for stop */
#define LG_DRAIN_NS    2000000000LL /* grace for late ops due before the end */
#define NS_PER_S       1000000000LL

struct lg_type {
	char name[48];
	pthread_mutex_t mu;
	uint64_t ivl_ops, ivl_errors; /* since the last interval line, under mu */
	struct hdr ivl;               /* under mu */
	uint64_t tot_ops, tot_errors; /* reporter only */
	struct hdr total;             /* reporter only */
};

/* One simulated user: its op (op.user and op.state persist from op to op; op.lg_priv points
 * back here) and when its next op is due (while one is in flight: that op's due time). */
struct lg_user {
	struct lg_op op;
	struct lg_worker *wk;
	int64_t next_ns;
};

/* Event-driven mode: the worker's event loop (loadgen.h's struct lg_loop). */
struct lg_loop {
	struct lg_worker *wk;
	int epfd;
	int64_t timer_ns; /* the workload's timer, -1: none */
	int64_t now_ns;   /* when the last wait ended */
	int skipped;      /* the last wait did not poll (the timer was due) */
};

struct lg_worker {
	struct lg *lg;
	int index;
	pthread_t tid;
	int started;
	struct rng rng;
	struct lg_user *users; /* [n_users]: the users u with u % threads == index */
	int n_users;
	struct sched idle; /* users with no op in flight, by next_ns */
	int inflight;
	struct lg_loop loop; /* event-driven mode */
	void *wctx;          /* event-driven mode: the workload's worker context */
	clockid_t cpu_clock;
	int has_cpu_clock;
	_Atomic int64_t cpu_final_ns; /* set by the worker as it exits, -1 before */
};

struct lg {
	struct lg_config cfg;
	struct lg_workload w;
	int event_driven; /* w.op == NULL: op_start and the worker's event loop */
	struct lg_type types[LG_MAX_TYPES];
	struct lg_type all; /* the aggregate of all types (reporter only) */
	int n_types;
	struct lg_worker *workers;
	int n_workers;
	int64_t t0_ns, end_ns, ramp_ns;
	atomic_int stop;
	atomic_int workers_done;
	uint64_t unsent; /* open loop: ops due before the end that were never started */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, waited;
	atomic_int failed; /* a worker's loop or context could not be made, or its wait failed */
	struct hdr scratch;
	int64_t last_report_ns, cpu_last_ns;
	double elapsed_s;
};

/* loadgen_worker.c */
int lg__worker_init(struct lg_worker *wk, struct lg *lg, int index, int n_users);
void lg__worker_fini(struct lg_worker *wk);
void *lg__worker_main(void *arg); /* the thread */

/* loadgen.c: counts one finished op of `type` (an unknown type counts as an error of type 0). */
void lg__record(struct lg *lg, int type, int rc, int64_t latency_us);

#endif
