/* Unit tests for hv/elf.c: synthetic ELF images, every rejection reason, PIE bias and AT_PHDR. */
#include "tools/unit.h"
#include "hv/elf.h"

#include <elf.h>
#include <string.h>
#include <stdlib.h>

struct img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	uint8_t code[64];
};

static void make(struct img *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_type = type;
	m->eh.e_machine = EM_X86_64;
	m->eh.e_phoff = offsetof(struct img, ph);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->eh.e_phnum = 1;
	uint64_t base = type == ET_EXEC ? 0x400000 : 0;
	m->eh.e_entry = base + offsetof(struct img, code);
	m->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD,
		                 .p_offset = 0,
		                 .p_vaddr = base,
		                 .p_filesz = sizeof(*m),
		                 .p_memsz = 0x3000,
		                 .p_align = 0x1000 };
	memset(m->code, 0x90, sizeof(m->code));
}

static void parses_static_exec(void **state)
{
	struct img m;
	struct elf_image e;
	make(&m, ET_EXEC);
	assert_int_equal(elf__parse(&m, sizeof(m), 0x800000, &e), ELF_OK);
	assert_false(e.pie);
	assert_int_equal(e.entry, 0x400000 + offsetof(struct img, code));
	assert_int_equal(e.lo, 0x400000);
	assert_int_equal(e.hi, 0x403000);
	assert_int_equal(e.phdr, 0x400000 + offsetof(struct img, ph));
	assert_int_equal(e.phnum, 1);
}

static void pie_gets_the_chosen_base(void **state)
{
	struct img m;
	struct elf_image e;
	make(&m, ET_DYN);
	assert_int_equal(elf__parse(&m, sizeof(m), 0x10000000, &e), ELF_OK);
	assert_true(e.pie);
	assert_int_equal(e.lo, 0x10000000);
	assert_int_equal(e.entry, 0x10000000 + offsetof(struct img, code));
}

static void load_copies_and_zeroes_bss(void **state)
{
	struct img m;
	struct elf_image e;
	make(&m, ET_EXEC);
	uint8_t *guest = malloc(0x500000);
	assert_non_null(guest);
	memset(guest, 0xee, 0x500000);
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_OK);
	assert_int_equal(elf__load(&m, sizeof(m), &e, guest, 0x200000, 0x500000), ELF_OK);
	assert_memory_equal(guest + 0x400000, &m, sizeof(m));
	assert_int_equal(guest[0x400000 + sizeof(m)], 0);
	assert_int_equal(guest[0x402fff], 0);
	assert_int_equal(guest[0x403000], 0xee);
	/* A window that does not hold the segments is refused before anything is written. */
	assert_int_equal(elf__load(&m, sizeof(m), &e, guest, 0x200000, 0x402000), ELF_ERANGE);
	free(guest);
}

static void rejects_each_bad_input(void **state)
{
	struct img m;
	struct elf_image e;

	make(&m, ET_EXEC);
	m.eh.e_ident[1] = 'X';
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_ENOTELF);
	assert_int_equal(elf__parse("#!/bin/sh\n", 10, 0, &e), ELF_ENOTELF);
	assert_int_equal(elf__parse("", 0, 0, &e), ELF_ENOTELF);

	make(&m, ET_EXEC);
	m.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_ECLASS);

	make(&m, ET_EXEC);
	m.eh.e_machine = EM_AARCH64;
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_EARCH);

	make(&m, ET_REL);
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_ETYPE);

	make(&m, ET_EXEC);
	m.eh.e_phnum = 2;
	m.ph[1] = m.ph[0];
	m.ph[0] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = 0, .p_filesz = 1 };
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_EDYNAMIC);

	make(&m, ET_EXEC);
	m.ph[0].p_filesz = 0x4000; /* more file than the image has */
	m.ph[0].p_memsz = 0x4000;
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_ETRUNC);

	make(&m, ET_EXEC);
	m.ph[0].p_memsz = 1; /* filesz > memsz */
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_EBADSEG);

	make(&m, ET_EXEC);
	m.eh.e_phoff = sizeof(m) - 8; /* headers run past the end */
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_ETRUNC);

	/* Every prefix of a valid image is rejected without reading past it. */
	make(&m, ET_EXEC);
	for (size_t n = 0; n < sizeof(m) - sizeof(m.code); n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, &m, n);
		assert_int_not_equal(elf__parse(copy, n, 0, &e), ELF_OK);
		free(copy);
	}
}

/* Found by the hv-elf fuzz target: a segment ending in the last page of the address space made the
 * page-rounded extent wrap to 0, so the description's [lo, hi) missed it and elf__load() wrote far
 * outside guest memory. The segment is now refused, and elf__load() checks each segment itself. */
static void rejects_a_segment_whose_page_end_wraps(void **state)
{
	struct img m;
	struct elf_image e;
	make(&m, ET_EXEC);
	m.eh.e_phnum = 2;
	m.ph[1] = m.ph[0];
	m.ph[1].p_memsz =
	    UINT64_MAX - 1 - m.ph[1].p_vaddr; /* ends at 2^64 - 2: no plain overflow */
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_EBADSEG);

	/* A description that does not cover a segment is refused by elf__load() itself. */
	make(&m, ET_EXEC);
	uint8_t *guest = malloc(0x500000);
	assert_non_null(guest);
	assert_int_equal(elf__parse(&m, sizeof(m), 0, &e), ELF_OK);
	m.ph[0].p_vaddr = 0x4ff000; /* moved after parsing: past the window's end */
	assert_int_equal(elf__load(&m, sizeof(m), &e, guest, 0x200000, 0x500000), ELF_ERANGE);
	free(guest);
}

static void every_error_has_a_message(void **state)
{
	for (int i = ELF_OK; i <= ELF_ERANGE; i++)
		assert_string_not_equal(elf__strerror(i), "unknown ELF error");
}

UNIT_MAIN(cmocka_unit_test(parses_static_exec), cmocka_unit_test(pie_gets_the_chosen_base),
          cmocka_unit_test(load_copies_and_zeroes_bss), cmocka_unit_test(rejects_each_bad_input),
          cmocka_unit_test(rejects_a_segment_whose_page_end_wraps),
          cmocka_unit_test(every_error_has_a_message))
