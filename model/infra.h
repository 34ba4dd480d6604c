/* model/infra.h: the infrastructure part of a verdict (run rules' "infrastructure" section,
 * config.h): the VM moves a result records in "migrations" (results/SCHEMA.md), judged and
 * counted from the record alone, so `vcons verify` re-derives them like every other figure.
 *
 * A move counts when it succeeded ("ok"), started within the measurement (its "start_s", seconds
 * from the measurement's start, below intervals x interval_s) and its "downtime_ms" is within the
 * rules' limit. Reasons: every failed move, and a CSU with fewer moves in the measurement than
 * the rules schedule (one every `every_s` seconds from its start). The interval a move fell in is
 * derived from its start, never read from the record. */
#ifndef MODEL_INFRA_H
#define MODEL_INFRA_H
#include "model/config.h"

#include <jansson.h>

struct infra_csu {
	int moves;        /* recorded moves that started within the measurement */
	int ok;           /* of which succeeded */
	int within_limit; /* of which within the downtime limit: what the score counts */
	double per_hour;  /* within_limit per measured hour */
	double normalized;
};

/* The measurement interval a move starting start_s seconds after the measurement's start falls
 * in, or -1 outside the measurement. */
int infra__interval(const struct run_rules *r, double start_s);

/* Moves the rules schedule per CSU during the measurement (0 without the section). */
int infra__scheduled(const struct run_rules *r);

/* Judges result["migrations"] for ncsus CSUs into out[0..ncsus) and appends a line per finding to
 * `reasons` (NULL: none). 0, or -1 when a record is malformed (a field missing or of the wrong
 * type, a CSU out of range). */
int infra__judge(const json_t *result, const struct run_rules *r, int ncsus, struct infra_csu *out,
                 json_t *reasons);

#endif
