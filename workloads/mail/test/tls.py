#!/usr/bin/env python3
"""E2E half of tls.sh: Python's imaplib and smtplib over STARTTLS and implicit TLS against
vcons-mail, and raw-socket checks of what must be refused: commands pipelined after STARTTLS (run
before the handshake, they must never run after it), AUTH in the clear, LOGIN under
LOGINDISABLED. Every message is compared with the file the server's Maildir holds. The server's
certificate is checked (its cert.pem, its IP address as the name).
usage: tls.py ADDR SMTP_PORT IMAP_PORT SMTPS_PORT IMAPS_PORT DATA_DIR default|require
Prints one TAP line per check, exits 1 if any failed."""
import glob
import imaplib
import os
import smtplib
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailconn  # noqa: E402  (the raw connection tls.py shares with malformed.py)

addr = sys.argv[1]
smtp_port, imap_port, smtps_port, imaps_port = (int(x) for x in sys.argv[2:6])
data, phase = sys.argv[6], sys.argv[7]
ctx = ssl.create_default_context(cafile=os.path.join(data, "cert.pem"))  # checks name and chain
failed = 0


def check(name, fn):
    global failed
    try:
        fn()
        print(f"ok - {name}")
    except Exception as e:  # one line per failed check, the rest go on
        failed = 1
        print(f"not ok - {name}: {type(e).__name__}: {e}")


def maildir_file(user, token):
    """The one file of user's INBOX (new/ or cur/) holding token, as bytes."""
    hits = []
    for f in glob.glob(os.path.join(data, user, "Maildir", "*", "*")):
        if os.path.basename(os.path.dirname(f)) in ("new", "cur"):
            b = open(f, "rb").read()
            if token.encode() in b:
                hits.append(b)
    assert len(hits) == 1, f"{len(hits)} files in {user}'s INBOX hold {token}"
    return hits[0]


def delivered_as(user, sender, text, token):
    """The Maildir copy is the message as sent (CRLF lines) behind one Return-Path line."""
    want = f"Return-Path: <{sender}>\r\n".encode() + text.replace("\n", "\r\n").encode()
    got = maildir_file(user, token)
    assert got == want, (got[:200], want[:200])


def fetch_all(m):
    """Every message of INBOX through m (logged in): {X-Token: bytes of BODY.PEEK[]}."""
    typ, dat = m.select("INBOX")
    assert typ == "OK", dat
    typ, dat = m.fetch("1:*", "(BODY.PEEK[])")
    assert typ == "OK", dat
    out = {}
    for item in dat:
        if isinstance(item, tuple):
            for line in item[1].split(b"\r\n"):
                if line.startswith(b"X-Token: "):
                    out[line[9:].decode()] = item[1]
    return out


def Raw(port):
    return mailconn.Conn(addr, port)


def token(name):
    return f"{name}-{time.time_ns()}"


# ---- default configuration: STARTTLS offered, LOGIN allowed in the clear ----


def inbox_equals_maildir(m):
    """user1's messages (both swaks ones at least), fetched through m, equal their files."""
    got = fetch_all(m)
    m.logout()
    assert len(got) >= 2, sorted(got)
    for t, body in got.items():
        assert body == maildir_file("user1", t), t


def imap_starttls_fetch():
    m = imaplib.IMAP4(addr, imap_port)
    assert "STARTTLS" in m.capabilities and "AUTH=PLAIN" in m.capabilities, m.capabilities
    m.starttls(ssl_context=ctx)
    assert "STARTTLS" not in m.capabilities, m.capabilities
    typ, _ = m.login("user1", "user1")
    assert typ == "OK"
    inbox_equals_maildir(m)


def imaps_authenticate_fetch():
    m = imaplib.IMAP4_SSL(addr, imaps_port, ssl_context=ctx)
    assert "STARTTLS" not in m.capabilities and "AUTH=PLAIN" in m.capabilities, m.capabilities
    typ, _ = m.authenticate("PLAIN", lambda _: b"\0user1\0user1")
    assert typ == "OK"
    inbox_equals_maildir(m)


def smtp_starttls_login():
    t = token("smtplib-starttls")
    text = f"From: a@b.test\nSubject: starttls\nX-Token: {t}\n\nover STARTTLS\n.dot\n"
    s = smtplib.SMTP(addr, smtp_port)
    s.ehlo()
    assert s.has_extn("starttls") and not s.has_extn("auth"), s.esmtp_features
    s.starttls(context=ctx)
    s.ehlo()
    assert not s.has_extn("starttls") and "PLAIN" in s.esmtp_features["auth"], s.esmtp_features
    s.login("user2", "user2")
    assert s.sendmail("a@b.test", ["user3@vcons.test"], text) == {}
    s.quit()
    delivered_as("user3", "a@b.test", text, t)


def smtps_submission():
    t = token("smtplib-smtps")
    text = f"Subject: smtps\nX-Token: {t}\n\nsubmission over TLS\n"
    s = smtplib.SMTP_SSL(addr, smtps_port, context=ctx)
    s.ehlo()
    try:
        s.sendmail("a@b.test", ["user3@vcons.test"], text)
        raise AssertionError("MAIL accepted without AUTH")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 530, e
    s.login("user2", "user2")
    assert s.sendmail("a@b.test", ["user3@vcons.test"], text) == {}
    s.quit()
    delivered_as("user3", "a@b.test", text, t)


def smtp_injection():
    t = token("injected")
    c = Raw(smtp_port)
    assert c.reply()[0] == 220
    assert c.cmd("EHLO inject.test")[0] == 250
    # one packet: STARTTLS and a whole transaction after it, sent before any handshake
    c.send(b"STARTTLS\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<user4@vcons.test>\r\nDATA\r\n"
                b"Subject: " + t.encode() + b"\r\n\r\ninjected\r\n.\r\n")
    code, text = c.reply()
    assert code == 220, text
    c.starttls(ctx, addr)
    c.quiet()
    assert c.cmd("RCPT TO:<user4@vcons.test>")[0] == 503  # no MAIL ran
    assert c.cmd("MAIL FROM:<a@b.test>")[0] == 503  # EHLO again first
    code, text = c.cmd("EHLO inject.test")
    assert code == 250 and "STARTTLS" not in text and "AUTH PLAIN LOGIN" in text, text
    assert c.cmd("QUIT")[0] == 221
    assert not glob.glob(os.path.join(data, "user4", "Maildir", "*", "*")), "delivered"


def imap_injection():
    c = Raw(imap_port)
    assert c.line().startswith("* OK")
    c.send(b"a STARTTLS\r\nb LOGIN user4 user4\r\nc SELECT INBOX\r\n")
    assert c.line() == "a OK Begin TLS negotiation now"
    c.starttls(ctx, addr)
    c.quiet()
    c.send(b"d SELECT INBOX\r\n")
    assert c.line() == "d BAD log in first"  # b never ran
    c.send(b"e LOGOUT\r\n")
    assert c.line().startswith("* BYE") and c.line().startswith("e OK")


def smtp_auth_in_clear():
    c = Raw(smtp_port)
    assert c.reply()[0] == 220
    code, text = c.cmd("EHLO clear.test")
    assert code == 250 and "AUTH" not in text and "STARTTLS" in text, text
    assert c.cmd("AUTH PLAIN AHVzZXIxAHVzZXIx")[0] == 538
    assert c.cmd("AUTH LOGIN")[0] == 538
    assert c.cmd("QUIT")[0] == 221


# ---- --require-tls: nothing secret, and no mail, in the clear ----


def imap_logindisabled():
    m = imaplib.IMAP4(addr, imap_port)
    caps = m.capabilities
    assert "LOGINDISABLED" in caps and "STARTTLS" in caps and "AUTH=PLAIN" not in caps, caps
    try:
        m.login("user1", "user1")
        raise AssertionError("LOGIN accepted in the clear")
    except imaplib.IMAP4.error as e:
        assert "PRIVACYREQUIRED" in str(e), e
    m.starttls(ssl_context=ctx)
    caps = m.capabilities
    assert "LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps, caps
    typ, _ = m.login("user1", "user1")
    assert typ == "OK"
    m.logout()


def imap_authenticate_in_clear():
    c = Raw(imap_port)
    assert c.line().startswith("* OK")
    c.send(b"a AUTHENTICATE PLAIN AHVzZXIxAHVzZXIx\r\n")
    assert c.line().startswith("a NO [PRIVACYREQUIRED]")
    c.send(b"b LOGOUT\r\n")
    assert c.line().startswith("* BYE")


def smtp_mail_needs_tls():
    t = token("required")
    text = f"Subject: required\nX-Token: {t}\n\nafter STARTTLS only\n"
    s = smtplib.SMTP(addr, smtp_port)
    try:
        s.sendmail("a@b.test", ["user5@vcons.test"], text)
        raise AssertionError("MAIL accepted in the clear")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 530, e
    s.starttls(context=ctx)
    assert s.sendmail("a@b.test", ["user5@vcons.test"], text) == {}
    s.quit()
    delivered_as("user5", "a@b.test", text, t)


checks = {
    "default": [
        ("imaplib STARTTLS: capabilities change, LOGIN, every message equals its Maildir file",
         imap_starttls_fetch),
        ("imaplib IMAP4_SSL: AUTHENTICATE PLAIN, every message equals its Maildir file",
         imaps_authenticate_fetch),
        ("smtplib STARTTLS + login: EHLO changes, delivered as sent", smtp_starttls_login),
        ("smtplib SMTP_SSL submission: 530 before AUTH, delivered after", smtps_submission),
        ("SMTP: a transaction pipelined after STARTTLS is dropped, not run after the handshake",
         smtp_injection),
        ("IMAP: a LOGIN pipelined after STARTTLS is dropped, not run after the handshake",
         imap_injection),
        ("SMTP: no AUTH in the clear (not offered; 538)", smtp_auth_in_clear),
    ],
    "require": [
        ("--require-tls: LOGINDISABLED, LOGIN refused, allowed after STARTTLS", imap_logindisabled),
        ("--require-tls: AUTHENTICATE refused in the clear", imap_authenticate_in_clear),
        ("--require-tls: SMTP MAIL 530 in the clear, delivered after STARTTLS",
         smtp_mail_needs_tls),
    ],
}
for name, fn in checks[phase]:
    check(name, fn)
sys.exit(failed)
