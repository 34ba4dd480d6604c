/* workloads/db/load_main.c: `vcons-db-load`, the db VM's load generator (host program). Terminals
 * run the TPC-C mix against vcons-db through workloads/common's engine: open loop at --rate, open
 * loop with TPC-C keying + think times scaled by --think-scale, or closed loop (--users, no think
 * time). Every response is validated; a wrong answer counts as an error. Optionally records each
 * acknowledged New-Order (w_id d_id o_id per line) so a test can look for them after a crash. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "workloads/common/loadgen.h"
#include "workloads/db/frame.h"
#include "workloads/db/tpcc.h"

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

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vcons-db-load [options]\n"
	        "  --target A.B.C.D  server address (default 127.0.0.1)\n"
	        "  --port N          server port (default 5440)\n"
	        "  --rate R          open loop: R transactions/s in all (Poisson)\n"
	        "  --think-scale F   open loop: TPC-C keying + think times x F per terminal\n"
	        "  --users N         terminals (default 10 per warehouse); without --rate or\n"
	        "                    --think-scale: closed loop, no think time (max throughput)\n"
	        "  --threads N       generator worker threads (open loop; default min(users, 32))\n"
	        "  --duration S      run length in seconds (default 10)\n"
	        "  --ramp S          open-loop ramp-up seconds (default 0)\n"
	        "  --interval S      report period in seconds (default 1 with --json)\n"
	        "  --json            one JSON object per line: intervals, then summaries\n"
	        "  --acked FILE      append `w_id d_id o_id` of every acknowledged New-Order\n"
	        "  --csu N           CSU number in reports (default 0)\n"
	        "  --seed N          random seed (default 1)\n"
	        "  --help            this text\n"
	        "Exit status: 0 when the run completed (errors are counted in the report), 1 when\n"
	        "the server cannot be reached at the start, 2 for bad options.\n");
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

int main(int argc, char **argv)
{
	enum {
		O_TARGET = 256,
		O_PORT,
		O_RATE,
		O_THINK,
		O_USERS,
		O_THREADS,
		O_DURATION,
		O_RAMP,
		O_INTERVAL,
		O_JSON,
		O_ACKED,
		O_CSU,
		O_SEED,
		O_HELP
	};
	static const struct option opts[] = { { "target", 1, 0, O_TARGET },
		                              { "port", 1, 0, O_PORT },
		                              { "rate", 1, 0, O_RATE },
		                              { "think-scale", 1, 0, O_THINK },
		                              { "users", 1, 0, O_USERS },
		                              { "threads", 1, 0, O_THREADS },
		                              { "duration", 1, 0, O_DURATION },
		                              { "ramp", 1, 0, O_RAMP },
		                              { "interval", 1, 0, O_INTERVAL },
		                              { "json", 0, 0, O_JSON },
		                              { "acked", 1, 0, O_ACKED },
		                              { "csu", 1, 0, O_CSU },
		                              { "seed", 1, 0, O_SEED },
		                              { "help", 0, 0, O_HELP },
		                              { 0, 0, 0, 0 } };
	struct gen g = { .target = { .sin_family = AF_INET } };
	const char *target = "127.0.0.1", *acked = NULL;
	double rate = 0, duration = 10, ramp = 0, interval = -1;
	long port = 5440, users = 0, threads = 0, csu = 0, seed = 1;
	int json = 0, o;
	opterr = 0;
	/* getopt_long() sets optarg for every option declared with an argument */
	// NOLINTBEGIN(clang-analyzer-core.NonNullParamChecker)
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		switch (o) {
		case O_TARGET: target = optarg; break;
		case O_PORT:
			port = strtol(optarg, &end, 10);
			end = port < 1 || port > 65535 ? NULL : end;
			break;
		case O_RATE:
			rate = strtod(optarg, &end);
			end = rate <= 0 ? NULL : end;
			break;
		case O_THINK:
			g.think_scale = strtod(optarg, &end);
			end = g.think_scale <= 0 ? NULL : end;
			break;
		case O_USERS:
			users = strtol(optarg, &end, 10);
			end = users < 1 || users > 100000 ? NULL : end;
			break;
		case O_THREADS:
			threads = strtol(optarg, &end, 10);
			end = threads < 1 || threads > 1024 ? NULL : end;
			break;
		case O_DURATION:
			duration = strtod(optarg, &end);
			end = duration <= 0 ? NULL : end;
			break;
		case O_RAMP:
			ramp = strtod(optarg, &end);
			end = ramp < 0 ? NULL : end;
			break;
		case O_INTERVAL:
			interval = strtod(optarg, &end);
			end = interval < 0 ? NULL : end;
			break;
		case O_JSON: json = 1; break;
		case O_ACKED: acked = optarg; break;
		case O_CSU:
			csu = strtol(optarg, &end, 10);
			end = csu < 0 ? NULL : end;
			break;
		case O_SEED: seed = strtol(optarg, &end, 10); break;
		case O_HELP: usage(stdout); return 0;
		default:
			fprintf(stderr, "vcons-db-load: bad option %s (see --help)\n",
			        argv[optind - 1]);
			return 2;
		}
		if (optarg && o != O_TARGET && o != O_ACKED && (!end || *end || end == optarg)) {
			fprintf(stderr, "vcons-db-load: bad value for --%s: %s\n",
			        opts[o - O_TARGET].name, optarg);
			return 2;
		}
	}
	// NOLINTEND(clang-analyzer-core.NonNullParamChecker)
	if (optind < argc) {
		fprintf(stderr, "vcons-db-load: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (rate > 0 && g.think_scale > 0) {
		fprintf(stderr, "vcons-db-load: --rate and --think-scale exclude each other\n");
		return 2;
	}
	g.target.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, target, &g.target.sin_addr) != 1) {
		fprintf(stderr, "vcons-db-load: bad value for --target: %s\n", target);
		return 2;
	}
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigaction(SIGPIPE, &sa, NULL);
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
		.csu = (int)csu,
		.mode = rate > 0 || g.think_scale > 0 ? LG_OPEN : LG_CLOSED,
		.rate = rate,
		.users = users ? (int)users : 10 * g.sz.warehouses,
		.threads = (int)threads,
		.duration_s = duration,
		.ramp_s = ramp,
		.interval_s = interval >= 0 ? interval : (json ? 1.0 : 0.0),
		.start_spread_s = g.think_scale > 0 ? 10.0 * g.think_scale : 0,
		.out = json ? stdout : NULL,
		.seed = (uint64_t)seed,
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
	int rc = lg_run(lg);
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
