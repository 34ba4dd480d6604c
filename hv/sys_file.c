/* hv/sys_file.c: file system calls. Paths go through path.c (confined to the VM's root), fds
 * through fdtab.c, guest memory through uaccess.h: structures are copied in and out once, data
 * buffers go to the host call as they are. The host does the work on host fds. */
#include "hv/path.h"
#include "hv/syscall.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#define NAME_MAX_ 256
/* struct termios of the kernel ABI (asm/termbits.h), not glibc's */
#define KERNEL_TERMIOS_SIZE 36
#define OPEN_FLAGS                                                                                 \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |     \
	 O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC |      \
	 O_PATH | O_TMPFILE)

/* Runs `op` on the host file behind guest fd `fd`, holding a reference for the call. */
// NOLINTBEGIN(bugprone-macro-parentheses): f names the variable it declares
#define WITH_FILE(c, fd, f, expr)                                                                  \
	({                                                                                         \
		struct hfile *f = fdtab__get(&(c)->vm->fds, (int)(fd));                            \
		long r_ = -EBADF;                                                                  \
		if (f) {                                                                           \
			r_ = ret_errno(expr);                                                      \
			fdtab__put(&(c)->vm->fds, f);                                              \
		}                                                                                  \
		r_;                                                                                \
	})
// NOLINTEND(bugprone-macro-parentheses)

static int at_fd(uint64_t a)
{
	return (int)a;
}

/* --- reads and writes --- */

long sys_read(struct vcpu *c, const uint64_t *a)
{
	struct guest_bytes *p;
	GUEST_BUF(p, c->vm, a[1], a[2]);
	return WITH_FILE(c, a[0], f, read(f->host, p, a[2]));
}

long sys_write(struct vcpu *c, const uint64_t *a)
{
	const struct guest_bytes *p;
	GUEST_BUF(p, c->vm, a[1], a[2]);
	return WITH_FILE(c, a[0], f, write(f->host, p, a[2]));
}

long sys_pread64(struct vcpu *c, const uint64_t *a)
{
	struct guest_bytes *p;
	GUEST_BUF(p, c->vm, a[1], a[2]);
	return WITH_FILE(c, a[0], f, pread(f->host, p, a[2], (off_t)a[3]));
}

long sys_pwrite64(struct vcpu *c, const uint64_t *a)
{
	const struct guest_bytes *p;
	GUEST_BUF(p, c->vm, a[1], a[2]);
	return WITH_FILE(c, a[0], f, pwrite(f->host, p, a[2], (off_t)a[3]));
}

/* Translates a guest iovec array into host iovecs: count or -errno. The array is copied into `out`
 * once and each entry translated there. Exported for sys_net.c. */
long iov__in(struct vcpu *c, uint64_t giov, uint64_t n, struct iovec *out)
{
	if (n > IOV_MAX)
		return -EINVAL;
	if (copy_from_guest(c->vm, out, giov, n))
		return -EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t base = (uint64_t)out[i].iov_base, len = out[i].iov_len;
		if (len > SSIZE_MAX)
			return -EINVAL;
		struct guest_bytes *p;
		GUEST_BUF(p, c->vm, base, len);
		out[i].iov_base = p;
	}
	return (long)n;
}

static long vec_io(struct vcpu *c, const uint64_t *a, int write_, int positioned)
{
	/* before sizing the array by it (found by the hv-syscall fuzz target) */
	if (a[2] > IOV_MAX)
		return -EINVAL;
	struct iovec *iov = malloc(sizeof(*iov) * (a[2] ? a[2] : 1));
	if (!iov)
		return -ENOMEM;
	long n = iov__in(c, a[1], a[2], iov);
	if (n >= 0) {
		off_t off = (off_t)a[3];
		if (write_)
			n = WITH_FILE(c, a[0], f,
			              positioned ? pwritev(f->host, iov, (int)n, off)
			                         : writev(f->host, iov, (int)n));
		else
			n = WITH_FILE(c, a[0], f,
			              positioned ? preadv(f->host, iov, (int)n, off)
			                         : readv(f->host, iov, (int)n));
	}
	free(iov);
	return n;
}

long sys_readv(struct vcpu *c, const uint64_t *a)
{
	return vec_io(c, a, 0, 0);
}

long sys_writev(struct vcpu *c, const uint64_t *a)
{
	return vec_io(c, a, 1, 0);
}

long sys_preadv(struct vcpu *c, const uint64_t *a)
{
	return vec_io(c, a, 0, 1);
}

long sys_pwritev(struct vcpu *c, const uint64_t *a)
{
	return vec_io(c, a, 1, 1);
}

long sys_lseek(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, lseek(f->host, (off_t)a[1], (int)a[2]));
}

long sys_sendfile(struct vcpu *c, const uint64_t *a)
{
	off_t off;
	if (a[2] && copy_from_guest(c->vm, &off, a[2], 1))
		return -EFAULT;
	struct hfile *in = fdtab__get(&c->vm->fds, (int)a[1]);
	if (!in)
		return -EBADF;
	long r = WITH_FILE(c, a[0], out, sendfile(out->host, in->host, a[2] ? &off : NULL, a[3]));
	fdtab__put(&c->vm->fds, in);
	if (a[2] && r >= 0 && copy_to_guest(c->vm, a[2], &off, 1))
		return -EFAULT;
	return r;
}

/* --- opening and closing --- */

static long do_open(struct vcpu *c, int dirfd, uint64_t path, uint64_t flags, uint64_t mode)
{
	int fl = (int)flags;
	if (fl & ~OPEN_FLAGS)
		fl &= OPEN_FLAGS; /* open(2) ignores unknown flags; openat2 would refuse them */
	int host = path__open(c->vm, dirfd, path, fl, (unsigned)mode);
	if (host < 0)
		return host;
	return fdtab__install(&c->vm->fds, host, !!(fl & O_CLOEXEC), 0);
}

long sys_open(struct vcpu *c, const uint64_t *a)
{
	return do_open(c, AT_FDCWD, a[0], a[1], a[2]);
}

long sys_openat(struct vcpu *c, const uint64_t *a)
{
	return do_open(c, at_fd(a[0]), a[1], a[2], a[3]);
}

long sys_creat(struct vcpu *c, const uint64_t *a)
{
	return do_open(c, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
}

long sys_close(struct vcpu *c, const uint64_t *a)
{
	return fdtab__close(&c->vm->fds, (int)a[0]);
}

long sys_dup(struct vcpu *c, const uint64_t *a)
{
	return fdtab__dup(&c->vm->fds, (int)a[0], -1, 0, 0);
}

long sys_dup2(struct vcpu *c, const uint64_t *a)
{
	if ((int)a[1] < 0)
		return -EBADF;
	return fdtab__dup(&c->vm->fds, (int)a[0], (int)a[1], 0, 0);
}

long sys_dup3(struct vcpu *c, const uint64_t *a)
{
	if (a[0] == a[1] || (a[2] & ~(uint64_t)O_CLOEXEC))
		return -EINVAL;
	if ((int)a[1] < 0)
		return -EBADF;
	return fdtab__dup(&c->vm->fds, (int)a[0], (int)a[1], 0, !!(a[2] & O_CLOEXEC));
}

/* Installs two host fds (a pipe or socketpair) as guest fds and writes them to the guest's int[2]
 * at `g`; where that write faults, both are closed again (as Linux does). */
long fd__install_pair(struct vcpu *c, int host[2], uint64_t g, int cloexec)
{
	int fds[2];
	fds[0] = fdtab__install(&c->vm->fds, host[0], cloexec, 0);
	if (fds[0] < 0) {
		close(host[1]);
		return fds[0];
	}
	fds[1] = fdtab__install(&c->vm->fds, host[1], cloexec, 0);
	if (fds[1] < 0) {
		fdtab__close(&c->vm->fds, fds[0]);
		return fds[1];
	}
	if (copy_to_guest(c->vm, g, fds, 2)) {
		fdtab__close(&c->vm->fds, fds[0]);
		fdtab__close(&c->vm->fds, fds[1]);
		return -EFAULT;
	}
	return 0;
}

long sys_pipe2(struct vcpu *c, const uint64_t *a)
{
	int host[2];
	if (!uaccess__ok(c->vm, a[0], 2 * sizeof(int)) || a[0] % sizeof(int))
		return -EFAULT;
	if (a[1] & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	if (pipe2(host, (int)a[1] | O_CLOEXEC) < 0)
		return -errno;
	return fd__install_pair(c, host, a[0], !!(a[1] & O_CLOEXEC));
}

long sys_pipe(struct vcpu *c, const uint64_t *a)
{
	uint64_t b[2] = { a[0], 0 };
	return sys_pipe2(c, b);
}

long sys_eventfd2(struct vcpu *c, const uint64_t *a)
{
	if (a[1] & ~(uint64_t)(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	int h = eventfd((unsigned)a[0], (int)a[1] | EFD_CLOEXEC);
	if (h < 0)
		return -errno;
	return fdtab__install(&c->vm->fds, h, !!(a[1] & EFD_CLOEXEC), 0);
}

long sys_eventfd(struct vcpu *c, const uint64_t *a)
{
	uint64_t b[2] = { a[0], 0 };
	return sys_eventfd2(c, b);
}

/* --- metadata --- */

long sys_fstat(struct vcpu *c, const uint64_t *a)
{
	struct stat st;
	long r = WITH_FILE(c, a[0], f, fstat(f->host, &st));
	return RESULT_TO_GUEST(c->vm, r, a[1], &st);
}

/* stat-like calls on a path: opens it O_PATH (following the last symlink or not) and asks the fd.
 */
static int open_for_stat(struct vcpu *c, int dirfd, uint64_t gpath, int flags)
{
	int oflags = O_PATH | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0);
	char path[PATH_MAX];
	long n = copy_str_from_guest(c->vm, path, gpath, sizeof(path));
	if (n < 0)
		return (int)n;
	if (n == 0 && (flags & AT_EMPTY_PATH)) {
		if (dirfd == AT_FDCWD)
			return path__open_str(c->vm, AT_FDCWD, ".", O_PATH, 0);
		struct hfile *f = fdtab__get(&c->vm->fds, dirfd);
		if (!f)
			return -EBADF;
		int h = fcntl(f->host, F_DUPFD_CLOEXEC, 0);
		fdtab__put(&c->vm->fds, f);
		return h < 0 ? -errno : h;
	}
	return path__open_str(c->vm, dirfd, path, oflags, 0);
}

static long stat_at(struct vcpu *c, int dirfd, uint64_t path, uint64_t buf, int flags)
{
	struct stat st;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	int h = open_for_stat(c, dirfd, path, flags);
	if (h < 0)
		return h;
	long r = ret_errno(fstatat(h, "", &st, AT_EMPTY_PATH));
	close(h);
	return RESULT_TO_GUEST(c->vm, r, buf, &st);
}

long sys_stat(struct vcpu *c, const uint64_t *a)
{
	return stat_at(c, AT_FDCWD, a[0], a[1], 0);
}

long sys_lstat(struct vcpu *c, const uint64_t *a)
{
	return stat_at(c, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

long sys_newfstatat(struct vcpu *c, const uint64_t *a)
{
	return stat_at(c, at_fd(a[0]), a[1], a[2], (int)a[3]);
}

long sys_statx(struct vcpu *c, const uint64_t *a)
{
	struct statx stx;
	int flags = (int)a[2];
	int h = open_for_stat(c, at_fd(a[0]), a[1], flags);
	if (h < 0)
		return h;
	long r = ret_errno(
	    statx(h, "", AT_EMPTY_PATH | (flags & AT_STATX_SYNC_TYPE), (unsigned)a[3], &stx));
	close(h);
	return RESULT_TO_GUEST(c->vm, r, a[4], &stx);
}

static long access_at(struct vcpu *c, int dirfd, uint64_t path, uint64_t mode, uint64_t flags)
{
	if (mode & ~(uint64_t)(R_OK | W_OK | X_OK))
		return -EINVAL;
	int h = open_for_stat(c, dirfd, path, (int)flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH));
	if (h < 0)
		return h;
	long r = ret_errno(faccessat(h, "", (int)mode, AT_EMPTY_PATH));
	close(h);
	return r;
}

long sys_access(struct vcpu *c, const uint64_t *a)
{
	return access_at(c, AT_FDCWD, a[0], a[1], 0);
}

long sys_faccessat(struct vcpu *c, const uint64_t *a)
{
	return access_at(c, at_fd(a[0]), a[1], a[2], 0);
}

long sys_faccessat2(struct vcpu *c, const uint64_t *a)
{
	return access_at(c, at_fd(a[0]), a[1], a[2], a[3]);
}

long sys_getdents64(struct vcpu *c, const uint64_t *a)
{
	struct guest_bytes *p;
	GUEST_BUF(p, c->vm, a[1], a[2]);
	return WITH_FILE(c, a[0], f, syscall(SYS_getdents64, f->host, p, a[2]));
}

long sys_statfs(struct vcpu *c, const uint64_t *a)
{
	struct statfs s;
	int h = path__open(c->vm, AT_FDCWD, a[0], O_PATH, 0);
	if (h < 0)
		return h;
	long r = ret_errno(fstatfs(h, &s));
	close(h);
	return RESULT_TO_GUEST(c->vm, r, a[1], &s);
}

long sys_fstatfs(struct vcpu *c, const uint64_t *a)
{
	struct statfs s;
	long r = WITH_FILE(c, a[0], f, fstatfs(f->host, &s));
	return RESULT_TO_GUEST(c->vm, r, a[1], &s);
}

/* --- names in directories --- */

static long mkdir_at(struct vcpu *c, int dirfd, uint64_t path, uint64_t mode)
{
	char last[NAME_MAX_];
	int p = path__parent(c->vm, dirfd, path, last, sizeof(last));
	if (p < 0)
		return p;
	long r = (!strcmp(last, ".") || !strcmp(last, ".."))
	             ? -EEXIST
	             : ret_errno(mkdirat(p, last, (mode_t)mode & 07777 & ~c->vm->umask));
	close(p);
	return r;
}

long sys_mkdir(struct vcpu *c, const uint64_t *a)
{
	return mkdir_at(c, AT_FDCWD, a[0], a[1]);
}

long sys_mkdirat(struct vcpu *c, const uint64_t *a)
{
	return mkdir_at(c, at_fd(a[0]), a[1], a[2]);
}

static long unlink_at(struct vcpu *c, int dirfd, uint64_t path, int flags)
{
	char last[NAME_MAX_];
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	int p = path__parent(c->vm, dirfd, path, last, sizeof(last));
	if (p < 0)
		return p;
	long r;
	if (!strcmp(last, "."))
		r = (flags & AT_REMOVEDIR) ? -EINVAL : -EISDIR;
	else if (!strcmp(last, ".."))
		r = (flags & AT_REMOVEDIR) ? -ENOTEMPTY : -EISDIR;
	else
		r = ret_errno(unlinkat(p, last, flags));
	close(p);
	return r;
}

long sys_unlink(struct vcpu *c, const uint64_t *a)
{
	return unlink_at(c, AT_FDCWD, a[0], 0);
}

long sys_rmdir(struct vcpu *c, const uint64_t *a)
{
	return unlink_at(c, AT_FDCWD, a[0], AT_REMOVEDIR);
}

long sys_unlinkat(struct vcpu *c, const uint64_t *a)
{
	return unlink_at(c, at_fd(a[0]), a[1], (int)a[2]);
}

/* Two-name operations (rename, link): both names are resolved inside the root. */
static long two_names(struct vcpu *c, int ofd, uint64_t opath, int nfd, uint64_t npath,
                      uint64_t flags, int is_link)
{
	char olast[NAME_MAX_], nlast[NAME_MAX_];
	int op = path__parent(c->vm, ofd, opath, olast, sizeof(olast));
	if (op < 0)
		return op;
	int np = path__parent(c->vm, nfd, npath, nlast, sizeof(nlast));
	if (np < 0) {
		close(op);
		return np;
	}
	long r;
	if (!strcmp(olast, ".") || !strcmp(olast, "..") || !strcmp(nlast, ".") ||
	    !strcmp(nlast, ".."))
		r = -EBUSY;
	else if (is_link)
		r = ret_errno(linkat(op, olast, np, nlast, (int)flags & AT_SYMLINK_FOLLOW));
	else
		r = ret_errno(renameat2(op, olast, np, nlast, (unsigned)flags));
	close(op);
	close(np);
	return r;
}

long sys_rename(struct vcpu *c, const uint64_t *a)
{
	return two_names(c, AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 0);
}

long sys_renameat(struct vcpu *c, const uint64_t *a)
{
	return two_names(c, at_fd(a[0]), a[1], at_fd(a[2]), a[3], 0, 0);
}

long sys_renameat2(struct vcpu *c, const uint64_t *a)
{
	if (a[4] & ~(uint64_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	return two_names(c, at_fd(a[0]), a[1], at_fd(a[2]), a[3], a[4], 0);
}

long sys_link(struct vcpu *c, const uint64_t *a)
{
	return two_names(c, AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 1);
}

long sys_linkat(struct vcpu *c, const uint64_t *a)
{
	if (a[4] & ~(uint64_t)AT_SYMLINK_FOLLOW)
		return -EINVAL; /* AT_EMPTY_PATH would let a guest link any fd: refused */
	return two_names(c, at_fd(a[0]), a[1], at_fd(a[2]), a[3], a[4], 1);
}

static long symlink_at(struct vcpu *c, uint64_t target, int dirfd, uint64_t path)
{
	char t[PATH_MAX], last[NAME_MAX_];
	long rc = copy_str_from_guest(c->vm, t, target, sizeof(t));
	if (rc < 0)
		return rc;
	int p = path__parent(c->vm, dirfd, path, last, sizeof(last));
	if (p < 0)
		return p;
	/* The target is stored as text; any later lookup through it is confined by RESOLVE_IN_ROOT.
	 */
	long r = ret_errno(symlinkat(t, p, last));
	close(p);
	return r;
}

long sys_symlink(struct vcpu *c, const uint64_t *a)
{
	return symlink_at(c, a[0], AT_FDCWD, a[1]);
}

long sys_symlinkat(struct vcpu *c, const uint64_t *a)
{
	return symlink_at(c, a[0], at_fd(a[1]), a[2]);
}

static long readlink_at(struct vcpu *c, int dirfd, uint64_t path, uint64_t buf, uint64_t len)
{
	char target[PATH_MAX];
	if ((int64_t)len <= 0)
		return -EINVAL;
	if (!uaccess__ok(c->vm, buf, len))
		return -EFAULT;
	int h = path__open(c->vm, dirfd, path, O_PATH | O_NOFOLLOW, 0);
	if (h < 0)
		return h;
	long r = ret_errno(readlinkat(h, "", target, len < sizeof(target) ? len : sizeof(target)));
	close(h);
	if (r > 0 && copy_to_guest(c->vm, buf, target, (size_t)r))
		return -EFAULT;
	return r;
}

long sys_readlink(struct vcpu *c, const uint64_t *a)
{
	return readlink_at(c, AT_FDCWD, a[0], a[1], a[2]);
}

long sys_readlinkat(struct vcpu *c, const uint64_t *a)
{
	return readlink_at(c, at_fd(a[0]), a[1], a[2], a[3]);
}

/* --- working directory --- */

long sys_chdir(struct vcpu *c, const uint64_t *a)
{
	int h = path__open(c->vm, AT_FDCWD, a[0], O_PATH | O_DIRECTORY, 0);
	if (h < 0)
		return h;
	long r = path__set_cwd(c->vm, h);
	close(h);
	return r;
}

long sys_fchdir(struct vcpu *c, const uint64_t *a)
{
	struct stat st;
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = fstat(f->host, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	if (!r)
		r = path__set_cwd(c->vm, f->host);
	fdtab__put(&c->vm->fds, f);
	return r;
}

long sys_getcwd(struct vcpu *c, const uint64_t *a)
{
	char cwd[sizeof(c->vm->cwd)];
	if (!uaccess__ok(c->vm, a[0], a[1]))
		return -EFAULT;
	pthread_mutex_lock(&c->vm->cwd_lock);
	memcpy(cwd, c->vm->cwd, sizeof(cwd));
	pthread_mutex_unlock(&c->vm->cwd_lock);
	size_t n = strlen(cwd) + 1;
	if (n > a[1])
		return -ERANGE;
	return copy_to_guest(c->vm, a[0], cwd, n) ? -EFAULT : (long)n;
}

/* --- data and metadata changes --- */

long sys_fsync(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, fsync(f->host));
}

long sys_fdatasync(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, fdatasync(f->host));
}

long sys_sync(struct vcpu *c, const uint64_t *a)
{
	return 0; /* a guest may not flush the whole host; its own files are synced by fsync */
}

long sys_syncfs(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, syncfs(f->host));
}

long sys_ftruncate(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, ftruncate(f->host, (off_t)a[1]));
}

long sys_truncate(struct vcpu *c, const uint64_t *a)
{
	int h = path__open(c->vm, AT_FDCWD, a[0], O_WRONLY, 0);
	if (h < 0)
		return h;
	long r = ret_errno(ftruncate(h, (off_t)a[1]));
	close(h);
	return r;
}

long sys_fallocate(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, fallocate(f->host, (int)a[1], (off_t)a[2], (off_t)a[3]));
}

long sys_fadvise64(struct vcpu *c, const uint64_t *a)
{
	struct hfile *f = fdtab__get(&c->vm->fds, (int)a[0]);
	if (!f)
		return -EBADF;
	int r = posix_fadvise(f->host, (off_t)a[1], (off_t)a[2], (int)a[3]);
	fdtab__put(&c->vm->fds, f);
	return -r;
}

/* chmod of the guest path at gpath, relative to the guest directory fd dirfd (or AT_FDCWD). */
static long chmod_at(struct vcpu *c, int dirfd, uint64_t gpath, uint64_t mode)
{
	int h = path__open(c->vm, dirfd, gpath, O_PATH, 0);
	if (h < 0)
		return h;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", h);
	long r = ret_errno(chmod(p, (mode_t)mode & 07777));
	close(h);
	return r;
}

long sys_chmod(struct vcpu *c, const uint64_t *a)
{
	return chmod_at(c, AT_FDCWD, a[0], a[1]);
}

long sys_fchmod(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, fchmod(f->host, (mode_t)a[1] & 07777));
}

long sys_fchmodat(struct vcpu *c, const uint64_t *a)
{
	return chmod_at(c, at_fd(a[0]), a[1], a[2]);
}

/* Ownership stays with the host user that runs hv; a guest sees its chown succeed. */
long sys_chown_ignored(struct vcpu *c, const uint64_t *a)
{
	return 0;
}

long sys_utimensat(struct vcpu *c, const uint64_t *a)
{
	struct timespec tsv[2], *ts = NULL;
	if (a[2]) {
		if (copy_from_guest(c->vm, tsv, a[2], 2))
			return -EFAULT;
		ts = tsv;
	}
	if (!a[1]) /* futimens(fd) */
		return WITH_FILE(c, a[0], f, futimens(f->host, ts));
	int nofollow = (int)a[3] & AT_SYMLINK_NOFOLLOW;
	int h = path__open(c->vm, at_fd(a[0]), a[1], O_PATH | (nofollow ? O_NOFOLLOW : 0), 0);
	if (h < 0)
		return h;
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", h);
	long r = ret_errno(utimensat(AT_FDCWD, link, ts, 0));
	close(h);
	return r;
}

long sys_umask(struct vcpu *c, const uint64_t *a)
{
	uint32_t old = c->vm->umask;
	c->vm->umask = (uint32_t)a[0] & 0777;
	return old;
}

/* --- control --- */

long sys_fcntl(struct vcpu *c, const uint64_t *a)
{
	int fd = (int)a[0], cmd = (int)a[1];
	struct flock fl;
	long r;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int)a[2] < 0)
			return -EINVAL;
		return fdtab__dup(&c->vm->fds, fd, -1, (int)a[2], cmd == F_DUPFD_CLOEXEC);
	case F_GETFD: {
		int r = fdtab__cloexec(&c->vm->fds, fd, -1);
		return r < 0 ? r : (r ? FD_CLOEXEC : 0);
	}
	case F_SETFD: {
		int r = fdtab__cloexec(&c->vm->fds, fd, !!(a[2] & FD_CLOEXEC));
		return r < 0 ? r : 0;
	}
	case F_GETFL: return WITH_FILE(c, fd, f, fcntl(f->host, F_GETFL));
	case F_SETFL: return WITH_FILE(c, fd, f, fcntl(f->host, F_SETFL, (int)a[2]));
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		if (copy_from_guest(c->vm, &fl, a[2], 1))
			return -EFAULT;
		r = WITH_FILE(c, fd, f, fcntl(f->host, cmd, &fl));
		return cmd == F_GETLK || cmd == F_OFD_GETLK ? RESULT_TO_GUEST(c->vm, r, a[2], &fl)
		                                            : r;
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ: return WITH_FILE(c, fd, f, fcntl(f->host, cmd, (int)a[2]));
	default: return -EINVAL;
	}
}

long sys_flock(struct vcpu *c, const uint64_t *a)
{
	return WITH_FILE(c, a[0], f, flock(f->host, (int)a[1]));
}

/* ioctl's small argument structures, in and out: `len` bytes at guest a[2]. */
static long ioctl_arg(struct vcpu *c, const uint64_t *a, size_t len, int in, int out)
{
	uint8_t arg[64];
	if (in ? uaccess__in(c->vm, arg, a[2], len, 1) : !uaccess__ok(c->vm, a[2], len))
		return -EFAULT;
	long r = WITH_FILE(c, a[0], f, ioctl(f->host, a[1], arg));
	if (r >= 0 && out && uaccess__out(c->vm, a[2], arg, len, 1))
		return -EFAULT;
	return r;
}

long sys_ioctl(struct vcpu *c, const uint64_t *a)
{
	unsigned long req = a[1];
	switch (req) {
	case TCGETS: return ioctl_arg(c, a, KERNEL_TERMIOS_SIZE, 0, 1);
	case TCSETS:
	case TCSETSW:
	case TCSETSF: return ioctl_arg(c, a, KERNEL_TERMIOS_SIZE, 1, 0);
	case TIOCGWINSZ: return ioctl_arg(c, a, sizeof(struct winsize), 0, 1);
	case FIONREAD: return ioctl_arg(c, a, sizeof(int), 0, 1);
	case FIONBIO: return ioctl_arg(c, a, sizeof(int), 1, 0);
	case FIOCLEX:
	case FIONCLEX: {
		int r = fdtab__cloexec(&c->vm->fds, (int)a[0], req == FIOCLEX);
		return r < 0 ? r : 0;
	}
	case TIOCGPGRP: return uaccess__ok(c->vm, a[2], sizeof(int)) ? -ENOTTY : -EFAULT;
	default: return -ENOTTY;
	}
}
