/* harness/plan.h: the layout of a run before anything starts: for every VM of every CSU its name,
 * address, root directory and the exact command lines that provision it, run it and drive it, on
 * the chosen platform. Pure string building (no processes), so tests can check the commands.
 *
 * Contract: VM `role` of CSU c (0-based) is named "csu<c>-<role>", listens on
 * 127.10.<c+1>.<role+1>, and keeps all its state under "<work>/<name>/" (its disk; on hv its root
 * directory, with the guest program copied to /bin). Guest programs come from "<build>/guest/",
 * host programs (load generators, vcons-hv) from "<build>/". */
#ifndef HARNESS_PLAN_H
#define HARNESS_PLAN_H
#include "model/config.h"

#include <limits.h>

struct platform; /* platform.h */

#define PLAN_MAX_ARGS 96 /* a generator with a CSU's workload profile: 16 + 2 per key */
#define PLAN_MAX_CSUS CONFIG_MAX_CSUS

/* One command line: argv strings live in `buf`. */
struct cmdline {
	const char *argv[PLAN_MAX_ARGS];
	int argc;
	char buf[4096];
	size_t used;
	char cwd[PATH_MAX]; /* "" = the harness's */
};

struct vm_plan {
	int csu;
	enum role role;
	char name[32];
	char addr[32];
	char dir[PATH_MAX];       /* the VM's disk (host path) */
	char stats[PATH_MAX];     /* its VMM's statistics file; "" without a VMM */
	char control[108];        /* its VMM's control socket (paths->control); "" without */
	struct cmdline provision; /* argc 0: nothing to provision */
	struct cmdline server;    /* the VM itself */
	struct cmdline generator; /* argc 0: self-driven (java, idle) */
	int stdin_stop;           /* the VM stops when its stdin closes (java, idle) */
	int prints_ready;         /* a server: prints "ready" when it serves */
};

struct plan_paths {
	char build[PATH_MAX]; /* where vcons, vcons-hv and guest/ are */
	char work[PATH_MAX];  /* VM disks */
	double clock_scale;   /* hv: the guests' clocks run this many times as fast (1: honest) */
	int net_a, net_b;     /* VM addresses are net_a.net_b.<c+1>.<role+1> (default 127.10) */
	int control;          /* VMMs serve a control socket, "<work>/<name>.ctl" (moves need it) */
	int journal;          /* the mail generator journals what the server acknowledged, in
	                       * "<work>/<name>-load.journal", for `vcons-mail-load --verify` after the run
	                       */
};

/* Fills `out` for VM `role` of CSU `csu` with the load that runs for `load_s` seconds after a
 * ramp of `ramp_s`. 0, or -1 with a reason (a path or command line too long). */
int plan__vm(const struct csu_profile *p, const struct platform *pf, const struct plan_paths *paths,
             int csu, enum role role, double load_s, double ramp_s, struct vm_plan *out, char *err,
             size_t errlen);

/* Appends one argument (printf-style) to c; -1 when the line is full. */
__attribute__((format(printf, 2, 3))) int plan__arg(struct cmdline *c, const char *fmt, ...);

/* The command line as one shell-readable string (for logs and the result). */
void plan__describe(const struct cmdline *c, char *out, size_t len);

#endif
