/* workloads/web/app.c: request routing and response building for vcons-web (see app.h). */
#include "workloads/web/app.h"
#include "workloads/web/fileset.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_all(const char *path, unsigned char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 65536, n = 0;
	unsigned char *p = malloc(cap);
	for (;;) {
		if (!p)
			break;
		if (n == cap) {
			unsigned char *q = realloc(p, cap * 2);
			if (!q)
				break;
			p = q;
			cap *= 2;
		}
		ssize_t r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			close(fd);
			*out = p;
			*len = n;
			return 0;
		}
		n += (size_t)r;
	}
	free(p);
	close(fd);
	return -1;
}

static int load_one(const char *dir, const struct fileset_entry *e, struct app_file *f)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", dir, e->path);
	if (read_all(path, &f->data, &f->size) != 0)
		return -1;
	f->fnv = e->fnv;
	f->content_type = e->content_type;
	return f->size == e->size && fnv1a64(f->data, f->size) == e->fnv ? 0 : -1;
}

int app_load_files(struct app *a, const char *dir, int files, const char **err)
{
	unsigned char *scratch = malloc(FILESET_MAX_BYTES);
	a->files = files;
	a->statics = calloc((size_t)files, sizeof(*a->statics));
	a->images = calloc(FILESET_IMAGES, sizeof(*a->images));
	if (!scratch || !a->statics || !a->images) {
		free(scratch);
		*err = "out of memory";
		return -1;
	}
	for (int k = 0; k < fileset_count(files); k++) {
		struct fileset_entry e;
		fileset_nth(files, k, scratch, &e);
		struct app_file *f = k < files ? &a->statics[k] : &a->images[k - files];
		if (load_one(dir, &e, f) != 0) {
			free(scratch);
			*err =
			    "the file set under --data is missing or damaged (run vcons-web --load "
			    "with the same --files)";
			return -1;
		}
	}
	free(scratch);
	char path[4096];
	snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
	unsigned char *m;
	if (read_all(path, &m, &a->manifest_len) != 0) {
		*err = "cannot read manifest.tsv under --data (run vcons-web --load)";
		return -1;
	}
	a->manifest = (char *)m;
	return 0;
}

void app_free_files(struct app *a)
{
	for (int i = 0; a->statics && i < a->files; i++)
		free(a->statics[i].data);
	for (int i = 0; a->images && i < FILESET_IMAGES; i++)
		free(a->images[i].data);
	free(a->statics);
	free(a->images);
	free(a->manifest);
}

void app_resp_free(struct app_resp *r)
{
	wbuf_free(&r->owned);
}

/* Fills the head of an answer whose body is set; head_only: HEAD, the body is not sent. */
static void finish(struct app *a, struct app_resp *r, int status, const char *ctype, int with_sum,
                   int head_only)
{
	if (status >= 500)
		atomic_fetch_add(&a->stats.errors_5xx, 1);
	else if (status >= 400)
		atomic_fetch_add(&a->stats.errors_4xx, 1);
	r->head.status = status;
	r->head.content_type = ctype;
	r->head.content_length = r->body_len;
	r->head.has_sum = with_sum;
	if (with_sum)
		r->head.sum = fnv1a64(r->body, r->body_len);
	if (head_only)
		r->body_len = 0;
	if (r->owned.oom) {
		r->failed = 1; /* cannot send a truthful answer */
		r->head.close = 1;
		r->body_len = 0;
	}
}

static void owned_page(struct app *a, struct app_resp *r, int status, const char *ctype, int sum,
                       int head_only)
{
	r->body = (const unsigned char *)r->owned.p;
	r->body_len = r->owned.len;
	finish(a, r, status, ctype, sum, head_only);
}

/* An error answer; close: whether the connection ends after it (framing errors) or not. */
static void error_page(struct app *a, int status, struct app_resp *r, int close)
{
	wbuf_printf(&r->owned, "%d %s\n", status, http_reason(status));
	r->head.close |= close;
	owned_page(a, r, status, "text/plain", 0, 0);
}

void app_error(struct app *a, int status, struct app_resp *r)
{
	error_page(a, status, r, 1);
}

static int path_is(const struct http_req *q, const char *lit)
{
	return q->path_len == strlen(lit) && memcmp(q->path, lit, q->path_len) == 0;
}

/* "/static/fNNNNN.bin" or "/images/iNNN.png": the file, or NULL. */
static const struct app_file *find_file(struct app *a, const struct http_req *q)
{
	unsigned idx;
	int n = 0;
	char p[40];
	if (q->path_len >= sizeof(p))
		return NULL;
	memcpy(p, q->path, q->path_len);
	p[q->path_len] = 0;
	// NOLINTNEXTLINE(cert-err34-c): width-limited: cannot overflow
	if (q->path_len == 18 && sscanf(p, "/static/f%5u.bin%n", &idx, &n) == 1 && n == 18 &&
	    idx < (unsigned)a->files)
		return &a->statics[idx];
	// NOLINTNEXTLINE(cert-err34-c): width-limited: cannot overflow
	if (q->path_len == 16 && sscanf(p, "/images/i%3u.png%n", &idx, &n) == 1 && n == 16 &&
	    idx < FILESET_IMAGES)
		return &a->images[idx];
	return NULL;
}

static int form_user(struct app *a, const char *s, size_t n, int *user)
{
	unsigned long long u;
	if (http_form_u64(s, n, "user", &u) != 0 || u >= (unsigned long long)bank_users(a->bank))
		return -1;
	*user = (int)u;
	return 0;
}

static void transfer(struct app *a, const struct http_req *q, struct app_resp *r)
{
	int user;
	unsigned long long amount;
	const char *payee;
	size_t plen;
	if (form_user(a, q->body, q->body_len, &user) != 0 ||
	    http_form_u64(q->body, q->body_len, "amount", &amount) != 0 ||
	    !http_form_get(q->body, q->body_len, "payee", &payee, &plen)) {
		error_page(a, 400, r, 0);
		return;
	}
	struct bank_txn t;
	int rc = bank_transfer(a->bank, user, (int64_t)amount, payee, plen, &t);
	if (rc != 0) {
		error_page(a, rc > 0 ? 409 : 500, r, 0);
		return;
	}
	atomic_fetch_add(&a->stats.transfers, 1);
	struct bank_view v;
	bank_view(a->bank, user, &v);
	v.balance = t.balance; /* the page shows this transaction's result */
	v.seq = t.seq;
	pages_transfer(&r->owned, &v, &t);
	owned_page(a, r, 200, "text/html", 1, 0);
}

static void stats(struct app *a, struct app_resp *r)
{
	struct app_stats *s = &a->stats;
	wbuf_printf(
	    &r->owned,
	    "{\"requests\":%lu,\"errors_4xx\":%lu,\"errors_5xx\":%lu,\"transfers\":%lu,"
	    "\"bytes_out\":%lu,\"connections\":%lu,\"tls_handshakes\":%lu,"
	    "\"tls_resumed\":%lu,\"http2\":%lu}\n",
	    atomic_load(&s->requests), atomic_load(&s->errors_4xx), atomic_load(&s->errors_5xx),
	    atomic_load(&s->transfers), atomic_load(&s->bytes_out), atomic_load(&s->connections),
	    atomic_load(&s->tls_handshakes), atomic_load(&s->tls_resumed), atomic_load(&s->http2));
	owned_page(a, r, 200, "application/json", 0, 0);
}

static void index_page(struct app *a, struct app_resp *r, int head_only)
{
	wbuf_printf(&r->owned,
	            "<!DOCTYPE html>\n<html><head><title>vcons-web</title></head><body>\n"
	            "<p>static: /static/f00000.bin .. /static/f%05d.bin, images: "
	            "/images/i000.png .. /images/i%03d.png, /manifest.tsv</p>\n"
	            "<p>bank: /bank/summary?user=U /bank/history?user=U POST "
	            "/bank/transfer (user, amount, payee), users 0..%d</p>\n"
	            "</body></html>\n",
	            a->files - 1, FILESET_IMAGES - 1, bank_users(a->bank) - 1);
	owned_page(a, r, 200, "text/html", 1, head_only);
}

void app_handle(struct app *a, const struct http_req *q, struct app_resp *r)
{
	atomic_fetch_add(&a->stats.requests, 1);
	r->head.close = !q->keep_alive;
	int get = q->method == HTTP_GET || q->method == HTTP_HEAD;
	int head_only = q->method == HTTP_HEAD;
	if (path_is(q, "/bank/transfer")) {
		if (q->method != HTTP_POST)
			error_page(a, 405, r, 0);
		else
			transfer(a, q, r);
		return;
	}
	if (path_is(q, "/admin/stop") && q->method == HTTP_POST) {
		atomic_store(&a->stop, 1);
		r->head.close = 1;
		wbuf_printf(&r->owned, "stopping\n");
		owned_page(a, r, 200, "text/plain", 0, 0);
		return;
	}
	if (!get) {
		error_page(a, 405, r, 0);
		return;
	}
	const struct app_file *f = find_file(a, q);
	if (f) {
		r->body = f->data;
		r->body_len = f->size;
		r->head = (struct http_head){ .status = 200,
			                      .content_type = f->content_type,
			                      .content_length = f->size,
			                      .has_sum = 1,
			                      .sum = f->fnv,
			                      .close = r->head.close };
		if (head_only)
			r->body_len = 0;
		return;
	}
	int user;
	if (path_is(q, "/bank/summary") || path_is(q, "/bank/history")) {
		if (form_user(a, q->query, q->query_len, &user) != 0) {
			error_page(a, 400, r, 0);
			return;
		}
		struct bank_view v;
		bank_view(a->bank, user, &v);
		if (q->path[6] == 's')
			pages_summary(&r->owned, &v);
		else
			pages_history(&r->owned, &v);
		owned_page(a, r, 200, "text/html", 1, head_only);
	} else if (path_is(q, "/manifest.tsv")) {
		r->body = (const unsigned char *)a->manifest;
		r->body_len = a->manifest_len;
		finish(a, r, 200, "text/tab-separated-values", 1, head_only);
	} else if (path_is(q, "/stats")) {
		stats(a, r);
	} else if (path_is(q, "/") || path_is(q, "/index.html")) {
		index_page(a, r, head_only);
	} else {
		error_page(a, 404, r, 0);
	}
}
