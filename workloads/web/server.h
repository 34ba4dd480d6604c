/* workloads/web/server.h: vcons-web's HTTP protocol on the server core (workloads/common/srv.h):
 * plain and TLS listeners, keep-alive, pipelined requests answered in order (the next request is
 * parsed once the previous answer is sent), a static file's body sent from memory, no copy. */
#ifndef WORKLOADS_WEB_SERVER_H
#define WORKLOADS_WEB_SERVER_H
#include <openssl/ssl.h>
#include "workloads/web/app.h"

struct server_config {
	const char *addr;
	int port, tls_port; /* 0 = not used */
	SSL_CTX *ctx;       /* for tls_port */
	int threads;
	struct app *app;
	int stop_fd;           /* lib/stop.h's stop_fd(): SIGTERM/SIGINT */
	int request_timeout_s; /* a partial request, handshake or unread answer may stall so long */
	int idle_timeout_s;    /* an idle keep-alive connection is closed after this */
};

/* Listens, then calls ready() (when the server accepts connections) and serves until POST
 * /admin/stop or cfg->stop_fd. 0, or -1 with err filled. */
int server_run(const struct server_config *cfg, void (*ready)(void), char *err, size_t len);

#endif
