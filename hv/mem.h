/* hv/mem.h: guest physical memory: the RAM slot, the system-area slot, the page tables that map
 * both once before the first KVM_RUN, and the system structures in the system area.
 *
 * System area (its first 2 MiB mapped supervisor-only at SYS_VA; page tables above, not mapped):
 *   +0x0000 GDT    +0x1000 IDT    +0x2000 syscall stub, then one exception stub per vector
 *   +0x3000 one 256-byte TSS per vCPU, with an I/O bitmap    +0x20000 one 4 KiB exception stack
 *   per vCPU    +0x1f0000 the time page, then the vDSO (timepage.h): user-readable, like the
 *   stub page, and never writable by the guest
 * Guest exits that hv expects are port writes from the stubs: PORT_SYSCALL for `syscall`, and
 * PORT_EXCEPTION + vector for a CPU exception in guest code. The nested KVM on the development
 * machines runs the syscall stub at CPL 3 with IOPL 0, so each TSS's I/O bitmap allows the stub
 * ports (and only those); a port write from anywhere but the stubs ends the guest (vcpu.c). */
#ifndef HV_MEM_H
#define HV_MEM_H
#include <stddef.h>
#include <stdint.h>

#define SYS_GDT       0x0000
#define SYS_IDT       0x1000
#define SYS_STUB      0x2000
#define SYS_EXC_STUBS 0x2100 /* 16 bytes per vector */
#define SYS_TSS       0x3000
#define SYS_XSTACKS   0x20000 /* after MAX_VCPUS TSSs */
#define TSS_STRIDE    256
#define TSS_LIMIT     (104 + 32) /* the TSS, then an I/O bitmap for ports 0..255 and its end byte */
#define SYS_VVAR      0x1f0000   /* the time page */
#define SYS_VDSO      0x1f1000   /* the vDSO image, right after it */
#define SYS_VDSO_MAX  0x4000
#define SYS_PT        0x200000
#define SYS_MAPPED    0x200000 /* bytes of the system area mapped at SYS_VA */

#define PORT_SYSCALL   0x80
#define PORT_EXCEPTION 0xc0 /* 0xc0 + vector, vectors 0..31 */

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x23
#define SEL_UCODE 0x2b
#define SEL_TSS   0x30

struct vm;

/* Allocates guest RAM (vm->mem bytes, lazily backed) and the system area, registers both with KVM,
 * and writes page tables and system structures. */
int mem__init(struct vm *vm, char *err, size_t errlen);
void mem__free(struct vm *vm);
/* Registers the already allocated RAM and system area with vm->vm_fd (a new VM after a fork). */
int mem__register(struct vm *vm, char *err, size_t errlen);
/* Replaces all guest RAM with fresh zeroed memory (execve). */
void mem__reset_ram(struct vm *vm);

uint64_t mem__pml4_gpa(const struct vm *vm);
uint64_t mem__tss_va(int vcpu_id);

/* Turns KVM's dirty-page log on the RAM slot on or off (dirty.c). 0 or -1 with errno. */
int mem__log_dirty(struct vm *vm, int on);

/* Gives guest pages back to the host: the range reads as zeroes afterwards. */
void mem__discard(struct vm *vm, uint64_t gva, uint64_t len);

#endif
