/* hv/confine.c: hv's seccomp filter. After the VMs are set up, the process may make only the host
 * system calls that servicing guests needs; anything else (exec, ptrace, mount, module loading,
 * bpf, process_vm_*, ...) kills it. The list follows the handlers in sys_*.c plus what glibc,
 * KVM_RUN and hv's own bookkeeping use. */
#include "hv/hv.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

static const char *const allowed[] = {
	/* files */
	"read",
	"write",
	"pread64",
	"pwrite64",
	"readv",
	"writev",
	"preadv",
	"pwritev",
	"openat",
	"openat2",
	"close",
	"lseek",
	"fstat",
	"newfstatat",
	"statx",
	"faccessat",
	"faccessat2",
	"getdents64",
	"mkdirat",
	"unlinkat",
	"renameat",
	"renameat2",
	"rename",
	"unlink",
	"getcwd",
	"access",
	"linkat",
	"symlinkat",
	"readlink",
	"readlinkat",
	"fsync",
	"fdatasync",
	"syncfs",
	"ftruncate",
	"fallocate",
	"fadvise64",
	"fchmod",
	"fchmodat",
	"utimensat",
	"fcntl",
	"flock",
	"dup",
	"dup3",
	"pipe2",
	"ioctl",
	"sendfile",
	"fstatfs",
	"eventfd2",
	/* snapshots (fdstate.c): a pipe's contents peeked into a scratch pipe, not consumed */
	"tee",
	/* snapshots: is this file one of hv's own standard fds (kcmp KCMP_FILE on itself) */
	"kcmp",
	/* sockets and readiness */
	"socket",
	"socketpair",
	"bind",
	"listen",
	"accept4",
	"connect",
	"getsockname",
	"getpeername",
	"setsockopt",
	"getsockopt",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"shutdown",
	"poll",
	"ppoll",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"timerfd_create",
	"timerfd_settime",
	"timerfd_gettime",
	/* memory, threads, signals, time */
	"mmap",
	"munmap",
	"mremap",
	"madvise",
	"mprotect",
	"msync",
	"mincore",
	"brk",
	"futex",
	"clone",
	"clone3",
	"set_robust_list",
	"rseq",
	"rt_sigprocmask",
	"rt_sigaction",
	"rt_sigreturn",
	"rt_sigtimedwait",
	"sigaltstack",
	"tgkill",
	"gettid",
	"getpid",
	"getppid",
	"exit",
	"exit_group",
	"sched_yield",
	"sched_getaffinity",
	"clock_gettime",
	"clock_getres",
	"clock_nanosleep",
	"nanosleep",
	"gettimeofday",
	"times",
	"getrusage",
	"uname",
	"getrandom",
	"sysinfo",
	"restart_syscall",
	"prlimit64",
	"wait4",
	"waitid",
	"kill",
	"setrlimit",
};

int hv_confine(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "cannot install the seccomp filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
