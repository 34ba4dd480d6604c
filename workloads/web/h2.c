/* workloads/web/h2.c: HTTP/2 sessions of vcons-web on nghttp2 (see h2.h): a request's header fields
 * and body collected per stream, answered by app.c once complete, its frames appended to the
 * connection's output. */
#include "workloads/web/h2.h"
#include <inttypes.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* One request and its answer, from its HEADERS until nghttp2 closes the stream. */
struct stream {
	int32_t id;
	struct stream *prev, *next;
	size_t header_bytes; /* the header list's size so far (RFC 9113: name + value + 32) */
	int status;          /* an error known before the app sees the request (413, 431); 0 none */
	bool answered;
	char method[8];
	size_t method_len; /* may exceed the room: then no method the app knows */
	char *path;
	size_t path_len;
	struct buf body;
	struct app_resp resp;
	size_t sent; /* body bytes already in DATA frames */
};

struct h2 {
	nghttp2_session *s;
	struct app *a;
	struct h2_limits lim;
	struct buf *out; /* the output of the h2_input call under way */
	struct stream *streams;
};

int h2_preface(const char *p, size_t n)
{
	size_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;
	if (memcmp(p, preface, k) != 0)
		return -1;
	return n >= H2_PREFACE_LEN ? 1 : 0;
}

static struct stream *stream_of(struct h2 *h, int32_t id)
{
	return nghttp2_session_get_stream_user_data(h->s, id);
}

static void stream_free(struct h2 *h, struct stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	app_resp_free(&st->resp);
	buf_free(&st->body);
	free(st->path);
	free(st);
}

/* nghttp2 asks for the next DATA frame's payload: at most len bytes, sent by send_data. */
static ssize_t body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
	(void)s;
	(void)id;
	(void)buf;
	(void)user;
	const struct stream *st = src->ptr;
	size_t left = st->resp.body_len - st->sent;
	size_t n = left < len ? left : len;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY | (n == left ? NGHTTP2_DATA_FLAG_EOF : 0);
	return (ssize_t)n;
}

/* A DATA frame: its header and payload straight into the output (frames are never padded here). */
static int send_data(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd, size_t len,
                     nghttp2_data_source *src, void *user)
{
	(void)s;
	(void)frame;
	struct h2 *h = user;
	struct stream *st = src->ptr;
	if (buf_reserve(h->out, 9 + len))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	buf_put(h->out, framehd, 9);
	buf_put(h->out, st->resp.body + st->sent, len);
	st->sent += len;
	return 0;
}

/* The app's answer to a complete request (or the error found before it), as HEADERS and DATA,
 * or a reset stream when there is no truthful answer. 0, or -1 when the session cannot go on. */
static int answer(struct h2 *h, struct stream *st)
{
	struct app_resp *r = &st->resp;
	struct http_req q = { .minor = 1, .keep_alive = 1 };
	st->answered = true;
	int status = st->status;
	if (!status)
		status = -http_method(st->method, st->method_len, &q.method);
	if (!status)
		status = st->path ? -http_target(st->path, st->path_len, &q) : 400;
	if (status) {
		app_error(h->a, status, r);
	} else {
		q.body = st->body.p ? st->body.p + st->body.off : NULL;
		q.body_len = buf_pending(&st->body);
		app_handle(h->a, &q, r);
	}
	if (r->failed)
		return nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id,
		                                 NGHTTP2_INTERNAL_ERROR)
		           ? -1
		           : 0;
	char code[8], len[24], sum[20];
	snprintf(code, sizeof(code), "%d", r->head.status);
	snprintf(len, sizeof(len), "%zu", r->head.content_length);
	snprintf(sum, sizeof(sum), "%016" PRIx64, r->head.sum);
#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE     \
	}
	const nghttp2_nv nv[] = { NV(":status", code), NV("server", "vcons-web"),
		                  NV("content-type", r->head.content_type),
		                  NV("content-length", len), NV("x-vcons-sum", sum) };
#undef NV
	nghttp2_data_provider body = { .source.ptr = st, .read_callback = body_read };
	size_t n = sizeof(nv) / sizeof(nv[0]) - (r->head.has_sum ? 0 : 1);
	int rc = nghttp2_submit_response(h->s, st->id, nv, n, r->body_len ? &body : NULL);
	return nghttp2_is_fatal(rc) ? -1 : 0;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct h2 *h = user;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
	st->id = f->hd.stream_id;
	st->next = h->streams;
	if (h->streams)
		h->streams->prev = st;
	h->streams = st;
	nghttp2_session_set_stream_user_data(s, st->id, st);
	return 0;
}

/* A content-length over the limit is refused before the body comes (nghttp2 checked its form). */
static bool too_long(const uint8_t *v, size_t n, size_t max)
{
	unsigned long long x = 0;
	for (size_t i = 0; i < n && x <= max; i++) {
		if (v[i] < '0' || v[i] > '9')
			return true;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	return x > max;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
	(void)s;
	(void)flags;
	struct h2 *h = user;
	struct stream *st = stream_of(h, f->hd.stream_id);
	if (!st || f->headers.cat != NGHTTP2_HCAT_REQUEST || st->status)
		return 0; /* trailers, or a request already refused: not kept */
	st->header_bytes += namelen + valuelen + 32;
	if (st->header_bytes > h->lim.max_header) {
		st->status = 431;
		return 0;
	}
	if (namelen == 7 && !memcmp(name, ":method", 7)) {
		st->method_len = valuelen; /* a longer one is no method the app knows */
		if (valuelen < sizeof(st->method))
			memcpy(st->method, value, valuelen);
	} else if (namelen == 5 && !memcmp(name, ":path", 5)) {
		free(st->path);
		if (!(st->path = malloc(valuelen + 1)))
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		memcpy(st->path, value, valuelen);
		st->path_len = valuelen;
	} else if (namelen == 14 && !memcmp(name, "content-length", 14) &&
	           too_long(value, valuelen, h->lim.max_body)) {
		st->status = 413;
	}
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *user)
{
	(void)s;
	(void)flags;
	struct h2 *h = user;
	struct stream *st = stream_of(h, id);
	if (!st || st->answered)
		return 0; /* the rest of a refused body */
	if (buf_pending(&st->body) + len > h->lim.max_body) {
		st->status = 413;
		return answer(h, st) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
	}
	return buf_put(&st->body, data, len) ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
}

/* A request is answered once it is complete, or as soon as it is refused. */
static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	(void)s;
	struct h2 *h = user;
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	struct stream *st = stream_of(h, f->hd.stream_id);
	if (!st || st->answered)
		return 0;
	if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) || st->status)
		return answer(h, st) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error, void *user)
{
	(void)s;
	(void)error;
	struct h2 *h = user;
	struct stream *st = stream_of(h, id);
	if (st)
		stream_free(h, st);
	return 0;
}

static int callbacks(nghttp2_session_callbacks **cb)
{
	if (nghttp2_session_callbacks_new(cb))
		return -1;
	nghttp2_session_callbacks_set_on_begin_headers_callback(*cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(*cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(*cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(*cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(*cb, on_stream_close);
	nghttp2_session_callbacks_set_send_data_callback(*cb, send_data);
	return 0;
}

/* The server's SETTINGS and connection window (h2.h), queued to leave with the first output. */
static int settings(struct h2 *h)
{
	uint64_t win = h->lim.max_body > 65535 ? h->lim.max_body : 65535;
	win = win > NGHTTP2_MAX_WINDOW_SIZE ? NGHTTP2_MAX_WINDOW_SIZE : win;
	uint64_t conn = win * h->lim.max_streams;
	conn = conn > NGHTTP2_MAX_WINDOW_SIZE ? NGHTTP2_MAX_WINDOW_SIZE : conn;
	size_t hdr = h->lim.max_header > UINT32_MAX ? UINT32_MAX : h->lim.max_header;
	const nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h->lim.max_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)win },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)hdr },
	};
	if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])))
		return -1;
	return nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0, (int32_t)conn) ? -1
	                                                                                        : 0;
}

struct h2 *h2_new(struct app *a, const struct h2_limits *lim)
{
	struct h2 *h = calloc(1, sizeof(*h));
	nghttp2_session_callbacks *cb = NULL;
	if (!h || callbacks(&cb)) {
		free(h);
		return NULL;
	}
	h->a = a;
	h->lim = *lim;
	int rc = nghttp2_session_server_new(&h->s, cb, h);
	nghttp2_session_callbacks_del(cb);
	if (rc || settings(h)) {
		h2_free(h);
		return NULL;
	}
	return h;
}

/* Appends what nghttp2 has to send, up to about H2_OUT_BATCH bytes: 0, or -1 out of memory. */
static int h2_output(struct h2 *h, bool *more)
{
	size_t start = buf_pending(h->out);
	while (buf_pending(h->out) - start < H2_OUT_BATCH) {
		const uint8_t *p;
		ssize_t k = nghttp2_session_mem_send(h->s, &p);
		if (k <= 0)
			return k < 0 ? -1 : 0;
		if (buf_put(h->out, p, (size_t)k))
			return -1;
	}
	*more = true;
	return 0;
}

int h2_input(struct h2 *h, struct buf *in, struct buf *out, bool *more)
{
	h->out = out;
	*more = false;
	size_t n = buf_pending(in);
	ssize_t r = n ? nghttp2_session_mem_recv(h->s, (const uint8_t *)in->p + in->off, n) : 0;
	buf_consume(in, n);
	int rc = 0;
	if (r < 0) { /* a bad preface, a flood, out of memory: a goodbye if nghttp2 can make one */
		nghttp2_session_terminate_session(
		    h->s, r == NGHTTP2_ERR_NOMEM ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_PROTOCOL_ERROR);
		rc = -1;
	}
	if (h2_output(h, more))
		return -1;
	h->out = NULL;
	return rc;
}

bool h2_done(struct h2 *h)
{
	return !nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s);
}

void h2_free(struct h2 *h)
{
	if (!h)
		return;
	while (h->streams)
		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): stream_free unlinks the head first
		stream_free(h, h->streams);
	nghttp2_session_del(h->s);
	free(h);
}
