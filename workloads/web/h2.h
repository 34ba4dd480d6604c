/* workloads/web/h2.h: vcons-web's HTTP/2 (RFC 9113) on a connection's bytes, with nghttp2. No
 * sockets here: server.c moves the bytes; the unit test and the fuzz target feed them directly.
 *
 * A connection speaks HTTP/2 when it starts with the client preface (h2c with prior knowledge on
 * the plain port: h2_preface) or when TLS's ALPN chose "h2". Its session takes every byte that
 * arrives (nghttp2's mem_recv), answers each request once it is complete with the same app_handle
 * as HTTP/1.1 (app.h; the :method and :path of the request, its DATA as the body), and appends
 * every frame the round produced to the output (nghttp2's mem_send; a DATA frame's payload copied
 * once, from the answer's body straight behind its 9-byte header), so that a round's answers
 * leave in one write. Answers are as HTTP/1.1's: :status, content-type, content-length and
 * x-vcons-sum, the same body.
 *
 * Settings the server announces: SETTINGS_MAX_CONCURRENT_STREAMS max_streams,
 * SETTINGS_MAX_HEADER_LIST_SIZE max_header (RFC 9113's size: name, value and 32 per field),
 * SETTINGS_INITIAL_WINDOW_SIZE max(max_body, 65535) and a connection window of max_streams such
 * bodies, so that no request body waits for a WINDOW_UPDATE. Answers flow within the client's
 * windows (curl announces 32 MiB, more than the largest file), with no push.
 *
 * Per stream, as HTTP/1.1 answers them but without closing the connection: a header list over
 * max_header 431, a content-length or a body over max_body 413 (at once; the rest of the body is
 * discarded), a method other than GET, HEAD and POST 501, a target not in origin form 400.
 * Protocol errors (a bad preface, malformed or oversized frames, flow-control violations, floods,
 * an invalid request such as a missing :path) are nghttp2's: it resets the stream, or queues a
 * GOAWAY with the error and the session ends once that is sent (h2_done). */
#ifndef WORKLOADS_WEB_H2_H
#define WORKLOADS_WEB_H2_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workloads/common/buf.h"
#include "workloads/web/app.h"

struct h2_limits {
	size_t max_header; /* header list size, RFC 9113 */
	size_t max_body;
	uint32_t max_streams; /* concurrent streams */
};

#define H2_PREFACE_LEN 24           /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
#define H2_OUT_BATCH   (256 * 1024) /* output one h2_input call appends before it pauses */

/* Whether the n bytes at p open an HTTP/2 connection: 1 they start with the client preface, 0
 * they are a shorter prefix of it (wait for more), -1 they are not HTTP/2. */
int h2_preface(const char *p, size_t n);

struct h2;
/* A server session answering with app a; its SETTINGS leave with the first output. NULL when
 * memory is short. */
struct h2 *h2_new(struct app *a, const struct h2_limits *lim);
/* Consumes all of in and appends what the server sends to out: everything the round produced,
 * up to about H2_OUT_BATCH bytes, then *more is set (call again, with or without input, once out
 * is sent). 0, or -1 when the session cannot go on (out of memory, a bad preface, a flood): out
 * then ends with a GOAWAY if one could be made; close once it is sent. */
int h2_input(struct h2 *h, struct buf *in, struct buf *out, bool *more);
/* The session is over (a GOAWAY sent or received, no stream left, nothing more to send): close
 * once the output is sent. */
bool h2_done(struct h2 *h);
void h2_free(struct h2 *h);

#endif
