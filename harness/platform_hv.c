/* harness/platform_hv.c: the bundled hypervisor: each VM is a vcons-hv process running the guest
 * program from the VM's disk (<dir>/bin), with the VM's directory as its root. Needs /dev/kvm. */
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
	/* vcons-hv loads the program from a host path: the copy on the VM's disk */
	rc |= plan__arg(c, "--") || plan__arg(c, "%s/bin/%s", g->vm->dir, g->program);
	snprintf(data, datalen, "/data");
	return rc;
}

const struct platform platform_hv = {
	.name = "hv",
	.summary = "the bundled hypervisor (default)",
	.vmm_clock = "hv guest clock",
	.ready_timeout_s = 120,
	.check = hv_check,
	.guest_cmd = hv_guest_cmd,
};
