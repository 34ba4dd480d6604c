/* hv/wire.c: the snapshot and migration stream's encoding (wire.h). */
#include "hv/wire.h"

#include <stdlib.h>
#include <string.h>

void wbuf__init(struct wbuf *w)
{
	memset(w, 0, sizeof(*w));
}

void wbuf__free(struct wbuf *w)
{
	free(w->p);
	wbuf__init(w);
}

static uint8_t *room(struct wbuf *w, size_t n)
{
	if (w->oom)
		return NULL;
	if (n > SIZE_MAX / 2 - w->len) {
		w->oom = 1;
		return NULL;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->oom = 1;
			return NULL;
		}
		w->p = p;
		w->cap = cap;
	}
	uint8_t *at = w->p + w->len;
	w->len += n;
	return at;
}

void wbuf__raw(struct wbuf *w, const void *p, size_t n)
{
	uint8_t *at = room(w, n);
	if (at && n)
		memcpy(at, p, n);
}

void wbuf__u8(struct wbuf *w, uint8_t v)
{
	wbuf__raw(w, &v, 1);
}

void wbuf__u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wbuf__raw(w, b, sizeof(b));
}

void wbuf__u64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wbuf__raw(w, b, sizeof(b));
}

void wbuf__i64(struct wbuf *w, int64_t v)
{
	wbuf__u64(w, (uint64_t)v);
}

void wbuf__bytes(struct wbuf *w, const void *p, size_t n)
{
	wbuf__u64(w, n);
	wbuf__raw(w, p, n);
}

void wbuf__str(struct wbuf *w, const char *s)
{
	wbuf__bytes(w, s, strlen(s));
}

size_t wbuf__reserve_u32(struct wbuf *w)
{
	size_t at = w->len;
	wbuf__u32(w, 0);
	return at;
}

void wbuf__patch_u32(struct wbuf *w, size_t at, uint32_t v)
{
	if (w->oom || at + 4 > w->len)
		return;
	for (int i = 0; i < 4; i++)
		w->p[at + i] = (uint8_t)(v >> (8 * i));
}

void rbuf__init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = 0;
}

void rbuf__fail(struct rbuf *r)
{
	r->bad = 1;
}

size_t rbuf__left(const struct rbuf *r)
{
	return r->bad ? 0 : r->len - r->off;
}

/* The next n bytes, or NULL (and bad) when fewer are left. */
static const uint8_t *take(struct rbuf *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	const uint8_t *at = r->p + r->off;
	r->off += n;
	return at;
}

void rbuf__raw(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *at = take(r, n);
	if (at)
		memcpy(dst, at, n);
	else
		memset(dst, 0, n);
}

uint8_t rbuf__u8(struct rbuf *r)
{
	const uint8_t *at = take(r, 1);
	return at ? at[0] : 0;
}

uint32_t rbuf__u32(struct rbuf *r)
{
	const uint8_t *at = take(r, 4);
	uint32_t v = 0;
	for (int i = 0; at && i < 4; i++)
		v |= (uint32_t)at[i] << (8 * i);
	return v;
}

uint64_t rbuf__u64(struct rbuf *r)
{
	const uint8_t *at = take(r, 8);
	uint64_t v = 0;
	for (int i = 0; at && i < 8; i++)
		v |= (uint64_t)at[i] << (8 * i);
	return v;
}

int64_t rbuf__i64(struct rbuf *r)
{
	return (int64_t)rbuf__u64(r);
}

const void *rbuf__bytes(struct rbuf *r, size_t *n)
{
	uint64_t len = rbuf__u64(r);
	const uint8_t *at = r->bad || len > r->len - r->off ? NULL : take(r, (size_t)len);
	if (!at) {
		r->bad = 1;
		*n = 0;
		return NULL;
	}
	*n = (size_t)len;
	return at;
}

void rbuf__str(struct rbuf *r, char *dst, size_t size)
{
	size_t n;
	const char *s = rbuf__bytes(r, &n);
	if (!s || n >= size || memchr(s, 0, n)) {
		r->bad = 1;
		if (size)
			dst[0] = 0;
		return;
	}
	memcpy(dst, s, n);
	dst[n] = 0;
}
