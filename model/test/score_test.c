/* Unit tests for model/score.c: exact values for the benchmark's arithmetic. */
#include "tools/unit.h"
#include "model/score.h"

#include <math.h>
#include <string.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void normalizes_by_host_time_and_reference(void **state)
{
	NEAR(score__normalized(6000, 60, 50), 2.0);
	NEAR(score__normalized(6000, 0, 50), 0);
	NEAR(score__normalized(6000, 60, 0), 0);
}

static void geometric_mean_and_fairness(void **state)
{
	double v[] = { 1, 4, 2, 8 };
	NEAR(score__geomean(v, 4), pow(64, 0.25));
	struct csu_score s = score__csu(v, 4);
	NEAR(s.score, pow(64, 0.25));
	NEAR(s.lowest, 1);
	double z[] = { 1, 0, 3 };
	NEAR(score__geomean(z, 3), 0); /* a workload that did nothing sinks the CSU */
}

static void variation_median_spread(void **state)
{
	double v[] = { 90, 100, 110 };
	NEAR(score__variation(v, 3), 0.2);
	NEAR(score__median(v, 3), 100);
	double e[] = { 3, 1, 2, 10 };
	NEAR(score__median(e, 4), 2.5);
	NEAR(score__spread(e, 4), 9 / 2.5);
	NEAR(score__variation(v, 1), 0);
}

static void dilation(void **state)
{
	/* A guest whose clock runs at 0.8 of the host's: D = 0.8, and its own rate is off by 1/D.
	 */
	NEAR(score__dilation(8e9, 10e9), 0.8);
	double ops = 1000, host_s = 10, guest_s = 8;
	NEAR((ops / guest_s) * score__dilation(guest_s * 1e9, host_s * 1e9), ops / host_s);
}

static void qos_each_violation_has_its_reason(void **state)
{
	struct qos_rule r = { .percentile = 99,
		              .limit_ms = 500,
		              .max_failure_pct = 0.5,
		              .mix_tolerance_pct = 5,
		              .min_rate_pct = 90 };
	struct wl_interval w = { .good_ops = 1000,
		                 .failed_ops = 0,
		                 .host_s = 10,
		                 .latency_ms = 100,
		                 .target_rate = 100,
		                 .ntypes = 2,
		                 .type_ops = { 450, 550 },
		                 .type_target_share = { 0.45, 0.55 } };
	char why[160] = "";
	assert_int_equal(score__qos(&r, &w, why, sizeof(why)), 0);

	struct wl_interval x = w;
	x.failed_ops = 10; /* 0.99% */
	assert_int_equal(score__qos(&r, &x, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "failures"));

	x = w;
	x.latency_ms = 501;
	assert_int_equal(score__qos(&r, &x, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "p99 response time 501.0 ms"));

	x = w;
	x.type_ops[0] = 300; /* 35% instead of 45% */
	x.type_ops[1] = 557;
	assert_int_equal(score__qos(&r, &x, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "of the mix"));

	x = w;
	x.good_ops = 800; /* 80 ops/s of 100 injected */
	x.type_ops[0] = 360;
	x.type_ops[1] = 440;
	assert_int_equal(score__qos(&r, &x, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "injected rate"));

	x = w;
	x.good_ops = 0;
	assert_int_equal(score__qos(&r, &x, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no operations"));
}

UNIT_MAIN(cmocka_unit_test(normalizes_by_host_time_and_reference),
          cmocka_unit_test(geometric_mean_and_fairness), cmocka_unit_test(variation_median_spread),
          cmocka_unit_test(dilation), cmocka_unit_test(qos_each_violation_has_its_reason))
