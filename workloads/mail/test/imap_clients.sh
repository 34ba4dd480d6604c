#!/usr/bin/env bash
# E2E: what a mail client's first screens ask for, from Python's imaplib against vcons-mail: MIME
# messages delivered over SMTP, then SEARCH / UID SEARCH (header, body, date, flag keys, OR, NOT,
# CHARSET), FETCH of ENVELOPE, BODYSTRUCTURE, BODY.PEEK[HEADER.FIELDS (...)], BODY[1.2], a part's
# MIME header and a message/rfc822 part's HEADER, each answer compared with the exact RFC 3501
# text derived by hand from the messages below; \Seen set by BODY[1.2] and not by the PEEKs; every
# response of that dialogue checked against RFC 3501's formal syntax (imap_grammar.py, whose
# self-test shows it refuses malformed responses). Then desktop_session.py replays what a desktop
# client sends on start-up, on reading a message and on sending, archiving and deleting, every
# response checked against the grammar too.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "IMAP clients on $PLATFORM"
A=127.0.3.11
SP=2526 IP=1144
D=$T_TMP/data
MAIL=$B/guest/vcons-mail

spawn_guest "$MAIL" --addr $A --smtp-port $SP --imap-port $IP --data "$D" --users 2 --threads 1 \
	>"$T_TMP/server.out" 2>"$T_TMP/server.err"
SERVER=$!
t_check "server prints ready" t_wait_ready "$T_TMP/server.out" "$SERVER" 5

# Each check prints its own TAP line ("ok - imaplib: ..."); the script's status says whether the
# dialogue ran to its end with every check passed.
python3 - "$A" "$SP" "$IP" "$TOP/workloads/mail/test" <<'PY' 2>"$T_TMP/clients.err"
import imaplib, smtplib, sys, time
a, sp, ip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[4])
import imap_grammar
CR = "\r\n"
report = CR.join([
    'From: Alice Example <alice@example.org>',
    'To: user1@vcons.test, "Bob B." <bob@example.net>',
    'Subject: Quarterly report',
    'Date: Tue, 1 Dec 2026 10:00:00 +0000',
    'Message-ID: <report-1@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="==mixed=="',
    '',
    '--==mixed==',
    'Content-Type: multipart/alternative; boundary="==alt=="',
    '',
    '--==alt==',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Numbers are up.',
    '--==alt==',
    'Content-Type: text/html; charset=us-ascii',
    '',
    '<p>Numbers are up.</p>',
    '--==alt==--',
    '--==mixed==',
    'Content-Type: application/pdf; name="q.pdf"',
    'Content-Disposition: attachment; filename="q.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--==mixed==--',
    ''])
lunch = CR.join([
    'From: bob@example.net',
    'To: user1@vcons.test',
    'Subject: lunch?',
    'Date: Wed, 2 Dec 2026 12:00:00 +0100',
    '',
    'Noon at the usual place.',
    ''])
fwd = CR.join([
    'From: carol@example.com',
    'To: user1@vcons.test',
    'Subject: Fwd: lunch?',
    'Content-Type: multipart/mixed; boundary=b1',
    '',
    '--b1',
    '',
    'See below.',
    '--b1',
    'Content-Type: message/rfc822',
    '',
    'From: bob@example.net',
    'Subject: lunch?',
    '',
    'Noon at the usual place.',
    '--b1--',
    ''])
s = smtplib.SMTP(a, sp)
for msg in (report, lunch, fwd):
    s.sendmail("t@example.org", ["user1@vcons.test"], msg)
s.quit()

fails = 0
def check(name, got, want):
    global fails
    if got == want:
        print(f"ok - imaplib: {name}")
    else:
        fails += 1
        print(f"not ok - imaplib: {name}: got {got!r}, want {want!r}")

m = imap_grammar.CheckedIMAP4(a, ip)  # keeps what the server sends, for the grammar check
m.login("user1", "user1")
typ, data = m.select("INBOX")
check("SELECT sees three messages", (typ, data), ("OK", [b"3"]))
typ, data = m.fetch("1:*", "(UID)")
uids = [int(x.split()[2].rstrip(b")")) for x in data]
check("three UIDs", len(uids), 3)

def lit(head, text):  # a literal as imaplib returns it: (b"head {n}", text)
    return (f"{head} {{{len(text)}}}".encode(), text)

def search(*crit, charset=None, uid=False):
    typ, data = m.uid("SEARCH", *crit) if uid else m.search(charset, *crit)
    return typ, data[0].decode()

check("SEARCH ALL", search("ALL"), ("OK", "1 2 3"))
check("SEARCH FROM bob", search("FROM", "bob"), ("OK", "2"))
check("SEARCH TO bob", search("TO", "bob"), ("OK", "1"))
check("SEARCH SUBJECT lunch", search("SUBJECT", "LUNCH"), ("OK", "2 3"))
check("SEARCH BODY (raw text, any part)", search("BODY", '"usual place"'), ("OK", "2 3"))
check("SEARCH TEXT (headers too)", search("TEXT", "alice"), ("OK", "1"))
check("SEARCH OR", search("OR", "FROM", "carol", "SUBJECT", "quarterly"), ("OK", "1 3"))
check("SEARCH NOT", search("NOT", "SUBJECT", "lunch"), ("OK", "1"))
check("SEARCH SENTON", search("SENTON", "2-Dec-2026"), ("OK", "2"))
check("SEARCH SENTBEFORE", search("SENTBEFORE", "2-Dec-2026"), ("OK", "1"))
today = time.strftime("%d-%b-%Y", time.gmtime())
check("SEARCH SINCE today (INTERNALDATE)", search("SINCE", today), ("OK", "1 2 3"))
check("SEARCH HEADER Message-ID", search("HEADER", "Message-ID", "report-1"), ("OK", "1"))
check("SEARCH sequence set and list", search("2:*", "(OR 1 3)"), ("OK", "3"))
check("SEARCH CHARSET UTF-8", search("SUBJECT", "lunch", charset="UTF-8"), ("OK", "2 3"))
typ, data = m.search("ISO-8859-1", "ALL")
check("SEARCH CHARSET ISO-8859-1 is NO [BADCHARSET]",
      (typ, data[0].startswith(b"[BADCHARSET (UTF-8 US-ASCII)]")), ("NO", True))
check("UID SEARCH", search("SUBJECT", "lunch", uid=True), ("OK", f"{uids[1]} {uids[2]}"))
check("UID SEARCH UID", search("UID", f"{uids[2]}:*", uid=True), ("OK", f"{uids[2]}"))
try:
    m.search(None, "FROB")
    check("SEARCH FROB is BAD", "no error", "BAD")
except imaplib.IMAP4.error as e:
    check("SEARCH FROB is BAD", "BAD" in str(e) or "syntax" in str(e), True)

alice = '(("Alice Example" NIL "alice" "example.org"))'
typ, data = m.fetch("1", "(ENVELOPE)")
check("ENVELOPE", (typ, data), ("OK", [(
    '1 (ENVELOPE ("Tue, 1 Dec 2026 10:00:00 +0000" "Quarterly report" '
    f'{alice} {alice} {alice} ((NIL NIL "user1" "vcons.test")("Bob B." NIL "bob" "example.net")) '
    'NIL NIL NIL "<report-1@example.org>"))').encode()]))
typ, data = m.fetch("1", "(BODYSTRUCTURE)")
check("BODYSTRUCTURE", (typ, data), ("OK", [(
    '1 (BODYSTRUCTURE ((('
    '"TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 15 1 NIL NIL NIL NIL)('
    '"TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 22 1 NIL NIL NIL NIL) '
    '"ALTERNATIVE" ("BOUNDARY" "==alt==") NIL NIL NIL)('
    '"APPLICATION" "PDF" ("NAME" "q.pdf") NIL NIL "BASE64" 12 NIL '
    '("ATTACHMENT" ("FILENAME" "q.pdf")) NIL NIL) '
    '"MIXED" ("BOUNDARY" "==mixed==") NIL NIL NIL))').encode()]))
typ, data = m.fetch("2", "(BODY)")
check("BODY (non-extensible)", (typ, data), ("OK", [
    b'2 (BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 26 1))']))
typ, data = m.fetch("1:2", "(BODY.PEEK[HEADER.FIELDS (From Subject)])")
check("BODY.PEEK[HEADER.FIELDS (From Subject)]", (typ, data), ("OK", [
    lit("1 (BODY[HEADER.FIELDS (FROM SUBJECT)]",
        b"From: Alice Example <alice@example.org>\r\nSubject: Quarterly report\r\n\r\n"), b")",
    lit("2 (BODY[HEADER.FIELDS (FROM SUBJECT)]",
        b"From: bob@example.net\r\nSubject: lunch?\r\n\r\n"), b")"]))
typ, data = m.fetch("1", "(BODY.PEEK[1.2.MIME])")
check("BODY.PEEK[1.2.MIME]", (typ, data), ("OK", [
    lit("1 (BODY[1.2.MIME]", b"Content-Type: text/html; charset=us-ascii\r\n\r\n"), b")"]))
typ, data = m.fetch("3", "(BODY.PEEK[2.HEADER] BODY.PEEK[2.1])")
check("message/rfc822 part: BODY[2.HEADER], BODY[2.1]", (typ, data), ("OK", [
    lit("3 (BODY[2.HEADER]", b"From: bob@example.net\r\nSubject: lunch?\r\n\r\n"),
    lit(" BODY[2.1]", b"Noon at the usual place."), b")"]))
check("PEEKs set no \\Seen", search("UNSEEN"), ("OK", "1 2 3"))
typ, data = m.fetch("1", "(BODY[1.2])")
check("BODY[1.2] sets \\Seen", (typ, data), ("OK", [
    lit("1 (FLAGS (\\Seen) BODY[1.2]", b"<p>Numbers are up.</p>"), b")"]))
check("SEARCH SEEN after it", search("SEEN"), ("OK", "1"))
# a client's first screen (Thunderbird asks this)
typ, data = m.uid("FETCH", "1:*", "(UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS "
                  "(From To Cc Bcc Subject Date Message-ID Priority X-Priority References "
                  "Newsgroups In-Reply-To Content-Type Reply-To)])")
check("a first screen's UID FETCH answers every message", (typ, sum(isinstance(x, tuple) for x in data)), ("OK", 3))
try:
    rs, lines = m.check_new()
    check(f"all {len(rs)} responses ({lines} lines) of the dialogue are in RFC 3501's grammar", True, True)
except imap_grammar.GrammarError as e:
    check("all responses of the dialogue are in RFC 3501's grammar", str(e), "no error")
m.logout()
sys.exit(1 if fails else 0)
PY
if (($? == 0)); then t_ok "the imaplib dialogue ran to its end, every check passed"; else
	t_fail "the imaplib dialogue ran to its end, every check passed" "$(tail -5 "$T_TMP/clients.err")"; fi

# The RFC 3501 grammar checker refuses malformed responses (it is what the checks below rely on),
# then a desktop client's start-up, reading and usual actions, every response checked with it.
t_tool "imap_grammar.py refuses malformed responses and accepts good ones" \
	python3 "$TOP/workloads/mail/test/imap_grammar.py" --self-test
if python3 "$TOP/workloads/mail/test/desktop_session.py" $A $SP $IP user2 2>"$T_TMP/desktop.err"; then
	t_ok "the desktop session ran to its end, every response in RFC 3501's grammar"
else
	t_fail "the desktop session ran to its end, every response in RFC 3501's grammar" "$(tail -5 "$T_TMP/desktop.err")"
fi
t_check_stop "$SERVER"
t_done
