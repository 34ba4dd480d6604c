#!/usr/bin/env python3
"""Malformed-protocol checks for vcons-mail, speaking raw SMTP and IMAP over sockets.
Usage: malformed.py ADDR SMTP_PORT IMAP_PORT MAX_SIZE IDLE_TIMEOUT_S. Prints one TAP line per check ("ok - ..." /
"not ok - ..."), exits 1 if any failed. Each check reads the server's real reply code."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailconn  # noqa: E402  (the raw connection these checks share with tls.py)

addr, smtp_port, imap_port, max_size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
idle = int(sys.argv[5])
failed = 0


def check(name, cond, why=""):
    global failed
    if cond:
        print(f"ok - {name}")
    else:
        failed = 1
        print(f"not ok - {name}: {why}")


def Conn(port):
    return mailconn.Conn(addr, port)


def smtp(greet=True):
    c = Conn(smtp_port)
    code, _ = c.reply()
    assert code == 220
    if greet:
        c.cmd("EHLO test.example")
    return c


# ---- SMTP ----
c = Conn(smtp_port)
code, text = c.reply()
check("smtp greeting 220", code == 220, text)
code, _ = c.cmd("MAIL FROM:<a@b.c>")
check("smtp MAIL before EHLO is 503", code == 503, code)
code, text = c.cmd("EHLO test.example")
check("smtp EHLO advertises SIZE", code == 250 and f"SIZE {max_size}" in text, text)
code, _ = c.cmd("FROBNICATE now")
check("smtp unknown command is 500", code == 500, code)
code, _ = c.cmd("VRFY user1")
check("smtp VRFY (not implemented) is 502", code == 502, code)
code, _ = c.cmd("MAIL FROM:a@b.c")
check("smtp MAIL without <> is 501", code == 501, code)
code, _ = c.cmd("RCPT TO:<user1@vcons.test>")
check("smtp RCPT before MAIL is 503", code == 503, code)
code, _ = c.cmd("NOOP " + "x" * 600)
check("smtp 600-byte command line is 500", code == 500, code)
code, _ = c.cmd("NOOP")
check("smtp keeps going after an over-long line", code == 250, code)
code, _ = c.cmd(f"MAIL FROM:<a@b.c> SIZE={max_size + 1}")
check("smtp MAIL SIZE over the limit is 552", code == 552, code)
code, _ = c.cmd("MAIL FROM:<a@b.c>")
check("smtp MAIL FROM is 250", code == 250, code)
code, _ = c.cmd("DATA")
check("smtp DATA without recipients is 554 or 503", code in (503, 554), code)
code, _ = c.cmd("RCPT TO:<nobody@vcons.test>")
check("smtp unknown recipient is 550", code == 550, code)
code, _ = c.cmd("RCPT TO:<user1@example.org>")
check("smtp recipient in another domain is 550 (no relaying)", code == 550, code)
code, _ = c.cmd("RCPT TO:<Postmaster>")
check("smtp RCPT TO:<Postmaster> is accepted (RFC 5321 4.5.1)", code == 250, code)
c.cmd("RSET")
c.cmd("MAIL FROM:<a@b.c>")
code, _ = c.cmd("RCPT TO:<user9999@vcons.test>")
check("smtp recipient beyond --users is 550", code == 550, code)
code, _ = c.cmd("MAIL FROM:<a@b.c>")
check("smtp nested MAIL is 503", code == 503, code)
code, _ = c.cmd("RCPT TO:<user4@vcons.test>")
check("smtp RCPT is 250", code == 250, code)
code, _ = c.cmd("DATA")
check("smtp DATA is 354", code == 354, code)
c.send(b"Subject: too long line\r\n\r\n" + b"y" * 1200 + b"\r\n.\r\n")
code, _ = c.reply()
check("smtp 1200-byte text line rejects the message with 500", code == 500, code)
c.cmd("MAIL FROM:<a@b.c>")
c.cmd("RCPT TO:<user4@vcons.test>")
c.cmd("DATA")
chunk = b"z" * 998 + b"\r\n"
big = chunk * (max_size // len(chunk) + 10)
c.send(b"Subject: too big\r\n\r\n" + big + b".\r\n")
code, _ = c.reply()
check("smtp message over the size limit is 552", code == 552, code)
code, _ = c.cmd("RSET")
check("smtp RSET is 250", code == 250, code)
code, _ = c.cmd("QUIT")
check("smtp QUIT is 221", code == 221, code)
c.close()

# A client that vanishes in the middle of DATA while another one is served.
v = smtp()
v.cmd("MAIL FROM:<a@b.c>")
v.cmd("RCPT TO:<user4@vcons.test>")
v.cmd("DATA")
v.send(b"Subject: vanished\r\n\r\nthis message is never finished\r\n")
o = smtp()
o.cmd("MAIL FROM:<a@b.c>")
o.cmd("RCPT TO:<user5@vcons.test>")
o.cmd("DATA")
o.send(b"Subject: other\r\n\r\n..stuffed line\r\nserved while another client hangs in DATA\r\n.\r\n")
code, _ = o.reply()
check("smtp another client is served while one hangs in DATA", code == 250, code)
o.cmd("QUIT")
o.close()
v.s.shutdown(socket.SHUT_RDWR)
v.close()

# ---- IMAP ----
c = Conn(imap_port)
greet = c.line()
check("imap greeting * OK", greet.startswith("* OK"), greet)
c.send(b"a1 FROB\r\n")
l, _ = c.tagged("a1")
check("imap unknown command is BAD", l.startswith("a1 BAD"), l)
c.send(b"a2 SELECT INBOX\r\n")
l, _ = c.tagged("a2")
check("imap SELECT before LOGIN is refused", l.startswith("a2 BAD") or l.startswith("a2 NO"), l)
c.send(b"a3 LOGIN {abc}\r\n")
l, _ = c.tagged("a3")
check("imap malformed literal {abc} is BAD", l.startswith("a3 BAD"), l)
c.send(b"a4 LOGIN {99999999999}\r\n")
l, _ = c.tagged("a4")
check("imap over-large literal is BAD", l.startswith("a4 BAD"), l)
c.send(b"a5 NOOP " + b"x" * 10000 + b"\r\n")
l = c.line()
check("imap over-long line is BAD", " BAD " in l, l)
c.send(b"a6 LOGIN user5 wrong\r\n")
l, _ = c.tagged("a6")
check("imap wrong password is NO", l.startswith("a6 NO"), l)
c.send(b"a7 LOGIN {5}\r\n")
cont = c.line()
check("imap synchronising literal gets a + continuation", cont.startswith("+"), cont)
c.send(b"user5 {5+}\r\nuser5\r\n")
l, _ = c.tagged("a7")
check("imap LOGIN with a literal and a LITERAL+ literal is OK", l.startswith("a7 OK"), l)
c.send(b"a8 FETCH 1 (BODY[])\r\n")
l, _ = c.tagged("a8")
check("imap FETCH before SELECT is BAD", l.startswith("a8 BAD"), l)
c.send(b"a9 SELECT INBOX\r\n")
l, u = c.tagged("a9")
exists = [x for x in u if x.endswith(" EXISTS")]
check("imap SELECT INBOX shows exactly the one delivered message", l.startswith("a9 OK") and exists == ["* 1 EXISTS"], u)
c.send(b"b1 FETCH 1 (FLAGS BINARY[1])\r\n")
l, _ = c.tagged("b1")
check("imap unsupported FETCH attribute is BAD", l.startswith("b1 BAD"), l)
c.send(b"b2 FETCH 7 (FLAGS)\r\n")
l, _ = c.tagged("b2")
check("imap FETCH of a missing sequence number is BAD", l.startswith("b2 BAD"), l)
c.send(b"b3 STORE 1 +FLAGS (\\Bogus)\r\n")
l, _ = c.tagged("b3")
check("imap STORE of an unknown system flag is BAD", l.startswith("b3 BAD"), l)
c.send(b"b4 LOGOUT\r\n")
l, u = c.tagged("b4")
check("imap LOGOUT says BYE then OK", l.startswith("b4 OK") and any(x.startswith("* BYE") for x in u), l)
c.close()

# An IMAP client that vanishes inside a literal; the server goes on serving.
v = Conn(imap_port)
v.line()
v.send(b"x1 LOGIN {20}\r\n")
v.line()
v.send(b"user")
v.close()
c = Conn(imap_port)
c.line()
c.send(b"y1 LOGIN user5 user5\r\ny2 CAPABILITY\r\n")
l, _ = c.tagged("y1")
l2, u = c.tagged("y2")
check("imap serves others after a client vanished in a literal",
      l.startswith("y1 OK") and l2.startswith("y2 OK") and "IMAP4rev1" in u[0], (l, l2, u))
c.close()

# Clients that go silent (one in the middle of DATA) are told goodbye after the idle timeout.
v = smtp()
v.cmd("MAIL FROM:<a@b.c>")
v.cmd("RCPT TO:<user4@vcons.test>")
v.cmd("DATA")
v.send(b"Subject: silent\r\n\r\nhalf a li")
w = Conn(imap_port)
w.line()
t0 = time.monotonic()
v.s.settimeout(idle + 5)
w.s.settimeout(idle + 5)
try:
    code, text = v.reply()
except Exception as e:  # noqa: BLE001
    code, text = None, repr(e)
took = time.monotonic() - t0
check("smtp client silent in DATA gets 421 after the idle timeout", code == 421 and took >= idle - 0.5, (code, text, took))
try:
    l = w.line()
except Exception as e:  # noqa: BLE001
    l = repr(e)
check("imap idle client gets * BYE after the idle timeout", l.startswith("* BYE"), l)
try:
    closed = v.s.recv(1) == b"" and w.s.recv(1) == b""
except Exception:  # noqa: BLE001
    closed = False
check("timed-out connections are closed", closed)
sys.exit(failed)
