/* qemu/launch.c: QEMU's command line and process for one vcons-qemu VM: the cloud kernel with the
 * per-run initramfs, virtio-blk disk, virtio-net with user networking and one host forward per port
 * (to the guest's own address, which init.sh puts on eth0), a virtio-serial bus with four ports
 * whose host ends are our Unix sockets, and the kernel console in a file (or on stderr with
 * --verbose). */
#include "lib/argv.h"
#include "qemu/vq.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char *const ch_name[4] = { "vcons.stdin", "vcons.stdout", "vcons.stderr",
	                                "vcons.ctl" };

int vq_kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int ok = ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
	close(fd);
	return ok;
}

void vq_last_line(const char *path, char *out, size_t len)
{
	out[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p)
			snprintf(out, len, "%s", p);
		if (strstr(p, "Kernel panic"))
			break; /* the cause, not the register dump after it */
	}
	(void)fclose(f);
}

static int build_argv(struct argv_buf *a, const struct vq_config *c, const struct vq_paths *p,
                      const char *accel)
{
	int kvm = !strcmp(accel, "kvm");
	int rc = argv_add(a, "%s", c->qemu) || argv_add(a, "-nodefaults") ||
	         argv_add(a, "-no-user-config") || argv_add(a, "-display") || argv_add(a, "none") ||
	         argv_add(a, "-monitor") || argv_add(a, "none") || argv_add(a, "-no-reboot") ||
	         argv_add(a, "-name") || argv_add(a, "%s", c->vm.name);
	rc |= argv_add(a, "-accel") || argv_add(a, "%s", accel) || argv_add(a, "-cpu") ||
	      argv_add(a, kvm ? "host" : "max");
	rc |= argv_add(a, "-smp") || argv_add(a, "%d", c->vm.vcpus) || argv_add(a, "-m") ||
	      argv_add(a, "%lluM", (unsigned long long)(c->vm.mem_bytes >> 20));
	rc |= argv_add(a, "-kernel") || argv_add(a, "%s", c->kernel) || argv_add(a, "-initrd") ||
	      argv_add(a, "/dev/fd/%d", p->fd_initrd);
	rc |= argv_add(a, "-append") || argv_add(a, "console=ttyS0 panic=-1 mitigations=off%s",
	                                         c->verbose ? "" : " quiet loglevel=3");
	rc |= argv_add(a, "-serial") ||
	      argv_add(a, "file:/dev/fd/%d", c->verbose ? 2 : p->fd_console);
	rc |= argv_add(a, "-drive") ||
	      argv_add(a, "file=%s,if=none,id=disk0,format=raw,cache=writeback", p->img) ||
	      argv_add(a, "-device") || argv_add(a, "virtio-blk-pci,drive=disk0");
	char fwd[4096];
	size_t u = (size_t)snprintf(fwd, sizeof(fwd), "user,id=net0");
	for (int i = 0; i < c->nports && u < sizeof(fwd); i++)
		u += (size_t)snprintf(fwd + u, sizeof(fwd) - u, ",hostfwd=tcp:%s:%d-%s:%d",
		                      c->vm.net, c->ports[i], c->vm.net, c->ports[i]);
	if (u >= sizeof(fwd))
		return -1;
	rc |= argv_add(a, "-netdev") || argv_add(a, "%s", fwd) || argv_add(a, "-device") ||
	      argv_add(a, "virtio-net-pci,netdev=net0,romfile=");
	rc |= argv_add(a, "-device") || argv_add(a, "virtio-rng-pci") || argv_add(a, "-device") ||
	      argv_add(a, "virtio-serial-pci,id=vser");
	for (int i = 0; i < 4; i++)
		rc |= argv_add(a, "-chardev") ||
		      argv_add(a, "socket,id=ch%d,path=%s", i, p->sock[i]) ||
		      argv_add(a, "-device") ||
		      argv_add(a, "virtserialport,bus=vser.0,chardev=ch%d,name=%s", i, ch_name[i]);
	return rc;
}

int vq_launch(const struct vq_config *c, const struct vq_paths *p, const char *accel, pid_t *pid,
              char *err, size_t errlen)
{
	char *words[128], text[16384];
	struct argv_buf a;
	argv_init(&a, words, 128, text, sizeof(text));
	if (build_argv(&a, c, p, accel) < 0) {
		snprintf(err, errlen, "QEMU command line too long");
		return VQ_EXIT_CONFIG;
	}
	if (c->verbose) {
		fprintf(stderr, "vcons-qemu: %s:", c->vm.name);
		for (int i = 0; i < a.n; i++)
			fprintf(stderr, " %s", a.v[i]);
		fputc('\n', stderr);
	}
	pid_t parent = getpid();
	pid_t child = fork();
	if (child < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return VQ_EXIT_OSERR;
	}
	if (child == 0) {
		/* QEMU must not outlive vcons-qemu, even when vcons-qemu is killed with SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		setpgid(0, 0); /* a terminal's Ctrl-C goes to vcons-qemu, which stops the guest */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(c->verbose ? 2 : nul, 1);
		if (!c->verbose)
			dup2(p->fd_log, 2);
		execvp(a.v[0], a.v);
		fprintf(stderr, "vcons-qemu: cannot run %s: %s\n", a.v[0], strerror(errno));
		_exit(127);
	}
	*pid = child;
	return 0;
}
