/* hv/syscall.h: servicing the guest's system calls. syscall__dispatch() looks the number up in one
 * table (syscalls.def), checks nothing itself (each handler reaches guest memory only through
 * uaccess.h), counts and times the call, and prints it with --trace. Handlers return the value
 * Linux would put in rax: a result, or -errno. */
#ifndef HV_SYSCALL_H
#define HV_SYSCALL_H
#include <errno.h>
#include <limits.h>
#include <stdint.h>

struct vcpu;

/* A handler that has already set the vCPU's registers for its return (or ended the thread). */
#define SYSCALL_NORETURN LONG_MIN

typedef long (*syscall_fn)(struct vcpu *c, const uint64_t *a);

long syscall__dispatch(struct vcpu *c, uint64_t nr, const uint64_t *a);
const char *syscall__name(unsigned nr);

/* Helpers the handler files share. */
/* A host call's result as a handler returns it: r, or -errno when r < 0. */
static inline long ret_errno(long r)
{
	return r < 0 ? -errno : r;
}
/* sys_file.c */
struct iovec;
/* Translates a guest iovec array into host iovecs (each base checked): the count or -errno. */
long iov__in(struct vcpu *c, uint64_t giov, uint64_t n, struct iovec *out);
/* Installs two host fds (a pipe or socketpair) as guest fds and writes them to the guest's int[2]
 * at `g`: 0 or -errno (nothing installed). */
long fd__install_pair(struct vcpu *c, int host[2], uint64_t g, int cloexec);

/* process.c: fork for fork(), vfork() and clone() without CLONE_VM. */
long process__fork(struct vcpu *c, uint64_t flags, uint64_t ctid);

#define S(name, fn, fmt) long fn(struct vcpu *c, const uint64_t *a);
#include "hv/syscalls.def"
#undef S

#endif
