#!/usr/bin/env python3
"""hv/test/guest_memory_check.py: fails where hv code reaches guest memory outside hv/uaccess.h.

Usage: guest_memory_check.py [DIR]   (default: hv/ beside this folder). Prints one line per finding,
FILE:LINE: what, and exits 1 when there is any; 0 and a summary line otherwise.

The rules (hv/uaccess.h says why):
  1. No file but uaccess.c forms a pointer into guest RAM from `ram` (`vm->ram + gva`, `->ram[`),
     except the files listed in RAM_OWNERS, which manage the memory itself and never read a guest
     structure there.
  2. The old in-place helpers (`guest_ptr`, `GUEST_PTR`) exist nowhere.
  3. A `struct guest_bytes *` (guest bytes a host call reads or writes) is only handed to host
     calls: never cast, never stored in a `void *`, never given to a memory or string function
     of hv's own.
The C compiler already refuses to dereference a `struct guest_bytes *` (the type has no definition).
"""
import os
import re
import sys

# Files allowed to compute host addresses of guest RAM, and why. None of them reads a guest
# structure through such an address.
RAM_OWNERS = {
    "uaccess.c": "the fault-safe copies themselves",
    "mem.c": "allocates guest RAM and registers it with KVM",
    "mm.c": "maps host files over guest RAM (mmap MAP_FIXED), the host does the access",
    "sys_mem.c": "mmap/msync over guest RAM: host calls on the range",
    "stats.c": "mincore() over guest RAM: resident pages, never their contents",
    "vm.c": "loads the program into fresh RAM before the first guest instruction",
    "process.c": "execve loads the new program into fresh RAM (elf.c), no guest thread runs",
    "stack.c": "builds the first stack before the first guest instruction",
    "snapshot.c": "copies a paused VM's touched pages into the snapshot file (no guest thread runs)",
    "snapshot_restore.c": "maps the image and file mappings over RAM before the first instruction",
    "snapshot_state.c": "finds the host file mappings over RAM in /proc/self/maps (addresses only)",
    "migrate.c": "sends guest pages to a migration's target (the host reads them, bulk)",
    "migrate_in.c": "receives guest pages into RAM before the VM's first instruction",
}
RAM_USE = re.compile(r"(->|\.)ram\b(?!_)")
OLD_HELPERS = re.compile(r"\b(guest_ptr|GUEST_PTR)\b")
GB_DECL = re.compile(r"struct\s+guest_bytes\s*\*\s*(\w+)((?:\s*,\s*\*\s*\w+)*)")
OWN_FUNCS = r"(?:mem(?:cpy|move|set|cmp|chr|mem)|str\w*|s?n?printf|f?puts|atoi|strto\w+)"


def strip_comments(text):
    """Blanks comments and string literals, keeping line numbers."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', blank, text, flags=re.S)


def check_file(path, name, findings):
    with open(path, encoding="utf-8") as f:
        lines = strip_comments(f.read()).split("\n")
    gb_names = set()  # the guest-bytes variables of the function being read
    depth = 0
    for no, line in enumerate(lines, 1):
        where = f"{path}:{no}"
        for m in GB_DECL.finditer(line):
            gb_names.add(m.group(1))
            gb_names.update(re.findall(r"\*\s*(\w+)", m.group(2)))
        if OLD_HELPERS.search(line):
            findings.append(f"{where}: the old in-place guest pointer helper (use uaccess.h)")
        if RAM_USE.search(line) and name not in RAM_OWNERS:
            findings.append(f"{where}: a host address inside guest RAM outside uaccess.h")
        if name == "uaccess.c":
            continue
        if re.search(r"\(\s*(const\s+)?struct\s+guest_bytes\s*\*\s*\)", line):
            findings.append(f"{where}: a cast to struct guest_bytes * (only uaccess.c makes one)")
        for v in gb_names:
            if re.search(r"\)\s*\(?\s*" + re.escape(v) + r"\b", line) and re.search(
                    r"\(\s*(const\s+)?[\w\s]+\*+\s*\)\s*\(?\s*" + re.escape(v) + r"\b", line):
                findings.append(f"{where}: guest bytes '{v}' cast to a type hv could read")
            if re.search(r"void\s*\*\s*\w+\s*=\s*" + re.escape(v) + r"\b", line):
                findings.append(f"{where}: guest bytes '{v}' laundered through a void *")
            if re.search(r"\b" + OWN_FUNCS + r"\s*\([^;]*\b" + re.escape(v) + r"\b", line):
                findings.append(f"{where}: guest bytes '{v}' handed to a function of hv's own")
        depth += line.count("{") - line.count("}")
        if depth == 0 and "}" in line:
            gb_names = set()  # the function ended


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    findings = []
    files = sorted(f for f in os.listdir(top) if f.endswith((".c", ".h")))
    for name in files:
        check_file(os.path.join(top, name), name, findings)
    for line in findings:
        print(line)
    if findings:
        print(f"guest memory check: {len(findings)} finding(s) in {top}")
        return 1
    print(f"guest memory check: {len(files)} files clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
