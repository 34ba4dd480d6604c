#!/usr/bin/env python3
"""tools/check-readmes.py: keeps the Markdown files reference (issue 20).

Usage: tools/check-readmes.py [--root DIR] [FILE.md ...]

Reads every .md file under the root (default: the repository), or the files named, and prints one line
per finding, `FILE:LINE: what`, then a summary line; exits 1 on any finding, 0 otherwise. A finding is:

- a repository path that does not exist. Paths are taken from inline code spans, fenced code blocks and
  link targets, word by word. A word is a path when it is made of path characters only (no `<`, `*`, `$`,
  `{`, `...`: those are templates) and either ends in a known extension (.c .h .sh .md .yaml ...) or has
  a `/` and a first component that exists beside the file or at the root (so `tx/s`, `127.0.0.1/8` and
  a Maildir's `tmp/` are not paths); an all-capitals name (`FILE.md`, `DIR/NAME.c`) is a template. It must exist relative to the file's own folder or to the root;
  a bare source name (`hv.h`) may also be any file of that name in the tree, except in the first column of
  a table headed "file" or "files" (a folder's list of its files), where it must be in the README's own folder. Not repository paths, and
  not checked: `build/...` (generated), absolute paths (`/dev/kvm`, `/tmp/...`), URLs, and bare names
  of data files (`result.json`: a run's output).
- a path that leaves the repository (`../shared/notes.md`, `~/x`): a reader of a clone cannot follow it.
- a placeholder: "not written yet", "to be written", "coming soon", TODO, TBD, FIXME, XXX, outside
  inline code spans (a phrase in backquotes is quoted, not meant).

Not read: .git, build/, results/<run-id>/ (run outputs), and EXCLUDE below (the check's own fixtures).
"""
import os
import re
import sys

# Folders (relative to the root) whose .md files are not the project's documentation, with the reason.
EXCLUDE = {
    "tools/test/check-readmes": "the check's own fixtures, wrong on purpose",
}
SKIP_DIRS = {".git", "build"}

# Extensions that make a word a file name even without a '/'.
EXTS = (".c", ".h", ".S", ".sh", ".py", ".md", ".mk", ".def", ".lds", ".yaml", ".yml", ".json",
        ".txt", ".supp", ".cfg", ".html", ".svg")
# A path whose first component is nowhere in the tree is still checked when it ends in one of these
# (`shared/notes.md`), not otherwise (`A/result.json` in a usage line, a Maildir's `tmp/`).
CLAIM_EXTS = (".c", ".h", ".S", ".sh", ".py", ".md", ".mk", ".def", ".lds", ".yaml", ".yml")
# Bare names (no '/') with these extensions are checked; other bare names (result.json, hv.json,
# stats.yaml) are usually a run's or a bench's output and are not.
SOURCE_EXTS = (".c", ".h", ".S", ".sh", ".py", ".md", ".mk", ".def", ".lds", ".supp", ".cfg")

PLACEHOLDERS = re.compile(
    r"not\s+written\s+yet|to\s+be\s+written|coming\s+soon|\bTODO\b|\bTBD\b|\bFIXME\b|\bXXX\b",
    re.IGNORECASE)
PATH_CHARS = re.compile(r"^[A-Za-z0-9_.+@:~/-]+$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def md_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        rel = "" if rel == "." else rel
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and os.path.join(rel, x) not in EXCLUDE
                         and not os.path.exists(os.path.join(d, x, "result.json")))  # a run's output
        out += [os.path.join(rel, f) for f in sorted(files) if f.endswith(".md")]
    return out


class Tree:
    """The repository's files, for bare-name look-ups."""

    def __init__(self, root):
        self.root = root
        self.names = set()
        for d, dirs, files in os.walk(root):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
            self.names.update(files)


def words(text):
    """The candidate words of a code span or code-block line."""
    for w in text.split():
        if "=" in w:  # VAR=value, --opt=value
            w = w.split("=", 1)[1]
        w = w.strip("\"'`()[],;")
        w = w.rstrip(".:")
        if w:
            yield w


def clean(w):
    """The path part of a word, or None when the word is no path."""
    w = re.sub(r"@[a-z]+$", "", w)  # an E2E_TESTS entry: script.sh@hv
    w = re.sub(r"#.*$", "", w)  # file.md#section
    w = re.sub(r":\d+(-\d+)?$", "", w)  # file.c:123
    if not w or "..." in w or not PATH_CHARS.match(w):
        return None
    if "://" in w or w.startswith(("http:", "https:", "mailto:")):
        return None
    if re.match(r"^\d+(\.\d+)*(/\d+)?$", w):  # numbers, addresses, 127.0.0.0/8
        return None
    if re.match(r"^\.[A-Za-z]+$", w):  # an extension alone: `.c`
        return None
    if re.match(r"^(.*/)?[A-Z][A-Z0-9_]*\.[A-Za-z]+$", w):  # a template: FILE.md, DIR/NAME.c
        return None
    return w


def expand(p):
    """`config.c/h` and `hdr.h/.c`, a README's shorthand for a source and its header, are two paths."""
    m = re.match(r"^(.*[^/])\.([a-zA-Z]{1,2})/\.?([a-zA-Z]{1,2})$", p)
    if m and "." + m.group(2) in EXTS and "." + m.group(3) in EXTS:
        return [f"{m.group(1)}.{m.group(2)}", f"{m.group(1)}.{m.group(3)}"]
    return [p]


def check_path(w, mdfile, root, tree, from_link, owned=False):
    """None when fine, else the finding's text. owned: the word is in the first column of a table headed
    "file"/"files" (a folder's list of its files), so a bare name must be in the README's own folder."""
    here = os.path.dirname(mdfile)
    if w.startswith(("/", "~")):
        return None  # absolute or a home folder: /dev/kvm, /tmp/..., ~/.vcons: not a repository path
    base = w.rstrip("/")
    norm_here = os.path.normpath(os.path.join(here, base))
    if norm_here == ".." or norm_here.startswith("../"):
        return f"path outside the repository: {w}"
    norm_root = os.path.normpath(base)
    if (norm_root == ".." or norm_root.startswith("../")) and not os.path.exists(os.path.join(root, norm_here)):
        return f"path outside the repository: {w}"  # ../shared/notes, meant from the root
    norm_root = os.path.normpath(base)
    if norm_root.split("/")[0] == "build" or norm_here.split("/")[0] == "build":
        return None  # generated
    if norm_root.startswith("results/") and re.match(r"results/[^/]*\d{4}", norm_root):
        return None  # a run's output folder
    has_ext = base.endswith(CLAIM_EXTS)
    if "/" not in base:
        if not from_link and not base.endswith(SOURCE_EXTS):
            return None
    else:
        first = base.split("/")[0]
        if first not in ("..", ".") and not has_ext and not from_link:
            if not (os.path.exists(os.path.join(root, here, first))
                    or os.path.exists(os.path.join(root, first))):
                return None  # tx/s, a Maildir's tmp/: not claimed to be in the repository
    for cand in (norm_here, norm_root):
        if not cand.startswith("../") and os.path.exists(os.path.join(root, cand)):
            return None
    if "/" not in base and base in tree.names and not owned:
        return None
    return f"no such path in the repository: {w}"


def check_file(mdfile, root, tree):
    findings = []
    try:
        with open(os.path.join(root, mdfile), encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        return [(mdfile, 0, f"cannot read: {e}")]
    in_fence = False
    seen = set()
    files_table = False  # inside a table whose first column is headed "file" or "files"
    for n, line in enumerate(lines, 1):
        if not line.startswith("|"):
            files_table = False
        elif n == 1 or not lines[n - 2].startswith("|"):
            files_table = line.split("|")[1].strip().lower() in ("file", "files")
        m = PLACEHOLDERS.search(line if in_fence else CODE_SPAN.sub("", line))
        if m:
            findings.append((mdfile, n, f"placeholder: \"{m.group(0)}\""))
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        cands = []
        first_cell = line.split("|")[1] if files_table and line.count("|") > 2 else ""
        if in_fence:
            cands += [(w, False) for w in words(line)]
        else:
            for sm in CODE_SPAN.finditer(line):
                owned = bool(first_cell) and sm.start() < len(first_cell) + 1
                cands += [(w, False, owned) for w in words(sm.group(2))]
            for lm in LINK.finditer(line):
                t = lm.group(1)
                if not re.match(r"^[a-z]+:", t) and not t.startswith("#"):
                    cands.append((t.strip("<>"), True, False))
        for w, from_link, *owned in cands:
            p = clean(w)
            if p is None:
                continue
            for q in expand(p):
                why = check_path(q, mdfile, root, tree, from_link, bool(owned and owned[0]))
                if why and (n, why) not in seen:
                    seen.add((n, why))
                    findings.append((mdfile, n, why))
    return findings


def main(argv):
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = []
    i = 0
    while i < len(argv):
        if argv[i] == "--root" and i + 1 < len(argv):
            root = os.path.abspath(argv[i + 1])
            i += 2
        elif argv[i] in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        elif argv[i].startswith("-"):
            print(f"check-readmes: unknown option {argv[i]}", file=sys.stderr)
            return 2
        else:
            files.append(argv[i])
            i += 1
    if not os.path.isdir(root):
        print(f"check-readmes: {root}: not a folder", file=sys.stderr)
        return 2
    if files:
        files = [os.path.relpath(os.path.abspath(f), root) for f in files]
    else:
        files = md_files(root)
    tree = Tree(root)
    findings = []
    for f in files:
        findings += check_file(f, root, tree)
    for f, n, why in findings:
        print(f"{f}:{n}: {why}")
    print(f"check-readmes: {len(files)} files, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
