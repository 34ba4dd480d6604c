/* harness/platform_hv.c: the bundled hypervisor: each VM is a vcons-hv process running the guest
 * program from the VM's disk (<dir>/bin), with the VM's directory as its root. Needs /dev/kvm.
 * A VM moves (harness/infra.h) to a new vcons-hv with the same options: `--restore SNAPSHOT` or
 * `--incoming ADDR:PORT`. */
#include "harness/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int hv_check(const char *build, char *err, size_t len)
{
	(void)build;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		snprintf(err, len, "--platform hv needs /dev/kvm: %s (use --platform native)",
		         strerror(errno));
		return -1;
	}
	close(kvm);
	return 0;
}

static int hv_guest_cmd(struct cmdline *c, const struct guest_spec *g, char *data, size_t datalen)
{
	int rc = platform__vmm_cmd(c, g, "vcons-hv");
	double scale = g->paths->clock_scale;
	if (scale > 0 && scale != 1)
		rc |= plan__arg(c, "--clock-scale") || plan__arg(c, "%g", scale);
	if (g->control && *g->control)
		rc |= plan__arg(c, "--control") || plan__arg(c, "%s", g->control);
	/* vcons-hv loads the program from a host path: the copy on the VM's disk */
	rc |= plan__arg(c, "--") || plan__arg(c, "%s/bin/%s", g->vm->dir, g->program);
	snprintf(data, datalen, "/data");
	return rc;
}

/* The server's vcons-hv options up to "--", its control socket replaced, then mode and arg. */
static int hv_move_cmd(struct cmdline *c, const struct cmdline *server, const char *mode,
                       const char *arg, const char *control)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cwd, sizeof(c->cwd), "%s", server->cwd);
	int rc = 0;
	for (int i = 0; i < server->argc && strcmp(server->argv[i], "--"); i++) {
		if (!strcmp(server->argv[i], "--control")) {
			i++;
			continue;
		}
		rc |= plan__arg(c, "%s", server->argv[i]);
	}
	rc |= plan__arg(c, "--control") || plan__arg(c, "%s", control) ||
	      plan__arg(c, "%s", mode) || plan__arg(c, "%s", arg);
	return rc;
}

const struct platform platform_hv = {
	.name = "hv",
	.summary = "the bundled hypervisor (default)",
	.vmm_clock = "hv guest clock",
	.ready_timeout_s = 120,
	.check = hv_check,
	.guest_cmd = hv_guest_cmd,
	.move_cmd = hv_move_cmd,
};
