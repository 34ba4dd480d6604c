/* workloads/db/frame.h: vcons-db's wire framing. Every request and response is one frame: a 4-byte
 * big-endian payload length, then that many bytes of UTF-8 JSON (one object).
 *
 * Why length-prefixed: the server learns a request's size before reading it, so it can refuse an
 * oversized one (FRAME_MAX) without buffering it, knows exactly when a request is complete without
 * scanning for a delimiter that the payload would then have to escape, and can tell a truncated
 * request (peer closed mid-frame) from a complete one. */
#ifndef WORKLOADS_DB_FRAME_H
#define WORKLOADS_DB_FRAME_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FRAME_MAX (64 * 1024) /* largest payload either side accepts */

/* Sends one frame holding o's compact JSON; waits at most timeout_ms for socket space (non-blocking
 * fds) and never raises SIGPIPE. 0, or -1. */
int frame_send_json(int fd, const json_t *o, int timeout_ms);
/* One frame holding o's compact JSON, header included, in a new buffer of *n bytes (the caller
 * frees it); NULL when o cannot be encoded or is larger than FRAME_MAX. */
char *frame_encode_json(const json_t *o, size_t *n);
/* Blocking receive of one frame, parsed as a JSON object (client side). New reference, or NULL with
 * *why set: the peer closed, I/O error/timeout, oversized frame, or bad JSON. */
json_t *frame_recv_json(int fd, const char **why);

/* Incremental parsing for a non-blocking server: bytes accumulate in a frame_buf. */
struct frame_buf {
	char *data;
	size_t have, cap;
};
enum frame_state { FRAME_MORE, FRAME_READY, FRAME_TOO_BIG, FRAME_EMPTY };
/* Makes room for at least want more bytes (capacity capped at FRAME_MAX + 4). 0 or -1. */
int frame_buf_reserve(struct frame_buf *b, size_t want);
/* Whether data holds a complete frame; on FRAME_READY, payload and len describe it. */
enum frame_state frame_parse(const struct frame_buf *b, const char **payload, uint32_t *len);
void frame_consume(struct frame_buf *b, uint32_t len); /* drops the frame of payload len */
void frame_buf_free(struct frame_buf *b);

#endif
