/* hv/vm.c: a VM's life: creation (KVM, CPUID profile, program, memory, stack, boundary), its
 * threads (vCPUs that come and go with guest threads), exit, and destruction. Implements hv.h. */
#include "hv/clock.h"
#include "hv/cpuid.h"
#include "hv/elf.h"
#include "hv/mem.h"
#include "hv/mm.h"
#include "hv/stack.h"
#include "hv/timepage.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PIE_BASE 0x400000ULL /* where a static PIE is loaded */
#define MIB2     (2ULL << 20)
#define FD_LIMIT 1024

void hv_config_init(struct hv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = 256ULL << 20;
	cfg->vcpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	cfg->max_threads = MAX_VCPUS;
	cfg->root = ".";
	cfg->net_addr = "127.0.0.1";
	cfg->cpuid = "host";
	cfg->clock_scale = 1.0;
	cfg->stdio_fds[0] = 0;
	cfg->stdio_fds[1] = 1;
	cfg->stdio_fds[2] = 2;
	cfg->name = "vm";
}

__attribute__((format(printf, 5, 6))) static int fail(int *code, int value, char *err,
                                                      size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*code = value;
	return -1;
}

static int open_kvm(struct vm *vm, int *code, char *err, size_t n)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return fail(code,
		            errno == EACCES || errno == EPERM ? HV_EXIT_NOPERM : HV_EXIT_NOKVM, err,
		            n, "cannot open /dev/kvm: %s%s", strerror(errno),
		            errno == ENOENT ? " (KVM is not available on this machine)" : "");
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return fail(code, HV_EXIT_NOKVM, err, n,
		            "/dev/kvm speaks an unknown KVM API version");
	int need = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	if ((ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & need) != need ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		return fail(code, HV_EXIT_NOKVM, err, n,
		            "KVM lacks KVM_CAP_SYNC_REGS or KVM_CAP_IMMEDIATE_EXIT");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail(code, HV_EXIT_NOKVM, err, n, "KVM_CREATE_VM: %s", strerror(errno));
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return fail(code, HV_EXIT_NOKVM, err, n, "KVM_GET_VCPU_MMAP_SIZE: %s",
		            strerror(errno));
	return 0;
}

/* Maps the program file read-only; *len is its size. */
static void *map_program(const char *path, size_t *len, int *code, char *err, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(code, HV_EXIT_NOINPUT, err, n, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	void *p = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		fail(code, HV_EXIT_NOINPUT, err, n, "%s: not a regular file", path);
	else if (st.st_size == 0)
		fail(code, HV_EXIT_BADELF, err, n, "%s: empty file, not an ELF program", path);
	else if ((p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		p = NULL, fail(code, HV_EXIT_OSERR, err, n, "%s: mmap: %s", path, strerror(errno));
	close(fd);
	*len = p ? (size_t)st.st_size : 0;
	return p;
}

static int load_program(struct vm *vm, int *code, char *err, size_t n)
{
	const char *path = vm->cfg.argv[0];
	size_t len;
	void *file = map_program(path, &len, code, err, n);
	if (!file)
		return -1;
	struct elf_image img;
	enum elf_error e = elf__parse(file, len, PIE_BASE, &img);
	if (!e)
		e = elf__load(file, len, &img, vm->ram, USER_BASE, vm->mem - vm->mem / 8);
	munmap(file, len);
	if (e)
		return fail(code, HV_EXIT_BADELF, err, n, "%s: %s", path, elf__strerror(e));
	vm->entry = img.entry;
	vm->exe_fd = open(path, O_RDONLY | O_CLOEXEC); /* for execve("/proc/self/exe") */
	mm__init(vm, img.hi);
	int rc =
	    stack__build(vm, &img, vm->cfg.argv, vm->cfg.envp, cpuid__hwcap(vm->cpuid), &vm->sp);
	if (rc < 0)
		return fail(code, HV_EXIT_CONFIG, err, n,
		            "arguments and environment do not fit the stack");
	return 0;
}

int vm__set_boundary(struct vm *vm, int stdio, int *code, char *err, size_t n)
{
	const struct hv_config *cfg = &vm->cfg;
	if (inet_pton(AF_INET, cfg->net_addr, &vm->addr) != 1 ||
	    (ntohl(vm->addr.s_addr) >> 24) != 127)
		return fail(code, HV_EXIT_CONFIG, err, n,
		            "--net %s: a VM's address must be an IPv4 loopback address (127.x.y.z)",
		            cfg->net_addr);
	vm->root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (vm->root_fd < 0 || !realpath(cfg->root, vm->root_path))
		return fail(code, HV_EXIT_NOINPUT, err, n, "--root %s: %s", cfg->root,
		            strerror(errno));
	snprintf(vm->cwd, sizeof(vm->cwd), "/");
	if (fdtab__init(&vm->fds, FD_LIMIT) < 0)
		return fail(code, HV_EXIT_OSERR, err, n, "out of memory");
	for (int i = 0; i < 3 && stdio; i++) {
		if (cfg->stdio_fds[i] < 0)
			continue;
		int h = fcntl(cfg->stdio_fds[i], F_DUPFD_CLOEXEC, 3);
		if (h < 0 || fdtab__install(&vm->fds, h, 0, i) != i)
			return fail(code, HV_EXIT_OSERR, err, n, "standard fd %d: %s", i,
			            strerror(errno));
	}
	return 0;
}

static pthread_once_t signals_once = PTHREAD_ONCE_INIT;

struct vm *vm__new(const struct hv_config *cfg, int *code, char *err, size_t errlen)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm) {
		fail(code, HV_EXIT_OSERR, err, errlen, "out of memory");
		return NULL;
	}
	vm->cfg = *cfg;
	vm->name = cfg->name ? cfg->name : "vm";
	vm->kvm_fd = vm->vm_fd = vm->root_fd = vm->exe_fd = -1;
	vm->stats.create_ns = clock__host_ns(CLOCK_MONOTONIC);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->cwd_lock, NULL);
	pthread_cond_init(&vm->done, NULL);
	pthread_cond_init(&vm->parked, NULL);
	pthread_cond_init(&vm->resumed, NULL);
	vm->mem = (cfg->mem_bytes + MIB2 - 1) & ~(MIB2 - 1);
	vm->umask = 022;
	if (vm->mem < 16 * MIB2 || vm->mem > (64ULL << 30)) {
		fail(code, HV_EXIT_CONFIG, err, errlen, "--mem must be between 32 MiB and 64 GiB");
		goto out;
	}
	pthread_once(&signals_once, vcpu__init_signals);
	if (open_kvm(vm, code, err, errlen) < 0 ||
	    cpuid__build(vm->kvm_fd, cfg->cpuid, &vm->cpuid, &vm->xcr0, code, err, errlen) < 0)
		goto out;
	if (mem__init(vm, err, errlen) < 0 || timepage__init(vm, err, errlen) < 0) {
		*code = HV_EXIT_OSERR;
		goto out;
	}
	return vm;
out:
	hv_vm_destroy((struct hv_vm *)vm);
	return NULL;
}

struct hv_vm *hv_vm_create(const struct hv_config *cfg, int *code, char *err, size_t errlen)
{
	if (!cfg->argv || !cfg->argv[0]) {
		fail(code, HV_EXIT_USAGE, err, errlen, "no program to run");
		return NULL;
	}
	struct vm *vm = vm__new(cfg, code, err, errlen);
	if (!vm)
		return NULL;
	if (load_program(vm, code, err, errlen) < 0 ||
	    vm__set_boundary(vm, 1, code, err, errlen) < 0)
		goto out;
	vm->stats.kvm_vm = stats__kvm_open(vm->vm_fd);
	vm->pid = getpid();
	vm->next_tid = vm->pid;
	struct kvm_regs regs = { .rip = vm->entry, .rsp = vm->sp, .rflags = 2 };
	struct vcpu *c;
	int tid = vm__new_thread(vm, &regs, 0, &c);
	if (tid < 0) {
		fail(code, HV_EXIT_OSERR, err, errlen, "cannot create the first vCPU: %s",
		     strerror(-tid));
		goto out;
	}
	return (struct hv_vm *)vm;
out:
	hv_vm_destroy((struct hv_vm *)vm);
	return NULL;
}

int hv_vm_start(struct hv_vm *hvm, char *err, size_t errlen)
{
	struct vm *vm = (struct vm *)hvm;
	if (!vm->restored) /* a restored VM's clocks go on from their saved bases */
		clock__start(vm);
	if (timepage__start(vm) < 0) {
		snprintf(err, errlen, "cannot start the time page's thread: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < MAX_VCPUS; i++) {
		if (vm->vcpus[i] && vm__start_thread(vm, vm->vcpus[i]) < 0) {
			snprintf(err, errlen, "cannot start a vCPU thread: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

int hv_vm_wait(struct hv_vm *hvm)
{
	struct vm *vm = (struct vm *)hvm;
	pthread_mutex_lock(&vm->lock);
	while (vm->nlive > 0) {
		if (atomic_load(&vm->exiting)) {
			/* A vCPU may have entered a blocking call just after a kick: kick again. */
			vcpu__kick_all(vm);
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_nsec += 20 * 1000 * 1000;
			if (t.tv_nsec >= 1000000000L)
				t.tv_sec++, t.tv_nsec -= 1000000000L;
			pthread_cond_timedwait(&vm->done, &vm->lock, &t);
		} else {
			pthread_cond_wait(&vm->done, &vm->lock);
		}
	}
	int status = vm->exit_status;
	pthread_mutex_unlock(&vm->lock);
	return status;
}

void vm__exit_group(struct vm *vm, int status)
{
	pthread_mutex_lock(&vm->lock);
	if (!atomic_load(&vm->exiting)) {
		vm->exit_status = status;
		atomic_store(&vm->exiting, 1);
	}
	vcpu__kick_all(vm);
	pthread_cond_broadcast(&vm->done);
	pthread_cond_broadcast(&vm->resumed); /* parked threads leave too */
	pthread_mutex_unlock(&vm->lock);
}

/* A thread in a host call the kick cannot interrupt (an fdatasync on a slow disk) is waited for
 * this long; an emulated test host needed more than 2 s. */
#define PAUSE_WAIT_NS (10ULL * 1000000000ULL)

int vm__pause(struct vm *vm)
{
	uint64_t deadline = clock__host_ns(CLOCK_MONOTONIC) + PAUSE_WAIT_NS;
	pthread_mutex_lock(&vm->lock);
	atomic_store(&vm->pausing, 1);
	/* Every live thread parks, a new one (a clone in flight) as soon as it starts. A thread
	 * may enter a blocking host call just after a kick: kick again until all are parked. */
	int rc = 0;
	while (vm->nparked < vm->nlive && !atomic_load(&vm->exiting)) {
		if (clock__host_ns(CLOCK_MONOTONIC) > deadline) {
			rc = -2;
			break;
		}
		vcpu__kick_all(vm);
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 5 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000L)
			t.tv_sec++, t.tv_nsec -= 1000000000L;
		pthread_cond_timedwait(&vm->parked, &vm->lock, &t);
	}
	if (atomic_load(&vm->exiting))
		rc = -1;
	pthread_mutex_unlock(&vm->lock);
	if (rc < 0)
		vm__resume(vm);
	return rc;
}

int hv_vm_pause(struct hv_vm *hvm, char *err, size_t errlen)
{
	struct vm *vm = (struct vm *)hvm;
	if (atomic_load(&vm->pausing))
		return 0;
	int rc = vm__pause(vm);
	if (rc == -1)
		snprintf(err, errlen, "the guest is exiting");
	else if (rc == -2)
		snprintf(err, errlen, "a guest thread did not stop within 10 s");
	return rc < 0 ? -1 : 0;
}

void hv_vm_resume(struct hv_vm *hvm)
{
	vm__resume((struct vm *)hvm);
}

int hv_vm_paused(struct hv_vm *hvm)
{
	return atomic_load(&((struct vm *)hvm)->pausing);
}

void vm__resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	atomic_store(&vm->pausing, 0);
	pthread_cond_broadcast(&vm->resumed);
	pthread_mutex_unlock(&vm->lock);
}

void hv_vm_exit(struct hv_vm *hvm, int status)
{
	vm__exit_group((struct vm *)hvm, status);
}

void hv_vm_kill(struct hv_vm *hvm, int sig)
{
	vm__exit_group((struct vm *)hvm, HV_EXIT_CRASH_BASE + sig);
}

int vm__new_thread(struct vm *vm, const struct kvm_regs *regs, uint64_t fs, struct vcpu **out)
{
	char err[160];
	pthread_mutex_lock(&vm->lock);
	struct vcpu *c = NULL;
	int rc = -EAGAIN;
	if (vm->nlive >= vm->cfg.max_threads)
		goto out;
	if (vm->npool > 0) {
		c = vm->pool[--vm->npool];
	} else if (vm->ncreated < MAX_VCPUS) {
		c = vcpu__create(vm, vm->ncreated, err, sizeof(err));
		if (!c)
			goto out;
		vm->all[vm->ncreated++] = c;
		vm->stats.vcpus_created = vm->ncreated;
	} else {
		goto out;
	}
	if (vcpu__reset(c, regs, fs) < 0) {
		vm->pool[vm->npool++] = c;
		goto out;
	}
	c->tid = vm->next_tid++;
	c->started = 0;
	vm->vcpus[c->id] = c;
	if (++vm->nlive > vm->stats.vcpus_peak)
		vm->stats.vcpus_peak = vm->nlive;
	*out = c;
	rc = c->tid;
out:
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

int vm__start_thread(struct vm *vm, struct vcpu *c)
{
	pthread_mutex_lock(&vm->lock);
	int rc = vcpu__start(c);
	c->started = rc == 0;
	if (rc < 0) { /* the thread never ran: give its vCPU back */
		vm->vcpus[c->id] = NULL;
		vm->pool[vm->npool++] = c;
		vm->nlive--;
	}
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

int vm__has_thread(struct vm *vm, int tid)
{
	int found = 0;
	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < MAX_VCPUS && !found; i++)
		found = vm->vcpus[i] && vm->vcpus[i]->tid == tid;
	pthread_mutex_unlock(&vm->lock);
	return found;
}

void vm__thread_exited(struct vcpu *c)
{
	struct vm *vm = c->vm;
	thread__robust_exit(c);
	const int zero = 0; /* CLONE_CHILD_CLEARTID: how pthread_join learns the thread is gone */
	if (c->clear_child_tid && !copy_to_guest(vm, c->clear_child_tid, &zero, 1))
		syscall(SYS_futex, uaccess__buf(vm, c->clear_child_tid, sizeof(zero)), FUTEX_WAKE,
		        1, NULL, NULL, 0);
	pthread_mutex_lock(&vm->lock);
	vm->vcpus[c->id] = NULL;
	stats__fold(&vm->stats.total, &c->stats);
	struct kvm_stats *k = c->stats.kvm;
	memset(&c->stats, 0, sizeof(c->stats));
	c->stats.kvm = k;
	c->started = 0;
	vm->pool[vm->npool++] = c;
	if (--vm->nlive == 0) {
		if (!atomic_load(&vm->exiting)) {
			vm->exit_status = c->exit_code;
			atomic_store(&vm->exiting, 1);
		}
		pthread_cond_broadcast(&vm->done);
		if (vm->is_fork_child) /* no one waits in this process: end it as the guest ended */
			process__exit(vm, vm->exit_status);
	}
	pthread_mutex_unlock(&vm->lock);
}

void hv_vm_destroy(struct hv_vm *hvm)
{
	struct vm *vm = (struct vm *)hvm;
	if (!vm)
		return;
	timepage__stop(vm);
	for (int i = 0; i < MAX_VCPUS; i++)
		if (vm->all[i])
			vcpu__destroy(vm->all[i]);
	stats__kvm_close(vm->stats.kvm_vm);
	if (vm->fds.e)
		fdtab__free(&vm->fds);
	mm__free(vm);
	mem__free(vm);
	free(vm->ram_runs.r);
	free(vm->cpuid);
	if (vm->root_fd >= 0)
		close(vm->root_fd);
	if (vm->exe_fd >= 0)
		close(vm->exe_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->cwd_lock);
	pthread_cond_destroy(&vm->done);
	pthread_cond_destroy(&vm->parked);
	pthread_cond_destroy(&vm->resumed);
	free(vm);
}
