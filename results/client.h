/* results/client.h: uploading a submission to a results server (libcurl): POST to URL/api/results,
 * retrying with exponential backoff on transient failures (no connection, timeouts, HTTP 5xx), with
 * a progress line on stderr when asked. The answer decides the outcome: 201/200 stored (new, or the
 * same submission stored before), 4xx rejected with the server's error kind and reason. */
#ifndef RESULTS_CLIENT_H
#define RESULTS_CLIENT_H
#include <jansson.h>
#include <stddef.h>

struct client_opts {
	const char *url;   /* the server's base URL, or its full .../api/results */
	int tries;         /* attempts in all (>= 1) */
	double backoff_s;  /* the first wait; doubled after each failure, at most 5 s */
	int progress;      /* print upload progress on stderr */
	int verbose_retry; /* one line on stderr per retry */
};

struct client_answer {
	long status;  /* HTTP status of the last answer (0: none) */
	json_t *body; /* its JSON, or NULL */
	char err[512];
};

/* The exit status for `vcons submit`: 0 stored; the seal.h codes (3..9) for a rejection of that
 * kind; 1 when no server answered after every try or the answer made no sense. a->err says why. */
int client__submit(const char *buf, size_t len, const struct client_opts *o,
                   struct client_answer *a);

#endif
