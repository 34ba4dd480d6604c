#!/usr/bin/env python3
"""What a Maildir tree holds, read from its files, for the mail tests that compare a real client's
local copy with the server's Maildir: per folder, each message's Message-ID (or Subject), its
Maildir flags and the SHA-256 of its bytes with line ends as LF (the server stores CRLF, as it
arrived over IMAP; offlineimap3 writes LF).

usage: maildir_view.py show ROOT LAYOUT
       maildir_view.py subjects MAILDIR
       maildir_view.py compare SERVER_MAILDIR LOCAL_ROOT LAYOUT
LAYOUT of the local tree: "maildir++" (INBOX is ROOT itself, folder "a.b" is ROOT/.a.b, as the
server stores them) or "plain" (folder "a.b" is the directory ROOT/a.b, INBOX is ROOT/INBOX, as
offlineimap3 keeps them). subjects prints one line "folder: Subject [flags]" per message of a
server Maildir, sorted (empty folders too, as "folder: -"). compare exits 1, printing the differences, unless both trees have the
same folders (empty ones too) with the same messages, flags and bytes."""
import hashlib
import os
import re
import sys


def folders(root, layout):
    """{folder name: its directory} for every Maildir (a directory with cur/) under root."""
    out = {}
    if layout == "maildir++":
        if os.path.isdir(os.path.join(root, "cur")):
            out["INBOX"] = root
        for d in os.listdir(root):
            if d.startswith(".") and d not in (".", "..") and not d.startswith("..") and \
                    os.path.isdir(os.path.join(root, d, "cur")):
                out[d[1:]] = os.path.join(root, d)
    else:
        for d in os.listdir(root):
            if os.path.isdir(os.path.join(root, d, "cur")):
                out[d] = os.path.join(root, d)
    return out


def message_key(data):
    m = re.search(rb"(?im)^Message-ID:[ \t]*(\S+)", data) or re.search(rb"(?im)^Subject:[ \t]*(.*?)\r?$", data)
    return m.group(1).decode("ascii", "replace") if m else "(no id)"


def flags_of(name, sub):
    """A Maildir name's flags (the letters after ":2,"); none for new/."""
    if sub == "new" or ":2," not in name:
        return ""
    return "".join(sorted(name.split(":2,", 1)[1]))


def view(root, layout):
    """{folder: sorted [(key, flags, sha256)]}"""
    out = {}
    for name, d in folders(root, layout).items():
        msgs = []
        for sub in ("cur", "new"):
            for f in os.listdir(os.path.join(d, sub)):
                data = open(os.path.join(d, sub, f), "rb").read()
                msgs.append((message_key(data), flags_of(f, sub), hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()[:16]))
        out[name] = sorted(msgs)
    return out


def subjects(root):
    lines = []
    for name, d in folders(root, "maildir++").items():
        n = 0
        for sub in ("cur", "new"):
            for f in os.listdir(os.path.join(d, sub)):
                data = open(os.path.join(d, sub, f), "rb").read()
                m = re.search(rb"(?im)^Subject:[ \t]*(.*?)\r?$", data)
                subj = m.group(1).decode("ascii", "replace") if m else "(none)"
                lines.append(f"{name}: {subj} [{flags_of(f, sub)}]")
                n += 1
        if n == 0:
            lines.append(f"{name}: -")
    return sorted(lines)


def main(argv):
    if len(argv) == 3 and argv[1] == "subjects":
        print("\n".join(subjects(argv[2])))
        return 0
    if len(argv) == 4 and argv[1] == "show":
        for k, v in sorted(view(argv[2], argv[3]).items()):
            print(k, v)
        return 0
    if len(argv) != 5 or argv[1] != "compare":
        print(__doc__, file=sys.stderr)
        return 2
    a, b = view(argv[2], "maildir++"), view(argv[3], argv[4])
    bad = 0
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            bad += 1
            print(f"folder {k}: server {a.get(k)}\n{' ' * len(k)}  local  {b.get(k)}")
    n = sum(len(v) for v in a.values())
    print(f"maildir_view: {len(a)} server folders, {n} messages; {bad} folders differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
