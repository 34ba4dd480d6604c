#!/usr/bin/env python3
"""E2E half of imap_clients.sh: the commands a desktop mail client (Thunderbird, Apple Mail,
Evolution) sends on start-up, on reading a message and on the usual actions after it (send: APPEND
to Sent; archive, delete to Trash, expunge), replayed with Python's imaplib against a fresh mailbox
of five messages delivered over SMTP. Every byte the server sends back is checked against RFC
3501's grammar (imap_grammar.py), and each command's status and the responses it must bring.
One TAP line per command.
usage: desktop_session.py ADDR SMTP_PORT IMAP_PORT USER   (USER's mailbox must be empty)"""
import os
import re
import smtplib
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imap_grammar  # noqa: E402

CRLF = "\r\n"
# The mailbox: UIDs 1..5 in this order.
REPORT = CRLF.join([  # 1: multipart/mixed, a text part and an attachment
    'From: "Smith, J. \\"Jay\\"" <jay@example.com>', "To: {user}@vcons.test", "Cc: team@example.com",
    "Subject: Quarterly report", "Date: Tue, 1 Dec 2026 10:00:00 +0000", "Message-ID: <report@example.com>",
    "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
    "Content-Type: text/plain; charset=us-ascii", "", "Numbers are up.", "--b1",
    'Content-Type: application/pdf; name="q.pdf"', "Content-Transfer-Encoding: base64",
    'Content-Disposition: attachment; filename="q.pdf"', "", "JVBERi0xLjQKJcfs", "--b1--", ""])
PLAIN = CRLF.join([  # 2: one text part
    "From: bob@example.net", "To: {user}@vcons.test", "Subject: lunch?", "Date: Wed, 2 Dec 2026 12:00:00 +0100",
    "Message-ID: <lunch@example.net>", "", "Noon at the usual place.", ""])
UTF8 = CRLF.join([  # 3: raw UTF-8 in the header (8BITMIME): an ENVELOPE string must be a literal
    "From: =?utf-8?q?Ren=C3=A9?= <rene@example.fr>", "To: {user}@vcons.test", "Subject: caf\u00e9 cr\u00e8me",
    "Message-ID: <cafe@example.fr>", "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit", "", "d\u00e9j\u00e0 vu", ""])
FWD = CRLF.join([  # 4: a forwarded message (message/rfc822)
    "From: carol@example.com", "To: {user}@vcons.test", "Subject: Fwd: lunch?", "Message-ID: <fwd@example.com>",
    "Content-Type: multipart/mixed; boundary=f", "", "--f", "", "See below.", "--f",
    "Content-Type: message/rfc822", "", "From: bob@example.net", "Subject: lunch?", "", "Noon.", "--f--", ""])
BIG = CRLF.join([  # 5: 26 KB, fetched in 10 KiB pieces as Thunderbird does
    "From: news@example.org", "To: {user}@vcons.test", "Subject: newsletter", "Message-ID: <big@example.org>", ""]
    + ["%04d %s" % (i, "news " * 12) for i in range(400)] + [""])
REPLY = CRLF.join(["From: {user}@vcons.test", "To: bob@example.net", "Subject: Re: lunch?",
                   "Message-ID: <reply@vcons.test>", "", "Yes.", ""])
DRAFT = CRLF.join(["From: {user}@vcons.test", "Subject: unfinished", "", "...", ""])

HEADERS = ("From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups "
           "In-Reply-To Content-Type Reply-To")
# (what the client sends, the status it expects, what the server's answer must contain: regexes)
SESSION = [
    # start-up
    ("CAPABILITY", "OK", [r"\* CAPABILITY IMAP4rev1 .*UIDPLUS"]),
    ("LOGIN {user} {user}", "OK", []),
    ("NAMESPACE", "OK", [r'\* NAMESPACE \(\(""']),
    ("ENABLE UTF8=ACCEPT", "OK", [r"\* ENABLED"]),
    ('LIST "" "*"', "OK", [r'\* LIST \([^)]*\) "\." "?INBOX', r'\\Sent[^)]*\) "\." "?Sent', r'\\Trash[^)]*\) "\." "?Trash']),
    ('LSUB "" "*"', "OK", [r'\* LSUB \(.*\) "\." "?INBOX']),
    ('STATUS "Sent" (UIDNEXT MESSAGES UNSEEN RECENT)', "OK", [r'\* STATUS "?Sent"? \(']),
    ('SELECT "INBOX"', "OK", [r"\* FLAGS \(", r"\* 5 EXISTS", r"\* 0 RECENT", r"\[UIDVALIDITY \d+\]",
                             r"\[UIDNEXT 6\]", r"\[PERMANENTFLAGS \(", r"\[READ-WRITE\]"]),
    ("UID FETCH 1:* (FLAGS)", "OK", [r"\* 5 FETCH \((FLAGS \(\) UID 5|UID 5 FLAGS \(\))\)"]),
    (f"UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS ({HEADERS})])", "OK",
     [r"BODY\[HEADER\.FIELDS \(FROM TO CC"]),
    ("UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)", "OK",
     [r'\* 3 FETCH .*ENVELOPE \(NIL \{\d+\}\r\ncaf', r'"Smith, J\. \\"Jay\\""', r'"MESSAGE" "RFC822"']),
    ("UID SEARCH UNSEEN", "OK", [r"\* SEARCH 1 2 3 4 5\r\n"]),
    ("UID SEARCH 1:* NOT DELETED", "OK", [r"\* SEARCH 1 2 3 4 5\r\n"]),
    ("NOOP", "OK", []),
    # reading message 1: structure, then header and text part, then a look at the attachment
    ("UID FETCH 1 (UID RFC822.SIZE BODYSTRUCTURE)", "OK", [r'"APPLICATION" "PDF"']),
    ("UID FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[1.MIME] BODY.PEEK[1])", "OK",
     [r"BODY\[1\] \{15\}\r\nNumbers are up\."]),
    ("UID FETCH 1 (BODY.PEEK[2]<0.8>)", "OK", [r"BODY\[2\]<0> \{8\}\r\nJVBERi0x"]),
    ("UID STORE 1 +FLAGS (\\Seen)", "OK", [r"\* 1 FETCH \(.*FLAGS \(\\Seen\)"]),
    # the large one in pieces; the forwarded one's inner message; a non-PEEK fetch sets \Seen
    ("UID FETCH 5 (UID RFC822.SIZE BODY.PEEK[]<0.10240>)", "OK", [r"BODY\[\]<0> \{10240\}"]),
    ("UID FETCH 5 (BODY.PEEK[]<10240.10240>)", "OK", [r"BODY\[\]<10240> \{10240\}"]),
    ("UID FETCH 4 (BODY.PEEK[2.HEADER] BODY.PEEK[2.1])", "OK", [r"BODY\[2\.1\] \{5\}\r\nNoon\."]),
    ("UID FETCH 2 (BODY[TEXT])", "OK", [r"FLAGS \(\\Seen\)"]),
    ("UID SEARCH UNSEEN", "OK", [r"\* SEARCH 3 4 5\r\n"]),
    ("NOOP", "OK", []),
    # sending a reply (its copy to Sent), saving a draft, archiving, deleting to Trash
    ('APPEND "Sent" (\\Seen) "02-Dec-2026 12:05:00 +0100" {REPLY}', "OK", [r"\[APPENDUID \d+ 1\]"]),
    ('APPEND "Drafts" (\\Draft) {DRAFT}', "OK", [r"\[APPENDUID \d+ 1\]"]),
    ('UID COPY 1 "Archive"', "OK", [r"\[COPYUID \d+ 1 1\]"]),
    ('UID COPY 1 "No such folder"', "NO", [r"NO \[TRYCREATE\]"]),
    ('UID MOVE 2 "Trash"', "OK", [r"\* OK \[COPYUID \d+ 2 1\]", r"\* 2 EXPUNGE"]),
    ('STATUS "Trash" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)', "OK", [r"MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0"]),
    ("UID STORE 3 +FLAGS.SILENT (\\Deleted)", "OK", []),
    ("UID EXPUNGE 3", "OK", [r"\* 2 EXPUNGE"]),
    ("UID FETCH 1:* (FROB)", "BAD", []),
    ('EXAMINE "Archive"', "OK", [r"\[READ-ONLY\]", r"\* 1 EXISTS"]),
    ("UID FETCH 1:* (UID FLAGS ENVELOPE)", "OK", [r"\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) ENVELOPE"]),
    ('SELECT "INBOX"', "OK", [r"\* 3 EXISTS"]),
    ("CLOSE", "OK", []),
    ("LOGOUT", "OK", [r"\* BYE "]),
]


def deliver(addr, port, user):
    s = smtplib.SMTP(addr, port)
    for msg in (REPORT, PLAIN, UTF8, FWD, BIG):
        s.sendmail("sender@example.org", [f"{user}@vcons.test"], msg.format(user=user).encode())
    s.quit()


def send(m, line, user):
    """Sends one line of SESSION through imaplib; (status, data). imaplib's own methods where it
    keeps state (LOGIN, SELECT, EXAMINE, CLOSE) or sends a literal (APPEND). LOGOUT is sent and
    read to its tagged response here: imaplib's logout() stops reading at the BYE."""
    verb, _, rest = line.partition(" ")
    try:
        if verb == "LOGIN":
            return m.login(user, user)
        if verb in ("SELECT", "EXAMINE"):
            return m.select(rest, readonly=verb == "EXAMINE")
        if verb == "CLOSE":
            return m.close()
        if verb == "LOGOUT":
            m.send(b"z1 LOGOUT\r\n")
            while (r := m.readline()) and not r.startswith(b"z1 "):
                pass
            m.shutdown()
            return (r.split(b" ")[1].decode() if r else "no answer"), [r]
        if verb == "APPEND":
            box, flags, date, name = re.fullmatch(r'(\S+) (\(.*?\))(?: (".*?"))? \{(\w+)\}', rest).groups()
            return m.append(box, flags, date, globals()[name].format(user=user).encode())
        return m._simple_command(verb, rest) if rest else m._simple_command(verb)
    except imaplib_error as e:  # BAD (and NO where imaplib raises)
        return ("BAD" if "BAD" in str(e) or "syntax" in str(e).lower() else "NO"), [str(e)]


imaplib_error = imap_grammar.imaplib.IMAP4.error


def main():
    addr, smtp_port, imap_port, user = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    deliver(addr, smtp_port, user)
    m = imap_grammar.CheckedIMAP4(addr, imap_port)
    fails = responses = lines = 0
    try:
        _, lines = m.check_new()  # the greeting
        print("ok - desktop session: the greeting is RFC 3501")
    except imap_grammar.GrammarError as e:
        fails += 1
        print(f"not ok - desktop session: the greeting: {e}")
    for line, want, musts in SESSION:
        line = line.format(user=user) if line.startswith("LOGIN") else line
        start = len(m.received)
        typ, _ = send(m, line, user)
        got = bytes(m.received[start:]).decode("utf-8", "replace")
        problems = [] if typ == want else [f"status {typ}, want {want}"]
        problems += [f"no match for {r!r}" for r in musts if not re.search(r, got)]
        try:
            rs, ls = m.check_new()
            responses += len(rs)
            lines += ls
        except imap_grammar.GrammarError as e:
            problems.append(f"grammar: {e}")
        if problems:
            fails += 1
            print(f"not ok - desktop session: C: {line[:70]}: " + "; ".join(problems))
            print("# server sent: " + got[:600].replace("\r\n", "\n# "))
        else:
            print(f"ok - desktop session: C: {line[:70]} -> {typ}, {len(rs)} responses in RFC 3501 grammar")
    print(f"# desktop session: {len(SESSION)} commands, {responses} responses, {lines} lines checked, "
          f"{fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
