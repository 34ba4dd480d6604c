/* results/pages.h: the results repository's web pages, plain HTML with inline SVG charts and no
 * script: the results table (sortable by links, filterable by a GET form), one result, and a
 * comparison of several. Each returns malloc'd HTML (NULL when out of memory). Rows are what
 * store.h returns: summaries, and for pages__result/pages__compare with "result". */
#ifndef RESULTS_PAGES_H
#define RESULTS_PAGES_H
#include "results/store.h"

#include <jansson.h>

char *pages__list(const json_t *rows, const struct store_filter *f);
char *pages__result(const json_t *row);
char *pages__compare(const json_t *rows);
/* A short page for an error status (404 ...), message escaped. */
char *pages__error(int status, const char *msg);

/* The comparison as JSON (/api/compare): per result its summary, per-workload normalized results
 * (mean over CSUs) and its score's ratio to the first one's. */
json_t *pages__compare_json(const json_t *rows);

#endif
