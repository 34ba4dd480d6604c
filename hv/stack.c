/* hv/stack.c: builds the initial stack (see stack.h). Layout, from the top: random bytes, the
 * platform string, argument and environment strings; then, 16-byte aligned going down: auxv,
 * envp[], argv[], argc at the entry stack pointer. */
#include "hv/stack.h"
#include "hv/elf.h"
#include "hv/timepage.h"
#include "hv/vm.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct builder {
	struct vm *vm;
	uint64_t top, floor;
};

/* Copies `n` bytes just below the current top: their guest address, or 0 when out of room. */
static uint64_t push_bytes(struct builder *b, const void *p, uint64_t n)
{
	if (b->top - b->floor < n)
		return 0;
	b->top -= n;
	memcpy(b->vm->ram + b->top, p, n);
	return b->top;
}

static int count(const char *const *v)
{
	int n = 0;
	while (v && v[n])
		n++;
	return n;
}

int stack__build(struct vm *vm, const struct elf_image *img, const char *const *argv,
                 const char *const *envp, uint64_t hwcap, uint64_t *sp)
{
	struct builder b = { vm, vm->mm.stack_hi, vm->mm.stack_lo + 64 * 1024 };
	int argc = count(argv), envc = count(envp);
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	uint64_t at_random = push_bytes(&b, rnd, sizeof(rnd));
	uint64_t at_platform = push_bytes(&b, "x86_64", 7);
	uint64_t *ptrs = malloc(sizeof(*ptrs) * (size_t)(argc + envc + 1));
	int rc = ptrs && at_random && at_platform ? 0 : -E2BIG;
	for (int i = envc - 1; i >= 0 && !rc; i--)
		if (!(ptrs[argc + i] = push_bytes(&b, envp[i], strlen(envp[i]) + 1)))
			rc = -E2BIG;
	for (int i = argc - 1; i >= 0 && !rc; i--)
		if (!(ptrs[i] = push_bytes(&b, argv[i], strlen(argv[i]) + 1)))
			rc = -E2BIG;
	if (rc) {
		free(ptrs);
		return rc;
	}
	// NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): argc > 0: set above
	uint64_t execfn = argc ? ptrs[0] : at_platform;

	uint64_t aux[][2] = {
		{ AT_PHDR, img->phdr },
		{ AT_PHENT, img->phentsize },
		{ AT_PHNUM, img->phnum },
		{ AT_PAGESZ, 4096 },
		{ AT_BASE, 0 },
		{ AT_FLAGS, 0 },
		{ AT_ENTRY, img->entry },
		{ AT_UID, 0 },
		{ AT_EUID, 0 },
		{ AT_GID, 0 },
		{ AT_EGID, 0 },
		{ AT_SECURE, 0 },
		{ AT_HWCAP, hwcap },
		{ AT_HWCAP2, 0 },
		{ AT_CLKTCK, 100 },
		{ AT_RANDOM, at_random },
		{ AT_PLATFORM, at_platform },
		{ AT_EXECFN, execfn },
		{ AT_MINSIGSTKSZ, 3632 },
		{ AT_SYSINFO_EHDR, timepage__vdso_va() }, /* clocks without an exit */
		{ AT_NULL, 0 },
	};
	uint64_t words = 1 + (uint64_t)argc + 1 + (uint64_t)envc + 1 + 2 * (sizeof(aux) / 16);
	b.top &= ~15ULL;
	if (words & 1)
		b.top -= 8; /* so that the entry stack pointer is 16-byte aligned */
	if (b.top - b.floor < words * 8) {
		free(ptrs);
		return -E2BIG;
	}
	uint64_t *w = (uint64_t *)(vm->ram + b.top - words * 8);
	*sp = b.top - words * 8;
	*w++ = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		*w++ = ptrs[i];
	*w++ = 0;
	for (int i = 0; i < envc; i++)
		*w++ = ptrs[argc + i];
	*w++ = 0;
	memcpy(w, aux, sizeof(aux));
	free(ptrs);
	return 0;
}
