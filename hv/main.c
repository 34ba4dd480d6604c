/* hv/main.c: the `vcons-hv` command: options, one VM, signals (SIGINT/SIGTERM stop the guest,
 * SIGUSR1 writes statistics), confinement, and the guest's exit status as its own. */
#include "hv/control.h"
#include "hv/hv.h"
#include "lib/vmopt.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char about[] =
    "Runs a static x86-64 Linux PROGRAM in a new KVM virtual machine and exits with its status.\n"
    "\n";
static const char footer[] =
    "\n"
    "Exit status: the guest's; 128+N when the guest crashed with the fault Linux reports as\n"
    "signal N (e.g. 139 page fault, 132 invalid opcode); 2 usage; 65 not a static x86-64 ELF;\n"
    "66 program or directory missing; 69 no KVM; 71 host resource error; 77 no permission for\n"
    "/dev/kvm; 76 not a snapshot, a damaged one or one whose files changed; 78 bad option\n"
    "value or profile, or a snapshot of another VM (size, CPUID profile, address).\n";

static const char *const page_sizes[] = { "2m", "4k", NULL };
/* in enum hv_time_page_use's order */
static const char *const time_page_uses[] = { "on", "off", "force", NULL };

/* Where vcons-hv differs from vcons-qemu in the shared options (lib/vmopt.h). */
static const struct vmopt_spec hv_spec = {
	.prog = "vcons-hv",
	.about = about,
	.footer = footer,
	.max_vcpus = 1024,
	.vcpus_def = "the host's",
	.max_mem = UINT64_MAX, /* hv_vm_create() checks the range, exit 78 */
	.min_scale = 0.01,
	.max_scale = 100,
	.scale_why = "not a number from 0.01 to 100",
	.program_optional = true, /* --restore SNAPSHOT instead */
};

struct hv_opts {
	struct hv_config cfg;
	const char *stats;
	bool trace, no_seccomp, verify_snapshot;
	int time_page;
	const char *control, *restore, *incoming;
};

/* OPT_RUN, or the exit status after --help or a bad command line. */
static int parse(int argc, char **argv, struct hv_opts *o)
{
	struct hv_config *c = &o->cfg;
	const struct opt own[] = {
		{ OPT_CHOICE("page-size", &c->page_4k, page_sizes), .arg = "2m|4k",
		  .help = "guest page size", .def = "2m" },
		{ OPT_INT("max-threads", &c->max_threads, 1, 256),
		  .help = "most guest threads alive at once, each a KVM vCPU", .def = "256" },
		{ OPT_STRING("cpuid", &c->cpuid), .arg = "PROFILE",
		  .help = "host, baseline (x86-64-v2) or a YAML file", .def = "host" },
		{ OPT_CHOICE("time-page", &o->time_page, time_page_uses), .arg = "on|off|force",
		  .help = "on: the guest reads its clocks from a vDSO without an exit;\n"
		          "off: every clock read is a system call, as where the TSC is\n"
		          "unusable; force: trust a TSC the CPU flags do not vouch for",
		  .def = "on" },
		{ OPT_FLAG("trace", &o->trace), .help = "print each system call to stderr" },
		{ OPT_STRING("control", &o->control), .arg = "PATH",
		  .help = "serve a control socket at PATH: status, pause, resume,\n"
		          "snapshot (JSON lines; hv/control.h)" },
		{ OPT_STRING("restore", &o->restore), .arg = "SNAPSHOT",
		  .help = "start the VM a snapshot saved instead of a PROGRAM\n"
		          "(its memory is read as the guest touches it)" },
		{ OPT_STRING("incoming", &o->incoming), .arg = "A.B.C.D:PORT",
		  .help = "instead of a PROGRAM: wait there for a VM that a\n"
		          "`migrate` moves here, then run it" },
		{ OPT_FLAG("verify-snapshot", &o->verify_snapshot),
		  .help = "with --restore: check every saved page's checksum first" },
		{ OPT_FLAG("no-seccomp", &o->no_seccomp),
		  .help = "do not confine vcons-hv itself with seccomp" },
		OPT_END,
	};
	struct vmopt vm;
	vmopt_init(&vm, c->vcpus);
	o->time_page = (int)c->time_page;
	int rc = vmopt_parse(&hv_spec, own, &vm, argc, argv);
	c->root = vm.root;
	c->net_addr = vm.net;
	c->vcpus = vm.vcpus;
	c->mem_bytes = vm.mem_bytes;
	c->name = vm.name;
	c->clock_scale = vm.clock_scale;
	o->stats = vm.stats;
	c->time_page = (enum hv_time_page_use)o->time_page;
	c->trace = o->trace;
	c->argv = (const char *const *)vm.argv;
	int sources = !!o->restore + !!o->incoming + !!(vm.argv && vm.argv[0]);
	if (rc == OPT_RUN && sources != 1) {
		fprintf(stderr, "vcons-hv: %s\n",
		        sources == 0 ? "no PROGRAM given (or --restore SNAPSHOT, --incoming ADDR)"
		        : o->restore && o->incoming
		            ? "--restore and --incoming exclude each other"
		            : "--restore and --incoming take no PROGRAM: the VM brings it");
		return HV_EXIT_USAGE;
	}
	if (rc == OPT_RUN && o->verify_snapshot && !o->restore) {
		fprintf(stderr, "vcons-hv: --verify-snapshot goes with --restore\n");
		return HV_EXIT_USAGE;
	}
	return rc;
}

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

int main(int argc, char **argv)
{
	struct hv_opts o = { .stats = NULL };
	hv_config_init(&o.cfg);
	o.cfg.envp = (const char *const *)environ;
	int rc = parse(argc, argv, &o);
	if (rc != OPT_RUN)
		return rc;
	struct hv_config cfg = o.cfg;
	const char *stats = o.stats;

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
	struct hv_incoming *in = NULL;
	struct hv_vm *vm =
	    o.restore ? hv_vm_restore(&cfg, o.restore, o.verify_snapshot, &code, err, sizeof(err))
	    : o.incoming ? hv_vm_incoming(&cfg, o.incoming, &in, &code, err, sizeof(err))
	                 : hv_vm_create(&cfg, &code, err, sizeof(err));
	if (!vm) {
		fprintf(stderr, "vcons-hv: %s\n", err);
		return code;
	}
	int stopped = 0;
	struct control *ctl = NULL;
	if (o.control &&
	    !(ctl = control__start(vm, cfg.name, o.control, &stopped, err, sizeof(err)))) {
		fprintf(stderr, "vcons-hv: %s\n", err);
		return HV_EXIT_OSERR;
	}
	st.vm = vm;
	pthread_t sig_thread;
	pthread_create(&sig_thread, NULL, signal_loop, &st);
	if (!o.no_seccomp && hv_confine(err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons-hv: %s\n", err);
		return HV_EXIT_OSERR;
	}
	if (hv_vm_start(vm, err, sizeof(err)) < 0) {
		fprintf(stderr, "vcons-hv: %s\n", err);
		hv_vm_incoming_done(in, 0, err); /* the source goes on */
		return HV_EXIT_OSERR;
	}
	hv_vm_incoming_done(in, 1, "running"); /* a migration's source may end now */
	int status = hv_vm_wait(vm);
	control__remove(ctl);
	if (stopped) /* a snapshot with "stop" ended it: the snapshot carries the guest on */
		status = 0;
	if (stats && hv_vm_write_stats(vm, stats) < 0)
		fprintf(stderr, "vcons-hv: cannot write statistics to %s\n", stats);
	(void)fflush(stdout);
	/* The guest's threads may still be leaving their last host call: exit without tearing the
	 * VM down under them; the kernel reclaims everything. */
	_exit(status);
}
