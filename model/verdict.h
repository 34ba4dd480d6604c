/* model/verdict.h: the run rules applied to recorded figures: QoS of every busy workload in every
 * measurement interval, variation between intervals, virtual time dilation, generator saturation,
 * VM liveness, the rules' identity; then the scores. It reads only what a result file records
 * (the "vms" array of metrics.h's intervals, "migrations", "status", "rules"), so `vcons verify`
 * can re-run it on a submitted result instead of trusting its recorded verdict.
 *
 * Scores: a busy workload's normalized result in a CSU is the mean over the intervals of its good
 * operations per host second over the rules' reference; the CSU score is the geometric mean of its
 * four busy workloads; the run score is the sum over CSUs. Fairness: each CSU's lowest normalized
 * workload. Under rules with an infrastructure section (model/infra.h) a CSU's score is
 * (1 - weight) x that mean + weight x its infrastructure part, and the reasons include every
 * failed VM move and a CSU whose moves fell short of the schedule. */
#ifndef MODEL_VERDICT_H
#define MODEL_VERDICT_H
#include "model/config.h"

#include <jansson.h>

/* The SHA-256s of the released rules, runrules/vcons-1.yaml and runrules/vcons-2.yaml (vcons-1
 * plus the infrastructure workload): only a run under exactly one of these files can be
 * compliant. A unit test keeps the files and these constants together. */
#define VERDICT_OFFICIAL_RULES_SHA256                                                              \
	"d3664ec1cccdfb841c709ebe47c6e1feee32aa955296667de4cd3a8c37ed5387"
#define VERDICT_OFFICIAL_RULES2_SHA256                                                             \
	"fc2b2839e357130eb6e4aa28022a82ed895d56c6783bf001c892bf5cbabae7af"

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
