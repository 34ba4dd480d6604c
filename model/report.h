/* model/report.h: the report of one result file (results/SCHEMA.md): a self-contained HTML page
 * (inline CSS and SVG charts, no script, nothing loaded from elsewhere, every string from the
 * result escaped) and a text summary. `vcons report` writes both; the results server serves the
 * page as /results/ID/report. Both read only the result; a figure it lacks shows as "-". */
#ifndef MODEL_REPORT_H
#define MODEL_REPORT_H
#include <jansson.h>
#include <stdio.h>

/* The page, from <!DOCTYPE html> to </html>. */
void report__write(FILE *f, const json_t *result);
/* The page as a malloc'd string, NULL when out of memory. */
char *report__page(const json_t *result);
/* The text summary (run, verdict, scores, a line per VM, hv exits per unit of work), ending with
 * "report: PAGE". */
void report__summary(FILE *f, const json_t *result, const char *page);

#endif
