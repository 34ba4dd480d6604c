/* lib/vmopt.h: the launcher command line, defined once: "LAUNCHER [OPTIONS] -- PROGRAM [ARGS...]"
 * with the options vcons-hv and vcons-qemu share (--root, --net, --vcpus, --mem, --name, --stats,
 * --clock-scale: the ones harness/platform.c writes for either launcher), their names, value
 * syntax, help text and defaults. Each launcher states where it differs (its name and texts, its
 * limits and its wording of them) in a constant struct vmopt_spec, and parses its whole command
 * line, these options followed by its own table, with one vmopt_parse().
 *
 * Contract:
 * - vmopt_init() sets the defaults: --root ".", --net 127.0.0.1, --vcpus as given, --mem 256M,
 *   --name vm, no --stats, --clock-scale 1, no argv.
 * - vmopt_parse() is lib/opt.h's opt_parse() over the shared options followed by `own` (a table
 *   ending in OPT_END, of at most VMOPT_OWN_MAX entries before it), for a command named
 *   spec->prog that needs a PROGRAM: the same syntax, error lines and exit statuses
 *   (spec->value_status after a bad value), --help with spec->about, the shared options first and
 *   spec->footer. It returns what opt_parse() returns; on OPT_RUN, v->argv is PROGRAM and its
 *   arguments (argv's own storage, NULL-terminated).
 * - Values: --net is an IPv4 address A.B.C.D ("not an IPv4 address"); --vcpus an integer from 1 to
 *   spec->max_vcpus; --mem a lib/size.h size up to spec->max_mem ("not a size like 256M or 1G"),
 *   below spec->min_mem refused with spec->mem_why; --clock-scale a number from spec->min_scale to
 *   spec->max_scale, else refused with spec->scale_why. A value is stored only when valid. */
#ifndef LIB_VMOPT_H
#define LIB_VMOPT_H
#include "lib/opt.h"

#include <stdint.h>

#define VMOPT_OWN_MAX 32

/* Where a launcher differs; constant, one per launcher. */
struct vmopt_spec {
	const char *prog, *about, *footer; /* as in struct opt_cmd */
	int value_status;                  /* as in struct opt_cmd: 0 is OPT_USAGE_STATUS */
	int max_vcpus;
	const char *vcpus_def; /* --vcpus's default as --help shows it */
	uint64_t min_mem, max_mem;
	const char *mem_why; /* why a --mem below min_mem is refused */
	double min_scale, max_scale;
	const char *scale_why; /* why a --clock-scale outside the range is refused */
	bool program_optional; /* PROGRAM may be absent (vcons-hv --restore): the caller checks */
};

struct vmopt {
	const char *root;   /* the VM's root directory: the paths the guest opens are inside it */
	const char *net;    /* the VM's IPv4 address, where the host reaches its servers */
	int vcpus;          /* virtual CPUs the guest sees */
	uint64_t mem_bytes; /* guest memory */
	const char *name;   /* the VM's name in messages and statistics */
	const char *stats;  /* JSON statistics file, or NULL */
	double clock_scale; /* the guest's clocks run this many times as fast as the host's */
	char **argv;        /* PROGRAM and its arguments */
	const struct vmopt_spec *spec; /* set by vmopt_parse() for the value checks */
};

void vmopt_init(struct vmopt *v, int vcpus);
int vmopt_parse(const struct vmopt_spec *spec, const struct opt *own, struct vmopt *v, int argc,
                char **argv);

#endif
