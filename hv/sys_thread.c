/* hv/sys_thread.c: guest threads (clone -> a new vCPU on a new host thread), futexes (the host
 * futex on the guest word's host address), thread exit, identity, and signal bookkeeping.
 *
 * Signals: dispositions and masks are recorded; a signal a guest sends itself with a default fatal
 * action ends the VM as Linux would (exit status 128 + signal). Running a guest's handler is not
 * implemented yet: such a signal is reported once and dropped. */
#include "hv/clock.h"
#include "hv/syscall.h"
#include "hv/vm.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARCH_SET_GS  0x1001
#define ARCH_SET_FS  0x1002
#define ARCH_GET_FS  0x1003
#define ARCH_GET_GS  0x1004
#define KSIGSET_SIZE 8
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

long sys_clone(struct vcpu *c, const uint64_t *a)
{
	uint64_t flags = a[0], sp = a[1], ptid = a[2], ctid = a[3], tls = a[4];
	const uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	if (!(flags & (CLONE_VM | CLONE_THREAD)))
		return process__fork(c, flags, ctid); /* a new process */
	if ((flags & thread) != thread)
		return -EINVAL; /* shared memory without a shared process: not offered */
	int *pt = NULL, *ct = NULL;
	if (flags & CLONE_PARENT_SETTID)
		GUEST_PTR(pt, c->vm, ptid, sizeof(int));
	if (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID))
		GUEST_PTR(ct, c->vm, ctid, sizeof(int));

	struct kvm_regs regs = *vcpu__regs(c);
	regs.rip = regs.rcx; /* where the parent returns: after its `syscall` */
	regs.rflags = regs.r11;
	regs.rax = 0;
	if (sp)
		regs.rsp = sp;
	uint64_t fs = (flags & CLONE_SETTLS) ? tls : vcpu__fs_base(c);
	struct vcpu *child;
	int tid = vm__new_thread(c->vm, &regs, fs, &child);
	if (tid < 0)
		return tid;
	if (pt)
		*pt = tid;
	if (flags & CLONE_CHILD_SETTID)
		// NOLINTNEXTLINE(clang-analyzer-core.NullDereference): GUEST_PTR set ct for SETTID
		*ct = tid;
	if (flags & CLONE_CHILD_CLEARTID)
		child->clear_child_tid = ctid;
	return vm__start_thread(c->vm, child) < 0 ? -EAGAIN : tid;
}

long sys_exit(struct vcpu *c, const uint64_t *a)
{
	c->exit_code = (int)(a[0] & 0xff);
	c->done = 1;
	return SYSCALL_NORETURN;
}

long sys_exit_group(struct vcpu *c, const uint64_t *a)
{
	vm__exit_group(c->vm, (int)(a[0] & 0xff));
	c->done = 1;
	return SYSCALL_NORETURN;
}

long sys_set_tid_address(struct vcpu *c, const uint64_t *a)
{
	c->clear_child_tid = a[0];
	return c->tid;
}

/* Marks one robust futex of a dying thread: owner died, and a waiter woken. */
static void robust_release(struct vcpu *c, uint64_t addr)
{
	uint32_t *w = (addr & 3) ? NULL : guest_ptr(c->vm, addr, sizeof(*w));
	if (!w)
		return;
	uint32_t v = __atomic_load_n(w, __ATOMIC_SEQ_CST);
	while ((v & FUTEX_TID_MASK) == (uint32_t)c->tid) {
		uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		if (__atomic_compare_exchange_n(w, &v, nv, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			if (v & FUTEX_WAITERS)
				syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
			break;
		}
	}
}

void thread__robust_exit(struct vcpu *c)
{
	/* struct robust_list_head { next; futex_offset; list_op_pending; } as the kernel walks it,
	 * bounded as the kernel bounds it (ROBUST_LIST_LIMIT). */
	const uint64_t *head = c->robust_list ? guest_ptr(c->vm, c->robust_list, 24) : NULL;
	if (!head)
		return;
	uint64_t entry = head[0] & ~1ULL, pending = head[2] & ~1ULL;
	int64_t off = (int64_t)head[1];
	for (int n = 0; entry != c->robust_list && n < 2048; n++) {
		const uint64_t *e = guest_ptr(c->vm, entry, 8);
		if (!e)
			break;
		if (entry != pending)
			robust_release(c, entry + (uint64_t)off);
		entry = *e & ~1ULL;
	}
	if (pending)
		robust_release(c, pending + (uint64_t)off);
}

long sys_set_robust_list(struct vcpu *c, const uint64_t *a)
{
	if (a[1] != 24) /* sizeof(struct robust_list_head) */
		return -EINVAL;
	c->robust_list = a[0];
	return 0;
}

long sys_get_robust_list(struct vcpu *c, const uint64_t *a)
{
	uint64_t *head;
	uint64_t *len;
	GUEST_PTR(head, c->vm, a[1], sizeof(*head));
	GUEST_PTR(len, c->vm, a[2], sizeof(*len));
	*head = c->robust_list;
	*len = 24;
	return 0;
}

static int ts_in(struct vcpu *c, uint64_t gva, struct timespec *out)
{
	const struct timespec *t = guest_ptr(c->vm, gva, sizeof(*t));
	if (!t)
		return -EFAULT;
	if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L)
		return -EINVAL;
	*out = *t;
	return 0;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
}

static uint64_t ts_to_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ULL + (uint64_t)t->tv_nsec;
}

long sys_futex(struct vcpu *c, const uint64_t *a)
{
	int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
	uint32_t *u, *u2 = NULL;
	if (a[0] & 3)
		return -EINVAL;
	GUEST_PTR(u, c->vm, a[0], sizeof(*u));
	struct timespec ts, *tp = NULL;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (a[3]) {
			int rc = ts_in(c, a[3], &ts);
			if (rc < 0)
				return rc;
			if (cmd == FUTEX_WAIT) /* relative */
				ts = ns_to_ts(
				    clock__to_host_duration(c->vm, (int64_t)ts_to_ns(&ts)));
			else /* absolute on the guest's clock */
				ts = ns_to_ts(clock__to_host_abs(
				    c->vm,
				    (op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC,
				    ts_to_ns(&ts)));
			tp = &ts;
		}
		break;
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: break;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_WAKE_OP:
		if (a[4] & 3)
			return -EINVAL;
		GUEST_PTR(u2, c->vm, a[4], sizeof(*u2));
		tp = (struct timespec *)(uintptr_t)a[3]; /* val2: a count, not a pointer */
		break;
	default:
		return -ENOSYS; /* priority-inheritance futexes hold guest tids the host cannot read
		                 */
	}
	long r = syscall(SYS_futex, u, op, (uint32_t)a[2], tp, u2, (uint32_t)a[5]);
	return r < 0 ? -errno : r;
}

long sys_gettid(struct vcpu *c, const uint64_t *a)
{
	return c->tid;
}

long sys_getpid(struct vcpu *c, const uint64_t *a)
{
	return c->vm->pid;
}

long sys_getppid(struct vcpu *c, const uint64_t *a)
{
	return getppid();
}

/* A signal the guest sends to itself: pending until a thread that does not block it returns from a
 * system call (signal.c) - for raise() that is this very call. */
static long raise_in_guest(struct vcpu *c, int sig)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig)
		signal__raise(c, sig);
	return 0;
}

/* 1 when `pid` is a child process of this guest (a guest fork). */
static int is_child(pid_t pid)
{
	siginfo_t si;
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT) ==
	       0;
}

long sys_kill(struct vcpu *c, const uint64_t *a)
{
	int pid = (int)a[0], sig = (int)a[1];
	if (pid == c->vm->pid || pid == 0 || pid == -1)
		return raise_in_guest(c, sig);
	if (pid > 0 && is_child(pid)) /* a guest's own child process */
		return kill(pid, sig) < 0 ? -errno : 0;
	return -ESRCH; /* a VM sees no other processes */
}

long sys_tkill(struct vcpu *c, const uint64_t *a)
{
	if (!vm__has_thread(c->vm, (int)a[0]))
		return -ESRCH;
	return raise_in_guest(c, (int)a[1]);
}

long sys_tgkill(struct vcpu *c, const uint64_t *a)
{
	if ((int)a[0] != c->vm->pid || !vm__has_thread(c->vm, (int)a[1]))
		return -ESRCH;
	return raise_in_guest(c, (int)a[2]);
}

long sys_rt_sigaction(struct vcpu *c, const uint64_t *a)
{
	int sig = (int)a[0];
	const struct ksigaction *act = NULL;
	struct ksigaction *old = NULL;
	if (a[3] != KSIGSET_SIZE || sig < 1 || sig > 64)
		return -EINVAL;
	if (a[1])
		GUEST_PTR(act, c->vm, a[1], sizeof(*act));
	if (a[2])
		GUEST_PTR(old, c->vm, a[2], sizeof(*old));
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	pthread_mutex_lock(&c->vm->lock);
	struct ksigaction prev = c->vm->sigactions[sig - 1];
	if (act)
		c->vm->sigactions[sig - 1] = *act;
	pthread_mutex_unlock(&c->vm->lock);
	if (old)
		*old = prev;
	return 0;
}

long sys_rt_sigprocmask(struct vcpu *c, const uint64_t *a)
{
	const uint64_t *set = NULL;
	uint64_t *old = NULL;
	if (a[3] != KSIGSET_SIZE)
		return -EINVAL;
	if (a[1])
		GUEST_PTR(set, c->vm, a[1], sizeof(*set));
	if (a[2])
		GUEST_PTR(old, c->vm, a[2], sizeof(*old));
	uint64_t prev = c->sigmask;
	if (set) {
		const uint64_t unblockable = (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1));
		switch ((int)a[0]) {
		case SIG_BLOCK: c->sigmask |= *set; break;
		case SIG_UNBLOCK: c->sigmask &= ~*set; break;
		case SIG_SETMASK: c->sigmask = *set; break;
		default: return -EINVAL;
		}
		c->sigmask &= ~unblockable;
	}
	if (old)
		*old = prev;
	return 0;
}

long sys_sigaltstack(struct vcpu *c, const uint64_t *a)
{
	const stack_t *ss = NULL;
	stack_t *old = NULL;
	if (a[0])
		GUEST_PTR(ss, c->vm, a[0], sizeof(*ss));
	if (a[1])
		GUEST_PTR(old, c->vm, a[1], sizeof(*old));
	stack_t prev = c->altstack;
	if (!prev.ss_size)
		prev.ss_flags = SS_DISABLE;
	if (ss) {
		if (ss->ss_flags & ~(SS_DISABLE | SS_AUTODISARM))
			return -EINVAL;
		if (!(ss->ss_flags & SS_DISABLE) && ss->ss_size < 2048)
			return -ENOMEM;
		c->altstack = *ss;
	}
	if (old)
		*old = prev;
	return 0;
}

long sys_rt_sigpending(struct vcpu *c, const uint64_t *a)
{
	uint64_t *set;
	if (a[1] != KSIGSET_SIZE)
		return -EINVAL;
	GUEST_PTR(set, c->vm, a[0], sizeof(*set));
	*set = 0;
	return 0;
}

long sys_arch_prctl(struct vcpu *c, const uint64_t *a)
{
	uint64_t *p;
	switch ((int)a[0]) {
	case ARCH_SET_FS:
		if (a[1] >= (1ULL << 47))
			return -EPERM;
		vcpu__set_fs_base(c, a[1]);
		return 0;
	case ARCH_GET_FS:
		GUEST_PTR(p, c->vm, a[1], sizeof(*p));
		*p = vcpu__fs_base(c);
		return 0;
	case ARCH_SET_GS:
		if (a[1] >= (1ULL << 47))
			return -EPERM;
		c->run->s.regs.sregs.gs.base = a[1];
		c->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		return 0;
	case ARCH_GET_GS:
		GUEST_PTR(p, c->vm, a[1], sizeof(*p));
		*p = c->run->s.regs.sregs.gs.base;
		return 0;
	default: return -EINVAL;
	}
}

long sys_prctl(struct vcpu *c, const uint64_t *a)
{
	char *p;
	switch ((int)a[0]) {
	case PR_SET_NAME:
		p = guest_ptr(c->vm, a[1], 1);
		if (!p)
			return -EFAULT;
		snprintf(c->comm, sizeof(c->comm), "%.*s", (int)strnlen(p, 15), p);
		return 0;
	case PR_GET_NAME:
		GUEST_PTR(p, c->vm, a[1], 16);
		memcpy(p, c->comm, 16);
		return 0;
	case PR_GET_DUMPABLE: return 1;
	case PR_SET_DUMPABLE:
	case PR_SET_NO_NEW_PRIVS:
	case PR_SET_PDEATHSIG:
	case PR_SET_TIMERSLACK: return 0;
	default: return -EINVAL;
	}
}

long sys_sched_yield(struct vcpu *c, const uint64_t *a)
{
	sched_yield();
	return 0;
}

long sys_sched_getaffinity(struct vcpu *c, const uint64_t *a)
{
	uint8_t *mask;
	uint64_t len = a[1];
	int n = c->vm->cfg.vcpus;
	uint64_t need = ((uint64_t)(n + 63) / 64) * 8;
	if (len < need || (len & 7))
		return -EINVAL;
	GUEST_PTR(mask, c->vm, a[2], need);
	memset(mask, 0, need);
	for (int i = 0; i < n; i++)
		mask[i / 8] |= (uint8_t)(1 << (i % 8));
	return (long)need;
}

long sys_getcpu(struct vcpu *c, const uint64_t *a)
{
	unsigned *cpu = NULL, *node = NULL;
	if (a[0])
		GUEST_PTR(cpu, c->vm, a[0], sizeof(*cpu));
	if (a[1])
		GUEST_PTR(node, c->vm, a[1], sizeof(*node));
	if (cpu)
		*cpu = (unsigned)c->id % (unsigned)c->vm->cfg.vcpus;
	if (node)
		*node = 0;
	return 0;
}
