/* model/score.h: the benchmark's arithmetic, as pure functions (no I/O, no clocks), so that it
 * can be tested exactly and re-run by `vcons verify` from recorded data.
 *
 * All rates come from host time: a workload's throughput in an interval is its good operations over
 * the interval's length on the host clock. A guest's own clock is only used to measure its dilation
 * D = guest elapsed / host elapsed, never to compute a score. */
#ifndef MODEL_SCORE_H
#define MODEL_SCORE_H
#include <stddef.h>

#define SCORE_MAX_TYPES 16

/* What the rules demand of one workload in every interval. */
struct qos_rule {
	double percentile;        /* e.g. 99: this percentile of response time ... */
	double limit_ms;          /* ... must be within this limit (0: no latency requirement) */
	double max_failure_pct;   /* failed / all operations, at most */
	double mix_tolerance_pct; /* each type's share within this many points of its target */
	double min_rate_pct; /* achieved rate at least this % of the injected target (0: none) */
};

/* What one workload of one CSU did in one measurement interval. */
struct wl_interval {
	double good_ops; /* operations that succeeded */
	double failed_ops;
	double host_s;      /* the interval's length on the host clock */
	double latency_ms;  /* the rule's percentile of response time */
	double target_rate; /* injected operations per second (0: self-driven) */
	int ntypes;
	double type_ops[SCORE_MAX_TYPES];
	double type_target_share[SCORE_MAX_TYPES]; /* 0..1, sums to 1 (0 everywhere: no mix rule) */
	const char *type_name[SCORE_MAX_TYPES];    /* for messages; NULL: "type N" */
};

/* Throughput over host time, normalized by the rules' reference rate. */
double score__normalized(double good_ops, double host_s, double reference_ops_per_s);

/* 0 when the interval meets the rule; -1 with the first violation written to `why`. */
int score__qos(const struct qos_rule *r, const struct wl_interval *w, char *why, size_t whylen);

/* Geometric mean; 0 when any value is <= 0 (a workload that did nothing scores nothing). */
double score__geomean(const double *v, size_t n);
double score__mean(const double *v, size_t n);
double score__min(const double *v, size_t n);
/* (max - min) / mean: how much the intervals disagree; 0 for fewer than two values. */
double score__variation(const double *v, size_t n);
/* Median of v (sorts a copy); spread as (max - min) / median. */
double score__median(const double *v, size_t n);
double score__spread(const double *v, size_t n);

/* D = guest elapsed / host elapsed; 0 when host_elapsed is 0. */
double score__dilation(double guest_elapsed_ns, double host_elapsed_ns);

/* A CSU's score from its busy workloads' normalized results (each averaged over the intervals):
 * the geometric mean, and the lowest of them (per-VM fairness, as TPC-VMS reports the minimum). */
struct csu_score {
	double score;
	double lowest;
};
struct csu_score score__csu(const double *normalized, size_t nworkloads);

/* The infrastructure part (run rules' "infrastructure"): moves completed within their downtime
 * limit per measured hour, over the reference moves per hour; 0 without measured time. */
double score__infra(double good_moves, double measured_s, double reference_per_hour);
/* A CSU's score with an infrastructure part: (1 - weight) * workloads + weight * infra. */
double score__weighted(double workloads, double infra, double weight);

#endif
