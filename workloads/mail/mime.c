/* workloads/mail/mime.c: the message parser of mime.h: header fields, Content-Type values and the
 * MIME entity tree of a message as byte ranges. */
#include "workloads/mail/mime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool mime_field_next(const char *h, size_t len, size_t *pos, struct mime_field *f)
{
	for (;;) {
		size_t i = *pos;
		if (i >= len)
			return false;
		/* the blank line that ends the header */
		if (h[i] == '\n' || (h[i] == '\r' && i + 1 < len && h[i + 1] == '\n'))
			return false;
		size_t start = i;
		/* the field runs to the LF not followed by a blank (a folded continuation) */
		const char *lf;
		size_t end = i;
		for (;;) {
			lf = memchr(h + end, '\n', len - end);
			end = lf ? (size_t)(lf - h) + 1 : len;
			if (end >= len || (h[end] != ' ' && h[end] != '\t'))
				break;
		}
		*pos = end;
		const char *colon = memchr(h + start, ':', end - start);
		if (!colon || colon == h + start || h[start] == ' ' || h[start] == '\t')
			continue; /* not a field (or a stray continuation): skipped */
		size_t nl = (size_t)(colon - (h + start));
		while (nl && (h[start + nl - 1] == ' ' || h[start + nl - 1] == '\t'))
			nl--; /* "Subject :" (obsolete syntax) */
		if (nl == 0 || memchr(h + start, ' ', nl) || memchr(h + start, '\n', nl))
			continue;
		size_t v = (size_t)(colon - h) + 1, ve = end;
		if (ve > v && h[ve - 1] == '\n')
			ve--;
		if (ve > v && h[ve - 1] == '\r')
			ve--;
		while (v < ve && (h[v] == ' ' || h[v] == '\t'))
			v++;
		*f = (struct mime_field){ .name = h + start,
			                  .name_len = nl,
			                  .val = h + v,
			                  .val_len = ve - v,
			                  .line = h + start,
			                  .line_len = end - start };
		return true;
	}
}

bool mime_field_find(const char *h, size_t len, const char *name, struct mime_field *f)
{
	size_t pos = 0, nl = strlen(name);
	while (mime_field_next(h, len, &pos, f))
		if (f->name_len == nl && strncasecmp(f->name, name, nl) == 0)
			return true;
	return false;
}

size_t mime_unfold(const char *v, size_t len, char *dst, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		char ch = v[i];
		if (ch == '\t')
			ch = ' ';
		if (ch != '\r' && ch != '\n' && !(o == 0 && ch == ' '))
			dst[o++] = ch;
	}
	while (o && dst[o - 1] == ' ')
		o--;
	dst[o] = 0;
	return o;
}

/* ---- Content-Type values ---- */

struct vcur {
	const char *p, *end;
};

/* Skips blanks, folding and (nested) comments. */
static void skip_cfws(struct vcur *c)
{
	int depth = 0;
	while (c->p < c->end) {
		char ch = *c->p;
		if (depth && ch == '\\' && c->p + 1 < c->end)
			c->p++;
		else if (ch == '(')
			depth++;
		else if (ch == ')' && depth)
			depth--;
		else if (!depth && ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
			return;
		c->p++;
	}
}

static bool tspecial(char ch)
{
	return strchr("()<>@,;:\\\"/[]?=", ch) != NULL;
}

/* An RFC 2045 token into dst (NUL-terminated, cut to cap); its length (0: none). */
static size_t token(struct vcur *c, char *dst, size_t cap)
{
	size_t n = 0;
	skip_cfws(c);
	while (c->p < c->end && (unsigned char)*c->p > ' ' && *c->p != 0x7f && !tspecial(*c->p)) {
		if (n + 1 < cap)
			dst[n++] = *c->p;
		c->p++;
	}
	dst[n < cap ? n : 0] = 0;
	return n;
}

/* A token or quoted string (quotes and escapes removed). */
static size_t value(struct vcur *c, char *dst, size_t cap)
{
	skip_cfws(c);
	if (c->p >= c->end || *c->p != '"')
		return token(c, dst, cap);
	size_t n = 0;
	for (c->p++; c->p < c->end && *c->p != '"'; c->p++) {
		if (*c->p == '\\' && c->p + 1 < c->end)
			c->p++;
		if ((*c->p == '\r' || *c->p == '\n'))
			continue;
		if (n + 1 < cap)
			dst[n++] = *c->p;
	}
	if (c->p < c->end)
		c->p++;
	dst[n] = 0;
	return n;
}

void mime_ctype_parse(const char *v, size_t len, bool slash, struct mime_ctype *ct)
{
	struct vcur c = { v, v + len };
	ct->type[0] = ct->subtype[0] = 0;
	ct->nparams = 0;
	token(&c, ct->type, sizeof(ct->type));
	if (slash) {
		skip_cfws(&c);
		if (c.p < c.end && *c.p == '/') {
			c.p++;
			token(&c, ct->subtype, sizeof(ct->subtype));
		}
		if (!ct->type[0] || !ct->subtype[0])
			ct->type[0] = ct->subtype[0] = 0;
	}
	for (char *s = ct->type; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	for (char *s = ct->subtype; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	for (;;) {
		skip_cfws(&c);
		/* resynchronise on the next ';' after anything malformed */
		while (c.p < c.end && *c.p != ';')
			c.p++;
		if (c.p >= c.end || ct->nparams == sizeof(ct->param) / sizeof(ct->param[0]))
			return;
		c.p++;
		unsigned k = ct->nparams;
		if (!token(&c, ct->param[k].name, sizeof(ct->param[k].name)))
			continue;
		skip_cfws(&c);
		if (c.p >= c.end || *c.p != '=')
			continue;
		c.p++;
		value(&c, ct->param[k].value, sizeof(ct->param[k].value));
		ct->nparams++;
	}
}

const char *mime_ctype_param(const struct mime_ctype *ct, const char *name)
{
	for (unsigned i = 0; i < ct->nparams; i++)
		if (strcasecmp(ct->param[i].name, name) == 0)
			return ct->param[i].value;
	return NULL;
}

/* ---- the entity tree ---- */

static uint32_t count_lines(const char *p, size_t len)
{
	uint32_t n = 0;
	for (const char *q = p, *end = p + len; (q = memchr(q, '\n', (size_t)(end - q))); q++)
		n++;
	if (len && p[len - 1] != '\n')
		n++;
	return n;
}

/* Where the header block starting at off ends (just after its empty line; len if it has none). */
static size_t header_end(const char *p, size_t off, size_t len)
{
	size_t i = off;
	for (;;) {
		if (i < len && p[i] == '\n')
			return i + 1;
		if (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n')
			return i + 2;
		const char *lf = memchr(p + i, '\n', len - i);
		if (!lf)
			return len;
		i = (size_t)(lf - p) + 1;
	}
}

static int new_ent(struct mime_msg *m)
{
	if (m->n == m->cap) {
		unsigned nc = m->cap ? m->cap * 2 : 8;
		struct mime_ent *ne = realloc(m->e, nc * sizeof(*ne));
		if (!ne)
			return -1;
		m->e = ne;
		m->cap = nc;
	}
	m->e[m->n] = (struct mime_ent){ .child = -1, .next = -1 };
	return (int)m->n++;
}

/* Is the line at p[i..len) a delimiter "--b" (then 1) or close delimiter "--b--" (then 2)? *next
 * is where the line after it starts. Transport padding (blanks) after it is allowed. */
static int delimiter(const char *p, size_t i, size_t len, const char *b, size_t bl, size_t *next)
{
	if (len - i < bl + 2 || p[i] != '-' || p[i + 1] != '-' || memcmp(p + i + 2, b, bl) != 0)
		return 0;
	size_t j = i + 2 + bl;
	int kind = 1;
	if (len - j >= 2 && p[j] == '-' && p[j + 1] == '-') {
		kind = 2;
		j += 2;
	}
	while (j < len && (p[j] == ' ' || p[j] == '\t'))
		j++;
	if (j < len && p[j] == '\r')
		j++;
	if (j < len && p[j] != '\n')
		return 0;
	*next = j < len ? j + 1 : len;
	return kind;
}

static int parse_ent(struct mime_msg *m, int idx, unsigned depth);

/* Adds the parts of multipart entity idx between its delimiter lines. The CRLF before a
 * delimiter belongs to it (RFC 2046 5.1.1). */
static int split_multipart(struct mime_msg *m, int idx, const char *b, unsigned depth, bool digest)
{
	const char *p = m->p;
	size_t bl = strlen(b), i = m->e[idx].body, end = m->e[idx].body + m->e[idx].body_len;
	size_t part = 0;
	bool in_part = false;
	int last = -1;
	while (i < end) {
		size_t next = 0;
		int d = delimiter(p, i, end, b, bl, &next);
		if (d) {
			if (in_part) {
				size_t pe = i;
				if (pe > part && p[pe - 1] == '\n')
					pe--;
				if (pe > part && p[pe - 1] == '\r')
					pe--;
				int k = new_ent(m);
				if (k < 0)
					return -1;
				m->e[k].hdr = part;
				m->e[k].body_len =
				    pe - part; /* the whole part, split in parse_ent */
				m->e[k].digest_child = digest;
				if (last < 0)
					m->e[idx].child = k;
				else
					m->e[last].next = k;
				last = k;
				m->e[idx].nchild++;
				if (m->n >= MIME_PARTS_MAX)
					break;
			}
			if (d == 2) {
				in_part = false;
				break;
			}
			in_part = true;
			part = next;
			i = next;
			continue;
		}
		const char *lf = memchr(p + i, '\n', end - i);
		i = lf ? (size_t)(lf - p) + 1 : end;
	}
	if (in_part && m->n < MIME_PARTS_MAX) { /* no close delimiter: the part runs to the end */
		int k = new_ent(m);
		if (k < 0)
			return -1;
		m->e[k].hdr = part;
		m->e[k].body_len = end - part;
		m->e[k].digest_child = digest;
		if (last < 0)
			m->e[idx].child = k;
		else
			m->e[last].next = k;
		m->e[idx].nchild++;
	}
	for (int k = m->e[idx].child; k >= 0; k = m->e[k].next)
		if (parse_ent(m, k, depth + 1))
			return -1;
	return 0;
}

/* Entity idx spans [hdr, hdr + body_len): splits it into header and body, then reads its type. */
static int parse_ent(struct mime_msg *m, int idx, unsigned depth)
{
	struct mime_ent *e = &m->e[idx];
	size_t start = e->hdr, end = e->hdr + e->body_len;
	size_t he = header_end(m->p, start, end);
	e->hdr_len = he - start;
	e->body = he;
	e->body_len = end - he;
	e->lines = count_lines(m->p + he, end - he);
	struct mime_field f;
	struct mime_ctype ct;
	if (mime_field_find(m->p + start, e->hdr_len, "Content-Type", &f))
		mime_ctype_parse(f.val, f.val_len, true, &ct);
	else
		ct.type[0] = 0;
	bool digest = false;
	if (!ct.type[0] && e->digest_child) {
		snprintf(ct.type, sizeof(ct.type), "message");
		snprintf(ct.subtype, sizeof(ct.subtype), "rfc822");
	}
	if (depth >= MIME_DEPTH_MAX || m->n >= MIME_PARTS_MAX)
		return 0;
	if (strcmp(ct.type, "multipart") == 0) {
		const char *b = mime_ctype_param(&ct, "boundary");
		digest = strcmp(ct.subtype, "digest") == 0;
		if (!b || !b[0])
			return 0;
		if (split_multipart(m, idx, b, depth, digest)) /* b lives in ct, on this frame */
			return -1;
		if (m->e[idx].nchild)
			m->e[idx].kind = MIME_MULTI;
		return 0;
	}
	if (strcmp(ct.type, "message") == 0 && strcmp(ct.subtype, "rfc822") == 0) {
		char enc[32] = "";
		struct mime_field ef;
		if (mime_field_find(m->p + start, m->e[idx].hdr_len, "Content-Transfer-Encoding",
		                    &ef)) {
			struct vcur c = { ef.val, ef.val + ef.val_len };
			token(&c, enc, sizeof(enc));
		}
		if (enc[0] && strcasecmp(enc, "7bit") && strcasecmp(enc, "8bit") &&
		    strcasecmp(enc, "binary"))
			return 0; /* encoded: its bytes are no message, a leaf */
		int k = new_ent(m);
		if (k < 0)
			return -1;
		e = &m->e[idx];
		e->kind = MIME_RFC822;
		e->child = k;
		e->nchild = 1;
		m->e[k].hdr = e->body;
		m->e[k].body_len = e->body_len;
		return parse_ent(m, k, depth + 1);
	}
	return 0;
}

int mime_parse(struct mime_msg *m, const char *p, size_t len)
{
	*m = (struct mime_msg){ .p = p, .len = len };
	int k = new_ent(m);
	if (k < 0)
		return -1;
	m->e[0].hdr = 0;
	m->e[0].body_len = len;
	if (parse_ent(m, 0, 0)) {
		mime_free(m);
		*m = (struct mime_msg){ .p = p };
		return -1;
	}
	return 0;
}

void mime_free(struct mime_msg *m)
{
	free(m->e);
	m->e = NULL;
	m->n = m->cap = 0;
}
