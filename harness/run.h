/* harness/run.h: `vcons run`: one benchmark run from provisioning to the result file.
 *
 * Phases, all on the host clock: provision (each VM loads its data set, in parallel), start (every
 * VM; servers print "ready"), load (every generator starts at once), ramp-up, warm-up, the
 * measurement intervals, ramp-down, teardown. Every child is started by proc.h and stopped by its
 * PID; a VM or generator that dies, or SIGINT/SIGTERM, ends the run early: everything is torn down
 * and the result is still written, marked "invalid" (with the reason) or "aborted".
 *
 * Files: results/<run-id>/result.json (result.h), logs/<vm>.log and logs/<vm>-load.log (each
 * child's stderr), and the VMs' disks under a work directory that is removed afterwards unless
 * `keep_work` is set. run.c owns the phases and processes, run_loop.c the measurement loop and
 * boundary snapshots, run_result.c the result document, live.c what a person watching sees. */
#ifndef HARNESS_RUN_H
#define HARNESS_RUN_H
#include "harness/collect.h"
#include "harness/infra.h"
#include "model/config.h"
#include "harness/plan.h"
#include "harness/platform.h"
#include "harness/proc.h"

#include <jansson.h>
#include <limits.h>
#include <stdint.h>

/* `vcons run`'s exit codes (besides 0 for a completed, valid run and 2 for usage). */
enum run_exit {
	RUN_EXIT_FAILURE = 1,  /* could not set up or start the run */
	RUN_EXIT_CONFIG = 3,   /* a CSU profile or rules file is wrong (message names file:line) */
	RUN_EXIT_INVALID = 4,  /* the run completed but is invalid: a VM or generator died */
	RUN_EXIT_PLATFORM = 5, /* the platform cannot run here (hv without a usable /dev/kvm) */
	RUN_EXIT_ABORTED = 130,
};

struct run_opts {
	const struct platform *platform;
	int csus;
	const char *csu_path, *rules_path;
	const char *out_dir; /* results root (default "results") */
	const char *build;   /* where the programs are (default: next to vcons) */
	int keep_work;
	double clock_scale; /* hv experiment: guests' clocks at this speed */
	int net_a, net_b;   /* VM addresses net_a.net_b.c.i (0: the default 127.10) */
	int live;           /* 1: redraw a live view (a terminal); 0: one line per interval */
	const char *save_snapshots; /* hv: snapshot every VM at the end of warm-up into DIR */
	const char *from_snapshots; /* hv: start every VM from DIR's snapshots (infra.h) */
};

#define RUN_MAX_VMS (PLAN_MAX_CSUS * NROLES)

struct run_vm {
	struct vm_plan plan;
	struct proc vm, gen;
	struct vm_data data;
	int started, gen_started, gen_done;
	int died;      /* exited before teardown */
	char qos[160]; /* the live view: QoS of the last finished interval */
	int stats_due; /* boundary whose hv statistics are awaited, -1: none */
	int64_t stats_asked_ns;
	char ctl[108];      /* its VMM's control socket now (a move gives it a new one) */
	int moves;          /* how often it moved to a new VMM process */
	double cpu_base;    /* CPU seconds of its earlier VMM processes */
	json_t *stats_base; /* hv counters of its earlier processes ("exits", "syscalls") */
};

struct run {
	struct run_opts opts;
	struct csu_profile profile;
	struct run_rules rules;
	struct plan_paths paths;
	char id[96];
	char dir[PATH_MAX]; /* results/<run-id> */
	int nvms;
	struct run_vm vm[RUN_MAX_VMS];
	int64_t t_start, t_vms, t_load, t_measure, t_end; /* host ns; 0 until reached */
	double load_s;                                    /* each generator's whole duration */
	const char *status;                               /* "valid", "invalid", "aborted" */
	json_t *failures;        /* reasons the run is invalid or aborted */
	volatile int *interrupt; /* set by SIGINT/SIGTERM */
	json_t *result;          /* the finished document */
	struct infra infra;      /* the VM moves of the infrastructure workload */
};

/* Runs once; fills r->result and writes it. Returns 0 (valid run) or a run_exit code. */
int run__once(const struct run_opts *o, struct run *r);
void run__free(struct run *r);

/* run_loop.c: from the start of the load until every generator has finished (or the run failed). */
void run__measure(struct run *r);
/* Host CPU seconds of a process so far (utime + stime), -1 when it is gone. */
double run__cpu_s(pid_t pid);
/* A VM's host CPU seconds so far, its earlier VMM processes' included. */
double run__vm_cpu_s(const struct run_vm *v);
int64_t run__now(void);
void run__fail(struct run *r, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* run_result.c: the result document from what the run collected. */
json_t *run__result(struct run *r);

/* live.c */
void live__phase(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void live__tick(struct run *r, int64_t now);
void live__interval(struct run *r, int k);

#endif
