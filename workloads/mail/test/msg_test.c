/* Unit tests for the message layer of libmailproto (mime.h, imap_msg.h): the MIME tree of nested
 * multiparts and message/rfc822 parts, ENVELOPE and BODYSTRUCTURE checked against answers derived
 * by hand from RFC 3501 7.4.2, BODY[section] ranges, malformed and truncated messages (every
 * prefix, each in an allocation of its own size so that ASan sees any read past it), and SEARCH
 * programs parsed and evaluated. */
#include "tools/unit.h"
#include "workloads/mail/imap_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(x) x, strlen(x)

struct str {
	char *p;
	size_t len;
};

static void str_put(void *ctx, const void *p, size_t n)
{
	struct str *s = ctx;
	s->p = realloc(s->p, s->len + n + 1);
	assert_non_null(s->p);
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = 0;
}

/* ENVELOPE (env true) or BODYSTRUCTURE/BODY of entity ent as a string; free it. */
static char *view(const struct mime_msg *m, int ent, int what)
{
	struct str s = { calloc(1, 1), 0 };
	struct mp_sink o = { str_put, &s };
	if (what == 0)
		imap_envelope(m, ent, &o);
	else
		imap_bodystructure(m, ent, what == 1, &o);
	return s.p;
}

static void check_view(const struct mime_msg *m, int ent, int what, const char *want)
{
	char *got = view(m, ent, what);
	if (strcmp(got, want) != 0)
		fail_msg("view %d of entity %d:\n got: %s\nwant: %s", what, ent, got, want);
	free(got);
}

static const char simple_msg[] =
    "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
    "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\r\n"
    "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\r\n"
    "Subject: Saying\r\n Hello\r\n"
    "Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
    "Message-ID: <1234@local.machine.example>\r\n"
    "\r\n"
    "This is a message just to say hello.\r\n"
    "So, \"Hello\".\r\n";

static void test_simple(void **state)
{
	(void)state;
	struct mime_msg m;
	assert_int_equal(mime_parse(&m, S(simple_msg)), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.e[0].kind, MIME_LEAF);
	assert_int_equal(m.e[0].body_len, 52);
	assert_int_equal(m.e[0].lines, 2);
	const char *from = "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))";
	char want[1024];
	snprintf(want, sizeof(want),
	         "(\"Fri, 21 Nov 1997 09:55:06 -0600\" \"Saying Hello\" %s %s %s "
	         "((\"Mary Smith\" NIL \"mary\" \"x.test\")(NIL NIL \"jdoe\" \"example.org\")"
	         "(\"Who?\" NIL \"one\" \"y.test\")) "
	         "((NIL NIL \"boss\" \"nil.test\")"
	         "(\"Giant; \\\"Big\\\" Box\" NIL \"sysservices\" \"example.net\")) "
	         "NIL NIL \"<1234@local.machine.example>\")",
	         from, from, from);
	check_view(&m, 0, 0, want);
	check_view(
	    &m, 0, 1,
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 52 2 NIL NIL NIL "
	    "NIL)");
	check_view(&m, 0, 2,
	           "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 52 2)");
	/* BODY[1] of a message that is no multipart is its body; BODY[2] does not exist */
	struct mp_fetch_body b = { .nparts = 1, .part = { 1 } };
	size_t off, len;
	assert_true(imap_section(&m, &b, &off, &len));
	assert_int_equal(off, sizeof(simple_msg) - 1 - 52);
	assert_int_equal(len, 52);
	b.part[0] = 2;
	assert_false(imap_section(&m, &b, &off, &len));
	mime_free(&m);
}

static const char nested_msg[] = "From: a@b.test\r\n"
                                 "Subject: nest\r\n"
                                 "X-Other: yes\r\n"
                                 "MIME-Version: 1.0\r\n"
                                 "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                                 "\r\n"
                                 "preamble\r\n"
                                 "--outer\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Transfer-Encoding: quoted-printable\r\n"
                                 "\r\n"
                                 "part one\r\n"
                                 "--outer\r\n"
                                 "Content-Type: multipart/alternative; boundary=inner\r\n"
                                 "\r\n"
                                 "--inner\r\n"
                                 "\r\n"
                                 "plain\r\n"
                                 "--inner\r\n"
                                 "Content-Type: text/html\r\n"
                                 "Content-Disposition: inline; filename=\"a.html\"\r\n"
                                 "Content-Language: en, de\r\n"
                                 "\r\n"
                                 "<b>x</b>\r\n"
                                 "--inner--\r\n"
                                 "--outer\r\n"
                                 "Content-Type: message/rfc822\r\n"
                                 "Content-ID: <id1@x>\r\n"
                                 "Content-Description: fwd\r\n"
                                 "\r\n"
                                 "From: c@d.test\r\n"
                                 "Subject: inside\r\n"
                                 "Content-Type: multipart/mixed; boundary=x\r\n"
                                 "\r\n"
                                 "--x\r\n"
                                 "Content-Type: application/octet-stream; name=b.bin\r\n"
                                 "Content-Transfer-Encoding: base64\r\n"
                                 "\r\n"
                                 "AAEC\r\n"
                                 "--x--\r\n"
                                 "--outer--\r\n"
                                 "epilogue\r\n";

/* The bytes BODY[section] names, as a string (NULL: no such section); free it. */
static char *section(const struct mime_msg *m, const char *spec)
{
	struct mp_imap_cur c;
	struct mp_fetch f;
	mp_imap_cur_init(&c, spec, strlen(spec));
	assert_true(mp_fetch_parse(&c, &f));
	size_t off, len;
	if (!imap_section(m, &f.body[0], &off, &len))
		return NULL;
	char *s = malloc(len + 5);
	assert_non_null(s);
	if (f.body[0].sec == MP_SEC_FIELDS || f.body[0].sec == MP_SEC_FIELDS_NOT)
		len = imap_header_fields(m->p + off, len, &f.body[0], s);
	else
		memcpy(s, m->p + off, len);
	s[len] = 0;
	return s;
}

static void check_section(const struct mime_msg *m, const char *spec, const char *want)
{
	char *got = section(m, spec);
	if (!want && got)
		fail_msg("%s: expected no such section, got \"%s\"", spec, got);
	if (want && (!got || strcmp(got, want) != 0))
		fail_msg("%s:\n got: \"%s\"\nwant: \"%s\"", spec, got ? got : "(none)", want);
	free(got);
}

static void test_nested(void **state)
{
	(void)state;
	struct mime_msg m;
	assert_int_equal(mime_parse(&m, S(nested_msg)), 0);
	/* part 3's body: the message inside, up to the CRLF before the close delimiter */
	const char *ib = strstr(nested_msg, "From: c@d.test"), *ie = strstr(ib, "\r\n--outer--");
	char inner_body[512];
	snprintf(inner_body, sizeof(inner_body), "%.*s", (int)(ie - ib), ib);
	assert_true(strncmp(inner_body + strlen(inner_body) - 5, "--x--", 5) == 0);
	const char *inside_from = "((NIL NIL \"c\" \"d.test\"))";
	char want[2048];
	snprintf(
	    want, sizeof(want),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 8 1 NIL "
	    "NIL NIL NIL)"
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL "
	    "NIL)"
	    "(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 8 1 NIL (\"INLINE\" (\"FILENAME\" "
	    "\"a.html\")) (\"en\" \"de\") NIL) \"ALTERNATIVE\" (\"BOUNDARY\" \"inner\") NIL NIL "
	    "NIL)"
	    "(\"MESSAGE\" \"RFC822\" NIL \"<id1@x>\" \"fwd\" \"7BIT\" %zu "
	    "(NIL \"inside\" %s %s %s NIL NIL NIL NIL NIL) "
	    "((\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"b.bin\") NIL NIL \"BASE64\" 4 NIL "
	    "NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"x\") NIL NIL NIL) 10 NIL NIL NIL NIL) "
	    "\"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)",
	    strlen(inner_body), inside_from, inside_from, inside_from);
	check_view(&m, 0, 1, want);
	check_view(&m, 0, 0,
	           "(NIL \"nest\" ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) "
	           "((NIL NIL \"a\" \"b.test\")) NIL NIL NIL NIL NIL)");
	/* BODY (non-extensible): no extension data anywhere */
	char *body = view(&m, 0, 2);
	assert_non_null(strstr(body, "(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 8 1)"));
	assert_non_null(strstr(body, "\"ALTERNATIVE\")"));
	assert_non_null(strstr(body, ") \"MIXED\")"));
	free(body);

	check_section(&m, "BODY[1]", "part one");
	check_section(&m, "BODY[2.1]", "plain");
	check_section(&m, "BODY[2.1.MIME]", "\r\n");
	check_section(&m, "BODY[2.2]", "<b>x</b>");
	check_section(&m, "BODY[2.2.MIME]",
	              "Content-Type: text/html\r\n"
	              "Content-Disposition: inline; filename=\"a.html\"\r\n"
	              "Content-Language: en, de\r\n\r\n");
	check_section(&m, "BODY[3]", inner_body);
	check_section(&m, "BODY[3.HEADER]",
	              "From: c@d.test\r\nSubject: inside\r\n"
	              "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	check_section(&m, "BODY[3.HEADER.FIELDS (subject)]", "Subject: inside\r\n\r\n");
	check_section(&m, "BODY[3.1]", "AAEC");
	check_section(&m, "BODY[3.1.MIME]",
	              "Content-Type: application/octet-stream; name=b.bin\r\n"
	              "Content-Transfer-Encoding: base64\r\n\r\n");
	check_section(&m, "BODY[HEADER.FIELDS (SUBJECT FROM)]",
	              "From: a@b.test\r\nSubject: nest\r\n\r\n");
	check_section(&m, "BODY[HEADER.FIELDS.NOT (Subject From MIME-Version Content-Type)]",
	              "X-Other: yes\r\n\r\n");
	check_section(&m, "BODY[HEADER.FIELDS (X-None)]", "\r\n");
	check_section(&m, "BODY[4]", NULL);
	check_section(&m, "BODY[1.1]", NULL);
	check_section(&m, "BODY[2.3]", NULL);
	check_section(&m, "BODY[2.HEADER]", NULL);
	check_section(&m, "BODY[3.2]", NULL);
	char *text = section(&m, "BODY[TEXT]");
	assert_true(strncmp(text, "preamble\r\n--outer\r\n", 19) == 0);
	assert_non_null(strstr(text, "epilogue\r\n"));
	free(text);
	mime_free(&m);
}

/* A message/rfc822 whose message inside is no multipart: 1.1 is that message's body. A digest's
 * parts default to message/rfc822. */
static void test_rfc822_digest(void **state)
{
	(void)state;
	static const char msg[] = "Content-Type: multipart/digest; boundary=d\r\n"
	                          "\r\n"
	                          "--d\r\n"
	                          "\r\n"
	                          "Subject: first\r\n"
	                          "\r\n"
	                          "one\r\n"
	                          "--d\r\n"
	                          "Content-Type: message/rfc822\r\n"
	                          "Content-Transfer-Encoding: base64\r\n"
	                          "\r\n"
	                          "U3ViamVjdDogeA0KDQp5DQo=\r\n"
	                          "--d--\r\n";
	struct mime_msg m;
	assert_int_equal(mime_parse(&m, S(msg)), 0);
	check_section(&m, "BODY[1]", "Subject: first\r\n\r\none");
	check_section(&m, "BODY[1.1]", "one");
	check_section(&m, "BODY[1.HEADER]", "Subject: first\r\n\r\n");
	check_section(&m, "BODY[1.TEXT]", "one");
	check_section(&m, "BODY[1.2]", NULL);
	check_section(&m, "BODY[2.1]", NULL); /* encoded: a leaf */
	check_view(
	    &m, 0, 2,
	    "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 21 (NIL \"first\" NIL NIL NIL NIL "
	    "NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3 "
	    "1) 3)"
	    "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 24) \"DIGEST\")");
	mime_free(&m);
}

/* Malformed messages are read as real servers read them, never past their end. */
static void test_malformed(void **state)
{
	(void)state;
	struct mime_msg m;
	/* no close delimiter: the last part runs to the end */
	static const char unclosed[] = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	                               "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n";
	assert_int_equal(mime_parse(&m, S(unclosed)), 0);
	assert_int_equal(m.e[0].kind, MIME_MULTI);
	assert_int_equal(m.e[0].nchild, 2);
	check_section(&m, "BODY[2]", "two\r\n");
	mime_free(&m);
	/* a multipart without a boundary, or whose boundary never comes: one leaf, bytes */
	static const char noboundary[] = "Content-Type: multipart/mixed\r\n\r\n--b\r\nx\r\n";
	assert_int_equal(mime_parse(&m, S(noboundary)), 0);
	assert_int_equal(m.e[0].kind, MIME_LEAF);
	check_view(&m, 0, 2, "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" 8)");
	mime_free(&m);
	/* no blank line: all header; lines that are no fields are skipped; bad Content-Type */
	static const char allhdr[] = "Subject: x\r\nnot a field\r\n : stray\r\nContent-Type: /\r\n";
	assert_int_equal(mime_parse(&m, S(allhdr)), 0);
	assert_int_equal(m.e[0].body_len, 0);
	check_view(&m, 0, 2,
	           "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)");
	check_section(&m, "BODY[HEADER.FIELDS.NOT (Subject)]", "Content-Type: /\r\n\r\n");
	mime_free(&m);
	/* an empty message; bare LF line ends */
	assert_int_equal(mime_parse(&m, "", 0), 0);
	check_view(&m, 0, 0, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	mime_free(&m);
	static const char lf[] = "Subject: lf\nContent-Type: multipart/mixed; boundary=q\n\n--q\n"
	                         "Content-Type: text/plain\n\nhi\n--q--\n";
	assert_int_equal(mime_parse(&m, S(lf)), 0);
	check_section(&m, "BODY[1]", "hi");
	check_section(&m, "BODY[HEADER.FIELDS (subject)]", "Subject: lf\n\r\n");
	mime_free(&m);
	/* nesting deeper than MIME_DEPTH_MAX stops there: the rest is one leaf */
	char deep[8192];
	size_t o = 0;
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(
		    deep + o, sizeof(deep) - o,
		    "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	o += (size_t)snprintf(deep + o, sizeof(deep) - o, "\r\nleaf\r\n");
	assert_int_equal(mime_parse(&m, deep, o), 0);
	assert_int_equal(m.n, MIME_DEPTH_MAX + 1);
	char *bs = view(&m, 0, 1);
	assert_non_null(strstr(bs, "\"APPLICATION\" \"OCTET-STREAM\""));
	free(bs);
	mime_free(&m);
	/* addresses: groups, a source route, no domain, an empty list, comments */
	static const char addrs[] = "From: Team: a@x.test, \"B\" <b@y.test>;, c\r\n"
	                            "To: <@r1.test,@r2.test:d@z.test>\r\n"
	                            "Cc: undisclosed-recipients:;\r\n"
	                            "Bcc: e@w.test (Eve), \r\n"
	                            "Reply-To: \r\n"
	                            "\r\n";
	assert_int_equal(mime_parse(&m, S(addrs)), 0);
	const char *from = "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"x.test\")(\"B\" NIL \"b\" "
	                   "\"y.test\")(NIL NIL NIL NIL)(NIL NIL \"c\" \"\"))";
	char want[1024];
	snprintf(want, sizeof(want),
	         "(NIL NIL %s %s %s ((NIL \"@r1.test,@r2.test\" \"d\" \"z.test\")) "
	         "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	         "((NIL NIL \"e\" \"w.test\")) NIL NIL)",
	         from, from, from);
	check_view(&m, 0, 0, want);
	mime_free(&m);
}

/* Every prefix of the nested message, each in an allocation of exactly its size: parsing and
 * every view stay inside it (ASan) and the tree's ranges do too. */
static void test_truncated(void **state)
{
	(void)state;
	for (size_t n = 0; n <= sizeof(nested_msg) - 1; n++) {
		char *p = malloc(n ? n : 1);
		assert_non_null(p);
		memcpy(p, nested_msg, n);
		struct mime_msg m;
		assert_int_equal(mime_parse(&m, p, n), 0);
		for (unsigned i = 0; i < m.n; i++) {
			assert_true(m.e[i].hdr + m.e[i].hdr_len <= n);
			assert_true(m.e[i].body + m.e[i].body_len <= n);
		}
		free(view(&m, 0, 0));
		free(view(&m, 0, 1));
		free(view(&m, 0, 2));
		free(section(&m, "BODY[3.1.MIME]"));
		free(section(&m, "BODY[HEADER.FIELDS.NOT (From)]"));
		mime_free(&m);
		free(p);
	}
}

/* ---- SEARCH ---- */

static enum mp_search_rc parse(const char *prog, struct mp_search *s)
{
	struct mp_imap_cur c;
	mp_imap_cur_init(&c, prog, strlen(prog));
	return mp_search_parse(&c, s);
}

static void test_search_parse(void **state)
{
	(void)state;
	struct mp_search *s = malloc(sizeof(*s));
	assert_non_null(s);
	const char *good[] = {
		"ALL",
		"UNSEEN FROM joe",
		"OR SEEN (FLAGGED TEXT x)",
		"CHARSET UTF-8 SUBJECT \"hello there\"",
		"charset us-ascii all",
		"1:3,5 UID 2:*",
		"NOT (LARGER 100 SMALLER 10)",
		"HEADER X-Foo \"\"",
		"SENTSINCE 1-Jan-1997 SINCE \"01-Feb-2020\" BEFORE 31-Dec-2030 ON 2-Mar-2024",
		"SENTBEFORE 1-Jan-2000 SENTON 1-Jan-2000",
		"KEYWORD $Forwarded UNKEYWORD x",
		"SUBJECT {5}\r\nHello",
		"ANSWERED DELETED DRAFT NEW OLD RECENT UNANSWERED UNDELETED UNDRAFT UNFLAGGED",
		"BCC a CC b TO c BODY d",
		"((((ALL))))",
		"OR OR 1 2 3",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (parse(good[i], s) != MP_SEARCH_OK)
			fail_msg("should parse: %s", good[i]);
	const char *bad[] = {
		"",
		"FOO",
		"(",
		"()",
		"(ALL",
		"ALL)",
		"OR SEEN",
		"NOT",
		"LARGER x",
		"LARGER 99999999999",
		"SINCE 32-Jan-2000",
		"SINCE 1-Foo-2000",
		"SINCE 1-Jan-20",
		"SINCE \"1-Jan-2000",
		"ALL  ALL",
		"ALL ",
		"UID",
		"UID x",
		"SUBJECT",
		"SUBJECT \"open",
		"0",
		"1:",
		"CHARSET",
		"CHARSET UTF-8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], s) != MP_SEARCH_SYNTAX)
			fail_msg("should be a syntax error: \"%s\"", bad[i]);
	assert_int_equal(parse("CHARSET KOI8-R ALL", s), MP_SEARCH_CHARSET);
	/* limits: too many keys, too many sets */
	char big[4096];
	size_t o = 0;
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%sALL", i ? " " : "");
	assert_int_equal(parse(big, s), MP_SEARCH_LIMIT);
	assert_int_equal(parse("1 2 3 4 5 6 7 8 9", s), MP_SEARCH_LIMIT);
	free(s);
}

static bool matches(const char *prog, const struct mp_search_msg *m)
{
	struct mp_search *s = malloc(sizeof(*s));
	assert_non_null(s);
	if (parse(prog, s) != MP_SEARCH_OK)
		fail_msg("should parse: %s", prog);
	bool r = mp_search_match(s, m);
	free(s);
	return r;
}

static void test_search_eval(void **state)
{
	(void)state;
	struct mime_msg mm;
	assert_int_equal(mime_parse(&mm, S(simple_msg)), 0);
	/* 2026-12-02 10:00:00 UTC */
	int64_t t = mp_days_from_civil(2026, 12, 2) * 86400 + 36000;
	struct mp_search_msg m = { .seq = 3,
		                   .uid = 17,
		                   .max_seq = 5,
		                   .max_uid = 40,
		                   .flags = MP_FLAG_SEEN | MP_FLAG_FLAGGED,
		                   .size = 400,
		                   .time_s = t,
		                   .msg = &mm };
	const char *yes[] = {
		"ALL",
		"SEEN FLAGGED UNANSWERED UNDELETED UNDRAFT OLD",
		"3",
		"2:4",
		"*:3",
		"UID 17",
		"UID 10:*",
		"LARGER 399 SMALLER 401",
		"ON 2-Dec-2026 SINCE 2-Dec-2026 BEFORE 3-Dec-2026",
		"SENTON 21-Nov-1997 SENTSINCE 21-Nov-1997 SENTBEFORE 22-Nov-1997",
		"FROM \"joe q. PUBLIC\"",
		"FROM john.q.public@EXAMPLE.com",
		"TO jdoe",
		"CC \"giant; \"",
		"SUBJECT \"saying hello\"", /* unfolded */
		"HEADER Message-ID 1234@local",
		"HEADER message-id \"\"",
		"BODY \"SO, \\\"HELLO\"",
		"TEXT mary",
		"TEXT hello.",
		"NOT BODY mary",
		"OR ANSWERED SEEN",
		"NOT (ANSWERED SEEN)",
		"UNKEYWORD $Junk",
		"CHARSET UTF-8 (SUBJECT hello FROM joe)",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!matches(yes[i], &m))
			fail_msg("should match: %s", yes[i]);
	const char *no[] = {
		"UNSEEN",
		"ANSWERED",
		"DELETED",
		"DRAFT",
		"NEW",
		"RECENT",
		"4:5",
		"UID 18:20",
		"UID 41:*", /* 41:* is 40:41 with the largest UID 40: still no 17 */
		"LARGER 400",
		"SMALLER 400",
		"ON 1-Dec-2026",
		"BEFORE 2-Dec-2026",
		"SINCE 3-Dec-2026",
		"SENTSINCE 22-Nov-1997",
		"SENTBEFORE 21-Nov-1997",
		"FROM mary",
		"BCC mary",
		"SUBJECT goodbye",
		"HEADER X-Missing \"\"",
		"BODY \"Mary Smith\"",
		"KEYWORD $Forwarded",
		"NOT ALL",
		"OR ANSWERED DRAFT",
		"SEEN ANSWERED",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (matches(no[i], &m))
			fail_msg("should not match: %s", no[i]);
	/* a message without a Date: no SENT* key matches it */
	struct mime_msg nodate;
	assert_int_equal(mime_parse(&nodate, S("Subject: x\r\n\r\n")), 0);
	m.msg = &nodate;
	assert_false(matches("SENTBEFORE 1-Jan-3000", &m));
	assert_false(matches("SENTSINCE 1-Jan-1900", &m));
	assert_true(matches("NOT SENTON 1-Jan-2000", &m));
	mime_free(&nodate);
	mime_free(&mm);
}

UNIT_MAIN(cmocka_unit_test(test_simple), cmocka_unit_test(test_nested),
          cmocka_unit_test(test_rfc822_digest), cmocka_unit_test(test_malformed),
          cmocka_unit_test(test_truncated), cmocka_unit_test(test_search_parse),
          cmocka_unit_test(test_search_eval))
