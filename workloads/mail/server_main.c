/* workloads/mail/server_main.c: vcons-mail, the mail VM's guest program: options, the Maildir
 * store, signal set-up, then server_run. SMTP on --smtp-port, IMAP on --imap-port, state under
 * --data. */
#include "workloads/mail/server.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
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

/* SIGTERM/SIGINT; an atomic (lock-free, so a handler may store to it) as the handler may run in
 * any thread and every worker reads it */
static atomic_int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vcons-mail [options]\n"
	    "  SMTP (RFC 5321 subset) and IMAP4rev1 (subset) server storing mail in Maildir "
	    "folders\n"
	    "  --addr A.B.C.D      address to listen on (default 127.0.0.1)\n"
	    "  --smtp-port N       SMTP port (default 2525)\n"
	    "  --imap-port N       IMAP port (default 1143)\n"
	    "  --data DIR          state directory: DIR/userK/Maildir/{tmp,new,cur} (default .)\n"
	    "  --users N           provision user1..userN@vcons.test (default 100)\n"
	    "  --provision         provision the users' Maildirs durably, then exit (no serving)\n"
	    "  --passwords FILE    'user:password' lines (default: password = user name)\n"
	    "  --threads N         worker threads, one per vCPU (default: online CPUs)\n"
	    "  --max-size BYTES    SMTP message size limit, advertised in EHLO (default 10485760)\n"
	    "  --idle-timeout S    close connections quiet for S seconds (default 300)\n"
	    "  --help              this text\n"
	    "Prints 'ready' when it accepts connections; SIGTERM or SIGINT stop it.\n");
}

static bool num_arg(const char *s, long long lo, long long hi, long long *v)
{
	char *end;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && end != s && !*end && *v >= lo && *v <= hi;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, 0, 'a' },
		{ "smtp-port", required_argument, 0, 's' },
		{ "imap-port", required_argument, 0, 'i' },
		{ "data", required_argument, 0, 'd' },
		{ "users", required_argument, 0, 'u' },
		{ "passwords", required_argument, 0, 'p' },
		{ "threads", required_argument, 0, 't' },
		{ "max-size", required_argument, 0, 'm' },
		{ "idle-timeout", required_argument, 0, 'I' },
		{ "provision", no_argument, 0, 'P' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	tune_malloc();
	/* from the affinity mask (a system call), not sysconf, which reads /sys */
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	struct server_cfg cfg = { .addr = "127.0.0.1",
		                  .smtp_port = 2525,
		                  .imap_port = 1143,
		                  .threads = cpus > 0 ? (unsigned)cpus : 1,
		                  .max_size = 10485760,
		                  .idle_timeout_s = 300 };
	const char *data = ".", *passwords = NULL;
	long long users = 100, v;
	bool provision_only = false;
	int o, li = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, &li)) != -1) {
		bool ok = true;
		switch (o) {
		case 'a': cfg.addr = optarg; break;
		case 's': ok = num_arg(optarg, 1, 65535, &v), cfg.smtp_port = (int)v; break;
		case 'i': ok = num_arg(optarg, 1, 65535, &v), cfg.imap_port = (int)v; break;
		case 'd': data = optarg; break;
		case 'u': ok = num_arg(optarg, 1, 1000000, &users); break;
		case 'p': passwords = optarg; break;
		case 't': ok = num_arg(optarg, 1, 1024, &v), cfg.threads = (unsigned)v; break;
		case 'm':
			ok = num_arg(optarg, 1024, 1LL << 32, &v), cfg.max_size = (uint64_t)v;
			break;
		case 'I': ok = num_arg(optarg, 1, 86400, &v), cfg.idle_timeout_s = (int)v; break;
		case 'P': provision_only = true; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "vcons-mail: bad option %s (try --help)\n",
			        argv[optind - 1]);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "vcons-mail: bad value '%s' for --%s\n", optarg,
			        opts[li].name);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vcons-mail: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (mkdir(data, 0700) && errno != EEXIST) {
		fprintf(stderr, "vcons-mail: cannot create %s: %s\n", data, strerror(errno));
		return 1;
	}
	struct mstore *st;
	char err[512] = "";
	if (mstore_open(&st, data, (unsigned)users, passwords, err, sizeof(err))) {
		fprintf(stderr, "vcons-mail: %s\n", err[0] ? err : "cannot open the mail store");
		return 1;
	}
	if (provision_only) {
		mstore_close(st);
		return 0;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	int rc = server_run(&cfg, st, &stop_flag);
	mstore_close(st);
	return rc;
}
