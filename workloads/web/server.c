/* workloads/web/server.c: HTTP on the server core (see server.h). A connection's protocol is chosen
 * once: HTTP/2 when TLS's ALPN chose "h2" or a plain connection starts with the client preface
 * (h2.c), else HTTP/1.1, parsed one request at a time by http.c and answered by app.c: the
 * answer's head is queued, its body borrowed (a static file's bytes, or the page the answer owns),
 * so head and body leave in one write. */
#include "workloads/web/server.h"
#include "workloads/web/h2.h"
#include "workloads/common/srv.h"
#include "workloads/common/srv_tls.h"

#include <stdlib.h>
#include <string.h>

enum { WEB_UNKNOWN, WEB_H1, WEB_H2 };

/* A connection's state (c->proto): its protocol; HTTP/1.1's answer being sent (its body is
 * c->ext), or the HTTP/2 session. */
struct web_conn {
	int proto;
	struct app_resp resp;
	struct h2 *h2;
};

static int web_open(struct srv_conn *c)
{
	struct app *a = c->arg;
	if (!(c->proto = calloc(1, sizeof(struct web_conn))))
		return -1;
	atomic_fetch_add(&a->stats.connections, 1);
	return 0;
}

/* Parses and answers the HTTP/1.1 request at the start of the buffer, if complete. */
static int h1_input(struct srv_conn *c, struct app *a, struct app_resp *resp)
{
	app_resp_free(resp); /* the previous answer is sent */
	struct http_req q;
	long n = http_parse(c->in->p + c->in->off, buf_pending(c->in), &a->limits, &q);
	if (n == 0)
		return 0;
	memset(resp, 0, sizeof(*resp));
	if (n < 0) {
		app_error(a, (int)-n, resp);
		n = (long)buf_pending(c->in); /* the rest of the stream cannot be framed */
	} else {
		app_handle(a, &q, resp);
	}
	buf_consume(c->in, (size_t)n);
	if (resp->failed) { /* no truthful answer: drop the connection */
		c->close_after = true;
		return 0;
	}
	if (buf_reserve(c->out, HTTP_HEAD_MAX))
		return -1;
	int k = http_head_format(&resp->head, c->out->p + c->out->len, HTTP_HEAD_MAX);
	if (k < 0)
		return -1;
	c->out->len += (size_t)k;
	c->ext = resp->body;
	c->ext_len = resp->body_len;
	c->close_after = resp->head.close;
	atomic_fetch_add(&a->stats.bytes_out, (unsigned long)k + resp->body_len);
	return 0;
}

static int h2_start(struct web_conn *w, struct app *a)
{
	const struct h2_limits lim = { .max_header = a->limits.max_header_bytes,
		                       .max_body = a->limits.max_body_bytes,
		                       .max_streams = a->max_streams };
	if (!(w->h2 = h2_new(a, &lim)))
		return -1;
	w->proto = WEB_H2;
	atomic_fetch_add(&a->stats.http2, 1);
	return 0;
}

/* Feeds the HTTP/2 session; all it sends this round is queued for one write. */
static int web_h2_input(struct srv_conn *c, struct app *a, struct h2 *h)
{
	size_t before = buf_pending(c->out);
	int rc = h2_input(h, c->in, c->out, &c->more);
	atomic_fetch_add(&a->stats.bytes_out, buf_pending(c->out) - before);
	if (rc < 0 || h2_done(h))
		c->close_after = true; /* after the GOAWAY, if there is one */
	return 0;
}

static int web_input(struct srv_conn *c)
{
	struct app *a = c->arg;
	struct web_conn *w = c->proto;
	if (w->proto == WEB_UNKNOWN) { /* a plain connection's first bytes */
		int p = h2_preface(c->in->p + c->in->off, buf_pending(c->in));
		if (p == 0)
			return 0;
		if (p < 0)
			w->proto = WEB_H1;
		else if (h2_start(w, a))
			return -1;
	}
	int rc = w->proto == WEB_H2 ? web_h2_input(c, a, w->h2) : h1_input(c, a, &w->resp);
	if (atomic_load(&a->stop)) /* POST /admin/stop */
		srv_stop(c->srv);
	return rc;
}

/* TLS is up: HTTP/2 if ALPN chose it, else HTTP/1.1. */
static void web_secured(struct srv_conn *c)
{
	struct app *a = c->arg;
	struct web_conn *w = c->proto;
	SSL *ssl = srv_tls_ssl(c);
	atomic_fetch_add(&a->stats.tls_handshakes, 1);
	if (SSL_session_reused(ssl))
		atomic_fetch_add(&a->stats.tls_resumed, 1);
	const unsigned char *alpn;
	unsigned len;
	SSL_get0_alpn_selected(ssl, &alpn, &len);
	w->proto = WEB_H1;
	if (len == 2 && !memcmp(alpn, "h2", 2) && h2_start(w, a))
		c->close_after = true; /* out of memory */
}

static void web_close(struct srv_conn *c)
{
	struct web_conn *w = c->proto;
	app_resp_free(&w->resp);
	h2_free(w->h2);
	free(w);
}

int server_run(const struct server_config *cfg, void (*ready)(void), char *err, size_t len)
{
	struct app *a = cfg->app;
	const struct srv_proto proto = {
		.open = web_open,
		.input = web_input,
		.secured = web_secured,
		.close = web_close,
		.in_max = a->limits.max_header_bytes + a->limits.max_body_bytes + 64,
		/* one answer at a time: an HTTP/1.1 body is borrowed; an HTTP/2 round's frames
		 * leave before the next input is taken */
		.out_high = 1,
	};
	struct srv_listener ls[2];
	int n = 0;
	if (cfg->port)
		ls[n++] = (struct srv_listener){ .port = cfg->port, .client_first = true };
	if (cfg->tls_port)
		ls[n++] = (struct srv_listener){ .port = cfg->tls_port,
			                         .client_first = true,
			                         .secure = srv_tls_attach,
			                         .secure_ctx = cfg->ctx };
	const struct srv_config sc = { .addr = cfg->addr,
		                       .listeners = ls,
		                       .n_listeners = n,
		                       .threads = cfg->threads,
		                       .backlog = 1024,
		                       .idle_timeout_s = cfg->idle_timeout_s,
		                       .request_timeout_s = cfg->request_timeout_s,
		                       .stop_fd = cfg->stop_fd,
		                       .proto = &proto,
		                       .arg = a };
	struct srv *s;
	if (srv_start(&s, &sc, err, len))
		return -1;
	ready();
	srv_wait(s);
	atomic_store(&a->stop, 1);
	srv_finish(s);
	return 0;
}
