/* harness/cmd_serve.c: `vcons serve`: the results repository (results/server.h over
 * results/store.h) until SIGTERM or SIGINT. */
#include "harness/cmd.h"
#include "lib/num.h"
#include "lib/opt.h"
#include "results/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

struct listen_at {
	char addr[64];
	int port;
};

/* --listen's OPT_CALL: "ADDR:PORT" into a struct listen_at. */
static const char *parse_listen(const char *s, void *dst)
{
	struct listen_at *l = dst;
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(l->addr) ||
	    num_int(colon + 1, 1, 65535, &l->port) < 0)
		return "not ADDR:PORT";
	snprintf(l->addr, sizeof(l->addr), "%.*s", (int)(colon - s), s);
	return NULL;
}

/* OPT_RUN, or the exit status after --help or a bad command line. */
static int parse(int argc, char **argv, const char **db, struct listen_at *at,
                 struct server_config *cfg)
{
	uint64_t max_bytes = cfg->max_bytes;
	const struct opt opts[] = {
		{ OPT_STRING("db", db), .arg = "FILE",
		  .help = "the database (created if missing)" },
		{ OPT_CALL("listen", parse_listen, at), .arg = "A:P",
		  .help = "IPv4 address and port (e.g. 127.0.0.1:8070)" },
		{ OPT_STRING("trust", &cfg->trust_dir), .arg = "DIR",
		  .help = "the submitters' public keys (*.pem) accepted" },
		{ OPT_SIZE("max-bytes", &max_bytes, 1024, SIZE_MAX), .arg = "N",
		  .help = "largest upload accepted, in bytes (or 16M, 1G)", .def = "16M" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons serve",
		.synopsis = "--db FILE.sqlite --listen ADDR:PORT --trust DIR [--max-bytes N]",
		.about =
		    "A results repository: accepts signed submissions (POST /api/results), "
		    "checks them as\n`vcons verify --trust DIR` does, stores them in SQLite and "
		    "serves them as JSON and web pages\n(/results, /results/ID, "
		    "/compare?ids=1,2). Prints `ready` when listening; stops on SIGTERM.\n",
		.footer =
		    "Exit: 0 stopped by a signal, 1 failure (database, address in use), 2 usage.\n",
		.opts = opts,
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	cfg->max_bytes = (size_t)max_bytes;
	if (!*db || !at->port || !cfg->trust_dir)
		return opt_usage_error(&cmd, "--db, --listen and --trust are required");
	return OPT_RUN;
}

int cmd__serve(int argc, char **argv)
{
	const char *db = NULL;
	struct listen_at at = { .port = 0 };
	struct server_config cfg = { .max_bytes = 16u << 20 };
	char err[512];
	int rc = parse(argc, argv, &db, &at, &cfg);
	if (rc != OPT_RUN)
		return rc;
	/* Blocked before any thread starts, so only sigwait below sees them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct server *srv = NULL;
	if (store__open(db, &cfg.store, err, sizeof(err)) < 0 ||
	    server__start(&cfg, at.addr, at.port, &srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons: serve: %s\n", err);
		store__close(cfg.store);
		return 1;
	}
	printf("ready\n");
	(void)fflush(stdout);
	int sig = 0;
	sigwait(&set, &sig);
	server__stop(srv);
	store__close(cfg.store);
	fprintf(stderr, "vcons: serve: stopped (%s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	return 0;
}
