/* hv/signal.c: signals inside a VM. A signal is set pending on the process; it is acted on when a
 * guest thread that does not block it returns from a system call: ignored, the process ended (the
 * default action of a fatal signal: exit status 128 + signal), or a handler entered through a
 * signal frame laid out as Linux lays it out on x86-64 (return address = sa_restorer, ucontext,
 * siginfo, XSAVE area), which rt_sigreturn undoes. rt_sigsuspend and pause wait for a signal; a
 * SIGCHLD is generated when a child process (a guest fork) changes state while its parent waits
 * there. Not offered yet: signals that interrupt guest code running between system calls (timers,
 * another process's kill), and real-time signal queues (each signal is pending at most once).
 * A frame is built in host memory and copied to the guest's stack once; rt_sigreturn copies the
 * guest's ucontext and XSAVE area in once. */
#include "hv/syscall.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#define BIT(sig)     (1ULL << ((sig)-1))
#define UNBLOCKABLE  (BIT(SIGKILL) | BIT(SIGSTOP))
#define SA_RESTORER_ 0x04000000ULL
#define XSAVE_BYTES  4096
#define RED_ZONE     128
#define RFLAGS_DF_TF 0x500ULL

struct ksigcontext { /* struct sigcontext of the x86-64 kernel ABI */
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
};

struct kucontext { /* struct ucontext of the kernel ABI (an 8-byte sigset) */
	uint64_t flags, link;
	stack_t stack;
	struct ksigcontext mc;
	uint64_t sigmask;
};

static int default_ignored(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

void signal__raise(struct vcpu *c, int sig)
{
	atomic_fetch_or(&c->vm->pending, BIT(sig));
}

/* Takes the lowest pending signal that `mask` does not block: its number, or 0. */
static int take_pending(struct vcpu *c, uint64_t mask)
{
	uint64_t avail = (atomic_load(&c->vm->pending) | c->pending) & ~mask;
	if (!avail)
		return 0;
	int sig = __builtin_ctzll(avail) + 1;
	if (c->pending & BIT(sig))
		c->pending &= ~BIT(sig);
	else
		atomic_fetch_and(&c->vm->pending, ~BIT(sig));
	return sig;
}

static void save_regs(struct ksigcontext *mc, const struct kvm_regs *r)
{
	*mc = (struct ksigcontext){
		.r8 = r->r8,
		.r9 = r->r9,
		.r10 = r->r10,
		.r11 = r->r11,
		.r12 = r->r12,
		.r13 = r->r13,
		.r14 = r->r14,
		.r15 = r->r15,
		.rdi = r->rdi,
		.rsi = r->rsi,
		.rbp = r->rbp,
		.rbx = r->rbx,
		.rdx = r->rdx,
		.rax = r->rax,
		.rcx = r->rcx,
		.rsp = r->rsp,
		.rip = r->rip,
		.eflags = r->rflags,
		.cs = 0x33,
		.ss = 0x2b,
	};
}

/* The largest frame: return address, ucontext, siginfo and the XSAVE area, with their padding. */
#define FRAME_MAX (8 + sizeof(struct kucontext) + sizeof(siginfo_t) + XSAVE_BYTES + 128)

/* Builds the frame for `sig` and points the vCPU at the handler. `user` is the state the guest
 * returns to afterwards. Returns 0, or -1 when the frame does not fit (the guest then dies). */
static int enter_handler(struct vcpu *c, int sig, const struct ksigaction *act,
                         const struct kvm_regs *user, uint64_t saved_mask)
{
	struct vm *vm = c->vm;
	uint8_t frame[FRAME_MAX] __attribute__((aligned(64)));
	uint64_t sp = user->rsp;
	int on_alt = c->altstack.ss_size && !(c->altstack.ss_flags & SS_DISABLE);
	uint64_t alt_lo = (uint64_t)c->altstack.ss_sp, alt_hi = alt_lo + c->altstack.ss_size;
	if ((act->flags & SA_ONSTACK) && on_alt && !(sp > alt_lo && sp <= alt_hi))
		sp = alt_hi;
	sp = (sp - RED_ZONE - XSAVE_BYTES) & ~63ULL;
	uint64_t xsave_at = sp;
	uint64_t info_at = (sp - sizeof(siginfo_t)) & ~15ULL;
	uint64_t pret = ((info_at - sizeof(struct kucontext) - 8) & ~15ULL) - 8;
	uint64_t uc_at = pret + 8, size = xsave_at + XSAVE_BYTES - pret;
	if (pret > sp || size > sizeof(frame) || !(act->flags & SA_RESTORER_))
		return -1;
	memset(frame, 0, size);

	uint64_t *pretcode = (uint64_t *)frame;
	struct kucontext *uc = (struct kucontext *)(frame + (uc_at - pret));
	siginfo_t *info = (siginfo_t *)(frame + (info_at - pret));
	*pretcode = act->restorer;
	memset(uc, 0, sizeof(*uc));
	uc->stack = c->altstack;
	save_regs(&uc->mc, user);
	uc->mc.oldmask = saved_mask;
	uc->mc.fpstate = xsave_at;
	uc->sigmask = saved_mask;
	memset(info, 0, sizeof(*info));
	info->si_signo = sig;
	info->si_code = sig == SIGCHLD ? CLD_EXITED : SI_USER;
	if (ioctl(c->fd, KVM_GET_XSAVE, frame + (xsave_at - pret)) < 0 ||
	    uaccess__out(vm, pret, frame, size, 8))
		return -1;

	c->sigmask =
	    (saved_mask | act->mask | ((act->flags & SA_NODEFER) ? 0 : BIT(sig))) & ~UNBLOCKABLE;
	if (act->flags & SA_RESETHAND) {
		pthread_mutex_lock(&vm->lock);
		vm->sigactions[sig - 1].handler = (uint64_t)SIG_DFL;
		pthread_mutex_unlock(&vm->lock);
	}
	struct kvm_regs h = *user;
	h.rip = act->handler;
	h.rsp = pret;
	h.rdi = (uint64_t)sig;
	h.rsi = info_at;
	h.rdx = uc_at;
	h.rax = 0;
	h.rflags &= ~RFLAGS_DF_TF;
	vcpu__set_user_regs(c, &h);
	return 0;
}

int signal__deliver(struct vcpu *c, long ret)
{
	struct vm *vm = c->vm;
	uint64_t saved = c->suspend_mask_saved ? c->suspend_mask : c->sigmask;
	for (;;) {
		int sig = take_pending(c, c->sigmask);
		if (!sig)
			break;
		pthread_mutex_lock(&vm->lock);
		struct ksigaction act = vm->sigactions[sig - 1];
		pthread_mutex_unlock(&vm->lock);
		if (act.handler == (uint64_t)SIG_IGN ||
		    (act.handler == (uint64_t)SIG_DFL && default_ignored(sig)))
			continue;
		struct kvm_regs user = *vcpu__regs(c);
		user.rip = user.rcx; /* the state after the system call returns */
		user.rflags = user.r11;
		user.rax = (uint64_t)ret;
		c->suspend_mask_saved = 0;
		if (act.handler == (uint64_t)SIG_DFL ||
		    enter_handler(c, sig, &act, &user, saved) < 0) {
			vm__exit_group(vm, HV_EXIT_CRASH_BASE +
			                       (act.handler == (uint64_t)SIG_DFL ? sig : SIGSEGV));
			c->done = 1;
		}
		return 1;
	}
	if (c->suspend_mask_saved) { /* rt_sigsuspend ended without a handler to run */
		c->sigmask = c->suspend_mask;
		c->suspend_mask_saved = 0;
	}
	return 0;
}

long sys_rt_sigreturn(struct vcpu *c, const uint64_t *a)
{
	struct vm *vm = c->vm;
	struct kvm_xsave xs;
	struct kucontext uc;
	if (copy_from_guest(vm, &uc, vcpu__regs(c)->rsp, 1)) {
		vm__exit_group(vm, HV_EXIT_CRASH_BASE + SIGSEGV);
		c->done = 1;
		return SYSCALL_NORETURN;
	}
	const struct ksigcontext *m = &uc.mc;
	struct kvm_regs r = {
		.r8 = m->r8,
		.r9 = m->r9,
		.r10 = m->r10,
		.r11 = m->r11,
		.r12 = m->r12,
		.r13 = m->r13,
		.r14 = m->r14,
		.r15 = m->r15,
		.rdi = m->rdi,
		.rsi = m->rsi,
		.rbp = m->rbp,
		.rbx = m->rbx,
		.rdx = m->rdx,
		.rax = m->rax,
		.rcx = m->rcx,
		.rsp = m->rsp,
		.rip = m->rip,
		.rflags = m->eflags,
	};
	if (m->fpstate && !uaccess__in(vm, &xs, m->fpstate, XSAVE_BYTES, 1))
		ioctl(c->fd, KVM_SET_XSAVE, &xs); /* KVM refuses a state the CPU cannot take */
	c->sigmask = uc.sigmask & ~UNBLOCKABLE;
	vcpu__set_user_regs(c, &r);
	return SYSCALL_NORETURN;
}

/* Waits until a signal this thread does not block is pending. */
static long suspend(struct vcpu *c, uint64_t mask)
{
	struct vm *vm = c->vm;
	c->suspend_mask = c->sigmask;
	c->suspend_mask_saved = 1;
	c->sigmask = mask & ~UNBLOCKABLE;
	while (!atomic_load(&vm->exiting) && !atomic_load(&vm->pausing)) {
		if ((atomic_load(&vm->pending) | c->pending) & ~c->sigmask)
			break;
		pthread_mutex_lock(&vm->lock);
		uint64_t h = vm->sigactions[SIGCHLD - 1].handler;
		pthread_mutex_unlock(&vm->lock);
		if (!(c->sigmask & BIT(SIGCHLD)) && h != (uint64_t)SIG_DFL &&
		    h != (uint64_t)SIG_IGN) {
			/* SIGCHLD is generated here: wait (without reaping) for a child's change.
			 */
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) == 0) {
				signal__raise(c, SIGCHLD);
				continue;
			}
			if (errno == EINTR)
				continue;
		}
		ppoll(NULL, 0, NULL, NULL); /* until a kick (VM exit) interrupts it */
	}
	return -EINTR;
}

long sys_rt_sigsuspend(struct vcpu *c, const uint64_t *a)
{
	uint64_t mask;
	if (a[1] != 8)
		return -EINVAL;
	if (copy_from_guest(c->vm, &mask, a[0], 1))
		return -EFAULT;
	return suspend(c, mask);
}

long sys_pause(struct vcpu *c, const uint64_t *a)
{
	return suspend(c, c->sigmask);
}
