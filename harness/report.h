/* harness/report.h: the HTML report of one result (`vcons report`, and the results server's
 * /results/ID/report page): self-contained, inline CSS and SVG charts, every string escaped. */
#ifndef HARNESS_REPORT_H
#define HARNESS_REPORT_H
#include <jansson.h>

/* The page as a malloc'd string, NULL when out of memory. */
char *report__page(const json_t *result);

#endif
