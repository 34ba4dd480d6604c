/* workloads/common/loadgen_worker.c: the engine's worker threads (see loadgen.h for the model).
 *
 * Owns: each worker's users and their schedule (sched.h: the users with no op in flight, by next
 * intended start), the one scheduler loop every worker runs (start what is due, wait for what is
 * next, and at the end stop starting and wait out the ops in flight), the two ways to run an op
 * (a blocking call, or op_start and a later lg_op_done), the rescheduling of a finished op (open
 * loop: from its intended start, ramp included; closed: at once), and the event loop of
 * event-driven workloads (one epoll set and one timer per worker, lg_io_watch, lg_timer_set). */
#include "workloads/common/loadgen_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/clock.h"

#define LG_MAX_EVENTS 64

int lg__worker_init(struct lg_worker *wk, struct lg *lg, int index, int n_users)
{
	wk->lg = lg;
	wk->index = index;
	wk->cpu_final_ns = -1;
	wk->loop = (struct lg_loop){ .wk = wk, .epfd = -1, .timer_ns = -1 };
	rng_seed(&wk->rng, lg->cfg.seed * 1000003ULL + (uint64_t)index + 1);
	wk->users = calloc((size_t)n_users + 1, sizeof(*wk->users));
	if (!wk->users || sched_init(&wk->idle, n_users))
		return -1;
	for (int u = index; u < lg->cfg.users; u += lg->n_workers) {
		struct lg_user *us = &wk->users[wk->n_users++];
		us->wk = wk;
		us->op.user = u;
		us->op.lg_priv = us;
	}
	return 0;
}

void lg__worker_fini(struct lg_worker *wk)
{
	free(wk->users);
	sched_fini(&wk->idle);
}

/* Open loop: the gap an op did not choose, exponential with mean users/rate. */
static int64_t default_gap(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	if (lg->cfg.rate <= 0)
		return NS_PER_S; /* ops must give their gaps; one per second if one does not */
	double mean_s = (double)lg->cfg.users / lg->cfg.rate;
	return (int64_t)(rng_exp(&wk->rng, mean_s) * (double)NS_PER_S);
}

/* Every user's first op: open loop, spread uniformly over start_spread_s (default users/rate)
 * and ramped; closed loop, at once. */
static void schedule_first(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	double spread = lg->cfg.start_spread_s;
	if (spread <= 0 && lg->cfg.rate > 0)
		spread = (double)lg->cfg.users / lg->cfg.rate;
	for (int i = 0; i < wk->n_users; i++) {
		struct lg_user *u = &wk->users[i];
		u->next_ns = lg->t0_ns;
		if (lg->cfg.mode == LG_OPEN) {
			int64_t off = (int64_t)(rng_uniform(&wk->rng) * spread * (double)NS_PER_S);
			u->next_ns += lg_ramp_gap(off, 0, lg->ramp_ns);
		}
		sched_push(&wk->idle, i, u->next_ns);
	}
}

void lg_op_done(struct lg_op *op, int rc)
{
	struct lg_user *u = op->lg_priv;
	struct lg_worker *wk = u->wk;
	struct lg *lg = wk->lg;
	int64_t end = now_ns();
	lg__record(lg, op->type, rc, lg_latency_us(op->intended_ns, end));
	wk->inflight--;
	if (lg->cfg.mode == LG_CLOSED) {
		u->next_ns = end;
	} else {
		int64_t gap = op->next_gap_ns < 0 ? default_gap(wk) : op->next_gap_ns;
		u->next_ns =
		    op->intended_ns + lg_ramp_gap(gap, op->intended_ns - lg->t0_ns, lg->ramp_ns);
	}
	sched_push(&wk->idle, (int)(u - wk->users), u->next_ns);
}

/* Starts user u's op; the one place where the modes differ in how an op runs: a blocking op is
 * over (and u rescheduled) on return, an event-driven one finishes later with lg_op_done. */
static void op_begin(struct lg_worker *wk, struct lg_user *u, int64_t now)
{
	struct lg *lg = wk->lg;
	u->op.intended_ns = lg->cfg.mode == LG_CLOSED ? now : u->next_ns;
	u->op.rng = &wk->rng;
	u->op.type = -1;
	u->op.next_gap_ns = -1;
	wk->inflight++;
	if (!lg->event_driven)
		lg_op_done(&u->op, lg->w.op(lg->w.arg, &u->op));
	else if (lg->w.op_start(lg->w.arg, wk->wctx, &u->op) != 0)
		lg_op_done(&u->op, -1);
}

/* Starts the ops that are due; 1 when no op will ever be started again (the end is reached). */
static int start_due(struct lg_worker *wk, int64_t now)
{
	struct lg *lg = wk->lg;
	for (;;) {
		if (atomic_load(&lg->stop) ||
		    (lg->cfg.mode == LG_CLOSED && lg->end_ns && now >= lg->end_ns))
			return 1;
		int64_t next = sched_next(&wk->idle);
		if (next == SCHED_NONE)
			return 0;
		if (lg->cfg.mode == LG_OPEN && lg->end_ns && next >= lg->end_ns)
			return wk->inflight == 0; /* past the end; ops in flight may reschedule */
		if (next > now)
			return 0;
		op_begin(wk, &wk->users[sched_pop(&wk->idle, NULL)], now);
		/* A blocking op took time. Event-driven ops of one batch share one "now", so one
		 * that fails at once (closed loop: due again at once) waits for the next round. */
		if (!lg->event_driven)
			now = now_ns();
	}
}

/* ---- Event-driven mode: the worker's event loop ---- */

int lg_io_watch(struct lg_loop *loop, struct lg_io *io, uint32_t events)
{
	if (io->watched == events)
		return 0;
	if (!events) {
		int rc = epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
		io->watched = 0;
		return rc == 0 || errno == ENOENT ? 0 : -1;
	}
	struct epoll_event ev = { .events = events, .data.ptr = io };
	int op = io->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->epfd, op, io->fd, &ev) != 0) {
		/* the set and io disagree (io->fd was closed, or closed and reused, unannounced) */
		op = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (epoll_ctl(loop->epfd, op, io->fd, &ev) != 0)
			return -1;
	}
	io->watched = events;
	return 0;
}

void lg_io_closed(struct lg_io *io)
{
	io->watched = 0;
}

void lg_timer_set(struct lg_loop *loop, int64_t due_ns)
{
	loop->timer_ns = due_ns < 0 ? -1 : due_ns;
}

int64_t lg_loop_now(const struct lg_loop *loop)
{
	return loop->now_ns;
}

/* Runs the event loop until until_ns at the latest: socket events, then the timer if it is due;
 * 0, or -1 when the wait failed. When the timer is already due and the last round polled, this
 * round does not (a syscall less per batch of new requests, nearly one per op at low load): the
 * timer's work goes first, the next round collects whatever it made ready. */
static int loop_wait(struct lg_worker *wk, int64_t until_ns)
{
	struct lg *lg = wk->lg;
	struct lg_loop *l = &wk->loop;
	struct epoll_event ev[LG_MAX_EVENTS];
	int64_t now = now_ns(), deadline = until_ns;
	if (l->timer_ns >= 0 && l->timer_ns < deadline)
		deadline = l->timer_ns;
	if (deadline <= now && l->timer_ns >= 0 && !l->skipped) {
		l->skipped = 1;
		l->now_ns = now;
	} else {
		l->skipped = 0;
		int64_t d = deadline > now ? deadline - now : 0;
		struct timespec ts = { .tv_sec = d / NS_PER_S, .tv_nsec = d % NS_PER_S };
		int n = epoll_pwait2(l->epfd, ev, LG_MAX_EVENTS, &ts, NULL);
		l->now_ns = now_ns();
		if (n < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n; i++) {
			struct lg_io *io = ev[i].data.ptr;
			io->ready(io->arg, io->fd, ev[i].events);
		}
	}
	if (l->timer_ns >= 0 && l->now_ns >= l->timer_ns) {
		l->timer_ns = -1;
		if (lg->w.timer)
			lg->w.timer(lg->w.arg, wk->wctx);
	}
	return 0;
}

/* Blocking mode: nothing is in flight; sleeps until until_ns. */
static int sleep_until(int64_t until_ns)
{
	struct timespec ts = { .tv_sec = until_ns / NS_PER_S, .tv_nsec = until_ns % NS_PER_S };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	return 0;
}

/* ---- The worker ---- */

/* Event-driven mode: the loop and the workload's context; 0, or -1 (the run fails). */
static int worker_open(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	if (!lg->event_driven)
		return 0;
	wk->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	wk->loop.now_ns = now_ns();
	if (wk->loop.epfd < 0)
		return -1;
	if (lg->w.worker_open && !(wk->wctx = lg->w.worker_open(lg->w.arg, wk->index, &wk->loop)))
		return -1;
	return 0;
}

/* The worker's end: ops still in flight are abandoned; states, context and loop closed here. */
static void worker_close(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	for (int i = 0; i < wk->n_users; i++) {
		struct lg_op *op = &wk->users[i].op;
		if (lg->w.user_close && op->state)
			lg->w.user_close(lg->w.arg, op->state);
		op->state = NULL;
	}
	if (lg->w.worker_close && wk->wctx)
		lg->w.worker_close(lg->w.arg, wk->wctx);
	wk->wctx = NULL;
	if (wk->loop.epfd >= 0)
		close(wk->loop.epfd);
	wk->loop.epfd = -1;
}

/* The scheduler loop, the same for both modes: start what is due, then wait until the next op is
 * due (at most LG_NAP_NS, to notice lg_stop). Once no op will start any more, ops in flight get
 * LG_DRAIN_NS to finish. */
static int run(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	int64_t grace = 0; /* once no op starts any more: when to abandon ops in flight */
	schedule_first(wk);
	for (;;) {
		int64_t now = now_ns();
		if (start_due(wk, now)) {
			if (wk->inflight == 0)
				return 0;
			if (!grace)
				grace = now + LG_DRAIN_NS;
			if (now >= grace)
				return 0;
		}
		int64_t until = now + LG_NAP_NS, next = sched_next(&wk->idle);
		if (!grace && next < until)
			until = next;
		if ((lg->event_driven ? loop_wait(wk, until) : sleep_until(until)) != 0)
			return -1;
	}
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

void *lg__worker_main(void *arg)
{
	struct lg_worker *wk = arg;
	struct lg *lg = wk->lg;
	if (worker_open(wk) != 0 || run(wk) != 0) {
		atomic_store(&lg->failed, 1);
		lg_stop(lg);
	}
	worker_close(wk);
	atomic_store(&wk->cpu_final_ns, thread_cpu_ns());
	atomic_fetch_add(&lg->workers_done, 1);
	return NULL;
}
