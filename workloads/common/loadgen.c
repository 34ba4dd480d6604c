/* workloads/common/loadgen.c: the open/closed-loop engine (see loadgen.h for the model).
 *
 * Owns: worker threads and their per-user schedules (a binary heap per worker keyed by intended
 * start), per-type counters and histograms (one mutex per type: an uncontended lock per op costs
 * far less than the network round trip it measures), the reporting loop, and CPU accounting of the
 * workers; for event-driven workloads, the per-worker table of users with an op in flight and the
 * heap of idle ones (async_loop). */
#include "workloads/common/loadgen.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "workloads/common/report.h"

#define LG_MAX_TYPES   32
#define LG_MAX_THREADS 1024
#define LG_NAP_NS      20000000LL   /* longest sleep before re-checking for stop */
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

struct lg_user {
	int id;
	int64_t next_ns;
	void *state;
};

/* Event-driven mode: one user's op, stable in memory while in flight (lg_op.lg_priv points here).
 */
struct lg_auser {
	struct lg_op op;
	struct lg_worker *wk;
	int64_t next_ns;
};

struct lg_worker {
	struct lg *lg;
	int index;
	struct lg_auser *ausers; /* event-driven mode: [n_users] */
	int *aheap;              /* indices into ausers of idle users, heap by next_ns */
	int n_aheap, inflight;
	pthread_t tid;
	int started;
	struct rng rng;
	struct lg_user *users; /* heap by next_ns */
	int n_users;
	clockid_t cpu_clock;
	int has_cpu_clock;
	_Atomic int64_t cpu_final_ns; /* set by the worker as it exits, -1 before */
};

struct lg {
	struct lg_config cfg;
	struct lg_workload w;
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
	atomic_int failed; /* event-driven: a worker's context could not be made or poll failed */
	struct hdr scratch;
	int64_t last_report_ns, cpu_last_ns;
	double elapsed_s;
};

int64_t lg_ramp_gap(int64_t gap_ns, int64_t since_ns, int64_t ramp_ns)
{
	if (ramp_ns <= 0 || since_ns >= ramp_ns)
		return gap_ns;
	double f = since_ns <= 0 ? 0.0 : (double)since_ns / (double)ramp_ns;
	if (f < 0.05)
		f = 0.05;
	return (int64_t)((double)gap_ns / f);
}

int64_t lg_latency_us(int64_t intended_ns, int64_t end_ns)
{
	int64_t d = end_ns - intended_ns;
	return d <= 0 ? 0 : (d + 999) / 1000;
}

static int type_init(struct lg_type *ty, const char *name)
{
	memset(ty, 0, sizeof(*ty));
	snprintf(ty->name, sizeof(ty->name), "%s", name);
	if (hdr_init(&ty->ivl) || hdr_init(&ty->total)) {
		hdr_fini(&ty->ivl);
		return -1;
	}
	pthread_mutex_init(&ty->mu, NULL);
	return 0;
}

static void type_fini(struct lg_type *ty)
{
	if (!ty->ivl.counts)
		return;
	hdr_fini(&ty->ivl);
	hdr_fini(&ty->total);
	pthread_mutex_destroy(&ty->mu);
}

static int is_async(const struct lg_workload *w)
{
	return !w->op && w->op_start && w->poll;
}

static const char *check_config(const struct lg_config *c, const struct lg_workload *w)
{
	if (!w || (!w->op && !is_async(w)))
		return "no op callback";
	if (c->users < 1)
		return "users must be at least 1";
	if (c->threads < 0 || c->threads > LG_MAX_THREADS)
		return "threads must be 0..1024";
	if (c->mode == LG_CLOSED && c->users > LG_MAX_THREADS && !is_async(w))
		return "closed loop supports at most 1024 users (one thread each)";
	if (c->mode != LG_OPEN && c->mode != LG_CLOSED)
		return "unknown mode";
	if (c->rate < 0 || c->duration_s < 0 || c->ramp_s < 0 || c->interval_s < 0 ||
	    c->start_spread_s < 0)
		return "rate, duration, ramp, interval and spread must not be negative";
	return NULL;
}

struct lg *lg_new(const struct lg_config *cfg, const struct lg_workload *w, const char **err)
{
	const char *why = check_config(cfg, w);
	if (why) {
		*err = why;
		return NULL;
	}
	*err = "out of memory";
	struct lg *lg = calloc(1, sizeof(*lg));
	if (!lg)
		return NULL;
	lg->cfg = *cfg;
	lg->w = *w;
	if (!lg->cfg.clock_field)
		lg->cfg.clock_field = "host_ns";
	if (!lg->cfg.role)
		lg->cfg.role = "load";
	int t = cfg->threads;
	if (is_async(w))
		t = t ? t : 1;
	else if (cfg->mode == LG_CLOSED)
		t = cfg->users;
	else if (t == 0)
		t = cfg->users < 32 ? cfg->users : 32;
	if (t > cfg->users)
		t = cfg->users;
	lg->n_workers = t;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lg->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&lg->mu, NULL);
	lg->workers = calloc((size_t)t, sizeof(*lg->workers));
	if (!lg->workers || hdr_init(&lg->scratch)) {
		lg_free(lg);
		return NULL;
	}
	for (int i = 0; i < t; i++) {
		struct lg_worker *wk = &lg->workers[i];
		wk->lg = lg;
		wk->index = i;
		wk->cpu_final_ns = -1;
		rng_seed(&wk->rng, cfg->seed * 1000003ULL + (uint64_t)i + 1);
		size_t n = (size_t)(cfg->users / t) + 1;
		wk->users = calloc(n, sizeof(*wk->users));
		if (is_async(w)) {
			wk->ausers = calloc(n, sizeof(*wk->ausers));
			wk->aheap = calloc(n, sizeof(*wk->aheap));
		}
		if (!wk->users || (is_async(w) && (!wk->ausers || !wk->aheap))) {
			lg_free(lg);
			return NULL;
		}
	}
	for (int u = 0; u < cfg->users; u++) {
		struct lg_worker *wk = &lg->workers[u % t];
		wk->users[wk->n_users++].id = u;
	}
	if (type_init(&lg->all, "all")) {
		lg_free(lg);
		return NULL;
	}
	*err = NULL;
	return lg;
}

static struct lg_type *type_at(struct lg *lg, int i)
{
	return i == lg->n_types ? &lg->all : &lg->types[i];
}

int lg_add_type(struct lg *lg, const char *name)
{
	if (lg->running || lg->n_types >= LG_MAX_TYPES || strlen(name) >= sizeof(lg->all.name) ||
	    strcmp(name, "all") == 0)
		return -1;
	if (type_init(&lg->types[lg->n_types], name))
		return -1;
	return lg->n_types++;
}

int lg_type_count(const struct lg *lg)
{
	return lg->n_types;
}

const char *lg_type_name(const struct lg *lg, int type)
{
	if (type == lg->n_types)
		return lg->all.name;
	return type >= 0 && type < lg->n_types ? lg->types[type].name : NULL;
}

static void record(struct lg *lg, int type, int rc, int64_t latency_us)
{
	if (type < 0 || type >= lg->n_types) {
		type = 0; /* the workload did not say what it did: count it as a failed op */
		rc = -1;
	}
	struct lg_type *ty = &lg->types[type];
	pthread_mutex_lock(&ty->mu);
	ty->ivl_ops++;
	if (rc)
		ty->ivl_errors++;
	else
		hdr_record(&ty->ivl, latency_us);
	pthread_mutex_unlock(&ty->mu);
}

static void run_op(struct lg_worker *wk, struct lg_user *u, int64_t intended_ns, int64_t *gap_ns)
{
	struct lg *lg = wk->lg;
	struct lg_op op = { .user = u->id,
		            .intended_ns = intended_ns,
		            .rng = &wk->rng,
		            .state = u->state,
		            .type = -1,
		            .next_gap_ns = -1 };
	int rc = lg->w.op(lg->w.arg, &op);
	int64_t end = now_ns();
	u->state = op.state;
	record(lg, op.type, rc, lg_latency_us(intended_ns, end));
	*gap_ns = op.next_gap_ns;
}

static void heap_down(struct lg_user *h, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && h[l].next_ns < h[m].next_ns)
			m = l;
		if (r < n && h[r].next_ns < h[m].next_ns)
			m = r;
		if (m == i)
			return;
		struct lg_user t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sleep_until(int64_t t_ns)
{
	struct timespec ts = { .tv_sec = t_ns / NS_PER_S, .tv_nsec = t_ns % NS_PER_S };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int64_t default_gap(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	if (lg->cfg.rate <= 0)
		return NS_PER_S; /* ops must give their gaps; one per second if one does not */
	double mean_s = (double)lg->cfg.users / lg->cfg.rate;
	return (int64_t)(rng_exp(&wk->rng, mean_s) * (double)NS_PER_S);
}

static void open_loop(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	double spread = lg->cfg.start_spread_s;
	if (spread <= 0 && lg->cfg.rate > 0)
		spread = (double)lg->cfg.users / lg->cfg.rate;
	for (int i = 0; i < wk->n_users; i++) {
		int64_t off = (int64_t)(rng_uniform(&wk->rng) * spread * (double)NS_PER_S);
		wk->users[i].next_ns = lg->t0_ns + lg_ramp_gap(off, 0, lg->ramp_ns);
	}
	for (int i = wk->n_users / 2; i >= 0; i--)
		heap_down(wk->users, wk->n_users, i);
	while (!atomic_load(&lg->stop)) {
		struct lg_user *u = &wk->users[0];
		if (lg->end_ns && u->next_ns >= lg->end_ns)
			break; /* the earliest due op is past the end: so are all others */
		int64_t now = now_ns();
		if (u->next_ns > now) {
			sleep_until(u->next_ns < now + LG_NAP_NS ? u->next_ns : now + LG_NAP_NS);
			continue;
		}
		int64_t intended = u->next_ns, gap;
		run_op(wk, u, intended, &gap);
		if (gap < 0)
			gap = default_gap(wk);
		u->next_ns = intended + lg_ramp_gap(gap, intended - lg->t0_ns, lg->ramp_ns);
		heap_down(wk->users, wk->n_users, 0);
	}
}

static void closed_loop(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	struct lg_user *u = &wk->users[0];
	int64_t gap;
	while (!atomic_load(&lg->stop)) {
		int64_t start = now_ns();
		if (lg->end_ns && start >= lg->end_ns)
			break;
		run_op(wk, u, start, &gap);
	}
}

/* ---- Event-driven mode ---- */

static int aheap_less(const struct lg_worker *wk, int a, int b)
{
	return wk->ausers[wk->aheap[a]].next_ns < wk->ausers[wk->aheap[b]].next_ns;
}

static void aheap_swap(struct lg_worker *wk, int a, int b)
{
	int t = wk->aheap[a];
	wk->aheap[a] = wk->aheap[b];
	wk->aheap[b] = t;
}

static void aheap_push(struct lg_worker *wk, int idx)
{
	int i = wk->n_aheap++;
	wk->aheap[i] = idx;
	while (i > 0 && aheap_less(wk, i, (i - 1) / 2)) {
		aheap_swap(wk, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static int aheap_pop(struct lg_worker *wk)
{
	int top = wk->aheap[0], n = --wk->n_aheap, i = 0;
	wk->aheap[0] = wk->aheap[n];
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && aheap_less(wk, l, m))
			m = l;
		if (r < n && aheap_less(wk, r, m))
			m = r;
		if (m == i)
			return top;
		aheap_swap(wk, i, m);
		i = m;
	}
}

void lg_op_done(struct lg_op *op, int rc)
{
	struct lg_auser *a = op->lg_priv;
	struct lg_worker *wk = a->wk;
	struct lg *lg = wk->lg;
	int64_t end = now_ns();
	record(lg, op->type, rc, lg_latency_us(op->intended_ns, end));
	wk->inflight--;
	if (lg->cfg.mode == LG_CLOSED) {
		a->next_ns = end;
	} else {
		int64_t gap = op->next_gap_ns < 0 ? default_gap(wk) : op->next_gap_ns;
		a->next_ns =
		    op->intended_ns + lg_ramp_gap(gap, op->intended_ns - lg->t0_ns, lg->ramp_ns);
	}
	aheap_push(wk, (int)(a - wk->ausers));
}

static void async_start(struct lg_worker *wk, void *wctx, int idx, int64_t now)
{
	struct lg *lg = wk->lg;
	struct lg_auser *a = &wk->ausers[idx];
	a->op.intended_ns = lg->cfg.mode == LG_CLOSED ? now : a->next_ns;
	a->op.rng = &wk->rng;
	a->op.type = -1;
	a->op.next_gap_ns = -1;
	wk->inflight++;
	if (lg->w.op_start(lg->w.arg, wctx, &a->op) != 0)
		lg_op_done(&a->op, -1);
}

/* Starts the due ops; 1 when no op will ever be started again (the end is reached). */
static int async_start_due(struct lg_worker *wk, void *wctx, int64_t now)
{
	struct lg *lg = wk->lg;
	if (atomic_load(&lg->stop) ||
	    (lg->cfg.mode == LG_CLOSED && lg->end_ns && now >= lg->end_ns))
		return 1;
	while (wk->n_aheap > 0) {
		int64_t next = wk->ausers[wk->aheap[0]].next_ns;
		if (lg->end_ns && next >= lg->end_ns && lg->cfg.mode == LG_OPEN)
			return wk->inflight == 0; /* past the end; ops in flight may reschedule */
		if (next > now)
			return 0;
		async_start(wk, wctx, aheap_pop(wk), now);
	}
	return 0;
}

static void async_init(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	double spread = lg->cfg.start_spread_s;
	if (spread <= 0 && lg->cfg.rate > 0)
		spread = (double)lg->cfg.users / lg->cfg.rate;
	for (int i = 0; i < wk->n_users; i++) {
		struct lg_auser *a = &wk->ausers[i];
		a->wk = wk;
		a->op.user = wk->users[i].id;
		a->op.lg_priv = a;
		a->next_ns = lg->t0_ns;
		if (lg->cfg.mode == LG_OPEN) {
			int64_t off = (int64_t)(rng_uniform(&wk->rng) * spread * (double)NS_PER_S);
			a->next_ns += lg_ramp_gap(off, 0, lg->ramp_ns);
		}
		aheap_push(wk, i);
	}
}

/* The worker's end: ops still in flight are abandoned, states and context closed here. */
static void async_fini(struct lg_worker *wk, void *wctx)
{
	struct lg *lg = wk->lg;
	for (int i = 0; i < wk->n_users; i++) {
		struct lg_auser *a = &wk->ausers[i];
		if (lg->w.user_close && a->op.state)
			lg->w.user_close(lg->w.arg, a->op.state);
		wk->users[i].next_ns = a->next_ns;
		wk->users[i].state = NULL;
	}
	if (lg->w.worker_close && wctx)
		lg->w.worker_close(lg->w.arg, wctx);
}

static void async_loop(struct lg_worker *wk)
{
	struct lg *lg = wk->lg;
	void *wctx = lg->w.worker_open ? lg->w.worker_open(lg->w.arg, wk->index) : NULL;
	if (lg->w.worker_open && !wctx) {
		atomic_store(&lg->failed, 1);
		lg_stop(lg);
		return;
	}
	async_init(wk);
	int64_t grace = 0; /* once no op starts any more: when to abandon ops in flight */
	for (;;) {
		int64_t now = now_ns();
		if (async_start_due(wk, wctx, now)) {
			if (wk->inflight == 0)
				break;
			if (!grace)
				grace = now + LG_DRAIN_NS;
			if (now >= grace)
				break;
		}
		int64_t until = now + LG_NAP_NS;
		if (!grace && wk->n_aheap > 0 && wk->ausers[wk->aheap[0]].next_ns < until)
			until = wk->ausers[wk->aheap[0]].next_ns;
		if (lg->w.poll(lg->w.arg, wctx, until) != 0) {
			atomic_store(&lg->failed, 1);
			lg_stop(lg);
			break;
		}
	}
	async_fini(wk, wctx);
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void *worker_main(void *arg)
{
	struct lg_worker *wk = arg;
	if (is_async(&wk->lg->w))
		async_loop(wk);
	else if (wk->lg->cfg.mode == LG_CLOSED)
		closed_loop(wk);
	else
		open_loop(wk);
	atomic_store(&wk->cpu_final_ns, thread_cpu_ns());
	atomic_fetch_add(&wk->lg->workers_done, 1);
	return NULL;
}

/* At the end of a timed open-loop run, workers that fell behind still owe ops that were due before
 * the end; they get up to LG_DRAIN_NS to run them (measured from their intended starts as usual)
 * before the run is cut. Returns when all workers have finished, lg_stop() was called, or the
 * grace period is over. */
static void drain(struct lg *lg)
{
	int64_t limit = lg->end_ns + LG_DRAIN_NS;
	while (atomic_load(&lg->workers_done) < lg->n_workers && !atomic_load(&lg->stop) &&
	       now_ns() < limit) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
}

/* Users whose next op was due before the cut but never started: each counts once (a lower bound:
 * a user far behind may owe several). */
static uint64_t count_unsent(struct lg *lg, int64_t cut_ns)
{
	uint64_t n = 0;
	if (lg->cfg.mode != LG_OPEN)
		return 0;
	for (int i = 0; i < lg->n_workers; i++)
		for (int u = 0; u < lg->workers[i].n_users; u++)
			n += lg->workers[i].users[u].next_ns < cut_ns;
	return n;
}

/* CPU time the workers have used so far (ns): live clocks of running workers, final readings of the
 * ones that have finished; the whole process's CPU time when per-thread clocks are unavailable. */
static int64_t workers_cpu_ns(struct lg *lg)
{
	int64_t sum = 0;
	for (int i = 0; i < lg->n_workers; i++) {
		struct lg_worker *wk = &lg->workers[i];
		int64_t fin = atomic_load(&wk->cpu_final_ns);
		struct timespec ts;
		if (fin >= 0)
			sum += fin;
		else if (wk->has_cpu_clock && clock_gettime(wk->cpu_clock, &ts) == 0)
			sum += (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
		else
			goto process;
	}
	return sum;
process:;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_S +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

int lg_start(struct lg *lg)
{
	if (lg->running || lg->n_types == 0)
		return -1;
	lg->t0_ns = now_ns();
	lg->end_ns =
	    lg->cfg.duration_s > 0 ? lg->t0_ns + (int64_t)(lg->cfg.duration_s * NS_PER_S) : 0;
	lg->ramp_ns = lg->cfg.mode == LG_OPEN ? (int64_t)(lg->cfg.ramp_s * NS_PER_S) : 0;
	lg->last_report_ns = lg->t0_ns;
	lg->running = 1;
	lg->cpu_last_ns = workers_cpu_ns(lg);
	for (int i = 0; i < lg->n_workers; i++) {
		struct lg_worker *wk = &lg->workers[i];
		if (pthread_create(&wk->tid, NULL, worker_main, wk)) {
			lg_stop(lg);
			return -1;
		}
		wk->started = 1;
		wk->has_cpu_clock = pthread_getcpuclockid(wk->tid, &wk->cpu_clock) == 0;
	}
	return 0;
}

void lg_stop(struct lg *lg)
{
	pthread_mutex_lock(&lg->mu);
	atomic_store(&lg->stop, 1);
	pthread_cond_broadcast(&lg->cv);
	pthread_mutex_unlock(&lg->mu);
}

static int add_common(json_t *o, const char *op, double t_s, uint64_t ops, uint64_t errors,
                      double secs, const struct hdr *h)
{
	int rc = 0;
	rc |= json_object_set_new(o, "op", json_string(op));
	rc |= json_object_set_new(o, "t_s", json_real(t_s));
	rc |= json_object_set_new(o, "ops", json_integer((json_int_t)ops));
	rc |= json_object_set_new(o, "errors", json_integer((json_int_t)errors));
	rc |= json_object_set_new(o, "ops_per_s", json_real(secs > 0 ? (double)ops / secs : 0.0));
	return rc | hdr_summary_to_json(h, o);
}

/* Moves every type's interval counts into its totals and, when out is set, writes the lines. */
static int emit_interval(struct lg *lg, int64_t now, int write)
{
	double secs = (double)(now - lg->last_report_ns) / NS_PER_S;
	double t_s = (double)(now - lg->t0_ns) / NS_PER_S;
	int64_t cpu = workers_cpu_ns(lg);
	int64_t cpu_us = (cpu - lg->cpu_last_ns) / 1000;
	struct lg_type *all = &lg->all;
	uint64_t all_ops = 0, all_err = 0;
	int rc = 0;
	hdr_reset(&all->ivl);
	for (int i = 0; i <= lg->n_types; i++) {
		struct lg_type *ty = type_at(lg, i);
		uint64_t ops, errors;
		if (ty == all) {
			ops = all_ops;
			errors = all_err;
			hdr_reset(&lg->scratch);
			hdr_merge(&lg->scratch, &all->ivl);
		} else {
			pthread_mutex_lock(&ty->mu);
			ops = ty->ivl_ops;
			errors = ty->ivl_errors;
			hdr_reset(&lg->scratch);
			hdr_merge(&lg->scratch, &ty->ivl);
			hdr_reset(&ty->ivl);
			ty->ivl_ops = ty->ivl_errors = 0;
			pthread_mutex_unlock(&ty->mu);
			all_ops += ops;
			all_err += errors;
			hdr_merge(&all->ivl, &lg->scratch);
		}
		ty->tot_ops += ops;
		ty->tot_errors += errors;
		hdr_merge(&ty->total, &lg->scratch);
		if (!write || !lg->cfg.out)
			continue;
		json_t *o = report_new("interval", lg->cfg.role, lg->cfg.csu, lg->cfg.clock_field);
		/* The interval's histogram too, so that a harness can merge intervals exactly. */
		json_t *h = o ? hdr_to_json(&lg->scratch) : NULL;
		if (!o || !h || json_object_set_new(o, "hist", h) ||
		    add_common(o, ty->name, t_s, ops, errors, secs, &lg->scratch) ||
		    json_object_set_new(o, "interval_s", json_real(secs)) ||
		    json_object_set_new(o, "cpu_us", json_integer(cpu_us)) ||
		    json_object_set_new(o, "cpu_pct",
		                        json_real(secs > 0 ? cpu_us / (secs * 1e4) : 0.0))) {
			json_decref(o);
			rc = -1;
			continue;
		}
		rc |= report_write(lg->cfg.out, o);
	}
	lg->last_report_ns = now;
	lg->cpu_last_ns = cpu;
	return rc;
}

static int emit_summary(struct lg *lg, int64_t now)
{
	int rc = 0;
	double secs = (double)(now - lg->t0_ns) / NS_PER_S;
	int64_t cpu_us = workers_cpu_ns(lg) / 1000;
	for (int i = 0; i <= lg->n_types; i++) {
		struct lg_type *ty = type_at(lg, i);
		json_t *o = report_new("summary", lg->cfg.role, lg->cfg.csu, lg->cfg.clock_field);
		json_t *h = hdr_to_json(&ty->total);
		if (!o || !h ||
		    add_common(o, ty->name, secs, ty->tot_ops, ty->tot_errors, secs, &ty->total) ||
		    json_object_set_new(o, "duration_s", json_real(secs)) ||
		    json_object_set_new(o, "mode",
		                        json_string(lg->cfg.mode == LG_OPEN ? "open" : "closed")) ||
		    json_object_set_new(o, "users", json_integer(lg->cfg.users)) ||
		    json_object_set_new(o, "threads", json_integer(lg->n_workers)) ||
		    json_object_set_new(o, "target_rate", json_real(lg->cfg.rate)) ||
		    json_object_set_new(o, "cpu_us", json_integer(cpu_us)) ||
		    json_object_set_new(o, "hist", h) ||
		    (ty == &lg->all &&
		     json_object_set_new(o, "unsent", json_integer((json_int_t)lg->unsent)))) {
			json_decref(o);
			rc = -1;
			continue;
		}
		rc |= report_write(lg->cfg.out, o);
	}
	return rc;
}

int lg_wait(struct lg *lg)
{
	if (!lg->running || lg->waited)
		return -1;
	int rc = 0;
	int64_t ivl = (int64_t)(lg->cfg.interval_s * NS_PER_S);
	int64_t next = ivl > 0 ? lg->t0_ns + ivl : 0;
	pthread_mutex_lock(&lg->mu);
	while (!atomic_load(&lg->stop)) {
		int64_t deadline = next;
		if (lg->end_ns && (!deadline || lg->end_ns < deadline))
			deadline = lg->end_ns;
		if (!deadline)
			deadline = now_ns() + NS_PER_S;
		struct timespec ts = { .tv_sec = deadline / NS_PER_S,
			               .tv_nsec = deadline % NS_PER_S };
		pthread_cond_timedwait(&lg->cv, &lg->mu, &ts);
		int64_t now = now_ns();
		if (lg->end_ns && now >= lg->end_ns)
			break;
		if (next && now >= next) {
			pthread_mutex_unlock(&lg->mu);
			rc |= emit_interval(lg, now, 1);
			pthread_mutex_lock(&lg->mu);
			next += ivl;
		}
	}
	int timed_out = !atomic_load(&lg->stop);
	pthread_mutex_unlock(&lg->mu);
	if (timed_out && lg->cfg.mode == LG_OPEN)
		drain(lg);
	int64_t cut = now_ns();
	if (lg->end_ns && cut > lg->end_ns)
		cut = lg->end_ns;
	atomic_store(&lg->stop, 1);
	for (int i = 0; i < lg->n_workers; i++) {
		struct lg_worker *wk = &lg->workers[i];
		if (wk->started)
			pthread_join(wk->tid, NULL);
		wk->started = 0;
		for (int u = 0; u < wk->n_users; u++) {
			if (lg->w.user_close && wk->users[u].state)
				lg->w.user_close(lg->w.arg, wk->users[u].state);
			wk->users[u].state = NULL;
		}
	}
	lg->unsent = count_unsent(lg, cut);
	int64_t now = now_ns();
	rc |= emit_interval(lg, now, ivl > 0);
	lg->elapsed_s = (double)(now - lg->t0_ns) / NS_PER_S;
	if (lg->cfg.out)
		rc |= emit_summary(lg, now);
	lg->waited = 1;
	return rc || atomic_load(&lg->failed) ? -1 : 0;
}

int lg_run(struct lg *lg)
{
	if (lg_start(lg)) {
		if (lg->running)
			lg_wait(lg);
		return -1;
	}
	return lg_wait(lg);
}

int lg_totals(const struct lg *lg, int type, struct lg_totals *t)
{
	if (!lg->waited || type < 0 || type > lg->n_types)
		return -1;
	const struct lg_type *ty = type == lg->n_types ? &lg->all : &lg->types[type];
	t->ops = ty->tot_ops;
	t->errors = ty->tot_errors;
	t->elapsed_s = lg->elapsed_s;
	t->ops_per_s = lg->elapsed_s > 0 ? (double)ty->tot_ops / lg->elapsed_s : 0.0;
	t->hist = &ty->total;
	t->unsent = type == lg->n_types ? lg->unsent : 0;
	return 0;
}

void lg_free(struct lg *lg)
{
	if (!lg)
		return;
	if (lg->running && !lg->waited) {
		lg_stop(lg);
		lg_wait(lg);
	}
	for (int i = 0; i < lg->n_types; i++)
		type_fini(&lg->types[i]);
	type_fini(&lg->all);
	if (lg->workers)
		for (int i = 0; i < lg->n_workers; i++) {
			free(lg->workers[i].users);
			free(lg->workers[i].ausers);
			free(lg->workers[i].aheap);
		}
	free(lg->workers);
	hdr_fini(&lg->scratch);
	pthread_mutex_destroy(&lg->mu);
	pthread_cond_destroy(&lg->cv);
	free(lg);
}
