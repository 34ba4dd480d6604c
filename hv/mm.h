/* hv/mm.h: the guest's address space bookkeeping (brk, mmap regions, the stack) over guest RAM that
 * the page tables map once. Every function takes the mm lock itself. */
#ifndef HV_MM_H
#define HV_MM_H
#include <stdint.h>

struct vm;

enum mm_how {
	MM_ANYWHERE,        /* choose an address */
	MM_HINT,            /* use the hint when it is free, else choose */
	MM_FIXED,           /* exactly there, replacing what was mapped */
	MM_FIXED_NOREPLACE, /* exactly there, -EEXIST if anything is mapped */
};

uint64_t mm__page_up(uint64_t x);
/* A guest range as madvise, mprotect and msync take it: page-aligned, within the user part of guest
 * memory. Returns its length rounded up to pages, or -EINVAL (unaligned) or -ENOMEM (outside). */
long mm__user_range(const struct vm *vm, uint64_t addr, uint64_t len);
/* Lays out brk (just above the program image), the stack (top of RAM) and the mmap area between. */
void mm__init(struct vm *vm, uint64_t image_hi);
void mm__free(struct vm *vm);

/* Reserves a range; `file` marks a host file mapping (restored to anonymous memory when unmapped).
 * Returns 0 with the address in *out, or -errno. The memory of a new anonymous range reads zero. */
long mm__map(struct vm *vm, uint64_t hint, uint64_t len, int how, int file, uint64_t *out);
long mm__unmap(struct vm *vm, uint64_t addr, uint64_t len);
long mm__remap(struct vm *vm, uint64_t old, uint64_t oldlen, uint64_t newlen, int may_move,
               uint64_t *out);
/* Sets the break if it can and returns the break now (Linux semantics). */
uint64_t mm__brk(struct vm *vm, uint64_t want);
/* MADV_DONTNEED on anonymous memory: the range reads zero afterwards. */
int mm__discard_range(struct vm *vm, uint64_t addr, uint64_t len);

#endif
