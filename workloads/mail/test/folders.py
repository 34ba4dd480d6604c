#!/usr/bin/env python3
"""E2E half of folders.sh: Python's imaplib against vcons-mail's folder commands, each answer
checked, and the Maildir++ directories on disk checked against them; every response checked
against RFC 3501's grammar at the end (imap_grammar.py).
usage: folders.py ADDR PORT DATA_DIR first|again"""
import glob
import imaplib
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imap_grammar  # noqa: E402

addr, port, data, phase = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
md = os.path.join(data, "user1", "Maildir")


def ok(r, what):
    typ, dat = r
    assert typ == "OK", (what, typ, dat)
    return dat


def files(folder, sub="cur"):
    d = md if folder == "INBOX" else os.path.join(md, "." + folder)
    return sorted(os.listdir(os.path.join(d, sub)))


def names(m, pat="*"):
    out = {}
    for line in filter(None, ok(m.list('""', pat), "LIST")):
        mm = re.match(rb'\((.*)\) "\." "?(.*?)"?$', line)
        assert mm, line
        out[mm.group(2).decode()] = mm.group(1).decode().split()
    return out


m = imap_grammar.CheckedIMAP4(addr, port)
caps = m.capabilities
for c in ("UIDPLUS", "MOVE", "NAMESPACE", "SPECIAL-USE", "ENABLE"):
    assert c in caps, caps
ok(m.login("user1", "user1"), "LOGIN")

if phase == "first":
    assert ok(m.namespace(), "NAMESPACE") == [b'(("" ".")) NIL NIL']
    ok(m.enable("CONDSTORE"), "ENABLE")  # nothing to enable here: an empty ENABLED
    l = names(m)
    assert set(l) == {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"}, l
    assert "\\Sent" in l["Sent"] and "\\Trash" in l["Trash"] and "\\Junk" in l["Junk"], l
    # CREATE makes the parents; LIST % stops at the delimiter, * does not
    ok(m.create("Work.Projects.2026"), "CREATE")
    assert m.create("Work")[0] == "NO"  # exists
    assert os.path.isdir(os.path.join(md, ".Work.Projects.2026", "cur"))
    assert set(names(m, "Work.%")) == {"Work.Projects"}
    assert set(names(m, "Work*")) == {"Work", "Work.Projects", "Work.Projects.2026"}
    assert "\\HasChildren" in names(m, "Work")["Work"]
    # hostile names are refused with a reason, nothing is made outside the Maildir
    for bad in ("../evil", "a/b", ".hidden", "a..b", "..", '"tab\there"', "*", "x\\y"):
        try:
            typ, dat = m.create(bad)
        except imaplib.IMAP4.error as e:  # BAD
            typ, dat = "BAD", str(e)
        assert typ in ("NO", "BAD") and dat, (bad, typ, dat)
    assert not os.path.exists(os.path.join(data, "user1", "evil"))
    assert not glob.glob(os.path.join(md, ".*evil*"))
    # APPEND with flags and a date: APPENDUID, the file in cur/ with its flags and size
    msg = b"From: a@b.test\r\nSubject: appended\r\n\r\nhello folders\r\n"
    typ, dat = m.append("Work", "(\\Seen \\Flagged)", '"05-Mar-2026 10:20:30 +0100"', msg)
    assert typ == "OK" and re.search(rb"\[APPENDUID \d+ 1\]", dat[0]), dat
    f = files("Work")
    assert len(f) == 1 and f[0].endswith(":2,FS") and ",S=%d" % len(msg) in f[0], f
    assert f[0].startswith("1772702430."), f  # 2026-03-05 09:20:30 UTC
    for i in range(3):
        ok(m.append("INBOX", None, None, b"Subject: in %d\r\n\r\nbody %d\r\n" % (i, i)), "APPEND")
    # STATUS on a folder that is not selected
    st = ok(m.status("Work", "(MESSAGES UIDNEXT UNSEEN)"), "STATUS")[0]
    assert b"MESSAGES 1" in st and b"UIDNEXT 2" in st and b"UNSEEN 0" in st, st
    # COPY and MOVE with COPYUID; the source of a MOVE is gone from the view and from disk
    assert ok(m.select("INBOX"), "SELECT") == [b"3"]
    typ, dat = m.copy("1:2", "Archive")
    assert typ == "OK" and re.search(rb"\[COPYUID \d+ 1:2 1:2\]", dat[0]), dat
    assert len(files("Archive")) == 2 and len(files("INBOX")) == 3
    assert os.stat(os.path.join(md, "cur", files("INBOX")[0])).st_nlink == 2  # a hard link
    typ, dat = m.uid("MOVE", "3", "Work")
    assert typ == "OK", dat
    assert any(re.search(rb"COPYUID \d+ 3 2", x) for x in m.untagged_responses.get("OK", [])), m.untagged_responses
    assert len(files("INBOX")) == 2 and len(files("Work")) == 2
    assert m.copy("1", "Nowhere")[0] == "NO"
    # UID EXPUNGE removes only the \Deleted messages it names
    ok(m.store("1:2", "+FLAGS", "(\\Deleted)"), "STORE")
    typ, dat = m.uid("EXPUNGE", "1")
    assert typ == "OK" and len(files("INBOX")) == 1, (dat, files("INBOX"))
    ok(m.store("1", "-FLAGS", "(\\Deleted)"), "STORE")
    # SELECT any folder; FETCH there
    assert ok(m.select("Work"), "SELECT") == [b"2"]
    typ, dat = m.fetch("1", "(FLAGS BODY.PEEK[])")
    assert typ == "OK" and dat[0][1] == msg and b"\\Flagged" in dat[0][0], dat
    # RENAME keeps UIDs and moves the children; subscriptions
    ok(m.rename("Work", "Job"), "RENAME")
    assert set(names(m, "Job*")) == {"Job", "Job.Projects", "Job.Projects.2026"} and not names(m, "Work*")
    assert os.path.isdir(os.path.join(md, ".Job.Projects.2026")) and not os.path.exists(os.path.join(md, ".Work"))
    assert m.rename("Job", "Sent")[0] == "NO"
    ok(m.subscribe("Job"), "SUBSCRIBE")
    ok(m.unsubscribe("Junk"), "UNSUBSCRIBE")
    subs = [x.decode() for x in ok(m.lsub('""', "*"), "LSUB")]
    assert any('"Job"' in x for x in subs) and not any('"Junk"' in x for x in subs), subs
    # DELETE refuses a folder with children, then deletes leaves and their messages
    assert m.delete("Job")[0] == "NO"
    ok(m.delete("Job.Projects.2026"), "DELETE")
    ok(m.delete("Job.Projects"), "DELETE")
    assert not glob.glob(os.path.join(md, ".Job.*")) and not glob.glob(os.path.join(md, "..*"))
    assert m.delete("INBOX")[0] == "NO"
    # RENAME INBOX moves its messages into the new folder, INBOX stays, empty
    ok(m.create("Old"), "CREATE")
    ok(m.append("Old", None, None, b"Subject: old\r\n\r\nx\r\n"), "APPEND")
    ok(m.select("Archive"), "SELECT")
    assert m.status("Old", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 1)")
    ok(m.rename("INBOX", "Saved"), "RENAME INBOX")
    assert files("INBOX") == [] and files("INBOX", "new") == [] and len(files("Saved")) == 1
    assert m.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 0)")
else:
    l = names(m)
    assert {"Job", "Saved", "Old", "Archive", "Sent"} <= set(l) and "Job.Projects" not in l, l
    st = ok(m.status("Job", "(MESSAGES UIDNEXT)"), "STATUS")[0]
    assert b"MESSAGES 2" in st and b"UIDNEXT 3" in st, st
    assert ok(m.select("Job"), "SELECT") == [b"2"]
    typ, dat = m.uid("FETCH", "1:*", "(UID FLAGS)")
    assert b"UID 1 " in dat[0] and b"\\Flagged" in dat[0] and b"UID 2 " in dat[1], dat
    subs = [x.decode() for x in ok(m.lsub('""', "*"), "LSUB")]
    assert any('"Job"' in x for x in subs) and not any('"Junk"' in x for x in subs), subs
    assert not os.path.exists(os.path.join(md, "vcons-journal"))
responses, lines = m.check_new()  # raises GrammarError at the first byte out of RFC 3501
print(f"folders.py: {len(responses)} responses ({lines} lines), all in RFC 3501's grammar")
m.logout()
