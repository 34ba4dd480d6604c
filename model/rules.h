/* model/rules.h: the run rules (config.h's struct run_rules) as a result records them, in one
 * place: to JSON (the result's "rules" object, results/SCHEMA.md), back from JSON (`vcons verify`
 * and the results server re-run the verdict under the recorded rules), and compared with the rules
 * a rules file loads to. The numeric fields are one table in rules.c, so a new numeric rule is one
 * row there (plus its field in config.h and its YAML reading in config.c). */
#ifndef MODEL_RULES_H
#define MODEL_RULES_H
#include "model/config.h"

#include <jansson.h>
#include <stddef.h>

/* The "rules" object of a result: name, compliant, sha256, phases, reference, qos (with each
 * busy workload's mix), bounds, and "infrastructure" only where the rules have that section (so
 * results under rules without it are as before). NULL when out of memory. */
json_t *rules__to_json(const struct run_rules *r);

/* The rules a result recorded, back into the struct verdict.h takes. 0, or -1 naming the bad
 * field ("rules.phases.intervals: ...") in err. */
int rules__from_json(const json_t *j, struct run_rules *out, char *err, size_t errlen);

/* The first group of fields where two rule sets differ ("name or compliant", "phases", "bounds",
 * "infrastructure", "reference", "qos", "qos mix"), or NULL when they are the same. */
const char *rules__differ(const struct run_rules *a, const struct run_rules *b);

#endif
