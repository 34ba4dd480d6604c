/* hv/wire.h: the encoding of hv's snapshot and migration stream: little-endian integers and
 * length-prefixed byte strings, written into a growing host buffer and read back with every read
 * bounds-checked. Nothing here touches guest memory or a file: callers move the bytes.
 *
 * Writing never fails on the spot: a writer that runs out of memory remembers it (`oom`) and the
 * caller checks once at the end. Reading never reads past the end: a short or malformed input
 * sets `bad`, every later read returns zeroes (and empty strings), and the caller checks `bad`
 * once after a record. So a truncated or corrupt stream is refused, never half-trusted. */
#ifndef HV_WIRE_H
#define HV_WIRE_H
#include <stddef.h>
#include <stdint.h>

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int oom; /* an allocation failed: the buffer is incomplete */
};

void wbuf__init(struct wbuf *w);
void wbuf__free(struct wbuf *w);
void wbuf__u8(struct wbuf *w, uint8_t v);
void wbuf__u32(struct wbuf *w, uint32_t v);
void wbuf__u64(struct wbuf *w, uint64_t v);
void wbuf__i64(struct wbuf *w, int64_t v);
/* Raw bytes, no length (fixed-size fields the reader knows the size of). */
void wbuf__raw(struct wbuf *w, const void *p, size_t n);
/* A u64 length, then the bytes. */
void wbuf__bytes(struct wbuf *w, const void *p, size_t n);
/* A NUL-terminated string as bytes (without the NUL). */
void wbuf__str(struct wbuf *w, const char *s);
/* Reserves room for a u32 written later with wbuf__patch_u32 (a record's length); returns its
 * offset. */
size_t wbuf__reserve_u32(struct wbuf *w);
void wbuf__patch_u32(struct wbuf *w, size_t at, uint32_t v);

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int bad; /* a read went past the end or a value was out of range */
};

void rbuf__init(struct rbuf *r, const void *p, size_t len);
uint8_t rbuf__u8(struct rbuf *r);
uint32_t rbuf__u32(struct rbuf *r);
uint64_t rbuf__u64(struct rbuf *r);
int64_t rbuf__i64(struct rbuf *r);
/* Copies n raw bytes into dst (zeroes when short). */
void rbuf__raw(struct rbuf *r, void *dst, size_t n);
/* A length-prefixed byte string: points into the buffer (NULL and *n = 0 when bad). */
const void *rbuf__bytes(struct rbuf *r, size_t *n);
/* A length-prefixed string copied into dst with its NUL; bad when it does not fit or holds a NUL.
 */
void rbuf__str(struct rbuf *r, char *dst, size_t size);
/* Marks the input bad (a caller's own range check failed). */
void rbuf__fail(struct rbuf *r);
/* Bytes left. */
size_t rbuf__left(const struct rbuf *r);

#endif
