/* hv/elf.c: validates and loads static x86-64 ELF executables into guest memory (see elf.h). */
#include "hv/elf.h"

#include <elf.h>
#include <string.h>

#define PAGE 4096ULL

static uint64_t page_down(uint64_t x)
{
	return x & ~(PAGE - 1);
}

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

/* 1 when [off, off+n) lies inside a buffer of `len` bytes. */
static int in_file(uint64_t off, uint64_t n, size_t len)
{
	return off <= len && n <= len - off;
}

static const Elf64_Phdr *phdrs(const void *buf)
{
	const Elf64_Ehdr *eh = buf;
	return (const Elf64_Phdr *)((const uint8_t *)buf + eh->e_phoff);
}

static enum elf_error check_header(const void *buf, size_t len)
{
	const Elf64_Ehdr *eh = buf;
	if (len < SELFMAG || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return ELF_ENOTELF;
	if (len < EI_NIDENT || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return ELF_ECLASS;
	if (len < sizeof(*eh))
		return ELF_ETRUNC;
	if (eh->e_machine != EM_X86_64)
		return ELF_EARCH;
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return ELF_ETYPE;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
		return ELF_EBADSEG;
	if (!in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
		return ELF_ETRUNC;
	if (eh->e_phoff % 8)
		return ELF_EBADSEG;
	return ELF_OK;
}

static enum elf_error check_segment(const Elf64_Phdr *ph, size_t len)
{
	if (ph->p_filesz > ph->p_memsz)
		return ELF_EBADSEG;
	/* The end, rounded up to a page, must not wrap: elf__parse() sums extents at page grain. */
	if (ph->p_memsz > UINT64_MAX - (PAGE - 1) - ph->p_vaddr)
		return ELF_EBADSEG;
	if (ph->p_align > 1 && (ph->p_vaddr - ph->p_offset) % PAGE)
		return ELF_EBADSEG;
	if (!in_file(ph->p_offset, ph->p_filesz, len))
		return ELF_ETRUNC;
	return ELF_OK;
}

enum elf_error elf__parse(const void *buf, size_t len, uint64_t pie_base, struct elf_image *img)
{
	enum elf_error e = check_header(buf, len);
	if (e)
		return e;
	const Elf64_Ehdr *eh = buf;
	const Elf64_Phdr *ph = phdrs(buf);
	uint64_t lo = UINT64_MAX, hi = 0, phdr = 0;
	int nload = 0;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			return ELF_EDYNAMIC;
		if (ph[i].p_type == PT_PHDR)
			phdr = ph[i].p_vaddr;
		if (ph[i].p_type != PT_LOAD)
			continue;
		if ((e = check_segment(&ph[i], len)))
			return e;
		nload++;
		if (page_down(ph[i].p_vaddr) < lo)
			lo = page_down(ph[i].p_vaddr);
		if (page_up(ph[i].p_vaddr + ph[i].p_memsz) > hi)
			hi = page_up(ph[i].p_vaddr + ph[i].p_memsz);
		/* Without PT_PHDR, AT_PHDR is where the segment holding the headers puts them. */
		if (!phdr && eh->e_phoff >= ph[i].p_offset &&
		    eh->e_phoff < ph[i].p_offset + ph[i].p_filesz)
			phdr = ph[i].p_vaddr + (eh->e_phoff - ph[i].p_offset);
	}
	if (!nload)
		return ELF_EBADSEG;

	memset(img, 0, sizeof(*img));
	img->pie = eh->e_type == ET_DYN;
	img->bias = img->pie ? pie_base - lo : 0;
	img->entry = eh->e_entry + img->bias;
	img->phdr = phdr + img->bias;
	img->phnum = eh->e_phnum;
	img->phentsize = eh->e_phentsize;
	img->lo = lo + img->bias;
	img->hi = hi + img->bias;
	if (img->hi < img->lo)
		return ELF_ERANGE;
	return ELF_OK;
}

enum elf_error elf__fits(const struct elf_image *img, uint64_t win_lo, uint64_t win_hi)
{
	if (img->lo < win_lo || img->hi > win_hi || img->entry < img->lo || img->entry >= img->hi)
		return ELF_ERANGE;
	return ELF_OK;
}

enum elf_error elf__load(const void *buf, size_t len, const struct elf_image *img, uint8_t *guest,
                         uint64_t win_lo, uint64_t win_hi)
{
	const Elf64_Ehdr *eh = buf;
	const Elf64_Phdr *ph = phdrs(buf);

	if (elf__fits(img, win_lo, win_hi))
		return ELF_ERANGE;
	/* Each segment is checked against the window itself before the first byte is written, so no
	 * description, however it was made, can make this write outside guest memory. */
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		uint64_t at = ph[i].p_vaddr + img->bias;
		if (ph[i].p_type == PT_LOAD &&
		    (at < win_lo || at > win_hi || ph[i].p_memsz > win_hi - at ||
		     ph[i].p_filesz > ph[i].p_memsz ||
		     !in_file(ph[i].p_offset, ph[i].p_filesz, len)))
			return ELF_ERANGE;
	}
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		uint64_t at = ph[i].p_vaddr + img->bias;
		memcpy(guest + at, (const uint8_t *)buf + ph[i].p_offset, ph[i].p_filesz);
		memset(guest + at + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
	}
	return ELF_OK;
}

const char *elf__strerror(enum elf_error e)
{
	switch (e) {
	case ELF_OK: return "ok";
	case ELF_ENOTELF: return "not an ELF file";
	case ELF_ECLASS: return "not a 64-bit little-endian ELF file";
	case ELF_EARCH: return "not an x86-64 program";
	case ELF_ETYPE: return "not an executable (ET_EXEC or static-PIE ET_DYN)";
	case ELF_EDYNAMIC:
		return "dynamically linked (has an interpreter); vcons-hv runs static programs";
	case ELF_ETRUNC: return "truncated ELF file";
	case ELF_EBADSEG: return "malformed program headers";
	case ELF_ERANGE: return "program does not fit in the VM's memory";
	}
	return "unknown ELF error";
}
