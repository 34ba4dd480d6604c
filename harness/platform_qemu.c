/* harness/platform_qemu.c: full Linux guests: each VM is a vcons-qemu process booting a Linux guest
 * that runs the guest program from its own /bin, with the VM's ports forwarded from its address.
 * Under TCG guests boot in seconds each on a shared CPU, hence the long ready time-out. */
#include "harness/platform.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int qemu_check(const char *build, char *err, size_t len)
{
	char launcher[PATH_MAX];
	snprintf(launcher, sizeof(launcher), "%s/vcons-qemu", build);
	if (access(launcher, X_OK) < 0) {
		snprintf(err, len, "--platform qemu needs %s: %s", launcher, strerror(errno));
		return -1;
	}
	return 0;
}

static int qemu_guest_cmd(struct cmdline *c, const struct guest_spec *g, char *data, size_t datalen)
{
	int rc = platform__vmm_cmd(c, g, "vcons-qemu");
	for (int i = 0; g->ports[i]; i++)
		rc |= plan__arg(c, "--forward") || plan__arg(c, "%d", g->ports[i]);
	rc |= plan__arg(c, "--") || plan__arg(c, "/bin/%s", g->program);
	snprintf(data, datalen, "/data");
	return rc;
}

/* What vcons-qemu chose (kvm or tcg) and how long the guest took to boot. */
static void qemu_record_vm(json_t *vm, const char *stats_path)
{
	json_t *st = json_load_file(stats_path, 0, NULL);
	if (!st)
		return;
	json_object_set(vm, "accel", json_object_get(st, "accel"));
	json_object_set(vm, "boot_ms", json_object_get(st, "boot_ms"));
	json_decref(st);
}

const struct platform platform_qemu = {
	.name = "qemu",
	.summary = "full Linux guests under QEMU (KVM where it can, else TCG)",
	.vmm_clock = "qemu guest clock",
	.ready_timeout_s = 600,
	.check = qemu_check,
	.guest_cmd = qemu_guest_cmd,
	.record_vm = qemu_record_vm,
};
