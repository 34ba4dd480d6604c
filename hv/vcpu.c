/* hv/vcpu.c: one guest thread on one KVM vCPU on one host thread: CPU state at start, the run loop
 * that dispatches exits, the return from a system call, and the register dump of a crashed guest.
 */
#include "hv/vm.h"
#include "hv/mem.h"
#include "hv/syscall.h"
#include "hv/clock.h"
#include "hv/timepage.h"
#include "hv/uaccess.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MSR_STAR        0xc0000081
#define MSR_LSTAR       0xc0000082
#define MSR_FMASK       0xc0000084
#define RFLAGS_RESERVED 0x2ULL
/* syscall clears TF, IF, DF, AC (as Linux's FMASK) so the stub runs with them off */
#define FMASK_BITS 0x47700ULL

#define CR0_PE         0x1ULL
#define CR0_MP         0x2ULL
#define CR0_ET         0x10ULL
#define CR0_NE         0x20ULL
#define CR0_WP         0x10000ULL
#define CR0_AM         0x40000ULL
#define CR0_PG         0x80000000ULL
#define CR4_PAE        0x20ULL
#define CR4_OSFXSR     0x200ULL
#define CR4_OSXMMEXCPT 0x400ULL
#define CR4_OSXSAVE    0x40000ULL
#define EFER_SCE       0x1ULL
#define EFER_LME       0x100ULL
#define EFER_LMA       0x400ULL

static struct kvm_segment seg(uint16_t sel, uint8_t type, uint8_t dpl, int code64)
{
	struct kvm_segment s = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = dpl,
		.s = 1,
		.l = code64,
		.db = !code64,
		.g = 1,
	};
	return s;
}

static int setup_sregs(struct vcpu *c, uint64_t fs_base)
{
	struct vm *vm = c->vm;
	struct kvm_sregs s;
	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	s.cs = seg(SEL_UCODE, 11, 3, 1);
	s.ds = s.es = s.ss = s.gs = s.fs = seg(SEL_UDATA, 3, 3, 0);
	s.fs.base = fs_base;
	s.gdt.base = SYS_VA + SYS_GDT;
	s.gdt.limit = 8 * 8 - 1;
	s.idt.base = SYS_VA + SYS_IDT;
	s.idt.limit = 32 * 16 - 1;
	s.tr = (struct kvm_segment){ .base = mem__tss_va(c->id),
		                     .limit = TSS_LIMIT,
		                     .selector = SEL_TSS,
		                     .type = 11,
		                     .present = 1 };
	s.ldt = (struct kvm_segment){ .type = 2, .present = 1, .unusable = 1 };
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s.cr3 = mem__pml4_gpa(vm);
	s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (vm->xcr0 ? CR4_OSXSAVE : 0);
	s.efer = EFER_SCE | EFER_LME | EFER_LMA;
	return ioctl(c->fd, KVM_SET_SREGS, &s);
}

static int setup_msrs(struct vcpu *c)
{
	/* struct kvm_msrs ends in a flexible array: the union gives it room for three entries. */
	union {
		struct kvm_msrs h;
		char room[sizeof(struct kvm_msrs) + 3 * sizeof(struct kvm_msr_entry)];
	} m = { .h.nmsrs = 3 };
	struct kvm_msr_entry *e = m.h.entries;
	/* STAR: syscall enters with CS 0x08/SS 0x10; sysretq returns with CS 0x28|3, SS 0x20|3. */
	e[0] = (struct kvm_msr_entry){ .index = MSR_STAR,
		                       .data = (0x18ULL << 48) | ((uint64_t)SEL_KCODE << 32) };
	e[1] = (struct kvm_msr_entry){ .index = MSR_LSTAR, .data = SYS_VA + SYS_STUB };
	e[2] = (struct kvm_msr_entry){ .index = MSR_FMASK, .data = FMASK_BITS };
	return ioctl(c->fd, KVM_SET_MSRS, &m) == 3 ? 0 : -1;
}

static int setup_fpu(struct vcpu *c)
{
	struct vm *vm = c->vm;
	if (vm->xcr0) {
		struct kvm_xcrs x = { .nr_xcrs = 1 };
		x.xcrs[0].xcr = 0;
		x.xcrs[0].value = vm->xcr0;
		if (ioctl(c->fd, KVM_SET_XCRS, &x) < 0)
			return -1;
	}
	struct kvm_fpu f;
	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	return ioctl(c->fd, KVM_SET_FPU, &f);
}

/* Gives `c` a KVM vCPU (id c->id) in c->vm's VM, with the profile's CPUID and the syscall MSRs. */
int vcpu__attach(struct vcpu *c, char *err, size_t errlen)
{
	struct vm *vm = c->vm;
	c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, c->id);
	if (c->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU: %s", strerror(errno));
		return -1;
	}
	c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	const char *what = NULL;
	if (c->run == MAP_FAILED)
		what = "mmap of kvm_run";
	else if (ioctl(c->fd, KVM_SET_CPUID2, vm->cpuid) < 0)
		what = "KVM_SET_CPUID2";
	else if (setup_msrs(c) < 0)
		what = "KVM_SET_MSRS";
	else if (setup_fpu(c) < 0)
		what = "KVM_SET_XCRS/FPU";
	if (what) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		if (c->run != MAP_FAILED)
			munmap(c->run, vm->run_size);
		close(c->fd);
		return -1;
	}
	c->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	c->stats.kvm = stats__kvm_open(c->fd);
	timepage__vcpu(c); /* its TSC must be the host's for the time page */
	return 0;
}

/* Drops the KVM side of `c` (its fd, kvm_run and statistics), keeping the struct. */
void vcpu__detach(struct vcpu *c)
{
	stats__kvm_close(c->stats.kvm);
	c->stats.kvm = NULL;
	munmap(c->run, c->vm->run_size);
	close(c->fd);
}

struct vcpu *vcpu__create(struct vm *vm, int id, char *err, size_t errlen)
{
	struct vcpu *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->vm = vm;
	c->id = id;
	if (vcpu__attach(c, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void vcpu__destroy(struct vcpu *c)
{
	vcpu__detach(c);
	free(c);
}

/* Puts a vCPU (new or recycled) at the start of a guest thread. */
int vcpu__reset(struct vcpu *c, const struct kvm_regs *regs, uint64_t fs_base)
{
	if (setup_sregs(c, fs_base) < 0 || setup_fpu(c) < 0)
		return -1;
	struct kvm_regs r = *regs;
	r.rflags = (r.rflags & 0xcd5) | RFLAGS_RESERVED; /* user-visible flags only, IOPL 0 */
	if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
		return -1;
	c->run->kvm_dirty_regs = 0;
	c->run->immediate_exit = 0;
	c->clear_child_tid = 0;
	c->robust_list = 0;
	c->exit_code = 0;
	c->done = 0;
	c->trail.n = 0; /* a recycled vCPU's calls were another thread's */
	return 0;
}

struct kvm_regs *vcpu__regs(struct vcpu *c)
{
	return &c->run->s.regs.regs;
}

void vcpu__regs_dirty(struct vcpu *c)
{
	c->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

void vcpu__set_user_regs(struct vcpu *c, const struct kvm_regs *regs)
{
	struct kvm_sregs *s = &c->run->s.regs.sregs;
	*vcpu__regs(c) = *regs;
	vcpu__regs(c)->rflags = (regs->rflags & 0xcd5) | RFLAGS_RESERVED;
	vcpu__regs_dirty(c);
	if (s->cs.dpl != 3) { /* in the ring-0 stub: leave it for ring 3 without sysretq */
		uint64_t fs = s->fs.base, gs = s->gs.base;
		s->cs = seg(SEL_UCODE, 11, 3, 1);
		s->ss = seg(SEL_UDATA, 3, 3, 0);
		s->fs.base = fs;
		s->gs.base = gs;
		c->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
	}
}

uint64_t vcpu__fs_base(struct vcpu *c)
{
	return c->run->s.regs.sregs.fs.base;
}

void vcpu__set_fs_base(struct vcpu *c, uint64_t base)
{
	c->run->s.regs.sregs.fs.base = base;
	c->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
}

static const struct {
	const char *name;
	int sig;
	int has_error_code;
} exceptions[32] = {
	[0] = { "divide error", SIGFPE, 0 },          [1] = { "debug", SIGTRAP, 0 },
	[3] = { "breakpoint", SIGTRAP, 0 },           [4] = { "overflow", SIGSEGV, 0 },
	[5] = { "bound range", SIGSEGV, 0 },          [6] = { "invalid opcode", SIGILL, 0 },
	[7] = { "device not available", SIGSEGV, 0 }, [8] = { "double fault", SIGSEGV, 1 },
	[10] = { "invalid TSS", SIGSEGV, 1 },         [11] = { "segment not present", SIGBUS, 1 },
	[12] = { "stack fault", SIGBUS, 1 },          [13] = { "general protection", SIGSEGV, 1 },
	[14] = { "page fault", SIGSEGV, 1 },          [16] = { "x87 floating point", SIGFPE, 0 },
	[17] = { "alignment check", SIGBUS, 1 },      [19] = { "SIMD floating point", SIGFPE, 0 },
	[21] = { "control protection", SIGSEGV, 1 },
};

static void dump_regs(FILE *f, const struct kvm_regs *r, uint64_t rip, uint64_t rsp)
{
	fprintf(f, "  rip %016llx  rsp %016llx  rflags %016llx\n", (unsigned long long)rip,
	        (unsigned long long)rsp, (unsigned long long)r->rflags);
	fprintf(f, "  rax %016llx  rbx %016llx  rcx %016llx  rdx %016llx\n", r->rax, r->rbx, r->rcx,
	        r->rdx);
	fprintf(f, "  rsi %016llx  rdi %016llx  rbp %016llx  r8  %016llx\n", r->rsi, r->rdi, r->rbp,
	        r->r8);
	fprintf(f, "  r9  %016llx  r10 %016llx  r11 %016llx  r12 %016llx\n", r->r9, r->r10, r->r11,
	        r->r12);
	fprintf(f, "  r13 %016llx  r14 %016llx  r15 %016llx\n", r->r13, r->r14, r->r15);
}

/* The vCPU's last system calls, newest first, with how long before `now` each was answered. */
static void dump_trail(FILE *f, const struct trail *t, uint64_t now)
{
	uint64_t n = t->n < TRAIL_LEN ? t->n : TRAIL_LEN;
	if (!n) {
		fprintf(f, "  no system call yet on this thread\n");
		return;
	}
	fprintf(f, "  last %llu system calls of this thread, newest first:\n",
	        (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		const struct trail_entry *e = &t->e[(t->n - 1 - i) % TRAIL_LEN];
		const char *name = syscall__name((unsigned)e->nr);
		char call[48];
		if (name)
			snprintf(call, sizeof(call), "%s(%#llx)", name,
			         (unsigned long long)e->arg0);
		else
			snprintf(call, sizeof(call), "syscall_%llu(%#llx)",
			         (unsigned long long)e->nr, (unsigned long long)e->arg0);
		char ret[24];
		if (e->ret == SYSCALL_NORETURN)
			snprintf(ret, sizeof(ret), "?");
		else
			snprintf(ret, sizeof(ret), "%lld", (long long)e->ret);
		fprintf(f, "    %-32s = %-8s rip %016llx  rsp %016llx  %.3f ms before\n", call, ret,
		        (unsigned long long)e->rip, (unsigned long long)e->rsp,
		        (double)(now - e->end_ns) / 1e6);
	}
}

/* Ends the VM as Linux ends a process killed by `sig`, after a register dump. */
static void crash(struct vcpu *c, int sig, const char *what, uint64_t rip, uint64_t rsp)
{
	struct kvm_regs *r = vcpu__regs(c);
	flockfile(stderr);
	fprintf(stderr, "vcons-hv: %s: guest crashed: %s (thread %d)\n", c->vm->name, what, c->tid);
	dump_regs(stderr, r, rip, rsp);
	fprintf(stderr, "  cr2 %016llx  fs.base %016llx\n",
	        (unsigned long long)c->run->s.regs.sregs.cr2, (unsigned long long)vcpu__fs_base(c));
	dump_trail(stderr, &c->trail, clock__host_ns(CLOCK_MONOTONIC));
	funlockfile(stderr);
	c->vm->crashed = 1;
	vm__exit_group(c->vm, HV_EXIT_CRASH_BASE + sig);
}

static void on_exception(struct vcpu *c, int vec)
{
	struct vm *vm = c->vm;
	struct kvm_regs *r = vcpu__regs(c);
	uint64_t frame[6] = { 0 };
	uint64_t off = r->rsp - SYS_VA;
	int n = exceptions[vec].has_error_code ? 6 : 5;
	if (r->rsp >= SYS_VA && off + n * 8 <= SYS_MAPPED)
		memcpy(frame, vm->sys + off, n * 8);
	uint64_t *f = exceptions[vec].has_error_code ? frame + 1 : frame;
	char what[160];
	const char *name = exceptions[vec].name ? exceptions[vec].name : "exception";
	if (vec == 14)
		snprintf(what, sizeof(what), "%s at address %#llx (error code %#llx) at rip %#llx",
		         name, (unsigned long long)c->run->s.regs.sregs.cr2,
		         (unsigned long long)frame[0], (unsigned long long)f[0]);
	else
		snprintf(what, sizeof(what), "%s (vector %d) at rip %#llx", name, vec,
		         (unsigned long long)f[0]);
	crash(c, exceptions[vec].sig ? exceptions[vec].sig : SIGSEGV, what, f[0], f[3]);
}

/* A blocking call that a pause interrupted: back to the `syscall` instruction with the call's
 * number in rax, so that it runs again after the resume (or the restore), as Linux restarts a
 * call that a stop interrupted. Its arguments are still in their registers. */
static void restart_syscall_after_pause(struct vcpu *c, uint64_t nr)
{
	struct kvm_regs r = *vcpu__regs(c);
	if (c->suspend_mask_saved) { /* rt_sigsuspend: its mask goes back until it runs again */
		c->sigmask = c->suspend_mask;
		c->suspend_mask_saved = 0;
	}
	r.rax = nr;
	r.rip = r.rcx - 2; /* `syscall` is 0f 05 */
	r.rflags = r.r11;
	vcpu__set_user_regs(c, &r);
}

/* A `syscall` exit: service the call, then return to the instruction after `syscall`. */
static void on_syscall(struct vcpu *c)
{
	struct kvm_regs *r = vcpu__regs(c);
	uint64_t args[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	uint64_t nr = r->rax;
	long ret = syscall__dispatch(c, nr, args);
	if (ret == SYSCALL_NORETURN)
		return;
	if (ret == -EINTR && atomic_load(&c->vm->pausing) && !atomic_load(&c->vm->exiting)) {
		restart_syscall_after_pause(c, nr);
		return;
	}
	if (signal__deliver(c, ret))
		return; /* the vCPU now enters a signal handler */
	r = vcpu__regs(c);
	r->rax = (uint64_t)ret;
	if (c->run->s.regs.sregs.cs.dpl != 0) {
		/* Nested KVM left CS at ring 3: the stub's sysretq would fault, so return here. */
		r->rip = r->rcx;
		r->rflags = (r->r11 & 0x3c7fd7ULL) | RFLAGS_RESERVED;
	}
	vcpu__regs_dirty(c);
}

static int handle_io(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	uint64_t rip = vcpu__regs(c)->rip;
	int port = run->io.port;
	uint64_t stub = SYS_VA + SYS_STUB;
	if (run->io.direction == KVM_EXIT_IO_OUT && port == PORT_SYSCALL && rip - stub <= 2) {
		on_syscall(c);
		return 0;
	}
	uint64_t exc = SYS_VA + SYS_EXC_STUBS;
	if (port >= PORT_EXCEPTION && port < PORT_EXCEPTION + 32 && rip - exc < 32 * 16) {
		on_exception(c, port - PORT_EXCEPTION);
		return -1;
	}
	/* Port I/O from guest code itself: Linux would raise #GP in ring 3. */
	char what[96];
	snprintf(what, sizeof(what), "port I/O to %#x from guest code", port);
	crash(c, SIGSEGV, what, rip, vcpu__regs(c)->rsp);
	return -1;
}

/* Returns 0 to keep running, -1 when this thread's guest code is done. */
static int handle_exit(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	struct kvm_regs *r = vcpu__regs(c);
	char what[128];
	if (run->exit_reason < STATS_NEXITS)
		c->stats.exits[run->exit_reason]++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: return handle_io(c);
	case KVM_EXIT_INTR: return 0;
	case KVM_EXIT_SHUTDOWN:
		/* On AMD-V, KVM has already reset the vCPU (RIP 0xfff0): its last calls are all
		 * left. */
		crash(c, SIGSEGV,
		      r->rip == 0xfff0
		          ? "triple fault (CPU shutdown; registers below are the reset state)"
		          : "triple fault (CPU shutdown)",
		      r->rip, r->rsp);
		return -1;
	case KVM_EXIT_HLT: crash(c, SIGSEGV, "halted", r->rip, r->rsp); return -1;
	case KVM_EXIT_MMIO:
		snprintf(what, sizeof(what), "access to unbacked guest-physical address %#llx",
		         (unsigned long long)run->mmio.phys_addr);
		crash(c, SIGBUS, what, r->rip, r->rsp);
		return -1;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed (reason %#llx)",
		         (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		crash(c, SIGSEGV, what, r->rip, r->rsp);
		return -1;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error (suberror %u)",
		         run->internal.suberror);
		crash(c, SIGSEGV, what, r->rip, r->rsp);
		return -1;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit %u", run->exit_reason);
		crash(c, SIGSEGV, what, r->rip, r->rsp);
		return -1;
	}
}

/* KVM_RUN's EFAULT: the guest touched a page of its RAM that the host cannot give it, which only
 * a file mapping can be (a page past the file's end, or a write to a read-only shared mapping).
 * Linux sends SIGBUS for the first, SIGSEGV for the second; KVM does not say which. */
static void on_bad_page(struct vcpu *c)
{
	struct kvm_regs *r = vcpu__regs(c);
	crash(c, SIGBUS,
	      "access to a guest page the host cannot back (a file mapping past the end of its "
	      "file, or a write to a read-only one)",
	      r->rip, r->rsp);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vm *vm = c->vm;
	sigset_t set;
	sigfillset(&set);
	sigdelset(&set, SIG_KICK);
	sigdelset(&set, SIGBUS); /* faults in copies of guest memory: uaccess.h */
	sigdelset(&set, SIGSEGV);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	for (;;) {
		if (atomic_load(&vm->pausing))
			vcpu__park(c);
		if (atomic_load(&vm->exiting))
			break;
		if (!vm->stats.first_run_ns)
			vm->stats.first_run_ns = clock__host_ns(CLOCK_MONOTONIC);
		int rc = ioctl(c->fd, KVM_RUN, 0);
		c->run->kvm_dirty_regs = 0;
		if (rc < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				c->run->immediate_exit = 0;
				continue;
			}
			if (errno ==
			    EFAULT) { /* KVM could not back a guest page: see on_bad_page */
				on_bad_page(c);
				break;
			}
			fprintf(stderr, "vcons-hv: %s: KVM_RUN: %s\n", vm->name, strerror(errno));
			vm__exit_group(vm, HV_EXIT_OSERR);
			break;
		}
		if (!vm->stats.first_exit_ns)
			vm->stats.first_exit_ns = clock__host_ns(CLOCK_MONOTONIC);
		if (handle_exit(c) < 0 || c->done)
			break;
	}
	vm__thread_exited(c);
	return NULL;
}

int vcpu__start(struct vcpu *c)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 * 1024);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&c->thread, &a, vcpu_thread, c);
	pthread_attr_destroy(&a);
	return rc ? -1 : 0;
}

static void kick_handler(int sig)
{
	(void)sig;
}

void vcpu__init_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: blocking host calls return EINTR */
	sigaction(SIG_KICK, &sa, NULL);
	int rc = uaccess__init();
	if (rc < 0)
		fprintf(stderr, "vcons-hv: cannot install the fault handler: %s\n", strerror(-rc));
}

void vcpu__park(struct vcpu *c)
{
	struct vm *vm = c->vm;
	struct kvm_run *run = c->run;
	/* KVM finishes an exit's port write (it moves RIP past the `out` of the syscall stub) only
	 * on the next KVM_RUN, and keeps that pending work where no KVM_GET_* shows it: a snapshot
	 * taken now would run the `out` again after a restore. So the vCPU enters KVM once with
	 * immediate_exit: KVM takes the registers hv changed, completes the exit and returns EINTR
	 * before a guest instruction runs (the KVM API's advice before saving state). */
	run->immediate_exit = 1;
	if (ioctl(c->fd, KVM_RUN, 0) == 0 || (errno != EINTR && errno != EAGAIN))
		fprintf(stderr, "vcons-hv: %s: thread %d: completing its last exit: %s\n", vm->name,
		        c->tid, strerror(errno));
	run->kvm_dirty_regs = 0;
	run->immediate_exit = 0;
	pthread_mutex_lock(&vm->lock);
	vm->nparked++;
	pthread_cond_broadcast(&vm->parked);
	while (atomic_load(&vm->pausing) && !atomic_load(&vm->exiting))
		pthread_cond_wait(&vm->resumed, &vm->lock);
	vm->nparked--;
	pthread_mutex_unlock(&vm->lock);
	/* a snapshot may have read (never written) the state: kvm_run's copy is still current */
}

/* Called with vm->lock held. Makes every running vCPU leave KVM_RUN or a blocking host call. */
void vcpu__kick_all(struct vm *vm)
{
	for (int i = 0; i < MAX_VCPUS; i++) {
		struct vcpu *c = vm->vcpus[i];
		if (!c || !c->started)
			continue;
		c->run->immediate_exit = 1;
		pthread_kill(c->thread, SIG_KICK);
	}
}
