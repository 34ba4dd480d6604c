/* workloads/mail/imap_search.c: SEARCH (RFC 3501 6.4.4) of imap_msg.h: the search program parsed
 * into a tree of nodes (a list is an AND of its children, OR has two, NOT one) and evaluated over
 * one message. This server keeps no keywords and reports no \Recent messages, so KEYWORD, RECENT
 * and NEW match nothing and UNKEYWORD and OLD everything. */
#include "workloads/mail/imap_msg.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum skey {
	K_AND, /* a parenthesised list, and the program itself */
	K_OR,
	K_NOT,
	K_TRUE,
	K_FALSE,
	K_FLAG,   /* num: the MP_FLAG_* bit that must be set */
	K_UNFLAG, /* ... that must be clear */
	K_LARGER,
	K_SMALLER,
	K_BEFORE, /* INTERNALDATE, days */
	K_ON,
	K_SINCE,
	K_SENTBEFORE, /* the Date: header, days */
	K_SENTON,
	K_SENTSINCE,
	K_HEADER, /* str: field name, str2: the substring */
	K_BODY,
	K_TEXT,
	K_SEQ, /* num: index of the set */
	K_UID,
};

struct sparse {
	struct mp_imap_cur *c;
	struct mp_search *s;
	enum mp_search_rc rc;
};

static int add(struct sparse *p, enum skey k)
{
	if (p->s->n == MP_SEARCH_NODES) {
		p->rc = MP_SEARCH_LIMIT;
		return -1;
	}
	int i = (int)p->s->n++;
	p->s->node[i] = (struct mp_snode){ .key = (uint8_t)k, .kid = -1, .next = -1 };
	return i;
}

/* SP astring into the string area; its offset, or false (p->rc says LIMIT if it was a good
 * string that did not fit). */
static bool str(struct sparse *p, uint32_t *off)
{
	struct mp_search *s = p->s;
	if (!mp_imap_sp(p->c))
		return false;
	struct mp_imap_cur at = *p->c;
	size_t room = sizeof(s->strs) - s->strs_len;
	long n = room ? mp_imap_astring(p->c, s->strs + s->strs_len, room) : -1;
	if (n < 0) {
		char *big = malloc(MP_IMAP_LITERAL_MAX + 1);
		if (!big || mp_imap_astring(&at, big, MP_IMAP_LITERAL_MAX + 1) >= 0)
			p->rc = MP_SEARCH_LIMIT;
		free(big);
		return false;
	}
	*off = (uint32_t)s->strs_len;
	s->strs_len += (size_t)n + 1;
	return true;
}

static bool number(struct sparse *p, uint64_t *v)
{
	struct mp_imap_cur *c = p->c;
	*v = 0;
	if (!mp_imap_sp(c))
		return false;
	const char *s = c->p;
	while (c->p < c->end && isdigit((unsigned char)*c->p)) {
		*v = *v * 10 + (uint64_t)(*c->p - '0');
		if (*v > UINT32_MAX)
			return false;
		c->p++;
	}
	return c->p > s;
}

int64_t mp_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

/* A month's three letters (any case) -> 1..12, 0 if none. */
static unsigned month_of(const char *s)
{
	for (unsigned i = 0; i < 12; i++)
		if (strncasecmp(s, months + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

/* date = date-text / DQUOTE date-text DQUOTE; date-text = d[d]-Mon-yyyy */
static bool date(struct sparse *p, uint64_t *days)
{
	struct mp_imap_cur *c = p->c;
	if (!mp_imap_sp(c))
		return false;
	bool q = c->p < c->end && *c->p == '"';
	const char *s = c->p + q;
	size_t left = (size_t)(c->end - s);
	unsigned d = 0, k = 0;
	while (k < 2 && k < left && isdigit((unsigned char)s[k]))
		d = d * 10 + (unsigned)(s[k++] - '0');
	if (k == 0 || left < k + 9 || s[k] != '-' || s[k + 4] != '-')
		return false;
	unsigned mon = month_of(s + k + 1);
	int64_t y = 0;
	for (unsigned i = k + 5; i < k + 9; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		y = y * 10 + (s[i] - '0');
	}
	const char *e = s + k + 9;
	if (mon == 0 || d == 0 || d > 31 || (q && (e >= c->end || *e != '"')))
		return false;
	c->p = e + q;
	*days = (uint64_t)mp_days_from_civil(y, mon, d);
	return true;
}

static int key(struct sparse *p, unsigned depth);

/* Makes node k the last child of parent. */
static void link(struct sparse *p, int parent, int k)
{
	struct mp_snode *n = &p->s->node[parent];
	if (n->kid < 0) {
		n->kid = (int16_t)k;
		return;
	}
	int last = n->kid;
	while (p->s->node[last].next >= 0)
		last = p->s->node[last].next;
	p->s->node[last].next = (int16_t)k;
}

/* SP key, linked as the next child of parent. */
static bool kid(struct sparse *p, int parent, unsigned depth)
{
	if (!mp_imap_sp(p->c))
		return false;
	int k = key(p, depth + 1);
	if (k < 0)
		return false;
	link(p, parent, k);
	return true;
}

static const struct {
	const char *name;
	enum skey key;
	unsigned flag;
} simple[] = {
	{ "ALL", K_TRUE, 0 },
	{ "ANSWERED", K_FLAG, MP_FLAG_ANSWERED },
	{ "DELETED", K_FLAG, MP_FLAG_DELETED },
	{ "DRAFT", K_FLAG, MP_FLAG_DRAFT },
	{ "FLAGGED", K_FLAG, MP_FLAG_FLAGGED },
	{ "SEEN", K_FLAG, MP_FLAG_SEEN },
	{ "UNANSWERED", K_UNFLAG, MP_FLAG_ANSWERED },
	{ "UNDELETED", K_UNFLAG, MP_FLAG_DELETED },
	{ "UNDRAFT", K_UNFLAG, MP_FLAG_DRAFT },
	{ "UNFLAGGED", K_UNFLAG, MP_FLAG_FLAGGED },
	{ "UNSEEN", K_UNFLAG, MP_FLAG_SEEN },
	{ "NEW", K_FALSE, 0 }, /* RECENT UNSEEN: nothing is \Recent here */
	{ "RECENT", K_FALSE, 0 },
	{ "OLD", K_TRUE, 0 },
	{ "LARGER", K_LARGER, 0 },
	{ "SMALLER", K_SMALLER, 0 },
	{ "BEFORE", K_BEFORE, 0 },
	{ "ON", K_ON, 0 },
	{ "SINCE", K_SINCE, 0 },
	{ "SENTBEFORE", K_SENTBEFORE, 0 },
	{ "SENTON", K_SENTON, 0 },
	{ "SENTSINCE", K_SENTSINCE, 0 },
	{ "BODY", K_BODY, 0 },
	{ "TEXT", K_TEXT, 0 },
	{ "KEYWORD", K_FALSE, 1 }, /* flag 1: takes an atom */
	{ "UNKEYWORD", K_TRUE, 1 },
	{ "HEADER", K_HEADER, 0 },
	{ "BCC", K_HEADER, 0 },
	{ "CC", K_HEADER, 0 },
	{ "FROM", K_HEADER, 0 },
	{ "SUBJECT", K_HEADER, 0 },
	{ "TO", K_HEADER, 0 },
	{ "UID", K_UID, 0 },
	{ "NOT", K_NOT, 0 },
	{ "OR", K_OR, 0 },
};

static bool word_is(const char *w, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(w, name, n) == 0;
}

static int seqset(struct sparse *p, enum skey k)
{
	if (p->s->nsets == MP_SEARCH_SETS) {
		p->rc = MP_SEARCH_LIMIT;
		return -1;
	}
	int i = add(p, k);
	if (i < 0 || !mp_seqset_parse(p->c, &p->s->set[p->s->nsets]))
		return -1;
	p->s->node[i].num = p->s->nsets++;
	return i;
}

/* The arguments of the key named by simple[w]; node i is made. */
static bool args(struct sparse *p, size_t w, int i, unsigned depth)
{
	struct mp_snode *n = &p->s->node[i];
	switch (simple[w].key) {
	case K_LARGER:
	case K_SMALLER: return number(p, &n->num);
	case K_BEFORE:
	case K_ON:
	case K_SINCE:
	case K_SENTBEFORE:
	case K_SENTON:
	case K_SENTSINCE: p->s->needs_text |= n->key >= K_SENTBEFORE; return date(p, &n->num);
	case K_BODY:
	case K_TEXT: p->s->needs_text = true; return str(p, &n->str);
	case K_HEADER:
		p->s->needs_text = true;
		if (strcmp(simple[w].name, "HEADER") == 0)
			return str(p, &n->str) && str(p, &n->str2);
		if (sizeof(p->s->strs) - p->s->strs_len < 8) {
			p->rc = MP_SEARCH_LIMIT;
			return false;
		}
		/* the field name is the key's own, stored like a HEADER's */
		n->str = (uint32_t)p->s->strs_len;
		memcpy(p->s->strs + p->s->strs_len, simple[w].name, strlen(simple[w].name) + 1);
		p->s->strs_len += strlen(simple[w].name) + 1;
		return str(p, &n->str2);
	case K_UID: {
		if (!mp_imap_sp(p->c) || p->s->nsets == MP_SEARCH_SETS) {
			if (p->s->nsets == MP_SEARCH_SETS)
				p->rc = MP_SEARCH_LIMIT;
			return false;
		}
		if (!mp_seqset_parse(p->c, &p->s->set[p->s->nsets]))
			return false;
		n->num = p->s->nsets++;
		return true;
	}
	case K_NOT: return kid(p, i, depth);
	case K_OR:
		if (!kid(p, i, depth)) /* the first of its two keys */
			return false;
		return kid(p, i, depth);
	default:
		if (simple[w].flag && simple[w].key != K_FLAG && simple[w].key != K_UNFLAG) {
			uint32_t off; /* KEYWORD / UNKEYWORD flag-keyword: an atom */
			size_t keep = p->s->strs_len;
			bool ok = str(p, &off);
			p->s->strs_len = keep;
			return ok;
		}
		n->num = simple[w].flag;
		return true;
	}
}

static int key(struct sparse *p, unsigned depth)
{
	struct mp_imap_cur *c = p->c;
	if (depth > MP_SEARCH_NODES || c->p >= c->end)
		return -1;
	if (*c->p == '(') {
		c->p++;
		int i = add(p, K_AND);
		if (i < 0)
			return -1;
		for (;;) {
			int k = key(p, depth + 1);
			if (k < 0)
				return -1;
			link(p, i, k);
			if (c->p < c->end && *c->p == ')') {
				c->p++;
				return i;
			}
			if (!mp_imap_sp(c))
				return -1;
		}
	}
	if (isdigit((unsigned char)*c->p) || *c->p == '*')
		return seqset(p, K_SEQ);
	const char *w;
	size_t wn = mp_imap_atom(c, &w);
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		if (!word_is(w, wn, simple[k].name))
			continue;
		int i = add(p, simple[k].key);
		if (i < 0 || !args(p, k, i, depth))
			return -1;
		return i;
	}
	return -1;
}

enum mp_search_rc mp_search_parse(struct mp_imap_cur *c, struct mp_search *s)
{
	struct sparse p = { .c = c, .s = s, .rc = MP_SEARCH_SYNTAX };
	s->n = s->nsets = 0;
	s->strs_len = 0;
	s->needs_text = false;
	const char *w;
	struct mp_imap_cur at = *c;
	size_t wn = mp_imap_atom(c, &w);
	if (word_is(w, wn, "CHARSET")) {
		char cs[64];
		if (!mp_imap_sp(c) || mp_imap_astring(c, cs, sizeof(cs)) < 0 || !mp_imap_sp(c))
			return MP_SEARCH_SYNTAX;
		if (strcasecmp(cs, "UTF-8") && strcasecmp(cs, "US-ASCII"))
			return MP_SEARCH_CHARSET;
	} else {
		*c = at;
	}
	int root = add(&p, K_AND); /* node 0: the program, an AND of its keys */
	if (root < 0)
		return p.rc;
	for (;;) {
		int k = key(&p, 0);
		if (k < 0)
			return p.rc;
		link(&p, root, k);
		if (mp_imap_at_end(c))
			return MP_SEARCH_OK;
		if (!mp_imap_sp(c))
			return MP_SEARCH_SYNTAX;
	}
}

/* ---- evaluation ---- */

static bool ci_has(const char *hay, size_t hn, const char *needle)
{
	size_t nn = strlen(needle);
	if (nn == 0)
		return true;
	int f0 = tolower((unsigned char)needle[0]);
	for (size_t i = 0; i + nn <= hn; i++) {
		if (tolower((unsigned char)hay[i]) != f0)
			continue;
		size_t k = 1;
		while (k < nn &&
		       tolower((unsigned char)hay[i + k]) == tolower((unsigned char)needle[k]))
			k++;
		if (k == nn)
			return true;
	}
	return false;
}

/* Does a field called name of the message's header contain sub (unfolded)? */
static bool header_has(const struct mime_msg *m, const char *name, const char *sub)
{
	const struct mime_ent *e = &m->e[0];
	size_t pos = 0, nl = strlen(name);
	struct mime_field f;
	while (mime_field_next(m->p + e->hdr, e->hdr_len, &pos, &f)) {
		if (f.name_len != nl || strncasecmp(f.name, name, nl) != 0)
			continue;
		if (!sub[0])
			return true;
		char *v = malloc(f.val_len + 1);
		if (!v)
			return false;
		size_t n = mime_unfold(f.val, f.val_len, v, f.val_len + 1);
		bool hit = ci_has(v, n, sub);
		free(v);
		if (hit)
			return true;
	}
	return false;
}

/* The day of the Date: header ("[Day, ]d Mon yyyy ..."), time and zone disregarded as RFC 3501
 * says; false if there is none that reads. */
static bool sent_day(const struct mime_msg *m, int64_t *days)
{
	struct mime_field f;
	if (!mime_field_find(m->p + m->e[0].hdr, m->e[0].hdr_len, "Date", &f))
		return false;
	char v[128];
	size_t n = mime_unfold(f.val, f.val_len, v, sizeof(v)), i = 0;
	while (i < n && !isdigit((unsigned char)v[i]))
		i++;
	unsigned d = 0, k = 0;
	while (i < n && k < 2 && isdigit((unsigned char)v[i]))
		d = d * 10 + (unsigned)(v[i++] - '0'), k++;
	while (i < n && v[i] == ' ')
		i++;
	if (i + 3 > n)
		return false;
	unsigned mon = month_of(v + i);
	i += 3;
	while (i < n && v[i] == ' ')
		i++;
	int64_t y = 0;
	for (k = 0; i < n && k < 4 && isdigit((unsigned char)v[i]); k++)
		y = y * 10 + (v[i++] - '0');
	if (k == 2) /* RFC 5322 4.3: obsolete two-digit years */
		y += y < 50 ? 2000 : 1900;
	else if (k == 3)
		y += 1900;
	if (mon == 0 || d == 0 || d > 31 || k < 2)
		return false;
	*days = mp_days_from_civil(y, mon, d);
	return true;
}

static bool eval(const struct mp_search *s, int i, const struct mp_search_msg *m)
{
	const struct mp_snode *n = &s->node[i];
	int64_t day = (m->time_s >= 0 ? m->time_s : m->time_s - 86399) / 86400, sent;
	const struct mime_msg *msg = m->msg;
	switch ((enum skey)n->key) {
	case K_AND:
		for (int k = n->kid; k >= 0; k = s->node[k].next)
			if (!eval(s, k, m))
				return false;
		return true;
	case K_OR: return eval(s, n->kid, m) || eval(s, s->node[n->kid].next, m);
	case K_NOT: return !eval(s, n->kid, m);
	case K_TRUE: return true;
	case K_FALSE: return false;
	case K_FLAG: return (m->flags & n->num) != 0;
	case K_UNFLAG: return (m->flags & n->num) == 0;
	case K_LARGER: return m->size > n->num;
	case K_SMALLER: return m->size < n->num;
	case K_BEFORE: return day < (int64_t)n->num;
	case K_ON: return day == (int64_t)n->num;
	case K_SINCE: return day >= (int64_t)n->num;
	case K_SENTBEFORE: return msg && sent_day(msg, &sent) && sent < (int64_t)n->num;
	case K_SENTON: return msg && sent_day(msg, &sent) && sent == (int64_t)n->num;
	case K_SENTSINCE: return msg && sent_day(msg, &sent) && sent >= (int64_t)n->num;
	case K_HEADER: return msg && header_has(msg, s->strs + n->str, s->strs + n->str2);
	case K_BODY:
		return msg && ci_has(msg->p + msg->e[0].body, msg->e[0].body_len, s->strs + n->str);
	case K_TEXT: return msg && ci_has(msg->p, msg->len, s->strs + n->str);
	case K_SEQ: return mp_seqset_has(&s->set[n->num], m->seq, m->max_seq);
	case K_UID: return mp_seqset_has(&s->set[n->num], m->uid, m->max_uid);
	}
	return false;
}

bool mp_search_match(const struct mp_search *s, const struct mp_search_msg *m)
{
	return s->n && eval(s, 0, m);
}
