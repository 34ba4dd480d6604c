/* hv/sys_mem.c: memory system calls over the bookkeeping in mm.c. Protections are recorded by
 * nobody: the page tables never change (vm.h), so mprotect succeeds without effect and W^X is not
 * enforced. */
#include "hv/dirty.h"
#include "hv/mm.h"
#include "hv/syscall.h"
#include "hv/vm.h"

#include <errno.h>
#include <sys/mman.h>

#define MAP_KNOWN                                                                                  \
	(MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE | MAP_FIXED | MAP_ANONYMOUS |              \
	 MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE |             \
	 MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_FIXED_NOREPLACE)

long sys_brk(struct vcpu *c, const uint64_t *a)
{
	return (long)mm__brk(c->vm, a[0]);
}

static long map_file(struct vcpu *c, uint64_t at, uint64_t len, int prot, int flags, int fd,
                     uint64_t off)
{
	struct hfile *f = fdtab__get(&c->vm->fds, fd);
	if (!f)
		return -EBADF;
	int hprot = PROT_READ | ((prot & PROT_WRITE) || !(flags & MAP_SHARED) ? PROT_WRITE : 0);
	void *p = mmap(c->vm->ram + at, len, hprot,
	               (flags & (MAP_SHARED | MAP_PRIVATE)) | MAP_FIXED, f->host, (off_t)off);
	int err = p == MAP_FAILED ? errno : 0;
	fdtab__put(&c->vm->fds, f);
	dirty__mark(c->vm, at, len); /* the file's contents there now */
	// cppcheck-suppress memleak ; p lies in guest RAM, which the VM owns
	return -err;
}

long sys_mmap(struct vcpu *c, const uint64_t *a)
{
	uint64_t addr = a[0], len = a[1], off = a[5];
	int prot = (int)a[2], flags = (int)a[3], fd = (int)a[4];
	int type = flags & (MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE);
	if (!len || (off & (PAGE_SIZE_ - 1)) || !type)
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN))
		return -EOPNOTSUPP;
	if (type == MAP_SHARED_VALIDATE)
		flags = (flags & ~MAP_SHARED_VALIDATE) | MAP_SHARED;
	int how = (flags & MAP_FIXED_NOREPLACE) ? MM_FIXED_NOREPLACE
	          : (flags & MAP_FIXED)         ? MM_FIXED
	          : addr                        ? MM_HINT
	                                        : MM_ANYWHERE;
	if (how >= MM_FIXED && (addr & (PAGE_SIZE_ - 1)))
		return -EINVAL;
	int anon = flags & MAP_ANONYMOUS;
	if (!anon && !fdtab__valid(&c->vm->fds, fd))
		return -EBADF;
	uint64_t at;
	long rc = mm__map(c->vm, addr, len, how, !anon, &at);
	if (rc < 0)
		return rc;
	if (!anon && (rc = map_file(c, at, mm__page_up(len), prot, flags, fd, off)) < 0) {
		mm__unmap(c->vm, at, len);
		return rc;
	}
	return (long)at;
}

long sys_munmap(struct vcpu *c, const uint64_t *a)
{
	return mm__unmap(c->vm, a[0], a[1]);
}

long sys_mprotect(struct vcpu *c, const uint64_t *a)
{
	long len = mm__user_range(c->vm, a[0], a[1]);
	return len < 0 ? len : 0;
}

long sys_mremap(struct vcpu *c, const uint64_t *a)
{
	if (a[3] & ~(uint64_t)MREMAP_MAYMOVE)
		return -EINVAL; /* MREMAP_FIXED and MREMAP_DONTUNMAP are not offered */
	uint64_t out;
	long rc = mm__remap(c->vm, a[0], a[1], a[2], !!(a[3] & MREMAP_MAYMOVE), &out);
	return rc < 0 ? rc : (long)out;
}

long sys_madvise(struct vcpu *c, const uint64_t *a)
{
	switch ((int)a[2]) {
	case MADV_DONTNEED:
	case MADV_FREE: return mm__discard_range(c->vm, a[0], a[1]);
	default: return 0; /* advice about access patterns and huge pages: nothing to do */
	}
}

long sys_msync(struct vcpu *c, const uint64_t *a)
{
	long len = mm__user_range(c->vm, a[0], a[1]);
	if (len < 0)
		return len;
	return msync(c->vm->ram + a[0], (size_t)len, (int)a[2]) < 0 ? -errno : 0;
}

long sys_membarrier(struct vcpu *c, const uint64_t *a)
{
	if (a[0] == 0) /* MEMBARRIER_CMD_QUERY: none offered */
		return 0;
	return -EINVAL;
}
