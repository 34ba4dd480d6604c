/* workloads/web/load_main.c: vcons-web-load, the host load generator of the web VM: options, the
 * engine (workloads/common/loadgen.h) around the user model of client.c, and the QoS report. */
#include "workloads/common/loadgen.h"
#include "workloads/common/report.h"
#include "workloads/web/client.h"
#include "workloads/web/fileset.h"
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct opts {
	struct web_client_cfg client;
	struct lg_config lg;
	int port, tls_port, json;
	double think_s;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vcons-web-load [options]\n"
	    "  Drives vcons-web with browser-like users (libcurl multi, keep-alive, TLS session\n"
	    "  reuse) and validates every answer; reports throughput, latency and SPECweb-style\n"
	    "  QoS (good/tolerable %%).\n"
	    "  --target HOST      server address (default 127.0.0.1)\n"
	    "  --port N --tls-port N  server ports (default 8080, 8443)\n"
	    "  --https            use HTTPS (TLS port); --cacert FILE verifies the server\n"
	    "  --tls12            HTTPS with TLS 1.2 only (default: TLS 1.3)\n"
	    "  --users N          users (closed loop, no think time, unless --rate)\n"
	    "  --rate R           open loop: R pages/s in all (CO-corrected latency)\n"
	    "  --think S          open loop: mean think time per user instead of --rate spacing\n"
	    "  --threads N        worker threads, each an event loop for its share of the\n"
	    "                     users (default: one per CPU, at most --users)\n"
	    "  --duration S       run length (default 10)   --ramp S  open-loop ramp-up\n"
	    "  --interval S       report period (default 1; 0 = none)\n"
	    "  --json             JSON report lines on stdout (else a text summary)\n"
	    "  --files N          the server's --files (default %d)\n"
	    "  --bank-users N     the server's --users (default 10000)\n"
	    "  --user-base N      first bank user of this generator (default 0)\n"
	    "  --session-pages N  mean pages per user session (default 10)\n"
	    "  --page PATH        every op GETs PATH (efficiency runs) instead of the mix\n"
	    "  --timeout-ms N     per request (default 30000)   --seed N   --csu N\n"
	    "  --help             this text\n",
	    FILESET_DEFAULT_FILES);
}

static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *s == 0 || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "target", 1, 0, 'T' },    { "port", 1, 0, 'p' },
		{ "tls-port", 1, 0, 'P' },  { "https", 0, 0, 's' },
		{ "cacert", 1, 0, 'A' },    { "tls12", 0, 0, '2' },
		{ "users", 1, 0, 'u' },     { "rate", 1, 0, 'r' },
		{ "think", 1, 0, 'k' },     { "threads", 1, 0, 't' },
		{ "duration", 1, 0, 'd' },  { "ramp", 1, 0, 'R' },
		{ "interval", 1, 0, 'i' },  { "json", 0, 0, 'j' },
		{ "files", 1, 0, 'f' },     { "bank-users", 1, 0, 'b' },
		{ "user-base", 1, 0, 'B' }, { "session-pages", 1, 0, 'S' },
		{ "page", 1, 0, 'g' },      { "timeout-ms", 1, 0, 'o' },
		{ "seed", 1, 0, 'e' },      { "csu", 1, 0, 'C' },
		{ "help", 0, 0, 'h' },      { 0, 0, 0, 0 }
	};
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
	opterr = 0;
	int c, users = 0;
	double v = 0;
	int li = 0;
	while ((c = getopt_long(argc, argv, "", lo, &li)) != -1) {
		int bad = 0;
		switch (c) {
		case 'T': o->client.host = optarg; break;
		case 's': o->client.https = 1; break;
		case 'A': o->client.cacert = optarg; break;
		case '2': o->client.https = o->client.tls12 = 1; break;
		case 'g': o->client.page = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return 1;
		case 'p':
			bad = num(optarg, 1, 65535, &v);
			o->port = (int)v;
			break;
		case 'P':
			bad = num(optarg, 1, 65535, &v);
			o->tls_port = (int)v;
			break;
		case 'u':
			bad = num(optarg, 1, 100000, &v);
			users = (int)v;
			break;
		case 'r':
			bad = num(optarg, 0.001, 1e7, &v);
			o->lg.rate = v;
			break;
		case 'k':
			bad = num(optarg, 0.001, 3600, &v);
			o->think_s = v;
			break;
		case 't':
			bad = num(optarg, 1, 1024, &v);
			o->lg.threads = (int)v;
			break;
		case 'd':
			bad = num(optarg, 0.1, 1e6, &v);
			o->lg.duration_s = v;
			break;
		case 'R':
			bad = num(optarg, 0, 1e6, &v);
			o->lg.ramp_s = v;
			break;
		case 'i':
			bad = num(optarg, 0, 1e6, &v);
			o->lg.interval_s = v;
			break;
		case 'f':
			bad = num(optarg, 1, 99999, &v);
			o->client.files = (int)v;
			break;
		case 'b':
			bad = num(optarg, 1, 1e7, &v);
			o->client.bank_users = (int)v;
			break;
		case 'B':
			bad = num(optarg, 0, 1e7, &v);
			o->client.user_base = (int)v;
			break;
		case 'S':
			bad = num(optarg, 1, 1e6, &v);
			o->client.session_pages = v;
			break;
		case 'o':
			bad = num(optarg, 1, 1e7, &v);
			o->client.timeout_ms = (long)v;
			break;
		case 'e':
			bad = num(optarg, 0, 1e18, &v);
			o->lg.seed = (uint64_t)v;
			break;
		case 'C':
			bad = num(optarg, 0, 1e6, &v);
			o->lg.csu = (int)v;
			break;
		default:
			fprintf(stderr, "vcons-web-load: bad option '%s' (see --help)\n",
			        argv[optind - 1]);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "vcons-web-load: bad value '%s' for --%s\n", optarg,
			        lo[li].name);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vcons-web-load: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
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
		fprintf(stderr, "vcons-web-load: bad value for --users: more than --bank-users\n");
		return 2;
	}
	o->client.port = o->client.https ? o->tls_port : o->port;
	o->client.users = o->lg.users;
	if (!o->lg.threads) { /* one event loop per CPU: enough to saturate a server, and a fair
		               * share of a busy machine's CPU (the engine caps it at --users) */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o->lg.threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
	}
	return 0;
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

static void *worker_open(void *arg, int worker)
{
	return web_client_worker_open(((struct think_wrap *)arg)->c, worker);
}

static void worker_close(void *arg, void *wctx)
{
	web_client_worker_close(((struct think_wrap *)arg)->c, wctx);
}

static int poll_io(void *arg, void *wctx, int64_t until_ns)
{
	return web_client_poll(((struct think_wrap *)arg)->c, wctx, until_ns);
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
	if (rc)
		return rc == 1 ? 0 : 2;
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
		                 .poll = poll_io,
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
