/* workloads/mail/fuzz/msg.c: fuzz target for the message layer of libmailproto (mime.h,
 * imap_msg.h). Input: the bytes up to the first NUL are a SEARCH program (CRLF and literals
 * allowed), the rest is a message (an input without NUL is all message); each gets an allocation of
 * exactly its size, so ASan sees any read past it. It checks the headers' contracts:
 *   - mime_parse: every entity's header and body lie inside the message, the body follows the
 *     header, children lie inside their parent's body, MIME_PARTS_MAX holds;
 *   - ENVELOPE, BODYSTRUCTURE and BODY of the message and of every message/rfc822 part inside are
 *     well-formed IMAP: balanced parentheses, quoted strings closed, literals "{n}" CRLF with n
 *     bytes, only NIL, numbers, strings and lists; ENVELOPE has ten members;
 *   - imap_section for part numbers up to 3 levels of 1..3 and every section text: a range inside
 *     the message; HEADER.FIELDS output is within its bound and ends in CRLF;
 *   - mp_search_parse: OK, SYNTAX, CHARSET or LIMIT; when OK, "NOT (program)" parses too and
 *     matches exactly when the program does not. */
#include "tools/fuzz.h"
#include "workloads/mail/imap_msg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct out {
	char *p;
	size_t len, cap;
};

static void out_put(void *ctx, const void *p, size_t n)
{
	struct out *o = ctx;
	if (o->len + n > o->cap) {
		size_t nc = o->cap ? o->cap : 256;
		while (nc < o->len + n)
			nc *= 2;
		char *np = realloc(o->p, nc);
		if (!np)
			abort();
		o->p = np;
		o->cap = nc;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

/* One IMAP value at *i of s: NIL, a number, a string or a list. Returns false if malformed. */
static bool value(const char *s, size_t n, size_t *i, unsigned depth)
{
	if (*i >= n || depth > 3 * MIME_DEPTH_MAX + 8)
		return false;
	char ch = s[*i];
	if (ch == '(') {
		(*i)++;
		for (bool first = true;; first = false) {
			if (*i < n && s[*i] == ')') {
				(*i)++;
				return true;
			}
			/* members are separated by one SP, except address lists "(a)(b)" */
			if (*i >= n)
				return false;
			if (!first && s[*i] == ' ')
				(*i)++;
			else if (!first && s[*i] != '(')
				return false;
			if (!value(s, n, i, depth + 1))
				return false;
		}
	}
	if (ch == '"') {
		for ((*i)++; *i < n && s[*i] != '"'; (*i)++) {
			if (s[*i] == '\\')
				(*i)++;
			else if (s[*i] == '\r' || s[*i] == '\n' || (unsigned char)s[*i] >= 0x80)
				return false;
		}
		if (*i >= n)
			return false;
		(*i)++;
		return true;
	}
	if (ch == '{') {
		char *end;
		unsigned long long len = strtoull(s + *i + 1, &end, 10);
		size_t at = (size_t)(end - s);
		if (at + 3 > n || end[0] != '}' || end[1] != '\r' || end[2] != '\n' ||
		    len > n - at - 3)
			return false;
		*i = at + 3 + len;
		return true;
	}
	if (ch >= '0' && ch <= '9') {
		while (*i < n && s[*i] >= '0' && s[*i] <= '9')
			(*i)++;
		return true;
	}
	if (n - *i >= 3 && memcmp(s + *i, "NIL", 3) == 0) {
		*i += 3;
		return true;
	}
	return false;
}

/* Counts the members of the list s (already checked). */
static unsigned members(const char *s, size_t n)
{
	size_t i = 1;
	unsigned k = 0;
	while (i < n && s[i] != ')') {
		if (s[i] == ' ')
			i++;
		fuzz_assert(value(s, n, &i, 0));
		k++;
	}
	return k;
}

static void check_view(const struct mime_msg *m, int ent, int what)
{
	struct out o = { 0 };
	struct mp_sink sink = { out_put, &o };
	if (what == 0)
		imap_envelope(m, ent, &sink);
	else
		imap_bodystructure(m, ent, what == 1, &sink);
	size_t i = 0;
	fuzz_assert(o.len && o.p[0] == '(' && value(o.p, o.len, &i, 0) && i == o.len);
	if (what == 0)
		fuzz_assert(members(o.p, o.len) == 10);
	free(o.p);
}

static void check_tree(const struct mime_msg *m)
{
	fuzz_assert(m->n >= 1 && m->n <= MIME_PARTS_MAX + 1);
	fuzz_assert(m->e[0].hdr == 0 && m->e[0].hdr_len + m->e[0].body_len == m->len);
	for (unsigned i = 0; i < m->n; i++) {
		const struct mime_ent *e = &m->e[i];
		fuzz_assert(e->hdr + e->hdr_len == e->body && e->body + e->body_len <= m->len);
		unsigned kids = 0;
		for (int k = e->child; k >= 0; k = m->e[k].next, kids++) {
			fuzz_assert(k > (int)i && (unsigned)k < m->n);
			fuzz_assert(m->e[k].hdr >= e->body);
			fuzz_assert(m->e[k].body + m->e[k].body_len <= e->body + e->body_len);
		}
		fuzz_assert(kids == e->nchild && (e->kind == MIME_LEAF) == (kids == 0));
		fuzz_assert(e->kind != MIME_RFC822 || kids == 1);
		if (e->kind == MIME_RFC822)
			check_view(m, e->child, 0);
	}
}

static void check_sections(const struct mime_msg *m)
{
	static const char *const fields[] = { "SUBJECT", "CONTENT-TYPE", "FROM" };
	struct mp_fetch_body b = { 0 };
	size_t o = 0;
	for (unsigned k = 0; k < 3; k++) {
		memcpy(b.fields + o, fields[k], strlen(fields[k]) + 1);
		o += strlen(fields[k]) + 1;
	}
	b.nfields = 3;
	for (unsigned path = 0; path < 1 + 3 + 9 + 27; path++) {
		/* path 0: no part; 1..3: one number; 4..12: two; 13..39: three */
		unsigned p = path;
		b.nparts = p == 0 ? 0 : p < 4 ? 1 : p < 13 ? 2 : 3;
		p -= b.nparts == 0 ? 0 : b.nparts == 1 ? 1 : b.nparts == 2 ? 4 : 13;
		for (unsigned d = b.nparts; d-- > 0; p /= 3)
			b.part[d] = p % 3 + 1;
		for (int sec = MP_SEC_ALL; sec <= MP_SEC_MIME; sec++) {
			b.sec = (enum mp_section)sec;
			size_t off, len;
			if (!imap_section(m, &b, &off, &len))
				continue;
			fuzz_assert(off <= m->len && len <= m->len - off);
			if (sec == MP_SEC_FIELDS || sec == MP_SEC_FIELDS_NOT) {
				char *dst = malloc(len + 4);
				if (!dst)
					abort();
				size_t n = imap_header_fields(m->p + off, len, &b, dst);
				fuzz_assert(n >= 2 && n <= len + 4 &&
				            !memcmp(dst + n - 2, "\r\n", 2));
				free(dst);
			}
		}
	}
}

static void check_search(const char *prog, size_t n, const struct mime_msg *m)
{
	struct mp_search *s = malloc(sizeof(*s));
	char *neg = malloc(n + 6);
	if (!s || !neg)
		abort();
	struct mp_imap_cur c;
	mp_imap_cur_init(&c, prog, n);
	enum mp_search_rc rc = mp_search_parse(&c, s);
	fuzz_assert(rc == MP_SEARCH_OK || rc == MP_SEARCH_SYNTAX || rc == MP_SEARCH_CHARSET ||
	            rc == MP_SEARCH_LIMIT);
	bool charset = n >= 8 && !strncasecmp(prog, "CHARSET ", 8);
	if (rc != MP_SEARCH_OK || charset || s->n > MP_SEARCH_NODES - 2) {
		free(s);
		free(neg);
		return;
	}
	fuzz_assert(s->n >= 2 && s->strs_len <= sizeof(s->strs));
	struct mp_search_msg sm = { .seq = 2,
		                    .uid = 7,
		                    .max_seq = 3,
		                    .max_uid = 9,
		                    .flags = MP_FLAG_SEEN,
		                    .size = m->len,
		                    .time_s = 1764672000,
		                    .msg = m };
	bool r = mp_search_match(s, &sm);
	memcpy(neg, "NOT (", 5);
	memcpy(neg + 5, prog, n);
	neg[n + 5] = ')';
	mp_imap_cur_init(&c, neg, n + 6);
	rc = mp_search_parse(&c, s);
	/* the negation needs two more nodes: may hit the node limit, never anything else */
	fuzz_assert(rc == MP_SEARCH_OK || rc == MP_SEARCH_LIMIT);
	if (rc == MP_SEARCH_OK)
		fuzz_assert(mp_search_match(s, &sm) == !r);
	free(s);
	free(neg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, 0, size);
	size_t pn = lf ? (size_t)(lf - data) : 0, mo = lf ? pn + 1 : 0;
	char *prog = malloc(pn ? pn : 1), *msg = malloc(size - mo ? size - mo : 1);
	if (!prog || !msg)
		abort();
	memcpy(prog, data, pn);
	memcpy(msg, data + mo, size - mo);
	struct mime_msg m;
	if (mime_parse(&m, msg, size - mo) == 0) {
		check_tree(&m);
		for (int what = 0; what < 3; what++)
			check_view(&m, 0, what);
		check_sections(&m);
		if (lf)
			check_search(prog, pn, &m);
		mime_free(&m);
	}
	free(prog);
	free(msg);
	return 0;
}
