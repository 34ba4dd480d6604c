/* Unit tests for workloads/mail/mailproto: line limits, SMTP commands, dot-stuffing round trips,
 * SASL responses and base64, IMAP literals, tokens, sequence sets, FETCH attributes and STORE flag
 * lists. */
#include "tools/unit.h"
#include "workloads/mail/mailproto.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define S(x) x, strlen(x)

static void test_lines(void **state)
{
	(void)state;
	struct mp_lines lr;
	size_t len, used;
	mp_lines_init(&lr, 10);
	assert_int_equal(mp_lines_next(&lr, S("abc\r\nde"), &len, &used), MP_LINE_OK);
	assert_int_equal(len, 3);
	assert_int_equal(used, 5);
	assert_int_equal(mp_lines_next(&lr, S("de"), &len, &used), MP_LINE_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(mp_lines_next(&lr, S("bare\n"), &len, &used), MP_LINE_OK);
	assert_int_equal(len, 4);
	/* exactly at the limit: 8 chars + CRLF = 10 bytes */
	assert_int_equal(mp_lines_next(&lr, S("12345678\r\n"), &len, &used), MP_LINE_OK);
	assert_int_equal(len, 8);
	/* one over: reported once, at its end, in pieces */
	assert_int_equal(mp_lines_next(&lr, S("123456789\r"), &len, &used), MP_LINE_MORE);
	assert_int_equal(used, 10);
	assert_true(lr.skipping);
	assert_int_equal(mp_lines_next(&lr, S("xx\nNEXT\r\n"), &len, &used), MP_LINE_TOOLONG);
	assert_int_equal(used, 3);
	assert_int_equal(mp_lines_next(&lr, S("NEXT\r\n"), &len, &used), MP_LINE_OK);
	assert_int_equal(len, 4);
	/* a long line that arrives whole */
	assert_int_equal(mp_lines_next(&lr, S("aaaaaaaaaaaaaaaaaaaa\r\nok\r\n"), &len, &used),
	                 MP_LINE_TOOLONG);
	assert_int_equal(used, 22);
}

static void test_smtp(void **state)
{
	(void)state;
	struct mp_smtp_cmd c;
	mp_smtp_parse(S("EHLO client.example"), &c);
	assert_int_equal(c.verb, MP_SMTP_EHLO);
	assert_true(c.syntax_ok);
	assert_string_equal(c.arg, "client.example");
	mp_smtp_parse(S("ehlo"), &c);
	assert_false(c.syntax_ok);
	/* the domain is echoed in the reply: no controls or 8-bit bytes (fuzz corpus: ehlo-8bit) */
	mp_smtp_parse(S("EHLO a\rb"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("HELO h\xf4st"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("HELO [127.0.0.1]"), &c);
	assert_true(c.syntax_ok);
	mp_smtp_parse(S("MAIL FROM:<a@b.c> SIZE=1234 BODY=8BITMIME"), &c);
	assert_int_equal(c.verb, MP_SMTP_MAIL);
	assert_true(c.syntax_ok);
	assert_string_equal(c.arg, "a@b.c");
	assert_true(c.has_size);
	assert_int_equal(c.size, 1234);
	mp_smtp_parse(S("mail from:<>"), &c);
	assert_true(c.syntax_ok);
	assert_string_equal(c.arg, "");
	mp_smtp_parse(S("MAIL FROM:a@b.c"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("MAIL FROM:<a@b.c> SIZE=12x"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("RCPT TO:<user1@vcons.test>"), &c);
	assert_int_equal(c.verb, MP_SMTP_RCPT);
	assert_true(c.syntax_ok);
	assert_string_equal(c.arg, "user1@vcons.test");
	mp_smtp_parse(S("RCPT TO:<@relay.x:user2@vcons.test>"), &c);
	assert_true(c.syntax_ok);
	assert_string_equal(c.arg, "user2@vcons.test");
	mp_smtp_parse(S("RCPT TO:<>"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("RCPT TO:<@x,@y:>"), &c); /* fuzz corpus: rcpt-empty-after-route */
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("RCPT TO:<a b>"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("DATA"), &c);
	assert_int_equal(c.verb, MP_SMTP_DATA);
	assert_true(c.syntax_ok);
	mp_smtp_parse(S("DATA now"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("VRFY x"), &c);
	assert_int_equal(c.verb, MP_SMTP_NOTIMPL);
	mp_smtp_parse(S("FOO"), &c);
	assert_int_equal(c.verb, MP_SMTP_UNKNOWN);
	mp_smtp_parse(S("DATAX"), &c);
	assert_int_equal(c.verb, MP_SMTP_UNKNOWN);
	mp_smtp_parse("", 0, &c);
	assert_int_equal(c.verb, MP_SMTP_UNKNOWN);
	char big[600];
	memset(big, 'a', sizeof(big));
	memcpy(big, "MAIL FROM:<", 11);
	big[599] = '>';
	mp_smtp_parse(big, sizeof(big), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("STARTTLS"), &c);
	assert_int_equal(c.verb, MP_SMTP_STARTTLS);
	assert_true(c.syntax_ok);
	mp_smtp_parse(S("starttls now"), &c);
	assert_int_equal(c.verb, MP_SMTP_STARTTLS);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("AUTH PLAIN"), &c);
	assert_int_equal(c.verb, MP_SMTP_AUTH);
	assert_true(c.syntax_ok);
	assert_string_equal(c.arg, "PLAIN");
	assert_null(c.resp);
	mp_smtp_parse(S("auth login dXNlcjE="), &c);
	assert_true(c.syntax_ok);
	assert_string_equal(c.arg, "login");
	assert_int_equal(c.resp_len, 8);
	assert_memory_equal(c.resp, "dXNlcjE=", 8);
	mp_smtp_parse(S("AUTH"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("AUTH PLAIN a b"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("AUTH PLAIN "), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse("AUTH \0\0", 7, &c); /* fuzz corpus: auth-nul-mechanism */
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("AUTH PL\x01AIN"), &c);
	assert_false(c.syntax_ok);
	mp_smtp_parse(S("AUTH SCRAM-SHA-256-PLUS"), &c);
	assert_true(c.syntax_ok);
	mp_smtp_parse(S("AUTH ABCDEFGHIJKLMNOPQRSTU"), &c); /* 21 characters */
	assert_false(c.syntax_ok);
}

/* base64 both ways against RFC 4648's test vectors; SASL PLAIN (RFC 4616) and LOGIN responses. */
static void test_sasl(void **state)
{
	(void)state;
	static const char *const vec[][2] = { { "", "" },
		                              { "f", "Zg==" },
		                              { "fo", "Zm8=" },
		                              { "foo", "Zm9v" },
		                              { "foob", "Zm9vYg==" },
		                              { "fooba", "Zm9vYmE=" },
		                              { "foobar", "Zm9vYmFy" } };
	char buf[64];
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(mp_base64_encode(vec[i][0], strlen(vec[i][0]), buf, sizeof(buf)),
		                 strlen(vec[i][1]));
		assert_string_equal(buf, vec[i][1]);
		assert_int_equal(mp_base64_decode(S(vec[i][1]), buf, sizeof(buf)),
		                 strlen(vec[i][0]));
		assert_string_equal(buf, vec[i][0]);
	}
	assert_int_equal(mp_base64_decode(S("Zm9"), buf, sizeof(buf)), -1);       /* length */
	assert_int_equal(mp_base64_decode(S("Zm9v Zg=="), buf, sizeof(buf)), -1); /* space */
	assert_int_equal(mp_base64_decode(S("Z=9v"), buf, sizeof(buf)), -1);      /* inner pad */
	assert_int_equal(mp_base64_decode(S("Zg==="), buf, sizeof(buf)), -1);
	assert_int_equal(mp_base64_decode(S("Z*9v"), buf, sizeof(buf)), -1);
	assert_int_equal(mp_base64_decode(S("Zm9vYmFy"), buf, 6), -1); /* no room for the NUL */
	assert_int_equal(mp_base64_decode(S("Zm9vYmFy"), buf, 7), 6);
	assert_int_equal(mp_base64_encode("foobar", 6, buf, 8), -1);

	char user[MP_SASL_MAX], pass[MP_SASL_MAX], resp[512];
	assert_int_equal(mp_sasl_plain_encode("user1", "p w", resp, sizeof(resp)), 16);
	assert_string_equal(resp, "AHVzZXIxAHAgdw==");
	assert_int_equal(mp_sasl_plain(S("AHVzZXIxAHAgdw=="), user, pass), MP_SASL_OK);
	assert_string_equal(user, "user1");
	assert_string_equal(pass, "p w");
	/* "user1\0user1\0pw": an authzid naming the user itself */
	assert_int_equal(mp_sasl_plain(S("dXNlcjEAdXNlcjEAcHc="), user, pass), MP_SASL_OK);
	assert_string_equal(pass, "pw");
	/* "\0user1\0": an empty password is a password */
	assert_int_equal(mp_sasl_plain(S("AHVzZXIxAA=="), user, pass), MP_SASL_OK);
	assert_string_equal(pass, "");
	assert_int_equal(mp_sasl_plain(S("*"), user, pass), MP_SASL_CANCEL);
	assert_int_equal(mp_sasl_plain(S("="), user, pass), MP_SASL_BAD);
	assert_int_equal(mp_sasl_plain(S(""), user, pass), MP_SASL_BAD);
	assert_int_equal(mp_sasl_plain(S("!!!!"), user, pass), MP_SASL_BAD);
	/* "admin\0user1\0pw": proxy authorisation is not done */
	assert_int_equal(mp_sasl_plain(S("YWRtaW4AdXNlcjEAcHc="), user, pass), MP_SASL_BAD);
	/* "\0\0pw": no user; "\0user1pw": one NUL; "\0u\0p\0": three */
	assert_int_equal(mp_sasl_plain(S("AABwdw=="), user, pass), MP_SASL_BAD);
	assert_int_equal(mp_sasl_plain(S("AHVzZXIxcHc="), user, pass), MP_SASL_BAD);
	assert_int_equal(mp_sasl_plain(S("AHUAcAA="), user, pass), MP_SASL_BAD);
	/* a password of MP_SASL_MAX bytes does not fit */
	char longpw[MP_SASL_MAX + 1];
	memset(longpw, 'p', MP_SASL_MAX);
	longpw[MP_SASL_MAX] = 0;
	assert_int_equal(mp_sasl_plain_encode("u", longpw, resp, sizeof(resp)), -1);
	char msg[MP_SASL_MAX + 4] = { 0, 'u', 0 };
	memset(msg + 3, 'p', MP_SASL_MAX);
	assert_true(mp_base64_encode(msg, MP_SASL_MAX + 3, resp, sizeof(resp)) > 0);
	assert_int_equal(mp_sasl_plain(resp, strlen(resp), user, pass), MP_SASL_BAD);
	msg[MP_SASL_MAX + 2] = 0; /* one byte shorter: fits */
	assert_true(mp_base64_encode(msg, MP_SASL_MAX + 2, resp, sizeof(resp)) > 0);
	assert_int_equal(mp_sasl_plain(resp, strlen(resp), user, pass), MP_SASL_OK);
	assert_int_equal(strlen(pass), MP_SASL_MAX - 1);

	assert_int_equal(mp_sasl_text(S("dXNlcjE="), user), MP_SASL_OK);
	assert_string_equal(user, "user1");
	assert_int_equal(mp_sasl_text(S("="), user), MP_SASL_OK);
	assert_string_equal(user, "");
	assert_int_equal(mp_sasl_text(S("*"), user), MP_SASL_CANCEL);
	assert_int_equal(mp_sasl_text(S("AHU="), user), MP_SASL_BAD); /* "\0u" */
	assert_int_equal(mp_sasl_text(S("dXNlcjE"), user), MP_SASL_BAD);
}

static void test_dots(void **state)
{
	(void)state;
	const char *p;
	size_t n;
	assert_int_equal(mp_data_unstuff(S("."), &p, &n), MP_DATA_END);
	assert_int_equal(mp_data_unstuff(S("..x"), &p, &n), MP_DATA_LINE);
	assert_int_equal(n, 2);
	assert_memory_equal(p, ".x", 2);
	assert_int_equal(mp_data_unstuff(S(".."), &p, &n), MP_DATA_LINE);
	assert_int_equal(n, 1);
	assert_int_equal(mp_data_unstuff(S("a.b"), &p, &n), MP_DATA_LINE);
	assert_int_equal(n, 3);
	const char *msg = "H: v\r\n\r\n.\r\n..two\nbare\r\nlast";
	size_t need = mp_data_stuff(msg, strlen(msg), NULL, 0);
	char *out = malloc(need);
	assert_int_equal(mp_data_stuff(msg, strlen(msg), out, need), need);
	const char *want = "H: v\r\n\r\n..\r\n...two\r\nbare\r\nlast\r\n.\r\n";
	assert_int_equal(need, strlen(want));
	assert_memory_equal(out, want, need);
	/* and back: unstuffing every line gives the CRLF form of the message */
	char back[128];
	size_t o = 0, off = 0;
	struct mp_lines lr;
	mp_lines_init(&lr, 1000);
	for (;;) {
		size_t len, used;
		assert_int_equal(mp_lines_next(&lr, out + off, need - off, &len, &used),
		                 MP_LINE_OK);
		if (mp_data_unstuff(out + off, len, &p, &n) == MP_DATA_END)
			break;
		memcpy(back + o, p, n);
		memcpy(back + o + n, "\r\n", 2);
		o += n + 2;
		off += used;
	}
	const char *crlf = "H: v\r\n\r\n.\r\n..two\r\nbare\r\nlast\r\n";
	assert_int_equal(o, strlen(crlf));
	assert_memory_equal(back, crlf, o);
	free(out);
}

static void test_literal(void **state)
{
	(void)state;
	uint64_t n;
	bool ns;
	assert_int_equal(mp_imap_literal(S("a LOGIN {5}"), &n, &ns), 1);
	assert_int_equal(n, 5);
	assert_false(ns);
	assert_int_equal(mp_imap_literal(S("a LOGIN {12+}"), &n, &ns), 1);
	assert_int_equal(n, 12);
	assert_true(ns);
	assert_int_equal(mp_imap_literal(S("a LOGIN {0}"), &n, &ns), 1);
	assert_int_equal(n, 0);
	assert_int_equal(mp_imap_literal(S("a LOGIN user pass"), &n, &ns), 0);
	assert_int_equal(mp_imap_literal(S("a LOGIN {}"), &n, &ns), -1);
	assert_int_equal(mp_imap_literal(S("a LOGIN {+}"), &n, &ns), -1);
	assert_int_equal(mp_imap_literal(S("a LOGIN {x5}"), &n, &ns), -1);
	assert_int_equal(mp_imap_literal(S("a LOGIN {99999999999999999999999}"), &n, &ns), -1);
	assert_int_equal(mp_imap_literal(S("a LOGIN {65537}"), &n, &ns), -1);
	assert_int_equal(mp_imap_literal(S("a LOGIN x}"), &n, &ns), 0);
	assert_int_equal(mp_imap_literal(S("}"), &n, &ns), 0);
}

static void test_tokens(void **state)
{
	(void)state;
	const char *cmd = "A1 LOGIN {5}\r\nus er \"p\\\"w\\\\d\"";
	struct mp_imap_cur c;
	mp_imap_cur_init(&c, cmd, strlen(cmd));
	const char *t;
	assert_int_equal(mp_imap_tag(&c, &t), 2);
	assert_true(mp_imap_sp(&c));
	assert_int_equal(mp_imap_atom(&c, &t), 5);
	assert_memory_equal(t, "LOGIN", 5);
	assert_true(mp_imap_sp(&c));
	char buf[32];
	assert_int_equal(mp_imap_astring(&c, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "us er");
	assert_true(mp_imap_sp(&c));
	assert_int_equal(mp_imap_astring(&c, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "p\"w\\d");
	assert_true(mp_imap_at_end(&c));
	/* literal claims more bytes than there are; unterminated quote; too small a buffer; a
	 * marker that does not start the token (fuzz corpus: astring-brace-before-literal) */
	const char *bad[] = { "{9}\r\nabc", "\"abc", "{3}abc", "\"a\\x\"", "{ab{3}\r\nabc" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mp_imap_cur_init(&c, bad[i], strlen(bad[i]));
		assert_int_equal(mp_imap_astring(&c, buf, sizeof(buf)), -1);
	}
	mp_imap_cur_init(&c, S("abcdef"));
	assert_int_equal(mp_imap_astring(&c, buf, 4), -1);
	mp_imap_cur_init(&c, S("a+b X"));
	assert_int_equal(mp_imap_tag(&c, &t), 0);
}

static void test_seqset(void **state)
{
	(void)state;
	struct mp_seqset s;
	struct mp_imap_cur c;
	mp_imap_cur_init(&c, S("1,3:5,9:*"));
	assert_true(mp_seqset_parse(&c, &s));
	assert_true(mp_imap_at_end(&c));
	assert_int_equal(s.n, 3);
	assert_true(mp_seqset_has(&s, 1, 20));
	assert_false(mp_seqset_has(&s, 2, 20));
	assert_true(mp_seqset_has(&s, 4, 20));
	assert_true(mp_seqset_has(&s, 20, 20));
	assert_false(mp_seqset_has(&s, 21, 20));
	/* n:* with n above the largest number still matches the largest (RFC 3501 6.4.8) */
	assert_true(mp_seqset_has(&s, 7, 7));
	const char *bad[] = { "0", "a", "1:", ",1", "1:0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mp_imap_cur_init(&c, bad[i], strlen(bad[i]));
		assert_false(mp_seqset_parse(&c, &s));
	}
	mp_imap_cur_init(&c, S("99999999999"));
	assert_false(mp_seqset_parse(&c, &s));
}

static void test_fetch(void **state)
{
	(void)state;
	struct mp_fetch f;
	struct mp_imap_cur c;
	char name[64];
	mp_imap_cur_init(&c,
	                 S("(UID FLAGS RFC822.SIZE BODY.PEEK[] BODY[HEADER] BODY[TEXT]<10.20>)"));
	assert_true(mp_fetch_parse(&c, &f));
	assert_true(mp_imap_at_end(&c));
	assert_int_equal(f.attrs, MP_F_UID | MP_F_FLAGS | MP_F_SIZE);
	assert_int_equal(f.nbodies, 3);
	assert_true(f.body[0].peek);
	assert_int_equal(f.body[0].sec, MP_SEC_ALL);
	mp_fetch_body_name(&f.body[0], name, sizeof(name));
	assert_string_equal(name, "BODY[]");
	assert_false(f.body[1].peek);
	mp_fetch_body_name(&f.body[1], name, sizeof(name));
	assert_string_equal(name, "BODY[HEADER]");
	assert_true(f.body[2].partial);
	assert_int_equal(f.body[2].origin, 10);
	assert_int_equal(f.body[2].count, 20);
	mp_fetch_body_name(&f.body[2], name, sizeof(name));
	assert_string_equal(name, "BODY[TEXT]<10>");
	mp_imap_cur_init(&c, S("RFC822"));
	assert_true(mp_fetch_parse(&c, &f));
	assert_int_equal(f.nbodies, 1);
	mp_fetch_body_name(&f.body[0], name, sizeof(name));
	assert_string_equal(name, "RFC822");
	mp_imap_cur_init(&c, S("FAST"));
	assert_true(mp_fetch_parse(&c, &f));
	assert_int_equal(f.attrs, MP_F_FLAGS | MP_F_SIZE | MP_F_INTERNALDATE);
	assert_int_equal(f.nbodies, 0);
	const char *bad[] = { "(FLAGS",
		              "ENVELOPES",
		              "BODY.PEEK",
		              "BODY[1.]",
		              "BODY[0]",
		              "BODY[1..2]",
		              "BODY[MIME]",
		              "BODY[1 TEXT]",
		              "BODY[1.HEADER.FIELDS]",
		              "BODY[HEADER.FIELDS ()]",
		              "BODY[HEADER.FIELDS (a:b)]",
		              "BODY[HEADER.FIELDS (\"a(b\")]",
		              "BODY[HEADER.FIELDS (From]",
		              "BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17]",
		              "BINARY[1]",
		              "BODY[]<1>",
		              "(FLAGS  UID)",
		              "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mp_imap_cur_init(&c, bad[i], strlen(bad[i]));
		assert_false(mp_fetch_parse(&c, &f));
	}
}

/* Sections with part numbers and header field lists, the views, the macros; the names they are
 * answered with (RFC 3501 7.4.2: field names upper case, as this server echoes them). */
static void test_fetch_sections(void **state)
{
	(void)state;
	struct mp_imap_cur c;
	struct mp_fetch f;
	char name[MP_BODY_NAME_MAX];
	mp_imap_cur_init(&c, S("(ENVELOPE BODYSTRUCTURE BODY BODY.PEEK[1.2] "
	                       "BODY[HEADER.FIELDS (From \"Subject\" {2}\r\nto)]<0.5> "
	                       "BODY.PEEK[2.1.HEADER.FIELDS.NOT (X-A)] BODY[3.MIME] BODY[4.TEXT] "
	                       "RFC822.HEADER)"));
	assert_true(mp_fetch_parse(&c, &f));
	assert_true(mp_imap_at_end(&c));
	assert_int_equal(f.attrs, MP_F_ENVELOPE | MP_F_BODYSTRUCTURE | MP_F_BODY);
	assert_int_equal(f.nbodies, 6);
	const char *names[] = { "BODY[1.2]",
		                "BODY[HEADER.FIELDS (FROM SUBJECT TO)]<0>",
		                "BODY[2.1.HEADER.FIELDS.NOT (X-A)]",
		                "BODY[3.MIME]",
		                "BODY[4.TEXT]",
		                "RFC822.HEADER" };
	for (unsigned i = 0; i < 6; i++) {
		mp_fetch_body_name(&f.body[i], name, sizeof(name));
		assert_string_equal(name, names[i]);
	}
	assert_true(f.body[0].peek);
	assert_int_equal(f.body[0].nparts, 2);
	assert_int_equal(f.body[0].part[1], 2);
	assert_int_equal(f.body[1].sec, MP_SEC_FIELDS);
	assert_int_equal(f.body[1].nfields, 3);
	assert_true(f.body[1].partial && f.body[1].count == 5);
	assert_int_equal(f.body[2].sec, MP_SEC_FIELDS_NOT);
	assert_int_equal(f.body[3].sec, MP_SEC_MIME);
	assert_true(f.body[5].peek);
	mp_imap_cur_init(&c, S("ALL"));
	assert_true(mp_fetch_parse(&c, &f));
	assert_int_equal(f.attrs, MP_F_FLAGS | MP_F_SIZE | MP_F_INTERNALDATE | MP_F_ENVELOPE);
	mp_imap_cur_init(&c, S("FULL"));
	assert_true(mp_fetch_parse(&c, &f));
	assert_int_equal(f.attrs,
	                 MP_F_FLAGS | MP_F_SIZE | MP_F_INTERNALDATE | MP_F_ENVELOPE | MP_F_BODY);
	/* the longest name fits MP_BODY_NAME_MAX: 16 part numbers of 10 digits, .HEADER.FIELDS.NOT,
	 * MP_FIELDS_MAX bytes of names, the largest origin */
	for (int extra = 0; extra < 2; extra++) { /* one byte more of names is too many */
		char cmd[1200];
		size_t o = (size_t)snprintf(cmd, sizeof(cmd), "BODY[");
		for (int i = 0; i < MP_PART_DEPTH; i++)
			o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "4294967295.");
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "HEADER.FIELDS.NOT (%s",
		                      extra ? "y" : "");
		for (int i = 0; i < MP_FIELDS_MAX / 2; i++)
			o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "%sx", i ? " " : "");
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, ")]<4294967295.1>");
		mp_imap_cur_init(&c, cmd, o);
		assert_int_equal(mp_fetch_parse(&c, &f), !extra);
		if (!extra)
			assert_int_equal(mp_fetch_body_name(&f.body[0], name, sizeof(name)), 725);
	}
	assert_true(725 < MP_BODY_NAME_MAX);
	/* a name cut to the buffer stays NUL-terminated */
	mp_imap_cur_init(&c, S("BODY[HEADER.FIELDS (A-LONG-FIELD-NAME)]"));
	assert_true(mp_fetch_parse(&c, &f));
	assert_int_equal(mp_fetch_body_name(&f.body[0], name, 10),
	                 strlen("BODY[HEADER.FIELDS (A-LONG-FIELD-NAME)]"));
	assert_string_equal(name, "BODY[HEAD");
}

static void test_store(void **state)
{
	(void)state;
	struct mp_imap_cur c;
	enum mp_store_op op;
	bool silent;
	unsigned fl;
	mp_imap_cur_init(&c, S("+FLAGS.SILENT (\\Deleted \\Seen)"));
	assert_true(mp_store_parse(&c, &op, &silent, &fl));
	assert_int_equal(op, MP_STORE_ADD);
	assert_true(silent);
	assert_int_equal(fl, MP_FLAG_DELETED | MP_FLAG_SEEN);
	mp_imap_cur_init(&c, S("-FLAGS \\Seen"));
	assert_true(mp_store_parse(&c, &op, &silent, &fl));
	assert_int_equal(op, MP_STORE_REMOVE);
	assert_int_equal(fl, MP_FLAG_SEEN);
	mp_imap_cur_init(&c, S("FLAGS ()"));
	assert_true(mp_store_parse(&c, &op, &silent, &fl));
	assert_int_equal(op, MP_STORE_SET);
	assert_int_equal(fl, 0);
	const char *bad[] = { "+FLAGS (\\Bogus)", "FLAG (\\Seen)", "+FLAGS", "+FLAGS (\\Seen" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mp_imap_cur_init(&c, bad[i], strlen(bad[i]));
		assert_false(mp_store_parse(&c, &op, &silent, &fl));
	}
	char buf[64];
	mp_flags_format(MP_FLAG_SEEN | MP_FLAG_DELETED, buf, sizeof(buf));
	assert_string_equal(buf, "\\Seen \\Deleted");
	mp_flags_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

UNIT_MAIN(cmocka_unit_test(test_lines), cmocka_unit_test(test_smtp), cmocka_unit_test(test_sasl),
          cmocka_unit_test(test_dots), cmocka_unit_test(test_literal),
          cmocka_unit_test(test_tokens), cmocka_unit_test(test_seqset),
          cmocka_unit_test(test_fetch), cmocka_unit_test(test_fetch_sections),
          cmocka_unit_test(test_store))
