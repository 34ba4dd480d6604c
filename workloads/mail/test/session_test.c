/* Unit tests for the SMTP and IMAP sessions of vcons-mail (server_smtp.c, server_imap.c) without
 * sockets: bytes go into a connection's input buffer, whole or one byte at a time (every split
 * point a network can produce), and the replies are read from its output buffer. Two sessions on
 * one store show IDLE and the untagged updates one gets of the other's changes (a test's wake
 * counts the calls the network layer would turn into srv_conn_wake). The store is a fresh
 * Maildir under $TMPDIR. */
#include "tools/unit.h"
#include "lib/fs.h"
#include "workloads/mail/imap_sess.h" /* IMAP_CAPS */
#include "workloads/mail/mailproto.h"
#include "workloads/mail/server.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static struct mstore *st;
static const struct server_cfg cfg = { .addr = "127.0.0.1", .max_size = 4096, .threads = 1 };
/* with TLS to offer (STARTTLS), and with --require-tls */
static const struct server_cfg cfg_tls = {
	.addr = "127.0.0.1", .max_size = 4096, .threads = 1, .tls = true
};
static const struct server_cfg cfg_req = {
	.addr = "127.0.0.1", .max_size = 4096, .threads = 1, .tls = true, .require_tls = true
};

static int setup(void **state)
{
	(void)state;
	char err[256];
	if (fs_tmpdir(dir, sizeof(dir), "vcons-session-test") < 0)
		return -1;
	return mstore_open(&st, dir, 3, NULL, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	mstore_close(st);
	return fs_rmtree(dir, false);
}

/* A session as server_net.c opens one: tls for the implicit-TLS ports (SMTP's is submission). */
static void conn_open(struct conn *c, enum conn_kind kind, const struct server_cfg *sc, bool tls)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->kind = kind;
	c->st = st;
	c->cfg = sc;
	c->tls = tls;
	c->submission = tls && kind == CONN_SMTP;
	assert_int_equal(kind == CONN_SMTP ? smtp_open(c) : imap_open(c), 0);
}

static void conn_init(struct conn *c, enum conn_kind kind)
{
	conn_open(c, kind, &cfg, false);
}

/* Feeds s (bytewise: one byte per call) and runs the session like the network layer does. */
static void feed(struct conn *c, const char *s, size_t n, bool bytewise)
{
	size_t step = bytewise ? 1 : n;
	for (size_t i = 0; i < n; i += step) {
		buf_put(&c->in, s + i, step < n - i ? step : n - i);
		do {
			if (c->kind == CONN_SMTP)
				smtp_input(c);
			else
				imap_input(c);
		} while (c->more);
	}
}

/* The output so far as a NUL-terminated string (consumed). */
static char *take(struct conn *c)
{
	size_t n = buf_pending(&c->out);
	char *s = malloc(n + 1);
	memcpy(s, c->out.p + c->out.off, n);
	s[n] = 0;
	buf_consume(&c->out, n);
	return s;
}

/* Fails unless every want[i] occurs in out, in this order. */
static void want_in_order(const char *out, const char *const *want, size_t n)
{
	const char *p = out;
	for (size_t i = 0; i < n; i++) {
		/* p is not NULL: fail_msg() does not return */
		// NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
		const char *q = strstr(p, want[i]);
		if (!q)
			fail_msg("missing, in order: %s\n--- output:\n%s", want[i], out);
		p = q + strlen(want[i]);
	}
}

#define CAPS "IMAP4rev1 LITERAL+ UIDPLUS MOVE NAMESPACE ENABLE SPECIAL-USE CHILDREN IDLE"

/* Feeds s whole and returns the output (free it). */
static char *say_conn(struct conn *c, const char *s)
{
	feed(c, s, strlen(s), false);
	return take(c);
}

static void smtp_session(bool bytewise)
{
	struct conn c;
	conn_init(&c, CONN_SMTP);
	const char *in = "EHLO client.test\r\n"
	                 "MAIL FROM:<a@b.c> SIZE=100\r\n"
	                 "RCPT TO:<user2@vcons.test>\r\n"
	                 "RCPT TO:<nobody@vcons.test>\r\n"
	                 "DATA\r\n"
	                 "Subject: t\r\n\r\n..dot\r\nline\r\n.\r\n"
	                 "MAIL FROM:<a@b.c> SIZE=5000\r\n"
	                 "QUIT\r\n"
	                 "NOOP\r\n"; /* after QUIT: ignored */
	feed(&c, in, strlen(in), bytewise);
	char *out = take(&c);
	const char *want = "220 vcons.test ESMTP vcons-mail ready\r\n"
	                   "250-vcons.test greets client.test\r\n"
	                   "250-SIZE 4096\r\n"
	                   "250-8BITMIME\r\n"
	                   "250-PIPELINING\r\n"
	                   "250 ENHANCEDSTATUSCODES\r\n"
	                   "250 2.1.0 Sender OK\r\n"
	                   "250 2.1.5 Recipient OK\r\n"
	                   "550 5.1.1 No such user here\r\n"
	                   "354 End data with <CR><LF>.<CR><LF>\r\n"
	                   "250 2.0.0 OK: queued as 48 bytes\r\n" /* with Return-Path */
	                   "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
	                   "221 2.0.0 vcons.test closing connection\r\n";
	assert_string_equal(out, want);
	assert_true(c.close_after_flush);
	free(out);
	conn_end(&c);
}

static void test_smtp_whole(void **state)
{
	(void)state;
	smtp_session(false);
}

static void test_smtp_bytewise(void **state)
{
	(void)state;
	smtp_session(true);
}

static void test_smtp_limits(void **state)
{
	(void)state;
	struct conn c;
	conn_init(&c, CONN_SMTP);
	char *big = malloc(6000);
	memset(big, 'x', 6000);
	const char *start = "HELO h\r\nMAIL FROM:<>\r\nRCPT TO:<user1@vcons.test>\r\nDATA\r\n";
	feed(&c, start, strlen(start), false);
	for (int i = 0; i < 5; i++) { /* 998 + CRLF: the longest text line; 5 are over 4096 */
		feed(&c, big, 998, false);
		feed(&c, "\r\n", 2, false);
	}
	feed(&c, ".\r\n", 3, false);
	feed(&c, start + 8, strlen(start + 8), false);
	feed(&c, big, 1200, false); /* one text line over 1000 octets */
	feed(&c, "\r\n.\r\n", 5, false);
	feed(&c, big, 600, false); /* a command line over 512 octets */
	feed(&c, "\r\nRSET\r\n", 8, false);
	char *out = take(&c);
	const char *tail =
	    "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
	    "250 2.1.0 Sender OK\r\n"
	    "250 2.1.5 Recipient OK\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "500 5.5.2 Line too long (RFC 5321 limit: 1000 octets); message rejected\r\n"
	    "500 5.5.2 Line too long (RFC 5321 limit: 512 octets)\r\n"
	    "250 2.0.0 OK\r\n";
	assert_true(strlen(out) > strlen(tail));
	assert_string_equal(out + strlen(out) - strlen(tail), tail);
	free(out);
	free(big);
	conn_end(&c);
	/* nothing was delivered */
	struct ms_msg *m;
	size_t n;
	uint32_t next;
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_int_equal(n, 0);
	free(m);
}

/* Only <CRLF>.<CRLF> ends DATA: a dot line next to a bare LF is text (no SMTP smuggling; fuzz
 * corpus: data-bare-lf-dot). */
static void test_smtp_bare_lf_dot(void **state)
{
	(void)state;
	struct conn c;
	conn_init(&c, CONN_SMTP);
	const char *in = "HELO h\nMAIL FROM:<a@b>\nRCPT TO:<user1>\nDATA\n"
	                 "one\n.\nMAIL FROM:<x@y>\r\n.\nthree\r\n.\r\nQUIT\r\n";
	feed(&c, in, strlen(in), false);
	char *out = take(&c);
	assert_string_equal(out, "220 vcons.test ESMTP vcons-mail ready\r\n"
	                         "250 vcons.test\r\n"
	                         "250 2.1.0 Sender OK\r\n"
	                         "250 2.1.5 Recipient OK\r\n"
	                         "354 End data with <CR><LF>.<CR><LF>\r\n"
	                         "250 2.0.0 OK: queued as 55 bytes\r\n"
	                         "221 2.0.0 vcons.test closing connection\r\n");
	free(out);
	conn_end(&c);
	struct ms_msg *m;
	size_t n;
	uint32_t next;
	char *text;
	size_t len;
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mstore_read(st, 0, &m[0], &text, &len), 0);
	const char *want = "Return-Path: <a@b>\r\none\r\n.\r\nMAIL FROM:<x@y>\r\n.\r\nthree\r\n";
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	free(text);
	free(m);
}

static void deliver(const char *body)
{
	int u = 0;
	assert_int_equal(mstore_deliver(st, &u, 1, "", 0, body, strlen(body)), 0);
}

static void imap_session(bool bytewise)
{
	deliver("Subject: one\r\n\r\nbody one\r\n");
	deliver("Subject: two\r\n\r\nbody two\r\n");
	struct conn c;
	conn_init(&c, CONN_IMAP);
	free(take(&c)); /* greeting */
	const char *in = "a1 LOGIN {5}\r\nuser1 {5+}\r\nuser1\r\n"
	                 "a2 SELECT INBOX\r\n"
	                 "a3 FETCH 2 (UID RFC822.SIZE BODY.PEEK[TEXT])\r\n"
	                 "a4 UID FETCH 1:* (FLAGS)\r\n"
	                 "a5 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n"
	                 "a6 EXPUNGE\r\n"
	                 "a7 FETCH 1 (UID BODY[HEADER])\r\n"
	                 "a8 LOGOUT\r\n";
	feed(&c, in, strlen(in), bytewise);
	char *out = take(&c);
	const char *want[] = {
		"+ ready for 5 bytes\r\n",
		// NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one line around CAPS
		"a1 OK [CAPABILITY " CAPS "] LOGIN completed\r\n",
		"* 2 EXISTS\r\n",
		"a2 OK [READ-WRITE] SELECT completed\r\n",
		"* 2 FETCH (UID 2 RFC822.SIZE 26 BODY[TEXT] {10}\r\nbody two\r\n)\r\n",
		"a3 OK FETCH completed\r\n",
		"* 1 FETCH (UID 1 FLAGS ())\r\n* 2 FETCH (UID 2 FLAGS ())\r\na4 OK",
		"a5 OK STORE completed\r\n",
		"* 1 EXPUNGE\r\na6 OK EXPUNGE completed\r\n",
		"* 1 FETCH (UID 2 FLAGS (\\Seen) BODY[HEADER] {16}\r\nSubject: two\r\n\r\n)\r\n",
		"* BYE",
		"a8 OK LOGOUT completed\r\n",
	};
	want_in_order(out, want, sizeof(want) / sizeof(want[0]));
	assert_null(strstr(out, "BAD"));
	assert_true(c.close_after_flush);
	free(out);
	conn_end(&c);
}

static void test_imap_whole(void **state)
{
	(void)state;
	imap_session(false);
}

static void test_imap_bytewise(void **state)
{
	(void)state;
	imap_session(true);
}

static void test_imap_errors(void **state)
{
	(void)state;
	struct conn c;
	conn_init(&c, CONN_IMAP);
	free(take(&c));
	const char *in = "\r\n" /* an empty first line (fuzz corpus: ub-empty-first-line) */
	                 "b1 SELECT INBOX\r\n"
	                 "b2 LOGIN {x}\r\n"
	                 "b3 LOGIN {70000}\r\n"
	                 "b4 LOGIN user1 nope\r\n"
	                 "* NOOP\r\n"
	                 "b5 FROB\r\n"
	                 "b6 LOGIN \"user1\" \"user1\"\r\n"
	                 "b7 FETCH 1 FLAGS\r\n"
	                 "b8 SELECT Other\r\n"
	                 "b9 EXAMINE INBOX\r\n"
	                 "c1 STORE 1:* +FLAGS (\\Deleted)\r\n"
	                 "c2 FETCH 1 (BINARY[1])\r\n"
	                 "c3 UID COPY 1 x\r\n"
	                 "c3b UID THREAD REFERENCES UTF-8 ALL\r\n"
	                 "c4 CAPABILITY\r\n";
	feed(&c, in, strlen(in), false);
	char *out = take(&c);
	const char *want[] = {
		"* BAD missing or invalid tag\r\n",
		"b1 BAD log in first\r\n",
		"b2 BAD invalid literal",
		"b3 BAD invalid literal",
		"b4 NO [AUTHENTICATIONFAILED]",
		"* BAD missing or invalid tag\r\n",
		"b5 BAD unknown or unsupported command\r\n",
		"b6 OK",
		"b7 BAD select a mailbox first\r\n",
		"b8 NO [NONEXISTENT]",
		"b9 OK [READ-ONLY] EXAMINE completed\r\n",
		"c1 NO mailbox is read-only\r\n",
		"c2 BAD FETCH",
		"c3 NO [TRYCREATE] COPY: no such mailbox\r\n",
		"c3b BAD UID: only FETCH, STORE, SEARCH, COPY, MOVE and EXPUNGE\r\n",
		// NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one line around CAPS
		"* CAPABILITY " CAPS "\r\nc4 OK",
	};
	want_in_order(out, want, sizeof(want) / sizeof(want[0]));
	free(out);
	conn_end(&c);
}

/* A refused non-synchronising literal closes the connection: its bytes, already on their way,
 * must not run as commands (found by the mail-imap fuzz target's review). */
static void test_imap_refused_literal_plus_closes(void **state)
{
	(void)state;
	struct conn c;
	conn_init(&c, CONN_IMAP);
	free(take(&c));
	const char *in = "a1 LOGIN user1 {70000+}\r\nx1 LOGOUT\r\n";
	feed(&c, in, strlen(in), false);
	char *out = take(&c);
	assert_non_null(strstr(out, "a1 BAD invalid literal"));
	assert_non_null(strstr(out, "* BYE literal refused"));
	assert_null(strstr(out, "x1"));
	assert_true(c.close_after_flush);
	free(out);
	conn_end(&c);
}

/* A FETCH of more than CONN_OUT_HIGH pauses (c->more) and resumes to the end. */
static void test_imap_fetch_pauses(void **state)
{
	(void)state;
	char *body = malloc(3000);
	memset(body, 'y', 2996);
	memcpy(body, "S: x\r\n\r\n", 8);
	memcpy(body + 2996, "\r\n", 3);
	for (int i = 0; i < 120; i++) /* 120 x 3 KB > 256 KB */
		deliver(body);
	free(body);
	struct conn c;
	conn_init(&c, CONN_IMAP);
	const char *in = "a LOGIN user1 user1\r\nb SELECT INBOX\r\nc FETCH 1:* (BODY.PEEK[])\r\n"
	                 "d NOOP\r\n";
	buf_put(&c.in, in, strlen(in));
	imap_input(&c);
	assert_true(c.more);
	assert_true(buf_pending(&c.out) >= CONN_OUT_HIGH);
	assert_null(memmem(c.out.p + c.out.off, buf_pending(&c.out), "c OK", 4));
	size_t total = 0;
	int rounds = 0;
	while (c.more || buf_pending(&c.in)) {
		total += buf_pending(&c.out);
		buf_consume(&c.out, buf_pending(&c.out)); /* the client read it all */
		imap_input(&c);
		assert_true(++rounds < 100);
	}
	char *out = take(&c);
	assert_non_null(strstr(out, "* 120 FETCH"));
	assert_non_null(strstr(out, "c OK FETCH completed\r\nd OK NOOP completed\r\n"));
	assert_true(total + strlen(out) > 120 * 2999);
	free(out);
	conn_end(&c);
}

/* SEARCH, ENVELOPE, BODYSTRUCTURE and sections through a session, with \Seen set only by the
 * non-PEEK body fetches. */
static void imap_structure(bool bytewise)
{
	deliver("From: Ann <ann@a.test>\r\nSubject: hello world\r\n"
	        "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nfirst body\r\n");
	deliver(
	    "From: bob@b.test\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=z\r\n"
	    "\r\n--z\r\n\r\nalpha\r\n--z\r\nContent-Type: text/plain\r\n\r\nbeta\r\n--z--\r\n");
	deliver("Subject: Third\r\n\r\nhello again\r\n");
	struct conn c;
	conn_init(&c, CONN_IMAP);
	free(take(&c));
	const char *in = "a LOGIN user1 user1\r\nb SELECT INBOX\r\n"
	                 "c SEARCH FROM ann\r\n"
	                 "d UID SEARCH TEXT {5}\r\nHELLO\r\n"
	                 "e SEARCH CHARSET KOI8-R ALL\r\n"
	                 "f SEARCH FROB\r\n"
	                 "g FETCH 2 (BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[2] "
	                 "BODY.PEEK[5] BODY.PEEK[1]<1.3>)\r\n"
	                 "h FETCH 1 ENVELOPE\r\n"
	                 "i SEARCH UNSEEN\r\n"
	                 "j FETCH 3 (BODY[1])\r\n"
	                 "k SEARCH SEEN\r\n"
	                 "l FETCH 2 BODYSTRUCTURE\r\n"
	                 "m FETCH 1 (RFC822.HEADER BODY)\r\n"
	                 "n UID SEARCH CHARSET UTF-8 UNSEEN NOT UID 2\r\n"
	                 "o SEARCH\r\n"
	                 "p SEARCH OR SUBJECT third LARGER 100000\r\n";
	feed(&c, in, strlen(in), bytewise);
	char *out = take(&c);
	const char *want[] = {
		"* SEARCH 1\r\nc OK SEARCH completed\r\n",
		"+ ready for 5 bytes\r\n",
		"* SEARCH 1 3\r\nd OK SEARCH completed\r\n",
		"e NO [BADCHARSET (UTF-8 US-ASCII)]",
		"f BAD SEARCH: syntax\r\n",
		"* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: parts\r\n\r\n "
		"BODY[2] {4}\r\nbeta BODY[5] NIL BODY[1]<1> {3}\r\nlph)\r\ng OK",
		"* 1 FETCH (ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"hello world\" "
		"((\"Ann\" NIL \"ann\" \"a.test\")) ((\"Ann\" NIL \"ann\" \"a.test\")) "
		"((\"Ann\" NIL \"ann\" \"a.test\")) NIL NIL NIL NIL NIL))\r\nh OK",
		"* SEARCH 1 2 3\r\ni OK",
		"* 3 FETCH (FLAGS (\\Seen) BODY[1] {13}\r\nhello again\r\n)\r\nj OK",
		"* SEARCH 3\r\nk OK",
		"* 2 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL "
		"\"7BIT\" 5 1 NIL NIL NIL NIL)(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 4 1 NIL NIL "
		"NIL "
		"NIL) \"MIXED\" (\"BOUNDARY\" \"z\") NIL NIL NIL))\r\nl OK",
		"* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
		"12 1) "
		"RFC822.HEADER {",
		"m OK",
		"* SEARCH 1\r\nn OK",
		"o BAD",
		"* SEARCH 3\r\np OK",
	};
	want_in_order(out, want, sizeof(want) / sizeof(want[0]));
	assert_null(strstr(out, "\\Seen) RFC822.HEADER")); /* RFC822.HEADER is a PEEK */
	free(out);
	conn_end(&c);
}

static void test_imap_structure_whole(void **state)
{
	(void)state;
	imap_structure(false);
}

static void test_imap_structure_bytewise(void **state)
{
	(void)state;
	imap_structure(true);
}

/* The folder commands, whole and byte by byte: LIST patterns (one built to make a backtracking
 * matcher take forever), CREATE, COPY and UID MOVE with COPYUID and the EXPUNGEs, STATUS, APPEND
 * with a literal above the command limit but within --max-size, and one over it. */
static void imap_folders(bool bytewise)
{
	deliver("Subject: one\r\n\r\nbody one\r\n");
	deliver("Subject: two\r\n\r\nbody two\r\n");
	deliver("Subject: three\r\n\r\nbody three\r\n");
	struct conn c;
	conn_init(&c, CONN_IMAP);
	free(take(&c));
	char in[16384], body[3001];
	memset(body, 'x', 3000);
	body[3000] = 0;
	snprintf(in, sizeof(in),
	         "f1 LOGIN user1 user1\r\n"
	         "f2 LIST \"\" %%\r\n"
	         "f3 CREATE a.b\r\n"
	         "f4 LIST a *\r\n"
	         "f5 LIST \"\" "
	         "*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%*%%"
	         "*%%q\r\n"
	         "f6 SELECT INBOX\r\n"
	         "f7 COPY 1:2 Archive\r\n"
	         "f8 UID MOVE 2:* Trash\r\n"
	         "f9 STATUS Trash (UIDNEXT MESSAGES)\r\n"
	         "g1 APPEND a.b (\\Seen) \" 5-Mar-2026 10:20:30 +0100\" {3000}\r\n%s\r\n"
	         "g2 APPEND a.b {5000+}\r\n"
	         "g3 NOOP\r\n",
	         body);
	feed(&c, in, strlen(in), bytewise);
	char *out = take(&c);
	uint32_t trash, ab, arch;
	assert_int_equal(mstore_box_find(st, 0, "Trash", &trash), 0);
	assert_int_equal(mstore_box_find(st, 0, "a.b", &ab), 0);
	assert_int_equal(mstore_box_find(st, 0, "Archive", &arch), 0);
	uint32_t tv = mstore_uidvalidity(st, 0, trash), av = mstore_uidvalidity(st, 0, ab);
	char copyuid[64], moveuid[64], appenduid[64];
	snprintf(copyuid, sizeof(copyuid), "f7 OK [COPYUID %u 1:2 1:2] COPY completed\r\n",
	         mstore_uidvalidity(st, 0, arch));
	snprintf(moveuid, sizeof(moveuid), "* OK [COPYUID %u 2:3 1:2] moved\r\n", tv);
	snprintf(appenduid, sizeof(appenduid), "g1 OK [APPENDUID %u 1] APPEND completed\r\n", av);
	const char *want[] = {
		"* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n"
		"* LIST (\\HasNoChildren \\Archive) \".\" \"Archive\"\r\n"
		"* LIST (\\HasNoChildren \\Drafts) \".\" \"Drafts\"\r\n"
		"* LIST (\\HasNoChildren \\Junk) \".\" \"Junk\"\r\n"
		"* LIST (\\HasNoChildren \\Sent) \".\" \"Sent\"\r\n"
		"* LIST (\\HasNoChildren \\Trash) \".\" \"Trash\"\r\nf2 OK LIST completed\r\n",
		"f3 OK CREATE completed\r\n"
		"* LIST (\\HasChildren) \".\" \"a\"\r\n* LIST (\\HasNoChildren) \".\" \"a.b\"\r\n"
		"f4 OK LIST completed\r\nf5 OK LIST completed\r\n",
		"f6 OK [READ-WRITE] SELECT completed\r\n",
		copyuid,
		moveuid,
		"* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nf8 OK MOVE completed\r\n",
		"* STATUS \"Trash\" (UIDNEXT 3 MESSAGES 2)\r\nf9 OK STATUS completed\r\n",
		"+ ready for 3000 bytes\r\n",
		appenduid,
		"g2 NO [TOOBIG] APPEND: message over the size limit\r\n"
		"* BYE literal refused; its data cannot be told from commands\r\n",
	};
	want_in_order(out, want, sizeof(want) / sizeof(want[0]));
	assert_null(strstr(out, "g3 "));
	free(out);
	conn_end(&c);
	struct ms_msg *m;
	size_t n;
	uint32_t next;
	assert_int_equal(mstore_scan(st, 0, ab, 0, &m, &n, &next), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].size, 3000);
	assert_int_equal(m[0].flags, MP_FLAG_SEEN);
	assert_int_equal(m[0].time_s, 1772702430);
	free(m);
}

static void test_imap_folders_whole(void **state)
{
	(void)state;
	imap_folders(false);
}

static void test_imap_folders_bytewise(void **state)
{
	(void)state;
	imap_folders(true);
}

/* Two IMAP sessions on user1; wakes[i] counts the wake-ups of sess[i]. */
static struct conn sess[2];
static int wakes[2];

static void count_wake(struct conn *c)
{
	wakes[c - sess]++;
}

static void two_sessions(const char *box)
{
	char in[128];
	snprintf(in, sizeof(in), "l LOGIN user1 user1\r\ns SELECT %s\r\n", box);
	for (int i = 0; i < 2; i++) {
		conn_init(&sess[i], CONN_IMAP);
		sess[i].wake = count_wake;
		wakes[i] = 0;
		feed(&sess[i], in, strlen(in), false);
		char *out = take(&sess[i]);
		assert_non_null(strstr(out, "s OK [READ-WRITE]"));
		free(out);
	}
}

/* Feeds s to session i and returns its output (free it). */
static char *say(int i, const char *s, bool bytewise)
{
	feed(&sess[i], s, strlen(s), bytewise);
	return take(&sess[i]);
}

/* What a woken session sends: the network layer's imap_wake after c->wake. */
static char *woken(int i)
{
	imap_wake(&sess[i]);
	return take(&sess[i]);
}

static void expect(char *out, const char *want)
{
	if (strcmp(out, want) != 0)
		fail_msg("want:\n%s--- got:\n%s", want, out);
	free(out);
}

/* IDLE (RFC 2177): session 0 idles, session 1 and SMTP change INBOX, each change wakes session 0
 * and reaches its client at once (flags, new mail, expunges, a MOVE out); DONE ends it and the
 * watch with it. */
static void imap_idle(bool bytewise)
{
	deliver("Subject: one\r\n\r\nbody one\r\n");
	deliver("Subject: two\r\n\r\nbody two\r\n");
	two_sessions("INBOX");
	expect(say(0, "i1 IDLE\r\n", bytewise), "+ idling\r\n");
	assert_true(sess[0].idling);
	expect(say(1, "b1 STORE 1 +FLAGS.SILENT (\\Flagged)\r\n", bytewise),
	       "b1 OK STORE completed\r\n");
	assert_int_equal(wakes[0], 1);
	assert_int_equal(wakes[1], 0); /* the other one does not idle: no wake-up */
	expect(woken(0), "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n");
	expect(woken(0), ""); /* woken again with nothing new: nothing */
	deliver("Subject: three\r\n\r\nbody three\r\n");
	assert_int_equal(wakes[0], 2);
	expect(woken(0), "* 3 EXISTS\r\n* 0 RECENT\r\n");
	char *out = say(1, "b2 APPEND INBOX {9}\r\nSubject:\r\n\r\n", bytewise);
	assert_non_null(strstr(out, "* 4 EXISTS\r\n* 0 RECENT\r\n"));
	assert_non_null(strstr(out, "b2 OK [APPENDUID "));
	free(out);
	expect(woken(0), "* 4 EXISTS\r\n* 0 RECENT\r\n");
	out = say(1, "b3 STORE 2 +FLAGS.SILENT (\\Deleted)\r\nb4 EXPUNGE\r\n", bytewise);
	assert_non_null(strstr(out, "* 2 EXPUNGE\r\nb4 OK EXPUNGE completed\r\n"));
	free(out);
	expect(woken(0),
	       "* 2 EXPUNGE\r\n"); /* flagged \Deleted, then gone: one sync sees it gone */
	out = say(1, "b5 UID MOVE 4 Trash\r\n", bytewise);
	assert_non_null(strstr(out, "* 3 EXPUNGE\r\nb5 OK MOVE completed\r\n"));
	free(out);
	expect(woken(0), "* 3 EXPUNGE\r\n");
	expect(say(0, "DONE\r\n", bytewise), "i1 OK IDLE terminated\r\n");
	assert_false(sess[0].idling);
	int before = wakes[0];
	deliver("Subject: four\r\n\r\nbody four\r\n");
	assert_int_equal(wakes[0], before); /* not idling: no wake-up, news at its next command */
	expect(say(0, "n NOOP\r\n", bytewise),
	       "* 3 EXISTS\r\n* 0 RECENT\r\nn OK NOOP completed\r\n");
	/* IDLE in the authenticated state, an IDLE ended by another line, pipelined after DONE */
	expect(say(0, "c CLOSE\r\ni2 IDLE\r\nDONE\r\ni3 IDLE\r\nNOOP\r\nz NOOP\r\n", bytewise),
	       "c OK CLOSE completed\r\n+ idling\r\ni2 OK IDLE terminated\r\n+ idling\r\n"
	       "i3 BAD IDLE: expected DONE\r\nz OK NOOP completed\r\n");
	for (int i = 0; i < 2; i++)
		conn_end(&sess[i]);
}

static void test_imap_idle_whole(void **state)
{
	(void)state;
	imap_idle(false);
}

static void test_imap_idle_bytewise(void **state)
{
	(void)state;
	imap_idle(true);
}

/* Without IDLE, the other session's changes come with the next command (RFC 3501 5.2), EXPUNGE
 * held back while a command names messages by sequence number (7.4.1): FETCH, STORE, SEARCH,
 * COPY; sent with NOOP, UID commands and the rest. */
static void test_imap_updates_at_command_boundaries(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		deliver("Subject: m\r\n\r\nbody\r\n");
	two_sessions("INBOX");
	free(say(1,
	         "b1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\nb2 EXPUNGE\r\n"
	         "b3 STORE 2 +FLAGS.SILENT (\\Seen)\r\n",
	         false));
	deliver("Subject: m4\r\n\r\nbody\r\n");
	assert_int_equal(wakes[0], 0);
	/* sequence numbers: 1 is still UID 1 (gone: its flags as they were), 3 is UID 3 */
	expect(say(0, "f FETCH 1:* (UID FLAGS)\r\n", false),
	       "* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n* 4 EXISTS\r\n* 0 RECENT\r\n"
	       "* 1 FETCH (UID 1 FLAGS ())\r\n* 2 FETCH (UID 2 FLAGS ())\r\n"
	       "* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n* 4 FETCH (UID 4 FLAGS ())\r\n"
	       "f OK FETCH completed\r\n");
	expect(say(0, "s SEARCH ALL\r\ne STORE 1 +FLAGS (\\Flagged)\r\n", false),
	       "* SEARCH 1 2 3 4\r\ns OK SEARCH completed\r\n"
	       "e NO some messages could no longer be changed\r\n");
	expect(say(0, "n NOOP\r\n", false), "* 1 EXPUNGE\r\nn OK NOOP completed\r\n");
	/* a UID command may be told of expunges */
	free(say(1, "b4 UID STORE 4 +FLAGS.SILENT (\\Deleted)\r\nb5 UID EXPUNGE 4\r\n", false));
	expect(say(0, "u UID SEARCH ALL\r\n", false),
	       "* 3 EXPUNGE\r\n* SEARCH 2 3\r\nu OK SEARCH completed\r\n");
	/* the selected folder deleted by the other session: BYE, the command not run */
	free(say(0, "c CREATE Work\r\nw SELECT Work\r\n", false));
	expect(say(1, "d DELETE Work\r\n", false), "d OK DELETE completed\r\n");
	expect(say(0, "x FETCH 1 FLAGS\r\n", false), "* BYE the selected mailbox was deleted\r\n");
	assert_true(sess[0].close_after_flush);
	for (int i = 0; i < 2; i++)
		conn_end(&sess[i]);
}

/* IDLE refused where it makes no sense; an idling session whose folder is deleted is ended. */
static void test_imap_idle_errors(void **state)
{
	(void)state;
	struct conn c;
	conn_init(&c, CONN_IMAP);
	free(take(&c));
	expect(say_conn(&c, "a IDLE\r\nb LOGIN user1 user1\r\nc UID IDLE\r\nd IDLE x\r\n"),
	       "a BAD log in first\r\n"
	       "b OK [CAPABILITY " CAPS "] LOGIN completed\r\n"
	       "c BAD UID: only FETCH, STORE, SEARCH, COPY, MOVE and EXPUNGE\r\n"
	       "d BAD unknown or unsupported command\r\n");
	conn_end(&c);
	assert_int_equal(mstore_box_create(st, 0, "Work"), 0);
	two_sessions("Work");
	expect(say(0, "i IDLE\r\n", false), "+ idling\r\n");
	expect(say(1, "d DELETE Work\r\n", false), "d OK DELETE completed\r\n");
	assert_int_equal(wakes[0], 1);
	expect(woken(0), "* BYE the selected mailbox was deleted\r\n");
	assert_true(sess[0].close_after_flush);
	for (int i = 0; i < 2; i++)
		conn_end(&sess[i]);
}

/* ---- TLS: STARTTLS, AUTH, LOGINDISABLED ---- */

/* What server_net.c does after a session answered STARTTLS: the session has dropped the input
 * that came with the command, and the connection is under TLS from the next byte on. */
static void upgrade(struct conn *c)
{
	assert_true(c->starttls && c->tls);
	assert_int_equal(buf_pending(&c->in), 0);
	c->starttls = false;
}

/* RFC 3207: STARTTLS advertised, then 220; the MAIL and RCPT pipelined after it (an attacker's
 * injection, CVE-2011-0411) are dropped, not run after the handshake; the session starts afresh
 * (EHLO first), EHLO now offers AUTH and no STARTTLS. */
static void test_smtp_starttls(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c, CONN_SMTP, &cfg_tls, false);
	const char *in = "EHLO a.test\r\nSTARTTLS\r\nMAIL FROM:<evil@x.test>\r\n"
	                 "RCPT TO:<user1@vcons.test>\r\n";
	feed(&c, in, strlen(in), false);
	char *out = take(&c);
	assert_string_equal(out, "220 vcons.test ESMTP vcons-mail ready\r\n"
	                         "250-vcons.test greets a.test\r\n250-SIZE 4096\r\n"
	                         "250-8BITMIME\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
	                         "250 ENHANCEDSTATUSCODES\r\n"
	                         "220 2.0.0 Ready to start TLS\r\n");
	free(out);
	upgrade(&c);
	in = "MAIL FROM:<a@b.test>\r\nEHLO a.test\r\nSTARTTLS\r\nQUIT\r\n";
	feed(&c, in, strlen(in), false);
	out = take(&c);
	assert_string_equal(out, "503 5.5.1 Send EHLO or HELO first\r\n"
	                         "250-vcons.test greets a.test\r\n250-SIZE 4096\r\n"
	                         "250-8BITMIME\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n"
	                         "250 ENHANCEDSTATUSCODES\r\n"
	                         "503 5.5.1 TLS already active\r\n"
	                         "221 2.0.0 vcons.test closing connection\r\n");
	free(out);
	conn_end(&c);
	/* no TLS to offer: no STARTTLS in EHLO, and it is a verb not implemented here */
	conn_open(&c, CONN_SMTP, &cfg, false);
	in = "EHLO a.test\r\nSTARTTLS\r\nAUTH PLAIN AHVzZXIxAHVzZXIx\r\n";
	feed(&c, in, strlen(in), false);
	out = take(&c);
	assert_null(strstr(out, "STARTTLS"));
	assert_non_null(strstr(out, "ENHANCEDSTATUSCODES\r\n502 5.5.1 Command not implemented\r\n"
	                            "502 5.5.1 Command not implemented\r\n"));
	assert_false(c.starttls || c.tls);
	free(out);
	conn_end(&c);
}

/* AUTH is refused in the clear (538) and with --require-tls so is MAIL (530). */
static void test_smtp_auth_needs_tls(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c, CONN_SMTP, &cfg_req, false);
	const char *in = "EHLO a.test\r\nAUTH PLAIN AHVzZXIxAHVzZXIx\r\nAUTH LOGIN\r\n"
	                 "MAIL FROM:<a@b.test>\r\n";
	feed(&c, in, strlen(in), false);
	char *out = take(&c);
	const char *want[] = {
		"250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n",
		"538 5.7.11 Encryption required for requested authentication mechanism\r\n"
		"538 5.7.11 Encryption required for requested authentication mechanism\r\n"
		"530 5.7.0 Must issue a STARTTLS command first\r\n",
	};
	want_in_order(out, want, 2);
	assert_null(strstr(out, "AUTH PLAIN LOGIN"));
	free(out);
	conn_end(&c);
}

/* AUTH PLAIN and LOGIN (RFC 4954) on the submission port, whole and byte by byte: MAIL needs AUTH
 * first; bad credentials, a cancelled exchange, bad base64, an unknown mechanism, AUTH during a
 * transaction and a second AUTH are refused; each form then works. */
static void smtp_auth(bool bytewise)
{
	struct conn c;
	conn_open(&c, CONN_SMTP, &cfg_tls, true);
	/* "\0user1\0user1" = AHVzZXIxAHVzZXIx; "\0user1\0wrong" = AHVzZXIxAHdyb25n; "user2" =
	 * dXNlcjI=; "user2" as password too */
	const char *in = "EHLO a.test\r\n"
	                 "MAIL FROM:<a@b.test>\r\n"
	                 "AUTH PLAIN AHVzZXIxAHdyb25n\r\n"
	                 "AUTH PLAIN\r\n*\r\n"
	                 "AUTH PLAIN\r\n#bad#\r\n"
	                 "AUTH CRAM-MD5\r\n"
	                 "AUTH LOGIN\r\ndXNlcjI=\r\nd3Jvbmc=\r\n"
	                 "AUTH LOGIN dXNlcjI=\r\ndXNlcjI=\r\n"
	                 "AUTH PLAIN AHVzZXIxAHVzZXIx\r\n"
	                 "MAIL FROM:<a@b.test>\r\n"
	                 "QUIT\r\n";
	feed(&c, in, strlen(in), bytewise);
	char *out = take(&c);
	const char *want[] = {
		"250-AUTH PLAIN LOGIN\r\n",
		"530 5.7.0 Authentication required\r\n",
		"535 5.7.8 Authentication credentials invalid\r\n",
		"334 \r\n501 5.0.0 Authentication cancelled\r\n",
		"334 \r\n501 5.5.2 Cannot decode the response\r\n",
		"504 5.5.4 Unrecognized authentication type\r\n",
		"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n535 5.7.8",
		"334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n",
		"503 5.5.1 Already authenticated\r\n",
		"250 2.1.0 Sender OK\r\n",
		"221 2.0.0",
	};
	want_in_order(out, want, sizeof(want) / sizeof(want[0]));
	free(out);
	conn_end(&c);
	/* PLAIN after "334 ", then AUTH inside a transaction */
	conn_open(&c, CONN_SMTP, &cfg_tls, true);
	in = "EHLO a.test\r\nAUTH PLAIN\r\nAHVzZXIxAHVzZXIx\r\nMAIL FROM:<a@b.test>\r\n"
	     "AUTH LOGIN\r\n";
	feed(&c, in, strlen(in), bytewise);
	out = take(&c);
	const char *want2[] = { "334 \r\n235 2.7.0", "250 2.1.0 Sender OK\r\n503 5.5.1 Already" };
	want_in_order(out, want2, 2);
	free(out);
	conn_end(&c);
}

static void test_smtp_auth_whole(void **state)
{
	(void)state;
	smtp_auth(false);
}

static void test_smtp_auth_bytewise(void **state)
{
	(void)state;
	smtp_auth(true);
}

/* RFC 3501 6.2.1: STARTTLS before login; the LOGIN pipelined after it is dropped; the capabilities
 * change; STARTTLS again, or after login, is BAD. */
static void test_imap_starttls(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c, CONN_IMAP, &cfg_tls, false);
	const char *in = "a1 CAPABILITY\r\na2 STARTTLS\r\na3 LOGIN user1 user1\r\n";
	feed(&c, in, strlen(in), false);
	char *out = take(&c);
	assert_string_equal(out, "* OK [CAPABILITY " IMAP_CAPS " STARTTLS AUTH=PLAIN SASL-IR] "
	                         "vcons-mail IMAP ready\r\n"
	                         "* CAPABILITY " IMAP_CAPS " STARTTLS AUTH=PLAIN SASL-IR\r\n"
	                         "a1 OK CAPABILITY completed\r\n"
	                         "a2 OK Begin TLS negotiation now\r\n");
	free(out);
	upgrade(&c);
	in = "b1 CAPABILITY\r\nb2 STARTTLS\r\nb3 SELECT INBOX\r\nb4 LOGIN user1 user1\r\n"
	     "b5 STARTTLS\r\n";
	feed(&c, in, strlen(in), false);
	out = take(&c);
	const char *want[] = {
		"* CAPABILITY " IMAP_CAPS " AUTH=PLAIN SASL-IR\r\nb1 OK",
		"b2 BAD TLS is already active\r\n",
		"b3 BAD log in first\r\n", /* a3 was not run */
		"b4 OK [CAPABILITY " IMAP_CAPS "] LOGIN completed\r\n",
		"b5 BAD",
	};
	want_in_order(out, want, sizeof(want) / sizeof(want[0]));
	free(out);
	conn_end(&c);
	/* in the clear: STARTTLS after login is BAD; no TLS to offer: not advertised, BAD */
	conn_open(&c, CONN_IMAP, &cfg_tls, false);
	in = "c1 LOGIN user1 user1\r\nc2 STARTTLS\r\n";
	feed(&c, in, strlen(in), false);
	out = take(&c);
	assert_non_null(strstr(out, "c2 BAD STARTTLS only before login\r\n"));
	assert_false(c.starttls || c.tls);
	free(out);
	conn_end(&c);
	conn_open(&c, CONN_IMAP, &cfg, false);
	in = "d1 STARTTLS\r\n";
	feed(&c, in, strlen(in), false);
	out = take(&c);
	assert_null(strstr(out, "STARTTLS AUTH"));
	assert_non_null(strstr(out, "d1 BAD STARTTLS is not offered here"));
	assert_false(c.starttls || c.tls);
	free(out);
	conn_end(&c);
}

/* --require-tls: LOGINDISABLED, LOGIN and AUTHENTICATE refused before STARTTLS, then
 * AUTHENTICATE PLAIN (with a continuation, whole and byte by byte; cancelled; SASL-IR with bad
 * credentials; another mechanism) and the session is logged in. */
static void imap_logindisabled(bool bytewise)
{
	struct conn c;
	conn_open(&c, CONN_IMAP, &cfg_req, false);
	const char *in = "a1 LOGIN user1 user1\r\na2 AUTHENTICATE PLAIN AHVzZXIxAHVzZXIx\r\n"
	                 "a3 STARTTLS\r\n";
	feed(&c, in, strlen(in), bytewise);
	char *out = take(&c);
	assert_string_equal(out,
	                    "* OK [CAPABILITY " IMAP_CAPS " STARTTLS LOGINDISABLED] "
	                    "vcons-mail IMAP ready\r\n"
	                    "a1 NO [PRIVACYREQUIRED] LOGIN is disabled until STARTTLS\r\n"
	                    "a2 NO [PRIVACYREQUIRED] AUTHENTICATE needs TLS: STARTTLS first\r\n"
	                    "a3 OK Begin TLS negotiation now\r\n");
	free(out);
	upgrade(&c);
	in = "b1 CAPABILITY\r\n"
	     "b2 AUTHENTICATE PLAIN\r\n*\r\n"
	     "b3 AUTHENTICATE PLAIN AHVzZXIxAHdyb25n\r\n"
	     "b4 AUTHENTICATE CRAM-MD5\r\n"
	     "b5 AUTHENTICATE PLAIN\r\n!!!!\r\n"
	     "b6 AUTHENTICATE PLAIN\r\nAHVzZXIxAHVzZXIx\r\n"
	     "b7 SELECT INBOX\r\n"
	     "b8 AUTHENTICATE PLAIN\r\n";
	feed(&c, in, strlen(in), bytewise);
	out = take(&c);
	const char *want[] = {
		"* CAPABILITY " IMAP_CAPS " AUTH=PLAIN SASL-IR\r\nb1 OK",
		"+ \r\nb2 BAD AUTHENTICATE cancelled\r\n",
		"b3 NO [AUTHENTICATIONFAILED] invalid credentials\r\n",
		"b4 NO unsupported authentication mechanism\r\n",
		"+ \r\nb5 BAD AUTHENTICATE: malformed PLAIN response\r\n",
		"+ \r\nb6 OK [CAPABILITY " IMAP_CAPS "] AUTHENTICATE completed\r\n",
		"b7 OK [READ-WRITE] SELECT completed\r\n",
		"b8 BAD already logged in\r\n",
	};
	want_in_order(out, want, sizeof(want) / sizeof(want[0]));
	free(out);
	conn_end(&c);
}

static void test_imap_logindisabled_whole(void **state)
{
	(void)state;
	imap_logindisabled(false);
}

static void test_imap_logindisabled_bytewise(void **state)
{
	(void)state;
	imap_logindisabled(true);
}

/* An APPEND's message literal may be as large as --max-size (here 1 MiB), far above the 64 KiB
 * other literals and a command's lines are held to; a second literal in the command is not; one
 * over --max-size is refused TOOBIG. */
static void test_imap_append_large(void **state)
{
	(void)state;
	const struct server_cfg big = { .addr = "127.0.0.1", .max_size = 1u << 20, .threads = 1 };
	enum { N = 300 * 1024 };
	struct conn c;
	conn_open(&c, CONN_IMAP, &big, false);
	free(take(&c));
	free(say_conn(&c, "a LOGIN user1 user1\r\n"));
	char *msg = malloc(N + 64);
	size_t o = (size_t)snprintf(msg, N + 64, "b APPEND INBOX {%d+}\r\nSubject: big\r\n\r\n", N);
	memset(msg + o, 'x', N - 16); /* after the 16 bytes of header */
	o += N - 16;
	memcpy(msg + o, "\r\n", 3);
	feed(&c, msg, o + 2, false);
	char *out = take(&c);
	if (!strstr(out, "b OK [APPENDUID "))
		fail_msg("%.300s", out);
	free(out);
	uint32_t next;
	struct ms_msg *m;
	size_t n;
	assert_int_equal(mstore_scan(st, 0, MS_INBOX, 0, &m, &n, &next), 0);
	assert_true(n == 1 && m[0].size == N);
	free(m);
	/* the message literal, then a second one of 100,000 bytes: over IMAP_CMD_MAX, the command
	 * is too long */
	o = (size_t)snprintf(msg, N + 64, "c APPEND INBOX {%d}\r\n", 10);
	feed(&c, msg, o, false);
	free(take(&c));
	feed(&c, "0123456789 {100000}\r\n", 21, false);
	out = take(&c);
	assert_non_null(strstr(out, "c BAD command too long"));
	free(out);
	out = say_conn(&c, "d APPEND INBOX {2000000}\r\n");
	if (!strstr(out, "d NO [TOOBIG]"))
		fail_msg("%.300s", out);
	free(out);
	free(msg);
	conn_end(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_smtp_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_bytewise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_bare_lf_dot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_bytewise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_folders_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_folders_bytewise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_refused_literal_plus_closes, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_imap_fetch_pauses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_append_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_structure_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_structure_bytewise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_idle_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_idle_bytewise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_updates_at_command_boundaries, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_imap_idle_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_starttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_auth_needs_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_auth_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smtp_auth_bytewise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_starttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_logindisabled_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imap_logindisabled_bytewise, setup, teardown),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name(__FILE__, tests, NULL, NULL);
}
