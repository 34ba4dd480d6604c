/* hv/stack.h: the initial process stack a Linux program expects at its entry point: argc, argv,
 * envp and the auxiliary vector (AT_PHDR, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM, AT_HWCAP, ...).
 */
#ifndef HV_STACK_H
#define HV_STACK_H
#include <stdint.h>

struct vm;
struct elf_image;

/* Writes the stack below vm->mm.stack_hi; returns 0 with the entry stack pointer in *sp, or -E2BIG
 * when the arguments and environment do not fit. */
int stack__build(struct vm *vm, const struct elf_image *img, const char *const *argv,
                 const char *const *envp, uint64_t hwcap, uint64_t *sp);

#endif
