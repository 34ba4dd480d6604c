/* hv/elf.h: parsing and loading static x86-64 ELF executables (ET_EXEC, and static-PIE ET_DYN).
 *
 * Contract: elf__parse() validates a whole file image in memory and describes it; it never reads
 * outside [buf, buf+len). elf__load() copies the PT_LOAD segments into guest memory (zeroing bss)
 * at the addresses the description gives, after checking that every segment lies inside the window
 * it is given (all of them, before writing anything). */
#ifndef HV_ELF_H
#define HV_ELF_H
#include <stddef.h>
#include <stdint.h>

enum elf_error {
	ELF_OK = 0,
	ELF_ENOTELF,  /* no ELF magic */
	ELF_ECLASS,   /* not 64-bit little-endian */
	ELF_EARCH,    /* not x86-64 */
	ELF_ETYPE,    /* neither an executable nor a static PIE */
	ELF_EDYNAMIC, /* has PT_INTERP: needs a dynamic loader */
	ELF_ETRUNC,   /* a header or segment lies past the end of the file */
	ELF_EBADSEG,  /* malformed program header (filesz > memsz, overflow, bad alignment) */
	ELF_ERANGE,   /* the segments do not fit in the guest memory window */
};

struct elf_image {
	uint64_t entry;     /* entry point, load bias applied */
	uint64_t phdr;      /* guest address of the program headers (AT_PHDR) */
	uint16_t phnum;     /* AT_PHNUM */
	uint16_t phentsize; /* AT_PHENT */
	uint64_t lo, hi;    /* page-aligned extent of the loaded segments, bias applied */
	uint64_t bias;      /* 0 for ET_EXEC; the chosen base for a static PIE */
	int pie;
};

/* Parses and validates. For a static PIE, `pie_base` (page aligned) becomes the load bias. */
enum elf_error elf__parse(const void *buf, size_t len, uint64_t pie_base, struct elf_image *img);

/* Whether the described program (its extent and entry point) fits in [win_lo, win_hi): ELF_OK or
 * ELF_ERANGE. elf__load() checks this first; execve checks it before its point of no return. */
enum elf_error elf__fits(const struct elf_image *img, uint64_t win_lo, uint64_t win_hi);

/* Copies segments to guest memory; `guest` is the host address of guest address 0, and segments
 * must lie within [win_lo, win_hi). */
enum elf_error elf__load(const void *buf, size_t len, const struct elf_image *img, uint8_t *guest,
                         uint64_t win_lo, uint64_t win_hi);

const char *elf__strerror(enum elf_error e);

#endif
