/* model/report_infra.h: the infrastructure part of a result's report (report.h): its VM moves
 * ("migrations", results/SCHEMA.md) on the measurement's interval timeline, as an HTML section
 * with an SVG timeline and a table, and as text. Both write nothing for a result without moves
 * or an infrastructure section. Internal to report.c. */
#ifndef MODEL_REPORT_INFRA_H
#define MODEL_REPORT_INFRA_H
#include <jansson.h>
#include <stdio.h>

void report__infra_html(FILE *f, const json_t *result);
void report__infra_text(FILE *f, const json_t *result);

#endif
