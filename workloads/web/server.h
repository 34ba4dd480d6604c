/* workloads/web/server.h: vcons-web's event loop: one thread per vCPU, each with its own epoll
 * instance watching the shared listening sockets and the connections it accepted; non-blocking
 * sockets, optional TLS per listener, keep-alive and pipelined requests answered in order. */
#ifndef WORKLOADS_WEB_SERVER_H
#define WORKLOADS_WEB_SERVER_H
#include <openssl/ssl.h>
#include <stdatomic.h>
#include "workloads/web/app.h"

struct server_config {
	int threads;
	int plain_fd; /* listening sockets, non-blocking; -1 = not used */
	int tls_fd;
	SSL_CTX *ctx; /* for tls_fd */
	struct app *app;
	/* set by SIGTERM/SIGINT, read by every worker: an atomic, as the handler may run in any
	 * thread (volatile sig_atomic_t is only for a handler and the thread it interrupts) */
	const atomic_int *signalled;
	int request_timeout_s; /* a partial request or unread answer may stall this long */
	int idle_timeout_s;    /* an idle keep-alive connection is closed after this */
};

/* Runs until app->stop or *signalled; 0, or -1 when the threads could not start. */
int server_run(const struct server_config *cfg);
/* Wakes every worker of server_run to look at app->stop and *signalled (async-signal-safe: a
 * signal handler calls it after setting *signalled). */
void server_stop(void);

#endif
