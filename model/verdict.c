/* model/verdict.c: compliance checks and scores from recorded figures (see verdict.h). */
#include "model/verdict.h"
#include "lib/json.h"
#include "model/infra.h"
#include "model/score.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) static void reason(json_t *reasons, const char *fmt, ...)
{
	if (!reasons)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(reasons, json_string(buf));
}

const char *verdict__latency_key(double percentile)
{
	static const struct {
		double p;
		const char *key;
	} keys[] = { { 50, "p50_us" },
		     { 90, "p90_us" },
		     { 95, "p95_us" },
		     { 99, "p99_us" },
		     { 99.9, "p99_9_us" } };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (percentile <= keys[i].p + 1e-9)
			return keys[i].key;
	return "max_us";
}

/* The rule's percentile from a recorded latency summary, in ms. */
static double latency_ms(const json_t *lat, double percentile)
{
	return jget_num(lat, verdict__latency_key(percentile), 0) / 1000.0;
}

/* One busy workload's interval as score__qos sees it. */
static void to_wl(const json_t *iv, const struct run_rules *r, enum role role, double target_rate,
                  struct wl_interval *w)
{
	memset(w, 0, sizeof(*w));
	w->good_ops = jget_num(iv, "ops", 0) - jget_num(iv, "errors", 0);
	w->failed_ops = jget_num(iv, "errors", 0);
	w->host_s = jget_num(iv, "host_s", 0);
	w->latency_ms = latency_ms(json_object_get(iv, "latency_us"), r->qos[role].percentile);
	w->target_rate = target_rate;
	const struct mix_rule *m = &r->mix[role];
	json_t *types = json_object_get(iv, "types");
	for (int t = 0; t < m->n; t++) {
		w->type_ops[t] = jget_num(json_object_get(types, m->name[t]), "ops", 0);
		w->type_target_share[t] = m->pct[t] / 100.0;
		w->type_name[t] = m->name[t];
	}
	w->ntypes = m->n;
}

int verdict__qos(const json_t *iv, const struct run_rules *r, enum role role, double target_rate,
                 char *why, size_t whylen)
{
	struct wl_interval w;
	to_wl(iv, r, role, target_rate, &w);
	return score__qos(&r->qos[role], &w, why, whylen);
}

/* QoS, variation, saturation and dilation of one VM; returns its mean normalized result (busy
 * workloads) or 0. */
static double check_vm(const json_t *vm, const struct run_rules *r, json_t *reasons)
{
	const char *name = jget_str(vm, "name", NULL);
	enum role role;
	if (!name || role_parse(jget_str(vm, "role", NULL), &role) < 0)
		return 0;
	double target = jget_num(vm, "target_rate", 0);
	json_t *ivs = json_object_get(vm, "intervals"), *iv;
	size_t k;
	double rates[CONFIG_MAX_INTERVALS] = { 0 };
	size_t n = 0;
	json_array_foreach(ivs, k, iv)
	{
		json_t *d = json_object_get(iv, "dilation");
		if (json_is_number(d) && fabs(json_number_value(d) - 1) * 100 > r->max_dilation_pct)
			reason(reasons, "%s interval %zu: time dilation %.4f beyond 1 +- %.2f%%",
			       name, k, json_number_value(d), r->max_dilation_pct);
		if (jget_num(iv, "generator_cpu_pct", 0) > r->max_generator_cpu_pct)
			reason(reasons,
			       "%s interval %zu: load generator saturated (%.0f%% CPU > %.0f%%)",
			       name, k, jget_num(iv, "generator_cpu_pct", 0),
			       r->max_generator_cpu_pct);
		if (role >= NBUSY)
			continue;
		if (json_object_get(iv, "missing")) {
			const char *why = jget_str(iv, "missing", NULL);
			reason(reasons, "%s interval %zu: %s", name, k, why ? why : "no figure");
			continue;
		}
		char why[256];
		if (verdict__qos(iv, r, role, target, why, sizeof(why)) < 0)
			reason(reasons, "%s interval %zu: QoS: %s", name, k, why);
		if (n < CONFIG_MAX_INTERVALS)
			rates[n++] = jget_num(iv, "rate", 0);
	}
	json_t *last = json_object_get(vm, "last_report");
	const char *lt = jget_str(last, "type", NULL);
	if (role == ROLE_JAVA && lt && !strcmp(lt, "self_check") &&
	    !json_is_true(json_object_get(last, "ok")))
		reason(reasons, "%s: its self-check found %lld violated invariants", name,
		       (long long)jget_int(last, "violations", 0));
	if (role >= NBUSY || !n)
		return 0;
	double var = score__variation(rates, n) * 100;
	if (var > r->max_variation_pct)
		reason(reasons, "%s: throughput varies %.1f%% between intervals (bound %.1f%%)",
		       name, var, r->max_variation_pct);
	return score__normalized(score__mean(rates, n), 1.0, r->reference[role]);
}

/* One CSU's score object: its workloads' geometric mean and, under rules with an infrastructure
 * section, that part (infra non-NULL) weighted into "score". */
static json_t *csu_json(int c, const double *normalized, const struct infra_csu *infra,
                        double weight, double *score)
{
	struct csu_score s = score__csu(normalized, NBUSY);
	json_t *per = json_object();
	int low = 0;
	for (int i = 0; i < NBUSY; i++) {
		json_object_set_new(per, role_name((enum role)i), json_real(normalized[i]));
		if (normalized[i] < normalized[low])
			low = i;
	}
	*score = infra ? score__weighted(s.score, infra->normalized, weight) : s.score;
	json_t *o =
	    json_pack("{s:i,s:f,s:f,s:s,s:o}", "csu", c, "score", *score, "lowest", s.lowest,
	              "lowest_workload", role_name((enum role)low), "normalized", per);
	if (infra) {
		json_object_set_new(o, "workloads", json_real(s.score));
		json_object_set_new(o, "infrastructure",
		                    json_pack("{s:i,s:i,s:i,s:f,s:f,s:f}", "moves", infra->moves,
		                              "ok", infra->ok, "within_limit", infra->within_limit,
		                              "per_hour", infra->per_hour, "normalized",
		                              infra->normalized, "weight", weight));
	}
	return o;
}

/* Scores per CSU and for the run; normalized[c][role] holds each busy workload's result, infra
 * (NULL: no infrastructure section) each CSU's infrastructure part. */
static json_t *scores(double (*normalized)[NBUSY], const struct infra_csu *infra, double weight,
                      int ncsus)
{
	json_t *csus = json_array();
	double run = 0, score;
	for (int c = 0; c < ncsus; c++) {
		json_array_append_new(
		    csus, csu_json(c, normalized[c], infra ? &infra[c] : NULL, weight, &score));
		run += score;
	}
	return json_pack("{s:f,s:o}", "run", run, "csus", csus);
}

/* The released rules: only a run under one of these files, byte for byte, can be compliant. */
static int released(const char *sha256)
{
	return !strcmp(sha256, VERDICT_OFFICIAL_RULES_SHA256) ||
	       !strcmp(sha256, VERDICT_OFFICIAL_RULES2_SHA256);
}

int verdict__evaluate(json_t *result, const struct run_rules *r)
{
	json_t *vms = json_object_get(result, "vms"), *vm;
	const char *status = jget_str(result, "status", NULL);
	if (!json_is_array(vms) || !status)
		return -1;
	json_t *reasons = json_array();
	int valid = !strcmp(status, "valid");
	json_t *failures = json_object_get(result, "failures"), *f;
	size_t i;
	json_array_foreach(failures, i, f) json_array_append(reasons, f);
	if (!valid && !json_array_size(failures))
		reason(reasons, "run %s", status);
	if (!r->compliant)
		reason(reasons, "not compliant: %s rules", r->name);
	else if (!released(r->sha256))
		reason(reasons,
		       "rules %s are not the released vcons-1 or vcons-2 rules (SHA-256 differs)",
		       r->name);
	size_t rules_reasons = json_array_size(reasons) - json_array_size(failures);
	int ncsus = 0;
	double normalized[CONFIG_MAX_CSUS][NBUSY] = { { 0 } };
	json_array_foreach(vms, i, vm)
	{
		int c = (int)jget_int(vm, "csu", 0);
		enum role role;
		if (c < 0 || c >= CONFIG_MAX_CSUS ||
		    role_parse(jget_str(vm, "role", NULL), &role) < 0) {
			json_decref(reasons);
			return -1;
		}
		if (c + 1 > ncsus)
			ncsus = c + 1;
		if (!json_is_true(json_object_get(vm, "alive")))
			valid = 0; /* the run's failures already say how it ended */
		/* An invalid run's own failure is the reason; per-interval checks would only echo
		 * it. */
		double norm = check_vm(vm, r, valid ? reasons : NULL);
		if (role < NBUSY)
			normalized[c][role] = norm;
	}
	struct infra_csu infra[CONFIG_MAX_CSUS];
	int with_infra = r->infra.method != INFRA_NONE;
	if (with_infra && infra__judge(result, r, ncsus, infra, valid ? reasons : NULL) < 0) {
		json_decref(reasons);
		return -1;
	}
	json_object_set_new(result, "verdict",
	                    json_pack("{s:b,s:b,s:b,s:o}", "valid", valid, "compliant",
	                              valid && json_array_size(reasons) == 0, "checks_passed",
	                              valid && json_array_size(reasons) ==
	                                           rules_reasons + json_array_size(failures),
	                              "reasons", reasons));
	json_object_set_new(result, "score",
	                    scores(normalized, with_infra ? infra : NULL, r->infra.weight, ncsus));
	return 0;
}
