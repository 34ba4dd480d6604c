/* workloads/db/load_main.c: `vcons-db-load`, the db VM's load generator (host program). Terminals
 * run the TPC-C mix against vcons-db through workloads/common's engine: open loop at --rate, open
 * loop with TPC-C keying + think times scaled by --think-scale, or closed loop (--users, no think
 * time). Every response is validated; a wrong answer counts as an error. Optionally records each
 * acknowledged New-Order (w_id d_id o_id per line) so a test can look for them after a crash. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "workloads/common/loadgen.h"
#include "workloads/db/frame.h"
#include "workloads/db/tpcc.h"
#include "lib/net.h"
#include "lib/opt.h"

#define IO_TIMEOUT_S       10
#define ERRORS_SHOWN       10
#define RECONNECT_PAUSE_MS 100

struct gen {
	struct sockaddr_in target;
	struct tpcc_sizes sz;
	double think_scale; /* > 0: TPC-C keying + think times, scaled */
	int types[TX_COUNT];
	pthread_mutex_t mu; /* acked file, error messages */
	FILE *acked;
	int errors_shown;
};

struct user_conn {
	int fd;
};

static int dial(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static json_t *call(int fd, const json_t *req, const char **why)
{
	if (frame_send_json(fd, req, IO_TIMEOUT_S * 1000)) {
		*why = "send failed";
		return NULL;
	}
	return frame_recv_json(fd, why);
}

static void note_error(struct gen *g, const char *what)
{
	pthread_mutex_lock(&g->mu);
	if (g->errors_shown++ < ERRORS_SHOWN)
		fprintf(stderr, "vcons-db-load: error: %s\n", what);
	pthread_mutex_unlock(&g->mu);
}

static void user_close(void *arg, void *state)
{
	(void)arg;
	struct user_conn *c = state;
	close(c->fd);
	free(c);
}

static int db_op(void *arg, struct lg_op *op)
{
	struct gen *g = arg;
	int w = op->user % g->sz.warehouses + 1;
	int d = (op->user / g->sz.warehouses) % TPCC_DISTRICTS + 1;
	enum tpcc_tx tx = tpcc_pick_tx(op->rng);
	op->type = g->types[tx];
	if (g->think_scale > 0) {
		double keying, think;
		tpcc_think_s(tx, &keying, &think);
		op->next_gap_ns =
		    (int64_t)((keying + rng_exp(op->rng, think)) * g->think_scale * 1e9);
	}
	struct tpcc_req q;
	if (tpcc_make_req(&q, tx, op->rng, &g->sz, w, d))
		return -1;
	struct user_conn *c = op->state;
	if (!c) {
		int fd = dial(&g->target);
		if (fd < 0 || !(c = malloc(sizeof(*c)))) {
			if (fd >= 0)
				close(fd);
			note_error(g, "cannot connect to the server");
			json_decref(q.json);
			/* do not spin: an unreachable server costs each user one attempt per
			 * RECONNECT_PAUSE_MS, each counted as an error */
			struct timespec ts = { 0, RECONNECT_PAUSE_MS * 1000000L };
			nanosleep(&ts, NULL);
			return -1;
		}
		c->fd = fd;
		op->state = c;
	}
	const char *why = NULL;
	char msg[256];
	json_t *resp = call(c->fd, q.json, &why);
	int rc = -1;
	if (!resp) {
		snprintf(msg, sizeof(msg), "%s: %s", tpcc_tx_names[tx], why);
		note_error(g, msg);
		user_close(g, c);
		op->state = NULL; /* reconnect on this user's next op */
	} else if (tpcc_validate(&q, resp, &g->sz, msg, sizeof(msg))) {
		note_error(g, msg);
	} else {
		rc = 0;
		if (tx == TX_NEW_ORDER && !q.expect_rollback && g->acked) {
			pthread_mutex_lock(&g->mu);
			fprintf(g->acked, "%d %d %lld\n", w, d,
			        (long long)json_integer_value(json_object_get(resp, "o_id")));
			/* a failure stays in ferror(): checked at the end */
			(void)fflush(g->acked);
			pthread_mutex_unlock(&g->mu);
		}
	}
	json_decref(resp);
	json_decref(q.json);
	return rc;
}

static int fetch_info(struct gen *g)
{
	int fd = dial(&g->target);
	if (fd < 0)
		return -1;
	json_t *req = json_pack("{s:s}", "tx", "info");
	const char *why;
	json_t *resp = call(fd, req, &why);
	int rc = resp ? tpcc_sizes_from_json(&g->sz, resp) : -1;
	json_decref(req);
	json_decref(resp);
	close(fd);
	return rc;
}

static void print_human(struct lg *lg)
{
	printf("%-13s %9s %7s %10s %9s %9s %9s %9s\n", "transaction", "ops", "errors", "ops/s",
	       "p50_us", "p95_us", "p99_us", "max_us");
	for (int i = 0; i <= lg_type_count(lg); i++) {
		struct lg_totals t;
		if (lg_totals(lg, i, &t))
			continue;
		printf("%-13s %9llu %7llu %10.1f %9lld %9lld %9lld %9lld\n", lg_type_name(lg, i),
		       (unsigned long long)t.ops, (unsigned long long)t.errors, t.ops_per_s,
		       (long long)hdr_percentile(t.hist, 50), (long long)hdr_percentile(t.hist, 95),
		       (long long)hdr_percentile(t.hist, 99), (long long)hdr_max(t.hist));
		if (t.unsent)
			printf("unsent: %llu transactions were due but never started (overload)\n",
			       (unsigned long long)t.unsent);
	}
}

struct load_opts {
	const char *target, *acked;
	double rate, think_scale, duration, ramp, interval;
	int port, users, threads, csu;
	long long seed;
	bool json;
};

/* OPT_RUN, or the exit status after --help or a bad command line */
static int parse(int argc, char **argv, struct load_opts *o)
{
	const struct opt opts[] = {
		{ OPT_STRING("target", &o->target), .arg = "A.B.C.D", .help = "server address",
		  .def = "127.0.0.1" },
		{ OPT_INT("port", &o->port, 1, 65535), .help = "server port", .def = "5440" },
		{ OPT_DOUBLE("rate", &o->rate, 0, 1e9), .dmin_open = true, .arg = "R",
		  .help = "open loop: R transactions/s in all (Poisson)" },
		{ OPT_DOUBLE("think-scale", &o->think_scale, 0, 1e6), .dmin_open = true, .arg = "F",
		  .help = "open loop: TPC-C keying + think times x F per terminal" },
		{ OPT_INT("users", &o->users, 1, 100000),
		  .help = "terminals; without --rate or --think-scale: closed loop,\n"
		          "no think time (max throughput)",
		  .def = "10 per warehouse" },
		{ OPT_INT("threads", &o->threads, 1, 1024),
		  .help = "generator worker threads (open loop)", .def = "min(users, 32)" },
		{ OPT_DOUBLE("duration", &o->duration, 0, 1e9), .dmin_open = true, .arg = "S",
		  .help = "run length in seconds", .def = "10" },
		{ OPT_DOUBLE("ramp", &o->ramp, 0, 1e9), .arg = "S",
		  .help = "open-loop ramp-up seconds", .def = "0" },
		{ OPT_DOUBLE("interval", &o->interval, 0, 1e9), .arg = "S",
		  .help = "report period in seconds", .def = "1 with --json" },
		{ OPT_FLAG("json", &o->json),
		  .help = "one JSON object per line: intervals, then summaries" },
		{ OPT_STRING("acked", &o->acked), .arg = "FILE",
		  .help = "append `w_id d_id o_id` of every acknowledged New-Order" },
		{ OPT_INT("csu", &o->csu, 0, 1000000), .help = "CSU number in reports",
		  .def = "0" },
		{ OPT_LLONG("seed", &o->seed, LLONG_MIN, LLONG_MAX), .help = "random seed",
		  .def = "1" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-db-load",
		.footer =
		    "Exit status: 0 when the run completed (errors are counted in the report), 1 "
		    "when\nthe server cannot be reached at the start, 2 for bad options.\n",
		.opts = opts,
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc == OPT_RUN && o->rate > 0 && o->think_scale > 0) {
		fprintf(stderr, "vcons-db-load: --rate and --think-scale exclude each other\n");
		return OPT_USAGE_STATUS;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct load_opts o = {
		.target = "127.0.0.1", .port = 5440, .duration = 10, .interval = -1, .seed = 1
	};
	int rc = parse(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	struct gen g = { .target = { .sin_family = AF_INET }, .think_scale = o.think_scale };
	const char *target = o.target, *acked = o.acked;
	double rate = o.rate, interval = o.interval;
	long port = o.port;
	int json = o.json;
	g.target.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, target, &g.target.sin_addr) != 1) {
		fprintf(stderr, "vcons-db-load: bad value for --target: %s\n", target);
		return 2;
	}
	net_ignore_sigpipe();
	if (fetch_info(&g)) {
		fprintf(stderr, "vcons-db-load: cannot reach vcons-db at %s:%ld\n", target, port);
		return 1;
	}
	if (acked && !(g.acked = fopen(acked, "a"))) {
		fprintf(stderr, "vcons-db-load: cannot open %s: %s\n", acked, strerror(errno));
		return 1;
	}
	pthread_mutex_init(&g.mu, NULL);
	struct lg_config cfg = {
		.role = "db-load",
		.csu = o.csu,
		.mode = rate > 0 || g.think_scale > 0 ? LG_OPEN : LG_CLOSED,
		.rate = rate,
		.users = o.users ? o.users : 10 * g.sz.warehouses,
		.threads = o.threads,
		.duration_s = o.duration,
		.ramp_s = o.ramp,
		.interval_s = interval >= 0 ? interval : (json ? 1.0 : 0.0),
		.start_spread_s = g.think_scale > 0 ? 10.0 * g.think_scale : 0,
		.out = json ? stdout : NULL,
		.seed = (uint64_t)o.seed,
	};
	struct lg_workload wl = { .arg = &g, .op = db_op, .user_close = user_close };
	const char *err;
	struct lg *lg = lg_new(&cfg, &wl, &err);
	if (!lg) {
		fprintf(stderr, "vcons-db-load: %s\n", err);
		return 2;
	}
	for (int i = 0; i < TX_COUNT; i++)
		g.types[i] = lg_add_type(lg, tpcc_tx_names[i]);
	rc = lg_run(lg);
	if (!json)
		print_human(lg);
	lg_free(lg);
	int lost = g.acked && (ferror(g.acked) | fclose(g.acked));
	if (lost)
		fprintf(stderr, "vcons-db-load: cannot write %s: acknowledged orders are missing\n",
		        acked);
	if (rc) {
		fprintf(stderr, "vcons-db-load: could not write the report\n");
		return 1;
	}
	return lost;
}
