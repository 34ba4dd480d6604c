/* harness/platform_native.c: the native platform: each VM's guest program runs as a plain host
 * process in the VM's directory, the baseline without virtualization. No VMM: no statistics, and
 * the programs read the host clock. */
#include "harness/platform.h"

#include <stdio.h>

static int native_check(const char *build, char *err, size_t len)
{
	(void)build, (void)err, (void)len;
	return 0;
}

static int native_guest_cmd(struct cmdline *c, const struct guest_spec *g, char *data,
                            size_t datalen)
{
	int rc = plan__arg(c, "%s/guest/%s", g->paths->build, g->program);
	if (snprintf(data, datalen, "%s/data", g->vm->dir) >= (int)datalen)
		rc = -1;
	return rc;
}

const struct platform platform_native = {
	.name = "native",
	.summary = "the same programs as plain processes",
	.vmm_clock = NULL,
	.ready_timeout_s = 120,
	.check = native_check,
	.guest_cmd = native_guest_cmd,
};
