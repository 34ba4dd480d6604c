/* workloads/db/db_main.c: `vcons-db`, the db VM's guest program: an OLTP server over TCP (default),
 * or `--load` (populate), or `--check` (TPC-C consistency conditions). Static, single process. */
#include <getopt.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "workloads/db/server.h"
#include "workloads/db/tpcc.h"

/* SIGTERM/SIGINT. The handler may run in any thread: it records the signal and, once the server
 * runs, stops it (db_server_stop is async-signal-safe). Atomics (lock-free, so a handler may use
 * them), not volatile sig_atomic_t, which is only for one thread. */
static atomic_int got_signal;
static _Atomic(struct db_server *) running;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&got_signal, 1);
	struct db_server *s = atomic_load(&running);
	if (s)
		db_server_stop(s);
}

/* Guest programs touch no file outside --data. Two libraries would: jansson seeds its hash function
 * from /dev/urandom on first use unless given a seed, and glibc's malloc reads
 * /proc/sys/vm/overcommit_memory when it shrinks a per-thread arena (one arena avoids those). */
static void stay_inside_data(void)
{
	size_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) || seed == 0)
		seed = (size_t)time(NULL) | 1;
	json_object_seed(seed);
	mallopt(M_ARENA_MAX, 1);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vcons-db [options]              serve TPC-C transactions over TCP\n"
	        "       vcons-db --load [--warehouses N] [--scale S] [--data DIR]\n"
	        "       vcons-db --check [--data DIR]\n"
	        "  --addr A.B.C.D     listen address (default 127.0.0.1)\n"
	        "  --port N           TCP port (default 5440)\n"
	        "  --data DIR         directory of vcons-db.sqlite (default .)\n"
	        "  --threads N        worker threads, each with its own SQLite connection\n"
	        "                     (default: the CPUs this process may run on)\n"
	        "  --sync normal|full SQLite synchronous mode in WAL (default normal: commits\n"
	        "                     survive kill -9; full also survives power loss)\n"
	        "  --load             create and populate the database, then exit\n"
	        "  --warehouses N     warehouses to load (default 1)\n"
	        "  --scale S          divide TPC-C cardinalities by S (default %d; 1 = full)\n"
	        "  --check            check integrity and TPC-C conditions 1-6; exit 0 or 1\n"
	        "  --seed N           random seed (default 1)\n"
	        "  --help             this text\n"
	        "Prints `ready` when accepting connections; stops on SIGTERM/SIGINT or the\n"
	        "request {\"tx\":\"shutdown\"}.\n",
	        TPCC_DEFAULT_SCALE);
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int cpu_count(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 2;
	int n = CPU_COUNT(&set);
	return n < 1 ? 1 : n;
}

static int do_check(const char *data)
{
	struct tpcc_db db;
	char failed[512];
	if (tpcc_open(&db, data, TPCC_SYNC_NORMAL, 1)) {
		fprintf(stderr, "vcons-db: %s\n", db.err);
		return 1;
	}
	int rc = tpcc_check(&db, failed, sizeof(failed));
	tpcc_close(&db);
	if (rc) {
		fprintf(stderr, "vcons-db: check failed: %s\n", failed);
		return 1;
	}
	printf("check: ok (integrity, TPC-C consistency conditions 1-6)\n");
	return 0;
}

static int serve(const struct db_server_config *cfg)
{
	struct db_server *s;
	char err[512];
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (db_server_start(&s, cfg, err, sizeof(err))) {
		fprintf(stderr, "vcons-db: %s\n", err);
		return 1;
	}
	printf("ready\n");
	(void)fflush(stdout);
	atomic_store(&running, s);
	if (atomic_load(&got_signal)) /* before running was set */
		db_server_stop(s);
	db_server_wait(s);
	atomic_store(&running, NULL);
	struct db_server_stats st;
	db_server_finish(s, &st);
	printf("{\"type\":\"server_summary\",\"role\":\"db\",\"requests\":%llu,\"errors\":%llu,"
	       "\"rollbacks\":%llu,\"connections\":%llu,\"bad_frames\":%llu}\n",
	       (unsigned long long)st.requests, (unsigned long long)st.errors,
	       (unsigned long long)st.rollbacks, (unsigned long long)st.connections,
	       (unsigned long long)st.bad_frames);
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_ADDR = 256,
		O_PORT,
		O_DATA,
		O_THREADS,
		O_SYNC,
		O_LOAD,
		O_WH,
		O_SCALE,
		O_CHECK,
		O_SEED,
		O_HELP
	};
	static const struct option opts[] = {
		{ "addr", 1, 0, O_ADDR },     { "port", 1, 0, O_PORT },
		{ "data", 1, 0, O_DATA },     { "threads", 1, 0, O_THREADS },
		{ "sync", 1, 0, O_SYNC },     { "load", 0, 0, O_LOAD },
		{ "warehouses", 1, 0, O_WH }, { "scale", 1, 0, O_SCALE },
		{ "check", 0, 0, O_CHECK },   { "seed", 1, 0, O_SEED },
		{ "help", 0, 0, O_HELP },     { 0, 0, 0, 0 }
	};
	stay_inside_data();
	struct db_server_config cfg = { .addr = "127.0.0.1",
		                        .port = 5440,
		                        .data = ".",
		                        .threads = 0,
		                        .sync = TPCC_SYNC_NORMAL,
		                        .seed = 1 };
	int load = 0, check = 0, warehouses = 1, scale = TPCC_DEFAULT_SCALE, seed = 1, o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int bad = 0;
		switch (o) {
		case O_ADDR: cfg.addr = optarg; break;
		case O_PORT: bad = parse_int(optarg, 0, 65535, &cfg.port); break;
		case O_DATA: cfg.data = optarg; break;
		case O_THREADS: bad = parse_int(optarg, 1, 256, &cfg.threads); break;
		case O_SYNC:
			if (strcmp(optarg, "normal") == 0)
				cfg.sync = TPCC_SYNC_NORMAL;
			else if (strcmp(optarg, "full") == 0)
				cfg.sync = TPCC_SYNC_FULL;
			else
				bad = 1;
			break;
		case O_LOAD: load = 1; break;
		case O_WH: bad = parse_int(optarg, 1, 1000, &warehouses); break;
		case O_SCALE: bad = parse_int(optarg, 1, 300, &scale); break;
		case O_CHECK: check = 1; break;
		case O_SEED: bad = parse_int(optarg, 0, 1 << 30, &seed); break;
		case O_HELP: usage(stdout); return 0;
		default:
			fprintf(stderr, "vcons-db: bad option %s (see --help)\n", argv[optind - 1]);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "vcons-db: bad value for --%s: %s\n", opts[o - O_ADDR].name,
			        optarg);
			return 2;
		}
	}
	if (optind < argc || (load && check)) {
		fprintf(stderr, "vcons-db: unexpected argument %s (see --help)\n",
		        optind < argc ? argv[optind] : "--check with --load");
		return 2;
	}
	if (load) {
		char err[512];
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (tpcc_load(cfg.data, warehouses, scale, (uint64_t)seed, err, sizeof(err))) {
			fprintf(stderr, "vcons-db: load: %s\n", err);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("loaded %d warehouse(s) at scale 1/%d in %.2f s\n", warehouses, scale,
		       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
		return 0;
	}
	if (check)
		return do_check(cfg.data);
	if (!cfg.threads)
		cfg.threads = cpu_count();
	cfg.seed = (uint64_t)seed;
	return serve(&cfg);
}
