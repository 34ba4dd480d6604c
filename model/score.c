/* model/score.c: the benchmark's arithmetic (see score.h). */
#include "model/score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double score__normalized(double good_ops, double host_s, double reference_ops_per_s)
{
	if (host_s <= 0 || reference_ops_per_s <= 0)
		return 0;
	return good_ops / host_s / reference_ops_per_s;
}

int score__qos(const struct qos_rule *r, const struct wl_interval *w, char *why, size_t whylen)
{
	double all = w->good_ops + w->failed_ops;
	if (all <= 0) {
		snprintf(why, whylen, "no operations completed");
		return -1;
	}
	double fail_pct = 100.0 * w->failed_ops / all;
	if (fail_pct > r->max_failure_pct) {
		snprintf(why, whylen, "failures %.3f%% above the %.3f%% cap", fail_pct,
		         r->max_failure_pct);
		return -1;
	}
	if (r->limit_ms > 0 && w->latency_ms > r->limit_ms) {
		snprintf(why, whylen, "p%g response time %.1f ms above the %.1f ms limit",
		         r->percentile, w->latency_ms, r->limit_ms);
		return -1;
	}
	if (r->min_rate_pct > 0 && w->target_rate > 0 && w->host_s > 0) {
		double pct = 100.0 * w->good_ops / w->host_s / w->target_rate;
		if (pct < r->min_rate_pct) {
			snprintf(why, whylen, "achieved %.1f%% of the injected rate, below %.1f%%",
			         pct, r->min_rate_pct);
			return -1;
		}
	}
	double total = 0;
	for (int i = 0; i < w->ntypes; i++)
		total += w->type_ops[i];
	for (int i = 0; i < w->ntypes && total > 0; i++) {
		if (w->type_target_share[i] <= 0)
			continue;
		double share = 100.0 * w->type_ops[i] / total,
		       want = 100.0 * w->type_target_share[i];
		if (fabs(share - want) > r->mix_tolerance_pct) {
			char type[32];
			if (w->type_name[i])
				snprintf(type, sizeof(type), "%s", w->type_name[i]);
			else
				snprintf(type, sizeof(type), "type %d", i);
			snprintf(why, whylen, "%s is %.2f%% of the mix, target %.2f%% +- %.2f",
			         type, share, want, r->mix_tolerance_pct);
			return -1;
		}
	}
	return 0;
}

double score__geomean(const double *v, size_t n)
{
	if (!n)
		return 0;
	double logsum = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(v[i] > 0))
			return 0;
		logsum += log(v[i]);
	}
	return exp(logsum / (double)n);
}

double score__mean(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : 0;
}

double score__min(const double *v, size_t n)
{
	double m = n ? v[0] : 0;
	for (size_t i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

double score__variation(const double *v, size_t n)
{
	if (n < 2)
		return 0;
	double lo = v[0], hi = v[0], mean = score__mean(v, n);
	for (size_t i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return mean > 0 ? (hi - lo) / mean : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double score__median(const double *v, size_t n)
{
	if (!n)
		return 0;
	double *c = malloc(n * sizeof(*c));
	if (!c)
		return 0;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

double score__spread(const double *v, size_t n)
{
	double med = score__median(v, n);
	if (n < 2 || med <= 0)
		return 0;
	double lo = v[0], hi = v[0];
	for (size_t i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return (hi - lo) / med;
}

double score__dilation(double guest_elapsed_ns, double host_elapsed_ns)
{
	return host_elapsed_ns > 0 ? guest_elapsed_ns / host_elapsed_ns : 0;
}

struct csu_score score__csu(const double *normalized, size_t n)
{
	struct csu_score s = { score__geomean(normalized, n), score__min(normalized, n) };
	return s;
}

double score__infra(double good_moves, double measured_s, double reference_per_hour)
{
	if (measured_s <= 0 || reference_per_hour <= 0)
		return 0;
	return good_moves / (measured_s / 3600.0) / reference_per_hour;
}

double score__weighted(double workloads, double infra, double weight)
{
	return (1 - weight) * workloads + weight * infra;
}
