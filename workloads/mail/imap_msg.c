/* workloads/mail/imap_msg.c: the FETCH views of imap_msg.h: ENVELOPE (with RFC 5322 address lists
 * taken apart into IMAP's (name adl mailbox host) lists), BODYSTRUCTURE / BODY, BODY[section]
 * resolution over the MIME tree and HEADER.FIELDS filtering. */
#include "workloads/mail/imap_msg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put(struct mp_sink *o, const char *s)
{
	o->put(o->ctx, s, strlen(s));
}

void imap_string(struct mp_sink *o, const char *s, size_t n)
{
	bool quoted = n < 1024;
	for (size_t i = 0; quoted && i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		quoted = ch != 0 && ch != '\r' && ch != '\n' && ch < 0x80;
	}
	if (!quoted) {
		char h[32];
		int k = snprintf(h, sizeof(h), "{%zu}\r\n", n);
		o->put(o->ctx, h, (size_t)k);
		o->put(o->ctx, s, n);
		return;
	}
	o->put(o->ctx, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		o->put(o->ctx, s + run, i - run);
		o->put(o->ctx, "\\", 1);
		run = i;
	}
	o->put(o->ctx, s + run, n - run);
	o->put(o->ctx, "\"", 1);
}

/* NIL, or the unfolded value of the header field name in entity e's header. */
static void field_nstring(struct mp_sink *o, const struct mime_msg *m, const struct mime_ent *e,
                          const char *name)
{
	struct mime_field f;
	if (!mime_field_find(m->p + e->hdr, e->hdr_len, name, &f))
		return put(o, "NIL");
	char *v = malloc(f.val_len + 1);
	if (!v)
		return put(o, "NIL");
	size_t n = mime_unfold(f.val, f.val_len, v, f.val_len + 1);
	imap_string(o, v, n);
	free(v);
}

/* ---- addresses ---- */

/* Splits s at top-level occurrences of any of stops (outside quotes, comments and <>): the length
 * of the first piece. */
static size_t addr_span(const char *s, size_t n, const char *stops)
{
	int paren = 0;
	bool quote = false, angle = false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if ((quote || paren) && ch == '\\') {
			i++;
			continue;
		}
		if (quote) {
			quote = ch != '"';
			continue;
		}
		if (ch == '(')
			paren++;
		else if (ch == ')' && paren)
			paren--;
		else if (paren)
			continue;
		else if (ch == '"')
			quote = true;
		else if (!angle && strchr(stops, ch))
			return i;
		else if (ch == '<')
			angle = true;
		else if (ch == '>')
			angle = false;
	}
	return n;
}

/* Copies s without comments (and, with unquote, without the quotes of quoted strings, escapes
 * resolved), blanks collapsed and trimmed. Returns the length written to dst (cap >= n + 1). */
static size_t clean(const char *s, size_t n, bool unquote, char *dst)
{
	size_t o = 0;
	int paren = 0;
	bool quote = false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!quote && ch == '(') {
			paren++;
			continue;
		}
		if (paren) {
			if (ch == '\\')
				i++;
			else if (ch == ')')
				paren--;
			continue;
		}
		if (ch == '"') {
			quote = !quote;
			if (unquote)
				continue;
		} else if (quote && ch == '\\' && i + 1 < n && unquote) {
			ch = s[++i];
		} else if (!quote && (ch == ' ' || ch == '\t')) {
			if (o && dst[o - 1] != ' ')
				dst[o++] = ' ';
			continue;
		}
		dst[o++] = ch;
	}
	while (o && dst[o - 1] == ' ')
		o--;
	size_t lead = 0;
	while (lead < o && dst[lead] == ' ')
		lead++;
	memmove(dst, dst + lead, o - lead);
	return o - lead;
}

static void nstring_or_nil(struct mp_sink *o, const char *s, size_t n)
{
	if (n)
		imap_string(o, s, n);
	else
		put(o, "NIL");
}

/* One mailbox ("Name <local@host>", "<@route:local@host>", "local@host (comment)") as an IMAP
 * address; false if it holds nothing. tmp has room for n + 1 bytes. */
static bool mailbox(struct mp_sink *o, const char *s, size_t n, char *tmp, const char *pre)
{
	size_t name_n = 0, lt = addr_span(s, n, "<");
	const char *spec = s;
	size_t spec_n = n;
	char *name = tmp, *addr;
	if (lt < n) { /* name-addr */
		name_n = clean(s, lt, true, name);
		spec = s + lt + 1;
		const char *gt = memchr(spec, '>', n - lt - 1);
		spec_n = gt ? (size_t)(gt - spec) : n - lt - 1;
	}
	addr = tmp + name_n;
	size_t an = clean(spec, spec_n, false, addr);
	if (an == 0 && name_n == 0)
		return false;
	const char *adl = NULL, *at;
	size_t adl_n = 0;
	if (an && addr[0] == '@') { /* obsolete source route "@a,@b:" */
		const char *colon = memchr(addr, ':', an);
		if (colon) {
			adl = addr;
			adl_n = (size_t)(colon - addr);
			an -= adl_n + 1;
			addr += adl_n + 1;
		}
	}
	at = NULL;
	for (size_t i = an; i-- > 0;)
		if (addr[i] == '@') {
			at = addr + i;
			break;
		}
	put(o, pre);
	put(o, "(");
	nstring_or_nil(o, name, name_n);
	put(o, " ");
	nstring_or_nil(o, adl, adl_n);
	put(o, " ");
	size_t local_n = at ? (size_t)(at - addr) : an;
	nstring_or_nil(o, addr, local_n);
	put(o, " ");
	if (at)
		imap_string(o, at + 1, an - local_n - 1);
	else
		imap_string(o, "", 0); /* no domain: "" (NIL would read as a group) */
	put(o, ")");
	return true;
}

/* The address list of a header value as "(addr...)" (no blanks between addresses, as RFC 3501
 * writes it), or NIL if it has none. Groups "name: a, b;" become (NIL NIL "name" NIL), the
 * members, then (NIL NIL NIL NIL). */
static void addr_list(struct mp_sink *o, const char *v, size_t n)
{
	char *tmp = malloc(n + 1);
	if (!tmp)
		return put(o, "NIL");
	bool any = false, in_group = false;
	for (size_t i = 0; i <= n;) {
		const char *s = v + i;
		size_t left = n - i, k = addr_span(s, left, in_group ? ",;" : ",:");
		char stop = '\0';
		if (k < left)
			stop = s[k];
		if (stop == ':') {
			size_t gn = clean(s, k, true, tmp);
			put(o, any ? "(NIL NIL " : "((NIL NIL ");
			nstring_or_nil(o, tmp, gn);
			put(o, " NIL)");
			any = in_group = true;
		} else {
			if (k && mailbox(o, s, k, tmp, any ? "" : "("))
				any = true;
			if (stop == ';' && in_group) {
				put(o, "(NIL NIL NIL NIL)");
				in_group = false;
			}
		}
		i += k + 1;
	}
	if (in_group)
		put(o, "(NIL NIL NIL NIL)");
	put(o, any ? ")" : "NIL");
	free(tmp);
}

/* The addresses of the first field called name, or NIL. */
static bool field_addrs(struct mp_sink *o, const struct mime_msg *m, const struct mime_ent *e,
                        const char *name, bool nil_if_empty)
{
	struct mime_field f;
	bool blank = true;
	bool found = mime_field_find(m->p + e->hdr, e->hdr_len, name, &f);
	for (size_t i = 0; found && i < f.val_len; i++)
		blank = blank && strchr(" \t\r\n,", f.val[i]);
	if (!found || (nil_if_empty && blank)) {
		if (nil_if_empty)
			return false;
		put(o, "NIL");
		return true;
	}
	addr_list(o, f.val, f.val_len);
	return true;
}

void imap_envelope(const struct mime_msg *m, int ent, struct mp_sink *o)
{
	const struct mime_ent *e = &m->e[ent];
	put(o, "(");
	field_nstring(o, m, e, "Date");
	put(o, " ");
	field_nstring(o, m, e, "Subject");
	put(o, " ");
	field_addrs(o, m, e, "From", false);
	/* Sender and Reply-To default to From (RFC 3501 7.4.2) */
	put(o, " ");
	if (!field_addrs(o, m, e, "Sender", true))
		field_addrs(o, m, e, "From", false);
	put(o, " ");
	if (!field_addrs(o, m, e, "Reply-To", true))
		field_addrs(o, m, e, "From", false);
	static const char *const rest[] = { "To", "Cc", "Bcc" };
	for (size_t i = 0; i < 3; i++) {
		put(o, " ");
		field_addrs(o, m, e, rest[i], false);
	}
	put(o, " ");
	field_nstring(o, m, e, "In-Reply-To");
	put(o, " ");
	field_nstring(o, m, e, "Message-ID");
	put(o, ")");
}

/* ---- BODYSTRUCTURE ---- */

static void upper_string(struct mp_sink *o, const char *s)
{
	char u[256];
	size_t n = 0;
	for (; n < sizeof(u) && s[n]; n++)
		u[n] = (char)toupper((unsigned char)s[n]);
	imap_string(o, u, n);
}

/* ("NAME" "value" ...) or NIL */
static void params(struct mp_sink *o, const struct mime_ctype *ct)
{
	if (ct->nparams == 0)
		return put(o, "NIL");
	for (unsigned i = 0; i < ct->nparams; i++) {
		put(o, i ? " " : "(");
		upper_string(o, ct->param[i].name);
		put(o, " ");
		imap_string(o, ct->param[i].value, strlen(ct->param[i].value));
	}
	put(o, ")");
}

/* body-fld-dsp, body-fld-lang and body-fld-loc, each after a blank. */
static void extension(struct mp_sink *o, const struct mime_msg *m, const struct mime_ent *e)
{
	const char *h = m->p + e->hdr;
	struct mime_field f;
	struct mime_ctype d;
	put(o, " ");
	if (mime_field_find(h, e->hdr_len, "Content-Disposition", &f) &&
	    (mime_ctype_parse(f.val, f.val_len, false, &d), d.type[0])) {
		put(o, "(");
		upper_string(o, d.type);
		put(o, " ");
		params(o, &d);
		put(o, ")");
	} else {
		put(o, "NIL");
	}
	put(o, " ");
	if (mime_field_find(h, e->hdr_len, "Content-Language", &f)) {
		/* a list of tags: one string, or a list when there are several */
		char *v = malloc(f.val_len + 1);
		size_t n = v ? mime_unfold(f.val, f.val_len, v, f.val_len + 1) : 0;
		unsigned tags = 0;
		for (size_t i = 0; i < n; i++)
			tags += v[i] == ',';
		bool list = tags > 0;
		if (list)
			put(o, "(");
		for (size_t i = 0, k = 0; i < n; i++) {
			size_t j = i;
			while (j < n && v[j] != ',')
				j++;
			size_t a = i, b = j;
			while (a < b && (v[a] == ' ' || v[a] == '\t'))
				a++;
			while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
				b--;
			if (k++)
				put(o, " ");
			imap_string(o, v + a, b - a);
			i = j;
		}
		if (list)
			put(o, ")");
		else if (n == 0)
			put(o, "NIL");
		free(v);
	} else {
		put(o, "NIL");
	}
	put(o, " ");
	field_nstring(o, m, e, "Content-Location");
}

static void body(const struct mime_msg *m, int ent, bool ext, struct mp_sink *o)
{
	const struct mime_ent *e = &m->e[ent];
	const char *h = m->p + e->hdr;
	struct mime_field f;
	struct mime_ctype ct;
	bool has_type = mime_field_find(h, e->hdr_len, "Content-Type", &f);
	if (has_type)
		mime_ctype_parse(f.val, f.val_len, true, &ct);
	if (!has_type || !ct.type[0]) {
		memset(&ct, 0, sizeof(ct));
		if (e->digest_child && !has_type) {
			snprintf(ct.type, sizeof(ct.type), "message");
			snprintf(ct.subtype, sizeof(ct.subtype), "rfc822");
		} else {
			snprintf(ct.type, sizeof(ct.type), "text");
			snprintf(ct.subtype, sizeof(ct.subtype), "plain");
			snprintf(ct.param[0].name, sizeof(ct.param[0].name), "charset");
			snprintf(ct.param[0].value, sizeof(ct.param[0].value), "US-ASCII");
			ct.nparams = 1;
		}
	}
	put(o, "(");
	if (e->kind == MIME_MULTI) {
		for (int k = e->child; k >= 0; k = m->e[k].next)
			body(m, k, ext, o);
		put(o, " ");
		upper_string(o, ct.subtype);
		if (ext) {
			put(o, " ");
			params(o, &ct);
			extension(o, m, e);
		}
		put(o, ")");
		return;
	}
	bool text = strcmp(ct.type, "text") == 0;
	if (strcmp(ct.type, "multipart") == 0 ||
	    (strcmp(ct.type, "message") == 0 && strcmp(ct.subtype, "rfc822") == 0 &&
	     e->kind != MIME_RFC822)) {
		/* a multipart without parts, an encoded message: their syntax would need what is
		 * not there, so they are plain bytes */
		snprintf(ct.type, sizeof(ct.type), "application");
		snprintf(ct.subtype, sizeof(ct.subtype), "octet-stream");
	}
	upper_string(o, ct.type);
	put(o, " ");
	upper_string(o, ct.subtype);
	put(o, " ");
	params(o, &ct);
	put(o, " ");
	field_nstring(o, m, e, "Content-ID");
	put(o, " ");
	field_nstring(o, m, e, "Content-Description");
	put(o, " ");
	char enc[64] = "7BIT";
	if (mime_field_find(h, e->hdr_len, "Content-Transfer-Encoding", &f)) {
		struct mime_ctype t;
		mime_ctype_parse(f.val, f.val_len, false, &t);
		if (t.type[0])
			snprintf(enc, sizeof(enc), "%s", t.type);
	}
	upper_string(o, enc);
	char num[64];
	snprintf(num, sizeof(num), " %zu", e->body_len);
	put(o, num);
	if (e->kind == MIME_RFC822) {
		put(o, " ");
		imap_envelope(m, e->child, o);
		put(o, " ");
		body(m, e->child, ext, o);
	}
	if (text || e->kind == MIME_RFC822) {
		snprintf(num, sizeof(num), " %u", e->lines);
		put(o, num);
	}
	if (ext) {
		put(o, " ");
		field_nstring(o, m, e, "Content-MD5");
		extension(o, m, e);
	}
	put(o, ")");
}

void imap_bodystructure(const struct mime_msg *m, int ent, bool ext, struct mp_sink *o)
{
	body(m, ent, ext, o);
}

/* ---- sections ---- */

bool imap_section(const struct mime_msg *m, const struct mp_fetch_body *b, size_t *off, size_t *len)
{
	int e = 0;
	bool part = false; /* e was selected by a part number (else it is the message) */
	for (unsigned i = 0; i < b->nparts; i++) {
		const struct mime_ent *x = &m->e[e];
		int first; /* the entity numbered 1 here */
		bool single = false;
		if (x->kind == MIME_MULTI) {
			first = x->child;
		} else if (!part) { /* a message that is no multipart: part 1 is its body */
			first = e;
			single = true;
		} else if (x->kind == MIME_RFC822) { /* the parts of the message inside */
			first = m->e[x->child].kind == MIME_MULTI ? m->e[x->child].child : x->child;
			single = m->e[x->child].kind != MIME_MULTI;
		} else {
			return false;
		}
		if (single && b->part[i] != 1)
			return false;
		e = first;
		for (uint32_t k = 1; e >= 0 && k < b->part[i]; k++)
			e = m->e[e].next;
		if (e < 0)
			return false;
		part = true;
	}
	const struct mime_ent *x = &m->e[e];
	switch (b->sec) {
	case MP_SEC_ALL:
		*off = part ? x->body : 0;
		*len = part ? x->body_len : m->len;
		return true;
	case MP_SEC_MIME:
		*off = x->hdr;
		*len = x->hdr_len;
		return part;
	default: break;
	}
	if (part) { /* HEADER, TEXT, HEADER.FIELDS of a part: only of a message/rfc822 one */
		if (x->kind != MIME_RFC822)
			return false;
		x = &m->e[x->child];
	}
	if (b->sec == MP_SEC_TEXT) {
		*off = x->body;
		*len = x->body_len;
	} else {
		*off = x->hdr;
		*len = x->hdr_len;
	}
	return true;
}

static bool listed(const struct mp_fetch_body *b, const char *name, size_t n)
{
	const char *f = b->fields;
	for (unsigned i = 0; i < b->nfields; i++, f += strlen(f) + 1)
		if (strlen(f) == n && strncasecmp(f, name, n) == 0)
			return true;
	return false;
}

size_t imap_header_fields(const char *h, size_t len, const struct mp_fetch_body *b, char *dst)
{
	size_t pos = 0, o = 0;
	struct mime_field f;
	bool not = b->sec == MP_SEC_FIELDS_NOT;
	while (mime_field_next(h, len, &pos, &f)) {
		if (listed(b, f.name, f.name_len) == not )
			continue;
		memcpy(dst + o, f.line, f.line_len);
		o += f.line_len;
		if (f.line_len && f.line[f.line_len - 1] != '\n') { /* the header's last line */
			memcpy(dst + o, "\r\n", 2);
			o += 2;
		}
	}
	memcpy(dst + o, "\r\n", 2);
	return o + 2;
}
