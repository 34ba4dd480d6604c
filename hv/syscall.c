/* hv/syscall.c: the system-call table (from syscalls.def), dispatch, counting and --trace output.
 */
#include "hv/syscall.h"
#include "hv/clock.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

struct syscall_desc {
	const char *name;
	syscall_fn fn;
	const char *fmt;
};

static const struct syscall_desc table[STATS_NSYSCALLS] = {
#define S(name, fn, fmt) [__NR_##name] = { #name, fn, fmt },
#include "hv/syscalls.def"
#undef S
};

const char *syscall__name(unsigned nr)
{
	return nr < STATS_NSYSCALLS ? table[nr].name : NULL;
}

static void trace_arg(FILE *f, const struct vm *vm, char kind, uint64_t v)
{
	char s[65];
	long n;
	switch (kind) {
	case 'd': fprintf(f, "%lld", (long long)v); break;
	case 'f': fprintf(f, "%d", (int)v); break;
	case 's':
		n = copy_str_from_guest(vm, s, v, sizeof(s));
		if (n == -EFAULT)
			fprintf(f, "%#llx", (unsigned long long)v);
		else
			fprintf(f, "\"%.*s\"%s", n < 0 ? 64 : (int)n, s, n < 0 ? "..." : "");
		break;
	default: fprintf(f, "%#llx", (unsigned long long)v); break;
	}
}

static void trace(struct vcpu *c, unsigned nr, const uint64_t *a, long ret, uint64_t ns)
{
	FILE *f = c->vm->cfg.trace_out ? c->vm->cfg.trace_out : stderr;
	const struct syscall_desc *d = nr < STATS_NSYSCALLS && table[nr].fn ? &table[nr] : NULL;
	flockfile(f);
	fprintf(f, "[%d] ", c->tid);
	if (d) {
		fprintf(f, "%s(", d->name);
		for (int i = 0; d->fmt[i]; i++) {
			if (i)
				fputs(", ", f);
			trace_arg(f, c->vm, d->fmt[i], a[i]);
		}
	} else {
		fprintf(f, "syscall_%u(%#llx, %#llx, %#llx", nr, (unsigned long long)a[0],
		        (unsigned long long)a[1], (unsigned long long)a[2]);
	}
	if (ret < 0 && ret > -4096)
		fprintf(f, ") = -1 %s (%s) <%.6f>\n", strerrorname_np((int)-ret),
		        strerror((int)-ret), ns / 1e9);
	else if (ret == SYSCALL_NORETURN)
		fprintf(f, ") = ?\n");
	else
		fprintf(f, ") = %ld <%.6f>\n", ret, ns / 1e9);
	funlockfile(f);
}

/* A write to a pipe or socket whose reader is gone raises SIGPIPE, unless MSG_NOSIGNAL says not to.
 */
static int raises_sigpipe(uint64_t nr, const uint64_t *a)
{
	switch (nr) {
	case __NR_write:
	case __NR_writev:
	case __NR_pwrite64:
	case __NR_pwritev:
	case __NR_sendfile: return 1;
	case __NR_sendto: return !(a[3] & MSG_NOSIGNAL);
	case __NR_sendmsg: return !(a[2] & MSG_NOSIGNAL);
	default: return 0;
	}
}

long syscall__dispatch(struct vcpu *c, uint64_t nr, const uint64_t *a)
{
	struct vm *vm = c->vm;
	uint64_t t0 = clock__host_ns(CLOCK_MONOTONIC);
	long ret;
	if (nr < STATS_NSYSCALLS && table[nr].fn) {
		ret = table[nr].fn(c, a);
	} else {
		ret = -ENOSYS;
		c->stats.sys_unknown++;
		if (stats__first_unknown(&vm->stats, nr < STATS_NSYSCALLS ? (unsigned)nr : 0))
			fprintf(stderr,
			        "vcons-hv: %s: unsupported system call %llu answered -ENOSYS\n",
			        vm->name, (unsigned long long)nr);
	}
	if (ret == -EPIPE && raises_sigpipe(nr, a))
		signal__raise(c, SIGPIPE);
	uint64_t t1 = clock__host_ns(CLOCK_MONOTONIC), ns = t1 - t0;
	struct kvm_regs *r = vcpu__regs(c);
	c->trail.e[c->trail.n++ % TRAIL_LEN] =
	    (struct trail_entry){ .nr = nr,
		                  .arg0 = a[0],
		                  .rip = ret == SYSCALL_NORETURN ? r->rip : r->rcx,
		                  .rsp = r->rsp,
		                  .ret = ret,
		                  .end_ns = t1 };
	unsigned slot = nr < STATS_NSYSCALLS ? (unsigned)nr : STATS_NSYSCALLS - 1;
	c->stats.sys_count[slot]++;
	c->stats.sys_ns[slot] += ns;
	if (vm->cfg.trace)
		trace(c, (unsigned)nr, a, ret, ns);
	return ret;
}

/* Calls that succeed with no effect inside a VM (memory locking, affinity, priorities). */
long sys_ok(struct vcpu *c, const uint64_t *a)
{
	return 0;
}

/* Calls answered -ENOSYS on purpose (clone3, so that glibc falls back to clone; rseq): counted but
 * not logged as unknown. */
long sys_enosys_quiet(struct vcpu *c, const uint64_t *a)
{
	return -ENOSYS;
}

long sys_eperm(struct vcpu *c, const uint64_t *a)
{
	return -EPERM;
}
