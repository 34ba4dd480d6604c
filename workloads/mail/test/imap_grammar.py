#!/usr/bin/env python3
"""A validator of IMAP server responses against the formal syntax of RFC 3501 section 9, with the
extensions vcons-mail speaks: UIDPLUS's APPENDUID/COPYUID codes (RFC 4315), NAMESPACE (RFC 2342),
ENABLED (RFC 5161). A recursive-descent parser, one method per production, named as in the RFC
(response_data for response-data, ...), over the bytes the server sent, literals included.

It is stricter than the ABNF in two places, both said in RFC 3501's prose: a response code the RFC
defines (UIDNEXT, PERMANENTFLAGS, ...) must have its own syntax (the catch-all `atom [SP text]` is
for codes this grammar does not know), and BODY (non-extensible) carries no extension data.

  check_stream(data, greeting=False) -> [summary per response]   (raises GrammarError)
  CheckedIMAP4: imaplib.IMAP4 that keeps every byte it reads; check_new() validates the bytes
      received since the last call.
usage: imap_grammar.py --self-test      (good responses accepted, malformed ones refused)
       imap_grammar.py FILE             (a capture of what a server sent, from its greeting)
"""
import imaplib
import sys

CR, LF, SP, DQ, BS = 13, 10, 32, 34, 92
ATOM_SPECIALS = set(b'(){ %*"\\]')
MONTHS = {m.encode() for m in "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()}
STATUS_ATTS = {b"MESSAGES", b"RECENT", b"UIDNEXT", b"UIDVALIDITY", b"UNSEEN"}
LIST_SFLAGS = {b"\\NOSELECT", b"\\MARKED", b"\\UNMARKED"}


def is_atom_char(c):  # ATOM-CHAR: any CHAR (%x01-7F) except atom-specials (CTL among them)
    return 0x20 < c < 0x7F and c not in ATOM_SPECIALS


def is_text_char(c):  # TEXT-CHAR: any CHAR except CR and LF
    return 0x01 <= c <= 0x7F and c not in (CR, LF)


class GrammarError(Exception):
    def __init__(self, data, pos, what):
        start = data.rfind(b"\r\n", 0, pos) + 2 if data.rfind(b"\r\n", 0, pos) >= 0 else 0
        end = data.find(b"\r\n", pos)
        line = data[start:end if end >= 0 else len(data)]
        super().__init__(f"{what} at byte {pos - start} of {bytes(line[:300])!r}")


class Parser:
    def __init__(self, data):
        self.d, self.p = bytes(data), 0

    # ---- primitives ----
    def fail(self, what):
        raise GrammarError(self.d, self.p, what)

    def peek(self):
        return self.d[self.p] if self.p < len(self.d) else -1

    def at(self, word):  # keywords are case-insensitive (RFC 3501 9, note 1)
        return self.d[self.p:self.p + len(word)].upper() == word

    def take(self, word):
        if self.at(word):
            self.p += len(word)
            return True
        return False

    def expect(self, word):
        if not self.take(word):
            self.fail(f"expected {word.decode()!r}")

    def sp(self):
        self.expect(b" ")

    def crlf(self):
        self.expect(b"\r\n")

    def digits(self):
        s = self.p
        while 0x30 <= self.peek() <= 0x39:
            self.p += 1
        return self.d[s:self.p]

    def number(self):  # 1*DIGIT, an unsigned 32-bit integer
        ds = self.digits()
        if not ds or int(ds) >= 1 << 32:
            self.fail("expected a number (32 bits)")
        return int(ds)

    def nz_number(self):  # digit-nz *DIGIT
        if self.peek() == 0x30:
            self.fail("expected a non-zero number")
        return self.number()

    def atom(self):
        s = self.p
        while is_atom_char(self.peek()):
            self.p += 1
        if s == self.p:
            self.fail("expected an atom")
        return self.d[s:self.p]

    def quoted(self):  # DQUOTE *QUOTED-CHAR DQUOTE
        self.expect(b'"')
        out = bytearray()
        while self.peek() != DQ:
            c = self.peek()
            if c == BS:
                self.p += 1
                if self.peek() not in (DQ, BS):
                    self.fail("a backslash in a quoted string escapes only \" and \\")
            elif not is_text_char(c):
                self.fail(f"byte {c:#x} in a quoted string (8-bit, CR, LF and NUL need a literal)")
            out.append(self.peek())
            self.p += 1
        self.p += 1
        return bytes(out)

    def literal(self):  # "{" number "}" CRLF *CHAR8 (CHAR8: any byte but NUL)
        self.expect(b"{")
        n = self.number()
        self.expect(b"}")
        self.crlf()
        if self.p + n > len(self.d):
            self.fail(f"a literal of {n} bytes runs past the end of the data")
        if 0 in self.d[self.p:self.p + n]:
            self.fail("NUL in a literal")
        self.p += n
        return self.d[self.p - n:self.p]

    def string(self):
        return self.literal() if self.peek() == ord("{") else self.quoted()

    def nil(self):
        return self.take(b"NIL")

    def nstring(self):
        return None if self.nil() else self.string()

    def astring(self):  # 1*ASTRING-CHAR / string
        if self.peek() in (DQ, ord("{")):
            return self.string()
        s = self.p
        while is_atom_char(self.peek()) or self.peek() == ord("]"):
            self.p += 1
        if s == self.p:
            self.fail("expected an astring")
        return self.d[s:self.p]

    def text(self):  # 1*TEXT-CHAR
        s = self.p
        while is_text_char(self.peek()):
            self.p += 1
        if s == self.p:
            self.fail("expected text (RFC 3501: 1*TEXT-CHAR)")

    def parens(self, item, empty_ok=True):  # "(" [item *(SP item)] ")"
        self.expect(b"(")
        out = []
        if self.peek() != ord(")") or not empty_ok:
            out.append(item())
            while self.take(b" "):
                out.append(item())
        self.expect(b")")
        return out

    # ---- responses ----
    def response(self):
        """One continue-req, response-data, response-tagged or response-fatal; its summary."""
        if self.take(b"+"):  # continue-req: "+" SP (resp-text / base64) CRLF
            self.sp()
            if not self.at(b"\r\n"):  # base64 may be empty
                self.resp_text()
            self.crlf()
            return "+"
        if self.take(b"* "):
            kind = self.response_data()
            self.crlf()
            return "* " + kind
        tag = self.tag()
        self.sp()
        status = self.resp_cond_state()
        self.crlf()
        return f"{tag} {status}"

    def greeting(self):
        self.expect(b"* ")
        if not (self.take(b"OK ") or self.take(b"PREAUTH ") or self.take(b"BYE ")):
            self.fail("a greeting is * OK, * PREAUTH or * BYE")
        self.resp_text()
        self.crlf()

    def tag(self):  # 1*<any ASTRING-CHAR except "+">
        s = self.p
        while (is_atom_char(self.peek()) or self.peek() == ord("]")) and self.peek() != ord("+"):
            self.p += 1
        if s == self.p:
            self.fail("expected a tag, * or +")
        return self.d[s:self.p].decode()

    def resp_cond_state(self):
        for st in (b"OK", b"NO", b"BAD"):
            if self.take(st + b" "):
                self.resp_text()
                return st.decode()
        self.fail("expected OK, NO or BAD and a space")

    def resp_text(self):  # ["[" resp-text-code "]" SP] text
        if self.take(b"["):
            self.resp_text_code()
            self.expect(b"]")
            self.sp()
        self.text()

    def resp_text_code(self):
        code = self.atom().upper()
        if code in (b"ALERT", b"PARSE", b"READ-ONLY", b"READ-WRITE", b"TRYCREATE", b"UIDNOTSTICKY"):
            return
        if code == b"BADCHARSET":
            if self.take(b" "):
                self.parens(self.astring, empty_ok=False)
        elif code == b"CAPABILITY":
            self.p -= len(code)
            self.capability_data()
        elif code == b"PERMANENTFLAGS":
            self.sp()
            self.parens(lambda: self.flag(perm=True))
        elif code in (b"UIDNEXT", b"UIDVALIDITY", b"UNSEEN"):
            self.sp()
            self.nz_number()
        elif code == b"APPENDUID":  # RFC 4315: nz-number SP append-uid
            self.sp()
            self.nz_number()
            self.sp()
            self.uid_set()
        elif code == b"COPYUID":  # RFC 4315: nz-number SP uid-set SP uid-set
            self.sp()
            self.nz_number()
            self.sp()
            self.uid_set()
            self.sp()
            self.uid_set()
        elif self.take(b" "):  # atom [SP 1*<any TEXT-CHAR except "]">]
            s = self.p
            while is_text_char(self.peek()) and self.peek() != ord("]"):
                self.p += 1
            if s == self.p:
                self.fail("expected the response code's text")

    def uid_set(self):  # (uniqueid / uid-range) *("," uid-set)
        while True:
            self.nz_number()
            if self.take(b":"):
                self.nz_number()
            if not self.take(b","):
                return

    def capability_data(self):  # "CAPABILITY" *(SP capability) SP "IMAP4rev1" *(SP capability)
        self.expect(b"CAPABILITY")
        caps = []
        while self.take(b" "):
            caps.append(self.atom().upper())  # capability: "AUTH=" auth-type / atom, atoms both
        if b"IMAP4REV1" not in caps:
            self.fail("a CAPABILITY list without IMAP4rev1")
        return "CAPABILITY"

    def response_data(self):
        """resp-cond-state / resp-cond-bye / mailbox-data / message-data / capability-data /
        namespace-response (RFC 2342) / enable-data (RFC 5161); the response's name."""
        if self.take(b"BYE "):
            self.resp_text()
            return "BYE"
        if self.at(b"OK ") or self.at(b"NO ") or self.at(b"BAD "):
            return self.resp_cond_state()
        if 0x30 <= self.peek() <= 0x39:
            return self.message_data()
        if self.at(b"CAPABILITY"):
            return self.capability_data()
        if self.take(b"FLAGS "):
            self.parens(self.flag)
            return "FLAGS"
        for kw in (b"LIST ", b"LSUB "):
            if self.take(kw):
                self.mailbox_list()
                return kw.decode().strip()
        if self.take(b"SEARCH"):
            while self.take(b" "):
                self.nz_number()
            return "SEARCH"
        if self.take(b"STATUS "):
            self.mailbox()
            self.sp()
            self.parens(self.status_att)
            return "STATUS"
        if self.take(b"NAMESPACE "):
            for i in range(3):
                if i:
                    self.sp()
                self.namespace()
            return "NAMESPACE"
        if self.take(b"ENABLED"):
            while self.take(b" "):
                self.atom()
            return "ENABLED"
        self.fail("not a response RFC 3501 (or UIDPLUS, NAMESPACE, ENABLE) defines")

    def message_data(self):  # number SP ("EXISTS" / "RECENT") / nz-number SP ("EXPUNGE" / "FETCH" SP msg-att)
        nz = self.peek() != 0x30
        self.number()
        self.sp()
        for kw in (b"EXISTS", b"RECENT"):
            if self.take(kw):
                return kw.decode()
        if not nz:
            self.fail("EXPUNGE and FETCH take a non-zero message number")
        if self.take(b"EXPUNGE"):
            return "EXPUNGE"
        self.expect(b"FETCH ")
        self.parens(self.msg_att_item, empty_ok=False)
        return "FETCH"

    def flag(self, perm=False):  # "\" atom (system flags, \Recent, flag-extension) / atom (keyword)
        if self.take(b"\\"):
            if perm and self.take(b"*"):
                return b"\\*"
            return b"\\" + self.atom()
        return self.atom()

    def status_att(self):  # status-att SP number
        att = self.atom().upper()
        if att not in STATUS_ATTS:
            self.fail(f"{att.decode()} is no STATUS attribute")
        self.sp()
        self.number()

    def mailbox(self):  # "INBOX" / astring
        return self.astring()

    def mailbox_list(self):  # "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
        flags = [f.upper() for f in self.parens(self.list_flag)]
        if len([f for f in flags if f in LIST_SFLAGS]) > 1:
            self.fail("more than one of \\Noselect \\Marked \\Unmarked")
        self.sp()
        if not self.nil() and len(self.quoted()) != 1:
            self.fail("the hierarchy delimiter is one character")
        self.sp()
        self.mailbox()

    def list_flag(self):  # mbx-list-oflag / mbx-list-sflag: "\" atom, all of them
        self.expect(b"\\")
        return b"\\" + self.atom()

    def namespace(self):  # RFC 2342: nil / "(" 1*( "(" string SP (DQUOTE QUOTED_CHAR DQUOTE / nil) *ext ")" ) ")"
        if self.nil():
            return
        self.expect(b"(")
        while True:
            self.expect(b"(")
            self.string()
            self.sp()
            if not self.nil() and len(self.quoted()) != 1:
                self.fail("a namespace delimiter is one character")
            while self.take(b" "):  # Namespace_Response_Extension: SP string SP "(" string *(SP string) ")"
                self.string()
                self.sp()
                self.parens(self.string, empty_ok=False)
            self.expect(b")")
            if self.take(b")"):
                return

    # ---- msg-att ----
    def msg_att_item(self):
        if self.take(b"FLAGS "):
            self.parens(self.flag)  # flag-fetch
        elif self.take(b"ENVELOPE "):
            self.envelope()
        elif self.take(b"INTERNALDATE "):
            self.date_time()
        elif self.take(b"RFC822.SIZE "):
            self.number()
        elif self.take(b"RFC822.HEADER ") or self.take(b"RFC822.TEXT ") or self.take(b"RFC822 "):
            self.nstring()
        elif self.take(b"BODYSTRUCTURE "):
            self.body(ext_allowed=True)
        elif self.at(b"BODY["):
            self.p += 4
            self.section()
            if self.take(b"<"):
                self.number()
                self.expect(b">")
            self.sp()
            self.nstring()
        elif self.take(b"BODY "):
            self.body(ext_allowed=False)
        elif self.take(b"UID "):
            self.nz_number()
        else:
            self.fail("not a message attribute")

    def date_time(self):  # DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
        self.expect(b'"')
        if not (self.take(b" ") and self.digit(1) or self.digit(2)):
            self.fail("date-day-fixed is SP DIGIT or 2DIGIT")
        self.expect(b"-")
        if self.d[self.p:self.p + 3].upper() not in MONTHS:
            self.fail("expected a month (Jan..Dec)")
        self.p += 3
        self.expect(b"-")
        self.digit(4) or self.fail("expected a 4-digit year")
        self.sp()
        for i in range(3):
            if i:
                self.expect(b":")
            self.digit(2) or self.fail("time is 2DIGIT:2DIGIT:2DIGIT")
        self.sp()
        if not (self.take(b"+") or self.take(b"-")) or not self.digit(4):
            self.fail("zone is (+/-) 4DIGIT")
        self.expect(b'"')

    def digit(self, n):  # exactly n DIGITs here
        ds = self.d[self.p:self.p + n]
        if len(ds) != n or not ds.isdigit():
            return False
        self.p += n
        return True

    def envelope(self):
        """"(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to SP
        env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")" """
        self.expect(b"(")
        self.nstring()  # env-date
        self.sp()
        self.nstring()  # env-subject
        for _ in range(6):  # from, sender, reply-to, to, cc, bcc
            self.sp()
            self.address_list()
        self.sp()
        self.nstring()  # env-in-reply-to
        self.sp()
        self.nstring()  # env-message-id
        self.expect(b")")

    def address_list(self):  # "(" 1*address ")" / nil
        if self.nil():
            return
        self.expect(b"(")
        self.address()
        while self.peek() == ord("("):
            self.address()
        self.expect(b")")

    def address(self):  # "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
        self.expect(b"(")
        for i in range(4):
            if i:
                self.sp()
            self.nstring()
        self.expect(b")")

    def section(self):  # "[" [section-spec] "]"
        self.expect(b"[")
        if 0x30 <= self.peek() <= 0x39:  # section-part ["." section-text]
            self.nz_number()
            while self.take(b"."):
                if 0x30 <= self.peek() <= 0x39:
                    self.nz_number()
                elif not self.take(b"MIME"):
                    self.section_msgtext()
                    break
                else:
                    break
        elif self.peek() != ord("]"):
            self.section_msgtext()
        self.expect(b"]")

    def section_msgtext(self):  # "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
        if self.take(b"HEADER.FIELDS"):
            self.take(b".NOT")
            self.sp()
            self.parens(self.astring, empty_ok=False)  # header-list of header-fld-name
        elif not (self.take(b"HEADER") or self.take(b"TEXT")):
            self.fail("expected HEADER, HEADER.FIELDS[.NOT], TEXT or MIME")

    # ---- body / bodystructure ----
    def body(self, ext_allowed):  # "(" (body-type-1part / body-type-mpart) ")"
        self.expect(b"(")
        if self.peek() == ord("("):  # body-type-mpart: 1*body SP media-subtype [SP body-ext-mpart]
            while self.peek() == ord("("):
                self.body(ext_allowed)
            self.sp()
            self.string()
            if self.take(b" "):
                self.no_ext(ext_allowed)
                self.body_fld_param()
                self.body_ext_tail()
        else:
            typ = self.string().upper()
            self.sp()
            sub = self.string().upper()
            self.sp()
            self.body_fields()
            if typ == b"TEXT":  # body-type-text: ... SP body-fld-lines
                self.sp()
                self.number()
            elif typ == b"MESSAGE" and sub == b"RFC822":  # body-type-msg
                self.sp()
                self.envelope()
                self.sp()
                self.body(ext_allowed)
                self.sp()
                self.number()
            if self.take(b" "):  # body-ext-1part: body-fld-md5 [SP body-fld-dsp ...]
                self.no_ext(ext_allowed)
                self.nstring()
                self.body_ext_tail()
        self.expect(b")")

    def no_ext(self, ext_allowed):
        if not ext_allowed:
            self.fail("extension data in a non-extensible BODY (RFC 3501 7.4.2)")

    def body_ext_tail(self):  # [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]
        if not self.take(b" "):
            return
        if not self.nil():  # body-fld-dsp: "(" string SP body-fld-param ")"
            self.expect(b"(")
            self.string()
            self.sp()
            self.body_fld_param()
            self.expect(b")")
        if not self.take(b" "):
            return
        if self.peek() == ord("("):  # body-fld-lang: nstring / "(" string *(SP string) ")"
            self.parens(self.string, empty_ok=False)
        else:
            self.nstring()
        if not self.take(b" "):
            return
        self.nstring()  # body-fld-loc
        while self.take(b" "):
            self.body_extension()

    def body_extension(self):  # nstring / number / "(" body-extension *(SP body-extension) ")"
        if self.peek() == ord("("):
            self.parens(self.body_extension, empty_ok=False)
        elif 0x30 <= self.peek() <= 0x39:
            self.number()
        else:
            self.nstring()

    def body_fields(self):  # body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
        self.body_fld_param()
        self.sp()
        self.nstring()
        self.sp()
        self.nstring()
        self.sp()
        self.string()
        self.sp()
        self.number()

    def body_fld_param(self):  # "(" string SP string *(SP string SP string) ")" / nil
        if not self.nil():
            self.parens(lambda: (self.string(), self.sp(), self.string()), empty_ok=False)


def check_stream(data, greeting=False):
    """Every response in data (the server's bytes, whole responses); a summary of each, such as
    "* FETCH" or "a3 OK". Raises GrammarError at the first byte that breaks the grammar."""
    p = Parser(data)
    out = []
    if greeting:
        p.greeting()
        out.append("* greeting")
    while p.p < len(p.d):
        out.append(p.response())
    return out


class CheckedIMAP4(imaplib.IMAP4):
    """imaplib.IMAP4 that keeps every byte the server sent (imaplib reads lines with readline()
    and literals with read(), both overridden here)."""

    def __init__(self, *args, **kw):
        self.received, self.checked = bytearray(), 0
        super().__init__(*args, **kw)

    def readline(self):
        line = super().readline()
        self.received += line
        return line

    def read(self, size):
        data = super().read(size)
        self.received += data
        return data

    def check_new(self):
        """Validates what arrived since the last call (the greeting too, the first time);
        returns (responses, lines) of it."""
        data = bytes(self.received[self.checked:])
        out = check_stream(data, greeting=self.checked == 0)
        self.checked = len(self.received)
        return out, data.count(b"\r\n")


# ---- self-test: the validator accepts what RFC 3501 allows and refuses what it does not ----
GOOD = [
    b"* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] ready\r\n",
    b"* CAPABILITY IMAP4rev1 AUTH=PLAIN MOVE\r\n",
    b"a1 OK [READ-WRITE] SELECT completed\r\n",
    b"* OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] Limited\r\n",
    b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
    b"* 0 EXISTS\r\n",
    b"* 3 RECENT\r\n",
    b"* 2 EXPUNGE\r\n",
    b"* SEARCH\r\n",
    b"* SEARCH 2 84 882\r\n",
    b'* LIST (\\HasNoChildren \\Sent) "." Sent\r\n',
    b'* LIST (\\Noselect) NIL ""\r\n',
    b'* LSUB () "." "a b"\r\n',
    b'* STATUS "INBOX" (MESSAGES 3 UIDNEXT 4)\r\n',
    b'* STATUS blurdybloop ()\r\n',
    b'* NAMESPACE (("" ".")) NIL (("#shared." "." "X-PARAM" ("x" "y")))\r\n',
    b"* ENABLED\r\n",
    b"* ENABLED CONDSTORE\r\n",
    b"a2 OK [APPENDUID 38505 3955] APPEND completed\r\n",
    b"a3 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
    b"a4 NO [TRYCREATE] no such mailbox\r\n",
    b"a5 NO [ALREADYEXISTS] Mailbox exists\r\n",
    b"a6 NO [BADCHARSET (UTF-8 US-ASCII)] charset\r\n",
    b"+ Ready for literal data\r\n",
    b"+ \r\n",
    b"* BYE logging out\r\n",
    b'* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 UID 7)\r\n',
    b'* 1 FETCH (INTERNALDATE " 1-Dec-2026 10:00:00 +0000")\r\n',
    b'* 1 FETCH (ENVELOPE ("Wed, 17 Jul 1996" {5}\r\ncaf\xc3\xa9 (("Terry" NIL "gray" "cac.washington.edu")) '
    b'NIL NIL ((NIL NIL "imap" "cac.washington.edu")(NIL NIL "x" "y")) NIL NIL NIL "<B27397-0100000@cac>"))\r\n',
    b'* 1 FETCH (BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))\r\n',
    b'* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 15 1 NIL NIL NIL NIL)'
    b'("APPLICATION" "PDF" ("NAME" "q.pdf") NIL NIL "BASE64" 12 NIL ("ATTACHMENT" ("FILENAME" "q.pdf")) NIL NIL)'
    b' "MIXED" ("BOUNDARY" "x") NIL NIL NIL))\r\n',
    b'* 3 FETCH (BODYSTRUCTURE ("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 40 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL)'
    b' ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 2 1 NIL NIL NIL NIL) 3 NIL NIL ("en" "de") NIL (1 "x")))\r\n',
    b"* 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {4}\r\nab\r\n BODY[1.2.MIME] NIL BODY[]<0> {2}\r\nhi)\r\n",
    b"* 1 FETCH (BODY[2.HEADER] {0}\r\n UID 4 RFC822.TEXT NIL)\r\n",
]
BAD = [  # (response, what is wrong)
    (b"* 1 FETCH (FLAGS (\\Seen) UID 0)\r\n", "UID is an nz-number"),
    (b"* OK [UIDVALIDITY abc] x\r\n", "UIDVALIDITY without its number"),
    (b"* OK [UIDNEXT 5 x\r\n", "a response code without its ]"),
    (b"* 1 FETCH (BODY[TEXT] {5}\r\nabc)\r\n", "a literal longer than what follows"),
    (b'* LIST (\\Noselect \\Marked) "." INBOX\r\n', "two of \\Noselect \\Marked \\Unmarked"),
    (b'* LIST (\\HasNoChildren) ".." INBOX\r\n', "a two-character delimiter"),
    (b'* 1 FETCH (ENVELOPE ("d" "s" NIL NIL NIL NIL NIL NIL NIL))\r\n', "an ENVELOPE of nine fields"),
    (b'* 1 FETCH (ENVELOPE ("d" "s" ((NIL NIL "a")) NIL NIL NIL NIL NIL NIL NIL))\r\n', "an address of three fields"),
    (b"* STATUS INBOX (MESSAGES)\r\n", "a STATUS attribute without its number"),
    (b"* STATUS INBOX (SIZE 3)\r\n", "SIZE is no STATUS attribute of RFC 3501"),
    (b"* CAPABILITY IMAP4 LITERAL+\r\n", "no IMAP4rev1 in CAPABILITY"),
    (b"a1 OK [COPYUID 5 1:3] done\r\n", "COPYUID without the destination's UIDs"),
    (b"a1 OK [APPENDUID 5 0] done\r\n", "APPENDUID with UID 0"),
    (b'* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5))\r\n', "a TEXT part without its lines"),
    (b'* 1 FETCH (BODY ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1 NIL))\r\n', "extension data in BODY"),
    (b'* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1) ))\r\n', "a multipart without its subtype"),
    (b'* 1 FETCH (INTERNALDATE "1-Dec-2026 10:00:00 +0000")\r\n', "a one-digit day without its space"),
    (b'* 1 FETCH (INTERNALDATE "01-Dez-2026 10:00:00 +0000")\r\n', "a month that is not English"),
    (b'* 1 FETCH (INTERNALDATE "01-Dec-2026 10:00 +0000")\r\n', "a time without seconds"),
    (b"* SEARCH 1 0 3\r\n", "0 in SEARCH"),
    (b'* NAMESPACE (("" ".")) NIL\r\n', "two NAMESPACE parts of three"),
    (b"* 1 FETCH (FLAGS (\\Seen)\r\n", "an unclosed FETCH"),
    (b"* 1 FETCH ()\r\n", "a FETCH of nothing"),
    (b"a1 OK\r\n", "a status without text"),
    (b"* OK hi\n", "a bare LF"),
    (b"* OK hi", "no CRLF at the end"),
    (b"* FLAGS (\\Seen \\*)\r\n", "\\* outside PERMANENTFLAGS"),
    (b'* 1 FETCH (ENVELOPE ("d" "caf\xc3\xa9" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n', "8-bit bytes in a quoted string"),
    (b'* 1 FETCH (ENVELOPE ("d" "say \\"hi\\" \\n" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n', "\\n in a quoted string"),
    (b"* 1 FETCH (BODY[1.0] NIL)\r\n", "part number 0"),
    (b"* 1 FETCH (BODY[HEADER.FIELDS ()] NIL)\r\n", "an empty header list"),
    (b"* 1 FETCH (RFC822.SIZE -1)\r\n", "a negative size"),
    (b"* 1 FETCH (RFC822.SIZE 4294967296)\r\n", "a number over 32 bits"),
    (b"* 0 FETCH (UID 1)\r\n", "message number 0"),
    (b"* 3 EXPUNGED\r\n", "a misspelt response"),
    (b"+a1 OK x\r\n", "a tag starting with +"),
    (b"+\r\n", "a continuation request without its space"),
    (b"* 1 FETCH (BODY[] {2}\r\na\x00)\r\n", "NUL in a literal"),
]


def self_test():
    fails = []
    for r in GOOD:
        try:
            check_stream(r)
        except GrammarError as e:
            fails.append(f"refused a good response: {e}")
    for r, why in BAD:
        try:
            check_stream(r)
            fails.append(f"accepted a malformed response ({why}): {r!r}")
        except GrammarError:
            pass
    for f in fails:
        print(f)
    print(f"imap_grammar self-test: {len(GOOD)} good responses, {len(BAD)} malformed ones, "
          f"{len(fails)} misjudged")
    return 1 if fails else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) == 2:
        try:
            n = len(check_stream(open(sys.argv[1], "rb").read(), greeting=True))
        except GrammarError as e:
            print(f"imap_grammar: {sys.argv[1]}: {e}")
            sys.exit(1)
        print(f"imap_grammar: {sys.argv[1]}: {n} responses, all RFC 3501")
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
