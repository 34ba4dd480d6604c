/* hv/sys_misc.c: identity, limits and randomness as a VM presents them: one user (0), its own
 * hostname, the limits hv enforces (memory, fds, vCPUs), host randomness. */
#include "hv/syscall.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

long sys_uname(struct vcpu *c, const uint64_t *a)
{
	struct utsname u, host;
	uname(&host);
	memset(&u, 0, sizeof(u));
	snprintf(u.sysname, sizeof(u.sysname), "Linux");
	snprintf(u.nodename, sizeof(u.nodename), "%s", c->vm->name);
	snprintf(u.release, sizeof(u.release), "%s", host.release);
	snprintf(u.version, sizeof(u.version), "%s", host.version);
	snprintf(u.machine, sizeof(u.machine), "x86_64");
	snprintf(u.domainname, sizeof(u.domainname), "(none)");
	return copy_to_guest(c->vm, a[0], &u, 1);
}

long sys_getrandom(struct vcpu *c, const uint64_t *a)
{
	struct guest_bytes *p;
	if (a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	GUEST_BUF(p, c->vm, a[0], a[1]);
	return ret_errno(getrandom(p, a[1], (unsigned)a[2]));
}

long sys_getuid(struct vcpu *c, const uint64_t *a)
{
	return 0;
}

long sys_getresuid(struct vcpu *c, const uint64_t *a)
{
	const unsigned root = 0;
	if (copy_to_guest(c->vm, a[0], &root, 1) || copy_to_guest(c->vm, a[1], &root, 1) ||
	    copy_to_guest(c->vm, a[2], &root, 1))
		return -EFAULT;
	return 0;
}

long sys_getgroups(struct vcpu *c, const uint64_t *a)
{
	return 0;
}

/* The limits a guest sees; RLIMIT_NOFILE and RLIMIT_AS are the ones hv enforces. */
static int limit_of(struct vcpu *c, int res, struct rlimit *out)
{
	switch (res) {
	case RLIMIT_NOFILE: *out = (struct rlimit){ c->vm->fds.max, c->vm->fds.max }; return 0;
	case RLIMIT_AS:
	case RLIMIT_DATA: *out = (struct rlimit){ c->vm->mem, c->vm->mem }; return 0;
	case RLIMIT_STACK:
		*out = (struct rlimit){ c->vm->mm.stack_hi - c->vm->mm.stack_lo, RLIM_INFINITY };
		return 0;
	case RLIMIT_NPROC: *out = (struct rlimit){ MAX_VCPUS, MAX_VCPUS }; return 0;
	case RLIMIT_CORE: *out = (struct rlimit){ 0, 0 }; return 0;
	default:
		if (res < 0 || res >= RLIM_NLIMITS)
			return -EINVAL;
		*out = (struct rlimit){ RLIM_INFINITY, RLIM_INFINITY };
		return 0;
	}
}

long sys_getrlimit(struct vcpu *c, const uint64_t *a)
{
	struct rlimit r;
	long rc = limit_of(c, (int)a[0], &r);
	return RESULT_TO_GUEST(c->vm, rc, a[1], &r);
}

long sys_setrlimit(struct vcpu *c, const uint64_t *a)
{
	struct rlimit r, cur;
	if (copy_from_guest(c->vm, &r, a[1], 1))
		return -EFAULT;
	int rc = limit_of(c, (int)a[0], &cur);
	if (rc < 0)
		return rc;
	return r.rlim_max > cur.rlim_max || r.rlim_cur > r.rlim_max ? -EPERM : 0;
}

long sys_prlimit64(struct vcpu *c, const uint64_t *a)
{
	if (a[0] != 0 && (int)a[0] != c->vm->pid)
		return -ESRCH;
	struct rlimit cur;
	int rc = limit_of(c, (int)a[1], &cur);
	if (rc < 0)
		return rc;
	if (a[2]) {
		struct rlimit n;
		if (copy_from_guest(c->vm, &n, a[2], 1))
			return -EFAULT;
		if (n.rlim_max > cur.rlim_max || n.rlim_cur > n.rlim_max)
			return -EPERM;
	}
	if (a[3] && copy_to_guest(c->vm, a[3], &cur, 1))
		return -EFAULT;
	return 0;
}

long sys_sysinfo(struct vcpu *c, const uint64_t *a)
{
	struct sysinfo s, h;
	sysinfo(&h);
	memset(&s, 0, sizeof(s));
	s.uptime = h.uptime;
	s.totalram = c->vm->mem;
	s.freeram = c->vm->mem / 2;
	s.procs = 1;
	s.mem_unit = 1;
	return copy_to_guest(c->vm, a[0], &s, 1);
}

long sys_getpriority(struct vcpu *c, const uint64_t *a)
{
	return 20; /* nice 0, in the system call's 40 - nice encoding */
}
