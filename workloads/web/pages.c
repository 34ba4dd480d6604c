/* workloads/web/pages.c: dynamic page rendering and the client-side acct line parser (pages.h). */
#include "workloads/web/pages.h"
#include "workloads/web/fileset.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wbuf_reserve(struct wbuf *b, size_t more)
{
	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void wbuf_put(struct wbuf *b, const void *p, size_t n)
{
	if (wbuf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

void wbuf_printf(struct wbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || wbuf_reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void wbuf_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int pages_image_index(int user, int k)
{
	return (int)(((unsigned)user * 7u + (unsigned)k * 5u) % FILESET_IMAGES);
}

static void head(struct wbuf *b, const char *title, const struct bank_view *v)
{
	wbuf_printf(b,
	            "<!DOCTYPE html>\n<html><head><title>%s</title></head><body>\n<h1>%s</h1>\n"
	            "<p class=\"acct\">user=%d balance=%" PRId64 " seq=%" PRIu64 "</p>\n",
	            title, title, v->user, v->balance, v->seq);
}

static void images(struct wbuf *b, const struct bank_view *v, int n)
{
	for (int k = 0; k < n; k++)
		wbuf_printf(b, "<img src=\"/images/i%03d.png\">\n", pages_image_index(v->user, k));
}

static void recent(struct wbuf *b, const struct bank_view *v)
{
	wbuf_printf(b, "<table class=\"recent\">\n<tr><th>seq</th><th>payee</th><th>amount</th>"
	               "<th>balance</th></tr>\n");
	for (int i = 0; i < v->nrecent; i++) {
		const struct bank_txn *t = &v->recent[i];
		wbuf_printf(b,
		            "<tr><td>%" PRIu64 "</td><td>%s</td><td>%" PRId64
		            ".%02d</td><td>%" PRId64 ".%02d</td></tr>\n",
		            t->seq, t->payee, t->amount / 100, (int)(t->amount % 100),
		            t->balance / 100, (int)(t->balance % 100));
	}
	wbuf_printf(b, "</table>\n");
}

void pages_summary(struct wbuf *b, const struct bank_view *v)
{
	head(b, "Account summary", v);
	images(b, v, PAGES_SUMMARY_IMAGES);
	recent(b, v);
	wbuf_printf(b, "</body></html>\n");
}

void pages_history(struct wbuf *b, const struct bank_view *v)
{
	head(b, "Transaction history", v);
	images(b, v, PAGES_HISTORY_IMAGES);
	recent(b, v);
	wbuf_printf(b, "<table class=\"statement\">\n");
	for (int row = 0; row < PAGES_HISTORY_ROWS; row++) {
		uint64_t key[3] = { (uint64_t)v->user, v->seq, (uint64_t)row };
		uint64_t h = fnv1a64(key, sizeof(key));
		for (int r = 0; r < PAGES_HISTORY_WORK; r++)
			h = fnv1a64_add(h, &key, sizeof(key)) ^ (h >> 29);
		wbuf_printf(b,
		            "<tr><td>2026-%02d-%02d</td><td>ref%016" PRIx64 "</td><td>%" PRIu64
		            ".%02u</td></tr>\n",
		            (int)(h % 12) + 1, (int)((h >> 8) % 28) + 1, h, (h >> 16) % 100000,
		            (unsigned)((h >> 40) % 100));
	}
	wbuf_printf(b, "</table>\n</body></html>\n");
}

void pages_transfer(struct wbuf *b, const struct bank_view *v, const struct bank_txn *t)
{
	head(b, "Transfer done", v);
	wbuf_printf(b, "<p class=\"txn\">txn=%" PRIu64 " amount=%" PRId64 " payee=%s</p>\n", t->seq,
	            t->amount, t->payee);
	wbuf_printf(b, "</body></html>\n");
}

int pages_parse_acct(const char *body, size_t len, int *user, int64_t *balance, uint64_t *seq)
{
	static const char tag[] = "<p class=\"acct\">";
	const char *p = memmem(body, len, tag, sizeof(tag) - 1);
	if (!p)
		return -1;
	p += sizeof(tag) - 1;
	const char *e = memchr(p, '<', len - (size_t)(p - body));
	if (!e || e - p > 100)
		return -1;
	char line[128];
	memcpy(line, p, (size_t)(e - p));
	line[e - p] = 0;
	int n = 0;
	// NOLINTNEXTLINE(cert-err34-c): checked against the client's own books
	if (sscanf(line, "user=%d balance=%" SCNd64 " seq=%" SCNu64 "%n", user, balance, seq, &n) !=
	        3 ||
	    line[n] != 0)
		return -1;
	return 0;
}
