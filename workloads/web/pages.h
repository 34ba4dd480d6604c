/* workloads/web/pages.h: the dynamic pages of the web VM's banking mix, rendered from a user's
 * state alone (deterministic), into a growable buffer.
 *
 * Every page carries one line a client can check against what it knows of the user:
 *   <p class="acct">user=U balance=CENTS seq=N</p>
 * and the server sends the body's FNV-1a checksum in the X-Vcons-Sum header. Summary and history
 * pages embed images (<img src="/images/iNNN.png">) that a browser-like client fetches next.
 * History adds a statement of PAGES_HISTORY_ROWS rows, each computed by PAGES_HISTORY_WORK rounds
 * of hashing over (user, seq, row): the server-side work of the page. */
#ifndef WORKLOADS_WEB_PAGES_H
#define WORKLOADS_WEB_PAGES_H
#include <stddef.h>
#include <stdint.h>
#include "workloads/web/bank.h"

#define PAGES_HISTORY_ROWS   100
#define PAGES_HISTORY_WORK   200
#define PAGES_SUMMARY_IMAGES 3
#define PAGES_HISTORY_IMAGES 2

struct wbuf {
	char *p;
	size_t len, cap;
	int oom; /* set when an append failed; the content is then incomplete */
};

void wbuf_printf(struct wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wbuf_put(struct wbuf *b, const void *p, size_t n);
void wbuf_free(struct wbuf *b);

void pages_summary(struct wbuf *b, const struct bank_view *v);
void pages_history(struct wbuf *b, const struct bank_view *v);
void pages_transfer(struct wbuf *b, const struct bank_view *v, const struct bank_txn *t);
int pages_image_index(int user, int k); /* the k-th image a user's pages embed */

/* Client side: finds the acct line in a page; 0 and the values, or -1 when absent/malformed. */
int pages_parse_acct(const char *body, size_t len, int *user, int64_t *balance, uint64_t *seq);

#endif
