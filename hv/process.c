/* hv/process.c: guest processes. A guest fork is a host fork of the hv process: the child gets the
 * guest's memory copy-on-write from the host kernel, builds a new KVM VM over it with one vCPU in
 * the forking thread's state, and ends when its guest ends. So guest pids are host pids, wait4 is
 * the host's, and every guest process stays inside the same root, address and limits. execve
 * replaces the program inside the same VM ("/proc/self/exe" names the running program). */
#include "hv/cpuid.h"
#include "hv/elf.h"
#include "hv/mem.h"
#include "hv/mm.h"
#include "hv/path.h"
#include "hv/stack.h"
#include "hv/syscall.h"
#include "hv/timepage.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARG_MAX_ (2 << 20)
#define PIE_BASE 0x400000ULL

_Noreturn void process__exit(struct vm *vm, int status)
{
	int sig = status - HV_EXIT_CRASH_BASE;
	if (sig > 0 && sig < 65) { /* end as the signal would have, so the parent's wait sees it */
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		signal(sig, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, sig);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
		raise(sig);
	}
	_exit(status & 0xff);
}

/* In the child of a host fork: the parent's KVM objects are unusable here, so build a new VM over
 * the inherited (copy-on-write) guest memory, with `c` as its only vCPU. */
static int rebuild_child(struct vcpu *c, const struct kvm_regs *user, uint64_t fs,
                         const void *xsave)
{
	struct vm *vm = c->vm;
	char err[160];
	for (int i = 0; i < MAX_VCPUS; i++) {
		struct vcpu *o = vm->all[i];
		if (!o)
			continue;
		vcpu__detach(o);
		if (o != c)
			free(o);
		vm->all[i] = vm->vcpus[i] = NULL;
	}
	stats__kvm_close(vm->stats.kvm_vm);
	close(vm->vm_fd);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0 || mem__register(vm, err, sizeof(err)) < 0)
		return -1;
	vm->stats.kvm_vm = stats__kvm_open(vm->vm_fd);
	memset(&vm->stats.total, 0, sizeof(vm->stats.total));
	memset(&c->stats, 0, sizeof(c->stats));
	c->id = 0;
	if (vcpu__attach(c, err, sizeof(err)) < 0 || vcpu__reset(c, user, fs) < 0 ||
	    ioctl(c->fd, KVM_SET_XSAVE, xsave) < 0)
		return -1;
	vm->all[0] = vm->vcpus[0] = c;
	vm->npool = 0;
	vm->ncreated = vm->nlive = 1;
	vm->pid = getpid();
	c->tid = vm->pid;
	vm->next_tid = vm->pid + 1;
	vm->is_fork_child = 1;
	c->started = 1;
	c->thread = pthread_self();
	if (timepage__start_in_child(vm) < 0)
		return -1;
	/* No signal thread here: let the host's stop signals end this guest process directly. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	return 0;
}

/* fork(), vfork() and clone() without CLONE_VM. `ctid` (with CLONE_CHILD_SETTID or _CLEARTID in
 * `flags`) is the child's word for its own tid, as glibc's fork passes it. */
long process__fork(struct vcpu *c, uint64_t flags, uint64_t ctid)
{
	struct vm *vm = c->vm;
	if ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
	    (!uaccess__ok(vm, ctid, sizeof(int)) || ctid % 4))
		return -EFAULT;
	struct kvm_xsave *xsave = malloc(sizeof(*xsave));
	if (!xsave)
		return -ENOMEM;
	if (ioctl(c->fd, KVM_GET_XSAVE, xsave) < 0) {
		free(xsave);
		return -errno;
	}
	struct kvm_regs user = *vcpu__regs(c);
	user.rip = user.rcx;
	user.rflags = user.r11;
	user.rax = 0;
	uint64_t fs = vcpu__fs_base(c);
	/* Hold hv's locks across the fork so the child inherits them in a consistent state. */
	pthread_mutex_lock(&vm->lock);
	pthread_mutex_lock(&vm->fds.lock);
	pthread_mutex_lock(&vm->mm.lock);
	pthread_mutex_lock(&vm->cwd_lock);
	pthread_mutex_lock(&vm->tp.lock); /* no half-written time page in the child */
	pid_t pid = fork();
	int err = errno;
	pthread_mutex_unlock(&vm->tp.lock);
	pthread_mutex_unlock(&vm->cwd_lock);
	pthread_mutex_unlock(&vm->mm.lock);
	pthread_mutex_unlock(&vm->fds.lock);
	pthread_mutex_unlock(&vm->lock);
	if (pid != 0) {
		free(xsave);
		return pid < 0 ? -err : pid;
	}
	if (rebuild_child(c, &user, fs, xsave) < 0) {
		fprintf(stderr, "vcons-hv: %s: cannot build the VM of a forked guest process: %s\n",
		        vm->name, strerror(errno));
		_exit(HV_EXIT_OSERR);
	}
	free(xsave);
	if (flags & CLONE_CHILD_SETTID) /* in the child's memory; as Linux, a fault is ignored */
		(void)copy_to_guest(vm, ctid, &c->tid, 1);
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ctid;
	return SYSCALL_NORETURN; /* the child resumes with rax = 0 as set above */
}

long sys_fork(struct vcpu *c, const uint64_t *a)
{
	return process__fork(c, 0, 0);
}

long sys_wait4(struct vcpu *c, const uint64_t *a)
{
	int status;
	struct rusage ru;
	if ((a[1] && !uaccess__ok(c->vm, a[1], sizeof(status))) ||
	    (a[3] && !uaccess__ok(c->vm, a[3], sizeof(ru))))
		return -EFAULT;
	pid_t r = wait4((pid_t)a[0], &status, (int)a[2], &ru);
	if (r < 0)
		return -errno;
	/* a child reaped and the copy faulting: Linux, too, returns EFAULT then */
	if (r > 0 && ((a[1] && copy_to_guest(c->vm, a[1], &status, 1)) ||
	              (a[3] && copy_to_guest(c->vm, a[3], &ru, 1))))
		return -EFAULT;
	return r;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Doubles a NULL-terminated array of *cap pointers; frees it when that fails. */
static char **grow_strv(char **v, size_t *cap)
{
	char **g = realloc(v, 2 * *cap * sizeof(*v));
	if (!g) {
		free_strv(v);
		return NULL;
	}
	memset(g + *cap, 0, *cap * sizeof(*g));
	*cap *= 2;
	return g;
}

/* Copies a NULL-terminated guest array of strings (argv, envp) into host memory, each pointer and
 * each string read once; `budget` bounds their total size. NULL with *rc = -errno on failure; a
 * NULL array is an empty one. */
static char **copy_strv(struct vm *vm, uint64_t gv, size_t *budget, long *rc)
{
	size_t cap = 16;
	char **out = calloc(cap, sizeof(*out));
	char buf[8192];
	*rc = out ? 0 : -ENOMEM;
	for (size_t n = 0; out && gv && !*rc; n++) {
		uint64_t p;
		if (copy_from_guest(vm, &p, gv + n * 8, 1)) {
			*rc = -EFAULT;
			break;
		}
		if (!p)
			break;
		long len = copy_str_from_guest(vm, buf, p, sizeof(buf));
		if (len < 0)
			*rc = len;
		else if ((size_t)len >= *budget)
			*rc = -E2BIG;
		else if ((n + 1 == cap && !(out = grow_strv(out, &cap))) || !(out[n] = strdup(buf)))
			*rc = -ENOMEM;
		else
			*budget -= (size_t)len + 1;
	}
	if (*rc) {
		free_strv(out);
		return NULL;
	}
	return out;
}

/* Opens and checks the program an execve names: a host fd or -errno. */
static int open_program(struct vm *vm, const char *path)
{
	int fd;
	if (!strcmp(path, "/proc/self/exe"))
		fd = fcntl(vm->exe_fd, F_DUPFD_CLOEXEC, 0);
	else
		fd = path__open_str(vm, AT_FDCWD, path, O_RDONLY, 0);
	if (fd < 0)
		return fd == -1 ? -errno : fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

long sys_execve(struct vcpu *c, const uint64_t *a)
{
	struct vm *vm = c->vm;
	char path[4096];
	long rc = copy_str_from_guest(vm, path, a[0], sizeof(path));
	if (rc < 0)
		return rc;
	if (vm->nlive > 1)
		return -EAGAIN; /* execve from a multithreaded guest is not offered */
	size_t budget = ARG_MAX_;
	char **argv = copy_strv(vm, a[1], &budget, &rc);
	char **envp = argv ? copy_strv(vm, a[2], &budget, &rc) : NULL;
	int fd = envp ? open_program(vm, path) : -1;
	if (!envp || fd < 0) {
		free_strv(argv);
		free_strv(envp);
		return envp ? fd : rc;
	}
	struct stat st;
	fstat(fd, &st);
	void *file = mmap(NULL, st.st_size ? st.st_size : 1, PROT_READ, MAP_PRIVATE, fd, 0);
	struct elf_image img;
	enum elf_error e =
	    file == MAP_FAILED ? ELF_ETRUNC : elf__parse(file, st.st_size, PIE_BASE, &img);
	if (!e)
		e = elf__fits(&img, USER_BASE, vm->mem - vm->mem / 8);
	if (e) {
		if (file != MAP_FAILED)
			munmap(file, st.st_size);
		close(fd);
		free_strv(argv);
		free_strv(envp);
		return e == ELF_ERANGE ? -ENOMEM : -ENOEXEC;
	}

	/* The point of no return: a new program in fresh memory. */
	mem__reset_ram(vm);
	mm__free(vm);
	/* Cannot fail: elf__fits() held, and elf__parse() keeps every segment inside [lo, hi). */
	elf__load(file, st.st_size, &img, vm->ram, USER_BASE, vm->mem);
	munmap(file, st.st_size);
	mm__init(vm, img.hi);
	uint64_t sp;
	rc = stack__build(vm, &img, (const char *const *)argv, (const char *const *)envp,
	                  cpuid__hwcap(vm->cpuid), &sp);
	free_strv(argv);
	free_strv(envp);
	close(vm->exe_fd);
	vm->exe_fd = fd;
	fdtab__close_on_exec(&vm->fds);
	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < 64; i++)
		if (vm->sigactions[i].handler != (uint64_t)SIG_IGN)
			vm->sigactions[i] = (struct ksigaction){ 0 };
	pthread_mutex_unlock(&vm->lock);
	memset(&c->altstack, 0, sizeof(c->altstack));
	struct kvm_regs r = { .rip = img.entry, .rsp = sp, .rflags = 2 };
	if (rc < 0 || vcpu__reset(c, &r, 0) < 0) {
		vm__exit_group(vm, HV_EXIT_CRASH_BASE + SIGSEGV);
		c->done = 1;
	}
	return SYSCALL_NORETURN;
}
