/* workloads/common/test/loadgen_test.c: the engine's scheduling arithmetic, coordinated-omission
 * correction (a 1 s server stall must show in the high percentiles of an open-loop run, while a
 * closed loop hides it), closed-loop throughput, stop on command, and the report lines; and the
 * same for event-driven workloads (op_start, completions from the engine's event loop, its timer
 * and its sockets: many users in flight on one thread). */
#include "tools/unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "workloads/common/loadgen.h"
#include "workloads/common/report.h"

static void ramp_stretches_early_gaps(void **state)
{
	int64_t ms = 1000000;
	assert_int_equal(lg_ramp_gap(10 * ms, 0, 0), 10 * ms);                 /* no ramp */
	assert_int_equal(lg_ramp_gap(10 * ms, 2000 * ms, 1000 * ms), 10 * ms); /* after it */
	assert_int_equal(lg_ramp_gap(10 * ms, 500 * ms, 1000 * ms), 20 * ms);  /* half rate */
	assert_int_equal(lg_ramp_gap(10 * ms, 0, 1000 * ms), 200 * ms);        /* floor 5% */
	assert_int_equal(lg_ramp_gap(10 * ms, 250 * ms, 1000 * ms), 40 * ms);
	assert_int_equal(lg_latency_us(1000, 500), 0);
	assert_int_equal(lg_latency_us(0, 1000), 1);
	assert_int_equal(lg_latency_us(0, 1001), 2);
	assert_int_equal(lg_latency_us(5, 5 + 1000000000LL), 1000000);
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };
	nanosleep(&ts, NULL);
}

struct stall_wl {
	atomic_int n;
	int stall_at;       /* op number that takes 1 s */
	int64_t gap_ns;     /* fixed schedule gap, -1 = engine default */
	int64_t service_ns; /* every other op's duration */
	int64_t stall_ns;   /* the stall's length; 0 = 1 s */
};

static int stall_op(void *arg, struct lg_op *op)
{
	struct stall_wl *w = arg;
	int n = atomic_fetch_add(&w->n, 1);
	sleep_ns(n == w->stall_at ? (w->stall_ns ? w->stall_ns : 1000000000LL) : w->service_ns);
	op->type = 0;
	op->next_gap_ns = w->gap_ns;
	return 0;
}

static struct lg *make(struct lg_config *c, struct lg_workload *w)
{
	const char *err = NULL;
	struct lg *lg = lg_new(c, w, &err);
	if (!lg)
		fail_msg("lg_new: %s", err);
	assert_int_equal(lg_add_type(lg, "op"), 0);
	return lg;
}

static void open_loop_shows_a_stall(void **state)
{
	struct stall_wl w = { .stall_at = 20, .gap_ns = 10000000, .service_ns = 0 };
	struct lg_config c = {
		.mode = LG_OPEN, .users = 1, .threads = 1, .duration_s = 2.0, .seed = 1
	};
	struct lg_workload wl = { .arg = &w, .op = stall_op };
	struct lg *lg = make(&c, &wl);
	assert_int_equal(lg_run(lg), 0);
	struct lg_totals t;
	assert_int_equal(lg_totals(lg, 0, &t), 0);
	/* 100 intended ops/s for 2 s, however long the stall: the schedule does not move */
	assert_in_range(t.ops, 180, 201);
	assert_int_equal(t.errors, 0);
	/* ~100 ops were due during the stall, with latencies from 1 s down to 0 */
	assert_true(hdr_max(t.hist) >= 1000000);
	assert_true(hdr_percentile(t.hist, 99) >= 900000);
	assert_true(hdr_percentile(t.hist, 90) >= 600000);
	assert_true(hdr_percentile(t.hist, 25) < 100000);
	struct lg_totals all;
	assert_int_equal(lg_totals(lg, 1, &all), 0);
	assert_int_equal(all.ops, t.ops);
	lg_free(lg);
}

static void closed_loop_hides_the_same_stall(void **state)
{
	struct stall_wl w = { .stall_at = 20, .gap_ns = -1, .service_ns = 1000000 };
	struct lg_config c = { .mode = LG_CLOSED, .users = 1, .duration_s = 2.0, .seed = 1 };
	struct lg_workload wl = { .arg = &w, .op = stall_op };
	struct lg *lg = make(&c, &wl);
	assert_int_equal(lg_run(lg), 0);
	struct lg_totals t;
	assert_int_equal(lg_totals(lg, 0, &t), 0);
	assert_true(hdr_max(t.hist) >= 1000000);
	/* one slow op out of hundreds: service time percentiles do not see it */
	assert_true(t.ops > 200);
	assert_true(hdr_percentile(t.hist, 99) < 100000);
	lg_free(lg);
}

static int quick_op(void *arg, struct lg_op *op)
{
	(void)arg;
	op->type = 0;
	return 0;
}

/* A worker that falls behind near the end: ops due before the end are still run (drained) and
 * measured; when the stall outlasts the 2 s grace, the owed op is reported as unsent. */
static void late_ops_are_drained_or_reported(void **state)
{
	struct stall_wl w = { .stall_at = 40, .gap_ns = 10000000, .service_ns = 0 };
	struct lg_config c = { .mode = LG_OPEN, .users = 1, .threads = 1, .duration_s = 0.5 };
	struct lg_workload wl = { .arg = &w, .op = stall_op };
	struct lg *lg = make(&c, &wl); /* op 40 (t = 0.4 s) takes 1 s: 9 ops owed at the end */
	assert_int_equal(lg_run(lg), 0);
	struct lg_totals t;
	assert_int_equal(lg_totals(lg, 1, &t), 0);
	assert_in_range(t.ops, 48, 51);
	assert_int_equal(t.unsent, 0);
	assert_true(hdr_max(t.hist) >= 1000000);
	lg_free(lg);

	/* op 20 (t = 0.2 s) takes 2.5 s, past the end (0.3 s) plus the 2 s grace */
	struct stall_wl w2 = { .stall_at = 20, .gap_ns = 10000000, .stall_ns = 2500000000LL };
	struct lg_config c2 = { .mode = LG_OPEN, .users = 1, .threads = 1, .duration_s = 0.3 };
	wl.arg = &w2;
	lg = make(&c2, &wl);
	assert_int_equal(lg_run(lg), 0);
	assert_int_equal(lg_totals(lg, 1, &t), 0);
	assert_int_equal(t.ops, 21);
	assert_int_equal(t.unsent, 1);
	lg_free(lg);

	/* an explicit lg_stop() does not wait for the grace period */
	struct lg_config c3 = { .mode = LG_OPEN, .users = 1, .duration_s = 5, .rate = 10 };
	lg = make(&c3, &(struct lg_workload){ .op = quick_op });
	int64_t t0 = now_ns();
	assert_int_equal(lg_start(lg), 0);
	lg_stop(lg);
	assert_int_equal(lg_wait(lg), 0);
	assert_true(now_ns() - t0 < 500000000);
	lg_free(lg);
}

static int sleepy_op(void *arg, struct lg_op *op)
{
	(void)arg;
	sleep_ns(2000000);
	op->type = op->user % 2;
	return op->user == 3 ? -1 : 0; /* one user always fails */
}

static void closed_loop_throughput_and_errors(void **state)
{
	struct lg_config c = { .mode = LG_CLOSED, .users = 4, .duration_s = 1.0 };
	struct lg_workload wl = { .op = sleepy_op };
	const char *err;
	struct lg *lg = lg_new(&c, &wl, &err);
	assert_non_null(lg);
	assert_int_equal(lg_add_type(lg, "even"), 0);
	assert_int_equal(lg_add_type(lg, "odd"), 1);
	assert_int_equal(lg_add_type(lg, "all"), -1);
	assert_int_equal(lg_run(lg), 0);
	struct lg_totals even, odd, all;
	assert_int_equal(lg_totals(lg, 0, &even), 0);
	assert_int_equal(lg_totals(lg, 1, &odd), 0);
	assert_int_equal(lg_totals(lg, 2, &all), 0);
	assert_string_equal(lg_type_name(lg, 2), "all");
	/* 4 users x 1 op per ~2 ms = at most ~2000 ops/s */
	assert_true(all.ops_per_s > 400 && all.ops_per_s < 2100);
	assert_int_equal(all.ops, even.ops + odd.ops);
	assert_int_equal(even.errors, 0);
	assert_true(odd.errors > 0 && odd.errors < odd.ops); /* user 3 fails, user 1 does not */
	assert_int_equal(hdr_count(odd.hist), odd.ops - odd.errors);
	assert_true(hdr_percentile(even.hist, 50) >= 2000);
	lg_free(lg);
}

static void *stopper(void *arg)
{
	sleep_ns(300000000);
	lg_stop(arg);
	return NULL;
}

static void stops_on_command_and_reports(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	struct lg_config c = { .role = "test-load",
		               .csu = 3,
		               .mode = LG_OPEN,
		               .rate = 2000,
		               .users = 50,
		               .threads = 2,
		               .interval_s = 0.1,
		               .ramp_s = 0.1,
		               .out = out };
	struct lg_workload wl = { .op = quick_op };
	struct lg *lg = make(&c, &wl);
	pthread_t t;
	int64_t t0 = now_ns();
	assert_int_equal(lg_start(lg), 0);
	pthread_create(&t, NULL, stopper, lg);
	assert_int_equal(lg_wait(lg), 0);
	pthread_join(t, NULL);
	int64_t took = now_ns() - t0;
	assert_true(took >= 250000000 && took < 2000000000);
	assert_int_equal(fclose(out), 0);
	int intervals = 0, summaries = 0;
	uint64_t ivl_ops = 0, sum_ops = 0;
	char *save;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		assert_non_null(o);
		assert_string_equal(json_string_value(json_object_get(o, "role")), "test-load");
		assert_int_equal(json_integer_value(json_object_get(o, "csu")), 3);
		assert_true(json_integer_value(json_object_get(o, "host_ns")) > 0);
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *op = json_string_value(json_object_get(o, "op"));
		assert_non_null(json_object_get(o, "p99_us"));
		assert_non_null(json_object_get(o, "cpu_us"));
		if (strcmp(type, "interval") == 0) {
			intervals++;
			assert_non_null(json_object_get(o, "cpu_pct"));
			if (strcmp(op, "op") == 0)
				ivl_ops += (uint64_t)json_integer_value(json_object_get(o, "ops"));
		} else {
			assert_string_equal(type, "summary");
			summaries++;
			struct hdr h;
			assert_int_equal(hdr_init(&h), 0);
			assert_int_equal(hdr_from_json(&h, json_object_get(o, "hist")), 0);
			assert_int_equal(hdr_count(&h),
			                 json_integer_value(json_object_get(o, "count")));
			hdr_fini(&h);
			if (strcmp(op, "op") == 0)
				sum_ops = (uint64_t)json_integer_value(json_object_get(o, "ops"));
		}
		json_decref(o);
	}
	free(buf);
	assert_true(intervals >= 4); /* ~3 periods plus the last partial one, x2 (op, all) */
	assert_int_equal(summaries, 2);
	assert_true(sum_ops > 50);
	assert_int_equal(ivl_ops, sum_ops); /* intervals add up to the summary */
	lg_free(lg);
}

static void refuses_bad_config(void **state)
{
	const char *err = NULL;
	struct lg_workload wl = { .op = quick_op };
	struct lg_config c = { .mode = LG_OPEN, .users = 0 };
	assert_null(lg_new(&c, &wl, &err));
	assert_non_null(err);
	c.users = 1;
	c.rate = -1;
	assert_null(lg_new(&c, &wl, &err));
	struct lg_workload none = { 0 };
	c.rate = 1;
	assert_null(lg_new(&c, &none, &err));
	struct lg *lg = lg_new(&c, &wl, &err);
	assert_non_null(lg);
	assert_int_equal(lg_start(lg), -1); /* no op types */
	lg_free(lg);
}

/* An event-driven workload: each op "completes" service_ns after it starts (op number stall_at
 * after stall_ns); the worker's timer (the engine's) is kept at the earliest completion. */
struct async_wl {
	struct stall_wl s;
	int64_t never_user_ns; /* user 0's ops take this long (0: like the others) */
	atomic_int opened, closed, states;
};

struct async_ctx {
	struct lg_loop *loop;
	int n;
	struct {
		struct lg_op *op;
		int64_t due;
	} p[2048];
};

static void *a_open(void *arg, int worker, struct lg_loop *loop)
{
	(void)worker;
	atomic_fetch_add(&((struct async_wl *)arg)->opened, 1);
	struct async_ctx *x = calloc(1, sizeof(struct async_ctx));
	if (x)
		x->loop = loop;
	return x;
}

static void a_close(void *arg, void *wctx)
{
	atomic_fetch_add(&((struct async_wl *)arg)->closed, 1);
	free(wctx);
}

static void a_user_close(void *arg, void *state)
{
	atomic_fetch_sub(&((struct async_wl *)arg)->states, 1);
	free(state);
}

static void a_arm(struct async_ctx *x)
{
	int64_t first = -1;
	for (int i = 0; i < x->n; i++)
		first = first < 0 || x->p[i].due < first ? x->p[i].due : first;
	lg_timer_set(x->loop, first);
}

static int a_start(void *arg, void *wctx, struct lg_op *op)
{
	struct async_wl *w = arg;
	struct async_ctx *x = wctx;
	if (!op->state) {
		op->state = malloc(1);
		atomic_fetch_add(&w->states, 1);
	}
	int n = atomic_fetch_add(&w->s.n, 1);
	int64_t d =
	    n == w->s.stall_at ? (w->s.stall_ns ? w->s.stall_ns : 1000000000LL) : w->s.service_ns;
	if (op->user == 0 && w->never_user_ns)
		d = w->never_user_ns;
	op->type = 0;
	op->next_gap_ns = w->s.gap_ns;
	assert_true(x->n < 2048);
	x->p[x->n].op = op;
	x->p[x->n++].due = now_ns() + d;
	a_arm(x);
	return 0;
}

/* The timer: the ops due by now are done. */
static void a_timer(void *arg, void *wctx)
{
	(void)arg;
	struct async_ctx *x = wctx;
	int64_t now = now_ns();
	for (int i = 0; i < x->n;) {
		if (x->p[i].due > now) {
			i++;
			continue;
		}
		struct lg_op *op = x->p[i].op;
		x->p[i] = x->p[--x->n];
		lg_op_done(op, 0);
	}
	a_arm(x);
}

static struct lg_workload async_workload(struct async_wl *w)
{
	return (struct lg_workload){ .arg = w,
		                     .op_start = a_start,
		                     .timer = a_timer,
		                     .worker_open = a_open,
		                     .worker_close = a_close,
		                     .user_close = a_user_close };
}

static void event_driven_open_loop_shows_a_stall(void **state)
{
	struct async_wl w = { .s = { .stall_at = 20, .gap_ns = 10000000, .service_ns = 0 } };
	struct lg_config c = { .mode = LG_OPEN, .users = 1, .duration_s = 2.0, .seed = 1 };
	struct lg_workload wl = async_workload(&w);
	struct lg *lg = make(&c, &wl);
	assert_int_equal(lg_run(lg), 0);
	struct lg_totals t;
	assert_int_equal(lg_totals(lg, 0, &t), 0);
	assert_in_range(t.ops, 180, 201); /* the schedule does not move */
	assert_true(hdr_max(t.hist) >= 1000000);
	assert_true(hdr_percentile(t.hist, 99) >= 900000);
	assert_true(hdr_percentile(t.hist, 25) < 100000);
	assert_int_equal(w.opened, 1);
	assert_int_equal(w.closed, 1);
	assert_int_equal(w.states, 0);
	lg_free(lg);
}

/* 200 closed-loop users on one thread (a blocking workload would need 200), ops of 2 ms each:
 * about 100000 ops/s; one user's 1 s stall does not hold up the others. */
static void event_driven_closed_loop_many_users_one_thread(void **state)
{
	struct async_wl w = { .s = { .stall_at = 50, .gap_ns = -1, .service_ns = 2000000 } };
	struct lg_config c = { .mode = LG_CLOSED, .users = 200, .duration_s = 0.5, .seed = 1 };
	struct lg_workload wl = async_workload(&w);
	struct lg *lg = make(&c, &wl);
	assert_int_equal(lg_run(lg), 0);
	struct lg_totals t;
	assert_int_equal(lg_totals(lg, 1, &t), 0);
	assert_true(t.ops > 2000); /* ~50000 when idle; one blocking thread could do 250 */
	assert_true(hdr_percentile(t.hist, 50) >= 2000);
	assert_true(hdr_max(t.hist) >= 1000000); /* the stalled op, finished after the end */
	assert_int_equal(w.opened, 1);
	assert_int_equal(w.states, 0);
	lg_free(lg);

	/* 2000 users (beyond the blocking mode's 1024) on two threads */
	struct async_wl w2 = { .s = { .stall_at = -1, .gap_ns = -1, .service_ns = 5000000 } };
	struct lg_config c2 = { .mode = LG_CLOSED, .users = 2000, .threads = 2, .duration_s = 0.3 };
	wl = async_workload(&w2);
	lg = make(&c2, &wl);
	assert_int_equal(lg_run(lg), 0);
	assert_int_equal(lg_totals(lg, 1, &t), 0);
	assert_true(t.ops >= 2000);
	assert_int_equal(w2.opened, 2);
	assert_int_equal(w2.closed, 2);
	assert_int_equal(w2.states, 0);
	lg_free(lg);
}

/* An op that never completes: the run still ends (after the 2 s grace), its state is closed. */
static void event_driven_abandons_ops_in_flight(void **state)
{
	struct async_wl w = { .s = { .stall_at = -1, .gap_ns = -1, .service_ns = 1000000 },
		              .never_user_ns = 3600 * 1000000000LL };
	struct lg_config c = { .mode = LG_CLOSED, .users = 2, .duration_s = 0.2 };
	struct lg_workload wl = async_workload(&w);
	struct lg *lg = make(&c, &wl);
	int64_t t0 = now_ns();
	assert_int_equal(lg_run(lg), 0);
	int64_t took = now_ns() - t0;
	assert_true(took >= 2000000000LL && took < 10000000000LL);
	struct lg_totals t;
	assert_int_equal(lg_totals(lg, 1, &t), 0);
	assert_true(t.ops > 5); /* user 1's (~200 when idle); user 0's one op never finished */
	assert_int_equal(w.states, 0);
	assert_int_equal(w.closed, 1);
	lg_free(lg);
}

/* An event-driven workload on sockets: each user owns a socket pair; an op writes one byte into
 * one end and is done when the engine reports the other end readable (lg_io_watch). Odd users stop
 * watching after each op (a removal and a fresh watch per op); even users keep their watch, and
 * every 10th op of theirs closes and reopens the pair (lg_io_closed: a reused fd number is watched
 * anew). */
struct sock_user {
	int fd[2];
	int ops;
	struct lg_io io;
	struct lg_op *op;
	struct sock_ctx *x;
};

struct sock_ctx {
	struct lg_loop *loop;
	atomic_int *states, *bad;
};

struct sock_wl {
	atomic_int states, bad;
};

static void *s_open(void *arg, int worker, struct lg_loop *loop)
{
	(void)worker;
	struct sock_wl *w = arg;
	struct sock_ctx *x = calloc(1, sizeof(*x));
	if (x)
		*x = (struct sock_ctx){ loop, &w->states, &w->bad };
	return x;
}

static void s_close(void *arg, void *wctx)
{
	(void)arg;
	free(wctx);
}

static void s_user_close(void *arg, void *state)
{
	struct sock_user *u = state;
	atomic_fetch_sub(&((struct sock_wl *)arg)->states, 1);
	close(u->fd[0]);
	close(u->fd[1]);
	free(u);
}

static void s_ready(void *arg, int fd, uint32_t revents)
{
	struct sock_user *u = arg;
	char b;
	if (fd != u->fd[0] || !(revents & EPOLLIN) || !u->op || read(fd, &b, 1) != 1) {
		atomic_fetch_add(u->x->bad, 1);
		return;
	}
	if (u->op->user % 2 && lg_io_watch(u->x->loop, &u->io, 0) != 0)
		atomic_fetch_add(u->x->bad, 1);
	struct lg_op *op = u->op;
	u->op = NULL;
	lg_op_done(op, 0);
}

static int s_pair(struct sock_user *u)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, u->fd) != 0)
		return -1;
	u->io.fd = u->fd[0];
	return 0;
}

static int s_start(void *arg, void *wctx, struct lg_op *op)
{
	struct sock_wl *w = arg;
	struct sock_ctx *x = wctx;
	struct sock_user *u = op->state;
	if (!u) {
		if (!(u = calloc(1, sizeof(*u))) || s_pair(u) != 0)
			return -1;
		op->state = u;
		u->x = x;
		u->io.arg = u;
		u->io.ready = s_ready;
		atomic_fetch_add(&w->states, 1);
	}
	if (op->user % 2 == 0 && ++u->ops % 10 == 0) { /* a new pair, maybe on the same fds */
		close(u->fd[0]);
		close(u->fd[1]);
		lg_io_closed(&u->io);
		if (s_pair(u) != 0)
			return -1;
	}
	op->type = 0;
	u->op = op;
	if (lg_io_watch(x->loop, &u->io, EPOLLIN) != 0 || write(u->fd[1], "x", 1) != 1) {
		u->op = NULL;
		return -1;
	}
	return 0;
}

static void event_driven_sockets(void **state)
{
	struct sock_wl w = { 0 };
	struct lg_config c = { .mode = LG_CLOSED, .users = 50, .threads = 2, .duration_s = 0.3 };
	struct lg_workload wl = { .arg = &w,
		                  .op_start = s_start,
		                  .worker_open = s_open,
		                  .worker_close = s_close,
		                  .user_close = s_user_close };
	struct lg *lg = make(&c, &wl);
	int64_t t0 = now_ns();
	assert_int_equal(lg_run(lg), 0);
	assert_true(now_ns() - t0 < 2000000000LL); /* no op was left hanging for the grace */
	struct lg_totals t;
	assert_int_equal(lg_totals(lg, 1, &t), 0);
	assert_true(t.ops > 1000); /* a round trip through a socket pair: tens of us */
	assert_int_equal(t.errors, 0);
	assert_int_equal(w.bad, 0);
	assert_int_equal(w.states, 0);
	lg_free(lg);
}

UNIT_MAIN(cmocka_unit_test(ramp_stretches_early_gaps), cmocka_unit_test(open_loop_shows_a_stall),
          cmocka_unit_test(closed_loop_hides_the_same_stall),
          cmocka_unit_test(late_ops_are_drained_or_reported),
          cmocka_unit_test(closed_loop_throughput_and_errors),
          cmocka_unit_test(stops_on_command_and_reports), cmocka_unit_test(refuses_bad_config),
          cmocka_unit_test(event_driven_open_loop_shows_a_stall),
          cmocka_unit_test(event_driven_closed_loop_many_users_one_thread),
          cmocka_unit_test(event_driven_abandons_ops_in_flight),
          cmocka_unit_test(event_driven_sockets))
