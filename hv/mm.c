/* hv/mm.c: the guest's address space as bookkeeping over the fixed page tables (vm.h): brk grows up
 * from the program, mmap regions are handed out top-down below the stack, and memory that leaves
 * use is given back to the host (it reads as zeroes when reused). File mappings are real host
 * mappings placed over guest RAM's host address, so the guest sees the file (and MAP_SHARED writes
 * reach it). */
#include "hv/mm.h"
#include "hv/mem.h"
#include "hv/dirty.h"
#include "hv/uaccess.h"
#include "hv/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE      PAGE_SIZE_
#define GUARD     (64 * PAGE)
#define STACK_MAX (8ULL << 20)

uint64_t mm__page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

void mm__init(struct vm *vm, uint64_t image_hi)
{
	struct mm *m = &vm->mm;
	pthread_mutex_init(&m->lock, NULL);
	uint64_t stack = vm->mem / 16 < STACK_MAX ? vm->mem / 16 : STACK_MAX;
	m->stack_hi = vm->mem;
	m->stack_lo = (vm->mem - stack) & ~(PAGE - 1);
	m->brk_start = m->brk = mm__page_up(image_hi);
	m->mmap_hi = m->stack_lo - GUARD;
	m->regions = NULL;
	m->nregions = m->cap = 0;
}

void mm__free(struct vm *vm)
{
	free(vm->mm.regions);
	vm->mm.regions = NULL;
	pthread_mutex_destroy(&vm->mm.lock);
}

/* Makes [start, end) plain zeroed anonymous guest RAM again. */
static void release(struct vm *vm, uint64_t start, uint64_t end, int file)
{
	if (file) { /* in place over our own mapping, as mem__reset_ram() */
		dirty__mark(vm, start, end - start);
		// cppcheck-suppress leakReturnValNotUsed ; lands inside vm->ram
		(void)mmap(vm->ram + start, end - start, PROT_READ | PROT_WRITE,
		           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	} else {
		mem__discard(vm, start, end - start);
	}
}

static int insert(struct mm *m, uint64_t start, uint64_t end, int file)
{
	if (m->nregions == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct mm_region *r = realloc(m->regions, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		m->regions = r;
		m->cap = cap;
	}
	size_t i = 0;
	while (i < m->nregions && m->regions[i].start < start)
		i++;
	memmove(&m->regions[i + 1], &m->regions[i], (m->nregions - i) * sizeof(*m->regions));
	m->regions[i] = (struct mm_region){ start, end, file };
	m->nregions++;
	return 0;
}

/* Removes [start, end) from every region it overlaps, releasing the memory. Caller holds the lock.
 */
static int remove_range(struct vm *vm, uint64_t start, uint64_t end)
{
	struct mm *m = &vm->mm;
	for (size_t i = 0; i < m->nregions;) {
		struct mm_region *r = &m->regions[i];
		if (r->end <= start || r->start >= end) {
			i++;
			continue;
		}
		uint64_t lo = r->start > start ? r->start : start;
		uint64_t hi = r->end < end ? r->end : end;
		release(vm, lo, hi, r->file);
		if (r->start < start && r->end > end) { /* split in two */
			struct mm_region tail = { end, r->end, r->file };
			r->end = start;
			if (insert(m, tail.start, tail.end, tail.file) < 0)
				return -ENOMEM;
			return 0;
		}
		if (r->start < start) {
			r->end = start;
			i++;
		} else if (r->end > end) {
			r->start = end;
			i++;
		} else {
			memmove(r, r + 1, (m->nregions - i - 1) * sizeof(*r));
			m->nregions--;
		}
	}
	return 0;
}

static int is_free(const struct mm *m, uint64_t start, uint64_t end)
{
	if (start < mm__page_up(m->brk) || end > m->mmap_hi || start >= end)
		return 0;
	for (size_t i = 0; i < m->nregions; i++)
		if (m->regions[i].start < end && m->regions[i].end > start)
			return 0;
	return 1;
}

/* Highest free gap of `len` bytes below mmap_hi and above brk: its start, or 0. */
static uint64_t find_free(const struct mm *m, uint64_t len)
{
	uint64_t top = m->mmap_hi, floor = mm__page_up(m->brk) + GUARD;
	for (size_t i = m->nregions; i-- > 0;) {
		const struct mm_region *r = &m->regions[i];
		if (r->start >= top)
			continue;
		if (r->end <= top && top - r->end >= len && top - len >= floor)
			return top - len;
		if (r->start < top)
			top = r->start;
	}
	return top >= floor + len ? top - len : 0;
}

long mm__map(struct vm *vm, uint64_t hint, uint64_t len, int how, int file, uint64_t *out)
{
	struct mm *m = &vm->mm;
	long rc = 0;
	len = mm__page_up(len);
	if (!len || len > vm->mem)
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	uint64_t at = 0;
	if (how != MM_ANYWHERE) {
		if (hint < USER_BASE || hint > vm->mem || len > vm->mem - hint) {
			rc = how == MM_HINT ? 0 : -ENOMEM;
			how = MM_ANYWHERE;
		} else if (how == MM_FIXED_NOREPLACE || how == MM_HINT) {
			int busy = 0;
			for (size_t i = 0; i < m->nregions; i++)
				busy |=
				    m->regions[i].start < hint + len && m->regions[i].end > hint;
			if (!busy && hint >= mm__page_up(m->brk) && hint + len <= m->mmap_hi)
				at = hint;
			else if (how == MM_FIXED_NOREPLACE)
				rc = -EEXIST;
			else
				how = MM_ANYWHERE;
		} else {
			rc = remove_range(vm, hint, hint + len);
			at = hint;
		}
	}
	if (!rc && how == MM_ANYWHERE && !(at = find_free(m, len)))
		rc = -ENOMEM;
	if (!rc)
		rc = insert(m, at, at + len, file);
	pthread_mutex_unlock(&m->lock);
	*out = at;
	return rc;
}

long mm__unmap(struct vm *vm, uint64_t addr, uint64_t len)
{
	if (addr & (PAGE - 1) || !len)
		return -EINVAL;
	len = mm__page_up(len);
	if (addr < USER_BASE || addr > vm->mem || len > vm->mem - addr)
		return addr >= vm->mem ? 0 : -EINVAL;
	pthread_mutex_lock(&vm->mm.lock);
	long rc = remove_range(vm, addr, addr + len);
	pthread_mutex_unlock(&vm->mm.lock);
	return rc;
}

/* Region index holding `addr`, or -1. Caller holds the lock. */
static long region_at(const struct mm *m, uint64_t addr)
{
	for (size_t i = 0; i < m->nregions; i++)
		if (m->regions[i].start <= addr && addr < m->regions[i].end)
			return (long)i;
	return -1;
}

long mm__remap(struct vm *vm, uint64_t old, uint64_t oldlen, uint64_t newlen, int may_move,
               uint64_t *out)
{
	struct mm *m = &vm->mm;
	if (old & (PAGE - 1) || !newlen)
		return -EINVAL;
	oldlen = mm__page_up(oldlen);
	newlen = mm__page_up(newlen);
	pthread_mutex_lock(&m->lock);
	long i = region_at(m, old);
	long rc = 0;
	if (i < 0 || m->regions[i].end < old + oldlen || m->regions[i].file) {
		rc = -EFAULT; /* only whole anonymous regions move */
	} else if (newlen <= oldlen) {
		rc = remove_range(vm, old + newlen, old + oldlen);
		*out = old;
	} else if (m->regions[i].end == old + oldlen && is_free(m, old + oldlen, old + newlen)) {
		m->regions[i].end = old + newlen;
		*out = old;
	} else if (!may_move) {
		rc = -ENOMEM;
	} else {
		uint64_t to = find_free(m, newlen);
		if (!to || (rc = insert(m, to, to + newlen, 0)) < 0) {
			rc = rc ? rc : -ENOMEM;
		} else {
			/* anonymous memory cannot fault, but the guest's threads may write it */
			(void)uaccess__move(vm, to, old, oldlen);
			rc = remove_range(vm, old, old + oldlen);
			*out = to;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

uint64_t mm__brk(struct vm *vm, uint64_t want)
{
	struct mm *m = &vm->mm;
	pthread_mutex_lock(&m->lock);
	uint64_t cur = m->brk;
	if (want >= m->brk_start && want < m->mmap_hi) {
		uint64_t old_top = mm__page_up(cur), new_top = mm__page_up(want);
		int ok = 1;
		for (size_t i = 0; i < m->nregions && new_top > old_top; i++)
			if (m->regions[i].start < new_top && m->regions[i].end > old_top)
				ok = 0;
		if (ok) {
			if (new_top < old_top)
				mem__discard(vm, new_top, old_top - new_top);
			m->brk = want;
		}
	}
	uint64_t r = m->brk;
	pthread_mutex_unlock(&m->lock);
	return r;
}

long mm__user_range(const struct vm *vm, uint64_t addr, uint64_t len)
{
	if (addr & (PAGE - 1))
		return -EINVAL;
	len = mm__page_up(len);
	if (addr < USER_BASE || addr > vm->mem || len > vm->mem - addr)
		return -ENOMEM;
	return (long)len;
}

int mm__discard_range(struct vm *vm, uint64_t addr, uint64_t len)
{
	long r = mm__user_range(vm, addr, len);
	if (r < 0)
		return (int)r;
	len = (uint64_t)r;
	pthread_mutex_lock(&vm->mm.lock);
	long i = region_at(&vm->mm, addr);
	int file = i >= 0 && vm->mm.regions[i].file;
	pthread_mutex_unlock(&vm->mm.lock);
	if (!file)
		mem__discard(vm, addr, len);
	return 0;
}
