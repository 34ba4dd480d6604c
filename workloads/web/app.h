/* workloads/web/app.h: what vcons-web answers to one parsed request (the URL space), separate from
 * how bytes move (server.c) and from the protocol that carries it: an answer is a head (http.h's
 * struct http_head) and a body, which HTTP/1.1 (server.c) and HTTP/2 (h2.c) send each their way.
 *
 * URL space:
 *   GET /                             index page listing the URL space
 *   GET /static/fNNNNN.bin            static file NNNNN of the file set (fileset.h)
 *   GET /images/iNNN.png              image NNN
 *   GET /manifest.tsv                 the file set's manifest
 *   GET /bank/summary?user=U          account summary (dynamic, pages.h)
 *   GET /bank/history?user=U          transaction history (dynamic, server-side work)
 *   POST /bank/transfer               form user=U&amount=CENTS&payee=NAME: durable debit (bank.h)
 *   GET /stats                        JSON counters (requests, TLS handshakes, resumptions ...)
 *   POST /admin/stop                  in-band clean shutdown
 * Every answer has Content-Length; dynamic and static answers carry X-Vcons-Sum (FNV-1a-64 of the
 * body, hex). Errors: 400 bad form, 404, 405, 409 (insufficient funds), 500 journal failure. */
#ifndef WORKLOADS_WEB_APP_H
#define WORKLOADS_WEB_APP_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "workloads/web/bank.h"
#include "workloads/web/http.h"
#include "workloads/web/pages.h"

struct app_file {
	unsigned char *data;
	size_t size;
	uint64_t fnv;
	const char *content_type;
};

struct app_stats {
	atomic_ulong requests, errors_4xx, errors_5xx, transfers, bytes_out;
	atomic_ulong connections, tls_handshakes, tls_resumed;
	atomic_ulong http2; /* connections that spoke HTTP/2 */
};

struct app {
	struct bank *bank;
	int files;                /* static files in the set */
	struct app_file *statics; /* [files] */
	struct app_file *images;  /* [FILESET_IMAGES] */
	char *manifest;
	size_t manifest_len;
	struct http_limits limits;
	uint32_t max_streams; /* HTTP/2: concurrent streams per connection */
	struct app_stats stats;
	atomic_int stop; /* set by POST /admin/stop or a signal */
};

/* One answer: its head, and a body that is either borrowed (static files, the manifest) or owned.
 * failed: out of memory, there is no truthful answer (the protocol drops the request: HTTP/1.1
 * closes the connection, HTTP/2 resets the stream). */
struct app_resp {
	struct http_head head;     /* head.close: the connection ends after it (HTTP/1.1) */
	const unsigned char *body; /* borrowed or owned.p; body_len bytes to send (0 for HEAD) */
	size_t body_len;
	struct wbuf owned;
	int failed;
};

/* Loads the file set and manifest from dir (checking every file's size and checksum). 0, or -1
 * with *err set. */
int app_load_files(struct app *a, const char *dir, int files, const char **err);
void app_free_files(struct app *a);
/* Fills r (zeroed by the caller) for req. */
void app_handle(struct app *a, const struct http_req *req, struct app_resp *r);
/* An error answer for a request that could not be parsed (status from http_parse, or an HTTP/2
 * request over the limits); head.close set (HTTP/1.1 closes: the stream cannot be framed). */
void app_error(struct app *a, int status, struct app_resp *r);
void app_resp_free(struct app_resp *r);

#endif
