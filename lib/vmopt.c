/* lib/vmopt.c: the options vcons-hv and vcons-qemu share, and their parsing with a launcher's own
 * table (see vmopt.h). */
#include "lib/vmopt.h"

#include "lib/num.h"
#include "lib/size.h"

#include <stdio.h>
#include <string.h>

#define VMOPT_N 7 /* the shared options */

void vmopt_init(struct vmopt *v, int vcpus)
{
	*v = (struct vmopt){ .root = ".",
		             .net = "127.0.0.1",
		             .vcpus = vcpus,
		             .mem_bytes = 256ull << 20,
		             .name = "vm",
		             .clock_scale = 1 };
}

static const char *parse_net(const char *arg, void *dst)
{
	unsigned a, b, c, d;
	char tail;
	// NOLINTNEXTLINE(cert-err34-c): 3 digits at most: no overflow
	if (sscanf(arg, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return "not an IPv4 address";
	((struct vmopt *)dst)->net = arg;
	return NULL;
}

static const char *parse_mem(const char *arg, void *dst)
{
	struct vmopt *v = dst;
	uint64_t bytes;
	if (size_parse(arg, v->spec->max_mem, &bytes) < 0)
		return "not a size like 256M or 1G";
	if (bytes < v->spec->min_mem)
		return v->spec->mem_why;
	v->mem_bytes = bytes;
	return NULL;
}

static const char *parse_scale(const char *arg, void *dst)
{
	struct vmopt *v = dst;
	double f;
	if (num_double(arg, v->spec->min_scale, v->spec->max_scale, &f) < 0)
		return v->spec->scale_why;
	v->clock_scale = f;
	return NULL;
}

/* Writes the shared options' VMOPT_N entries into t. */
static void shared_opts(struct opt *t, struct vmopt *v)
{
	const struct opt shared[VMOPT_N] = {
		{ OPT_STRING("root", &v->root), .arg = "DIR",
		  .help = "the VM's root directory: the paths the guest opens are inside it",
		  .def = "." },
		{ OPT_CALL("net", parse_net, v), .arg = "A.B.C.D",
		  .help = "the VM's IPv4 address, where the host reaches its servers",
		  .def = "127.0.0.1" },
		{ OPT_INT("vcpus", &v->vcpus, 1, v->spec->max_vcpus),
		  .help = "virtual CPUs the guest sees", .def = v->spec->vcpus_def },
		{ OPT_CALL("mem", parse_mem, v), .arg = "SIZE",
		  .help = "guest memory, e.g. 256M, 1G", .def = "256M" },
		{ OPT_STRING("name", &v->name), .arg = "NAME",
		  .help = "the VM's name in messages and statistics", .def = "vm" },
		{ OPT_STRING("stats", &v->stats), .arg = "FILE",
		  .help = "write statistics as JSON at exit and on SIGUSR1" },
		{ OPT_CALL("clock-scale", parse_scale, v), .arg = "F",
		  .help = "the guest's clocks run F times as fast as the host's", .def = "1" },
	};
	memcpy(t, shared, sizeof(shared));
}

int vmopt_parse(const struct vmopt_spec *spec, const struct opt *own, struct vmopt *v, int argc,
                char **argv)
{
	struct opt all[VMOPT_N + VMOPT_OWN_MAX + 1];
	int n = 0;
	while (n <= VMOPT_OWN_MAX && own[n].kind != OPT_KIND_END)
		n++;
	if (n > VMOPT_OWN_MAX) {
		fprintf(stderr, "%s: more than %d options of its own\n", spec->prog, VMOPT_OWN_MAX);
		return OPT_USAGE_STATUS;
	}
	v->spec = spec;
	shared_opts(all, v);
	memcpy(all + VMOPT_N, own, (size_t)(n + 1) * sizeof(*own));
	struct opt_cmd cmd = { .prog = spec->prog,
		               .synopsis = "[OPTIONS] -- PROGRAM [ARGS...]",
		               .about = spec->about,
		               .footer = spec->footer,
		               .opts = all,
		               .args = "PROGRAM",
		               .args_optional = spec->program_optional,
		               .value_status = spec->value_status };
	int rc = opt_parse(&cmd, argc, argv);
	if (rc == OPT_RUN)
		v->argv = argv + cmd.argi;
	return rc;
}
