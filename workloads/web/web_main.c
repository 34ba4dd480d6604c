/* workloads/web/web_main.c: the vcons-web guest program: options, data loading, listeners, and
 * the one place errors are reported to the user. */
#include "workloads/web/app.h"
#include "workloads/web/bank.h"
#include "workloads/web/fileset.h"
#include "workloads/web/server.h"
#include "workloads/common/srv_tls.h"
#include "lib/net.h"
#include "lib/opt.h"
#include "lib/stop.h"
#include <errno.h>
#include <malloc.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
	const char *addr, *data, *cert, *key;
	int port, tls_port, threads, users, files, csu, request_timeout, idle_timeout, max_streams;
	long long max_header, max_body;
	bool load;
};

static void say_ready(void)
{
	printf("ready\n");
	(void)fflush(stdout);
}

static int cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

/* OPT_RUN, or the exit status after --help or a bad command line */
static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .addr = "127.0.0.1",
		            .data = ".",
		            .port = 8080,
		            .tls_port = 8443,
		            .threads = cpus(),
		            .users = 10000,
		            .files = FILESET_DEFAULT_FILES,
		            .max_header = 8192,
		            .max_body = 65536,
		            .max_streams = 100,
		            .request_timeout = 10,
		            .idle_timeout = 60 };
	char files_def[16];
	snprintf(files_def, sizeof(files_def), "%d", FILESET_DEFAULT_FILES);
	const struct opt opts[] = {
		{ OPT_STRING("addr", &o->addr), .arg = "A.B.C.D", .help = "listen address",
		  .def = "127.0.0.1" },
		{ OPT_INT("port", &o->port, 0, 65535), .help = "HTTP port (0 = no plain HTTP)",
		  .def = "8080" },
		{ OPT_INT("tls-port", &o->tls_port, 0, 65535), .help = "HTTPS port (0 = no HTTPS)",
		  .def = "8443" },
		{ OPT_STRING("data", &o->data), .arg = "DIR",
		  .help = "all state: file set, manifest, key/cert, journal", .def = "." },
		{ OPT_FLAG("load", &o->load),
		  .help = "generate the file set, manifest, key and certificate into\n"
		          "--data, reset the transfer journal, and exit" },
		{ OPT_INT("files", &o->files, 1, 99999),
		  .help = "static files in the set (same for --load and run)", .def = files_def },
		{ OPT_INT("users", &o->users, 1, 10000000), .help = "bank users 0..N-1",
		  .def = "10000" },
		{ OPT_INT("threads", &o->threads, 1, 1024), .help = "event-loop threads",
		  .def = "CPUs this process may use" },
		{ OPT_STRING("cert", &o->cert), .arg = "FILE", .help = "TLS certificate",
		  .def = "DATA/cert.pem" },
		{ OPT_STRING("key", &o->key), .arg = "FILE", .help = "TLS key",
		  .def = "DATA/key.pem" },
		{ OPT_LLONG("max-header", &o->max_header, 256, 1 << 20),
		  .help = "request line + headers limit, bytes (over: 431); HTTP/2: the\n"
		          "header list size",
		  .def = "8192" },
		{ OPT_LLONG("max-body", &o->max_body, 0, 64 << 20),
		  .help = "request body limit, bytes (over: 413)", .def = "65536" },
		{ OPT_INT("max-streams", &o->max_streams, 1, 100000),
		  .help = "HTTP/2: concurrent streams per connection", .def = "100" },
		{ OPT_INT("request-timeout", &o->request_timeout, 1, 86400), .arg = "S",
		  .help = "a partial request or an unread answer may stall S s", .def = "10" },
		{ OPT_INT("idle-timeout", &o->idle_timeout, 1, 86400), .arg = "S",
		  .help = "idle keep-alive connections close after S s", .def = "60" },
		{ OPT_INT("csu", &o->csu, 0, 1000000), .help = "CSU number", .def = "0" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-web",
		.about = "  HTTP/1.1 and HTTP/2 (h2c on the plain port, h2 by ALPN on the TLS "
		         "port) web\n"
		         "  server of the vcons web VM (banking mix: static files, dynamic account "
		         "pages,\n"
		         "  durable transfers). Prints 'ready' when serving.\n",
		.footer = "Stop: SIGTERM/SIGINT, or POST /admin/stop.\n",
		.opts = opts,
	};
	return opt_parse(&cmd, argc, argv);
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
	if (tls_data_cert(o->data, "vcons-web", o->addr, false) != 0) {
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
	char path[4096], terr[PATH_MAX * 2 + 128];
	const char *err = NULL;
	struct app app = { .limits = { (size_t)o->max_header, (size_t)o->max_body },
		           .max_streams = (uint32_t)o->max_streams };
	SSL_CTX *ctx = NULL;
	if (o->tls_port && !(ctx = tls_data_ctx(o->data, o->cert, o->key, terr, sizeof(terr)))) {
		fprintf(stderr, "vcons-web: %s (--cert/--key, or run --load)\n", terr);
		return 1;
	}
	if (ctx)
		tls_server_alpn(ctx, "\x02h2\x08http/1.1"); /* HTTP/2 where the client offers it */
	long replayed = 0;
	snprintf(path, sizeof(path), "%s/journal.log", o->data);
	if (app_load_files(&app, o->data, o->files, &err) != 0 ||
	    !(app.bank = bank_open(path, o->users, &replayed, &err))) {
		fprintf(stderr, "vcons-web: %s\n", err);
		return 1;
	}
	if (!o->port && !o->tls_port) {
		fprintf(stderr, "vcons-web: cannot listen on %s: no port\n", o->addr);
		return 1;
	}
	/* malloc grows a thread's own arena a few pages at a time, one mprotect each, as HTTP/2
	 * sessions and answers' buffers come and go, and gives memory back on frees: one arena for
	 * all workers (sbrk's, grown 16 MiB at a time) that keeps what the load once needed costs
	 * a brk now and then instead. */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TOP_PAD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	fprintf(stderr, "vcons-web: %d threads, %d files, %d users, %ld journal records replayed\n",
	        o->threads, o->files, o->users, replayed);
	struct server_config cfg = { .addr = o->addr,
		                     .port = o->port,
		                     .tls_port = o->tls_port,
		                     .ctx = ctx,
		                     .threads = o->threads,
		                     .app = &app,
		                     .stop_fd = stop_fd(),
		                     .request_timeout_s = o->request_timeout,
		                     .idle_timeout_s = o->idle_timeout };
	char lerr[160] = "";
	int rc = server_run(&cfg, say_ready, lerr, sizeof(lerr));
	if (rc != 0)
		fprintf(stderr, "vcons-web: %s\n", lerr);
	bank_close(app.bank);
	app_free_files(&app);
	SSL_CTX_free(ctx);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	net_ignore_sigpipe();
	if (stop_install()) {
		fprintf(stderr, "vcons-web: cannot install the signal handlers: %s\n",
		        strerror(errno));
		return 1;
	}
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
