/* harness/cmd_serve.c: `vcons serve`: the results repository (results/server.h over
 * results/store.h) until SIGTERM or SIGINT. */
#include "harness/cmd.h"
#include "results/server.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
    "usage: vcons serve --db FILE.sqlite --listen ADDR:PORT --trust DIR [--max-bytes N]\n"
    "A results repository: accepts signed submissions (POST /api/results), checks them as\n"
    "`vcons verify --trust DIR` does, stores them in SQLite and serves them as JSON and web pages\n"
    "(/results, /results/ID, /compare?ids=1,2). Prints `ready` when listening; stops on SIGTERM.\n"
    "  --db FILE        the database (created if missing)\n"
    "  --listen A:P     IPv4 address and port (e.g. 127.0.0.1:8070)\n"
    "  --trust DIR      the submitters' public keys (*.pem) accepted\n"
    "  --max-bytes N    largest upload accepted (default 16777216)\n"
    "Exit: 0 stopped by a signal, 1 failure (database, address in use), 2 usage.\n";

static int parse_listen(const char *s, char *addr, size_t len, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	if (!colon || (size_t)(colon - s) >= len)
		return -1;
	snprintf(addr, len, "%.*s", (int)(colon - s), s);
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

int cmd__serve(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, 0, 'd' },    { "listen", required_argument, 0, 'l' },
		{ "trust", required_argument, 0, 't' }, { "max-bytes", required_argument, 0, 'm' },
		{ "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 }
	};
	const char *db = NULL, *listen = NULL;
	struct server_config cfg = { .max_bytes = 16u << 20 };
	char addr[64], *end, err[512];
	int port = 0, c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'l':
			listen = optarg;
			if (parse_listen(optarg, addr, sizeof(addr), &port) < 0)
				return cmd__usage("serve: --listen: not ADDR:PORT: ", optarg);
			break;
		case 't': cfg.trust_dir = optarg; break;
		case 'm':
			cfg.max_bytes = (size_t)strtoull(optarg, &end, 10);
			if (*end || cfg.max_bytes < 1024)
				return cmd__usage("serve: --max-bytes: not a number >= 1024: ",
				                  optarg);
			break;
		case 'h': fputs(serve_usage, stdout); return 0;
		default: return cmd__usage("serve: unknown option ", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd__usage("serve: unexpected argument ", argv[optind]);
	if (!db || !listen || !cfg.trust_dir)
		return cmd__usage("serve: --db, --listen and --trust are required", "");
	/* Blocked before any thread starts, so only sigwait below sees them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct server *srv = NULL;
	if (store__open(db, &cfg.store, err, sizeof(err)) < 0 ||
	    server__start(&cfg, addr, port, &srv, err, sizeof(err)) < 0) {
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
