/* workloads/web/web_main.c: the vcons-web guest program: options, data loading, listeners, and
 * the one place errors are reported to the user. */
#include "workloads/web/app.h"
#include "workloads/web/bank.h"
#include "workloads/web/fileset.h"
#include "workloads/web/server.h"
#include "workloads/web/tls.h"
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
	const char *addr, *data, *cert, *key;
	int port, tls_port, threads, users, files, load, csu, request_timeout, idle_timeout;
	long max_header, max_body;
};

/* SIGTERM/SIGINT; lock-free, so a handler may store to it (C11 7.14.1.1); read by the workers */
static atomic_int signalled;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&signalled, 1, memory_order_relaxed);
	server_stop(); /* workers sleep in epoll_wait until a deadline or this */
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vcons-web [options]\n"
	    "  HTTP/1.1 + TLS web server of the vcons web VM (banking mix: static files,\n"
	    "  dynamic account pages, durable transfers). Prints 'ready' when serving.\n"
	    "  --addr A.B.C.D     listen address (default 127.0.0.1)\n"
	    "  --port N           HTTP port (default 8080; 0 = no plain HTTP)\n"
	    "  --tls-port N       HTTPS port (default 8443; 0 = no HTTPS)\n"
	    "  --data DIR         all state: file set, manifest, key/cert, journal (default .)\n"
	    "  --load             generate the file set, manifest, key and certificate into\n"
	    "                     --data, reset the transfer journal, and exit\n"
	    "  --files N          static files in the set (default %d; same for --load and run)\n"
	    "  --users N          bank users 0..N-1 (default 10000)\n"
	    "  --threads N        event-loop threads (default: CPUs this process may use)\n"
	    "  --cert FILE --key FILE  TLS certificate and key (default DATA/cert.pem, key.pem)\n"
	    "  --max-header N     request line + headers limit, bytes (default 8192; over: 431)\n"
	    "  --max-body N       request body limit, bytes (default 65536; over: 413)\n"
	    "  --request-timeout S  a partial request or an unread answer may stall S s (10)\n"
	    "  --idle-timeout S   idle keep-alive connections close after S s (default 60)\n"
	    "  --csu N            CSU number (default 0)\n"
	    "  --help             this text\n"
	    "Stop: SIGTERM/SIGINT, or POST /admin/stop.\n",
	    FILESET_DEFAULT_FILES);
}

static int num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == 0 || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

/* 0 parsed, 1 --help shown, 2 bad option (message printed). */
static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = { { "addr", 1, 0, 'a' },
		                            { "port", 1, 0, 'p' },
		                            { "tls-port", 1, 0, 'P' },
		                            { "data", 1, 0, 'd' },
		                            { "load", 0, 0, 'l' },
		                            { "files", 1, 0, 'f' },
		                            { "users", 1, 0, 'u' },
		                            { "threads", 1, 0, 't' },
		                            { "cert", 1, 0, 'c' },
		                            { "key", 1, 0, 'k' },
		                            { "max-header", 1, 0, 'H' },
		                            { "max-body", 1, 0, 'B' },
		                            { "csu", 1, 0, 'C' },
		                            { "request-timeout", 1, 0, 'R' },
		                            { "idle-timeout", 1, 0, 'I' },
		                            { "help", 0, 0, 'h' },
		                            { 0, 0, 0, 0 } };
	*o = (struct opts){ .addr = "127.0.0.1",
		            .data = ".",
		            .port = 8080,
		            .tls_port = 8443,
		            .threads = cpus(),
		            .users = 10000,
		            .files = FILESET_DEFAULT_FILES,
		            .max_header = 8192,
		            .max_body = 65536,
		            .request_timeout = 10,
		            .idle_timeout = 60 };
	opterr = 0;
	int c;
	long v = 0;
	int li = 0;
	while ((c = getopt_long(argc, argv, "", lo, &li)) != -1) {
		int bad = 0;
		switch (c) {
		case 'a': o->addr = optarg; break;
		case 'd': o->data = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'l': o->load = 1; break;
		case 'h': usage(stdout); return 1;
		case 'p':
			bad = num(optarg, 0, 65535, &v);
			o->port = (int)v;
			break;
		case 'P':
			bad = num(optarg, 0, 65535, &v);
			o->tls_port = (int)v;
			break;
		case 'f':
			bad = num(optarg, 1, 99999, &v);
			o->files = (int)v;
			break;
		case 'u':
			bad = num(optarg, 1, 10000000, &v);
			o->users = (int)v;
			break;
		case 't':
			bad = num(optarg, 1, 1024, &v);
			o->threads = (int)v;
			break;
		case 'H':
			bad = num(optarg, 256, 1 << 20, &v);
			o->max_header = v;
			break;
		case 'B':
			bad = num(optarg, 0, 64 << 20, &v);
			o->max_body = v;
			break;
		case 'C':
			bad = num(optarg, 0, 1000000, &v);
			o->csu = (int)v;
			break;
		case 'R':
			bad = num(optarg, 1, 86400, &v);
			o->request_timeout = (int)v;
			break;
		case 'I':
			bad = num(optarg, 1, 86400, &v);
			o->idle_timeout = (int)v;
			break;
		default:
			fprintf(stderr, "vcons-web: bad option '%s' (see --help)\n",
			        argv[optind - 1]);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "vcons-web: bad value '%s' for --%s\n", optarg,
			        lo[li].name);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vcons-web: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

static int do_load(const struct opts *o, char *path, size_t cap)
{
	if (mkdir(o->data, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "vcons-web: cannot create %s: %s\n", o->data, strerror(errno));
		return 1;
	}
	if (fileset_write(o->data, o->files) != 0) {
		fprintf(stderr, "vcons-web: cannot write the file set: %s\n", strerror(errno));
		return 1;
	}
	char cert[4096];
	snprintf(path, cap, "%s/key.pem", o->data);
	snprintf(cert, sizeof(cert), "%s/cert.pem", o->data);
	if (tls_make_cert(path, cert, o->addr) != 0) {
		fprintf(stderr, "vcons-web: cannot write the TLS key and certificate\n");
		return 1;
	}
	snprintf(path, cap, "%s/journal.log", o->data);
	if (unlink(path) < 0 && errno != ENOENT) {
		fprintf(stderr, "vcons-web: cannot reset %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("loaded %d files + %d images into %s\n", o->files, FILESET_IMAGES, o->data);
	return 0;
}

static int serve(const struct opts *o)
{
	char path[4096], cert[4096], key[4096];
	const char *err = NULL;
	struct app app = { .limits = { (size_t)o->max_header, (size_t)o->max_body } };
	snprintf(cert, sizeof(cert), "%s/cert.pem", o->data);
	snprintf(key, sizeof(key), "%s/key.pem", o->data);
	SSL_CTX *ctx = NULL;
	if (o->tls_port &&
	    !(ctx = tls_server_ctx(o->cert ? o->cert : cert, o->key ? o->key : key, &err))) {
		fprintf(stderr, "vcons-web: %s\n", err);
		return 1;
	}
	long replayed = 0;
	snprintf(path, sizeof(path), "%s/journal.log", o->data);
	if (app_load_files(&app, o->data, o->files, &err) != 0 ||
	    !(app.bank = bank_open(path, o->users, &replayed, &err))) {
		fprintf(stderr, "vcons-web: %s\n", err);
		return 1;
	}
	int pfd = o->port ? server_listen(o->addr, o->port, o->request_timeout) : -1;
	int tfd = o->tls_port ? server_listen(o->addr, o->tls_port, o->request_timeout) : -1;
	if ((o->port && pfd < 0) || (o->tls_port && tfd < 0) || (!o->port && !o->tls_port)) {
		fprintf(stderr, "vcons-web: cannot listen on %s:%d/%d: %s\n", o->addr, o->port,
		        o->tls_port, !o->port && !o->tls_port ? "no port" : strerror(errno));
		return 1;
	}
	fprintf(stderr, "vcons-web: %d threads, %d files, %d users, %ld journal records replayed\n",
	        o->threads, o->files, o->users, replayed);
	printf("ready\n");
	(void)fflush(stdout);
	struct server_config cfg = { .threads = o->threads,
		                     .plain_fd = pfd,
		                     .tls_fd = tfd,
		                     .ctx = ctx,
		                     .app = &app,
		                     .signalled = &signalled,
		                     .request_timeout_s = o->request_timeout,
		                     .idle_timeout_s = o->idle_timeout };
	int rc = server_run(&cfg);
	if (rc != 0)
		fprintf(stderr, "vcons-web: cannot start the event-loop threads\n");
	bank_close(app.bank);
	app_free_files(&app);
	SSL_CTX_free(ctx);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (tls_init() != 0) {
		fprintf(stderr, "vcons-web: cannot initialise OpenSSL\n");
		return 1;
	}
	if (o.load) {
		char path[4096];
		return do_load(&o, path, sizeof(path));
	}
	return serve(&o);
}
