/* Guest test for the VM boundary (run under vcons-hv only). argv[1] is the host path of a file
 * outside the VM's root, argv[2] another VM's address. Every escape must fail; every bad pointer
 * must give EFAULT; the guest must still be running at the end, and say so. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void expect(const char *what, long rc, int want_errno)
{
	int ok = rc < 0 && errno == want_errno;
	printf("%-48s -> %s%s\n", what, rc < 0 ? strerrorname_np(errno) : "succeeded",
	       ok ? "" : "   <-- WRONG");
	failures += !ok;
}

static void escapes(const char *outside)
{
	char p[4200];
	expect("open ../../outside", open("../../outside.txt", O_RDONLY), ENOENT);
	expect("open /../outside", open("/../outside.txt", O_RDONLY), ENOENT);
	expect("open absolute host path", open(outside, O_RDONLY), ENOENT);
	snprintf(p, sizeof(p), "../../../../../../../..%s", outside);
	expect("open ../../..host path", open(p, O_RDONLY), ENOENT);
	symlink("/", "to-root");
	snprintf(p, sizeof(p), "to-root%s", outside);
	expect("open through a symlink to /", open(p, O_RDONLY), ENOENT);
	symlink("../../../../..", "to-up");
	snprintf(p, sizeof(p), "to-up%s", outside);
	expect("open through a symlink to ../../..", open(p, O_RDONLY), ENOENT);
	expect("stat /etc/passwd", open("/etc/passwd", O_RDONLY), ENOENT);
	expect("chdir .. then open outside",
	       // NOLINTNEXTLINE(misc-redundant-expression): two steps up, on purpose
	       (chdir("..") || chdir("..")) ? -1 : open("outside.txt", O_RDONLY), ENOENT);
	expect("unlink ../outside", unlink("../outside.txt"), ENOENT);
	/* ".." stops at the root, as in a chroot: the rename succeeds and lands inside it. */
	int moved = rename("to-root", "../../moved") == 0 && access("/moved", F_OK) == 0 &&
	            access("moved", F_OK) == 0;
	printf("%-48s -> %s\n", "rename to ../../moved stays inside the root",
	       moved ? "yes" : "NO");
	failures += !moved;
	unlink("moved");
	unlink("to-up");
}

#define BAD  ((uintptr_t)0x10)
#define KBAD ((uintptr_t)0xffff800000001000ULL)
#define FAR  ((uintptr_t)1 << 46)

/* A bad pointer in each buffer-taking call, raw (no libc checks in between). */
static void bad_pointers(void)
{
	int fd = open("scratch", O_CREAT | O_RDWR, 0644);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int ep = epoll_create1(0);
	int sp[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	struct {
		const char *name;
		long nr, a0, a1, a2, a3, a4, a5;
	} calls[] = {
		{ "read", SYS_read, fd, BAD, 10 },
		{ "write", SYS_write, 1, KBAD, 10 },
		{ "pread64", SYS_pread64, fd, FAR, 10, 0 },
		{ "pwrite64", SYS_pwrite64, fd, BAD, 10, 0 },
		{ "readv", SYS_readv, fd, BAD, 1 },
		{ "writev", SYS_writev, fd, KBAD, 1 },
		{ "open", SYS_open, BAD, O_RDONLY },
		{ "openat", SYS_openat, AT_FDCWD, KBAD, O_RDONLY },
		{ "stat", SYS_stat, (long)"scratch", BAD },
		{ "lstat", SYS_lstat, BAD, BAD },
		{ "fstat", SYS_fstat, fd, FAR },
		{ "newfstatat", SYS_newfstatat, AT_FDCWD, (long)"scratch", KBAD, 0 },
		{ "statx", SYS_statx, AT_FDCWD, (long)"scratch", 0, 0x7ff, BAD },
		{ "access", SYS_access, BAD, F_OK },
		{ "getdents64", SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), BAD, 4096 },
		{ "mkdir", SYS_mkdir, KBAD, 0755 },
		{ "rmdir", SYS_rmdir, BAD },
		{ "unlink", SYS_unlink, FAR },
		{ "rename", SYS_rename, (long)"scratch", BAD },
		{ "link", SYS_link, BAD, (long)"x" },
		{ "symlink", SYS_symlink, BAD, (long)"x" },
		{ "readlink", SYS_readlink, (long)"scratch", BAD, 100 },
		{ "chdir", SYS_chdir, BAD },
		{ "getcwd", SYS_getcwd, BAD, 100 },
		{ "truncate", SYS_truncate, KBAD, 0 },
		{ "pipe", SYS_pipe, BAD },
		{ "pipe2", SYS_pipe2, KBAD, 0 },
		{ "utimensat", SYS_utimensat, AT_FDCWD, (long)"scratch", BAD, 0 },
		{ "fcntl F_SETLK", SYS_fcntl, fd, F_SETLK, BAD },
		{ "ioctl FIONREAD", SYS_ioctl, fd, 0x541B, BAD },
		{ "statfs", SYS_statfs, (long)".", BAD },
		{ "fstatfs", SYS_fstatfs, fd, KBAD },
		{ "sendfile", SYS_sendfile, s, fd, BAD, 10 },
		{ "bind", SYS_bind, s, BAD, 16 },
		{ "connect", SYS_connect, s, KBAD, 16 },
		{ "getsockname", SYS_getsockname, s, BAD, BAD },
		{ "getpeername", SYS_getpeername, sp[0], BAD, KBAD },
		{ "setsockopt", SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, BAD, 4 },
		{ "getsockopt", SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, BAD, BAD },
		{ "sendto", SYS_sendto, s, BAD, 10, 0, 0, 0 },
		{ "recvfrom", SYS_recvfrom, s, KBAD, 10, 0, 0, 0 },
		{ "sendmsg", SYS_sendmsg, s, BAD, 0 },
		{ "recvmsg", SYS_recvmsg, s, KBAD, 0 },
		{ "socketpair", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BAD },
		{ "accept", SYS_accept, s, BAD, BAD },
		{ "poll", SYS_poll, BAD, 1, 0 },
		{ "ppoll", SYS_ppoll, KBAD, 1, 0, 0 },
		{ "select", SYS_select, 1, BAD, 0, 0, 0 },
		{ "epoll_ctl", SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fd, BAD },
		{ "epoll_wait", SYS_epoll_wait, ep, BAD, 1, 0 },
		{ "timerfd_settime", SYS_timerfd_settime, fd, 0, BAD, 0 },
		{ "clock_gettime", SYS_clock_gettime, CLOCK_MONOTONIC, BAD },
		{ "clock_getres", SYS_clock_getres, CLOCK_MONOTONIC, KBAD },
		{ "gettimeofday", SYS_gettimeofday, BAD, 0 },
		{ "nanosleep", SYS_nanosleep, BAD, 0 },
		{ "clock_nanosleep", SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, KBAD, 0 },
		{ "times", SYS_times, BAD },
		{ "getrusage", SYS_getrusage, 0, BAD },
		{ "uname", SYS_uname, BAD },
		{ "getrandom", SYS_getrandom, KBAD, 16, 0 },
		{ "getrlimit", SYS_getrlimit, RLIMIT_NOFILE, BAD },
		{ "prlimit64", SYS_prlimit64, 0, RLIMIT_NOFILE, 0, BAD },
		{ "sysinfo", SYS_sysinfo, BAD },
		{ "getresuid", SYS_getresuid, BAD, BAD, BAD },
		{ "rt_sigaction", SYS_rt_sigaction, SIGUSR1, BAD, 0, 8 },
		{ "rt_sigprocmask", SYS_rt_sigprocmask, SIG_BLOCK, KBAD, 0, 8 },
		{ "sigaltstack", SYS_sigaltstack, BAD, 0 },
		{ "futex", SYS_futex, BAD, 0, 0, 0 },
		{ "arch_prctl ARCH_GET_FS", SYS_arch_prctl, 0x1003, BAD },
		{ "sched_getaffinity", SYS_sched_getaffinity, 0, 128, BAD },
		{ "get_robust_list", SYS_get_robust_list, 0, BAD, BAD },
		{ "prctl PR_GET_NAME", SYS_prctl, 16, BAD },
		{ "getcpu", SYS_getcpu, BAD, 0, 0 },
		{ "preadv", SYS_preadv, fd, BAD, 1, 0 },
		{ "pwritev", SYS_pwritev, fd, KBAD, 1, 0 },
		{ "readlinkat", SYS_readlinkat, AT_FDCWD, BAD, (long)&failures, 4 },
		{ "faccessat", SYS_faccessat, AT_FDCWD, KBAD, F_OK },
		{ "faccessat2", SYS_faccessat2, AT_FDCWD, BAD, F_OK, 0 },
		{ "mkdirat", SYS_mkdirat, AT_FDCWD, BAD, 0755 },
		{ "unlinkat", SYS_unlinkat, AT_FDCWD, KBAD, 0 },
		{ "renameat", SYS_renameat, AT_FDCWD, BAD, AT_FDCWD, (long)"y" },
		{ "renameat2", SYS_renameat2, AT_FDCWD, (long)"scratch", AT_FDCWD, KBAD, 0 },
		{ "linkat", SYS_linkat, AT_FDCWD, (long)"scratch", AT_FDCWD, BAD, 0 },
		{ "symlinkat", SYS_symlinkat, KBAD, AT_FDCWD, (long)"y" },
		{ "fchmodat", SYS_fchmodat, AT_FDCWD, BAD, 0644 },
		{ "chmod", SYS_chmod, KBAD, 0644 },
		{ "creat", SYS_creat, BAD, 0644 },
		{ "accept4", SYS_accept4, s, KBAD, BAD, 0 },
		{ "pselect6", SYS_pselect6, 1, KBAD, 0, 0, 0, 0 },
		{ "epoll_pwait", SYS_epoll_pwait, ep, KBAD, 1, 0, 0, 8 },
		{ "timerfd_gettime", SYS_timerfd_gettime, fd, BAD },
		{ "time", SYS_time, KBAD },
		{ "rt_sigpending", SYS_rt_sigpending, BAD, 8 },
		{ "rt_sigsuspend", SYS_rt_sigsuspend, BAD, 8 },
		{ "wait4", SYS_wait4, -1, BAD, 0, 0 },
		{ "execve", SYS_execve, BAD, 0, 0 },
		{ "fcntl F_GETLK", SYS_fcntl, fd, F_GETLK, KBAD },
		{ "ioctl TCGETS", SYS_ioctl, 1, 0x5401, BAD },
		{ "clone CLONE_PARENT_SETTID", SYS_clone, 0x3d0f00, 0, BAD, BAD, 0 },
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++) {
		char what[64];
		snprintf(what, sizeof(what), "bad pointer: %s", calls[i].name);
		long r = syscall(calls[i].nr, calls[i].a0, calls[i].a1, calls[i].a2, calls[i].a3,
		                 calls[i].a4, calls[i].a5);
		expect(what, r, EFAULT);
	}
	close(fd);
	close(s);
	unlink("scratch");
}

static void network(const char *other)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, other, &a.sin_addr);
	expect("bind to another VM's address", bind(s, (struct sockaddr *)&a, sizeof(a)),
	       EADDRNOTAVAIL);
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	a.sin_port = htons(80);
	expect("connect outside loopback", connect(s, (struct sockaddr *)&a, sizeof(a)),
	       ENETUNREACH);
	expect("raw socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
	expect("IPv6 socket", socket(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
	expect("unix socket", socket(AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
	expect("setsockopt SO_BINDTODEVICE", setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3),
	       ENOPROTOOPT);
	close(s);
}

static void memory(void)
{
	void *p =
	    mmap(NULL, 8ULL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect("mmap 8 GiB in a small VM", p == MAP_FAILED ? -1 : 0, ENOMEM);
	errno = 0;
	void *m = malloc(8ULL << 30);
	expect("malloc 8 GiB", m ? 0 : -1, ENOMEM);
	free(m);
	// cppcheck-suppress memleak ; expected to fail; the program exits after
	p = mmap((void *)(1ULL << 45), 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
	         0);
	expect("MAP_FIXED beyond guest memory", p == MAP_FAILED ? -1 : 0, ENOMEM);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	escapes(argv[1]);
	bad_pointers();
	network(argv[2]);
	memory();
	printf("guest still running after all checks: yes\n");
	printf("failures: %d\n", failures);
	return failures ? 1 : 0;
}
