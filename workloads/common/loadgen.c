/* workloads/common/loadgen.c: the open/closed-loop engine (see loadgen.h for the model): its
 * configuration, the per-type counters and histograms (one mutex per type: an uncontended lock
 * per op costs far less than the network round trip it measures), the reporting loop and CPU
 * accounting of the workers, and the run's end (the drain of late ops, unsent ops, summaries).
 * The worker threads, their schedules and the event loop are loadgen_worker.c's. */
#include "workloads/common/loadgen_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "workloads/common/report.h"

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

static const char *check_config(const struct lg_config *c, const struct lg_workload *w)
{
	if (!w || (!w->op && !w->op_start))
		return "no op callback";
	if (c->users < 1)
		return "users must be at least 1";
	if (c->threads < 0 || c->threads > LG_MAX_THREADS)
		return "threads must be 0..1024";
	if (c->mode == LG_CLOSED && c->users > LG_MAX_THREADS && w->op)
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
	lg->event_driven = !w->op;
	if (!lg->cfg.clock_field)
		lg->cfg.clock_field = "host_ns";
	if (!lg->cfg.role)
		lg->cfg.role = "load";
	int t = cfg->threads;
	if (lg->event_driven)
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
	for (int i = 0; i < t; i++)
		if (lg__worker_init(&lg->workers[i], lg, i, cfg->users / t + 1)) {
			lg_free(lg);
			return NULL;
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

void lg__record(struct lg *lg, int type, int rc, int64_t latency_us)
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
			n += lg->workers[i].users[u].next_ns < cut_ns; /* in flight: its due time */
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
		if (pthread_create(&wk->tid, NULL, lg__worker_main, wk)) {
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
			pthread_join(wk->tid, NULL); /* it has closed its users' states */
		wk->started = 0;
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
		for (int i = 0; i < lg->n_workers; i++)
			lg__worker_fini(&lg->workers[i]);
	free(lg->workers);
	hdr_fini(&lg->scratch);
	pthread_mutex_destroy(&lg->mu);
	pthread_cond_destroy(&lg->cv);
	free(lg);
}
