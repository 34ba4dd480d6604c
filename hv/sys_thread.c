/* hv/sys_thread.c: guest threads (clone -> a new vCPU on a new host thread), futexes (the host
 * futex on the guest word's host address), thread exit, identity, and signal bookkeeping.
 *
 * Signals: dispositions and masks are recorded; a signal a guest sends itself with a default fatal
 * action ends the VM as Linux would (exit status 128 + signal). Running a guest's handler is not
 * implemented yet: such a signal is reported once and dropped. */
#include "hv/clock.h"
#include "hv/syscall.h"
#include "hv/uaccess.h"
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
	if ((flags & CLONE_PARENT_SETTID) && (!uaccess__ok(c->vm, ptid, sizeof(int)) || ptid % 4))
		return -EFAULT;
	if ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
	    (!uaccess__ok(c->vm, ctid, sizeof(int)) || ctid % 4))
		return -EFAULT;

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
	/* the thread exists: like Linux, a fault writing its tid does not undo it */
	if (flags & CLONE_PARENT_SETTID)
		(void)copy_to_guest(c->vm, ptid, &tid, 1);
	if (flags & CLONE_CHILD_SETTID)
		(void)copy_to_guest(c->vm, ctid, &tid, 1);
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

/* Marks one robust futex of a dying thread: owner died, and a waiter woken. The guest word is
 * changed by an atomic compare-and-exchange, as the kernel does, never read and written apart. */
static void robust_release(struct vcpu *c, uint64_t addr)
{
	uint32_t v;
	if (addr & 3 || copy_from_guest(c->vm, &v, addr, 1))
		return;
	while ((v & FUTEX_TID_MASK) == (uint32_t)c->tid) {
		uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		int rc = uaccess__cmpxchg32(c->vm, addr, &v, nv);
		if (rc < 0)
			return;
		if (rc == 0) {
			if (v & FUTEX_WAITERS)
				syscall(SYS_futex, uaccess__buf(c->vm, addr, 4), FUTEX_WAKE, 1,
				        NULL, NULL, 0);
			return;
		}
	}
}

void thread__robust_exit(struct vcpu *c)
{
	/* struct robust_list_head { next; futex_offset; list_op_pending; } as the kernel walks it,
	 * bounded as the kernel bounds it (ROBUST_LIST_LIMIT). */
	uint64_t head[3];
	if (!c->robust_list || copy_from_guest(c->vm, head, c->robust_list, 3))
		return;
	uint64_t entry = head[0] & ~1ULL, pending = head[2] & ~1ULL;
	int64_t off = (int64_t)head[1];
	for (int n = 0; entry != c->robust_list && n < 2048; n++) {
		uint64_t next;
		if (copy_from_guest(c->vm, &next, entry, 1))
			break;
		if (entry != pending)
			robust_release(c, entry + (uint64_t)off);
		entry = next & ~1ULL;
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
	const uint64_t len = 24;
	if (copy_to_guest(c->vm, a[1], &c->robust_list, 1) || copy_to_guest(c->vm, a[2], &len, 1))
		return -EFAULT;
	return 0;
}

static int ts_in(struct vcpu *c, uint64_t gva, struct timespec *out)
{
	if (copy_from_guest(c->vm, out, gva, 1))
		return -EFAULT;
	if (out->tv_sec < 0 || out->tv_nsec < 0 || out->tv_nsec >= 1000000000L)
		return -EINVAL;
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
	/* the futex words themselves are the host kernel's to read and change */
	struct guest_bytes *u, *u2 = NULL;
	if (a[0] & 3)
		return -EINVAL;
	GUEST_BUF(u, c->vm, a[0], sizeof(uint32_t));
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
		GUEST_BUF(u2, c->vm, a[4], sizeof(uint32_t));
		tp = (struct timespec *)(uintptr_t)a[3]; /* val2: a count, not a pointer */
		break;
	default:
		return -ENOSYS; /* priority-inheritance futexes hold guest tids the host cannot read
		                 */
	}
	return ret_errno(syscall(SYS_futex, u, op, (uint32_t)a[2], tp, u2, (uint32_t)a[5]));
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
	struct ksigaction act;
	if (a[3] != KSIGSET_SIZE || sig < 1 || sig > 64)
		return -EINVAL;
	if (a[1] && copy_from_guest(c->vm, &act, a[1], 1))
		return -EFAULT;
	if (a[2] && !uaccess__ok(c->vm, a[2], sizeof(act)))
		return -EFAULT;
	if (a[1] && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	pthread_mutex_lock(&c->vm->lock);
	struct ksigaction prev = c->vm->sigactions[sig - 1];
	if (a[1])
		c->vm->sigactions[sig - 1] = act;
	pthread_mutex_unlock(&c->vm->lock);
	if (a[2] && copy_to_guest(c->vm, a[2], &prev, 1))
		return -EFAULT;
	return 0;
}

long sys_rt_sigprocmask(struct vcpu *c, const uint64_t *a)
{
	uint64_t set;
	if (a[3] != KSIGSET_SIZE)
		return -EINVAL;
	if (a[1] && copy_from_guest(c->vm, &set, a[1], 1))
		return -EFAULT;
	if (a[2] && !uaccess__ok(c->vm, a[2], sizeof(set)))
		return -EFAULT;
	uint64_t prev = c->sigmask;
	if (a[1]) {
		const uint64_t unblockable = (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1));
		switch ((int)a[0]) {
		case SIG_BLOCK: c->sigmask |= set; break;
		case SIG_UNBLOCK: c->sigmask &= ~set; break;
		case SIG_SETMASK: c->sigmask = set; break;
		default: return -EINVAL;
		}
		c->sigmask &= ~unblockable;
	}
	if (a[2] && copy_to_guest(c->vm, a[2], &prev, 1))
		return -EFAULT;
	return 0;
}

long sys_sigaltstack(struct vcpu *c, const uint64_t *a)
{
	stack_t ss;
	if (a[0] && copy_from_guest(c->vm, &ss, a[0], 1))
		return -EFAULT;
	if (a[1] && !uaccess__ok(c->vm, a[1], sizeof(ss)))
		return -EFAULT;
	stack_t prev = c->altstack;
	if (!prev.ss_size)
		prev.ss_flags = SS_DISABLE;
	if (a[0]) {
		if (ss.ss_flags & ~(SS_DISABLE | SS_AUTODISARM))
			return -EINVAL;
		if (!(ss.ss_flags & SS_DISABLE) && ss.ss_size < 2048)
			return -ENOMEM;
		c->altstack = ss;
	}
	if (a[1] && copy_to_guest(c->vm, a[1], &prev, 1))
		return -EFAULT;
	return 0;
}

long sys_rt_sigpending(struct vcpu *c, const uint64_t *a)
{
	const uint64_t none = 0;
	if (a[1] != KSIGSET_SIZE)
		return -EINVAL;
	return copy_to_guest(c->vm, a[0], &none, 1);
}

long sys_arch_prctl(struct vcpu *c, const uint64_t *a)
{
	uint64_t v;
	switch ((int)a[0]) {
	case ARCH_SET_FS:
		if (a[1] >= (1ULL << 47))
			return -EPERM;
		vcpu__set_fs_base(c, a[1]);
		return 0;
	case ARCH_GET_FS: v = vcpu__fs_base(c); return copy_to_guest(c->vm, a[1], &v, 1);
	case ARCH_SET_GS:
		if (a[1] >= (1ULL << 47))
			return -EPERM;
		c->run->s.regs.sregs.gs.base = a[1];
		c->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		return 0;
	case ARCH_GET_GS:
		v = c->run->s.regs.sregs.gs.base;
		return copy_to_guest(c->vm, a[1], &v, 1);
	default: return -EINVAL;
	}
}

long sys_prctl(struct vcpu *c, const uint64_t *a)
{
	char name[sizeof(c->comm)];
	long n;
	switch ((int)a[0]) {
	case PR_SET_NAME: /* the first 15 bytes, as Linux keeps them */
		n = copy_str_from_guest(c->vm, name, a[1], sizeof(name));
		if (n == -EFAULT)
			return n;
		name[sizeof(name) - 1] = 0;
		memcpy(c->comm, name, sizeof(name));
		return 0;
	case PR_GET_NAME: return copy_to_guest(c->vm, a[1], c->comm, sizeof(c->comm));
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
	uint8_t mask[1024 / 8] = { 0 }; /* --vcpus is at most 1024 */
	uint64_t len = a[1];
	int n = c->vm->cfg.vcpus;
	uint64_t need = ((uint64_t)(n + 63) / 64) * 8;
	if (len < need || (len & 7))
		return -EINVAL;
	for (int i = 0; i < n && i < 1024; i++)
		mask[i / 8] |= (uint8_t)(1 << (i % 8));
	return copy_to_guest(c->vm, a[2], mask, need) ? -EFAULT : (long)need;
}

long sys_getcpu(struct vcpu *c, const uint64_t *a)
{
	const unsigned cpu = (unsigned)c->id % (unsigned)c->vm->cfg.vcpus, node = 0;
	if ((a[0] && copy_to_guest(c->vm, a[0], &cpu, 1)) ||
	    (a[1] && copy_to_guest(c->vm, a[1], &node, 1)))
		return -EFAULT;
	return 0;
}
