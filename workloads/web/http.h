/* workloads/web/http.h: HTTP message syntax of vcons-web (pure: no I/O, no allocation): the
 * HTTP/1.1 request parser, the request target and method rules HTTP/2 requests share with it, and
 * an answer's head as both protocols send it (HTTP/1.1 as text here; HTTP/2 as header fields,
 * h2.c).
 *
 * Contract: http_parse() looks at the bytes a connection has buffered and either finds one
 * complete request at their start (request line, headers and a Content-Length body), says more
 * bytes are needed, or rejects the input with the status the server must answer and then close:
 * 400 malformed, 413 body over the limit, 431 header section over the limit, 501 unsupported
 * (Transfer-Encoding, unknown method), 505 a version other than HTTP/1.0 or 1.1. Lines end in
 * CRLF; obsolete line folding, bare LF, control bytes, a bad or repeated Content-Length are 400.
 * Pipelining: the return value is the request's full length, so the caller consumes exactly that
 * and parses the next request from what follows. Pointers in the result point into buf. */
#ifndef WORKLOADS_WEB_HTTP_H
#define WORKLOADS_WEB_HTTP_H
#include <stddef.h>
#include <stdint.h>

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST };

struct http_limits {
	size_t max_header_bytes; /* request line + headers + blank line */
	size_t max_body_bytes;
};

struct http_req {
	enum http_method method;
	const char *path; /* the target up to '?' */
	size_t path_len;
	const char *query; /* after '?', not including it; NULL when absent */
	size_t query_len;
	int minor;      /* HTTP/1.<minor> */
	int keep_alive; /* 1 when the connection stays open after the response */
	const char *body;
	size_t body_len;
};

/* > 0: length of the complete request at buf; 0: incomplete (read more); < 0: -status. */
long http_parse(const char *buf, size_t len, const struct http_limits *lim, struct http_req *req);

/* The method token s[0..n): 0 with *m set, or -501 when it is not GET, HEAD or POST. */
int http_method(const char *s, size_t n, enum http_method *m);
/* An origin-form target t[0..n) ("/path?query": starts with '/', no control bytes, spaces or
 * DEL) into req->path and req->query (pointers into t): 0, or -400. */
int http_target(const char *t, size_t n, struct http_req *req);

/* An answer's head, whatever the protocol. */
struct http_head {
	int status;
	const char *content_type;
	size_t content_length; /* the body's length (also for HEAD, which sends no body) */
	int has_sum;           /* X-Vcons-Sum: sum, the FNV-1a-64 of the body */
	uint64_t sum;
	int close; /* HTTP/1.1: "Connection: close", the connection ends after the answer */
};
/* At most this many bytes of HTTP/1.1 head, for a content type of up to 64 bytes. */
#define HTTP_HEAD_MAX 320
/* The HTTP/1.1 text of h ("HTTP/1.1 200 OK\r\n...\r\n\r\n") into out[cap]: its length, or -1
 * when it does not fit. */
int http_head_format(const struct http_head *h, char *out, size_t cap);

/* Finds key in an application/x-www-form-urlencoded string (no decoding: vcons values are plain
 * tokens). Returns 1 and sets *val and *val_len, or 0 when absent. */
int http_form_get(const char *s, size_t len, const char *key, const char **val, size_t *val_len);
/* Parses a decimal field into *out (0 .. 2^62); 0 on success, -1 when absent or not a number. */
int http_form_u64(const char *s, size_t len, const char *key, unsigned long long *out);

const char *http_reason(int status); /* "OK", "Bad Request", ... */

#endif
