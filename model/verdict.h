/* model/verdict.h: the run rules applied to recorded figures: QoS of every busy workload in every
 * measurement interval, variation between intervals, virtual time dilation, generator saturation,
 * VM liveness, the rules' identity; then the scores. It reads only what a result file records
 * (the "vms" array of metrics.h's intervals, "status", "rules"), so `vcons verify` can re-run it on
 * a submitted result instead of trusting its recorded verdict.
 *
 * Scores: a busy workload's normalized result in a CSU is the mean over the intervals of its good
 * operations per host second over the rules' reference; the CSU score is the geometric mean of its
 * four busy workloads; the run score is the sum over CSUs. Fairness: each CSU's lowest normalized
 * workload. */
#ifndef MODEL_VERDICT_H
#define MODEL_VERDICT_H
#include "model/config.h"

#include <jansson.h>

/* The SHA-256 of runrules/vcons-1.yaml as released: only a run under exactly these rules can be
 * compliant. A unit test keeps the file and this constant together. */
#define VERDICT_OFFICIAL_RULES_SHA256                                                              \
	"d3664ec1cccdfb841c709ebe47c6e1feee32aa955296667de4cd3a8c37ed5387"

/* The key of a recorded latency summary that reads a rule's percentile: the summary's percentile
 * at or above it ("p95_us"; "max_us" above p99.9), a conservative reading when the rule asks for
 * one the summary does not carry. Reports use it too, so they show what the verdict judged. */
const char *verdict__latency_key(double percentile);

/* The QoS rule of a busy workload applied to one recorded interval (metrics.h's figures): 0, or
 * -1 with the first violation in `why`. The live view uses it as the interval ends. */
int verdict__qos(const json_t *iv, const struct run_rules *rules, enum role role,
                 double target_rate, char *why, size_t whylen);

/* Adds "verdict" {"valid", "compliant", "reasons": [...]} and "score" to `result`, replacing any
 * there. 0, or -1 when the result lacks the figures (malformed). */
int verdict__evaluate(json_t *result, const struct run_rules *rules);

#endif
