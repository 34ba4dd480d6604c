/* workloads/web/load_main.c: vcons-web-load, the host load generator of the web VM: options, the
 * engine (workloads/common/loadgen.h) around the user model of client.c, and the QoS report. */
#include "workloads/common/loadgen.h"
#include "workloads/common/report.h"
#include "workloads/web/client.h"
#include "workloads/web/fileset.h"
#include "lib/opt.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct opts {
	struct web_client_cfg client;
	struct lg_config lg;
	int port, tls_port;
	bool json;
	double think_s;
};

static int parse(int argc, char **argv, struct opts *o)
{
	o->client = (struct web_client_cfg){ .host = "127.0.0.1",
		                             .files = FILESET_DEFAULT_FILES,
		                             .bank_users = 10000,
		                             .session_pages = 10,
		                             .timeout_ms = 30000 };
	o->lg = (struct lg_config){ .role = "web-load",
		                    .mode = LG_CLOSED,
		                    .users = 0,
		                    .duration_s = 10,
		                    .interval_s = 1,
		                    .seed = 1 };
	o->port = 8080;
	o->tls_port = 8443;
	int users = 0, timeout_ms = 30000;
	long long seed = 1;
	bool https = false, tls12 = false, http2 = false;
	char files_def[16];
	snprintf(files_def, sizeof(files_def), "%d", FILESET_DEFAULT_FILES);
	const struct opt opts[] = {
		{ OPT_STRING("target", &o->client.host), .arg = "HOST", .help = "server address",
		  .def = "127.0.0.1" },
		{ OPT_INT("port", &o->port, 1, 65535), .help = "server HTTP port", .def = "8080" },
		{ OPT_INT("tls-port", &o->tls_port, 1, 65535), .help = "server HTTPS port",
		  .def = "8443" },
		{ OPT_FLAG("https", &https), .help = "use HTTPS (TLS port)" },
		{ OPT_STRING("cacert", &o->client.cacert), .arg = "FILE",
		  .help = "with --https: verify the server against FILE" },
		{ OPT_FLAG("tls12", &tls12), .help = "HTTPS with TLS 1.2 only (default: TLS 1.3)" },
		{ OPT_FLAG("http2", &http2),
		  .help = "HTTP/2 as browsers speak it (h2c with prior knowledge, or h2\n"
		          "by ALPN with --https): one connection per user session, a\n"
		          "page's images requested at once on it (default: HTTP/1.1,\n"
		          "images two at a time)" },
		{ OPT_INT("users", &users, 1, 100000),
		  .help = "users (closed loop, no think time, unless --rate)" },
		{ OPT_DOUBLE("rate", &o->lg.rate, 0.001, 1e7), .arg = "R",
		  .help = "open loop: R pages/s in all (CO-corrected latency)" },
		{ OPT_DOUBLE("think", &o->think_s, 0.001, 3600), .arg = "S",
		  .help = "open loop: mean think time per user instead of --rate spacing" },
		{ OPT_INT("threads", &o->lg.threads, 1, 1024),
		  .help = "worker threads, each an event loop for its share of the\n"
		          "users",
		  .def = "one per CPU, at most --users" },
		{ OPT_DOUBLE("duration", &o->lg.duration_s, 0.1, 1e6), .arg = "S",
		  .help = "run length", .def = "10" },
		{ OPT_DOUBLE("ramp", &o->lg.ramp_s, 0, 1e6), .arg = "S",
		  .help = "open-loop ramp-up" },
		{ OPT_DOUBLE("interval", &o->lg.interval_s, 0, 1e6), .arg = "S",
		  .help = "report period (0 = none)", .def = "1" },
		{ OPT_FLAG("json", &o->json),
		  .help = "JSON report lines on stdout (else a text summary)" },
		{ OPT_INT("files", &o->client.files, 1, 99999), .help = "the server's --files",
		  .def = files_def },
		{ OPT_INT("bank-users", &o->client.bank_users, 1, 10000000),
		  .help = "the server's --users", .def = "10000" },
		{ OPT_INT("user-base", &o->client.user_base, 0, 10000000),
		  .help = "first bank user of this generator", .def = "0" },
		{ OPT_DOUBLE("session-pages", &o->client.session_pages, 1, 1e6),
		  .help = "mean pages per user session", .def = "10" },
		{ OPT_STRING("page", &o->client.page), .arg = "PATH",
		  .help = "every op GETs PATH (efficiency runs) instead of the mix" },
		{ OPT_INT("timeout-ms", &timeout_ms, 1, 10000000), .help = "per request",
		  .def = "30000" },
		{ OPT_LLONG("seed", &seed, 0, 1000000000000000000LL), .help = "random seed",
		  .def = "1" },
		{ OPT_INT("csu", &o->lg.csu, 0, 1000000), .help = "CSU number", .def = "0" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-web-load",
		.about =
		    "  Drives vcons-web with browser-like users (libcurl multi, keep-alive, TLS "
		    "session\n  reuse) and validates every answer; reports throughput, latency "
		    "and SPECweb-style\n  QoS (good/tolerable %).\n",
		.opts = opts,
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	o->client.https = https || tls12;
	o->client.tls12 = tls12;
	o->client.http2 = http2;
	o->client.timeout_ms = timeout_ms;
	o->lg.seed = (uint64_t)seed;
	if (o->lg.rate > 0 || o->think_s > 0) {
		o->lg.mode = LG_OPEN;
		o->lg.users = users ? users : 10;
		if (o->lg.rate <=
		    0) /* think time sets each user's pace; rate only spreads starts */
			o->lg.rate = o->lg.users / o->think_s;
	} else {
		o->lg.users = users ? users : 4;
	}
	if (o->lg.users > o->client.bank_users) {
		fprintf(stderr, "vcons-web-load: --users: more than --bank-users: %d\n",
		        o->lg.users);
		return OPT_USAGE_STATUS;
	}
	o->client.port = o->client.https ? o->tls_port : o->port;
	o->client.users = o->lg.users;
	if (!o->lg.threads) { /* one event loop per CPU: enough to saturate a server, and a fair
		               * share of a busy machine's CPU (the engine caps it at --users) */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o->lg.threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
	}
	return OPT_RUN;
}

struct think_wrap {
	struct web_client *c;
	double think_s;
};

static int op_with_think(void *arg, void *wctx, struct lg_op *op)
{
	struct think_wrap *w = arg;
	int rc = web_client_op_start(w->c, wctx, op);
	if (w->think_s > 0)
		op->next_gap_ns = (int64_t)(rng_exp(op->rng, w->think_s) * 1e9);
	return rc;
}

static void user_close(void *arg, void *state)
{
	web_client_user_close(((struct think_wrap *)arg)->c, state);
}

static void *worker_open(void *arg, int worker, struct lg_loop *loop)
{
	return web_client_worker_open(((struct think_wrap *)arg)->c, worker, loop);
}

static void worker_close(void *arg, void *wctx)
{
	web_client_worker_close(((struct think_wrap *)arg)->c, wctx);
}

static void timer(void *arg, void *wctx)
{
	web_client_timer(((struct think_wrap *)arg)->c, wctx);
}

static double process_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int qos_line(const struct opts *o, struct web_client *c, const char *name,
                    const struct web_qos *q, const struct lg_totals *t)
{
	double good = q->pages ? 100.0 * q->good / q->pages : 0;
	double tol = q->pages ? 100.0 * q->tolerable / q->pages : 0;
	if (!o->json) {
		printf("%-9s pages %8llu  errors %6llu  %9.1f/s  good %6.2f%%  tolerable %6.2f%%  "
		       "p99 %lld us\n",
		       name, (unsigned long long)q->pages, (unsigned long long)q->failed,
		       t ? t->ops_per_s : 0.0, good, tol,
		       t && t->hist ? (long long)hdr_percentile(t->hist, 99) : 0LL);
		return 0;
	}
	json_t *l = report_new("qos", "web-load", o->lg.csu, "host_ns");
	if (!l)
		return -1;
	json_object_set_new(l, "page", json_string(name));
	json_object_set_new(l, "pages", json_integer((json_int_t)q->pages));
	json_object_set_new(l, "errors", json_integer((json_int_t)q->failed));
	json_object_set_new(l, "good_pct", json_real(good));
	json_object_set_new(l, "tolerable_pct", json_real(tol));
	json_object_set_new(l, "validated_bytes", json_integer((json_int_t)q->bytes));
	(void)c;
	return report_write(stdout, l);
}

static int report(const struct opts *o, struct web_client *c, struct lg *lg, double cpu_s)
{
	struct web_qos all = { 0 };
	int rc = 0;
	for (int t = 0; t < web_client_types(c); t++) {
		struct web_qos q;
		struct lg_totals tt;
		web_client_qos(c, t, &q);
		all.pages += q.pages;
		all.good += q.good;
		all.tolerable += q.tolerable;
		all.failed += q.failed;
		all.bytes += q.bytes;
		rc |= qos_line(o, c, web_client_type_name(c, t), &q,
		               lg_totals(lg, t, &tt) == 0 ? &tt : NULL);
	}
	struct lg_totals tot;
	int have = lg_totals(lg, lg_type_count(lg), &tot) == 0;
	rc |= qos_line(o, c, "all", &all, have ? &tot : NULL);
	double ops = have ? (double)tot.ops : 0;
	const char *err = web_client_first_error(c);
	if (!o->json) {
		printf("requests/page-ops %.0f in %.2f s, process CPU %.3f s (%.0f ops per "
		       "CPU-s)%s%s\n",
		       ops, have ? tot.elapsed_s : 0, cpu_s, cpu_s > 0 ? ops / cpu_s : 0,
		       *err ? ", first error: " : "", err);
		return rc;
	}
	json_t *l = report_new("result", "web-load", o->lg.csu, "host_ns");
	if (!l)
		return -1;
	json_object_set_new(l, "ops", json_integer((json_int_t)ops));
	json_object_set_new(l, "errors", json_integer((json_int_t)(have ? tot.errors : 0)));
	json_object_set_new(l, "ops_per_s", json_real(have ? tot.ops_per_s : 0));
	json_object_set_new(l, "process_cpu_s", json_real(cpu_s));
	json_object_set_new(l, "ops_per_cpu_s", json_real(cpu_s > 0 ? ops / cpu_s : 0));
	json_object_set_new(l, "first_error", json_string(err));
	return rc | report_write(stdout, l);
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	if (curl_global_init(CURL_GLOBAL_ALL) != 0) {
		fprintf(stderr, "vcons-web-load: cannot initialise libcurl\n");
		return 1;
	}
	const char *err = NULL;
	struct web_client *c = web_client_new(&o.client, &err);
	if (!c) {
		fprintf(stderr, "vcons-web-load: %s\n", err);
		return 1;
	}
	struct think_wrap tw = { c, o.think_s };
	struct lg_workload w = { .arg = &tw,
		                 .op_start = op_with_think,
		                 .timer = timer,
		                 .worker_open = worker_open,
		                 .worker_close = worker_close,
		                 .user_close = user_close };
	o.lg.out = o.json ? stdout : NULL;
	struct lg *lg = lg_new(&o.lg, &w, &err);
	if (!lg || web_client_add_types(c, lg) != 0) {
		fprintf(stderr, "vcons-web-load: %s\n", lg ? "cannot register op types" : err);
		web_client_free(c);
		return 1;
	}
	double cpu0 = process_cpu_s();
	rc = lg_run(lg);
	double cpu_s = process_cpu_s() - cpu0;
	if (rc == 0)
		rc = report(&o, c, lg, cpu_s);
	else
		fprintf(stderr, "vcons-web-load: the load run failed\n");
	lg_free(lg);
	web_client_free(c);
	curl_global_cleanup();
	return rc ? 1 : 0;
}
