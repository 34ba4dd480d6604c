/* workloads/mail/server_main.c: vcons-mail, the mail VM's guest program: options, the Maildir
 * store, the TLS key and certificate (made in --data when missing, as workloads/common/srv_tls.h
 * does for every server), signal set-up, then server_run. SMTP on --smtp-port, IMAP on
 * --imap-port, both also over implicit TLS (--smtps-port, --imaps-port), state under --data. */
#include "workloads/mail/server.h"
#include "workloads/common/srv_tls.h"
#include "lib/net.h"
#include "lib/opt.h"
#include "lib/stop.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The heap grows in steps of a megabyte and is never handed back: a worker's buffers and the
 * store's index then cost no brk/mprotect/madvise calls once the heap has grown to its working
 * size (glibc's defaults: an arena per thread, grown a page at a time with mprotect, trimmed
 * whenever 128 KiB are free at its top). One arena: the workers are few (one per vCPU). */
static void tune_malloc(void)
{
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TOP_PAD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

struct mail_opts {
	struct server_cfg cfg;
	const char *data, *passwords, *cert, *key;
	int users, threads;
	long long max_size;
	bool provision_only;
};

/* OPT_RUN, or the exit status after --help or a bad command line */
static int parse(int argc, char **argv, struct mail_opts *o)
{
	struct server_cfg *c = &o->cfg;
	const struct opt opts[] = {
		{ OPT_STRING("addr", &c->addr), .arg = "A.B.C.D", .help = "address to listen on",
		  .def = "127.0.0.1" },
		{ OPT_INT("smtp-port", &c->smtp_port, 1, 65535), .help = "SMTP port",
		  .def = "2525" },
		{ OPT_INT("imap-port", &c->imap_port, 1, 65535), .help = "IMAP port",
		  .def = "1143" },
		{ OPT_INT("smtps-port", &c->smtps_port, 0, 65535),
		  .help = "SMTP submission over TLS (RFC 8314; AUTH before MAIL), 0 = none",
		  .def = "2465" },
		{ OPT_INT("imaps-port", &c->imaps_port, 0, 65535),
		  .help = "IMAP over TLS (RFC 8314), 0 = none", .def = "1993" },
		{ OPT_STRING("cert", &o->cert), .arg = "FILE",
		  .help = "TLS certificate (DATA's pair is made when missing)",
		  .def = "DATA/cert.pem" },
		{ OPT_STRING("key", &o->key), .arg = "FILE", .help = "TLS key",
		  .def = "DATA/key.pem" },
		{ OPT_FLAG("require-tls", &c->require_tls),
		  .help = "no password and no mail before STARTTLS: IMAP LOGINDISABLED,\n"
		          "SMTP MAIL answered 530" },
		{ OPT_STRING("data", &o->data), .arg = "DIR",
		  .help = "state directory: DIR/userK/Maildir/{tmp,new,cur}", .def = "." },
		{ OPT_INT("users", &o->users, 1, 1000000),
		  .help = "provision user1..userN@vcons.test", .def = "100" },
		{ OPT_FLAG("provision", &o->provision_only),
		  .help = "provision the users' Maildirs durably, then exit (no serving)" },
		{ OPT_STRING("passwords", &o->passwords), .arg = "FILE",
		  .help = "'user:password' lines", .def = "password = user name" },
		{ OPT_INT("threads", &o->threads, 1, 1024), .help = "worker threads, one per vCPU",
		  .def = "online CPUs" },
		{ OPT_LLONG("max-size", &o->max_size, 1024, 1LL << 32), .arg = "BYTES",
		  .help = "SMTP message size limit, advertised in EHLO", .def = "10485760" },
		{ OPT_INT("idle-timeout", &c->idle_timeout_s, 1, 86400), .arg = "S",
		  .help = "close connections quiet for S seconds", .def = "300" },
		{ OPT_INT("imap-idle-timeout", &c->imap_idle_timeout_s, 1, 86400), .arg = "S",
		  .help =
		      "... or S seconds while in IMAP IDLE (RFC 2177: clients renew it every 29 "
		      "min)",
		  .def = "1800" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons-mail",
		.about = "  SMTP (RFC 5321 subset) and IMAP4rev1 (subset) server storing mail in "
		         "Maildir folders;\n  STARTTLS, implicit TLS and AUTH PLAIN/LOGIN with "
		         "OpenSSL\n",
		.footer =
		    "Prints 'ready' when it accepts connections; SIGTERM or SIGINT stop it.\n",
		.opts = opts,
	};
	int rc = opt_parse(&cmd, argc, argv);
	c->threads = (unsigned)o->threads;
	c->max_size = (uint64_t)o->max_size;
	return rc;
}

/* The TLS context: DATA's key and certificate, made there first when missing (unless --cert or
 * --key name files of the operator's), or --cert/--key. NULL after a message. */
static SSL_CTX *tls_setup(const struct mail_opts *o)
{
	if (tls_init()) {
		fprintf(stderr, "vcons-mail: cannot initialise OpenSSL\n");
		return NULL;
	}
	if (!o->cert && !o->key && tls_data_cert(o->data, "vcons-mail", o->cfg.addr, true)) {
		fprintf(stderr, "vcons-mail: cannot write the TLS key and certificate in %s\n",
		        o->data);
		return NULL;
	}
	char err[2 * PATH_MAX + 128];
	SSL_CTX *ctx = tls_data_ctx(o->data, o->cert, o->key, err, sizeof(err));
	if (!ctx)
		fprintf(stderr, "vcons-mail: %s\n", err);
	return ctx;
}

int main(int argc, char **argv)
{
	tune_malloc();
	/* from the affinity mask (a system call), not sysconf, which reads /sys */
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	struct mail_opts o = { .cfg = { .addr = "127.0.0.1",
		                        .smtp_port = 2525,
		                        .imap_port = 1143,
		                        .smtps_port = 2465,
		                        .imaps_port = 1993,
		                        .idle_timeout_s = 300,
		                        .imap_idle_timeout_s = 1800,
		                        .tls = true },
		               .data = ".",
		               .users = 100,
		               .threads = cpus > 0 ? (int)cpus : 1,
		               .max_size = 10485760 };
	int rc = parse(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	const char *data = o.data, *passwords = o.passwords;
	unsigned users = (unsigned)o.users;
	if (mkdir(data, 0700) && errno != EEXIST) {
		fprintf(stderr, "vcons-mail: cannot create %s: %s\n", data, strerror(errno));
		return 1;
	}
	struct mstore *st;
	char err[512] = "";
	if (mstore_open(&st, data, users, passwords, err, sizeof(err))) {
		fprintf(stderr, "vcons-mail: %s\n", err[0] ? err : "cannot open the mail store");
		return 1;
	}
	SSL_CTX *tls = tls_setup(&o);
	if (!tls || o.provision_only) {
		SSL_CTX_free(tls);
		mstore_close(st);
		return tls ? 0 : 1;
	}
	if (stop_install()) {
		fprintf(stderr, "vcons-mail: cannot install the signal handlers: %s\n",
		        strerror(errno));
		SSL_CTX_free(tls);
		mstore_close(st);
		return 1;
	}
	net_ignore_sigpipe();
	rc = server_run(&o.cfg, st, tls, stop_fd());
	SSL_CTX_free(tls);
	mstore_close(st);
	return rc;
}
