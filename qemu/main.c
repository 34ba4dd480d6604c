/* qemu/main.c: the `vcons-qemu` command: options (those of vcons-hv plus QEMU's own), the
 * accelerator probe, and the event loop of one VM: the guest program's stdout/stderr to ours, our
 * stdin to the program (EOF included), signals (SIGTERM/SIGINT/SIGHUP stop the program, SIGUSR1
 * writes statistics), boot time-out, and the program's exit status as our own. */
#include "lib/clock.h"
#include "lib/num.h"
#include "lib/vmopt.h"
#include "qemu/vq.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char about[] =
    "Runs a static x86-64 Linux PROGRAM (a path inside --root) in a full Linux guest under QEMU "
    "and\n"
    "exits with its status. The guest's disk is ROOT.img, made from --root with mkfs.ext4 on first "
    "use\n"
    "and reused afterwards; ROOT/bin is copied into it at every start.\n"
    "\n";
static const char footer[] =
    "\n"
    "Exit status: the program's; 128+N when it was killed by signal N; 2 usage; 66 program, "
    "directory,\n"
    "kernel or initramfs missing; 69 QEMU missing, or --accel kvm without a usable /dev/kvm; 70 "
    "the guest\n"
    "failed to boot or ended without reporting a status; 71 host resource error; 78 bad option "
    "value\n"
    "(e.g. too little memory).\n"
    "\n"
    "--mem is at least 128M; --clock-scale only 1 (QEMU guests run on the host's clock), accepted\n"
    "for vcons-hv's command line.\n";

static const char *const accels[] = { "auto", "kvm", "tcg", NULL };

static const char *parse_forward(const char *arg, void *dst)
{
	struct vq_config *c = dst;
	int port;
	if (num_int(arg, 1, 65535, &port) < 0)
		return "not a TCP port";
	if (c->nports == VQ_MAX_PORTS)
		return "too many ports, at most 32";
	c->ports[c->nports++] = port;
	return NULL;
}

/* Where vcons-qemu differs from vcons-hv in the shared options (lib/vmopt.h). */
static const struct vmopt_spec qemu_spec = {
	.prog = "vcons-qemu",
	.about = about,
	.footer = footer,
	.value_status = VQ_EXIT_CONFIG,
	.max_vcpus = 255,
	.vcpus_def = "1",
	.min_mem = VQ_MIN_MEM,
	.max_mem = VQ_MAX_SIZE,
	.mem_why = "too little memory for a Linux guest (at least 128M)",
	.min_scale = 1,
	.max_scale = 1,
	.scale_why = "QEMU guests run on the host's clock, only 1",
};

/* OPT_RUN, or the exit status after --help or a bad command line (78 for a bad value). */
static int parse_args(int argc, char **argv, struct vq_config *c, double *probe)
{
	int accel = 0;
	bool verbose = false;
	const struct opt own[] = {
		{ OPT_CALL("forward", parse_forward, c), .arg = "PORT",
		  .help = "forward host A.B.C.D:PORT to the guest's A.B.C.D:PORT (repeatable)" },
		{ OPT_CHOICE("accel", &accel, accels), .arg = "auto|kvm|tcg",
		  .help = "auto: KVM when /dev/kvm works and a guest boots under it within\n"
		          "--kvm-probe seconds, else TCG",
		  .def = "auto" },
		{ OPT_DOUBLE("kvm-probe", probe, 0, 86400), .dmin_open = true, .arg = "S",
		  .help = "seconds a KVM boot may take before auto falls back to TCG",
		  .def = "20" },
		{ OPT_DOUBLE("boot-timeout", &c->boot_timeout, 0, 86400), .dmin_open = true,
		  .arg = "S", .help = "seconds from QEMU's start to the guest's init",
		  .def = "120" },
		{ OPT_DOUBLE("grace", &c->grace, 0, 86400), .dmin_open = true, .arg = "S",
		  .help = "seconds the guest gets to end after SIGTERM", .def = "15" },
		{ OPT_SIZE("disk-size", &c->disk_bytes, 16ull << 20, VQ_MAX_SIZE),
		  .help = "size of a new disk image, sparse", .def = "4G" },
		{ OPT_STRING("kernel", &c->kernel), .arg = "FILE", .help = "kernel image",
		  .def = "build/qemu/vmlinuz next to this program" },
		{ OPT_STRING("initrd", &c->initrd), .arg = "FILE", .help = "base initramfs",
		  .def = "build/qemu/initramfs.gz" },
		{ OPT_STRING("qemu", &c->qemu), .arg = "PROGRAM", .help = "the QEMU binary",
		  .def = "qemu-system-x86_64" },
		{ OPT_FLAG("verbose", &verbose),
		  .help = "QEMU's command line and the kernel console on stderr" },
		OPT_END,
	};
	vmopt_init(&c->vm, 1);
	int rc = vmopt_parse(&qemu_spec, own, &c->vm, argc, argv);
	c->accel = accels[accel];
	c->verbose = verbose;
	return rc;
}

/* The files the VM needs exist: 66 with one message otherwise. */
static int check_inputs(const struct vq_config *c)
{
	struct stat st;
	char path[PATH_MAX];
	if (stat(c->vm.root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vcons-qemu: %s: root directory missing\n", c->vm.root);
		return VQ_EXIT_NOINPUT;
	}
	snprintf(path, sizeof(path), "%s/%s", c->vm.root, c->vm.argv[0]);
	if (c->vm.argv[0][0] != '/' || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "vcons-qemu: %s: program missing (no file %s)\n", c->vm.argv[0],
		        path);
		return VQ_EXIT_NOINPUT;
	}
	const char *files[2] = { c->kernel, c->initrd }, *what[2] = { "kernel", "initramfs" };
	for (int i = 0; i < 2; i++) {
		if (stat(files[i], &st) < 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "vcons-qemu: %s: %s missing (build it with make)\n",
			        files[i], what[i]);
			return VQ_EXIT_NOINPUT;
		}
	}
	return 0;
}

static int in_path(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	char dir[PATH_MAX];
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, prog);
		if (access(dir, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* ---- one VM run ---------------------------------------------------------------------------- */

enum result { R_EXIT, R_NOBOOT, R_DIED, R_STOPPED, R_HOSTERR };

struct vm {
	const struct vq_config *c;
	struct vq_paths *p;
	const char *accel;
	int sfd;
	pid_t qemu;
	int qemu_done, qemu_status;
	int fd[4];
	int64_t t0, boot_ns, kill_at;
	int booted, have_exit, exit_status, stop_sig, timed_out;
	char fail[256];
	char ctl[512];
	size_t ctllen;
	char in[4096];
	size_t inlen, inoff;
	int stdin_eof;
	int64_t guest_ns, guest_host_ns;
};

static void write_stats(const struct vm *v)
{
	const struct vq_config *c = v->c;
	if (!c->vm.stats)
		return;
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:i, s:I}", "type", "qemu_stats", "name",
	                      c->vm.name, "accel", v->accel, "host_ns", (json_int_t)now_ns(),
	                      "vcpus", c->vm.vcpus, "mem_mb", (json_int_t)(c->vm.mem_bytes >> 20));
	if (v->booted)
		json_object_set_new(o, "boot_ms", json_integer((v->boot_ns - v->t0) / 1000000));
	if (v->guest_host_ns) {
		/* the guest's clock, paired with the host's when its answer came */
		json_object_set_new(o, "host_ns", json_integer(v->guest_host_ns));
		json_object_set_new(o, "guest_ns", json_integer(v->guest_ns));
	}
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->vm.stats);
	if (json_dump_file(o, tmp, JSON_COMPACT) < 0 || rename(tmp, c->vm.stats) < 0)
		fprintf(stderr, "vcons-qemu: %s: cannot write statistics to %s\n", c->vm.name,
		        c->vm.stats);
	json_decref(o);
}

static void ctl_line(struct vm *v, char *line)
{
	if (!strcmp(line, "booted")) {
		v->booted = 1;
		v->boot_ns = now_ns();
	} else if (!strncmp(line, "exit ", 5)) {
		v->have_exit = 1;
		// NOLINTNEXTLINE(cert-err34-c): our guest init's exit line
		v->exit_status = atoi(line + 5);
	} else if (!strncmp(line, "fail ", 5)) {
		snprintf(v->fail, sizeof(v->fail), "%s", line + 5);
	} else if (!strncmp(line, "clock ", 6)) {
		v->guest_ns = strtoll(line + 6, NULL, 10);
		v->guest_host_ns = now_ns();
		write_stats(v);
	}
}

static void on_ctl(struct vm *v)
{
	ssize_t n = read(v->fd[VQ_CH_CTL], v->ctl + v->ctllen, sizeof(v->ctl) - 1 - v->ctllen);
	if (n <= 0) {
		close(v->fd[VQ_CH_CTL]);
		v->fd[VQ_CH_CTL] = -1;
		return;
	}
	v->ctllen += (size_t)n;
	v->ctl[v->ctllen] = 0;
	char *nl;
	while ((nl = strchr(v->ctl, '\n'))) {
		*nl = 0;
		ctl_line(v, v->ctl);
		v->ctllen -= (size_t)(nl + 1 - v->ctl);
		memmove(v->ctl, nl + 1, v->ctllen + 1);
	}
	if (v->ctllen == sizeof(v->ctl) - 1)
		v->ctllen = 0; /* an overlong line: drop it */
}

/* Copies the guest's stdout or stderr to ours. */
static void on_output(struct vm *v, int ch, int out)
{
	char buf[65536];
	ssize_t n = read(v->fd[ch], buf, sizeof(buf));
	if (n <= 0) {
		close(v->fd[ch]);
		v->fd[ch] = -1;
		return;
	}
	/* a closed stdout drops the guest's output, as a pipe's reader going away would */
	vq_write_all(out, buf, (size_t)n);
}

/* Our stdin to the guest program's, without ever blocking the loop; EOF closes the port. */
static void on_stdin(struct vm *v, short rev_in, short rev_sock)
{
	if (v->inoff == v->inlen && (rev_in & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(0, v->in, sizeof(v->in));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			/* half-close: QEMU reads what is queued, then the EOF, and only then tells
			 * the guest that the host side closed (a full close would drop the queued
			 * bytes) */
			v->stdin_eof = 1;
			shutdown(v->fd[VQ_CH_IN], SHUT_WR);
			return;
		}
		v->inoff = 0;
		v->inlen = (size_t)n;
	}
	if (v->inoff < v->inlen && (rev_sock & POLLOUT)) {
		ssize_t w = write(v->fd[VQ_CH_IN], v->in + v->inoff, v->inlen - v->inoff);
		if (w > 0)
			v->inoff += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			v->stdin_eof = 1;
	}
}

static void send_ctl(struct vm *v, const char *msg)
{
	if (v->fd[VQ_CH_CTL] >= 0)
		vq_write_all(v->fd[VQ_CH_CTL], msg, strlen(msg));
}

static void on_signal(struct vm *v)
{
	struct signalfd_siginfo si;
	while (read(v->sfd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD) {
			int st;
			if (!v->qemu_done && waitpid(v->qemu, &st, WNOHANG) == v->qemu) {
				v->qemu_done = 1;
				v->qemu_status = st;
			}
		} else if (sig == SIGUSR1) {
			write_stats(v);
			if (v->booted && !v->have_exit)
				send_ctl(v, "clock\n");
		} else if (!v->stop_sig) {
			v->stop_sig = sig;
			if (v->booted && !v->have_exit) {
				char msg[32]; /* SIGTERM, SIGINT or SIGHUP, to the program */
				snprintf(msg, sizeof(msg), "sig %d\n", sig);
				send_ctl(v, msg);
				v->kill_at = now_ns() + (int64_t)(v->c->grace * 1e9);
			} else {
				v->kill_at = now_ns(); /* nothing to stop cleanly yet */
			}
		}
	}
}

static void on_timers(struct vm *v)
{
	int64_t now = now_ns();
	if (!v->booted && !v->timed_out && now - v->t0 > (int64_t)(v->c->boot_timeout * 1e9)) {
		v->timed_out = 1;
		v->kill_at = now;
	}
	if (v->have_exit && !v->kill_at)
		v->kill_at = now + 10 * (int64_t)1000000000; /* the guest is powering off */
	if (v->kill_at && now >= v->kill_at && !v->qemu_done) {
		kill(v->qemu, SIGKILL);
		v->kill_at = now + 3600 * (int64_t)1000000000;
	}
}

static void event_loop(struct vm *v)
{
	while (!v->qemu_done || v->fd[VQ_CH_OUT] >= 0 || v->fd[VQ_CH_ERR] >= 0) {
		struct pollfd pf[6] = {
			{ .fd = v->sfd, .events = POLLIN },
			{ .fd = v->fd[VQ_CH_OUT], .events = POLLIN },
			{ .fd = v->fd[VQ_CH_ERR], .events = POLLIN },
			{ .fd = v->fd[VQ_CH_CTL], .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
			{ .fd = -1, .events = POLLOUT },
		};
		int feed = v->booted && !v->stdin_eof && v->fd[VQ_CH_IN] >= 0;
		if (feed && v->inoff == v->inlen)
			pf[4].fd = 0;
		if (feed && v->inoff < v->inlen)
			pf[5].fd = v->fd[VQ_CH_IN];
		if (poll(pf, 6, 100) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			on_signal(v);
		if (pf[1].revents)
			on_output(v, VQ_CH_OUT, 1);
		if (pf[2].revents)
			on_output(v, VQ_CH_ERR, 2);
		if (pf[3].revents)
			on_ctl(v);
		if (pf[4].revents || pf[5].revents)
			on_stdin(v, pf[4].revents, pf[5].revents);
		if (v->qemu_done && v->fd[VQ_CH_CTL] >= 0) {
			close(v->fd[VQ_CH_CTL]);
			v->fd[VQ_CH_CTL] = -1;
		}
		on_timers(v);
	}
}

static enum result classify(const struct vm *v)
{
	if (v->have_exit)
		return R_EXIT;
	if (v->stop_sig)
		return R_STOPPED;
	return v->booted ? R_DIED : R_NOBOOT;
}

/* QEMU has connected: the socket names go, and with them the directory; from here on a SIGKILL of
 * vcons-qemu leaves no file behind (the others were unlinked before QEMU started). */
static void hide_files(struct vm *v)
{
	for (int i = 0; i < 4; i++)
		unlink(v->p->sock[i]);
	rmdir(v->p->dir);
}

/* Boots the VM with `accel` and runs the program to its end. */
static enum result run_vm(struct vm *v, const char *accel, char *err, size_t errlen)
{
	v->accel = accel;
	int lfd[4];
	mkdir(v->p->dir, 0700); /* again after a failed KVM probe, whose connection removed it */
	for (int i = 0; i < 4; i++) {
		v->fd[i] = -1;
		if ((lfd[i] = vq_listen(v->p->sock[i])) < 0) {
			snprintf(err, errlen, "cannot listen on %s: %s", v->p->sock[i],
			         strerror(errno));
			while (i-- > 0)
				close(lfd[i]);
			return R_HOSTERR;
		}
	}
	v->t0 = now_ns();
	int rc = vq_launch(v->c, v->p, accel, &v->qemu, err, errlen);
	int a = rc ? -3 : vq_accept_all(lfd, v->fd, 4, v->qemu, 30);
	for (int i = 0; i < 4; i++)
		close(lfd[i]);
	if (rc)
		return R_HOSTERR;
	hide_files(v);
	if (a < 0) {
		if (a == -1) {
			kill(v->qemu, SIGKILL);
			waitpid(v->qemu, NULL, 0);
		}
		v->qemu_done = 1;
		return R_NOBOOT;
	}
	event_loop(v);
	if (!v->qemu_done) {
		kill(v->qemu, SIGKILL);
		waitpid(v->qemu, &v->qemu_status, 0);
		v->qemu_done = 1;
	}
	for (int i = 0; i < 4; i++)
		if (v->fd[i] >= 0)
			close(v->fd[i]);
	return classify(v);
}

/* The verdict of an earlier KVM boot probe, kept next to the initramfs: valid while its file is
 * newer than the host's boot. Returns "kvm", "tcg" or NULL. */
static const char *probe_cached(const struct vq_config *c, char *path, size_t len)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", c->initrd);
	snprintf(path, len, "%s/kvm-probe", dirname(dir));
	FILE *f = fopen("/proc/stat", "r");
	long long btime = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		// NOLINTNEXTLINE(cert-err34-c): the kernel's /proc numbers
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	if (f)
		(void)fclose(f);
	struct stat st;
	char verdict[8] = "";
	f = stat(path, &st) == 0 && st.st_mtime > btime ? fopen(path, "r") : NULL;
	if (f) {
		if (!fgets(verdict, sizeof(verdict), f))
			verdict[0] = 0;
		(void)fclose(f);
	}
	return !strncmp(verdict, "kvm", 3) ? "kvm" : !strncmp(verdict, "tcg", 3) ? "tcg" : NULL;
}

static void probe_save(const char *path, const char *verdict)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", verdict);
		(void)fclose(f); /* a cache: a lost verdict is probed again next time */
	}
}

/* Runs the VM with the accelerator --accel asks for; auto probes KVM (once per host boot) with a
 * short boot time-out and falls back to TCG. Prints the one line that says which. */
static enum result run_accel(struct vm *v, int kvm, int fake_kvm, double probe, char *err,
                             size_t errlen)
{
	struct vq_config *c = (struct vq_config *)v->c;
	const char *name = c->vm.name;
	int is_auto = !strcmp(c->accel, "auto");
	if (!strcmp(c->accel, "tcg") || !kvm) {
		fprintf(stderr, "vcons-qemu: %s: accel tcg%s\n", name,
		        is_auto ? " (no usable /dev/kvm)" : "");
		return run_vm(v, "tcg", err, errlen);
	}
	if (!is_auto) {
		fprintf(stderr, "vcons-qemu: %s: accel kvm\n", name);
		return run_vm(v, "kvm", err, errlen);
	}
	char cache[PATH_MAX];
	const char *known = probe_cached(c, cache, sizeof(cache));
	if (fake_kvm) {
		known = NULL;
		snprintf(cache, sizeof(cache), "/dev/null");
	}
	if (known) {
		fprintf(stderr, "vcons-qemu: %s: accel %s (KVM probe since the host booted: %s)\n",
		        name, known, cache);
		return run_vm(v, known, err, errlen);
	}
	fprintf(stderr,
	        "vcons-qemu: %s: accel kvm (probe: TCG unless the guest boots within %g s)\n", name,
	        probe);
	double boot_timeout = c->boot_timeout;
	c->boot_timeout = probe < boot_timeout ? probe : boot_timeout;
	enum result r = run_vm(v, "kvm", err, errlen);
	c->boot_timeout = boot_timeout;
	if (v->booted)
		probe_save(cache, "kvm");
	if (r != R_NOBOOT || v->stop_sig)
		return r;
	probe_save(cache, "tcg");
	char why[512] = "", path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", v->p->fd_log);
	if (!v->timed_out)
		vq_last_line(path, why, sizeof(why));
	if (!*why)
		snprintf(why, sizeof(why), "no boot within %g s", probe);
	fprintf(stderr, "vcons-qemu: %s: KVM did not boot the guest (%s): accel tcg\n", name, why);
	int logs[2] = { v->p->fd_log, v->p->fd_console };
	for (int i = 0; i < 2; i++) {
		if (ftruncate(logs[i], 0) < 0 || lseek(logs[i], 0, SEEK_SET) < 0)
			continue; /* only the messages of the failed KVM boot would stay */
	}
	*v = (struct vm){ .c = c, .p = v->p, .sfd = v->sfd };
	return run_vm(v, "tcg", err, errlen);
}

/* ---- main ---------------------------------------------------------------------------------- */

static void default_file(const char **opt, const char *name, char *buf, size_t len)
{
	if (*opt)
		return;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(buf, len, "%s/qemu/%s", dirname(exe), name);
	*opt = buf;
}

static int make_paths(struct vq_paths *p, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(p->dir, sizeof(p->dir), "%s/vcons-qemu.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(p->dir)) {
		snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
		return VQ_EXIT_OSERR;
	}
	/* a copy: gcc's -Wrestrict (under ASan) cannot tell p->dir from the p->sock[i] written */
	char dir[sizeof(p->dir)];
	memcpy(dir, p->dir, sizeof(dir));
	static const char *const n[4] = { "in", "out", "err", "ctl" };
	for (int i = 0; i < 4; i++)
		snprintf(p->sock[i], sizeof(p->sock[i]), "%s/%s.sock", dir, n[i]);
	snprintf(p->initrd, sizeof(p->initrd), "%s/initrd", dir);
	snprintf(p->console, sizeof(p->console), "%s/console.log", dir);
	snprintf(p->log, sizeof(p->log), "%s/qemu.log", dir);
	return 0;
}

/* Opens the per-run files QEMU needs and removes their names at once. */
static int open_hidden(struct vq_paths *p, char *err, size_t errlen)
{
	p->fd_initrd = open(p->initrd, O_RDONLY);
	p->fd_console = open(p->console, O_RDWR | O_CREAT | O_TRUNC, 0600);
	p->fd_log = open(p->log, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(p->initrd);
	unlink(p->console);
	unlink(p->log);
	if (p->fd_initrd < 0 || p->fd_console < 0 || p->fd_log < 0) {
		snprintf(err, errlen, "cannot open files in %s: %s", p->dir, strerror(errno));
		return VQ_EXIT_OSERR;
	}
	return 0;
}

static void remove_paths(const struct vq_paths *p)
{
	for (int i = 0; i < 4; i++)
		unlink(p->sock[i]);
	unlink(p->initrd);
	unlink(p->console);
	unlink(p->log);
	rmdir(p->dir);
}

/* The exit status for a run's result, with its one message. */
static int outcome(struct vm *v, enum result r, const char *err)
{
	char qlog[512] = "", con[512] = "", path[64];
	int fds[2] = { v->p->fd_log, v->p->fd_console };
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
		vq_last_line(path, i ? con : qlog, sizeof(qlog));
	}
	switch (r) {
	case R_EXIT: return v->exit_status;
	case R_STOPPED: return 128 + v->stop_sig;
	case R_HOSTERR:
		fprintf(stderr, "vcons-qemu: %s: %s\n", v->c->vm.name, err);
		return VQ_EXIT_OSERR;
	case R_NOBOOT:
		if (strstr(qlog, "host forwarding") || strstr(qlog, "Address already in use") ||
		    strstr(qlog, "lock")) {
			fprintf(stderr, "vcons-qemu: %s: QEMU: %s\n", v->c->vm.name, qlog);
			return VQ_EXIT_OSERR;
		}
		if (v->timed_out)
			fprintf(stderr, "vcons-qemu: %s: guest failed to boot within %g s (%s)\n",
			        v->c->vm.name, v->c->boot_timeout,
			        *con ? con : "no console output");
		else
			fprintf(stderr, "vcons-qemu: %s: guest failed to boot: %s\n", v->c->vm.name,
			        *qlog  ? qlog
			        : *con ? con
			               : "QEMU ended before the kernel wrote to its console (a bad "
			                 "kernel, or too little memory?)");
		return VQ_EXIT_NOBOOT;
	case R_DIED:
	default:
		fprintf(stderr, "vcons-qemu: %s: guest ended without reporting a status: %s\n",
		        v->c->vm.name,
		        *v->fail ? v->fail
		        : *con   ? con
		                 : "no console output");
		return VQ_EXIT_NOBOOT;
	}
}

int main(int argc, char **argv)
{
	/* the shared options' defaults are lib/vmopt.h's */
	struct vq_config c = { .accel = "auto",
		               .qemu = "qemu-system-x86_64",
		               .disk_bytes = 4ull << 30,
		               .boot_timeout = 120,
		               .grace = 15 };
	double probe = 20;
	/* From the start: the harness may ask for statistics (SIGUSR1) at any time. */
	sigset_t set;
	sigemptyset(&set);
	int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int rc = parse_args(argc, argv, &c, &probe);
	if (rc != OPT_RUN)
		return rc;
	char kbuf[PATH_MAX], ibuf[PATH_MAX], err[512];
	default_file(&c.kernel, "vmlinuz", kbuf, sizeof(kbuf));
	default_file(&c.initrd, "initramfs.gz", ibuf, sizeof(ibuf));
	if ((rc = check_inputs(&c)))
		return rc;
	if (!in_path(c.qemu)) {
		fprintf(stderr, "vcons-qemu: %s not found (install qemu-system-x86)\n", c.qemu);
		return VQ_EXIT_UNAVAIL;
	}
	/* Test hook: pretend /dev/kvm works, so that QEMU's KVM start fails and auto falls back. */
	int fake_kvm = getenv("VCONS_QEMU_ASSUME_KVM") != NULL;
	int kvm = vq_kvm_usable() || fake_kvm;
	if (!strcmp(c.accel, "kvm") && !kvm) {
		fprintf(stderr, "vcons-qemu: --accel kvm: /dev/kvm is missing or not usable\n");
		return VQ_EXIT_UNAVAIL;
	}

	struct vq_paths p = { .fd_initrd = -1, .fd_console = -1, .fd_log = -1 };
	struct vm v = { .c = &c, .p = &p };
	v.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (v.sfd < 0 || (rc = make_paths(&p, err, sizeof(err))) ||
	    (rc = vq_disk_ensure(&c, p.img, sizeof(p.img), err, sizeof(err))) ||
	    (rc = vq_initrd_build(&c, p.initrd, err, sizeof(err))) ||
	    (rc = open_hidden(&p, err, sizeof(err)))) {
		fprintf(stderr, "vcons-qemu: %s: %s\n", c.vm.name,
		        v.sfd < 0 ? "signalfd failed" : err);
		remove_paths(&p);
		return rc ? rc : VQ_EXIT_OSERR;
	}

	enum result r = run_accel(&v, kvm, fake_kvm, probe, err, sizeof(err));
	rc = outcome(&v, r, err);
	write_stats(&v);
	remove_paths(&p);
	(void)fflush(stdout);
	return rc;
}
