/* results/server.h: the results repository's HTTP server (libmicrohttpd, a thread per connection).
 * Routes (results/README.md has the details):
 *   POST /api/results            a submission (JSON body, at most max_bytes: else 413); checked as
 *                                `vcons verify --trust` does (400, or 403 for signature and key,
 *                                {"error": kind, "reason": ...}); stored: 201 {"id", ...}, or 200
 *                                with the existing id when the same submission was stored before
 *   GET  /api/results            summaries; ?platform= &cpu= &csus= &compliant= &sort= &order=
 *                                &limit=
 *   GET  /api/results/ID         summary with the full result; /api/results/ID/submission its file
 *   GET  /api/compare?ids=1,2    the comparison as JSON
 *   GET  /results, /results/ID, /compare?ids=1,2   the HTML pages (pages.h); / redirects to
 * /results A 201 or 200 answer to a POST is sent only after the row is committed (store.h). */
#ifndef RESULTS_SERVER_H
#define RESULTS_SERVER_H
#include "results/store.h"

#include <stddef.h>

struct server_config {
	struct store *store;
	const char *trust_dir; /* public keys (*.pem) accepted as signers */
	size_t max_bytes;      /* largest accepted upload */
};

struct server;

/* Listens on addr:port (IPv4). 0, or -1 with the reason in err. */
int server__start(const struct server_config *cfg, const char *addr, int port, struct server **out,
                  char *err, size_t errlen);
void server__stop(struct server *s);

#endif
