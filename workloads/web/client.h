/* workloads/web/client.h: the browser-like user of vcons-web-load, as a workload for the shared
 * load-generation engine (workloads/common/loadgen.h).
 *
 * Each simulated user owns a libcurl multi handle (its "browser": keep-alive connections, at most
 * two per host) and performs one PAGE per engine op, synchronously on the engine's worker thread:
 * the page's main request, then its embedded images fetched concurrently through the multi
 * handle. Sessions: after a random number of pages (mean cfg.session_pages) the user drops its
 * connections and starts a new session; all users share TLS sessions (CURLSH), so a new session's
 * handshake resumes. Mix (SPECweb-banking-like): 40% static file (Zipf popularity, small files
 * most popular), 25% account summary, 20% transaction history, 15% POST transfer.
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
	const char *cacert;   /* verify the server against this CA file; NULL: no verification */
	int files;            /* the server's --files */
	int bank_users;       /* the server's --users */
	int user_base;        /* generator user u is bank user (user_base + u) % bank_users */
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
int web_client_op(void *arg, struct lg_op *op); /* the engine's op callback (arg: client) */
void web_client_user_close(void *arg, void *state);
int web_client_types(const struct web_client *c);
const char *web_client_type_name(const struct web_client *c, int type);
void web_client_qos(struct web_client *c, int type, struct web_qos *out);
/* The first validation failure seen, for the report ("" when none). */
const char *web_client_first_error(struct web_client *c);

#endif
