#!/usr/bin/env python3
"""tools/layers.py: the include graph between the tree's folders, checked against one layer order.

Reads the `#include "..."` lines of every C source, header and included table (.c .h .S .def)
that git knows, maps each file and each include to its layer (the longest LAYERS entry its path
starts with), prints the folder graph (each layer, the layers it includes, with counts) and
fails on:
  - an include from a layer to a higher one, or to another layer on the same row (peers do not
    include each other): one line "FILE:LINE: includes PATH: LAYER -> HIGHER" each;
  - a cycle between layers;
  - an including or included file in no layer (a new folder must be placed in LAYERS first).
Includes are written from the top of the tree ("hv/size.h"), as -I. compiles them; one that names
no file of the tree is read as a path from the including file's folder.

Usage: tools/layers.py [--root DIR]. Exit 0 when the graph only points down, 1 otherwise.
"""
import os
import re
import subprocess
import sys

# The layer order, lowest first: a layer may include those on lower rows only. Names on one row
# are peers (they may not include each other).
LAYERS = """
tools                                   test support (tools/unit.h, tools/fuzz.h) for every test
lib                                     what every program needs: options, sizes, clock, JSON, stop, listen
hv                                      vcons-hv
qemu                                    vcons-qemu, the full-Linux platform
workloads/common                        the load-generation library of every workload
workloads/db workloads/idle workloads/java workloads/mail workloads/web
model                                   the result model: rules, verdict, score, report
results                                 submissions and the results repository
harness                                 the runner and the vcons commands on top
"""

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCES = ("*.c", "*.h", "*.S", "*.def")


def parse_layers(text):
    """Row number of each layer name, lowest 0; a row's words after two spaces are a comment."""
    rank, rows = {}, []
    for line in text.strip("\n").splitlines():
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0].split()
        for name in names:
            rank[name] = len(rows)
        rows.append(names)
    return rank, rows


def layer_of(path, rank):
    best = None
    for name in rank:
        if (path == name or path.startswith(name + "/")) and (best is None or len(name) > len(best)):
            best = name
    return best


def resolve(root, src, inc):
    if os.path.exists(os.path.join(root, inc)):
        return inc
    local = os.path.normpath(os.path.join(os.path.dirname(src), inc))
    return local if os.path.exists(os.path.join(root, local)) else inc


def includes(root):
    files = subprocess.run(["git", "-C", root, "ls-files", "--", *SOURCES], check=True,
                           capture_output=True, text=True).stdout.split()
    for src in files:
        with open(os.path.join(root, src), encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m:
                    yield src, n, resolve(root, src, m.group(1))


def find_cycle(edges):
    """One cycle of the layer graph as a list of layers, or None."""
    state, stack = {}, []

    def visit(a):
        state[a] = 1
        stack.append(a)
        for b in sorted(edges.get(a, ())):
            if state.get(b) == 1:
                return stack[stack.index(b):] + [b]
            if b not in state:
                c = visit(b)
                if c:
                    return c
        stack.pop()
        state[a] = 2
        return None

    for a in sorted(edges):
        if a not in state:
            c = visit(a)
            if c:
                return c
    return None


def main():
    root = sys.argv[sys.argv.index("--root") + 1] if "--root" in sys.argv else "."
    rank, rows = parse_layers(LAYERS)
    edges, problems = {}, []
    for src, line, inc in includes(root):
        a, b = layer_of(src, rank), layer_of(inc, rank)
        if a is None or b is None:
            problems.append(f"{src}:{line}: includes {inc}: {src if a is None else inc} is in no "
                            "layer (add its folder to LAYERS in tools/layers.py)")
            continue
        if a == b:
            continue
        edges.setdefault(a, {}).setdefault(b, 0)
        edges[a][b] += 1
        if rank[b] >= rank[a]:
            how = "a peer" if rank[b] == rank[a] else "a higher layer"
            problems.append(f"{src}:{line}: includes {inc}: {a} -> {b} ({how})")
    print("layers, lowest first (a layer may include only layers on the rows before its own):")
    for i, names in enumerate(rows):
        print(f"  {i}  {'  '.join(names)}")
    print("include graph between layers (includes counted):")
    for names in reversed(rows):
        for a in names:
            out = edges.get(a, {})
            down = ", ".join(f"{b} ({n})" for b, n in sorted(out.items(), key=lambda e: (-rank[e[0]], e[0])))
            print(f"  {a:<18} -> {down or '(nothing)'}")
    cycle = find_cycle(edges)
    if cycle:
        problems.append("cycle between layers: " + " -> ".join(cycle))
    for p in problems:
        print(p)
    print(f"layers: {len(problems)} problem{'s' if len(problems) != 1 else ''}" +
          ("" if problems else ": every include points down, no cycle"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
