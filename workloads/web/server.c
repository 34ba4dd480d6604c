/* workloads/web/server.c: HTTP on the server core (see server.h): a connection's input is parsed
 * one request at a time by http.c and answered by app.c; the answer's head is queued, its body
 * borrowed (a static file's bytes, or the page the answer owns), so head and body leave in one
 * write. */
#include "workloads/web/server.h"
#include "workloads/common/srv.h"
#include "workloads/common/srv_tls.h"

#include <stdlib.h>
#include <string.h>

/* A connection's state (c->proto) is the answer being sent: its body is c->ext. */
static int web_open(struct srv_conn *c)
{
	struct app *a = c->arg;
	if (!(c->proto = calloc(1, sizeof(struct app_resp))))
		return -1;
	atomic_fetch_add(&a->stats.connections, 1);
	return 0;
}

/* Parses and answers the request at the start of the buffer, if complete. */
static int web_input(struct srv_conn *c)
{
	struct app *a = c->arg;
	struct app_resp *resp = c->proto;
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
	if (buf_put(c->out, resp->head.p, resp->head.len))
		return -1;
	c->ext = resp->body;
	c->ext_len = resp->body_len;
	c->close_after = resp->close;
	if (atomic_load(&a->stop)) /* POST /admin/stop */
		srv_stop(c->srv);
	return 0;
}

static void web_secured(struct srv_conn *c)
{
	struct app *a = c->arg;
	atomic_fetch_add(&a->stats.tls_handshakes, 1);
	if (SSL_session_reused(srv_tls_ssl(c)))
		atomic_fetch_add(&a->stats.tls_resumed, 1);
}

static void web_close(struct srv_conn *c)
{
	app_resp_free(c->proto);
	free(c->proto);
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
		.out_high = 1, /* one answer at a time: its body is borrowed */
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
