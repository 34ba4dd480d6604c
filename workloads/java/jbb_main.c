/* workloads/java/jbb_main.c: vcons-jbb, the Java VM's guest program: options, the worker threads
 * (each bound to a warehouse, running the transaction mix and triggering collections), the
 * progress lines every report interval, the stop sources and the final self-check. */
#include "workloads/common/guestio.h"
#include "workloads/common/report.h"
#include "workloads/java/jbb.h"
#include "lib/opt.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

struct jbb_opts {
	struct jbb_cfg cfg;
	int threads, csu;
	double duration_s, interval_s;
	const char *report;
	bool self_check;
};

/* One worker: its warehouse and its counters (read by the reporter). */
struct worker {
	pthread_t t;
	struct jbb_world *w;
	struct guestio_stop *stop;
	int wh;
	uint64_t seed;
	int failed;
	_Alignas(64) atomic_ullong ops[JBB_NOPS];
};

static const char about[] =
    "  SPECjbb2005-style business logic: warehouses of in-memory objects, worker threads\n"
    "  running New-Order, Payment, Order-Status, Delivery, Stock-Level and Customer-Report\n";
static const char footer[] =
    "Stops on a line 'stop' on stdin, on end of stdin when --duration is 0, on\n"
    "SIGTERM/SIGINT, or when --duration has elapsed; then prints a final progress line.\n";

/* OPT_RUN, or the exit status after --help or a bad command line */
static int parse(int argc, char **argv, struct jbb_opts *o)
{
	long long seed = (long long)o->cfg.seed, gc_every = o->cfg.gc_every;
	const struct opt opts[] = {
		{ OPT_INT("warehouses", &o->cfg.warehouses, 1, 1000), .help = "warehouses",
		  .def = "2" },
		{ OPT_INT("threads", &o->threads, 1, 1024),
		  .help = "worker threads, thread i works on warehouse i mod N",
		  .def = "online CPUs" },
		{ GUESTIO_OPT_DURATION(&o->duration_s) },
		{ OPT_DOUBLE("report-interval", &o->interval_s, 0.01, 3600), .arg = "S",
		  .help = "seconds between progress lines", .def = "1" },
		{ GUESTIO_OPT_CSU(&o->csu) },
		{ GUESTIO_OPT_REPORT(&o->report) },
		{ OPT_LLONG("seed", &seed, 0, 1000000000000000LL),
		  .help = "random seed of the data and the transaction streams", .def = "1" },
		{ OPT_LLONG("gc-every", &gc_every, 100, 1000000000000LL),
		  .help = "object allocations between two collections: the heap size's\n"
		          "analogue (smaller collects more often)",
		  .def = "200000" },
		{ OPT_FLAG("self-check", &o->self_check),
		  .help = "after the run verify every invariant, print a self_check line,\n"
		          "exit 1 when one does not hold" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-jbb", .about = about, .footer = footer, .opts = opts
	};
	int rc = opt_parse(&cmd, argc, argv);
	o->cfg.seed = (uint64_t)seed;
	o->cfg.gc_every = gc_every;
	return rc;
}

static void *work(void *arg)
{
	struct worker *k = arg;
	struct rng r;
	rng_seed(&r, k->seed);
	while (!guestio_stopped(k->stop)) {
		enum jbb_op op = jbb_pick_op(&r);
		if (jbb_run_op(k->w, k->wh, op, &r) || jbb_maybe_collect(k->w)) {
			k->failed = 1;
			break;
		}
		atomic_fetch_add_explicit(&k->ops[op], 1, memory_order_relaxed);
	}
	return NULL;
}

static int progress(FILE *out, const struct jbb_opts *o, struct jbb_world *w, struct worker *ks,
                    struct hdr *pauses, bool final)
{
	json_t *l = report_new("progress", "java", o->csu, "guest_ns");
	json_t *by = json_object();
	uint64_t total = 0, count;
	int64_t total_ns;
	for (int op = 0; op < JBB_NOPS; op++) {
		uint64_t n = 0;
		for (int i = 0; i < o->threads; i++)
			n += atomic_load_explicit(&ks[i].ops[op], memory_order_relaxed);
		json_object_set_new(by, jbb_op_name(op), json_integer((json_int_t)n));
		total += n;
	}
	hdr_reset(pauses);
	jbb_take_pauses(w, pauses, &count, &total_ns);
	json_t *p = json_object();
	hdr_summary_to_json(pauses, p);
	json_object_set_new(p, "pauses", json_integer((json_int_t)count));
	json_object_set_new(p, "pause_total_us", json_integer((total_ns + 999) / 1000));
	json_object_set_new(l, "ops", json_integer((json_int_t)total));
	json_object_set_new(l, "ops_by_type", by);
	json_object_set_new(l, "threads", json_integer(o->threads));
	json_object_set_new(l, "warehouses", json_integer(o->cfg.warehouses));
	json_object_set_new(l, "pause", p);
	json_object_set_new(l, "live_objects", json_integer(jbb_live_objects(w)));
	if (final)
		json_object_set_new(l, "final", json_true());
	return report_write(out, l);
}

static int start_line(FILE *out, const struct jbb_opts *o)
{
	json_t *l = report_new("start", "java", o->csu, "guest_ns");
	json_object_set_new(l, "warehouses", json_integer(o->cfg.warehouses));
	json_object_set_new(l, "threads", json_integer(o->threads));
	json_object_set_new(l, "duration_s", json_real(o->duration_s));
	json_object_set_new(l, "report_interval_s", json_real(o->interval_s));
	json_object_set_new(l, "seed", json_integer((json_int_t)o->cfg.seed));
	json_object_set_new(l, "districts", json_integer(o->cfg.districts));
	json_object_set_new(l, "customers_per_district", json_integer(o->cfg.customers));
	json_object_set_new(l, "items", json_integer(o->cfg.items));
	json_object_set_new(l, "live_bound", json_integer(jbb_live_bound(&o->cfg)));
	json_object_set_new(l, "gc_every", json_integer((json_int_t)o->cfg.gc_every));
	return report_write(out, l);
}

static int self_check(FILE *out, const struct jbb_opts *o, struct jbb_world *w)
{
	char err[512];
	long checked = 0;
	int bad = jbb_check(w, err, sizeof(err), &checked);
	json_t *l = report_new("self_check", "java", o->csu, "guest_ns");
	json_object_set_new(l, "ok", json_boolean(bad == 0));
	json_object_set_new(l, "checks", json_integer(checked));
	json_object_set_new(l, "violations", json_integer(bad));
	json_object_set_new(l, "live_objects", json_integer(jbb_live_objects(w)));
	if (bad)
		json_object_set_new(l, "first_violation", json_string(err));
	if (report_write(out, l))
		return 1;
	if (bad)
		fprintf(stderr, "vcons-jbb: self-check failed: %d violations, first: %s\n", bad,
		        err);
	return bad ? 1 : 0;
}

/* Reports every interval until a stop or the duration; then joins the workers. 0 or 1. */
static int drive(FILE *out, const struct jbb_opts *o, struct jbb_world *w, struct worker *ks,
                 struct guestio_stop *stop)
{
	struct hdr pauses;
	if (hdr_init(&pauses))
		return 1;
	int64_t interval = (int64_t)(o->interval_s * 1e9), t0 = now_ns();
	int64_t end = o->duration_s > 0 ? t0 + (int64_t)(o->duration_s * 1e9) : INT64_MAX;
	int rc = 0;
	for (int64_t next = t0 + interval; !rc;) {
		bool stopped = guestio_wait_until(stop, next < end ? next : end);
		if (stopped || now_ns() >= end)
			break;
		rc = progress(out, o, w, ks, &pauses, false);
		next += interval;
	}
	atomic_store(&stop->stop, 1); /* the duration is over: the workers stop too */
	for (int i = 0; i < o->threads; i++) {
		pthread_join(ks[i].t, NULL);
		rc |= ks[i].failed;
	}
	rc |= progress(out, o, w, ks, &pauses, true);
	hdr_fini(&pauses);
	if (rc)
		fprintf(stderr, "vcons-jbb: out of memory or cannot write a report line\n");
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	cpu_set_t set;
	int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	struct jbb_opts o = { .threads = cpus > 0 ? cpus : 1, .interval_s = 1 };
	jbb_cfg_default(&o.cfg);
	int rc = parse(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	char err[256];
	FILE *out = stdout;
	if (o.report && !(out = guestio_connect(o.report, err, sizeof(err)))) {
		fprintf(stderr, "vcons-jbb: %s\n", err);
		return 1;
	}
	struct jbb_world *w = jbb_world_new(&o.cfg);
	struct worker *ks = calloc((size_t)o.threads, sizeof(*ks));
	struct guestio_stop stop;
	/* on the failures below main() returns and the process exits: nothing to free */
	if (!w || !ks) {
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): main() returns, the process exits
		fprintf(stderr, "vcons-jbb: out of memory building %d warehouses\n",
		        o.cfg.warehouses);
		return 1;
	}
	if (guestio_stop_start(&stop, o.duration_s == 0, err, sizeof(err))) {
		fprintf(stderr, "vcons-jbb: %s\n", err);
		// cppcheck-suppress memleak ; main() returns, the process exits
		return 1;
	}
	if (start_line(out, &o)) {
		fprintf(stderr, "vcons-jbb: cannot write a report line\n");
		// cppcheck-suppress memleak ; main() returns, the process exits
		return 1;
	}
	for (int i = 0; i < o.threads; i++) {
		ks[i] = (struct worker){ .w = w,
			                 .stop = &stop,
			                 .wh = i % o.cfg.warehouses,
			                 .seed = o.cfg.seed * 7919 + (uint64_t)i };
		int e = pthread_create(&ks[i].t, NULL, work, &ks[i]);
		if (e) {
			fprintf(stderr, "vcons-jbb: cannot start worker %d: %s\n", i, strerror(e));
			atomic_store(&stop.stop, 1);
			for (int j = 0; j < i; j++)
				pthread_join(ks[j].t, NULL);
			return 1;
		}
	}
	rc = drive(out, &o, w, ks, &stop);
	if (!rc && o.self_check)
		rc = self_check(out, &o, w);
	jbb_world_free(w);
	free(ks);
	if (out != stdout)
		(void)fclose(out);
	return rc;
}
