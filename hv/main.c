/* hv/main.c: the `vcons-hv` command: options, one VM, signals (SIGINT/SIGTERM stop the guest,
 * SIGUSR1 writes statistics), confinement, and the guest's exit status as its own. */
#include "hv/hv.h"
#include "hv/size.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
    "usage: vcons-hv [OPTIONS] -- PROGRAM [ARGS...]\n"
    "Runs a static x86-64 Linux PROGRAM in a new KVM virtual machine and exits with its status.\n"
    "\n"
    "  --mem SIZE           guest memory, e.g. 256M, 1G (default 256M)\n"
    "  --page-size 2m|4k    guest page size (default 2m)\n"
    "  --vcpus N            virtual CPUs the guest sees (default: the host's)\n"
    "  --max-threads N      most guest threads alive at once, each a KVM vCPU (default 256)\n"
    "  --root DIR           the VM's root directory: every path resolves inside it (default .)\n"
    "  --net A.B.C.D        the VM's loopback address (default 127.0.0.1)\n"
    "  --cpuid PROFILE      host, baseline (x86-64-v2) or a YAML file (default host)\n"
    "  --clock-scale F      the guest's clocks run F times as fast as the host's (default 1)\n"
    "  --time-page on|off|force  the guest reads its clocks from a vDSO without an exit (default\n"
    "                       on; off: every clock read is a system call, as where the TSC is\n"
    "                       unusable; force: trust a TSC the CPU flags do not vouch for)\n"
    "  --stats FILE         write statistics as JSON at exit and on SIGUSR1\n"
    "  --trace              print each system call to stderr\n"
    "  --name NAME          the VM's name in messages and statistics (default vm)\n"
    "  --no-seccomp         do not confine vcons-hv itself with seccomp\n"
    "  --help               this text\n"
    "\n"
    "Exit status: the guest's; 128+N when the guest crashed with the fault Linux reports as\n"
    "signal N (e.g. 139 page fault, 132 invalid opcode); 2 usage; 65 not a static x86-64 ELF;\n"
    "66 program or directory missing; 69 no KVM; 71 host resource error; 77 no permission for\n"
    "/dev/kvm; 78 bad option value or profile.\n";

struct signal_thread {
	struct hv_vm *vm;
	const char *stats;
	sigset_t set;
};

/* Handles the host signals meant for the VM; vCPU threads keep them blocked. */
static void *signal_loop(void *arg)
{
	struct signal_thread *st = arg;
	for (;;) {
		int sig;
		if (sigwait(&st->set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			if (st->stats && hv_vm_write_stats(st->vm, st->stats) < 0)
				fprintf(stderr, "vcons-hv: cannot write %s\n", st->stats);
		} else {
			hv_vm_kill(st->vm, sig);
		}
	}
	return NULL;
}

static int bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "vcons-hv: %s%s (see --help)\n", what, arg);
	return HV_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct hv_config cfg;
	hv_config_init(&cfg);
	cfg.envp = (const char *const *)environ;
	const char *stats = NULL;
	int seccomp = 1;
	enum {
		O_MEM = 256,
		O_PAGE,
		O_VCPUS,
		O_ROOT,
		O_NET,
		O_CPUID,
		O_SCALE,
		O_STATS,
		O_TRACE,
		O_NAME,
		O_NOSEC,
		O_HELP,
		O_THREADS,
		O_TIMEPAGE
	};
	static const struct option opts[] = {
		{ "mem", required_argument, 0, O_MEM },
		{ "page-size", required_argument, 0, O_PAGE },
		{ "vcpus", required_argument, 0, O_VCPUS },
		{ "root", required_argument, 0, O_ROOT },
		{ "net", required_argument, 0, O_NET },
		{ "cpuid", required_argument, 0, O_CPUID },
		{ "clock-scale", required_argument, 0, O_SCALE },
		{ "stats", required_argument, 0, O_STATS },
		{ "trace", no_argument, 0, O_TRACE },
		{ "name", required_argument, 0, O_NAME },
		{ "no-seccomp", no_argument, 0, O_NOSEC },
		{ "help", no_argument, 0, O_HELP },
		{ "max-threads", required_argument, 0, O_THREADS },
		{ "time-page", required_argument, 0, O_TIMEPAGE },
		{ 0, 0, 0, 0 },
	};
	opterr = 0;
	int o;
	char *end;
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (o) {
		case O_MEM:
			if (hv_parse_size(optarg, UINT64_MAX, &cfg.mem_bytes) < 0)
				return bad_usage("--mem: not a size like 256M or 1G: ", optarg);
			break;
		case O_PAGE:
			if (strcmp(optarg, "4k") && strcmp(optarg, "2m"))
				return bad_usage("--page-size: not 4k or 2m: ", optarg);
			cfg.page_4k = !strcmp(optarg, "4k");
			break;
		case O_VCPUS:
			cfg.vcpus = (int)strtol(optarg, &end, 10);
			if (*end || cfg.vcpus < 1 || cfg.vcpus > 1024)
				return bad_usage("--vcpus: not a number from 1 to 1024: ", optarg);
			break;
		case O_THREADS:
			cfg.max_threads = (int)strtol(optarg, &end, 10);
			if (*end || cfg.max_threads < 1 || cfg.max_threads > 256)
				return bad_usage("--max-threads: not a number from 1 to 256: ",
				                 optarg);
			break;
		case O_ROOT: cfg.root = optarg; break;
		case O_NET: cfg.net_addr = optarg; break;
		case O_CPUID: cfg.cpuid = optarg; break;
		case O_SCALE:
			cfg.clock_scale = strtod(optarg, &end);
			if (*end || !(cfg.clock_scale >= 0.01 && cfg.clock_scale <= 100))
				return bad_usage("--clock-scale: not a number from 0.01 to 100: ",
				                 optarg);
			break;
		case O_TIMEPAGE:
			if (!strcmp(optarg, "on") || !strcmp(optarg, "off") ||
			    !strcmp(optarg, "force"))
				cfg.time_page = !strcmp(optarg, "on")    ? HV_TIME_PAGE_ON
				                : !strcmp(optarg, "off") ? HV_TIME_PAGE_OFF
				                                         : HV_TIME_PAGE_FORCE;
			else
				return bad_usage("--time-page: not on, off or force: ", optarg);
			break;
		case O_STATS: stats = optarg; break;
		case O_TRACE: cfg.trace = 1; break;
		case O_NAME: cfg.name = optarg; break;
		case O_NOSEC: seccomp = 0; break;
		case O_HELP: fputs(usage, stdout); return 0;
		default: return bad_usage("unknown option ", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("no PROGRAM given", "");
	cfg.argv = (const char *const *)argv + optind;

	/* Signals for the VM go to one thread; vCPU threads inherit this mask. */
	struct signal_thread st = { .stats = stats };
	sigemptyset(&st.set);
	sigaddset(&st.set, SIGINT);
	sigaddset(&st.set, SIGTERM);
	sigaddset(&st.set, SIGHUP);
	sigaddset(&st.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &st.set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a guest's write to a closed socket gets EPIPE */

	char err[512];
	int code;
	struct hv_vm *vm = hv_vm_create(&cfg, &code, err, sizeof(err));
	if (!vm) {
		fprintf(stderr, "vcons-hv: %s\n", err);
		return code;
	}
	st.vm = vm;
	pthread_t sig_thread;
	pthread_create(&sig_thread, NULL, signal_loop, &st);
	if (seccomp && hv_confine(err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons-hv: %s\n", err);
		return HV_EXIT_OSERR;
	}
	if (hv_vm_start(vm, err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons-hv: %s\n", err);
		return HV_EXIT_OSERR;
	}
	int status = hv_vm_wait(vm);
	if (stats && hv_vm_write_stats(vm, stats) < 0)
		fprintf(stderr, "vcons-hv: cannot write statistics to %s\n", stats);
	(void)fflush(stdout);
	/* The guest's threads may still be leaving their last host call: exit without tearing the
	 * VM down under them; the kernel reclaims everything. */
	_exit(status);
}
