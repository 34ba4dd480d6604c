/* hv/path.c: guest paths resolved inside the VM's root directory (see path.h). */
#include "hv/path.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GPATH_MAX 4096

int path__of_fd(struct vm *vm, int hostfd, char *out, size_t len)
{
	char link[64], host[GPATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", hostfd);
	ssize_t n = readlink(link, host, sizeof(host) - 1);
	if (n < 0)
		return -errno;
	host[n] = 0;
	size_t rl = strlen(vm->root_path);
	const char *rest;
	if (strcmp(vm->root_path, "/") == 0)
		rest = host;
	else if (strncmp(host, vm->root_path, rl) == 0 && (host[rl] == '/' || host[rl] == 0))
		rest = host + rl;
	else
		return -ENOENT; /* not below the root (moved away by the host) */
	if (snprintf(out, len, "%s", *rest ? rest : "/") >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* Joins (dirfd, path) into a path for openat2(root, ..., RESOLVE_IN_ROOT). */
static int compose(struct vm *vm, int dirfd, const char *path, char *out, size_t len)
{
	char base[GPATH_MAX];
	if (!*path)
		return -ENOENT;
	if (path[0] == '/')
		return snprintf(out, len, "%s", path) >= (int)len ? -ENAMETOOLONG : 0;
	if (dirfd == AT_FDCWD) {
		pthread_mutex_lock(&vm->cwd_lock);
		snprintf(base, sizeof(base), "%s", vm->cwd);
		pthread_mutex_unlock(&vm->cwd_lock);
	} else {
		struct hfile *f = fdtab__get(&vm->fds, dirfd);
		if (!f)
			return -EBADF;
		int rc = path__of_fd(vm, f->host, base, sizeof(base));
		fdtab__put(&vm->fds, f);
		if (rc < 0)
			return rc == -ENOENT ? -ENOTDIR : rc;
	}
	return snprintf(out, len, "%s/%s", base, path) >= (int)len ? -ENAMETOOLONG : 0;
}

static int open_in_root(struct vm *vm, const char *path, int flags, unsigned mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)flags | O_CLOEXEC,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode & 07777 & ~vm->umask) : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (;;) {
		long fd = syscall(SYS_openat2, vm->root_fd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		/* EAGAIN: a rename raced the lookup; openat2 asks to retry. */
	}
}

/* Every VM has the harmless device nodes a program expects, whatever its root holds. */
static const char *const devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
	                               "/dev/urandom" };

static int open_device(const char *full, int flags)
{
	const char *p = full;
	while (p[0] == '/' && p[1] == '/')
		p++;
	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		if (strcmp(p, devices[i]))
			continue;
		int fd = open(devices[i], (flags & (O_ACCMODE | O_NONBLOCK | O_PATH)) | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	return -ENOENT;
}

int path__open_str(struct vm *vm, int dirfd, const char *path, int flags, unsigned mode)
{
	char full[GPATH_MAX];
	int rc = compose(vm, dirfd, path, full, sizeof(full));
	if (rc < 0)
		return rc;
	rc = open_in_root(vm, full, flags, mode);
	if (rc == -ENOENT && !strncmp(full, "/dev/", 5))
		return open_device(full, flags);
	return rc;
}

int path__open(struct vm *vm, int dirfd, uint64_t gpath, int flags, unsigned mode)
{
	char path[GPATH_MAX];
	long rc = copy_str_from_guest(vm, path, gpath, sizeof(path));
	return rc < 0 ? (int)rc : path__open_str(vm, dirfd, path, flags, mode);
}

int path__parent(struct vm *vm, int dirfd, uint64_t gpath, char *last, size_t lastlen)
{
	char path[GPATH_MAX], full[GPATH_MAX];
	long len = copy_str_from_guest(vm, path, gpath, sizeof(path));
	if (len < 0)
		return (int)len;
	int rc = compose(vm, dirfd, path, full, sizeof(full));
	if (rc < 0)
		return rc;
	size_t n = strlen(full);
	while (n > 1 && full[n - 1] == '/')
		full[--n] = 0;
	char *slash = strrchr(full, '/');
	const char *name = slash ? slash + 1 : full;
	if (!*name)
		name = "."; /* the root itself */
	if (snprintf(last, lastlen, "%s", name) >= (int)lastlen)
		return -ENAMETOOLONG;
	if (slash)
		slash[1] = 0; /* keep the slash: "/" stays the root */
	else
		snprintf(full, sizeof(full), ".");
	return open_in_root(vm, full, O_PATH | O_DIRECTORY, 0);
}

int path__set_cwd(struct vm *vm, int hostfd)
{
	char p[GPATH_MAX];
	int rc = path__of_fd(vm, hostfd, p, sizeof(p));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&vm->cwd_lock);
	snprintf(vm->cwd, sizeof(vm->cwd), "%s", p);
	pthread_mutex_unlock(&vm->cwd_lock);
	return 0;
}
