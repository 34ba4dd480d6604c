/* hv/dirty.c: changed-page tracking for live migration (dirty.h): KVM's dirty log on the RAM
 * slot, and hv's own marks in an atomic bitmap of the same shape. */
#include "hv/dirty.h"
#include "hv/mem.h"
#include "hv/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

uint64_t dirty__words(const struct vm *vm)
{
	return (vm->mem / PAGE_SIZE_ + 63) / 64;
}

int dirty__start(struct vm *vm)
{
	uint64_t n = dirty__words(vm);
	_Atomic uint64_t *marks = calloc(n, sizeof(*marks));
	uint64_t *scratch = calloc(n, sizeof(*scratch));
	if (!marks || !scratch) {
		free((void *)marks);
		free(scratch);
		return -ENOMEM;
	}
	if (mem__log_dirty(vm, 1) < 0) {
		int e = errno;
		free((void *)marks);
		free(scratch);
		return -e;
	}
	vm->dirty_scratch = scratch;
	atomic_store(&vm->dirty_marks, marks);
	/* the log starts now: what it held before (nothing: it was off) is cleared */
	return dirty__collect(vm, scratch) < 0 ? -EIO : 0;
}

void dirty__stop(struct vm *vm)
{
	_Atomic uint64_t *marks = atomic_exchange(&vm->dirty_marks, NULL);
	(void)mem__log_dirty(vm, 0);
	/* A vCPU thread may still be marking through the old pointer only while the VM runs;
	 * callers stop tracking with the VM paused or done, so the bitmap can go. */
	free((void *)marks);
	free(vm->dirty_scratch);
	vm->dirty_scratch = NULL;
}

void dirty__mark(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	_Atomic uint64_t *marks = atomic_load(&vm->dirty_marks);
	if (!marks || !len || gpa >= vm->mem)
		return;
	uint64_t end = len > vm->mem - gpa ? vm->mem : gpa + len;
	for (uint64_t p = gpa / PAGE_SIZE_; p <= (end - 1) / PAGE_SIZE_; p++)
		atomic_fetch_or(&marks[p / 64], 1ULL << (p % 64));
}

int dirty__collect(struct vm *vm, uint64_t *bitmap)
{
	uint64_t n = dirty__words(vm);
	uint64_t *log = vm->dirty_scratch;
	_Atomic uint64_t *marks = atomic_load(&vm->dirty_marks);
	if (!marks || !log)
		return -EINVAL;
	memset(log, 0, n * sizeof(*log));
	struct kvm_dirty_log d = { .slot = 0, .dirty_bitmap = log };
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &d) < 0)
		return -errno;
	for (uint64_t i = 0; i < n; i++)
		bitmap[i] |= log[i] | atomic_exchange(&marks[i], 0);
	return 0;
}
