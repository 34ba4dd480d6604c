/* workloads/common/buf.h: a growable byte buffer, a connection's input or output in the network
 * servers (srv.h) and their protocol sessions.
 *
 * Contract: bytes [off, len) of p are pending; a zeroed struct buf is an empty buffer. buf_put and
 * buf_printf append (0, or -1 out of memory, the buffer unchanged); buf_reserve makes room for n
 * more bytes after len (compacting before it grows); buf_consume drops n pending bytes from the
 * front (an emptied buffer starts again at 0); buf_free releases the memory (the buffer is then
 * empty and usable again). */
#ifndef VCONS_BUF_H
#define VCONS_BUF_H
#include <stddef.h>

struct buf {
	char *p;
	size_t off, len, cap; /* bytes [off, len) are pending */
};
int buf_reserve(struct buf *b, size_t n);
int buf_put(struct buf *b, const void *p, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t buf_pending(const struct buf *b);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

#endif
