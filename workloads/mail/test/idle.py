#!/usr/bin/env python3
"""E2E half of idle.sh: IMAP IDLE (RFC 2177) and the untagged updates one session gets of another's
changes, against vcons-mail. The sessions that change the mailbox are Python's imaplib and smtplib;
the idling ones speak IMAP over a plain socket (imaplib has no IDLE before Python 3.14), every line
they receive checked against RFC 3501's response grammar for what it carries. Prints one TAP line
per check; exits 1 if one failed.
usage: idle.py ADDR IMAP_PORT SMTP_PORT STATE_FILE idle|restart|timeouts"""
import imaplib
import json
import re
import select
import smtplib
import socket
import statistics
import sys
import time

addr, state_file, phase = sys.argv[1], sys.argv[4], sys.argv[5]
ip, sp = int(sys.argv[2]), int(sys.argv[3])
BOUND = 5.0  # seconds an idler may take to see a change
fails = 0
latencies = []


def check(name, ok, detail=""):
    global fails
    if ok:
        print(f"ok - {name}", flush=True)
    else:
        fails += 1
        print(f"not ok - {name}: {detail}", flush=True)


# RFC 3501 9 (response-data, continue-req, response-tagged) for what these sessions are sent
FLAGS = rb"\(((\\(Answered|Flagged|Deleted|Seen|Draft)) ?)*\)"
LINE = re.compile(
    rb"\* (\d+ (EXISTS|RECENT|EXPUNGE|FETCH \((UID \d+ )?FLAGS " + FLAGS + rb"\))"
    rb"|OK \[.*\] .*|OK .*|FLAGS \(.*\)|BYE .*|CAPABILITY .*|SEARCH( \d+)*)\r\n"
    rb"|\+ .*\r\n|[A-Za-z0-9]+ (OK|NO|BAD) .*\r\n")


class Raw:
    """An IMAP session over a plain socket: what an IDLE needs that imaplib has not."""

    def __init__(self, user):
        self.s = socket.create_connection((addr, ip), timeout=10)
        self.buf = b""
        self.n = 0
        greeting = self.line(5)
        assert greeting.startswith(b"* OK"), greeting
        self.cmd(f"LOGIN {user} {user}")

    def line(self, timeout):
        """The next line (with its CRLF), None after timeout seconds, b"" at the end of stream."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            got = self.s.recv(65536)
            if not got:
                return b""
            self.buf += got
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        if not LINE.fullmatch(out):
            check(f"response grammar: {out!r}", False, "not an RFC 3501 response line")
        return out

    def cmd(self, text):
        """Sends a command and returns its untagged lines; the tagged one must be OK."""
        self.n += 1
        tag = f"r{self.n}"
        self.s.sendall(f"{tag} {text}\r\n".encode())
        lines = []
        while True:
            ln = self.line(10)
            assert ln, (text, lines)
            if ln.startswith(tag.encode() + b" "):
                assert ln.startswith(tag.encode() + b" OK"), (text, ln)
                return lines
            lines.append(ln)

    def idle(self):
        self.n += 1
        self.idle_tag = f"r{self.n}"
        self.s.sendall(f"{self.idle_tag} IDLE\r\n".encode())
        ln = self.line(5)
        assert ln == b"+ idling\r\n", ln

    def expect(self, want, since):
        """Reads until the lines in want (bytes, in order) came; returns the seconds since `since`
        the last one took, or None if they did not come within BOUND."""
        for w in want:
            while True:
                ln = self.line(BOUND - (time.monotonic() - since))
                if not ln:
                    return None
                if ln == w:
                    break
        return time.monotonic() - since

    def done(self):
        self.s.sendall(b"DONE\r\n")
        while True:
            ln = self.line(5)
            assert ln, "no answer to DONE"
            if ln.startswith(self.idle_tag.encode()):
                return ln

    def quiet(self, seconds):
        """True if nothing arrives for that long."""
        return self.line(seconds) is None


def ok(r, what):
    typ, dat = r
    assert typ == "OK", (what, typ, dat)
    return dat


def imap(user="user1"):
    m = imaplib.IMAP4(addr, ip)
    ok(m.login(user, user), "LOGIN")
    return m


def deliver(subject):
    with smtplib.SMTP(addr, sp) as s:
        s.sendmail("a@example.org", ["user1@vcons.test"],
                   f"From: a@example.org\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n")


def seen_by_all(idlers, name, want, since):
    got = [i.expect(want, since) for i in idlers]
    late = [g for g in got if g is None]
    check(f"{name}: every idler sees {b''.join(want)!r} within {BOUND:.0f} s", not late,
          f"{len(late)} of {len(idlers)} did not")
    latencies.extend(g for g in got if g is not None)


def uidnext(m, box):
    dat = ok(m.status(box, "(UIDNEXT UIDVALIDITY)"), "STATUS")[0]
    mm = re.search(rb"UIDNEXT (\d+) UIDVALIDITY (\d+)", dat)
    return int(mm.group(1)), int(mm.group(2))


def phase_idle():
    caps = imap().capabilities
    check("CAPABILITY lists IDLE", "IDLE" in caps, caps)
    # four idlers on INBOX: with two worker threads some land on the other worker than the
    # sessions making the changes
    idlers = [Raw("user1") for _ in range(4)]
    for i in idlers:
        lines = i.cmd("SELECT INBOX")
        assert b"* 0 EXISTS\r\n" in lines, lines
        i.idle()
    t = time.monotonic()
    deliver("first")
    seen_by_all(idlers, "SMTP delivery", [b"* 1 EXISTS\r\n", b"* 0 RECENT\r\n"], t)
    b = imap()
    t = time.monotonic()
    ok(b.append("INBOX", None, None, b"Subject: appended\r\n\r\nhi\r\n"), "APPEND")
    seen_by_all(idlers, "APPEND by another session", [b"* 2 EXISTS\r\n"], t)
    ok(b.select("INBOX"), "SELECT")
    t = time.monotonic()
    ok(b.store("1", "+FLAGS", "(\\Flagged)"), "STORE")
    seen_by_all(idlers, "STORE by another session",
                [b"* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n"], t)
    ok(b.store("2", "+FLAGS.SILENT", "(\\Deleted)"), "STORE")
    t = time.monotonic()
    ok(b.expunge(), "EXPUNGE")
    seen_by_all(idlers, "EXPUNGE by another session", [b"* 2 EXPUNGE\r\n"], t)
    # COPY and MOVE into INBOX from another folder, then a MOVE out of it
    ok(b.append("Archive", None, None, b"Subject: a1\r\n\r\nx\r\n"), "APPEND")
    ok(b.append("Archive", None, None, b"Subject: a2\r\n\r\ny\r\n"), "APPEND")
    ok(b.select("Archive"), "SELECT")
    t = time.monotonic()
    ok(b.copy("1", "INBOX"), "COPY")
    seen_by_all(idlers, "COPY into the idled folder", [b"* 2 EXISTS\r\n"], t)
    t = time.monotonic()
    ok(b._simple_command("MOVE", "2", "INBOX"), "MOVE")
    seen_by_all(idlers, "MOVE into the idled folder", [b"* 3 EXISTS\r\n"], t)
    ok(b.select("INBOX"), "SELECT")
    t = time.monotonic()
    ok(b.uid("MOVE", "1", "Trash"), "UID MOVE")
    seen_by_all(idlers, "MOVE out of the idled folder", [b"* 1 EXPUNGE\r\n"], t)
    for i in idlers:
        check("DONE ends IDLE", i.done() == f"{i.idle_tag} OK IDLE terminated\r\n".encode())
    # no IDLE: the changes come with the next command, EXPUNGE not during FETCH (RFC 3501 7.4.1)
    a = idlers[0]
    a.cmd("NOOP")
    deliver("second")
    ok(b.store("1", "+FLAGS.SILENT", "(\\Deleted)"), "STORE")
    ok(b.expunge(), "EXPUNGE")
    check("not idling: nothing comes unasked", a.quiet(0.5))
    lines = a.cmd("FETCH 1:* (FLAGS)")
    check("FETCH brings EXISTS and no EXPUNGE",
          b"* 3 EXISTS\r\n" in lines and not any(b"EXPUNGE" in x for x in lines), lines)
    lines = a.cmd("NOOP")
    check("NOOP brings the EXPUNGE", lines == [b"* 1 EXPUNGE\r\n"], lines)
    idlers[1].cmd("LOGOUT")
    # the UID rule across a kill -9: expunge INBOX's highest UID, MOVE Archive's highest away
    ok(b.select("INBOX"), "SELECT")
    uids = [int(x) for x in ok(b.uid("SEARCH", "ALL"), "UID SEARCH")[0].split()]
    ok(b.uid("STORE", str(uids[-1]), "+FLAGS.SILENT", "(\\Deleted)"), "UID STORE")
    ok(b.expunge(), "EXPUNGE")
    ok(b.append("Archive", None, None, b"Subject: a3\r\n\r\nz\r\n"), "APPEND")
    ok(b.select("Archive"), "SELECT")
    top = ok(b.uid("SEARCH", "ALL"), "UID SEARCH")[0].split()[-1].decode()
    ok(b.uid("MOVE", top, "Trash"), "UID MOVE")
    state = {box: uidnext(b, box) for box in ("INBOX", "Archive")}
    state["inbox_top"] = uids[-1]
    json.dump(state, open(state_file, "w"))
    ms = sorted(x * 1000 for x in latencies)
    print(f"# {len(ms)} updates seen by idlers: median {statistics.median(ms):.1f} ms, "
          f"max {ms[-1]:.1f} ms", flush=True)


def phase_restart():
    state = json.load(open(state_file))
    m = imap()
    for box in ("INBOX", "Archive"):
        now = uidnext(m, box)
        check(f"{box}: UIDNEXT and UIDVALIDITY survive the kill -9 ({now[0]}, was {state[box][0]})",
              now == tuple(state[box]), f"{now} != {state[box]}")
        dat = ok(m.append(box, None, None, b"Subject: after\r\n\r\nafter the restart\r\n"), "APPEND")
        got = re.search(rb"APPENDUID (\d+) (\d+)", dat[0])
        check(f"{box}: the next message gets UID {state[box][0]}, not one given before",
              got and int(got.group(2)) == state[box][0], dat)
    deliver("after restart")
    ok(m.select("INBOX"), "SELECT")
    uids = [int(x) for x in ok(m.uid("SEARCH", "ALL"), "UID SEARCH")[0].split()]
    check("a delivery after it gets the UID after that",
          uids[-1] == state["INBOX"][0] + 1 and state["inbox_top"] not in uids, uids)


def phase_timeouts():
    """Server with --idle-timeout 2 --imap-idle-timeout 5."""
    plain, idler = Raw("user1"), Raw("user1")
    for r in (plain, idler):
        r.cmd("SELECT INBOX")
    idler.idle()
    t0 = time.monotonic()
    bye = plain.line(8)
    t_bye = time.monotonic() - t0
    check(f"a session not in IDLE gets BYE after --idle-timeout 2 s ({t_bye:.1f} s)",
          bye and bye.startswith(b"* BYE") and 1.5 <= t_bye <= 5 and plain.line(3) == b"", bye)
    time.sleep(max(0, 3.0 - (time.monotonic() - t0)))
    m = imap()
    t1 = time.monotonic()
    ok(m.append("INBOX", None, None, b"Subject: late\r\n\r\nstill there?\r\n"), "APPEND")
    got = idler.line(BOUND)
    check("an idler outlives --idle-timeout and still gets updates",
          got is not None and got.endswith(b" EXISTS\r\n"), got)
    while got and not got.startswith(b"* BYE"):
        got = idler.line(12)
    t_bye = time.monotonic() - t1
    check(f"the idler gets BYE after --imap-idle-timeout 5 s of quiet ({t_bye:.1f} s)",
          got and got.startswith(b"* BYE") and 4.5 <= t_bye <= 10 and idler.line(3) == b"", got)


{"idle": phase_idle, "restart": phase_restart, "timeouts": phase_timeouts}[phase]()
sys.exit(1 if fails else 0)
