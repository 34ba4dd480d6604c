/* hv/dirty.h: which guest pages changed, for live migration's pre-copy rounds. The guest's own
 * writes are in KVM's dirty log (the RAM slot gets KVM_MEM_LOG_DIRTY_PAGES while tracking); what
 * KVM does not see is hv's side: copies out to the guest, host calls that fill guest buffers (every
 * uaccess__buf range counts, read or write), futex words, memory given back or mapped over. Those
 * are marked here by the code that does them (uaccess.c, mem.c, mm.c, sys_mem.c); a mark costs one
 * atomic load while nothing is tracked. */
#ifndef HV_DIRTY_H
#define HV_DIRTY_H
#include <stdint.h>

struct vm;

/* Starts tracking: the dirty log on, both logs cleared. 0 or -errno. */
int dirty__start(struct vm *vm);
/* Ends tracking: the dirty log off. */
void dirty__stop(struct vm *vm);
/* hv or the host changed guest [gpa, gpa + len) (clipped to RAM). */
void dirty__mark(const struct vm *vm, uint64_t gpa, uint64_t len);
/* ORs every page changed since the last call (or since dirty__start) into `bitmap` (one bit per
 * 4 KiB page of RAM, vm->mem / 4096 bits, in 64-bit words) and clears both logs. 0 or -errno. */
int dirty__collect(struct vm *vm, uint64_t *bitmap);
/* Words of a bitmap for this VM. */
uint64_t dirty__words(const struct vm *vm);

#endif
