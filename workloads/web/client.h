/* workloads/web/client.h: the browser-like user of vcons-web-load, as a workload for the shared
 * load-generation engine (workloads/common/loadgen.h).
 *
 * An event-driven workload of the engine: each worker thread runs its users' libcurl multi handles
 * on the worker's event loop, which the engine owns (curl's sockets go into the loop's epoll set
 * with lg_io_watch, the loop's timer is the earliest of the handles' timers, and the engine calls
 * curl_multi_socket_action's way back in), so a few threads drive any number of users and
 * keep-alive connections (the efficiency goal: within 2x of wrk's requests per client
 * CPU-second). A user performs one PAGE per engine op as a small state machine: the page's main
 * request, then its embedded images. Two browsers (cfg.http2):
 * - HTTP/1.1: images two at a time (a browser's two connections per host); one multi handle per
 *   worker, whose users share its connection cache (an idle keep-alive connection serves
 *   whichever user asks next, so connections <= requests in flight). Sessions: after a random
 *   number of pages (mean cfg.session_pages) a user's last page closes its connections after use
 *   (FORBID_REUSE) and the next session's first request opens a new one (FRESH_CONNECT).
 * - HTTP/2 (h2c with prior knowledge, or h2 by ALPN over TLS), as today's browsers: each user has
 *   its own multi handle and so one connection for its session, on which a page's images are
 *   requested all at once as streams; a session's end closes it (the user's multi handle is
 *   renewed) and the next session opens a new one. Every answer must come over HTTP/2.
 * All users share TLS sessions (CURLSH), so a new session's handshake resumes. Mix
 * (SPECweb-banking-like): 40% static file (Zipf popularity, small files most popular), 25% account
 * summary, 20% transaction history, 15% POST transfer.
 *
 * Validation, every response: status, Content-Length vs bytes received, X-Vcons-Sum vs the body's
 * FNV-1a, static files and images vs the file set recomputed in memory (fileset.h), dynamic pages'
 * acct line (pages.h) vs the user's id and, once known, its balance and transaction count (each
 * generator user is the only writer of its bank user). Any mismatch makes the op an error.
 *
 * QoS (SPECweb-style): a page is "good" within 2 s and "tolerable" within 4 s (dynamic pages, with
 * their images); a static file is good when it arrives at >= 1 MB/s or within 2 s, tolerable at
 * >= 0.5 MB/s or within 4 s. Times count from the op's intended start (the engine's latency). */
#ifndef WORKLOADS_WEB_CLIENT_H
#define WORKLOADS_WEB_CLIENT_H
#include <stdint.h>
#include "workloads/common/loadgen.h"

struct web_client_cfg {
	const char *host;
	int port;             /* the port used (plain or TLS) */
	int https;            /* 1: https:// */
	int tls12;            /* 1: TLS 1.2 only */
	int http2;            /* 1: HTTP/2 (h2 by ALPN, or h2c with prior knowledge), else 1.1 */
	const char *cacert;   /* verify the server against this CA file; NULL: no verification */
	int files;            /* the server's --files */
	int bank_users;       /* the server's --users */
	int user_base;        /* generator user u is bank user (user_base + u) % bank_users */
	int users;            /* users in all (sizes each worker's connection cache) */
	const char *page;     /* non-NULL: every op GETs this one path (efficiency runs) */
	double session_pages; /* mean pages per session */
	long timeout_ms;
};

struct web_qos {
	uint64_t pages, good, tolerable, failed;
	uint64_t bytes; /* validated response bytes */
};

struct web_client;

struct web_client *web_client_new(const struct web_client_cfg *cfg, const char **err);
void web_client_free(struct web_client *c);
/* Registers the op types (page kinds) with the engine; 0 or -1. */
int web_client_add_types(struct web_client *c, struct lg *lg);
/* The engine's event-driven callbacks (loadgen.h; arg: the client). */
void *web_client_worker_open(void *arg, int worker, struct lg_loop *loop);
void web_client_worker_close(void *arg, void *wctx);
int web_client_op_start(void *arg, void *wctx, struct lg_op *op);
void web_client_timer(void *arg, void *wctx);
void web_client_user_close(void *arg, void *state);
int web_client_types(const struct web_client *c);
const char *web_client_type_name(const struct web_client *c, int type);
void web_client_qos(struct web_client *c, int type, struct web_qos *out);
/* The first validation failure seen, for the report ("" when none). */
const char *web_client_first_error(struct web_client *c);

#endif
