/* workloads/web/http.c: the request parser (see http.h). A single forward pass over the buffered
 * bytes; every index is checked against len, so truncated input can only ever yield "incomplete"
 * or a rejection, never a read past the end. */
#include "workloads/web/http.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The end of the header section ("\r\n\r\n") within len, or NULL. */
static const char *find_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n')
			return buf + i;
	return NULL;
}

static int token_eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

int http_method(const char *s, size_t n, enum http_method *m)
{
	if (n == 3 && memcmp(s, "GET", 3) == 0)
		*m = HTTP_GET;
	else if (n == 4 && memcmp(s, "HEAD", 4) == 0)
		*m = HTTP_HEAD;
	else if (n == 4 && memcmp(s, "POST", 4) == 0)
		*m = HTTP_POST;
	else
		return -501;
	return 0;
}

int http_target(const char *t, size_t n, struct http_req *req)
{
	if (n == 0 || *t != '/')
		return -400;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return -400;
	req->path = t;
	req->path_len = n;
	req->query = NULL;
	req->query_len = 0;
	const char *q = memchr(t, '?', n);
	if (q) {
		req->query = q + 1;
		req->query_len = (size_t)(t + n - q - 1);
		req->path_len = (size_t)(q - t);
	}
	return 0;
}

/* "METHOD SP target SP HTTP/1.x" in [s, e). */
static int parse_request_line(const char *s, const char *e, struct http_req *req)
{
	const char *sp1 = memchr(s, ' ', (size_t)(e - s));
	if (!sp1 || sp1 == s)
		return -400;
	for (const char *p = s; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return -400;
	const char *t = sp1 + 1;
	const char *sp2 = memchr(t, ' ', (size_t)(e - t));
	if (!sp2 || sp2 == t || http_target(t, (size_t)(sp2 - t), req))
		return -400;
	const char *v = sp2 + 1;
	if (e - v != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.')
		return -400;
	if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return -400;
	if (v[5] != '1' || v[7] > '1')
		return -505;
	int rc = http_method(s, (size_t)(sp1 - s), &req->method);
	if (rc)
		return rc;
	req->minor = v[7] - '0';
	return 0;
}

/* Whether a comma-separated header value lists tok. */
static int list_has(const char *v, size_t n, const char *tok)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t b = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (token_eq(v + b, e - b, tok))
			return 1;
	}
	return 0;
}

static int parse_content_length(const char *v, size_t n, long long *out)
{
	if (n == 0 || n > 18)
		return -400;
	long long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -400;
		x = x * 10 + (v[i] - '0');
	}
	if (*out >= 0 && *out != x)
		return -400;
	*out = x;
	return 0;
}

/* One "name: value" line in [s, e); updates the request's framing state. */
static int parse_header(const char *s, const char *e, struct http_req *req, long long *clen,
                        int *conn_close, int *conn_keep)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	if (!colon || colon == s)
		return -400;
	for (const char *p = s; p < colon; p++)
		if (!is_tchar((unsigned char)*p))
			return -400;
	const char *v = colon + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	const char *ve = e;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (const char *p = v; p < ve; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -400;
	}
	size_t nl = (size_t)(colon - s), vl = (size_t)(ve - v);
	if (token_eq(s, nl, "content-length"))
		return parse_content_length(v, vl, clen);
	if (token_eq(s, nl, "transfer-encoding"))
		return -501;
	if (token_eq(s, nl, "connection")) {
		*conn_close |= list_has(v, vl, "close");
		*conn_keep |= list_has(v, vl, "keep-alive");
	}
	(void)req;
	return 0;
}

long http_parse(const char *buf, size_t len, const struct http_limits *lim, struct http_req *req)
{
	memset(req, 0, sizeof(*req));
	/* Tolerate empty lines before a request (RFC 9112 2.2) only in complete CRLF pairs. */
	size_t lead = 0;
	while (lead + 1 < len && buf[lead] == '\r' && buf[lead + 1] == '\n')
		lead += 2;
	if (lead > 16)
		return -400;
	const char *s = buf + lead;
	size_t n = len - lead;
	size_t scan = n < lim->max_header_bytes ? n : lim->max_header_bytes;
	const char *he = find_head_end(s, scan);
	if (!he) {
		/* Bare LF or a NUL anywhere in what we have is malformed now, not later. */
		for (size_t i = 0; i < scan; i++) {
			if (s[i] == '\0' || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')))
				return -400;
		}
		return n >= lim->max_header_bytes ? -431 : 0;
	}
	const char *line = s, *end = he + 2; /* end: just past the last header's CRLF */
	const char *eol = memchr(line, '\r', (size_t)(end - line));
	if (!eol || eol[1] != '\n')
		return -400;
	int rc = parse_request_line(line, eol, req);
	if (rc)
		return rc;
	long long clen = -1;
	int conn_close = 0, conn_keep = 0;
	for (line = eol + 2; line < end; line = eol + 2) {
		eol = memchr(line, '\r', (size_t)(end - line));
		if (!eol || eol[1] != '\n' || memchr(line, '\n', (size_t)(eol - line)))
			return -400;
		if (*line == ' ' || *line == '\t')
			return -400; /* obsolete line folding */
		rc = parse_header(line, eol, req, &clen, &conn_close, &conn_keep);
		if (rc)
			return rc;
	}
	if (clen < 0)
		clen = 0;
	if ((unsigned long long)clen > lim->max_body_bytes)
		return -413;
	req->keep_alive = req->minor >= 1 ? !conn_close : (conn_keep && !conn_close);
	size_t head = (size_t)(he + 4 - buf);
	if (len - head < (size_t)clen)
		return 0;
	req->body = buf + head;
	req->body_len = (size_t)clen;
	return (long)(head + (size_t)clen);
}

int http_form_get(const char *s, size_t len, const char *key, const char **val, size_t *val_len)
{
	size_t kl = strlen(key), i = 0;
	while (s && i < len) {
		size_t b = i;
		while (i < len && s[i] != '&')
			i++;
		if (i - b > kl && memcmp(s + b, key, kl) == 0 && s[b + kl] == '=') {
			*val = s + b + kl + 1;
			*val_len = i - b - kl - 1;
			return 1;
		}
		i++;
	}
	return 0;
}

int http_form_u64(const char *s, size_t len, const char *key, unsigned long long *out)
{
	const char *v;
	size_t n;
	if (!http_form_get(s, len, key, &v, &n) || n == 0 || n > 18)
		return -1;
	unsigned long long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	*out = x;
	return 0;
}

int http_head_format(const struct http_head *h, char *out, size_t cap)
{
	char sum[40] = "";
	if (h->has_sum)
		snprintf(sum, sizeof(sum), "X-Vcons-Sum: %016" PRIx64 "\r\n", h->sum);
	int n = snprintf(out, cap,
	                 "HTTP/1.1 %d %s\r\nServer: vcons-web\r\nContent-Type: %s\r\n"
	                 "Content-Length: %zu\r\n%sConnection: %s\r\n\r\n",
	                 h->status, http_reason(h->status), h->content_type, h->content_length, sum,
	                 h->close ? "close" : "keep-alive");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
