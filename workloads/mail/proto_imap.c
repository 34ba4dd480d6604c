/* workloads/mail/proto_imap.c: IMAP4rev1 (RFC 3501) command syntax: literal markers, tags, atoms,
 * astrings, sequence sets, FETCH attributes (with body sections: part numbers, HEADER.FIELDS lists)
 * and STORE flag lists. */
#include "workloads/mail/mailproto.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int mp_imap_literal(const char *line, size_t len, uint64_t *n, bool *nonsync)
{
	return mp_imap_literal_max(line, len, MP_IMAP_LITERAL_MAX, n, nonsync);
}

int mp_imap_literal_max(const char *line, size_t len, uint64_t max, uint64_t *n, bool *nonsync)
{
	if (len < 2 || line[len - 1] != '}')
		return 0;
	size_t open = len - 1;
	while (open > 0 && line[open - 1] != '{' && line[open - 1] != ' ')
		open--;
	if (open == 0 || line[open - 1] != '{')
		return 0; /* a '}' that is not a literal marker, e.g. inside an atom */
	const char *p = line + open, *end = line + len - 1;
	*nonsync = false;
	if (end > p && end[-1] == '+') {
		*nonsync = true;
		end--;
	}
	if (p == end)
		return -1;
	uint64_t v = 0;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
	}
	*n = v;
	return 1;
}

void mp_imap_cur_init(struct mp_imap_cur *c, const char *s, size_t len)
{
	c->p = s;
	c->end = s + len;
}

bool mp_imap_at_end(const struct mp_imap_cur *c)
{
	return c->p >= c->end;
}

bool mp_imap_sp(struct mp_imap_cur *c)
{
	if (c->p < c->end && *c->p == ' ') {
		c->p++;
		return true;
	}
	return false;
}

/* RFC 3501 ATOM-CHAR: any CHAR except atom-specials "(){ %*\"\\]" and CTLs. */
static bool atom_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("(){ %*\"\\]", ch);
}

size_t mp_imap_tag(struct mp_imap_cur *c, const char **tok)
{
	const char *s = c->p;
	while (c->p < c->end && atom_char((unsigned char)*c->p) && *c->p != '+' && c->p - s < 64)
		c->p++;
	if (c->p < c->end && atom_char((unsigned char)*c->p)) {
		c->p = s; /* too long or contains '+' */
		return 0;
	}
	*tok = s;
	return (size_t)(c->p - s);
}

size_t mp_imap_atom(struct mp_imap_cur *c, const char **tok)
{
	const char *s = c->p;
	while (c->p < c->end && atom_char((unsigned char)*c->p) && *c->p != '[')
		c->p++;
	*tok = s;
	return (size_t)(c->p - s);
}

long mp_imap_astring(struct mp_imap_cur *c, char *dst, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return -1;
	if (c->p >= c->end)
		return -1;
	if (*c->p == '"') {
		const char *p = c->p + 1;
		for (; p < c->end && *p != '"'; p++) {
			if (*p == '\\') {
				if (++p >= c->end || (*p != '\\' && *p != '"'))
					return -1;
			} else if (*p == '\r' || *p == '\n' || *p == 0) {
				return -1;
			}
			if (o + 1 >= cap)
				return -1;
			dst[o++] = *p;
		}
		if (p >= c->end)
			return -1;
		c->p = p + 1;
	} else if (*c->p == '{') {
		const char *close = memchr(c->p, '}', (size_t)(c->end - c->p));
		/* the marker must start here: "{abc {5}" is no literal */
		if (!close || memchr(c->p + 1, '{', (size_t)(close - c->p - 1)))
			return -1;
		uint64_t n;
		bool nonsync;
		if (mp_imap_literal(c->p, (size_t)(close - c->p) + 1, &n, &nonsync) != 1)
			return -1;
		const char *data = close + 1;
		if (c->end - data < 2 || data[0] != '\r' || data[1] != '\n')
			return -1;
		data += 2;
		if ((uint64_t)(c->end - data) < n || n + 1 > cap)
			return -1;
		memcpy(dst, data, n);
		o = n;
		c->p = data + n;
	} else {
		const char *tok;
		size_t n = 0;
		const char *s = c->p;
		while (c->p < c->end && (atom_char((unsigned char)*c->p) || *c->p == ']'))
			c->p++;
		tok = s;
		n = (size_t)(c->p - s);
		if (n == 0 || n + 1 > cap) {
			c->p = s;
			return -1;
		}
		memcpy(dst, tok, n);
		o = n;
	}
	dst[o] = 0;
	return (long)o;
}

bool mp_imap_literal_arg(struct mp_imap_cur *c, uint64_t max, const char **data, size_t *n)
{
	if (c->p >= c->end || *c->p != '{')
		return false;
	const char *close = memchr(c->p, '}', (size_t)(c->end - c->p));
	uint64_t len;
	bool nonsync;
	if (!close || memchr(c->p + 1, '{', (size_t)(close - c->p - 1)) ||
	    mp_imap_literal_max(c->p, (size_t)(close - c->p) + 1, max, &len, &nonsync) != 1)
		return false;
	const char *d = close + 1;
	if (c->end - d < 2 || d[0] != '\r' || d[1] != '\n' || (uint64_t)(c->end - d - 2) < len)
		return false;
	*data = d + 2;
	*n = (size_t)len;
	c->p = d + 2 + len;
	return true;
}

long mp_imap_list_mailbox(struct mp_imap_cur *c, char *dst, size_t cap)
{
	if (c->p < c->end && (*c->p == '"' || *c->p == '{'))
		return mp_imap_astring(c, dst, cap);
	const char *s = c->p;
	while (c->p < c->end && (atom_char((unsigned char)*c->p) || strchr("%*]", *c->p)))
		c->p++;
	size_t n = (size_t)(c->p - s);
	if (n == 0 || n + 1 > cap) {
		c->p = s;
		return -1;
	}
	memcpy(dst, s, n);
	dst[n] = 0;
	return (long)n;
}

/* n digits at p as a number, or -1. */
static long digits(const char *p, int n)
{
	long v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

bool mp_imap_datetime(struct mp_imap_cur *c, int64_t *t)
{
	static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	/* "dd-Mon-yyyy hh:mm:ss +zzzz" with quotes: 28 bytes */
	if (c->end - c->p < 28 || c->p[0] != '"' || c->p[27] != '"')
		return false;
	const char *p = c->p + 1;
	long day = p[0] == ' ' ? digits(p + 1, 1) : digits(p, 2);
	const char *mon = NULL;
	for (int i = 0; i < 12 && !mon; i++)
		if (strncasecmp(p + 3, mons + 3 * i, 3) == 0)
			mon = mons + 3 * i;
	long year = digits(p + 7, 4), hh = digits(p + 12, 2), mm = digits(p + 15, 2);
	long ss = digits(p + 18, 2), zone = digits(p + 22, 4);
	if (day < 1 || day > 31 || !mon || p[2] != '-' || p[6] != '-' || year < 1970 ||
	    p[11] != ' ' || hh < 0 || hh > 23 || p[14] != ':' || mm < 0 || mm > 59 ||
	    p[17] != ':' || ss < 0 || ss > 60 || p[20] != ' ' || (p[21] != '+' && p[21] != '-') ||
	    zone < 0)
		return false;
	unsigned m = (unsigned)((mon - mons) / 3 + 1);
	int64_t off = (zone / 100 * 60 + zone % 100) * 60 * (p[21] == '-' ? -1 : 1);
	*t = days_from_civil(year, m, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss - off;
	if (*t < 0)
		*t = 0;
	c->p += 28;
	return true;
}

static bool parse_num(struct mp_imap_cur *c, uint32_t *v)
{
	uint64_t x = 0;
	const char *s = c->p;
	while (c->p < c->end && isdigit((unsigned char)*c->p)) {
		x = x * 10 + (uint64_t)(*c->p - '0');
		if (x > UINT32_MAX)
			return false;
		c->p++;
	}
	*v = (uint32_t)x;
	return c->p > s;
}

/* seq-number: nz-number or '*' (stored as 0) */
static bool parse_seqnum(struct mp_imap_cur *c, uint32_t *v)
{
	if (c->p < c->end && *c->p == '*') {
		c->p++;
		*v = 0;
		return true;
	}
	return parse_num(c, v) && *v != 0;
}

bool mp_seqset_parse(struct mp_imap_cur *c, struct mp_seqset *s)
{
	s->n = 0;
	for (;;) {
		if (s->n == MP_SEQ_RANGES)
			return false;
		uint32_t lo, hi;
		if (!parse_seqnum(c, &lo))
			return false;
		hi = lo;
		if (c->p < c->end && *c->p == ':') {
			c->p++;
			if (!parse_seqnum(c, &hi))
				return false;
		}
		s->r[s->n].lo = lo;
		s->r[s->n].hi = hi;
		s->n++;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		return true;
	}
}

bool mp_seqset_has(const struct mp_seqset *s, uint32_t n, uint32_t star)
{
	for (unsigned i = 0; i < s->n; i++) {
		uint32_t lo = s->r[i].lo ? s->r[i].lo : star;
		uint32_t hi = s->r[i].hi ? s->r[i].hi : star;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (n >= lo && n <= hi)
			return true;
	}
	return false;
}

static bool word_is(const char *tok, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(tok, w, n) == 0;
}

/* "(" header-fld-name *(SP header-fld-name) ")": astrings of atom characters but ':' (RFC 5322
 * field names are printable ASCII but ':'; the few that are no atom are refused, so that every
 * name is echoed as an atom), stored upper case, NUL-terminated, one after the other. */
static bool parse_fields(struct mp_imap_cur *c, struct mp_fetch_body *b)
{
	if (!mp_imap_sp(c) || c->p >= c->end || *c->p != '(')
		return false;
	c->p++;
	size_t o = 0;
	for (;;) {
		char name[256];
		long n = mp_imap_astring(c, name, sizeof(name));
		if (n <= 0 || o + (size_t)n + 1 > sizeof(b->fields))
			return false;
		for (long i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)name[i];
			if (!atom_char(ch) || ch == ':')
				return false;
			b->fields[o++] = (char)toupper(ch);
		}
		b->fields[o++] = 0;
		b->nfields++;
		if (c->p < c->end && *c->p == ')') {
			c->p++;
			return true;
		}
		if (!mp_imap_sp(c))
			return false;
	}
}

/* section-spec after the part numbers (which end in '.' when a text follows). */
static bool parse_section_text(struct mp_imap_cur *c, struct mp_fetch_body *b)
{
	const char *s = c->p;
	while (c->p < c->end && *c->p != ']' && *c->p != ' ')
		c->p++;
	size_t n = (size_t)(c->p - s);
	if (word_is(s, n, "HEADER"))
		b->sec = MP_SEC_HEADER;
	else if (word_is(s, n, "TEXT"))
		b->sec = MP_SEC_TEXT;
	else if (word_is(s, n, "MIME") && b->nparts)
		b->sec = MP_SEC_MIME;
	else if (word_is(s, n, "HEADER.FIELDS"))
		b->sec = MP_SEC_FIELDS;
	else if (word_is(s, n, "HEADER.FIELDS.NOT"))
		b->sec = MP_SEC_FIELDS_NOT;
	else
		return false;
	return b->sec < MP_SEC_FIELDS || b->sec == MP_SEC_MIME || parse_fields(c, b);
}

/* "[" section "]" ["<" origin "." count ">"] after BODY / BODY.PEEK */
static bool parse_section(struct mp_imap_cur *c, struct mp_fetch_body *b)
{
	if (c->p >= c->end || *c->p != '[')
		return false;
	c->p++;
	b->sec = MP_SEC_ALL;
	while (c->p < c->end && isdigit((unsigned char)*c->p)) {
		uint32_t v;
		if (!parse_num(c, &v) || v == 0 || b->nparts == MP_PART_DEPTH)
			return false;
		b->part[b->nparts++] = v;
		if (c->p < c->end && *c->p == '.')
			c->p++;
		else
			break;
	}
	bool dot = b->nparts && c->p[-1] == '.'; /* "1.2." : a section text must follow */
	if ((dot || (b->nparts == 0 && c->p < c->end && *c->p != ']')) && !parse_section_text(c, b))
		return false;
	if (c->p >= c->end || *c->p != ']')
		return false;
	c->p++;
	if (c->p < c->end && *c->p == '<') {
		c->p++;
		if (!parse_num(c, &b->origin) || c->p >= c->end || *c->p != '.')
			return false;
		c->p++;
		if (!parse_num(c, &b->count) || b->count == 0 || c->p >= c->end || *c->p != '>')
			return false;
		c->p++;
		b->partial = true;
	}
	return true;
}

static bool parse_att(struct mp_imap_cur *c, struct mp_fetch *f)
{
	const char *tok;
	size_t n = mp_imap_atom(c, &tok);
	if (n == 0)
		return false;
	struct mp_fetch_body b = { 0 };
	bool body = false;
	if (word_is(tok, n, "UID"))
		f->attrs |= MP_F_UID;
	else if (word_is(tok, n, "FLAGS"))
		f->attrs |= MP_F_FLAGS;
	else if (word_is(tok, n, "RFC822.SIZE"))
		f->attrs |= MP_F_SIZE;
	else if (word_is(tok, n, "INTERNALDATE"))
		f->attrs |= MP_F_INTERNALDATE;
	else if (word_is(tok, n, "FAST"))
		f->attrs |= MP_F_FLAGS | MP_F_INTERNALDATE | MP_F_SIZE;
	else if (word_is(tok, n, "ALL"))
		f->attrs |= MP_F_FLAGS | MP_F_INTERNALDATE | MP_F_SIZE | MP_F_ENVELOPE;
	else if (word_is(tok, n, "FULL"))
		f->attrs |= MP_F_FLAGS | MP_F_INTERNALDATE | MP_F_SIZE | MP_F_ENVELOPE | MP_F_BODY;
	else if (word_is(tok, n, "ENVELOPE"))
		f->attrs |= MP_F_ENVELOPE;
	else if (word_is(tok, n, "BODYSTRUCTURE"))
		f->attrs |= MP_F_BODYSTRUCTURE;
	else if (word_is(tok, n, "BODY") && (c->p >= c->end || *c->p != '['))
		f->attrs |= MP_F_BODY;
	else if (word_is(tok, n, "RFC822") || word_is(tok, n, "RFC822.HEADER") ||
	         word_is(tok, n, "RFC822.TEXT")) {
		b.rfc822 = true;
		b.sec = n == 6                           ? MP_SEC_ALL
		        : tok[7] == 'H' || tok[7] == 'h' ? MP_SEC_HEADER
		                                         : MP_SEC_TEXT;
		b.peek = b.sec == MP_SEC_HEADER; /* RFC822.HEADER is the PEEK form */
		body = true;
	} else if (word_is(tok, n, "BODY") || word_is(tok, n, "BODY.PEEK")) {
		b.peek = n == 9;
		if (!parse_section(c, &b))
			return false;
		body = true;
	} else {
		return false;
	}
	if (body) {
		if (f->nbodies == MP_FETCH_BODIES)
			return false;
		f->body[f->nbodies++] = b;
	}
	return true;
}

/* "(" item *(SP item) ")" after the "(" (empty: "()" only if empty_ok). */
static bool paren_list(struct mp_imap_cur *c, bool (*item)(struct mp_imap_cur *, void *), void *ctx,
                       bool empty_ok)
{
	if (empty_ok && c->p < c->end && *c->p == ')') {
		c->p++;
		return true;
	}
	for (;;) {
		if (!item(c, ctx))
			return false;
		if (c->p < c->end && *c->p == ')') {
			c->p++;
			return true;
		}
		if (!mp_imap_sp(c))
			return false;
	}
}

static bool att_item(struct mp_imap_cur *c, void *f)
{
	return parse_att(c, f);
}

bool mp_fetch_parse(struct mp_imap_cur *c, struct mp_fetch *f)
{
	memset(f, 0, sizeof(*f));
	if (c->p < c->end && *c->p == '(') {
		c->p++;
		return paren_list(c, att_item, f, false);
	}
	return parse_att(c, f);
}

size_t mp_fetch_body_name(const struct mp_fetch_body *b, char *dst, size_t cap)
{
	static const char *const secs[] = {
		"", "HEADER", "TEXT", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "MIME"
	};
	static const char *const rfc[] = { "RFC822", "RFC822.HEADER", "RFC822.TEXT" };
	size_t o = 0;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		int k_ = snprintf(cap > o ? dst + o : NULL, cap > o ? cap - o : 0, __VA_ARGS__);   \
		if (k_ > 0)                                                                        \
			o += (size_t)k_;                                                           \
	} while (0)
	if (cap)
		dst[0] = 0;
	if (b->rfc822 && b->sec <= MP_SEC_TEXT) {
		ADD("%s", rfc[b->sec]);
	} else {
		ADD("BODY[");
		for (unsigned i = 0; i < b->nparts; i++)
			ADD("%s%u", i ? "." : "", b->part[i]);
		ADD("%s%s", b->nparts && b->sec != MP_SEC_ALL ? "." : "", secs[b->sec]);
		if (b->sec == MP_SEC_FIELDS || b->sec == MP_SEC_FIELDS_NOT) {
			const char *f = b->fields;
			for (unsigned i = 0; i < b->nfields; i++, f += strlen(f) + 1)
				ADD("%s%s", i ? " " : " (", f);
			ADD(")");
		}
		ADD("]");
		if (b->partial)
			ADD("<%u>", b->origin);
	}
#undef ADD
	return o;
}

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "\\Seen", MP_FLAG_SEEN },         { "\\Deleted", MP_FLAG_DELETED },
	{ "\\Answered", MP_FLAG_ANSWERED }, { "\\Flagged", MP_FLAG_FLAGGED },
	{ "\\Draft", MP_FLAG_DRAFT },
};

static bool parse_flag(struct mp_imap_cur *c, unsigned *flags)
{
	const char *s = c->p;
	if (c->p < c->end && *c->p == '\\')
		c->p++;
	const char *tok;
	size_t n = mp_imap_atom(c, &tok);
	if (n == 0)
		return false;
	n += (size_t)(tok - s);
	for (size_t k = 0; k < sizeof(flag_names) / sizeof(flag_names[0]); k++) {
		if (word_is(s, n, flag_names[k].name)) {
			*flags |= flag_names[k].flag;
			return true;
		}
	}
	return s[0] !=
	       '\\'; /* keywords are accepted and not kept; unknown system flags are errors */
}

static bool flag_item(struct mp_imap_cur *c, void *flags)
{
	return parse_flag(c, flags);
}

bool mp_imap_flag_list(struct mp_imap_cur *c, unsigned *flags)
{
	*flags = 0;
	if (c->p >= c->end || *c->p != '(')
		return false;
	c->p++;
	return paren_list(c, flag_item, flags, true);
}

bool mp_store_parse(struct mp_imap_cur *c, enum mp_store_op *op, bool *silent, unsigned *flags)
{
	*op = MP_STORE_SET;
	if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
		*op = *c->p == '+' ? MP_STORE_ADD : MP_STORE_REMOVE;
		c->p++;
	}
	const char *tok;
	size_t n = mp_imap_atom(c, &tok);
	if (word_is(tok, n, "FLAGS"))
		*silent = false;
	else if (word_is(tok, n, "FLAGS.SILENT"))
		*silent = true;
	else
		return false;
	if (!mp_imap_sp(c))
		return false;
	*flags = 0;
	bool paren = c->p < c->end && *c->p == '(';
	if (paren) {
		c->p++;
		if (c->p < c->end && *c->p == ')') {
			c->p++;
			return mp_imap_at_end(c);
		}
	}
	bool closed = false;
	for (;;) {
		if (!parse_flag(c, flags))
			return false;
		if (paren && c->p < c->end && *c->p == ')') {
			c->p++;
			closed = true;
			break;
		}
		if (!mp_imap_sp(c))
			break;
	}
	return closed == paren && mp_imap_at_end(c);
}

size_t mp_flags_format(unsigned flags, char *dst, size_t cap)
{
	size_t o = 0;
	if (cap)
		dst[0] = 0;
	for (size_t k = 0; k < sizeof(flag_names) / sizeof(flag_names[0]); k++) {
		if (!(flags & flag_names[k].flag))
			continue;
		int n = snprintf(dst + o, cap > o ? cap - o : 0, "%s%s", o ? " " : "",
		                 flag_names[k].name);
		if (n > 0)
			o += (size_t)n;
	}
	return o < cap ? o : (cap ? cap - 1 : 0);
}
