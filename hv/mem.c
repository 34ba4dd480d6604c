/* hv/mem.c: guest RAM and system-area slots, page tables, GDT/IDT/TSS and the ring-0 stubs (mem.h).
 */
#include "hv/mem.h"
#include "hv/dirty.h"
#include "hv/vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_US 0x4ULL
#define PTE_PS 0x80ULL
#define GIB    (1ULL << 30)
#define MIB2   (2ULL << 20)

/* Bump allocator for page-table pages inside the system area. */
struct pt_alloc {
	struct vm *vm;
	uint64_t next; /* offset in the system area */
};

static uint64_t *pt_page(struct pt_alloc *a, uint64_t *gpa)
{
	uint64_t off = a->next;
	a->next += PAGE_SIZE_;
	*gpa = a->vm->sys_gpa + off;
	return (uint64_t *)(a->vm->sys + off);
}

static uint64_t pt_bytes(uint64_t mem, int page_4k)
{
	uint64_t gibs = (mem + GIB - 1) / GIB;
	uint64_t pages =
	    1 /* PML4 */ + 1 /* user PDPT */ + gibs /* PDs */ + 3 /* kernel PDPT, PD, PT */;
	if (page_4k)
		pages += mem / MIB2; /* one PT per 2 MiB */
	return pages * PAGE_SIZE_;
}

/* Identity map of guest RAM [USER_BASE, mem) for ring 3, and the system area at SYS_VA for ring 0.
 */
static void build_page_tables(struct vm *vm)
{
	struct pt_alloc a = { vm, SYS_PT };
	uint64_t pml4_gpa, pdpt_gpa, gpa;
	uint64_t *pml4 = pt_page(&a, &pml4_gpa);
	uint64_t *pdpt = pt_page(&a, &pdpt_gpa);
	pml4[0] = pdpt_gpa | PTE_P | PTE_RW | PTE_US;

	for (uint64_t g = 0; g * GIB < vm->mem; g++) {
		uint64_t *pd = pt_page(&a, &gpa);
		pdpt[g] = gpa | PTE_P | PTE_RW | PTE_US;
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t base = g * GIB + i * MIB2;
			if (base >= vm->mem)
				break;
			if (base < USER_BASE)
				continue; /* the NULL guard stays unmapped */
			if (!vm->cfg.page_4k) {
				pd[i] = base | PTE_P | PTE_RW | PTE_US | PTE_PS;
				continue;
			}
			uint64_t *pt = pt_page(&a, &gpa);
			pd[i] = gpa | PTE_P | PTE_RW | PTE_US;
			for (uint64_t j = 0; j < 512; j++)
				pt[j] = (base + j * PAGE_SIZE_) | PTE_P | PTE_RW | PTE_US;
		}
	}

	/* SYS_VA = PML4[511] -> PDPT[510] -> PD[0] -> 4 KiB pages, supervisor-only except the stub
	 * page (where the nested KVM runs the syscall stub at CPL 3, vcpu.c, it must be
	 * user-readable), the time page and the vDSO (timepage.h): those are user-readable and
	 * never writable. The upper levels carry US so the leaf decides. */
	uint64_t *kpdpt = pt_page(&a, &gpa);
	pml4[511] = gpa | PTE_P | PTE_RW | PTE_US;
	uint64_t *kpd = pt_page(&a, &gpa);
	kpdpt[510] = gpa | PTE_P | PTE_RW | PTE_US;
	uint64_t *kpt = pt_page(&a, &gpa);
	kpd[0] = gpa | PTE_P | PTE_RW | PTE_US;
	for (uint64_t j = 0; j < SYS_MAPPED / PAGE_SIZE_; j++) {
		uint64_t page = vm->sys_gpa + j * PAGE_SIZE_;
		uint64_t off = j * PAGE_SIZE_;
		int user = off == SYS_STUB || (off >= SYS_VVAR && off < SYS_VDSO + SYS_VDSO_MAX);
		kpt[j] = user ? page | PTE_P | PTE_US : page | PTE_P | PTE_RW;
	}
}

static void write_gdt(struct vm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->sys + SYS_GDT);
	gdt[0] = 0;
	gdt[1] = 0x00209a0000000000ULL; /* 0x08 kernel code, 64-bit */
	gdt[2] = 0x0000920000000000ULL; /* 0x10 kernel data */
	gdt[3] = 0x00cffa000000ffffULL; /* 0x18 user code, 32-bit (sysret layout) */
	gdt[4] = 0x0000f20000000000ULL; /* 0x20 user data */
	gdt[5] = 0x0020fa0000000000ULL; /* 0x28 user code, 64-bit */
	uint64_t base = mem__tss_va(0), limit = TSS_LIMIT;
	gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
	         (((base >> 24) & 0xff) << 56);
	gdt[7] = base >> 32;
}

/* Stubs: `syscall` lands on `out PORT_SYSCALL, al; sysretq`. hv services the call at the port exit;
 * where the CPU really entered ring 0 (VT-x/AMD-V) the sysretq returns to the guest, and where the
 * nested KVM left CS at ring 3 hv sets RIP and RFLAGS itself (vcpu.c). Each exception vector lands
 * on `out PORT_EXCEPTION+v, al; hlt; jmp .-1`. */
static void write_stubs(struct vm *vm)
{
	uint8_t *s = vm->sys + SYS_STUB;
	const uint8_t sys_stub[] = { 0xe6, PORT_SYSCALL, 0x48, 0x0f, 0x07 };
	memcpy(s, sys_stub, sizeof(sys_stub));

	uint8_t *idt = vm->sys + SYS_IDT;
	for (int v = 0; v < 32; v++) {
		uint8_t *h = vm->sys + SYS_EXC_STUBS + v * 16;
		const uint8_t stub[] = { 0xe6, (uint8_t)(PORT_EXCEPTION + v), 0xf4, 0xeb, 0xfd };
		memcpy(h, stub, sizeof(stub));
		uint64_t off = SYS_VA + SYS_EXC_STUBS + v * 16;
		/* Interrupt gate; #BP and #OF may be raised from ring 3 by int3/into. */
		uint8_t type = (v == 3 || v == 4) ? 0xee : 0x8e;
		uint8_t *g = idt + v * 16;
		memset(g, 0, 16);
		g[0] = off & 0xff;
		g[1] = (off >> 8) & 0xff;
		g[2] = SEL_KCODE;
		g[5] = type;
		g[6] = (off >> 16) & 0xff;
		g[7] = (off >> 24) & 0xff;
		memcpy(g + 8, (uint8_t[4]){ off >> 32, off >> 40, off >> 48, off >> 56 }, 4);
	}
	for (int i = 0; i < MAX_VCPUS; i++) {
		uint8_t *tss = vm->sys + SYS_TSS + i * TSS_STRIDE;
		uint64_t rsp0 = SYS_VA + SYS_XSTACKS + (uint64_t)(i + 1) * PAGE_SIZE_;
		memset(tss, 0, TSS_STRIDE);
		memcpy(tss + 4, &rsp0, 8);
		uint16_t iopb = 104;
		memcpy(tss + 102, &iopb, 2);
		uint8_t *bitmap = tss + 104; /* a 0 bit allows the port */
		memset(bitmap, 0xff, 33);
		bitmap[PORT_SYSCALL / 8] &= (uint8_t) ~(1u << (PORT_SYSCALL % 8));
		for (int v = 0; v < 32; v++)
			bitmap[(PORT_EXCEPTION + v) / 8] &=
			    (uint8_t) ~(1u << ((PORT_EXCEPTION + v) % 8));
	}
}

static int set_slot(struct vm *vm, int slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = slot == 0 && vm->log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)host,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

int mem__log_dirty(struct vm *vm, int on)
{
	vm->log_dirty = on;
	return set_slot(vm, 0, 0, vm->mem, vm->ram);
}

int mem__register(struct vm *vm, char *err, size_t errlen)
{
	if (set_slot(vm, 0, 0, vm->mem, vm->ram) < 0 ||
	    set_slot(vm, 1, vm->sys_gpa, vm->sys_size, vm->sys) < 0) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int mem__init(struct vm *vm, char *err, size_t errlen)
{
	vm->sys_gpa = vm->mem;
	vm->sys_size = SYS_PT + pt_bytes(vm->mem, vm->cfg.page_4k);
	vm->ram = mmap(NULL, vm->mem, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		snprintf(err, errlen, "cannot reserve %llu bytes of guest memory: %s",
		         (unsigned long long)vm->mem, strerror(errno));
		return -1;
	}
	vm->sys = mmap(NULL, vm->sys_size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->sys == MAP_FAILED) {
		vm->sys = NULL;
		snprintf(err, errlen, "cannot allocate the system area: %s", strerror(errno));
		return -1;
	}
	if (mem__register(vm, err, errlen) < 0)
		return -1;
	build_page_tables(vm);
	write_gdt(vm);
	write_stubs(vm);
	return 0;
}

void mem__free(struct vm *vm)
{
	if (vm->ram)
		munmap(vm->ram, vm->mem);
	if (vm->sys)
		munmap(vm->sys, vm->sys_size);
}

uint64_t mem__pml4_gpa(const struct vm *vm)
{
	return vm->sys_gpa + SYS_PT;
}

uint64_t mem__tss_va(int vcpu_id)
{
	return SYS_VA + SYS_TSS + (uint64_t)vcpu_id * TSS_STRIDE;
}

void mem__reset_ram(struct vm *vm)
{
	/* replaces the VM's own mapping in place: no address space or commit to run out of */
	// cppcheck-suppress leakReturnValNotUsed ; lands on vm->ram, which mem__free unmaps
	(void)mmap(vm->ram, vm->mem, PROT_READ | PROT_WRITE,
	           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	vm->ram_file = 0; /* nothing of a snapshot's image is left */
	vm->ram_runs.n = 0;
}

void mem__discard(struct vm *vm, uint64_t gva, uint64_t len)
{
	dirty__mark(vm, gva, len); /* it reads zeroes now */
	/* Private anonymous memory: MADV_DONTNEED frees it and the next touch reads zeroes; KVM's
	 * MMU notifier drops the guest's translation of the freed pages. RAM mapped from a
	 * snapshot would read the file's pages again: fresh anonymous memory goes there instead. */
	if (vm->ram_file)
		// cppcheck-suppress leakReturnValNotUsed ; lands inside vm->ram
		(void)mmap(vm->ram + gva, len, PROT_READ | PROT_WRITE,
		           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	else
		madvise(vm->ram + gva, len, MADV_DONTNEED);
}
