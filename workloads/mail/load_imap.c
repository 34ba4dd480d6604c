/* workloads/mail/load_imap.c: reading what vcons-mail-load needs out of IMAP responses: LIST names,
 * SEARCH results, EXISTS, the UIDPLUS codes COPYUID and APPENDUID (RFC 4315) and whether a
 * BODYSTRUCTURE is a multipart; and quoted strings to send. Tolerant: what does not parse is
 * "absent". */
#include "workloads/mail/load.h"

#include <stdlib.h>
#include <string.h>

size_t imap_quote(const char *s, char *dst, size_t cap)
{
	size_t o = 0;
	if (cap < 3)
		return 0;
	dst[o++] = '"';
	for (; *s && o + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			dst[o++] = '\\';
		dst[o++] = *s;
	}
	dst[o++] = '"';
	dst[o] = 0;
	return o;
}

bool imap_list_name(const char *text, char *dst, size_t cap)
{
	if (strncmp(text, "* LIST (", 8))
		return false;
	const char *p = strchr(text + 8, ')');
	if (!p || p[1] != ' ')
		return false;
	p += 2;
	if (*p == '"') { /* the delimiter, quoted, or NIL */
		p = p[1] == '\\' ? p + 4 : p + 3;
	} else if (!strncmp(p, "NIL", 3)) {
		p += 3;
	} else {
		return false;
	}
	if (*p++ != ' ')
		return false;
	size_t o = 0;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (o + 1 >= cap)
				return false;
			dst[o++] = *p;
		}
		if (*p != '"')
			return false;
	} else {
		for (; *p && *p != ' '; p++) {
			if (o + 1 >= cap || *p == '{')
				return false; /* a literal name: not one of ours */
			dst[o++] = *p;
		}
	}
	dst[o] = 0;
	return o > 0;
}

long imap_search_nums(const struct imap_result *res, uint32_t **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	for (size_t i = 0; i < res->n; i++) {
		const char *p = res->r[i].text;
		if (strncmp(p, "* SEARCH", 8))
			continue;
		p += 8;
		while (*p == ' ') {
			char *end;
			unsigned long v = strtoul(p + 1, &end, 10);
			if (end == p + 1)
				break;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				uint32_t *nv = realloc(*out, cap * sizeof(**out));
				if (!nv) {
					free(*out);
					*out = NULL;
					return -1;
				}
				*out = nv;
			}
			(*out)[n++] = (uint32_t)v;
			p = end;
		}
	}
	return (long)n;
}

/* "* N EXISTS" -> N, else -1. */
static long exists_of(const char *t)
{
	char *end;
	if (strncmp(t, "* ", 2))
		return -1;
	long v = strtol(t + 2, &end, 10);
	return end != t + 2 && v >= 0 && !strcmp(end, " EXISTS") ? v : -1;
}

long imap_exists(const struct imap_result *res)
{
	long n = -1;
	for (size_t i = 0; i < res->n; i++) {
		long v = exists_of(res->r[i].text);
		if (v >= 0)
			n = v;
	}
	return n;
}

size_t imap_exists_count(const struct imap_result *res, size_t from, size_t to)
{
	size_t k = 0;
	for (size_t i = from; i < to && i < res->n; i++)
		k += exists_of(res->r[i].text) >= 0;
	return k;
}

/* The index of uid in sequence set s (up to its end or a space), or -1. */
static long set_index(const char *s, uint32_t uid)
{
	long idx = 0;
	while (*s && *s != ' ' && *s != ']') {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (end == s)
			return -1;
		if (*end == ':')
			hi = strtoul(end + 1, &end, 10);
		if (hi < lo) {
			unsigned long t = lo;
			lo = hi;
			hi = t;
		}
		if (uid >= lo && uid <= hi)
			return idx + (long)(uid - lo);
		idx += (long)(hi - lo + 1);
		s = *end == ',' ? end + 1 : end;
	}
	return -1;
}

/* The idx-th UID of sequence set s, or 0. */
static uint32_t set_at(const char *s, long idx)
{
	while (*s && *s != ' ' && *s != ']') {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (end == s)
			return 0;
		if (*end == ':')
			hi = strtoul(end + 1, &end, 10);
		if (idx <= (long)(hi - lo))
			return (uint32_t)(lo + (unsigned long)idx);
		idx -= (long)(hi - lo + 1);
		s = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static uint32_t copyuid_in(const char *text, uint32_t src_uid)
{
	const char *p = strstr(text, "[COPYUID ");
	if (!p || !(p = strchr(p + 9, ' ')))
		return 0;
	long idx = set_index(p + 1, src_uid);
	const char *dst = strchr(p + 1, ' ');
	return idx < 0 || !dst ? 0 : set_at(dst + 1, idx);
}

uint32_t imap_copyuid(const struct imap_result *res, uint32_t src_uid)
{
	for (size_t i = 0; i < res->n; i++)
		if (!strncmp(res->r[i].text, "* OK [COPYUID ", 14))
			return copyuid_in(res->r[i].text, src_uid);
	return copyuid_in(res->tail, src_uid);
}

uint32_t imap_appenduid(const struct imap_result *res)
{
	const char *p = strstr(res->tail, "[APPENDUID ");
	if (!p || !(p = strchr(p + 11, ' ')))
		return 0;
	return (uint32_t)strtoul(p + 1, NULL, 10);
}

bool imap_multipart(const char *text)
{
	const char *p = strstr(text, "BODYSTRUCTURE (");
	return p && p[15] == '(';
}
