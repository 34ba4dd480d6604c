/* hv/fuzz/elf.c: fuzz target for vcons-hv's program loader (elf.h): a guest program is untrusted
 * input, and elf__load() writes into the VMM's own mapping of guest memory, so a header that
 * slips past elf__parse() would let a program file corrupt the host process.
 *
 * The guest memory here is a window [WIN_LO, WIN_HI) of read-write pages with inaccessible pages
 * all around it (1 MiB before guest address 0, everything below WIN_LO, 1 MiB after WIN_HI): any
 * write outside the window faults. Checked besides that: on success every PT_LOAD segment lies
 * inside [lo, hi) of the description, which lies inside the window, the entry point too, and the
 * loaded bytes are the file's. */
#include "tools/fuzz.h"
#include "hv/elf.h"

#include <elf.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE     4096ULL
#define GUARD    (1ULL << 20)
#define WIN_LO   (2ULL << 20)  /* hv's USER_BASE */
#define WIN_HI   (18ULL << 20) /* a 16 MiB program window */
#define PIE_BASE 0x400000ULL   /* hv's PIE_BASE */

static uint8_t *guest; /* host address of guest address 0 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t total = GUARD + WIN_HI + GUARD;
	uint8_t *base =
	    mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fuzz_assert(base != MAP_FAILED);
	guest = base + GUARD;
	fuzz_assert(mprotect(guest + WIN_LO, WIN_HI - WIN_LO, PROT_READ | PROT_WRITE) == 0);
	return 0;
}

/* 1 when [at, at + n) lies inside [lo, hi), without overflow. */
static int within(uint64_t at, uint64_t n, uint64_t lo, uint64_t hi)
{
	return at >= lo && at <= hi && n <= hi - at;
}

static void check_loaded(const uint8_t *data, size_t size, const struct elf_image *img)
{
	const Elf64_Ehdr *eh = (const void *)data;
	const Elf64_Phdr *ph = (const void *)(data + eh->e_phoff);
	fuzz_assert(img->lo >= WIN_LO && img->hi <= WIN_HI && img->lo <= img->hi);
	fuzz_assert(img->entry >= img->lo && img->entry < img->hi);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		uint64_t at = ph[i].p_vaddr + img->bias;
		fuzz_assert(within(at, ph[i].p_memsz, img->lo, img->hi));
		fuzz_assert(ph[i].p_offset <= size && ph[i].p_filesz <= size - ph[i].p_offset);
	}
	/* Later segments may overlap earlier ones: only the last PT_LOAD's bytes are sure to be
	 * its. */
	for (unsigned i = eh->e_phnum; i-- > 0;) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		uint64_t at = ph[i].p_vaddr + img->bias;
		fuzz_assert(memcmp(guest + at, data + ph[i].p_offset, ph[i].p_filesz) == 0);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;
	enum elf_error e = elf__parse(data, size, PIE_BASE, &img);
	if (e == ELF_OK)
		e = elf__load(data, size, &img, guest, WIN_LO, WIN_HI);
	if (e == ELF_OK)
		check_loaded(data, size, &img);
	fuzz_assert(strcmp(elf__strerror(e), "unknown ELF error") != 0);
	return 0;
}
