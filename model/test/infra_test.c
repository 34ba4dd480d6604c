/* Unit tests for the infrastructure part of the model: the rules' "infrastructure" section (YAML,
 * JSON round trip, differences), its score arithmetic, and the verdict re-derived from a result's
 * recorded moves as `vcons verify` re-derives it (model/infra.h). Run from the repository root:
 * it reads runrules/ and harness/test/data/sample-result.json (a recorded native run). */
#include "tools/unit.h"
#include "lib/json.h"
#include "model/infra.h"
#include "model/rules.h"
#include "model/score.h"
#include "model/verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAST "harness/test/data/fast.yaml"

/* Rules text: fast.yaml (2 intervals of 5 s) plus `extra`, loaded. rc of the load, err filled. */
static int load_with(const char *extra, struct run_rules *r, char *err, size_t errlen)
{
	char path[] = "/tmp/vcons-infra-test.XXXXXX", buf[8192];
	FILE *in = fopen(FAST, "r");
	assert_non_null(in);
	size_t n = fread(buf, 1, sizeof(buf) - 1, in);
	(void)fclose(in); /* read only */
	buf[n] = 0;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (long)n);
	assert_int_equal(write(fd, extra, strlen(extra)), (long)strlen(extra));
	close(fd);
	int rc = config__load_rules(path, r, err, errlen);
	unlink(path);
	return rc;
}

static const char *load_error(const char *extra)
{
	static char err[512];
	struct run_rules r;
	assert_int_equal(load_with(extra, &r, err, sizeof(err)), -1);
	const char *colon = strchr(err, ':'); /* drop the temporary file name */
	return colon ? colon + 1 : err;
}

static void shipped_rules(void **state)
{
	(void)state;
	struct run_rules r;
	char err[512];
	assert_int_equal(config__load_rules("runrules/quick-infra.yaml", &r, err, sizeof(err)), 0);
	assert_int_equal(r.infra.method, INFRA_MIGRATE);
	assert_true(r.infra.every_s == 15 && r.infra.weight == 0.2);
	assert_int_equal(infra__scheduled(&r), 6); /* 90 s / 15 s: each of five workloads moves */
	assert_int_equal(config__load_rules("runrules/vcons-2.yaml", &r, err, sizeof(err)), 0);
	assert_true(r.infra.reference_per_hour == 60 && r.infra.downtime_limit_ms == 300);
	assert_int_equal(infra__scheduled(&r), 15);
	assert_int_equal(config__load_rules("runrules/quick.yaml", &r, err, sizeof(err)), 0);
	assert_int_equal(r.infra.method, INFRA_NONE);
	assert_int_equal(infra__scheduled(&r), 0);
}

#define GOOD_INFRA_LINE(rest) "infrastructure: {method: snapshot, " rest "}\n"

static void rules_mistakes(void **state)
{
	(void)state;
	assert_string_equal(
	    load_error("infrastructure: {method: teleport, every_s: 5, downtime_limit_ms: 300, "
	               "weight: 0.2, reference_per_hour: 720}\n"),
	    "14: infrastructure.method: not migrate or snapshot: teleport");
	assert_string_equal(load_error(GOOD_INFRA_LINE("every_s: 5, downtime_limit_ms: 300, "
	                                               "weight: 0.2")),
	                    "14: infrastructure.reference_per_hour: missing");
	assert_string_equal(
	    load_error(GOOD_INFRA_LINE("every_s: 11, downtime_limit_ms: 300, "
	                               "weight: 0.2, reference_per_hour: 720")),
	    "14: infrastructure.every_s: 11 s: longer than the measurement (2 x 5 s)");
	assert_non_null(strstr(load_error(GOOD_INFRA_LINE("every_s: 5, downtime_limit_ms: 300, "
	                                                  "weight: 1, reference_per_hour: 720")),
	                       "infrastructure.weight"));
	assert_non_null(strstr(load_error(GOOD_INFRA_LINE("every_s: 5, downtime_limit_ms: 300, "
	                                                  "weight: 0.2, reference_per_hour: 720, "
	                                                  "extra: 1")),
	                       "extra"));
}

static void rules_round_trip(void **state)
{
	(void)state;
	struct run_rules r, back, plain;
	char err[512];
	assert_int_equal(config__load_rules("runrules/quick-infra.yaml", &r, err, sizeof(err)), 0);
	json_t *j = rules__to_json(&r);
	assert_string_equal(jget_str(json_object_get(j, "infrastructure"), "method", ""),
	                    "migrate");
	assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), 0);
	assert_null(rules__differ(&r, &back));
	back.infra.downtime_limit_ms = 301;
	assert_string_equal(rules__differ(&r, &back), "infrastructure");
	json_decref(j);
	/* rules without the section: no "infrastructure" in their JSON, as results had it */
	assert_int_equal(config__load_rules("runrules/quick.yaml", &plain, err, sizeof(err)), 0);
	j = rules__to_json(&plain);
	assert_null(json_object_get(j, "infrastructure"));
	json_object_set_new(j, "infrastructure", json_pack("{s:s}", "method", "fly"));
	assert_int_equal(rules__from_json(j, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "infrastructure.method"));
	json_decref(j);
}

static void arithmetic(void **state)
{
	(void)state;
	/* 6 moves in 90 s is 240 an hour: 1.0 against a reference of 240, 0.5 against 480 */
	assert_true(fabs(score__infra(6, 90, 240) - 1.0) < 1e-12);
	assert_true(fabs(score__infra(6, 90, 480) - 0.5) < 1e-12);
	assert_true(score__infra(6, 0, 240) == 0);
	assert_true(fabs(score__weighted(1.5, 0.5, 0.2) - 1.3) < 1e-12);
	assert_true(score__weighted(1.5, 0.5, 0) == 1.5);
}

/* The recorded native run (fast rules) with an infrastructure section and moves added. */
static json_t *sample(const struct run_rules *r)
{
	json_error_t e;
	json_t *res = json_load_file("harness/test/data/sample-result.json", 0, &e);
	assert_non_null(res);
	json_object_set_new(res, "rules", rules__to_json(r));
	json_t *moves = json_array();
	/* fast rules + every_s 5: moves due at 0 and 5 s of the 10 s measurement */
	json_array_append_new(moves, json_pack("{s:i,s:s,s:s,s:b,s:f,s:f,s:f}", "csu", 0, "vm",
	                                       "csu0-db", "role", "db", "ok", 1, "start_s", 0.2,
	                                       "downtime_ms", 120.0, "total_ms", 900.0));
	json_array_append_new(moves, json_pack("{s:i,s:s,s:s,s:b,s:f,s:f,s:f}", "csu", 0, "vm",
	                                       "csu0-web", "role", "web", "ok", 1, "start_s", 5.1,
	                                       "downtime_ms", 80.0, "total_ms", 700.0));
	json_object_set_new(res, "migrations", moves);
	return res;
}

static const json_t *csu0(const json_t *res)
{
	return json_array_get(json_object_get(json_object_get(res, "score"), "csus"), 0);
}

static int has_reason(const json_t *res, const char *part)
{
	const json_t *w;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(res, "verdict"), "reasons"), i,
	                   w) if (strstr(json_string_value(w), part)) return 1;
	return 0;
}

/* The recorded run's score under plain fast rules. */
static double plain_score(void)
{
	struct run_rules r;
	char err[512];
	assert_int_equal(config__load_rules(FAST, &r, err, sizeof(err)), 0);
	json_t *res = sample(&r);
	assert_int_equal(verdict__evaluate(res, &r), 0);
	double s = jget_num(csu0(res), "score", -1);
	json_decref(res);
	return s;
}

static void verdict_rederived(void **state)
{
	(void)state;
	struct run_rules r;
	char err[512];
	assert_int_equal(
	    load_with("infrastructure: {method: snapshot, every_s: 5, "
	              "downtime_limit_ms: 100, weight: 0.25, reference_per_hour: 720}\n",
	              &r, err, sizeof(err)),
	    0);
	assert_int_equal(infra__interval(&r, 0.2), 0);
	assert_int_equal(infra__interval(&r, 5.1), 1);
	assert_int_equal(infra__interval(&r, 10), -1);
	assert_int_equal(infra__interval(&r, -0.1), -1);
	json_t *res = sample(&r);
	assert_int_equal(verdict__evaluate(res, &r), 0);
	const json_t *c = csu0(res), *in = json_object_get(c, "infrastructure");
	double workloads = jget_num(c, "workloads", -1);
	assert_true(fabs(workloads - plain_score()) < 1e-12); /* the workloads' part as before */
	/* one of two moves within 100 ms: 1 in 10 s = 360 an hour, over 720 = 0.5 */
	assert_int_equal(jget_int(in, "moves", 0), 2);
	assert_int_equal(jget_int(in, "within_limit", 0), 1);
	assert_true(fabs(jget_num(in, "normalized", 0) - 0.5) < 1e-12);
	assert_true(fabs(jget_num(c, "score", 0) - (0.75 * workloads + 0.25 * 0.5)) < 1e-12);
	assert_false(has_reason(res, "move"));
	double recorded = jget_num(json_object_get(res, "score"), "run", 0);

	/* a downtime changed in the record: the data give another score (what verify compares) */
	json_object_set_new(json_array_get(json_object_get(res, "migrations"), 0), "downtime_ms",
	                    json_real(99));
	assert_int_equal(verdict__evaluate(res, &r), 0);
	assert_true(fabs(jget_num(json_object_get(res, "score"), "run", 0) - recorded) > 0.1);

	/* a failed move is a reason and counts nothing; a move missing from the schedule too */
	json_t *m = json_array_get(json_object_get(res, "migrations"), 1);
	json_object_set_new(m, "ok", json_false());
	json_object_set_new(m, "error", json_string("target exited with status 76"));
	assert_int_equal(verdict__evaluate(res, &r), 0);
	assert_true(has_reason(res, "csu0-web: its move at 5.1 s failed: target exited"));
	assert_int_equal(jget_int(json_object_get(csu0(res), "infrastructure"), "ok", 0), 1);
	json_array_remove(json_object_get(res, "migrations"), 1);
	assert_int_equal(verdict__evaluate(res, &r), 0);
	assert_true(has_reason(res, "CSU 0: 1 VM moves in the measurement, the rules schedule 2"));

	/* malformed records: no judgement */
	json_object_set_new(json_array_get(json_object_get(res, "migrations"), 0), "csu",
	                    json_integer(3));
	assert_int_equal(verdict__evaluate(res, &r), -1);
	json_object_set_new(res, "migrations", json_string("none"));
	assert_int_equal(verdict__evaluate(res, &r), -1);
	json_decref(res);
}

/* Rules without the section: moves in a result change nothing (no infrastructure part), and the
 * score is the geometric mean of the recorded normalized results. */
static void without_section(void **state)
{
	(void)state;
	struct run_rules r;
	char err[512];
	assert_int_equal(config__load_rules(FAST, &r, err, sizeof(err)), 0);
	json_t *res = sample(&r);
	assert_int_equal(verdict__evaluate(res, &r), 0);
	const json_t *n = json_object_get(csu0(res), "normalized");
	double v[NBUSY];
	for (int i = 0; i < NBUSY; i++)
		v[i] = jget_num(n, role_name((enum role)i), 0);
	assert_null(json_object_get(csu0(res), "infrastructure"));
	assert_true(fabs(jget_num(csu0(res), "score", 0) - score__geomean(v, NBUSY)) < 1e-12);
	json_decref(res);
}

UNIT_MAIN(cmocka_unit_test(shipped_rules), cmocka_unit_test(rules_mistakes),
          cmocka_unit_test(rules_round_trip), cmocka_unit_test(arithmetic),
          cmocka_unit_test(verdict_rederived), cmocka_unit_test(without_section))
