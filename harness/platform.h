/* harness/platform.h: a platform as the runner sees it: where a run's VMs run (plain processes,
 * vcons-hv, vcons-qemu) and what that changes. Each platform is one file (platform_native.c,
 * platform_hv.c, platform_qemu.c) filling one struct platform; platform.c lists them. The runner
 * asks the chosen platform and holds no platform conditionals of its own, so adding a platform is
 * one new file and one line in platform.c's table.
 *
 * Contract: a platform with a VMM (vmm_clock set) starts each VM through a launcher that takes the
 * options platform__vmm_cmd writes, answers SIGUSR1 by writing its statistics (JSON: "host_ns" and
 * "guest_ns" read at one instant, and whatever else it counts) to the VM's stats file, and runs the
 * guest program from the VM's disk, where prepare puts it. Without a VMM the guest program runs as
 * a host process and reads the host clock. */
#ifndef HARNESS_PLATFORM_H
#define HARNESS_PLATFORM_H
#include "harness/plan.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* What a platform needs to start one VM's guest program. */
struct guest_spec {
	const struct vm_plan *vm;
	const struct vm_profile *profile;
	const struct plan_paths *paths;
	const char *program; /* its file name in <build>/guest/ */
	const int *ports;    /* the TCP ports it serves, 0-terminated */
	int with_stats;      /* the VM's run (not its provisioning): ask the VMM for statistics */
	const char *control; /* non-empty: the VMM serves its control socket there (hv) */
};

struct platform {
	const char *name;    /* as --platform and results name it */
	const char *summary; /* one line for `vcons run --help` */
	/* The VMM's guest clock as results name it ("hv guest clock"): the clock dilation is
	 * measured on. NULL: no VMM; servers read the host clock (dilation 1 by construction). */
	const char *vmm_clock;
	int ready_timeout_s; /* how long every VM may take to be ready */
	/* 0 when the platform can run here; -1 with one line in err (no /dev/kvm...). */
	int (*check)(const char *build, char *err, size_t len);
	/* The start of the command that runs the guest program (its options follow); `data`
	 * receives the program's view of its data directory. 0, or -1 when c is full. */
	int (*guest_cmd)(struct cmdline *c, const struct guest_spec *g, char *data, size_t datalen);
	/* Optional: what the platform records about a VM in its result object, from the VM's
	 * statistics file (qemu: the acceleration and boot time). */
	void (*record_vm)(json_t *vm, const char *stats_path);
	/* Optional, a platform that can move a running VM (hv; harness/infra.h): the command of a
	 * VMM process that takes over the VM `server` runs: the same options without the program,
	 * `mode` ("--restore" with a snapshot file, "--incoming" with ADDR:PORT) and `arg`, and its
	 * control socket at `control`. 0, or -1 when c is full. NULL: the platform cannot. */
	int (*move_cmd)(struct cmdline *c, const struct cmdline *server, const char *mode,
	                const char *arg, const char *control);
};

/* The platform named `name`, or NULL. */
const struct platform *platform__find(const char *name);
/* The default platform: the bundled hypervisor. */
const struct platform *platform__default(void);
/* "Platforms:" and a line per platform, its name and summary, for `vcons run --help`. */
void platform__usage(FILE *out);

/* For platforms with a VMM: the launcher's common options (root, network address, vCPUs, memory,
 * name, statistics file); the caller adds its own, then "--" and the program. */
int platform__vmm_cmd(struct cmdline *c, const struct guest_spec *g, const char *launcher);

/* The platforms (one file each). */
extern const struct platform platform_native, platform_hv, platform_qemu;

#endif
