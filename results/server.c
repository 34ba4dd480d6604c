/* results/server.c: libmicrohttpd request handling and routing (see server.h). */
#include "results/server.h"
#include "lib/json.h"
#include "results/check.h"
#include "results/pages.h"
#include "model/report.h"

#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPARE 32

struct server {
	struct server_config cfg;
	struct MHD_Daemon *d;
};

/* Per request: the upload so far. */
struct req {
	char *body;
	size_t len, cap;
	int too_large;
};

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, char *buf,
                                const char *type)
{
	if (!buf)
		return MHD_NO;
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(buf), buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text) {
		size_t n = strlen(text);
		char *nl = realloc(text, n + 2);
		if (nl) {
			memcpy(nl + n, "\n", 2);
			text = nl;
		}
	}
	return send_buf(c, status, text, "application/json");
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *kind,
                                  const char *reason)
{
	return send_json(c, status, json_pack("{s:s,s:s}", "error", kind, "reason", reason));
}

static enum MHD_Result send_html(struct MHD_Connection *c, unsigned status, char *html)
{
	return send_buf(c, status, html, "text/html; charset=utf-8");
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	return v && *v ? v : NULL;
}

/* --- POST /api/results
 * ---------------------------------------------------------------------------- */

static unsigned status_of(int rc)
{
	switch (rc) {
	case SEAL_SIGNATURE:
	case SEAL_UNTRUSTED: return MHD_HTTP_FORBIDDEN;
	case SEAL_IO: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	default: return MHD_HTTP_BAD_REQUEST;
	}
}

static enum MHD_Result post_result(struct server *s, struct MHD_Connection *c, struct req *q)
{
	char err[1024];
	if (q->too_large) {
		snprintf(err, sizeof(err), "upload exceeds the limit of %zu bytes",
		         s->cfg.max_bytes);
		return send_error(c, 413, seal__kind(SEAL_TOO_LARGE), err);
	}
	struct submission sub;
	int rc = check__submission(q->body ? q->body : "", q->len, s->cfg.trust_dir, &sub, err,
	                           sizeof(err));
	if (rc) {
		seal__free(&sub);
		return send_error(c, status_of(rc), seal__kind(rc), err);
	}
	int64_t id;
	int created;
	if (store__add(s->cfg.store, &sub, q->body, q->len, &id, &created, err, sizeof(err))) {
		seal__free(&sub);
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", err);
	}
	char url[64];
	snprintf(url, sizeof(url), "/results/%lld", (long long)id);
	json_t *v = json_object_get(sub.result, "verdict");
	json_t *out =
	    json_pack("{s:I,s:b,s:s,s:b,s:b,s:f,s:s}", "id", (json_int_t)id, "created", created,
	              "digest", sub.digest, "valid", json_is_true(json_object_get(v, "valid")),
	              "compliant", json_is_true(json_object_get(v, "compliant")), "score",
	              jget_num(json_object_get(sub.result, "score"), "run", 0), "url", url);
	seal__free(&sub);
	return send_json(c, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, out);
}

/* Collects the body; 1 when it is complete. */
static int upload(struct server *s, struct req *q, const char *data, size_t *size)
{
	if (!*size)
		return 1;
	if (q->too_large || q->len + *size > s->cfg.max_bytes) {
		q->too_large = 1;
	} else {
		if (q->len + *size + 1 > q->cap) {
			size_t cap = q->cap ? q->cap : 65536;
			while (cap < q->len + *size + 1)
				cap *= 2;
			char *b = realloc(q->body, cap);
			if (!b) {
				q->too_large = 1;
				*size = 0;
				return 0;
			}
			q->body = b;
			q->cap = cap;
		}
		memcpy(q->body + q->len, data, *size);
		q->len += *size;
		q->body[q->len] = 0;
	}
	*size = 0;
	return 0;
}

/* --- GET
 * ------------------------------------------------------------------------------------------ */

static int parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	*id = v;
	return (int)(end - s);
}

/* A query's count (csus=, limit=): a whole number from 1 to INT_MAX, else -1. */
static int parse_count(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	return end == s || *end || v < 1 || v > INT_MAX ? -1 : (int)v;
}

static int parse_filter(struct MHD_Connection *c, struct store_filter *f)
{
	const char *v;
	memset(f, 0, sizeof(*f));
	f->platform = arg(c, "platform");
	f->cpu = arg(c, "cpu");
	f->compliant = -1;
	f->sort = arg(c, "sort");
	f->desc = (v = arg(c, "order")) && !strcmp(v, "desc");
	if ((v = arg(c, "csus")) && ((f->csus = parse_count(v)) < 1))
		return -1;
	if ((v = arg(c, "limit")) && ((f->limit = parse_count(v)) < 1))
		return -1;
	if ((v = arg(c, "compliant"))) {
		if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
			f->compliant = 1;
		else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
			f->compliant = 0;
		else
			return -1;
	}
	return 0;
}

static enum MHD_Result get_list(struct server *s, struct MHD_Connection *c, int html)
{
	struct store_filter f;
	if (parse_filter(c, &f) < 0)
		return html ? send_html(c, 400, pages__error(400, "bad filter"))
		            : send_error(c, 400, "query", "csus: a number; compliant: 1 or 0");
	json_t *rows = store__list(s->cfg.store, &f);
	if (!rows)
		return send_error(c, 500, "store", "database error");
	if (html) {
		char *page = pages__list(rows, &f);
		json_decref(rows);
		return send_html(c, 200, page);
	}
	return send_json(
	    c, 200,
	    json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(rows), "results", rows));
}

static enum MHD_Result get_one(struct server *s, struct MHD_Connection *c, const char *rest,
                               int html)
{
	int64_t id;
	int n = parse_id(rest, &id);
	if (n > 0 && !html && !strcmp(rest + n, "/submission")) {
		size_t len;
		char *sub = store__submission(s->cfg.store, id, &len);
		if (!sub)
			return send_error(c, 404, "not_found", "no such result");
		sub[len] = 0;
		return send_buf(c, 200, sub, "application/json");
	}
	if (n > 0 && html && !strcmp(rest + n, "/report")) { /* vcons report's page */
		json_t *row = store__get(s->cfg.store, id);
		char *page = row ? report__page(json_object_get(row, "result")) : NULL;
		json_decref(row);
		return page ? send_html(c, 200, page)
		            : send_html(c, 404, pages__error(404, "no such result"));
	}
	json_t *row = n > 0 && !rest[n] ? store__get(s->cfg.store, id) : NULL;
	if (!row)
		return html ? send_html(c, 404, pages__error(404, "no such result"))
		            : send_error(c, 404, "not_found", "no such result");
	if (!html)
		return send_json(c, 200, row);
	char *page = pages__result(row);
	json_decref(row);
	return send_html(c, 200, page);
}

static enum MHD_Result get_compare(struct server *s, struct MHD_Connection *c, int html)
{
	const char *ids = arg(c, "ids");
	json_t *rows = json_array();
	char why[128] = "ids: a comma-separated list of result ids";
	while (ids && *ids && json_array_size(rows) < MAX_COMPARE) {
		int64_t id;
		int n = parse_id(ids, &id);
		json_t *row = n > 0 ? store__get(s->cfg.store, id) : NULL;
		if (!row) {
			snprintf(why, sizeof(why), "no result %.20s", ids);
			json_array_clear(rows);
			break;
		}
		json_array_append_new(rows, row);
		ids += n;
		ids += *ids == ',';
	}
	if (!json_array_size(rows)) {
		json_decref(rows);
		return html ? send_html(c, 400, pages__error(400, why))
		            : send_error(c, 400, "query", why);
	}
	if (html) {
		char *page = pages__compare(rows);
		json_decref(rows);
		return send_html(c, 200, page);
	}
	json_t *out = pages__compare_json(rows);
	json_decref(rows);
	return send_json(c, 200, out);
}

static enum MHD_Result route_get(struct server *s, struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/")) {
		struct MHD_Response *r =
		    MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Location", "/results");
		enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_FOUND, r);
		MHD_destroy_response(r);
		return rc;
	}
	if (!strcmp(url, "/api/results"))
		return get_list(s, c, 0);
	if (!strcmp(url, "/results"))
		return get_list(s, c, 1);
	if (!strncmp(url, "/api/results/", 13))
		return get_one(s, c, url + 13, 0);
	if (!strncmp(url, "/results/", 9))
		return get_one(s, c, url + 9, 1);
	if (!strcmp(url, "/api/compare"))
		return get_compare(s, c, 0);
	if (!strcmp(url, "/compare"))
		return get_compare(s, c, 1);
	return !strncmp(url, "/api/", 5) ? send_error(c, 404, "not_found", "no such path")
	                                 : send_html(c, 404, pages__error(404, "no such page"));
}

/* --- the handler
 * ---------------------------------------------------------------------------------- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls)
{
	struct server *s = cls;
	struct req *q = *con_cls;
	int post = !strcmp(method, "POST");
	if (!q) {
		if (!(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		*con_cls = q;
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (post && cl && strtoull(cl, NULL, 10) > s->cfg.max_bytes) {
			q->too_large = 1; /* answer before reading it (no 100 Continue) */
			return post_result(s, c, q);
		}
		return MHD_YES;
	}
	if (post && strcmp(url, "/api/results"))
		return send_error(c, 404, "not_found", "POST goes to /api/results");
	if (post)
		return upload(s, q, data, size) ? post_result(s, c, q) : MHD_YES;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "GET or POST");
	return route_get(s, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;
	if (q) {
		free(q->body);
		free(q);
		*con_cls = NULL;
	}
}

int server__start(const struct server_config *cfg, const char *addr, int port, struct server **out,
                  char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return snprintf(err, errlen, "%s: not an IPv4 address", addr), -1;
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return snprintf(err, errlen, "out of memory"), -1;
	s->cfg = *cfg;
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                            MHD_USE_ERROR_LOG,
	                        (uint16_t)port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	                        MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT,
	                        60u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 256u, MHD_OPTION_END);
	if (!s->d) {
		free(s);
		return snprintf(err, errlen, "cannot listen on %s:%d (in use?)", addr, port), -1;
	}
	*out = s;
	return 0;
}

void server__stop(struct server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
