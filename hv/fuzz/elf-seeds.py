#!/usr/bin/env python3
"""hv/fuzz/elf-seeds.py: writes the hand-made seed inputs of the hv-elf fuzz target into
hv/fuzz/elf/ (tiny ELF files: real static programs are ~1 MB, too big for a corpus). Each seed
exercises one path of elf.c: ET_EXEC, static PIE, PT_PHDR, bss, several segments, PT_INTERP,
truncation. Run it from the repository's root; the fuzzer's own finds are kept beside these."""
import os
import struct

PT_LOAD, PT_INTERP, PT_PHDR = 1, 3, 6
ET_EXEC, ET_DYN = 2, 3


def elf(etype, entry, segs, extra_phdrs=(), machine=62, body=b"\x90" * 0x200):
    """segs: (vaddr, file offset within body, filesz, memsz); body follows the headers."""
    phnum = len(segs) + len(extra_phdrs)
    hdr_len = 64 + 56 * phnum
    ph = b""
    for ptype, vaddr, off, filesz, memsz in list(extra_phdrs) + [(PT_LOAD,) + s for s in segs]:
        ph += struct.pack("<IIQQQQQQ", ptype, 5, off, vaddr, vaddr, filesz, memsz, 0x1000)
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    return eh + ph + body, hdr_len


def main():
    out = "hv/fuzz/elf"
    os.makedirs(out, exist_ok=True)
    seeds = {}
    # One segment mapping the whole file at 0x400000 (headers included), entry in the code.
    f, _ = elf(ET_EXEC, 0x400000 + 64 + 56, [(0x400000, 0, 64 + 56 + 64, 64 + 56 + 64)])
    seeds["exec-one-segment"] = f
    # Text plus data with bss, and PT_PHDR.
    segs = [(0x400000, 0, 0x100, 0x100), (0x401100, 0x100, 0x10, 0x2000)]
    f, _ = elf(ET_EXEC, 0x400080, segs, [(PT_PHDR, 0x400040, 64, 56 * 3, 56 * 3)],
               body=b"\xcc" * 0x200)
    seeds["exec-text-data-bss"] = f
    # Static PIE: vaddr 0, loaded at the PIE base.
    f, _ = elf(ET_DYN, 0x80, [(0, 0, 0x100, 0x100)], body=b"\xc3" * 0x100)
    seeds["pie"] = f
    seeds["interp"] = elf(ET_EXEC, 0x400080, [(0x400000, 0, 0x100, 0x100)],
                          [(PT_INTERP, 0x400000, 0, 8, 8)], body=b"\0" * 0x100)[0]
    seeds["arm64"] = elf(ET_EXEC, 0x400080, [(0x400000, 0, 0x100, 0x100)], machine=183)[0]
    seeds["entry-outside"] = elf(ET_EXEC, 0x900000, [(0x400000, 0, 0x100, 0x100)])[0]
    seeds["filesz-over-memsz"] = elf(ET_EXEC, 0x400080, [(0x400000, 0, 0x200, 0x100)])[0]
    seeds["segment-past-file"] = elf(ET_EXEC, 0x400080, [(0x400000, 0, 0x100000, 0x100000)])[0]
    seeds["window-too-small"] = elf(ET_EXEC, 0x400080, [(0x400000, 0, 0x100, 0x4000000)])[0]
    seeds["below-window"] = elf(ET_EXEC, 0x1000, [(0x1000, 0, 0x100, 0x100)])[0]
    seeds["truncated-header"] = seeds["exec-one-segment"][:40]
    seeds["truncated-phdrs"] = seeds["exec-text-data-bss"][:100]
    seeds["not-elf"] = b"#!/bin/sh\necho hello\n"
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
