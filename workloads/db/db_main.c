/* workloads/db/db_main.c: `vcons-db`, the db VM's guest program: an OLTP server over TCP (default),
 * or `--load` (populate), or `--check` (TPC-C consistency conditions). Static, single process. */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "workloads/db/server.h"
#include "workloads/db/tpcc.h"
#include "lib/net.h"
#include "lib/opt.h"
#include "lib/stop.h"

/* lib/stop.h's hook: SIGTERM/SIGINT stop the server (db_server_stop is async-signal-safe). */
static void stop_server(void *arg)
{
	db_server_stop(arg);
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
	net_ignore_sigpipe();
	if (stop_install()) {
		fprintf(stderr, "vcons-db: cannot install the signal handlers: %s\n",
		        strerror(errno));
		return 1;
	}
	if (db_server_start(&s, cfg, err, sizeof(err))) {
		fprintf(stderr, "vcons-db: %s\n", err);
		return 1;
	}
	printf("ready\n");
	(void)fflush(stdout);
	stop_on_request(stop_server, s); /* runs at once after an earlier signal */
	db_server_wait(s);
	stop_on_request(NULL, NULL);
	struct db_server_stats st;
	db_server_finish(s, &st);
	printf("{\"type\":\"server_summary\",\"role\":\"db\",\"requests\":%llu,\"errors\":%llu,"
	       "\"rollbacks\":%llu,\"connections\":%llu,\"bad_frames\":%llu}\n",
	       (unsigned long long)st.requests, (unsigned long long)st.errors,
	       (unsigned long long)st.rollbacks, (unsigned long long)st.connections,
	       (unsigned long long)st.bad_frames);
	return 0;
}

static const char *const syncs[] = { "normal", "full", NULL }; /* enum tpcc_sync's order */

struct db_opts {
	struct db_server_config cfg;
	bool load, check;
	int warehouses, scale, seed, sync;
};

/* OPT_RUN, or the exit status after --help or a bad command line */
static int parse(int argc, char **argv, struct db_opts *o)
{
	char scale_def[16];
	snprintf(scale_def, sizeof(scale_def), "%d", TPCC_DEFAULT_SCALE);
	const struct opt opts[] = {
		{ OPT_STRING("addr", &o->cfg.addr), .arg = "A.B.C.D", .help = "listen address",
		  .def = "127.0.0.1" },
		{ OPT_INT("port", &o->cfg.port, 0, 65535), .help = "TCP port", .def = "5440" },
		{ OPT_STRING("data", &o->cfg.data), .arg = "DIR",
		  .help = "directory of vcons-db.sqlite", .def = "." },
		{ OPT_INT("threads", &o->cfg.threads, 1, 256),
		  .help = "worker threads, each with its own SQLite\nconnection",
		  .def = "the CPUs this process may use" },
		{ OPT_CHOICE("sync", &o->sync, syncs), .arg = "normal|full",
		  .help = "SQLite synchronous mode in WAL (normal: commits survive\n"
		          "kill -9; full also survives power loss)",
		  .def = "normal" },
		{ OPT_FLAG("load", &o->load),
		  .help = "create and populate the database, then exit" },
		{ OPT_INT("warehouses", &o->warehouses, 1, 1000), .help = "warehouses to load",
		  .def = "1" },
		{ OPT_INT("scale", &o->scale, 1, 300), .arg = "S",
		  .help = "divide TPC-C cardinalities by S (1 = full)", .def = scale_def },
		{ OPT_FLAG("check", &o->check),
		  .help = "check integrity and TPC-C conditions 1-6; exit 0 or 1" },
		{ OPT_INT("idle-timeout", &o->cfg.idle_timeout_s, 1, 86400), .arg = "S",
		  .help = "close connections quiet for S seconds", .def = "300" },
		{ OPT_INT("seed", &o->seed, 0, 1 << 30), .help = "random seed", .def = "1" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-db",
		.synopsis = "[options]              serve TPC-C transactions over TCP",
		.about = "       vcons-db --load [--warehouses N] [--scale S] [--data DIR]\n"
		         "       vcons-db --check [--data DIR]\n",
		.footer =
		    "Prints `ready` when accepting connections; stops on SIGTERM/SIGINT or the\n"
		    "request {\"tx\":\"shutdown\"}.\n",
		.opts = opts,
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc == OPT_RUN && o->load && o->check) {
		fprintf(stderr, "vcons-db: --check with --load (see --help)\n");
		return OPT_USAGE_STATUS;
	}
	o->cfg.sync = o->sync ? TPCC_SYNC_FULL : TPCC_SYNC_NORMAL;
	return rc;
}

int main(int argc, char **argv)
{
	stay_inside_data();
	struct db_opts o = { .cfg = { .addr = "127.0.0.1",
		                      .port = 5440,
		                      .data = ".",
		                      .seed = 1,
		                      .idle_timeout_s = DB_IDLE_TIMEOUT_S },
		             .warehouses = 1,
		             .scale = TPCC_DEFAULT_SCALE,
		             .seed = 1 };
	int rc = parse(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	struct db_server_config cfg = o.cfg;
	int warehouses = o.warehouses, scale = o.scale, seed = o.seed;
	if (o.load) {
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
	if (o.check)
		return do_check(cfg.data);
	if (!cfg.threads)
		cfg.threads = cpu_count();
	cfg.seed = (uint64_t)seed;
	return serve(&cfg);
}
